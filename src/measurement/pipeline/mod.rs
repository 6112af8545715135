//! The pipeline: source -> conditioning -> beats -> estimators -> [`Measurement`].
//!
//! A file is read twice. The first pass ([`RateScan`]) decides the beat rate from the whole
//! recording, so a noisy or silent start cannot decide it. The second feeds [`Analyzer`]: it
//! keeps a stretch of audio to find the beats and learn the tic and toc envelopes, sliding on
//! past stretches where that fails (a noise gap, a knock-filled start), then replays the stretch
//! through the beat timer and keeps timing beats as more audio arrives; memory stays flat.
//! Live input has no first pass: the analyser decides the rate from its own stretch, and the
//! live session re-acquires on a sliding window.
mod analyzer;
mod error;
mod file;

pub use analyzer::{Analyzer, MechanicalOutcome};
pub use error::AnalyzeError;
pub use file::{
    analyze_path, analyze_path_detailed, analyze_source, analyze_source_detailed, display, Detail,
};

/// Samples per block fed through the pipeline.
pub const BLOCK_FRAMES: usize = 4096;
/// Seconds of audio used to recognise the beat rate and learn the beat's sound.
pub const ACQUISITION_S: f64 = 12.0;
/// Seconds of beats missed in a row after which a file's analysis gives the beat line up and
/// learns the beats anew from the audio that follows (a new segment): the watch moved and sounds
/// different, or the recording was cut. Shorter gaps (a dropout, a burst of noise) are bridged
/// by the beat line.
pub const LOST_S: f64 = 4.0;
/// Smallest fraction of a stretch's beat slots that must hold a tick for the beats to be
/// learnt from it while more of the recording remains.
pub const MIN_TICKING_FRACTION: f64 = 0.8;
/// Most segments of one recording (past that, the last one runs to the end).
pub const MAX_SEGMENTS: usize = 16;
/// How close, seconds, a new segment's first unlock must fall to a slot of the last segment's
/// beat line for the line's parity to name its sides: well above the timing scatter and the
/// shift of an unlock read on a different sound, far below a beat.
pub const GRID_TOLERANCE_S: f64 = 0.002;
/// Smallest tic/toc offset, seconds, whose sign names the sides of a new segment: ten times
/// the precision of the offset over one stretch, a tenth of a typical beat error.
pub const SIDE_OFFSET_MIN_S: f64 = 0.00005;
/// Below this sample rate a recording is narrow-band (a phone call, a dictaphone): a "no watch"
/// there says what the band took away.
pub const NARROW_BAND_HZ: u32 = 22_050;
