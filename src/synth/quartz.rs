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
use serde::{Deserialize, Serialize};

use crate::measurement::{SECONDS_PER_DAY, SECONDS_PER_MONTH};
use crate::source::{AudioInfo, BlockSource, Error};
use crate::synth::family::{beat_rng, perturb_within, Sounding};
use crate::synth::resonance::{Partial, Resonance, MAX_PARTIALS};
use crate::synth::rng::Rng;
use crate::synth::{check_faults, check_range, power_and_peak, Generator, Timeline, CHUNK};
use crate::synth::{SoundFamily, Span, Voicing, WeakStretch};

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

impl QuartzSynth {
    /// Plans the recording: checks the parameters and computes every step time.
    pub fn new(params: &QuartzParams) -> Result<Self, ParamError> {
        let p = params;
        let bad = |s: &str| Err(ParamError(s.to_string()));
        if !(8000..=384_000).contains(&p.sample_rate_hz) {
            return bad("sample_rate_hz must be 8000..384000");
        }
        if !(p.duration_s > 0.0 && p.duration_s <= 24.0 * 3600.0) {
            return bad("duration_s must be in (0, 86400]");
        }
        if p.rate_s_per_month.is_nan() || p.rate_s_per_month.abs() > 100_000.0 {
            return bad("rate_s_per_month must be within +-100000");
        }
        if !(0.0..=10_000.0).contains(&p.inhibition_ppm) {
            return bad("inhibition_ppm must be 0..10000");
        }
        if p.inhibition_period_s == Some(0) {
            return bad("inhibition_period_s must be positive (or null)");
        }
        if !(1..=60).contains(&p.step_interval_s) {
            return bad("step_interval_s must be 1..60");
        }
        if !(p.burst_gap_s >= 0.02 && p.burst_gap_s * p.step_interval_s as f64 <= 0.5) {
            return bad("burst_gap_s must be at least 0.02 s and a burst at most 0.5 s long");
        }
        if !(0.0..=1.0).contains(&p.missing_step_prob) {
            return bad("missing_step_prob must be 0..1");
        }
        if !(p.snr_db.is_finite() && p.snr_db > -30.0 && p.snr_db < 200.0) {
            return bad("snr_db must be within -30..200");
        }
        if p.recorder_ppm.is_nan() || p.recorder_ppm.abs() > 10_000.0 {
            return bad("recorder_ppm must be within +-10000");
        }
        let m = &p.motor;
        if !(m.freq_hz.iter().all(|&f| f > 0.0 && f < 0.45 * p.sample_rate_hz as f64)
            && m.decay_ms.iter().all(|&d| d > 0.01 && d < 3.0)
            && m.level > 0.0
            && m.level <= 1.0)
        {
            return bad("motor resonances must lie below 0.45 fs, decay 0.01..3 ms, level in (0, 1]");
        }
        check_range("--jitter-us", p.jitter_us, 0.0, 1000.0)
            .and_then(|()| check_faults(p.clip_level, p.weak_stretch, p.noise_gap, p.duration_s))
            .map_err(|e| ParamError(e.to_string()))?;

        let mut rng = Rng::new(p.seed);
        let r = p.rate_s_per_month / SECONDS_PER_MONTH;
        let (d, c, period) = match p.inhibition_period_s {
            Some(per) => {
                (1.0 / (1.0 + r) - p.inhibition_ppm * 1e-6, per as f64 * p.inhibition_ppm * 1e-6, per as i64)
            }
            None => (1.0 / (1.0 + r), 0.0, 0),
        };
        let t0 = rng.range(0.2, 1.2);
        let phase = if period > 0 { (rng.uniform() * period as f64) as i64 } else { 0 };
        let s = p.step_interval_s as i64;
        let burst_phase = (rng.uniform() * s as f64) as i64;
        let k_of = |k: i64| -> f64 {
            let jumps =
                if period > 0 { (k + phase).div_euclid(period) - phase.div_euclid(period) } else { 0 };
            t0 + k as f64 * d + c * jumps as f64
        };
        let first_inhibition_s = (period > 0).then(|| {
            let k = (1..=period).find(|k| (k + phase) % period == 0).unwrap_or(period);
            k_of(k)
        });
        let scale = 1.0 + p.recorder_ppm * 1e-6; // true seconds -> recorder seconds
        let end_true = p.duration_s / scale;
        let mut steps = Vec::with_capacity((p.duration_s * 1.1) as usize + 16);
        let mut missed = 0;
        let mut pulse = 0u64;
        let mut k = 0i64;
        let mut jitter = Rng::new(p.seed ^ JITTER_SALT);
        loop {
            let tk = k_of(k);
            if tk >= end_true {
                break;
            }
            if (k + burst_phase) % s == 0 {
                for j in 0..s {
                    let t_model = tk + j as f64 * p.burst_gap_s;
                    let stopped = p.stop_at_s.is_some_and(|ts| t_model >= ts);
                    let class = (pulse % 2) as u8;
                    pulse += 1;
                    let level = (1.0 + m.level_jitter * rng.gauss()).max(0.1);
                    let miss = rng.uniform() < p.missing_step_prob;
                    // One draw for every step, so the offsets do not depend on the other settings.
                    let jitter_s = p.jitter_us * 1e-6 * jitter.gauss();
                    let t = t_model + jitter_s;
                    if stopped || t >= end_true {
                        continue;
                    }
                    if miss {
                        missed += 1;
                        continue;
                    }
                    steps.push(SynthStep { t_recorder_s: t * scale, t_true_s: t, class, level, jitter_s });
                }
            }
            k += 1;
        }
        if let Some(w) = p.weak_stretch {
            for st in steps.iter_mut().filter(|st| st.t_recorder_s >= w.start_s && st.t_recorder_s < w.end_s)
            {
                st.level *= w.level;
            }
        }
        let fs = p.sample_rate_hz as f64;
        let frames = (p.duration_s * fs).round() as u64;
        let gap = p.noise_gap.map(|g| ((g.start_s * fs).ceil() as u64, (g.end_s * fs).ceil() as u64));
        let timeline = Timeline::new(p.sample_rate_hz, p.recorder_ppm, frames);
        let family = (!p.family.is_classic()).then(|| {
            let voicing = Voicing::draw(p.family, p.seed, ATTACK_MS, [1.0; 3]);
            FamilySound {
                sounding: Sounding::new(&voicing, timeline, gap, CHUNK),
                base: [motor_resonance(m, 0), motor_resonance(m, 1)],
                voicing,
                seed: p.seed,
                max_freq_hz: 0.45 * fs,
            }
        });
        let mut motor = Motor { steps, sound: m.clone(), fs, gap, next: 0, family };
        let mut scratch = vec![0.0; CHUNK];
        let (power, clean_peak, gain) = if motor.family.is_none() {
            // Clean power: exact sum of the rendered click energies over the recording.
            let mut energy = 0.0;
            let mut peak = 0.0f64;
            for st in &motor.steps {
                let start = st.t_recorder_s * fs;
                let a = start.ceil() as u64;
                let b = ((start + CLICK_S * fs).ceil() as u64).min(frames);
                for n in (a..b).filter(|&n| !in_gap(gap, n)) {
                    let v = m.level * st.level * click_shape((n as f64 - start) / fs, st.class, m);
                    energy += v * v;
                    peak = peak.max(v.abs());
                }
            }
            (energy / frames.max(1) as f64, peak, 1.0)
        } else {
            let (power, peak) = power_and_peak(&mut motor, frames, &mut scratch);
            let gain = if peak > 0.0 { m.level / peak } else { 1.0 };
            (power * gain * gain, peak * gain, gain)
        };
        let noise_sigma = (power / 10f64.powf(p.snr_db / 10.0)).sqrt();
        Ok(QuartzSynth {
            params: p.clone(),
            info: AudioInfo {
                sample_rate_hz: p.sample_rate_hz,
                channels: 1,
                frames: Some(frames),
                encoding: "synthetic quartz f32".into(),
            },
            motor,
            missed,
            first_inhibition_s,
            noise_sigma,
            rng: Rng::new(p.seed ^ NOISE_SALT),
            pos: 0,
            gain,
            clean_peak,
            clip_limit: p.clip_level.map_or(f64::INFINITY, |c| c * clean_peak),
            clipped: 0,
            scratch,
        })
    }

    /// Largest sample of the clean watch sound as scaled, before noise and clipping.
    pub fn clean_peak(&self) -> f64 {
        self.clean_peak
    }

    /// The per-recording sound choices of the family (`None` for classic).
    pub fn voicing(&self) -> Option<&Voicing> {
        self.motor.family.as_ref().map(|f| &f.voicing)
    }

    /// Samples clamped to [-1, 1] so far (since the last rewind).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// The motor steps that sound in the recording, in time order.
    pub fn steps(&self) -> &[SynthStep] {
        &self.motor.steps
    }

    /// The truth to write beside the recording.
    pub fn truth(&self) -> QuartzTruth {
        let p = &self.params;
        QuartzTruth {
            kind: "quartz".into(),
            rate_s_per_month: p.rate_s_per_month,
            rate_s_per_day: p.rate_s_per_month * SECONDS_PER_DAY / SECONDS_PER_MONTH,
            inhibition_period_s: p.inhibition_period_s,
            inhibition_ppm: if p.inhibition_period_s.is_some() { p.inhibition_ppm } else { 0.0 },
            first_inhibition_s: self.first_inhibition_s,
            step_interval_s: p.step_interval_s,
            burst_gap_s: p.burst_gap_s,
            missing_step_prob: p.missing_step_prob,
            stop_at_s: p.stop_at_s,
            steps: self.motor.steps.len(),
            missed_steps: self.missed,
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: p.duration_s,
            seed: p.seed,
            motor: p.motor.clone(),
            family: p.family,
            jitter_us: p.jitter_us,
            jitter_realised_rms_us: {
                let steps = &self.motor.steps;
                let ss: f64 = steps.iter().map(|st| st.jitter_s * st.jitter_s).sum();
                (ss / steps.len().max(1) as f64).sqrt() * 1e6
            },
            clip_level: p.clip_level,
            weak_stretch: p.weak_stretch,
            noise_gap: p.noise_gap,
        }
    }
}

/// How a step of `class` differs from an even one: (frequency scale, sign, mix of the two
/// resonances).
fn class_voicing(m: &MotorSound, class: u8) -> (f64, f64, [f64; 2]) {
    let odd = class == 1;
    let k = if odd { m.odd_even_contrast } else { 0.0 };
    let fscale = 1.0 + 0.25 * k;
    let sign = if odd && m.odd_even_contrast >= 0.5 { -1.0 } else { 1.0 };
    let (w0, w1) = (m.mix[0] + k * (m.mix[1] - m.mix[0]), m.mix[1] + k * (m.mix[0] - m.mix[1]));
    (fscale, sign, [w0, w1])
}

/// The click of one step at `t` seconds after its start (0 outside the click): the classic
/// family.
fn click_shape(t: f64, class: u8, m: &MotorSound) -> f64 {
    if !(0.0..CLICK_S).contains(&t) {
        return 0.0;
    }
    let (fscale, sign, [w0, w1]) = class_voicing(m, class);
    let attack = 1.0 - (-t / 1.5e-4).exp();
    // Fade the last millisecond so the click ends at zero.
    let fade = ((CLICK_S - t) / 0.001).min(1.0);
    let tau = std::f64::consts::TAU;
    sign * attack
        * fade
        * (w0 * (-t / (m.decay_ms[0] * 1e-3)).exp() * (tau * m.freq_hz[0] * fscale * t).sin()
            + w1 * (-t / (m.decay_ms[1] * 1e-3)).exp() * (tau * m.freq_hz[1] * fscale * t).sin())
}

/// The motor's two resonances for a step of `class`, as the other families render them.
fn motor_resonance(m: &MotorSound, class: u8) -> Resonance {
    let (fscale, sign, w) = class_voicing(m, class);
    let phase_rad = if sign < 0.0 { std::f64::consts::PI } else { 0.0 };
    let mut partials = [Partial { freq_hz: 1000.0, gain: 0.0, decay_ms: 0.1, phase_rad: 0.0 }; MAX_PARTIALS];
    for (i, p) in partials.iter_mut().take(2).enumerate() {
        *p = Partial { freq_hz: m.freq_hz[i] * fscale, gain: w[i], decay_ms: m.decay_ms[i], phase_rad };
    }
    Resonance { partials, count: 2, attack_ms: ATTACK_MS }
}

fn in_gap(gap: Option<(u64, u64)>, n: u64) -> bool {
    gap.is_some_and(|(a, b)| n >= a && n < b)
}

/// What the families other than classic need to render the steps.
struct FamilySound {
    voicing: Voicing,
    /// The motor's resonances, even and odd step.
    base: [Resonance; 2],
    seed: u64,
    max_freq_hz: f64,
    sounding: Sounding,
}

/// The clean sound of the motor steps (no noise), any family.
struct Motor {
    steps: Vec<SynthStep>,
    sound: MotorSound,
    fs: f64,
    /// The noise gap, sample indices `[from, to)`.
    gap: Option<(u64, u64)>,
    /// Classic: the first step that may still sound; other families: the next step to start.
    next: usize,
    /// `None` for classic.
    family: Option<FamilySound>,
}

impl Generator for Motor {
    fn reset(&mut self) {
        self.next = 0;
        if let Some(f) = &mut self.family {
            f.sounding.reset();
        }
    }

    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]) {
        let Motor { steps, sound: m, fs, gap, next, family } = self;
        let fs = *fs;
        let Some(f) = family else {
            // Classic: the closed-form clicks, sample by sample.
            let support = CLICK_S * fs;
            for (i, o) in out.iter_mut().enumerate() {
                let n = start + i as u64;
                let s = n as f64;
                while *next < steps.len() && steps[*next].t_recorder_s * fs + support < s {
                    *next += 1;
                }
                let mut v = 0.0;
                if !in_gap(*gap, n) {
                    for st in &steps[*next..] {
                        let start = st.t_recorder_s * fs;
                        if start > s {
                            break;
                        }
                        v += m.level * st.level * click_shape((s - start) / fs, st.class, m);
                    }
                }
                *o += gain * v;
            }
            return;
        };
        let FamilySound { voicing, base, seed, max_freq_hz, sounding } = f;
        sounding.render_add(start, gain, out, |snd, end| {
            while let Some(st) = steps.get(*next) {
                if snd.timeline().first_sample_at_or_after(st.t_true_s) >= end {
                    break;
                }
                let class = st.class as usize;
                let mut res = base[class];
                if voicing.family == SoundFamily::Resonant {
                    let mut r = beat_rng(*seed, *next as u64);
                    perturb_within(&mut res, &mut r, (20.0, *max_freq_hz), (0.01, 3.0));
                }
                snd.start(&res, st.level, st.t_true_s);
                if let Some(c) = &voicing.secondary {
                    let (delay_ms, g) = if class == 0 {
                        (c.after_unlock_ms, c.unlock_gain)
                    } else {
                        (c.after_drop_ms, c.drop_gain)
                    };
                    snd.start(&c.sound[class], st.level * g, st.t_true_s + delay_ms * 1e-3);
                }
                *next += 1;
            }
        });
    }
}

impl BlockSource for QuartzSynth {
    fn info(&self) -> &AudioInfo {
        &self.info
    }

    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let total = self.info.frames.unwrap_or(0);
        let n = (out.len() as u64).min(total - self.pos) as usize;
        let lim = self.clip_limit;
        let mut done = 0;
        while done < n {
            let m = (n - done).min(self.scratch.len());
            let buf = &mut self.scratch[..m];
            buf.fill(0.0);
            self.motor.render_add(self.pos + done as u64, self.gain, buf);
            for (o, x) in out[done..done + m].iter_mut().zip(buf.iter()) {
                let v = (x + self.noise_sigma * self.rng.gauss()).clamp(-lim, lim);
                self.clipped += (v.abs() > 1.0) as u64;
                *o = v.clamp(-1.0, 1.0) as f32;
            }
            done += m;
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn rewind(&mut self) -> Result<(), Error> {
        self.pos = 0;
        self.clipped = 0;
        self.motor.reset();
        self.rng = Rng::new(self.params.seed ^ NOISE_SALT);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_interval_over_periods(steps: &[SynthStep], per: usize) -> f64 {
        let k = (steps.len() - 1) / per * per;
        (steps[k].t_true_s - steps[0].t_true_s) / k as f64
    }

    #[test]
    fn whole_inhibition_periods_give_exactly_the_requested_rate() {
        for (rate, per, ppm) in [(12.0, 10u32, 7.0), (-40.0, 60, 30.0), (0.0, 20, 1.0)] {
            let p = QuartzParams {
                duration_s: 250.0,
                rate_s_per_month: rate,
                inhibition_period_s: Some(per),
                inhibition_ppm: ppm,
                snr_db: 40.0,
                ..Default::default()
            };
            let s = QuartzSynth::new(&p).unwrap();
            let mean = mean_interval_over_periods(s.steps(), per as usize);
            let got = (1.0 / mean - 1.0) * SECONDS_PER_MONTH;
            assert!((got - rate).abs() < 1e-6, "rate {got} for {rate}");
        }
    }

    #[test]
    fn rewind_replays_the_same_samples() {
        let p = QuartzParams { duration_s: 3.0, sample_rate_hz: 22_050, ..Default::default() };
        let mut s = QuartzSynth::new(&p).unwrap();
        let mut a = vec![0.0f32; 70_000];
        let mut b = vec![0.0f32; 70_000];
        let na = s.read_frames(&mut a).unwrap();
        s.rewind().unwrap();
        let nb = s.read_frames(&mut b).unwrap();
        assert_eq!(na, nb);
        assert_eq!(a, b);
    }

    #[test]
    fn end_of_life_steps_come_in_bursts() {
        let p = QuartzParams { duration_s: 21.0, step_interval_s: 4, ..Default::default() };
        let s = QuartzSynth::new(&p).unwrap();
        let st = s.steps();
        assert!(st.len() >= 16);
        let gaps: Vec<f64> = st.windows(2).map(|w| w[1].t_true_s - w[0].t_true_s).collect();
        assert!(gaps.iter().filter(|&&g| (g - 0.04).abs() < 1e-3).count() >= 12);
        assert!(gaps.iter().all(|&g| (g - 0.04).abs() < 1e-3 || (g - 3.88).abs() < 1e-3));
    }
}
