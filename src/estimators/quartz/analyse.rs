//! The quartz analysis of a timed click train: rate, inhibition and the findings.

use super::model::*;
use super::*;

/// Analyses a click train already timed (the part of [`measure`] after the click timer).
pub fn analyse_train(train: &ClickTrain, recorder: &RecorderClock, cfg: &QuartzConfig) -> QuartzOutcome {
    let mut out = QuartzOutcome {
        quartz: None,
        reason: None,
        quality: 0.0,
        snr_db: train.snr_db,
        findings: Vec::new(),
        duration_s: train.duration_s,
        sample_rate_hz: train.sample_rate_hz,
        recorder: recorder.clone(),
        residuals: Vec::new(),
    };
    let mv = movements(train);
    let Some((s, burst)) = step_interval(&mv) else {
        out.reason = Some(format!("no regular motor steps: {} clicks found", train.clicks.len()));
        return out;
    };
    // Number movements in watch seconds.
    let m = mv.len();
    let mut n = Vec::with_capacity(m);
    let mut acc = 0i64;
    for i in 0..m {
        if i > 0 {
            acc += s * ((mv[i].t_s - mv[i - 1].t_s) / s as f64).round().max(0.0) as i64;
        }
        n.push(acc);
    }
    let t: Vec<f64> = mv.iter().map(|v| v.t_s).collect();
    let cls = step_classes(train, &mv, &n, s, burst);
    let mut used = Vec::new();
    let Some(line) = fit_steps(&n, &t, &cls, &mut used) else {
        out.reason = Some("no regular motor steps: too few steps on a common time grid".into());
        return out;
    };
    // A step train, not noise: most movements must sit on the grid within a few ms.
    let frac_used = line.n_used as f64 / m as f64;
    if frac_used < 0.5 || line.residual_rms_s > 0.02 || !(0.9..1.1).contains(&(line.period_s.value)) {
        out.reason = Some("no regular motor steps at whole seconds".into());
        return out;
    }
    let n0 = n[used.iter().position(|&u| u).unwrap_or(0)];
    let x: Vec<f64> = n.iter().map(|&v| (v - n0) as f64).collect();
    // Residuals from the robust line: small numbers, well conditioned for the search.
    let y: Vec<f64> = (0..m)
        .map(|i| t[i] - line.t0_s - line.period_s.value * n[i] as f64 - line.class_offset_s * cls[i] as f64)
        .collect();
    let two = line.class_offset_s != 0.0;
    let mut res = vec![0.0; m];
    let base = fit_model(&x, &n, &y, &cls, &used, two, 0, 0, &mut res);
    for i in 0..m {
        out.residuals.push(StepResidual { t_s: t[i], second: n[i] - n[0], residual_s: y[i], used: used[i] });
    }
    let first_used = n0;
    let last_used = n[used.iter().rposition(|&u| u).unwrap_or(m - 1)];
    let span_s = (last_used - first_used) as f64;

    // Inhibition search: the sawtooth fitted at every candidate period and phase over all
    // steps. `hidden` is the largest rate bias (relative) that a correction just below the
    // detection threshold would cause at any candidate with at least one jump in the span.
    let mut best: Option<InhFit> = None;
    // The best sawtooth with a single jump in the span: a correction seen once, whose period
    // (and so whose share of the rate) one jump cannot tell.
    let mut single: Option<InhFit> = None;
    let mut hidden = 0.0f64;
    let c_floor = MIN_CORRECTION_SAMPLES / train.sample_rate_hz as f64;
    let s2_base = base.as_ref().map_or(0.0, |b| b.rss / (b.n - b.k).max(1) as f64);
    for &p in &cfg.candidate_periods_s {
        let p = p as i64;
        if p < 2 || span_s < p as f64 {
            continue;
        }
        for ph in 0..p {
            let nj = jumps(last_used, p, ph) - jumps(first_used, p, ph);
            if nj < 1.0 {
                continue;
            }
            let Some(f) = fit_model(&x, &n, &y, &cls, &used, two, p, ph, &mut res) else {
                continue;
            };
            hidden = hidden.max(hidden_bias(&f, s2_base, 1.959964, c_floor));
            let slot = if nj >= 2.0 { &mut best } else { &mut single };
            if f.beta[f.k - 1] > 0.0 && slot.as_ref().is_none_or(|b| f.rss < b.rss) {
                *slot = Some(f);
            }
        }
    }
    // A sawtooth of two or more jumps must fit better than the best single jump: one real jump
    // and one put at an edge, where its few steps would then be thrown out as outliers, is not
    // a period.
    let best = best.filter(|b| single.as_ref().is_none_or(|s1| b.rss < s1.rss));
    let mut inh: Option<InhFit> = None;
    if let Some(b) = best {
        // Outlier rejection under the sawtooth model, then significance of the correction.
        let mut sel = used.clone();
        let mut fit = b;
        for _ in 0..5 {
            let Some(f) = fit_model(&x, &n, &y, &cls, &sel, two, fit.period, fit.phase, &mut res) else {
                break;
            };
            fit = f;
            let mut a: Vec<f64> = (0..m).filter(|&i| sel[i]).map(|i| res[i].abs()).collect();
            let sigma = (1.4826 * median(&mut a)).max(1e-8);
            let mut changed = false;
            for i in 0..m {
                let u = used[i] && res[i].abs() <= 5.0 * sigma;
                changed |= u != sel[i];
                sel[i] = u;
            }
            if !changed {
                break;
            }
        }
        let s2 = fit.rss / (fit.n - fit.k) as f64;
        let se_c = (s2 * fit.inv[fit.k - 1][fit.k - 1]).sqrt();
        let c = fit.beta[fit.k - 1];
        if c > (cfg.min_inhibition_z * se_c).max(c_floor) {
            used = sel;
            inh = Some(fit);
        }
    }

    // A single clear jump: its period lies between the longer of the stretches either side of
    // it and the longest candidate.
    let one_jump = if inh.is_none() {
        single.filter(|f| {
            let c = f.beta[f.k - 1];
            let se = (f.rss / (f.n - f.k).max(1) as f64 * f.inv[f.k - 1][f.k - 1]).sqrt();
            c > (cfg.min_inhibition_z * se).max(c_floor)
        })
    } else {
        None
    };
    // The rate: over whole inhibition periods when there are two or more, else from the
    // sawtooth fitted over every step; without inhibition, the straight line with the hidden
    // sawtooth's bias in the u95.
    let steps_on_grid = used.iter().filter(|&&u| u).count();
    let mut period_fig: Option<(f64, f64)> = None; // mean seconds per watch second, and its SE
    let mut extra_u_rel = 0.0; // relative 95% bound from an undetectable inhibition
    let mut inh_report = None;
    if steps_on_grid >= cfg.min_steps {
        match &inh {
            Some(f) => {
                let p = f.period;
                inh_report = Some((p as f64, f.beta[f.k - 1] / p as f64 * 1e6));
                let k_whole = (last_used - first_used) / p;
                let end = if k_whole >= 2 { first_used + k_whole * p } else { last_used };
                let sel: Vec<bool> = (0..m).map(|i| used[i] && n[i] <= end).collect();
                if let Some(g) = fit_model(&x, &n, &y, &cls, &sel, two, p, f.phase, &mut res) {
                    let kc = g.k - 1;
                    let pf = p as f64;
                    let var = g.inv[1][1] + 2.0 * g.inv[1][kc] / pf + g.inv[kc][kc] / (pf * pf);
                    period_fig = Some((line.period_s.value + g.beta[1] + g.beta[kc] / pf, rate_se(&g, var)));
                }
            }
            None => match &one_jump {
                Some(f) => {
                    let kc = f.k - 1;
                    let at = first_used + (f.period - (first_used + f.phase).rem_euclid(f.period));
                    let p_lo = ((at - first_used).max(last_used - at) + 1) as f64;
                    let p_hi = cfg.candidate_periods_s.iter().copied().max().unwrap_or(600) as f64;
                    let (mid, half) = (0.5 * (1.0 / p_lo + 1.0 / p_hi), 0.5 * (1.0 / p_lo - 1.0 / p_hi));
                    let c = f.beta[kc];
                    let var = f.inv[1][1] + 2.0 * mid * f.inv[1][kc] + mid * mid * f.inv[kc][kc];
                    period_fig = Some((line.period_s.value + f.beta[1] + c * mid, rate_se(f, var)));
                    extra_u_rel = c * half;
                    out.findings.push(Finding::new(
                        "inhibition_period_unknown",
                        format!(
                            "one inhibition correction of {:.3} ms was seen (at {:.0} s) but a single one cannot tell its \
                             period ({p_lo:.0} to {p_hi:.0} s), so its share of the rate is in the u95: record at least \
                             {:.0} s more to see the next one",
                            c * 1e3,
                            at as f64 - first_used as f64,
                            (p_lo - (last_used - at) as f64).max(1.0) + s as f64
                        ),
                    ));
                }
                None => {
                    if let Some(b) = &base {
                        period_fig = Some((line.period_s.value + b.beta[1], rate_se(b, b.inv[1][1])));
                        extra_u_rel = hidden;
                    }
                }
            },
        }
    }
    let needs_more: Option<f64> = match period_fig {
        None => Some(((cfg.min_steps.saturating_sub(steps_on_grid)) as f64 * s as f64).max(s as f64)),
        Some((per, se)) => {
            // The u95 shrinks about as T^-1.5 (a line timed at both ends over a longer span).
            let u_month = (1.959964 * se / per).hypot(extra_u_rel) * SECONDS_PER_DAY * 30.0;
            (u_month > cfg.target_u95_s_per_month).then(|| {
                let mut need = span_s * (u_month / cfg.target_u95_s_per_month).powf(2.0 / 3.0);
                if let Some((p, _)) = inh_report {
                    need = (need / p).ceil() * p;
                }
                (need - span_s).max(1.0) + s as f64
            })
        }
    };

    let mut rate_day = None;
    let mut rate_month = None;
    if let Some((per, se)) = period_fig {
        let u95_watch_rel = (1.959964 * se / per).hypot(extra_u_rel);
        let apparent = (1.0 / per - 1.0) * SECONDS_PER_DAY;
        let value = correct_rate_s_per_day(apparent, recorder.recorder_ppm.value);
        let u_day = (u95_watch_rel * SECONDS_PER_DAY).hypot(recorder.recorder_ppm.u95 * S_PER_DAY_PER_PPM);
        rate_day = Some(Figure::new(value, u_day));
        rate_month = Some(Figure::new(value * 30.0, u_day * 30.0));
    }
    if inh.is_none()
        && one_jump.is_none()
        && period_fig.is_some()
        && span_s < 2.0 * cfg.max_inhibition_period_s as f64
    {
        out.findings.push(Finding::new(
            "inhibition_not_excluded",
            format!(
                "no inhibition was seen in the {span_s:.0} s timed; one with a longer period (60 to 240 s are common) can \
                 neither be seen nor ruled out in it, and its correction is not in the u95: record about {:.0} s more to \
                 exclude periods up to {} s",
                2.0 * cfg.max_inhibition_period_s as f64 - span_s,
                cfg.max_inhibition_period_s
            ),
        ));
    }

    // Missing steps and a stopped motor.
    let expected = ((last_used - first_used) / s + 1) as usize;
    let mut seen: Vec<i64> = n.iter().copied().filter(|&v| v >= first_used && v <= last_used).collect();
    seen.dedup();
    let missing_moves = expected.saturating_sub(seen.len());
    let short_bursts: usize =
        if s > 1 { mv.iter().map(|v| (s as usize).saturating_sub(v.clicks)).sum() } else { 0 };
    let missing_steps = missing_moves * s as usize + short_bursts;
    let expected_steps = expected * s as usize;
    if missing_steps >= 2.max(expected_steps / 100) {
        out.findings.push(Finding::new(
            "motor_missing_steps",
            format!(
                "the motor missed {missing_steps} of {expected_steps} steps between {:.0} s and {:.0} s: an irregular or failing motor",
                t[0],
                t[m - 1]
            ),
        ));
    }
    let last_click = train.clicks.last().map_or(0.0, |c| c.t_s);
    let silent_tail = train.duration_s - last_click;
    if silent_tail > 3.0 * s as f64 + 1.0 {
        out.findings.push(Finding::new(
            "motor_stopped",
            format!("the motor stopped: no step in the last {silent_tail:.0} s of the recording (last at {last_click:.1} s)"),
        ));
    }
    if s >= 2 {
        out.findings.push(Finding::new(
            "battery_end_of_life",
            format!(
                "the second hand jumps every {s} s in bursts of {burst} steps: the battery's end-of-life indicator, not a defect; the rate is not a warranty figure"
            ),
        ));
    }
    if recorder.is_uncalibrated() {
        out.findings.push(Finding::new(
            "recorder_uncalibrated",
            "the recorder clock is uncalibrated: a sound card is typically 10-100 ppm off (26-260 s/month), more than the whole +-20 s/month quartz tolerance, so the rate is only as good as the recorder; calibrate it (tickproof calibrate) or pass --recorder-ppm",
        ));
    } else if recorder.stale {
        out.findings.push(Finding::new(
            "recorder_calibration_stale",
            format!(
                "the recorder calibration '{}' is past its validity; the rate depends on it",
                recorder.source
            ),
        ));
    }
    if let Some(more) = needs_more {
        let what = if period_fig.is_some() {
            format!("for a rate to +-{} s/month", cfg.target_u95_s_per_month)
        } else {
            format!("for a rate at all ({steps_on_grid} steps on the time grid, {} needed)", cfg.min_steps)
        };
        out.findings.push(Finding::new(
            "recording_too_short",
            format!("the recording is too short {what}: record about {:.0} s more", more.ceil()),
        ));
    }

    let steps_used = used.iter().filter(|&&u| u).count();
    let steps_rejected = m - steps_used;
    let mut corr: Vec<f64> = train.clicks.iter().map(|c| c.corr as f64).collect();
    out.quality = ((steps_used as f64 / expected.max(1) as f64).min(1.0) * median(&mut corr)).clamp(0.0, 1.0);
    // Residuals of the final model (the sawtooth one when inhibition was found).
    let _ = match &inh {
        Some(f) => fit_model(&x, &n, &y, &cls, &used, two, f.period, f.phase, &mut res),
        None => fit_model(&x, &n, &y, &cls, &used, two, 0, 0, &mut res),
    };
    let jitter_ms = {
        let rr: Vec<f64> = (0..m).filter(|&i| used[i]).map(|i| res[i]).collect();
        1e3 * (rr.iter().map(|v| v * v).sum::<f64>() / rr.len().max(1) as f64).sqrt()
    };
    out.quartz = Some(Quartz {
        rate_s_per_month: rate_month,
        rate_s_per_day: rate_day,
        step_interval_s: s as f64,
        inhibition_period_s: inh_report.map(|r| r.0),
        inhibition_correction_ppm: inh_report.map(|r| r.1),
        steps_used,
        steps_rejected,
        jitter_ms,
        needs_more_s: needs_more.map(|v| v.ceil()),
    });
    out
}
