//! Sounds of recordings with no watch in them: music and a metronome (noise, speech and
//! knocks come from [`super::noise`] and [`super::babble`]).

use super::resonance::{Partial, Resonance, Ringing};
use super::rng::Rng;
use super::{Generator, Timeline};
use std::f64::consts::PI;

/// Harmonics per note.
const HARMONICS: usize = 6;
/// Notes per chord (three voices and a bass).
const NOTES: usize = 4;
/// Where the chord is struck again within a 4-beat bar (in beats): a syncopated pattern.
const PATTERN: [f64; 5] = [0.0, 1.0, 1.5, 2.5, 3.0];
/// A I-V-vi-IV progression: semitone offsets of each chord's notes from the key's root.
const PROGRESSION: [[i32; NOTES]; 4] = [[0, 4, 7, -12], [7, 11, 14, -5], [9, 12, 16, -3], [5, 9, 12, -7]];
/// Samples between exact re-computations of the note phasors.
const ANCHOR: u64 = 1024;

/// Sustained harmonic chords restruck in a rhythmic pattern, at a tempo (70-95 beats a
/// minute) whose onsets are never spaced like a watch's beats (all gaps exceed 0.3 s).
#[derive(Debug, Clone)]
pub(crate) struct Music {
    seed: u64,
    timeline: Timeline,
    beat_s: f64,
    root_hz: f64,
    bar: u64,
    freqs: [f64; NOTES],
    z: [(f64, f64); NOTES],
    step: [(f64, f64); NOTES],
}

impl Music {
    pub(crate) fn new(seed: u64, timeline: Timeline) -> Self {
        let mut r = Rng::new(seed);
        let tempo = r.range(70.0, 95.0);
        let root_hz = 220.0 * 2f64.powf(r.range(0.0, 12.0).floor() / 12.0);
        let mut m = Music {
            seed,
            timeline,
            beat_s: 60.0 / tempo,
            root_hz,
            bar: u64::MAX,
            freqs: [0.0; NOTES],
            z: [(1.0, 0.0); NOTES],
            step: [(1.0, 0.0); NOTES],
        };
        m.reset();
        m
    }
    fn set_bar(&mut self, bar: u64) {
        self.bar = bar;
        let chord = PROGRESSION[(bar % 4) as usize];
        let dt = self.timeline.sample_period_s();
        // Each bar's notes are detuned by up to +-10 cents (as played instruments are), drawn
        // from the bar number so any bar can be reached without replaying the earlier ones.
        let mut r = Rng::new(self.seed ^ bar.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for ((semitones, freq), step) in chord.iter().zip(&mut self.freqs).zip(&mut self.step) {
            let cents = *semitones as f64 * 100.0 + r.range(-10.0, 10.0);
            *freq = self.root_hz * 2f64.powf(cents / 1200.0);
            let w = 2.0 * PI * *freq * dt;
            *step = (w.cos(), w.sin());
        }
    }
    fn anchor(&mut self, n: u64) {
        let t = self.timeline.true_time(n);
        for i in 0..NOTES {
            let ph = 2.0 * PI * self.freqs[i] * t;
            self.z[i] = (ph.cos(), ph.sin());
        }
    }
}

impl Generator for Music {
    fn reset(&mut self) {
        self.set_bar(0);
        self.anchor(0);
    }
    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        let bar_s = 4.0 * self.beat_s;
        for (i, v) in out.iter_mut().enumerate() {
            let n = start + i as u64;
            let t = self.timeline.true_time(n);
            let bar = (t / bar_s).floor() as u64;
            if bar != self.bar {
                self.set_bar(bar);
                self.anchor(n);
            } else if n % ANCHOR == 0 {
                self.anchor(n);
            }
            let tb = t - bar as f64 * bar_s;
            // Pad: 50 ms fade in, 30 ms fade out at the chord change.
            let pad = 0.25 * (tb / 0.05).min(1.0) * ((bar_s - tb) / 0.03).min(1.0);
            // Pluck: the latest strike in the pattern, 5 ms attack, 0.25 s decay.
            let beat = tb / self.beat_s;
            let mut since = tb;
            for p in PATTERN {
                if beat >= p {
                    since = (beat - p) * self.beat_s;
                }
            }
            let pluck = (since / 0.005).min(1.0) * (-since / 0.25).exp();
            let env = pad + pluck;
            let mut x = 0.0;
            for k in 0..NOTES {
                let (c, s) = self.z[k];
                // sin(h th) by the Chebyshev recurrence, harmonics falling as 1/h.
                let (mut s_prev, mut s_cur) = (0.0, s);
                let mut tone = 0.0;
                for h in 1..=HARMONICS {
                    tone += s_cur / h as f64;
                    let s_next = 2.0 * c * s_cur - s_prev;
                    s_prev = s_cur;
                    s_cur = s_next;
                }
                x += tone * if k == NOTES - 1 { 0.8 } else { 0.5 };
                let (sc, ss) = self.step[k];
                self.z[k] = (c * sc - s * ss, c * ss + s * sc);
            }
            *v += gain * env * x;
        }
    }
}

/// A metronome: a woodblock-like click every `60 / bpm` seconds, every fourth accented.
#[derive(Debug, Clone)]
pub(crate) struct Metronome {
    period_s: f64,
    first_s: f64,
    click: Resonance,
    timeline: Timeline,
    next: u64,
    active: Vec<Ringing>,
}

impl Metronome {
    pub(crate) fn new(bpm: f64, seed: u64, timeline: Timeline) -> Self {
        let mut r = Rng::new(seed);
        let period_s = 60.0 / bpm;
        let first_s = r.uniform() * period_s;
        let f = r.range(1500.0, 2500.0);
        let click = Resonance {
            partials: [
                Partial { freq_hz: f, gain: 1.0, decay_ms: r.range(1.0, 2.5), phase_rad: 0.0 },
                Partial {
                    freq_hz: f * r.range(2.2, 2.8),
                    gain: 0.5,
                    decay_ms: r.range(0.4, 1.0),
                    phase_rad: 0.0,
                },
                Partial {
                    freq_hz: f * r.range(3.5, 4.5),
                    gain: 0.25,
                    decay_ms: r.range(0.2, 0.6),
                    phase_rad: 0.0,
                },
            ],
            count: 3,
            attack_ms: 0.05,
        };
        Metronome { period_s, first_s, click, timeline, next: 0, active: Vec::with_capacity(8) }
    }
}

impl Generator for Metronome {
    fn reset(&mut self) {
        self.next = 0;
        self.active.clear();
    }
    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        let end = start + out.len() as u64;
        loop {
            let t = self.first_s + self.next as f64 * self.period_s;
            if self.timeline.first_sample_at_or_after(t) >= end {
                break;
            }
            let g = if self.next % 4 == 0 { 0.3 } else { 0.2 };
            self.active.push(Ringing::start(&self.click, g, t, &self.timeline));
            self.next += 1;
        }
        let tl = self.timeline;
        for ev in self.active.iter_mut() {
            ev.render_add(start, gain, out, &tl);
        }
        self.active.retain(|e| !e.finished());
    }
}
