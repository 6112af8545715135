//! Click timing by a fit in which every resonance of the click keeps a free phase.
//!
//! A motor whose rotor strikes differently at every step rings with the same resonances but
//! a new phase in each (the synthesiser's resonant quartz family). A click is then
//! `sum_i a_i c_i(t - t0) + b_i s_i(t - t0)`: the cosine and sine components of each
//! resonance's damped sinusoid, with free weights. Each click lies in the same few-dimensional
//! space whatever its phases, and the arrival time `t0` is the shift at which the click lies
//! in that space best: where the least-squares fit with free weights leaves the least residual
//! energy. With an orthonormal basis `u_j` of the space that is where the explained energy
//! `E(t0) = sum_j <x, u_j(. - t0)>^2` peaks, a sum of squared cross-correlations (FFT), refined
//! to a fraction of a sample by Newton steps on their exact band-limited interpolation. No
//! phase enters it, nor the level. The envelope and onset timings read the click's power, in
//! which the first carrier cycle's phase still shows when the attack is shorter than a cycle.
//!
//! The space is learned, not modelled. The first [`super::matching::PARTIALS_LEARN_CLICKS`]
//! clicks are kept (their spectra) and timed once the bases exist. Per sound class they are
//! aligned on their onsets ([`super::onset`], ~50 us), windowed to the template's support and
//! scaled to unit energy; the principal components (eigenvectors of their Gram matrix) that
//! carry at least [`MIN_COMPONENT_SHARE`] of their energy, at most [`ALIGN_RANK`], and the same
//! components weighted by the time since the onset (which span each resonance's change of
//! frequency and decay from step to step, to first order) are orthonormalised into the basis.
//! Every learning click is then re-timed on the basis learned from the *other* clicks (on its
//! own, it would fit wherever it lies) and the basis learned again from the new alignment,
//! [`PASSES`] times, the mean alignment kept where the onsets put it; the last pass keeps up to
//! [`MAX_RANK`] components. Measured on synthetic clicks like the resonant family's (two
//! resonances, new phases, frequencies jittered by 2%, decays and gains by 5%) learned from 24
//! clicks misaligned by 50 us: ~2 us RMS, where their onsets scatter by ~20-50 us. A motor whose
//! sound repeats needs one component and the timing is then the waveform correlation with a
//! free gain.
//!
//! Limit, measured: learning from fewer clicks per class than about three times the basis
//! size, the basis absorbs the learning clicks' misalignment and the fit scatters as much as
//! the onset; where a class mixes two sounds the fit can be good on some clicks and poor on
//! others, which is why [`super::choose`] keeps it only by a margin.
//!
//! Plans and buffers are made once; timing a click allocates nothing (learning does, once).
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealToComplex};

use super::matching::{fourier_eval, newton_max};

/// Most basis waveforms per class: a cosine and a sine component for each of three resonances.
pub const MAX_RANK: usize = 6;

/// Most basis waveforms per class: each component and its time-weighted copy.
const MAX_BASIS: usize = 2 * MAX_RANK;

/// Least share of the aligned learning clicks' energy a principal component carries to enter
/// the basis: a resonance's weaker phase component may carry only a few percent.
pub const MIN_COMPONENT_SHARE: f64 = 1e-3;

/// Learning passes: align, learn the basis, re-time the learning clicks on it.
pub const PASSES: usize = 8;

/// Most principal components while the learning clicks are aligned (without their
/// time-weighted copies, a basis this small cannot absorb a click's misalignment).
pub const ALIGN_RANK: usize = 6;

/// Learning clicks are re-timed within this of their previous alignment, seconds.
const RETIME_REACH_S: f64 = 0.0005;

/// The learned bases and the buffers that time clicks on them.
pub struct PartialsTimer {
    n: usize,
    fs: f64,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    /// Per class: `MAX_RANK` half spectra of the orthonormal basis waveforms.
    basis: [Vec<Complex<f64>>; 2],
    rank: [usize; 2],
    /// Cross spectra of the segment with each basis waveform, and their correlations.
    cross: Vec<Complex<f64>>,
    corr: Vec<f64>,
    work: Vec<Complex<f64>>,
    time: Vec<f64>,
    scratch_f: Vec<Complex<f64>>,
    scratch_i: Vec<Complex<f64>>,
}

impl PartialsTimer {
    /// Buffers for segments of the length of `r2c` at `fs_hz`, sharing the caller's transforms.
    pub fn with_plans(
        r2c: Arc<dyn RealToComplex<f64>>,
        c2r: Arc<dyn ComplexToReal<f64>>,
        fs_hz: f64,
    ) -> Self {
        let n = r2c.len();
        let nc = n / 2 + 1;
        let zeros = || vec![Complex::default(); MAX_BASIS * nc];
        PartialsTimer {
            n,
            fs: fs_hz,
            basis: [zeros(), zeros()],
            rank: [0, 0],
            cross: zeros(),
            corr: vec![0.0; MAX_BASIS * n],
            work: vec![Complex::default(); nc],
            time: vec![0.0; n],
            scratch_f: r2c.make_scratch_vec(),
            scratch_i: c2r.make_scratch_vec(),
            r2c,
            c2r,
        }
    }

    /// Basis waveforms learned for `class` (0 before learning).
    pub fn rank(&self, class: usize) -> usize {
        self.rank[class]
    }

    /// The lag, within `lo..=hi` samples, at which the basis of `class` explains the most
    /// energy of the segment whose half spectrum is `spec`: its click is the basis delayed by
    /// that lag. `None` before the class has a basis.
    pub fn time(&mut self, spec: &[Complex<f64>], class: usize, lo: f64, hi: f64) -> Option<f64> {
        let (n, nc, r) = (self.n, self.n / 2 + 1, self.rank[class]);
        if r == 0 {
            return None;
        }
        for j in 0..r {
            let (cross, basis) =
                (&mut self.cross[j * nc..(j + 1) * nc], &self.basis[class][j * nc..(j + 1) * nc]);
            for ((c, s), b) in cross.iter_mut().zip(spec).zip(basis) {
                *c = s * b.conj();
            }
            cross[0].im = 0.0;
            cross[nc - 1].im = 0.0;
            self.work.copy_from_slice(cross);
            let out = &mut self.corr[j * n..(j + 1) * n];
            let _ = self.c2r.process_with_scratch(&mut self.work, out, &mut self.scratch_i);
        }
        let energy = |corr: &[f64], lag: i64| -> f64 {
            let k = lag.rem_euclid(n as i64) as usize;
            (0..r).map(|j| corr[j * n + k].powi(2)).sum::<f64>()
        };
        let (a, b) = (lo.ceil() as i64, hi.floor() as i64);
        let mut best = (a, f64::NEG_INFINITY);
        for lag in a..=b {
            let e = energy(&self.corr, lag);
            if e > best.1 {
                best = (lag, e);
            }
        }
        let (ym, y0, yp) = (energy(&self.corr, best.0 - 1), best.1, energy(&self.corr, best.0 + 1));
        let den = ym - 2.0 * y0 + yp;
        let frac = if den < 0.0 { (0.5 * (ym - yp) / den).clamp(-0.5, 0.5) } else { 0.0 };
        let cross = &self.cross[..r * nc];
        let eval = |t: f64| {
            let (mut e, mut d1, mut d2) = (0.0, 0.0, 0.0);
            for c in cross.chunks_exact(nc) {
                let (v, dv, ddv) = fourier_eval(c, n, t);
                e += v * v;
                d1 += 2.0 * v * dv;
                d2 += 2.0 * (dv * dv + v * ddv);
            }
            (e, d1, d2)
        };
        let (t, _) = newton_max(eval, best.0 as f64 + frac);
        Some(t.clamp(lo, hi))
    }

    /// Learns the basis of `class` from learning segments whose half spectra are `specs` and
    /// whose clicks start near `onsets` (samples into their segments; updated to the final
    /// alignment). The aligned clicks are placed with their onsets at `pre` and weighted by
    /// `window` (the template's support).
    pub fn learn(
        &mut self,
        class: usize,
        specs: &[&[Complex<f64>]],
        onsets: &mut [f64],
        pre: usize,
        window: &[f64],
    ) {
        self.rank[class] = 0;
        if specs.len() < 2 {
            return;
        }
        let reach = RETIME_REACH_S * self.fs;
        for pass in 0..PASSES {
            let last = pass + 1 == PASSES;
            self.learn_basis(class, specs, onsets, pre, window, if last { MAX_RANK } else { ALIGN_RANK });
            if last || self.rank[class] == 0 {
                break;
            }
            // Each click re-timed on the basis learned from the others (it lies in its own).
            let mut lags: Vec<f64> = Vec::with_capacity(specs.len());
            for j in 0..specs.len() {
                let others: Vec<&[Complex<f64>]> =
                    (0..specs.len()).filter(|&k| k != j).map(|k| specs[k]).collect();
                let o_others: Vec<f64> = (0..specs.len()).filter(|&k| k != j).map(|k| onsets[k]).collect();
                self.learn_basis(class, &others, &o_others, pre, window, ALIGN_RANK);
                let lag = onsets[j] - pre as f64;
                let t = self.time(specs[j], class, lag - reach, lag + reach).unwrap_or(lag);
                lags.push(t);
            }
            // Keep the mean alignment where the onsets put it: only the differences are learned.
            let drift = lags.iter().zip(onsets.iter()).map(|(l, o)| l + pre as f64 - o).sum::<f64>()
                / lags.len() as f64;
            for (o, l) in onsets.iter_mut().zip(&lags) {
                *o = l + pre as f64 - drift;
            }
        }
    }

    /// One pass: the principal components of the clicks aligned on `onsets` (at most `cap`)
    /// and their time-weighted copies, orthonormal, into the basis of `class`.
    fn learn_basis(
        &mut self,
        class: usize,
        specs: &[&[Complex<f64>]],
        onsets: &[f64],
        pre: usize,
        window: &[f64],
        cap: usize,
    ) {
        let (n, nc, m) = (self.n, self.n / 2 + 1, specs.len());
        let rows = self.aligned_rows(specs, onsets, pre, window);
        let mut gram = vec![0.0; m * m];
        for i in 0..m {
            for j in i..m {
                let g: f64 =
                    rows[i * n..(i + 1) * n].iter().zip(&rows[j * n..(j + 1) * n]).map(|(a, b)| a * b).sum();
                gram[i * m + j] = g;
                gram[j * m + i] = g;
            }
        }
        let (values, vectors) = symmetric_eigen(&mut gram, m);
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let rank = (0..cap.min(m)).take_while(|&r| values[r] > MIN_COMPONENT_SHARE * total).count();
        let mut vecs = vec![0.0; 2 * rank * n];
        for r in 0..rank {
            let scale = 1.0 / values[r].sqrt();
            let v_r = &mut vecs[r * n..(r + 1) * n];
            for j in 0..m {
                let v = vectors[j * m + r] * scale;
                v_r.iter_mut().zip(&rows[j * n..(j + 1) * n]).for_each(|(t, x)| *t += v * x);
            }
        }
        // Each component weighted by the time since the onset (ms): with the components, they
        // span the changes of every resonance's frequency and decay, to first order.
        let (head, tail) = vecs.split_at_mut(rank * n);
        for (u, tu) in head.chunks_exact(n).zip(tail.chunks_exact_mut(n)) {
            for (k, (t, x)) in tu.iter_mut().zip(u).enumerate() {
                *t = x * (k as f64 - pre as f64) / self.fs * 1e3;
            }
        }
        let rank = orthonormalise(&mut vecs, n);
        for r in 0..rank {
            self.time.copy_from_slice(&vecs[r * n..(r + 1) * n]);
            let out = &mut self.basis[class][r * nc..(r + 1) * nc];
            let _ = self.r2c.process_with_scratch(&mut self.time, out, &mut self.scratch_f);
        }
        self.rank[class] = rank;
    }

    /// The clicks whose half spectra are `specs`, each delayed so that its onset (`onsets`)
    /// falls on `pre`, weighted by `window` and scaled to unit energy: `specs.len()` rows of
    /// `n` samples.
    fn aligned_rows(
        &mut self,
        specs: &[&[Complex<f64>]],
        onsets: &[f64],
        pre: usize,
        window: &[f64],
    ) -> Vec<f64> {
        let (n, nc) = (self.n, self.n / 2 + 1);
        let mut rows = vec![0.0; specs.len() * n];
        for (row, (s, &o)) in rows.chunks_exact_mut(n).zip(specs.iter().zip(onsets)) {
            let step = Complex::from_polar(1.0, -std::f64::consts::TAU * (pre as f64 - o) / n as f64);
            let mut z = Complex::new(1.0, 0.0);
            for (w, v) in self.work.iter_mut().zip(s.iter()) {
                *w = v * z;
                z *= step;
            }
            self.work[0].im = 0.0;
            self.work[nc - 1].im = 0.0;
            let _ = self.c2r.process_with_scratch(&mut self.work, row, &mut self.scratch_i);
            row.iter_mut().zip(window).for_each(|(x, w)| *x *= w);
            let e = row.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
            row.iter_mut().for_each(|x| *x /= e);
        }
        rows
    }
}

/// Orthonormalises the vectors of length `n` packed in `v` (modified Gram-Schmidt), moving
/// the independent ones to the front; returns how many there are.
fn orthonormalise(v: &mut [f64], n: usize) -> usize {
    let mut kept = 0;
    for i in 0..v.len() / n {
        let (done, rest) = v.split_at_mut(i * n);
        let x = &mut rest[..n];
        let before = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        for u in done[..kept * n].chunks_exact(n) {
            let d: f64 = u.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
            x.iter_mut().zip(u).for_each(|(b, a)| *b -= d * a);
        }
        let e = x.iter().map(|a| a * a).sum::<f64>().sqrt();
        if e > 1e-6 * before && e > 0.0 {
            x.iter_mut().for_each(|a| *a /= e);
            if kept != i {
                let (a, b) = v.split_at_mut(i * n);
                a[kept * n..(kept + 1) * n].copy_from_slice(&b[..n]);
            }
            kept += 1;
        }
    }
    kept
}

/// Eigenvalues (largest first) and eigenvectors (column `r` of the row-major `m x m` result
/// belongs to value `r`) of the symmetric `m x m` matrix `a` (destroyed), by cyclic Jacobi
/// rotations.
pub fn symmetric_eigen(a: &mut [f64], m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; m * m];
    (0..m).for_each(|i| v[i * m + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(1e-300);
    for _sweep in 0..100 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * m + j].powi(2))
            .sum();
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                rotate(a, &mut v, m, p, q);
            }
        }
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| a[j * m + j].total_cmp(&a[i * m + i]));
    let values = order.iter().map(|&i| a[i * m + i]).collect();
    let mut vectors = vec![0.0; m * m];
    for (r, &i) in order.iter().enumerate() {
        for k in 0..m {
            vectors[k * m + r] = v[k * m + i];
        }
    }
    (values, vectors)
}

/// One Jacobi rotation zeroing `a[p][q]`, accumulated into the eigenvectors `v`.
fn rotate(a: &mut [f64], v: &mut [f64], m: usize, p: usize, q: usize) {
    let apq = a[p * m + q];
    if apq == 0.0 {
        return;
    }
    let theta = (a[q * m + q] - a[p * m + p]) / (2.0 * apq);
    let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
    let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
    for k in 0..m {
        let (akp, akq) = (a[k * m + p], a[k * m + q]);
        a[k * m + p] = c * akp - s * akq;
        a[k * m + q] = s * akp + c * akq;
    }
    for k in 0..m {
        let (apk, aqk) = (a[p * m + k], a[q * m + k]);
        a[p * m + k] = c * apk - s * aqk;
        a[q * m + k] = s * apk + c * aqk;
    }
    for k in 0..m {
        let (vkp, vkq) = (v[k * m + p], v[k * m + q]);
        v[k * m + p] = c * vkp - s * vkq;
        v[k * m + q] = s * vkp + c * vkq;
    }
}

#[cfg(test)]
mod tests {
    use super::super::learn::support_window;
    use super::super::onset::OnsetTimer;
    use super::*;
    use crate::synth::rng::Rng;
    use realfft::RealFftPlanner;

    const N: usize = 1024;
    const FS: f64 = 48_000.0;
    const PRE: usize = 300;

    /// A motor click as the synthesiser's resonant family makes it: two damped resonances
    /// (2.3 and 4.1 kHz) with a raised-cosine attack of 0.3 ms, starting `at` samples into the
    /// segment, with a new phase per resonance and frequencies (2%), decays (5%) and gains (5%)
    /// jittered.
    fn click(rng: &mut Rng, at: f64) -> Vec<f64> {
        let mut p = [(2300.0, 8e-4, 0.6), (4100.0, 5e-4, 0.4)];
        let mut ph = [0.0; 2];
        for (q, f) in p.iter_mut().zip(&mut ph) {
            *f = rng.range(0.0, std::f64::consts::TAU);
            *q = (
                q.0 * (1.0 + 0.02 * rng.gauss()),
                q.1 * (1.0 + 0.05 * rng.gauss()),
                q.2 * (1.0 + 0.05 * rng.gauss()),
            );
        }
        (0..N)
            .map(|k| {
                let t = (k as f64 - at) / FS;
                if t <= 0.0 {
                    return 0.0;
                }
                let a = if t < 3e-4 { 0.5 - 0.5 * (std::f64::consts::PI * t / 3e-4).cos() } else { 1.0 };
                let w = std::f64::consts::TAU;
                a * p
                    .iter()
                    .zip(&ph)
                    .map(|(q, f)| q.2 * (-t / q.1).exp() * (w * q.0 * t + f).sin())
                    .sum::<f64>()
            })
            .collect()
    }

    fn spectrum(r2c: &Arc<dyn RealToComplex<f64>>, mut x: Vec<f64>) -> Vec<Complex<f64>> {
        let mut s = r2c.make_output_vec();
        r2c.process(&mut x, &mut s).unwrap();
        s
    }

    /// A timer whose class 0 is learned from 24 clicks whose onsets are known only to 50 us.
    fn learned(rng: &mut Rng) -> (PartialsTimer, Arc<dyn RealToComplex<f64>>, Arc<dyn ComplexToReal<f64>>) {
        let mut rp = RealFftPlanner::<f64>::new();
        let (r2c, c2r) = (rp.plan_fft_forward(N), rp.plan_fft_inverse(N));
        let mut pt = PartialsTimer::with_plans(r2c.clone(), c2r.clone(), FS);
        let (mut specs, mut onsets) = (Vec::new(), Vec::new());
        for _ in 0..24 {
            let at = PRE as f64 + rng.range(-3.0, 3.0);
            specs.push(spectrum(&r2c, click(rng, at)));
            onsets.push(at + 2.4 * rng.gauss());
        }
        let refs: Vec<&[Complex<f64>]> = specs.iter().map(|s| &s[..]).collect();
        pt.learn(0, &refs, &mut onsets, PRE, &support_window(N, PRE - 24, 384, 24));
        (pt, r2c, c2r)
    }

    fn rms_about_mean(e: &[f64]) -> f64 {
        let m = e.iter().sum::<f64>() / e.len() as f64;
        (e.iter().map(|x| (x - m).powi(2)).sum::<f64>() / e.len() as f64).sqrt()
    }

    #[test]
    fn clicks_with_a_new_phase_each_are_timed_to_a_few_us_where_their_onset_scatters_by_tens() {
        let mut rng = Rng::new(7);
        let (mut pt, r2c, c2r) = learned(&mut rng);
        assert!((4..=2 * MAX_RANK).contains(&pt.rank(0)), "rank {}", pt.rank(0));
        let mut onset = OnsetTimer::with_plans(r2c.clone(), c2r, FS);
        let (mut fit_us, mut onset_us) = (Vec::new(), Vec::new());
        for _ in 0..40 {
            let at = PRE as f64 + rng.range(-5.0, 5.0);
            let s = spectrum(&r2c, click(&mut rng, at));
            let k = onset.time(&s, PRE - 48, PRE + 48).unwrap();
            let lag = pt.time(&s, 0, k - PRE as f64 - 24.0, k - PRE as f64 + 24.0).unwrap();
            fit_us.push((lag - (at - PRE as f64)) / FS * 1e6);
            onset_us.push((k - at) / FS * 1e6);
        }
        let (fit, ons) = (rms_about_mean(&fit_us), rms_about_mean(&onset_us));
        assert!(fit < 5.0, "free-phase fit scatters by {fit:.2} us");
        assert!(ons > 4.0 * fit, "the onset scatters by {ons:.2} us, the fit by {fit:.2} us");
    }

    /// The fast timing against the definition, evaluated slowly: the explained energy
    /// `sum_j (sum_t x(t) u_j(t - tau))^2`, each basis waveform shifted by summing its spectrum
    /// bin by bin, on a grid of 0.002 samples around it.
    #[test]
    fn the_timing_is_where_the_slowly_summed_explained_energy_peaks() {
        let mut rng = Rng::new(11);
        let (mut pt, r2c, c2r) = learned(&mut rng);
        let x = click(&mut rng, PRE as f64 + 2.37);
        let lag = pt.time(&spectrum(&r2c, x.clone()), 0, -20.0, 24.0).unwrap();
        let nc = N / 2 + 1;
        let basis: Vec<Vec<f64>> = (0..pt.rank(0))
            .map(|j| {
                let mut s = pt.basis[0][j * nc..(j + 1) * nc].to_vec();
                let mut u = vec![0.0; N];
                c2r.process(&mut s, &mut u).unwrap();
                u.iter().map(|v| v / N as f64).collect()
            })
            .collect();
        let spec: Vec<Vec<Complex<f64>>> = basis.iter().map(|u| spectrum(&r2c, u.clone())).collect();
        let energy = |tau: f64| -> f64 {
            spec.iter()
                .map(|s| {
                    let shifted = |t: usize| -> f64 {
                        let mut v = s[0].re;
                        for (k, c) in s.iter().enumerate().take(N / 2).skip(1) {
                            let w = std::f64::consts::TAU * k as f64 * (t as f64 - tau) / N as f64;
                            v += 2.0 * (c.re * w.cos() - c.im * w.sin());
                        }
                        (v + s[N / 2].re * (std::f64::consts::PI * (t as f64 - tau)).cos()) / N as f64
                    };
                    (0..N).map(|t| x[t] * shifted(t)).sum::<f64>().powi(2)
                })
                .sum()
        };
        let (mut bt, mut bv) = (0.0, f64::NEG_INFINITY);
        for i in -25..=25 {
            let tau = lag + i as f64 * 0.002;
            let v = energy(tau);
            if v > bv {
                (bt, bv) = (tau, v);
            }
        }
        assert!((bt - lag).abs() <= 0.002, "fast {lag}, slow {bt}");
        // The basis keeps the learning clicks' mean onset (known to 50 us each), so its origin
        // is within a sample or so of the true start.
        assert!((lag - 2.37).abs() < 1.5, "lag {lag} for a click 2.37 samples late");
    }
}
