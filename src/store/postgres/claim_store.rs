//! The registry as a [`ClaimStore`].

use super::*;

impl ClaimStore for PgStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn store_limits(&self) -> Limits {
        self.opts.limits
    }

    fn put_evidence_from(&self, reader: &mut dyn Read, label: &Path) -> Result<StoredObject, StoreError> {
        self.put_chunks(reader, label)
    }

    fn has_evidence(&self, sha256: &str, size_bytes: u64) -> Result<bool, StoreError> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT size_bytes FROM evidence WHERE sha256 = $1", &[&sha256])
            .map_err(self.pg())?;
        Ok(is_sha256_hex(sha256) && row.is_some_and(|r| r.get::<_, i64>(0) as u64 == size_bytes))
    }

    fn read_evidence(&self, sha256: &str, out: &mut dyn Write) -> Result<u64, StoreError> {
        let mut r = self.chunk_reader(sha256)?;
        io::copy(&mut r, out)
            .map_err(|e| StoreError::Io { path: format!("evidence object {sha256}").into(), source: e })
    }

    fn evidence_file(&self, sha256: &str) -> Result<LocalEvidence, StoreError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "tickproof-{}-{}-{}.evidence",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            &sha256[..sha256.len().min(16)]
        );
        let path = std::env::temp_dir().join(name);
        let io_err = |e| StoreError::Io { path: path.clone(), source: e };
        let mut f = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io_err)?
        };
        let local = LocalEvidence::temporary(path.clone());
        self.read_evidence(sha256, &mut f)?;
        f.sync_all().map_err(io_err)?;
        Ok(local)
    }

    fn check_evidence(&self, e: &Evidence) -> Result<(), String> {
        let mut r = self
            .chunk_reader(&e.sha256)
            .map_err(|err| format!("{}: missing from the registry ({err})", e.name))?;
        let recorded = r.size;
        let (sha, size) = hash_reader(&mut r).map_err(|err| format!("{}: cannot be read ({err})", e.name))?;
        if sha != e.sha256 {
            return Err(format!("{}: content changed (SHA-256 {sha}, recorded {})", e.name, e.sha256));
        }
        if size != e.size_bytes || size != recorded {
            return Err(format!("{}: size {size} bytes, recorded {}", e.name, e.size_bytes));
        }
        Ok(())
    }

    fn append_draft(&mut self, draft: Draft, key: Option<&ServiceKey>) -> Result<SealedRecord, StoreError> {
        self.append_in_registry(draft, key)
    }

    fn get_record(&self, id: &ClaimId, revision: Option<u32>) -> Result<SealedRecord, StoreError> {
        let all = self.records_where("claim_id = $1", &[&id.as_str()])?;
        let found = match revision {
            None => all.last().cloned(),
            Some(r) => all.into_iter().find(|s| s.record.revision == r),
        };
        found.ok_or_else(|| StoreError::NotFound {
            what: match revision {
                None => format!("claim {id}"),
                Some(r) => format!("claim {id} revision {r}"),
            },
        })
    }

    fn claim_revisions(&self, id: &ClaimId) -> Result<Vec<SealedRecord>, StoreError> {
        let all = self.records_where("claim_id = $1", &[&id.as_str()])?;
        if all.is_empty() {
            return Err(StoreError::NotFound { what: format!("claim {id}") });
        }
        Ok(all)
    }

    fn list_claims(&self, filter: &ListFilter) -> Result<Vec<ClaimSummary>, StoreError> {
        let since = filter.since.map(|d| format!("{}T00:00:00Z", d.iso()));
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT r.claim_id, r.revision, f.created_utc, r.created_utc, r.brand, r.model, r.serial, r.verdict
                 FROM records r JOIN records f ON f.claim_id = r.claim_id AND f.revision = 1
                 WHERE r.revision = (SELECT max(revision) FROM records x WHERE x.claim_id = r.claim_id)
                   AND ($1::text IS NULL OR f.created_utc >= $1)
                   AND ($2::text IS NULL OR r.verdict = $2)
                   AND ($3::text IS NULL OR lower(r.model) = lower($3))
                 ORDER BY r.claim_id DESC",
                &[&since, &filter.verdict, &filter.model],
            )
            .map_err(self.pg())?;
        Ok(rows
            .iter()
            .map(|r| ClaimSummary {
                id: r.get(0),
                revision: r.get::<_, i32>(1) as u32,
                opened_utc: r.get(2),
                updated_utc: r.get(3),
                brand: r.get(4),
                model: r.get(5),
                serial: r.get(6),
                verdict: r.get(7),
            })
            .collect())
    }

    fn verify_chain_with(&self, anchors: &TrustAnchors) -> Result<ChainCheck, StoreError> {
        self.walk_chains(anchors)
    }

    fn keyring_for(&self, id: &ClaimId) -> Result<Option<Keyring>, StoreError> {
        let (chain_id, _) = self.claim_chain(id)?;
        self.chain_keyring(&chain_id)
    }

    fn receipt_for(&self, id: &ClaimId, revision: u32) -> Result<Option<Receipt>, StoreError> {
        self.receipt_of_revision(id, revision)
    }

    fn receipt_by_hash(&self, sha256: &str) -> Result<Option<Receipt>, StoreError> {
        self.receipt_with_hash(sha256)
    }

    fn holds_record(&self, seq: u64, sha256: &str) -> Result<bool, StoreError> {
        self.has_record(seq, sha256)
    }

    fn links_for(&self, id: &ClaimId) -> Result<Vec<ChainLink>, StoreError> {
        let (chain_id, _) = self.claim_chain(id)?;
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT seq, sha256, prev_sha256 FROM records WHERE chain_id = $1 ORDER BY seq",
                &[&chain_id],
            )
            .map_err(self.pg())?;
        Ok(rows
            .iter()
            .map(|r| ChainLink { seq: r.get::<_, i64>(0) as u64, sha256: r.get(1), prev_sha256: r.get(2) })
            .collect())
    }
}
