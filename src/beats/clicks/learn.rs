//! Learning the click templates from the first detections.

use super::*;

impl ClickTimer {
    /// Builds the templates from the stored detections, then times them. When no consistent
    /// click shape is found, starts learning again from the next detections (unless `last`).
    pub(super) fn learn(&mut self, last: bool) {
        self.learned = true;
        if !self.try_learn() && !last {
            self.learned = false;
            self.n_learn = 0;
        }
    }

    fn try_learn(&mut self) -> bool {
        let (n, nc, m) = (self.n, self.n / 2 + 1, self.n_learn);
        if m < 3 {
            return false;
        }
        for j in 0..m {
            self.fft_in.copy_from_slice(&self.learn_seg[j * n..(j + 1) * n]);
            let _ = self.r2c.process_with_scratch(&mut self.fft_in, &mut self.spec, &mut self.scratch_f);
            self.learn_spec[j * nc..(j + 1) * nc].copy_from_slice(&self.spec);
        }
        let norms: Vec<f64> = (0..m)
            .map(|j| self.learn_seg[j * n..(j + 1) * n].iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect();
        // Pairwise normalised correlation (max over lag) and the lag at the maximum.
        let mut rho = vec![0.0f64; m * m];
        let mut lag = vec![0.0f64; m * m];
        let lag_search = (2 * self.lag_max).min(n / 2 - 1);
        for i in 0..m {
            rho[i * m + i] = 1.0;
            for j in (i + 1)..m {
                let (t, v) = self.correlate_learned(j, i, lag_search);
                let r = v / (norms[i] * norms[j]).max(1e-300);
                rho[i * m + j] = r;
                rho[j * m + i] = r;
                lag[j * m + i] = t; // x_j is x_i delayed by t
                lag[i * m + j] = -t;
            }
        }
        // Outliers: detections that resemble fewer than two others.
        let good: Vec<bool> =
            (0..m).map(|i| (0..m).filter(|&j| j != i && rho[i * m + j] > 0.5).count() >= 2).collect();
        let idx: Vec<usize> = (0..m).filter(|&i| good[i]).collect();
        if idx.len() < 3 {
            return false;
        }
        let medoid_a = *idx
            .iter()
            .max_by(|&&a, &&b| {
                let sa: f64 = idx.iter().map(|&j| rho[a * m + j]).sum();
                let sb: f64 = idx.iter().map(|&j| rho[b * m + j]).sum();
                sa.total_cmp(&sb)
            })
            .unwrap();
        let seed_b =
            *idx.iter().min_by(|&&a, &&b| rho[medoid_a * m + a].total_cmp(&rho[medoid_a * m + b])).unwrap();
        let mut class = vec![0u8; m];
        let mut n_b = 0;
        if self.cfg.two_classes && rho[medoid_a * m + seed_b] < 0.9 {
            for &j in &idx {
                if rho[seed_b * m + j] > rho[medoid_a * m + j] {
                    class[j] = 1;
                    n_b += 1;
                }
            }
        }
        let two = n_b >= 2.max(idx.len() / 5) && idx.len() - n_b >= 2.max(idx.len() / 5);
        if !two {
            class.iter_mut().for_each(|c| *c = 0);
        }
        self.n_classes = if two { 2 } else { 1 };
        for c in 0..self.n_classes {
            let members: Vec<usize> = idx.iter().copied().filter(|&j| class[j] == c).collect();
            // Medoid of the class: the member most like the others.
            let med = *members
                .iter()
                .max_by(|&&a, &&b| {
                    let sa: f64 = members.iter().map(|&j| rho[a * m + j]).sum();
                    let sb: f64 = members.iter().map(|&j| rho[b * m + j]).sum();
                    sa.total_cmp(&sb)
                })
                .unwrap();
            // Average with fractional alignment to the medoid, in the frequency domain.
            let mut acc = vec![Complex::new(0.0, 0.0); nc];
            for &j in &members {
                let t = if j == med { 0.0 } else { lag[j * m + med] };
                let step = Complex::from_polar(1.0, 2.0 * std::f64::consts::PI * t / n as f64);
                let mut z = Complex::new(1.0, 0.0);
                for (a, &x) in acc.iter_mut().zip(&self.learn_spec[j * nc..(j + 1) * nc]) {
                    *a += x * z;
                    z *= step;
                }
            }
            let delta = self.make_template(&mut acc, c as usize);
            // The envelope template: the members' envelopes, aligned as their waveforms were.
            for &j in &members {
                let t = if j == med { 0.0 } else { lag[j * m + med] } - delta;
                let step = Complex::from_polar(1.0, 2.0 * std::f64::consts::PI * t / n as f64);
                let mut z = Complex::new(1.0, 0.0);
                for k in 0..nc {
                    self.work[k] = self.learn_spec[j * nc + k] * z;
                    z *= step;
                }
                self.envt.add_to_average(&self.work);
            }
            self.envt.set_template_from_average(c as usize, self.pre - self.guard, self.len);
        }
        // Time the stored detections with the templates.
        for j in 0..m {
            let s0 = self.learn_s0[j];
            self.seg.copy_from_slice(&self.learn_seg[j * n..(j + 1) * n]);
            self.time_segment(s0);
        }
        true
    }

    /// Learns the free-phase bases ([`super::partials`]) from the clicks kept for them, aligned
    /// first on their onsets, and times those clicks on them.
    pub(super) fn learn_partials(&mut self) {
        self.partials_learned = true;
        let nc = self.n / 2 + 1;
        let kept = std::mem::take(&mut self.part_pending);
        for c in 0..self.n_classes as usize {
            let own: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].class == c as u8).collect();
            let specs: Vec<&[Complex<f64>]> =
                own.iter().map(|&i| &self.part_specs[i * nc..(i + 1) * nc]).collect();
            let mut onsets: Vec<f64> = own.iter().map(|&i| kept[i].onset).collect();
            self.partials.learn(c, &specs, &mut onsets, self.pre, &self.window);
        }
        let reach = super::matching::PARTIALS_REACH_S * self.fs;
        for (i, k) in kept.iter().enumerate() {
            let lag_o = k.onset - self.pre as f64;
            let spec = &self.part_specs[i * nc..(i + 1) * nc];
            let class = k.class as usize;
            if let Some(lag) = self.partials.time(spec, class, lag_o - reach, lag_o + reach) {
                self.partial_times[k.click] = (k.s0 as f64 + self.pre as f64 + lag) / self.fs;
            }
        }
    }

    /// Correlation of learned segment `j` against learned segment `i` (`x_j[n + t] x_i[n]`):
    /// the refined lag and the peak value.
    fn correlate_learned(&mut self, j: usize, i: usize, lag_search: usize) -> (f64, f64) {
        let nc = self.n / 2 + 1;
        for k in 0..nc {
            self.cross[k] = self.learn_spec[j * nc + k] * self.learn_spec[i * nc + k].conj();
        }
        self.peak_of_cross(lag_search)
    }

    /// Turns an aligned sum of spectra into a unit-energy template with its onset at `pre`;
    /// returns the shift applied (samples).
    fn make_template(&mut self, acc: &mut [Complex<f64>], c: usize) -> f64 {
        let n = self.n;
        let nc = n / 2 + 1;
        acc[0].im = 0.0;
        acc[nc - 1].im = 0.0;
        self.work.copy_from_slice(acc);
        let _ = self.c2r.process_with_scratch(&mut self.work, &mut self.corr, &mut self.scratch_i);
        let onset = onset_of(&self.corr, ((0.00025 * self.fs).round() as usize).max(1));
        // Shift so that the onset falls exactly on sample `pre`.
        let delta = self.pre as f64 - onset;
        let step = Complex::from_polar(1.0, -2.0 * std::f64::consts::PI * delta / n as f64);
        let mut z = Complex::new(1.0, 0.0);
        for v in acc.iter_mut() {
            *v *= z;
            z *= step;
        }
        acc[0].im = 0.0;
        acc[nc - 1].im = 0.0;
        self.work.copy_from_slice(acc);
        let _ = self.c2r.process_with_scratch(&mut self.work, &mut self.corr, &mut self.scratch_i);
        // Window to the support with raised-cosine edges of `guard` samples, unit energy.
        let (start, len) = (self.pre - self.guard, self.len);
        for k in 0..n {
            self.fft_in[k] = self.corr[k] * self.window[k];
        }
        let e: f64 = self.fft_in.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        self.fft_in.iter_mut().for_each(|v| *v /= e);
        let _ = self.r2c.process_with_scratch(&mut self.fft_in, &mut self.templates[c], &mut self.scratch_f);
        self.envt.set_template_from_waveform(c, &self.templates[c], start, len);
        delta
    }
}

/// Onset of a click in `x`: where its energy envelope (moving average of `x^2` over `w` samples)
/// last rises through 10% of its peak before the peak, interpolated linearly.
fn onset_of(x: &[f64], w: usize) -> f64 {
    let n = x.len();
    let mut env = vec![0.0; n];
    let mut acc = 0.0;
    for k in 0..n {
        acc += x[k] * x[k];
        if k >= w {
            acc -= x[k - w] * x[k - w];
        }
        // centre the window
        let c = k.saturating_sub(w / 2);
        env[c] = acc.max(0.0);
    }
    let (mut p, mut pv) = (0usize, 0.0);
    for (k, &v) in env.iter().enumerate() {
        if v > pv {
            p = k;
            pv = v;
        }
    }
    let thr = 0.1 * pv;
    let mut k = p;
    while k > 0 && env[k - 1] > thr {
        k -= 1;
    }
    if k == 0 {
        return 0.0;
    }
    // env[k-1] <= thr < env[k]
    let (a, b) = (env[k - 1], env[k]);
    (k - 1) as f64 + if b > a { (thr - a) / (b - a) } else { 0.0 }
}

/// Weights of the template's support in a segment of `n` samples: 1 over `[start, start + len)`
/// with raised-cosine edges of `guard` samples inside it, 0 elsewhere.
pub(super) fn support_window(n: usize, start: usize, len: usize, guard: usize) -> Vec<f64> {
    (0..n)
        .map(|k| {
            if k < start || k >= start + len {
                return 0.0;
            }
            let e = (k - start).min(start + len - 1 - k);
            if e < guard {
                0.5 - 0.5 * (std::f64::consts::PI * (e as f64 + 0.5) / guard as f64).cos()
            } else {
                1.0
            }
        })
        .collect()
}
