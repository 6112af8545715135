//! `tickproof doctor`: checks the input before a measurement.
//!
//! A stretch of audio (a recording's first minute, or a few seconds from the microphone) is
//! read into memory ([`Input`], bounded before allocation) and examined ([`examine`]):
//!
//! * [`level`]: peak and RMS level (dBFS), headroom, clipping (the share of samples at the
//!   recording's full scale), and the noise floor between the ticks;
//! * [`spectrum`]: mains hum (50/60 Hz and harmonics, measured between the ticks) and the band
//!   where the beat energy sits;
//! * the library's own analysis ([`crate::measurement::analyze_source`], read-only): whether
//!   ticks are heard, at what bph, and how clean they are;
//! * the recorder's calibration state ([`calibration_state`]): the device's profile, if any.
//!
//! Each check ends `ok`, `warn` or `fail` with a sentence and, when something should change,
//! what to change (gain, microphone placement, a quieter room). The input is usable when no
//! check fails ([`Report::usable`]). The checks read the audio only; they never measure a rate.
use crate::measurement::{analyze_source, AnalysisConfig, Figure, Kind, Measurement, RecorderClock};
use crate::source::{BlockSource, MemorySource};
use serde::Serialize;
use std::fmt;
use std::path::Path;

pub mod checks;
pub mod input;
pub mod level;
#[cfg(feature = "capture")]
pub mod live;
pub mod spectrum;

pub use checks::{Check, Status};
pub use input::{read_file, read_source, Input, DEFAULT_SECONDS, MAX_SECONDS, MAX_TOTAL_SAMPLES};
pub use level::LevelStats;
pub use spectrum::{Band, Hum};

/// The schema every `doctor --json` report names in its `schema` field
/// (`schema/doctor.v1.json`).
pub const SCHEMA: &str = "tickproof.doctor.v1";

/// What can stop the doctor before it has a report.
#[derive(Debug)]
pub enum DoctorError {
    /// The recording could not be read (names the file and the problem).
    Source(crate::source::Error),
    /// A setting or input that cannot be used (a bad seconds value, a damaged profile).
    Config(String),
    /// The audio device could not give audio (absent, busy, unplugged, no permission).
    Device(String),
    /// The library's analysis refused the audio.
    Analysis(String),
}

impl fmt::Display for DoctorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DoctorError::Source(e) => write!(f, "{e}"),
            DoctorError::Config(m) | DoctorError::Analysis(m) => f.write_str(m),
            DoctorError::Device(m) => write!(f, "audio device: {m}"),
        }
    }
}

impl std::error::Error for DoctorError {}

impl From<crate::source::Error> for DoctorError {
    fn from(e: crate::source::Error) -> Self {
        DoctorError::Source(e)
    }
}

/// The recorder's calibration as the doctor reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationState {
    /// The device whose profile was looked for (`None`: no device named for a recording).
    pub device: Option<String>,
    /// `calibrated`, `stale` (a profile past its validity) or `uncalibrated`.
    pub state: String,
    /// The recorder's clock error applied to rates (0 ± 0 when uncalibrated), ppm.
    pub recorder_ppm: Figure,
    /// Where the figure comes from: the profile (date, hash), or "uncalibrated".
    pub source: String,
}

/// The calibration state of `device` (its profile in the default profile folder). A device
/// never calibrated, or none named, is uncalibrated; a damaged profile is an error.
pub fn calibration_state(device: Option<&str>) -> Result<CalibrationState, DoctorError> {
    use crate::calibration::CalibrationError as E;
    let clock = match device {
        None => RecorderClock::uncalibrated(),
        Some(d) => match crate::calibration::resolve_recorder(
            Some(d),
            None,
            None,
            crate::calibration::UtcTime::now(),
        ) {
            Ok(r) => r,
            Err(E::NotFound { .. } | E::InvalidDeviceName { .. } | E::NoConfigDir) => {
                RecorderClock::uncalibrated()
            }
            Err(e) => return Err(DoctorError::Config(e.to_string())),
        },
    };
    Ok(state_of(device, &clock))
}

/// The calibration state of a resolved recorder clock.
pub fn state_of(device: Option<&str>, clock: &RecorderClock) -> CalibrationState {
    let state = if clock.is_uncalibrated() {
        "uncalibrated"
    } else if clock.stale {
        "stale"
    } else {
        "calibrated"
    };
    CalibrationState {
        device: device.map(str::to_string),
        state: state.into(),
        recorder_ppm: clock.recorder_ppm,
        source: clock.source.clone(),
    }
}

/// What the library's analysis heard in the input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticks {
    /// Whether a watch was heard (a mechanical escapement or a quartz motor).
    pub heard: bool,
    /// `mechanical`, `quartz` or `none`.
    pub kind: Kind,
    /// Beats per hour (3600 for a quartz watch stepping each second); `None` when not heard.
    pub bph: Option<u32>,
    /// The analysis' signal quality, 0 (unusable) .. 1 (clean).
    pub quality: f64,
    /// Signal-to-noise ratio of the ticks in the analysis band, dB (when measured).
    pub snr_db: Option<f64>,
    /// Beats (or quartz steps) the analysis used.
    pub beats_used: usize,
    /// Beat slots it rejected.
    pub beats_rejected: usize,
    /// Why no watch was heard, in the analysis' words.
    pub reason: Option<String>,
}

impl Ticks {
    fn of(m: &Measurement) -> Self {
        Ticks {
            heard: m.kind != Kind::None,
            kind: m.kind,
            bph: m.bph,
            quality: m.quality,
            snr_db: m.snr_db,
            beats_used: m.beats_used,
            beats_rejected: m.beats_rejected,
            reason: m.reason.clone(),
        }
    }
}

/// The doctor's report on one input.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The recording's path or the device's name.
    pub source: String,
    /// `file` or `live`.
    pub mode: &'static str,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Channels in the input.
    pub channels: u16,
    /// The channel examined (0-based): the analysis' choice, where the ticks are strongest.
    pub channel: u16,
    /// Seconds of audio examined.
    pub duration_s: f64,
    /// True when no check failed: a measurement can start.
    pub usable: bool,
    /// Level, clipping and noise floor.
    pub level: LevelStats,
    /// Mains hum between the ticks.
    pub hum: Hum,
    /// The band where the beat energy sits.
    pub band: Band,
    /// What the analysis heard.
    pub ticks: Ticks,
    /// The recorder's calibration.
    pub calibration: CalibrationState,
    /// Every check in the order shown, with its status, finding and advice.
    pub checks: Vec<Check>,
    /// A recording read only as far as it goes (cut inside its data), in words.
    pub truncation: Option<String>,
}

impl Report {
    /// What to change, one sentence per failing or warning check, failures first.
    pub fn advice(&self) -> Vec<&str> {
        let mut v: Vec<&Check> = self.checks.iter().filter(|c| c.advice.is_some()).collect();
        v.sort_by_key(|c| std::cmp::Reverse(c.status));
        v.iter().filter_map(|c| c.advice.as_deref()).collect()
    }
}

/// Where the input came from, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A recording.
    File,
    /// Live capture from a device.
    Live,
}

/// Examines `input`: level, clipping, noise floor, hum, tick band, the analysis' reading, and
/// the calibration state given; returns the report with its checks.
pub fn examine(
    input: &Input,
    mode: Mode,
    analysis: &AnalysisConfig,
    calibration: CalibrationState,
) -> Result<Report, DoctorError> {
    let src: Box<dyn BlockSource> =
        Box::new(MemorySource::new(input.samples.clone(), input.sample_rate_hz, input.channels));
    let m =
        analyze_source(src, analysis).map_err(|e| DoctorError::Analysis(format!("{}: {e}", input.source)))?;
    let channel = m.channel.min(input.channels.saturating_sub(1));
    let x = input.channel(channel);
    let fs = input.sample_rate_hz as f64;
    let level = LevelStats::of(&x, fs);
    let hum = spectrum::hum(&x, fs);
    let band = spectrum::band(&x, fs);
    let ticks = Ticks::of(&m);
    let duration_s = input.frames() as f64 / fs;
    let checks = checks::all(&level, &hum, &band, &ticks, &calibration, mode, duration_s);
    Ok(Report {
        schema: SCHEMA,
        source: input.source.clone(),
        mode: match mode {
            Mode::File => "file",
            Mode::Live => "live",
        },
        sample_rate_hz: input.sample_rate_hz,
        channels: input.channels,
        channel,
        duration_s,
        usable: checks.iter().all(|c| c.status != Status::Fail),
        level,
        hum,
        band,
        ticks,
        calibration,
        checks,
        truncation: input.truncation.clone(),
    })
}

/// Reads up to `seconds` of a recording and examines it, with the calibration of `device`
/// (the recorder that made it) when named.
pub fn examine_file(
    path: &Path,
    seconds: f64,
    analysis: &AnalysisConfig,
    device: Option<&str>,
) -> Result<Report, DoctorError> {
    let input = read_file(path, seconds)?;
    let calibration = calibration_state(device)?;
    let mut cfg = analysis.clone();
    if device.is_some() {
        cfg.recorder = clock_of(&calibration);
    }
    examine(&input, Mode::File, &cfg, calibration)
}

/// The recorder clock a calibration state stands for.
pub fn clock_of(c: &CalibrationState) -> RecorderClock {
    RecorderClock { recorder_ppm: c.recorder_ppm, source: c.source.clone(), stale: c.state == "stale" }
}

/// Converts an amplitude ratio to dB, with a floor of -160 dB for digital zero.
pub fn db(amplitude: f64) -> f64 {
    if amplitude.is_finite() && amplitude > 1e-8 {
        20.0 * amplitude.log10()
    } else {
        -160.0
    }
}
