//! A store's keyring: the public keys whose signatures the store accepts, itself signed.
//!
//! A store gets its keyring with its first signed record: the signer's key, the chain position
//! from which every record must be signed (`since_seq`), signed by that key. A record signed by
//! a key outside the ring is refused when written (unless the shop trusts that key: it then
//! joins the ring, which it signs anew). Verification then holds every record from `since_seq`
//! on to a signature by a key of the ring (or one the shop trusts): a record whose signature was
//! removed, or that was re-signed with another key, is named.
//!
//! The ring is JSON (`format` [`KEYRING_V1`]); its signature covers the canonical bytes of
//! everything but the signature and the changes.
//!
//! # Changes: trusting and revoking keys
//! `tickproof key trust` and `key revoke` append a [`RingChange`] to the ring's `changes`
//! (never editing or deleting what is there): a key trusted, or revoked, from a chain position
//! on (the store's next record), signed by a key the ring trusts at that point (not revoked).
//! Each change names the SHA-256 of the canonical bytes of what it follows (the ring without
//! its changes for the first, else the change before), so that a change removed from the
//! middle, reordered or edited is named. Records signed by a revoked key before its revocation
//! still verify (and verification says so); from the revocation on they do not. A ring with
//! changes is read by this version on; older readers refuse it (an unknown field).
//!
//! Nothing in the store anchors the newest change: dropping the last revocation is caught only
//! by a key trusted from outside (the shop's, `--trusted-key`) refusing the records signed since.
use serde::{Deserialize, Serialize};

use super::canonical::{canonical_bytes, sha256_hex};
use super::sign::{RecordSignature, ServiceKey};
use super::RecordError;

/// The keyring format this program writes and reads.
pub const KEYRING_V1: &str = "tickproof-keyring-v1";

/// Most keys in a ring (bounds what is read from a store or an export).
pub const MAX_RING_KEYS: usize = 64;

/// Most changes appended to a ring.
pub const MAX_RING_CHANGES: usize = 128;

/// One trusted public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingKey {
    /// Fingerprint ([`super::sign::key_id`]).
    pub key_id: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
}

/// What the ring's signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RingBody {
    format: String,
    since_seq: u64,
    keys: Vec<RingKey>,
}

/// A store's (or a registry chain's) keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keyring {
    /// Always [`KEYRING_V1`].
    pub format: String,
    /// Every record at this chain position and after must be signed by a key of the ring.
    pub since_seq: u64,
    /// The keys.
    pub keys: Vec<RingKey>,
    /// Signature by a key of the ring over the rest (but the changes).
    pub signature: RecordSignature,
    /// Keys trusted or revoked since, oldest first (see the module notes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<RingChange>,
}

/// What a [`RingChange`] does to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RingAction {
    /// The key may sign records from `from_seq` on.
    Trust,
    /// The key's signatures are refused from `from_seq` on (those before still count).
    Revoke,
}

/// A key trusted into the ring, or revoked, from a chain position on; signed by a key the ring
/// trusted then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingChange {
    /// Trust or revoke.
    pub action: RingAction,
    /// Fingerprint of the key concerned.
    pub key_id: String,
    /// The key concerned, Ed25519 public key, hex.
    pub public_key: String,
    /// The chain position from which the change holds (the store's next record when made).
    pub from_seq: u64,
    /// SHA-256 of the canonical bytes of what this change follows (see the module notes).
    pub prev_sha256: String,
    /// Signature over the rest, by a key the ring trusts at this change.
    pub signature: RecordSignature,
}

/// What a [`RingChange`]'s signature covers.
#[derive(Serialize)]
struct ChangeBody<'a> {
    action: RingAction,
    key_id: &'a str,
    public_key: &'a str,
    from_seq: u64,
    prev_sha256: &'a str,
}

impl RingChange {
    fn body(&self) -> ChangeBody<'_> {
        ChangeBody {
            action: self.action,
            key_id: &self.key_id,
            public_key: &self.public_key,
            from_seq: self.from_seq,
            prev_sha256: &self.prev_sha256,
        }
    }
}

/// Where a key stands in a ring for a record at a given chain position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The ring trusts it there.
    Trusted,
    /// The ring trusts it, but only from this chain position on.
    NotYet(u64),
    /// Revoked from this chain position on.
    Revoked(u64),
    /// The ring does not name it.
    Unknown,
}

/// One key of the ring as its changes leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    /// Fingerprint.
    pub key_id: String,
    /// Ed25519 public key, hex (lower case).
    pub public_key: String,
    /// Trusted from this chain position on (`None`: one of the ring's first keys, always).
    pub from_seq: Option<u64>,
    /// Revoked from this chain position on.
    pub revoked_from: Option<u64>,
}

impl KeyState {
    fn standing_at(&self, seq: u64) -> Standing {
        match (self.from_seq, self.revoked_from) {
            (_, Some(r)) if seq >= r => Standing::Revoked(r),
            (Some(f), _) if seq < f => Standing::NotYet(f),
            _ => Standing::Trusted,
        }
    }
}

impl Keyring {
    /// A new ring holding `key` alone, signed by it, binding records from `since_seq` on.
    pub fn new(key: &ServiceKey, since_seq: u64) -> Result<Keyring, RecordError> {
        let body = RingBody {
            format: KEYRING_V1.into(),
            since_seq,
            keys: vec![RingKey { key_id: key.key_id(), public_key: key.public_key_hex() }],
        };
        Keyring::signed(body, key)
    }

    /// This ring with `key` added, signed by `key` (the caller decides that `key` may join).
    pub fn with_key(&self, key: &ServiceKey) -> Result<Keyring, RecordError> {
        let mut keys = self.keys.clone();
        keys.push(RingKey { key_id: key.key_id(), public_key: key.public_key_hex() });
        Keyring::signed(RingBody { format: KEYRING_V1.into(), since_seq: self.since_seq, keys }, key)
    }

    fn signed(body: RingBody, key: &ServiceKey) -> Result<Keyring, RecordError> {
        let signature = key.sign(&canonical_bytes(&body)?);
        Ok(Keyring {
            format: body.format,
            since_seq: body.since_seq,
            keys: body.keys,
            signature,
            changes: vec![],
        })
    }

    /// Whether `public_key` (hex) is among the ring's first keys.
    pub fn holds(&self, public_key: &str) -> bool {
        self.keys.iter().any(|k| k.public_key.eq_ignore_ascii_case(public_key))
    }

    /// Every key the ring names, as its changes leave them (the changes taken as they are:
    /// [`problems`](Keyring::problems) says whether they hold).
    pub fn key_states(&self) -> Vec<KeyState> {
        let mut out: Vec<KeyState> = self
            .keys
            .iter()
            .map(|k| KeyState {
                key_id: k.key_id.clone(),
                public_key: k.public_key.to_ascii_lowercase(),
                from_seq: None,
                revoked_from: None,
            })
            .collect();
        for c in &self.changes {
            let pk = c.public_key.to_ascii_lowercase();
            match (c.action, out.iter_mut().find(|k| k.public_key == pk)) {
                (RingAction::Trust, None) => out.push(KeyState {
                    key_id: c.key_id.clone(),
                    public_key: pk,
                    from_seq: Some(c.from_seq),
                    revoked_from: None,
                }),
                (RingAction::Revoke, Some(k)) if k.revoked_from.is_none() => {
                    k.revoked_from = Some(c.from_seq)
                }
                _ => {}
            }
        }
        out
    }

    /// Where `public_key` (hex) stands for a record at chain position `seq`.
    pub fn standing(&self, public_key: &str, seq: u64) -> Standing {
        let pk = public_key.to_ascii_lowercase();
        self.key_states()
            .iter()
            .find(|k| k.public_key == pk)
            .map_or(Standing::Unknown, |k| k.standing_at(seq))
    }

    /// This ring with `public_key` (hex) trusted from chain position `from_seq` on, the change
    /// signed by `signer`, which the ring must trust there.
    pub fn trust(
        &self,
        signer: &ServiceKey,
        public_key: &str,
        from_seq: u64,
    ) -> Result<Keyring, RecordError> {
        match self.standing(public_key, from_seq) {
            Standing::Unknown => self.changed(signer, RingAction::Trust, public_key, from_seq),
            Standing::Revoked(r) => Err(refused(format!(
                "key {} was revoked from record {r} on; a revoked key is never trusted again (make a new key)",
                key_id_of(public_key)
            ))),
            _ => Err(refused(format!("key {} is already trusted here", key_id_of(public_key)))),
        }
    }

    /// This ring with `public_key` (hex) revoked from chain position `from_seq` on, the change
    /// signed by `signer`, which the ring must trust there. The last key that can sign is kept.
    pub fn revoke(
        &self,
        signer: &ServiceKey,
        public_key: &str,
        from_seq: u64,
    ) -> Result<Keyring, RecordError> {
        match self.standing(public_key, from_seq) {
            Standing::Unknown => {
                return Err(refused(format!("key {} is not in this keyring", key_id_of(public_key))))
            }
            Standing::Revoked(r) => {
                return Err(refused(format!(
                    "key {} is already revoked (from record {r} on)",
                    key_id_of(public_key)
                )))
            }
            _ => {}
        }
        let pk = public_key.to_ascii_lowercase();
        let others =
            self.key_states().iter().filter(|k| k.public_key != pk && k.revoked_from.is_none()).count();
        if others == 0 {
            return Err(refused(format!(
                "key {} is the last key that can sign here; trust another key first (`tickproof key trust`)",
                key_id_of(public_key)
            )));
        }
        self.changed(signer, RingAction::Revoke, public_key, from_seq)
    }

    fn changed(
        &self,
        signer: &ServiceKey,
        action: RingAction,
        public_key: &str,
        from_seq: u64,
    ) -> Result<Keyring, RecordError> {
        let pk = super::canonical::unhex::<32>(public_key)
            .ok_or_else(|| refused(format!("{public_key:?} is not an Ed25519 public key (64 hex digits)")))?;
        if self.standing(&signer.public_key_hex(), from_seq) != Standing::Trusted {
            return Err(refused(format!(
                "key {} cannot sign a change to this keyring: it is not trusted here (keys: {})",
                signer.key_id(),
                self.key_states().iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        if self.changes.len() >= MAX_RING_CHANGES {
            return Err(refused(format!("the keyring holds {MAX_RING_CHANGES} changes, the most it may")));
        }
        let key_id = super::sign::key_id(&pk);
        let public_key = public_key.to_ascii_lowercase();
        let prev_sha256 = self.head_sha256(self.changes.len())?;
        let body = ChangeBody {
            action,
            key_id: &key_id,
            public_key: &public_key,
            from_seq,
            prev_sha256: &prev_sha256,
        };
        let signature = signer.sign(&canonical_bytes(&body)?);
        let change = RingChange { action, key_id, public_key, from_seq, prev_sha256, signature };
        let mut ring = self.clone();
        ring.changes.push(change);
        Ok(ring)
    }

    /// The hash the change at index `i` must name: of the ring without changes for the first,
    /// else of the change before.
    fn head_sha256(&self, i: usize) -> Result<String, RecordError> {
        if i == 0 {
            let base = Keyring { changes: vec![], ..self.clone() };
            return Ok(sha256_hex(&canonical_bytes(&base)?));
        }
        Ok(sha256_hex(&canonical_bytes(&self.changes[i - 1])?))
    }

    /// What is wrong with the changes: a broken link, a bad signature, a signer the ring did
    /// not trust then, a change that does nothing.
    fn change_problems(&self, out: &mut Vec<String>) {
        if self.changes.len() > MAX_RING_CHANGES {
            out.push(format!("keyring: holds {} changes (at most {MAX_RING_CHANGES})", self.changes.len()));
            return;
        }
        let mut before = Keyring { changes: vec![], ..self.clone() };
        let mut last_seq = 0;
        for (i, c) in self.changes.iter().enumerate() {
            let name = format!("keyring: change {} ({:?} key {})", i + 1, c.action, c.key_id);
            match self.head_sha256(i) {
                Ok(h) if h == c.prev_sha256 => {}
                _ => out.push(format!(
                    "{name}: does not follow the one before it (a change was removed, edited or reordered)"
                )),
            }
            if super::canonical::unhex::<32>(&c.public_key).map(|pk| super::sign::key_id(&pk)).as_ref()
                != Some(&c.key_id)
            {
                out.push(format!("{name}: its key id does not match its key"));
            }
            match canonical_bytes(&c.body()) {
                Ok(bytes) => {
                    if let Err(e) = c.signature.verify(&bytes) {
                        out.push(format!("{name}: signature by key {}: {e} (edited)", c.signature.key_id));
                    }
                }
                Err(e) => out.push(format!("{name}: cannot be serialised: {e}")),
            }
            if before.standing(&c.signature.public_key, c.from_seq) != Standing::Trusted {
                out.push(format!(
                    "{name}: signed by key {}, which the keyring did not trust then",
                    c.signature.key_id
                ));
            }
            let valid = matches!(
                (c.action, before.standing(&c.public_key, c.from_seq)),
                (RingAction::Trust, Standing::Unknown)
                    | (RingAction::Revoke, Standing::Trusted | Standing::NotYet(_))
            );
            if !valid || c.from_seq < last_seq {
                out.push(format!("{name}: does not follow from the keyring before it"));
            }
            last_seq = c.from_seq;
            before.changes.push(c.clone());
        }
    }

    /// What is wrong with the ring itself (format, size, signature, signer); empty when sound.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.format != KEYRING_V1 {
            out.push(format!(
                "keyring: unknown format '{}'",
                self.format.chars().take(40).collect::<String>()
            ));
        }
        if self.keys.is_empty() || self.keys.len() > MAX_RING_KEYS {
            out.push(format!("keyring: holds {} keys (1..{MAX_RING_KEYS} allowed)", self.keys.len()));
        }
        let body =
            RingBody { format: self.format.clone(), since_seq: self.since_seq, keys: self.keys.clone() };
        match canonical_bytes(&body) {
            Err(e) => out.push(format!("keyring: cannot be serialised: {e}")),
            Ok(bytes) => {
                if let Err(e) = self.signature.verify(&bytes) {
                    out.push(format!(
                        "keyring: signature by key {}: {e} (the keyring was edited)",
                        self.signature.key_id
                    ));
                }
            }
        }
        if !self.holds(&self.signature.public_key) {
            out.push(format!("keyring: signed by key {}, which it does not hold", self.signature.key_id));
        }
        self.change_problems(&mut out);
        out
    }

    /// Reads a ring from JSON, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Keyring, RecordError> {
        let bad = |problem: String| RecordError::Malformed { what: "keyring".into(), problem };
        if bytes.len() > 64 * 1024 {
            return Err(bad("larger than 64 KiB".into()));
        }
        let ring: Keyring = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if ring.keys.len() > MAX_RING_KEYS || ring.changes.len() > MAX_RING_CHANGES {
            return Err(bad(format!("more than {MAX_RING_KEYS} keys or {MAX_RING_CHANGES} changes")));
        }
        Ok(ring)
    }

    /// The ring as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a keyring serialises")
    }
}

fn refused(problem: String) -> RecordError {
    RecordError::InvalidField { field: "keyring:".into(), problem }
}

fn key_id_of(public_key: &str) -> String {
    super::canonical::unhex::<32>(public_key)
        .map(|pk| super::sign::key_id(&pk))
        .unwrap_or_else(|| public_key.chars().take(16).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_verifies_and_an_edited_one_does_not() {
        let a = ServiceKey::from_seed([1; 32]);
        let b = ServiceKey::from_seed([2; 32]);
        let ring = Keyring::new(&a, 3).unwrap();
        assert!(ring.problems().is_empty(), "{:?}", ring.problems());
        assert!(ring.holds(&a.public_key_hex()) && !ring.holds(&b.public_key_hex()));
        let two = ring.with_key(&b).unwrap();
        assert!(two.problems().is_empty() && two.holds(&b.public_key_hex()));
        let mut edited = ring.clone();
        edited.since_seq = 99;
        assert!(!edited.problems().is_empty());
        let mut swapped = ring.clone();
        swapped.keys[0] = RingKey { key_id: b.key_id(), public_key: b.public_key_hex() };
        assert!(!swapped.problems().is_empty());
        let back = Keyring::from_json(ring.to_json().as_bytes()).unwrap();
        assert_eq!(back, ring);
        assert!(!ring.to_json().contains("changes"), "a ring without changes reads as before");
    }

    #[test]
    fn a_trusted_key_signs_from_its_change_on_and_a_revoked_one_only_before() {
        let a = ServiceKey::from_seed([1; 32]);
        let b = ServiceKey::from_seed([2; 32]);
        let ring = Keyring::new(&a, 1).unwrap().trust(&a, &b.public_key_hex(), 5).unwrap();
        assert!(ring.problems().is_empty(), "{:?}", ring.problems());
        assert_eq!(ring.standing(&b.public_key_hex(), 4), Standing::NotYet(5));
        assert_eq!(ring.standing(&b.public_key_hex(), 5), Standing::Trusted);
        let revoked = ring.revoke(&b, &a.public_key_hex(), 9).unwrap();
        assert!(revoked.problems().is_empty(), "{:?}", revoked.problems());
        assert_eq!(revoked.standing(&a.public_key_hex(), 8), Standing::Trusted);
        assert_eq!(revoked.standing(&a.public_key_hex(), 9), Standing::Revoked(9));
        assert!(
            revoked.trust(&a, &ServiceKey::from_seed([3; 32]).public_key_hex(), 9).is_err(),
            "a revoked key signed"
        );
        assert!(revoked.revoke(&b, &b.public_key_hex(), 9).is_err(), "the last key was revoked");
        assert!(revoked.trust(&b, &a.public_key_hex(), 10).is_err(), "a revoked key was trusted again");
        let back = Keyring::from_json(revoked.to_json().as_bytes()).unwrap();
        assert_eq!(back, revoked);
    }

    #[test]
    fn a_change_removed_edited_or_signed_by_an_outsider_is_named() {
        let a = ServiceKey::from_seed([1; 32]);
        let b = ServiceKey::from_seed([2; 32]);
        let c = ServiceKey::from_seed([3; 32]);
        let ring = Keyring::new(&a, 1).unwrap().trust(&a, &b.public_key_hex(), 3).unwrap();
        let ring =
            ring.trust(&b, &c.public_key_hex(), 4).unwrap().revoke(&a, &c.public_key_hex(), 6).unwrap();
        assert!(ring.problems().is_empty(), "{:?}", ring.problems());
        let mut removed = ring.clone();
        removed.changes.remove(1);
        assert!(
            removed.problems().iter().any(|p| p.contains("does not follow the one before")),
            "{:?}",
            removed.problems()
        );
        let mut edited = ring.clone();
        edited.changes[2].from_seq = 60;
        assert!(edited.problems().iter().any(|p| p.contains("edited")), "{:?}", edited.problems());
        // An outsider's change, correctly linked and signed by itself: its signer is named.
        let outsider = ServiceKey::from_seed([9; 32]);
        let base = Keyring::new(&a, 1).unwrap();
        let mut forged = base.clone();
        forged.keys.push(RingKey { key_id: outsider.key_id(), public_key: outsider.public_key_hex() });
        assert!(!forged.problems().is_empty(), "a key slipped into the signed keys");
        let mut forged = base.clone();
        let prev_sha256 = forged.head_sha256(0).unwrap();
        let (key_id, public_key) = (outsider.key_id(), outsider.public_key_hex());
        let body = ChangeBody {
            action: RingAction::Trust,
            key_id: &key_id,
            public_key: &public_key,
            from_seq: 2,
            prev_sha256: &prev_sha256,
        };
        let signature = outsider.sign(&canonical_bytes(&body).unwrap());
        forged.changes.push(RingChange {
            action: RingAction::Trust,
            key_id,
            public_key,
            from_seq: 2,
            prev_sha256,
            signature,
        });
        assert!(
            forged.problems().iter().any(|p| p.contains("did not trust then")),
            "{:?}",
            forged.problems()
        );
    }
}
