//! Noise and interference: white and pink noise, dither, mains hum, knocks and dropouts.
//!
//! Every generator draws from its own [`Rng`] stream, one sample after another, so the output
//! does not depend on how the timeline is cut into blocks, nor on which other components are on.

use super::resonance::{Partial, Resonance, Ringing};
use super::rng::Rng;
use super::{Generator, Timeline};
use std::f64::consts::PI;

/// White Gaussian noise of unit variance.
#[derive(Debug, Clone)]
pub(crate) struct WhiteNoise {
    seed: u64,
    rng: Rng,
}

impl WhiteNoise {
    pub(crate) fn new(seed: u64) -> Self {
        WhiteNoise { seed, rng: Rng::new(seed) }
    }
    /// The next sample.
    #[inline]
    pub(crate) fn sample(&mut self) -> f64 {
        self.rng.gauss()
    }
}

impl Generator for WhiteNoise {
    fn reset(&mut self) {
        self.rng = Rng::new(self.seed);
    }
    fn render_add(&mut self, _start: u64, gain: f64, out: &mut [f64]) {
        for v in out.iter_mut() {
            *v += gain * self.rng.gauss();
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
