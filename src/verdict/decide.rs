//! The decision: a measured average rate with its u95, a policy's limit and decision rule, and
//! the findings that redirect a claim, give one [`Verdict`] with its reasons in plain words.
use super::dial_log::DialRate;
use super::model_spec::ModelSpec;
use super::policy::{AccuracyTerm, DecisionRule, FindingOutcome, Policy, PolicyRef, RateUnit, Tolerance};
use super::position::{Movement, Position};
use super::protocol::{average, Average, PositionFigures};
use super::recorder::RecorderTerm;
use crate::measurement::{Figure, Finding, Kind, Measurement, S_PER_DAY_PER_PPM};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::Write as _;

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

fn unit_for(movement: Movement) -> RateUnit {
    match movement {
        Movement::Mechanical => RateUnit::SPerDay,
        Movement::Quartz => RateUnit::SPerMonth,
    }
}

fn fmt_fig(f: Figure, unit: RateUnit) -> String {
    format!("{:+.2} ± {:.2} {}", f.value, f.u95, unit.name())
}

fn in_unit(f: Figure, unit: RateUnit) -> Figure {
    let k = unit.per_s_per_day();
    Figure::new(f.value * k, f.u95 * k)
}

/// The uncertainty budget of the compared rate, for advice.
struct Budget {
    random_s_per_day: f64,
    recorder_s_per_day: f64,
    recorder_assumed: bool,
    mean_duration_s: f64,
    dial: Option<DialRate>,
}

struct RateDecision {
    outcome: Outcome,
    limit: Option<LimitApplied>,
    reasons: Vec<String>,
    to_decide: Option<String>,
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
    let redirected = |outcome: FindingOutcome| -> Vec<(&Finding, &super::policy::FindingRule)> {
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
    super::recorder::fill_position_u95(&mut figures, positions, policy.uncalibrated_recorder_u95_ppm);
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

fn decide_rate(
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

/// What more measurement or calibration would decide a rate against an edge (`edge` in s/day).
///
/// The random part of the u95 shrinks with measuring time `T`: as `1/T^1.5` when beat-timing
/// noise dominates (white timing jitter), as `1/sqrt(T)` when the rate itself wanders; both
/// factors are given. The recorder part does not shrink: only a calibration removes it. A dial
/// log read to the second decides a distance `d` s/day in about `0.82 / d` days (two readings, k=2).
fn advice(rate: Figure, edge: f64, b: &Budget, unit: RateUnit) -> String {
    let k = unit.per_s_per_day();
    let u = unit.name();
    let d = (rate.value - edge).abs();
    if d < 1e-9 * (1.0 + edge.abs()) {
        return format!(
            "The measured value sits on the {:+} {u} limit: more measurement narrows the interval but cannot move \
             the value off it; only a new measurement that finds a different rate can decide.",
            edge * k
        );
    }
    let dial_days = (0.8165 / d).max(1.0);
    let dial_note = format!(
        "a dial log of at least {} days with readings to the second (independent of the recorder)",
        fmt_days(dial_days)
    );
    if let Some(dl) = &b.dial {
        let days = dl.span_days * dl.rate_s_per_day.u95 / d;
        return format!(
            "The value is {:.2} {u} from the limit and the dial log's u95 is {:.2} {u}: continue the dial log to \
             about {} days in all (now {}); its u95 shrinks roughly as 1/time.",
            d * k,
            dl.rate_s_per_day.u95 * k,
            fmt_days(days),
            fmt_days(dl.span_days)
        );
    }
    let r = b.random_s_per_day;
    let c = b.recorder_s_per_day;
    let what = if b.recorder_assumed {
        "assumed for the uncalibrated recorder"
    } else {
        "of the recorder calibration"
    };
    if c >= d {
        let target_ppm = if d > r { Some((d * d - r * r).sqrt() / S_PER_DAY_PER_PPM) } else { None };
        let cal = match target_ppm {
            Some(p) => format!(
                "calibrate the recorder to better than ±{p:.1} ppm (`tickproof calibrate`) and measure again"
            ),
            None => "calibrate the recorder and measure each position longer".to_string(),
        };
        return format!(
            "The value is {:.2} {u} from the limit, but the recorder clock's u95 ({:.2} {u}, {what}) alone is \
             larger and no measuring time reduces it: {cal}, or keep {dial_note}.",
            d * k,
            c * k
        );
    }
    let need = (d * d - c * c).sqrt();
    if r <= 0.0 || b.mean_duration_s <= 0.0 {
        return format!("Measure again, longer, or keep {dial_note}.");
    }
    let f = r / need;
    let slow = f * f; // u ~ 1/sqrt(T)
    let fast = f.powf(2.0 / 3.0); // u ~ 1/T^1.5
    let mut s = format!(
        "The value is {:.2} {u} from the limit; the random part of the u95 is {:.2} {u}. Measuring each position \
         about {:.1} to {:.1} times as long (about {:.0} to {:.0} s instead of {:.0} s) would decide it: u95 shrinks \
         as 1/time^1.5 when beat timing noise dominates and as 1/sqrt(time) when the rate itself wanders.",
        d * k,
        r * k,
        fast.max(1.0),
        slow.max(1.0),
        b.mean_duration_s * fast.max(1.0),
        b.mean_duration_s * slow.max(1.0),
        b.mean_duration_s
    );
    if c > 0.0 {
        let _ = write!(s, " The recorder part ({:.2} {u}, {what}) does not shrink with time", c * k);
        if b.recorder_assumed {
            s.push_str("; calibrating the recorder removes most of it");
        }
        s.push('.');
    }
    let _ = write!(s, " Alternatively, keep {dial_note}.");
    s
}

fn fmt_days(days: f64) -> String {
    if days < 10.0 {
        format!("{days:.1}")
    } else {
        format!("{days:.0}")
    }
}

/// The findings reported beside a verdict (thresholds from the policy, typical service values
/// by default), plus the measurement's own findings, each naming its position.
fn detect_findings(
    policy: &Policy,
    movement: Movement,
    positions: &[(Position, Measurement)],
    avg: Option<&Average>,
) -> Vec<Finding> {
    let th = &policy.thresholds;
    let mut out: Vec<Finding> = Vec::new();
    let push = |f: Finding, out: &mut Vec<Finding>| {
        if !out.iter().any(|g| g.code == f.code && g.message == f.message) {
            out.push(f);
        }
    };
    let expected_kind = match movement {
        Movement::Mechanical => Kind::Mechanical,
        Movement::Quartz => Kind::Quartz,
    };
    let mut battery_seen = false;
    for (p, m) in positions {
        let at =
            if *p == Position::Unstated { String::new() } else { format!("{} ({}): ", p.code(), p.words()) };
        if m.kind == Kind::None {
            let why = m.reason.clone().unwrap_or_else(|| "no watch signal".into());
            push(Finding::new("no_signal", format!("{at}no watch was heard: {why}")), &mut out);
        } else if m.kind != expected_kind {
            push(
                Finding::new(
                    "movement_mismatch",
                    format!(
                        "{at}the recording sounds {} but the claim is judged as {movement}",
                        kind_name(m.kind)
                    ),
                ),
                &mut out,
            );
        }
        let step = m.quartz.as_ref().map(|q| q.step_interval_s).filter(|s| *s > 1.5);
        let flagged = m.findings.iter().any(|f| f.code == "battery_end_of_life");
        if (step.is_some() || flagged) && !battery_seen {
            battery_seen = true;
            let msg = match step {
                Some(s) => format!(
                    "{at}the second hand steps every {s:.0} s instead of every second: the battery's end-of-life indicator"
                ),
                None => format!("{at}battery end of life reported by the analysis"),
            };
            push(Finding::new("battery_end_of_life", msg), &mut out);
        }
        for f in &m.findings {
            if f.code != "battery_end_of_life" {
                push(Finding::new(&f.code, format!("{at}{}", f.message)), &mut out);
            }
        }
        if m.kind != Kind::None && m.quality < th.poor_quality_below {
            push(
                Finding::new(
                    "poor_signal",
                    format!(
                        "{at}signal quality {:.2} is below {:.2}: the figures may be unreliable; re-record closer to the \
                         microphone in a quiet place",
                        m.quality, th.poor_quality_below
                    ),
                ),
                &mut out,
            );
        }
        if m.kind == Kind::Mechanical {
            if let Some(a) = m.amplitude_deg {
                let (limit, how) = if p.is_horizontal() {
                    (th.low_amplitude_flat_deg, "flat")
                } else {
                    (th.low_amplitude_hanging_deg, "hanging")
                };
                if a.value < limit {
                    push(
                        Finding::new(
                            "low_amplitude",
                            format!(
                                "{at}amplitude {:.0} ± {:.0} deg is below the {limit:.0} deg typical of a healthy movement \
                                 {how}: worn or dirty movement, weak mainspring or not fully wound",
                                a.value, a.u95
                            ),
                        ),
                        &mut out,
                    );
                }
            }
            if let Some(be) = m.beat_error_ms {
                if be.value > th.high_beat_error_ms {
                    push(
                        Finding::new(
                            "high_beat_error",
                            format!(
                                "{at}beat error {:.2} ± {:.2} ms is above the {:.1} ms typical service limit: the watch is \
                                 out of beat",
                                be.value, be.u95, th.high_beat_error_ms
                            ),
                        ),
                        &mut out,
                    );
                }
            }
        }
        if m.calibration == "uncalibrated" {
            push(
                Finding::new(
                    "recorder_uncalibrated",
                    format!(
                        "{at}measured with an uncalibrated recorder (assumed clock error up to ±{} ppm)",
                        policy.uncalibrated_recorder_u95_ppm
                    ),
                ),
                &mut out,
            );
        }
        if m.calibration_stale {
            push(
                Finding::new(
                    "calibration_stale",
                    format!("{at}the recorder calibration `{}` is past its validity", m.calibration),
                ),
                &mut out,
            );
        }
    }
    // Collapse the per-position recorder findings into one.
    let uncal = out.iter().filter(|f| f.code == "recorder_uncalibrated").count();
    if uncal > 1 {
        out.retain(|f| f.code != "recorder_uncalibrated");
        out.push(Finding::new(
            "recorder_uncalibrated",
            format!(
                "all {uncal} recordings were made with an uncalibrated recorder (assumed clock error up to ±{} ppm)",
                policy.uncalibrated_recorder_u95_ppm
            ),
        ));
    }
    if let Some(a) = avg {
        if let Some(d) = a.positional_spread_s_per_day {
            if d.value > th.large_positional_spread_s_per_day {
                push(
                    Finding::new(
                        "large_positional_spread",
                        format!(
                            "the rate differs by {:.1} ± {:.1} s/day between positions (D = max - min), more than the \
                             {:.0} s/day typical of a movement in good order: poise or hairspring fault, or wear",
                            d.value, d.u95, th.large_positional_spread_s_per_day
                        ),
                    ),
                    &mut out,
                );
            }
        }
        if movement == Movement::Mechanical && !out.iter().any(|f| f.code == "magnetisation") {
            let erratic = positions
                .iter()
                .filter_map(|(_, m)| m.mechanical.as_ref().and_then(|x| x.rate_spread_s_per_day))
                .fold(None::<f64>, |acc, s| Some(acc.map_or(s, |a| a.max(s))));
            if let Some(e) = erratic {
                if a.rate_s_per_day.value > th.magnetisation_gain_s_per_day
                    && e > th.erratic_window_spread_s_per_day
                {
                    push(
                        Finding::new(
                            "magnetisation",
                            format!(
                                "signs of magnetisation: a strong gain ({:+.1} s/day on average, above +{:.0}) with an \
                                 erratic rate (10 s windows scatter by up to {e:.1} s/day, above {:.0}), the pattern of \
                                 hairspring coils sticking together; check with a compass, demagnetise and measure again",
                                a.rate_s_per_day.value,
                                th.magnetisation_gain_s_per_day,
                                th.erratic_window_spread_s_per_day
                            ),
                        ),
                        &mut out,
                    );
                }
            }
        }
    }
    out
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Mechanical => "mechanical",
        Kind::Quartz => "quartz",
        Kind::None => "like no watch",
    }
}

impl Verdict {
    /// The verdict for people: the answer first, then why, the figures and the findings.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Verdict: {}", self.verdict.name());
        let _ = writeln!(
            s,
            "Policy: {} v{} (sha256 {})",
            self.policy.name, self.policy.version, self.policy.sha256
        );
        let _ = writeln!(s, "Movement: {}", self.movement);
        s.push_str("Why:\n");
        for r in &self.reasons {
            let _ = writeln!(s, "  - {r}");
        }
        if let Some(t) = &self.to_decide {
            let _ = writeln!(s, "To decide: {t}");
        }
        if let Some(r) = self.average_rate_s_per_day {
            let _ = write!(s, "Average rate: {}", fmt_fig(r, RateUnit::SPerDay));
            if let Some(m) = self.average_rate_s_per_month {
                let _ = write!(s, " = {}", fmt_fig(m, RateUnit::SPerMonth));
            }
            let src = match self.rate_source {
                RateSource::DialLog => "dial log",
                _ => "average over positions",
            };
            let _ = writeln!(s, " ({src})");
        }
        if !self.positions.is_empty() {
            s.push_str("Positions:\n");
            for p in &self.positions {
                let _ = write!(s, "  {:<8}", p.position.code());
                match p.rate_s_per_day {
                    Some(r) => {
                        let _ = write!(s, " rate {:+8.2} ± {:.2} s/day", r.value, r.u95);
                    }
                    None => s.push_str(" rate        - "),
                }
                if let Some(a) = p.amplitude_deg {
                    let _ = write!(s, "  amplitude {:.0} ± {:.0} deg", a.value, a.u95);
                }
                if let Some(b) = p.beat_error_ms {
                    let _ = write!(s, "  beat error {:.2} ± {:.2} ms", b.value, b.u95);
                }
                if let Some(st) = p.step_interval_s {
                    let _ = write!(s, "  step {st:.0} s");
                }
                let _ = writeln!(s, "  ({:.0} s, quality {:.2}, {})", p.duration_s, p.quality, p.calibration);
            }
        }
        let extra: [(&str, Option<Figure>, &str); 4] = [
            ("Positional spread D", self.positional_spread_s_per_day, "s/day"),
            ("Vertical - horizontal", self.vertical_horizontal_difference_s_per_day, "s/day"),
            ("Amplitude drop flat to hanging", self.amplitude_drop_flat_to_hanging_deg, "deg"),
            ("Largest beat error", self.max_beat_error_ms, "ms"),
        ];
        for (name, f, u) in extra {
            if let Some(f) = f {
                let _ = writeln!(s, "{name}: {:.2} ± {:.2} {u}", f.value, f.u95);
            }
        }
        if !self.findings.is_empty() {
            s.push_str("Findings:\n");
            for f in &self.findings {
                let _ = writeln!(s, "  [{}] {}", f.code, f.message);
            }
        }
        s
    }
}
