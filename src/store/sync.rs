//! `store push` and `store pull`: records copied between a SQLite store and a registry hash for
//! hash (bytes, signature, chain link unchanged), evidence with them.
//!
//! * **Push** sends a store's chain to the registry under the store's chain id, in batches of
//!   [`PUSH_BATCH`] records, each batch one transaction after its evidence. Records the registry
//!   already holds are skipped, so a push repeated, or resumed after an interruption (a lost
//!   connection, a server restart), ends with the registry holding exactly the store's chain.
//! * **Pull** copies a claim back for a dispute at another branch: the chain that holds it, up to
//!   its latest revision, so that the copy verifies on its own (chain, hashes, signatures). The
//!   destination must be empty, or a copy of that same chain (then only what is new is pulled).
use std::fs::File;
use std::path::Path;

use super::chain::{parse_row, IndexRow};
use super::{ClaimStore, PgStore, Store, StoreError};
use crate::record::ClaimId;

/// Records per push transaction.
pub const PUSH_BATCH: usize = 16;

/// What a push or a pull did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// The chain copied.
    pub chain_id: String,
    /// Records copied now.
    pub records_copied: usize,
    /// Records the destination already held.
    pub records_present: u64,
    /// Evidence objects copied now.
    pub evidence_copied: usize,
}

/// Pushes `local`'s chain to `registry` (see the module notes).
pub fn push(local: &mut Store, registry: &PgStore) -> Result<SyncReport, StoreError> {
    let chain_id = local.chain_id()?;
    let present = match registry.head_of(&chain_id)? {
        None => 0,
        Some((seq, sha)) => {
            let mine = local.rows_after(seq.saturating_sub(1))?;
            if mine.first().map(|r| (r.seq, &r.sha256)) != Some((seq, &sha)) {
                return Err(StoreError::Corrupt {
                    what: format!("chain {chain_id}"),
                    problem: format!(
                        "the registry holds record {seq} ({sha}) that this store does not: \
                         the two copies of the chain differ; nothing was pushed"
                    ),
                });
            }
            seq
        }
    };
    let rows = local.rows_after(present)?;
    let ring = local.keyring()?;
    let mut report = SyncReport {
        chain_id: chain_id.clone(),
        records_copied: 0,
        records_present: present,
        evidence_copied: 0,
    };
    for batch in rows.chunks(PUSH_BATCH) {
        for row in batch {
            report.evidence_copied += push_evidence(local, registry, row)?;
        }
        let upto = batch.last().map_or(0, |r| r.seq);
        let after = batch.first().map_or(0, |r| r.seq.saturating_sub(1));
        let receipts = local.receipts_between(after, upto)?;
        report.records_copied += registry.import_rows(&chain_id, batch, ring.as_ref(), &receipts)?;
    }
    Ok(report)
}

fn push_evidence(local: &Store, registry: &PgStore, row: &IndexRow) -> Result<usize, StoreError> {
    let sealed = parse_row(row.seq, &row.sha256, &row.body, row.signature.as_deref())?;
    let mut copied = 0;
    for e in &sealed.record.evidence {
        if registry.has_evidence(&e.sha256, e.size_bytes)? {
            continue;
        }
        local
            .check_object(e)
            .map_err(|p| StoreError::Corrupt { what: format!("record {}", row.seq), problem: p })?;
        let path = local.object_path(&e.sha256);
        let mut f = File::open(&path).map_err(|err| StoreError::Io { path: path.clone(), source: err })?;
        let stored = registry.put_evidence_from(&mut f, Path::new(&e.name))?;
        if stored.sha256 != e.sha256 {
            return Err(StoreError::Corrupt {
                what: e.name.clone(),
                problem: format!(
                    "changed while being pushed (SHA-256 {}, recorded {})",
                    stored.sha256, e.sha256
                ),
            });
        }
        copied += 1;
    }
    Ok(copied)
}

/// Pulls claim `id` from `registry` into `local` (see the module notes).
pub fn pull(registry: &PgStore, local: &mut Store, id: &ClaimId) -> Result<SyncReport, StoreError> {
    let (chain_id, upto) = registry.claim_chain(id)?;
    let present = local.head()?.map_or(0, |h| h.0);
    let rows = if present >= upto { Vec::new() } else { registry.rows_between(&chain_id, present, upto)? };
    let mut report = SyncReport {
        chain_id: chain_id.clone(),
        records_copied: 0,
        records_present: present,
        evidence_copied: 0,
    };
    if present > 0 && local.known_chain_id()?.as_deref() != Some(chain_id.as_str()) {
        return Err(StoreError::BadLocation {
            given: local.dir().display().to_string(),
            problem: format!("holds another chain than {chain_id}; pull into an empty store"),
        });
    }
    for row in &rows {
        let sealed = parse_row(row.seq, &row.sha256, &row.body, row.signature.as_deref())?;
        for e in &sealed.record.evidence {
            if local.has_evidence(&e.sha256, e.size_bytes)? {
                continue;
            }
            let mut reader = registry.chunk_reader(&e.sha256)?;
            let stored = local.put_evidence(&mut reader, Path::new(&e.name))?;
            if stored.sha256 != e.sha256 || stored.size_bytes != e.size_bytes {
                return Err(StoreError::Corrupt {
                    what: e.name.clone(),
                    problem: format!(
                        "the registry's copy has SHA-256 {}, recorded {}",
                        stored.sha256, e.sha256
                    ),
                });
            }
            report.evidence_copied += 1;
        }
    }
    let ring = registry.chain_keyring(&chain_id)?;
    let receipts = registry.receipts_between(&chain_id, present, upto)?;
    local.import_rows(&chain_id, &rows, ring.as_ref(), &receipts)?;
    report.records_copied = rows.len();
    Ok(report)
}
