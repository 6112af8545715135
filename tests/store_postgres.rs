//! The PostgreSQL registry against a real server started by the tests (see `support/pg.rs`):
//! the same round trip as the SQLite store, push and pull, concurrent writers, roles, tampering
//! by a superuser, killed writers, a server restarted mid-push, and schema versions.
#[path = "support/pg.rs"]
mod pg;

use pg::PgServer;
use std::path::Path;
use std::process::{Command, Output};
use tickproof::record::{Claim, ClaimId, Evidence, EvidenceRole, Movement, ServiceKey, VerdictRecord};
use tickproof::store::{sync, ClaimStore, Draft, ListFilter, PgStore, Store, StoreError, StoreOptions};

fn claim(serial: &str) -> Claim {
    Claim {
        brand: "Seiko".into(),
        model: "SRPD55".into(),
        serial: serial.into(),
        movement: Movement::Mechanical,
        lift_angle_deg: Some(53.0),
        purchase_date: None,
        complaint: Some("loses a minute a day".into()),
        technician: Some("A. Tech".into()),
        policy: None,
    }
}

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
    let b = claim_with_evidence(s, "B2", &content(10, 1), None);
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
