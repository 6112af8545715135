//! The tick method against synthetic recordings of a known recorder error.
//!
//! Clicks of a reference with true period `P` (a damped 3 kHz ring with a smooth onset) are
//! rendered at the recorder's sample instants `n / (fs (1 + ppm 1e-6))`, with white noise,
//! reference jitter (white and slowly wandering), optional knocks between ticks, missing ticks
//! and alternating step sounds, streamed block by block.
use std::f64::consts::PI;
use std::path::Path;
use tickproof::calibration::{measure_ticks, CalibrationError, TickConfig};
use tickproof::source::{AudioInfo, BlockSource, Error};
use tickproof::synth::rng::Rng;

#[derive(Clone)]
struct Ticks {
    period_s: f64,
    ppm: f64,
    amp: f64,
    noise: f64,
    /// White jitter of the reference's ticks, seconds RMS.
    jitter_s: f64,
    /// Wandering jitter (AR(1), 5 s correlation time), seconds RMS.
    wander_s: f64,
    /// Probability that a tick is missing.
    missing_p: f64,
    /// Probability of a knock somewhere between two ticks.
    knock_p: f64,
    /// Odd ticks sound different (a quartz motor's alternating polarity).
    alternate: bool,
}

struct TickSource {
    t: Ticks,
    info: AudioInfo,
    seed: u64,
    rng: Rng,
    n: u64,
    k: i64,
    tick_at: f64,
    tick_amp: f64,
    tick_sign: f64,
    knock_at: f64,
    wander: f64,
}

const T0: f64 = 0.37;
const CLICK_S: f64 = 0.012;

impl TickSource {
    fn new(t: Ticks, fs: u32, seconds: f64, seed: u64) -> Self {
        let info = AudioInfo {
            sample_rate_hz: fs,
            channels: 1,
            frames: Some((seconds * fs as f64) as u64),
            encoding: "synthetic ticks".into(),
        };
        let rng = Rng::new(seed);
        let mut s = TickSource {
            t,
            info,
            seed,
            rng,
            n: 0,
            k: -1,
            tick_at: f64::NEG_INFINITY,
            tick_amp: 0.0,
            tick_sign: 1.0,
            knock_at: f64::NEG_INFINITY,
            wander: 0.0,
        };
        s.advance();
        s
    }
    /// Moves to the next tick: its true time, amplitude, and maybe a knock after it.
    fn advance(&mut self) {
        self.k += 1;
        let a = (-self.t.period_s / 5.0).exp();
        self.wander = a * self.wander + (1.0 - a * a).sqrt() * self.t.wander_s * self.rng.gauss();
        self.tick_at =
            T0 + self.k as f64 * self.t.period_s + self.t.jitter_s * self.rng.gauss() + self.wander;
        self.tick_amp =
            if self.rng.uniform() < self.t.missing_p { 0.0 } else { self.t.amp * self.rng.range(0.8, 1.2) };
        self.tick_sign = if self.t.alternate && self.k % 2 == 1 { -1.0 } else { 1.0 };
        self.knock_at = if self.rng.uniform() < self.t.knock_p {
            self.tick_at + self.rng.range(0.2, 0.8) * self.t.period_s
        } else {
            f64::NEG_INFINITY
        };
    }
}

fn click(tau: f64, f_hz: f64) -> f64 {
    if !(0.0..CLICK_S).contains(&tau) {
        return 0.0;
    }
    let onset = 1.0 - (-tau / 0.0002).exp();
    onset * onset * (-tau / 0.0015).exp() * (2.0 * PI * f_hz * tau).sin()
}

impl BlockSource for TickSource {
    fn info(&self) -> &AudioInfo {
        &self.info
    }
    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let total = self.info.frames.unwrap();
        let frames = out.len().min((total - self.n) as usize);
        let fs_true = self.info.sample_rate_hz as f64 * (1.0 + self.t.ppm * 1e-6);
        for (i, o) in out[..frames].iter_mut().enumerate() {
            let t = (self.n + i as u64) as f64 / fs_true;
            // The next tick begins before this one has rung out only if the period is tiny.
            while t >= self.tick_at + self.t.period_s * 0.5 + CLICK_S {
                self.advance();
            }
            let mut s =
                self.tick_amp * click(t - self.tick_at, if self.tick_sign > 0.0 { 3000.0 } else { 2400.0 });
            s *= self.tick_sign;
            s += 2.0 * self.t.amp * click(t - self.knock_at, 900.0);
            *o = (s + self.t.noise * self.rng.gauss()) as f32;
        }
        self.n += frames as u64;
        Ok(frames)
    }
    fn rewind(&mut self) -> Result<(), Error> {
        let secs = self.info.frames.unwrap() as f64 / self.info.sample_rate_hz as f64;
        *self = TickSource::new(self.t.clone(), self.info.sample_rate_hz, secs, self.seed);
        Ok(())
    }
}

fn ticks(ppm: f64) -> Ticks {
    Ticks {
        period_s: 1.0,
        ppm,
        amp: 0.5,
        noise: 0.02,
        jitter_s: 20e-6,
        wander_s: 0.0,
        missing_p: 0.0,
        knock_p: 0.0,
        alternate: false,
    }
}

const NAME: &str = "synthetic-ticks.wav";

fn measure(
    t: &Ticks,
    fs: u32,
    seconds: f64,
    seed: u64,
) -> Result<tickproof::calibration::TickCalibration, CalibrationError> {
    let mut src = TickSource::new(t.clone(), fs, seconds, seed);
    measure_ticks(&mut src, Path::new(NAME), &TickConfig::new(t.period_s))
}

#[test]
fn ticks_recover_recorder_error_within_0_2_ppm_from_10_minutes() {
    let mut worst: f64 = 0.0;
    for (k, (ppm, fs)) in [(-150.0, 22_050), (-61.7, 44_100), (0.0, 22_050), (80.0, 22_050), (150.0, 22_050)]
        .into_iter()
        .enumerate()
    {
        let r = measure(&ticks(ppm), fs, 600.0, 31 + k as u64).unwrap();
        let err = r.recorder_ppm.value - ppm;
        worst = worst.max(err.abs());
        assert!(err.abs() <= 0.2, "ppm {ppm}: {r:?}");
        assert!(r.recorder_ppm.u95 < 0.2 && r.ticks_used >= 595, "{r:?}");
    }
    eprintln!("ticks, 10 min: worst error {worst:.4} ppm");
}

#[test]
fn ticks_recover_recorder_error_within_0_05_ppm_from_one_hour() {
    let mut t = ticks(-123.4);
    t.jitter_s = 50e-6;
    t.knock_p = 0.01;
    t.missing_p = 0.01;
    let r = measure(&t, 22_050, 3600.0, 77).unwrap();
    let err = r.recorder_ppm.value - t.ppm;
    eprintln!("ticks, 1 h: error {err:+.5} ppm, u95 {:.5} ppm", r.recorder_ppm.u95);
    assert!(err.abs() <= 0.05 && r.recorder_ppm.u95 < 0.05, "{r:?}");
}

#[test]
fn ticks_u95_covers_truth_in_90_to_98_percent_of_seeds() {
    let seeds = 200;
    let mut covered = 0;
    let mut rng = Rng::new(99);
    let mut worst: f64 = 0.0;
    for seed in 0..seeds {
        let mut t = ticks(rng.range(-150.0, 150.0));
        t.noise = t.amp * 10f64.powf(-rng.range(20.0, 40.0) / 20.0);
        t.jitter_s = rng.range(0.0, 200e-6);
        t.wander_s = rng.range(0.0, 200e-6);
        t.alternate = seed % 3 == 0;
        t.knock_p = if seed % 4 == 1 { 0.03 } else { 0.0 };
        let r = measure(&t, 22_050, 120.0, 3000 + seed).unwrap();
        worst = worst.max((r.recorder_ppm.value - t.ppm).abs() / r.recorder_ppm.u95);
        if !r.recorder_ppm.covers(t.ppm) {
            eprintln!(
                "miss: noise {:.4} jitter {:.0} us wander {:.0} us alt {} knocks {}: error {:+.4} u95 {:.4} rms {:.1} us lag1 {:.2}",
                t.noise, t.jitter_s * 1e6, t.wander_s * 1e6, t.alternate, t.knock_p, r.recorder_ppm.value - t.ppm,
                r.recorder_ppm.u95, r.residual_rms_s * 1e6, r.lag1_correlation
            );
        }
        covered += r.recorder_ppm.covers(t.ppm) as usize;
    }
    let c = covered as f64 / seeds as f64;
    eprintln!("ticks coverage {c:.3} over {seeds} seeds (worst error {worst:.2} u95)");
    assert!((0.90..=0.98).contains(&c), "coverage {c}");
}

#[test]
fn alternating_quartz_steps_with_knocks_and_gaps_measure() {
    let mut t = ticks(55.5);
    t.alternate = true;
    t.knock_p = 0.05;
    t.missing_p = 0.03;
    let r = measure(&t, 22_050, 300.0, 12).unwrap();
    assert!((r.recorder_ppm.value - 55.5).abs() < 0.5 && r.recorder_ppm.u95 < 0.5, "{r:?}");
    assert!(r.ticks_rejected > 0, "{r:?}");
}

#[test]
fn a_two_second_reference_is_timed_by_its_stated_period() {
    let mut t = ticks(-20.0);
    t.period_s = 2.0;
    let r = measure(&t, 22_050, 300.0, 13).unwrap();
    assert!((r.recorder_ppm.value + 20.0).abs() < 0.5, "{r:?}");
    assert!((r.apparent_period_s.value - 2.0 * (1.0 - 20e-6)).abs() < 1e-6);
}

#[test]
fn wrong_stated_period_is_refused_with_the_period_heard() {
    let mut t = ticks(0.0);
    t.period_s = 1.0;
    let mut src = TickSource::new(t, 22_050, 60.0, 14);
    let e = measure_ticks(&mut src, Path::new(NAME), &TickConfig::new(1.01)).unwrap_err();
    assert!(e.to_string().contains("wrong --period-s"), "{e}");
}

#[test]
fn noise_without_ticks_is_no_reference() {
    let mut t = ticks(0.0);
    t.amp = 0.0;
    t.noise = 0.05;
    let e = measure(&t, 22_050, 30.0, 15).unwrap_err();
    assert!(matches!(e, CalibrationError::NoReference { .. } | CalibrationError::Insufficient { .. }), "{e}");
    assert!(e.to_string().starts_with(NAME), "{e}");
}

#[test]
fn a_few_ticks_are_insufficient() {
    let e = measure(&ticks(0.0), 22_050, 5.0, 16).unwrap_err();
    assert!(matches!(e, CalibrationError::Insufficient { .. }), "{e}");
}

#[test]
fn period_outside_the_range_is_refused() {
    for p in [0.0, 0.01, 500.0, f64::NAN] {
        let mut src = TickSource::new(ticks(0.0), 22_050, 5.0, 17);
        let e = measure_ticks(&mut src, Path::new(NAME), &TickConfig::new(p)).unwrap_err();
        assert!(matches!(e, CalibrationError::InvalidArgument { .. }), "{p}: {e}");
    }
}
