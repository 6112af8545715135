//! The beat timer follows the watch across a dropout even when the beats after it keep a
//! slightly different timing than the line before it predicts (a noise-free recording, where
//! the tolerance on timing is at its tightest).

use tickproof::measurement::{analyze_source, AnalysisConfig, Kind};
use tickproof::source::memory::MemorySource;

const FS: u32 = 48_000;
const PERIOD: usize = 8_000; // 21600 bph at 48 kHz

/// A damped sine burst added at `at`.
fn burst(x: &mut [f32], at: usize, gain: f32, hz: f32, tau_ms: f32) {
    for (i, v) in x[at..].iter_mut().take(FS as usize / 50).enumerate() {
        let t = i as f32 / FS as f32;
        *v += gain * (-t * 1000.0 / tau_ms).exp() * (std::f32::consts::TAU * hz * t).sin();
    }
}

/// 20 s of beats (unlock, then the drop 10 ms later), silent from 12.5 s to 14 s (after the first
/// stretch the beats are learnt from), and every beat
/// after the silence `step` samples later than the line of the beats before it.
fn recording(step: usize) -> (Vec<f32>, usize) {
    let mut x = vec![0.0f32; 20 * FS as usize];
    let mut beats = 0;
    for k in 0.. {
        let at = 1_000 + k * PERIOD;
        if at + FS as usize / 50 >= x.len() {
            break;
        }
        let t = at as f64 / FS as f64;
        if (12.5..14.0).contains(&t) {
            continue;
        }
        let at = if t >= 14.0 { at + step } else { at };
        burst(&mut x, at, 0.3, 3_000.0, 0.3);
        burst(&mut x, at + 480, 1.0, 5_000.0, 0.5);
        beats += 1;
    }
    (x, beats)
}

#[test]
fn beats_that_stepped_in_time_across_a_dropout_are_used_again() {
    let (x, beats) = recording(2);
    let cfg = AnalysisConfig { lift_angle_deg: 52.0, ..AnalysisConfig::default() };
    let m = analyze_source(Box::new(MemorySource::new(x, FS, 1)), &cfg).unwrap();
    assert_eq!(m.kind, Kind::Mechanical, "{:?}", m.reason);
    assert_eq!(m.bph, Some(21_600));
    // All but the few beats it takes to see that the timing stepped: not the seconds it takes to
    // give the beat line up and learn the beats anew.
    assert!(m.beats_used as usize + 10 >= beats, "{} of {beats} beats used", m.beats_used);
    let amp = m.amplitude_deg.expect("amplitude").value;
    let truth = 52.0 / (2.0 * (std::f64::consts::PI * 0.010 / (7200.0 / 21_600.0)).sin());
    assert!((amp - truth).abs() < 3.0, "amplitude {amp}, truth {truth}");
}

#[test]
fn beats_that_kept_their_timing_across_a_dropout_are_all_used() {
    let (x, beats) = recording(0);
    let cfg = AnalysisConfig { lift_angle_deg: 52.0, ..AnalysisConfig::default() };
    let m = analyze_source(Box::new(MemorySource::new(x, FS, 1)), &cfg).unwrap();
    assert_eq!(m.kind, Kind::Mechanical, "{:?}", m.reason);
    assert!(m.beats_used as usize + 2 >= beats, "{} of {beats} beats used", m.beats_used);
}
