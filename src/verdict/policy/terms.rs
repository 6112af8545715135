//! What a validated policy says: the decision rule, the accuracy terms and their units, the
//! positional protocol, the finding rules and the thresholds of the findings.
use crate::verdict::position::Position;
use serde::{Deserialize, Serialize};

/// How a measured interval is compared with a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecisionRule {
    /// A verdict only when the whole 95% interval lies on one side of the limit; otherwise
    /// `inconclusive`.
    #[default]
    GuardedAcceptance,
    /// The measured value alone decides (the interval is reported, not used).
    SimpleAcceptance,
}

impl DecisionRule {
    /// The rule in plain words, for every verdict.
    pub fn words(self) -> &'static str {
        match self {
            DecisionRule::GuardedAcceptance => {
                "guarded acceptance: a verdict only when the whole 95% interval is on one side of the limit"
            }
            DecisionRule::SimpleAcceptance => {
                "simple acceptance: the measured value decides, whatever its uncertainty"
            }
        }
    }
}

/// The unit a tolerance is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateUnit {
    /// Seconds per day.
    #[serde(rename = "s/day")]
    SPerDay,
    /// Seconds per 30-day month.
    #[serde(rename = "s/month")]
    SPerMonth,
}

impl RateUnit {
    /// `s/day` or `s/month`.
    pub fn name(self) -> &'static str {
        match self {
            RateUnit::SPerDay => "s/day",
            RateUnit::SPerMonth => "s/month",
        }
    }
    /// How many of this unit one s/day is (1 or 30).
    pub fn per_s_per_day(self) -> f64 {
        match self {
            RateUnit::SPerDay => 1.0,
            RateUnit::SPerMonth => 30.0,
        }
    }
}

/// A closed rate interval `[min, max]` in one unit: a rate inside it is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// The most the watch may lose (negative), in `unit`.
    pub min: f64,
    /// The most the watch may gain, in `unit`.
    pub max: f64,
    /// The unit of `min` and `max`.
    pub unit: RateUnit,
}

impl Tolerance {
    /// A symmetric tolerance `±x`.
    pub fn plus_minus(x: f64, unit: RateUnit) -> Self {
        Tolerance { min: -x.abs(), max: x.abs(), unit }
    }
    /// The same tolerance in another unit.
    pub fn to_unit(self, unit: RateUnit) -> Tolerance {
        let k = unit.per_s_per_day() / self.unit.per_s_per_day();
        Tolerance { min: self.min * k, max: self.max * k, unit }
    }
    /// Written as people read it: `±15 s/day` or `-4/+6 s/day`.
    pub fn words(&self) -> String {
        if (self.min + self.max).abs() < 1e-9 {
            format!("±{} {}", fmt_num(self.max), self.unit.name())
        } else {
            format!("{}/{:+} {}", fmt_num(self.min), self.max, self.unit.name())
        }
    }
}

fn fmt_num(x: f64) -> String {
    if x == x.round() && x.abs() < 1e9 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// What a policy says about the accuracy of one movement kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "term", rename_all = "snake_case")]
pub enum AccuracyTerm {
    /// A fixed tolerance for every model.
    Tolerance(Tolerance),
    /// Every model meets `inner`; none may exceed `outer`; in between the model's own
    /// specification decides.
    Band {
        /// The edge every model is admitted.
        inner: Tolerance,
        /// The edge no model may exceed.
        outer: Tolerance,
    },
    /// The model's own specification (instructions, warranty card) is the only limit.
    ModelSpecOnly,
}

/// The accuracy term of one movement kind and the words of the terms it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyRule {
    /// The term.
    pub term: AccuracyTerm,
    /// The clause of the warranty terms, quoted.
    pub clause: String,
}

/// State of wind required before a mechanical measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindState {
    /// Fully wound before the protocol starts.
    FullyWound,
    /// Fully wound, then left running 24 hours (the mainspring's average torque).
    #[serde(rename = "after_24_hours")]
    After24Hours,
    /// As handed in by the customer.
    AsReceived,
}

/// The measurement protocol for mechanical claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// The positions to measure (3, 5 or 6 distinct).
    pub positions: Vec<Position>,
    /// Time to let the watch settle in each position before measuring, seconds.
    pub settling_s: f64,
    /// Measuring time per position, seconds.
    pub seconds_per_position: f64,
    /// The state of wind.
    pub state_of_wind: WindState,
    /// Where the protocol comes from, in plain words.
    pub note: String,
}

/// Where a finding sends a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingOutcome {
    /// Not a defect of the movement (e.g. a flat battery).
    NotADefect,
    /// Excluded from the warranty (e.g. magnetisation, shock), to be confirmed by the technician.
    Excluded,
}

/// A finding the policy treats specially.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRule {
    /// The finding's code (`battery_end_of_life`, `magnetisation`, `shock`, ...).
    pub code: String,
    /// Where it sends the claim.
    pub outcome: FindingOutcome,
    /// For the battery indicator: the step intervals the terms name, seconds (empty: any).
    pub step_interval_s: Vec<u32>,
    /// The clause of the terms, quoted.
    pub clause: String,
}

/// Thresholds of the findings reported beside a verdict. Defaults are typical service values,
/// not warranty terms: they raise findings, never decide a verdict by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Amplitude below this in a flat position (DU, DD) is low, degrees (typical: 180).
    pub low_amplitude_flat_deg: f64,
    /// Amplitude below this in a hanging position is low, degrees (typical: 160).
    pub low_amplitude_hanging_deg: f64,
    /// Beat error above this is high, ms (typical: 1.0).
    pub high_beat_error_ms: f64,
    /// Positional spread D (max - min) above this is large, s/day (typical: 30).
    pub large_positional_spread_s_per_day: f64,
    /// An average gain above this, with an erratic rate, suggests magnetisation, s/day (60).
    pub magnetisation_gain_s_per_day: f64,
    /// Standard deviation of the 10 s window rates above this is erratic, s/day (typical: 10).
    pub erratic_window_spread_s_per_day: f64,
    /// Signal quality (0..1) below this is poor (typical: 0.5).
    pub poor_quality_below: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            low_amplitude_flat_deg: 180.0,
            low_amplitude_hanging_deg: 160.0,
            high_beat_error_ms: 1.0,
            large_positional_spread_s_per_day: 30.0,
            magnetisation_gain_s_per_day: 60.0,
            erratic_window_spread_s_per_day: 10.0,
            poor_quality_below: 0.5,
        }
    }
}
