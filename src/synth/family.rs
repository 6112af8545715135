//! Sound families: structurally different ways a watch's beats can sound, on one escapement.
//!
//! The escapement ([`super::mechanical`]) alone decides *when* things happen: every family keeps
//! the model's unlock, impulse and drop onsets exactly (so [`super::Synth::beat_events`] and the
//! truth figures do not depend on the family). The family decides *what* is heard at those
//! instants and what the recording chain does to it. They exist so that the analysis is tested
//! against sounds it was not tuned on: each one breaks an assumption the `classic` model lets an
//! analysis make.
//!
//! * [`SoundFamily::Classic`]: the original model. One fixed [`TickSound`] per movement: every
//!   tic sounds exactly like every other tic (same partials, same phases), the drop is the
//!   loudest sub-event, and the sound dies out within a few ms. Its samples never change.
//! * [`SoundFamily::Resonant`]: each sub-event is a damped resonance (1-3 partials, 2-9 kHz)
//!   whose phases are drawn anew at every beat and whose frequencies (RMS 2%), decay times (5%)
//!   and gains (5%) jitter from beat to beat. Real pallets and impulse pins never strike twice
//!   in the same way, so no two beats are alike sample for sample and a template matched on
//!   one beat does not fit the next. Onsets stay exact.
//! * [`SoundFamily::UnlockLoud`]: the unlock is the loudest sound of the beat (gain 1, impulse
//!   0.2-0.4, drop 0.4-0.7, drawn per movement; `event_gains` is not used), and a close, weaker
//!   secondary click (its own resonance) follows the unlock after 0.2-0.8 ms and the drop after
//!   0.2-0.8 ms, as with a lever bouncing on its banking pin or a wheel tooth rebounding. An
//!   analysis that takes the loudest peak for the drop, or the first strong peak after the
//!   unlock for the next sub-event, is wrong here. The truth stays the escapement's (unlock =
//!   first sound of the beat, drop = the drop event).
//! * [`SoundFamily::Contact`]: a contact microphone clamped to the case. The beat sounds pass
//!   through a band-limited response (a resonant band at 1-4 kHz, Q 1.5-3) and excite a long case
//!   ringing (a resonance at 1.5-5 kHz decaying in 3-15 ms), so the envelope has long tails that
//!   overlap the next sub-event, and the onsets are slow-rising instead of sharp.
//! * [`SoundFamily::Echo`]: a microphone in a room. The whole watch sound (classic ticks) plus
//!   3-6 delayed, attenuated copies of it (delays 2-40 ms, tap gains decaying with the delay),
//!   so strong copies of every sub-event land between and after the real ones, sometimes close
//!   to the next beat at fast beat rates.
//!
//! Every per-movement choice is drawn from the recording's seed ([`Voicing`], available from
//! [`super::Synth::voicing`]); every per-beat draw (resonant) comes from an [`Rng`] seeded from
//! the beat index, so rewinding, or reading in any block sizes, gives the same samples. The
//! contact response and the echo are causal filters on the rendered ticks: the echoes and case
//! ringing of sounds before the first sample are not heard (a start transient of at most 40 ms
//! for the echo and about 100 ms for the ringing).
//!
//! For every family but `classic` the clean watch sound is scaled so that its largest sample is
//! exactly [`super::WATCH_LEVEL`] (the filters change the level a lot); `classic` keeps its
//! fixed gain so its samples stay what they always were.
//!
//! ## Faults
//! Any family can carry faults (all off by default):
//! * `clip_level` (0.1..=1): the recorder clips hard at this fraction of the clean watch's peak
//!   level; everything heard (watch, noise, hum, knocks, babble) is clipped there.
//! * `weak_stretch` ([`WeakStretch`]): between `start_s` and `end_s` (recorder seconds) each beat
//!   that unlocks there keeps only its unlock, at `level` times the family's loudest sub-event
//!   gain; impulse, drop and secondary clicks are gone (a watch about to stop, or the microphone
//!   sliding off). Tails of earlier beats ring on.
//! * `noise_gap` ([`Span`]): between `start_s` and `end_s` the watch is not heard at all (its
//!   echoes and ringing included); the noise and interference go on.
//!
//! The faults do not change the truth: the escapement keeps beating. The signal power of the SNR
//! definition is the watch as rendered (weak stretch and noise gap included, clipping not).

use super::mechanical::{BeatClock, Side, TickSound};
use super::resonance::{Partial, Resonance, Ringing, MAX_PARTIALS};
use super::rng::Rng;
use super::{Generator, Timeline};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How a watch's beats sound (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SoundFamily {
    /// The original model: one fixed sound per movement, the drop loudest.
    #[default]
    Classic,
    /// Damped resonances whose phases are new and whose partials jitter at every beat.
    Resonant,
    /// The unlock loudest, each unlock and drop followed by a close secondary click.
    UnlockLoud,
    /// A contact microphone: band-limited, with a long case ringing.
    Contact,
    /// Room echo: delayed, attenuated copies of the whole sound.
    Echo,
}

impl SoundFamily {
    /// Every family, in a fixed order.
    pub const ALL: [SoundFamily; 5] = [
        SoundFamily::Classic,
        SoundFamily::Resonant,
        SoundFamily::UnlockLoud,
        SoundFamily::Contact,
        SoundFamily::Echo,
    ];
    /// The name used on the command line, in truth files and in reports.
    pub fn name(&self) -> &'static str {
        match self {
            SoundFamily::Classic => "classic",
            SoundFamily::Resonant => "resonant",
            SoundFamily::UnlockLoud => "unlock-loud",
            SoundFamily::Contact => "contact",
            SoundFamily::Echo => "echo",
        }
    }
    /// True for the default family (not written to truth files, so older ones stay as they are).
    pub fn is_classic(&self) -> bool {
        *self == SoundFamily::Classic
    }
}

impl std::fmt::Display for SoundFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A stretch of the recording where only a weak unlock-like pulse remains of each beat.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeakStretch {
    /// Start, recorder seconds from the first sample (>= 0).
    pub start_s: f64,
    /// End, recorder seconds (> start, <= the duration).
    pub end_s: f64,
    /// Level of the pulse relative to the family's loudest sub-event gain, 0..=1.
    pub level: f64,
}

/// A stretch of the recording, recorder seconds from the first sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    /// Start, seconds (>= 0).
    pub start_s: f64,
    /// End, seconds (> start, <= the duration).
    pub end_s: f64,
}

/// The secondary clicks of [`SoundFamily::UnlockLoud`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SecondaryClicks {
    /// Delay of the click after the unlock, ms (0.2..0.8).
    pub after_unlock_ms: f64,
    /// Its gain relative to the unlock's.
    pub unlock_gain: f64,
    /// Delay of the click after the drop, ms (0.2..0.8).
    pub after_drop_ms: f64,
    /// Its gain relative to the drop's.
    pub drop_gain: f64,
    /// The click's sound, `[side]` (0 = tic).
    pub sound: [Resonance; 2],
}

/// The response of [`SoundFamily::Contact`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContactResponse {
    /// Centre of the band-pass response, Hz (1000..4000).
    pub band_hz: f64,
    /// Its quality factor (1.5..3).
    pub band_q: f64,
    /// Frequency of the case ringing, Hz (1500..5000).
    pub ring_hz: f64,
    /// Decay time constant of the ringing, ms (3..15).
    pub ring_decay_ms: f64,
    /// Relative strength of the ringing (0.6..1.2; see the code for its scale).
    pub ring_gain: f64,
}

/// One echo of [`SoundFamily::Echo`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchoTap {
    /// Delay after the direct sound, ms (2..40), rounded to a whole sample when rendered.
    pub delay_ms: f64,
    /// Gain relative to the direct sound.
    pub gain: f64,
}

/// Most echo taps.
pub const MAX_ECHO_TAPS: usize = 6;

/// Relative RMS beat-to-beat jitter of the resonant family's frequencies, decays and gains.
pub const RESONANT_JITTER: [f64; 3] = [0.02, 0.05, 0.05];

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
const BEAT_SALT: u64 = 0xBEA7_0000_0000_0006;

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

/// Most sounds one beat starts.
const MAX_VOICES: usize = 5;

/// The contact microphone's filters: a band-pass biquad and a two-pole case resonator.
#[derive(Debug, Clone)]
struct ContactState {
    b0: f64,
    a1: f64,
    a2: f64,
    c1: f64,
    c2: f64,
    gin: f64,
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
    r1: f64,
    r2: f64,
}

impl ContactState {
    fn new(c: &ContactResponse, tl: &Timeline) -> Self {
        let fs = tl.effective_rate_hz();
        let w0 = 2.0 * PI * c.band_hz / fs;
        let alpha = w0.sin() / (2.0 * c.band_q);
        let wr = 2.0 * PI * c.ring_hz / fs;
        let r = (-1.0 / (c.ring_decay_ms * 1e-3 * fs)).exp();
        ContactState {
            // RBJ band-pass, 0 dB at the centre (b1 = 0, b2 = -b0).
            b0: alpha / (1.0 + alpha),
            a1: -2.0 * w0.cos() / (1.0 + alpha),
            a2: (1.0 - alpha) / (1.0 + alpha),
            c1: 2.0 * r * wr.cos(),
            c2: r * r,
            // Impulse response ~ gin / sin(wr) r^n sin((n + 1) wr): scaled so a partial on the
            // ring frequency excites it to about its own level times `ring_gain`.
            gin: c.ring_gain * wr.sin() * 2.0 * PI * 1000.0 / fs,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
            r1: 0.0,
            r2: 0.0,
        }
    }
    fn reset(&mut self) {
        (self.x1, self.x2, self.y1, self.y2, self.r1, self.r2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    }
    fn process(&mut self, buf: &mut [f64]) {
        for v in buf.iter_mut() {
            let x = *v;
            let band = self.b0 * (x - self.x2) - self.a1 * self.y1 - self.a2 * self.y2;
            self.x2 = self.x1;
            self.x1 = x;
            self.y2 = self.y1;
            self.y1 = band;
            let ring = self.c1 * self.r1 - self.c2 * self.r2 + self.gin * x;
            self.r2 = self.r1;
            self.r1 = ring;
            *v = band + ring;
        }
    }
}

/// The room: a delay line (allocated once) and its taps.
#[derive(Debug, Clone)]
struct EchoState {
    taps: [(usize, f64); MAX_ECHO_TAPS],
    n: usize,
    history: Vec<f64>,
    w: usize,
}

impl EchoState {
    fn new(taps: &[EchoTap], tl: &Timeline) -> Self {
        let mut t = [(1usize, 0.0f64); MAX_ECHO_TAPS];
        let n = taps.len().min(MAX_ECHO_TAPS);
        for (slot, tap) in t.iter_mut().zip(taps) {
            *slot = (((tap.delay_ms * 1e-3 * tl.effective_rate_hz()).round() as usize).max(1), tap.gain);
        }
        let longest = t[..n].iter().map(|x| x.0).max().unwrap_or(1);
        EchoState { taps: t, n, history: vec![0.0; longest + 1], w: 0 }
    }
    fn reset(&mut self) {
        self.history.fill(0.0);
        self.w = 0;
    }
    fn process(&mut self, buf: &mut [f64]) {
        let len = self.history.len();
        for v in buf.iter_mut() {
            self.history[self.w] = *v;
            let mut y = *v;
            for &(d, g) in &self.taps[..self.n] {
                y += g * self.history[(self.w + len - d) % len];
            }
            self.w = (self.w + 1) % len;
            *v = y;
        }
    }
}

/// The recording chain's filter on the watch sound (from the [`Voicing`]).
#[derive(Debug, Clone)]
enum Post {
    Dry,
    Contact(ContactState),
    Echo(EchoState),
}

impl Post {
    fn new(voicing: &Voicing, tl: &Timeline) -> Self {
        match (&voicing.contact, voicing.echo.is_empty()) {
            (Some(c), _) => Post::Contact(ContactState::new(c, tl)),
            (None, false) => Post::Echo(EchoState::new(&voicing.echo, tl)),
            (None, true) => Post::Dry,
        }
    }
    fn reset(&mut self) {
        match self {
            Post::Dry => {}
            Post::Contact(c) => c.reset(),
            Post::Echo(e) => e.reset(),
        }
    }
    fn process(&mut self, buf: &mut [f64]) {
        match self {
            Post::Dry => {}
            Post::Contact(c) => c.process(buf),
            Post::Echo(e) => e.process(buf),
        }
    }
}

/// The faults a watch generator applies (the clipping is the recorder's, in `Synth`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GeneratorFaults {
    /// Weak stretch in true seconds and its level.
    pub(crate) weak: Option<(f64, f64, f64)>,
    /// Noise gap as sample indices `[from, to)`.
    pub(crate) gap: Option<(u64, u64)>,
}

/// The sounding half of a watch generator, whatever schedules its sounds: the damped
/// resonances ringing now, the recording chain's filter of the family (contact response or room
/// echo) and the noise gap. Shared by the mechanical [`WatchGenerator`] and the quartz motor
/// ([`super::quartz`]). Its buffers are allocated once; rendering allocates nothing.
pub(crate) struct Sounding {
    timeline: Timeline,
    active: Vec<Ringing>,
    post: Post,
    gap: Option<(u64, u64)>,
    scratch: Vec<f64>,
}

impl Sounding {
    /// A chain for `voicing`'s family on `timeline`, silencing the samples `gap` = `[from, to)`,
    /// rendering `block` samples at a time.
    pub(crate) fn new(voicing: &Voicing, timeline: Timeline, gap: Option<(u64, u64)>, block: usize) -> Self {
        Sounding {
            timeline,
            active: Vec::with_capacity(256),
            post: Post::new(voicing, &timeline),
            gap,
            scratch: vec![0.0; block.max(1)],
        }
    }

    /// Silence: nothing ringing, the filters at rest.
    pub(crate) fn reset(&mut self) {
        self.active.clear();
        self.post.reset();
    }

    /// The sample instants.
    pub(crate) fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Starts `sound` with `gain` at `onset_s` true seconds.
    pub(crate) fn start(&mut self, sound: &Resonance, gain: f64, onset_s: f64) {
        self.active.push(Ringing::start(sound, gain, onset_s, &self.timeline));
    }

    /// Adds `gain` times the samples `start .. start + out.len()` to `out`. Before each internal
    /// block ending at sample `end` is rendered, `schedule(self, end)` starts (with
    /// [`Sounding::start`]) every sound whose first sample falls before `end`.
    pub(crate) fn render_add(
        &mut self,
        start: u64,
        gain: f64,
        out: &mut [f64],
        mut schedule: impl FnMut(&mut Sounding, u64),
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut done = 0;
        while done < out.len() {
            let m = (out.len() - done).min(scratch.len());
            let buf = &mut scratch[..m];
            buf.fill(0.0);
            let s = start + done as u64;
            schedule(self, s + m as u64);
            self.render_block(s, gain, buf);
            for (o, x) in out[done..done + m].iter_mut().zip(buf.iter()) {
                *o += x;
            }
            done += m;
        }
        self.scratch = scratch;
    }

    fn render_block(&mut self, start: u64, gain: f64, buf: &mut [f64]) {
        let end = start + buf.len() as u64;
        let tl = self.timeline;
        for ev in self.active.iter_mut() {
            if ev.next_sample() < end {
                ev.render_add(start, gain, buf, &tl);
            }
        }
        self.active.retain(|e| !e.finished());
        self.post.process(buf);
        if let Some((from, to)) = self.gap {
            let a = from.clamp(start, end);
            let b = to.clamp(start, end);
            buf[(a - start) as usize..(b - start) as usize].fill(0.0);
        }
    }
}

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
