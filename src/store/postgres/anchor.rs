//! What anchors each chain of the registry: its keyring (table `keyrings`) and the head receipts
//! issued with its records (table `receipts`, append-only); schema version 2.
use postgres::GenericClient;

use super::PgStore;
use crate::record::{ClaimId, Keyring, Receipt};
use crate::store::StoreError;

/// A chain's keyring: `Ok(None)` when it has none, `Ok(Err(problem))` when it is damaged.
pub(super) fn read_ring(
    c: &mut impl GenericClient,
    chain_id: &str,
) -> Result<Result<Option<Keyring>, String>, postgres::Error> {
    let row = c.query_opt("SELECT body FROM keyrings WHERE chain_id = $1", &[&chain_id])?;
    Ok(match row {
        None => Ok(None),
        Some(r) => Keyring::from_json(r.get::<_, String>(0).as_bytes()).map(Some).map_err(|e| e.to_string()),
    })
}

/// Stores a chain's keyring (new, or with a key added).
pub(super) fn write_ring(
    c: &mut impl GenericClient,
    chain_id: &str,
    branch: Option<&str>,
    ring: &Keyring,
) -> Result<(), postgres::Error> {
    c.execute(
        "INSERT INTO keyrings (chain_id, branch, body) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id) DO UPDATE SET body = excluded.body",
        &[&chain_id, &branch, &ring.to_json()],
    )
    .map(|_| ())
}

/// Stores a receipt of chain `chain_id` (one already there is left as it is).
pub(super) fn insert_receipt(
    c: &mut impl GenericClient,
    chain_id: &str,
    r: &Receipt,
) -> Result<(), postgres::Error> {
    c.execute(
        "INSERT INTO receipts (sha256, chain_id, head_seq, claim_id, revision, branch, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        &[
            &r.sha256(),
            &chain_id,
            &(r.body.head_seq as i64),
            &r.body.claim_id,
            &(r.body.revision as i32),
            &r.body.branch,
            &r.to_json(),
        ],
    )
    .map(|_| ())
}

impl PgStore {
    fn receipt_where(
        &self,
        condition: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<Receipt>, StoreError> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(&format!("SELECT body FROM receipts WHERE {condition}"), params)
            .map_err(self.pg())?;
        row.map(|r| {
            Receipt::from_json(r.get::<_, String>(0).as_bytes()).map_err(|e| StoreError::Corrupt {
                what: format!("{}: a stored receipt", self.location),
                problem: e.to_string(),
            })
        })
        .transpose()
    }

    /// The keyring of chain `chain_id` (`None`: unsigned).
    pub fn chain_keyring(&self, chain_id: &str) -> Result<Option<Keyring>, StoreError> {
        read_ring(&mut *self.client.borrow_mut(), chain_id)
            .map_err(self.pg())?
            .map_err(|p| StoreError::Corrupt { what: format!("chain {chain_id}'s keyring"), problem: p })
    }

    /// The receipt issued with revision `revision` of claim `id`.
    pub(super) fn receipt_of_revision(
        &self,
        id: &ClaimId,
        revision: u32,
    ) -> Result<Option<Receipt>, StoreError> {
        self.receipt_where("claim_id = $1 AND revision = $2", &[&id.as_str(), &(revision as i32)])
    }

    /// The receipt with this hash.
    pub(super) fn receipt_with_hash(&self, sha256: &str) -> Result<Option<Receipt>, StoreError> {
        self.receipt_where("sha256 = $1", &[&sha256])
    }

    /// The receipts of chain `chain_id` for positions `after+1 ..= upto`, oldest first.
    pub(crate) fn receipts_between(
        &self,
        chain_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<Receipt>, StoreError> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT body FROM receipts WHERE chain_id = $1 AND head_seq > $2 AND head_seq <= $3 ORDER BY head_seq",
                &[&chain_id, &(after as i64), &(upto as i64)],
            )
            .map_err(self.pg())?;
        rows.iter()
            .map(|r| {
                Receipt::from_json(r.get::<_, String>(0).as_bytes()).map_err(|e| StoreError::Corrupt {
                    what: format!("chain {chain_id}: a receipt"),
                    problem: e.to_string(),
                })
            })
            .collect()
    }

    /// Whether any chain holds a record with hash `sha256` at position `seq`.
    pub(super) fn has_record(&self, seq: u64, sha256: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT count(*) FROM records WHERE seq = $1 AND sha256 = $2",
                &[&(seq as i64), &sha256],
            )
            .map_err(self.pg())?
            .get(0);
        Ok(n > 0)
    }
}
