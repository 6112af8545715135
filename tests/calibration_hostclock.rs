//! The host-clock method driven by synthetic timestamps: a recorder of known clock error, a
//! host clock of known offset, callbacks delayed by scheduling jitter. No sleeping.
use tickproof::calibration::{host_clock_sync, HostClockConfig, HostClockEstimator, HostSync};
use tickproof::synth::rng::Rng;

struct Run {
    ppm: f64,
    fs: u32,
    seconds: f64,
    frames_per_callback: u64,
    host_offset_s: f64,
    /// Mean of the exponential scheduling delay, seconds.
    delay_mean_s: f64,
    /// Probability of a long stall (20-80 ms).
    stall_p: f64,
    /// Slowly varying extra latency (AR(1) over callbacks), seconds RMS.
    wander_s: f64,
}

impl Run {
    fn drive(&self, est: &mut HostClockEstimator, seed: u64) {
        let mut rng = Rng::new(seed);
        let true_fs = self.fs as f64 * (1.0 + self.ppm * 1e-6);
        let mut frames = 0u64;
        let mut wander = 0.0;
        // Latency wander with a 10 s correlation time.
        let a = (-(self.frames_per_callback as f64 / self.fs as f64) / 10.0).exp();
        while (frames as f64) < self.seconds * true_fs {
            frames += self.frames_per_callback;
            let t_true = frames as f64 / true_fs; // when the last frame of the buffer arrived
            wander = a * wander + (1.0 - a * a).sqrt() * self.wander_s * rng.gauss();
            let mut delay = -self.delay_mean_s * (1.0 - rng.uniform()).ln() + wander.abs();
            if rng.uniform() < self.stall_p {
                delay += rng.range(0.02, 0.08);
            }
            est.push(self.host_offset_s + t_true + delay, frames);
        }
    }
}

fn base(ppm: f64) -> Run {
    Run {
        ppm,
        fs: 48_000,
        seconds: 1800.0,
        frames_per_callback: 512,
        host_offset_s: 1.79e9,
        delay_mean_s: 0.002,
        stall_p: 0.01,
        wander_s: 0.0005,
    }
}

const FIT_ONLY: HostClockConfig = HostClockConfig { window_s: 1.0, host_offset_u95_s: 0.0 };

#[test]
fn host_clock_recovers_recorder_error_from_jittery_timestamps() {
    for (k, ppm) in [-150.0, -12.3, 0.0, 45.6, 150.0].into_iter().enumerate() {
        let run = base(ppm);
        let mut est = HostClockEstimator::new(run.fs, FIT_ONLY);
        run.drive(&mut est, 100 + k as u64);
        let r = est.report().unwrap();
        let err = r.recorder_ppm.value - ppm;
        // Coverage is tested over 200 seeds below; here the size of the error and of the u95.
        assert!(err.abs() <= 2.0 * r.recorder_ppm.u95, "ppm {ppm}: {r:?}");
        assert!(err.abs() < 0.1 && r.recorder_ppm.u95 < 0.2, "ppm {ppm}: error {err} {r:?}");
        assert!((r.duration_s - 1800.0).abs() < 1.0);
    }
}

#[test]
fn host_clock_u95_covers_truth_in_90_to_98_percent_of_seeds() {
    let seeds = 200;
    let mut covered = 0;
    let mut rng = Rng::new(9);
    for seed in 0..seeds {
        let mut run = base(rng.range(-150.0, 150.0));
        run.seconds = 600.0;
        run.frames_per_callback = [256, 512, 1024, 4800][seed as usize % 4];
        run.delay_mean_s = rng.range(0.0002, 0.01);
        run.wander_s = rng.range(0.0, 0.003);
        let mut est = HostClockEstimator::new(run.fs, FIT_ONLY);
        run.drive(&mut est, 7000 + seed);
        covered += est.estimate().unwrap().covers(run.ppm) as usize;
    }
    let c = covered as f64 / seeds as f64;
    eprintln!("host clock coverage {c:.3} over {seeds} seeds");
    assert!((0.90..=0.98).contains(&c), "coverage {c}");
}

#[test]
fn host_offset_uncertainty_enters_the_u95() {
    let run = base(30.0);
    let mut est = HostClockEstimator::new(run.fs, HostClockConfig::default());
    run.drive(&mut est, 1);
    let r = est.report().unwrap();
    let host_term = 2.0 * 0.005 / r.duration_s * 1e6;
    assert!(r.recorder_ppm.u95 >= host_term && r.recorder_ppm.u95 > r.fit_u95_ppm, "{r:?}");
    assert!(r.recorder_ppm.covers(30.0));
}

#[test]
fn host_clock_steps_and_lost_frames_are_taken_out() {
    let mut est = HostClockEstimator::new(48_000, FIT_ONLY);
    let true_fs = 48_000.0 * (1.0 + 20e-6);
    let (mut frames, mut lost, mut step) = (0u64, 0u64, 0.0);
    let mut rng = Rng::new(5);
    let mut n = 0;
    while frames < (600.0 * true_fs) as u64 {
        frames += 480;
        n += 1;
        if n == 20_000 {
            step -= 5.0; // NTP steps the clock back 5 s
        }
        if n == 40_000 {
            step += 0.3; // and forward 0.3 s
        }
        if n == 50_000 {
            // An overrun: half a second of frames captured but never delivered.
            frames += 24_000;
            lost += 24_000;
        }
        let t = frames as f64 / true_fs + step - 0.0005 * (1.0 - rng.uniform()).ln();
        est.push(t, frames - lost);
    }
    est.push(f64::NAN, frames + 1);
    est.push(1.0, 0);
    let r = est.report().unwrap();
    assert_eq!((r.readings_ignored, r.steps_removed), (2, 3), "{r:?}");
    assert!(r.recorder_ppm.covers(20.0) && r.recorder_ppm.u95 < 0.05, "{r:?}");
}

#[test]
fn host_clock_needs_several_windows_before_an_estimate() {
    let mut est = HostClockEstimator::new(48_000, FIT_ONLY);
    assert_eq!(est.estimate(), None);
    for k in 1..=100u64 {
        est.push(k as f64 * 0.01, k * 480);
    }
    assert_eq!(est.estimate(), None, "one second is one window");
}

#[test]
fn host_sync_status_is_one_of_the_three_states() {
    let s = host_clock_sync();
    assert!(matches!(s.state, HostSync::Synchronised | HostSync::NotSynchronised | HostSync::Unknown));
    assert!(!s.detail.contains('\n') || s.source == "timedatectl", "{s:?}");
}
