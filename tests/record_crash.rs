//! Crashes and concurrent processes: a writer killed at random points, two writers at once.
//!
//! The writer is this test binary re-run on its ignored `writer_process` test with the store
//! and a record count in the environment.
#[path = "support/soak.rs"]
mod soak;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tickproof::record::{Claim, Evidence, EvidenceRole, Movement};
use tickproof::store::{Draft, Store};

const STORE_ENV: &str = "TICKPROOF_TEST_WRITER_STORE";
const COUNT_ENV: &str = "TICKPROOF_TEST_WRITER_COUNT";

/// Appends claims with evidence until the count is reached (or forever) or it is killed.
#[test]
#[ignore = "helper process for the crash and concurrency tests"]
fn writer_process() {
    let dir = std::env::var(STORE_ENV).expect("run by the crash tests only");
    let count: u64 = std::env::var(COUNT_ENV).ok().and_then(|c| c.parse().ok()).unwrap_or(u64::MAX);
    let mut s = Store::open(Path::new(&dir)).unwrap();
    let pid = std::process::id();
    for i in 0..count {
        // 256 KiB of evidence per claim, so a kill often lands mid-write.
        let data: Vec<u8> =
            (0..256 * 1024u32).map(|k| (k.wrapping_mul(31) ^ (i as u32) ^ pid) as u8).collect();
        let obj = s.put_evidence(&data[..], Path::new("audio")).unwrap();
        let r = s
            .append(
                Draft::open(Claim {
                    brand: "Crash".into(),
                    model: "Test".into(),
                    serial: format!("{pid}-{i}"),
                    movement: Movement::Quartz,
                    lift_angle_deg: None,
                    purchase_date: None,
                    complaint: None,
                    technician: None,
                    policy: None,
                }),
                None,
            )
            .unwrap();
        let mut d = Draft::revise(&r.record, "attached audio");
        d.evidence.push(Evidence {
            role: EvidenceRole::Audio,
            name: "audio/P1.wav".into(),
            sha256: obj.sha256,
            size_bytes: obj.size_bytes,
            media_type: "audio/wav".into(),
            original_name: None,
        });
        s.append(d, None).unwrap();
    }
}

fn spawn_writer(store: &Path, count: Option<u64>) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", "writer_process", "--ignored", "--test-threads=1", "--quiet"])
        .env(STORE_ENV, store)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(n) = count {
        c.env(COUNT_ENV, n.to_string());
    }
    c.spawn().unwrap()
}

/// Checks the store is valid and returns its records' hashes by chain position.
fn check_valid(dir: &Path) -> HashMap<u64, String> {
    let s = Store::open(dir).unwrap();
    let chain = s.check_chain().unwrap();
    assert!(chain.problems.is_empty(), "store damaged: {:?}", chain.problems);
    let mut hashes = HashMap::new();
    for link in s.chain_links().unwrap() {
        hashes.insert(link.seq, link.sha256);
    }
    for summary in s.list(&Default::default()).unwrap() {
        let id = tickproof::record::ClaimId::parse(&summary.id).unwrap();
        for r in s.revisions(&id).unwrap() {
            for e in &r.record.evidence {
                s.check_object(e).unwrap_or_else(|p| panic!("evidence lost: {p}"));
            }
        }
    }
    hashes
}

#[test]
fn a_writer_killed_at_random_points_leaves_the_store_valid_and_earlier_records_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = tickproof::synth::rng::Rng::new(20250301);
    let mut before: HashMap<u64, String> = HashMap::new();
    let rounds = soak::cases(10, 200);
    for round in 0..rounds {
        let mut child = spawn_writer(dir.path(), None);
        // Wait until the writer has appended at least one record this round (however slow the
        // machine), then kill it after a seeded random delay, somewhere in its write cycle.
        let db = dir.path().join("claims.sqlite3");
        let mut waited = 0;
        while count_records(&db) <= before.len() as u64 {
            assert!(child.try_wait().unwrap().is_none(), "round {round}: the writer died by itself");
            std::thread::sleep(Duration::from_millis(5));
            waited += 1;
            assert!(waited < 24_000, "round {round}: the writer made no progress in two minutes");
        }
        std::thread::sleep(Duration::from_millis(rng.range(0.0, 60.0) as u64));
        child.kill().unwrap();
        child.wait().unwrap();
        let after = check_valid(dir.path());
        for (seq, sha) in &before {
            assert_eq!(after.get(seq), Some(sha), "round {round}: record {seq} changed or vanished");
        }
        assert!(after.len() > before.len());
        before = after;
    }
    // The store still takes new records after all the crashes.
    let mut s = Store::open(dir.path()).unwrap();
    let r =
        s.append(Draft::open(tickproof::record::Claim { serial: "after".into(), ..claim() }), None).unwrap();
    assert_eq!(r.record.seq as usize, before.len() + 1);
    soak::figures(
        "a_writer_killed_at_random_points",
        &format!("{rounds} kill -9 trials, {} records kept intact, none changed or lost", before.len()),
    );
}

fn count_records(db: &Path) -> u64 {
    let Ok(c) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    let _ = c.busy_timeout(Duration::from_secs(30));
    c.query_row("SELECT COUNT(*) FROM records", [], |r| r.get::<_, i64>(0)).map(|n| n as u64).unwrap_or(0)
}

fn claim() -> Claim {
    Claim {
        brand: "B".into(),
        model: "M".into(),
        serial: "S".into(),
        movement: Movement::Mechanical,
        lift_angle_deg: None,
        purchase_date: None,
        complaint: None,
        technician: None,
        policy: None,
    }
}

#[test]
fn writer_processes_at_once_do_not_corrupt_the_store() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path()).unwrap();
    let (writers, each) = (soak::cases(2, 16), soak::cases(12, 15) as u64);
    let children: Vec<Child> = (0..writers).map(|_| spawn_writer(dir.path(), Some(each))).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer failed");
    }
    let hashes = check_valid(dir.path());
    let claims = writers as u64 * each;
    assert_eq!(
        hashes.len() as u64,
        2 * claims,
        "{each} claims of 2 revisions from each of {writers} writers"
    );
    let s = Store::open(dir.path()).unwrap();
    let mut seqs: Vec<u32> = s
        .list(&Default::default())
        .unwrap()
        .iter()
        .map(|c| tickproof::record::ClaimId::parse(&c.id).unwrap().seq())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=claims as u32).collect::<Vec<_>>(), "claim numbers unique and gap-free");
    soak::figures(
        "writer_processes_at_once",
        &format!("{writers} concurrent writer processes, {claims} claims, no fork, no gap, none lost"),
    );
}
