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
mod claim_store;
mod conn;
mod evidence;
mod rows;
mod verify;
mod write;

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
}

fn schema_version(client: &mut Client) -> Result<Option<i32>, postgres::Error> {
    let exists: bool = client.query_one("SELECT to_regclass('tickproof_schema') IS NOT NULL", &[])?.get(0);
    if !exists {
        return Ok(None);
    }
    client.query_one("SELECT max(version) FROM tickproof_schema", &[]).map(|r| r.get(0))
}
