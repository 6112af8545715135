//! Stage 1, source: audio in blocks, whatever the file format, with flat memory.
//!
//! Every reader implements [`BlockSource`]: interleaved `f32` frames in `[-1, 1]`, read into a
//! caller-supplied buffer, so a one-hour file is never loaded whole. [`open`] picks the reader
//! from the file's magic bytes (RIFF/WAVE through hound, FLAC through symphonia).
//!
//! Limits on untrusted input are documented on [`Limits`]; every violation is an [`Error`]
//! naming the file and the problem.
use std::fmt;
use std::path::{Path, PathBuf};

pub mod channel;
pub mod flac;
pub mod memory;
pub mod wav;

pub use memory::MemorySource;

/// What a reader knows about its audio before reading it.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// Samples per second per channel.
    pub sample_rate_hz: u32,
    /// Interleaved channels per frame.
    pub channels: u16,
    /// Frames in the file when the header says, `None` for a live stream.
    pub frames: Option<u64>,
    /// Human-readable description of the encoding, e.g. "WAV PCM 16-bit".
    pub encoding: String,
}

impl AudioInfo {
    /// Duration in seconds when the number of frames is known.
    pub fn duration_s(&self) -> Option<f64> {
        self.frames.map(|f| f as f64 / self.sample_rate_hz as f64)
    }
}

/// A source of audio read block by block.
pub trait BlockSource {
    /// Format, rate and length.
    fn info(&self) -> &AudioInfo;
    /// Fills `out` with up to `out.len() / channels` interleaved frames, scaled to `[-1, 1]`.
    /// Returns the number of whole frames written; `0` means the end. `out.len()` must be a
    /// multiple of the channel count.
    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error>;
    /// Goes back to the first frame (for a second pass over a file).
    fn rewind(&mut self) -> Result<(), Error>;
    /// Samples read so far (since the last rewind) that were not finite numbers (NaN or
    /// infinite 32-bit floats) and were replaced: NaN by 0, infinities by full scale.
    fn nonfinite_samples(&self) -> u64 {
        0
    }
    /// What is missing from a recording read only as far as it goes (a file cut inside its
    /// data), in words naming the byte offset; `None` for a whole recording.
    fn truncation(&self) -> Option<String> {
        None
    }
}

/// Limits applied to untrusted audio files.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Lowest accepted sample rate (Hz).
    pub min_sample_rate_hz: u32,
    /// Highest accepted sample rate (Hz).
    pub max_sample_rate_hz: u32,
    /// Most channels accepted.
    pub max_channels: u16,
    /// Longest recording accepted, seconds.
    pub max_duration_s: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            min_sample_rate_hz: 8_000,
            max_sample_rate_hz: 192_000,
            max_channels: 8,
            max_duration_s: 24.0 * 3600.0,
        }
    }
}

impl Limits {
    /// Checks a header against the limits.
    ///
    /// Also refuses what no limit could allow: a sample rate of 0 Hz or zero channels.
    pub fn check(&self, path: &Path, info: &AudioInfo) -> Result<(), Error> {
        if info.sample_rate_hz == 0 {
            return Err(Error::malformed(path, "the header says the sample rate is 0 Hz"));
        }
        if info.sample_rate_hz < self.min_sample_rate_hz || info.sample_rate_hz > self.max_sample_rate_hz {
            return Err(Error::limit(
                path,
                format!(
                    "sample rate {} Hz is outside the supported {}..{} Hz",
                    info.sample_rate_hz, self.min_sample_rate_hz, self.max_sample_rate_hz
                ),
            ));
        }
        if info.channels == 0 || info.channels > self.max_channels {
            return Err(Error::limit(
                path,
                format!("{} channels (1..{} supported)", info.channels, self.max_channels),
            ));
        }
        if let Some(d) = info.duration_s() {
            if d > self.max_duration_s {
                return Err(Error::limit(
                    path,
                    format!("{:.0} s long (at most {:.0} s)", d, self.max_duration_s),
                ));
            }
        }
        Ok(())
    }
}

/// Errors of the source layer. Every variant names the file.
///
/// Recoverability: [`Error::Io`] may succeed on retry (a transient read error); the others are
/// final for that file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not audio this program reads (unknown container or codec).
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        what: String,
    },
    /// The file claims to be a supported format but its content is broken.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is broken.
        what: String,
    },
    /// The file is well-formed but outside the [`Limits`].
    Limit {
        /// The file.
        path: PathBuf,
        /// Which limit.
        what: String,
    },
}

impl Error {
    /// An unsupported-format error.
    pub fn unsupported(path: &Path, what: impl Into<String>) -> Self {
        Error::Unsupported { path: path.to_path_buf(), what: what.into() }
    }
    /// A malformed-content error.
    pub fn malformed(path: &Path, what: impl Into<String>) -> Self {
        Error::Malformed { path: path.to_path_buf(), what: what.into() }
    }
    /// A limit error.
    pub fn limit(path: &Path, what: impl Into<String>) -> Self {
        Error::Limit { path: path.to_path_buf(), what: what.into() }
    }
    /// An I/O error.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: cannot read: {}", path.display(), source),
            Error::Unsupported { path, what } => write!(f, "{}: unsupported audio: {}", path.display(), what),
            Error::Malformed { path, what } => write!(f, "{}: malformed audio: {}", path.display(), what),
            Error::Limit { path, what } => write!(f, "{}: refused: {}", path.display(), what),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Opens an audio file, choosing the reader from its first bytes (not its name).
pub fn open(path: &Path) -> Result<Box<dyn BlockSource>, Error> {
    open_with_limits(path, &Limits::default())
}

/// [`open`] with explicit limits.
pub fn open_with_limits(path: &Path, limits: &Limits) -> Result<Box<dyn BlockSource>, Error> {
    use std::io::Read;
    let mut magic = [0u8; 12];
    // A named pipe or a device would block the open or the read (or never end): only regular
    // files are recordings.
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        let what =
            if meta.is_dir() { "a folder" } else { "not a regular file (a pipe, a socket or a device)" };
        return Err(Error::unsupported(path, format!("{what}: give a recording file")));
    }
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let n = f.read(&mut magic).map_err(|e| Error::io(path, e))?;
    drop(f);
    let src: Box<dyn BlockSource> = if n >= 12 && &magic[0..4] == b"RIFF" && &magic[8..12] == b"WAVE" {
        Box::new(wav::WavSource::open_with_limits(path, limits)?)
    } else if n >= 4 && &magic[0..4] == b"fLaC" {
        Box::new(flac::FlacSource::open_with_limits(path, limits)?)
    } else if n == 0 {
        return Err(Error::malformed(path, "the file is empty"));
    } else {
        return Err(Error::unsupported(path, "not a WAV (RIFF/WAVE) or FLAC file"));
    };
    // The readers check their headers before allocating; this repeats it for any reader added
    // later that forgets.
    limits.check(path, src.info())?;
    Ok(src)
}
