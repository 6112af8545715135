//! Exit codes: deterministic, documented in the README, shared by every subcommand.
use std::fmt;

/// What the process exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum ExitCode {
    /// Done: measured, judged, verified.
    Ok = 0,
    /// A bug: something that should not happen (reported, never a panic).
    Internal = 1,
    /// Bad input or usage: a file, flag or value that cannot be used.
    Usage = 2,
    /// No watch signal in the recording.
    NoSignal = 3,
    /// A watch was heard but the recording cannot give the figure to the precision needed
    /// (too short, too noisy): the output says how much more is needed.
    Insufficient = 4,
    /// Verification found a difference (an edited record or file, a broken chain).
    VerifyFailed = 5,
    /// The audio device failed (absent, busy, unplugged, no permission).
    Device = 6,
    /// The store or an output file could not be written; nothing was lost.
    Storage = 7,
}

/// A failure to report on one line of standard error, with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: ExitCode,
    /// One line, naming the file and the problem.
    pub message: String,
}

impl Failure {
    /// A failure with a code and message.
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }
    /// Bad input or usage.
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(ExitCode::Usage, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<crate::source::Error> for Failure {
    fn from(e: crate::source::Error) -> Self {
        Failure::usage(e.to_string())
    }
}
