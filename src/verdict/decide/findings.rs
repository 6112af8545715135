//! The findings reported beside a verdict: the measurement's own, and those the policy's
//! thresholds raise, each naming its position.
use crate::measurement::{Finding, Kind, Measurement};
use crate::verdict::policy::Policy;
use crate::verdict::position::{Movement, Position};
use crate::verdict::protocol::Average;

/// The findings reported beside a verdict (thresholds from the policy, typical service values
/// by default), plus the measurement's own findings, each naming its position.
pub(super) fn detect_findings(
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
