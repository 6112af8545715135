//! Verifying every chain the session may read against its head and the trust anchors.

use super::rows::{index_row_at, ROW_COLUMNS};
use super::*;

impl PgStore {
    /// Walks every chain the session may read, 256 records at a time, and each chain's head.
    pub(super) fn walk_chains(&self, anchors: &TrustAnchors) -> Result<ChainCheck, StoreError> {
        let pg = self.pg();
        let mut client = self.client.borrow_mut();
        // One snapshot for the heads and the records, whatever commits meanwhile.
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(&pg)?;
        let heads: Vec<(String, i64, String)> = tx
            .query("SELECT chain_id, head_seq, head_sha256 FROM chains ORDER BY chain_id", &[])
            .map_err(&pg)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let rings: Vec<(String, String)> = tx
            .query("SELECT chain_id, body FROM keyrings", &[])
            .map_err(&pg)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let ring_of = |chain_id: &str| -> Result<Option<Keyring>, String> {
            match rings.iter().find(|(c, _)| c == chain_id) {
                None => Ok(None),
                Some((_, body)) => Keyring::from_json(body.as_bytes()).map(Some).map_err(|e| e.to_string()),
            }
        };
        let mut check = ChainCheck::default();
        let mut walk = ChainWalk::default();
        let portal = tx
            .bind(&format!("SELECT chain_id, {ROW_COLUMNS} FROM records ORDER BY chain_id, seq"), &[])
            .map_err(&pg)?;
        let mut current: Option<String> = None;
        let mut finished: Vec<String> = Vec::new();
        loop {
            let batch = tx.query_portal(&portal, 256).map_err(&pg)?;
            if batch.is_empty() {
                break;
            }
            for r in &batch {
                let chain_id: String = r.get(0);
                if current.as_deref() != Some(&chain_id) {
                    if let Some(done) = current.take() {
                        finish(&walk, &heads, &done, &mut check);
                        finished.push(done);
                    }
                    walk.start_chain(&format!("{chain_id}:"), ring_of(&chain_id), anchors, &mut check);
                    current = Some(chain_id);
                }
                walk.row(&index_row_at(r, 1), &mut check);
            }
        }
        if let Some(done) = current.take() {
            finish(&walk, &heads, &done, &mut check);
            finished.push(done);
        }
        for (chain_id, seq, sha) in heads.iter().filter(|(c, _, _)| !finished.contains(c)) {
            check.problems.push(format!(
                "chain {chain_id}'s head says {seq} {sha}, but the chain has no records (they were removed)"
            ));
        }
        Ok(check)
    }
}

fn finish(walk: &ChainWalk, heads: &[(String, i64, String)], chain_id: &str, check: &mut ChainCheck) {
    let recorded = heads.iter().find(|(c, _, _)| c == chain_id).map(|(_, s, h)| format!("{s} {h}"));
    let head = walk.finish_chain(recorded.as_deref(), &format!("chain {chain_id}'s head"), check);
    check.head_sha256 = head;
}
