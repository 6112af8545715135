//! Which signatures a chain must carry, from its keyring and the keys the shop trusts: the rule
//! the chain walk of both backends and the check of an export apply alike.
//!
//! * A chain with a keyring is **signed** from the ring's `since_seq` on: every record there
//!   must be signed, and every signed record (there or before) by a key of the ring or of the
//!   shop. A ring that does not verify, or (when the shop names keys) that no shop key signed,
//!   is itself a problem, and its keys are then not trusted.
//! * A chain without a keyring may hold no signed record (its keyring was removed), and when
//!   the shop names trusted keys, no unsigned one (the shop signs its claims; a store that lost
//!   its keyring and its signatures is named).
//!
//! * A key the ring's changes trust (`key trust`) signs from its change's chain position on; a
//!   key they revoke (`key revoke`) signs nothing from its revocation on, whoever else trusts
//!   it; its records before the revocation still verify, with a note saying so.
//!
//! The shop's keys are the anchor outside the store: a store rewritten whole, with a ring of an
//! attacker's key, is caught only by them (or `--trusted-key`, or a head receipt).
use super::StoreError;
use crate::record::keyring::Standing;
use crate::record::{Keyring, RecordSignature, ServiceKey};

/// Keys trusted from outside the store (the shop configuration's `trusted_keys`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    /// Ed25519 public keys, hex.
    pub shop_keys: Vec<String>,
}

impl TrustAnchors {
    /// Anchors naming these public keys (hex).
    pub fn shop(keys: &[String]) -> TrustAnchors {
        TrustAnchors { shop_keys: keys.iter().map(|k| k.trim().to_ascii_lowercase()).collect() }
    }

    fn shop_trusts(&self, public_key: &str) -> bool {
        self.shop_keys.iter().any(|k| k.eq_ignore_ascii_case(public_key))
    }
}

/// The signature rule of one chain (see the module notes).
#[derive(Debug, Clone)]
pub struct KeyRule {
    since_seq: Option<u64>,
    /// The chain's keyring, when it verifies (and the shop, if it names keys, signed it).
    ring: Option<Keyring>,
    shop_keys: Vec<String>,
    shop_key_ids: Vec<String>,
}

impl KeyRule {
    /// The rule for a chain with keyring `ring` (or none), and the ring's own problems.
    pub fn new(ring: Option<&Keyring>, anchors: &TrustAnchors) -> (KeyRule, Vec<String>) {
        let mut problems = ring.map(|r| r.problems()).unwrap_or_default();
        if let Some(r) = ring {
            if !anchors.shop_keys.is_empty() && !anchors.shop_trusts(&r.signature.public_key) {
                problems.push(format!(
                    "keyring: signed by key {}, which the shop does not trust (shop.toml trusted_keys)",
                    r.signature.key_id
                ));
            }
        }
        let sound = ring.filter(|_| problems.is_empty()).cloned();
        let shop_key_ids = anchors
            .shop_keys
            .iter()
            .filter_map(|k| crate::record::canonical::unhex::<32>(k))
            .map(|pk| crate::record::sign::key_id(&pk))
            .collect();
        let rule = KeyRule {
            since_seq: ring.map(|r| r.since_seq),
            ring: sound,
            shop_keys: anchors.shop_keys.clone(),
            shop_key_ids,
        };
        (rule, problems)
    }

    /// The rule for a chain whose keyring cannot be read: signed throughout, by the shop's keys.
    pub fn damaged(anchors: &TrustAnchors) -> KeyRule {
        let (mut rule, _) = KeyRule::new(None, anchors);
        rule.since_seq = Some(1);
        rule
    }

    /// Where `public_key` stands in the (sound) ring for a record at `seq`.
    fn standing(&self, public_key: &str, seq: u64) -> Standing {
        self.ring.as_ref().map_or(Standing::Unknown, |r| r.standing(public_key, seq))
    }

    /// Whether signatures by `public_key` (hex) on the record at chain position `seq` are
    /// trusted here: the ring decides for a key it names, else the shop.
    pub fn trusts_at(&self, public_key: &str, seq: u64) -> bool {
        match self.standing(public_key, seq) {
            Standing::Trusted => true,
            Standing::Revoked(_) => false,
            Standing::NotYet(_) | Standing::Unknown => {
                self.shop_keys.iter().any(|k| k.eq_ignore_ascii_case(public_key))
            }
        }
    }

    /// A note on a record at `seq` signed by `sig` that verifies although its key has since been
    /// revoked; `None` otherwise.
    pub fn record_note(&self, seq: u64, sig: Option<&RecordSignature>) -> Option<String> {
        let s = sig?;
        match self.standing(&s.public_key, u64::MAX) {
            Standing::Revoked(from) if seq < from => Some(format!(
                "signed by key {} before its revocation (from record {from} on): still valid",
                s.key_id
            )),
            _ => None,
        }
    }

    /// What is wrong with the record at chain position `seq` signed by `sig`, if anything.
    pub fn record_problem(&self, seq: u64, sig: Option<&RecordSignature>) -> Option<String> {
        let Some(s) = sig else { return self.unsigned_problem(seq) };
        if self.trusts_at(&s.public_key, seq) {
            return None;
        }
        let id = &s.key_id;
        Some(match (self.standing(&s.public_key, seq), self.since_seq) {
            (Standing::Revoked(from), _) => {
                format!("signed by key {id}, which the store's keyring revoked from record {from} on")
            }
            (Standing::NotYet(from), _) => {
                format!("signed by key {id}, which the store's keyring trusts only from record {from} on")
            }
            (_, Some(_)) if self.ring.is_some() => format!(
                "signed by key {id}, which neither the store's keyring nor the shop trusts (re-signed with another key)"
            ),
            (_, Some(_)) => format!("signed by key {id}, which is not trusted: the store's keyring does not verify"),
            (_, None) if self.shop_key_ids.is_empty() => {
                format!("signed by key {id}, but the store has no keyring (it was removed)")
            }
            (_, None) => format!("signed by key {id}, which the shop does not trust (re-signed with another key)"),
        })
    }

    fn unsigned_problem(&self, seq: u64) -> Option<String> {
        match self.since_seq {
            Some(since) if seq >= since => Some(format!(
                "unsigned, but the store is signed from record {since} on (its keyring): a signature was removed"
            )),
            None if !self.shop_key_ids.is_empty() => Some(format!(
                "unsigned, but the shop signs its claims (trusted key {}) and the store has no keyring \
                 (signatures and keyring removed?)",
                self.shop_key_ids.join(", ")
            )),
            _ => None,
        }
    }
}

/// What appending a record signed by `key` (or unsigned) at chain position `seq` does to the
/// chain's keyring `ring`: `Ok(Some(ring))` is the ring to store with the record (the first
/// signed record starts one; a key the shop trusts joins it), `Ok(None)` leaves it as it is.
/// An unsigned record in a signed chain, or a key neither in the ring nor trusted by the shop,
/// is refused: verification would name either as tampering.
pub(crate) fn ring_for_append(
    ring: Option<&Keyring>,
    key: Option<&ServiceKey>,
    seq: u64,
    anchors: &TrustAnchors,
    location: &str,
) -> Result<Option<Keyring>, StoreError> {
    let refuse = |problem: String| StoreError::KeyRefused { location: location.to_string(), problem };
    match (ring, key) {
        (None, None) => Ok(None),
        (None, Some(k)) => Ok(Some(Keyring::new(k, seq)?)),
        (Some(r), None) => Err(refuse(format!(
            "this store is signed from record {} on (its keyring holds key {}): sign with --key FILE \
             or the per-user key; an unsigned record here would read as a removed signature",
            r.since_seq,
            r.keys.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>().join(", ")
        ))),
        (Some(r), Some(k)) => match r.standing(&k.public_key_hex(), seq) {
            Standing::Trusted => Ok(None),
            Standing::Revoked(from) => Err(refuse(format!(
                "key {} was revoked in this store's keyring from record {from} on: sign with a key it trusts",
                k.key_id()
            ))),
            _ if anchors.shop_trusts(&k.public_key_hex()) && r.changes.is_empty() => Ok(Some(r.with_key(k)?)),
            _ => Err(refuse(format!(
                "key {} is not in this store's keyring ({}): trust it first with `tickproof key trust FILE.pub \
                 --key TRUSTED.key`{}",
                k.key_id(),
                r.key_states().iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>().join(", "),
                if r.changes.is_empty() { ", or have the shop trust it (`tickproof shop set --trust-key FILE.pub`)" } else { "" }
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ServiceKey;

    #[test]
    fn a_ring_binds_records_from_its_start_and_trusts_only_its_keys() {
        let a = ServiceKey::from_seed([1; 32]);
        let b = ServiceKey::from_seed([2; 32]);
        let ring = Keyring::new(&a, 3).unwrap();
        let (rule, p) = KeyRule::new(Some(&ring), &TrustAnchors::default());
        assert!(p.is_empty(), "{p:?}");
        assert!(rule.record_problem(2, None).is_none());
        assert!(rule.record_problem(3, None).unwrap().contains("a signature was removed"));
        assert!(rule.record_problem(3, Some(&a.sign(b"x"))).is_none());
        assert!(rule.record_problem(1, Some(&b.sign(b"x"))).unwrap().contains("re-signed"));
        // The shop trusts b only: a's ring is not the shop's, and a's signatures are not trusted.
        let shop = TrustAnchors::shop(&[b.public_key_hex()]);
        let (rule, p) = KeyRule::new(Some(&ring), &shop);
        assert!(p.iter().any(|m| m.contains("shop does not trust")), "{p:?}");
        assert!(rule.record_problem(3, Some(&a.sign(b"x"))).is_some());
        // No ring: signed records are named, and unsigned ones too when the shop signs.
        let (rule, _) = KeyRule::new(None, &TrustAnchors::default());
        assert!(rule.record_problem(1, None).is_none());
        assert!(rule.record_problem(1, Some(&a.sign(b"x"))).unwrap().contains("no keyring"));
        let (rule, _) = KeyRule::new(None, &shop);
        assert!(rule.record_problem(1, None).unwrap().contains("shop signs its claims"));
        assert!(rule.record_problem(1, Some(&b.sign(b"x"))).is_none());
    }

    #[test]
    fn a_changed_ring_binds_each_key_to_its_stretch_of_the_chain() {
        let (a, b) = (ServiceKey::from_seed([1; 32]), ServiceKey::from_seed([2; 32]));
        let ring = Keyring::new(&a, 1).unwrap().trust(&a, &b.public_key_hex(), 4).unwrap();
        let ring = ring.revoke(&b, &a.public_key_hex(), 6).unwrap();
        let (rule, p) = KeyRule::new(Some(&ring), &TrustAnchors::default());
        assert!(p.is_empty(), "{p:?}");
        let (sa, sb) = (a.sign(b"x"), b.sign(b"x"));
        assert!(rule.record_problem(3, Some(&sb)).unwrap().contains("only from record 4 on"));
        assert!(rule.record_problem(4, Some(&sb)).is_none());
        assert!(rule.record_problem(5, Some(&sa)).is_none());
        assert!(rule.record_note(5, Some(&sa)).unwrap().contains("before its revocation"));
        assert!(rule.record_problem(6, Some(&sa)).unwrap().contains("revoked from record 6 on"));
        // The shop trusting the revoked key does not bring it back.
        let (rule, _) = KeyRule::new(Some(&ring), &TrustAnchors::shop(&[a.public_key_hex()]));
        assert!(rule.record_problem(6, Some(&sa)).is_some());
        // A ring with changes takes a new key only through `key trust`, even one the shop trusts.
        let c = ServiceKey::from_seed([3; 32]);
        let shop = TrustAnchors::shop(&[c.public_key_hex()]);
        assert!(ring_for_append(Some(&ring), Some(&c), 7, &shop, "here").is_err());
        assert!(ring_for_append(Some(&ring), Some(&a), 7, &shop, "here")
            .unwrap_err()
            .to_string()
            .contains("revoked"));
        assert!(ring_for_append(Some(&ring), Some(&b), 7, &shop, "here").unwrap().is_none());
    }
}
