//! Head receipts: what a store hands out with every record it writes, so that a dispute can
//! prove later that the store still holds everything up to that record.
//!
//! # Format `tickproof-receipt-v1`
//!
//! A receipt is one JSON object:
//!
//! | field | meaning |
//! |---|---|
//! | `format` | `"tickproof-receipt-v1"` |
//! | `claim_id`, `revision` | the revision just written |
//! | `branch` | the branch that wrote it (`null` when none) |
//! | `head_seq`, `head_sha256` | the chain's head after the write: that revision's place and hash |
//! | `issued_utc` | when (RFC 3339, UTC) |
//! | `signature` | Ed25519 signature (as on records) over the canonical bytes of every other field; `null` when the record was written unsigned |
//!
//! The receipt's **hash** is the SHA-256 (hex) of the canonical bytes of the whole object,
//! signature included (keys sorted, no whitespace; see [`super::canonical`]). The hash is
//! printed by `claim new` and `claim measure`, kept in the store beside the record, and named
//! in the customer's report. `claim verify --receipt FILE|HASH` checks that the store (or an
//! export) still holds the record at `head_seq` with `head_sha256`, with an intact chain
//! before it. A later format gets a new `format` string; readers refuse formats they do not know.
use serde::{Deserialize, Serialize};

use super::canonical::{canonical_bytes, is_sha256_hex, sha256_hex};
use super::sign::{RecordSignature, ServiceKey};
use super::RecordError;

/// The receipt format this program writes and reads.
pub const RECEIPT_V1: &str = "tickproof-receipt-v1";

/// Largest receipt file read, bytes.
pub const MAX_RECEIPT_BYTES: u64 = 16 * 1024;

/// What a receipt's signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    /// Always [`RECEIPT_V1`].
    pub format: String,
    /// The claim written.
    pub claim_id: String,
    /// Its revision.
    pub revision: u32,
    /// The branch that wrote it.
    pub branch: Option<String>,
    /// The chain's head after the write: the record's position.
    pub head_seq: u64,
    /// The head's hash: the record's SHA-256.
    pub head_sha256: String,
    /// When the receipt was issued (UTC).
    pub issued_utc: String,
}

/// A head receipt (see the module notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// What is signed.
    pub body: ReceiptBody,
    /// The signature over the body, when the record was signed.
    pub signature: Option<RecordSignature>,
}

/// A receipt as written: the body's fields and the signature side by side.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptFile {
    format: String,
    claim_id: String,
    revision: u32,
    branch: Option<String>,
    head_seq: u64,
    head_sha256: String,
    issued_utc: String,
    signature: Option<RecordSignature>,
}

impl Serialize for Receipt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.body.clone();
        ReceiptFile {
            format: b.format,
            claim_id: b.claim_id,
            revision: b.revision,
            branch: b.branch,
            head_seq: b.head_seq,
            head_sha256: b.head_sha256,
            issued_utc: b.issued_utc,
            signature: self.signature.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Receipt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = ReceiptFile::deserialize(d)?;
        let body = ReceiptBody {
            format: f.format,
            claim_id: f.claim_id,
            revision: f.revision,
            branch: f.branch,
            head_seq: f.head_seq,
            head_sha256: f.head_sha256,
            issued_utc: f.issued_utc,
        };
        Ok(Receipt { body, signature: f.signature })
    }
}

impl Receipt {
    /// A receipt for `body`, signed with `key` when there is one.
    pub fn issue(body: ReceiptBody, key: Option<&ServiceKey>) -> Result<Receipt, RecordError> {
        let signature = match key {
            Some(k) => Some(k.sign(&canonical_bytes(&body)?)),
            None => None,
        };
        Ok(Receipt { body, signature })
    }

    /// The receipt's hash: SHA-256 of its canonical bytes, signature included.
    pub fn sha256(&self) -> String {
        sha256_hex(&canonical_bytes(self).expect("a receipt serialises"))
    }

    /// What is wrong with the receipt itself (format, fields, signature); empty when sound.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let b = &self.body;
        if b.format != RECEIPT_V1 {
            out.push(format!("unknown receipt format '{}'", b.format.chars().take(40).collect::<String>()));
        }
        if !is_sha256_hex(&b.head_sha256) || b.head_seq == 0 {
            out.push("names no record (head_seq, head_sha256)".into());
        }
        if let Some(sig) = &self.signature {
            match canonical_bytes(b) {
                Err(e) => out.push(format!("cannot be serialised: {e}")),
                Ok(bytes) => {
                    if let Err(e) = sig.verify(&bytes) {
                        out.push(format!("signature by key {}: {e} (the receipt was edited)", sig.key_id));
                    }
                }
            }
        }
        out
    }

    /// Reads a receipt from JSON, bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<Receipt, RecordError> {
        let bad = |problem: String| RecordError::Malformed { what: "receipt".into(), problem };
        if bytes.len() as u64 > MAX_RECEIPT_BYTES {
            return Err(bad(format!("larger than {MAX_RECEIPT_BYTES} bytes")));
        }
        serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))
    }

    /// The receipt as one line of JSON (what is stored and printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a receipt serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> ReceiptBody {
        ReceiptBody {
            format: RECEIPT_V1.into(),
            claim_id: "C-20260101-0001".into(),
            revision: 1,
            branch: None,
            head_seq: 1,
            head_sha256: "ab".repeat(32),
            issued_utc: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_signed_receipt_verifies_its_hash_covers_the_signature_and_an_edit_is_named() {
        let k = ServiceKey::from_seed([5; 32]);
        let r = Receipt::issue(body(), Some(&k)).unwrap();
        assert!(r.problems().is_empty(), "{:?}", r.problems());
        let unsigned = Receipt::issue(body(), None).unwrap();
        assert_ne!(r.sha256(), unsigned.sha256());
        let back = Receipt::from_json(r.to_json().as_bytes()).unwrap();
        assert_eq!(back.sha256(), r.sha256());
        let mut edited = r.clone();
        edited.body.head_seq = 2;
        assert!(edited.problems().iter().any(|p| p.contains("edited")));
        assert!(Receipt::from_json(b"{\"format\":1}").is_err());
    }
}
