//! The answer to a claim and everything a verdict records to explain it.
use crate::measurement::{Figure, Finding};
use crate::verdict::dial_log::DialRate;
use crate::verdict::model_spec::ModelSpec;
use crate::verdict::policy::{DecisionRule, PolicyRef, RateUnit};
use crate::verdict::position::Movement;
use crate::verdict::protocol::PositionFigures;
use crate::verdict::recorder::RecorderTerm;
use serde::{Deserialize, Serialize};

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Outside the tolerance (beyond doubt under guarded acceptance).
    Defect,
    /// Within the tolerance (the whole interval, under guarded acceptance).
    WithinSpec,
    /// The measurement cannot decide: `to_decide` says what would.
    Inconclusive,
    /// The policy defers to the model's own specification, which was not given.
    NeedsModelSpec,
    /// Not a defect of the movement (e.g. battery end of life).
    NotADefect,
    /// Excluded from the warranty (e.g. signs of magnetisation), to be confirmed by the technician.
    Excluded,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 6] = [
        Outcome::Defect,
        Outcome::WithinSpec,
        Outcome::Inconclusive,
        Outcome::NeedsModelSpec,
        Outcome::NotADefect,
        Outcome::Excluded,
    ];

    /// The machine name (`defect`, `within_spec`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Defect => "defect",
            Outcome::WithinSpec => "within_spec",
            Outcome::Inconclusive => "inconclusive",
            Outcome::NeedsModelSpec => "needs_model_spec",
            Outcome::NotADefect => "not_a_defect",
            Outcome::Excluded => "excluded",
        }
    }
}

/// The limit a verdict compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitApplied {
    /// Lower edge (most loss), in `unit`.
    pub min: f64,
    /// Upper edge (most gain), in `unit`.
    pub max: f64,
    /// The unit.
    pub unit: RateUnit,
    /// Where the limit comes from, in plain words (policy tolerance, band edge, model spec).
    pub from: String,
}

/// The figure compared with the limit, in the limit's unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    /// Average rate.
    pub value: f64,
    /// Its 95% half-width.
    pub u95: f64,
    /// The unit.
    pub unit: RateUnit,
}

/// Where the average rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// The average over the measured positions.
    Positions,
    /// A dial log (readings of the display against a reference over hours or days).
    DialLog,
    /// No rate could be had.
    None,
}

/// A verdict on a claim, with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The answer.
    pub verdict: Outcome,
    /// Why, in plain words: figures compared, limit and clause, rule applied, notes.
    pub reasons: Vec<String>,
    /// The decision rule applied.
    pub rule: DecisionRule,
    /// The movement kind judged.
    pub movement: Movement,
    /// The limit compared with, if one applied.
    pub limit: Option<LimitApplied>,
    /// The figure compared, in the limit's unit.
    pub compared: Option<Compared>,
    /// The average daily rate, s/day, with u95.
    pub average_rate_s_per_day: Option<Figure>,
    /// The average rate, s/month (quartz).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_rate_s_per_month: Option<Figure>,
    /// Where the average rate came from.
    pub rate_source: RateSource,
    /// How the recorder clock entered the u95 (absent for a dial log alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorder: Option<RecorderTerm>,
    /// Figures per position.
    pub positions: Vec<PositionFigures>,
    /// Positional spread D = max - min, s/day.
    pub positional_spread_s_per_day: Option<Figure>,
    /// Vertical minus horizontal mean rate, s/day.
    pub vertical_horizontal_difference_s_per_day: Option<Figure>,
    /// Amplitude flat minus hanging, degrees.
    pub amplitude_drop_flat_to_hanging_deg: Option<Figure>,
    /// Largest beat error of any position, ms.
    pub max_beat_error_ms: Option<Figure>,
    /// The dial-log rate, when one was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dial_log: Option<DialRate>,
    /// When inconclusive (or undecided in a band): what measurement or calibration would decide.
    pub to_decide: Option<String>,
    /// Findings beside the verdict.
    pub findings: Vec<Finding>,
    /// The model specification given, if any.
    pub model_spec: Option<ModelSpec>,
    /// The policy applied.
    pub policy: PolicyRef,
}
