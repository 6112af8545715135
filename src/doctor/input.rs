//! The audio the doctor examines: a bounded stretch held in memory.
use super::DoctorError;
use crate::source::{self, BlockSource};
use std::path::Path;

/// Seconds of a recording examined unless asked otherwise.
pub const DEFAULT_SECONDS: f64 = 60.0;
/// Most seconds the doctor examines (a check, not a measurement).
pub const MAX_SECONDS: f64 = 600.0;
/// Most samples (all channels) held in memory: 64 MiB of `f32` (the analysis and the channel
/// examined take a copy each). A recording with many channels or a high rate is examined over
/// a shorter stretch.
pub const MAX_TOTAL_SAMPLES: usize = 16 * 1024 * 1024;

/// Interleaved audio in memory with what is known of it.
#[derive(Debug, Clone)]
pub struct Input {
    /// Interleaved samples in `[-1, 1]`.
    pub samples: Vec<f32>,
    /// Samples per second per channel.
    pub sample_rate_hz: u32,
    /// Channels per frame (at least 1).
    pub channels: u16,
    /// The recording's path or the device's name.
    pub source: String,
    /// What is missing from a recording cut inside its data, in words.
    pub truncation: Option<String>,
}

impl Input {
    /// Frames held.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }

    /// One channel's samples (0-based; clamped to the last channel).
    pub fn channel(&self, c: u16) -> Vec<f32> {
        let ch = self.channels.max(1) as usize;
        let c = (c as usize).min(ch - 1);
        self.samples.iter().skip(c).step_by(ch).copied().collect()
    }
}

/// Checks a seconds setting: a positive number up to [`MAX_SECONDS`].
pub fn check_seconds(seconds: f64) -> Result<(), DoctorError> {
    if (1.0..=MAX_SECONDS).contains(&seconds) {
        Ok(())
    } else {
        Err(DoctorError::Config(format!("--seconds {seconds}: expected 1..{MAX_SECONDS} seconds")))
    }
}

/// Reads the first `seconds` of a recording (WAV or FLAC) into memory.
pub fn read_file(path: &Path, seconds: f64) -> Result<Input, DoctorError> {
    check_seconds(seconds)?;
    let mut src = source::open(path)?;
    let mut input = read_source(src.as_mut(), seconds)?;
    input.source = path.display().to_string();
    Ok(input)
}

/// Reads up to `seconds` from any block source into memory, bounded by [`MAX_TOTAL_SAMPLES`]
/// before anything is allocated.
pub fn read_source(src: &mut dyn BlockSource, seconds: f64) -> Result<Input, DoctorError> {
    check_seconds(seconds)?;
    let info = src.info().clone();
    let ch = info.channels.max(1) as usize;
    let wanted = (seconds * info.sample_rate_hz as f64).ceil() as usize;
    let frames = wanted.min(MAX_TOTAL_SAMPLES / ch);
    let frames = info.frames.map_or(frames, |f| frames.min(f as usize));
    let mut samples = Vec::with_capacity(frames * ch);
    let mut block = vec![0.0f32; 4096 * ch];
    while samples.len() < frames * ch {
        let n = src.read_frames(&mut block)?;
        if n == 0 {
            break;
        }
        let take = (n * ch).min(frames * ch - samples.len());
        samples.extend_from_slice(&block[..take]);
    }
    Ok(Input {
        samples,
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels.max(1),
        source: String::new(),
        truncation: src.truncation(),
    })
}
