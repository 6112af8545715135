//! The parameters of a synthetic quartz recording and the truth it reports.

use super::*;

/// The sound of the stepper motor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotorSound {
    /// Frequencies of the two damped resonances of an even step, Hz.
    pub freq_hz: [f64; 2],
    /// Decay time constants of the two resonances, ms.
    pub decay_ms: [f64; 2],
    /// Relative level of the two resonances.
    pub mix: [f64; 2],
    /// How different odd steps sound (0 = identical; 1 = inverted polarity, resonances 25%
    /// higher and their mix swapped).
    pub odd_even_contrast: f64,
    /// Peak level of a click, full scale = 1.
    pub level: f64,
    /// Random step-to-step level variation (standard deviation, fraction).
    pub level_jitter: f64,
}

impl Default for MotorSound {
    fn default() -> Self {
        MotorSound {
            freq_hz: [2300.0, 4100.0],
            decay_ms: [0.8, 0.5],
            mix: [0.6, 0.4],
            odd_even_contrast: 1.0,
            level: 0.5,
            level_jitter: 0.05,
        }
    }
}

/// Everything that defines a synthetic quartz recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuartzParams {
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Length of the recording, seconds.
    pub duration_s: f64,
    /// True average rate of the watch, s/month (30 days), + = gains (-60..+60 typical).
    pub rate_s_per_month: f64,
    /// Inhibition period, whole seconds (10, 20, 60, 120 typical), or `None` for no inhibition.
    pub inhibition_period_s: Option<u32>,
    /// How fast the oscillator runs before inhibition, ppm (1..50 typical): the correction
    /// dropped every period.
    pub inhibition_ppm: f64,
    /// Seconds between hand movements: 1 normally, 2/4/5 at battery end of life.
    pub step_interval_s: u32,
    /// Time between the quick steps of an end-of-life burst, seconds.
    pub burst_gap_s: f64,
    /// Probability that a motor step is silent (missed), 0..1.
    pub missing_step_prob: f64,
    /// True time at which the motor stops for good, seconds, or `None`.
    pub stop_at_s: Option<f64>,
    /// Mean clean signal power over the recording against white-noise power, dB.
    pub snr_db: f64,
    /// How fast the recorder's sample clock runs against true time, ppm (+ = fast).
    pub recorder_ppm: f64,
    /// Seed of every random choice (start time, inhibition phase, levels, misses, noise).
    pub seed: u64,
    /// The motor's sound.
    pub motor: MotorSound,
    /// How the steps sound (see the module docs); absent from older files, which are `classic`.
    #[serde(default)]
    pub family: SoundFamily,
    /// RMS step-to-step timing jitter, microseconds, 0..=1000: each step moved by a zero-mean
    /// Gaussian offset (in the step times; see the module docs). Absent from older files: 0.
    #[serde(default)]
    pub jitter_us: f64,
    /// Fault: hard clipping at this fraction of the clean sound's peak, 0.1..=1, or `None`.
    #[serde(default)]
    pub clip_level: Option<f64>,
    /// Fault: a stretch where every step sounds at `level` times its normal level, or `None`.
    #[serde(default)]
    pub weak_stretch: Option<WeakStretch>,
    /// Fault: a stretch where the watch is not heard (noise only), or `None`.
    #[serde(default)]
    pub noise_gap: Option<Span>,
}

impl Default for QuartzParams {
    fn default() -> Self {
        QuartzParams {
            sample_rate_hz: 44_100,
            duration_s: 60.0,
            rate_s_per_month: 0.0,
            inhibition_period_s: Some(60),
            inhibition_ppm: 10.0,
            step_interval_s: 1,
            burst_gap_s: 0.04,
            missing_step_prob: 0.0,
            stop_at_s: None,
            snr_db: 25.0,
            recorder_ppm: 0.0,
            seed: 1,
            motor: MotorSound::default(),
            family: SoundFamily::Classic,
            jitter_us: 0.0,
            clip_level: None,
            weak_stretch: None,
            noise_gap: None,
        }
    }
}

/// The truth written beside a synthetic quartz recording (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuartzTruth {
    /// Always "quartz".
    pub kind: String,
    /// True average rate, s/month (30 days), + = gains.
    pub rate_s_per_month: f64,
    /// True average rate, s/day.
    pub rate_s_per_day: f64,
    /// Inhibition period, seconds, or null.
    pub inhibition_period_s: Option<u32>,
    /// Inhibition correction, ppm.
    pub inhibition_ppm: f64,
    /// True time of the first inhibition correction, seconds (null without inhibition).
    pub first_inhibition_s: Option<f64>,
    /// Seconds between hand movements (1, or 2/4/5 at end of life).
    pub step_interval_s: u32,
    /// Gap between the steps of an end-of-life burst, seconds.
    pub burst_gap_s: f64,
    /// Probability of a missed step.
    pub missing_step_prob: f64,
    /// Motor stop time, true seconds, or null.
    pub stop_at_s: Option<f64>,
    /// Steps that sound in the recording.
    pub steps: usize,
    /// Steps missed (silent) within the recording.
    pub missed_steps: usize,
    /// Recorder clock error, ppm (+ = fast).
    pub recorder_ppm: f64,
    /// Signal-to-noise ratio, dB.
    pub snr_db: f64,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Length, seconds.
    pub duration_s: f64,
    /// Seed.
    pub seed: u64,
    /// The motor's sound.
    pub motor: MotorSound,
    /// How the steps sound; older truth files without it are `classic`.
    #[serde(default)]
    pub family: SoundFamily,
    /// RMS step timing jitter asked for, microseconds (zero-mean Gaussian, one offset a step).
    #[serde(default)]
    pub jitter_us: f64,
    /// RMS of the timing offsets realised on the steps that sound, microseconds.
    #[serde(default)]
    pub jitter_realised_rms_us: f64,
    /// Fault: clipping level, fraction of the clean peak, or null.
    #[serde(default)]
    pub clip_level: Option<f64>,
    /// Fault: the weak stretch, or null.
    #[serde(default)]
    pub weak_stretch: Option<WeakStretch>,
    /// Fault: the noise gap, or null.
    #[serde(default)]
    pub noise_gap: Option<Span>,
}

/// One motor step of the synthetic recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthStep {
    /// Start of the click on the recorder's timeline (sample index / nominal rate), seconds.
    pub t_recorder_s: f64,
    /// True time of the step, seconds.
    pub t_true_s: f64,
    /// Polarity class (0 even, 1 odd).
    pub class: u8,
    /// Level factor of this step (a weak stretch's level included).
    pub level: f64,
    /// Timing jitter of this step, seconds (already in `t_true_s` and `t_recorder_s`).
    pub jitter_s: f64,
}
