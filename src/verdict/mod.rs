//! Stage 6, verdict: warranty policies as data, the positional protocol and average daily rate,
//! the dial log, and the decision with uncertainty.
//!
//! ```text
//! Policy (TOML) ─┐
//! positions ─────┼─> average X ± u95 ─> compare with the limit under the decision rule ─┐
//! (or dial log) ─┘                                                                       ├─> Verdict
//! measurement findings + thresholds ─> findings ─> the policy's finding rules ───────────┘
//! ```
//!
//! * [`policy`]: the policy format, validation with file/line/field errors, the built-ins.
//! * [`protocol`]: per-position figures, the average with a correlated recorder term, D, etc.
//! * [`dial_log`]: readings of the display against a reference, regressed to a daily rate.
//! * [`decide`]: [`judge`], [`judge_dial_log`] and the [`Verdict`].
//!
//! # Decision rules
//! Guarded acceptance (the default): `within_spec` only when the whole 95% interval lies inside
//! the limits, `defect` only when it lies wholly outside, `inconclusive` otherwise, with what
//! would decide it. Simple acceptance: the measured value decides, and the verdict says when its
//! interval reaches across the limit. Every verdict states the rule.
//!
//! # Uncalibrated recorders
//! A recorder's clock error is 10-100 ppm (0.9-8.6 s/day, 26-259 s/month). A measurement made
//! without calibration does not know it, so the verdict assumes the policy's
//! `uncalibrated_recorder_u95_ppm` (100 ppm in the built-ins) as a u95 common to all positions.
//! At ±20 s/month this dwarfs the tolerance: an uncalibrated quartz measurement cannot show a
//! defect beyond doubt unless the watch is hundreds of seconds a month out, and the verdict says
//! to calibrate the recorder or keep a dial log. Under simple acceptance an uncalibrated
//! measurement whose interval reaches across the limit is `inconclusive` too: a value whose error
//! is unknown cannot decide on its own.
//!
//! # Precedence
//! A finding the policy excludes (e.g. magnetisation) gives `excluded`; else one it redirects
//! (e.g. battery end of life) gives `not_a_defect`; else a battery at end of life with no rule
//! gives `inconclusive`; else the rate decides. For mechanical watches judged from positions, a
//! `defect` or `within_spec` needs the policy's protocol completed, else `inconclusive`.
pub mod decide;
pub mod dial_log;
pub mod model_spec;
pub mod policy;
pub mod position;
pub mod protocol;
pub mod recorder;

pub use decide::{
    compare, judge, judge_dial_log, judge_with_findings, Compared, LimitApplied, Outcome, RateSource, Side,
    Verdict,
};
pub use dial_log::{DialLog, DialLogError, DialRate, DialReading};
pub use model_spec::ModelSpec;
pub use policy::{
    builtin, builtin_names, builtin_text, AccuracyRule, AccuracyTerm, DecisionRule, FindingOutcome,
    FindingRule, Policy, PolicyError, PolicyRef, Protocol, RateUnit, Thresholds, Tolerance, WindState,
};
pub use position::{side_file_position, Movement, Position};
pub use protocol::{average, Average, PositionFigures};
pub use recorder::{RecorderSource, RecorderTerm};
