//! The claim store: one interface ([`ClaimStore`]), two backends.
//!
//! * [`Store`] ([`sqlite`]): the embedded default, a folder holding a SQLite database and the
//!   evidence files content-addressed beside it; nothing to set up.
//! * [`PgStore`] ([`postgres`]): a registry on a PostgreSQL server shared by the branches of a
//!   chain of service centres, chosen by `--store postgres://...`; records, chains and evidence
//!   (in chunks) in tables, append-only by the database's own privileges and triggers.
//!
//! [`sync`] copies records between them (`store push`, `store pull`) hash for hash.
//!
//! # Limits on untrusted input
//! See [`Limits`]: evidence file size, archive size and entry count; record fields are bounded
//! by the record layer.
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod chain;
pub mod export;
mod fsio;
pub mod postgres;
pub mod sqlite;
pub mod sync;
pub mod trust;

pub use fsio::{is_disk_full, EvidenceIo, RealIo};
pub use postgres::PgStore;
pub use sqlite::Store;
pub use trust::TrustAnchors;

use crate::measurement::Finding;
use crate::record::canonical::hex;
use crate::record::time::{Date, UtcTime};
use crate::record::{
    CalibrationRef, Claim, ClaimId, Evidence, Keyring, PolicyRef, PositionRecord, Receipt, Record,
    RecordError, SealedRecord, ServiceKey, Software, Supersedes, VerdictRecord, SCHEMA_V1,
};

/// Bounds on untrusted input handled by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single evidence file, bytes (default 4 GiB: over 6 hours of 48 kHz 24-bit stereo).
    pub max_evidence_bytes: u64,
    /// Largest archive read by `claim verify ARCHIVE`, bytes (default 16 GiB).
    pub max_archive_bytes: u64,
    /// Most entries in an archive (default 512).
    pub max_archive_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_evidence_bytes: 4 << 30, max_archive_bytes: 16 << 30, max_archive_entries: 512 }
    }
}

/// Errors of the store layer.
///
/// Recoverability: [`Invalid`](StoreError::Invalid) is the caller's input (exit 2).
/// [`NotFound`](StoreError::NotFound) names a claim the store does not hold (exit 2).
/// [`BadLocation`](StoreError::BadLocation) is a store location that cannot be used (exit 2).
/// [`Full`](StoreError::Full), [`Io`](StoreError::Io), [`Sqlite`](StoreError::Sqlite) and
/// [`Postgres`](StoreError::Postgres) leave the store as it was before the call: free space or
/// fix the cause and retry (exit 7). [`Schema`](StoreError::Schema): run `store migrate`, or
/// upgrade this program when the registry is newer (exit 7). [`Conflict`](StoreError::Conflict):
/// records whose ids the destination already holds from elsewhere; nothing of them was copied
/// (exit 7).
/// [`KeyRefused`](StoreError::KeyRefused): sign with a key of the store's keyring, or have the
/// shop trust the key first (exit 2).
/// [`Corrupt`](StoreError::Corrupt) means the store's content is damaged or edited; it is not
/// repaired automatically (exit 5 when verifying, 7 otherwise).
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// Input rejected by the record layer (claim id, field bounds).
    Invalid(RecordError),
    /// No such claim (or revision).
    NotFound {
        /// What was asked for.
        what: String,
    },
    /// The disk or the database is full; nothing was written.
    Full {
        /// The file being written.
        path: PathBuf,
    },
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The database refused an operation.
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// Content that does not match its hash or cannot be read as a record.
    Corrupt {
        /// What is damaged.
        what: String,
        /// How.
        problem: String,
    },
    /// An input larger than its limit.
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, bytes.
        limit: u64,
    },
    /// A store location that cannot be used as given (a URL with a password in it, say).
    BadLocation {
        /// What was given (a URL never shows its password).
        given: String,
        /// What is wrong.
        problem: String,
    },
    /// The PostgreSQL server refused an operation or could not be reached.
    Postgres {
        /// The registry (URL without password).
        location: String,
        /// The server's or the client's message.
        message: String,
    },
    /// A signing key (or the lack of one) that the store's keyring refuses; nothing was written.
    KeyRefused {
        /// The store.
        location: String,
        /// Why, and what to do.
        problem: String,
    },
    /// Records that cannot join the destination as they are (their ids are taken there).
    Conflict {
        /// Which record.
        what: String,
        /// Why, and what was left undone.
        problem: String,
    },
    /// The registry's schema is missing, or newer than this program.
    Schema {
        /// The registry.
        location: String,
        /// What is wrong, and what to do.
        problem: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Invalid(e) => write!(f, "{e}"),
            StoreError::NotFound { what } => write!(f, "{what}: not in the store"),
            StoreError::Full { path } => write!(f, "{}: disk full; nothing was written", path.display()),
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Sqlite { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Corrupt { what, problem } => write!(f, "{what}: {problem}"),
            StoreError::TooLarge { path, limit } => {
                write!(f, "{}: larger than the limit of {limit} bytes", path.display())
            }
            StoreError::BadLocation { given, problem } => write!(f, "{given}: {problem}"),
            StoreError::Postgres { location, message } => write!(f, "{location}: {message}"),
            StoreError::Schema { location, problem } => write!(f, "{location}: {problem}"),
            StoreError::Conflict { what, problem } => write!(f, "{what}: {problem}"),
            StoreError::KeyRefused { location, problem } => write!(f, "{location}: {problem}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<RecordError> for StoreError {
    fn from(e: RecordError) -> Self {
        StoreError::Invalid(e)
    }
}

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// File operations for evidence (tests inject failures here).
    pub io: Arc<dyn EvidenceIo>,
    /// Limits on untrusted input.
    pub limits: Limits,
    /// How long to wait for another writer's lock.
    pub busy_timeout: Duration,
    /// Caps the database size in pages (tests simulate a full disk with it).
    pub max_db_pages: Option<u32>,
    /// The branch this writer is at: named in every record it writes and in new claim ids.
    pub branch: Option<String>,
    /// Keys the shop trusts: a signer among them may join a store's keyring.
    pub anchors: TrustAnchors,
    /// Open read-only (SQLite: nothing created or written; works on a full disk).
    pub read_only: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            io: Arc::new(RealIo),
            limits: Limits::default(),
            busy_timeout: Duration::from_secs(30),
            max_db_pages: None,
            branch: None,
            anchors: TrustAnchors::default(),
            read_only: false,
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("limits", &self.limits)
            .field("max_db_pages", &self.max_db_pages)
            .field("branch", &self.branch)
            .finish()
    }
}

/// An evidence object in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Size, bytes.
    pub size_bytes: u64,
}

/// A record to append: everything but what the store decides (id for a new claim, revision,
/// chain, times, software, host).
#[derive(Debug, Clone)]
pub struct Draft {
    /// The claim to add a revision to, or `None` to open a new claim (the store numbers it).
    pub claim_id: Option<ClaimId>,
    /// Why this revision exists: `opened`, `measured`, or a correction note.
    pub change: String,
    /// Claim and watch data.
    pub claim: Claim,
    /// Policy applied.
    pub policy: Option<PolicyRef>,
    /// Calibration used.
    pub calibration: Option<CalibrationRef>,
    /// Measurements.
    pub positions: Vec<PositionRecord>,
    /// Verdict.
    pub verdict: Option<VerdictRecord>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Evidence files: every one must already be in the store ([`Store::put_evidence`]).
    pub evidence: Vec<Evidence>,
    /// Who made this revision.
    pub technician: Option<String>,
}

impl Draft {
    /// A draft that opens a new claim.
    pub fn open(claim: Claim) -> Draft {
        let technician = claim.technician.clone();
        Draft {
            claim_id: None,
            change: "opened".into(),
            claim,
            policy: None,
            calibration: None,
            positions: Vec::new(),
            verdict: None,
            findings: Vec::new(),
            evidence: Vec::new(),
            technician,
        }
    }

    /// A draft of the next revision of `prev`, carrying everything over, with `change` as reason.
    pub fn revise(prev: &Record, change: impl Into<String>) -> Draft {
        Draft {
            claim_id: Some(prev.claim_id.clone()),
            change: change.into(),
            claim: prev.claim.clone(),
            policy: prev.policy.clone(),
            calibration: prev.calibration.clone(),
            positions: prev.positions.clone(),
            verdict: prev.verdict.clone(),
            findings: prev.findings.clone(),
            evidence: prev.evidence.clone(),
            technician: prev.technician.clone(),
        }
    }
}

/// Where a new record goes: decided by the store inside its write transaction.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    pub claim_id: ClaimId,
    pub revision: u32,
    pub supersedes: Option<Supersedes>,
    pub seq: u64,
    pub prev_sha256: String,
    pub branch: Option<String>,
}

impl Draft {
    /// The record this draft becomes at `at`, written `now` by this program on this host.
    pub(crate) fn into_record(self, at: Placement, now: &UtcTime) -> Record {
        Record {
            schema: SCHEMA_V1.into(),
            claim_id: at.claim_id,
            revision: at.revision,
            supersedes: at.supersedes,
            change: self.change,
            seq: at.seq,
            prev_sha256: at.prev_sha256,
            created_utc: now.rfc3339(),
            claim: self.claim,
            policy: self.policy,
            calibration: self.calibration,
            positions: self.positions,
            verdict: self.verdict,
            findings: self.findings,
            evidence: self.evidence,
            software: Software::current(),
            host: crate::record::host_name(),
            technician: self.technician,
            branch: at.branch,
        }
    }
}

/// The `LIKE` pattern of the claim ids opened on `date` at `branch` (exactly those: `_` is one
/// character), whose largest number the next claim follows.
pub(crate) fn claim_id_pattern(date: Date, branch: Option<&str>) -> String {
    match branch {
        None => format!("{}____", ClaimId::day_prefix(date)),
        Some(b) => format!("{}____-{b}", ClaimId::day_prefix(date)),
    }
}

/// One line of `claim list`: a claim at its latest revision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClaimSummary {
    /// Claim id.
    pub id: String,
    /// Latest revision.
    pub revision: u32,
    /// When the claim was opened (UTC).
    pub opened_utc: String,
    /// When the latest revision was written (UTC).
    pub updated_utc: String,
    /// Brand.
    pub brand: String,
    /// Model.
    pub model: String,
    /// Serial.
    pub serial: String,
    /// Verdict of the latest revision, if judged.
    pub verdict: Option<String>,
}

/// Filters of `claim list`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Claims opened on or after this date.
    pub since: Option<Date>,
    /// Latest verdict equal to this.
    pub verdict: Option<String>,
    /// Model equal to this (case-insensitive).
    pub model: Option<String>,
}

/// What a walk of the whole chain found.
#[derive(Debug, Clone, Default)]
pub struct ChainCheck {
    /// Records in the store.
    pub records: u64,
    /// Hash of the newest record (the head), if any.
    pub head_sha256: Option<String>,
    /// Every problem, naming the record (empty when the chain is intact).
    pub problems: Vec<String>,
}

/// A chain entry as exported (`chain.json`): enough to check an exported revision's place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainLink {
    /// Position in the chain.
    pub seq: u64,
    /// Record hash.
    pub sha256: String,
    /// Previous record's hash.
    pub prev_sha256: String,
}

/// An evidence object as a file on this machine, for the analysis to read: the store's own
/// file, or a private temporary copy that is removed when this is dropped.
#[derive(Debug)]
pub struct LocalEvidence {
    path: PathBuf,
    temporary: bool,
}

impl LocalEvidence {
    /// The store's own file (never removed).
    pub fn in_place(path: PathBuf) -> LocalEvidence {
        LocalEvidence { path, temporary: false }
    }

    /// A temporary copy, removed on drop.
    pub fn temporary(path: PathBuf) -> LocalEvidence {
        LocalEvidence { path, temporary: true }
    }

    /// Where the content is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalEvidence {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What every claim store does, whatever holds it: evidence content-addressed by SHA-256,
/// records appended (never rewritten) to a hash chain, and a check of all of it.
pub trait ClaimStore {
    /// Where the store is, for messages: a folder, or a URL (never with a password).
    fn location(&self) -> String;

    /// The limits in force.
    fn store_limits(&self) -> Limits;

    /// Stores the bytes `reader` yields as an evidence object (named `label` in errors),
    /// streamed: never whole in memory. Storing content already there returns the same object.
    fn put_evidence_from(&self, reader: &mut dyn Read, label: &Path) -> Result<StoredObject, StoreError>;

    /// Copies a file byte for byte into the store, refusing one over the evidence limit.
    fn put_evidence_path(&self, src: &Path) -> Result<StoredObject, StoreError> {
        let mut f = File::open(src).map_err(|e| StoreError::Io { path: src.to_path_buf(), source: e })?;
        let limit = self.store_limits().max_evidence_bytes;
        if f.metadata().map(|m| m.len()).unwrap_or(0) > limit {
            return Err(StoreError::TooLarge { path: src.to_path_buf(), limit });
        }
        self.put_evidence_from(&mut f, src)
    }

    /// Whether an evidence object with this hash and size is stored (complete).
    fn has_evidence(&self, sha256: &str, size_bytes: u64) -> Result<bool, StoreError>;

    /// Writes an evidence object's content to `out`, streamed; returns its size.
    fn read_evidence(&self, sha256: &str, out: &mut dyn Write) -> Result<u64, StoreError>;

    /// The object as a local file the analysis can open.
    fn evidence_file(&self, sha256: &str) -> Result<LocalEvidence, StoreError>;

    /// Re-hashes an evidence object; `Err` says what does not match.
    fn check_evidence(&self, e: &Evidence) -> Result<(), String>;

    /// Appends a record: numbers a new claim or the next revision, chains it to the head,
    /// seals (and signs with `key`) and inserts it, all in one transaction.
    fn append_draft(&mut self, draft: Draft, key: Option<&ServiceKey>) -> Result<SealedRecord, StoreError>;

    /// The latest revision of a claim, or the given revision.
    fn get_record(&self, id: &ClaimId, revision: Option<u32>) -> Result<SealedRecord, StoreError>;

    /// Every revision of a claim, oldest first (never empty).
    fn claim_revisions(&self, id: &ClaimId) -> Result<Vec<SealedRecord>, StoreError>;

    /// Claims at their latest revision, newest first, filtered.
    fn list_claims(&self, filter: &ListFilter) -> Result<Vec<ClaimSummary>, StoreError>;

    /// Walks every chain the store holds; lists every problem, naming the record. Signatures
    /// are held to each chain's keyring and to no key trusted from outside.
    fn verify_chain(&self) -> Result<ChainCheck, StoreError> {
        self.verify_chain_with(&TrustAnchors::default())
    }

    /// [`verify_chain`](ClaimStore::verify_chain), with the keys the shop trusts (see [`trust`]).
    fn verify_chain_with(&self, anchors: &TrustAnchors) -> Result<ChainCheck, StoreError>;

    /// The keyring of the chain that holds claim `id` (`None`: that chain is unsigned).
    fn keyring_for(&self, id: &ClaimId) -> Result<Option<Keyring>, StoreError>;

    /// The head receipt issued when revision `revision` of claim `id` was written.
    fn receipt_for(&self, id: &ClaimId, revision: u32) -> Result<Option<Receipt>, StoreError>;

    /// The receipt with this hash, if the store issued it (and still holds it).
    fn receipt_by_hash(&self, sha256: &str) -> Result<Option<Receipt>, StoreError>;

    /// Whether the store holds a record with hash `sha256` at chain position `seq`.
    fn holds_record(&self, seq: u64, sha256: &str) -> Result<bool, StoreError>;

    /// The chain that holds `id` as links (for `chain.json` in an export).
    fn links_for(&self, id: &ClaimId) -> Result<Vec<ChainLink>, StoreError>;
}

/// SHA-256 (hex) and length of everything `r` yields.
pub fn hash_reader(r: &mut dyn Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                hasher.update(&buf[..k]);
                n += k as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((hex(&hasher.finalize()), n))
}

/// The head receipt of `sealed`, just written as its chain's head, signed with `key` when the
/// record was.
pub(crate) fn receipt_of(sealed: &SealedRecord, key: Option<&ServiceKey>) -> Result<Receipt, StoreError> {
    let r = &sealed.record;
    let body = crate::record::ReceiptBody {
        format: crate::record::RECEIPT_V1.into(),
        claim_id: r.claim_id.to_string(),
        revision: r.revision,
        branch: r.branch.clone(),
        head_seq: r.seq,
        head_sha256: sealed.sha256.clone(),
        issued_utc: r.created_utc.clone(),
    };
    Ok(Receipt::issue(body, key.filter(|_| sealed.signature.is_some()))?)
}
