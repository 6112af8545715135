//! Recordings with known truth, for tests, fixtures and benchmarks.
//!
//! A [`Synth`] is a [`BlockSource`](crate::source::BlockSource): it computes its samples on the
//! fly in [`BlockSource::read_frames`](crate::source::BlockSource::read_frames) (no allocation
//! per call, memory flat for any length) and can rewind (everything is regenerated from the
//! seed). [`Synth::truth`] is the [`Truth`] written beside a file: the exact figures the model
//! realises, plus the recipe that regenerates it.
//!
//! * Watch: [`MechanicalParams`], the escapement model of [`mechanical`] (beat times exact to
//!   the sub-sample, see [`Synth::beat_events`]), heard through one of the sound families of
//!   [`family`] ([`SoundFamily`]: `classic`, `resonant`, `unlock-loud`, `contact`, `echo`), with
//!   optional faults (clipping, a weak stretch, a noise gap).
//! * No watch: [`NegativeParams`] with a [`Negative`] scenario (noise, speech, music, silence,
//!   dither, a metronome at a non-watch rate, knocks).
//! * Quartz: [`quartz::QuartzParams`] and [`quartz::QuartzSynth`] (stepper-motor clicks,
//!   inhibition, end of life).
//! * Interference on either: white noise at an SNR, mains hum, knocks, speech babble, dropouts.
//!
//! ## Time
//! Sounds live in true time. Sample `n` is taken at true time `n / (fs (1 + recorder_ppm 1e-6))`
//! ([`Timeline`]): a recorder whose clock runs fast takes more samples per true second, so the
//! watch seems slow by `ppm * 0.0864` s/day in recorder time. Truth figures are in true time.
//!
//! ## Levels: the SNR definition
//! `snr_db = 10 log10(P_signal / P_noise)`, where `P_signal` is the mean power of the clean watch
//! signal (the ticks alone, exactly as rendered, averaged over every sample of the recording,
//! silences between ticks included) and `P_noise` the variance of the white Gaussian noise added.
//! It is deliberately strict: ticks are sparse, so at 10 dB the noise between ticks is loud. The
//! hum and babble levels (`hum_db`, `babble_db`) are power ratios against the same `P_signal`.
//! For negative scenarios the reference is the scenario's own sound. Dropouts silence everything
//! (signal and noise) and are not counted in the powers. The faults of [`family`] are part of
//! the watch as rendered (a weak stretch or noise gap lowers `P_signal` a little); the recorder's
//! clipping is not. Integer formats add their own
//! quantisation noise (negligible at 16 bits and up; 8-bit is for format tests only).
//!
//! ## Layout
//! * `params`: the recipes ([`MechanicalParams`], [`NegativeParams`], [`Scenario`], [`Common`]),
//!   and `validate`, their ranges.
//! * `timeline`: [`Timeline`], true time against recorder time.
//! * `generator`: the [`Generator`] trait every sound implements, and power measurement.
//! * `build`: the [`Synth`] constructors, which set the levels and the interference.
//! * `stream`: the mix, block by block ([`BlockSource`](crate::source::BlockSource) for [`Synth`]).
//! * `truth`: the [`Truth`] written beside a recording; `wav`: [`write_wav`] and [`SampleFormat`].
use crate::source::AudioInfo;
use std::fmt;

mod babble;
mod build;
pub mod family;
mod generator;
pub mod mechanical;
mod noise;
mod params;
pub mod quartz;
pub mod resonance;
pub mod rng;
mod scenes;
mod stream;
mod timeline;
mod truth;
mod validate;
mod wav;

pub use family::{ContactResponse, EchoTap, SecondaryClicks, SoundFamily, Span, Voicing, WeakStretch};
pub(crate) use generator::power_and_peak;
pub use generator::Generator;
pub use mechanical::{BeatEvent, Escapement, Side, TickSound};
pub use params::{Common, MechanicalParams, Negative, NegativeParams, Scenario};
pub use timeline::Timeline;
pub use truth::Truth;
pub(crate) use validate::{check_faults, check_range};
pub use wav::{write_wav, SampleFormat};

/// Version of the synthesis model, written into every truth file. It changes whenever the same
/// parameters would give different samples (fixtures are then regenerated on purpose).
pub const MODEL_VERSION: u32 = 3;

/// Gain of a classic watch's sound (its loudest sub-event, the drop, has gain 1 before it), and
/// the exact peak of the clean sound of every other family, full scale = 1.
pub const WATCH_LEVEL: f64 = 0.2;

/// Frames rendered at a time inside [`Synth::read_frames`] (the size of the internal scratch).
pub(crate) const CHUNK: usize = 1024;

/// Errors of the synthesis layer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of its range or the combination cannot be realised.
    Invalid {
        /// What is wrong, in one line.
        what: String,
    },
}

impl Error {
    /// An invalid-parameter error.
    pub fn invalid(what: impl Into<String>) -> Self {
        Error::Invalid { what: what.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid { what } => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {}

/// A synthetic recording, streamed block by block.
pub struct Synth {
    info: AudioInfo,
    timeline: Timeline,
    truth: Truth,
    main: Box<dyn Generator>,
    main_gain: f64,
    knocks: Option<noise::Knocks>,
    babble: Option<(babble::Babble, f64)>,
    hum: Option<(noise::Hum, f64)>,
    dropouts: Option<noise::Dropouts>,
    noise: Vec<noise::WhiteNoise>,
    noise_sigma: f64,
    clock: Option<mechanical::BeatClock>,
    voicing: Option<Voicing>,
    /// Largest sample of the clean main sound, as scaled.
    main_peak: f64,
    /// The recorder's hard clipping level (infinite when off).
    clip_limit: f64,
    scratch: Vec<f64>,
    pos: u64,
    clipped: u64,
}

impl fmt::Debug for Synth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Synth").field("info", &self.info).field("pos", &self.pos).finish_non_exhaustive()
    }
}
impl Synth {
    /// The truth of this recording.
    pub fn truth(&self) -> Truth {
        self.truth.clone()
    }

    /// The sample instants.
    pub fn timeline(&self) -> Timeline {
        self.timeline
    }

    /// The per-movement sound choices of a watch recording (its family's [`Voicing`]).
    pub fn voicing(&self) -> Option<&Voicing> {
        self.voicing.as_ref()
    }

    /// Largest sample of the clean watch (or scenario) sound, before noise and faults' clipping.
    pub fn clean_peak(&self) -> f64 {
        self.main_peak
    }

    /// Samples clamped to [-1, 1] so far (since the last rewind), counted per channel.
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// The first `max` beats whose unlock falls inside the recording, with their exact times
    /// (jitter included) in true and recorder seconds. Empty for recordings without a watch.
    pub fn beat_events(&self, max: usize) -> Vec<BeatEvent> {
        let Some(clock) = &self.clock else { return Vec::new() };
        let mut c = clock.clone();
        c.reset();
        let end = self.timeline.true_duration_s();
        let tl = &self.timeline;
        let mut out = Vec::new();
        while out.len() < max {
            let (index, side, t, gain) = c.next_beat();
            if t[0] < 0.0 {
                continue;
            }
            if t[0] >= end {
                break;
            }
            out.push(BeatEvent {
                index,
                side,
                unlock_s: t[0],
                impulse_s: t[1],
                drop_s: t[2],
                unlock_rec_s: tl.true_to_recorder_s(t[0]),
                impulse_rec_s: tl.true_to_recorder_s(t[1]),
                drop_rec_s: tl.true_to_recorder_s(t[2]),
                gain,
            });
        }
        out
    }
}
