//! Claim records: what a shop keeps to settle a disputed claim, hashed, chained and signed.
//!
//! * [`Record`]: one revision of one claim (schema v1, `schema/claim-record.v1.json`): the
//!   claim and watch, policy, calibration, every measurement with u95 and quality, the verdict
//!   with its reasons, findings, every evidence file with its SHA-256, software, host,
//!   technician and UTC times.
//! * [`SealedRecord`]: a record with the SHA-256 of its [`canonical`] bytes and an optional
//!   Ed25519 signature ([`sign`]).
//! * [`ClaimId`]: `C-YYYYMMDD-NNNN`, validated so it can never name a path.
//!
//! Storage (SQLite + content-addressed evidence) lives in [`crate::store`]; the plots and the
//! customer report in [`crate::report`]; measuring and verifying a claim in [`crate::claim`].
use std::fmt;
use std::path::PathBuf;

pub mod canonical;
pub mod id;
pub mod keyring;
pub mod receipt;
pub mod sign;
pub mod time;
mod types;

pub use id::ClaimId;
pub use keyring::Keyring;
pub use receipt::{Receipt, ReceiptBody, RECEIPT_V1};
pub use sign::{RecordSignature, ServiceKey};
pub use types::*;

/// Errors of the record layer.
///
/// Recoverability: [`InvalidClaimId`](RecordError::InvalidClaimId) and
/// [`InvalidField`](RecordError::InvalidField) are the caller's input: fix it and retry (exit 2).
/// [`Malformed`](RecordError::Malformed) means a stored or exported record cannot be read as v1:
/// it is damaged or edited (a verification failure, exit 5). [`Key`](RecordError::Key) and
/// [`KeyExists`](RecordError::KeyExists) concern the key file: fix its permissions or choose
/// another path; a key is never overwritten. [`Io`](RecordError::Io) is the environment.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordError {
    /// A claim id that is not `C-YYYYMMDD-NNNN[-BRANCH]`.
    InvalidClaimId {
        /// What was given (shortened, escaped).
        given: String,
    },
    /// A field out of bounds or malformed.
    InvalidField {
        /// Which field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A record that cannot be read as schema v1.
    Malformed {
        /// Which record or file.
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// A key file that cannot be used.
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A key file already exists where a new key was to be written.
    KeyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::InvalidClaimId { given } => {
                write!(f, "'{given}' is not a claim id (expected C-YYYYMMDD-NNNN or C-YYYYMMDD-NNNN-BRANCH)")
            }
            RecordError::InvalidField { field, problem } => write!(f, "{field} {problem}"),
            RecordError::Malformed { what, problem } => {
                write!(f, "{what} is not a v1 claim record: {problem}")
            }
            RecordError::Key { path, problem } => write!(f, "{}: {problem}", path.display()),
            RecordError::KeyExists { path } => {
                write!(f, "{}: a key already exists there and is never overwritten", path.display())
            }
            RecordError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecordError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The host name of this machine (`/proc/sys/kernel/hostname`, then `$HOSTNAME`), or `unknown`.
pub fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let clean: String =
        raw.trim().chars().filter(|c| !c.is_control()).take(id::MAX_SHORT_TEXT_CHARS).collect();
    if clean.is_empty() {
        "unknown".into()
    } else {
        clean
    }
}
