//! Noise and interference: white and pink noise, dither, mains hum, knocks and dropouts.
//!
//! Every generator draws from its own [`Rng`] stream, one sample after another, so the output
//! does not depend on how the timeline is cut into blocks, nor on which other components are on.

use super::resonance::{Partial, Resonance, Ringing};
use super::rng::Rng;
use super::{Generator, Timeline};
use std::f64::consts::PI;

/// White Gaussian noise of unit variance, by the ziggurat method (Marsaglia and Tsang 2000, in
/// Doornik's 2005 ZIGNOR form: 128 layers, one 64-bit draw for 99% of samples).
///
/// Hand-written rather than `Rng::gauss` (polar method: a logarithm and a square root per two
/// samples, about four times slower) because the noise is the one per-sample cost of every
/// noisy recording, and rather than a crate's because the stream must stay the same byte for
/// byte in every future version (fixtures are named by their content).
#[derive(Debug, Clone)]
pub(crate) struct WhiteNoise {
    seed: u64,
    rng: Rng,
    zig: &'static Ziggurat,
}

/// Layers of the ziggurat.
const ZIG_LAYERS: usize = 128;
/// Start of the tail.
const ZIG_R: f64 = 3.442619855899;
/// Area of each layer.
const ZIG_V: f64 = 9.91256303526217e-3;

/// The ziggurat's layer edges and their ratios.
#[derive(Debug)]
pub(crate) struct Ziggurat {
    x: [f64; ZIG_LAYERS + 1],
    ratio: [f64; ZIG_LAYERS],
}

impl Ziggurat {
    fn get() -> &'static Ziggurat {
        static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
        TABLES.get_or_init(|| {
            let mut x = [0.0; ZIG_LAYERS + 1];
            let mut f = (-0.5 * ZIG_R * ZIG_R).exp();
            x[0] = ZIG_V / f;
            x[1] = ZIG_R;
            for i in 2..ZIG_LAYERS {
                x[i] = (-2.0 * (ZIG_V / x[i - 1] + f).ln()).sqrt();
                f = (-0.5 * x[i] * x[i]).exp();
            }
            let mut ratio = [0.0; ZIG_LAYERS];
            for i in 0..ZIG_LAYERS {
                ratio[i] = x[i + 1] / x[i];
            }
            Ziggurat { x, ratio }
        })
    }
}

impl WhiteNoise {
    pub(crate) fn new(seed: u64) -> Self {
        WhiteNoise { seed, rng: Rng::new(seed), zig: Ziggurat::get() }
    }
    /// Uniform in (0, 1].
    #[inline]
    fn open_uniform(&mut self) -> f64 {
        1.0 - self.rng.uniform()
    }
    /// The next sample.
    #[inline]
    pub(crate) fn sample(&mut self) -> f64 {
        let z = self.zig;
        loop {
            let bits = self.rng.next_u64();
            let i = (bits & 0x7F) as usize;
            let u = 2.0 * ((bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) - 1.0;
            if u.abs() < z.ratio[i] {
                return u * z.x[i];
            }
            if i == 0 {
                // The tail beyond R (Marsaglia 1964).
                loop {
                    let x = self.open_uniform().ln() / ZIG_R;
                    let y = self.open_uniform().ln();
                    if -2.0 * y >= x * x {
                        return if u < 0.0 { x - ZIG_R } else { ZIG_R - x };
                    }
                }
            }
            let x = u * z.x[i];
            let f0 = (-0.5 * (z.x[i] * z.x[i] - x * x)).exp();
            let f1 = (-0.5 * (z.x[i + 1] * z.x[i + 1] - x * x)).exp();
            if f1 + self.rng.uniform() * (f0 - f1) < 1.0 {
                return x;
            }
        }
    }
}

impl Generator for WhiteNoise {
    fn reset(&mut self) {
        self.rng = Rng::new(self.seed);
    }
    fn render_add(&mut self, _start: u64, gain: f64, out: &mut [f64]) {
        for v in out.iter_mut() {
            *v += gain * self.sample();
        }
    }
}

/// Pink (1/f) noise: white noise through Paul Kellet's refined 7-pole filter (within 0.05 dB
/// of -3 dB/octave above 10 Hz at 44.1 kHz; the slope scales with the sample rate, which is
/// immaterial for a negative test).
#[derive(Debug, Clone)]
pub(crate) struct PinkNoise {
    white: WhiteNoise,
    b: [f64; 7],
}

impl PinkNoise {
    pub(crate) fn new(seed: u64) -> Self {
        PinkNoise { white: WhiteNoise::new(seed), b: [0.0; 7] }
    }
}

impl Generator for PinkNoise {
    fn reset(&mut self) {
        self.white.reset();
        self.b = [0.0; 7];
    }
    fn render_add(&mut self, _start: u64, gain: f64, out: &mut [f64]) {
        let b = &mut self.b;
        for v in out.iter_mut() {
            let w = self.white.sample();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.1538520;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let p = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
            b[6] = w * 0.115926;
            *v += gain * p * 0.11;
        }
    }
}

/// Triangular (TPDF) dither of +-1 least significant bit of 16-bit audio.
#[derive(Debug, Clone)]
pub(crate) struct Dither {
    seed: u64,
    rng: Rng,
}

impl Dither {
    pub(crate) fn new(seed: u64) -> Self {
        Dither { seed, rng: Rng::new(seed) }
    }
}

impl Generator for Dither {
    fn reset(&mut self) {
        self.rng = Rng::new(self.seed);
    }
    fn render_add(&mut self, _start: u64, gain: f64, out: &mut [f64]) {
        for v in out.iter_mut() {
            *v += gain * (self.rng.uniform() - self.rng.uniform()) / 32768.0;
        }
    }
}

/// Samples between exact re-computations of a recursive oscillator's phase.
const ANCHOR: u64 = 1024;

/// Mains hum: the fundamental (50 or 60 Hz) and harmonics 2, 3 and 5, of total power 1.
#[derive(Debug, Clone)]
pub(crate) struct Hum {
    freq_hz: f64,
    amps: [f64; 4],
    phases: [f64; 4],
    timeline: Timeline,
    /// Fundamental phasor (cos, sin) at the next sample, and its per-sample step.
    z: (f64, f64),
    step: (f64, f64),
    next: u64,
}

impl Hum {
    pub(crate) fn new(freq_hz: f64, seed: u64, timeline: Timeline) -> Self {
        let mut r = Rng::new(seed);
        let rel = [1.0, 0.35, 0.5, 0.2];
        let power: f64 = rel.iter().map(|a| a * a / 2.0).sum();
        let norm = 1.0 / power.sqrt();
        let amps = rel.map(|a| a * norm);
        let phases = [0; 4].map(|_| r.range(0.0, 2.0 * PI));
        let w = 2.0 * PI * freq_hz * timeline.sample_period_s();
        let mut h = Hum { freq_hz, amps, phases, timeline, z: (1.0, 0.0), step: (w.cos(), w.sin()), next: 0 };
        h.reset();
        h
    }
    fn anchor(&mut self, n: u64) {
        let ph = 2.0 * PI * self.freq_hz * self.timeline.true_time(n);
        self.z = (ph.cos(), ph.sin());
        self.next = n;
    }
}

impl Generator for Hum {
    fn reset(&mut self) {
        self.anchor(0);
    }
    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        if start != self.next {
            self.anchor(start);
        }
        // Harmonic phase offsets as rotations.
        let rot = [0, 1, 2, 3].map(|i| (self.phases[i].cos(), self.phases[i].sin()));
        for (i, v) in out.iter_mut().enumerate() {
            let n = start + i as u64;
            if n % ANCHOR == 0 {
                self.anchor(n);
            }
            let (c1, s1) = self.z;
            // Powers of the fundamental phasor give the harmonics.
            let (c2, s2) = (c1 * c1 - s1 * s1, 2.0 * c1 * s1);
            let (c3, s3) = (c2 * c1 - s2 * s1, c2 * s1 + s2 * c1);
            let (c5, s5) = (c3 * c2 - s3 * s2, c3 * s2 + s3 * c2);
            let hs = [(c1, s1), (c2, s2), (c3, s3), (c5, s5)];
            let mut x = 0.0;
            for k in 0..4 {
                // sin(h w t + phi) = s cos(phi) + c sin(phi)
                x += self.amps[k] * (hs[k].1 * rot[k].0 + hs[k].0 * rot[k].1);
            }
            *v += gain * x;
            let (sc, ss) = self.step;
            self.z = (c1 * sc - s1 * ss, c1 * ss + s1 * sc);
        }
        self.next = start + out.len() as u64;
    }
}

/// A knock: a low thump and a broadband crack, louder than a tick (peak) and with far more
/// energy (tens of ms against a fraction of a ms).
#[derive(Debug, Clone, Copy)]
struct Knock {
    thump: Ringing,
    /// Crack: white noise under an exponential envelope.
    crack_gain: f64,
    crack_decay: f64,
    onset_s: f64,
    first: u64,
    end: u64,
}

/// Knocks at random times (a Poisson process), each with a random level and colour.
#[derive(Debug, Clone)]
pub(crate) struct Knocks {
    per_s: f64,
    peak: (f64, f64),
    seed: u64,
    rng: Rng,
    noise: Rng,
    timeline: Timeline,
    next_onset_s: f64,
    active: Vec<Knock>,
}

impl Knocks {
    /// Knocks at `per_min` a minute with peak levels uniform in `peak`.
    pub(crate) fn new(per_min: f64, peak: (f64, f64), seed: u64, timeline: Timeline) -> Self {
        let mut k = Knocks {
            per_s: per_min / 60.0,
            peak,
            seed,
            rng: Rng::new(seed),
            noise: Rng::new(seed ^ 0x4E01_5E00_0000_0004),
            timeline,
            next_onset_s: 0.0,
            active: Vec::with_capacity(32),
        };
        k.reset();
        k
    }
    fn draw_gap(&mut self) -> f64 {
        if self.per_s <= 0.0 {
            return f64::INFINITY;
        }
        -(1.0 - self.rng.uniform()).ln() / self.per_s
    }
    fn start_knock(&mut self, onset_s: f64) -> Knock {
        let r = &mut self.rng;
        let peak = r.range(self.peak.0, self.peak.1);
        let thump = Resonance {
            partials: [
                Partial {
                    freq_hz: r.range(60.0, 250.0),
                    gain: 0.7,
                    decay_ms: r.range(8.0, 30.0),
                    phase_rad: 0.0,
                },
                Partial {
                    freq_hz: r.range(300.0, 900.0),
                    gain: 0.3,
                    decay_ms: r.range(3.0, 10.0),
                    phase_rad: 0.0,
                },
                Partial { freq_hz: 1.0, gain: 0.0, decay_ms: 1.0, phase_rad: 0.0 },
            ],
            count: 2,
            attack_ms: 0.3,
        };
        let crack_decay = r.range(0.5, 3.0) * 1e-3;
        // Uniform noise of unit variance (bounded at +-1.73, so a knock's peak stays bounded).
        let crack_gain = peak * r.range(0.1, 0.25) * 3f64.sqrt() * 2.0;
        let tl = self.timeline;
        let thump_r = Ringing::start(&thump, peak, onset_s, &tl);
        let first = tl.first_sample_at_or_after(onset_s);
        let end = tl.first_sample_at_or_after(onset_s + thump.length_s().max(crack_decay * 9.3)).max(first);
        Knock { thump: thump_r, crack_gain, crack_decay, onset_s, first, end }
    }
}

impl Generator for Knocks {
    fn reset(&mut self) {
        self.rng = Rng::new(self.seed);
        self.noise = Rng::new(self.seed ^ 0x4E01_5E00_0000_0004);
        self.active.clear();
        self.next_onset_s = self.draw_gap();
    }
    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        let end = start + out.len() as u64;
        while self.timeline.first_sample_at_or_after(self.next_onset_s) < end {
            let k = self.start_knock(self.next_onset_s);
            self.active.push(k);
            self.next_onset_s += self.draw_gap();
        }
        let tl = self.timeline;
        for k in self.active.iter_mut() {
            let from = k.first.max(start);
            let to = k.end.min(end);
            if from >= to {
                continue;
            }
            let slice = &mut out[(from - start) as usize..(to - start) as usize];
            k.thump.render_add(from, gain, slice, &tl);
            for (i, v) in slice.iter_mut().enumerate() {
                let tau = tl.true_time(from + i as u64) - k.onset_s;
                *v += gain * k.crack_gain * (-tau / k.crack_decay).exp() * (self.noise.uniform() - 0.5);
            }
        }
        self.active.retain(|k| k.end > end);
    }
}

/// Silenced stretches of the recording (a recorder that drops out), at random times.
#[derive(Debug, Clone)]
pub(crate) struct Dropouts {
    per_s: f64,
    seed: u64,
    rng: Rng,
    timeline: Timeline,
    /// Current or next silenced span of sample indices.
    span: (u64, u64),
    next_start_s: f64,
}

impl Dropouts {
    pub(crate) fn new(per_min: f64, seed: u64, timeline: Timeline) -> Self {
        let mut d = Dropouts {
            per_s: per_min / 60.0,
            seed,
            rng: Rng::new(seed),
            timeline,
            span: (0, 0),
            next_start_s: 0.0,
        };
        d.reset();
        d
    }
    pub(crate) fn reset(&mut self) {
        self.rng = Rng::new(self.seed);
        self.next_start_s = 0.0;
        self.span = (u64::MAX, u64::MAX);
        self.advance();
    }
    fn advance(&mut self) {
        if self.per_s <= 0.0 {
            self.span = (u64::MAX, u64::MAX);
            return;
        }
        let gap = -(1.0 - self.rng.uniform()).ln() / self.per_s;
        let len = self.rng.range(0.02, 0.3);
        let s = self.next_start_s + gap;
        self.next_start_s = s + len;
        self.span =
            (self.timeline.first_sample_at_or_after(s), self.timeline.first_sample_at_or_after(s + len));
    }
    /// True when sample `n` is silenced; `n` must not decrease between calls.
    #[inline]
    pub(crate) fn silenced(&mut self, n: u64) -> bool {
        while n >= self.span.1 {
            self.advance();
        }
        n >= self.span.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ziggurat_noise_is_standard_normal() {
        let mut w = WhiteNoise::new(42);
        let n = 2_000_000;
        let (mut s1, mut s2, mut s4, mut beyond2, mut beyond3) = (0.0, 0.0, 0.0, 0u32, 0u32);
        for _ in 0..n {
            let x = w.sample();
            s1 += x;
            s2 += x * x;
            s4 += x * x * x * x;
            beyond2 += (x.abs() > 2.0) as u32;
            beyond3 += (x.abs() > 3.0) as u32;
        }
        let nf = n as f64;
        let (mean, var, kurt) = (s1 / nf, s2 / nf, s4 / nf);
        assert!(mean.abs() < 0.003 && (var - 1.0).abs() < 0.005, "mean {mean} var {var}");
        assert!((kurt - 3.0).abs() < 0.03, "kurtosis {kurt}");
        // P(|x| > 2) = 0.0455, P(|x| > 3) = 0.0027 for a normal variable.
        assert!((beyond2 as f64 / nf - 0.0455).abs() < 0.0008, "{beyond2}");
        assert!((beyond3 as f64 / nf - 0.0027).abs() < 0.0002, "{beyond3}");
    }

    #[test]
    fn ziggurat_layers_close_at_zero() {
        let z = Ziggurat::get();
        // The top layer's upper edge is (numerically) the peak of the density.
        assert!(z.x[ZIG_LAYERS - 1] > 0.0 && z.x[ZIG_LAYERS - 1] < 0.3);
        assert_eq!(z.x[ZIG_LAYERS], 0.0);
        assert!(z.x.windows(2).skip(1).all(|w| w[0] > w[1]));
    }
}
