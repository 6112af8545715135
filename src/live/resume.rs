//! Resuming a guided protocol: the positions finished in an earlier run are found in its
//! folder (a complete recording with its side file naming the position) and kept; their live
//! figures come from the progress file `DIR/protocol.json`, rewritten after each position.
//! A recording never overwritten: one measured again, or left unfinished by a crash, is set
//! aside as `<POS>.superseded-N.wav` / `<POS>.partial-N.wav` with its side file.
use super::protocol::{position_files, Finished, Plan};
use super::recorder::{write_atomic, RecordingMeta};
use super::LiveError;
use crate::verdict::Position;
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
