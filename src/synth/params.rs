//! The recipes of a recording: a watch, no watch, and the settings every scenario shares.
use super::{SoundFamily, Span, WeakStretch};
use serde::{Deserialize, Serialize};

/// Parameters of a mechanical watch recording. Ranges are checked by
/// [`Synth::mechanical`](super::Synth::mechanical).
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
    /// How the beats sound ([`family`](super::family)); absent from older truth files, which are `classic`.
    #[serde(default, skip_serializing_if = "SoundFamily::is_classic")]
    pub family: SoundFamily,
    /// Hard clipping of the recording at this fraction of the clean watch's peak, 0.1..=1, or
    /// `None` (the [`family`](super::family) docs).
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
