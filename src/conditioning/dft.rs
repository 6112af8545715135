//! A slow, obviously correct reference: the DFT by its definition, in f64.
//! Every fast spectral path in [`super::spectral`] is tested against it.

/// `X[k] = sum_n x[n] e^{-2 pi i k n / N}` for a real input; returns (re, im) pairs for
/// `k = 0..=N/2`.
pub fn real_dft(x: &[f64]) -> Vec<(f64, f64)> {
    let n = x.len();
    (0..=n / 2)
        .map(|k| {
            let mut re = 0.0;
            let mut im = 0.0;
            for (i, &v) in x.iter().enumerate() {
                let ph = -2.0 * std::f64::consts::PI * ((k * i) % n) as f64 / n as f64;
                re += v * ph.cos();
                im += v * ph.sin();
            }
            (re, im)
        })
        .collect()
}

/// Circular cross-correlation by definition: `c[m] = sum_n x[(n + m) mod N] t[n]`.
pub fn circular_xcorr(x: &[f64], t: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n).map(|m| (0..t.len().min(n)).map(|i| x[(i + m) % n] * t[i]).sum()).collect()
}
