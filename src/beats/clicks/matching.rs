//! Timing detections against the templates: FFT cross-correlation and the sub-sample peak.

use super::*;

impl ClickTimer {
    /// Integer peak of the circular correlation whose spectrum is in `self.cross`, searched over
    /// lags `-lag..=lag`, refined by Newton on the Fourier interpolation.
    pub(super) fn peak_of_cross(&mut self, lag: usize) -> (f64, f64) {
        let n = self.n;
        self.cross[0].im = 0.0;
        self.cross[n / 2].im = 0.0;
        self.spec_tmp_to_corr();
        peak_within(&self.corr, &self.cross, lag)
    }

    fn spec_tmp_to_corr(&mut self) {
        // c2r uses its input as scratch: keep `cross` intact by working on `work`.
        self.work.copy_from_slice(&self.cross);
        let _ = self.c2r.process_with_scratch(&mut self.work, &mut self.corr, &mut self.scratch_i);
    }

    /// Times the segment in `self.seg` (starting at absolute sample `s0`) against the templates
    /// and records the click, or counts a rejection.
    pub(super) fn time_segment(&mut self, s0: u64) {
        if self.n_classes == 0 {
            return;
        }
        let n = self.n;
        self.fft_in.copy_from_slice(&self.seg);
        let _ = self.r2c.process_with_scratch(&mut self.fft_in, &mut self.spec, &mut self.scratch_f);
        let mut best = (0usize, 0.0f64, f64::NEG_INFINITY);
        for c in 0..self.n_classes as usize {
            let (t, v) = self.waveform_lag(c);
            if v > best.2 {
                best = (c, t, v);
            }
        }
        let (c, tau, v) = best;
        // Energy of the segment under the template's support at the found lag.
        let start = self.pre as f64 - self.guard as f64 + tau;
        let a = start.round().max(0.0) as usize;
        let b = (a + self.len).min(n);
        let e: f64 = self.seg[a..b].iter().map(|x| x * x).sum();
        let rho = if e > 0.0 { v / e.sqrt() } else { 0.0 };
        if rho.is_nan() || rho < self.cfg.min_corr || !tau.is_finite() || tau.abs() > self.lag_max as f64 {
            self.rejected += 1;
            return;
        }
        // The same click on its envelope (kept beside the waveform time; see `finish`).
        let tau_e = self.envt.time(&self.spec, c, self.lag_max);
        let centre = self.pre as f64 + tau;
        let Some(k_o) = self.onset_near(centre) else {
            self.rejected += 1;
            return;
        };
        // Its fit with free phases, within half a millisecond of its onset (once the bases are
        // learned; until then the click is kept for learning them, and timed then).
        let reach = PARTIALS_REACH_S * self.fs;
        let lag_o = k_o - self.pre as f64;
        let lag_p = if self.partials_learned {
            self.partials.time(&self.spec, c, lag_o - reach, lag_o + reach).unwrap_or(lag_o)
        } else {
            lag_o
        };
        let t_s = (s0 as f64 + centre) / self.fs;
        let t_env = (s0 as f64 + self.pre as f64 + tau_e) / self.fs;
        let t_onset = (s0 as f64 + k_o) / self.fs;
        let t_partials = (s0 as f64 + self.pre as f64 + lag_p) / self.fs;
        // Keep time order: a stored click can only precede later detections.
        let order = |a: Option<f64>, b: f64| a.is_some_and(|a| b <= a);
        if order(self.clicks.last().map(|c| c.t_s), t_s)
            || order(self.env_times.last().copied(), t_env)
            || order(self.onset_times.last().copied(), t_onset)
            || order(self.partial_times.last().copied(), t_partials)
        {
            self.rejected += 1;
            return;
        }
        if self.clicks.len() >= self.cfg.max_clicks {
            self.dropped += 1;
            return;
        }
        self.support_energy += e;
        self.env_times.push(t_env);
        self.onset_times.push(t_onset);
        if !self.partials_learned {
            let (i, nc) = (self.part_pending.len(), n / 2 + 1);
            self.part_specs[i * nc..(i + 1) * nc].copy_from_slice(&self.spec);
            self.part_pending.push(PartialsClick {
                click: self.partial_times.len(),
                s0,
                onset: k_o,
                class: c as u8,
            });
        }
        self.partial_times.push(t_partials);
        self.clicks.push(Click {
            t_s,
            strength: (e / self.len as f64).sqrt() as f32,
            corr: rho.min(1.0) as f32,
            class: c as u8,
        });
        if !self.partials_learned && self.part_pending.len() == PARTIALS_LEARN_CLICKS {
            self.learn_partials();
        }
    }
}

/// The free-phase fit ([`super::partials`]) is searched within this of the onset, seconds.
pub(super) const PARTIALS_REACH_S: f64 = 0.0005;

/// Clicks (of both classes) from which the free-phase bases are learned: a few times the
/// components of a class, so that each click's own re-timing is checked by the others.
pub(super) const PARTIALS_LEARN_CLICKS: usize = 48;

/// A click kept to learn the free-phase bases: its index, segment start, onset and class.
pub(super) struct PartialsClick {
    pub(super) click: usize,
    pub(super) s0: u64,
    pub(super) onset: f64,
    pub(super) class: u8,
}

impl ClickTimer {
    /// The waveform correlation of the segment whose spectrum is in `self.spec` with the
    /// template of class `c`: the refined lag and the correlation there.
    pub(super) fn waveform_lag(&mut self, c: usize) -> (f64, f64) {
        for k in 0..self.n / 2 + 1 {
            self.cross[k] = self.spec[k] * self.templates[c][k].conj();
        }
        self.peak_of_cross(self.lag_max)
    }

    /// The onset ([`super::onset`]) of the click in `self.spec`, searched within a millisecond
    /// of `centre` (the waveform's, which may slip a carrier cycle, never more), in samples.
    pub(super) fn onset_near(&mut self, centre: f64) -> Option<f64> {
        let reach = (0.001 * self.fs).ceil();
        let (from, to) = ((centre - reach).max(0.0) as usize, (centre + reach) as usize);
        self.onset.time(&self.spec, from, to)
    }
}

/// The peak of the circular correlation `corr` (its half spectrum `cross`) within lags
/// `-lag..=lag`: the largest sample, a parabola through it and its neighbours, then
/// [`refine_peak`] on the band-limited interpolation. Returns the lag and the value there.
pub(crate) fn peak_within(corr: &[f64], cross: &[Complex<f64>], lag: usize) -> (f64, f64) {
    let n = corr.len();
    let at = |t: i64| corr[t.rem_euclid(n as i64) as usize];
    let mut best = (0i64, f64::NEG_INFINITY);
    for t in -(lag as i64)..=(lag as i64) {
        if at(t) > best.1 {
            best = (t, at(t));
        }
    }
    let (ym, y0, yp) = (at(best.0 - 1), best.1, at(best.0 + 1));
    let den = ym - 2.0 * y0 + yp;
    let frac = if den < 0.0 { (0.5 * (ym - yp) / den).clamp(-0.5, 0.5) } else { 0.0 };
    refine_peak(cross, n, best.0 as f64 + frac)
}

/// Maximises the band-limited interpolation of a circular correlation given by its half
/// spectrum `cross` (length `n/2+1`, unnormalised as from a real FFT), starting at lag `t0`.
/// Returns the lag and the correlation value there (time-domain scale: sum of products).
pub(crate) fn refine_peak(cross: &[Complex<f64>], n: usize, t0: f64) -> (f64, f64) {
    newton_max(|t| fourier_eval(cross, n, t), t0)
}

/// Maximises a smooth function given by `eval` (value, first and second derivative) from `t0`
/// by Newton steps of at most half a sample, each kept only if it does not lower the value.
/// Returns the argument and the value there.
pub(crate) fn newton_max(eval: impl Fn(f64) -> (f64, f64, f64), t0: f64) -> (f64, f64) {
    let mut t = t0;
    let (mut v, mut d1, mut d2) = eval(t);
    for _ in 0..8 {
        if d2 >= 0.0 {
            break;
        }
        let dt = (-d1 / d2).clamp(-0.5, 0.5);
        let (nv, nd1, nd2) = eval(t + dt);
        if nv < v {
            break;
        }
        t += dt;
        v = nv;
        d1 = nd1;
        d2 = nd2;
        if dt.abs() < 1e-9 {
            break;
        }
    }
    (t, v)
}

/// The band-limited interpolation of a circular correlation given by its half spectrum `cross`
/// (length `n/2+1`, unnormalised as from a real FFT) at lag `t`, with its first and second
/// derivatives: `r(t) = (1/n) [C0 + 2 sum_{k=1}^{n/2-1} Re(C_k e^{i w_k t}) + Re(C_{n/2}) cos(pi t)]`.
pub(crate) fn fourier_eval(cross: &[Complex<f64>], n: usize, t: f64) -> (f64, f64, f64) {
    let half = n / 2;
    let w1 = 2.0 * std::f64::consts::PI / n as f64;
    let step = Complex::from_polar(1.0, w1 * t);
    let mut z = step;
    let (mut r, mut d1, mut d2) = (0.0, 0.0, 0.0);
    for (k, c) in cross.iter().enumerate().take(half).skip(1) {
        let p = c * z;
        let wk = w1 * k as f64;
        r += p.re;
        d1 -= wk * p.im;
        d2 -= wk * wk * p.re;
        z *= step;
    }
    let pi = std::f64::consts::PI;
    let cn = cross[half].re;
    let inv = 1.0 / n as f64;
    (
        (cross[0].re + 2.0 * r + cn * (pi * t).cos()) * inv,
        (2.0 * d1 - cn * pi * (pi * t).sin()) * inv,
        (2.0 * d2 - cn * pi * pi * (pi * t).cos()) * inv,
    )
}
