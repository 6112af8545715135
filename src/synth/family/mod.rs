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
mod chain;
mod generator;
mod sounding;
mod voicing;

use super::mechanical::{BeatClock, Side, TickSound};
use super::resonance::{Partial, Resonance, Ringing, MAX_PARTIALS};
use super::rng::Rng;
use super::{Generator, Timeline};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

pub(crate) use generator::{beat_rng, perturb_within, WatchGenerator};
pub(crate) use sounding::{GeneratorFaults, Sounding};
pub use voicing::Voicing;

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
