//! The clean sound of the stepper motor: one step's click in every family, and the generator
//! that renders the steps.

use super::*;

/// How a step of `class` differs from an even one: (frequency scale, sign, mix of the two
/// resonances).
pub(super) fn class_voicing(m: &MotorSound, class: u8) -> (f64, f64, [f64; 2]) {
    let odd = class == 1;
    let k = if odd { m.odd_even_contrast } else { 0.0 };
    let fscale = 1.0 + 0.25 * k;
    let sign = if odd && m.odd_even_contrast >= 0.5 { -1.0 } else { 1.0 };
    let (w0, w1) = (m.mix[0] + k * (m.mix[1] - m.mix[0]), m.mix[1] + k * (m.mix[0] - m.mix[1]));
    (fscale, sign, [w0, w1])
}

/// The click of one step at `t` seconds after its start (0 outside the click): the classic
/// family.
pub(super) fn click_shape(t: f64, class: u8, m: &MotorSound) -> f64 {
    if !(0.0..CLICK_S).contains(&t) {
        return 0.0;
    }
    let (fscale, sign, [w0, w1]) = class_voicing(m, class);
    let attack = 1.0 - (-t / 1.5e-4).exp();
    // Fade the last millisecond so the click ends at zero.
    let fade = ((CLICK_S - t) / 0.001).min(1.0);
    let tau = std::f64::consts::TAU;
    sign * attack
        * fade
        * (w0 * (-t / (m.decay_ms[0] * 1e-3)).exp() * (tau * m.freq_hz[0] * fscale * t).sin()
            + w1 * (-t / (m.decay_ms[1] * 1e-3)).exp() * (tau * m.freq_hz[1] * fscale * t).sin())
}

/// The motor's two resonances for a step of `class`, as the other families render them.
pub(super) fn motor_resonance(m: &MotorSound, class: u8) -> Resonance {
    let (fscale, sign, w) = class_voicing(m, class);
    let phase_rad = if sign < 0.0 { std::f64::consts::PI } else { 0.0 };
    let mut partials = [Partial { freq_hz: 1000.0, gain: 0.0, decay_ms: 0.1, phase_rad: 0.0 }; MAX_PARTIALS];
    for (i, p) in partials.iter_mut().take(2).enumerate() {
        *p = Partial { freq_hz: m.freq_hz[i] * fscale, gain: w[i], decay_ms: m.decay_ms[i], phase_rad };
    }
    Resonance { partials, count: 2, attack_ms: ATTACK_MS }
}

pub(super) fn in_gap(gap: Option<(u64, u64)>, n: u64) -> bool {
    gap.is_some_and(|(a, b)| n >= a && n < b)
}

/// What the families other than classic need to render the steps.
pub(super) struct FamilySound {
    pub(super) voicing: Voicing,
    /// The motor's resonances, even and odd step.
    pub(super) base: [Resonance; 2],
    pub(super) seed: u64,
    pub(super) max_freq_hz: f64,
    pub(super) sounding: Sounding,
}

/// The clean sound of the motor steps (no noise), any family.
pub(super) struct Motor {
    pub(super) steps: Vec<SynthStep>,
    pub(super) sound: MotorSound,
    pub(super) fs: f64,
    /// The noise gap, sample indices `[from, to)`.
    pub(super) gap: Option<(u64, u64)>,
    /// Classic: the first step that may still sound; other families: the next step to start.
    pub(super) next: usize,
    /// `None` for classic.
    pub(super) family: Option<FamilySound>,
}

impl Generator for Motor {
    fn reset(&mut self) {
        self.next = 0;
        if let Some(f) = &mut self.family {
            f.sounding.reset();
        }
    }

    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        let Motor { steps, sound: m, fs, gap, next, family } = self;
        let fs = *fs;
        let Some(f) = family else {
            // Classic: the closed-form clicks, sample by sample.
            let support = CLICK_S * fs;
            for (i, o) in out.iter_mut().enumerate() {
                let n = start + i as u64;
                let s = n as f64;
                while *next < steps.len() && steps[*next].t_recorder_s * fs + support < s {
                    *next += 1;
                }
                let mut v = 0.0;
                if !in_gap(*gap, n) {
                    for st in &steps[*next..] {
                        let start = st.t_recorder_s * fs;
                        if start > s {
                            break;
                        }
                        v += m.level * st.level * click_shape((s - start) / fs, st.class, m);
                    }
                }
                *o += gain * v;
            }
            return;
        };
        let FamilySound { voicing, base, seed, max_freq_hz, sounding } = f;
        sounding.render_add(start, gain, out, |snd, end| {
            while let Some(st) = steps.get(*next) {
                if snd.timeline().first_sample_at_or_after(st.t_true_s) >= end {
                    break;
                }
                let class = st.class as usize;
                let mut res = base[class];
                if voicing.family == SoundFamily::Resonant {
                    let mut r = beat_rng(*seed, *next as u64);
                    perturb_within(&mut res, &mut r, (20.0, *max_freq_hz), (0.01, 3.0));
                }
                snd.start(&res, st.level, st.t_true_s);
                if let Some(c) = &voicing.secondary {
                    let (delay_ms, g) = if class == 0 {
                        (c.after_unlock_ms, c.unlock_gain)
                    } else {
                        (c.after_drop_ms, c.drop_gain)
                    };
                    snd.start(&c.sound[class], st.level * g, st.t_true_s + delay_ms * 1e-3);
                }
                *next += 1;
            }
        });
    }
}
