//! The timing model behind the quartz analysis: hand movements, step numbering, and the
//! inhibition sawtooth fit with its standard errors.

use super::*;

/// Smallest inhibition correction reported, samples per period: the click timer's step times
/// carry systematic errors of a few thousandths of a sample that depend on where a step falls
/// between samples, and over hundreds of steps such an error is "significant" without being an
/// inhibition. (The smallest real correction, one 32,768 Hz cycle, is 30 us: over a sample
/// below 32 kHz.)
pub(super) const MIN_CORRECTION_SAMPLES: f64 = 0.05;

/// Hand movements: clicks closer than this belong to one movement (an end-of-life burst).
pub(super) const BURST_GAP_S: f64 = 0.25;

pub(super) struct Movement {
    pub(super) t_s: f64,
    pub(super) class: u8,
    pub(super) clicks: usize,
}

pub(super) fn movements(train: &ClickTrain) -> Vec<Movement> {
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
pub(super) fn step_interval(mv: &[Movement]) -> Option<(i64, usize)> {
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
pub(super) fn step_classes(train: &ClickTrain, mv: &[Movement], n: &[i64], s: i64, burst: usize) -> Vec<u8> {
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
pub(super) struct InhFit {
    pub(super) period: i64,
    pub(super) phase: i64,
    pub(super) beta: [f64; 4],
    pub(super) inv: [[f64; 4]; 4],
    pub(super) rss: f64,
    pub(super) n: usize,
    pub(super) k: usize,
    pub(super) r1: f64,
}

/// Inhibition counter: corrections applied up to watch second `n`.
pub(super) fn jumps(n: i64, period: i64, phase: i64) -> f64 {
    (n + phase).div_euclid(period) as f64
}

/// Least squares of `y` on `[1, x, class, J]` (class column only when `two`, J only when
/// `period > 0`) over the selected points; returns the fit with residual sum of squares.
#[allow(clippy::too_many_arguments)]
pub(super) fn fit_model(
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
pub(super) fn rate_se(g: &InhFit, var: f64) -> f64 {
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
pub(super) fn hidden_bias(f: &InhFit, s2: f64, z: f64, c_floor: f64) -> f64 {
    let kc = f.k - 1;
    let icc = f.inv[kc][kc];
    if icc <= 0.0 {
        return 0.0;
    }
    let beta_j = -f.inv[1][kc] / icc;
    let c_lim = (f.beta[kc].max(0.0) + z * (s2 * icc).sqrt()).max(c_floor);
    c_lim * (1.0 / f.period as f64 - beta_j).abs()
}
