//! The average rate against the policy's accuracy term: a tolerance, a band, or the model's own
//! specification, compared under the decision rule.
use super::advice::{advice, Budget};
use super::outcome::{LimitApplied, Outcome};
use super::{fmt_fig, in_unit, unit_for};
use crate::measurement::{Figure, Measurement};
use crate::verdict::model_spec::ModelSpec;
use crate::verdict::policy::{AccuracyTerm, DecisionRule, Policy, Tolerance};
use crate::verdict::position::{Movement, Position};
use std::fmt::Write as _;

/// Where an interval lies against a tolerance, under a decision rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Acceptable: the whole interval inside (guarded), or the value inside (simple).
    Inside,
    /// Not acceptable: the whole interval outside (guarded), or the value outside (simple).
    Outside,
    /// Guarded acceptance only: the interval reaches across a limit.
    Straddles,
}

/// Compares a figure (in the tolerance's unit) with a tolerance under a decision rule.
///
/// Guarded acceptance: `Inside` when `[value - u95, value + u95]` lies within `[min, max]`,
/// `Outside` when it lies wholly beyond one edge, `Straddles` otherwise (an interval touching an
/// edge is not beyond it). Simple acceptance: the value alone decides.
pub fn compare(rule: DecisionRule, tol: &Tolerance, x: Figure) -> Side {
    match rule {
        DecisionRule::GuardedAcceptance => {
            if x.lo() >= tol.min && x.hi() <= tol.max {
                Side::Inside
            } else if x.hi() < tol.min || x.lo() > tol.max {
                Side::Outside
            } else {
                Side::Straddles
            }
        }
        DecisionRule::SimpleAcceptance => {
            if x.value >= tol.min && x.value <= tol.max {
                Side::Inside
            } else {
                Side::Outside
            }
        }
    }
}

pub(super) struct RateDecision {
    pub(super) outcome: Outcome,
    pub(super) limit: Option<LimitApplied>,
    pub(super) reasons: Vec<String>,
    pub(super) to_decide: Option<String>,
}

pub(super) fn decide_rate(
    policy: &Policy,
    movement: Movement,
    model_spec: Option<ModelSpec>,
    rate: Option<Figure>,
    budget: &Budget,
    positions: &[(Position, Measurement)],
) -> RateDecision {
    let rule = policy.decision_rule;
    let Some(rate) = rate else {
        let more: Vec<String> = positions
            .iter()
            .filter_map(|(p, m)| {
                m.quartz.as_ref().and_then(|q| q.needs_more_s).map(|s| format!("{p}: {s:.0} s more"))
            })
            .collect();
        let mut reasons = vec!["Inconclusive: no rate was measured in any recording.".to_string()];
        let to_decide = if more.is_empty() {
            "Record the watch again (a clean recording of each position).".to_string()
        } else {
            reasons.push(format!("The recordings are too short for a rate: {}.", more.join(", ")));
            format!("Record longer: {}.", more.join(", "))
        };
        return RateDecision {
            outcome: Outcome::Inconclusive,
            limit: None,
            reasons,
            to_decide: Some(to_decide),
        };
    };
    let kind = movement.name();
    let spec_tol = model_spec.map(|s| s.tolerance(movement));
    let mut notes = Vec::new();
    let rule_for = policy.rule_for(movement);
    let clause = rule_for.map(|r| r.clause.clone());
    let (tol, from) = match (rule_for.map(|r| &r.term), spec_tol) {
        (None | Some(AccuracyTerm::ModelSpecOnly), None) => {
            let u = unit_for(movement);
            let why = match rule_for {
                None => format!("this policy states no accuracy term for {kind} watches"),
                Some(r) => format!("this policy defers to the model's own specification (\"{}\")", r.clause),
            };
            return RateDecision {
                outcome: Outcome::NeedsModelSpec,
                limit: None,
                reasons: vec![format!(
                    "Needs the model's specification: {why}. The average rate measured is {}; give the model's \
                     stated accuracy (e.g. --model-spec \"-10/+20\") to decide.",
                    fmt_fig(in_unit(rate, u), u)
                )],
                to_decide: Some("The model's own accuracy specification (instructions or warranty card).".into()),
            };
        }
        (None, Some(s)) => (s, "the model's specification (this policy states no term)".to_string()),
        (Some(AccuracyTerm::ModelSpecOnly), Some(s)) => {
            (s, "the model's specification, to which the policy defers".to_string())
        }
        (Some(AccuracyTerm::Tolerance(t)), s) => {
            if let Some(s) = s {
                notes.push(format!(
                    "The model's specification {} was noted; this policy's own tolerance applies.",
                    s.words()
                ));
            }
            (*t, "the policy's tolerance".to_string())
        }
        (Some(AccuracyTerm::Band { inner, outer }), Some(s)) => {
            let s = s.to_unit(inner.unit);
            let eff = Tolerance {
                min: s.min.clamp(outer.min, inner.min),
                max: s.max.clamp(inner.max, outer.max),
                unit: inner.unit,
            };
            if eff != s {
                notes.push(format!(
                    "The model's specification {} was brought within the policy's band (every model is \
                     admitted {}, none more than {}): the limit is {}.",
                    s.words(),
                    inner.words(),
                    outer.words(),
                    eff.words()
                ));
            }
            (eff, "the model's specification within the policy's band".to_string())
        }
        (Some(AccuracyTerm::Band { inner, outer }), None) => {
            return decide_band(rule, rate, inner, outer, clause.as_deref().unwrap_or(""), budget);
        }
    };
    let mut d = decide_tolerance(rule, rate, &tol, &from, clause.as_deref(), budget);
    d.reasons.extend(notes);
    d
}

fn limit_of(tol: &Tolerance, from: &str) -> LimitApplied {
    LimitApplied { min: tol.min, max: tol.max, unit: tol.unit, from: from.to_string() }
}

fn decide_tolerance(
    rule: DecisionRule,
    rate: Figure,
    tol: &Tolerance,
    from: &str,
    clause: Option<&str>,
    budget: &Budget,
) -> RateDecision {
    let x = in_unit(rate, tol.unit);
    let u = tol.unit.name();
    let cited = clause.map(|c| format!(" (\"{c}\")")).unwrap_or_default();
    let compared = format!(
        "The average rate {} (95% interval {:+.2} to {:+.2} {u}) was compared with {} {}{cited}.",
        fmt_fig(x, tol.unit),
        x.lo(),
        x.hi(),
        from,
        tol.words()
    );
    let guarded = compare(DecisionRule::GuardedAcceptance, tol, x);
    let mut side = compare(rule, tol, x);
    let mut reasons = Vec::new();
    let mut to_decide = None;
    // An uncalibrated recorder's error is unknown, not zero: its value cannot decide alone.
    if rule == DecisionRule::SimpleAcceptance && budget.recorder_assumed && guarded == Side::Straddles {
        side = Side::Straddles;
        reasons.push(
            "Simple acceptance lets the measured value decide only when its error is known; with an \
             uncalibrated recorder it is not, and the interval reaches across the limit: no verdict either way."
                .to_string(),
        );
    }
    let edge = if (x.value - tol.min).abs() < (x.value - tol.max).abs() { tol.min } else { tol.max };
    let outcome = match side {
        Side::Inside => {
            if rule == DecisionRule::GuardedAcceptance {
                reasons.insert(
                    0,
                    format!("Within specification: the whole 95% interval lies within {}.", tol.words()),
                );
            } else {
                let mut s = format!("Within specification: the measured value lies within {}.", tol.words());
                if guarded != Side::Inside {
                    s.push_str(" Its 95% interval reaches beyond the limit, so this verdict carries a real risk of being wrong.");
                }
                reasons.insert(0, s);
            }
            Outcome::WithinSpec
        }
        Side::Outside => {
            let where_ = if x.value > tol.max { "above" } else { "below" };
            let lim = if x.value > tol.max { tol.max } else { tol.min };
            if rule == DecisionRule::GuardedAcceptance {
                reasons.insert(
                    0,
                    format!(
                        "Defect: the whole 95% interval lies {where_} the {lim:+} {u} limit: the rate is outside the \
                         tolerance beyond doubt."
                    ),
                );
            } else {
                let mut s = format!("Defect: the measured value lies {where_} the {lim:+} {u} limit.");
                if guarded != Side::Outside {
                    s.push_str(" Its 95% interval reaches back inside, so this verdict carries a real risk of being wrong.");
                }
                reasons.insert(0, s);
            }
            Outcome::Defect
        }
        Side::Straddles => {
            reasons.insert(
                0,
                format!(
                    "Inconclusive: the 95% interval reaches across the {edge:+} {u} limit, so the measurement cannot \
                     say on which side the true rate lies."
                ),
            );
            to_decide = Some(advice(rate, edge / tol.unit.per_s_per_day(), budget, tol.unit));
            Outcome::Inconclusive
        }
    };
    reasons.insert(1, compared);
    RateDecision { outcome, limit: Some(limit_of(tol, from)), reasons, to_decide }
}

fn decide_band(
    rule: DecisionRule,
    rate: Figure,
    inner: &Tolerance,
    outer: &Tolerance,
    clause: &str,
    budget: &Budget,
) -> RateDecision {
    let x = in_unit(rate, inner.unit);
    let u = inner.unit.name();
    let s_in = compare(rule, inner, x);
    let s_out = compare(rule, outer, x);
    let compared = format!(
        "The average rate {} (95% interval {:+.2} to {:+.2} {u}) was compared with the policy's band: every \
         model is admitted {}, none more than {}, and in between the model's own specification decides \
         (\"{clause}\").",
        fmt_fig(x, inner.unit),
        x.lo(),
        x.hi(),
        inner.words(),
        outer.words()
    );
    if s_in == Side::Inside
        && !(rule == DecisionRule::SimpleAcceptance
            && budget.recorder_assumed
            && compare(DecisionRule::GuardedAcceptance, inner, x) != Side::Inside)
    {
        return RateDecision {
            outcome: Outcome::WithinSpec,
            limit: Some(limit_of(inner, "the band's inner edge, which every model meets")),
            reasons: vec![
                format!(
                    "Within specification for every model: the {} lies within {}.",
                    interval_or_value(rule),
                    inner.words()
                ),
                compared,
            ],
            to_decide: None,
        };
    }
    if s_out == Side::Outside
        && !(rule == DecisionRule::SimpleAcceptance
            && budget.recorder_assumed
            && compare(DecisionRule::GuardedAcceptance, outer, x) != Side::Outside)
    {
        return RateDecision {
            outcome: Outcome::Defect,
            limit: Some(limit_of(outer, "the band's outer edge, which no model may exceed")),
            reasons: vec![
                format!(
                    "Defect whatever the model: the {} lies beyond {}.",
                    interval_or_value(rule),
                    outer.words()
                ),
                compared,
            ],
            to_decide: None,
        };
    }
    let mut to_decide = "The model's own accuracy specification (give --model-spec).".to_string();
    let straddled =
        [inner.min, inner.max, outer.min, outer.max].into_iter().find(|e| x.lo() < *e && x.hi() > *e);
    if let Some(e) = straddled {
        let _ = write!(
            to_decide,
            " Or, to settle it against the band's edge at {e:+} {u}: {}",
            advice(rate, e / inner.unit.per_s_per_day(), budget, inner.unit)
        );
    }
    RateDecision {
        outcome: Outcome::NeedsModelSpec,
        limit: None,
        reasons: vec![
            format!(
                "Needs the model's specification: the rate is not within {} (which every model meets) nor beyond \
                 {} (which no model may exceed); between them the model's own specification decides.",
                inner.words(),
                outer.words()
            ),
            compared,
        ],
        to_decide: Some(to_decide),
    }
}

fn interval_or_value(rule: DecisionRule) -> &'static str {
    match rule {
        DecisionRule::GuardedAcceptance => "whole 95% interval",
        DecisionRule::SimpleAcceptance => "measured value",
    }
}
