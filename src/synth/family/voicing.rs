//! [`Voicing`]: a recording's per-movement sound choices, drawn from its seed.

use super::*;

/// The per-movement sound choices of a recording, drawn from its seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Voicing {
    /// The family.
    pub family: SoundFamily,
    /// The movement's base sound per side and sub-event (the resonant family perturbs it at
    /// every beat).
    pub sound: TickSound,
    /// Gains of unlock, impulse and drop.
    pub event_gains: [f64; 3],
    /// Unlock-loud: the secondary clicks.
    pub secondary: Option<SecondaryClicks>,
    /// Contact: the microphone's response.
    pub contact: Option<ContactResponse>,
    /// Echo: the taps, by increasing delay (empty for other families).
    pub echo: Vec<EchoTap>,
}

const FAMILY_SALT: u64 = 0xFA_3117_0000_0005;

impl Voicing {
    /// Draws the choices of `family` from the recording's main seed. `classic` is exactly the
    /// original model (`TickSound::from_seed(seed)` and `event_gains`).
    pub(crate) fn draw(family: SoundFamily, seed: u64, attack_ms: f64, event_gains: [f64; 3]) -> Self {
        let mut r = Rng::new(seed ^ FAMILY_SALT);
        let mut v = Voicing {
            family,
            sound: TickSound::from_seed(seed, attack_ms),
            event_gains,
            secondary: None,
            contact: None,
            echo: Vec::new(),
        };
        match family {
            SoundFamily::Classic => {}
            SoundFamily::Resonant => {
                // A movement of its own (not the classic sound of the same seed).
                v.sound = TickSound::from_seed(seed ^ FAMILY_SALT, attack_ms);
            }
            SoundFamily::UnlockLoud => {
                // Every sub-event's resonance scaled to a peak of 1, so the gains say which is
                // loudest: the unlock.
                for side in v.sound.events.iter_mut() {
                    for res in side.iter_mut() {
                        normalise_peak(res);
                    }
                }
                v.event_gains = [1.0, r.range(0.2, 0.4), r.range(0.4, 0.65)];
                let mut click = Resonance {
                    partials: [Partial { freq_hz: 1.0, gain: 0.0, decay_ms: 1.0, phase_rad: 0.0 };
                        MAX_PARTIALS],
                    count: 1 + (r.uniform() * 2.0) as usize,
                    attack_ms,
                };
                let f0 = r.range(3000.0, 8000.0);
                for (i, p) in click.partials.iter_mut().enumerate() {
                    *p = Partial {
                        freq_hz: if i == 0 { f0 } else { (f0 * r.range(0.6, 0.85)).max(2000.0) },
                        gain: if i == 0 { 1.0 } else { r.range(0.3, 0.6) },
                        decay_ms: r.range(0.08, 0.3),
                        phase_rad: r.range(0.0, 2.0 * PI),
                    };
                }
                normalise_peak(&mut click);
                let mut toc = click;
                for p in toc.partials.iter_mut() {
                    p.freq_hz = (p.freq_hz * r.range(0.94, 1.06)).clamp(2000.0, 9000.0);
                    p.phase_rad = r.range(0.0, 2.0 * PI);
                }
                v.secondary = Some(SecondaryClicks {
                    after_unlock_ms: r.range(0.2, 0.8),
                    unlock_gain: r.range(0.25, 0.45),
                    after_drop_ms: r.range(0.2, 0.8),
                    drop_gain: r.range(0.25, 0.45),
                    sound: [click, toc],
                });
            }
            SoundFamily::Contact => {
                v.contact = Some(ContactResponse {
                    band_hz: r.range(1000.0, 4000.0),
                    band_q: r.range(1.5, 3.0),
                    ring_hz: r.range(1500.0, 5000.0),
                    ring_decay_ms: r.range(3.0, 15.0),
                    ring_gain: r.range(0.6, 1.2),
                });
            }
            SoundFamily::Echo => {
                let n = 3 + (r.uniform() * 4.0) as usize;
                let g0 = r.range(0.35, 0.6);
                let room_ms = r.range(15.0, 40.0);
                let mut delays = [0.0f64; MAX_ECHO_TAPS];
                for d in delays[..n].iter_mut() {
                    *d = r.range(2.0, 40.0);
                }
                delays[..n].sort_by(f64::total_cmp);
                for &d in &delays[..n] {
                    let gain = g0 * (-d / room_ms).exp() * r.range(0.7, 1.0);
                    v.echo.push(EchoTap { delay_ms: d, gain });
                }
            }
        }
        v
    }

    /// The gain of the loudest sub-event.
    pub fn loudest_gain(&self) -> f64 {
        self.event_gains.iter().copied().fold(0.0, f64::max)
    }
}

/// Scales a resonance's partial gains so its largest value (on a 1 us grid) is 1.
fn normalise_peak(res: &mut Resonance) {
    let steps = (res.length_s() * 1e6).ceil() as usize;
    let peak = (0..=steps).map(|i| res.value_at(i as f64 * 1e-6, 1.0).abs()).fold(0.0, f64::max);
    if peak > 0.0 {
        for p in res.partials.iter_mut() {
            p.gain /= peak;
        }
    }
}
