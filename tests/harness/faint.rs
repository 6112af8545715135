//! A 28,800 bph watch whose beat is a faint unlock, an impulse 1 ms later at four times its
//! level and the drop, in white noise: the recording behind the faint-unlock amplitude test and
//! the kind-confusion scan (a dense, noisy beat train that must never read as quartz).
use super::Audio;
use tickproof::synth::rng::Rng;

/// Sample rate of the recording, Hz.
pub const FS: u32 = 48_000;
/// Beat rate of the watch.
pub const BPH: f64 = 28_800.0;
/// Lift angle of the watch, degrees.
pub const LIFT_DEG: f64 = 52.0;
/// True amplitude of the watch, degrees.
pub const AMPLITUDE_DEG: f64 = 270.0;

/// A damped burst at `hz` of peak `a` starting at `t0` seconds, added to `x`.
fn burst(x: &mut [f32], t0: f64, a: f64, tau_s: f64, hz: f64, phase: f64) {
    let i0 = (t0 * FS as f64).ceil() as usize;
    for (k, v) in x.iter_mut().enumerate().skip(i0).take((8.0 * tau_s * FS as f64) as usize) {
        let t = k as f64 / FS as f64 - t0;
        *v += (a * (-t / tau_s).exp() * (2.0 * std::f64::consts::PI * hz * t + phase).sin()) as f32;
    }
}

/// `seconds` of the watch, in white noise of standard deviation `noise`, seeded by `seed`.
pub fn faint_unlock_watch(seconds: f64, noise: f64, seed: u64) -> Audio {
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
