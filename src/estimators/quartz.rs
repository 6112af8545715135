//! Quartz watches: rate in s/month from the stepper motor's clicks, inhibition-aware, with
//! end-of-life, missing-step and stopped-motor findings.
//!
//! Method, from the click train of [`crate::beats::clicks`]:
//! 1. Clicks closer than 0.25 s form one hand movement (an end-of-life burst of 2/4/5 quick
//!    steps, or a single step). The median time between movements gives `step_interval_s`;
//!    movements are numbered in watch seconds (`n`) by rounding their intervals.
//! 2. A robust line `t = t0 + P n (+ class offset)` gives the residuals. Inhibition makes them a
//!    sawtooth: within a period the seconds are short, then one interval is lengthened by the
//!    dropped cycles. For every candidate period (every whole second from 5 to 240 s, and some
//!    longer, see [`QuartzConfig`]) and phase the model `t = a + b n + c J(n)` (J = corrections
//!    so far) is fitted over all steps, so a correction far below the per-step scatter still
//!    shows; the best one is kept when its correction `c` is positive and at least
//!    `min_inhibition_z` standard errors (a look-elsewhere-safe margin over ~10^4 trials).
//! 3. The rate: with inhibition, over whole periods when there are two or more (start and end
//!    at the same phase), else from the sawtooth fitted over every step; the mean second is
//!    `b + c / P`. Without, the straight line, and the largest bias that a sawtooth just below
//!    the detection threshold could cause, at any candidate period with a jump inside the span,
//!    enters the u95 (an inhibition slower than the recording is named in a finding instead:
//!    the data cannot see it). The u95 comes from the fit's covariance, the residual scatter,
//!    the lag-1 autocorrelation (effective N) and Student t. A rate is refused only below
//!    `min_steps` steps on the grid.
//! 4. The rate is corrected for the recorder clock ([`correct_rate_s_per_day`]) whose u95 adds in
//!    quadrature. When the watch timing alone is wider than
//!    [`QuartzConfig::target_u95_s_per_month`], a `recording_too_short` finding says how many more
//!    seconds would reach it; whether the figure is enough for a claim is the verdict's call.
use std::fmt;

use crate::beats::clicks::{self, fit_steps, lag1, median, t975, ClickConfig, ClickTrain, Normal};
use crate::measurement::{
    correct_rate_s_per_day, software_id, Figure, Finding, Kind, Measurement, Quartz, RecorderClock,
    SECONDS_PER_DAY, S_PER_DAY_PER_PPM,
};
use crate::source::{self, BlockSource};

/// Settings of the quartz analysis. `Default` is what `tickproof analyze` uses.
#[derive(Debug, Clone, PartialEq)]
pub struct QuartzConfig {
    /// Precision (u95, s/month) that the `recording_too_short` finding counts the seconds to:
    /// the rate is given whatever its u95, and a verdict decides whether that is enough.
    pub target_u95_s_per_month: f64,
    /// Longest inhibition period that the `inhibition_not_excluded` finding asks to exclude, s.
    pub max_inhibition_period_s: u32,
    /// Inhibition periods searched, seconds (every whole second from 5 to 240, then longer).
    pub candidate_periods_s: Vec<u32>,
    /// Significance of an inhibition correction (correction / its standard error). A
    /// correction below it is not reported, and the largest one that could hide below it
    /// enters the rate's u95.
    pub min_inhibition_z: f64,
    /// Fewest steps on the time grid for a rate.
    pub min_steps: usize,
    /// Settings of the click timer.
    pub clicks: ClickConfig,
}

impl Default for QuartzConfig {
    fn default() -> Self {
        QuartzConfig {
            target_u95_s_per_month: 1.0,
            max_inhibition_period_s: 120,
            candidate_periods_s: (5..=240).chain([300, 360, 480, 600]).collect(),
            min_inhibition_z: 6.0,
            min_steps: 20,
            clicks: ClickConfig::default(),
        }
    }
}

/// Timing of one hand movement, for the step-timing plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResidual {
    /// Time of the movement's first step, seconds on the recorder's timeline.
    pub t_s: f64,
    /// Watch second the movement belongs to (from the first).
    pub second: i64,
    /// Deviation from the fitted straight line (the inhibition sawtooth shows here), seconds.
    pub residual_s: f64,
    /// Whether the step was used (not rejected as an outlier).
    pub used: bool,
}

/// The result of the quartz analysis of one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct QuartzOutcome {
    /// The quartz figures, or `None` when no regular step train was found.
    pub quartz: Option<Quartz>,
    /// Why there are no quartz figures, in plain words.
    pub reason: Option<String>,
    /// Signal quality, 0..1: share of expected steps timed cleanly times their shape agreement.
    pub quality: f64,
    /// Click power over noise power in the analysis band, dB.
    pub snr_db: Option<f64>,
    /// Findings bearing on a verdict (`battery_end_of_life`, `motor_missing_steps`,
    /// `motor_stopped`, `recorder_uncalibrated`, `recorder_calibration_stale`,
    /// `recording_too_short`).
    pub findings: Vec<Finding>,
    /// Length analysed, seconds.
    pub duration_s: f64,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// The recorder clock applied.
    pub recorder: RecorderClock,
    /// Per-movement timing residuals against the straight line.
    pub residuals: Vec<StepResidual>,
}

impl QuartzOutcome {
    /// The outcome as a [`Measurement`] (kind "quartz", or "none" with the reason).
    pub fn to_measurement(&self, channels: u16, channel: u16) -> Measurement {
        let q = self.quartz.as_ref();
        Measurement {
            kind: if q.is_some() { Kind::Quartz } else { Kind::None },
            bph: q.map(|_| 3600),
            rate_s_per_day: q.and_then(|q| q.rate_s_per_day),
            beat_error_ms: None,
            amplitude_deg: None,
            lift_angle_deg: 0.0,
            recorder_ppm: self.recorder.recorder_ppm,
            calibration: self.recorder.source.clone(),
            calibration_stale: self.recorder.stale,
            beats_used: q.map_or(0, |q| q.steps_used),
            beats_rejected: q.map_or(0, |q| q.steps_rejected),
            duration_s: self.duration_s,
            quality: self.quality,
            snr_db: self.snr_db,
            sample_rate_hz: self.sample_rate_hz,
            channels,
            channel,
            reason: self.reason.clone(),
            mechanical: None,
            quartz: q.cloned(),
            rate_s_per_month: q.and_then(|q| q.rate_s_per_month),
            findings: self.findings.clone(),
            software: software_id(),
        }
    }
}

/// Errors of the quartz analysis.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The click timer failed (bad channel, unreadable audio).
    Clicks(clicks::Error),
    /// The source could not be rewound or read.
    Source(source::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Clicks(e) => write!(f, "{e}"),
            Error::Source(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Clicks(e) => Some(e),
            Error::Source(e) => Some(e),
        }
    }
}

impl From<clicks::Error> for Error {
    fn from(e: clicks::Error) -> Self {
        Error::Clicks(e)
    }
}

impl From<source::Error> for Error {
    fn from(e: source::Error) -> Self {
        Error::Source(e)
    }
}

/// Measures a quartz watch on one channel of `src` (from its current position) with the default
/// settings, correcting for `recorder`.
pub fn measure(
    src: &mut dyn BlockSource,
    channel: u16,
    recorder: &RecorderClock,
) -> Result<QuartzOutcome, Error> {
    measure_with(src, channel, recorder, &QuartzConfig::default())
}

/// [`measure`] with explicit settings.
pub fn measure_with(
    src: &mut dyn BlockSource,
    channel: u16,
    recorder: &RecorderClock,
    cfg: &QuartzConfig,
) -> Result<QuartzOutcome, Error> {
    let train = clicks::time_clicks(src, channel, &cfg.clicks)?;
    Ok(analyse_train(&train, recorder, cfg))
}

/// Smallest inhibition correction reported, samples per period: the click timer's step times
/// carry systematic errors of a few thousandths of a sample that depend on where a step falls
/// between samples, and over hundreds of steps such an error is "significant" without being an
/// inhibition. (The smallest real correction, one 32,768 Hz cycle, is 30 us: over a sample
/// below 32 kHz.)
const MIN_CORRECTION_SAMPLES: f64 = 0.05;

/// Hand movements: clicks closer than this belong to one movement (an end-of-life burst).
const BURST_GAP_S: f64 = 0.25;

struct Movement {
    t_s: f64,
    class: u8,
    clicks: usize,
}

fn movements(train: &ClickTrain) -> Vec<Movement> {
    let mut out: Vec<Movement> = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for c in &train.clicks {
        if c.t_s - last > BURST_GAP_S || out.is_empty() {
            out.push(Movement { t_s: c.t_s, class: c.class, clicks: 1 });
        } else if let Some(m) = out.last_mut() {
            m.clicks += 1;
        }
        last = c.t_s;
    }
    out
}

/// The step interval (whole seconds between movements) and the median clicks per movement.
fn step_interval(mv: &[Movement]) -> Option<(i64, usize)> {
    if mv.len() < 3 {
        return None;
    }
    let mut iv: Vec<f64> = mv.windows(2).map(|w| w[1].t_s - w[0].t_s).collect();
    let s = median(&mut iv).round() as i64;
    let mut b: Vec<f64> = mv.iter().map(|m| m.clicks as f64).collect();
    let burst = median(&mut b).round() as usize;
    (s >= 1).then_some((s, burst))
}

/// The sound class of each movement for the timing fit (a constant offset per class). The
/// click timer's classes when it told two sounds apart; otherwise the polarity of the
/// movement's first motor step (the motor alternates its drive, so odd and even steps may
/// sound, and time, differently even where the timer heard one sound: a contact microphone's
/// ringing, say, makes them alike in waveform but not in envelope). A parity that never
/// changes (end-of-life bursts of an even number of steps) leaves one class.
fn step_classes(train: &ClickTrain, mv: &[Movement], n: &[i64], s: i64, burst: usize) -> Vec<u8> {
    if train.classes >= 2 {
        return mv.iter().map(|v| v.class).collect();
    }
    // A motor stepping every second steps once per movement (more clicks within it are its
    // ringing or an echo heard again); at end of life a movement is a burst of steps.
    let per_movement = if s == 1 { 1 } else { burst.max(1) as i64 };
    let steps_before = |n: i64| (n / s) * per_movement;
    n.iter().map(|&k| (steps_before(k).rem_euclid(2)) as u8).collect()
}

/// Result of the inhibition model fit on a set of movements.
struct InhFit {
    period: i64,
    phase: i64,
    beta: [f64; 4],
    inv: [[f64; 4]; 4],
    rss: f64,
    n: usize,
    k: usize,
    r1: f64,
}

/// Inhibition counter: corrections applied up to watch second `n`.
fn jumps(n: i64, period: i64, phase: i64) -> f64 {
    (n + phase).div_euclid(period) as f64
}

/// Least squares of `y` on `[1, x, class, J]` (class column only when `two`, J only when
/// `period > 0`) over the selected points; returns the fit with residual sum of squares.
#[allow(clippy::too_many_arguments)]
fn fit_model(
    x: &[f64],
    n: &[i64],
    y: &[f64],
    cls: &[u8],
    sel: &[bool],
    two: bool,
    period: i64,
    phase: i64,
    res: &mut [f64],
) -> Option<InhFit> {
    let k = 2 + two as usize + (period > 0) as usize;
    let row = |i: usize| -> [f64; 4] {
        let mut r = [1.0, x[i], 0.0, 0.0];
        let mut j = 2;
        if two {
            r[j] = (cls[i] == 1) as u8 as f64;
            j += 1;
        }
        if period > 0 {
            r[j] = jumps(n[i], period, phase);
        }
        r
    };
    let mut ne = Normal::new(k);
    let mut cnt = 0;
    for i in 0..x.len() {
        if sel[i] {
            ne.add(&row(i), y[i]);
            cnt += 1;
        }
    }
    if cnt <= k + 1 {
        return None;
    }
    let (beta, inv) = ne.solve()?;
    let mut rss = 0.0;
    for i in 0..x.len() {
        let r = row(i);
        let f: f64 = (0..k).map(|j| beta[j] * r[j]).sum();
        res[i] = y[i] - f;
        if sel[i] {
            rss += res[i] * res[i];
        }
    }
    let seq: Vec<f64> = (0..x.len()).filter(|&i| sel[i]).map(|i| res[i]).collect();
    Some(InhFit { period, phase, beta, inv, rss, n: cnt, k, r1: lag1(&seq) })
}

/// Standard error of a rate whose coefficient variance (per unit residual variance) is `var`,
/// from fit `g`: the residual scatter, inflated for lag-1 autocorrelation (effective N), at
/// Student's t for the effective degrees of freedom (so that 1.96 x it is a u95).
fn rate_se(g: &InhFit, var: f64) -> f64 {
    let s2 = g.rss / (g.n - g.k).max(1) as f64;
    let rp = g.r1.clamp(0.0, 0.95);
    let infl = (1.0 + rp) / (1.0 - rp);
    let n_eff = g.n as f64 / infl;
    (s2 * var.max(0.0) * infl).sqrt() * t975((n_eff - g.k as f64).max(1.0)) / 1.959964
}

/// The rate bias (relative) that a sawtooth of fit `f`'s period and phase would cause in the
/// straight-line rate at the largest correction the data allow for it: its estimate (at least
/// 0) plus `z` standard errors at the straight line's scatter `s2`, and no less than the
/// reporting floor `c_floor`. Leaving the sawtooth out moves the slope by `c beta_J`
/// (`beta_J` the slope of the jump counter on the line), and the true mean rate differs from
/// the sawtooth's fast rate by `c / P`: the bias is `c |1/P - beta_J|`, with
/// `beta_J = -inv[b][c] / inv[c][c]` from the fit's inverse normal matrix.
fn hidden_bias(f: &InhFit, s2: f64, z: f64, c_floor: f64) -> f64 {
    let kc = f.k - 1;
    let icc = f.inv[kc][kc];
    if icc <= 0.0 {
        return 0.0;
    }
    let beta_j = -f.inv[1][kc] / icc;
    let c_lim = (f.beta[kc].max(0.0) + z * (s2 * icc).sqrt()).max(c_floor);
    c_lim * (1.0 / f.period as f64 - beta_j).abs()
}

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

/// Cheap check for automatic kind detection: times clicks in the first 30 s of one channel and
/// scores how much of what was heard is a motor stepping at whole seconds (1 s, or 2/4/5 s
/// bursts). `Some(confidence in 0.5..=1)` for a quartz watch, `None` otherwise (noise, speech,
/// music, a mechanical watch ticking several times a second). Rewinds the source afterwards.
pub fn looks_like_quartz(src: &mut dyn BlockSource, channel: u16) -> Result<Option<f64>, Error> {
    let cfg = ClickConfig { max_duration_s: Some(30.0), ..ClickConfig::default() };
    let train = clicks::time_clicks(src, channel, &cfg)?;
    src.rewind()?;
    Ok(quartz_score(&train))
}

/// The score of [`looks_like_quartz`] for a click train already timed.
pub fn quartz_score(train: &ClickTrain) -> Option<f64> {
    let mv = movements(train);
    let (s, burst) = step_interval(&mv)?;
    if !(1..=5).contains(&s) || mv.len() < 4 {
        return None;
    }
    // A burst holds as many steps as the interval has seconds.
    if burst != s as usize && !(s == 1 && burst == 1) {
        return None;
    }
    let mut n = Vec::with_capacity(mv.len());
    let mut acc = 0i64;
    for i in 0..mv.len() {
        if i > 0 {
            acc += s * ((mv[i].t_s - mv[i - 1].t_s) / s as f64).round().max(0.0) as i64;
        }
        n.push(acc);
    }
    let t: Vec<f64> = mv.iter().map(|v| v.t_s).collect();
    let cls: Vec<u8> = mv.iter().map(|v| v.class).collect();
    let mut used = Vec::new();
    let fit = fit_steps(&n, &t, &cls, &mut used)?;
    if fit.residual_rms_s > 0.003 || (fit.period_s.value - 1.0).abs() > 0.01 {
        return None;
    }
    let span = (n[mv.len() - 1] - n[0]) / s + 1;
    let coverage = fit.n_used as f64 / span.max(1) as f64;
    let clicks_on_grid: usize = (0..mv.len()).filter(|&i| used[i]).map(|i| mv[i].clicks).sum();
    let purity = clicks_on_grid as f64 / (train.clicks.len() as f64 + train.rejected as f64 * 0.5).max(1.0);
    let score = (coverage.min(1.0) * purity.min(1.0)).sqrt();
    (score >= 0.5 && fit.n_used >= 4).then_some(score)
}
