//! A store's keyring takes keys in and revokes them only by signed changes appended to it
//! (`tickproof key trust|revoke`): a key trusted by a key of the ring signs from then on; a
//! revoked key's records after its revocation fail `claim verify`, those before still verify and
//! say so; a change removed, edited or signed by a key the ring did not trust is named; a ring
//! with changes goes to a registry with `store push` and holds there and in a pulled copy.
mod cli_home;
mod common;
#[path = "support/pg.rs"]
mod pg;

use cli_home::{claim_new, json_ok, run};
use common::claim;
use rusqlite::{params, Connection};
use std::path::Path;
use tickproof::claim::{verify_stored, Pipeline, Verification};
use tickproof::record::{ClaimId, Keyring, ServiceKey};
use tickproof::store::{sync, ClaimStore, Draft, PgStore, Store, StoreOptions};

fn key(seed: u8) -> ServiceKey {
    ServiceKey::from_seed([seed; 32])
}

/// Replaces the store's keyring behind its back (as someone with write access to the file can).
fn put_ring(dir: &Path, ring: &Keyring) {
    let c = Connection::open(dir.join("claims.sqlite3")).unwrap();
    c.execute("UPDATE meta SET value = ?1 WHERE key = 'keyring'", params![ring.to_json()]).unwrap();
}

fn verify(dir: &Path, id: &ClaimId) -> Verification {
    verify_stored(&Store::open(dir).unwrap(), &Pipeline, id, None).unwrap()
}

fn open(store: &mut Store, serial: &str, k: &ServiceKey) -> ClaimId {
    store.append(Draft::open(claim(serial)), Some(k)).unwrap().record.claim_id
}

#[test]
fn a_key_trusted_by_the_ring_signs_from_then_on_and_an_outsider_cannot_trust_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, outsider) = (key(1), key(2), key(9));
    let mut s = Store::open(dir.path()).unwrap();
    let first = open(&mut s, "A1", &a);
    assert!(s.append(Draft::open(claim("B1")), Some(&b)).is_err(), "a key outside the ring signed");
    let refused = s.change_keyring(|r, next| r.unwrap().trust(&outsider, &b.public_key_hex(), next));
    assert!(refused.unwrap_err().to_string().contains("cannot sign a change"));
    let ring = s.change_keyring(|r, next| r.unwrap().trust(&a, &b.public_key_hex(), next)).unwrap();
    assert_eq!(ring.changes.len(), 1);
    assert_eq!(ring.changes[0].from_seq, 2, "trusted from the next record on");
    let second = open(&mut s, "B1", &b);
    drop(s);
    for id in [&first, &second] {
        let v = verify(dir.path(), id);
        assert!(v.passed(), "{id}: {:?}", v.problems);
    }
}

#[test]
fn records_a_revoked_key_signed_after_its_revocation_fail_and_those_before_verify_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (key(1), key(2));
    let mut s = Store::open(dir.path()).unwrap();
    let before = open(&mut s, "A1", &a);
    s.change_keyring(|r, next| r.unwrap().trust(&a, &b.public_key_hex(), next)).unwrap();
    let after = open(&mut s, "A2", &a);
    // The revocation as it would stand had `key revoke` run before record 2: that record was
    // signed by a stolen key after it.
    let ring = s.keyring().unwrap().unwrap();
    drop(s);
    put_ring(dir.path(), &ring.revoke(&b, &a.public_key_hex(), 2).unwrap());
    let v = verify(dir.path(), &after);
    assert!(
        v.problems.iter().any(|p| p.contains("revoked from record 2 on")),
        "a record signed after its key's revocation passed: {:?}",
        v.problems
    );
    let v = verify(dir.path(), &before);
    let chain_ok = v.problems.iter().all(|p| p.contains("record 2 "));
    assert!(chain_ok, "record 1 was named: {:?}", v.problems);
    assert!(v.checked.iter().any(|c| c.contains("before its revocation")), "{:?}", v.checked);
    // The store refuses to write with the revoked key.
    let mut s = Store::open(dir.path()).unwrap();
    let e = s.append(Draft::open(claim("A3")), Some(&a)).unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
}

#[test]
fn a_keyring_change_removed_from_the_middle_or_edited_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (key(1), key(2), key(3));
    let mut s = Store::open(dir.path()).unwrap();
    let id = open(&mut s, "A1", &a);
    s.change_keyring(|r, next| r.unwrap().trust(&a, &b.public_key_hex(), next)).unwrap();
    s.change_keyring(|r, next| r.unwrap().trust(&b, &c.public_key_hex(), next)).unwrap();
    let ring = s.change_keyring(|r, next| r.unwrap().revoke(&c, &a.public_key_hex(), next)).unwrap();
    drop(s);
    assert!(verify(dir.path(), &id).passed());
    let mut removed = ring.clone();
    removed.changes.remove(1);
    put_ring(dir.path(), &removed);
    let v = verify(dir.path(), &id);
    assert!(v.problems.iter().any(|p| p.contains("does not follow the one before")), "{:?}", v.problems);
    let mut edited = ring.clone();
    edited.changes[2].from_seq = 99;
    put_ring(dir.path(), &edited);
    assert!(!verify(dir.path(), &id).passed(), "a revocation moved later passed");
}

#[test]
fn a_keyring_with_changes_travels_to_a_registry_and_back_and_holds_there() {
    let server = pg::PgServer::start();
    let url = server.registry("keyring");
    let (a, b) = (key(1), key(2));
    let at = || StoreOptions { branch: Some("LYON".into()), ..StoreOptions::default() };
    let src = tempfile::tempdir().unwrap();
    let mut local = Store::open_with(src.path(), at()).unwrap();
    let before = open(&mut local, "A1", &a);
    local.change_keyring(|r, next| r.unwrap().trust(&a, &b.public_key_hex(), next)).unwrap();
    let by_b = open(&mut local, "B1", &b);
    local.change_keyring(|r, next| r.unwrap().revoke(&b, &a.public_key_hex(), next)).unwrap();
    let registry = PgStore::open(&url, at()).unwrap();
    sync::push(&mut local, &registry).unwrap();
    let check = registry.verify_chain().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    let v = verify_stored(&registry, &Pipeline, &before, None).unwrap();
    assert!(v.passed() && v.checked.iter().any(|c| c.contains("before its revocation")), "{v:?}");
    assert!(verify_stored(&registry, &Pipeline, &by_b, None).unwrap().passed());
    let dst = tempfile::tempdir().unwrap();
    let mut copy = Store::open(dst.path()).unwrap();
    sync::pull(&registry, &mut copy, &before).unwrap();
    let v = verify_stored(&copy, &Pipeline, &before, None).unwrap();
    assert!(v.passed() && v.checked.iter().any(|c| c.contains("before its revocation")), "{v:?}");
}

fn key_file(home: &Path, name: &str) -> (String, String) {
    let path = home.join(name);
    let p = path.to_str().unwrap().to_string();
    assert_eq!(run(home, &["key", "new", "--key", &p]).status.code(), Some(0));
    (p.clone(), format!("{p}.pub"))
}

#[test]
fn key_trust_and_revoke_through_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let store = h.join("store");
    let store = store.to_str().unwrap();
    let (a, a_pub) = key_file(h, "a.key");
    let (b, b_pub) = key_file(h, "b.key");
    let signed_by = |store: &str, serial: &str, k: &str| {
        let mut args = vec!["--store", store, "claim", "new", "--brand", "Seiko", "--model", "SRPD55"];
        args.extend(["--serial", serial, "--movement", "mechanical", "--policy", "bultime-bg", "--key", k]);
        run(h, &[&args[..], &["--json"]].concat())
    };
    let first = json_ok(&signed_by(store, "A1", &a));
    assert_eq!(signed_by(store, "B1", &b).status.code(), Some(2), "a key outside the ring signed");
    let o = run(h, &["--store", store, "key", "trust", &b_pub, "--key", &b]);
    assert_eq!(o.status.code(), Some(2), "a key trusted itself");
    let o = run(h, &["--store", store, "key", "trust", &b_pub, "--key", &a]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("trusted from record 2 on"));
    assert_eq!(signed_by(store, "B1", &b).status.code(), Some(0));
    let o = run(h, &["--store", store, "key", "revoke", &a_pub, "--key", &b]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(signed_by(store, "A2", &a).status.code(), Some(2), "a revoked key signed");
    let o = run(h, &["--store", store, "key", "revoke", &b_pub, "--key", &b]);
    assert_eq!(o.status.code(), Some(2), "the last key that can sign was revoked");
    assert_eq!(run(h, &["--store", store, "key", "revoke", "zz"]).status.code(), Some(2));
    let id = first["id"].as_str().unwrap();
    let v = json_ok(&run(h, &["--store", store, "claim", "verify", id, "--json"]));
    let checked = v["checked"].to_string();
    assert!(checked.contains("before its revocation"), "{v:#}");
    // A claim opened unsigned in an unsigned store, then the store made signed by `key trust`.
    let other = h.join("other");
    let other = other.to_str().unwrap();
    let unsigned = json_ok(&claim_new(h, other, "U1"));
    let o = run(h, &["--store", other, "key", "trust", &b_pub, "--key", &a]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let signed = json_ok(&signed_by(other, "B2", &b));
    assert_eq!(
        signed_by(other, "U2", &a).status.code(),
        Some(0),
        "the key that made the ring could not sign"
    );
    for c in [&unsigned, &signed] {
        let v = json_ok(&run(h, &["--store", other, "claim", "verify", c["id"].as_str().unwrap(), "--json"]));
        assert_eq!(v["passed"], true, "{v:#}");
    }
}
