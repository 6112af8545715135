//! The PostgreSQL registry against a real server started by the tests (see `support/pg.rs`):
//! the same round trip as the SQLite store, push and pull, concurrent writers, roles, tampering
//! by a superuser, killed writers, a server restarted mid-push, and schema versions.
mod common;
#[path = "support/pg.rs"]
mod pg;

use common::claim;
use pg::PgServer;
use std::path::Path;
use std::process::{Command, Output};
use tickproof::record::{ClaimId, Evidence, EvidenceRole, ServiceKey, VerdictRecord};
use tickproof::store::{sync, ClaimStore, Draft, ListFilter, PgStore, Store, StoreError, StoreOptions};

fn at(branch: &str) -> StoreOptions {
    StoreOptions { branch: Some(branch.into()), ..StoreOptions::default() }
}

/// Some bytes that are not all alike (so a chunk boundary in the wrong place would show).
fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + (i >> 11)) as u8) ^ seed).collect()
}

/// Opens a claim and adds a revision with `bytes` as a plot and a verdict.
fn claim_with_evidence(
    s: &mut dyn ClaimStore,
    serial: &str,
    bytes: &[u8],
    key: Option<&ServiceKey>,
) -> ClaimId {
    let opened = s.append_draft(Draft::open(claim(serial)), key).unwrap();
    let obj = s.put_evidence_from(&mut { bytes }, Path::new("plot")).unwrap();
    let mut d = Draft::revise(&opened.record, "measured");
    d.evidence = vec![Evidence {
        role: EvidenceRole::Plot,
        name: "plots/rates.svg".into(),
        sha256: obj.sha256,
        size_bytes: obj.size_bytes,
        media_type: "image/svg+xml".into(),
        original_name: None,
    }];
    d.verdict = Some(
        VerdictRecord::from_json(serde_json::json!({
            "verdict": "defect", "reasons": ["-61 s/day is outside ±15 s/day"], "rule": "guarded acceptance"
        }))
        .unwrap(),
    );
    s.append_draft(d, key).unwrap();
    opened.record.claim_id
}

/// The round trip both backends must pass alike.
fn round_trip(s: &mut dyn ClaimStore) {
    let key = ServiceKey::generate().unwrap();
    let big = content(2 * tickproof::store::postgres::CHUNK_BYTES + 12_345, 7);
    let a = claim_with_evidence(s, "A1", &big, Some(&key));
    // A signed store takes signed records only (its keyring binds every later record).
    let b = claim_with_evidence(s, "B2", &content(10, 1), Some(&key));
    assert_eq!(a.branch(), Some("LYON"));
    assert_ne!(a, b);
    let revs = s.claim_revisions(&a).unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(revs[1].record.supersedes.as_ref().unwrap().sha256, revs[0].sha256);
    assert_eq!(revs[1].record.branch.as_deref(), Some("LYON"));
    assert!(revs.iter().all(|r| r.problems().is_empty() && r.signature.is_some()));
    assert_eq!(s.get_record(&a, None).unwrap(), revs[1]);
    assert_eq!(s.get_record(&a, Some(1)).unwrap(), revs[0]);
    assert!(matches!(s.get_record(&a, Some(3)), Err(StoreError::NotFound { .. })));
    let e = &revs[1].record.evidence[0];
    s.check_evidence(e).unwrap();
    let mut back = Vec::new();
    assert_eq!(s.read_evidence(&e.sha256, &mut back).unwrap(), big.len() as u64);
    assert!(back == big, "evidence read back differs");
    assert_eq!(std::fs::read(s.evidence_file(&e.sha256).unwrap().path()).unwrap(), big);
    let again = s.put_evidence_from(&mut big.as_slice(), Path::new("again")).unwrap();
    assert_eq!((again.sha256.as_str(), again.size_bytes), (e.sha256.as_str(), e.size_bytes));
    let all = s.list_claims(&ListFilter::default()).unwrap();
    assert_eq!(all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [b.as_str(), a.as_str()]);
    let defect =
        ListFilter { verdict: Some("defect".into()), model: Some("srpd55".into()), ..Default::default() };
    assert_eq!(s.list_claims(&defect).unwrap().len(), 2);
    let check = s.verify_chain().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.records, 4);
    assert_eq!(s.links_for(&a).unwrap().len(), 4);
    // An export of either backend verifies on its own.
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("export");
    tickproof::store::export::export_claim(&*s, &a, &dest).unwrap();
    let v = tickproof::claim::verify_export(&dest, &tickproof::claim::Pipeline, None, Default::default())
        .unwrap();
    assert!(v.passed(), "{:?}", v.problems);
    assert_eq!(std::fs::read(dest.join("plots/rates.svg")).unwrap(), big);
}

#[test]
fn round_trip_and_verify_give_the_same_answers_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(&mut Store::open_with(dir.path(), at("LYON")).unwrap());
    let server = PgServer::start();
    let url = server.registry("rt");
    round_trip(&mut PgStore::open(&url, at("LYON")).unwrap());
    // A registry write needs a branch: it names every record and every new claim id.
    let mut nameless = PgStore::open(&url, StoreOptions::default()).unwrap();
    let e = nameless.append_draft(Draft::open(claim("X")), None).unwrap_err();
    assert!(matches!(e, StoreError::BadLocation { .. }) && e.to_string().contains("needs a branch"), "{e}");
}

fn tickproof(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let home = std::env::temp_dir();
    let mut c = Command::new(env!("CARGO_BIN_EXE_tickproof"));
    c.args(args).env("HOME", &home).env("PGPASSWORD", pg::PASSWORD).env_remove("TICKPROOF_BRANCH");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every record of a SQLite store as stored: (seq, sha256, prev, body, signature).
/// One stored record: (seq, sha256, prev_sha256, body, signature).
type StoredRow = (i64, String, String, Vec<u8>, Option<String>);

fn sqlite_rows(dir: &Path) -> Vec<StoredRow> {
    let c = rusqlite::Connection::open(dir.join("claims.sqlite3")).unwrap();
    let mut st =
        c.prepare("SELECT seq, sha256, prev_sha256, body, signature FROM records ORDER BY seq").unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// A SQLite store of `n` claims (two revisions each, signed, with evidence).
fn local_store(dir: &Path, n: usize, evidence_bytes: usize) -> Store {
    local_store_at(dir, "LYON", n, evidence_bytes)
}

/// The key the local stores are signed with (fixed, so a test can add to one).
fn local_key() -> ServiceKey {
    ServiceKey::from_seed([31; 32])
}

fn local_store_at(dir: &Path, branch: &str, n: usize, evidence_bytes: usize) -> Store {
    let key = local_key();
    let mut s = Store::open_with(dir, at(branch)).unwrap();
    for i in 0..n {
        claim_with_evidence(&mut s, &format!("S{i}"), &content(evidence_bytes, i as u8), Some(&key));
    }
    s
}

#[test]
fn a_store_pushed_twice_is_sent_once_and_pulled_back_byte_for_byte() {
    let server = PgServer::start();
    let url = server.registry("push");
    let src = tempfile::tempdir().unwrap();
    let mut local = local_store(src.path(), 30, 3000);
    let registry = PgStore::open(&url, at("LYON")).unwrap();
    let first = sync::push(&mut local, &registry).unwrap();
    assert_eq!((first.records_copied, first.records_present, first.evidence_copied), (60, 0, 30));
    let second = sync::push(&mut local, &registry).unwrap();
    assert_eq!((second.records_copied, second.records_present, second.evidence_copied), (0, 60, 0));
    let check = registry.verify_chain().unwrap();
    assert!(check.problems.is_empty() && check.records == 60, "{check:?}");
    // The newest claim, pulled into an empty store, brings its whole chain: byte for byte.
    let last = local.list(&ListFilter::default()).unwrap()[0].id.clone();
    let dst = tempfile::tempdir().unwrap();
    let mut copy = Store::open(dst.path()).unwrap();
    let pulled = sync::pull(&registry, &mut copy, &ClaimId::parse(&last).unwrap()).unwrap();
    assert_eq!((pulled.records_copied, pulled.evidence_copied), (60, 30));
    assert!(sqlite_rows(src.path()) == sqlite_rows(dst.path()), "pulled records differ from the pushed ones");
    for r in local.revisions(&ClaimId::parse(&last).unwrap()).unwrap() {
        for e in &r.record.evidence {
            assert_eq!(
                std::fs::read(local.object_path(&e.sha256)).unwrap(),
                std::fs::read(copy.object_path(&e.sha256)).unwrap()
            );
        }
    }
    let check = copy.check_chain().unwrap();
    assert!(check.problems.is_empty() && check.records == 60, "{check:?}");
    // The keyring and every receipt travel with the chain, both ways.
    let ring = local.keyring().unwrap().expect("a signed store has a keyring");
    assert_eq!(registry.chain_keyring(&pulled.chain_id).unwrap().as_ref(), Some(&ring));
    assert_eq!(copy.keyring().unwrap().as_ref(), Some(&ring));
    let id = ClaimId::parse(&last).unwrap();
    let receipt = local.receipt(&id, 2).unwrap().unwrap();
    assert_eq!(registry.receipt_for(&id, 2).unwrap().as_ref(), Some(&receipt));
    assert_eq!(copy.receipt(&id, 2).unwrap().as_ref(), Some(&receipt));
    assert_eq!(sync::pull(&registry, &mut copy, &ClaimId::parse(&last).unwrap()).unwrap().records_copied, 0);
    // The pulled copy verifies from the command line, as the registry does.
    let o = tickproof(&["--store", dst.path().to_str().unwrap(), "claim", "verify", &last], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = tickproof(&["--store", &url, "claim", "verify", &last], &[]);
    assert!(o.status.success(), "{}", text(&o));
    // A store holding another chain is not mixed with this one.
    let other = tempfile::tempdir().unwrap();
    let mut other_store = local_store(other.path(), 1, 10);
    let e = sync::pull(&registry, &mut other_store, &ClaimId::parse(&last).unwrap()).unwrap_err();
    assert!(e.to_string().contains("pull into an empty store"), "{e}");
}

#[test]
fn eight_writer_processes_at_once_lose_nothing_and_keep_one_unbroken_chain() {
    let server = PgServer::start();
    let url = server.registry("load");
    let tech = server.role("load", "lyon_tech", "tickproof_technician", Some("LYON"));
    let started = std::time::Instant::now();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let tech = tech.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..50 {
                    let serial = format!("W{w}-{i}");
                    let o = tickproof(
                        &[
                            "--store",
                            &tech,
                            "--branch",
                            "LYON",
                            "claim",
                            "new",
                            "--brand",
                            "Seiko",
                            "--model",
                            "SKX",
                            "--serial",
                            &serial,
                            "--movement",
                            "mechanical",
                            "--policy",
                            "bultime-bg",
                            "--json",
                            "--unsigned",
                        ],
                        &[],
                    );
                    assert!(o.status.success(), "writer {w} claim {i}: {}", text(&o));
                    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                    ids.push(v["id"].as_str().unwrap().to_string());
                }
                ids
            })
        })
        .collect();
    let mut ids: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!("8 processes x 50 claims: {:.0} claims/s through the command line", 400.0 / elapsed);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 400, "duplicate claim ids");
    let auditor = server.role("load", "auditor", "tickproof_auditor", None);
    let registry = PgStore::open(&auditor, StoreOptions::default()).unwrap();
    assert_eq!(registry.list_claims(&ListFilter::default()).unwrap().len(), 400);
    let check = registry.verify_chain().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.records, 400);
    assert_eq!(registry.head_of("branch-LYON").unwrap().unwrap().0, 400, "one chain, positions 1..400");
    drop(url);
}

#[test]
fn a_technician_reads_and_writes_only_its_branch_and_nobody_rewrites_a_record() {
    let server = PgServer::start();
    server.registry("roles");
    let lyon = server.role("roles", "lyon_tech", "tickproof_technician", Some("LYON"));
    let paris = server.role("roles", "paris_tech", "tickproof_technician", Some("PARIS"));
    let mut l = PgStore::open(&lyon, at("LYON")).unwrap();
    let id = claim_with_evidence(&mut l, "L1", b"lyon evidence", None);
    let mut p = PgStore::open(&paris, at("PARIS")).unwrap();
    let pid = claim_with_evidence(&mut p, "P1", b"paris evidence", None);
    assert!(matches!(p.get_record(&id, None), Err(StoreError::NotFound { .. })));
    assert_eq!(p.list_claims(&ListFilter::default()).unwrap().len(), 1);
    assert!(p.verify_chain().unwrap().problems.is_empty(), "a technician verifies its own branch");
    // Writing as another branch is refused by row-level security.
    let mut lying = PgStore::open(&paris, at("LYON")).unwrap();
    let e = lying.append_draft(Draft::open(claim("X")), None).unwrap_err();
    assert!(
        e.to_string().contains("technician at branch PARIS; it cannot write records of branch LYON"),
        "{e}"
    );
    // ... and by the database itself, row-level security, whatever the client does.
    let e = raw_session(&server, "paris_tech", "roles")
        .batch_execute(
            "INSERT INTO records (chain_id, seq, sha256, prev_sha256, claim_id, revision, branch, created_utc,
                                  brand, model, serial, body)
             VALUES ('forged', 1, repeat('a', 64), repeat('0', 64), 'C-20250101-0001-LYON', 1, 'LYON', 'x',
                     'b', 'm', 's', 'x')",
        )
        .unwrap_err();
    assert!(conn_message(&e).contains("row-level security"), "{e}");
    // No technician can change or remove a record or evidence, not even its own.
    let mut raw = raw_session(&server, "lyon_tech", "roles");
    for sql in [
        "UPDATE records SET brand = 'Rolex'",
        "DELETE FROM records",
        "TRUNCATE records",
        "UPDATE evidence_chunk SET bytes = 'x'",
        "DELETE FROM evidence",
        "UPDATE chains SET head_seq = 1",
        "DELETE FROM chains",
        "INSERT INTO branch_member VALUES ('lyon_tech', 'PARIS')",
    ] {
        let e = raw.batch_execute(sql).unwrap_err();
        assert!(conn_message(&e).contains("permission denied"), "{sql}: {e}");
    }
    // Not even the owner, without first turning the triggers off.
    let mut su = server.superuser("roles");
    for sql in ["UPDATE records SET brand = 'Rolex'", "DELETE FROM evidence", "TRUNCATE evidence_chunk"] {
        let e = su.batch_execute(sql).unwrap_err();
        assert!(conn_message(&e).contains("append-only"), "{sql}: {e}");
    }
    assert!(l.get_record(&id, None).is_ok() && p.get_record(&pid, None).is_ok());
    // A technician pushes its own branch's offline store, and nobody else's.
    let dir = tempfile::tempdir().unwrap();
    let mut offline = local_store_at(dir.path(), "NICE", 2, 100);
    let e = sync::push(&mut offline, &p).unwrap_err();
    assert!(e.to_string().contains("row-level security"), "{e}");
    let nice = server.role("roles", "nice_tech", "tickproof_technician", Some("NICE"));
    let n = PgStore::open(&nice, at("NICE")).unwrap();
    assert_eq!(sync::push(&mut offline, &n).unwrap().records_copied, 4);
    // A branch that numbered claims both offline and in the registry the same day is told so.
    let dir = tempfile::tempdir().unwrap();
    let mut clash = local_store_at(dir.path(), "LYON", 1, 100);
    let e = sync::push(&mut clash, &l).unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict { .. }) && e.to_string().contains("already holds this claim id"),
        "{e}"
    );
    assert!(l.verify_chain().unwrap().problems.is_empty());
    // An auditor reads and verifies every branch, and writes nothing.
    let auditor = server.role("roles", "auditor", "tickproof_auditor", None);
    let mut a = PgStore::open(&auditor, at("LYON")).unwrap();
    assert!(a.get_record(&id, None).is_ok() && a.get_record(&pid, None).is_ok());
    let check = a.verify_chain().unwrap();
    assert!(check.problems.is_empty() && check.records == 8, "{check:?}");
    let e = a.append_draft(Draft::open(claim("A")), None).unwrap_err();
    assert!(e.to_string().contains("permission denied"), "{e}");
}

fn raw_session(server: &PgServer, user: &str, db: &str) -> postgres::Client {
    let url = server.url(user, db);
    let port = url.rsplit(':').next().unwrap().split('/').next().unwrap();
    let conn = format!("host=127.0.0.1 port={port} user={user} dbname={db} password={}", pg::PASSWORD);
    postgres::Client::connect(&conn, postgres::NoTls).unwrap()
}

fn conn_message(e: &postgres::Error) -> String {
    e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string())
}

#[test]
fn a_row_changed_directly_by_a_superuser_is_named_by_claim_verify() {
    let server = PgServer::start();
    let url = server.registry("tamper");
    let mut s = PgStore::open(&url, at("LYON")).unwrap();
    let a = claim_with_evidence(&mut s, "T1", &content(5000, 3), None);
    let b = claim_with_evidence(&mut s, "T2", &content(5000, 4), None);
    let verify = |id: &ClaimId| tickproof(&["--store", &url, "claim", "verify", id.as_str()], &[]);
    assert!(verify(&a).status.success());
    let mut su = server.superuser("tamper");
    su.batch_execute(
        "SET session_replication_role = replica;
         UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), 'T1', 'T9'), 'UTF8')
             WHERE claim_id LIKE '%0001-LYON' AND revision = 2;",
    )
    .unwrap();
    let o = verify(&b);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains("record branch-LYON:2") && text(&o).contains("content changed"),
        "{}",
        text(&o)
    );
    // Evidence changed in place is named too.
    su.batch_execute(
        "SET session_replication_role = replica;
         UPDATE evidence_chunk SET bytes = overlay(bytes placing '\\x00'::bytea from 10)
             WHERE upload = (SELECT e.upload FROM evidence e ORDER BY e.upload DESC LIMIT 1);",
    )
    .unwrap();
    let o = verify(&b);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("plots/rates.svg: content changed"), "{}", text(&o));
    // And the newest record removed (head rewound to match) is named by the head.
    su.batch_execute("SET session_replication_role = replica; DELETE FROM records WHERE seq = 4;").unwrap();
    let check = s.verify_chain().unwrap();
    assert!(check.problems.iter().any(|p| p.contains("newest records were removed")), "{:?}", check.problems);
}

#[test]
fn writers_killed_at_random_points_leave_a_valid_registry_and_earlier_claims_verify() {
    let server = PgServer::start();
    let url = server.registry("kill");
    let trials = 50;
    let mut finished = Vec::new();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for t in 0..trials {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let serial = format!("K{t}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tickproof"))
            .args(["--store", &url, "--branch", "LYON", "claim", "new", "--brand", "Seiko", "--model", "SKX"])
            .args([
                "--serial",
                &serial,
                "--movement",
                "mechanical",
                "--policy",
                "bultime-bg",
                "--unsigned",
                "--json",
            ])
            .env("PGPASSWORD", pg::PASSWORD)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(seed % 60_000));
        let _ = child.kill(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            finished.push(v["id"].as_str().unwrap().to_string());
        }
    }
    let s = PgStore::open(&url, StoreOptions::default()).unwrap();
    let check = s.verify_chain().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    let listed: Vec<String> =
        s.list_claims(&ListFilter::default()).unwrap().into_iter().map(|c| c.id).collect();
    for id in &finished {
        assert!(listed.contains(id), "{id} was reported written but is missing");
    }
    eprintln!(
        "{trials} kill -9 trials: {} writers finished, {} claims in the registry",
        finished.len(),
        listed.len()
    );
    // The registry still takes claims: no lock or half-written row was left behind.
    let mut w = PgStore::open(&url, at("LYON")).unwrap();
    w.append_draft(Draft::open(claim("after")), None).unwrap();
    assert!(w.verify_chain().unwrap().problems.is_empty());
}

#[test]
fn a_push_cut_off_by_a_server_restart_resumes_and_ends_identical() {
    let mut server = PgServer::start();
    let url = server.registry("resume");
    let src = tempfile::tempdir().unwrap();
    drop(local_store(src.path(), 30, 600_000));
    let store = src.path().to_str().unwrap().to_string();
    let push = Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(["--store", &store, "store", "push", &url])
        .env("PGPASSWORD", pg::PASSWORD)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut su = server.superuser("resume");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let n: i64 = su.query_one("SELECT count(*) FROM records", &[]).unwrap().get(0);
        if n >= PUSH_BATCH_RECORDS || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(su);
    server.restart();
    let cut = push.wait_with_output().unwrap();
    let mut su = server.superuser("resume");
    let halfway: i64 = su.query_one("SELECT count(*) FROM records", &[]).unwrap().get(0);
    assert!(
        !cut.status.success() && halfway < 60,
        "the restart came too late to cut the push off ({halfway} records)"
    );
    assert_eq!(cut.status.code(), Some(7), "{}", String::from_utf8_lossy(&cut.stderr));
    let o = tickproof(&["--store", &store, "store", "push", &url, "--json"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["records_present"].as_u64().unwrap() as i64, halfway);
    let registry: Vec<StoredRow> = su
        .query("SELECT seq, sha256, prev_sha256, body, signature FROM records ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert!(registry == sqlite_rows(src.path()), "the registry's chain differs from the store's");
    assert!(PgStore::open(&url, StoreOptions::default())
        .unwrap()
        .verify_chain()
        .unwrap()
        .problems
        .is_empty());
}

const PUSH_BATCH_RECORDS: i64 = sync::PUSH_BATCH as i64;

#[test]
fn schema_versions_passwords_and_urls_are_checked_with_one_line_errors() {
    let server = PgServer::start();
    server.superuser("postgres").batch_execute("CREATE DATABASE bare").unwrap();
    let bare = server.url("postgres", "bare");
    let o = tickproof(&["--store", &bare, "claim", "list"], &[]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    assert!(text(&o).contains("no tickproof schema here") && text(&o).lines().count() == 1, "{}", text(&o));
    let o = tickproof(&["store", "migrate", &bare], &[]);
    assert!(o.status.success() && text(&o).contains("from version 0 to 2"), "{}", text(&o));
    let o = tickproof(&["store", "migrate", &bare], &[]);
    assert!(o.status.success() && text(&o).contains("already at version 2"), "{}", text(&o));
    let o = tickproof(&["--store", &bare, "claim", "list", "--json"], &[]);
    let empty = serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .ok()
        .filter(|v| v["claims"] == serde_json::json!([]));
    assert!(o.status.success() && empty.is_some(), "{}", text(&o));
    // A newer schema (a newer tickproof migrated it) is refused by this one, and left alone.
    server.superuser("bare").batch_execute("INSERT INTO tickproof_schema (version) VALUES (3)").unwrap();
    for args in [vec!["--store", &bare, "claim", "list"], vec!["store", "migrate", &bare]] {
        let o = tickproof(&args, &[]);
        assert_eq!(o.status.code(), Some(7), "{}", text(&o));
        assert!(
            text(&o).contains("schema is version 3, newer than this tickproof knows (2): upgrade tickproof"),
            "{}",
            text(&o)
        );
        assert_eq!(text(&o).lines().count(), 1, "{}", text(&o));
    }
    // Passwords never on the command line.
    let with_pw = bare.replace("postgres@", &format!("postgres:{}@", pg::PASSWORD));
    let o = tickproof(&["--store", &with_pw, "claim", "list"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("must not contain a password") && !text(&o).contains(pg::PASSWORD),
        "{}",
        text(&o)
    );
    // A wrong password, and then the right one from a pgpass file instead of PGPASSWORD.
    let o = tickproof(&["--store", &bare, "claim", "list"], &[("PGPASSWORD", "wrong")]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o));
    assert!(text(&o).contains("password authentication failed"), "{}", text(&o));
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join("pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:*:*:postgres:{}\n", pg::PASSWORD)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_tickproof"));
    let o = c
        .args(["--store", &bare, "store", "migrate", &bare])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "--store must be the local folder for `store`: {}", text(&o));
    let o =
        Command::new(env!("CARGO_BIN_EXE_tickproof")).args(["store", "push", "/not/a/url"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = tickproof(&["--branch", "lyon", "claim", "list"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a branch code"), "{}", text(&o));
    server.superuser("bare").batch_execute("DELETE FROM tickproof_schema WHERE version = 3").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(["--store", &bare, "claim", "list"])
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert!(o.status.success(), "password from the pgpass file: {}", text(&o));
}

#[test]
fn a_push_killed_mid_way_resumes_and_a_100_mb_recording_never_sits_whole_in_memory() {
    let server = PgServer::start();
    let url = server.registry("big");
    let src = tempfile::tempdir().unwrap();
    {
        let mut s = local_store(src.path(), 20, 400_000);
        // 100 MB, streamed into the store from a reader (never a 100 MB buffer here either).
        let mut big = std::io::Read::take(std::io::repeat(0x5a), 100 << 20);
        let obj = s.put_evidence(&mut big, Path::new("big.wav")).unwrap();
        // The store is signed (its keyring binds every record): so are these.
        let prev = s.append(Draft::open(claim("BIG")), Some(&local_key())).unwrap();
        let mut d = Draft::revise(&prev.record, "measured");
        d.evidence = vec![Evidence {
            role: EvidenceRole::Plot,
            name: "plots/long.png".into(),
            sha256: obj.sha256,
            size_bytes: obj.size_bytes,
            media_type: "image/png".into(),
            original_name: None,
        }];
        s.append(d, Some(&local_key())).unwrap();
    }
    let store = src.path().to_str().unwrap().to_string();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tickproof"))
            .args(["--store", &store, "store", "push", &url, "--json"])
            .env("PGPASSWORD", pg::PASSWORD)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut push = spawn();
    let mut su = server.superuser("big");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while su.query_one("SELECT count(*) FROM records", &[]).unwrap().get::<_, i64>(0) < PUSH_BATCH_RECORDS
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    push.kill().unwrap(); // SIGKILL
    assert!(!push.wait().unwrap().success(), "the push finished before it could be killed");
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives its peak memory
    let mut resumed = spawn();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut resumed.stdout.take().unwrap(), &mut out).unwrap();
    // SAFETY: waits for our own child, writing its status and resource use into the locals.
    let (status, max_rss_kib) = unsafe {
        let (mut status, mut u): (i32, libc::rusage) = (0, std::mem::zeroed());
        assert_eq!(libc::wait4(resumed.id() as i32, &mut status, 0, &mut u), resumed.id() as i32);
        (status, u.ru_maxrss)
    };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "resumed push failed: {status}");
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let present = r["records_present"].as_u64().unwrap();
    assert!(
        present >= PUSH_BATCH_RECORDS as u64 && present < 42,
        "the resumed push sends the big object: {r}"
    );
    let registry: Vec<StoredRow> = su
        .query("SELECT seq, sha256, prev_sha256, body, signature FROM records ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert!(registry == sqlite_rows(src.path()), "the registry's chain differs from the store's");
    // The resumed push sent the 100 MB object in 1 MiB chunks: its peak stayed far below it.
    eprintln!("push of a 100 MB object: peak resident {} MiB", max_rss_kib / 1024);
    assert!(max_rss_kib < 40 * 1024, "the push peaked at {max_rss_kib} KiB resident");
    let s = PgStore::open(&url, StoreOptions::default()).unwrap();
    assert!(s.verify_chain().unwrap().problems.is_empty());
    let last = s.list_claims(&ListFilter::default()).unwrap()[0].id.clone();
    let e = &s.get_record(&ClaimId::parse(&last).unwrap(), None).unwrap().record.evidence[0];
    assert_eq!(e.size_bytes, 100 << 20);
    s.check_evidence(e).unwrap();
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/mech-18000bph-rate+5.0-be0.80ms-amp280-snr22dB-resonant-48k-20s.wav"
);

#[test]
fn a_claim_measured_in_a_registry_is_reanalysed_from_it_by_verify_and_exports() {
    let server = PgServer::start();
    server.registry("cli");
    let tech = server.role("cli", "lyon_tech", "tickproof_technician", Some("LYON"));
    let env = [("TICKPROOF_BRANCH", "LYON")];
    let o = tickproof(
        &[
            "--store",
            &tech,
            "claim",
            "new",
            "--brand",
            "Seiko",
            "--model",
            "SRPD55",
            "--serial",
            "M1",
            "--movement",
            "mechanical",
            "--lift-angle",
            "53",
            "--policy",
            "bultime-bg",
            "--unsigned",
            "--json",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert!(id.ends_with("-LYON"), "{id}");
    let o = tickproof(
        &["--store", &tech, "claim", "measure", &id, "--from", FIXTURE, "--positions", "DU", "--unsigned"],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = tickproof(&["--store", &tech, "claim", "verify", &id], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("re-analysed"), "{}", text(&o));
    let out = tempfile::tempdir().unwrap();
    let tar = out.path().join("claim.tar");
    let o = tickproof(&["--store", &tech, "claim", "export", &id, "--out", tar.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = tickproof(&["claim", "verify", tar.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = tickproof(&["--store", &tech, "claim", "list", "--json"], &[]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list["claims"].as_array().unwrap().len(), 1, "{list}");
    // The analysis read temporary copies of the evidence; none is left behind.
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".evidence"))
        .filter(|e| e.metadata().is_ok_and(|m| m.modified().unwrap().elapsed().unwrap().as_secs() < 60))
        .collect();
    assert!(left.is_empty(), "temporary evidence copies left: {left:?}");
}
