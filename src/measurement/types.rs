//! Result types shared by every stage after the estimators: what a measurement says.
use serde::{Deserialize, Serialize};

/// A measured figure with its 95% uncertainty (half-width of the 95% interval).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The best estimate.
    pub value: f64,
    /// Half-width of the 95% interval, derived from the data; never negative.
    pub u95: f64,
}

impl Figure {
    /// A figure from a value and its 95% half-width.
    pub fn new(value: f64, u95: f64) -> Self {
        Figure { value, u95: u95.abs() }
    }
    /// The lower edge of the 95% interval.
    pub fn lo(&self) -> f64 {
        self.value - self.u95
    }
    /// The upper edge of the 95% interval.
    pub fn hi(&self) -> f64 {
        self.value + self.u95
    }
    /// True when `x` lies within the 95% interval.
    pub fn covers(&self, x: f64) -> bool {
        (x - self.value).abs() <= self.u95
    }
}

/// What kind of timekeeper the recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A balance-wheel escapement (tic, toc).
    Mechanical,
    /// A stepper motor driven by a quartz oscillator.
    Quartz,
    /// No watch signal was found.
    None,
}

/// Which analysis to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum KindChoice {
    /// Decide from the signal.
    #[default]
    Auto,
    /// Force the mechanical timegrapher.
    Mechanical,
    /// Force the quartz step analysis.
    Quartz,
}

/// The recorder's sample-clock error applied to a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecorderClock {
    /// How fast the recorder's clock runs against true time, in ppm (+ = fast), with its u95.
    pub recorder_ppm: Figure,
    /// Where the figure came from: a profile name, "command line", or "uncalibrated".
    pub source: String,
    /// True when the calibration profile is older than its validity period.
    #[serde(default)]
    pub stale: bool,
}

impl RecorderClock {
    /// No calibration: the recorder is assumed exact, with no uncertainty claimed for it.
    pub fn uncalibrated() -> Self {
        RecorderClock { recorder_ppm: Figure::new(0.0, 0.0), source: "uncalibrated".into(), stale: false }
    }
    /// True when no calibration was given.
    pub fn is_uncalibrated(&self) -> bool {
        self.source == "uncalibrated"
    }
}

/// A remark about the measurement that matters to a verdict (machine code + plain words).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable machine-readable code, e.g. `battery_end_of_life`, `poor_signal`.
    pub code: String,
    /// The finding in plain words.
    pub message: String,
}

impl Finding {
    /// A finding from a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Finding { code: code.to_string(), message: message.into() }
    }
}

/// Rate measured over one window of the recording (for the trend and the spread).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowRate {
    /// Window start, seconds from the start of the recording.
    pub start_s: f64,
    /// Window end, seconds from the start of the recording.
    pub end_s: f64,
    /// Rate in this window, corrected for the recorder clock.
    pub rate_s_per_day: Figure,
    /// Beats used in this window.
    pub beats: usize,
}

/// The figures of a mechanical (balance-wheel) movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mechanical {
    /// Beats per hour of the movement (nominal).
    pub bph: u32,
    /// `auto` when recognised among the standard rates, `forced` when given.
    pub bph_source: String,
    /// Rate, s/day, + = gains, corrected for the recorder clock.
    pub rate_s_per_day: Figure,
    /// Beat error, ms: |t1 - t2| / 2 of alternate beat intervals; `None` when it could not be
    /// measured (see `beat_error_note`).
    pub beat_error_ms: Option<Figure>,
    /// Why the beat error is missing, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beat_error_note: Option<String>,
    /// Amplitude, degrees (mean of tic and toc); `None` when it could not be measured.
    pub amplitude_deg: Option<Figure>,
    /// Amplitude from the tic side alone.
    pub tic_amplitude_deg: Option<Figure>,
    /// Amplitude from the toc side alone.
    pub toc_amplitude_deg: Option<Figure>,
    /// Why the amplitude is missing, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amplitude_note: Option<String>,
    /// Lift angle used for the amplitude, degrees.
    pub lift_angle_deg: f64,
    /// Mean unlock-to-drop time of the tic and toc sides, ms.
    pub unlock_to_drop_ms: Option<[f64; 2]>,
    /// RMS of the per-beat timing residuals after the fit, ms.
    pub jitter_ms: f64,
    /// Standard deviation of the rate over 10 s windows, s/day (null with fewer than 2 windows).
    pub rate_spread_s_per_day: Option<f64>,
    /// Rate per 10 s window.
    pub windows: Vec<WindowRate>,
    /// Beats timed and used in the fit.
    pub beats_used: usize,
    /// Beat slots rejected (missing, knocks, speech, outliers).
    pub beats_rejected: usize,
}

/// The figures of a quartz (stepper-motor) movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quartz {
    /// Rate, s/month (30 days), + = gains; `None` when the recording is too short.
    pub rate_s_per_month: Option<Figure>,
    /// Rate, s/day, + = gains; `None` when the recording is too short.
    pub rate_s_per_day: Option<Figure>,
    /// Seconds between hand steps: 1 normally, 2/4/5 at battery end of life.
    pub step_interval_s: f64,
    /// Period of the inhibition correction, seconds, or `None` when none was seen.
    pub inhibition_period_s: Option<f64>,
    /// Size of the inhibition correction, ppm of the oscillator (how much is dropped per period).
    pub inhibition_correction_ppm: Option<f64>,
    /// Steps timed and used.
    pub steps_used: usize,
    /// Steps rejected as outliers or missing.
    pub steps_rejected: usize,
    /// RMS of the per-step timing residuals, ms.
    pub jitter_ms: f64,
    /// When the recording is too short for a rate: how many more seconds are needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_more_s: Option<f64>,
}

/// The outcome of analysing one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// What was found.
    pub kind: Kind,
    /// Nominal beats per hour (mechanical), 3600 for a 1 Hz quartz step, `None` when no watch.
    pub bph: Option<u32>,
    /// Rate, s/day (mechanical or quartz), corrected for the recorder clock.
    pub rate_s_per_day: Option<Figure>,
    /// Beat error, ms (mechanical only).
    pub beat_error_ms: Option<Figure>,
    /// Amplitude, degrees (mechanical only).
    pub amplitude_deg: Option<Figure>,
    /// Lift angle used, degrees.
    pub lift_angle_deg: f64,
    /// The recorder clock correction applied (value and u95, ppm), and where it came from.
    pub recorder_ppm: Figure,
    /// Name of the calibration profile applied, or "uncalibrated" / "command line".
    pub calibration: String,
    /// True when the calibration used is past its validity.
    pub calibration_stale: bool,
    /// Beats (or quartz steps) used.
    pub beats_used: usize,
    /// Beats (or quartz steps) rejected.
    pub beats_rejected: usize,
    /// Length of the recording analysed, seconds.
    pub duration_s: f64,
    /// Signal quality, 0 (unusable) .. 1 (clean): how much of the timing is signal rather than noise.
    pub quality: f64,
    /// Signal-to-noise ratio of the ticks in the analysis band, dB.
    pub snr_db: Option<f64>,
    /// Sample rate of the recording, Hz.
    pub sample_rate_hz: u32,
    /// Channels in the recording.
    pub channels: u16,
    /// The channel analysed (0-based), chosen where the ticks are strongest.
    pub channel: u16,
    /// Why nothing was measured (kind "none"), in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Mechanical detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mechanical: Option<Mechanical>,
    /// Quartz detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quartz: Option<Quartz>,
    /// Quartz rate in s/month, repeated at top level for scripts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_s_per_month: Option<Figure>,
    /// Findings that bear on a verdict.
    pub findings: Vec<Finding>,
    /// Software that measured.
    pub software: String,
}

/// Settings of one analysis, resolved from the command line, a claim or a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisConfig {
    /// Lift angle, degrees (default 52).
    pub lift_angle_deg: f64,
    /// Force a beat rate (3600..=72000), or `None` for automatic among the standard rates.
    pub bph: Option<u32>,
    /// Mechanical, quartz or automatic.
    pub kind: KindChoice,
    /// The recorder clock correction.
    pub recorder: RecorderClock,
    /// Force a channel (0-based) instead of choosing the strongest.
    pub channel: Option<u16>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            lift_angle_deg: 52.0,
            bph: None,
            kind: KindChoice::Auto,
            recorder: RecorderClock::uncalibrated(),
            channel: None,
        }
    }
}

/// Seconds per day.
pub const SECONDS_PER_DAY: f64 = 86_400.0;
/// Seconds per (30-day) month.
pub const SECONDS_PER_MONTH: f64 = 30.0 * 86_400.0;
/// s/day shifted by one ppm of recorder clock error.
pub const S_PER_DAY_PER_PPM: f64 = 0.0864;
/// The standard beat rates recognised automatically.
pub const STANDARD_BPH: [u32; 11] =
    [12000, 14400, 17280, 18000, 19800, 21600, 25200, 28800, 36000, 43200, 72000];
/// The range of beat rates accepted with `--bph N`.
pub const BPH_RANGE: std::ops::RangeInclusive<u32> = 3600..=72000;

/// The software identity written into every measurement.
pub fn software_id() -> String {
    format!("tickproof {}", env!("CARGO_PKG_VERSION"))
}

/// Corrects a rate measured against the recorder's clock for the recorder's error.
///
/// A recorder whose clock runs `ppm` fast counts too many samples per true second, so every
/// apparent duration is too long and the watch seems slow by `ppm * 0.0864` s/day; this adds it
/// back. Exact, not linearised: the true period is the apparent one divided by `1 + ppm 1e-6`.
pub fn correct_rate_s_per_day(apparent_rate_s_per_day: f64, recorder_ppm: f64) -> f64 {
    let apparent_ratio = 1.0 + apparent_rate_s_per_day / SECONDS_PER_DAY; // nominal/apparent period
    (apparent_ratio * (1.0 + recorder_ppm * 1e-6) - 1.0) * SECONDS_PER_DAY
}
