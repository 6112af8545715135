//! The normalised autocorrelation of an envelope, by FFT, with its plans and buffers kept.
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Normalised, unbiased autocorrelation of the compressed envelope, for lags `0..max_lag`.
pub(super) fn autocorrelation(env: &[f32], max_lag: usize) -> Vec<f64> {
    Autocorrelator::new(env.len(), max_lag).run(env, max_lag).to_vec()
}

/// The FFT plans and buffers of [`autocorrelation`] for envelopes of up to `max_len` samples
/// and lags up to `max_lag`, planned once and reused for every stretch of a [`super::RateScan`]
/// (planning a 32768-point pair for every 12 s stretch cost a tenth of a long file's analysis).
#[derive(Clone)]
pub(super) struct Autocorrelator {
    fwd: Arc<dyn RealToComplex<f64>>,
    inv: Arc<dyn ComplexToReal<f64>>,
    buf: Vec<f64>,
    spec: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    sorted: Vec<f32>,
    out: Vec<f64>,
}

impl std::fmt::Debug for Autocorrelator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Autocorrelator").field("m", &self.buf.len()).finish()
    }
}

impl Autocorrelator {
    /// Plans for envelopes of up to `max_len` samples and lags up to `max_lag`.
    pub(super) fn new(max_len: usize, max_lag: usize) -> Self {
        let m = (max_len + max_lag).next_power_of_two();
        let mut planner = RealFftPlanner::<f64>::new();
        let (fwd, inv) = (planner.plan_fft_forward(m), planner.plan_fft_inverse(m));
        let scratch = vec![Complex::default(); fwd.get_scratch_len().max(inv.get_scratch_len())];
        Autocorrelator {
            buf: vec![0.0; m],
            spec: fwd.make_output_vec(),
            scratch,
            sorted: Vec::with_capacity(max_len),
            out: Vec::with_capacity(max_lag),
            fwd,
            inv,
        }
    }

    /// The autocorrelation of `env` (at most `max_len` samples) for lags `0..max_lag`, at most
    /// `env.len() - 1` of them.
    pub(super) fn run(&mut self, env: &[f32], max_lag: usize) -> &[f64] {
        let n = env.len();
        assert!(n + max_lag.min(n - 1) <= self.buf.len(), "an envelope longer than planned for");
        // Compress: knocks and the occasional loud event must not own the autocorrelation.
        self.sorted.clear();
        self.sorted.extend_from_slice(env);
        let k = ((n as f64 * 0.997) as usize).min(n - 1);
        let clip = *self.sorted.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1;
        let mean = env.iter().map(|&v| v.min(clip) as f64).sum::<f64>() / n as f64;
        self.buf.fill(0.0);
        for (b, &v) in self.buf.iter_mut().zip(env) {
            *b = v.min(clip) as f64 - mean;
        }
        self.fwd
            .process_with_scratch(&mut self.buf, &mut self.spec, &mut self.scratch)
            .expect("planned length");
        for s in self.spec.iter_mut() {
            *s = Complex::new(s.norm_sqr(), 0.0);
        }
        self.inv
            .process_with_scratch(&mut self.spec, &mut self.buf, &mut self.scratch)
            .expect("planned length");
        let r0 = self.buf[0] / n as f64;
        let buf = &self.buf;
        self.out.clear();
        self.out.extend((0..max_lag.min(n - 1)).map(|l| {
            if r0 > 0.0 {
                buf[l] / (n - l) as f64 / r0
            } else {
                0.0
            }
        }));
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unbiased autocorrelation by its definition: the slow, obviously correct reference.
    fn naive_autocorrelation(env: &[f32], max_lag: usize) -> Vec<f64> {
        let n = env.len();
        let mut sorted = env.to_vec();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let clip = sorted[((n as f64 * 0.997) as usize).min(n - 1)];
        let y: Vec<f64> = env.iter().map(|&v| v.min(clip) as f64).collect();
        let mean = y.iter().sum::<f64>() / n as f64;
        let c =
            |l: usize| (0..n - l).map(|i| (y[i] - mean) * (y[i + l] - mean)).sum::<f64>() / (n - l) as f64;
        (0..max_lag).map(|l| c(l) / c(0)).collect()
    }

    #[test]
    fn a_reused_autocorrelator_matches_the_definition_on_every_length() {
        // Planned once for the longest envelope, then run on a long one and a shorter one: what
        // the first run leaves in the buffers must not reach the second.
        let env = |n: usize, k: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * k) % 97) as f32 * 0.01).powi(2) + if i % 50 == 0 { 3.0 } else { 0.0 })
                .collect()
        };
        let mut ac = Autocorrelator::new(1000, 120);
        for (n, k) in [(1000, 37), (300, 53), (1000, 11)] {
            let x = env(n, k);
            let got = ac.run(&x, 120).to_vec();
            let want = naive_autocorrelation(&x, 120);
            assert_eq!(got.len(), want.len());
            for (l, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() < 1e-9, "n {n}, lag {l}: {g} vs {w}");
            }
        }
    }
}
