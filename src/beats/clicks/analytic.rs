//! The transforms and buffers that the click timings reading a click's power envelope share
//! ([`crate::beats::click_envelope`], [`super::onset`]): the complex inverse that makes the
//! analytic signal from a half spectrum, the caller's real transforms of the segment length,
//! and their scratch. Made once; used without allocating.
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealToComplex};
use rustfft::{Fft, FftPlanner};

/// Plans and buffers for segments of `n` samples (see the module).
pub struct Analytic {
    /// Segment length, samples.
    pub n: usize,
    /// Complex inverse of length `n`: the analytic signal from its one-sided spectrum.
    pub inv: Arc<dyn Fft<f64>>,
    /// The caller's forward real transform of length `n`.
    pub r2c: Arc<dyn RealToComplex<f64>>,
    /// The caller's inverse real transform of length `n`.
    pub c2r: Arc<dyn ComplexToReal<f64>>,
    /// The analytic signal (`n` samples).
    pub analytic: Vec<Complex<f64>>,
    /// Scratch of [`Analytic::inv`].
    pub inv_scratch: Vec<Complex<f64>>,
    /// A power envelope (`n` samples).
    pub env: Vec<f64>,
    /// A half spectrum (`n / 2 + 1` bins).
    pub spec: Vec<Complex<f64>>,
    /// A second half spectrum, for the inverse real transform (which overwrites its input).
    pub work: Vec<Complex<f64>>,
    /// Scratch of [`Analytic::r2c`].
    pub scratch_f: Vec<Complex<f64>>,
    /// Scratch of [`Analytic::c2r`].
    pub scratch_i: Vec<Complex<f64>>,
}

impl Analytic {
    /// Buffers for the segment length of `r2c`, sharing the caller's real transforms; only the
    /// complex inverse is planned here.
    pub fn with_plans(r2c: Arc<dyn RealToComplex<f64>>, c2r: Arc<dyn ComplexToReal<f64>>) -> Self {
        let n = r2c.len();
        let inv = FftPlanner::<f64>::new().plan_fft_inverse(n);
        let nc = n / 2 + 1;
        Analytic {
            n,
            analytic: vec![Complex::default(); n],
            inv_scratch: vec![Complex::default(); inv.get_inplace_scratch_len()],
            env: vec![0.0; n],
            spec: vec![Complex::default(); nc],
            work: vec![Complex::default(); nc],
            scratch_f: r2c.make_scratch_vec(),
            scratch_i: c2r.make_scratch_vec(),
            inv,
            r2c,
            c2r,
        }
    }

    /// Adds the power of the analytic signal whose one-sided spectrum is in
    /// [`Analytic::analytic`] (unnormalised, as from a real FFT) to [`Analytic::env`].
    pub fn add_power(&mut self) {
        self.inv.process_with_scratch(&mut self.analytic, &mut self.inv_scratch);
        let s = 1.0 / self.n as f64;
        for (e, a) in self.env.iter_mut().zip(&self.analytic) {
            *e += a.norm_sqr() * s * s;
        }
    }
}

/// Weights per bin of a half spectrum (`n` samples at `fs_hz`) that keep frequencies up to
/// `band.0` and none above `band.1`, raised-cosine between.
pub fn raised_cosine(n: usize, fs_hz: f64, band: (f64, f64)) -> Vec<f64> {
    let (lo, hi) = band;
    (0..n / 2 + 1)
        .map(|k| {
            let x = ((k as f64 * fs_hz / n as f64 - lo) / (hi - lo)).clamp(0.0, 1.0);
            0.5 + 0.5 * (std::f64::consts::PI * x).cos()
        })
        .collect()
}
