//! A faint unlock in heavy noise: in the 2 s averages the amplitude is read on, the unlock can
//! sink under the noise and the next sound of the beat (the impulse) be read in its place,
//! every stretch agreeing on an amplitude too high. The average of every beat of the recording
//! still shows the unlock: the amplitude is read there, covers the truth, and is narrow enough to use.
mod harness;

use harness::{analyze, lift, row, Audio};
use tickproof::synth::rng::Rng;

const FS: u32 = 48_000;
const BPH: f64 = 28_800.0;
const LIFT_DEG: f64 = 52.0;
const AMPLITUDE_DEG: f64 = 270.0;

/// A damped 5 kHz burst of peak `a` starting at `t0` seconds, added to `x`.
fn burst(x: &mut [f32], t0: f64, a: f64, tau_s: f64, hz: f64, phase: f64) {
    let i0 = (t0 * FS as f64).ceil() as usize;
    for (k, v) in x.iter_mut().enumerate().skip(i0).take((8.0 * tau_s * FS as f64) as usize) {
        let t = k as f64 / FS as f64 - t0;
        *v += (a * (-t / tau_s).exp() * (2.0 * std::f64::consts::PI * hz * t + phase).sin()) as f32;
    }
}

/// `seconds` of a watch whose beat is a faint unlock, an impulse 1 ms later at four times its
/// level and the drop, in white noise of standard deviation `noise`.
fn faint_unlock_watch(seconds: f64, noise: f64, seed: u64) -> Audio {
    let mut rng = Rng::new(seed);
    let n = (seconds * FS as f64) as usize;
    let mut x: Vec<f32> = (0..n).map(|_| (noise * rng.gauss()) as f32).collect();
    let beat = 3600.0 / BPH;
    let t_ud = 2.0 * beat / std::f64::consts::PI * (LIFT_DEG / (2.0 * AMPLITUDE_DEG)).asin();
    let mut t = 0.05;
    while t + 0.02 < seconds {
        let ph = 2.0 * std::f64::consts::PI * rng.uniform();
        burst(&mut x, t, 0.06, 0.0003, 5_000.0, ph);
        burst(&mut x, t + 0.001, 0.25, 0.0003, 4_000.0, ph + 1.0);
        burst(&mut x, t + t_ud, 0.5, 0.0006, 3_500.0, ph + 2.0);
        t += beat;
    }
    Audio::mono(x, FS)
}

#[test]
fn an_unlock_lost_in_the_noise_of_short_averages_is_read_on_the_average_of_every_beat() {
    for (noise, seed) in [(0.0, 1), (0.02, 2), (0.035, 3), (0.05, 4), (0.06, 5), (0.07, 6)] {
        let m = analyze(&faint_unlock_watch(20.0, noise, seed), &lift(LIFT_DEG)).unwrap();
        println!("{}", row(&format!("noise {noise}"), &Ok(m.clone())));
        if let Some(a) = m.amplitude_deg {
            assert!(
                (a.value - AMPLITUDE_DEG).abs() <= a.u95,
                "noise {noise}: {:.1} ± {:.1} deg for {AMPLITUDE_DEG}",
                a.value,
                a.u95
            );
        }
        // Up to this noise the unlock stands clear in the average of every beat, so the
        // amplitude is read there, and narrowly: the 2 s stretches alone read 298 ± 33.
        if noise <= 0.05 {
            let a = m.amplitude_deg.expect("amplitude given");
            assert!(a.u95 <= 10.0, "noise {noise}: {:.1} ± {:.1} deg is not useful", a.value, a.u95);
        }
    }
}
