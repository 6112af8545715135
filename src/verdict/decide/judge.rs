//! Judging a claim: the rate's decision, the positional protocol, and the findings the policy
//! redirects, which take precedence over the rate.
use super::advice::Budget;
use super::findings::detect_findings;
use super::outcome::{Compared, Outcome, RateSource, Verdict};
use super::rate::decide_rate;
use super::{fmt_fig, in_unit, unit_for};
use crate::measurement::{Finding, Measurement};
use crate::verdict::dial_log::DialRate;
use crate::verdict::model_spec::ModelSpec;
use crate::verdict::policy::{FindingOutcome, Policy, RateUnit};
use crate::verdict::position::{Movement, Position};
use crate::verdict::protocol::{average, PositionFigures};
use crate::verdict::recorder::RecorderTerm;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Judges position measurements (one per position) against a policy.
///
/// `movement` says which of the policy's terms applies; `model_spec` is the model's own
/// specification when the policy defers to it (model-spec-only terms and bands).
pub fn judge(
    policy: &Policy,
    movement: Movement,
    model_spec: Option<ModelSpec>,
    positions: &[(Position, Measurement)],
) -> Verdict {
    judge_with_findings(policy, movement, model_spec, positions, &[])
}

/// As [`judge`], with findings the technician observed (e.g. `shock`, `magnetisation` confirmed
/// with a compass), which the policy's finding rules may redirect.
pub fn judge_with_findings(
    policy: &Policy,
    movement: Movement,
    model_spec: Option<ModelSpec>,
    positions: &[(Position, Measurement)],
    technician: &[Finding],
) -> Verdict {
    judge_core(policy, movement, model_spec, positions, technician, None)
}

/// Judges the average daily rate of a dial log against a policy. Position measurements, when
/// given, are reported beside it and their findings (battery, magnetisation...) still apply; the
/// rate compared is the dial log's, which does not depend on the recorder clock.
pub fn judge_dial_log(
    policy: &Policy,
    movement: Movement,
    model_spec: Option<ModelSpec>,
    dial: &DialRate,
    positions: &[(Position, Measurement)],
) -> Verdict {
    judge_core(policy, movement, model_spec, positions, &[], Some(dial))
}

fn judge_core(
    policy: &Policy,
    movement: Movement,
    model_spec: Option<ModelSpec>,
    positions: &[(Position, Measurement)],
    technician: &[Finding],
    dial: Option<&DialRate>,
) -> Verdict {
    let unit = unit_for(movement);
    let avg = average(positions, policy.uncalibrated_recorder_u95_ppm);
    let (rate, source, budget) = match (dial, &avg) {
        (Some(d), _) => (
            Some(d.rate_s_per_day),
            RateSource::DialLog,
            Budget {
                random_s_per_day: d.rate_s_per_day.u95,
                recorder_s_per_day: 0.0,
                recorder_assumed: false,
                mean_duration_s: d.span_days * 86_400.0,
                dial: Some(d.clone()),
            },
        ),
        (None, Some(a)) => (
            Some(a.rate_s_per_day),
            RateSource::Positions,
            Budget {
                random_s_per_day: a.random_u95_s_per_day,
                recorder_s_per_day: a.recorder_u95_s_per_day,
                recorder_assumed: a.recorder_assumed,
                mean_duration_s: a.mean_duration_s,
                dial: None,
            },
        ),
        (None, None) => (
            None,
            RateSource::None,
            Budget {
                random_s_per_day: 0.0,
                recorder_s_per_day: 0.0,
                recorder_assumed: false,
                mean_duration_s: 0.0,
                dial: None,
            },
        ),
    };

    let mut findings = detect_findings(policy, movement, positions, avg.as_ref());
    if let Some(d) = dial {
        findings.extend(d.findings.iter().cloned());
    }
    for f in technician {
        if !findings.iter().any(|g| g.code == f.code) {
            findings.push(f.clone());
        }
    }

    let mut decision = decide_rate(policy, movement, model_spec, rate, &budget, positions);

    // Protocol: a warranty bounds the average daily rate over the policy's positions; for a
    // mechanical watch judged from positions, a verdict either way needs the protocol completed.
    if movement == Movement::Mechanical && source == RateSource::Positions {
        if let Some(why) = protocol_gap(policy, positions) {
            findings.push(Finding::new("protocol_incomplete", why.clone()));
            if matches!(decision.outcome, Outcome::Defect | Outcome::WithinSpec) {
                // The rate's own first reason states a verdict the protocol does not allow.
                if !decision.reasons.is_empty() {
                    decision.reasons.remove(0);
                }
                decision.reasons.insert(
                    0,
                    format!(
                        "Inconclusive: the measured average would be {} if confirmed, but {why}. A warranty \
                         bounds the average daily rate over the policy's protocol, which a partial \
                         measurement is not.",
                        decision.outcome.name()
                    ),
                );
                decision.outcome = Outcome::Inconclusive;
                decision.to_decide = Some(format!("Complete the protocol: {why}."));
            }
        }
    }

    // Findings the policy redirects take precedence over the rate.
    let mut reasons = Vec::new();
    let redirected = |outcome: FindingOutcome| -> Vec<(&Finding, &crate::verdict::policy::FindingRule)> {
        findings
            .iter()
            .filter_map(|f| policy.finding_rule(&f.code).filter(|r| r.outcome == outcome).map(|r| (f, r)))
            .collect()
    };
    let excluded = redirected(FindingOutcome::Excluded);
    let not_defect = redirected(FindingOutcome::NotADefect);
    let battery = findings.iter().find(|f| f.code == "battery_end_of_life").cloned();
    let outcome = if !excluded.is_empty() {
        for (f, r) in &excluded {
            let mut s = format!(
                "Excluded from the warranty: {} The policy excludes this: \"{}\". To be confirmed by the technician",
                sentence(&f.message),
                r.clause.trim_end_matches('.')
            );
            if f.code == "magnetisation" {
                s.push_str("; if the rate is still out after demagnetising, judge that new measurement");
            }
            s.push('.');
            reasons.push(s);
        }
        Outcome::Excluded
    } else if !not_defect.is_empty() {
        for (f, r) in &not_defect {
            let mut s = format!(
                "Not a defect: {} Under this policy: \"{}\"",
                sentence(&f.message),
                r.clause.trim_end_matches('.')
            );
            if f.code == "battery_end_of_life" {
                if let Some(step) = battery_step(positions) {
                    let named = r.step_interval_s.iter().any(|&x| (x as f64 - step).abs() < 0.5);
                    if !r.step_interval_s.is_empty() && !named {
                        let list: Vec<String> = r.step_interval_s.iter().map(|x| x.to_string()).collect();
                        let _ = write!(
                            s,
                            " (the terms name steps of {} s; this watch steps every {step:.0} s, which the \
                             analysis also recognises as a battery end-of-life indicator)",
                            list.join(" or ")
                        );
                    }
                }
                s.push_str(". Replace the battery; if the rate is still disputed, measure again with the new battery");
            }
            s.push('.');
            reasons.push(s);
        }
        Outcome::NotADefect
    } else if let Some(b) = battery {
        reasons.push(format!(
            "Inconclusive: {} The rate of a watch whose battery is at end of life is not a warranty figure, \
             and this policy has no rule for it: replace the battery and measure again.",
            sentence(&b.message)
        ));
        decision.to_decide = Some("Replace the battery and measure again.".into());
        Outcome::Inconclusive
    } else {
        decision.outcome
    };
    if outcome != decision.outcome {
        if let Some(r) = rate {
            reasons.push(format!(
                "For information, the average rate measured is {} (the rate alone would give `{}`).",
                fmt_fig(in_unit(r, unit), unit),
                decision.outcome.name()
            ));
        }
        if outcome != Outcome::Inconclusive {
            decision.to_decide = None;
        }
    } else {
        reasons.extend(decision.reasons);
    }
    reasons.push(format!("Decision rule: {}.", policy.decision_rule.words()));
    let recorder = (source == RateSource::Positions).then(|| {
        RecorderTerm::of(
            positions,
            budget.recorder_s_per_day,
            budget.recorder_assumed,
            policy.uncalibrated_recorder_u95_ppm,
        )
    });
    if let Some(r) = &recorder {
        reasons.push(r.reason());
    }
    if positions.iter().any(|(_, m)| m.calibration_stale) && source == RateSource::Positions {
        reasons.push(
            "The recorder calibration used is past its validity: the verdict depends on it; recalibrate to be sure."
                .into(),
        );
    }

    let mut figures: Vec<PositionFigures> =
        positions.iter().map(|(p, m)| PositionFigures::of(*p, m)).collect();
    crate::verdict::recorder::fill_position_u95(
        &mut figures,
        positions,
        policy.uncalibrated_recorder_u95_ppm,
    );
    let compared = match (&decision.limit, rate) {
        (Some(l), Some(r)) => {
            let f = in_unit(r, l.unit);
            Some(Compared { value: f.value, u95: f.u95, unit: l.unit })
        }
        _ => None,
    };
    Verdict {
        verdict: outcome,
        reasons,
        rule: policy.decision_rule,
        movement,
        limit: decision.limit,
        compared,
        average_rate_s_per_day: rate,
        average_rate_s_per_month: (movement == Movement::Quartz)
            .then_some(rate)
            .flatten()
            .map(|r| in_unit(r, RateUnit::SPerMonth)),
        rate_source: source,
        recorder,
        positions: figures,
        positional_spread_s_per_day: avg.as_ref().and_then(|a| a.positional_spread_s_per_day),
        vertical_horizontal_difference_s_per_day: avg
            .as_ref()
            .and_then(|a| a.vertical_horizontal_difference_s_per_day),
        amplitude_drop_flat_to_hanging_deg: avg.as_ref().and_then(|a| a.amplitude_drop_flat_to_hanging_deg),
        max_beat_error_ms: avg.as_ref().and_then(|a| a.max_beat_error_ms),
        dial_log: dial.cloned(),
        to_decide: decision.to_decide,
        findings,
        model_spec,
        policy: policy.reference(),
    }
}

/// A message as a sentence: capitalised, ending with a full stop.
fn sentence(s: &str) -> String {
    let t = s.trim().trim_end_matches('.');
    let mut c = t.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

fn battery_step(positions: &[(Position, Measurement)]) -> Option<f64> {
    positions.iter().filter_map(|(_, m)| m.quartz.as_ref()).map(|q| q.step_interval_s).find(|s| *s > 1.5)
}

/// What the positional protocol still lacks, if anything.
fn protocol_gap(policy: &Policy, positions: &[(Position, Measurement)]) -> Option<String> {
    let p = &policy.protocol;
    let measured: BTreeSet<Position> = positions
        .iter()
        .filter(|(pos, m)| *pos != Position::Unstated && m.rate_s_per_day.is_some())
        .map(|(pos, _)| *pos)
        .collect();
    let missing: Vec<&str> = p.positions.iter().filter(|x| !measured.contains(x)).map(|x| x.code()).collect();
    let short: Vec<String> = positions
        .iter()
        .filter(|(pos, m)| {
            p.positions.contains(pos)
                && m.rate_s_per_day.is_some()
                && m.duration_s < p.seconds_per_position * 0.99
        })
        .map(|(pos, m)| format!("{pos} {:.0} s", m.duration_s))
        .collect();
    let wanted: Vec<&str> = p.positions.iter().map(|x| x.code()).collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        let unstated = positions.iter().any(|(pos, _)| *pos == Position::Unstated);
        parts.push(format!(
            "the protocol asks for {} ({} s each after {} s settling) and {} {} not measured{}",
            wanted.join(", "),
            p.seconds_per_position,
            p.settling_s,
            missing.join(", "),
            if missing.len() == 1 { "was" } else { "were" },
            if unstated {
                " (some recordings have no stated position: name them with --positions)"
            } else {
                ""
            }
        ));
    }
    if !short.is_empty() {
        parts.push(format!(
            "some positions were measured for less than the {} s the protocol asks: {}",
            p.seconds_per_position,
            short.join(", ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
