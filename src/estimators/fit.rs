//! The tic/toc timing fit: `t_k = a + b k + c s_k` over beat slots `k` (s = 0 tic, 1 toc), so
//! `b` is the beat period, and alternate intervals are `b + c` and `b - c`: the beat error is
//! `|c|`. Accumulated online with numerically stable co-moments (flat memory for any length).

/// Online least squares for `u = a + b k + c s`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TicTocFit {
    n: f64,
    mean: [f64; 3],
    // Co-moments: kk, ks, ss, ku, su, uu.
    c: [f64; 6],
}

/// A solved fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitResult {
    /// Intercept.
    pub a: f64,
    /// Slope per beat slot.
    pub b: f64,
    /// Offset of side 1 against side 0.
    pub c: f64,
    /// Variance of `b` (white residuals).
    pub var_b: f64,
    /// Variance of `c` (white residuals).
    pub var_c: f64,
    /// Residual sum of squares.
    pub rss: f64,
    /// Points.
    pub n: usize,
}

impl TicTocFit {
    /// Adds a point.
    pub fn add(&mut self, k: f64, s: f64, u: f64) {
        self.n += 1.0;
        let x = [k, s, u];
        let d: [f64; 3] = [x[0] - self.mean[0], x[1] - self.mean[1], x[2] - self.mean[2]];
        for (m, dv) in self.mean.iter_mut().zip(d) {
            *m += dv / self.n;
        }
        let e: [f64; 3] = [x[0] - self.mean[0], x[1] - self.mean[1], x[2] - self.mean[2]];
        self.c[0] += d[0] * e[0];
        self.c[1] += d[0] * e[1];
        self.c[2] += d[1] * e[1];
        self.c[3] += d[0] * e[2];
        self.c[4] += d[1] * e[2];
        self.c[5] += d[2] * e[2];
    }
    /// The same fit of `u + d k` instead of `u`: its slope moves by `d` (for fits made against
    /// different reference lines).
    pub fn shifted(&self, d: f64) -> Self {
        let mut f = *self;
        let [kk, ks, _, ku, su, uu] = self.c;
        f.mean[2] += d * self.mean[0];
        f.c[3] = ku + d * kk;
        f.c[4] = su + d * ks;
        f.c[5] = uu + 2.0 * d * ku + d * d * kk;
        f
    }

    /// Pools `other` into this fit, each keeping its own intercept: the slope and the side
    /// offset are fitted over both, within each (segments of one recording timed apart). The
    /// pooled intercept is meaningless.
    pub fn pool(&mut self, other: &Self) {
        let n = self.n + other.n;
        if n == 0.0 {
            return;
        }
        for (m, o) in self.mean.iter_mut().zip(other.mean) {
            *m = (*m * self.n + o * other.n) / n;
        }
        for (c, o) in self.c.iter_mut().zip(other.c) {
            *c += o;
        }
        self.n = n;
    }

    /// Points added.
    pub fn len(&self) -> usize {
        self.n as usize
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0.0
    }
    /// Solves; `None` with fewer than 4 points or only one side.
    pub fn solve(&self) -> Option<FitResult> {
        if self.n < 4.0 {
            return None;
        }
        let [kk, ks, ss, ku, su, uu] = self.c;
        let det = kk * ss - ks * ks;
        if det <= 1e-9 * kk * ss.max(1e-12) || ss < 0.5 {
            return None;
        }
        let b = (ss * ku - ks * su) / det;
        let c = (kk * su - ks * ku) / det;
        let a = self.mean[2] - b * self.mean[0] - c * self.mean[1];
        let rss = (uu - b * ku - c * su).max(0.0);
        let s2 = rss / (self.n - 3.0);
        Some(FitResult { a, b, c, var_b: s2 * ss / det, var_c: s2 * kk / det, rss, n: self.n as usize })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn exact_line_is_recovered() {
        let mut f = TicTocFit::default();
        for k in 0..200 {
            let s = (k % 2) as f64;
            f.add(k as f64, s, 0.3 + 0.125 * k as f64 + 0.0004 * s);
        }
        let r = f.solve().unwrap();
        assert!((r.b - 0.125).abs() < 1e-12 && (r.c - 0.0004).abs() < 1e-12 && (r.a - 0.3).abs() < 1e-10);
        // The RSS comes from co-moments: exact to the rounding of sum(u^2) (here u ~ 25 s).
        assert!(r.rss < 1e-9);
    }
    #[test]
    fn slope_variance_matches_scatter() {
        let mut rng = crate::synth::rng::Rng::new(3);
        let mut slopes = vec![];
        let mut predicted = 0.0;
        for _ in 0..400 {
            let mut f = TicTocFit::default();
            for k in 0..100 {
                f.add(k as f64, (k % 2) as f64, 0.25 * k as f64 + 1e-4 * rng.gauss());
            }
            let r = f.solve().unwrap();
            slopes.push(r.b);
            predicted += r.var_b / 400.0;
        }
        let m = slopes.iter().sum::<f64>() / 400.0;
        let v = slopes.iter().map(|s| (s - m).powi(2)).sum::<f64>() / 399.0;
        assert!((v / predicted - 1.0).abs() < 0.2, "scatter {v} predicted {predicted}");
    }
    #[test]
    fn pooled_segments_share_the_slope_but_not_the_intercept() {
        // Two stretches of one line, the second timed against a reference 0.01 longer and
        // with an arbitrary intercept: pooled, the slope and offset are the line's.
        let (mut a, mut b) = (TicTocFit::default(), TicTocFit::default());
        for k in 0..100 {
            let s = (k % 2) as f64;
            a.add(k as f64, s, 0.125 * k as f64 + 0.0004 * s);
            b.add(k as f64, s, 7.0 + (0.125 - 0.01) * k as f64 + 0.0004 * s);
        }
        let mut p = a;
        p.pool(&b.shifted(0.01));
        let r = p.solve().unwrap();
        assert!((r.b - 0.125).abs() < 1e-12 && (r.c - 0.0004).abs() < 1e-10, "{r:?}");
        assert!(r.rss < 1e-9 && r.n == 200);
    }
}
