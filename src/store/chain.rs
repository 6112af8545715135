//! The chain check both backends share: every record's hash, canonical form, signature, chain
//! link and index columns, and each chain's recorded head, so that `claim verify` gives the same
//! answer whichever backend holds the records.
use std::collections::HashMap;

use super::trust::{KeyRule, TrustAnchors};
use super::{ChainCheck, StoreError};
use crate::record::canonical::sha256_hex;
use crate::record::{Keyring, Record, SealedRecord, GENESIS_SHA256};

/// One stored record as a backend reads it: the hashed bytes and the index columns beside them.
#[derive(Debug, Clone)]
pub(crate) struct IndexRow {
    pub seq: u64,
    pub sha256: String,
    pub prev_sha256: String,
    pub claim_id: String,
    pub revision: u32,
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub verdict: Option<String>,
    pub model: String,
    pub brand: String,
    pub serial: String,
    pub created_utc: String,
}

/// A walk over one or more chains in order; claims and their signers are followed across them.
#[derive(Default)]
pub(crate) struct ChainWalk {
    /// `""` for a store's single chain, else `"NAME:"` to prefix record positions.
    label: String,
    expected_seq: u64,
    prev: String,
    /// Each claim's latest revision seen and its hash.
    claims: HashMap<String, (u32, String)>,
    /// The key that signed each claim's first signed revision: once a claim is signed, its later
    /// revisions must be too, by the same key (a stripped or swapped signature is a change).
    signers: HashMap<String, (u32, String, String)>,
    /// The current chain's signature rule (its keyring and the shop's keys).
    rule: Option<KeyRule>,
}

impl ChainWalk {
    /// Starts a chain (`label` prefixes the record positions in messages; empty for a store's
    /// one chain) whose keyring is `ring`; the ring's own problems go into `check`.
    pub fn start_chain(
        &mut self,
        label: &str,
        ring: Result<Option<Keyring>, String>,
        anchors: &TrustAnchors,
        check: &mut ChainCheck,
    ) {
        self.label = label.to_string();
        self.expected_seq = 1;
        self.prev = GENESIS_SHA256.to_string();
        let whose = if label.is_empty() {
            "the store's".to_string()
        } else {
            format!("chain {}", label.trim_end_matches(':'))
        };
        let (rule, problems) = match ring {
            Ok(r) => KeyRule::new(r.as_ref(), anchors),
            Err(e) => (KeyRule::damaged(anchors), vec![format!("keyring is damaged: {e}")]),
        };
        check.problems.extend(problems.into_iter().map(|p| format!("{whose} {p}")));
        self.rule = Some(rule);
    }

    /// Checks the next record of the current chain.
    pub fn row(&mut self, row: &IndexRow, check: &mut ChainCheck) {
        let name = format!("record {}{} ({} revision {})", self.label, row.seq, row.claim_id, row.revision);
        check.records += 1;
        self.link_problems(row, &name, check);
        if sha256_hex(&row.body) != row.sha256 {
            check
                .problems
                .push(format!("{name}: content changed (does not match its SHA-256 {})", row.sha256));
        }
        match parse_row(row.seq, &row.sha256, &row.body, row.signature.as_deref()) {
            Err(e) => check.problems.push(format!("{name}: {e}")),
            Ok(sealed) => {
                for p in sealed.problems() {
                    if !p.starts_with("content was changed") {
                        check.problems.push(format!("{name}: {p}"));
                    }
                }
                index_problems(row, &sealed.record, &name, check);
                self.claim_problems(row, &sealed, &name, check);
                if let Some(p) =
                    self.rule.as_ref().and_then(|r| r.record_problem(row.seq, sealed.signature.as_ref()))
                {
                    check.problems.push(format!("{name}: {p}"));
                }
            }
        }
        self.prev = row.sha256.clone();
        self.expected_seq = row.seq + 1;
    }

    fn link_problems(&self, row: &IndexRow, name: &str, check: &mut ChainCheck) {
        if row.seq != self.expected_seq {
            check.problems.push(format!(
                "{name}: chain position {} follows {}; records {}..{} are missing",
                row.seq,
                self.expected_seq - 1,
                self.expected_seq,
                row.seq.saturating_sub(1)
            ));
        }
        if row.prev_sha256 != self.prev {
            check.problems.push(format!(
                "{name}: points at previous record {}, but the record before it is {} \
                 (a record was deleted, inserted or reordered)",
                row.prev_sha256, self.prev
            ));
        }
    }

    fn claim_problems(&mut self, row: &IndexRow, sealed: &SealedRecord, name: &str, check: &mut ChainCheck) {
        let id = &row.claim_id;
        let expect = self.claims.get(id).map_or((1, None), |(r, h)| (r + 1, Some(h.clone())));
        let links = sealed.record.supersedes.as_ref().map(|s| s.sha256.clone());
        if row.revision != expect.0 || links != expect.1 {
            check.problems.push(format!(
                "{name}: does not follow revision {} of its claim (a revision was deleted or reordered)",
                expect.0 - 1
            ));
        }
        match (self.signers.get(id), &sealed.signature) {
            (Some((rev, key_id, _)), None) => check.problems.push(format!(
                "{name}: unsigned, but revision {rev} of its claim is signed by key {key_id} \
                 (a signature was removed)"
            )),
            // Another key the chain trusts (a second technician in the keyring) may sign a
            // later revision; any other key is a swapped signature.
            (Some((rev, key_id, public)), Some(sig))
                if &sig.public_key != public
                    && !self.rule.as_ref().is_some_and(|r| r.trusts_at(&sig.public_key, row.seq)) =>
            {
                check.problems.push(format!(
                    "{name}: signed by key {}, but revision {rev} of its claim by key {key_id} \
                     (re-signed with another key)",
                    sig.key_id
                ))
            }
            (None, Some(sig)) => {
                self.signers.insert(id.clone(), (row.revision, sig.key_id.clone(), sig.public_key.clone()));
            }
            _ => {}
        }
        self.claims.insert(id.clone(), (row.revision, row.sha256.clone()));
    }

    /// Ends the current chain against its recorded head (`"SEQ SHA256"`, or `None` when the
    /// store records none); returns the hash of the chain's newest record.
    pub fn finish_chain(
        &self,
        recorded_head: Option<&str>,
        what: &str,
        check: &mut ChainCheck,
    ) -> Option<String> {
        let newest = self.expected_seq - 1;
        let actual = (newest > 0).then(|| format!("{newest} {}", self.prev));
        if recorded_head != actual.as_deref() {
            check.problems.push(format!(
                "{what} says {}, the newest record is {} (the newest records were removed)",
                recorded_head.unwrap_or("(none)"),
                actual.as_deref().unwrap_or("(none)")
            ));
        }
        (newest > 0).then(|| self.prev.clone())
    }
}

/// Every column that `claim list` shows or filters on, against the hashed record.
fn index_problems(row: &IndexRow, r: &Record, name: &str, check: &mut ChainCheck) {
    if r.seq != row.seq || r.prev_sha256 != row.prev_sha256 {
        check.problems.push(format!(
            "{name}: its content says chain position {} after {}, the store has it at {} after {} \
             (records reordered)",
            r.seq, r.prev_sha256, row.seq, row.prev_sha256
        ));
    }
    let differ: Vec<&str> = [
        ("claim id", r.claim_id.as_str() == row.claim_id),
        ("revision", r.revision == row.revision),
        ("brand", r.claim.brand == row.brand),
        ("model", r.claim.model == row.model),
        ("serial", r.claim.serial == row.serial),
        ("created_utc", r.created_utc == row.created_utc),
        ("verdict", r.verdict.as_ref().map(|v| &v.verdict) == row.verdict.as_ref()),
    ]
    .iter()
    .filter(|(_, same)| !same)
    .map(|(what, _)| *what)
    .collect();
    if !differ.is_empty() {
        check.problems.push(format!(
            "{name}: the index does not match the record's content ({} changed in the index)",
            differ.join(", ")
        ));
    }
}

/// Reads a stored record back: its bytes must parse as v1 and be exactly their canonical form.
pub(crate) fn parse_row(
    seq: u64,
    sha: &str,
    body: &[u8],
    sig: Option<&str>,
) -> Result<SealedRecord, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt { what: format!("record {seq}"), problem };
    let record: Record =
        serde_json::from_slice(body).map_err(|e| corrupt(format!("not a v1 record: {e}")))?;
    let signature = match sig {
        None => None,
        Some(s) => Some(serde_json::from_str(s).map_err(|e| corrupt(format!("damaged signature: {e}")))?),
    };
    let sealed = SealedRecord { record, sha256: sha.to_string(), signature };
    // The stored bytes must be exactly the canonical form of what they parse to.
    if sealed.canonical_bytes().map_err(|e| corrupt(e.to_string()))? != body {
        return Err(corrupt("stored bytes are not in canonical form (edited)".into()));
    }
    Ok(sealed)
}
