//! The SQLite store's side of copying records verbatim (`store push`, `store pull`) and its
//! implementation of the store interface.
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use super::{index_row, sql_error, Store};
use crate::record::canonical::{hex, is_sha256_hex};
use crate::record::{ClaimId, Evidence, SealedRecord, ServiceKey, GENESIS_SHA256};
use crate::store::chain::{parse_row, IndexRow};
use crate::store::{
    ChainCheck, ChainLink, ClaimSummary, Draft, Limits, ListFilter, StoreError, StoredObject,
};

impl Store {
    /// The id of this store's chain, made (random, 128 bits) the first time it is asked for:
    /// how a registry tells this store's chain from every other branch's.
    pub fn chain_id(&mut self) -> Result<String, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let found: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'chain'", [], |r| r.get(0))
            .optional()
            .map_err(sql)?;
        let id = match found {
            Some(id) => id,
            None => {
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes).map_err(|e| StoreError::Io {
                    path: self.db_path.clone(),
                    source: io::Error::other(format!("no randomness for a chain id: {e}")),
                })?;
                let id = format!("store-{}", hex(&bytes));
                tx.execute("INSERT INTO meta (key, value) VALUES ('chain', ?1)", params![id]).map_err(sql)?;
                id
            }
        };
        tx.commit().map_err(sql)?;
        Ok(id)
    }

    /// The chain id this store holds, if it was ever given one (by a push or a pull).
    pub fn known_chain_id(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'chain'", [], |r| r.get(0))
            .optional()
            .map_err(|e| sql_error(&self.db_path, e))
    }

    /// The records after chain position `after`, oldest first, exactly as stored.
    pub(crate) fn rows_after(&self, after: u64) -> Result<Vec<IndexRow>, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, sha256, prev_sha256, claim_id, revision, body, signature, verdict, model,
                        brand, serial, created_utc
                 FROM records WHERE seq > ?1 ORDER BY seq",
            )
            .map_err(sql)?;
        let rows = stmt.query_map(params![after as i64], index_row).map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    /// The receipts issued for chain positions `after+1 ..= upto`, oldest first.
    pub(crate) fn receipts_between(
        &self,
        after: u64,
        upto: u64,
    ) -> Result<Vec<crate::record::Receipt>, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM receipts WHERE head_seq > ?1 AND head_seq <= ?2 ORDER BY head_seq")
            .map_err(sql)?;
        let rows =
            stmt.query_map(params![after as i64, upto as i64], |r| r.get::<_, String>(0)).map_err(sql)?;
        let mut out = Vec::new();
        for text in rows {
            let text = text.map_err(sql)?;
            out.push(crate::record::Receipt::from_json(text.as_bytes()).map_err(|e| {
                StoreError::Corrupt {
                    what: format!("{}: a stored receipt", self.db_path.display()),
                    problem: e.to_string(),
                }
            })?);
        }
        Ok(out)
    }

    /// The newest record's position and hash (`None` for an empty store).
    pub fn head(&self) -> Result<Option<(u64, String)>, StoreError> {
        self.conn
            .query_row("SELECT seq, sha256 FROM records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .optional()
            .map_err(|e| sql_error(&self.db_path, e))
    }

    /// Adds records copied from another store of chain `chain_id`, verbatim (bytes, hash,
    /// signature), in one transaction. Each must parse, be canonical, and continue this store's
    /// chain; the store must be empty or already hold that chain.
    pub(crate) fn import_rows(
        &mut self,
        chain_id: &str,
        rows: &[IndexRow],
        ring: Option<&crate::record::Keyring>,
        receipts: &[crate::record::Receipt],
    ) -> Result<(), StoreError> {
        let db = self.db_path.clone();
        let sql = |e| sql_error(&db, e);
        let known = self.known_chain_id()?;
        let head = self.head()?;
        if head.is_some() && known.as_deref() != Some(chain_id) {
            return Err(StoreError::BadLocation {
                given: self.dir.display().to_string(),
                problem: format!("holds another chain than {chain_id}; pull into an empty store"),
            });
        }
        let (mut seq, mut prev) = head.unwrap_or((0, GENESIS_SHA256.to_string()));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        for row in rows {
            let sealed = parse_row(row.seq, &row.sha256, &row.body, row.signature.as_deref())?;
            if row.seq != seq + 1 || row.prev_sha256 != prev || !sealed.problems().is_empty() {
                return Err(StoreError::Corrupt {
                    what: format!("record {} of chain {chain_id}", row.seq),
                    problem: format!(
                        "does not continue this store's chain after record {seq} or fails its own checks"
                    ),
                });
            }
            let r = &sealed.record;
            super::insert_record_row(
                &tx,
                row.seq,
                &row.sha256,
                &row.prev_sha256,
                r,
                &row.body,
                row.signature.as_deref(),
            )
            .map_err(sql)?;
            (seq, prev) = (row.seq, row.sha256.clone());
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('head', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![format!("{seq} {prev}")],
        )
        .map_err(sql)?;
        tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('chain', ?1)", params![chain_id])
            .map_err(sql)?;
        if let Some(ring) = ring {
            super::anchor::write_ring(&tx, ring).map_err(sql)?;
        }
        for r in receipts {
            super::anchor::insert_receipt(&tx, r).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }
}

impl crate::store::ClaimStore for Store {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn store_limits(&self) -> Limits {
        self.opts.limits
    }

    fn put_evidence_from(&self, reader: &mut dyn Read, label: &Path) -> Result<StoredObject, StoreError> {
        self.put_evidence(reader, label)
    }

    fn has_evidence(&self, sha256: &str, size_bytes: u64) -> Result<bool, StoreError> {
        Ok(is_sha256_hex(sha256)
            && fs::metadata(self.object_path(sha256)).is_ok_and(|m| m.len() == size_bytes))
    }

    fn read_evidence(&self, sha256: &str, out: &mut dyn io::Write) -> Result<u64, StoreError> {
        let path = self.object_path(sha256);
        let mut f = File::open(&path).map_err(|e| StoreError::Io { path: path.clone(), source: e })?;
        io::copy(&mut f, out).map_err(|e| StoreError::Io { path, source: e })
    }

    fn evidence_file(&self, sha256: &str) -> Result<crate::store::LocalEvidence, StoreError> {
        Ok(crate::store::LocalEvidence::in_place(self.object_path(sha256)))
    }

    fn check_evidence(&self, e: &Evidence) -> Result<(), String> {
        self.check_object(e)
    }

    fn append_draft(&mut self, draft: Draft, key: Option<&ServiceKey>) -> Result<SealedRecord, StoreError> {
        self.append(draft, key)
    }

    fn get_record(&self, id: &ClaimId, revision: Option<u32>) -> Result<SealedRecord, StoreError> {
        self.get(id, revision)
    }

    fn claim_revisions(&self, id: &ClaimId) -> Result<Vec<SealedRecord>, StoreError> {
        self.revisions(id)
    }

    fn list_claims(&self, filter: &ListFilter) -> Result<Vec<ClaimSummary>, StoreError> {
        self.list(filter)
    }

    fn verify_chain_with(&self, anchors: &crate::store::TrustAnchors) -> Result<ChainCheck, StoreError> {
        self.check_chain_with(anchors)
    }

    fn keyring_for(&self, _id: &ClaimId) -> Result<Option<crate::record::Keyring>, StoreError> {
        self.keyring()
    }

    fn receipt_for(&self, id: &ClaimId, revision: u32) -> Result<Option<crate::record::Receipt>, StoreError> {
        self.receipt(id, revision)
    }

    fn receipt_by_hash(&self, sha256: &str) -> Result<Option<crate::record::Receipt>, StoreError> {
        self.receipt_with_hash(sha256)
    }

    fn holds_record(&self, seq: u64, sha256: &str) -> Result<bool, StoreError> {
        self.has_record(seq, sha256)
    }

    fn links_for(&self, _id: &ClaimId) -> Result<Vec<ChainLink>, StoreError> {
        self.chain_links()
    }
}
