//! Quartz watches: rate in s/month from the stepper motor's clicks, inhibition-aware, with
//! end-of-life, missing-step and stopped-motor findings.
//!
//! Method, from the click train of [`crate::beats::clicks`]:
//! 1. Clicks closer than 0.25 s form one hand movement (an end-of-life burst of 2/4/5 quick
//!    steps, or a single step). The median time between movements gives `step_interval_s`;
//!    movements are numbered in watch seconds (`n`) by rounding their intervals.
//! 2. A robust line `t = t0 + P n (+ class offset)` gives the residuals. Inhibition makes them a
//!    sawtooth: within a period the seconds are short, then one interval is lengthened by the
//!    dropped cycles. For every candidate period (every whole second from 5 to 240 s, and some
//!    longer, see [`QuartzConfig`]) and phase the model `t = a + b n + c J(n)` (J = corrections
//!    so far) is fitted over all steps, so a correction far below the per-step scatter still
//!    shows; the best one is kept when its correction `c` is positive and at least
//!    `min_inhibition_z` standard errors (a look-elsewhere-safe margin over ~10^4 trials).
//! 3. The rate: with inhibition, over whole periods when there are two or more (start and end
//!    at the same phase), else from the sawtooth fitted over every step; the mean second is
//!    `b + c / P`. Without, the straight line, and the largest bias that a sawtooth just below
//!    the detection threshold could cause, at any candidate period with a jump inside the span,
//!    enters the u95 (an inhibition slower than the recording is named in a finding instead:
//!    the data cannot see it). The u95 comes from the fit's covariance, the residual scatter,
//!    the lag-1 autocorrelation (effective N) and Student t. A rate is refused only below
//!    `min_steps` steps on the grid.
//! 4. The rate is corrected for the recorder clock ([`correct_rate_s_per_day`]) whose u95 adds in
//!    quadrature. When the watch timing alone is wider than
//!    [`QuartzConfig::target_u95_s_per_month`], a `recording_too_short` finding says how many more
//!    seconds would reach it; whether the figure is enough for a claim is the verdict's call.

mod analyse;
mod detect;
mod model;

use std::fmt;

use crate::beats::clicks::{self, fit_steps, lag1, median, t975, ClickConfig, ClickTrain, Normal};
use crate::measurement::{
    correct_rate_s_per_day, software_id, Figure, Finding, Kind, Measurement, Quartz, RecorderClock,
    SECONDS_PER_DAY, S_PER_DAY_PER_PPM,
};
use crate::source::{self, BlockSource};

pub use analyse::analyse_train;
pub use detect::{looks_like_quartz, quartz_score};

/// Settings of the quartz analysis. `Default` is what `tickproof analyze` uses.
#[derive(Debug, Clone, PartialEq)]
pub struct QuartzConfig {
    /// Precision (u95, s/month) that the `recording_too_short` finding counts the seconds to:
    /// the rate is given whatever its u95, and a verdict decides whether that is enough.
    pub target_u95_s_per_month: f64,
    /// Longest inhibition period that the `inhibition_not_excluded` finding asks to exclude, s.
    pub max_inhibition_period_s: u32,
    /// Inhibition periods searched, seconds (every whole second from 5 to 240, then longer).
    pub candidate_periods_s: Vec<u32>,
    /// Significance of an inhibition correction (correction / its standard error). A
    /// correction below it is not reported, and the largest one that could hide below it
    /// enters the rate's u95.
    pub min_inhibition_z: f64,
    /// Fewest steps on the time grid for a rate.
    pub min_steps: usize,
    /// Settings of the click timer.
    pub clicks: ClickConfig,
}

impl Default for QuartzConfig {
    fn default() -> Self {
        QuartzConfig {
            target_u95_s_per_month: 1.0,
            max_inhibition_period_s: 120,
            candidate_periods_s: (5..=240).chain([300, 360, 480, 600]).collect(),
            min_inhibition_z: 6.0,
            min_steps: 20,
            clicks: ClickConfig::default(),
        }
    }
}

/// Timing of one hand movement, for the step-timing plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResidual {
    /// Time of the movement's first step, seconds on the recorder's timeline.
    pub t_s: f64,
    /// Watch second the movement belongs to (from the first).
    pub second: i64,
    /// Deviation from the fitted straight line (the inhibition sawtooth shows here), seconds.
    pub residual_s: f64,
    /// Whether the step was used (not rejected as an outlier).
    pub used: bool,
}

/// The result of the quartz analysis of one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct QuartzOutcome {
    /// The quartz figures, or `None` when no regular step train was found.
    pub quartz: Option<Quartz>,
    /// Why there are no quartz figures, in plain words.
    pub reason: Option<String>,
    /// Signal quality, 0..1: share of expected steps timed cleanly times their shape agreement.
    pub quality: f64,
    /// Click power over noise power in the analysis band, dB.
    pub snr_db: Option<f64>,
    /// Findings bearing on a verdict (`battery_end_of_life`, `motor_missing_steps`,
    /// `motor_stopped`, `recorder_uncalibrated`, `recorder_calibration_stale`,
    /// `recording_too_short`).
    pub findings: Vec<Finding>,
    /// Length analysed, seconds.
    pub duration_s: f64,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// The recorder clock applied.
    pub recorder: RecorderClock,
    /// Per-movement timing residuals against the straight line.
    pub residuals: Vec<StepResidual>,
}

impl QuartzOutcome {
    /// The outcome as a [`Measurement`] (kind "quartz", or "none" with the reason).
    pub fn to_measurement(&self, channels: u16, channel: u16) -> Measurement {
        let q = self.quartz.as_ref();
        Measurement {
            kind: if q.is_some() { Kind::Quartz } else { Kind::None },
            bph: q.map(|_| 3600),
            rate_s_per_day: q.and_then(|q| q.rate_s_per_day),
            beat_error_ms: None,
            amplitude_deg: None,
            lift_angle_deg: 0.0,
            recorder_ppm: self.recorder.recorder_ppm,
            calibration: self.recorder.source.clone(),
            calibration_stale: self.recorder.stale,
            beats_used: q.map_or(0, |q| q.steps_used),
            beats_rejected: q.map_or(0, |q| q.steps_rejected),
            duration_s: self.duration_s,
            quality: self.quality,
            snr_db: self.snr_db,
            sample_rate_hz: self.sample_rate_hz,
            channels,
            channel,
            reason: self.reason.clone(),
            mechanical: None,
            quartz: q.cloned(),
            rate_s_per_month: q.and_then(|q| q.rate_s_per_month),
            findings: self.findings.clone(),
            software: software_id(),
        }
    }
}

/// Errors of the quartz analysis.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The click timer failed (bad channel, unreadable audio).
    Clicks(clicks::Error),
    /// The source could not be rewound or read.
    Source(source::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Clicks(e) => write!(f, "{e}"),
            Error::Source(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Clicks(e) => Some(e),
            Error::Source(e) => Some(e),
        }
    }
}

impl From<clicks::Error> for Error {
    fn from(e: clicks::Error) -> Self {
        Error::Clicks(e)
    }
}

impl From<source::Error> for Error {
    fn from(e: source::Error) -> Self {
        Error::Source(e)
    }
}

/// Measures a quartz watch on one channel of `src` (from its current position) with the default
/// settings, correcting for `recorder`.
pub fn measure(
    src: &mut dyn BlockSource,
    channel: u16,
    recorder: &RecorderClock,
) -> Result<QuartzOutcome, Error> {
    measure_with(src, channel, recorder, &QuartzConfig::default())
}

/// [`measure`] with explicit settings.
pub fn measure_with(
    src: &mut dyn BlockSource,
    channel: u16,
    recorder: &RecorderClock,
    cfg: &QuartzConfig,
) -> Result<QuartzOutcome, Error> {
    let train = clicks::time_clicks(src, channel, &cfg.clicks)?;
    Ok(analyse_train(&train, recorder, cfg))
}
