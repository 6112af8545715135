//! Reading the records table: its index columns, a claim's chain, a chain's rows and head.

use super::write::chain_head;
use super::*;

pub(super) const ROW_COLUMNS: &str =
    "seq, sha256, prev_sha256, claim_id, revision, body, signature, verdict, model, brand, serial, created_utc";

pub(super) fn index_row(r: &Row) -> IndexRow {
    index_row_at(r, 0)
}

impl PgStore {
    /// The chain that holds claim `id` and the position of its latest revision there.
    pub fn claim_chain(&self, id: &ClaimId) -> Result<(String, u64), StoreError> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT chain_id, seq FROM records WHERE claim_id = $1 ORDER BY revision DESC LIMIT 1",
                &[&id.as_str()],
            )
            .map_err(self.pg())?
            .ok_or_else(|| StoreError::NotFound { what: format!("claim {id}") })?;
        Ok((row.get(0), row.get::<_, i64>(1) as u64))
    }

    /// A chain's head (`None`: the registry has no record of that chain).
    pub fn head_of(&self, chain_id: &str) -> Result<Option<(u64, String)>, StoreError> {
        chain_head(&mut *self.client.borrow_mut(), chain_id).map_err(self.pg())
    }

    /// The records of a chain at positions `after+1 ..= upto`, oldest first, as stored.
    pub(crate) fn rows_between(
        &self,
        chain_id: &str,
        after: u64,
        upto: u64,
    ) -> Result<Vec<IndexRow>, StoreError> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!("SELECT {ROW_COLUMNS} FROM records WHERE chain_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq"),
                &[&chain_id, &(after as i64), &(upto as i64)],
            )
            .map_err(self.pg())?;
        Ok(rows.iter().map(index_row).collect())
    }
    pub(super) fn records_where(
        &self,
        condition: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<SealedRecord>, StoreError> {
        let rows = self
            .client
            .borrow_mut()
            .query(&format!("SELECT {ROW_COLUMNS} FROM records WHERE {condition} ORDER BY revision"), params)
            .map_err(self.pg())?;
        rows.iter()
            .map(|r| {
                let row = index_row(r);
                parse_row(row.seq, &row.sha256, &row.body, row.signature.as_deref())
            })
            .collect()
    }
}

/// [`index_row`] of a row whose record columns start at `offset`.
pub(super) fn index_row_at(r: &Row, offset: usize) -> IndexRow {
    IndexRow {
        seq: r.get::<_, i64>(offset) as u64,
        sha256: r.get(offset + 1),
        prev_sha256: r.get(offset + 2),
        claim_id: r.get(offset + 3),
        revision: r.get::<_, i32>(offset + 4) as u32,
        body: r.get(offset + 5),
        signature: r.get(offset + 6),
        verdict: r.get(offset + 7),
        model: r.get(offset + 8),
        brand: r.get(offset + 9),
        serial: r.get(offset + 10),
        created_utc: r.get(offset + 11),
    }
}
