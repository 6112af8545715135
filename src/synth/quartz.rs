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
//! [`QuartzSynth`] renders the audio on the fly as a [`BlockSource`] (rewindable, no allocation
//! per read); the step list is computed once at construction (a few bytes per second of audio).
use serde::{Deserialize, Serialize};

use crate::measurement::{SECONDS_PER_DAY, SECONDS_PER_MONTH};
use crate::source::{AudioInfo, BlockSource, Error};
use crate::synth::rng::Rng;

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
    /// Level factor of this step.
    pub level: f64,
}

/// A synthetic quartz recording, rendered on the fly.
pub struct QuartzSynth {
    params: QuartzParams,
    info: AudioInfo,
    steps: Vec<SynthStep>,
    missed: usize,
    first_inhibition_s: Option<f64>,
    noise_sigma: f64,
    rng: Rng,
    pos: u64,
    first: usize,
    support: f64,
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

const NOISE_SALT: u64 = 0x5EED_0F_401_5E;
const CLICK_S: f64 = 0.010;

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
        if !(p.rate_s_per_month.abs() <= 100_000.0) {
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
        if !(p.recorder_ppm.abs() <= 10_000.0) {
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
        loop {
            let tk = k_of(k);
            if tk >= end_true {
                break;
            }
            if (k + burst_phase) % s == 0 {
                for j in 0..s {
                    let t = tk + j as f64 * p.burst_gap_s;
                    let stopped = p.stop_at_s.is_some_and(|ts| t >= ts);
                    let class = (pulse % 2) as u8;
                    pulse += 1;
                    let level = (1.0 + m.level_jitter * rng.gauss()).max(0.1);
                    let miss = rng.uniform() < p.missing_step_prob;
                    if stopped || t >= end_true {
                        continue;
                    }
                    if miss {
                        missed += 1;
                        continue;
                    }
                    steps.push(SynthStep { t_recorder_s: t * scale, t_true_s: t, class, level });
                }
            }
            k += 1;
        }
        let fs = p.sample_rate_hz as f64;
        let frames = (p.duration_s * fs).round() as u64;
        // Clean power: exact sum of the rendered click energies over the recording.
        let mut energy = 0.0;
        for st in &steps {
            let start = st.t_recorder_s * fs;
            let a = start.ceil() as u64;
            let b = ((start + CLICK_S * fs).ceil() as u64).min(frames);
            for n in a..b {
                let v = m.level * st.level * click_shape((n as f64 - start) / fs, st.class, m);
                energy += v * v;
            }
        }
        let power = energy / frames.max(1) as f64;
        let noise_sigma = (power / 10f64.powf(p.snr_db / 10.0)).sqrt();
        Ok(QuartzSynth {
            params: p.clone(),
            info: AudioInfo {
                sample_rate_hz: p.sample_rate_hz,
                channels: 1,
                frames: Some(frames),
                encoding: "synthetic quartz f32".into(),
            },
            steps,
            missed,
            first_inhibition_s,
            noise_sigma,
            rng: Rng::new(p.seed ^ NOISE_SALT),
            pos: 0,
            first: 0,
            support: CLICK_S * fs,
        })
    }

    /// The motor steps that sound in the recording, in time order.
    pub fn steps(&self) -> &[SynthStep] {
        &self.steps
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
            steps: self.steps.len(),
            missed_steps: self.missed,
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: p.duration_s,
            seed: p.seed,
            motor: p.motor.clone(),
        }
    }
}

/// The click of one step at `t` seconds after its start (0 outside the click).
fn click_shape(t: f64, class: u8, m: &MotorSound) -> f64 {
    if !(0.0..CLICK_S).contains(&t) {
        return 0.0;
    }
    let odd = class == 1;
    let k = if odd { m.odd_even_contrast } else { 0.0 };
    let fscale = 1.0 + 0.25 * k;
    let sign = if odd && m.odd_even_contrast >= 0.5 { -1.0 } else { 1.0 };
    let (w0, w1) = (m.mix[0] + k * (m.mix[1] - m.mix[0]), m.mix[1] + k * (m.mix[0] - m.mix[1]));
    let attack = 1.0 - (-t / 1.5e-4).exp();
    // Fade the last millisecond so the click ends at zero.
    let fade = ((CLICK_S - t) / 0.001).min(1.0);
    let tau = std::f64::consts::TAU;
    sign * attack
        * fade
        * (w0 * (-t / (m.decay_ms[0] * 1e-3)).exp() * (tau * m.freq_hz[0] * fscale * t).sin()
            + w1 * (-t / (m.decay_ms[1] * 1e-3)).exp() * (tau * m.freq_hz[1] * fscale * t).sin())
}

impl BlockSource for QuartzSynth {
    fn info(&self) -> &AudioInfo {
        &self.info
    }

    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let total = self.info.frames.unwrap_or(0);
        let n = (out.len() as u64).min(total - self.pos) as usize;
        let fs = self.params.sample_rate_hz as f64;
        let m = &self.params.motor;
        for (i, o) in out[..n].iter_mut().enumerate() {
            let s = (self.pos + i as u64) as f64;
            while self.first < self.steps.len() && self.steps[self.first].t_recorder_s * fs + self.support < s
            {
                self.first += 1;
            }
            let mut v = 0.0;
            for st in &self.steps[self.first..] {
                let start = st.t_recorder_s * fs;
                if start > s {
                    break;
                }
                v += m.level * st.level * click_shape((s - start) / fs, st.class, m);
            }
            v += self.noise_sigma * self.rng.gauss();
            *o = v.clamp(-1.0, 1.0) as f32;
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn rewind(&mut self) -> Result<(), Error> {
        self.pos = 0;
        self.first = 0;
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
