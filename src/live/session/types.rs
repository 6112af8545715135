//! The types of a live session: its settings, its readings, and what the view draws.
use crate::measurement::{AnalysisConfig, Figure};
use serde::{Deserialize, Serialize};

/// One point of the trend: the figures of one measuring reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    /// Seconds from the start of the session.
    pub t_s: f64,
    /// Rate, s/day.
    pub rate_s_per_day: Figure,
    /// Beat error, ms, when measured.
    pub beat_error_ms: Option<Figure>,
    /// Amplitude, degrees, when measured.
    pub amplitude_deg: Option<Figure>,
}

/// Settings of a live session.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    /// The analysis settings (lift angle, forced bph, recorder clock).
    pub analysis: AnalysisConfig,
    /// Audio each candidate analyser gathers before recognising the beat rate, seconds.
    pub acquisition_s: f64,
    /// Longest stretch of audio behind one reading, seconds (the sliding window).
    pub window_s: f64,
    /// Seconds between readings.
    pub reading_every_s: f64,
    /// A primary analyser with no matched beat for this long is restarted, seconds.
    pub silence_s: f64,
    /// Seconds between candidate analysers while no watch is locked.
    pub candidate_every_s: f64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            analysis: AnalysisConfig::default(),
            acquisition_s: 2.5,
            window_s: 60.0,
            reading_every_s: 1.0,
            silence_s: 2.0,
            candidate_every_s: 0.5,
        }
    }
}

impl LiveConfig {
    /// Checks the ranges of the settings (names the one that is wrong).
    pub fn validate(&self) -> Result<(), String> {
        self.analysis.validate().map_err(|e| e.to_string())?;
        let check = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} {v} s is outside {lo}..{hi} s"))
            }
        };
        check("acquisition", self.acquisition_s, 2.0, 30.0)?;
        check("window", self.window_s, 20.0, 3600.0)?;
        check("reading interval", self.reading_every_s, 0.1, 10.0)?;
        check("silence limit", self.silence_s, 0.5, 60.0)?;
        check("candidate interval", self.candidate_every_s, 0.1, 10.0)?;
        Ok(())
    }
}

/// What the session is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No watch locked yet: listening for ticks.
    Listening,
    /// A watch is locked and figures are given.
    Measuring,
}

/// Why the analysis restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartReason {
    /// The sliding window moved on (the successor analyser took over).
    Window,
    /// The latest 10 s rate left the running rate's interval: the watch or position changed.
    RateChange,
    /// The beats stopped matching: the watch was removed, moved, or its beat rate changed.
    SignalLost,
    /// A setting that needs a new analysis changed (the forced beat rate).
    Settings,
    /// The technician marked a new position.
    Mark,
}

/// A restart and why, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restart {
    /// The reason, as a stable code.
    pub reason: RestartReason,
    /// The reason in plain words.
    pub message: String,
    /// When, seconds from the start of the session.
    pub at_s: f64,
}

/// One live reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Seconds of audio since the session started (the recorder's clock).
    pub elapsed_s: f64,
    /// Listening or measuring.
    pub status: Status,
    /// Seconds of audio behind the figures (0 while listening).
    pub window_s: f64,
    /// Beats per hour, when locked.
    pub bph: Option<u32>,
    /// `auto` or `forced`, when locked.
    pub bph_source: Option<String>,
    /// Rate, s/day (+ = gains), corrected for the recorder clock.
    pub rate_s_per_day: Option<Figure>,
    /// Beat error, ms.
    pub beat_error_ms: Option<Figure>,
    /// Amplitude, degrees, at `lift_angle_deg`.
    pub amplitude_deg: Option<Figure>,
    /// Lift angle used for the amplitude, degrees.
    pub lift_angle_deg: f64,
    /// Signal quality 0..1.
    pub quality: Option<f64>,
    /// Tick-to-noise ratio, dB.
    pub snr_db: Option<f64>,
    /// Beats used in the figures.
    pub beats_used: usize,
    /// Beat slots rejected.
    pub beats_rejected: usize,
    /// Why there are no figures (while listening), in plain words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Samples dropped by the capture ring so far (filled in by the driver; 0 for replays
    /// at full speed).
    pub overrun_samples: u64,
    /// Set on the first reading after the analysis restarted.
    pub restarted: Option<Restart>,
}

/// A beat of the paper strip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripPoint {
    /// Seconds from the start of the session.
    pub t_s: f64,
    /// How early the beat came against the nominal beat grid, ms (+ = early): a gaining watch
    /// drifts upwards, as on a timegrapher's paper and in the report's paper strip.
    pub dev_ms: f64,
    /// 0 = tic, 1 = toc.
    pub side: u8,
}
