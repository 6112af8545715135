//! Straight-line fits with outlier rejection and an uncertainty that allows for correlated
//! residuals, shared by the tick, tone and host-clock methods.
//!
//! Hand-written: the estimator is a few dozen lines and the crates that offer regression
//! (e.g. `linregress`) give iid standard errors only, which are too small when successive
//! residuals are correlated (a tone's phase noise, a reference's alternating steps, scheduler
//! latency that persists across callbacks).

/// The smallest HAC bandwidth used, as a fraction of the points fitted.
pub const FIXED_B: f64 = 0.2;

/// A fitted line `y = intercept + slope * (x - x_mean)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// The weighted mean of the x values used (the line's pivot).
    pub x_mean: f64,
    /// y at `x_mean`.
    pub intercept: f64,
    /// The slope.
    pub slope: f64,
    /// Standard error of the slope, allowing for residual autocorrelation (Newey-West with a
    /// Bartlett kernel, bandwidth at least [`FIXED_B`] of the points).
    pub slope_se: f64,
    /// Half-width of the 95 % interval of the slope: `slope_se` times Student's t with the
    /// variance estimate's equivalent degrees of freedom (about 2.13 at a tenth of the record).
    pub slope_u95: f64,
    /// Points used in the final fit.
    pub used: usize,
    /// Points rejected as outliers.
    pub rejected: usize,
    /// RMS of the (weighted) residuals of the points used.
    pub residual_rms: f64,
    /// Lag-1 autocorrelation of those residuals.
    pub lag1_correlation: f64,
    /// HAC bandwidth used (lags).
    pub bandwidth: usize,
}

/// Fits `y` against `x` (weights `w`, e.g. how many raw samples a point averages; `None` for
/// equal weights), rejecting points whose weighted residual is beyond `reject_k` robust
/// standard deviations. The points must be in time order (the correlation is estimated between
/// neighbours). Returns `None` with fewer than 3 usable points or no spread in `x`.
///
/// The start is robust (median of slopes between points half the record apart, breakdown near
/// 25 %), then least squares and rejection alternate until the set of points stops changing.
pub fn fit_line(x: &[f64], y: &[f64], w: Option<&[f64]>, reject_k: f64) -> Option<LineFit> {
    let n = x.len();
    if n < 3 || y.len() != n || w.is_some_and(|w| w.len() != n) {
        return None;
    }
    let weight = |i: usize| w.map_or(1.0, |w| w[i]);
    let ok: Vec<bool> = (0..n)
        .map(|i| x[i].is_finite() && y[i].is_finite() && weight(i).is_finite() && weight(i) > 0.0)
        .collect();
    let idx: Vec<usize> = (0..n).filter(|&i| ok[i]).collect();
    if idx.len() < 3 {
        return None;
    }
    // Robust start.
    let h = idx.len() / 2;
    let mut slopes: Vec<f64> = (0..idx.len() - h)
        .filter_map(|k| {
            let (a, b) = (idx[k], idx[k + h]);
            let dx = x[b] - x[a];
            (dx != 0.0).then(|| (y[b] - y[a]) / dx)
        })
        .collect();
    if slopes.is_empty() {
        return None;
    }
    let mut slope = median(&mut slopes);
    let x0 = idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64;
    let mut tmp: Vec<f64> = idx.iter().map(|&i| y[i] - slope * (x[i] - x0)).collect();
    let mut icpt = median(&mut tmp);
    let mut pivot = x0;
    let mut keep = vec![false; n];
    for _ in 0..20 {
        // Robust scale of the weighted residuals over all usable points.
        let mut r: Vec<f64> =
            idx.iter().map(|&i| ((y[i] - icpt - slope * (x[i] - pivot)) * weight(i).sqrt()).abs()).collect();
        let sigma = 1.4826 * median(&mut r);
        let limit = if sigma > 0.0 { reject_k * sigma } else { f64::INFINITY };
        let mut changed = false;
        for &i in &idx {
            let k = ((y[i] - icpt - slope * (x[i] - pivot)) * weight(i).sqrt()).abs() <= limit;
            changed |= k != keep[i];
            keep[i] = k;
        }
        let (p, c, s) = wls(x, y, &weight, &keep)?;
        pivot = p;
        icpt = c;
        slope = s;
        if !changed {
            break;
        }
    }
    let used: Vec<usize> = idx.iter().copied().filter(|&i| keep[i]).collect();
    let m = used.len();
    if m < 3 {
        return None;
    }
    // Residuals and the slope's scores, in time order.
    let e: Vec<f64> = used.iter().map(|&i| y[i] - icpt - slope * (x[i] - pivot)).collect();
    let sxx: f64 = used.iter().map(|&i| weight(i) * (x[i] - pivot).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let v: Vec<f64> = used.iter().zip(&e).map(|(&i, &ei)| weight(i) * (x[i] - pivot) * ei).collect();
    let we: Vec<f64> = used.iter().zip(&e).map(|(&i, &ei)| ei * weight(i).sqrt()).collect();
    let wsum: f64 = used.iter().map(|&i| weight(i)).sum();
    let rss: f64 = we.iter().map(|r| r * r).sum();
    let residual_rms = (rss / wsum).sqrt();
    let rho = {
        let num: f64 = we.windows(2).map(|p| p[0] * p[1]).sum();
        if rss > 0.0 {
            (num / rss).clamp(-0.97, 0.97)
        } else {
            0.0
        }
    };
    // Long-run variance of the scores by Newey-West (Bartlett kernel) with a bandwidth of at
    // least a tenth of the record. A plug-in bandwidth (Andrews) badly undercovers when slow
    // wander hides under white noise (the lag-1 correlation then looks small); a wide fixed
    // fraction does not. A wide bandwidth is biased low because the residuals are orthogonal
    // to the fitted line; the bias is computed exactly for white noise from the design and
    // divided out, and the multiplier is Student's t with the Bartlett estimator's equivalent
    // degrees of freedom (1.5 m / bandwidth).
    let alpha = 4.0 * rho * rho / ((1.0 - rho).powi(2) * (1.0 + rho).powi(2));
    let andrews = (1.1447 * (alpha * m as f64).powf(1.0 / 3.0)).ceil() as usize;
    let bandwidth = andrews.max((FIXED_B * m as f64).ceil() as usize).min(m / 2);
    let kern = |l: usize| 1.0 - l as f64 / (bandwidth as f64 + 1.0);
    let quad = |a: &[f64]| -> f64 {
        let mut q = a.iter().map(|x| x * x).sum::<f64>();
        for l in 1..=bandwidth {
            q += 2.0 * kern(l) * a.windows(l + 1).map(|p| p[0] * p[l]).sum::<f64>();
        }
        q
    };
    let s = quad(&v).max(0.0);
    let z: Vec<f64> = used.iter().map(|&i| x[i] - pivot).collect();
    let az: Vec<f64> = used.iter().zip(&z).map(|(&i, &zi)| weight(i) * zi).collect();
    let bz: Vec<f64> = used.iter().zip(&z).map(|(&i, &zi)| weight(i) * zi * zi).collect();
    let bias = (1.0 - (quad(&az) / wsum + quad(&bz) / sxx) / sxx).clamp(0.05, 1.0);
    // What the kernel leaves out when correlation outlasts the bandwidth, from an ARMA(1,1)
    // shape fitted to the residuals' lag-1 and lag-2 autocorrelation (slow wander under white
    // noise): rho_l = c phi^l. Never below 1.
    let rho2 = if rss > 0.0 { we.windows(3).map(|p| p[0] * p[2]).sum::<f64>() / rss } else { 0.0 };
    let (c, phi) = if rho > 0.05 && rho2 > 0.0 && rho2 < rho {
        let phi = (rho2 / rho).min(0.98);
        ((rho / phi).min(1.0), phi)
    } else {
        (1.0, rho.max(0.0))
    };
    let full = 1.0 + 2.0 * c * phi / (1.0 - phi);
    let kept = 1.0 + 2.0 * c * (1..=bandwidth).map(|l| kern(l) * phi.powi(l as i32)).sum::<f64>();
    let truncation = (full / kept).max(1.0);
    let var_hac = s / bias * truncation / (sxx * sxx);
    // A parametric cross-check from the same ARMA(1,1) shape, its autocorrelations corrected
    // for the small-sample bias of detrended residuals (about -(1 + 3 rho) / m): when the
    // record holds few correlation times the kernel estimate is biased low, the parametric one
    // much less. The larger of the two is used.
    let (r1c, r2c) = (rho + (1.0 + 3.0 * rho) / m as f64, rho2 + (1.0 + 3.0 * rho2) / m as f64);
    let (pc, pphi) = if r1c > 0.05 && r2c > 0.0 && r2c < r1c {
        let phi = (r2c / r1c).min(0.98);
        ((r1c / phi).min(1.0), phi)
    } else {
        (1.0, r1c.clamp(0.0, 0.98))
    };
    let var_param = if pphi > 0.0 {
        let gamma0 = rss / (m as f64 - 2.0);
        let a: Vec<f64> = used.iter().zip(&z).map(|(&i, &zi)| weight(i).sqrt() * zi).collect();
        let lmax = ((1e-6f64).ln() / pphi.ln()).ceil().min((m - 1) as f64) as usize;
        let mut q = a.iter().map(|x| x * x).sum::<f64>();
        let mut pl = 1.0;
        for l in 1..=lmax {
            pl *= pphi;
            q += 2.0 * pc * pl * a.windows(l + 1).map(|p| p[0] * p[l]).sum::<f64>();
        }
        gamma0 * q.max(0.0) / (sxx * sxx)
    } else {
        0.0
    };
    let var = var_hac.max(var_param);
    let slope_se = var.sqrt();
    let dof = (1.5 * m as f64 / (bandwidth as f64 + 1.0)).max(1.0);
    let slope_u95 = slope_se * t975(dof);
    Some(LineFit {
        x_mean: pivot,
        intercept: icpt,
        slope,
        slope_se,
        slope_u95,
        used: m,
        rejected: idx.len() - m + (n - idx.len()),
        residual_rms,
        lag1_correlation: rho,
        bandwidth,
    })
}

/// One segment of points for [`fit_segments`]: x, y and weights of equal length, in time order.
pub type SegmentPoints<'a> = (&'a [f64], &'a [f64], &'a [f64]);

/// A line fit with one slope shared by several segments, each with an offset of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentsFit {
    /// The pooled fit of the points, each segment's offset taken out; its `slope_u95` is
    /// widened for the offsets fitted beyond the one intercept [`fit_line`] allows for.
    pub fit: LineFit,
    /// Segments that took part (those with at least 3 usable points).
    pub segments: usize,
    /// Each segment's share of the slope (its weighted spread of x over the whole's), in the
    /// order given; 0 for a segment left out.
    pub shares: Vec<f64>,
}

/// Fits one slope to several segments of points, with a separate offset per segment (the
/// fixed-effects, or "within", estimator): e.g. the host-clock stamps of captures that each
/// started their own count. Each segment is centred, x on its weighted mean and y on a robust
/// centre (the weighted median of `y - slope (x - mean x)` with a first-pass slope, so an
/// outlier does not drag its segment), and the centred points, segment after segment, are
/// fitted by [`fit_line`] (outliers rejected, correlated residuals allowed for). Segments with
/// fewer than 3 usable points are left out; `None` when none is left.
pub fn fit_segments(segments: &[SegmentPoints], reject_k: f64) -> Option<SegmentsFit> {
    let usable = |(x, y, w): &SegmentPoints| {
        x.len() == y.len()
            && x.len() == w.len()
            && (0..x.len()).filter(|&i| x[i].is_finite() && y[i].is_finite() && w[i] > 0.0).count() >= 3
    };
    let used: Vec<bool> = segments.iter().map(usable).collect();
    let centred = |slope: Option<f64>| -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let (mut cx, mut cy, mut cw, mut sxx) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (seg, &ok) in segments.iter().zip(&used) {
            let (x, y, w) = *seg;
            let good: Vec<usize> =
                (0..x.len()).filter(|&i| ok && x[i].is_finite() && y[i].is_finite() && w[i] > 0.0).collect();
            if good.is_empty() {
                sxx.push(0.0);
                continue;
            }
            let sw: f64 = good.iter().map(|&i| w[i]).sum();
            let xm = good.iter().map(|&i| w[i] * x[i]).sum::<f64>() / sw;
            let yc = match slope {
                None => good.iter().map(|&i| w[i] * y[i]).sum::<f64>() / sw,
                Some(b) => {
                    let mut r: Vec<(f64, f64)> =
                        good.iter().map(|&i| (y[i] - b * (x[i] - xm), w[i])).collect();
                    weighted_median(&mut r)
                }
            };
            sxx.push(good.iter().map(|&i| w[i] * (x[i] - xm).powi(2)).sum());
            for &i in &good {
                cx.push(x[i] - xm);
                cy.push(y[i] - yc);
                cw.push(w[i]);
            }
        }
        (cx, cy, cw, sxx)
    };
    let (x, y, w, _) = centred(None);
    let first = fit_line(&x, &y, Some(&w), reject_k)?;
    let (x, y, w, sxx) = centred(Some(first.slope));
    let mut fit = fit_line(&x, &y, Some(&w), reject_k)?;
    let k = used.iter().filter(|&&u| u).count();
    // fit_line counted one intercept; k were fitted.
    let m = fit.used as f64;
    if m - 1.0 - k as f64 <= 0.0 {
        return None;
    }
    let widen = ((m - 2.0) / (m - 1.0 - k as f64)).sqrt();
    fit.slope_se *= widen;
    fit.slope_u95 *= widen;
    let total: f64 = sxx.iter().sum();
    let shares = sxx.iter().map(|s| if total > 0.0 { s / total } else { 0.0 }).collect();
    Some(SegmentsFit { fit, segments: k, shares })
}

/// The weighted median of (value, weight) pairs (reorders them); the list must not be empty.
fn weighted_median(v: &mut [(f64, f64)]) -> f64 {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = v.iter().map(|p| p.1).sum::<f64>() / 2.0;
    let mut acc = 0.0;
    for p in v.iter() {
        acc += p.1;
        if acc >= half {
            return p.0;
        }
    }
    v[v.len() - 1].0
}

/// Weighted least squares over the kept points: (pivot, intercept at pivot, slope).
fn wls(x: &[f64], y: &[f64], weight: &dyn Fn(usize) -> f64, keep: &[bool]) -> Option<(f64, f64, f64)> {
    let (mut sw, mut swx, mut swy) = (0.0, 0.0, 0.0);
    for i in (0..x.len()).filter(|&i| keep[i]) {
        let w = weight(i);
        sw += w;
        swx += w * x[i];
        swy += w * y[i];
    }
    if sw <= 0.0 {
        return None;
    }
    let (xm, ym) = (swx / sw, swy / sw);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for i in (0..x.len()).filter(|&i| keep[i]) {
        let w = weight(i);
        sxx += w * (x[i] - xm).powi(2);
        sxy += w * (x[i] - xm) * (y[i] - ym);
    }
    if sxx <= 0.0 {
        return None;
    }
    Some((xm, ym, sxy / sxx))
}

/// The median (reorders `v`); `v` must not be empty.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let (_, m, _) = v.select_nth_unstable_by(n / 2, |a, b| a.total_cmp(b));
    let hi = *m;
    if n % 2 == 1 {
        hi
    } else {
        let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo + hi)
    }
}

/// The 97.5 % quantile of Student's t with `dof` degrees of freedom (Cornish-Fisher series,
/// within 0.5 % for dof >= 3, conservative below).
pub fn t975(dof: f64) -> f64 {
    let z = 1.959_964_f64;
    let v = dof.max(1.0);
    if v < 3.0 {
        return [12.706, 4.303][(v as usize).clamp(1, 2) - 1];
    }
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * v.powi(3))
}

/// Averages a long series of (x, y) points into a bounded number of groups, so that a fit over
/// hours of data keeps flat memory: when `capacity` groups are full, neighbours are merged in
/// pairs and every later group averages twice as many points. Each group keeps its count as
/// the weight for [`fit_line`].
#[derive(Debug, Clone)]
pub struct Decimator {
    groups: Vec<(f64, f64, f64)>,
    capacity: usize,
    group_size: u64,
    pending: (f64, f64, f64),
}

impl Decimator {
    /// A decimator holding at most `capacity` groups (rounded up to an even number, at least 8).
    pub fn new(capacity: usize) -> Self {
        let capacity = (capacity.max(8) + 1) & !1;
        Decimator { groups: Vec::with_capacity(capacity), capacity, group_size: 1, pending: (0.0, 0.0, 0.0) }
    }
    /// Adds one point. Allocates nothing.
    pub fn push(&mut self, x: f64, y: f64) {
        self.pending.0 += x;
        self.pending.1 += y;
        self.pending.2 += 1.0;
        if self.pending.2 as u64 >= self.group_size {
            self.groups.push(self.pending);
            self.pending = (0.0, 0.0, 0.0);
            if self.groups.len() == self.capacity {
                for k in 0..self.capacity / 2 {
                    let (a, b) = (self.groups[2 * k], self.groups[2 * k + 1]);
                    self.groups[k] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
                }
                self.groups.truncate(self.capacity / 2);
                self.group_size *= 2;
            }
        }
    }
    /// Points added so far.
    pub fn count(&self) -> u64 {
        self.groups.iter().map(|g| g.2 as u64).sum::<u64>() + self.pending.2 as u64
    }
    /// The group means and weights (x, y, w), the last partial group included.
    pub fn points(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut all = self.groups.clone();
        if self.pending.2 > 0.0 {
            all.push(self.pending);
        }
        (
            all.iter().map(|g| g.0 / g.2).collect(),
            all.iter().map(|g| g.1 / g.2).collect(),
            all.iter().map(|g| g.2).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::rng::Rng;

    #[test]
    fn exact_line_is_recovered_and_outliers_rejected() {
        let x: Vec<f64> = (0..200).map(|i| i as f64).collect();
        let mut rng = Rng::new(3);
        let mut y: Vec<f64> = x.iter().map(|&x| 2.0 + 0.5 * x + 1e-3 * rng.gauss()).collect();
        for i in [10, 50, 51, 120] {
            y[i] += 7.0;
        }
        let f = fit_line(&x, &y, None, 5.0).unwrap();
        assert_eq!(f.rejected, 4);
        assert!((f.slope - 0.5).abs() < 3.0 * f.slope_se && f.slope_se < 1e-5, "{f:?}");
    }

    #[test]
    fn correlated_noise_widens_the_interval() {
        // AR(1) noise with rho = 0.9: the iid standard error would be ~4x too small.
        let (mut covered, trials) = (0, 300);
        for seed in 0..trials {
            let mut rng = Rng::new(1000 + seed);
            let mut a = 0.0;
            let x: Vec<f64> = (0..2000).map(|i| i as f64).collect();
            let y: Vec<f64> = x
                .iter()
                .map(|&x| {
                    a = 0.9 * a + rng.gauss();
                    0.01 * x + a
                })
                .collect();
            let f = fit_line(&x, &y, None, 6.0).unwrap();
            covered += ((f.slope - 0.01).abs() <= f.slope_u95) as usize;
        }
        let c = covered as f64 / trials as f64;
        assert!((0.88..=0.99).contains(&c), "coverage {c}");
    }

    #[test]
    fn decimator_keeps_flat_memory_and_the_line() {
        let mut d = Decimator::new(64);
        for i in 0..100_003 {
            d.push(i as f64, 3.0 - 0.25 * i as f64);
        }
        let (x, y, w) = d.points();
        assert!(x.len() <= 65);
        assert_eq!(w.iter().sum::<f64>() as u64, 100_003);
        assert_eq!(d.count(), 100_003);
        let f = fit_line(&x, &y, Some(&w), 5.0).unwrap();
        assert!((f.slope + 0.25).abs() < 1e-12, "{f:?}");
    }

    /// Two segments of one line, each with its own large offset and white noise.
    fn two_segments(seed: u64, slope: f64) -> [(Vec<f64>, Vec<f64>, Vec<f64>); 2] {
        let mut rng = Rng::new(seed);
        let mut seg = |n: usize, offset: f64| {
            let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let y: Vec<f64> = x.iter().map(|&x| offset + slope * x + 1e-3 * rng.gauss()).collect();
            (x, y, vec![1.0; n])
        };
        [seg(150, 5.0), seg(90, -40.0)]
    }

    #[test]
    fn segments_share_one_slope_and_keep_their_own_offsets() {
        let s = two_segments(7, 2e-5);
        let view: Vec<SegmentPoints> = s.iter().map(|(x, y, w)| (&x[..], &y[..], &w[..])).collect();
        let f = fit_segments(&view, 5.0).unwrap();
        assert_eq!(f.segments, 2);
        assert!((f.fit.slope - 2e-5).abs() <= f.fit.slope_u95, "{f:?}");
        // Pooled, the interval is narrower than either segment's alone.
        for (x, y, w) in &s {
            let one = fit_line(x, y, Some(w), 5.0).unwrap();
            assert!(f.fit.slope_u95 < one.slope_u95, "{f:?} vs {one:?}");
        }
        // The longer segment carries the larger share: spread of x grows as n^3.
        assert!(f.shares[0] > 0.75 && (f.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{f:?}");
        // One line through both, offsets ignored, is far off.
        let x: Vec<f64> = s.iter().flat_map(|p| p.0.iter().copied()).collect();
        let y: Vec<f64> = s.iter().flat_map(|p| p.1.iter().copied()).collect();
        let naive = fit_line(&x, &y, None, 1e9).unwrap();
        assert!((naive.slope - 2e-5).abs() > 100.0 * f.fit.slope_u95, "{naive:?}");
    }

    #[test]
    fn the_pooled_interval_covers_the_truth_about_95_percent_of_the_time() {
        let trials = 300;
        let covered = (0..trials)
            .filter(|&seed| {
                let s = two_segments(500 + seed, -3e-4);
                let view: Vec<SegmentPoints> = s.iter().map(|(x, y, w)| (&x[..], &y[..], &w[..])).collect();
                let f = fit_segments(&view, 6.0).unwrap();
                (f.fit.slope + 3e-4).abs() <= f.fit.slope_u95
            })
            .count();
        let c = covered as f64 / trials as f64;
        assert!((0.90..=0.995).contains(&c), "coverage {c}");
    }

    #[test]
    fn a_segment_too_short_is_left_out_and_an_outlier_does_not_move_its_offset() {
        let mut s = two_segments(11, 1e-4);
        s[1].1[40] += 3.0;
        let short = (vec![0.0, 1.0], vec![100.0, 100.0], vec![1.0, 1.0]);
        let view: Vec<SegmentPoints> =
            s.iter().chain(std::iter::once(&short)).map(|(x, y, w)| (&x[..], &y[..], &w[..])).collect();
        let f = fit_segments(&view, 5.0).unwrap();
        assert_eq!((f.segments, f.shares[2], f.fit.rejected), (2, 0.0, 1), "{f:?}");
        assert!((f.fit.slope - 1e-4).abs() <= f.fit.slope_u95, "{f:?}");
    }

    #[test]
    fn t_quantile_matches_tables() {
        for (v, t) in [(3.0, 3.182), (5.0, 2.571), (10.0, 2.228), (30.0, 2.042), (1000.0, 1.962)] {
            assert!((t975(v) - t).abs() / t < 0.01, "{v}: {} vs {t}", t975(v));
        }
    }
}
