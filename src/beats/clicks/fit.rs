//! Robust fits of click times against step numbers, and the small statistics they use.

use super::*;

/// A robust straight-line fit of click times against step numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodFit {
    /// Period, seconds on the recorder's timeline, with its data-derived 95% uncertainty.
    pub period_s: Figure,
    /// Fitted time of step number 0 for class 0, seconds.
    pub t0_s: f64,
    /// Constant time offset of class 1 against class 0, seconds (0 with one class).
    pub class_offset_s: f64,
    /// RMS of the residuals of the clicks used, seconds.
    pub residual_rms_s: f64,
    /// Lag-1 autocorrelation of the residuals (in step order).
    pub lag1_autocorr: f64,
    /// Effective number of independent clicks behind the u95 (fewer than used when residuals
    /// are correlated).
    pub n_effective: f64,
    /// Clicks used in the fit.
    pub n_used: usize,
    /// Clicks rejected as outliers (more than 5 robust sigmas off the line).
    pub n_rejected: usize,
    /// Step numbers spanned by the clicks used (last minus first).
    pub span_steps: i64,
}

impl PeriodFit {
    /// The recorder's clock error implied when the true period is `true_period_s`: ppm, + = the
    /// recorder runs fast (it counts the period too long), with its u95.
    pub fn ppm_vs(&self, true_period_s: f64) -> Figure {
        Figure::new(
            (self.period_s.value / true_period_s - 1.0) * 1e6,
            self.period_s.u95 / true_period_s * 1e6,
        )
    }
}

/// Numbers clicks as steps of a train of nominal period `nominal_period_s`: each step number
/// follows the previous one by the rounded ratio of the interval to the period (0 for clicks
/// closer than half a period, which the fit then rejects). The first click is step 0.
pub fn step_numbers(times_s: &[f64], nominal_period_s: f64, out: &mut Vec<i64>) {
    out.clear();
    let mut n = 0i64;
    for (i, &t) in times_s.iter().enumerate() {
        if i > 0 {
            n += ((t - times_s[i - 1]) / nominal_period_s).round().max(0.0) as i64;
        }
        out.push(n);
    }
}

/// Fits the clicks of a train with nominal period `nominal_period_s` (numbered by
/// [`step_numbers`]); `None` with fewer than 3 usable clicks.
pub fn fit_period(clicks: &[Click], nominal_period_s: f64) -> Option<PeriodFit> {
    let t: Vec<f64> = clicks.iter().map(|c| c.t_s).collect();
    let class: Vec<u8> = clicks.iter().map(|c| c.class).collect();
    let mut steps = Vec::with_capacity(t.len());
    step_numbers(&t, nominal_period_s, &mut steps);
    let mut used = Vec::new();
    fit_steps(&steps, &t, &class, &mut used)
}

/// Fits `t = t0 + P n + d [class == 1]` to click times `t_s` at step numbers `steps` (in
/// increasing order), rejecting outliers; `used` receives which clicks were kept. `None` with
/// fewer than 3 usable clicks or a degenerate span.
///
/// Robust start: the median of the step-to-step period and the median offset per class; then
/// least squares with rejection of residuals beyond 5 robust sigmas (1.4826 MAD), repeated until
/// stable. u95 = t(0.975, N_eff - p) x the least-squares standard error, inflated by
/// sqrt((1 + r1) / (1 - r1)) for a lag-1 residual autocorrelation r1 > 0.
pub fn fit_steps(steps: &[i64], t_s: &[f64], class: &[u8], used: &mut Vec<bool>) -> Option<PeriodFit> {
    let m = steps.len();
    used.clear();
    used.resize(m, true);
    if m < 3 || t_s.len() != m || class.len() != m {
        return None;
    }
    // Robust start.
    let mut per: Vec<f64> = (1..m)
        .filter(|&i| steps[i] > steps[i - 1])
        .map(|i| (t_s[i] - t_s[i - 1]) / (steps[i] - steps[i - 1]) as f64)
        .collect();
    if per.is_empty() {
        return None;
    }
    let p0 = median(&mut per);
    let mut off = [0.0f64; 2];
    for c in 0..2u8 {
        let mut v: Vec<f64> =
            (0..m).filter(|&i| class[i] == c).map(|i| t_s[i] - p0 * steps[i] as f64).collect();
        if !v.is_empty() {
            off[c as usize] = median(&mut v);
        }
    }
    let mut res: Vec<f64> =
        (0..m).map(|i| t_s[i] - p0 * steps[i] as f64 - off[class[i].min(1) as usize]).collect();
    let mut scratch = Vec::with_capacity(m);
    let reject = |res: &[f64], used: &mut Vec<bool>, scratch: &mut Vec<f64>| {
        scratch.clear();
        scratch.extend(res.iter().zip(used.iter()).filter(|(_, &u)| u).map(|(r, _)| r.abs()));
        if scratch.is_empty() {
            scratch.extend(res.iter().map(|r| r.abs()));
        }
        let sigma = (1.4826 * median(scratch)).max(1e-8);
        let mut changed = false;
        for i in 0..m {
            let u = res[i].abs() <= 5.0 * sigma;
            changed |= u != used[i];
            used[i] = u;
        }
        changed
    };
    reject(&res, used, &mut scratch);
    let mut sol = None;
    for _ in 0..10 {
        let two = (0..m).any(|i| used[i] && class[i] == 1) && (0..m).any(|i| used[i] && class[i] == 0);
        let k = if two { 3 } else { 2 };
        let n0 = steps[(0..m).find(|&i| used[i])?] as f64;
        let t_ref = t_s[0];
        let mut ne = Normal::new(k);
        for i in 0..m {
            if used[i] {
                let x = steps[i] as f64 - n0;
                ne.add(&[1.0, x, if class[i] == 1 { 1.0 } else { 0.0 }, 0.0], t_s[i] - t_ref);
            }
        }
        let (beta, inv) = ne.solve()?;
        for i in 0..m {
            let x = steps[i] as f64 - n0;
            let d = if two && class[i] == 1 { beta[2] } else { 0.0 };
            res[i] = t_s[i] - t_ref - (beta[0] + beta[1] * x + d);
        }
        sol = Some((beta, inv, k, n0, t_ref, two));
        if !reject(&res, used, &mut scratch) {
            break;
        }
    }
    let (beta, inv, k, n0, t_ref, two) = sol?;
    let idx: Vec<usize> = (0..m).filter(|&i| used[i]).collect();
    let n_used = idx.len();
    if n_used <= k {
        return None;
    }
    let ss: f64 = idx.iter().map(|&i| res[i] * res[i]).sum();
    let s2 = ss / (n_used - k) as f64;
    let r1 = lag1(&idx.iter().map(|&i| res[i]).collect::<Vec<_>>());
    let rp = r1.clamp(0.0, 0.95);
    let infl = (1.0 + rp) / (1.0 - rp);
    let n_eff = n_used as f64 / infl;
    let se = (s2 * inv[1][1] * infl).sqrt();
    let u95 = t975((n_eff - k as f64).max(1.0)) * se;
    let span = steps[*idx.last()?] - steps[idx[0]];
    if span <= 0 {
        return None;
    }
    Some(PeriodFit {
        period_s: Figure::new(beta[1], u95),
        t0_s: t_ref + beta[0] - beta[1] * n0,
        class_offset_s: if two { beta[2] } else { 0.0 },
        residual_rms_s: (ss / n_used as f64).sqrt(),
        lag1_autocorr: r1,
        n_effective: n_eff,
        n_used,
        n_rejected: m - n_used,
        span_steps: span,
    })
}

/// Median of `v` (reorders it); 0 for an empty slice.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, &mut m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    if v.len() % 2 == 1 {
        m
    } else {
        let lo = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo + m)
    }
}

/// Lag-1 autocorrelation of a sequence of residuals (0 for fewer than 3).
pub(crate) fn lag1(r: &[f64]) -> f64 {
    if r.len() < 3 {
        return 0.0;
    }
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let den: f64 = r.iter().map(|x| (x - mean) * (x - mean)).sum();
    if den <= 0.0 {
        return 0.0;
    }
    r.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum::<f64>() / den
}

/// Two-sided 95% quantile of Student's t with `nu` degrees of freedom (series in 1/nu; within
/// 0.5% for nu >= 3, exact limit 1.96).
pub(crate) fn t975(nu: f64) -> f64 {
    let x = 1.0 / nu.max(1.0);
    1.959964 + x * (2.372 + x * (2.8225 + x * 2.556))
}

/// Normal equations of a least-squares fit with up to 4 regressors.
#[derive(Debug, Clone)]
pub(crate) struct Normal {
    k: usize,
    ata: [[f64; 4]; 4],
    aty: [f64; 4],
}

impl Normal {
    /// Empty equations for `k` regressors (the first `k` entries of each row are used).
    pub(crate) fn new(k: usize) -> Self {
        Normal { k: k.min(4), ata: [[0.0; 4]; 4], aty: [0.0; 4] }
    }
    /// Adds one observation.
    pub(crate) fn add(&mut self, row: &[f64; 4], y: f64) {
        for a in 0..self.k {
            for b in 0..self.k {
                self.ata[a][b] += row[a] * row[b];
            }
            self.aty[a] += row[a] * y;
        }
    }
    /// The solution and the inverse of the normal matrix (Gauss-Jordan with partial pivoting);
    /// `None` when singular.
    pub(crate) fn solve(&self) -> Option<([f64; 4], [[f64; 4]; 4])> {
        let k = self.k;
        let mut a = self.ata;
        let mut inv = [[0.0; 4]; 4];
        for (i, row) in inv.iter_mut().enumerate().take(k) {
            row[i] = 1.0;
        }
        for col in 0..k {
            let piv = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
            let scale = (0..k).map(|j| self.ata[j][j].abs()).fold(0.0, f64::max).max(1e-300);
            if a[piv][col].abs() <= 1e-12 * scale {
                return None;
            }
            a.swap(col, piv);
            inv.swap(col, piv);
            let d = a[col][col];
            for j in 0..k {
                a[col][j] /= d;
                inv[col][j] /= d;
            }
            for r in 0..k {
                if r != col {
                    let f = a[r][col];
                    if f != 0.0 {
                        for j in 0..k {
                            a[r][j] -= f * a[col][j];
                            inv[r][j] -= f * inv[col][j];
                        }
                    }
                }
            }
        }
        let mut beta = [0.0; 4];
        for i in 0..k {
            beta[i] = (0..k).map(|j| inv[i][j] * self.aty[j]).sum();
        }
        Some((beta, inv))
    }
}
