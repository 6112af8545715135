//! The truth written beside a synthetic recording: the figures the model realises and the
//! recipe that regenerates it.
use super::{SampleFormat, Scenario, Side};
use crate::measurement::Kind;
use serde::{Deserialize, Serialize};

/// The truth written beside a synthetic recording (`NAME.truth.json`).
///
/// Watch figures are what the model realises, in true time; `params` is the exact recipe
/// ([`Scenario`]) that regenerates the same samples with [`Synth::new`](super::Synth::new).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// "mechanical" or "none" (later "quartz").
    pub kind: Kind,
    /// Scenario name: "watch" for a watch, else the [`Negative::name`](super::Negative::name).
    pub scenario: String,
    /// [`MODEL_VERSION`](super::MODEL_VERSION) of the synthesiser that made it.
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
    /// Encoding of the file (set by [`write_wav`](super::write_wav) callers; `None` in memory).
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
