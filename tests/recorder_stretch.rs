//! A metamorphic test of the rate on real and synthetic sounds: the same recording as a recorder
//! whose clock runs `ppm` fast (or slow) would have made it, every event `ppm` later per
//! second, must read the rate that recorder would show: `-ppm * 0.0864` s/day off, to first
//! order (exactly: the watch's rate divided by the recorder's), within the combined u95; and the
//! same beat rate, beat error and amplitude (a stretch of 200 ppm moves them by far less than
//! their u95).
mod harness;

use harness::{analyze, fig, lift, read_wav, render, row, shared_recording, Audio};
use tickproof::measurement::{Figure, Measurement};
use tickproof::synth::{MechanicalParams, SoundFamily};

const SECONDS_PER_DAY: f64 = 86_400.0;

/// The rate, s/day, that a recorder `ppm` fast shows for a watch of rate `r`: both are clock
/// rates against true time, and the recorder measures the watch against itself.
fn apparent(r: f64, ppm: f64) -> f64 {
    ((1.0 + r / SECONDS_PER_DAY) / (1.0 + ppm * 1e-6) - 1.0) * SECONDS_PER_DAY
}

/// `a` (mono) as a recorder running `ppm` fast would have sampled it: output sample `i` is the
/// input at time `i / (1 + ppm 1e-6)`, interpolated linearly (the timing is exact; the
/// interpolation only low-passes the sound a little).
fn stretch(a: &Audio, ppm: f64) -> Audio {
    assert_eq!(a.channels, 1);
    let k = 1.0 + ppm * 1e-6;
    let n = ((a.samples.len() - 1) as f64 * k).floor() as usize;
    let x = &a.samples;
    let samples = (0..n)
        .map(|i| {
            let t = i as f64 / k;
            let (j, f) = (t.floor() as usize, (t - t.floor()) as f32);
            x[j] * (1.0 - f) + x[(j + 1).min(x.len() - 1)] * f
        })
        .collect();
    Audio::mono(samples, a.fs)
}

fn mono(a: Audio) -> Audio {
    let ch = a.channels as usize;
    Audio::mono(a.samples.iter().step_by(ch).copied().collect(), a.fs)
}

/// `f` holds `to(f0)` within their combined u95 (both figures given).
fn agrees(f: Option<Figure>, f0: Option<Figure>, to: impl Fn(f64) -> f64) -> bool {
    match (f, f0) {
        (Some(f), Some(f0)) => (f.value - to(f0.value)).abs() <= f.u95.hypot(f0.u95),
        _ => false,
    }
}

/// Every way `m` (the stretched recording) differs from `m0` (the original) beyond the u95s.
fn differences(m: &Measurement, m0: &Measurement, ppm: f64) -> Vec<String> {
    let mut bad = Vec::new();
    if m.bph != m0.bph {
        bad.push(format!("bph {:?} for {:?}", m.bph, m0.bph));
    }
    if !agrees(m.rate_s_per_day, m0.rate_s_per_day, |r| apparent(r, ppm)) {
        let want = m0.rate_s_per_day.map_or(f64::NAN, |r| apparent(r.value, ppm));
        bad.push(format!(
            "rate {} for {} (expected {want:+.4})",
            fig(m.rate_s_per_day),
            fig(m0.rate_s_per_day)
        ));
    }
    for (name, f, f0) in
        [("beat error", m.beat_error_ms, m0.beat_error_ms), ("amplitude", m.amplitude_deg, m0.amplitude_deg)]
    {
        if !agrees(f, f0, |v| v) {
            bad.push(format!("{name} {} for {}", fig(f), fig(f0)));
        }
    }
    bad
}

fn check(label: &str, a: &Audio, lift_deg: f64) -> Vec<String> {
    let cfg = lift(lift_deg);
    let m0 = analyze(a, &cfg);
    println!("{}", row(label, &m0));
    let m0 = m0.unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut bad = Vec::new();
    for ppm in [100.0, -200.0] {
        let m = analyze(&stretch(a, ppm), &cfg);
        println!("{}", row(&format!("{label} {ppm:+} ppm"), &m));
        match m {
            Ok(m) => {
                bad.extend(differences(&m, &m0, ppm).into_iter().map(|d| format!("{label} {ppm:+} ppm: {d}")))
            }
            Err(e) => bad.push(format!("{label} {ppm:+} ppm: {e}")),
        }
    }
    bad
}

#[test]
fn the_first_order_shift_is_0_0864_s_per_day_per_ppm() {
    assert!((apparent(0.0, 100.0) + 8.64).abs() < 0.001 && (apparent(0.0, -200.0) - 17.28).abs() < 0.004);
}

#[test]
fn a_stretch_as_of_a_fast_or_slow_recorder_moves_the_seikos_rate_as_that_recorder_would() {
    let Some(p) = shared_recording("seiko-7s26-21600bph-laptop-mic-40s.wav") else { return };
    let bad = check("seiko", &mono(read_wav(&p)), 53.0);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_stretch_moves_the_rate_of_every_sound_family_as_that_recorder_would() {
    let mut bad = Vec::new();
    for (i, family) in SoundFamily::ALL.into_iter().enumerate() {
        let p = MechanicalParams {
            bph: [18000, 21600, 28800, 25200, 36000][i],
            family,
            rate_s_per_day: -4.0,
            beat_error_ms: 0.4,
            amplitude_deg: 240.0,
            lift_angle_deg: 52.0,
            snr_db: Some(25.0),
            duration_s: 20.0,
            seed: 70 + i as u64,
            ..MechanicalParams::default()
        };
        let (audio, _) = render(&p);
        bad.extend(check(&family.to_string(), &audio, p.lift_angle_deg));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
