//! What anchors the SQLite store's chain: its keyring (in `meta`, key `keyring`) and the head
//! receipts issued with every record (table `receipts`, append-only), and opening the store
//! read-only for the commands that only read.
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::Path;

use super::{sql_error, Store, DB_FILE};
use crate::record::{ClaimId, Keyring, Receipt};
use crate::store::{StoreError, StoreOptions};

/// The receipts table (created with the store's schema).
pub(super) const RECEIPTS_SQL: &str = "
CREATE TABLE IF NOT EXISTS receipts (
    sha256   TEXT PRIMARY KEY,
    head_seq INTEGER NOT NULL,
    claim_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    body     TEXT NOT NULL,
    UNIQUE (claim_id, revision)
);
CREATE TRIGGER IF NOT EXISTS receipts_append_only_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER IF NOT EXISTS receipts_append_only_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
";

/// The store's keyring: `Ok(None)` when it has none, `Ok(Err(problem))` when it is damaged.
pub(super) fn read_ring(conn: &Connection) -> rusqlite::Result<Result<Option<Keyring>, String>> {
    let text: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'keyring'", [], |r| r.get(0)).optional()?;
    Ok(match text {
        None => Ok(None),
        Some(t) => Keyring::from_json(t.as_bytes()).map(Some).map_err(|e| e.to_string()),
    })
}

/// Stores the keyring (a new one, or one with a key added).
pub(super) fn write_ring(conn: &Connection, ring: &Keyring) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('keyring', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![ring.to_json()],
    )
    .map(|_| ())
}

/// Stores a receipt beside the record it was issued for.
pub(super) fn insert_receipt(conn: &Connection, r: &Receipt) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO receipts (sha256, head_seq, claim_id, revision, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![r.sha256(), r.body.head_seq as i64, r.body.claim_id, r.body.revision, r.to_json()],
    )
    .map(|_| ())
}

/// A read-only connection that has read the schema (so that a failure shows here); with
/// `immutable`, one that takes no locks and no shared memory.
fn read_only_connection(db: &Path, opts: &StoreOptions, immutable: bool) -> rusqlite::Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        flags |= OpenFlags::SQLITE_OPEN_URI;
        Connection::open_with_flags(format!("file:{}?immutable=1", uri_path(db)), flags)?
    } else {
        Connection::open_with_flags(db, flags)?
    };
    conn.busy_timeout(opts.busy_timeout)?;
    // Sorting and grouping in memory: no temporary file on a disk with no room.
    conn.execute_batch("PRAGMA temp_store=MEMORY;")?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// `path` for a SQLite URI: the characters a URI gives meaning to are percent-encoded.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.as_os_str().as_encoded_bytes() {
        match *b {
            b'?' | b'#' | b'%' | b' ' | 0x80..=0xff => out.push_str(&format!("%{b:02X}")),
            c => out.push(c as char),
        }
    }
    out
}

fn wal_is_empty(db: &Path) -> bool {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(Path::new(&wal)).ok().is_none_or(|m| m.len() == 0)
}

fn is_io_failure(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, SystemIoFailure | DiskFull | CannotOpen | ReadOnly))
}

fn parse_receipt(db: &Path, text: Option<String>) -> Result<Option<Receipt>, StoreError> {
    text.map(|t| {
        Receipt::from_json(t.as_bytes()).map_err(|e| StoreError::Corrupt {
            what: format!("{}: a stored receipt", db.display()),
            problem: e.to_string(),
        })
    })
    .transpose()
}

impl Store {
    /// Opens an existing store for reading only: nothing is created, written or cleaned, so
    /// that it works on a full disk or a read-only medium. A folder that holds no store reads
    /// as an empty store (in memory; nothing is created on disk).
    pub fn open_read_only(dir: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        let db_path = dir.join(DB_FILE);
        let sql = |e| sql_error(&db_path, e);
        if !db_path.exists() {
            let conn = Connection::open_in_memory().map_err(sql)?;
            conn.execute_batch(super::SCHEMA_SQL).map_err(sql)?;
            conn.execute_batch(RECEIPTS_SQL).map_err(sql)?;
            return Ok(Store { dir: dir.to_path_buf(), db_path, conn, opts });
        }
        let conn = match read_only_connection(&db_path, &opts, false) {
            Ok(c) => c,
            // Reading a WAL database needs its shared-memory file, which a full disk cannot
            // grow. With no write-ahead log to recover (none, or empty) the database file alone
            // is the whole store: it is read as immutable then (no locks, no shared memory).
            Err(e) if wal_is_empty(&db_path) && is_io_failure(&e) => {
                read_only_connection(&db_path, &opts, true).map_err(sql)?
            }
            Err(e) => return Err(sql(e)),
        };
        Ok(Store { dir: dir.to_path_buf(), db_path, conn, opts })
    }

    /// The store's keyring (`None`: the store is unsigned).
    pub fn keyring(&self) -> Result<Option<Keyring>, StoreError> {
        read_ring(&self.conn)
            .map_err(|e| sql_error(&self.db_path, e))?
            .map_err(|p| StoreError::Corrupt { what: "the store's keyring".into(), problem: p })
    }

    /// Changes the store's keyring in one transaction (`key trust`, `key revoke`): `change` is
    /// given the ring (`None`: the store is unsigned) and the chain position of the next record,
    /// and returns the ring to keep. Its refusals are [`StoreError::KeyRefused`].
    pub fn change_keyring(
        &mut self,
        change: impl FnOnce(Option<&Keyring>, u64) -> Result<Keyring, crate::record::RecordError>,
    ) -> Result<Keyring, StoreError> {
        let db = self.db_path.clone();
        let sql = |e| sql_error(&db, e);
        let location = self.dir.display().to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let ring = read_ring(&tx)
            .map_err(sql)?
            .map_err(|p| StoreError::Corrupt { what: "the store's keyring".into(), problem: p })?;
        let head: Option<i64> =
            tx.query_row("SELECT MAX(seq) FROM records", [], |r| r.get(0)).map_err(sql)?;
        let next = head.map_or(1, |h| h as u64 + 1);
        let ring = change(ring.as_ref(), next)
            .map_err(|e| StoreError::KeyRefused { location, problem: e.to_string() })?;
        write_ring(&tx, &ring).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(ring)
    }

    /// The receipt issued with revision `revision` of claim `id`.
    pub fn receipt(&self, id: &ClaimId, revision: u32) -> Result<Option<Receipt>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM receipts WHERE claim_id = ?1 AND revision = ?2",
                params![id.as_str(), revision],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| sql_error(&self.db_path, e))?;
        parse_receipt(&self.db_path, text)
    }

    /// The receipt with this hash, if the store holds it.
    pub fn receipt_with_hash(&self, sha256: &str) -> Result<Option<Receipt>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row("SELECT body FROM receipts WHERE sha256 = ?1", params![sha256], |r| r.get(0))
            .optional()
            .map_err(|e| sql_error(&self.db_path, e))?;
        parse_receipt(&self.db_path, text)
    }

    /// Whether the store holds a record with hash `sha256` at chain position `seq`.
    pub fn has_record(&self, seq: u64, sha256: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM records WHERE seq = ?1 AND sha256 = ?2",
                params![seq as i64, sha256],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| sql_error(&self.db_path, e))
    }
}
