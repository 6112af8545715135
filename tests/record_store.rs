//! The claim store: round trip, tamper detection, full disk, concurrent writers, bad input.
mod common;
#[path = "support/soak.rs"]
mod soak;
use common::claim;
use rusqlite::Connection;
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tickproof::measurement::Finding;
use tickproof::record::{Claim, ClaimId, Evidence, EvidenceRole, ServiceKey, VerdictRecord};
use tickproof::store::{Draft, EvidenceIo, ListFilter, RealIo, Store, StoreError, StoreOptions};

fn open_claim(store: &mut Store, serial: &str) -> tickproof::record::SealedRecord {
    store.append(Draft::open(claim(serial)), None).unwrap()
}

/// Adds a revision carrying one audio evidence file with `content` and a verdict.
fn measured(store: &mut Store, id: &ClaimId, content: &[u8]) -> tickproof::record::SealedRecord {
    let obj = store.put_evidence(content, Path::new("test audio")).unwrap();
    let prev = store.get(id, None).unwrap();
    let mut d = Draft::revise(&prev.record, "measured");
    d.evidence = vec![Evidence {
        role: EvidenceRole::Audio,
        name: "audio/DU.wav".into(),
        sha256: obj.sha256.clone(),
        size_bytes: obj.size_bytes,
        media_type: "audio/wav".into(),
        original_name: Some("du.wav".into()),
    }];
    d.positions = vec![tickproof::record::PositionRecord {
        position: "DU".into(),
        audio: "audio/DU.wav".into(),
        audio_sha256: obj.sha256,
        measured_utc: "2025-03-01T10:00:00Z".into(),
        measurement: serde_json::json!({"kind": "mechanical", "rate_s_per_day": {"value": -61.25, "u95": 0.3},
                                        "quality": 0.93}),
    }];
    d.verdict = Some(
        VerdictRecord::from_json(serde_json::json!({
            "verdict": "defect", "reasons": ["-61.25 ± 0.3 s/day is outside ±15 s/day"], "rule": "guarded acceptance"
        }))
        .unwrap(),
    );
    d.findings = vec![Finding::new("poor_signal", "test finding")];
    store.append(d, None).unwrap()
}

fn tamper_sql(store_dir: &Path, sql: &str) {
    let c = Connection::open(store_dir.join("claims.sqlite3")).unwrap();
    c.execute_batch("DROP TRIGGER records_append_only_update; DROP TRIGGER records_append_only_delete;")
        .unwrap();
    c.execute_batch(sql).unwrap();
}

fn problems(store_dir: &Path) -> Vec<String> {
    Store::open(store_dir).unwrap().check_chain().unwrap().problems
}

#[test]
fn store_round_trip_returns_every_record_exactly_as_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = open_claim(&mut s, "111");
    let b = measured(&mut s, &a.record.claim_id, b"RIFF fake audio bytes");
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.get(&a.record.claim_id, Some(1)).unwrap(), a);
    assert_eq!(s.get(&a.record.claim_id, None).unwrap(), b);
    assert_eq!(b.record.revision, 2);
    assert_eq!(b.record.supersedes.as_ref().unwrap().sha256, a.sha256);
    assert_eq!(b.record.prev_sha256, a.sha256);
    let chain = s.check_chain().unwrap();
    assert!(chain.problems.is_empty(), "{:?}", chain.problems);
    assert_eq!(chain.records, 2);
    assert_eq!(chain.head_sha256.as_deref(), Some(b.sha256.as_str()));
    for e in &b.record.evidence {
        s.check_object(e).unwrap();
        assert_eq!(fs::read(s.object_path(&e.sha256)).unwrap(), b"RIFF fake audio bytes");
    }
    let listed = s.list(&ListFilter::default()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].verdict.as_deref(), Some("defect"));
    assert_eq!(listed[0].revision, 2);
}

#[test]
fn claim_ids_are_numbered_per_day_without_gaps_and_list_filters_apply() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let ids: Vec<u32> = (0..3).map(|i| open_claim(&mut s, &format!("S{i}")).record.claim_id.seq()).collect();
    assert_eq!(ids, [1, 2, 3]);
    let mut other = claim("Q1");
    other.model = "Other".into();
    s.append(Draft::open(other), None).unwrap();
    let f = ListFilter { model: Some("other".into()), ..Default::default() };
    assert_eq!(s.list(&f).unwrap().len(), 1);
    let f = ListFilter { verdict: Some("defect".into()), ..Default::default() };
    assert_eq!(s.list(&f).unwrap().len(), 0);
    let f = ListFilter { since: tickproof::record::time::Date::new(9999, 1, 1), ..Default::default() };
    assert_eq!(s.list(&f).unwrap().len(), 0);
}

#[test]
fn one_byte_changed_in_a_stored_record_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = open_claim(&mut s, "111");
    measured(&mut s, &a.record.claim_id, b"audio");
    drop(s);
    // -61.25 becomes -51.25: still a valid record, but not the one that was hashed.
    tamper_sql(dir.path(), "UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '-61.25', '-51.25') AS BLOB) WHERE seq = 2;");
    let p = problems(dir.path());
    assert!(p.iter().any(|m| m.starts_with("record 2 (") && m.contains("content changed")), "{p:?}");
    assert!(p.iter().all(|m| m.starts_with("record 2") || m.contains("head")), "{p:?}");
}

#[test]
fn a_deleted_record_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    for i in 0..3 {
        open_claim(&mut s, &format!("S{i}"));
    }
    drop(s);
    tamper_sql(dir.path(), "DELETE FROM records WHERE seq = 2;");
    let p = problems(dir.path());
    assert!(p.iter().any(|m| m.starts_with("record 3") && m.contains("records 2..2 are missing")), "{p:?}");
}

#[test]
fn deleting_the_newest_record_is_detected_by_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    for i in 0..3 {
        open_claim(&mut s, &format!("S{i}"));
    }
    drop(s);
    tamper_sql(dir.path(), "DELETE FROM records WHERE seq = 3;");
    let p = problems(dir.path());
    assert!(p.iter().any(|m| m.contains("newest records were removed")), "{p:?}");
}

#[test]
fn reordered_records_are_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    for i in 0..4 {
        open_claim(&mut s, &format!("S{i}"));
    }
    drop(s);
    tamper_sql(
        dir.path(),
        "UPDATE records SET seq = 100 WHERE seq = 2; UPDATE records SET seq = 2 WHERE seq = 3; \
         UPDATE records SET seq = 3 WHERE seq = 100;",
    );
    let p = problems(dir.path());
    assert!(p.iter().any(|m| m.starts_with("record 2") && m.contains("reordered")), "{p:?}");
    assert!(p.iter().any(|m| m.starts_with("record 3")), "{p:?}");
}

#[test]
fn a_removed_revision_of_a_claim_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = open_claim(&mut s, "1");
    measured(&mut s, &a.record.claim_id, b"one");
    measured(&mut s, &a.record.claim_id, b"two");
    drop(s);
    tamper_sql(dir.path(), "DELETE FROM records WHERE revision = 2;");
    let p = problems(dir.path());
    assert!(p.iter().any(|m| m.contains("does not follow revision 1 of its claim")), "{p:?}");
}

#[test]
fn one_byte_changed_in_evidence_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = open_claim(&mut s, "1");
    let b = measured(&mut s, &a.record.claim_id, b"the audio, byte for byte");
    let e = &b.record.evidence[0];
    let path = s.object_path(&e.sha256);
    let mut bytes = fs::read(&path).unwrap();
    bytes[3] ^= 1;
    let mut perm = fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    fs::set_permissions(&path, perm).unwrap();
    fs::write(&path, bytes).unwrap();
    let err = s.check_object(e).unwrap_err();
    assert!(err.starts_with("audio/DU.wav: content changed"), "{err}");
}

#[test]
fn a_signed_record_verifies_and_a_foreign_signature_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let key = ServiceKey::from_seed([42; 32]);
    let r = s.append(Draft::open(claim("1")), Some(&key)).unwrap();
    assert!(r.problems().is_empty());
    assert_eq!(r.signature.as_ref().unwrap().key_id, key.key_id());
    let mut forged = r.clone();
    forged.signature = Some(ServiceKey::from_seed([43; 32]).sign(b"something else"));
    let p = forged.problems();
    assert!(p.iter().any(|m| m.contains("signature")), "{p:?}");
    assert!(s.check_chain().unwrap().problems.is_empty());
}

/// Fails with "no space left on device" once `budget` bytes have been written.
struct FullDisk {
    budget: AtomicU64,
}

impl EvidenceIo for FullDisk {
    fn write_all(&self, file: &mut File, buf: &[u8]) -> io::Result<()> {
        let left = self.budget.load(Ordering::SeqCst);
        if (buf.len() as u64) > left {
            let n = left as usize;
            io::Write::write_all(file, &buf[..n])?;
            self.budget.store(0, Ordering::SeqCst);
            return Err(io::Error::from_raw_os_error(28));
        }
        self.budget.fetch_sub(buf.len() as u64, Ordering::SeqCst);
        io::Write::write_all(file, buf)
    }
    fn sync_file(&self, file: &File) -> io::Result<()> {
        RealIo.sync_file(file)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        RealIo.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        RealIo.sync_dir(dir)
    }
}

/// Fails every rename, as a crash between sync and rename would leave things.
struct FailingRename;

impl EvidenceIo for FailingRename {
    fn write_all(&self, file: &mut File, buf: &[u8]) -> io::Result<()> {
        io::Write::write_all(file, buf)
    }
    fn sync_file(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }
    fn rename(&self, _: &Path, _: &Path) -> io::Result<()> {
        Err(io::Error::other("injected rename failure"))
    }
    fn sync_dir(&self, _: &Path) -> io::Result<()> {
        Ok(())
    }
}

fn tmp_is_empty(dir: &Path) -> bool {
    fs::read_dir(dir.join("tmp")).unwrap().next().is_none()
}

#[test]
fn a_full_disk_while_writing_evidence_loses_nothing_already_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = open_claim(&mut s, "1");
    let b = measured(&mut s, &a.record.claim_id, b"first audio");
    drop(s);
    let opts =
        StoreOptions { io: Arc::new(FullDisk { budget: AtomicU64::new(100_000) }), ..Default::default() };
    let s = Store::open_with(dir.path(), opts).unwrap();
    let big = vec![7u8; 300_000];
    let err = s.put_evidence(&big[..], Path::new("big.wav")).unwrap_err();
    assert!(matches!(err, StoreError::Full { .. }), "{err}");
    assert!(tmp_is_empty(dir.path()), "the partial file was removed");
    let sha = tickproof::record::canonical::sha256_hex(&big);
    assert!(!s.object_path(&sha).exists());
    assert_eq!(s.get(&a.record.claim_id, None).unwrap(), b);
    s.check_object(&b.record.evidence[0]).unwrap();
    assert!(s.check_chain().unwrap().problems.is_empty());
}

#[test]
fn a_failed_rename_leaves_no_object_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_with(dir.path(), StoreOptions { io: Arc::new(FailingRename), ..Default::default() })
        .unwrap();
    assert!(s.put_evidence(&b"abc"[..], Path::new("x")).is_err());
    assert!(tmp_is_empty(dir.path()));
    assert!(!s.object_path(&tickproof::record::canonical::sha256_hex(b"abc")).exists());
}

#[test]
fn a_full_database_rolls_back_the_append_and_keeps_earlier_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    open_claim(&mut s, "first");
    let pages: u32 = Connection::open(dir.path().join("claims.sqlite3"))
        .unwrap()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    drop(s);
    let opts = StoreOptions { max_db_pages: Some(pages + 2), ..Default::default() };
    let mut s = Store::open_with(dir.path(), opts).unwrap();
    let mut written = 1;
    let err = loop {
        let mut c = claim(&format!("S{written}"));
        c.complaint = Some("x".repeat(3900));
        match s.append(Draft::open(c), None) {
            Ok(_) => written += 1,
            Err(e) => break e,
        }
        assert!(written < 1000, "the page cap never filled");
    };
    assert!(matches!(err, StoreError::Full { .. }), "{err}");
    drop(s);
    let mut s = Store::open(dir.path()).unwrap();
    let chain = s.check_chain().unwrap();
    assert!(chain.problems.is_empty(), "{:?}", chain.problems);
    assert_eq!(chain.records, written);
    open_claim(&mut s, "after space was freed");
    assert!(s.check_chain().unwrap().problems.is_empty());
}

#[test]
fn concurrent_writers_in_threads_keep_the_chain_and_numbering_intact() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path()).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let d = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let mut s = Store::open(&d).unwrap();
                let mut ids = Vec::new();
                for i in 0..8 {
                    let obj = s.put_evidence(format!("audio {t} {i}").as_bytes(), Path::new("a")).unwrap();
                    let r = s.append(Draft::open(claim(&format!("T{t}-{i}"))), None).unwrap();
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
                    ids.push(r.record.claim_id.seq());
                }
                ids
            })
        })
        .collect();
    let mut all: Vec<u32> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=32).collect::<Vec<_>>());
    let s = Store::open(dir.path()).unwrap();
    let chain = s.check_chain().unwrap();
    assert!(chain.problems.is_empty(), "{:?}", chain.problems);
    assert_eq!(chain.records, 64);
}

#[test]
fn malformed_claims_are_rejected_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    type Edit = Box<dyn Fn(&mut Claim)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("brand", Box::new(|c| c.brand = "x".repeat(201))),
        ("brand", Box::new(|c| c.brand = "  ".into())),
        ("serial", Box::new(|c| c.serial = "12\u{1b}[2J".into())),
        ("complaint", Box::new(|c| c.complaint = Some("y".repeat(4001)))),
        ("lift_angle_deg", Box::new(|c| c.lift_angle_deg = Some(f64::NAN))),
        ("lift_angle_deg", Box::new(|c| c.lift_angle_deg = Some(500.0))),
        ("purchase_date", Box::new(|c| c.purchase_date = Some("2023-02-29".into()))),
    ];
    for (field, edit) in cases {
        let mut c = claim("1");
        edit(&mut c);
        let err = s.append(Draft::open(c), None).unwrap_err();
        assert!(err.to_string().starts_with(field), "{field}: {err}");
    }
    assert_eq!(s.check_chain().unwrap().records, 0);
    let unknown = ClaimId::parse("C-20240101-0001").unwrap();
    let mut d = Draft::open(claim("1"));
    d.claim_id = Some(unknown);
    assert!(matches!(s.append(d, None), Err(StoreError::NotFound { .. })));
    let mut d = Draft::open(claim("1"));
    d.evidence.push(Evidence {
        role: EvidenceRole::Audio,
        name: "audio/DU.wav".into(),
        sha256: "ab".repeat(32),
        size_bytes: 1,
        media_type: "audio/wav".into(),
        original_name: None,
    });
    assert!(matches!(s.append(d, None), Err(StoreError::Corrupt { .. })), "evidence must exist first");
    let mut d = Draft::open(claim("1"));
    d.positions.push(tickproof::record::PositionRecord {
        position: "../../etc".into(),
        audio: "audio/DU.wav".into(),
        audio_sha256: "ab".repeat(32),
        measured_utc: "2025-01-01T00:00:00Z".into(),
        measurement: serde_json::Value::Null,
    });
    assert!(s.append(d, None).is_err());
    assert_eq!(s.check_chain().unwrap().records, 0);
}

#[test]
fn temporaries_of_a_writer_that_is_gone_are_removed_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    drop(Store::open(&root).unwrap());
    // A process id that is not running (Linux: no /proc entry), and one that is (this one).
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let dead =
        (100_000u32..4_000_000).find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()).unwrap();
    let gone = root.join("tmp").join(format!("{dead}-1700000000-0.part"));
    let alive = root.join("tmp").join(format!("{}-1700000000-1.part", std::process::id()));
    std::fs::write(&gone, b"half an evidence file").unwrap();
    std::fs::write(&alive, b"being written").unwrap();
    drop(Store::open(&root).unwrap());
    assert!(!gone.exists(), "a killed writer's temporary was kept");
    assert!(alive.exists(), "a running writer's temporary was removed");
}

#[test]
fn an_index_row_changed_behind_the_record_is_named_by_the_chain_check() {
    // What `claim list` shows and filters on (brand, serial, created_utc, model, verdict) comes
    // from the index; a forged index row must not pass verification.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = open_claim(&mut s, "111");
    measured(&mut s, &a.record.claim_id, b"audio");
    drop(s);
    assert!(problems(dir.path()).is_empty());
    tamper_sql(
        dir.path(),
        "UPDATE records SET brand = 'Forged', serial = 'X', created_utc = '2020-01-01T00:00:00Z' WHERE seq = 1;",
    );
    let p = problems(dir.path());
    let hit = p.iter().find(|m| m.starts_with("record 1 (") && m.contains("index does not match")).cloned();
    let hit = hit.unwrap_or_else(|| panic!("{p:?}"));
    assert!(hit.contains("brand") && hit.contains("serial") && hit.contains("created_utc"), "{hit}");
    assert!(!hit.contains("model"), "{hit}");
}

#[test]
fn a_signature_stripped_from_a_later_revision_of_a_signed_claim_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let key = ServiceKey::from_seed([42; 32]);
    let a = s.append(Draft::open(claim("1")), Some(&key)).unwrap();
    let d = Draft::revise(&a.record, "corrected");
    s.append(d, Some(&key)).unwrap();
    drop(s);
    assert!(problems(dir.path()).is_empty());
    tamper_sql(dir.path(), "UPDATE records SET signature = NULL WHERE seq = 2;");
    let p = problems(dir.path());
    assert!(p.iter().any(|m| m.starts_with("record 2 (") && m.contains("a signature was removed")), "{p:?}");
}

#[test]
fn every_one_byte_tamper_of_a_stored_record_is_named_by_the_chain_check() {
    // A signed store of a few claims; each trial changes one byte of one record's stored bytes,
    // its signature or an index column, or of the head marker, checks, and puts it back.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let key = ServiceKey::from_seed([42; 32]);
    for i in 0..4 {
        let a = s.append(Draft::open(claim(&format!("S{i}"))), Some(&key)).unwrap();
        s.append(Draft::revise(&a.record, "corrected"), Some(&key)).unwrap();
    }
    drop(s);
    tamper_sql(dir.path(), "");
    let c = Connection::open(dir.path().join("claims.sqlite3")).unwrap();
    type Row = (i64, Vec<u8>, String, String, String);
    let rows: Vec<Row> = {
        let mut st =
            c.prepare("SELECT seq, body, signature, brand, created_utc FROM records ORDER BY seq").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let head: String = c.query_row("SELECT value FROM meta WHERE key = 'head'", [], |r| r.get(0)).unwrap();
    let mut rng = tickproof::synth::rng::Rng::new(20261201);
    let trials = soak::cases(200, 3000);
    let mut detected = 0;
    for t in 0..trials {
        let (seq, body, sig, brand, created) = &rows[(rng.uniform() * rows.len() as f64) as usize];
        let flip = |bytes: &[u8], rng: &mut tickproof::synth::rng::Rng| {
            let mut b = bytes.to_vec();
            let i = (rng.uniform() * b.len() as f64) as usize;
            b[i] ^= 1 + (rng.uniform() * 254.0) as u8;
            b
        };
        let what = t % 5;
        let (column, original): (&str, rusqlite::types::Value) = match what {
            0 | 1 => ("body", body.clone().into()),
            2 => ("signature", sig.clone().into()),
            3 => ("brand", brand.clone().into()),
            _ => ("created_utc", created.clone().into()),
        };
        let changed: rusqlite::types::Value = match &original {
            rusqlite::types::Value::Blob(b) => flip(b, &mut rng).into(),
            rusqlite::types::Value::Text(t) => {
                String::from_utf8_lossy(&flip(t.as_bytes(), &mut rng)).into_owned().into()
            }
            _ => unreachable!(),
        };
        let set = format!("UPDATE records SET {column} = ?1 WHERE seq = ?2");
        if t % 7 == 6 {
            let forged = String::from_utf8_lossy(&flip(head.as_bytes(), &mut rng)).into_owned();
            c.execute("UPDATE meta SET value = ?1 WHERE key = 'head'", [&forged]).unwrap();
        } else {
            c.execute(&set, rusqlite::params![changed, seq]).unwrap();
        }
        // Read-only: a writable open would put the append-only triggers back.
        let found = || {
            Store::open_read_only(dir.path(), StoreOptions::default())
                .unwrap()
                .check_chain()
                .unwrap()
                .problems
        };
        if !found().is_empty() {
            detected += 1;
        } else {
            eprintln!("unnoticed: trial {t}, {column} of record {seq}");
        }
        c.execute(&set, rusqlite::params![original, seq]).unwrap();
        c.execute("UPDATE meta SET value = ?1 WHERE key = 'head'", [&head]).unwrap();
        assert!(found().is_empty(), "trial {t}: the store did not come back");
    }
    assert_eq!(detected, trials, "{} of {trials} one-byte tampers went unnoticed", trials - detected);
    soak::figures("one_byte_tampers", &format!("{trials} one-byte tampers tried, {detected} detected"));
}
