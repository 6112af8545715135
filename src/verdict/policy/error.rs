//! The error of the policy layer: every message names the file (or built-in name) and, for a
//! file's content, the line and the field.
use super::builtin::builtin_names;
use super::POLICY_MAX_BYTES;
use std::fmt;

/// A policy that cannot be used. Every message names the file (or built-in name) and, for a
/// file's content, the line and the field.
#[derive(Debug)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// The file is larger than [`POLICY_MAX_BYTES`].
    TooLarge {
        /// The file.
        path: String,
        /// Its size, bytes.
        bytes: u64,
    },
    /// The file is not UTF-8 text.
    NotText {
        /// The file.
        path: String,
    },
    /// The content is not a valid policy: TOML syntax, a wrong type, an unknown or missing
    /// field, or a value out of range.
    Invalid {
        /// The file.
        path: String,
        /// 1-based line of the problem.
        line: usize,
        /// The field, as `table.key` (e.g. `mechanical.plus_minus`).
        field: String,
        /// The problem in plain words.
        message: String,
    },
    /// Neither a built-in policy nor an existing file has this name.
    UnknownName {
        /// The name asked for.
        name: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Io { path, message } => write!(f, "{path}: cannot read policy: {message}"),
            PolicyError::TooLarge { path, bytes } => {
                write!(f, "{path}: policy file is {bytes} bytes, more than the {POLICY_MAX_BYTES} allowed")
            }
            PolicyError::NotText { path } => write!(f, "{path}: policy file is not UTF-8 text"),
            PolicyError::Invalid { path, line, field, message } => {
                write!(f, "{path}:{line}: field `{field}`: {message}")
            }
            PolicyError::UnknownName { name } => write!(
                f,
                "{name}: no built-in policy or file of that name (built-in: {})",
                builtin_names().join(", ")
            ),
        }
    }
}

impl std::error::Error for PolicyError {}
