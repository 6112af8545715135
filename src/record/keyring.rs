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
//! everything but the signature.
use serde::{Deserialize, Serialize};

use super::canonical::canonical_bytes;
use super::sign::{RecordSignature, ServiceKey};
use super::RecordError;

/// The keyring format this program writes and reads.
pub const KEYRING_V1: &str = "tickproof-keyring-v1";

/// Most keys in a ring (bounds what is read from a store or an export).
pub const MAX_RING_KEYS: usize = 64;

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
    /// Signature by a key of the ring over the rest.
    pub signature: RecordSignature,
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
        Ok(Keyring { format: body.format, since_seq: body.since_seq, keys: body.keys, signature })
    }

    /// Whether `public_key` (hex) is in the ring.
    pub fn holds(&self, public_key: &str) -> bool {
        self.keys.iter().any(|k| k.public_key.eq_ignore_ascii_case(public_key))
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
        out
    }

    /// Reads a ring from JSON, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Keyring, RecordError> {
        let bad = |problem: String| RecordError::Malformed { what: "keyring".into(), problem };
        if bytes.len() > 64 * 1024 {
            return Err(bad("larger than 64 KiB".into()));
        }
        let ring: Keyring = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if ring.keys.len() > MAX_RING_KEYS {
            return Err(bad(format!("more than {MAX_RING_KEYS} keys")));
        }
        Ok(ring)
    }

    /// The ring as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a keyring serialises")
    }
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
    }
}
