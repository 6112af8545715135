//! Speech-like babble: one or more talkers made of glottal pulse trains through formant
//! resonators, with syllable-rate amplitude modulation and pauses.
//!
//! Each talker has a base pitch in 90-250 Hz and speaks syllables of 0.12-0.35 s (3-8 a
//! second, at random, never periodic), each a vowel (F1-F3 from a table of vowel formants) with a
//! gliding pitch, some breath noise, and now and then a pause. It is not intelligible, but it has
//! the spectrum and the rhythm that trouble a timegrapher: harmonics of the voice pitch, energy at
//! 0.3-3 kHz and bursts at syllable rate.

use super::rng::Rng;
use super::{Generator, Timeline};
use std::f64::consts::PI;

/// Vowel formants F1, F2, F3 (Hz), roughly /a e i o u @/.
const VOWELS: [[f64; 3]; 6] = [
    [730.0, 1090.0, 2440.0],
    [530.0, 1840.0, 2480.0],
    [270.0, 2290.0, 3010.0],
    [570.0, 840.0, 2410.0],
    [300.0, 870.0, 2240.0],
    [500.0, 1500.0, 2500.0],
];
/// Formant bandwidths (Hz).
const BANDWIDTHS: [f64; 3] = [90.0, 110.0, 170.0];

/// A two-pole resonator `y = g x + a1 y1 - a2 y2`, unit gain at its centre frequency.
#[derive(Debug, Clone, Copy, Default)]
struct Resonator {
    g: f64,
    a1: f64,
    a2: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn tune(&mut self, freq_hz: f64, bw_hz: f64, fs: f64) {
        let r = (-PI * bw_hz / fs).exp();
        let th = 2.0 * PI * freq_hz / fs;
        self.a1 = 2.0 * r * th.cos();
        self.a2 = r * r;
        self.g = 1.0 - r;
    }
    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        let y = self.g * x + self.a1 * self.y1 - self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

#[derive(Debug, Clone)]
struct Talker {
    rng: Rng,
    base_f0: f64,
    /// Glottal phase in cycles.
    phase: f64,
    f0_from: f64,
    f0_to: f64,
    /// Samples into the current syllable and its length; a pause when `voiced` is false.
    pos: u64,
    len: u64,
    inv_len: f64,
    voiced: bool,
    glottal: [f64; 2],
    formants: [Resonator; 3],
}

impl Talker {
    fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let base_f0 = rng.range(90.0, 250.0);
        Talker {
            rng,
            base_f0,
            phase: 0.0,
            f0_from: base_f0,
            f0_to: base_f0,
            pos: 0,
            len: 0,
            inv_len: 0.0,
            voiced: false,
            glottal: [0.0; 2],
            formants: [Resonator::default(); 3],
        }
    }

    fn next_syllable(&mut self, fs: f64) {
        let r = &mut self.rng;
        self.pos = 0;
        if self.voiced && r.uniform() < 0.15 {
            self.voiced = false;
            self.len = (r.range(0.15, 0.6) * fs) as u64;
            self.inv_len = 1.0 / self.len.max(1) as f64;
            return;
        }
        self.voiced = true;
        self.len = (r.range(0.12, 0.35) * fs) as u64;
        self.inv_len = 1.0 / self.len.max(1) as f64;
        let v = VOWELS[(r.uniform() * VOWELS.len() as f64) as usize % VOWELS.len()];
        for k in 0..3 {
            let f = (v[k] * r.range(0.9, 1.1)).min(0.45 * fs);
            self.formants[k].tune(f, BANDWIDTHS[k], fs);
        }
        self.f0_from = self.f0_to;
        self.f0_to = (self.base_f0 * r.range(0.8, 1.25)).clamp(80.0, 260.0);
    }

    #[inline]
    fn sample(&mut self, fs: f64) -> f64 {
        if self.pos >= self.len {
            self.next_syllable(fs);
        }

        let x = self.pos as f64 * self.inv_len;
        self.pos += 1;
        // Breath: uniform noise (cheaper than Gaussian, and no one can hear the difference).
        let breath = 0.035 * (self.rng.uniform() - 0.5);
        let (env, pulse) = if self.voiced {
            let f0 = self.f0_from + (self.f0_to - self.f0_from) * x;
            self.phase += f0 / fs;
            let pulse = if self.phase >= 1.0 {
                self.phase -= 1.0;
                1.0
            } else {
                0.0
            };
            // Syllable envelope: (4 x (1 - x))^2, a smooth rise and fall like sin^2.
            let p = 4.0 * x * (1.0 - x);
            (p * p, pulse)
        } else {
            (0.0, 0.0)
        };
        // Glottal pulse shaping: two one-pole low-passes (-12 dB/octave).
        self.glottal[0] = 0.9 * self.glottal[0] + pulse;
        self.glottal[1] = 0.9 * self.glottal[1] + self.glottal[0];
        let src = env * (self.glottal[1] * 0.01 + breath);
        let mut y = 0.0;
        for (k, f) in self.formants.iter_mut().enumerate() {
            y += f.step(src) * [1.0, 0.7, 0.4][k];
        }
        y
    }
}

/// Several talkers at once.
#[derive(Debug, Clone)]
pub(crate) struct Babble {
    seed: u64,
    voices: usize,
    fs: f64,
    talkers: Vec<Talker>,
}

impl Babble {
    /// `voices` talkers (1..=8) seeded from `seed`.
    pub(crate) fn new(voices: usize, seed: u64, timeline: Timeline) -> Self {
        let mut b = Babble {
            seed,
            voices: voices.clamp(1, 8),
            fs: timeline.effective_rate_hz(),
            talkers: Vec::with_capacity(8),
        };
        b.reset();
        b
    }
}

impl Generator for Babble {
    fn reset(&mut self) {
        self.talkers.clear();
        let mut r = Rng::new(self.seed);
        for _ in 0..self.voices {
            self.talkers.push(Talker::new(r.next_u64()));
        }
    }
    fn render_add(&mut self, _start: u64, gain: f64, out: &mut [f64]) {
        let fs = self.fs;
        for v in out.iter_mut() {
            let mut x = 0.0;
            for t in self.talkers.iter_mut() {
                x += t.sample(fs);
            }
            *v += gain * x;
        }
    }
}
