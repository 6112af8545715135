//! The mechanical escapement model: when the beats happen and what they sound like.
//!
//! The balance swings `theta(t) = A sin(2 pi t / T)` (degrees), `T = (7200 / bph) / (1 + rate /
//! 86400)` true seconds. The lever's lift zone is `[eps - L/2, eps + L/2]` (`L` the lift angle,
//! `eps` the offset that makes beat error). Each beat has three sounds:
//!
//! * upswing ("tic"): UNLOCK when `theta` rises through `eps - L/2`, IMPULSE when it rises through
//!   `eps - L/2 + f L` (`f` = `impulse_fraction`), DROP when it reaches `eps + L/2`;
//! * downswing ("toc"): the mirror, UNLOCK at `eps + L/2`, IMPULSE at `eps + L/2 - f L`, DROP at
//!   `eps - L/2`, all crossed downwards.
//!
//! With `a = asin((eps - L/2)/A) / w` and `b = asin((eps + L/2)/A) / w` (`w = 2 pi / T`), the tic
//! unlocks at `a` and drops at `b`, the toc unlocks at `T/2 - b` and drops at `T/2 - a` (per
//! cycle). So the alternate unlock intervals are `T/2 - (a + b)` and `T/2 + (a + b)` and the beat
//! error `|t1 - t2| / 2` is exactly `a + b`. The drop intervals are the same two numbers, so the
//! drop-based beat error equals the unlock-based one in this model. `eps` is solved by bisection
//! so that `a + b` is the requested beat error to the last bit that matters (~1e-15 relative).
//!
//! The unlock-to-drop time is `b - a` on both sides. For `eps = 0` it is `2 asin(L / 2A) / w`,
//! and the convention `L / (2 sin(pi t / T))` returns `A` exactly. For `eps != 0` it is slightly
//! longer (asin is convex), so the convention reads a little below `A`: a second-order effect,
//! a relative deficit close to `eps^2 / (2 A^2)` (0.020 deg at 250 deg, 1 ms, 28,800 bph, lift 52;
//! 0.11 deg at 140 deg, 5 ms, 18,000 bph, lift 60). [`Escapement`] gives
//! both: [`Escapement::amplitude_deg`] (the model's `A`) and
//! [`Escapement::amplitude_by_convention_deg`].

use super::resonance::{Partial, Resonance, MAX_PARTIALS};
use super::rng::Rng;
use super::Error;
use std::f64::consts::PI;

/// Which half-swing a beat belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The upswing beat (theta increasing).
    Tic,
    /// The downswing beat (theta decreasing).
    Toc,
}

/// The three sub-events of a beat, in the order they sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubEvent {
    /// The lever is unlocked (first, faintest sound).
    Unlock = 0,
    /// The impulse pin strikes.
    Impulse = 1,
    /// The escape wheel drops onto the pallet (loudest).
    Drop = 2,
}

/// The geometry of the escapement solved from the requested figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Escapement {
    /// Balance amplitude `A`, degrees.
    pub amplitude_deg: f64,
    /// Lift angle `L`, degrees.
    pub lift_angle_deg: f64,
    /// Offset of the lift zone `eps`, degrees (makes the beat error).
    pub offset_deg: f64,
    /// Fraction of the lift zone after which the impulse sounds.
    pub impulse_fraction: f64,
    /// Oscillation period `T` (two beats), true seconds.
    pub period_s: f64,
    /// Nominal beats per hour.
    pub bph: u32,
}

impl Escapement {
    /// Solves the offset angle for the requested beat error and checks the geometry.
    pub fn solve(
        bph: u32,
        rate_s_per_day: f64,
        beat_error_ms: f64,
        amplitude_deg: f64,
        lift_angle_deg: f64,
        impulse_fraction: f64,
    ) -> Result<Self, Error> {
        let period_s = 7200.0 / bph as f64 / (1.0 + rate_s_per_day / 86_400.0);
        let half_l = lift_angle_deg / 2.0;
        if half_l >= amplitude_deg {
            return Err(Error::invalid(format!(
                "lift angle {lift_angle_deg} deg does not fit in amplitude {amplitude_deg} deg"
            )));
        }
        let w = 2.0 * PI / period_s;
        let be = |eps: f64| {
            ((eps - half_l) / amplitude_deg).asin() / w + ((eps + half_l) / amplitude_deg).asin() / w
        };
        let target = beat_error_ms * 1e-3;
        // The lift zone must stay inside the swing with some room, or the drop would coincide
        // with the turning point (a watch about to stop).
        let eps_max = amplitude_deg - half_l - 1e-3 * amplitude_deg;
        if be(eps_max) < target {
            return Err(Error::invalid(format!(
                "beat error {beat_error_ms} ms cannot happen at {bph} bph with amplitude {amplitude_deg} \
                 deg and lift angle {lift_angle_deg} deg (at most {:.3} ms)",
                be(eps_max) * 1e3
            )));
        }
        let (mut lo, mut hi) = (0.0f64, eps_max);
        if target > 0.0 {
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if be(mid) < target {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
        } else {
            hi = 0.0;
        }
        // Keep whichever end realises the target more closely.
        let offset_deg = if (be(lo) - target).abs() < (be(hi) - target).abs() { lo } else { hi };
        Ok(Escapement { amplitude_deg, lift_angle_deg, offset_deg, impulse_fraction, period_s, bph })
    }

    fn omega(&self) -> f64 {
        2.0 * PI / self.period_s
    }

    /// Time at which the rising `theta` crosses `angle` (within the quarter-period around 0).
    fn rising(&self, angle: f64) -> f64 {
        (angle / self.amplitude_deg).asin() / self.omega()
    }

    /// Offsets of unlock, impulse and drop from the start of a cycle (theta = 0, rising),
    /// true seconds, for one side.
    pub fn offsets_s(&self, side: Side) -> [f64; 3] {
        let (e, h, f) = (self.offset_deg, self.lift_angle_deg / 2.0, self.impulse_fraction);
        let l = self.lift_angle_deg;
        match side {
            Side::Tic => [self.rising(e - h), self.rising(e - h + f * l), self.rising(e + h)],
            Side::Toc => {
                let half = self.period_s / 2.0;
                [half - self.rising(e + h), half - self.rising(e + h - f * l), half - self.rising(e - h)]
            }
        }
    }

    /// Beat error realised by the model, ms (|t1 - t2| / 2 of alternate unlock intervals).
    pub fn beat_error_ms(&self) -> f64 {
        let [ua, _, _] = self.offsets_s(Side::Tic);
        let [_, _, db] = self.offsets_s(Side::Tic);
        (ua + db) * 1e3
    }

    /// Rate realised by the model, s/day (from the period).
    pub fn rate_s_per_day(&self) -> f64 {
        (7200.0 / self.bph as f64 / self.period_s - 1.0) * 86_400.0
    }

    /// Time from the unlock to the drop of a beat (the same on both sides), ms.
    pub fn unlock_to_drop_ms(&self) -> f64 {
        let [u, _, d] = self.offsets_s(Side::Tic);
        (d - u) * 1e3
    }

    /// The amplitude the convention `L / (2 sin(pi t / T))` gives from the model's unlock-to-drop
    /// time and true period: `A` exactly when the beat error is zero, slightly less otherwise.
    pub fn amplitude_by_convention_deg(&self) -> f64 {
        let t = self.unlock_to_drop_ms() * 1e-3;
        self.lift_angle_deg / (2.0 * (PI * t / self.period_s).sin())
    }

    /// The interval from a tic's unlock to the next toc's unlock, ms.
    pub fn tic_to_toc_ms(&self) -> f64 {
        (self.offsets_s(Side::Toc)[0] - self.offsets_s(Side::Tic)[0]) * 1e3
    }

    /// The interval from a toc's unlock to the next tic's unlock, ms.
    pub fn toc_to_tic_ms(&self) -> f64 {
        self.period_s * 1e3 - self.tic_to_toc_ms()
    }
}

/// The sound of a movement: a [`Resonance`] per side and sub-event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickSound {
    /// Indexed `[side][sub-event]` (side 0 = tic, 1 = toc; sub-event as [`SubEvent`]).
    pub events: [[Resonance; 3]; 2],
}

impl TickSound {
    /// A plausible movement sound drawn from a seed: partials in 2-9 kHz, decays 0.1-0.6 ms,
    /// 1-3 partials per sub-event, tic and toc slightly different.
    pub fn from_seed(seed: u64, attack_ms: f64) -> Self {
        let mut r = Rng::new(seed ^ 0x5EED_50D5_0000_0001);
        let ranges = [(4000.0, 8000.0), (2500.0, 6000.0), (2000.0, 6500.0)];
        let mut tic = [Resonance {
            partials: [Partial { freq_hz: 0.0, gain: 0.0, decay_ms: 1.0, phase_rad: 0.0 }; MAX_PARTIALS],
            count: 1,
            attack_ms,
        }; 3];
        for (k, res) in tic.iter_mut().enumerate() {
            res.count = 1 + (r.uniform() * 3.0) as usize;
            let f0 = r.range(ranges[k].0, ranges[k].1);
            for i in 0..MAX_PARTIALS {
                let f = if i == 0 { f0 } else { (f0 * r.range(1.25, 2.1)).min(9000.0 - 300.0 * i as f64) };
                let f = if i > 0 && f <= f0 * 1.1 { f0 * r.range(0.55, 0.8) } else { f };
                res.partials[i] = Partial {
                    freq_hz: f.max(2000.0),
                    gain: if i == 0 { 1.0 } else { r.range(0.25, 0.7) },
                    decay_ms: r.range(0.12, 0.55),
                    phase_rad: r.range(0.0, 2.0 * PI),
                };
            }
        }
        let mut toc = tic;
        for res in toc.iter_mut() {
            for p in res.partials.iter_mut() {
                p.freq_hz = (p.freq_hz * r.range(0.92, 1.08)).clamp(2000.0, 9000.0);
                p.gain *= r.range(0.8, 1.2);
                p.decay_ms = (p.decay_ms * r.range(0.85, 1.15)).clamp(0.1, 0.6);
                p.phase_rad = r.range(0.0, 2.0 * PI);
            }
        }
        TickSound { events: [tic, toc] }
    }
}

/// One beat of the model, with its exact times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatEvent {
    /// Beat number (0 = the first beat scheduled, possibly before the recording starts).
    pub index: u64,
    /// Tic (upswing) or toc (downswing).
    pub side: Side,
    /// Unlock onset, true seconds from the first sample.
    pub unlock_s: f64,
    /// Impulse onset, true seconds.
    pub impulse_s: f64,
    /// Drop onset, true seconds.
    pub drop_s: f64,
    /// Unlock onset in recorder seconds (sample index / sample rate).
    pub unlock_rec_s: f64,
    /// Impulse onset in recorder seconds.
    pub impulse_rec_s: f64,
    /// Drop onset in recorder seconds.
    pub drop_rec_s: f64,
    /// Loudness factor of this beat (amplitude wobble), 1 = nominal.
    pub gain: f64,
}

/// The sequence of beats: the escapement's times plus the seeded jitter and wobble.
#[derive(Debug, Clone)]
pub(crate) struct BeatClock {
    esc: Escapement,
    offsets: [[f64; 3]; 2],
    /// True time of the start of cycle 0 (before the recording starts).
    cycle0_s: f64,
    jitter_s: f64,
    wobble: f64,
    rng: Rng,
    seed: u64,
    next: u64,
}

impl BeatClock {
    pub(crate) fn new(esc: Escapement, seed: u64, jitter_us: f64, wobble: f64) -> Self {
        let mut phase = Rng::new(seed ^ 0xC10C_0000_0000_0002);
        // A random phase, and cycle 0 one period earlier, so the recording starts mid-swing
        // with the tails of earlier beats already sounding.
        let cycle0_s = phase.uniform() * esc.period_s - esc.period_s;
        let offsets = [esc.offsets_s(Side::Tic), esc.offsets_s(Side::Toc)];
        BeatClock {
            esc,
            offsets,
            cycle0_s,
            jitter_s: jitter_us * 1e-6,
            wobble,
            rng: Rng::new(seed ^ 0x7177_E500_0000_0003),
            seed,
            next: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = BeatClock::new(self.esc, self.seed, self.jitter_s * 1e6, self.wobble);
    }

    /// The next beat: (index, side, [unlock, impulse, drop] true seconds, gain).
    pub(crate) fn next_beat(&mut self) -> (u64, Side, [f64; 3], f64) {
        let j = self.next;
        self.next += 1;
        let side = if j % 2 == 0 { Side::Tic } else { Side::Toc };
        let base = self.cycle0_s + (j / 2) as f64 * self.esc.period_s;
        // Both draws happen for every beat so the stream does not depend on the settings.
        let shift = self.jitter_s * self.rng.gauss();
        let gain = (1.0 + self.wobble * self.rng.gauss()).max(0.0);
        let o = &self.offsets[j as usize % 2];
        (j, side, [base + o[0] + shift, base + o[1] + shift, base + o[2] + shift], gain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_beat_error_puts_the_lift_zone_at_the_centre() {
        let e = Escapement::solve(28800, 0.0, 0.0, 270.0, 52.0, 0.15).unwrap();
        assert_eq!(e.offset_deg, 0.0);
        assert_eq!(e.beat_error_ms(), 0.0);
        assert!((e.amplitude_by_convention_deg() - 270.0).abs() < 1e-9);
    }

    #[test]
    fn solved_offset_realises_the_requested_beat_error() {
        for &(bph, be) in &[(3600, 10.0), (18000, 0.4), (28800, 3.0), (72000, 10.0), (72000, 0.001)] {
            let e = Escapement::solve(bph, 12.0, be, 150.0, 70.0, 0.15).unwrap();
            assert!((e.beat_error_ms() - be).abs() < 1e-12 * be.max(1.0), "{bph} {be} {}", e.beat_error_ms());
            assert!((e.tic_to_toc_ms() - e.toc_to_tic_ms()).abs() / 2.0 - be < 1e-9);
        }
    }

    #[test]
    fn unreachable_beat_error_is_refused() {
        assert!(Escapement::solve(72000, 0.0, 40.0, 100.0, 70.0, 0.15).is_err());
    }

    #[test]
    fn impulse_lies_between_unlock_and_drop_on_both_sides() {
        let e = Escapement::solve(21600, -30.0, 2.0, 200.0, 50.0, 0.15).unwrap();
        for side in [Side::Tic, Side::Toc] {
            let [u, i, d] = e.offsets_s(side);
            assert!(u < i && i < d, "{side:?} {u} {i} {d}");
        }
    }
}
