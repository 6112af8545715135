//! What anchors a claim store against someone who can edit it: its signed keyring, the keys the
//! shop trusts, and head receipts. Each tamper runs against both backends (SQLite, and a real
//! PostgreSQL server started by `support/pg.rs`), which must give the same answer.
mod common;
#[path = "support/pg.rs"]
mod pg;

use common::claim;
use rusqlite::Connection;
use tickproof::claim::{verify_stored_with, Pipeline, ReceiptRef, Verification, VerifyOptions};
use tickproof::record::{ClaimId, Receipt, ServiceKey};
use tickproof::store::{ClaimStore, Draft, PgStore, Store, StoreError, StoreOptions, TrustAnchors};

fn shop_key() -> ServiceKey {
    ServiceKey::from_seed([21; 32])
}

fn attacker() -> ServiceKey {
    ServiceKey::from_seed([66; 32])
}

/// What an attacker with write access to the database does, one backend's way.
trait Tamper {
    /// Opens the store afresh (as a new command would).
    fn open(&self) -> Box<dyn ClaimStore>;
    /// Replaces every record's signature by `key`'s signature over its stored bytes (`None`:
    /// removes them); only the records of claim `only` when given.
    fn resign(&self, key: Option<&ServiceKey>, only: Option<&ClaimId>);
    /// Replaces the keyring by one of `key` (`None`: removes it).
    fn replace_ring(&self, key: Option<&ServiceKey>);
    /// Deletes the newest record and its receipt, and rewinds the head marker to match.
    fn drop_newest(&self);
}

/// Two claims of two revisions each, signed by the shop's key; returns their ids and the
/// receipt of the newest record.
fn signed_claims(s: &mut dyn ClaimStore) -> (ClaimId, ClaimId, Receipt) {
    let key = shop_key();
    let mut ids = Vec::new();
    for serial in ["A1", "B2"] {
        let opened = s.append_draft(Draft::open(claim(serial)), Some(&key)).unwrap();
        s.append_draft(Draft::revise(&opened.record, "corrected"), Some(&key)).unwrap();
        ids.push(opened.record.claim_id);
    }
    let receipt = s.receipt_for(&ids[1], 2).unwrap().expect("a receipt with every record");
    assert!(receipt.signature.is_some() && receipt.problems().is_empty(), "{:?}", receipt.problems());
    (ids[0].clone(), ids[1].clone(), receipt)
}

fn verify(s: &dyn ClaimStore, id: &ClaimId, shop: bool, receipt: Option<ReceiptRef>) -> Verification {
    let anchors =
        if shop { TrustAnchors::shop(&[shop_key().public_key_hex()]) } else { TrustAnchors::default() };
    let opts = VerifyOptions { trusted_key: None, anchors, receipt };
    verify_stored_with(s, &Pipeline, id, &opts).unwrap()
}

fn assert_named(v: &Verification, what: &str) {
    assert!(v.problems.iter().any(|p| p.contains(what)), "no problem names {what:?}: {:?}", v.problems);
}

/// The summary never says the revisions were signed by a trusted key when they were not.
fn assert_not_called_trusted(v: &Verification) {
    let said = v.checked.iter().any(|c| c.contains("by trusted key") || c.contains("by the trusted key"));
    assert!(!said, "{:?}", v.checked);
}

/// Every tamper, against a fresh pair of signed claims each time; `fresh` empties the store.
fn tampers_are_named(fresh: &mut dyn FnMut() -> Box<dyn Tamper>) {
    // Untouched: verifies, signed by the trusted key, and its receipt proves the head.
    let t = fresh();
    let (a, b, receipt) = signed_claims(&mut *t.open());
    let s = t.open();
    for shop in [false, true] {
        let v = verify(&*s, &a, shop, Some(ReceiptRef::Hash(receipt.sha256())));
        assert!(v.passed(), "{:?}", v.problems);
        assert!(v.checked.iter().any(|c| c.contains("2 signed, by trusted key")), "{:?}", v.checked);
    }
    // The writer refuses an unsigned record and a key the keyring does not hold.
    let mut w = t.open();
    let e = w.append_draft(Draft::open(claim("C3")), None).unwrap_err();
    assert!(
        matches!(e, StoreError::KeyRefused { .. }) && e.to_string().contains("signed from record 1"),
        "{e}"
    );
    let e = w.append_draft(Draft::open(claim("C3")), Some(&attacker())).unwrap_err();
    assert!(
        matches!(e, StoreError::KeyRefused { .. }) && e.to_string().contains("not in this store's keyring"),
        "{e}"
    );

    // One claim re-signed from its first revision with another key: named without any key given.
    t.resign(Some(&attacker()), Some(&b));
    let v = verify(&*t.open(), &b, false, None);
    assert_named(&v, "neither the store's keyring nor the shop trusts");
    assert_not_called_trusted(&v);

    // Every signature removed.
    let t = fresh();
    let (a, _, _) = signed_claims(&mut *t.open());
    t.resign(None, None);
    let v = verify(&*t.open(), &a, false, None);
    assert_named(&v, "a signature was removed");
    assert_not_called_trusted(&v);

    // The keyring removed too: only the shop's key (outside the store) can tell.
    t.replace_ring(None);
    let v = verify(&*t.open(), &a, false, None);
    assert!(
        v.passed() && v.checked.iter().any(|c| c.contains("unsigned")),
        "{:?} {:?}",
        v.problems,
        v.checked
    );
    assert_named(&verify(&*t.open(), &a, true, None), "the shop signs its claims");

    // The whole store re-signed with a keyring of the attacker's key.
    let t = fresh();
    let (a, _, _) = signed_claims(&mut *t.open());
    t.resign(Some(&attacker()), None);
    t.replace_ring(Some(&attacker()));
    assert!(verify(&*t.open(), &a, false, None).passed(), "consistent, and nothing outside says otherwise");
    let v = verify(&*t.open(), &a, true, None);
    assert_named(&v, "which the shop does not trust");
    assert_not_called_trusted(&v);

    // The newest record deleted and the head marker rewound: the chain alone cannot tell, the
    // receipt does, by file and by hash.
    let t = fresh();
    let (a, _, receipt) = signed_claims(&mut *t.open());
    t.drop_newest();
    let s = t.open();
    assert!(s.verify_chain().unwrap().problems.is_empty(), "{:?}", s.verify_chain().unwrap().problems);
    let v = verify(&*s, &a, false, Some(ReceiptRef::File(Box::new(receipt.clone()))));
    assert_named(&v, "is no longer held");
    assert!(
        !v.checked.iter().any(|c| c.contains("the chain up to record")),
        "a failed receipt listed as checked: {:?}",
        v.checked
    );
    assert_named(&verify(&*s, &a, false, Some(ReceiptRef::Hash(receipt.sha256()))), "not held here");
    // An edited receipt does not pass for a real one.
    let mut forged = receipt;
    forged.body.head_seq = 1;
    assert_named(&verify(&*s, &a, false, Some(ReceiptRef::File(Box::new(forged)))), "the receipt was edited");
}

struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    fn sql(&self) -> Connection {
        let c = Connection::open(self.dir.path().join("claims.sqlite3")).unwrap();
        c.execute_batch(
            "DROP TRIGGER IF EXISTS records_append_only_update; DROP TRIGGER IF EXISTS records_append_only_delete;
             DROP TRIGGER IF EXISTS receipts_append_only_delete;",
        )
        .unwrap();
        c
    }
}

fn signature_json(key: &ServiceKey, body: &[u8]) -> String {
    serde_json::to_string(&key.sign(body)).unwrap()
}

impl Tamper for Sqlite {
    fn open(&self) -> Box<dyn ClaimStore> {
        Box::new(Store::open(self.dir.path()).unwrap())
    }

    fn resign(&self, key: Option<&ServiceKey>, only: Option<&ClaimId>) {
        let c = self.sql();
        let rows: Vec<(i64, String, Vec<u8>)> = {
            let mut st = c.prepare("SELECT seq, claim_id, body FROM records").unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
        };
        for (seq, _, body) in rows.into_iter().filter(|(_, id, _)| only.is_none_or(|o| o.as_str() == id)) {
            let sig = key.map(|k| signature_json(k, &body));
            c.execute("UPDATE records SET signature = ?1 WHERE seq = ?2", rusqlite::params![sig, seq])
                .unwrap();
        }
    }

    fn replace_ring(&self, key: Option<&ServiceKey>) {
        let c = self.sql();
        c.execute("DELETE FROM meta WHERE key = 'keyring'", []).unwrap();
        if let Some(k) = key {
            let ring = tickproof::record::Keyring::new(k, 1).unwrap();
            c.execute("INSERT INTO meta (key, value) VALUES ('keyring', ?1)", [ring.to_json()]).unwrap();
        }
    }

    fn drop_newest(&self) {
        let c = self.sql();
        c.execute_batch(
            "DELETE FROM receipts WHERE head_seq = (SELECT MAX(seq) FROM records);
             DELETE FROM records WHERE seq = (SELECT MAX(seq) FROM records);
             UPDATE meta SET value = (SELECT seq || ' ' || sha256 FROM records ORDER BY seq DESC LIMIT 1)
                 WHERE key = 'head';",
        )
        .unwrap();
    }
}

struct Registry {
    server: std::rc::Rc<pg::PgServer>,
    db: String,
    url: String,
}

impl Registry {
    fn su(&self) -> postgres::Client {
        let mut c = self.server.superuser(&self.db);
        c.batch_execute("SET session_replication_role = replica").unwrap();
        c
    }
}

impl Tamper for Registry {
    fn open(&self) -> Box<dyn ClaimStore> {
        Box::new(
            PgStore::open(&self.url, StoreOptions { branch: Some("LYON".into()), ..Default::default() })
                .unwrap(),
        )
    }

    fn resign(&self, key: Option<&ServiceKey>, only: Option<&ClaimId>) {
        let mut c = self.su();
        let rows = c.query("SELECT chain_id, seq, claim_id, body FROM records", &[]).unwrap();
        for r in rows.iter().filter(|r| only.is_none_or(|o| o.as_str() == r.get::<_, String>(2))) {
            let body: Vec<u8> = r.get(3);
            let sig = key.map(|k| signature_json(k, &body));
            c.execute(
                "UPDATE records SET signature = $1 WHERE chain_id = $2 AND seq = $3",
                &[&sig, &r.get::<_, String>(0), &r.get::<_, i64>(1)],
            )
            .unwrap();
        }
    }

    fn replace_ring(&self, key: Option<&ServiceKey>) {
        let mut c = self.su();
        c.execute("DELETE FROM keyrings", &[]).unwrap();
        if let Some(k) = key {
            let ring = tickproof::record::Keyring::new(k, 1).unwrap();
            c.execute("INSERT INTO keyrings VALUES ('branch-LYON', 'LYON', $1)", &[&ring.to_json()]).unwrap();
        }
    }

    fn drop_newest(&self) {
        self.su()
            .batch_execute(
                "DELETE FROM receipts WHERE head_seq = (SELECT max(seq) FROM records);
                 DELETE FROM records WHERE seq = (SELECT max(seq) FROM records);
                 UPDATE chains SET (head_seq, head_sha256) =
                     (SELECT seq, sha256 FROM records ORDER BY seq DESC LIMIT 1);",
            )
            .unwrap();
    }
}

#[test]
fn a_store_edited_behind_its_keyring_or_its_receipts_fails_verify_on_both_backends() {
    tampers_are_named(&mut || Box::new(Sqlite { dir: tempfile::tempdir().unwrap() }) as Box<dyn Tamper>);
    // Shared by every fresh registry and stopped when the last is dropped (a leaked server
    // outlived the test run, one PostgreSQL left running per `make test`).
    let server = std::rc::Rc::new(pg::PgServer::start());
    let mut n = 0;
    tampers_are_named(&mut || {
        n += 1;
        let db = format!("anchors{n}");
        let url = server.registry(&db);
        Box::new(Registry { server: server.clone(), db, url }) as Box<dyn Tamper>
    });
}

#[test]
fn a_key_the_shop_trusts_joins_the_keyring_and_its_signatures_verify() {
    let dir = tempfile::tempdir().unwrap();
    let second = ServiceKey::from_seed([22; 32]);
    let anchors = TrustAnchors::shop(&[second.public_key_hex()]);
    let mut s = Store::open_with(dir.path(), StoreOptions { anchors: anchors.clone(), ..Default::default() })
        .unwrap();
    // The shop trusts only the second key, so the ring the first key started is not the shop's.
    let a = s.append(Draft::open(claim("A1")), Some(&shop_key())).unwrap();
    s.append(Draft::revise(&a.record, "corrected"), Some(&second)).unwrap();
    let ring = s.keyring().unwrap().unwrap();
    assert!(ring.holds(&second.public_key_hex()) && ring.problems().is_empty());
    let check = s.check_chain_with(&TrustAnchors::default()).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    let check = s.check_chain_with(&TrustAnchors::shop(&[shop_key().public_key_hex()])).unwrap();
    assert!(
        check.problems.iter().any(|p| p.contains("which the shop does not trust")),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_receipt_has_exactly_the_fields_its_schema_requires() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let r = s.append(Draft::open(claim("A1")), Some(&shop_key())).unwrap();
    let receipt = s.receipt(&r.record.claim_id, 1).unwrap().unwrap();
    let schema: serde_json::Value = serde_json::from_str(include_str!("../schema/receipt.v1.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&receipt.to_json()).unwrap();
    let mut required: Vec<&str> =
        schema["required"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    required.sort_unstable();
    keys.sort_unstable();
    assert_eq!(required, keys);
    assert_eq!(schema["properties"]["format"]["const"], tickproof::record::RECEIPT_V1);
    assert_eq!((receipt.body.head_seq, receipt.body.head_sha256.as_str()), (1, r.sha256.as_str()));
}
