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
//!
pub mod model_spec;
pub mod policy;
pub mod position;

pub use model_spec::ModelSpec;
pub use policy::{
    builtin, builtin_names, builtin_text, AccuracyRule, AccuracyTerm, DecisionRule, FindingOutcome,
    FindingRule, Policy, PolicyError, PolicyRef, Protocol, RateUnit, Thresholds, Tolerance, WindState,
};
pub use position::{side_file_position, Movement, Position};
