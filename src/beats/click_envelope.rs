//! Click timing on the envelope, for clicks whose fine waveform does not repeat.
//!
//! The click timer ([`super::clicks`]) correlates each click's waveform with a template: exact
//! to nanoseconds when every step of a motor sounds the same, but a motor whose ringing starts
//! with a new phase at every step (as real ones do) makes that correlation peak on a different
//! carrier cycle from step to step, a scatter of a tenth of a millisecond or more. The
//! band-limited amplitude envelope of a click repeats where its waveform does not, so every click
//! is also timed by cross-correlating its envelope with the template's envelope (zero-mean over
//! the support, refined to a fraction of a sample on the band-limited interpolation of the
//! correlation), and [`super::clicks::choose`] keeps whichever timing scatters least over the train.
//!
//! All plans and buffers are made once in [`EnvelopeTimer::new`]; timing a click allocates
//! nothing.
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::clicks::analytic::{raised_cosine, Analytic};
use super::clicks::peak_within;
pub use super::clicks::ClickTiming;

/// Envelope templates and the transforms to time clicks against them.
pub struct EnvelopeTimer {
    a: Analytic,
    cross: Vec<Complex<f64>>,
    corr: Vec<f64>,
    templates: [Vec<Complex<f64>>; 2],
    acc: Vec<f64>,
    acc_count: usize,
    lowpass: Vec<f64>,
    margin: usize,
}

/// The smoothed power envelope keeps frequencies up to the first and none above the second,
/// Hz (raised-cosine between): partials of a click closer than that still beat in it.
pub const ENVELOPE_BAND_HZ: (f64, f64) = (150.0, 400.0);

impl EnvelopeTimer {
    /// Plans for segments of `n` samples (even) at `fs_hz`.
    pub fn new(n: usize, fs_hz: f64) -> Self {
        let mut rp = RealFftPlanner::<f64>::new();
        Self::with_plans(rp.plan_fft_forward(n), rp.plan_fft_inverse(n), fs_hz)
    }

    /// The same, sharing the caller's real transforms of the segment length (the click
    /// timer's own): only the complex inverse of the analytic signal is planned here.
    pub fn with_plans(
        r2c: Arc<dyn RealToComplex<f64>>,
        c2r: Arc<dyn ComplexToReal<f64>>,
        fs_hz: f64,
    ) -> Self {
        let n = r2c.len();
        let nc = n / 2 + 1;
        EnvelopeTimer {
            cross: vec![Complex::default(); nc],
            corr: vec![0.0; n],
            templates: [vec![Complex::default(); nc], vec![Complex::default(); nc]],
            acc: vec![0.0; n],
            acc_count: 0,
            margin: (2.0 * fs_hz / ENVELOPE_BAND_HZ.1).ceil() as usize,
            lowpass: raised_cosine(n, fs_hz, ENVELOPE_BAND_HZ),
            a: Analytic::with_plans(r2c, c2r),
        }
    }

    /// The smoothed power envelope of the segment whose half spectrum is `spec`, into
    /// `self.a.env`: the squared magnitude of its analytic signal, low-passed (see
    /// [`ENVELOPE_BAND_HZ`]) so that the beating between the click's partials, whose phase
    /// changes with theirs, is gone and only the sum of their energies is left.
    fn envelope_of(&mut self, spec: &[Complex<f64>]) {
        let a = &mut self.a;
        let nc = spec.len();
        a.analytic.iter_mut().for_each(|v| *v = Complex::default());
        a.analytic[0] = spec[0];
        for (x, s) in a.analytic[1..nc - 1].iter_mut().zip(&spec[1..nc - 1]) {
            *x = s * 2.0;
        }
        a.analytic[nc - 1] = spec[nc - 1];
        a.env.iter_mut().for_each(|e| *e = 0.0);
        a.add_power();
        let _ = a.r2c.process_with_scratch(&mut a.env, &mut a.spec, &mut a.scratch_f);
        for (v, w) in a.spec.iter_mut().zip(&self.lowpass) {
            *v *= *w / a.n as f64;
        }
        let _ = a.c2r.process_with_scratch(&mut a.spec, &mut a.env, &mut a.scratch_i);
    }

    /// Sets class `c`'s template to the envelope `env` (`n` samples) restricted to the support
    /// `start..start + len`, zero-mean there and of unit energy.
    pub fn set_template(&mut self, c: usize, env: &[f64], start: usize, len: usize) {
        self.a.env.copy_from_slice(env);
        self.load_template(c, start, len);
    }

    /// Sets class `c`'s template to the envelope of the waveform template whose half spectrum
    /// is `wave` (see [`Self::set_template`] for the support).
    pub fn set_template_from_waveform(&mut self, c: usize, wave: &[Complex<f64>], start: usize, len: usize) {
        self.envelope_of(wave);
        self.load_template(c, start, len);
    }

    /// Adds the envelope of a learnt click (half spectrum `spec`, aligned to the template) to
    /// the template being averaged: the average of the envelopes, not the envelope of the
    /// averaged waveform, which cancels where the clicks' phases differ.
    pub fn add_to_average(&mut self, spec: &[Complex<f64>]) {
        self.envelope_of(spec);
        for (a, e) in self.acc.iter_mut().zip(&self.a.env) {
            *a += e;
        }
        self.acc_count += 1;
    }

    /// Sets class `c`'s template to the average of the envelopes added since the last call
    /// (see [`Self::set_template`] for the support); `false`, and nothing set, when none were.
    pub fn set_template_from_average(&mut self, c: usize, start: usize, len: usize) -> bool {
        if self.acc_count == 0 {
            return false;
        }
        let k = 1.0 / self.acc_count as f64;
        for (e, a) in self.a.env.iter_mut().zip(self.acc.iter_mut()) {
            *e = *a * k;
            *a = 0.0;
        }
        self.acc_count = 0;
        self.load_template(c, start, len);
        true
    }

    /// Class `c`'s template from the envelope in `self.a.env`, over the click's support widened
    /// by the smoothing's reach on both sides (a support cut inside the smoothed rise would pull
    /// the correlation's peak off the true lag).
    fn load_template(&mut self, c: usize, start: usize, len: usize) {
        let (start, end) = (start.saturating_sub(self.margin), (start + len + self.margin).min(self.a.n));
        let mean = self.a.env[start..end].iter().sum::<f64>() / (end - start).max(1) as f64;
        for (k, e) in self.a.env.iter_mut().enumerate() {
            *e = if (start..end).contains(&k) { *e - mean } else { 0.0 };
        }
        let norm = self.a.env.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        self.a.env.iter_mut().for_each(|v| *v /= norm);
        let _ =
            self.a.r2c.process_with_scratch(&mut self.a.env, &mut self.templates[c], &mut self.a.scratch_f);
    }

    /// Times the segment whose half spectrum is `spec` against class `c`'s envelope template:
    /// the lag, samples, within `-lag_max..=lag_max`.
    pub fn time(&mut self, spec: &[Complex<f64>], c: usize, lag_max: usize) -> f64 {
        self.envelope_of(spec);
        let n = self.a.n;
        let _ = self.a.r2c.process_with_scratch(&mut self.a.env, &mut self.a.spec, &mut self.a.scratch_f);
        for ((x, s), t) in self.cross.iter_mut().zip(&self.a.spec).zip(&self.templates[c]) {
            *x = s * t.conj();
        }
        self.cross[0].im = 0.0;
        self.cross[n / 2].im = 0.0;
        self.a.work.copy_from_slice(&self.cross);
        let _ = self.a.c2r.process_with_scratch(&mut self.a.work, &mut self.corr, &mut self.a.scratch_i);
        peak_within(&self.corr, &self.cross, lag_max).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delayed_envelope_is_timed_to_a_fraction_of_a_sample() {
        // A click (decaying tone) and the same click 3.3 samples later. (A new phase moves the
        // energy of its first cycle: see the click timer's tests for what that costs.)
        let n = 512;
        let click = |delay: f64, phase: f64| -> Vec<f64> {
            (0..n)
                .map(|k| {
                    let t = k as f64 - 100.0 - delay;
                    if t < 0.0 {
                        0.0
                    } else {
                        (-t / 30.0).exp() * (1.0 - (-t / 6.0).exp()) * (0.9 * t + phase).sin()
                    }
                })
                .collect()
        };
        let mut et = EnvelopeTimer::new(n, 8000.0);
        let mut rp = RealFftPlanner::<f64>::new();
        let r2c = rp.plan_fft_forward(n);
        let spec_of = |x: Vec<f64>| {
            let mut x = x;
            let mut s = r2c.make_output_vec();
            r2c.process(&mut x, &mut s).unwrap();
            s
        };
        let t0 = spec_of(click(0.0, 0.0));
        et.set_template_from_waveform(0, &t0, 90, 200);
        // The delay applied exactly, as a phase ramp (a fractional delay of a sampled click).
        let delayed: Vec<Complex<f64>> = t0
            .iter()
            .enumerate()
            .map(|(k, v)| {
                v * Complex::from_polar(1.0, -2.0 * std::f64::consts::PI * k as f64 * 3.3 / n as f64)
            })
            .collect();
        let mut delayed = delayed;
        delayed[n / 2].im = 0.0;
        let tau = et.time(&delayed, 0, 20);
        assert!((tau - 3.3).abs() < 0.01, "lag {tau}");
    }
}
