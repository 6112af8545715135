//! Quartz watch recordings with known truth: stepper-motor clicks whose times follow a watch
//! rate, an inhibition correction, end-of-life bursts, missing steps, a stopped motor, white
//! noise and a recorder clock error.
//!
//! Timing model (exact, in true seconds). The watch counts internal seconds `k = 0, 1, 2, ...`.
//! Its oscillator runs fast by `inhibition_ppm` on top of the requested rate, so within an
//! inhibition period the seconds last `d = 1 / (1 + r) - inhibition_ppm 1e-6`, with `r` the
//! requested rate as a fraction (`rate_s_per_month / 2 592 000`); every `P =
//! inhibition_period_s` seconds the interval ending at that second is lengthened by
//! `c = P inhibition_ppm 1e-6` (the dropped oscillator cycles). Over whole periods the mean
//! second is then exactly `1 / (1 + r)`: the requested rate. Second `k` falls at
//! `T_k = T_0 + k d + c floor((k + phase) / P)`.
//!
//! Normally the motor steps once at every `T_k`. At battery end of life (`step_interval_s` = S
//! of 2, 4 or 5) it steps only at every S-th second, as a burst of S quick steps `burst_gap_s`
//! apart. Successive motor steps alternate polarity, and odd steps sound different from even ones
//! (class 1 vs class 0). A sample `n` of the recording is taken at true time
//! `n / (fs (1 + recorder_ppm 1e-6))`.
//!
//! With `jitter_us` > 0 every motor step (burst steps included) is moved by its own offset,
//! drawn from a zero-mean Gaussian of RMS `jitter_us` (a seeded stream of its own, so no other
//! choice changes with it). The offsets are part of the truth: [`QuartzSynth::steps`] gives each
//! step's time with its offset in it (and the offset as `jitter_s`), and the truth JSON gives
//! `jitter_us` and the RMS of the offsets realised (`jitter_realised_rms_us`). The truth's rate
//! stays the model's: the offsets do not accumulate, so over a long recording they average out.
//!
//! ## Sound families
//! The timing model alone decides *when* a step happens; the family
//! ([`SoundFamily`], the same families as the mechanical synthesiser's, [`super::family`]) decides
//! only what the step sounds like and what the recording chain does to it. Step times, the
//! step list and every truth figure are the same for every family.
//!
//! * `classic`: the original model. Every even step is the same two damped resonances of
//!   [`MotorSound`] (odd steps per `odd_even_contrast`), 10 ms long, sample for sample. Its
//!   samples are exactly what they were before the families existed.
//! * `resonant`: the motor's two resonances (with a raised-cosine attack of 0.3 ms) get a new
//!   random phase, and frequencies (RMS 2%), decays (5%) and gains (5%) jittered, at every step
//!   ([`super::family::RESONANT_JITTER`]), as a real rotor never strikes its stator twice in the
//!   same way. No two steps are alike sample for sample; their envelopes nearly are.
//! * `unlock-loud`: a stepper motor has no unlock, so for quartz this family is a *double
//!   click*: each step is followed 0.2-0.8 ms later by a weaker secondary click (0.25-0.45 of
//!   the step's level, a resonance of its own at 3-8 kHz), as a rotor bouncing back off its
//!   detent. Delays and gains are drawn per recording; even and odd steps have their own. It is
//!   the mechanical unlock-loud family's secondary click ([`super::SecondaryClicks`]).
//! * `contact`: a contact microphone on the case: the mechanical family's response (a band-pass
//!   at 1-4 kHz, Q 1.5-3, and a case ringing at 1.5-5 kHz decaying in 3-15 ms) on the motor's
//!   resonances.
//! * `echo`: a microphone in a room: the steps plus 3-6 delayed, attenuated copies (2-40 ms),
//!   which at end of life land near the next step of a burst.
//!
//! Every family but `classic` is scaled so that the clean recording's largest sample is exactly
//! `motor.level` (the filters change the level a lot); `classic` keeps its gain. Per-recording
//! choices come from the seed ([`Voicing`]); per-step draws (resonant) from a stream seeded by
//! the step's index, so rewinding or reading in any block size gives the same samples.
//!
//! ## Faults
//! All off by default; they change what is heard, never the truth (the motor keeps stepping):
//! * `clip_level` (0.1..=1): the recorder clips hard at this fraction of the clean sound's
//!   largest sample; the noise is clipped with it.
//! * `weak_stretch`: every step that starts between `start_s` and `end_s` (recorder seconds)
//!   sounds at `level` (0..=1) times its normal level (secondary click too). The steps still
//!   count in the truth.
//! * `noise_gap`: between `start_s` and `end_s` the watch is not heard (echoes and ringing
//!   included); the noise goes on.
//!
//! The SNR's signal power is the watch as rendered (weak stretch and noise gap included,
//! clipping not).
//!
//! [`QuartzSynth`] renders the audio on the fly as a [`BlockSource`] (rewindable, no allocation
//! per read); the step list is computed once at construction (a few bytes per second of audio).

mod motor;
mod params;
mod recording;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::measurement::{SECONDS_PER_DAY, SECONDS_PER_MONTH};
use crate::source::{AudioInfo, BlockSource, Error};
use crate::synth::family::{beat_rng, perturb_within, Sounding};
use crate::synth::resonance::{Partial, Resonance, MAX_PARTIALS};
use crate::synth::rng::Rng;
use crate::synth::{check_faults, check_range, power_and_peak, Generator, Timeline, CHUNK};
use crate::synth::{SoundFamily, Span, Voicing, WeakStretch};

use motor::Motor;
pub use params::{MotorSound, QuartzParams, QuartzTruth, SynthStep};

/// A synthetic quartz recording, rendered on the fly.
pub struct QuartzSynth {
    params: QuartzParams,
    info: AudioInfo,
    motor: Motor,
    missed: usize,
    first_inhibition_s: Option<f64>,
    noise_sigma: f64,
    rng: Rng,
    pos: u64,
    /// Gain of the motor's sound (1 for classic).
    gain: f64,
    /// Largest sample of the clean sound, as scaled.
    clean_peak: f64,
    /// The recorder's hard clipping level (infinite when off).
    clip_limit: f64,
    clipped: u64,
    scratch: Vec<f64>,
}

/// Bad synthesis parameters (one line, naming the parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError(pub String);

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "quartz synthesis: {}", self.0)
    }
}

impl std::error::Error for ParamError {}

const NOISE_SALT: u64 = 0x05EE_D0F4_015E;
const JITTER_SALT: u64 = 0x0717_7E40_0000_0009;
const CLICK_S: f64 = 0.010;
/// Raised-cosine attack of the motor's resonances in every family but classic, ms.
const ATTACK_MS: f64 = 0.3;
