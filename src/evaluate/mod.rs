//! The accuracy benchmark: the whole pipeline against known truth, as its users would run it.
//!
//! Two inputs, one [`Report`]:
//! * [`run_sweep`]: a seeded sweep synthesised in memory (no files): every standard beat rate,
//!   rate -300..+300 s/day, beat error 0..5 ms, amplitude 140..330 deg, lift angle 40..60 deg,
//!   SNR bands 6-10, 10-20 and 20-40 dB, 44.1/48/96 kHz, recorder clock +-100 ppm (given to the
//!   analysis as a known calibration), 20 s each, each in one of the five sound families of
//!   [`crate::synth::family`] (drawn from the case's key with a stream of its own, so every other
//!   parameter of a case is what it was before families existed); plus recordings with no watch
//!   (noise, pink noise, speech, music, silence, dither, a metronome, knocks).
//! * [`run_dir`]: a folder of recordings, each `NAME.wav` (or `.flac`) with `NAME.truth.json`
//!   beside it in the form `tickproof synth` writes ([`crate::synth::Truth`]).
//!
//! Each recording goes through [`analyze_source`] (sweep) or [`analyze_path`] (folder) with the
//! lift angle and the recorder clock of its truth, and is compared with the truth. Cases run in
//! parallel on the available cores (plain `std` threads pulling from a shared counter); results
//! are put back in case order, so everything but the speed figures is deterministic.
//!
//! Conventions of the comparison:
//! * Errors are `measured - truth`. Rate, beat error and amplitude errors are taken over the
//!   recordings whose beat rate was recognised correctly (a wrong bph shows in `bph_correct_pct`
//!   and would otherwise swamp the error statistics).
//! * The amplitude truth is the conventional figure the instrument defines,
//!   `L / (2 sin(pi t / T))` from the model's unlock-to-drop time
//!   ([`crate::synth::Truth::amplitude_by_convention_deg`]), not the model's swing `A`; the two
//!   differ only at second order in the beat error.
//! * Coverage is the share of those recordings whose truth lies within the reported +-u95.
//! * The watch recordings are grouped by beat rate, by SNR band and by sound family
//!   ([`Report::by_family`]; a folder's truth files without a family are `classic`).
//! * Speed is audio seconds over analysis seconds, per core, timed as the worker thread's
//!   on-CPU time where the system tells (Linux), else wall-clock time: for the sweep the audio is rendered
//!   to memory first and only [`analyze_source`] is timed; for a folder [`analyze_path`] is
//!   timed, reading and decoding included.
//!
//! Layout: `sweep` makes and runs the synthetic cases, `folder` reads a folder of recordings
//! and their truths, `report` compares results with truth and groups them, `text` prints the
//! report, and `workers` runs cases in parallel and times them.
//!
//! [`analyze_source`]: crate::measurement::analyze_source
//! [`analyze_path`]: crate::measurement::analyze_path
use crate::measurement::{AnalysisConfig, Figure, RecorderClock};
use crate::synth::Truth;

mod folder;
mod report;
mod sweep;
mod text;
mod workers;

#[cfg(test)]
mod tests;

pub use folder::{read_truth, recordings_in, run_dir, run_dir_with, truth_path, Error};
pub use report::{CaseResult, ErrorStats, NegativeRow, Report, Row};
pub use sweep::{run_case, run_sweep, sweep_cases, sweep_family, Case, SnrBand, SweepConfig};

/// Length of every swept recording, seconds.
pub const SWEEP_DURATION_S: f64 = 20.0;
/// Largest truth file read, bytes (a truth written by `tickproof synth` is about 3 kB).
pub const MAX_TRUTH_BYTES: u64 = 1 << 20;
/// Most recordings read from one folder.
pub const MAX_RECORDINGS: usize = 100_000;
/// The SNR bands of the sweep, dB (lower edge inclusive, upper exclusive).
pub const SWEEP_SNR_BANDS: [SnrBand; 3] = [SnrBand::Db6To10, SnrBand::Db10To20, SnrBand::Db20To40];
/// Sample rates of the sweep, Hz.
pub const SWEEP_SAMPLE_RATES_HZ: [u32; 3] = [44_100, 48_000, 96_000];

/// The analysis settings a truth implies: its lift angle, automatic bph, and its recorder clock
/// as a known calibration (exact: the benchmark measures the watch, not the calibration).
pub fn config_for(truth: &Truth) -> AnalysisConfig {
    AnalysisConfig {
        lift_angle_deg: truth.lift_angle_deg.unwrap_or(52.0),
        recorder: RecorderClock {
            recorder_ppm: Figure::new(truth.recorder_ppm, 0.0),
            source: "truth".into(),
            stale: false,
        },
        ..AnalysisConfig::default()
    }
}
