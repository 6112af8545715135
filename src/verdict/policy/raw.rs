//! The raw form of a policy file, as written; every value that is checked after parsing keeps
//! its span, so an error can name the line.
use super::terms::{DecisionRule, FindingOutcome, RateUnit, WindState};
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) policy: RawHeader,
    pub(super) mechanical: Option<RawTerm>,
    pub(super) quartz: Option<RawTerm>,
    pub(super) protocol: RawProtocol,
    #[serde(default)]
    pub(super) finding: Vec<RawFinding>,
    pub(super) thresholds: Option<RawThresholds>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeader {
    pub(super) name: Spanned<String>,
    pub(super) version: Spanned<String>,
    pub(super) title: Spanned<String>,
    pub(super) source: Spanned<String>,
    pub(super) retailer: Option<Spanned<String>>,
    pub(super) country: Option<Spanned<String>>,
    pub(super) decision_rule: Option<DecisionRule>,
    pub(super) uncalibrated_recorder_u95_ppm: Option<Spanned<f64>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawTermKind {
    Tolerance,
    Band,
    ModelSpecOnly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerm {
    pub(super) term: Spanned<RawTermKind>,
    pub(super) unit: Option<RateUnit>,
    pub(super) plus_minus: Option<Spanned<f64>>,
    pub(super) min: Option<Spanned<f64>>,
    pub(super) max: Option<Spanned<f64>>,
    pub(super) inner_plus_minus: Option<Spanned<f64>>,
    pub(super) outer_plus_minus: Option<Spanned<f64>>,
    pub(super) clause: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProtocol {
    pub(super) positions: Spanned<Vec<Spanned<String>>>,
    pub(super) settling_s: Spanned<f64>,
    pub(super) seconds_per_position: Spanned<f64>,
    pub(super) state_of_wind: WindState,
    pub(super) note: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFinding {
    pub(super) code: Spanned<String>,
    pub(super) outcome: FindingOutcome,
    #[serde(default)]
    pub(super) step_interval_s: Option<Spanned<Vec<i64>>>,
    pub(super) clause: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThresholds {
    pub(super) low_amplitude_flat_deg: Option<Spanned<f64>>,
    pub(super) low_amplitude_hanging_deg: Option<Spanned<f64>>,
    pub(super) high_beat_error_ms: Option<Spanned<f64>>,
    pub(super) large_positional_spread_s_per_day: Option<Spanned<f64>>,
    pub(super) magnetisation_gain_s_per_day: Option<Spanned<f64>>,
    pub(super) erratic_window_spread_s_per_day: Option<Spanned<f64>>,
    pub(super) poor_quality_below: Option<Spanned<f64>>,
}
