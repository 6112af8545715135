//! FFT plans made once and reused: zero-phase band weighting, analytic cross-correlation,
//! exact fractional shifts and sub-sample peak location.
//!
//! Everything here works on frames of one fixed length `n` chosen at construction; the plans
//! (realfft for real transforms, rustfft for the complex inverse) and every scratch buffer are
//! allocated in [`Spectral::new`] and never again, so the per-beat hot path allocates nothing.
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::f64::consts::PI;
use std::sync::Arc;

/// Complex f32.
pub type C32 = Complex<f32>;
/// Complex f64 (accumulators).
pub type C64 = Complex<f64>;

/// The analysis band, applied as a real, zero-phase weight per frequency bin (no group delay, so
/// sub-events of different pitch are not shifted against each other).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Below this the weight is 0 (Hz).
    pub stop_lo_hz: f64,
    /// From this up the weight is 1 (Hz).
    pub pass_lo_hz: f64,
    /// Up to this the weight is 1 (Hz).
    pub pass_hi_hz: f64,
    /// Above this the weight is 0 (Hz).
    pub stop_hi_hz: f64,
}

impl Band {
    /// The default band for watch ticks at sample rate `fs_hz`: 1.5 kHz up to 20 kHz or 0.42 fs,
    /// whichever is lower. Hum, handling noise and most voiced speech lie below it.
    pub fn ticks(fs_hz: f64) -> Self {
        let hi = (0.42 * fs_hz).min(20_000.0);
        Band {
            stop_lo_hz: 1_000.0,
            pass_lo_hz: 1_500.0,
            pass_hi_hz: hi,
            stop_hi_hz: (hi * 1.1).min(0.5 * fs_hz),
        }
    }
    /// The weight at `f_hz` (raised-cosine transitions).
    pub fn weight(&self, f_hz: f64) -> f64 {
        let ramp = |x: f64| 0.5 - 0.5 * (PI * x.clamp(0.0, 1.0)).cos();
        if f_hz <= self.stop_lo_hz || f_hz >= self.stop_hi_hz {
            0.0
        } else if f_hz < self.pass_lo_hz {
            ramp((f_hz - self.stop_lo_hz) / (self.pass_lo_hz - self.stop_lo_hz))
        } else if f_hz > self.pass_hi_hz {
            ramp((self.stop_hi_hz - f_hz) / (self.stop_hi_hz - self.pass_hi_hz))
        } else {
            1.0
        }
    }
}

/// A located correlation peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Lag in samples, sub-sample precise.
    pub lag: f64,
    /// Magnitude of the analytic correlation at the peak.
    pub magnitude: f32,
}

/// FFT plans and scratch for frames of length `n`.
pub struct Spectral {
    n: usize,
    r2c: Arc<dyn RealToComplex<f32>>,
    c2r: Arc<dyn ComplexToReal<f32>>,
    inv: Arc<dyn Fft<f32>>,
    real_buf: Vec<f32>,
    half: Vec<C32>,
    r2c_scratch: Vec<C32>,
    c2r_scratch: Vec<C32>,
    inv_scratch: Vec<C32>,
    weights: Vec<C32>,
}

impl std::fmt::Debug for Spectral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spectral").field("n", &self.n).finish()
    }
}

impl Spectral {
    /// Plans transforms of length `n` (even) at sample rate `fs_hz` with the given band.
    pub fn new(n: usize, fs_hz: f64, band: Band) -> Self {
        assert!(n >= 8 && n % 2 == 0, "frame length must be even");
        let mut rp = RealFftPlanner::<f32>::new();
        let r2c = rp.plan_fft_forward(n);
        let c2r = rp.plan_fft_inverse(n);
        let inv = FftPlanner::<f32>::new().plan_fft_inverse(n);
        let weights =
            (0..=n / 2).map(|k| C32::new(band.weight(k as f64 * fs_hz / n as f64) as f32, 0.0)).collect();
        Spectral {
            n,
            real_buf: vec![0.0; n],
            half: vec![C32::default(); n / 2 + 1],
            r2c_scratch: r2c.make_scratch_vec(),
            c2r_scratch: c2r.make_scratch_vec(),
            inv_scratch: vec![C32::default(); inv.get_inplace_scratch_len()],
            r2c,
            c2r,
            inv,
            weights,
        }
    }

    /// Applies a further response `h` (one value per bin, `n/2 + 1`) after the band weights in
    /// every later [`Spectral::forward_weighted`]: a whitening filter, say.
    pub fn shape(&mut self, h: &[C32]) {
        assert_eq!(h.len(), self.weights.len(), "one value per bin");
        for (w, h) in self.weights.iter_mut().zip(h) {
            *w *= *h;
        }
    }

    /// Frame length.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of bins of a half spectrum (`n/2 + 1`).
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }

    /// Forward transform of `x` (length `n`) with the band weights applied, into `out`
    /// (length `n/2 + 1`).
    pub fn forward_weighted(&mut self, x: &[f32], out: &mut [C32]) {
        self.real_buf.copy_from_slice(&x[..self.n]);
        self.r2c
            .process_with_scratch(&mut self.real_buf, out, &mut self.r2c_scratch)
            .expect("lengths fixed at plan");
        for (o, w) in out.iter_mut().zip(&self.weights) {
            *o *= *w;
        }
    }

    /// Analytic circular cross-correlation: `out[m]` is the analytic signal of
    /// `c[m] = sum_n x[n + m] t[n]` (its real part is `c`, its magnitude the envelope).
    pub fn analytic_xcorr(&mut self, x: &[C32], t: &[C32], out: &mut [C32]) {
        let n = self.n;
        let scale = 1.0 / n as f32;
        out[0] = x[0] * t[0].conj() * scale;
        for k in 1..n / 2 {
            out[k] = x[k] * t[k].conj() * (2.0 * scale);
        }
        out[n / 2] = x[n / 2] * t[n / 2].conj() * scale;
        for o in out[n / 2 + 1..n].iter_mut() {
            *o = C32::default();
        }
        self.inv.process_with_scratch(out, &mut self.inv_scratch);
    }

    /// Analytic signal of a half spectrum (the time signal plus i times its Hilbert transform),
    /// into `out` (length `n`).
    pub fn analytic(&mut self, spec: &[C32], out: &mut [C32]) {
        let n = self.n;
        let scale = 1.0 / n as f32;
        out[0] = spec[0] * scale;
        for k in 1..n / 2 {
            out[k] = spec[k] * (2.0 * scale);
        }
        out[n / 2] = spec[n / 2] * scale;
        for o in out[n / 2 + 1..n].iter_mut() {
            *o = C32::default();
        }
        self.inv.process_with_scratch(out, &mut self.inv_scratch);
    }

    /// Forward transform of `x` (length `n`) without the band weights, into `out` (length
    /// `n/2 + 1`): for envelopes, which are already band-limited and must keep their low
    /// frequencies.
    pub fn forward(&mut self, x: &[f32], out: &mut [C32]) {
        self.real_buf.copy_from_slice(&x[..self.n]);
        self.r2c
            .process_with_scratch(&mut self.real_buf, out, &mut self.r2c_scratch)
            .expect("lengths fixed at plan");
    }

    /// Circular cross-correlation of two real signals from their half spectra (from
    /// [`Spectral::forward`]): `out[m] = sum_n x[n + m] t[n]`, length `n`.
    pub fn xcorr_real(&mut self, x: &[C32], t: &[C32], out: &mut [f32]) {
        let s = 1.0 / self.n as f32;
        for ((h, a), b) in self.half.iter_mut().zip(x).zip(t) {
            *h = a * b.conj() * s;
        }
        self.inverse_half(out);
    }

    /// Inverse real transform of `self.half` into `out`, unscaled (the imaginary parts of the
    /// DC and Nyquist bins, which a real signal cannot have, are dropped).
    fn inverse_half(&mut self, out: &mut [f32]) {
        self.half[0].im = 0.0;
        let last = self.n / 2;
        self.half[last].im = 0.0;
        self.c2r
            .process_with_scratch(&mut self.half, out, &mut self.c2r_scratch)
            .expect("lengths fixed at plan");
    }

    /// Inverse real transform of a half spectrum into `out` (length `n`), normalised so that
    /// `inverse_real(forward(x)) == x` for an all-pass band.
    pub fn inverse_real(&mut self, spec: &[C32], out: &mut [f32]) {
        self.half.copy_from_slice(spec);
        self.inverse_half(out);
        let s = 1.0 / self.n as f32;
        for v in out.iter_mut() {
            *v *= s;
        }
    }
}

/// Adds the half spectrum `x`, advanced by `delay` samples (so that `x[n + delay]` lands on
/// `n`), into the accumulator `acc`, times `gain`. Exact for any fractional delay of a
/// band-limited signal (circular in the frame).
pub fn accumulate_shifted(acc: &mut [C64], x: &[C32], delay: f64, n: usize, gain: f64) {
    let w = 2.0 * PI * delay / n as f64;
    let rot = C64::new(w.cos(), w.sin());
    let mut ph = C64::new(gain, 0.0);
    for (a, v) in acc.iter_mut().zip(x) {
        *a += C64::new(v.re as f64, v.im as f64) * ph;
        ph *= rot;
    }
}

/// Finds the strongest peak of an analytic correlation within `lo..=hi` and locates it to a
/// fraction of a sample from the carrier phase (falling back to a parabola on the magnitude for
/// signals with too little high-frequency content to have a usable phase).
pub fn find_peak(a: &[C32], lo: usize, hi: usize) -> Option<Peak> {
    let hi = hi.min(a.len().saturating_sub(2));
    let lo = lo.max(1);
    if lo > hi {
        return None;
    }
    let mut m = lo;
    let mut best = -1.0f32;
    for (i, v) in a.iter().enumerate().take(hi + 1).skip(lo) {
        let p = v.norm_sqr();
        if p > best {
            best = p;
            m = i;
        }
    }
    let (am, ap, an) = (a[m - 1], a[m], a[m + 1]);
    let omega = ((an * am.conj()).arg() as f64) / 2.0;
    let lag = if omega > 0.15 {
        let corr = -(ap.arg() as f64) / omega;
        let lim = PI / omega;
        m as f64 + corr.clamp(-lim, lim)
    } else {
        let (y0, y1, y2) = (am.norm() as f64, ap.norm() as f64, an.norm() as f64);
        let d = y0 - 2.0 * y1 + y2;
        m as f64 + if d < 0.0 { (0.5 * (y0 - y2) / d).clamp(-0.5, 0.5) } else { 0.0 }
    };
    Some(Peak { lag, magnitude: best.sqrt() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditioning::dft;

    fn all_pass(fs: f64) -> Band {
        Band { stop_lo_hz: -2.0, pass_lo_hz: -1.0, pass_hi_hz: fs, stop_hi_hz: fs * 2.0 }
    }

    fn click(n: usize, at: f64, f: f64, tau: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 - at;
                if t < 0.0 {
                    0.0
                } else {
                    ((-t / tau).exp() * (2.0 * PI * f * t).sin() * (1.0 - (-t / 2.0).exp())) as f32
                }
            })
            .collect()
    }

    #[test]
    fn forward_matches_naive_dft() {
        let n = 64;
        let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        let mut s = Spectral::new(n, 1.0, all_pass(1.0));
        let mut out = vec![C32::default(); s.bins()];
        s.forward_weighted(&x, &mut out);
        let reference = dft::real_dft(&x.iter().map(|&v| v as f64).collect::<Vec<_>>());
        for (o, r) in out.iter().zip(reference) {
            assert!((o.re as f64 - r.0).abs() < 1e-3 && (o.im as f64 - r.1).abs() < 1e-3);
        }
    }

    #[test]
    fn analytic_xcorr_real_part_matches_naive_xcorr() {
        let n = 128;
        let x = click(n, 40.3, 0.11, 9.0);
        let t = click(n, 10.0, 0.11, 9.0);
        let mut s = Spectral::new(n, 1.0, all_pass(1.0));
        let (mut xs, mut ts) = (vec![C32::default(); s.bins()], vec![C32::default(); s.bins()]);
        s.forward_weighted(&x, &mut xs);
        s.forward_weighted(&t, &mut ts);
        let mut a = vec![C32::default(); n];
        s.analytic_xcorr(&xs, &ts, &mut a);
        let reference = dft::circular_xcorr(
            &x.iter().map(|&v| v as f64).collect::<Vec<_>>(),
            &t.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        );
        for (v, r) in a.iter().zip(reference) {
            assert!((v.re as f64 - r).abs() < 1e-3, "{} vs {}", v.re, r);
        }
    }

    #[test]
    fn find_peak_recovers_fractional_delays() {
        let n = 256;
        let t = click(n, 20.0, 0.12, 12.0);
        let mut s = Spectral::new(n, 1.0, all_pass(1.0));
        let mut ts = vec![C32::default(); s.bins()];
        s.forward_weighted(&t, &mut ts);
        for k in 0..20 {
            let d = 30.0 + k as f64 * 0.137;
            let x = click(n, 20.0 + d, 0.12, 12.0);
            let mut xs = vec![C32::default(); s.bins()];
            s.forward_weighted(&x, &mut xs);
            let mut a = vec![C32::default(); n];
            s.analytic_xcorr(&xs, &ts, &mut a);
            let p = find_peak(&a, 1, 100).unwrap();
            assert!((p.lag - d).abs() < 0.02, "delay {d} found {}", p.lag);
        }
    }

    #[test]
    fn accumulate_shifted_undoes_a_fractional_delay() {
        let n = 256;
        let t = click(n, 20.0, 0.1, 10.0);
        let x = click(n, 20.0 + 7.4, 0.1, 10.0);
        let mut s = Spectral::new(n, 1.0, all_pass(1.0));
        let (mut xs, mut ts) = (vec![C32::default(); s.bins()], vec![C32::default(); s.bins()]);
        s.forward_weighted(&x, &mut xs);
        s.forward_weighted(&t, &mut ts);
        let mut acc = vec![C64::default(); s.bins()];
        accumulate_shifted(&mut acc, &xs, 7.4, n, 1.0);
        let mut err = 0.0f64;
        for (a, b) in acc.iter().zip(&ts) {
            err = err.max((a - C64::new(b.re as f64, b.im as f64)).norm());
        }
        assert!(err < 0.05, "max spectral error {err}");
    }

    #[test]
    fn real_cross_correlation_matches_the_naive_circular_sum() {
        let n = 64;
        let x: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
        let t: Vec<f32> = (0..n).map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.2).collect();
        let mut s = Spectral::new(n, 1.0, all_pass(1.0));
        let (mut xs, mut ts) = (vec![C32::default(); s.bins()], vec![C32::default(); s.bins()]);
        s.forward(&x, &mut xs);
        s.forward(&t, &mut ts);
        let mut out = vec![0.0f32; n];
        s.xcorr_real(&xs, &ts, &mut out);
        for (m, o) in out.iter().enumerate() {
            let naive: f32 = (0..n).map(|i| x[(i + m) % n] * t[i]).sum();
            assert!((o - naive).abs() < 1e-4, "lag {m}: {o} vs {naive}");
        }
    }
}
