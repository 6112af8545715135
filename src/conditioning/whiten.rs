//! Linear-prediction whitening: the inverse of the resonances that colour every beat alike.
//!
//! A contact microphone clamped to the case, the case itself and the room make every sound of a
//! beat ring at their own frequencies for several milliseconds, so on the envelope the drop
//! starts on the tail of the unlock and its onset is blurred. An all-pole model of the beats'
//! average power spectrum (order `p`, a fraction of a millisecond) captures those resonances
//! but not the structure of the beat itself (its sub-events are milliseconds apart, far beyond
//! `p` lags). The filter `A(z) / A(z / g)` moves each pole of that model inwards: every
//! resonance keeps its frequency but decays within [`DAMPING_S`], so each sub-event is a short
//! burst at its own onset again. Every beat passes through the same filter, so the times between
//! events are unchanged by its (short, causal) delay.
//!
//! The model is fitted with the autocorrelation method (Levinson-Durbin) on a power spectrum
//! regularised by a white floor, so bins where the beats have no energy are not boosted into
//! noise.
use super::spectral::C32;
use rustfft::num_complex::Complex64;

/// Prediction-error filter `A(z) = 1 + a1 z^-1 + ... + ap z^-p`.
#[derive(Debug, Clone, PartialEq)]
pub struct Whitening {
    /// `[1, a1, ..., ap]`.
    pub coefficients: Vec<f64>,
}

/// White floor added to the power spectrum before the fit, relative to its mean: the whitening
/// never gains more than about 20 dB over the mean level.
pub const FLOOR: f64 = 0.01;

/// The damping added to every resonance, as a time constant: ringing of many milliseconds (a
/// case, a contact microphone) is cut to under two, while the tick's own sounds (decays of a few
/// tenths of a millisecond) keep most of their length and colour, and so the loudness of the
/// unlock and the drop against each other. (Full whitening, `g = 0`, made every sub-event an
/// impulse of equal colour and let a faint click after the drop pass for it.)
pub const DAMPING_S: f64 = 0.002;

/// The model order for sample rate `fs_hz`: half a millisecond of lags, 12..48.
pub fn order_for(fs_hz: f64) -> usize {
    ((0.0005 * fs_hz).round() as usize).clamp(12, 48)
}

impl Whitening {
    /// Fits order `p` to a half power spectrum (`power[k]` at bin `k` of an `n`-point transform,
    /// `n = 2 (power.len() - 1)`). `None` for a spectrum with no energy or an unstable fit.
    pub fn fit(power: &[f64], p: usize) -> Option<Self> {
        let bins = power.len();
        if bins < 2 || p == 0 || p + 1 >= bins {
            return None;
        }
        let n = 2 * (bins - 1);
        let mean = power.iter().sum::<f64>() / bins as f64;
        if !(mean > 0.0 && mean.is_finite()) {
            return None;
        }
        let floor = FLOOR * mean;
        // Autocorrelation from the power spectrum: r[k] = (1/n) sum over the full spectrum of
        // S cos(2 pi j k / n); the half spectrum counts every bin but 0 and n/2 twice.
        let r: Vec<f64> = (0..=p)
            .map(|k| {
                power
                    .iter()
                    .enumerate()
                    .map(|(j, &s)| {
                        let twice = if j == 0 || j == bins - 1 { 1.0 } else { 2.0 };
                        let ang = 2.0 * std::f64::consts::PI * (j * k % n) as f64 / n as f64;
                        twice * (s + floor) * ang.cos()
                    })
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        levinson(&r).map(|coefficients| Whitening { coefficients })
    }

    /// The response at the bins of an `n`-point real transform of `A(z) / A(z / g)`, the filter
    /// that moves every pole of the model from radius `r` to `g r`: each resonance's decay rate
    /// gains `-ln(g)` per sample while its frequency and the spectral colour of the beat stay.
    /// Scaled to unit mean power over the bins, into `out` (`n/2 + 1` long).
    pub fn damping_response_into(&self, n: usize, g: f64, out: &mut [C32]) {
        let mut power = 0.0f64;
        for (b, o) in out.iter_mut().enumerate() {
            let (mut num, mut den) = (Complex64::default(), Complex64::default());
            let mut gk = 1.0;
            for (k, &a) in self.coefficients.iter().enumerate() {
                let ang = -2.0 * std::f64::consts::PI * ((b * k) % n) as f64 / n as f64;
                let e = Complex64::from_polar(1.0, ang);
                num += a * e;
                den += a * gk * e;
                gk *= g;
            }
            let h = num / den;
            power += h.norm_sqr();
            *o = C32::new(h.re as f32, h.im as f32);
        }
        let scale = (out.len() as f64 / power.max(1e-300)).sqrt() as f32;
        out.iter_mut().for_each(|o| *o *= scale);
    }

    /// The pole radius factor `g` that adds a damping of time constant `tau_s` seconds to every
    /// resonance at sample rate `fs_hz`.
    pub fn damping_factor(tau_s: f64, fs_hz: f64) -> f64 {
        (-1.0 / (tau_s * fs_hz)).exp()
    }

    /// The response used by the analysis: [`DAMPING_S`] added to every resonance.
    pub fn analysis_response_into(&self, n: usize, fs_hz: f64, out: &mut [C32]) {
        self.damping_response_into(n, Self::damping_factor(DAMPING_S, fs_hz), out)
    }

    /// The response of `A(z)` itself (full whitening), as [`Whitening::damping_response_into`]
    /// with `g = 0`.
    pub fn response_into(&self, n: usize, out: &mut [C32]) {
        self.damping_response_into(n, 0.0, out)
    }
}

/// Levinson-Durbin: the prediction-error filter of the autocorrelation `r[0..=p]`, `None` when
/// `r` is not positive definite (a reflection coefficient of magnitude 1 or more).
fn levinson(r: &[f64]) -> Option<Vec<f64>> {
    let p = r.len() - 1;
    let mut a = vec![0.0f64; p + 1];
    let mut prev = vec![0.0f64; p + 1];
    a[0] = 1.0;
    let mut err = r[0];
    if err <= 0.0 {
        return None;
    }
    for i in 1..=p {
        let acc: f64 = (0..i).map(|j| a[j] * r[i - j]).sum();
        let k = -acc / err;
        if k.abs() >= 1.0 || !k.is_finite() {
            return None;
        }
        prev[..i].copy_from_slice(&a[..i]);
        for j in 1..i {
            a[j] = prev[j] + k * prev[i - j];
        }
        a[i] = k;
        err *= 1.0 - k * k;
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normal equations solved by Gaussian elimination: the slow, obviously correct path.
    #[allow(clippy::needless_range_loop)]
    fn normal_equations(r: &[f64]) -> Vec<f64> {
        let p = r.len() - 1;
        let mut m: Vec<Vec<f64>> =
            (0..p).map(|i| (0..p).map(|j| r[i.abs_diff(j)]).chain([-r[i + 1]]).collect()).collect();
        for c in 0..p {
            let piv = (c..p).max_by(|&x, &y| m[x][c].abs().total_cmp(&m[y][c].abs())).unwrap();
            m.swap(c, piv);
            for row in 0..p {
                if row != c {
                    let f = m[row][c] / m[c][c];
                    for k in c..=p {
                        m[row][k] -= f * m[c][k];
                    }
                }
            }
        }
        std::iter::once(1.0).chain((0..p).map(|i| m[i][p] / m[i][i])).collect()
    }

    #[test]
    fn levinson_solves_the_normal_equations() {
        let r = [4.0, 2.5, 1.2, 0.3, -0.2];
        let a = levinson(&r).unwrap();
        for (x, y) in a.iter().zip(normal_equations(&r)) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
    }

    #[test]
    fn a_fitted_resonance_is_cancelled_by_its_whitening() {
        // The power spectrum of a two-pole resonance (pole radius 0.995 at a quarter of fs/2).
        let n = 1024;
        let (rad, w) = (0.995f64, std::f64::consts::PI / 4.0);
        let (c1, c2) = (2.0 * rad * w.cos(), -rad * rad);
        let power: Vec<f64> = (0..=n / 2)
            .map(|b| {
                let th = 2.0 * std::f64::consts::PI * b as f64 / n as f64;
                let (re, im) =
                    (1.0 - c1 * th.cos() - c2 * (2.0 * th).cos(), c1 * th.sin() + c2 * (2.0 * th).sin());
                1.0 / (re * re + im * im)
            })
            .collect();
        let wh = Whitening::fit(&power, 12).unwrap();
        let mut h = vec![C32::default(); n / 2 + 1];
        wh.response_into(n, &mut h);
        // Whitened, the spectrum is flat to within the floor's effect far from the peak and has
        // no peak left at the resonance.
        let out: Vec<f64> = power.iter().zip(&h).map(|(s, h)| s * h.norm_sqr() as f64).collect();
        let mean = out.iter().sum::<f64>() / out.len() as f64;
        let max = out.iter().copied().fold(0.0, f64::max);
        let peak_before =
            power.iter().copied().fold(0.0, f64::max) / (power.iter().sum::<f64>() / power.len() as f64);
        assert!(peak_before > 50.0, "{peak_before}");
        assert!(max / mean < 3.0, "whitened peak {}", max / mean);
        // The response is the DFT of the coefficients (checked against the naive DFT).
        let mut padded = vec![0.0f64; n];
        padded[..wh.coefficients.len()].copy_from_slice(&wh.coefficients);
        let d = crate::conditioning::dft::real_dft(&padded);
        let g = h[10].norm() as f64 / (d[10].0.hypot(d[10].1));
        for b in [0usize, 37, 128, 300, 512] {
            assert!((h[b].re as f64 - g * d[b].0).abs() < 1e-3 * g.max(1.0) * 10.0, "bin {b}");
            assert!((h[b].im as f64 - g * d[b].1).abs() < 1e-3 * g.max(1.0) * 10.0, "bin {b}");
        }
    }

    #[test]
    fn a_long_ringing_is_cut_to_the_damping_time() {
        // A resonance ringing for 15 ms at 3 kHz (48 kHz): after the damping filter, the energy
        // past five damping times is a small fraction of the whole; before, most of it.
        let (fs, n) = (48_000.0f64, 8192usize);
        let (rad, w) = ((-1.0 / (0.015 * fs)).exp(), 2.0 * std::f64::consts::PI * 3000.0 / fs);
        let res = |b: usize| {
            let z = Complex64::from_polar(1.0, -2.0 * std::f64::consts::PI * b as f64 / n as f64);
            1.0 / (1.0 - 2.0 * rad * w.cos() * z + rad * rad * z * z)
        };
        let power: Vec<f64> = (0..=n / 2).map(|b| res(b).norm_sqr()).collect();
        let wh = Whitening::fit(&power, order_for(fs)).unwrap();
        let mut h = vec![C32::default(); n / 2 + 1];
        wh.analysis_response_into(n, fs, &mut h);
        let tail = |spec: &dyn Fn(usize) -> Complex64| {
            // Naive inverse real DFT of the half spectrum.
            let x: Vec<f64> = (0..n)
                .map(|t| {
                    (0..=n / 2)
                        .map(|b| {
                            let c = if b == 0 || b == n / 2 { 1.0 } else { 2.0 };
                            let e = Complex64::from_polar(
                                1.0,
                                2.0 * std::f64::consts::PI * (b * t % n) as f64 / n as f64,
                            );
                            c * (spec(b) * e).re
                        })
                        .sum::<f64>()
                })
                .collect();
            let cut = (5.0 * DAMPING_S * fs) as usize;
            let all: f64 = x.iter().map(|v| v * v).sum();
            x[cut..n / 2].iter().map(|v| v * v).sum::<f64>() / all
        };
        let before = tail(&|b| res(b));
        let after = tail(&|b| res(b) * Complex64::new(h[b].re as f64, h[b].im as f64));
        assert!(before > 0.2, "ringing before {before}");
        assert!(after < 0.01, "ringing after {after}");
    }

    #[test]
    fn a_silent_spectrum_has_no_whitening() {
        assert!(Whitening::fit(&[0.0; 65], 12).is_none());
        assert!(Whitening::fit(&[1.0; 8], 12).is_none());
    }
}
