//! Recordings with known truth, for tests, fixtures and benchmarks.
//!
//! A [`Synth`] is a [`BlockSource`]: it computes its samples on the fly in
//! [`BlockSource::read_frames`] (no allocation per call, memory flat for any length) and can
//! rewind (everything is regenerated from the seed). [`Synth::truth`] is the [`Truth`] written
//! beside a file: the exact figures the model realises, plus the recipe that regenerates it.
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
use crate::measurement::Kind;
use crate::source::{AudioInfo, BlockSource};
use serde::{Deserialize, Serialize};
use std::fmt;

mod babble;
pub mod family;
pub mod mechanical;
mod noise;
pub mod quartz;
pub mod resonance;
pub mod rng;
mod scenes;

pub use family::{ContactResponse, EchoTap, SecondaryClicks, SoundFamily, Span, Voicing, WeakStretch};
pub use mechanical::{BeatEvent, Escapement, Side, TickSound};
use rng::Rng;

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

/// The sample instants of a recording in true time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    sample_rate_hz: u32,
    recorder_ppm: f64,
    frames: u64,
    /// Samples per true second.
    eff: f64,
}

impl Timeline {
    /// `frames` samples at a nominal `sample_rate_hz`, by a recorder whose clock runs
    /// `recorder_ppm` fast.
    pub fn new(sample_rate_hz: u32, recorder_ppm: f64, frames: u64) -> Self {
        Timeline {
            sample_rate_hz,
            recorder_ppm,
            frames,
            eff: sample_rate_hz as f64 * (1.0 + recorder_ppm * 1e-6),
        }
    }
    /// Nominal sample rate (what the file header says), Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }
    /// The recorder's clock error, ppm (+ = fast).
    pub fn recorder_ppm(&self) -> f64 {
        self.recorder_ppm
    }
    /// Frames in the recording.
    pub fn frames(&self) -> u64 {
        self.frames
    }
    /// Samples per true second: `fs (1 + ppm 1e-6)`.
    pub fn effective_rate_hz(&self) -> f64 {
        self.eff
    }
    /// True seconds between samples.
    pub fn sample_period_s(&self) -> f64 {
        1.0 / self.eff
    }
    /// True time of sample `n`, seconds.
    #[inline]
    pub fn true_time(&self, n: u64) -> f64 {
        n as f64 / self.eff
    }
    /// Recorder time of sample `n` (what a reader of the file sees), seconds.
    pub fn recorder_time(&self, n: u64) -> f64 {
        n as f64 / self.sample_rate_hz as f64
    }
    /// Converts a recorder time (sample position / nominal rate) to true time, seconds.
    pub fn recorder_to_true_s(&self, r: f64) -> f64 {
        r * self.sample_rate_hz as f64 / self.eff
    }
    /// Converts a true time to recorder time (sample position / nominal rate), seconds.
    pub fn true_to_recorder_s(&self, t: f64) -> f64 {
        t * self.eff / self.sample_rate_hz as f64
    }
    /// Length of the recording in true seconds.
    pub fn true_duration_s(&self) -> f64 {
        self.true_time(self.frames)
    }
    /// The first sample taken at or after true time `t` (0 for `t <= 0`).
    pub fn first_sample_at_or_after(&self, t: f64) -> u64 {
        if t.is_nan() || t <= 0.0 {
            return 0;
        }
        if !t.is_finite() || t * self.eff >= 1.8e19 {
            return u64::MAX;
        }
        let mut n = (t * self.eff).ceil() as u64;
        while self.true_time(n) < t {
            n += 1;
        }
        while n > 0 && self.true_time(n - 1) >= t {
            n -= 1;
        }
        n
    }
}

/// A sound that a [`Synth`] mixes: generated sample by sample, in order, from its seed.
///
/// Public so further kinds (e.g. quartz) can plug into [`Synth::from_generator`].
pub trait Generator: Send {
    /// Goes back to the first sample (regenerates from the seed).
    fn reset(&mut self);
    /// Adds `gain` times the samples `start .. start + out.len()` to `out`. After a reset,
    /// calls cover the timeline in order without gaps; they must not allocate.
    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]);
}

/// A generator that makes no sound (digital silence).
struct Silent;

impl Generator for Silent {
    fn reset(&mut self) {}
    fn render_add(&mut self, _start: u64, _gain: f64, _out: &mut [f64]) {}
}

/// Parameters of a mechanical watch recording. Ranges are checked by [`Synth::mechanical`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanicalParams {
    /// Nominal beats per hour, 3600..=72000.
    pub bph: u32,
    /// Rate, s/day (+ = gains), -1000..=1000.
    pub rate_s_per_day: f64,
    /// Beat error, ms (|t1 - t2| / 2 of alternate unlock intervals), 0..=10.
    pub beat_error_ms: f64,
    /// Balance amplitude, degrees, 100..=360.
    pub amplitude_deg: f64,
    /// Lift angle, degrees, 30..=70.
    pub lift_angle_deg: f64,
    /// Fraction of the lift angle between the unlock and the impulse, 0.02..=0.9 (default 0.15).
    pub impulse_fraction: f64,
    /// Gains of unlock, impulse and drop (default 0.35, 0.6, 1.0), each 0..=1.
    pub event_gains: [f64; 3],
    /// Raised-cosine attack of each sound, ms, 0.005..=0.2 (default 0.04).
    pub attack_ms: f64,
    /// RMS beat-to-beat timing jitter, microseconds, 0..=1000 (default 0).
    pub jitter_us: f64,
    /// RMS beat-to-beat loudness variation, relative, 0..=0.5 (default 0.03).
    pub amplitude_wobble: f64,
    /// Nominal sample rate, Hz, 22050..=192000.
    pub sample_rate_hz: u32,
    /// Length, seconds of recording (0 < d <= 86400).
    pub duration_s: f64,
    /// Recorder clock error, ppm (+ = fast), -1000..=1000.
    pub recorder_ppm: f64,
    /// Seed of every random choice (sound, phase, noise, interference).
    pub seed: u64,
    /// Interleaved channels, 1..=8.
    pub channels: u16,
    /// With several channels: independent noise per channel (the ticks are the same).
    pub decorrelated_channels: bool,
    /// White-noise SNR, dB (see the module docs for the definition), or `None` for no noise.
    pub snr_db: Option<f64>,
    /// Mains hum fundamental, Hz (50 or 60 usually; 40..=70), or `None`.
    pub hum_hz: Option<f64>,
    /// Hum power relative to the signal, dB, -80..=40.
    pub hum_db: f64,
    /// Knocks a minute (0 = none), 0..=120.
    pub knocks_per_min: f64,
    /// Speech babble power relative to the signal, dB, or `None`.
    pub babble_db: Option<f64>,
    /// Dropouts (silenced 20-300 ms spans) a minute, 0..=60.
    pub dropouts_per_min: f64,
    /// How the beats sound ([`family`]); absent from older truth files, which are `classic`.
    #[serde(default, skip_serializing_if = "SoundFamily::is_classic")]
    pub family: SoundFamily,
    /// Hard clipping of the recording at this fraction of the clean watch's peak, 0.1..=1, or
    /// `None` (the [`family`] docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_level: Option<f64>,
    /// A stretch where only a weak unlock-like pulse of each beat remains, or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak_stretch: Option<WeakStretch>,
    /// A stretch where the watch is not heard (noise only), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_gap: Option<Span>,
}

impl Default for MechanicalParams {
    fn default() -> Self {
        MechanicalParams {
            bph: 28800,
            rate_s_per_day: 0.0,
            beat_error_ms: 0.0,
            amplitude_deg: 270.0,
            lift_angle_deg: 52.0,
            impulse_fraction: 0.15,
            event_gains: [0.35, 0.6, 1.0],
            attack_ms: 0.04,
            jitter_us: 0.0,
            amplitude_wobble: 0.03,
            sample_rate_hz: 48_000,
            duration_s: 20.0,
            recorder_ppm: 0.0,
            seed: 1,
            channels: 1,
            decorrelated_channels: false,
            snr_db: None,
            hum_hz: None,
            hum_db: 0.0,
            knocks_per_min: 0.0,
            babble_db: None,
            dropouts_per_min: 0.0,
            family: SoundFamily::Classic,
            clip_level: None,
            weak_stretch: None,
            noise_gap: None,
        }
    }
}

/// What a recording without a watch holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Negative {
    /// White Gaussian noise, RMS 0.05.
    Noise,
    /// Pink noise, RMS 0.05.
    PinkNoise,
    /// Two talkers' speech-like babble, RMS 0.05.
    Speech,
    /// Harmonic chords restruck in a syncopated rhythm, RMS 0.1.
    Music,
    /// Digital zero.
    Silence,
    /// TPDF dither of +-1 LSB at 16 bits (near-zero).
    Dither,
    /// A click train at `bpm` clicks a minute (not a watch rate).
    Metronome {
        /// Clicks a minute, 20..=600, not within 1% of a standard watch rate.
        bpm: f64,
    },
    /// Knocks alone, at the params' `knocks_per_min` (default 10 if 0).
    Knocks,
}

impl Negative {
    /// The scenario name written to the truth file.
    pub fn name(&self) -> &'static str {
        match self {
            Negative::Noise => "noise",
            Negative::PinkNoise => "pink-noise",
            Negative::Speech => "speech",
            Negative::Music => "music",
            Negative::Silence => "silence",
            Negative::Dither => "dither",
            Negative::Metronome { .. } => "metronome",
            Negative::Knocks => "knocks",
        }
    }
}

/// Parameters of a recording with no watch in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeParams {
    /// What is heard.
    pub scenario: Negative,
    /// Nominal sample rate, Hz, 22050..=192000.
    pub sample_rate_hz: u32,
    /// Length, seconds of recording.
    pub duration_s: f64,
    /// Recorder clock error, ppm.
    pub recorder_ppm: f64,
    /// Seed.
    pub seed: u64,
    /// Interleaved channels, 1..=8.
    pub channels: u16,
    /// Independent noise per channel.
    pub decorrelated_channels: bool,
    /// White noise added, dB below the scenario's own mean power, or `None`.
    pub snr_db: Option<f64>,
    /// Mains hum fundamental, Hz, or `None`.
    pub hum_hz: Option<f64>,
    /// Hum power relative to the scenario's sound, dB.
    pub hum_db: f64,
    /// Knocks a minute (added; for [`Negative::Knocks`] the knocks themselves).
    pub knocks_per_min: f64,
    /// Babble power relative to the scenario's sound, dB, or `None`.
    pub babble_db: Option<f64>,
    /// Dropouts a minute.
    pub dropouts_per_min: f64,
}

impl NegativeParams {
    /// A scenario with the defaults: 48 kHz, 10 s, mono, no interference, seed 1.
    pub fn new(scenario: Negative) -> Self {
        NegativeParams {
            scenario,
            sample_rate_hz: 48_000,
            duration_s: 10.0,
            recorder_ppm: 0.0,
            seed: 1,
            channels: 1,
            decorrelated_channels: false,
            snr_db: None,
            hum_hz: None,
            hum_db: 0.0,
            knocks_per_min: 0.0,
            babble_db: None,
            dropouts_per_min: 0.0,
        }
    }
}

/// Any recording the synthesiser makes (more kinds, e.g. quartz, join here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Scenario {
    /// A mechanical watch.
    Mechanical(MechanicalParams),
    /// No watch.
    None(NegativeParams),
}

/// The settings shared by every scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    /// Nominal sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Length, seconds.
    pub duration_s: f64,
    /// Recorder clock error, ppm.
    pub recorder_ppm: f64,
    /// Seed.
    pub seed: u64,
    /// Channels.
    pub channels: u16,
    /// Independent noise per channel.
    pub decorrelated_channels: bool,
    /// White-noise SNR, dB.
    pub snr_db: Option<f64>,
    /// Hum fundamental, Hz.
    pub hum_hz: Option<f64>,
    /// Hum level, dB re signal.
    pub hum_db: f64,
    /// Knocks a minute.
    pub knocks_per_min: f64,
    /// Babble level, dB re signal.
    pub babble_db: Option<f64>,
    /// Dropouts a minute.
    pub dropouts_per_min: f64,
}

impl Common {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), Error> {
        check_range("--sample-rate-hz", self.sample_rate_hz as f64, 22_050.0, 192_000.0)?;
        if !(self.duration_s > 0.0 && self.duration_s <= 86_400.0) {
            return Err(Error::invalid(format!(
                "--duration-s {} is outside 0 < d <= 86400 s",
                self.duration_s
            )));
        }
        if (self.duration_s * self.sample_rate_hz as f64).round() < 1.0 {
            return Err(Error::invalid(format!("--duration-s {} gives no sample", self.duration_s)));
        }
        check_range("--recorder-ppm", self.recorder_ppm, -1000.0, 1000.0)?;
        check_range("--channels", self.channels as f64, 1.0, 8.0)?;
        if let Some(s) = self.snr_db {
            check_range("--snr-db", s, -20.0, 100.0)?;
        }
        if let Some(h) = self.hum_hz {
            check_range("--hum-hz", h, 40.0, 70.0)?;
        }
        check_range("--hum-db", self.hum_db, -80.0, 40.0)?;
        check_range("--knocks-per-min", self.knocks_per_min, 0.0, 120.0)?;
        if let Some(b) = self.babble_db {
            check_range("--babble-db", b, -80.0, 40.0)?;
        }
        check_range("--dropouts-per-min", self.dropouts_per_min, 0.0, 60.0)?;
        Ok(())
    }
    fn frames(&self) -> u64 {
        (self.duration_s * self.sample_rate_hz as f64).round() as u64
    }
}

pub(crate) fn check_range(name: &str, v: f64, lo: f64, hi: f64) -> Result<(), Error> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::invalid(format!("{name} {v} is outside {lo}..={hi}")))
    }
}

/// Checks the faults of a watch recording `duration_s` long (the [`family`] docs), naming the
/// flag that is out of range.
pub(crate) fn check_faults(
    clip_level: Option<f64>,
    weak_stretch: Option<WeakStretch>,
    noise_gap: Option<Span>,
    duration_s: f64,
) -> Result<(), Error> {
    if let Some(c) = clip_level {
        check_range("--clip", c, 0.1, 1.0)?;
    }
    if let Some(w) = weak_stretch {
        check_span("--weak-stretch", w.start_s, w.end_s, duration_s)?;
        check_range("--weak-stretch level", w.level, 0.0, 1.0)?;
    }
    if let Some(g) = noise_gap {
        check_span("--noise-gap", g.start_s, g.end_s, duration_s)?;
    }
    Ok(())
}

fn check_span(name: &str, start_s: f64, end_s: f64, duration_s: f64) -> Result<(), Error> {
    if start_s.is_finite() && end_s.is_finite() && start_s >= 0.0 && start_s < end_s && end_s <= duration_s {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{name} {start_s},{end_s} is not a stretch inside the recording (0 <= start < end <= {duration_s} s)"
        )))
    }
}

impl MechanicalParams {
    /// The shared settings.
    pub fn common(&self) -> Common {
        Common {
            sample_rate_hz: self.sample_rate_hz,
            duration_s: self.duration_s,
            recorder_ppm: self.recorder_ppm,
            seed: self.seed,
            channels: self.channels,
            decorrelated_channels: self.decorrelated_channels,
            snr_db: self.snr_db,
            hum_hz: self.hum_hz,
            hum_db: self.hum_db,
            knocks_per_min: self.knocks_per_min,
            babble_db: self.babble_db,
            dropouts_per_min: self.dropouts_per_min,
        }
    }
    /// Checks every range and solves the escapement.
    pub fn validate(&self) -> Result<Escapement, Error> {
        check_range("--bph", self.bph as f64, 3600.0, 72_000.0)?;
        check_range("--rate-s-per-day", self.rate_s_per_day, -1000.0, 1000.0)?;
        check_range("--beat-error-ms", self.beat_error_ms, 0.0, 10.0)?;
        check_range("--amplitude-deg", self.amplitude_deg, 100.0, 360.0)?;
        check_range("--lift-angle-deg", self.lift_angle_deg, 30.0, 70.0)?;
        check_range("--impulse-fraction", self.impulse_fraction, 0.02, 0.9)?;
        for g in self.event_gains {
            check_range("event gain", g, 0.0, 1.0)?;
        }
        check_range("--attack-ms", self.attack_ms, 0.005, 0.2)?;
        check_range("--jitter-us", self.jitter_us, 0.0, 1000.0)?;
        check_range("--amplitude-wobble", self.amplitude_wobble, 0.0, 0.5)?;
        self.common().validate()?;
        check_faults(self.clip_level, self.weak_stretch, self.noise_gap, self.duration_s)?;
        Escapement::solve(
            self.bph,
            self.rate_s_per_day,
            self.beat_error_ms,
            self.amplitude_deg,
            self.lift_angle_deg,
            self.impulse_fraction,
        )
    }
}

impl NegativeParams {
    /// The shared settings.
    pub fn common(&self) -> Common {
        Common {
            sample_rate_hz: self.sample_rate_hz,
            duration_s: self.duration_s,
            recorder_ppm: self.recorder_ppm,
            seed: self.seed,
            channels: self.channels,
            decorrelated_channels: self.decorrelated_channels,
            snr_db: self.snr_db,
            hum_hz: self.hum_hz,
            hum_db: self.hum_db,
            knocks_per_min: if self.scenario == Negative::Knocks { 0.0 } else { self.knocks_per_min },
            babble_db: self.babble_db,
            dropouts_per_min: self.dropouts_per_min,
        }
    }
    /// Checks every range.
    pub fn validate(&self) -> Result<(), Error> {
        self.common().validate()?;
        check_range("--knocks-per-min", self.knocks_per_min, 0.0, 120.0)?;
        if let Negative::Metronome { bpm } = self.scenario {
            check_range("--metronome-bpm", bpm, 20.0, 600.0)?;
            for s in crate::measurement::STANDARD_BPH {
                let beats_per_min = s as f64 / 60.0;
                if (bpm / beats_per_min - 1.0).abs() < 0.01 {
                    return Err(Error::invalid(format!(
                        "--metronome-bpm {bpm} is a watch rate ({s} bph); a negative test needs a non-watch rate"
                    )));
                }
            }
        }
        let silent = matches!(self.scenario, Negative::Silence | Negative::Dither);
        if silent && (self.snr_db.is_some() || self.hum_hz.is_some() || self.babble_db.is_some()) {
            return Err(Error::invalid(format!(
                "--snr-db, --hum-hz and --babble-db are relative to the sound and {} has none",
                self.scenario.name()
            )));
        }
        Ok(())
    }
}

/// Output sample encodings of [`write_wav`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleFormat {
    /// 8-bit unsigned PCM (coarse: quantisation noise near -50 dBFS).
    U8,
    /// 16-bit PCM.
    I16,
    /// 24-bit PCM.
    I24,
    /// 32-bit PCM.
    I32,
    /// 32-bit IEEE float.
    F32,
}

impl SampleFormat {
    /// The name used on the command line and in truth files.
    pub fn name(&self) -> &'static str {
        match self {
            SampleFormat::U8 => "u8",
            SampleFormat::I16 => "i16",
            SampleFormat::I24 => "i24",
            SampleFormat::I32 => "i32",
            SampleFormat::F32 => "f32",
        }
    }
}

/// The truth written beside a synthetic recording (`NAME.truth.json`).
///
/// Watch figures are what the model realises, in true time; `params` is the exact recipe
/// ([`Scenario`]) that regenerates the same samples with [`Synth::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// "mechanical" or "none" (later "quartz").
    pub kind: Kind,
    /// Scenario name: "watch" for a watch, else the [`Negative::name`].
    pub scenario: String,
    /// [`MODEL_VERSION`] of the synthesiser that made it.
    pub model_version: u32,
    /// Nominal beats per hour.
    pub bph: Option<u32>,
    /// Rate realised, s/day (+ = gains): `(7200 / bph / T - 1) 86400`.
    pub rate_s_per_day: Option<f64>,
    /// Beat error realised, ms (unlock-based; drop-based is identical in this model).
    pub beat_error_ms: Option<f64>,
    /// Balance amplitude `A`, degrees.
    pub amplitude_deg: Option<f64>,
    /// Lift angle, degrees.
    pub lift_angle_deg: Option<f64>,
    /// Recorder clock error, ppm (+ = fast).
    pub recorder_ppm: f64,
    /// White-noise SNR, dB (module docs), or `None` for no added noise.
    pub snr_db: Option<f64>,
    /// Nominal sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Length, seconds of recording (frames / sample rate).
    pub duration_s: f64,
    /// Frames in the recording.
    pub frames: u64,
    /// Channels.
    pub channels: u16,
    /// Seed.
    pub seed: u64,
    /// RMS beat timing jitter, microseconds.
    pub jitter_us: Option<f64>,
    /// Oscillation period `T` (two beats), true seconds.
    pub period_s: Option<f64>,
    /// Unlock-to-drop time, ms (same for tic and toc).
    pub unlock_to_drop_ms: Option<f64>,
    /// `L / (2 sin(pi t / T))` from the model's unlock-to-drop time and true period: equals
    /// `amplitude_deg` when the beat error is 0, a little less otherwise (second order).
    pub amplitude_by_convention_deg: Option<f64>,
    /// Offset of the lift zone that makes the beat error, degrees.
    pub beat_error_offset_deg: Option<f64>,
    /// Tic unlock to the next toc unlock, ms.
    pub tic_to_toc_ms: Option<f64>,
    /// Toc unlock to the next tic unlock, ms.
    pub toc_to_tic_ms: Option<f64>,
    /// True time of the first whole beat's unlock in the recording, seconds.
    pub first_unlock_s: Option<f64>,
    /// Side of that first beat.
    pub first_side: Option<Side>,
    /// Mean power of the clean reference sound (the watch's ticks), full scale = 1.
    pub signal_power: f64,
    /// RMS of the added white noise (0 when none).
    pub noise_rms: f64,
    /// Hum fundamental, Hz.
    pub hum_hz: Option<f64>,
    /// Hum level, dB re signal (present when there is hum).
    pub hum_db: Option<f64>,
    /// Knocks a minute.
    pub knocks_per_min: f64,
    /// Babble level, dB re signal.
    pub babble_db: Option<f64>,
    /// Dropouts a minute.
    pub dropouts_per_min: f64,
    /// Metronome clicks a minute (metronome scenario).
    pub metronome_bpm: Option<f64>,
    /// Encoding of the file (set by [`write_wav`] callers; `None` in memory).
    pub sample_format: Option<SampleFormat>,
    /// The recipe.
    pub params: Scenario,
}

impl Truth {
    /// The JSON text written to a truth file (pretty, ending with a newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("truth serialises");
        s.push('\n');
        s
    }
}

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

/// Seeds of the independent random streams, drawn in a fixed order from the master seed.
struct Seeds {
    main: u64,
    knocks: u64,
    babble: u64,
    hum: u64,
    dropouts: u64,
    noise: [u64; 8],
}

impl Seeds {
    fn new(seed: u64) -> Self {
        let mut r = Rng::new(seed);
        Seeds {
            main: r.next_u64(),
            knocks: r.next_u64(),
            babble: r.next_u64(),
            hum: r.next_u64(),
            dropouts: r.next_u64(),
            noise: [0; 8].map(|_| r.next_u64()),
        }
    }
}

/// Mean power of a generator over a whole timeline (renders it once, then resets it).
fn mean_power(g: &mut dyn Generator, frames: u64, scratch: &mut [f64]) -> f64 {
    power_and_peak(g, frames, scratch).0
}

/// Mean power and largest absolute sample of a generator over a whole timeline.
pub(crate) fn power_and_peak(g: &mut dyn Generator, frames: u64, scratch: &mut [f64]) -> (f64, f64) {
    g.reset();
    let mut sum = 0.0;
    let mut peak = 0.0f64;
    let mut n = 0u64;
    while n < frames {
        let m = (frames - n).min(scratch.len() as u64) as usize;
        let buf = &mut scratch[..m];
        buf.fill(0.0);
        g.render_add(n, 1.0, buf);
        sum += buf.iter().map(|v| v * v).sum::<f64>();
        peak = buf.iter().fold(peak, |p, v| p.max(v.abs()));
        n += m as u64;
    }
    g.reset();
    (sum / frames as f64, peak)
}

/// How the main sound of a recording is scaled.
#[derive(Debug, Clone, Copy)]
enum Level {
    /// By a fixed gain.
    Gain(f64),
    /// To this RMS (a fixed gain when silent).
    Rms(f64, f64),
    /// So its largest sample is this.
    Peak(f64),
}

impl Synth {
    /// Any scenario.
    pub fn new(scenario: &Scenario) -> Result<Self, Error> {
        match scenario {
            Scenario::Mechanical(p) => Synth::mechanical(p),
            Scenario::None(p) => Synth::negative(p),
        }
    }

    /// A mechanical watch recording.
    pub fn mechanical(p: &MechanicalParams) -> Result<Self, Error> {
        let esc = p.validate()?;
        let common = p.common();
        let seeds = Seeds::new(p.seed);
        let tl = Timeline::new(p.sample_rate_hz, p.recorder_ppm, common.frames());
        let clock = mechanical::BeatClock::new(esc, seeds.main, p.jitter_us, p.amplitude_wobble);
        let voicing = Voicing::draw(p.family, seeds.main, p.attack_ms, p.event_gains);
        let faults = family::GeneratorFaults {
            weak: p
                .weak_stretch
                .map(|w| (tl.recorder_to_true_s(w.start_s), tl.recorder_to_true_s(w.end_s), w.level)),
            gap: p.noise_gap.map(|g| {
                let fs = p.sample_rate_hz as f64;
                ((g.start_s * fs).ceil() as u64, (g.end_s * fs).ceil() as u64)
            }),
        };
        let gen = family::WatchGenerator::new(clock.clone(), voicing.clone(), seeds.main, tl, faults, CHUNK);
        let first = {
            let mut c = clock.clone();
            loop {
                let (_, side, t, _) = c.next_beat();
                if t[0] >= 0.0 {
                    break (t[0], side);
                }
            }
        };
        let truth = Truth {
            kind: Kind::Mechanical,
            scenario: "watch".into(),
            model_version: MODEL_VERSION,
            bph: Some(p.bph),
            rate_s_per_day: Some(esc.rate_s_per_day()),
            beat_error_ms: Some(esc.beat_error_ms()),
            amplitude_deg: Some(esc.amplitude_deg),
            lift_angle_deg: Some(esc.lift_angle_deg),
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: tl.recorder_time(tl.frames()),
            frames: tl.frames(),
            channels: p.channels,
            seed: p.seed,
            jitter_us: Some(p.jitter_us),
            period_s: Some(esc.period_s),
            unlock_to_drop_ms: Some(esc.unlock_to_drop_ms()),
            amplitude_by_convention_deg: Some(esc.amplitude_by_convention_deg()),
            beat_error_offset_deg: Some(esc.offset_deg),
            tic_to_toc_ms: Some(esc.tic_to_toc_ms()),
            toc_to_tic_ms: Some(esc.toc_to_tic_ms()),
            first_unlock_s: Some(first.0),
            first_side: Some(first.1),
            signal_power: 0.0,
            noise_rms: 0.0,
            hum_hz: None,
            hum_db: None,
            knocks_per_min: 0.0,
            babble_db: None,
            dropouts_per_min: 0.0,
            metronome_bpm: None,
            sample_format: None,
            params: Scenario::Mechanical(p.clone()),
        };
        let level = if p.family.is_classic() { Level::Gain(WATCH_LEVEL) } else { Level::Peak(WATCH_LEVEL) };
        let mut s = Synth::assemble(Box::new(gen), level, &common, &seeds, truth)?;
        s.clock = Some(clock);
        s.voicing = Some(voicing);
        if let Some(c) = p.clip_level {
            s.clip_limit = c * s.main_peak;
        }
        Ok(s)
    }

    /// A recording with no watch.
    pub fn negative(p: &NegativeParams) -> Result<Self, Error> {
        p.validate()?;
        let common = p.common();
        let seeds = Seeds::new(p.seed);
        let tl = Timeline::new(p.sample_rate_hz, p.recorder_ppm, common.frames());
        let (main, rms, gain): (Box<dyn Generator>, Option<f64>, f64) = match p.scenario {
            Negative::Noise => (Box::new(noise::WhiteNoise::new(seeds.main)), Some(0.05), 1.0),
            Negative::PinkNoise => (Box::new(noise::PinkNoise::new(seeds.main)), Some(0.05), 1.0),
            Negative::Speech => (Box::new(babble::Babble::new(2, seeds.main, tl)), Some(0.05), 1.0),
            Negative::Music => (Box::new(scenes::Music::new(seeds.main, tl)), Some(0.1), 1.0),
            Negative::Silence => (Box::new(Silent), None, 1.0),
            Negative::Dither => (Box::new(noise::Dither::new(seeds.main)), None, 1.0),
            Negative::Metronome { bpm } => (Box::new(scenes::Metronome::new(bpm, seeds.main, tl)), None, 1.0),
            Negative::Knocks => {
                let per_min = if p.knocks_per_min > 0.0 { p.knocks_per_min } else { 10.0 };
                (Box::new(noise::Knocks::new(per_min, (0.3, 0.65), seeds.main, tl)), None, 1.0)
            }
        };
        let truth = Truth {
            kind: Kind::None,
            scenario: p.scenario.name().into(),
            model_version: MODEL_VERSION,
            bph: None,
            rate_s_per_day: None,
            beat_error_ms: None,
            amplitude_deg: None,
            lift_angle_deg: None,
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: tl.recorder_time(tl.frames()),
            frames: tl.frames(),
            channels: p.channels,
            seed: p.seed,
            jitter_us: None,
            period_s: None,
            unlock_to_drop_ms: None,
            amplitude_by_convention_deg: None,
            beat_error_offset_deg: None,
            tic_to_toc_ms: None,
            toc_to_tic_ms: None,
            first_unlock_s: None,
            first_side: None,
            signal_power: 0.0,
            noise_rms: 0.0,
            hum_hz: None,
            hum_db: None,
            knocks_per_min: 0.0,
            babble_db: None,
            dropouts_per_min: 0.0,
            metronome_bpm: match p.scenario {
                Negative::Metronome { bpm } => Some(bpm),
                _ => None,
            },
            sample_format: None,
            params: Scenario::None(p.clone()),
        };
        let level = rms.map_or(Level::Gain(gain), |r| Level::Rms(r, gain));
        let mut s = Synth::assemble(main, level, &common, &seeds, truth)?;
        if p.scenario == Negative::Knocks {
            s.truth.knocks_per_min = if p.knocks_per_min > 0.0 { p.knocks_per_min } else { 10.0 };
        }
        Ok(s)
    }

    /// A recording of any `main` sound (e.g. a further kind of watch) with the shared
    /// interference. `main` is scaled by `gain`, or to RMS `target_rms` when given; `truth`
    /// supplies the kind-specific fields and the level fields are filled in here.
    pub fn from_generator(
        main: Box<dyn Generator>,
        gain: f64,
        target_rms: Option<f64>,
        common: &Common,
        truth: Truth,
    ) -> Result<Self, Error> {
        common.validate()?;
        let level = target_rms.map_or(Level::Gain(gain), |r| Level::Rms(r, gain));
        Synth::assemble(main, level, common, &Seeds::new(common.seed), truth)
    }

    fn assemble(
        mut main: Box<dyn Generator>,
        level: Level,
        c: &Common,
        seeds: &Seeds,
        mut truth: Truth,
    ) -> Result<Self, Error> {
        let tl = Timeline::new(c.sample_rate_hz, c.recorder_ppm, c.frames());
        let mut scratch = vec![0.0f64; CHUNK];
        // Pre-pass: the exact mean power (and peak) of the clean reference sound, as rendered.
        let (raw_power, raw_peak) = power_and_peak(main.as_mut(), tl.frames(), &mut scratch);
        let main_gain = match level {
            Level::Gain(g) => g,
            Level::Rms(r, _) if raw_power > 0.0 => r / raw_power.sqrt(),
            Level::Rms(_, g) => g,
            Level::Peak(p) if raw_peak > 0.0 => p / raw_peak,
            Level::Peak(p) => p,
        };
        let power = raw_power * main_gain * main_gain;
        let relative = c.snr_db.is_some() || c.hum_hz.is_some() || c.babble_db.is_some();
        if relative && (power.is_nan() || power <= 0.0) {
            return Err(Error::invalid(
                "noise, hum and babble levels are relative to the sound, and it is silent",
            ));
        }
        let noise_sigma = c.snr_db.map_or(0.0, |s| (power / 10f64.powf(s / 10.0)).sqrt());
        let hum = c
            .hum_hz
            .map(|hz| (noise::Hum::new(hz, seeds.hum, tl), (power * 10f64.powf(c.hum_db / 10.0)).sqrt()));
        let babble = match c.babble_db {
            Some(db) => {
                let mut b = babble::Babble::new(3, seeds.babble, tl);
                let pb = mean_power(&mut b, tl.frames(), &mut scratch);
                let g = if pb > 0.0 { (power * 10f64.powf(db / 10.0) / pb).sqrt() } else { 0.0 };
                Some((b, g))
            }
            None => None,
        };
        let knocks = (c.knocks_per_min > 0.0)
            .then(|| noise::Knocks::new(c.knocks_per_min, (0.35, 0.6), seeds.knocks, tl));
        let dropouts =
            (c.dropouts_per_min > 0.0).then(|| noise::Dropouts::new(c.dropouts_per_min, seeds.dropouts, tl));
        let streams = if c.decorrelated_channels { c.channels as usize } else { 1 };
        let noise = (0..streams).map(|i| noise::WhiteNoise::new(seeds.noise[i])).collect();
        truth.signal_power = power;
        truth.noise_rms = noise_sigma;
        truth.hum_hz = c.hum_hz;
        truth.hum_db = c.hum_hz.map(|_| c.hum_db);
        truth.knocks_per_min = c.knocks_per_min;
        truth.babble_db = c.babble_db;
        truth.dropouts_per_min = c.dropouts_per_min;
        let info = AudioInfo {
            sample_rate_hz: c.sample_rate_hz,
            channels: c.channels,
            frames: Some(tl.frames()),
            encoding: format!("synthetic {} f32", truth.scenario),
        };
        Ok(Synth {
            info,
            timeline: tl,
            truth,
            main,
            main_gain,
            knocks,
            babble,
            hum,
            dropouts,
            noise,
            noise_sigma,
            clock: None,
            voicing: None,
            main_peak: raw_peak * main_gain,
            clip_limit: f64::INFINITY,
            scratch,
            pos: 0,
            clipped: 0,
        })
    }

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

    /// Renders frames `start .. start + m` (m <= CHUNK) of the mono mix (before noise) into
    /// the scratch buffer.
    fn render_chunk(&mut self, start: u64, m: usize) {
        let buf = &mut self.scratch[..m];
        buf.fill(0.0);
        self.main.render_add(start, self.main_gain, buf);
        if let Some(k) = &mut self.knocks {
            k.render_add(start, 1.0, buf);
        }
        if let Some((b, g)) = &mut self.babble {
            b.render_add(start, *g, buf);
        }
        if let Some((h, g)) = &mut self.hum {
            h.render_add(start, *g, buf);
        }
    }
}

impl BlockSource for Synth {
    fn info(&self) -> &AudioInfo {
        &self.info
    }

    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, crate::source::Error> {
        let ch = self.info.channels as usize;
        let frames = (out.len() / ch).min((self.timeline.frames() - self.pos) as usize);
        let mut done = 0;
        while done < frames {
            let m = (frames - done).min(CHUNK);
            let start = self.pos + done as u64;
            self.render_chunk(start, m);
            let sigma = self.noise_sigma;
            let shared_noise = sigma > 0.0 && self.noise.len() == 1;
            if shared_noise {
                let g = &mut self.noise[0];
                for v in &mut self.scratch[..m] {
                    *v += sigma * g.sample();
                }
            }
            let block = &mut out[done * ch..(done + m) * ch];
            let lim = self.clip_limit;
            for c in 0..ch {
                let own = if sigma > 0.0 && !shared_noise { Some(&mut self.noise[c]) } else { None };
                match own {
                    Some(g) => {
                        for (o, x) in block[c..].iter_mut().step_by(ch).zip(&self.scratch[..m]) {
                            let v = (x + sigma * g.sample()).clamp(-lim, lim);
                            self.clipped += (v.abs() > 1.0) as u64;
                            *o = v.clamp(-1.0, 1.0) as f32;
                        }
                    }
                    None => {
                        for (o, x) in block[c..].iter_mut().step_by(ch).zip(&self.scratch[..m]) {
                            let x = x.clamp(-lim, lim);
                            self.clipped += (x.abs() > 1.0) as u64;
                            *o = x.clamp(-1.0, 1.0) as f32;
                        }
                    }
                }
            }
            if let Some(d) = &mut self.dropouts {
                for (i, frame) in block.chunks_mut(ch).enumerate() {
                    if d.silenced(start + i as u64) {
                        frame.fill(0.0);
                    }
                }
            }
            done += m;
        }
        self.pos += frames as u64;
        Ok(frames)
    }

    fn rewind(&mut self) -> Result<(), crate::source::Error> {
        self.main.reset();
        if let Some(k) = &mut self.knocks {
            k.reset();
        }
        if let Some((b, _)) = &mut self.babble {
            b.reset();
        }
        if let Some((h, _)) = &mut self.hum {
            h.reset();
        }
        if let Some(d) = &mut self.dropouts {
            d.reset();
        }
        for n in &mut self.noise {
            n.reset();
        }
        self.pos = 0;
        self.clipped = 0;
        Ok(())
    }
}

/// Writes every frame of `synth` (from its current position) as a WAV file in `format`, in
/// blocks. Returns the frames written.
pub fn write_wav<W: std::io::Write + std::io::Seek>(
    synth: &mut Synth,
    format: SampleFormat,
    writer: W,
) -> Result<u64, hound::Error> {
    let (bits, sample_format) = match format {
        SampleFormat::U8 => (8, hound::SampleFormat::Int),
        SampleFormat::I16 => (16, hound::SampleFormat::Int),
        SampleFormat::I24 => (24, hound::SampleFormat::Int),
        SampleFormat::I32 => (32, hound::SampleFormat::Int),
        SampleFormat::F32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: synth.info.channels,
        sample_rate: synth.info.sample_rate_hz,
        bits_per_sample: bits,
        sample_format,
    };
    let mut w = hound::WavWriter::new(writer, spec)?;
    let ch = synth.info.channels as usize;
    let mut buf = vec![0.0f32; 4096 * ch];
    let mut total = 0u64;
    loop {
        let n = synth
            .read_frames(&mut buf)
            .map_err(|e| hound::Error::IoError(std::io::Error::other(e.to_string())))?;
        if n == 0 {
            break;
        }
        for &x in &buf[..n * ch] {
            let x = x as f64;
            match format {
                SampleFormat::U8 => w.write_sample((x * 127.0).round() as i8)?,
                SampleFormat::I16 => w.write_sample((x * 32767.0).round() as i16)?,
                SampleFormat::I24 => w.write_sample((x * 8_388_607.0).round() as i32)?,
                SampleFormat::I32 => w.write_sample((x * 2_147_483_647.0).round() as i32)?,
                SampleFormat::F32 => w.write_sample(x as f32)?,
            }
        }
        total += n as u64;
    }
    w.finalize()?;
    Ok(total)
}
