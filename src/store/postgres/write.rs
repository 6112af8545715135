//! Writing records: the chain lock, a draft sealed in the registry, rows imported from a store.

use super::*;

/// Serialises the writers of one chain until the end of the transaction.
pub(super) fn lock_chain(tx: &mut impl GenericClient, chain_id: &str) -> Result<(), postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&chain_id]).map(|_| ())
}

pub(super) fn chain_head(
    c: &mut impl GenericClient,
    chain_id: &str,
) -> Result<Option<(u64, String)>, postgres::Error> {
    Ok(c.query_opt("SELECT head_seq, head_sha256 FROM chains WHERE chain_id = $1", &[&chain_id])?
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
}

impl PgStore {
    /// Adds records of chain `chain_id` sealed elsewhere, verbatim, in one transaction, with
    /// their receipts and the chain's keyring. Those the registry already holds at their place
    /// are skipped (a push repeated or resumed); each new one must parse, pass its own checks
    /// and continue the chain's head.
    pub(crate) fn import_rows(
        &self,
        chain_id: &str,
        rows: &[IndexRow],
        ring: Option<&Keyring>,
        receipts: &[Receipt],
    ) -> Result<usize, StoreError> {
        let pg = self.pg();
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(&pg)?;
        lock_chain(&mut tx, chain_id).map_err(&pg)?;
        let head = chain_head(&mut tx, chain_id).map_err(&pg)?.map_or(0, |h| h.0);
        let mut added = 0;
        for row in rows.iter().filter(|r| r.seq > head) {
            let sealed = parse_row(row.seq, &row.sha256, &row.body, row.signature.as_deref())?;
            if let Some(p) = sealed.problems().first() {
                return Err(StoreError::Corrupt {
                    what: format!("record {} of chain {chain_id}", row.seq),
                    problem: p.clone(),
                });
            }
            insert_row(&mut tx, chain_id, row, &sealed).map_err(|e| conflict_or(e, &sealed, &pg))?;
            added += 1;
        }
        let branch = rows.iter().find_map(|r| parse_row(r.seq, &r.sha256, &r.body, None).ok()?.record.branch);
        if let Some(ring) = ring {
            anchor::write_ring(&mut tx, chain_id, branch.as_deref(), ring).map_err(&pg)?;
        }
        for r in
            receipts.iter().filter(|r| rows.iter().any(|row| row.seq == r.body.head_seq && row.seq > head))
        {
            anchor::insert_receipt(&mut tx, chain_id, r).map_err(&pg)?;
        }
        tx.commit().map_err(&pg)?;
        Ok(added)
    }

    pub(super) fn append_in_registry(
        &self,
        mut draft: Draft,
        key: Option<&ServiceKey>,
    ) -> Result<SealedRecord, StoreError> {
        draft.claim.validate()?;
        for e in &draft.evidence {
            if !self.has_evidence(&e.sha256, e.size_bytes)? {
                return Err(StoreError::Corrupt {
                    what: e.name.clone(),
                    problem: "its evidence object is not in the registry; refusing to record it".into(),
                });
            }
        }
        let branch = self.branch()?;
        let pg = self.pg();
        let mut client = self.client.borrow_mut();
        let mine: Option<String> = client.query_one("SELECT tickproof_my_branch()", &[]).map_err(&pg)?.get(0);
        if mine.as_ref().is_some_and(|m| *m != branch) {
            return Err(StoreError::BadLocation {
                given: self.location.clone(),
                problem: format!(
                    "this role is a technician at branch {}; it cannot write records of branch {branch}",
                    mine.unwrap_or_default()
                ),
            });
        }
        let mut tx = client.transaction().map_err(&pg)?;
        let now = UtcTime::now();
        let (chain_id, claim_id, revision, supersedes) = match draft.claim_id.take() {
            None => {
                let chain_id = format!("branch-{branch}");
                lock_chain(&mut tx, &chain_id).map_err(&pg)?;
                let max: Option<String> = tx
                    .query_one(
                        "SELECT max(claim_id) FROM records WHERE claim_id LIKE $1",
                        &[&claim_id_pattern(now.date(), Some(&branch))],
                    )
                    .map_err(&pg)?
                    .get(0);
                let next = max.as_deref().and_then(|m| ClaimId::parse(m).ok()).map_or(1, |m| m.seq() + 1);
                (chain_id, ClaimId::new_at(now.date(), next, Some(&branch))?, 1, None)
            }
            Some(id) => {
                let not_found = || StoreError::NotFound { what: format!("claim {id}") };
                let chain_id: String = tx
                    .query_opt(
                        "SELECT chain_id FROM records WHERE claim_id = $1 AND revision = 1",
                        &[&id.as_str()],
                    )
                    .map_err(&pg)?
                    .ok_or_else(not_found)?
                    .get(0);
                lock_chain(&mut tx, &chain_id).map_err(&pg)?;
                let last = tx
                    .query_one(
                        "SELECT revision, sha256 FROM records WHERE claim_id = $1 ORDER BY revision DESC LIMIT 1",
                        &[&id.as_str()],
                    )
                    .map_err(&pg)?;
                let rev = last.get::<_, i32>(0) as u32;
                (chain_id, id, rev + 1, Some(Supersedes { revision: rev, sha256: last.get(1) }))
            }
        };
        let (seq, prev_sha256) = chain_head(&mut tx, &chain_id)
            .map_err(&pg)?
            .map_or((1, GENESIS_SHA256.to_string()), |(s, h)| (s + 1, h));
        let ring = anchor::read_ring(&mut tx, &chain_id)
            .map_err(&pg)?
            .map_err(|p| StoreError::Corrupt { what: format!("chain {chain_id}'s keyring"), problem: p })?;
        let new_ring = ring_for_append(ring.as_ref(), key, seq, &self.opts.anchors, &self.location)?;
        let placement =
            Placement { claim_id, revision, supersedes, seq, prev_sha256, branch: Some(branch.clone()) };
        let sealed = SealedRecord::seal(draft.into_record(placement, &now), key)?;
        let row = IndexRow {
            seq,
            sha256: sealed.sha256.clone(),
            prev_sha256: sealed.record.prev_sha256.clone(),
            claim_id: sealed.record.claim_id.to_string(),
            revision,
            body: sealed.canonical_bytes()?,
            signature: sealed
                .signature
                .as_ref()
                .map(|s| serde_json::to_string(s).expect("signature serialises")),
            verdict: None,
            model: String::new(),
            brand: String::new(),
            serial: String::new(),
            created_utc: String::new(),
        };
        insert_row(&mut tx, &chain_id, &row, &sealed).map_err(&pg)?;
        if let Some(ring) = &new_ring {
            anchor::write_ring(&mut tx, &chain_id, Some(&branch), ring).map_err(&pg)?;
        }
        anchor::insert_receipt(&mut tx, &chain_id, &receipt_of(&sealed, key)?).map_err(&pg)?;
        tx.commit().map_err(&pg)?;
        Ok(sealed)
    }
}

/// A claim id the registry already holds from another chain, named; any other error as it is.
pub(super) fn conflict_or(
    e: postgres::Error,
    sealed: &SealedRecord,
    pg: &dyn Fn(postgres::Error) -> StoreError,
) -> StoreError {
    let taken = e.as_db_error().is_some_and(|d| {
        *d.code() == postgres::error::SqlState::UNIQUE_VIOLATION
            && d.constraint() == Some("records_claim_id_revision_key")
    });
    if !taken {
        return pg(e);
    }
    StoreError::Conflict {
        what: format!("claim {} revision {}", sealed.record.claim_id, sealed.record.revision),
        problem: "the registry already holds this claim id from another chain (the branch numbered claims \
                  both offline and in the registry on the same day); this batch was not pushed"
            .into(),
    }
}

/// Inserts one sealed record (index columns from its content; the trigger checks the link).
pub(super) fn insert_row(
    tx: &mut impl GenericClient,
    chain_id: &str,
    row: &IndexRow,
    sealed: &SealedRecord,
) -> Result<(), postgres::Error> {
    let r = &sealed.record;
    tx.execute(
        "INSERT INTO records (chain_id, seq, sha256, prev_sha256, claim_id, revision, branch, created_utc,
                              brand, model, serial, verdict, body, signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &chain_id,
            &(row.seq as i64),
            &row.sha256,
            &row.prev_sha256,
            &r.claim_id.as_str(),
            &(r.revision as i32),
            &r.branch,
            &r.created_utc,
            &r.claim.brand,
            &r.claim.model,
            &r.claim.serial,
            &r.verdict.as_ref().map(|v| v.verdict.clone()),
            &row.body,
            &row.signature,
        ],
    )
    .map(|_| ())
}
