//! The registry backend: a PostgreSQL database shared by the branches of a chain of service
//! centres (`--store postgres://USER@HOST/DB`).
//!
//! ```text
//! tickproof_schema   the schema version (see `store migrate`)
//! chains             each chain's head (seq, sha256), moved only by the insert trigger
//! records            every revision: canonical bytes, hash, signature, chain link, index
//! evidence           content-addressed objects: SHA-256, size, which upload holds the chunks
//! evidence_chunk     the content in chunks of 1 MiB
//! branch_member      which branch each technician's login role works at
//! keyrings           each signed chain's keyring (schema 2)
//! receipts           the head receipt issued with each record (schema 2)
//! ```
//!
//! # Guarantees
//! * **Chains.** A store's records form one chain; a registry holds many: one per branch for
//!   claims opened directly in the registry (`branch-CODE`), and one per SQLite store pushed to it
//!   (`store-<random>`), each record keeping the hash, link and signature it was sealed with. A
//!   writer takes a transaction-scoped advisory lock on its chain before reading the head, and
//!   the `BEFORE INSERT` trigger checks and moves the head under a row lock, so that concurrent
//!   writers in any number of processes can never fork a chain.
//! * **Append-only.** Triggers refuse `UPDATE`, `DELETE` and `TRUNCATE` on records and evidence,
//!   and no role but the owner has those privileges. What a superuser changes anyway, `claim
//!   verify` names (the record no longer matches its hash).
//! * **Roles.** `tickproof_technician` (insert and read the records of its own branch: row-level
//!   security on `branch`), `tickproof_auditor` (read everything, verify) and `tickproof_admin`
//!   (everything a technician can do at every branch, and the branch memberships).
//! * **Passwords** never travel on the command line: a URL holding one is refused; the password
//!   comes from `PGPASSWORD` or the pgpass file (`PGPASSFILE`, `~/.pgpass`, mode 0600).
use postgres::{Client, GenericClient, Row};
use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;

mod anchor;
mod conn;
mod evidence;

pub use conn::is_registry_url;
pub use evidence::CHUNK_BYTES;

use super::chain::{parse_row, ChainWalk, IndexRow};
use super::receipt_of;
use super::trust::{ring_for_append, TrustAnchors};
use super::{claim_id_pattern, hash_reader, ChainCheck, ChainLink, ClaimStore, ClaimSummary, Draft, Limits};
use super::{ListFilter, LocalEvidence, Placement, StoreError, StoreOptions, StoredObject};
use crate::record::canonical::is_sha256_hex;
use crate::record::time::UtcTime;
use crate::record::{
    ClaimId, Evidence, Keyring, Receipt, SealedRecord, ServiceKey, Supersedes, GENESIS_SHA256,
};

/// The newest registry schema this program knows, and how to reach each version.
pub const SCHEMA_VERSION: i32 = 2;
const MIGRATIONS: [(i32, &str); 2] = [(1, include_str!("schema_v1.sql")), (2, include_str!("schema_v2.sql"))];

/// An open registry.
pub struct PgStore {
    client: RefCell<Client>,
    location: String,
    opts: StoreOptions,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore").field("location", &self.location).finish()
    }
}

fn pg_error(location: &str, e: postgres::Error) -> StoreError {
    StoreError::Postgres { location: location.to_string(), message: conn::message(&e) }
}

const ROW_COLUMNS: &str =
    "seq, sha256, prev_sha256, claim_id, revision, body, signature, verdict, model, brand, serial, created_utc";

fn index_row(r: &Row) -> IndexRow {
    index_row_at(r, 0)
}

/// Serialises the writers of one chain until the end of the transaction.
fn lock_chain(tx: &mut impl GenericClient, chain_id: &str) -> Result<(), postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&chain_id]).map(|_| ())
}

fn chain_head(c: &mut impl GenericClient, chain_id: &str) -> Result<Option<(u64, String)>, postgres::Error> {
    Ok(c.query_opt("SELECT head_seq, head_sha256 FROM chains WHERE chain_id = $1", &[&chain_id])?
        .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
}

impl PgStore {
    /// Connects to the registry at `url` and checks its schema version: a registry without the
    /// schema, or with an older or newer one, is refused with what to do.
    pub fn open(url: &str, opts: StoreOptions) -> Result<PgStore, StoreError> {
        let location = conn::shown(url);
        let mut client = conn::connect(url)?;
        let found = schema_version(&mut client).map_err(|e| pg_error(&location, e))?;
        let problem = match found {
            None => Some("no tickproof schema here: its administrator runs `tickproof store migrate URL`".to_string()),
            Some(v) if v > SCHEMA_VERSION => Some(format!(
                "the registry's schema is version {v}, newer than this tickproof knows ({SCHEMA_VERSION}): upgrade tickproof"
            )),
            Some(v) if v < SCHEMA_VERSION => Some(format!(
                "the registry's schema is version {v}, older than this tickproof's ({SCHEMA_VERSION}): \
                 its administrator runs `tickproof store migrate URL`"
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Err(StoreError::Schema { location, problem });
        }
        Ok(PgStore { client: RefCell::new(client), location, opts })
    }

    /// Brings the registry's schema to [`SCHEMA_VERSION`] in one transaction (creating the
    /// roles, tables, triggers and policies); returns the versions `(before, after)`. Run by the
    /// database's owner. A registry newer than this program is refused and left as it is.
    pub fn migrate(url: &str) -> Result<(i32, i32), StoreError> {
        let location = conn::shown(url);
        let pg = |e| pg_error(&location, e);
        let mut client = conn::connect(url)?;
        let mut tx = client.transaction().map_err(pg)?;
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(7364018);
             CREATE TABLE IF NOT EXISTS tickproof_schema (version integer NOT NULL, applied_utc timestamptz NOT NULL DEFAULT now())",
        )
        .map_err(pg)?;
        let before: i32 =
            tx.query_one("SELECT coalesce(max(version), 0) FROM tickproof_schema", &[]).map_err(pg)?.get(0);
        if before > SCHEMA_VERSION {
            return Err(StoreError::Schema {
                location,
                problem: format!(
                    "the registry's schema is version {before}, newer than this tickproof knows ({SCHEMA_VERSION}): \
                     upgrade tickproof; nothing was changed"
                ),
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > before) {
            tx.batch_execute(sql).map_err(pg)?;
            tx.execute("INSERT INTO tickproof_schema (version) VALUES ($1)", &[version]).map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok((before, SCHEMA_VERSION))
    }

    fn pg(&self) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |e| pg_error(&self.location, e)
    }

    /// The branch this writer is at, which every write to a registry needs.
    fn branch(&self) -> Result<String, StoreError> {
        self.opts.branch.clone().ok_or_else(|| StoreError::BadLocation {
            given: self.location.clone(),
            problem: "writing to a registry needs a branch: --branch CODE or TICKPROOF_BRANCH".into(),
        })
    }

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

    fn append_in_registry(
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

    fn records_where(
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

/// A claim id the registry already holds from another chain, named; any other error as it is.
fn conflict_or(
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
fn insert_row(
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

fn schema_version(client: &mut Client) -> Result<Option<i32>, postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('tickproof_schema') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(None);
    }
    client.query_one("SELECT max(version) FROM tickproof_schema", &[]).map(|r| r.get(0))
}

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

impl PgStore {
    /// Walks every chain the session may read, 256 records at a time, and each chain's head.
    fn walk_chains(&self, anchors: &TrustAnchors) -> Result<ChainCheck, StoreError> {
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

/// [`index_row`] of a row whose record columns start at `offset`.
fn index_row_at(r: &Row, offset: usize) -> IndexRow {
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
