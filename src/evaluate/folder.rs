//! The folder benchmark: recordings with the truth files `tickproof synth` writes beside them.
use super::report::{CaseResult, Report};
use super::workers::{parallel, threads_for, timed};
use super::{config_for, MAX_RECORDINGS, MAX_TRUTH_BYTES};
use crate::measurement::{analyze_path, Kind};
use crate::synth::Truth;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Errors of the folder benchmark. Every message names the file or folder.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The folder cannot be listed, or a file in it cannot be read.
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The folder holds no recording (`.wav` or `.flac`).
    NoRecordings {
        /// The folder.
        path: PathBuf,
    },
    /// More recordings than [`MAX_RECORDINGS`].
    TooMany {
        /// The folder.
        path: PathBuf,
    },
    /// A recording has no truth file beside it.
    MissingTruth {
        /// The truth file expected.
        path: PathBuf,
    },
    /// A truth file is not a truth in the form `tickproof synth` writes.
    BadTruth {
        /// The truth file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A recording could not be analysed (unreadable or malformed audio).
    Analysis {
        /// The recording.
        path: PathBuf,
        /// The analysis layer's message (it names the file).
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: cannot read: {source}", path.display()),
            Error::NoRecordings { path } => {
                write!(f, "{}: no recordings (.wav or .flac) in this folder", path.display())
            }
            Error::TooMany { path } => {
                write!(f, "{}: more than {MAX_RECORDINGS} recordings in this folder", path.display())
            }
            Error::MissingTruth { path } => {
                write!(f, "{}: missing truth file for the recording", path.display())
            }
            Error::BadTruth { path, what } => write!(f, "{}: bad truth file: {what}", path.display()),
            Error::Analysis { message, .. } => f.write_str(message),
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

/// The truth file of a recording: `NAME.wav` -> `NAME.truth.json`.
pub fn truth_path(recording: &Path) -> PathBuf {
    recording.with_extension("truth.json")
}

/// Reads and checks a truth file (size-bounded; the watch fields must be present and finite
/// for a watch).
pub fn read_truth(path: &Path) -> Result<Truth, Error> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingTruth { path: path.to_path_buf() },
        _ => Error::Io { path: path.to_path_buf(), source: e },
    })?;
    let mut text = String::new();
    f.take(MAX_TRUTH_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::BadTruth { path: path.to_path_buf(), what: format!("not UTF-8 text ({e})") })?;
    if text.len() as u64 > MAX_TRUTH_BYTES {
        return Err(Error::BadTruth {
            path: path.to_path_buf(),
            what: format!("larger than {MAX_TRUTH_BYTES} bytes"),
        });
    }
    let t: Truth = serde_json::from_str(&text)
        .map_err(|e| Error::BadTruth { path: path.to_path_buf(), what: e.to_string() })?;
    let bad = |what: &str| Err(Error::BadTruth { path: path.to_path_buf(), what: what.into() });
    if !t.recorder_ppm.is_finite() || t.recorder_ppm.abs() > 10_000.0 {
        return bad("recorder_ppm is not a plausible number");
    }
    match t.kind {
        Kind::Mechanical => {
            let finite = |x: Option<f64>| x.is_some_and(f64::is_finite);
            if t.bph.unwrap_or(0) == 0
                || !finite(t.rate_s_per_day)
                || !finite(t.beat_error_ms)
                || !finite(t.amplitude_deg)
            {
                return bad("a mechanical truth needs bph, rate_s_per_day, beat_error_ms and amplitude_deg");
            }
            if let Some(l) = t.lift_angle_deg {
                if !(l.is_finite() && (10.0..=90.0).contains(&l)) {
                    return bad("lift_angle_deg is outside 10..90");
                }
            }
        }
        Kind::None => {}
        Kind::Quartz => return bad("quartz truth is not evaluated yet (mechanical and none only)"),
    }
    Ok(t)
}

/// The recordings of a folder (`.wav` and `.flac`, any case), sorted by name.
pub fn recordings_in(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |e| Error::Io { path: dir.to_path_buf(), source: e };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        let ext = p.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
        if matches!(ext.as_deref(), Some("wav" | "flac")) && p.is_file() {
            out.push(p);
            if out.len() > MAX_RECORDINGS {
                return Err(Error::TooMany { path: dir.to_path_buf() });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::NoRecordings { path: dir.to_path_buf() });
    }
    out.sort();
    Ok(out)
}

/// Evaluates a folder of recordings with truth files (see the module docs). Every truth file
/// is read and checked before any analysis, so a bad one fails fast; the first recording that
/// cannot be analysed fails the whole run (a benchmark with holes would mislead).
pub fn run_dir(path: &Path) -> Result<Report, Error> {
    run_dir_with(path, 0)
}

/// [`run_dir`] with a number of worker threads (0 = the available cores).
pub fn run_dir_with(path: &Path, threads: usize) -> Result<Report, Error> {
    let t0 = Instant::now();
    let recs = recordings_in(path)?;
    let truths = recs.iter().map(|r| read_truth(&truth_path(r))).collect::<Result<Vec<_>, _>>()?;
    let threads = threads_for(threads, recs.len());
    let results = parallel(recs.len(), threads, |i| {
        let (rec, truth) = (&recs[i], &truths[i]);
        let (m, dt) = timed(|| analyze_path(rec, &config_for(truth)));
        let name = rec.display().to_string();
        m.map(|m| CaseResult::compare(name, truth, &m, m.duration_s, dt))
            .map_err(|e| Error::Analysis { path: rec.clone(), message: e.to_string() })
    });
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Report::from_results(path.display().to_string(), None, &results, threads, t0.elapsed().as_secs_f64()))
}
