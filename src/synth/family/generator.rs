//! [`WatchGenerator`]: the sound of a mechanical watch's beats, and the per-beat draws of the
//! resonant family.

use super::*;

/// Most sounds one beat starts.
const MAX_VOICES: usize = 5;

const BEAT_SALT: u64 = 0xBEA7_0000_0000_0006;

/// The generator of a mechanical watch's sound, any family (no noise).
pub(crate) struct WatchGenerator {
    clock: BeatClock,
    voicing: Voicing,
    seed: u64,
    faults: GeneratorFaults,
    /// The next beat, drawn but not yet started.
    pending: Option<(u64, Side, [f64; 3], f64)>,
    sounding: Sounding,
}

impl WatchGenerator {
    pub(crate) fn new(
        clock: BeatClock,
        voicing: Voicing,
        seed: u64,
        timeline: Timeline,
        faults: GeneratorFaults,
        block: usize,
    ) -> Self {
        let sounding = Sounding::new(&voicing, timeline, faults.gap, block);
        let mut g = WatchGenerator { clock, voicing, seed, faults, pending: None, sounding };
        g.reset();
        g
    }
}

/// The sounds one beat starts: (sound, gain, onset true seconds), in a fixed order.
fn voices(
    v: &Voicing,
    seed: u64,
    faults: &GeneratorFaults,
    (index, side, t, g): (u64, Side, [f64; 3], f64),
) -> ([(Resonance, f64, f64); MAX_VOICES], usize) {
    let s = side as usize;
    let mut out = [(v.sound.events[s][0], 0.0, 0.0); MAX_VOICES];
    let mut n = 0;
    let mut push = |res: Resonance, gain: f64, onset: f64| {
        out[n] = (res, gain, onset);
        n += 1;
    };
    let mut beat_rng = (v.family == SoundFamily::Resonant).then(|| beat_rng(seed, index));
    let mut sound = v.sound.events[s];
    if let Some(r) = &mut beat_rng {
        for res in sound.iter_mut() {
            perturb(res, r);
        }
    }
    if let Some((from, to, level)) = faults.weak {
        if t[0] >= from && t[0] < to {
            push(sound[0], g * (level * v.loudest_gain()), t[0]);
            return (out, n);
        }
    }
    for ((res, gain), onset) in sound.iter().zip(v.event_gains).zip(t) {
        push(*res, g * gain, onset);
    }
    if let Some(c) = &v.secondary {
        push(c.sound[s], g * v.event_gains[0] * c.unlock_gain, t[0] + c.after_unlock_ms * 1e-3);
        push(c.sound[s], g * v.event_gains[2] * c.drop_gain, t[2] + c.after_drop_ms * 1e-3);
    }
    (out, n)
}

/// The random stream of one beat (or quartz step) `index` of the resonant family: the same
/// for the same recording seed and index, whatever was read before.
pub(crate) fn beat_rng(seed: u64, index: u64) -> Rng {
    Rng::new(seed ^ BEAT_SALT ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Jitters a resonance for one beat: new phases, frequencies, decays and gains a few % off
/// (frequencies kept in 2-9 kHz, decays in 0.08-0.8 ms).
fn perturb(res: &mut Resonance, r: &mut Rng) {
    perturb_within(res, r, (2000.0, 9000.0), (0.08, 0.8));
}

/// [`perturb`] with the frequencies (Hz) and decay times (ms) kept within the given ranges.
pub(crate) fn perturb_within(res: &mut Resonance, r: &mut Rng, freq_hz: (f64, f64), decay_ms: (f64, f64)) {
    let [jf, jd, jg] = RESONANT_JITTER;
    for p in res.partials.iter_mut() {
        p.phase_rad = r.range(0.0, 2.0 * PI);
        p.freq_hz = (p.freq_hz * (1.0 + jf * r.gauss())).clamp(freq_hz.0, freq_hz.1);
        p.decay_ms = (p.decay_ms * (1.0 + jd * r.gauss())).clamp(decay_ms.0, decay_ms.1);
        p.gain = (p.gain * (1.0 + jg * r.gauss())).max(0.0);
    }
}

impl Generator for WatchGenerator {
    fn reset(&mut self) {
        self.clock.reset();
        self.sounding.reset();
        self.pending = Some(self.clock.next_beat());
    }

    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        let WatchGenerator { clock, voicing, seed, faults, pending, sounding } = self;
        sounding.render_add(start, gain, out, |snd, end| {
            // Start every beat whose unlock falls before the end of this block.
            while let Some(beat) = *pending {
                if snd.timeline().first_sample_at_or_after(beat.2[0]) >= end {
                    break;
                }
                let (v, n) = voices(voicing, *seed, faults, beat);
                for (sound, gain, t) in &v[..n] {
                    snd.start(sound, *gain, *t);
                }
                *pending = Some(clock.next_beat());
            }
        });
    }
}
