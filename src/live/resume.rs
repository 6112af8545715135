//! Resuming a guided protocol: the positions finished in an earlier run are found in its
//! folder (a complete recording with its side file naming the position) and kept; their live
//! figures come from the progress file `DIR/protocol.json`, rewritten after each position.
//! The host-clock stamps of each run go to `DIR/host-clock.json` ([`save_host_clock`]), so the
//! run that completes the protocol calibrates the recorder from every run's stamps, not only
//! its own. A run killed outright leaves no stamps: the calibration then rests on the others.
//! A recording never overwritten: one measured again, or left unfinished by a crash, is set
//! aside as `<POS>.superseded-N.wav` / `<POS>.partial-N.wav` with its side file.
use super::protocol::{position_files, Finished, Plan};
use super::recorder::{write_atomic, RecordingMeta};
use super::LiveError;
use crate::calibration::HostClockCapture;
use crate::verdict::Position;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The progress file of a protocol folder.
pub const PROGRESS_FILE: &str = "protocol.json";
/// Largest progress file read, bytes (six positions take about 2 KiB).
const MAX_PROGRESS_BYTES: u64 = 1 << 20;
/// Largest side file read, bytes.
const MAX_SIDE_BYTES: u64 = 1 << 20;

/// Writes the finished positions to `DIR/protocol.json` (atomically).
pub fn save_progress(dir: &Path, done: &[Finished]) -> Result<(), LiveError> {
    let json = serde_json::to_vec_pretty(done).expect("progress serialises");
    write_atomic(&dir.join(PROGRESS_FILE), &json, false)
}

fn read_bounded(p: &Path, max: u64) -> Option<Vec<u8>> {
    let len = std::fs::metadata(p).ok()?.len();
    (len <= max).then(|| std::fs::read(p).ok()).flatten()
}

/// The figures saved for the finished positions (none when the file is absent or damaged:
/// they are only shown; the recordings are the evidence).
pub fn load_progress(dir: &Path) -> Vec<Finished> {
    read_bounded(&dir.join(PROGRESS_FILE), MAX_PROGRESS_BYTES)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The host-clock file of a protocol folder.
pub const HOST_CLOCK_FILE: &str = "host-clock.json";
/// Largest host-clock file read, bytes (a capture of hours decimates to about 0.6 MB).
const MAX_HOST_CLOCK_BYTES: u64 = 24 << 20;
/// Most captures kept in it: beyond, the earliest are dropped.
pub const MAX_CAPTURES: usize = 32;

/// The host-clock stamps of a protocol's runs, from one source at one rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostClockState {
    /// The source captured (device name, or `replay:FILE`).
    pub source: String,
    /// Its sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Each run's stamps, in the order made.
    pub captures: Vec<HostClockCapture>,
}

/// Writes the host-clock stamps of a protocol folder (atomically), the last [`MAX_CAPTURES`].
pub fn save_host_clock(dir: &Path, state: &HostClockState) -> Result<(), LiveError> {
    let skip = state.captures.len().saturating_sub(MAX_CAPTURES);
    let kept = HostClockState { captures: state.captures[skip..].to_vec(), ..state.clone() };
    let json = serde_json::to_vec(&kept).expect("host-clock state serialises");
    write_atomic(&dir.join(HOST_CLOCK_FILE), &json, false)
}

/// The host-clock stamps an earlier run left in `dir`: `Ok(None)` when there are none,
/// `Err(why)` when the file is damaged (too large, not the format, a capture not usable).
pub fn load_host_clock(dir: &Path) -> Result<Option<HostClockState>, String> {
    let p = dir.join(HOST_CLOCK_FILE);
    if !p.exists() {
        return Ok(None);
    }
    let shown = p.display();
    let bytes = read_bounded(&p, MAX_HOST_CLOCK_BYTES)
        .ok_or_else(|| format!("{shown}: unreadable or larger than {MAX_HOST_CLOCK_BYTES} bytes"))?;
    let state: HostClockState = serde_json::from_slice(&bytes).map_err(|e| format!("{shown}: {e}"))?;
    if state.captures.len() > MAX_CAPTURES {
        return Err(format!("{shown}: more than {MAX_CAPTURES} captures"));
    }
    for (i, c) in state.captures.iter().enumerate() {
        if let Some(problem) = c.segment.problem() {
            return Err(format!("{shown}: capture {}: {problem}", i + 1));
        }
    }
    Ok(Some(state))
}

/// What an earlier run left in a protocol folder.
#[derive(Debug, Default)]
pub struct Found {
    /// Positions complete and kept, with their figures when saved.
    pub kept: Vec<Finished>,
    /// Positions whose files were there but not a complete recording of the plan's length:
    /// they were set aside (the paths) and are measured again.
    pub set_aside: Vec<PathBuf>,
}

/// True when `wav` is a complete recording of `position`, at least `frames` long, at `fs` Hz.
fn is_complete(side: &Path, position: Position, fs: u32, frames: u64) -> bool {
    let Some(bytes) = read_bounded(side, MAX_SIDE_BYTES) else { return false };
    let Ok(meta) = serde_json::from_slice::<RecordingMeta>(&bytes) else { return false };
    meta.complete
        && meta.position.as_deref() == Some(position.code())
        && meta.sample_rate_hz == fs
        && meta.frames >= frames
        && meta.overrun_samples == 0
}

/// Scans `dir` for the plan's positions at `fs` Hz: complete ones are kept, anything else
/// found under a position's name is set aside (never deleted).
pub fn scan(dir: &Path, plan: &Plan, fs: u32) -> Result<Found, LiveError> {
    let frames = (plan.seconds_per_position * fs as f64).round() as u64;
    let saved = load_progress(dir);
    let mut found = Found::default();
    for &p in &plan.positions {
        let (wav, side) = position_files(dir, p);
        if !wav.exists() && !side.exists() {
            continue;
        }
        if wav.exists() && is_complete(&side, p, fs, frames) {
            let figs = saved.iter().find(|f| f.position == p);
            found.kept.push(Finished {
                position: p,
                file: wav,
                rate_s_per_day: figs.and_then(|f| f.rate_s_per_day),
                beat_error_ms: figs.and_then(|f| f.beat_error_ms),
                amplitude_deg: figs.and_then(|f| f.amplitude_deg),
            });
        } else {
            found.set_aside.push(set_aside(dir, p, "partial")?);
        }
    }
    Ok(found)
}

/// Renames a position's recording and side file to `<POS>.<word>-N.wav(.json)`, the first N
/// free; returns the new recording's path.
pub fn set_aside(dir: &Path, p: Position, word: &str) -> Result<PathBuf, LiveError> {
    let (wav, side) = position_files(dir, p);
    for n in 1..10_000 {
        let new_wav = dir.join(format!("{}.{word}-{n}.wav", p.code()));
        let new_side = dir.join(format!("{}.{word}-{n}.wav.json", p.code()));
        if new_wav.exists() || new_side.exists() {
            continue;
        }
        for (from, to) in [(&wav, &new_wav), (&side, &new_side)] {
            if from.exists() {
                std::fs::rename(from, to)
                    .map_err(|e| LiveError::Storage { path: from.clone(), source: e })?;
            }
        }
        return Ok(new_wav);
    }
    Err(LiveError::Exists(dir.join(format!("{}.{word}-*.wav", p.code()))))
}
