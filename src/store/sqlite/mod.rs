//! The embedded backend: SQLite for the records and their index, evidence files
//! content-addressed on disk beside it.
//!
//! ```text
//! <store>/claims.sqlite3         records (canonical bytes, hash, signature) and the index
//! <store>/objects/ab/cdef…       evidence, named by the SHA-256 of its content, read-only
//! <store>/tmp/                   evidence being written (never referenced by a record)
//! ```
//!
//! # Atomicity
//!
//! * Evidence is streamed into a new file under `tmp/` while being hashed, fsynced, then renamed
//!   to `objects/<2 hex>/<62 hex>` and the directory fsynced. A crash leaves at most a stray
//!   temporary file; an object path only ever holds complete content.
//! * A record is appended in one SQLite transaction (`BEGIN IMMEDIATE`, WAL journal,
//!   `synchronous=FULL`) after checking that every evidence object it names exists: a crash or a
//!   full disk (`SQLITE_FULL`) rolls it back whole, and earlier records are never rewritten
//!   (triggers refuse `UPDATE` and `DELETE` on records).
//! * Two processes appending at once serialise on SQLite's write lock (busy timeout 30 s), so the
//!   chain (`seq`, `prev_sha256`) and the claim numbering stay gap-free.
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::chain::{parse_row, ChainWalk, IndexRow};

mod anchor;
mod copy;
use super::fsio::is_disk_full;
use super::hash_reader;
use super::trust::{ring_for_append, TrustAnchors};
use super::{claim_id_pattern, ChainCheck, ChainLink, ClaimSummary, Draft, Limits, ListFilter, Placement};
use super::{receipt_of, StoreError, StoreOptions, StoredObject};
use crate::record::canonical::{hex, is_sha256_hex};
use crate::record::time::UtcTime;
use crate::record::{ClaimId, Evidence, SealedRecord, ServiceKey, Supersedes, GENESIS_SHA256, SCHEMA_V1};

/// An open claim store.
pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Connection,
    opts: StoreOptions,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish()
    }
}

const DB_FILE: &str = "claims.sqlite3";

const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS records (
    seq         INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,
    prev_sha256 TEXT NOT NULL,
    claim_id    TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    created_utc TEXT NOT NULL,
    brand       TEXT NOT NULL,
    model       TEXT NOT NULL,
    serial      TEXT NOT NULL,
    verdict     TEXT,
    body        BLOB NOT NULL,
    signature   TEXT,
    UNIQUE (claim_id, revision)
);
CREATE INDEX IF NOT EXISTS records_model ON records (model COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS records_append_only_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'claim records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_append_only_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'claim records are append-only'); END;
";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    /// The default store: `<per-user data dir>/tickproof/store`.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "tickproof").map(|d| d.data_dir().join("store"))
    }

    /// Opens (creating when absent) the store in `dir` with default options.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// Opens (creating when absent) the store in `dir`; with `opts.read_only`, an existing
    /// store for reading only ([`Store::open_read_only`]).
    pub fn open_with(dir: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        if opts.read_only {
            return Store::open_read_only(dir, opts);
        }
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e: io::Error| {
                if is_disk_full(&e) {
                    StoreError::Full { path: p }
                } else {
                    StoreError::Io { path: p, source: e }
                }
            }
        };
        for d in [dir.to_path_buf(), dir.join("objects"), dir.join("tmp")] {
            fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let db_path = dir.join(DB_FILE);
        let sql = |e| sql_error(&db_path, e);
        let conn = Connection::open(&db_path).map_err(sql)?;
        conn.busy_timeout(opts.busy_timeout).map_err(sql)?;
        // WAL lets readers work while one process appends; FULL syncs the WAL at every commit.
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())).map_err(sql)?;
        conn.execute_batch("PRAGMA synchronous=FULL;").map_err(sql)?;
        if let Some(pages) = opts.max_db_pages {
            conn.query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(())).map_err(sql)?;
        }
        let mut store = Store { dir: dir.to_path_buf(), db_path: db_path.clone(), conn, opts };
        {
            let tx = store.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
            tx.execute_batch(SCHEMA_SQL).map_err(sql)?;
            tx.execute_batch(anchor::RECEIPTS_SQL).map_err(sql)?;
            tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?1)", params![SCHEMA_V1])
                .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        store.remove_stale_temporaries();
        Ok(store)
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.opts.limits
    }

    /// Where the object with this hash lives (whether or not it exists).
    pub fn object_path(&self, sha256: &str) -> PathBuf {
        let (a, b) = sha256.split_at(2.min(sha256.len()));
        self.dir.join("objects").join(a).join(b)
    }

    /// Copies a file byte for byte into the store, hashing it on the way.
    pub fn put_evidence_file(&self, src: &Path) -> Result<StoredObject, StoreError> {
        let f = File::open(src).map_err(|e| StoreError::Io { path: src.to_path_buf(), source: e })?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len > self.opts.limits.max_evidence_bytes {
            return Err(StoreError::TooLarge {
                path: src.to_path_buf(),
                limit: self.opts.limits.max_evidence_bytes,
            });
        }
        self.put_evidence(f, src)
    }

    /// Stores the bytes read from `reader` as an evidence object (named `label` in errors).
    ///
    /// The content goes to a temporary file, is fsynced and renamed into `objects/`; on any
    /// error the temporary file is removed and nothing else changes. Storing content that is
    /// already there is a no-op returning the same object.
    pub fn put_evidence(&self, mut reader: impl Read, label: &Path) -> Result<StoredObject, StoreError> {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp =
            self.dir.join("tmp").join(format!("{}-{}-{n}.part", std::process::id(), UtcTime::now().unix_s));
        let result = self.write_temp_and_rename(&mut reader, label, &tmp);
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    fn write_temp_and_rename(
        &self,
        reader: &mut dyn Read,
        label: &Path,
        tmp: &Path,
    ) -> Result<StoredObject, StoreError> {
        let io = &*self.opts.io;
        let werr = |path: &Path| {
            let path = path.to_path_buf();
            move |e: io::Error| {
                if is_disk_full(&e) {
                    StoreError::Full { path }
                } else {
                    StoreError::Io { path, source: e }
                }
            }
        };
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(tmp).map_err(werr(tmp))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let k = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StoreError::Io { path: label.to_path_buf(), source: e }),
            };
            size += k as u64;
            if size > self.opts.limits.max_evidence_bytes {
                return Err(StoreError::TooLarge {
                    path: label.to_path_buf(),
                    limit: self.opts.limits.max_evidence_bytes,
                });
            }
            hasher.update(&buf[..k]);
            io.write_all(&mut file, &buf[..k]).map_err(werr(tmp))?;
        }
        io.sync_file(&file).map_err(werr(tmp))?;
        drop(file);
        let sha256 = hex(&hasher.finalize());
        let target = self.object_path(&sha256);
        if let Ok(meta) = fs::metadata(&target) {
            // Same name = same content, unless the stored object was damaged: never overwrite it.
            fs::remove_file(tmp).ok();
            if meta.len() != size {
                return Err(StoreError::Corrupt {
                    what: format!("evidence object {sha256}"),
                    problem: format!("holds {} bytes, its content has {size}", meta.len()),
                });
            }
            return Ok(StoredObject { sha256, size_bytes: size });
        }
        let parent = target.parent().expect("object path has a parent").to_path_buf();
        fs::create_dir_all(&parent).map_err(werr(&parent))?;
        read_only(tmp);
        io.rename(tmp, &target).map_err(werr(&target))?;
        io.sync_dir(&parent).map_err(werr(&parent))?;
        Ok(StoredObject { sha256, size_bytes: size })
    }

    /// Re-hashes an evidence object; `Err` says what does not match.
    pub fn check_object(&self, e: &Evidence) -> Result<(), String> {
        let path = self.object_path(&e.sha256);
        let mut f = File::open(&path).map_err(|err| format!("{}: missing from the store ({err})", e.name))?;
        let (sha, size) = hash_reader(&mut f).map_err(|err| format!("{}: cannot be read ({err})", e.name))?;
        if sha != e.sha256 {
            return Err(format!("{}: content changed (SHA-256 {sha}, recorded {})", e.name, e.sha256));
        }
        if size != e.size_bytes {
            return Err(format!("{}: size {size} bytes, recorded {}", e.name, e.size_bytes));
        }
        Ok(())
    }

    /// Appends a record: numbers a new claim or the next revision, chains it to the newest record
    /// in the store, seals (and signs with `key`) and inserts it, all in one transaction.
    pub fn append(&mut self, mut draft: Draft, key: Option<&ServiceKey>) -> Result<SealedRecord, StoreError> {
        draft.claim.validate()?;
        for e in &draft.evidence {
            let p = self.object_path(&e.sha256);
            match fs::metadata(&p) {
                Ok(m) if m.len() == e.size_bytes && is_sha256_hex(&e.sha256) => {}
                _ => {
                    return Err(StoreError::Corrupt {
                        what: e.name.clone(),
                        problem: "its evidence object is not in the store; refusing to record it".into(),
                    })
                }
            }
        }
        let db = self.db_path.clone();
        let sql = |e| sql_error(&db, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        let now = UtcTime::now();
        let (claim_id, revision, supersedes) = match draft.claim_id.take() {
            None => {
                let branch = self.opts.branch.as_deref();
                let max: Option<String> = tx
                    .query_row(
                        "SELECT MAX(claim_id) FROM records WHERE claim_id LIKE ?1",
                        params![claim_id_pattern(now.date(), branch)],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                let next = max.as_deref().and_then(|m| ClaimId::parse(m).ok()).map_or(1, |m| m.seq() + 1);
                (ClaimId::new_at(now.date(), next, branch)?, 1, None)
            }
            Some(id) => {
                let last: Option<(u32, String)> = tx
                    .query_row(
                        "SELECT revision, sha256 FROM records WHERE claim_id = ?1 ORDER BY revision DESC LIMIT 1",
                        params![id.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                let (rev, sha) = last.ok_or_else(|| StoreError::NotFound { what: format!("claim {id}") })?;
                (id, rev + 1, Some(Supersedes { revision: rev, sha256: sha }))
            }
        };
        let head: Option<(u64, String)> = tx
            .query_row("SELECT seq, sha256 FROM records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .optional()
            .map_err(sql)?;
        let (seq, prev_sha256) = head.map_or((1, GENESIS_SHA256.to_string()), |(s, h)| (s + 1, h));
        let ring = anchor::read_ring(&tx)
            .map_err(sql)?
            .map_err(|p| StoreError::Corrupt { what: "the store's keyring".into(), problem: p })?;
        let location = self.dir.display().to_string();
        let new_ring = ring_for_append(ring.as_ref(), key, seq, &self.opts.anchors, &location)?;
        let record = draft.into_record(
            Placement { claim_id, revision, supersedes, seq, prev_sha256, branch: self.opts.branch.clone() },
            &now,
        );
        let sealed = SealedRecord::seal(record, key)?;
        let body = sealed.canonical_bytes()?;
        let r = &sealed.record;
        let signature =
            sealed.signature.as_ref().map(|s| serde_json::to_string(s).expect("signature serialises"));
        insert_record_row(&tx, r.seq, &sealed.sha256, &r.prev_sha256, r, &body, signature.as_deref())
            .map_err(sql)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('head', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![format!("{} {}", r.seq, sealed.sha256)],
        )
        .map_err(sql)?;
        if let Some(ring) = &new_ring {
            anchor::write_ring(&tx, ring).map_err(sql)?;
        }
        anchor::insert_receipt(&tx, &receipt_of(&sealed, key)?).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(sealed)
    }

    /// The latest revision of a claim, or the given revision.
    pub fn get(&self, id: &ClaimId, revision: Option<u32>) -> Result<SealedRecord, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let row: Option<(i64, String, Vec<u8>, Option<String>)> = match revision {
            None => self.conn.query_row(
                "SELECT seq, sha256, body, signature FROM records WHERE claim_id = ?1 ORDER BY revision DESC LIMIT 1",
                params![id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            ),
            Some(rev) => self.conn.query_row(
                "SELECT seq, sha256, body, signature FROM records WHERE claim_id = ?1 AND revision = ?2",
                params![id.as_str(), rev],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            ),
        }
        .optional()
        .map_err(sql)?;
        let (seq, sha, body, sig) = row.ok_or_else(|| StoreError::NotFound {
            what: match revision {
                None => format!("claim {id}"),
                Some(r) => format!("claim {id} revision {r}"),
            },
        })?;
        parse_row(seq as u64, &sha, &body, sig.as_deref())
    }

    /// Every revision of a claim, oldest first.
    pub fn revisions(&self, id: &ClaimId) -> Result<Vec<SealedRecord>, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let mut stmt = self
            .conn
            .prepare("SELECT seq, sha256, body, signature FROM records WHERE claim_id = ?1 ORDER BY revision")
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![id.as_str()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, sha, body, sig) = row.map_err(sql)?;
            out.push(parse_row(seq as u64, &sha, &body, sig.as_deref())?);
        }
        if out.is_empty() {
            return Err(StoreError::NotFound { what: format!("claim {id}") });
        }
        Ok(out)
    }

    /// Claims at their latest revision, newest first, filtered.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<ClaimSummary>, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.claim_id, r.revision, f.created_utc, r.created_utc, r.brand, r.model, r.serial, r.verdict
                 FROM records r JOIN records f ON f.claim_id = r.claim_id AND f.revision = 1
                 WHERE r.revision = (SELECT MAX(revision) FROM records x WHERE x.claim_id = r.claim_id)
                   AND (?1 IS NULL OR f.created_utc >= ?1)
                   AND (?2 IS NULL OR r.verdict = ?2)
                   AND (?3 IS NULL OR r.model = ?3 COLLATE NOCASE)
                 ORDER BY r.claim_id DESC",
            )
            .map_err(sql)?;
        let since = filter.since.map(|d| format!("{}T00:00:00Z", d.iso()));
        let rows = stmt
            .query_map(params![since, filter.verdict, filter.model], |r| {
                Ok(ClaimSummary {
                    id: r.get(0)?,
                    revision: r.get(1)?,
                    opened_utc: r.get(2)?,
                    updated_utc: r.get(3)?,
                    brand: r.get(4)?,
                    model: r.get(5)?,
                    serial: r.get(6)?,
                    verdict: r.get(7)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    /// Walks the whole chain: every record's hash, canonical form, signature, chain link,
    /// position and index columns, and the recorded head. Lists every problem, naming the record.
    pub fn check_chain(&self) -> Result<ChainCheck, StoreError> {
        self.check_chain_with(&TrustAnchors::default())
    }

    /// [`check_chain`](Store::check_chain), with signatures held to the store's keyring and the
    /// keys the shop trusts ([`crate::store::trust`]).
    pub fn check_chain_with(&self, anchors: &TrustAnchors) -> Result<ChainCheck, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, sha256, prev_sha256, claim_id, revision, body, signature, verdict, model,
                        brand, serial, created_utc
                 FROM records ORDER BY seq",
            )
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        let mut check = ChainCheck::default();
        let mut walk = ChainWalk::default();
        walk.start_chain("", anchor::read_ring(&self.conn).map_err(sql)?, anchors, &mut check);
        while let Some(row) = rows.next().map_err(sql)? {
            walk.row(&index_row(row).map_err(sql)?, &mut check);
        }
        drop(rows);
        let head: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'head'", [], |r| r.get(0))
            .optional()
            .map_err(sql)?;
        check.head_sha256 = walk.finish_chain(head.as_deref(), "the store's head", &mut check);
        Ok(check)
    }

    /// The whole chain as links (for `chain.json` in an export).
    pub fn chain_links(&self) -> Result<Vec<ChainLink>, StoreError> {
        let sql = |e| sql_error(&self.db_path, e);
        let mut stmt =
            self.conn.prepare("SELECT seq, sha256, prev_sha256 FROM records ORDER BY seq").map_err(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ChainLink { seq: r.get::<_, i64>(0)? as u64, sha256: r.get(1)?, prev_sha256: r.get(2)? })
            })
            .map_err(sql)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sql)
    }

    /// Removes temporary files older than a day (left by a crash; never referenced by a record).
    /// Removes temporaries a writer left behind: those over a day old, and those of a writer
    /// that is no longer running (the process id leads each name; on a system with `/proc`, a
    /// missing `/proc/PID` means it was killed before it could rename or remove its file).
    fn remove_stale_temporaries(&self) {
        let Ok(entries) = fs::read_dir(self.dir.join("tmp")) else { return };
        let proc_fs = Path::new("/proc/self").exists();
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(86_400));
            let name = e.file_name();
            let pid = name.to_str().and_then(|n| n.split('-').next()).and_then(|p| p.parse::<u32>().ok());
            let orphan = proc_fs
                && pid.is_some_and(|p| p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists());
            if old || orphan {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

fn index_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<IndexRow> {
    Ok(IndexRow {
        seq: row.get::<_, i64>(0)? as u64,
        sha256: row.get(1)?,
        prev_sha256: row.get(2)?,
        claim_id: row.get(3)?,
        revision: row.get(4)?,
        body: row.get(5)?,
        signature: row.get(6)?,
        verdict: row.get(7)?,
        model: row.get(8)?,
        brand: row.get(9)?,
        serial: row.get(10)?,
        created_utc: row.get(11)?,
    })
}

fn sql_error(path: &Path, e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        // SQLite reports a full disk met while growing its shared-memory or journal file as a
        // plain I/O error; the file system says which it was.
        let io = matches!(f.code, rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::CannotOpen);
        if f.code == rusqlite::ErrorCode::DiskFull || (io && no_room_at(path)) {
            return StoreError::Full { path: path.to_path_buf() };
        }
    }
    StoreError::Sqlite { path: path.to_path_buf(), source: e }
}

/// Whether the file system holding `path` has no room left: a one-block probe file beside it
/// cannot be written (the probe is removed).
pub(crate) fn no_room_at(path: &Path) -> bool {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let probe = dir.join(format!(".tickproof-space-probe-{}-{n}", std::process::id()));
    let written = fs::OpenOptions::new().write(true).create_new(true).open(&probe).and_then(|mut f| {
        use std::io::Write;
        f.write_all(&[0u8; 4096]).and_then(|_| f.sync_all())
    });
    let _ = fs::remove_file(&probe);
    written.is_err_and(|e| is_disk_full(&e))
}

fn read_only(path: &Path) {
    if let Ok(m) = fs::metadata(path) {
        let mut p = m.permissions();
        p.set_readonly(true);
        let _ = fs::set_permissions(path, p);
    }
}

/// Inserts one sealed record's row (`seq`, its hash and link, the index columns from `r`, the
/// canonical `body` and the signature) into the `records` table.
pub(crate) fn insert_record_row(
    tx: &rusqlite::Transaction<'_>,
    seq: u64,
    sha256: &str,
    prev_sha256: &str,
    r: &crate::record::Record,
    body: &dyn rusqlite::ToSql,
    signature: Option<&str>,
) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO records (seq, sha256, prev_sha256, claim_id, revision, created_utc, brand, model, serial,
                              verdict, body, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            seq as i64,
            sha256,
            prev_sha256,
            r.claim_id.as_str(),
            r.revision,
            r.created_utc,
            r.claim.brand,
            r.claim.model,
            r.claim.serial,
            r.verdict.as_ref().map(|v| v.verdict.clone()),
            body,
            signature
        ],
    )
}
