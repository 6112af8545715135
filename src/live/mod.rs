//! Stage: live measurement. Audio from a sound card (or a replayed recording) flows through a
//! bounded lock-free ring ([`ring`](mod@ring)) into one consumer loop ([`run`]) that writes it to disk
//! ([`recorder`]), feeds the streaming analyser ([`session`]) and shows the readings (lines,
//! JSON lines, or the terminal view in [`view`] / [`tui`]).
//!
//! ```text
//! audio callback / replay thread --ring--> run loop -> Recorder (WAV + side file)
//!                                                   -> LiveSession (Analyzer, sliding window)
//!                                                   -> Frontend (lines, JSON, terminal view)
//!                 \--host-clock stamps--> run loop -> HostClockEstimator (recorder ppm)
//! ```
use std::fmt;
use std::path::PathBuf;

#[cfg(feature = "capture")]
pub mod capture;
pub mod hostclock;
pub mod level;
pub mod protocol;
pub mod recorder;
pub mod replay;
pub mod resume;
pub mod ring;
pub mod run;
pub mod session;
pub mod tui;
pub mod view;

pub use recorder::{Recorder, RecordingMeta, StoredFormat};
pub use ring::{ring, RingConsumer, RingProducer, RingStats};
pub use run::{Command, Ended, Frontend};
pub use session::{LiveConfig, LiveSession, Reading, Restart, RestartReason, Status, StripPoint, TrendPoint};

/// Seconds of audio the capture ring holds before it over-runs (the consumer loop may stall
/// this long, e.g. on a slow terminal, without losing audio).
pub const RING_SECONDS: f64 = 4.0;

/// Errors of the live layer. Every variant names the file or device.
#[derive(Debug)]
#[non_exhaustive]
pub enum LiveError {
    /// The audio device failed: absent, busy, no permission, unplugged (final for this run).
    Device(String),
    /// A file could not be written (the recording, its side file, a snapshot).
    Storage {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The recording (or its side file) already exists: evidence is never overwritten.
    Exists(PathBuf),
    /// The replayed recording could not be read.
    Source(crate::source::Error),
    /// A setting is out of range (names it).
    Config(String),
    /// The terminal could not be used for the view.
    Terminal(String),
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Device(m) => write!(f, "audio device: {m}"),
            LiveError::Storage { path, source } => write!(f, "{}: cannot write: {source}", path.display()),
            LiveError::Exists(p) => {
                write!(
                    f,
                    "{}: already exists; recordings are never overwritten (choose another --out)",
                    p.display()
                )
            }
            LiveError::Source(e) => write!(f, "{e}"),
            LiveError::Config(m) => f.write_str(m),
            LiveError::Terminal(m) => write!(f, "terminal: {m} (use --no-tui)"),
        }
    }
}

impl std::error::Error for LiveError {}

impl From<crate::source::Error> for LiveError {
    fn from(e: crate::source::Error) -> Self {
        LiveError::Source(e)
    }
}
