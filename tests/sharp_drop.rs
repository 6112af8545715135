//! A watch whose drop is a sharp click far louder than its unlock: a faint cluster of ringing
//! at the unlock (6% of the drop's peak), a faint rattle between, and a drop that is a 20 us
//! pulse. This is how another project's synthesiser builds its beats, and how a watch close to
//! a contact pickup can sound; built here from a model of its own (not that project's code), so
//! the test does not depend on ../shared.

use tickproof::measurement::{analyze_source, AnalysisConfig, Kind};
use tickproof::source::memory::MemorySource;
use tickproof::synth::rng::Rng;

const FS: u32 = 48_000;
const LIFT_DEG: f64 = 52.0;

/// Adds a damped sine (linear attack over 0.1 ms) starting at `t0` seconds.
fn ring(x: &mut [f32], t0: f64, gain: f64, hz: f64, tau_ms: f64) {
    let i0 = (t0 * FS as f64).ceil() as usize;
    for (i, v) in x.iter_mut().enumerate().skip(i0).take(FS as usize / 100) {
        let t = i as f64 / FS as f64 - t0;
        let attack = (t / 1e-4).min(1.0);
        *v += (gain * attack * (-t * 1e3 / tau_ms).exp() * (std::f64::consts::TAU * hz * t).sin()) as f32;
    }
}

/// Adds a Gaussian pulse (sigma 20 us) centred at `t0`.
fn pulse(x: &mut [f32], t0: f64, gain: f64) {
    let c = (t0 * FS as f64) as usize;
    for (i, v) in x.iter_mut().enumerate().take(c + 20).skip(c.saturating_sub(20)) {
        let t = i as f64 / FS as f64 - t0;
        *v += (gain * (-0.5 * (t / 20e-6).powi(2)).exp()) as f32;
    }
}

/// 20 s at `bph` with the beat error `be_ms` and the amplitude `amp_deg` (lift 52 deg).
fn watch(bph: f64, be_ms: f64, amp_deg: f64, seed: u64) -> Vec<f32> {
    let beat_s = 3600.0 / bph;
    let t_ud = 2.0 * beat_s / std::f64::consts::PI * (LIFT_DEG / (2.0 * amp_deg)).asin();
    let mut x = vec![0.0f32; 20 * FS as usize];
    let mut rng = Rng::new(seed);
    for v in x.iter_mut() {
        *v = (0.002 * rng.gauss()) as f32;
    }
    for k in 0.. {
        let t = 0.05 + k as f64 * beat_s + if k % 2 == 1 { be_ms * 1e-3 } else { 0.0 };
        if t + 0.03 > 20.0 {
            break;
        }
        let sign = if k % 2 == 0 { 1.0 } else { -0.94 };
        ring(&mut x, t, 0.06 * sign, 2_400.0, 0.8);
        ring(&mut x, t + 0.0003, 0.05 * sign, 4_300.0, 0.6);
        ring(&mut x, t + 0.0022, 0.04 * sign, 5_500.0, 0.7);
        pulse(&mut x, t + t_ud, 1.0 * sign);
        ring(&mut x, t + t_ud + 0.0007, 0.04 * sign, 9_000.0, 0.6);
    }
    x
}

#[test]
fn a_faint_unlock_before_a_sharp_loud_drop_gives_the_beat_error_and_amplitude() {
    for (bph, be_ms, amp_deg, seed) in
        [(21_600.0, 0.0, 270.0, 1), (28_800.0, 0.4, 240.0, 2), (18_000.0, 1.5, 300.0, 3)]
    {
        let cfg = AnalysisConfig { lift_angle_deg: LIFT_DEG, ..AnalysisConfig::default() };
        let m = analyze_source(Box::new(MemorySource::new(watch(bph, be_ms, amp_deg, seed), FS, 1)), &cfg)
            .unwrap();
        let label = format!("{bph} bph, {be_ms} ms, {amp_deg} deg");
        assert_eq!(m.kind, Kind::Mechanical, "{label}: {:?}", m.reason);
        assert_eq!(m.bph, Some(bph as u32), "{label}");
        let be = m.beat_error_ms.unwrap_or_else(|| panic!("{label}: no beat error"));
        assert!((be.value - be_ms).abs() < 0.03, "{label}: beat error {be:?}");
        let amp = m.amplitude_deg.unwrap_or_else(|| panic!("{label}: no amplitude"));
        assert!((amp.value - amp_deg).abs() < 4.0, "{label}: amplitude {amp:?}");
    }
}
