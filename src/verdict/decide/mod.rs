//! The decision: a measured average rate with its u95, a policy's limit and decision rule, and
//! the findings that redirect a claim, give one [`Verdict`] with its reasons in plain words.
//!
//! * `outcome`: the [`Outcome`], the [`Verdict`] and the figures it records.
//! * `judge`: [`judge`], [`judge_with_findings`], [`judge_dial_log`]: the precedence of findings
//!   over the rate, and the positional protocol.
//! * `rate`: the rate against the policy's term ([`compare`] under the decision rule).
//! * `advice`: what more measurement or calibration would decide an inconclusive rate.
//! * `findings`: the findings reported beside a verdict.
//! * `text`: the verdict for people ([`Verdict::to_text`]).
use super::policy::RateUnit;
use super::position::Movement;
use crate::measurement::Figure;

mod advice;
mod findings;
mod judge;
mod outcome;
mod rate;
mod text;

pub use judge::{judge, judge_dial_log, judge_with_findings};
pub use outcome::{Compared, LimitApplied, Outcome, RateSource, Verdict};
pub use rate::{compare, Side};

pub(super) fn unit_for(movement: Movement) -> RateUnit {
    match movement {
        Movement::Mechanical => RateUnit::SPerDay,
        Movement::Quartz => RateUnit::SPerMonth,
    }
}

pub(super) fn fmt_fig(f: Figure, unit: RateUnit) -> String {
    format!("{:+.2} ± {:.2} {}", f.value, f.u95, unit.name())
}

pub(super) fn in_unit(f: Figure, unit: RateUnit) -> Figure {
    let k = unit.per_s_per_day();
    Figure::new(f.value * k, f.u95 * k)
}
