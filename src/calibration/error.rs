//! The calibration layer's error type.
use std::fmt;
use std::path::PathBuf;

/// Errors of the calibration layer. Every message is one line and names the file (or the
/// device, flag or value) and the problem.
///
/// Recoverability: [`CalibrationError::Io`] may succeed on retry; [`CalibrationError::Exists`]
/// succeeds with `force`; the others are final for that input.
#[derive(Debug)]
#[non_exhaustive]
pub enum CalibrationError {
    /// A device name that cannot name a profile (path tricks, control characters, too long).
    InvalidDeviceName {
        /// The name as given (control characters escaped in the message).
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// No profile is stored for the device.
    NotFound {
        /// The device asked for.
        device: String,
        /// Where the profile would be.
        path: PathBuf,
    },
    /// The file a device's name maps to holds the profile of another device whose name
    /// differs only in case, spaces or punctuation: it is not this device's profile.
    OtherDevice {
        /// The device asked for.
        device: String,
        /// The device the file belongs to.
        owner: String,
        /// The file.
        path: PathBuf,
    },
    /// A profile already exists and `force` was not given.
    Exists {
        /// The device.
        device: String,
        /// The existing file, left untouched.
        path: PathBuf,
    },
    /// A profile file that cannot be used: malformed TOML, a missing, unknown or absurd field.
    BadProfile {
        /// The file.
        path: PathBuf,
        /// The field at fault (dotted, e.g. `recorder_ppm.u95`), when known.
        field: Option<String>,
        /// The line at fault, when known.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
    },
    /// The file or directory could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done ("read", "write", "rename", ...).
        action: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No configuration directory: neither `$TICKPROOF_CONFIG_DIR` nor a home directory.
    NoConfigDir,
    /// A value given by the caller that cannot be used (a frequency out of range, both a
    /// profile and a conflicting value, a missing provenance note, ...).
    InvalidArgument {
        /// What is wrong, naming the flag or value.
        what: String,
    },
    /// The audio could not be read.
    Audio(crate::source::Error),
    /// The recording holds no usable reference (no tone at the stated frequency, no ticks).
    NoReference {
        /// The recording.
        path: PathBuf,
        /// What was looked for and not found.
        what: String,
    },
    /// A reference was found but the recording cannot give the figure (too short, too few
    /// ticks, too noisy).
    Insufficient {
        /// The recording (or the live source's name).
        path: PathBuf,
        /// What is missing, and how much more is needed when that is known.
        what: String,
    },
}

impl CalibrationError {
    /// A bad-profile error.
    pub fn bad_profile(
        path: impl Into<PathBuf>,
        field: Option<&str>,
        line: Option<usize>,
        problem: impl Into<String>,
    ) -> Self {
        CalibrationError::BadProfile {
            path: path.into(),
            field: field.map(str::to_string),
            line,
            problem: problem.into(),
        }
    }
    /// An invalid-argument error.
    pub fn invalid(what: impl Into<String>) -> Self {
        CalibrationError::InvalidArgument { what: what.into() }
    }
    /// An I/O error.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        CalibrationError::Io { path: path.into(), action, source }
    }
}

/// Joins the lines of `s` with "; " and replaces other control characters, so that a message
/// stays on one line.
pub(crate) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CalibrationError::*;
        match self {
            InvalidDeviceName { name, reason } => {
                write!(f, "device name {:?} refused: {}", one_line(name), reason)
            }
            NotFound { device, path } => {
                write!(
                    f,
                    "no calibration profile for device {:?} ({} does not exist)",
                    device,
                    path.display()
                )
            }
            OtherDevice { device, owner, path } => write!(
                f,
                "no calibration profile for device {:?}: {} holds the profile of {:?}, a name that differs only in case, spaces or punctuation",
                one_line(device),
                path.display(),
                one_line(owner)
            ),
            Exists { device, path } => write!(
                f,
                "{}: a calibration profile for device {:?} already exists; not overwritten (use --force)",
                path.display(),
                device
            ),
            BadProfile { path, field, line, problem } => {
                write!(f, "{}: bad calibration profile", path.display())?;
                if let Some(l) = line {
                    write!(f, ", line {}", l)?;
                }
                if let Some(k) = field {
                    write!(f, ", field `{}`", k)?;
                }
                write!(f, ": {}", one_line(problem))
            }
            Io { path, action, source } => write!(f, "{}: cannot {}: {}", path.display(), action, source),
            NoConfigDir => f.write_str(
                "no configuration directory: set TICKPROOF_CONFIG_DIR or HOME (or XDG_CONFIG_HOME)",
            ),
            InvalidArgument { what } => f.write_str(&one_line(what)),
            Audio(e) => write!(f, "{}", e),
            NoReference { path, what } => write!(f, "{}: no reference found: {}", path.display(), what),
            Insufficient { path, what } => write!(f, "{}: not enough signal: {}", path.display(), what),
        }
    }
}

impl std::error::Error for CalibrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CalibrationError::Io { source, .. } => Some(source),
            CalibrationError::Audio(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::source::Error> for CalibrationError {
    fn from(e: crate::source::Error) -> Self {
        CalibrationError::Audio(e)
    }
}
