//! Click timing on the first arrival: the steepest rise of the click's band-limited power
//! envelope, for motors whose ringing changes from step to step.
//!
//! The envelope timing ([`crate::beats::click_envelope`]) correlates a heavily smoothed power
//! envelope (up to 150-400 Hz) with a template. Where every step rings differently, that
//! envelope's *shape* changes from step to step and its peak and centroid move with the
//! ringing. The start of the sound moves less: the onset timing splits the click into bands
//! [`BAND_HOP_HZ`] apart (raised-cosine, power-complementary), so that resonances further apart
//! than two hops never beat with each other, sums the bands' analytic power, keeps that sum up
//! to [`ONSET_BAND_HZ`] (the attack survives) and takes the instant where it rises fastest: a
//! maximum of its derivative, located to a fraction of a sample on the exact band-limited
//! interpolation ([`refine_peak`]), so there is no bias that depends on the fractional position.
//! The click's level does not move it (a scaled envelope rises fastest at the same instant).
//!
//! Limit, measured: where the attack is shorter than a carrier cycle (the synthesiser's
//! resonant quartz family: 0.3 ms against 0.43 ms at 2.3 kHz), the energy of the first cycle
//! still depends on the phase it starts with, and the onset scatters by ~50 us over random
//! phases, about as much as the envelope timing; on a contact microphone's long ring it is the
//! best of the timings. [`super::choose`] keeps whichever scatters least; the resonant
//! family's steps are timed by the fit with free phases ([`super::partials`]).
//!
//! All plans and buffers are made once in [`OnsetTimer::with_plans`]; timing a click allocates
//! nothing.
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealToComplex};

use super::analytic::{raised_cosine, Analytic};
use super::matching::refine_peak;

/// The onset envelope keeps frequencies up to the first and none above the second, Hz
/// (raised-cosine between): wide enough for a 0.2-0.3 ms attack, narrow enough to remove the
/// beating of resonances more than ~1.5 kHz apart.
pub const ONSET_BAND_HZ: (f64, f64) = (900.0, 1800.0);

/// The plans and buffers that time clicks on their onsets.
pub struct OnsetTimer {
    a: Analytic,
    deriv_spec: Vec<Complex<f64>>,
    deriv: Vec<f64>,
    lowpass: Vec<f64>,
    /// For every bin: the lower of the two bands it falls in and its weights in both.
    bands: Vec<(usize, f64, f64)>,
    n_bands: usize,
}

/// Spacing of the analysis bands, Hz: each band spans twice this, so resonances further apart
/// than that never share one (and never beat in the summed power).
pub const BAND_HOP_HZ: f64 = 800.0;

impl OnsetTimer {
    /// Plans for segments of the length of `r2c` (even) at `fs_hz`, sharing the caller's real
    /// transforms; only the complex inverse of the analytic signal is planned here.
    pub fn with_plans(
        r2c: Arc<dyn RealToComplex<f64>>,
        c2r: Arc<dyn ComplexToReal<f64>>,
        fs_hz: f64,
    ) -> Self {
        let n = r2c.len();
        let nc = n / 2 + 1;
        OnsetTimer {
            deriv_spec: vec![Complex::default(); nc],
            deriv: vec![0.0; n],
            lowpass: raised_cosine(n, fs_hz, ONSET_BAND_HZ),
            bands: (0..nc)
                .map(|k| {
                    let p = k as f64 * fs_hz / n as f64 / BAND_HOP_HZ;
                    let x = 0.5 * std::f64::consts::PI * p.fract();
                    (p.floor() as usize, x.cos(), x.sin())
                })
                .collect(),
            n_bands: (0.5 * fs_hz / BAND_HOP_HZ).floor() as usize + 2,
            a: Analytic::with_plans(r2c, c2r),
        }
    }

    /// The onset of the click in the segment whose half spectrum is `spec`: the fractional
    /// sample index, within `from..to`, where its band-limited power envelope rises fastest
    /// (`None` when the envelope does not rise there).
    pub fn time(&mut self, spec: &[Complex<f64>], from: usize, to: usize) -> Option<f64> {
        self.derivative_of_envelope(spec);
        let (from, to) = (from.max(1), to.min(self.a.n - 1));
        let mut best = (from, f64::NEG_INFINITY);
        for k in from..to {
            if self.deriv[k] > best.1 {
                best = (k, self.deriv[k]);
            }
        }
        let (k, y0) = best;
        if y0.is_nan() || y0 <= 0.0 {
            return None;
        }
        let (ym, yp) = (self.deriv[k - 1], self.deriv[k + 1]);
        let den = ym - 2.0 * y0 + yp;
        let frac = if den < 0.0 { (0.5 * (ym - yp) / den).clamp(-0.5, 0.5) } else { 0.0 };
        let (t, _) = refine_peak(&self.deriv_spec, self.a.n, k as f64 + frac);
        ((t - k as f64).abs() <= 1.0).then_some(t)
    }

    /// The derivative (per sample) of the segment's power envelope, low-passed to
    /// [`ONSET_BAND_HZ`], into `self.deriv`, and its half spectrum (unnormalised, as from a real
    /// FFT) into `self.deriv_spec`.
    fn derivative_of_envelope(&mut self, spec: &[Complex<f64>]) {
        let a = &mut self.a;
        let (n, nc) = (a.n, spec.len());
        let s = 1.0 / n as f64;
        a.env.iter_mut().for_each(|e| *e = 0.0);
        for b in 0..self.n_bands {
            a.analytic.iter_mut().for_each(|v| *v = Complex::default());
            let mut any = false;
            for (k, (x, &(lo, wl, wh))) in a.analytic[..nc].iter_mut().zip(&self.bands).enumerate() {
                let w = if lo == b {
                    wl
                } else if lo + 1 == b {
                    wh
                } else {
                    continue;
                };
                let two = if k == 0 || k == nc - 1 { 1.0 } else { 2.0 };
                *x = spec[k] * (two * w);
                any = true;
            }
            if any {
                a.add_power();
            }
        }
        let _ = a.r2c.process_with_scratch(&mut a.env, &mut a.spec, &mut a.scratch_f);
        let w1 = 2.0 * std::f64::consts::PI / n as f64;
        for (k, ((d, v), w)) in self.deriv_spec.iter_mut().zip(&a.spec).zip(&self.lowpass).enumerate() {
            *d = v * Complex::new(0.0, w1 * k as f64) * *w;
        }
        self.deriv_spec[0] = Complex::default();
        self.deriv_spec[nc - 1] = Complex::default();
        a.work.copy_from_slice(&self.deriv_spec);
        let _ = a.c2r.process_with_scratch(&mut a.work, &mut self.deriv, &mut a.scratch_i);
        self.deriv.iter_mut().for_each(|v| *v *= s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realfft::RealFftPlanner;

    /// A motor click of two damped resonances with phases `ph`, starting `at` samples into a
    /// segment of `n` at `fs` (raised-cosine attack of 0.3 ms, as the synthesiser's).
    fn click(n: usize, fs: f64, at: f64, ph: [f64; 2], f: [f64; 2], d: [f64; 2]) -> Vec<f64> {
        (0..n)
            .map(|k| {
                let t = (k as f64 - at) / fs;
                if t <= 0.0 {
                    return 0.0;
                }
                let a = if t < 3e-4 { 0.5 - 0.5 * (std::f64::consts::PI * t / 3e-4).cos() } else { 1.0 };
                let w = std::f64::consts::TAU;
                a * (0.6 * (-t / d[0]).exp() * (w * f[0] * t + ph[0]).sin()
                    + 0.4 * (-t / d[1]).exp() * (w * f[1] * t + ph[1]).sin())
            })
            .collect()
    }

    fn spectrum(r2c: &Arc<dyn RealToComplex<f64>>, x: &[f64]) -> Vec<Complex<f64>> {
        let mut x = x.to_vec();
        let mut s = r2c.make_output_vec();
        r2c.process(&mut x, &mut s).unwrap();
        s
    }

    /// The same spectrum delayed by `d` samples exactly (a phase ramp).
    fn delayed(s: &[Complex<f64>], n: usize, d: f64) -> Vec<Complex<f64>> {
        let mut out: Vec<Complex<f64>> = s
            .iter()
            .enumerate()
            .map(|(k, v)| v * Complex::from_polar(1.0, -std::f64::consts::TAU * k as f64 * d / n as f64))
            .collect();
        out[n / 2].im = 0.0;
        out
    }

    #[test]
    fn an_onset_moves_with_a_sub_sample_delay_and_not_with_the_level() {
        let (n, fs) = (1024, 44_100.0);
        let mut rp = RealFftPlanner::<f64>::new();
        let (r2c, c2r) = (rp.plan_fft_forward(n), rp.plan_fft_inverse(n));
        let mut ot = OnsetTimer::with_plans(r2c.clone(), c2r, fs);
        let s0 = spectrum(&r2c, &click(n, fs, 300.0, [0.4, 2.0], [2300.0, 4100.0], [8e-4, 5e-4]));
        let t0 = ot.time(&s0, 250, 400).unwrap();
        assert!((t0 - 300.0).abs() < 10.0, "onset {t0} far from the start at 300");
        for d in [0.37, 1.5, 4.81] {
            let t = ot.time(&delayed(&s0, n, d), 250, 400).unwrap();
            assert!((t - t0 - d).abs() < 0.01, "delay {d}: onset moved by {}", t - t0);
        }
        let loud: Vec<Complex<f64>> = s0.iter().map(|v| v * 7.0).collect();
        assert!((ot.time(&loud, 250, 400).unwrap() - t0).abs() < 1e-6);
        assert_eq!(ot.time(&vec![Complex::default(); n / 2 + 1], 250, 400), None, "silence has no onset");
    }

    /// The onset is where the band-limited derivative of the power envelope peaks: the same
    /// derivative summed bin by bin (slowly) on a fine grid must peak at the same place.
    #[test]
    fn the_onset_is_the_peak_of_the_slowly_summed_derivative() {
        let (n, fs) = (512, 22_050.0);
        let mut rp = RealFftPlanner::<f64>::new();
        let (r2c, c2r) = (rp.plan_fft_forward(n), rp.plan_fft_inverse(n));
        let mut ot = OnsetTimer::with_plans(r2c.clone(), c2r, fs);
        let x = click(n, fs, 200.3, [1.1, 5.0], [1900.0, 3700.0], [9e-4, 6e-4]);
        let t = ot.time(&spectrum(&r2c, &x), 180, 260).unwrap();
        let d = &ot.deriv_spec;
        let naive = |tau: f64| -> f64 {
            (1..n / 2)
                .map(|k| {
                    let w = std::f64::consts::TAU * k as f64 / n as f64;
                    2.0 * (d[k].re * (w * tau).cos() - d[k].im * (w * tau).sin())
                })
                .sum::<f64>()
        };
        let (mut bt, mut bv) = (0.0, f64::NEG_INFINITY);
        for i in 0..80_001 {
            let tau = 180.0 + i as f64 * 1e-3;
            let v = naive(tau);
            if v > bv {
                (bt, bv) = (tau, v);
            }
        }
        assert!((t - bt).abs() < 2e-3, "fast {t}, slow {bt}");
    }
}
