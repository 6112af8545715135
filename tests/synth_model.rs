//! The synthesiser's promises: its truth is what it realises, its levels follow their
//! definitions, its time base is exact, and its output is reproducible however it is read.
use tickproof::measurement::{Kind, STANDARD_BPH};
use tickproof::source::BlockSource;
use tickproof::synth::{MechanicalParams, Negative, NegativeParams, Scenario, Side, Synth, Timeline};

/// Reads a whole synth into memory in blocks of `block` frames.
fn read_all(s: &mut Synth, block: usize) -> Vec<f32> {
    let ch = s.info().channels as usize;
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; block * ch];
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n * ch]);
    }
    out
}

fn mean_power(x: &[f32]) -> f64 {
    x.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>() / x.len() as f64
}

fn params(bph: u32, rate: f64, be: f64, amp: f64, lift: f64, ppm: f64) -> MechanicalParams {
    MechanicalParams {
        bph,
        rate_s_per_day: rate,
        beat_error_ms: be,
        amplitude_deg: amp,
        lift_angle_deg: lift,
        recorder_ppm: ppm,
        ..MechanicalParams::default()
    }
}

const CASES: [(u32, f64, f64, f64, f64, f64); 7] = [
    (28800, 0.0, 0.0, 270.0, 52.0, 0.0),
    (21600, 8.0, 0.4, 250.0, 52.0, 0.0),
    (3600, -1000.0, 10.0, 100.0, 30.0, 1000.0),
    (72000, 1000.0, 3.0, 360.0, 70.0, -1000.0),
    (18000, -300.0, 5.0, 140.0, 60.0, 80.0),
    (43200, 300.0, 0.05, 330.0, 40.0, -100.0),
    (19800, 12.5, 1.2, 200.0, 49.0, 25.0),
];

#[test]
fn truth_beat_error_and_rate_equal_the_unlock_intervals_of_the_beats() {
    for &(bph, rate, be, amp, lift, ppm) in &CASES {
        let s = Synth::mechanical(&params(bph, rate, be, amp, lift, ppm)).unwrap();
        let t = s.truth();
        let beats = s.beat_events(usize::MAX);
        assert!(beats.len() >= 19, "{bph}: {} beats", beats.len());
        // Alternate unlock intervals: their half difference is the beat error.
        let iv: Vec<f64> = beats.windows(2).map(|w| w[1].unlock_s - w[0].unlock_s).collect();
        let mean = |k: usize| {
            let v: Vec<f64> = iv.iter().skip(k).step_by(2).copied().collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let be_measured_ms = (mean(0) - mean(1)).abs() / 2.0 * 1e3;
        assert!((be_measured_ms - t.beat_error_ms.unwrap()).abs() < 1e-9, "{bph}: {be_measured_ms}");
        assert!((t.beat_error_ms.unwrap() - be).abs() < 1e-9);
        // Period from the first and last unlock of the same side: the rate.
        let last = beats.len() - 1 - (beats.len() - 1) % 2;
        let cycles = (beats[last].index - beats[0].index) / 2;
        let period = (beats[last].unlock_s - beats[0].unlock_s) / cycles as f64;
        let rate_measured = (7200.0 / bph as f64 / period - 1.0) * 86_400.0;
        assert!((rate_measured - t.rate_s_per_day.unwrap()).abs() < 1e-9, "{bph}: {rate_measured}");
        assert!((t.rate_s_per_day.unwrap() - rate).abs() < 1e-9);
        assert!((t.period_s.unwrap() - period).abs() < 1e-12);
        // Sides alternate, and the tic-to-toc interval is the one the truth names.
        for w in beats.windows(2) {
            assert_ne!(w[0].side, w[1].side);
            let want = if w[0].side == Side::Tic { t.tic_to_toc_ms } else { t.toc_to_tic_ms };
            assert!(((w[1].unlock_s - w[0].unlock_s) * 1e3 - want.unwrap()).abs() < 1e-9);
        }
        assert_eq!(beats[0].unlock_s, t.first_unlock_s.unwrap());
        assert_eq!(Some(beats[0].side), t.first_side);
    }
}

#[test]
fn drop_based_beat_error_equals_the_unlock_based_one() {
    let s = Synth::mechanical(&params(28800, 0.0, 2.5, 220.0, 52.0, 0.0)).unwrap();
    let b = s.beat_events(200);
    let d1 = b[1].drop_s - b[0].drop_s;
    let d2 = b[2].drop_s - b[1].drop_s;
    assert!(((d1 - d2).abs() / 2.0 * 1e3 - 2.5).abs() < 1e-9);
}

#[test]
fn amplitude_from_unlock_to_drop_equals_a_when_the_beat_error_is_zero() {
    for &(bph, rate, _, amp, lift, ppm) in &CASES {
        let s = Synth::mechanical(&params(bph, rate, 0.0, amp, lift, ppm)).unwrap();
        let t = s.truth();
        let period = t.period_s.unwrap();
        for b in s.beat_events(50) {
            let dt = b.drop_s - b.unlock_s;
            let a = lift / (2.0 * (std::f64::consts::PI * dt / period).sin());
            assert!((a - amp).abs() < 1e-9 * amp, "{bph}: {a} vs {amp}");
            assert!((dt * 1e3 - t.unlock_to_drop_ms.unwrap()).abs() < 1e-9);
            assert!(b.unlock_s < b.impulse_s && b.impulse_s < b.drop_s);
        }
        assert_eq!(t.amplitude_deg, Some(amp));
    }
}

#[test]
fn beat_error_lowers_the_conventional_amplitude_only_at_second_order() {
    // The convention reads slightly below A when the lift zone is offset (asin is convex);
    // the truth gives both figures. Within the tested range the difference is small.
    for &(bph, rate, be, amp, lift, ppm) in &CASES {
        let s = Synth::mechanical(&params(bph, rate, be, amp, lift, ppm)).unwrap();
        let t = s.truth();
        let conv = t.amplitude_by_convention_deg.unwrap();
        assert!(conv <= amp + 1e-9, "{conv} > {amp}");
        let b = &s.beat_events(1)[0];
        let from_events =
            lift / (2.0 * (std::f64::consts::PI * (b.drop_s - b.unlock_s) / t.period_s.unwrap()).sin());
        assert!((from_events - conv).abs() < 1e-9 * amp);
        if be <= 5.0 && bph <= 28800 {
            assert!((amp - conv) / amp < 0.005, "{bph} {be}: {conv} vs {amp}");
        }
    }
}

#[test]
fn snr_is_the_clean_signal_mean_power_over_the_noise_power() {
    for snr in [6.0, 10.0, 20.0] {
        let base =
            MechanicalParams { bph: 21600, beat_error_ms: 0.4, seed: 5, ..MechanicalParams::default() };
        let clean = read_all(&mut Synth::mechanical(&base).unwrap(), 4096);
        let noisy_synth = Synth::mechanical(&MechanicalParams { snr_db: Some(snr), ..base.clone() }).unwrap();
        let truth = noisy_synth.truth();
        let mut noisy_synth = noisy_synth;
        let noisy = read_all(&mut noisy_synth, 4096);
        let noise: Vec<f32> = noisy.iter().zip(&clean).map(|(a, b)| a - b).collect();
        let measured = 10.0 * (mean_power(&clean) / mean_power(&noise)).log10();
        assert!((measured - snr).abs() < 0.03, "asked {snr} dB, measured {measured:.4} dB");
        assert!((truth.signal_power / mean_power(&clean) - 1.0).abs() < 1e-4);
        assert!((truth.noise_rms.powi(2) * 10f64.powf(snr / 10.0) / truth.signal_power - 1.0).abs() < 1e-12);
    }
}

#[test]
fn hum_and_babble_levels_are_power_ratios_to_the_signal() {
    let base = MechanicalParams { seed: 9, ..MechanicalParams::default() };
    let clean = read_all(&mut Synth::mechanical(&base).unwrap(), 1000);
    let p = mean_power(&clean);
    for (hum, babble) in [(Some(50.0), None), (None, Some(-6.0))] {
        let q = MechanicalParams { hum_hz: hum, hum_db: -10.0, babble_db: babble, ..base.clone() };
        let mixed = read_all(&mut Synth::mechanical(&q).unwrap(), 1000);
        let extra: Vec<f32> = mixed.iter().zip(&clean).map(|(a, b)| a - b).collect();
        let db = 10.0 * (mean_power(&extra) / p).log10();
        let want = if hum.is_some() { -10.0 } else { -6.0 };
        assert!((db - want).abs() < 0.05, "{hum:?} {babble:?}: {db:.3} dB, want {want}");
    }
}

/// Indices where the signal starts after at least `gap` exact zeros.
fn onsets(x: &[f32], gap: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut zeros = gap;
    for (i, v) in x.iter().enumerate() {
        if *v == 0.0 {
            zeros += 1;
        } else {
            if zeros >= gap {
                out.push(i);
            }
            zeros = 0;
        }
    }
    out
}

#[test]
fn recorder_ppm_stretches_the_sample_timeline_by_exactly_one_plus_ppm() {
    for ppm in [0.0, 500.0, -250.0] {
        let p = MechanicalParams { recorder_ppm: ppm, seed: 3, ..MechanicalParams::default() };
        let mut s = Synth::mechanical(&p).unwrap();
        let beats = s.beat_events(usize::MAX);
        let x = read_all(&mut s, 4096);
        let found = onsets(&x, 200);
        // Every beat starts exactly at the first sample at or after its true unlock time,
        // with samples at true times n / (fs (1 + ppm 1e-6)).
        let fs_eff = 48_000.0 * (1.0 + ppm * 1e-6);
        let want: Vec<usize> = beats
            .iter()
            .filter(|b| b.unlock_s > 0.01)
            .map(|b| (b.unlock_s * fs_eff).ceil() as usize)
            .collect();
        assert_eq!(&found[found.len() - want.len()..], &want[..], "ppm {ppm}");
        for b in &beats {
            assert!((b.unlock_rec_s - b.unlock_s * (1.0 + ppm * 1e-6)).abs() < 1e-12);
            assert!((b.drop_rec_s - b.drop_s * (1.0 + ppm * 1e-6)).abs() < 1e-12);
        }
    }
    let tl = Timeline::new(50_000, 100.0, 10);
    assert!((tl.true_time(50_005) - 1.0).abs() < 1e-15);
    assert_eq!(tl.first_sample_at_or_after(1.0), 50_005);
}

#[test]
fn same_seed_gives_identical_samples_and_another_seed_does_not() {
    let p = MechanicalParams {
        snr_db: Some(12.0),
        hum_hz: Some(60.0),
        hum_db: -12.0,
        knocks_per_min: 20.0,
        babble_db: Some(-3.0),
        dropouts_per_min: 10.0,
        jitter_us: 30.0,
        seed: 77,
        duration_s: 5.0,
        ..MechanicalParams::default()
    };
    let a = read_all(&mut Synth::mechanical(&p).unwrap(), 4096);
    let b = read_all(&mut Synth::mechanical(&p).unwrap(), 4096);
    assert_eq!(a, b);
    let c = read_all(&mut Synth::mechanical(&MechanicalParams { seed: 78, ..p }).unwrap(), 4096);
    assert_ne!(a, c);
}

#[test]
fn streaming_in_different_block_sizes_and_after_rewind_gives_identical_samples() {
    let scenarios = [
        Scenario::Mechanical(MechanicalParams {
            snr_db: Some(10.0),
            hum_hz: Some(50.0),
            knocks_per_min: 30.0,
            babble_db: Some(0.0),
            dropouts_per_min: 20.0,
            jitter_us: 50.0,
            recorder_ppm: 37.0,
            channels: 3,
            decorrelated_channels: true,
            duration_s: 4.0,
            sample_rate_hz: 44_100,
            ..MechanicalParams::default()
        }),
        Scenario::None(NegativeParams { duration_s: 3.0, ..NegativeParams::new(Negative::Music) }),
        Scenario::None(NegativeParams {
            duration_s: 3.0,
            snr_db: Some(20.0),
            ..NegativeParams::new(Negative::Metronome { bpm: 100.0 })
        }),
    ];
    for sc in &scenarios {
        let mut s = Synth::new(sc).unwrap();
        let reference = read_all(&mut s, 4096);
        for block in [1, 7, 1000, 1024, 1025, 100_000] {
            s.rewind().unwrap();
            assert_eq!(read_all(&mut s, block), reference, "block {block}");
        }
        let fresh = read_all(&mut Synth::new(sc).unwrap(), 333);
        assert_eq!(fresh, reference);
    }
}

#[test]
fn decorrelated_channels_share_the_ticks_but_not_the_noise() {
    let p = MechanicalParams {
        channels: 2,
        decorrelated_channels: true,
        snr_db: Some(10.0),
        duration_s: 2.0,
        ..MechanicalParams::default()
    };
    let x = read_all(&mut Synth::mechanical(&p).unwrap(), 512);
    let (l, r): (Vec<f32>, Vec<f32>) = x.chunks(2).map(|f| (f[0], f[1])).unzip();
    assert_ne!(l, r);
    let same = read_all(
        &mut Synth::mechanical(&MechanicalParams { decorrelated_channels: false, ..p }).unwrap(),
        512,
    );
    assert!(same.chunks(2).all(|f| f[0] == f[1]));
}

#[test]
fn dropouts_are_exact_silence() {
    let p = MechanicalParams {
        snr_db: Some(10.0),
        dropouts_per_min: 60.0,
        duration_s: 30.0,
        ..MechanicalParams::default()
    };
    let x = read_all(&mut Synth::mechanical(&p).unwrap(), 4096);
    // With noise everywhere, a run of 0.02 s of exact zeros can only be a dropout.
    let mut longest = 0;
    let mut run = 0;
    for v in &x {
        run = if *v == 0.0 { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    assert!(longest >= 960, "longest silent run {longest}");
}

#[test]
fn defaults_do_not_clip_even_with_knocks() {
    let p = MechanicalParams {
        knocks_per_min: 60.0,
        snr_db: Some(6.0),
        babble_db: Some(6.0),
        ..MechanicalParams::default()
    };
    let mut s = Synth::mechanical(&p).unwrap();
    let x = read_all(&mut s, 4096);
    assert_eq!(s.clipped_samples(), 0);
    // Knocks are louder than the ticks (whose drop peaks near WATCH_LEVEL).
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak as f64 > 1.5 * tickproof::synth::WATCH_LEVEL, "peak {peak}");
}

#[test]
fn every_supported_corner_builds_and_sounds() {
    for bph in [3600, 72000] {
        for fs in [22_050, 192_000] {
            for (be, amp, lift) in [(0.0, 100.0, 70.0), (10.0, 360.0, 30.0), (10.0, 100.0, 70.0)] {
                let p = MechanicalParams {
                    bph,
                    beat_error_ms: be,
                    amplitude_deg: amp,
                    lift_angle_deg: lift,
                    sample_rate_hz: fs,
                    duration_s: 2.0,
                    ..MechanicalParams::default()
                };
                let mut s =
                    Synth::mechanical(&p).unwrap_or_else(|e| panic!("{bph} {fs} {be} {amp} {lift}: {e}"));
                let x = read_all(&mut s, 4096);
                assert!(x.iter().any(|v| v.abs() > 0.05));
                assert!(x.iter().all(|v| v.is_finite()));
            }
        }
    }
}

#[test]
fn out_of_range_parameters_are_refused_naming_the_option() {
    let bad = [
        (MechanicalParams { bph: 3599, ..MechanicalParams::default() }, "--bph"),
        (MechanicalParams { rate_s_per_day: 1000.5, ..MechanicalParams::default() }, "--rate-s-per-day"),
        (MechanicalParams { beat_error_ms: -0.1, ..MechanicalParams::default() }, "--beat-error-ms"),
        (MechanicalParams { amplitude_deg: 361.0, ..MechanicalParams::default() }, "--amplitude-deg"),
        (MechanicalParams { lift_angle_deg: 29.0, ..MechanicalParams::default() }, "--lift-angle-deg"),
        (MechanicalParams { sample_rate_hz: 8000, ..MechanicalParams::default() }, "--sample-rate-hz"),
        (MechanicalParams { duration_s: f64::NAN, ..MechanicalParams::default() }, "--duration-s"),
        (MechanicalParams { snr_db: Some(f64::INFINITY), ..MechanicalParams::default() }, "--snr-db"),
        (MechanicalParams { channels: 0, ..MechanicalParams::default() }, "--channels"),
    ];
    for (p, name) in bad {
        let e = Synth::mechanical(&p).unwrap_err().to_string();
        assert!(e.contains(name) && !e.contains('\n'), "{e}");
    }
    let e = Synth::negative(&NegativeParams::new(Negative::Metronome { bpm: 480.0 })).unwrap_err();
    assert!(e.to_string().contains("28800 bph"), "{e}");
    let e = Synth::negative(&NegativeParams { snr_db: Some(10.0), ..NegativeParams::new(Negative::Silence) });
    assert!(e.is_err());
}

/// Normalised autocorrelation of an onset-strength signal at `lag_s` (best within +-1 frame of
/// 2 ms), the way a simple timegrapher would look for beats.
fn onset_periodicity(x: &[f32], fs: f64, lag_s: f64) -> f64 {
    // Onset strength: rise of the 2 ms energy envelope of the first difference (a high-pass,
    // as ticks live at 2-9 kHz), half-wave rectified.
    let hop = (fs / 500.0) as usize;
    let d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    let env: Vec<f64> = d.chunks(hop).map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt()).collect();
    let rise: Vec<f64> = env.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
    // Smoothed over 3 frames, so a period that is not a whole number of frames still lines up.
    let mut o: Vec<f64> = rise.windows(3).map(|w| w[0] + w[1] + w[2]).collect();
    let mean = o.iter().sum::<f64>() / o.len() as f64;
    o.iter_mut().for_each(|v| *v -= mean);
    let r0: f64 = o.iter().map(|v| v * v).sum();
    if r0 == 0.0 {
        return 0.0;
    }
    let centre = (lag_s * 500.0).round() as usize;
    (centre.saturating_sub(1)..=centre + 1)
        .map(|lag| o.iter().zip(&o[lag..]).map(|(a, b)| a * b).sum::<f64>() / r0)
        .fold(f64::MIN, f64::max)
}

fn worst_standard_periodicity(x: &[f32], fs: f64) -> (f64, u32) {
    STANDARD_BPH.iter().map(|&b| (onset_periodicity(x, fs, 3600.0 / b as f64), b)).fold(
        (f64::MIN, 0),
        |a, b| {
            if b.0 > a.0 {
                b
            } else {
                a
            }
        },
    )
}

#[test]
fn a_watch_shows_its_beat_period_in_the_periodicity_check() {
    // The positive control for the negative test below: the same check finds real ticks.
    for bph in [12000, 21600, 28800, 36000] {
        let p = MechanicalParams { bph, snr_db: Some(10.0), duration_s: 10.0, ..MechanicalParams::default() };
        let x = read_all(&mut Synth::mechanical(&p).unwrap(), 4096);
        let r = onset_periodicity(&x, 48_000.0, 3600.0 / bph as f64);
        eprintln!("watch {bph}: {r:.3}");
        assert!(r > 0.7, "{bph}: {r}");
    }
}

#[test]
fn negative_scenarios_have_no_periodic_ticks_at_standard_rates() {
    let scenarios = [
        Negative::Noise,
        Negative::PinkNoise,
        Negative::Speech,
        Negative::Music,
        Negative::Silence,
        Negative::Dither,
        Negative::Metronome { bpm: 100.0 },
        Negative::Metronome { bpm: 150.0 },
        Negative::Knocks,
    ];
    for sc in scenarios {
        for seed in [1, 2] {
            let mut s = Synth::negative(&NegativeParams { seed, ..NegativeParams::new(sc) }).unwrap();
            let t = s.truth();
            assert_eq!(t.kind, Kind::None);
            assert_eq!(t.scenario, sc.name());
            assert!(t.bph.is_none() && t.rate_s_per_day.is_none());
            assert!(s.beat_events(10).is_empty());
            let x = read_all(&mut s, 4096);
            let (r, bph) = worst_standard_periodicity(&x, 48_000.0);
            eprintln!("{} seed {seed}: {r:.3} at {bph}", sc.name());
            assert!(r < 0.4, "{}: periodicity {r:.2} at {bph} bph", sc.name());
            if !matches!(sc, Negative::Silence) {
                assert!(x.iter().any(|v| *v != 0.0), "{} is silent", sc.name());
            } else {
                assert!(x.iter().all(|v| *v == 0.0));
            }
        }
    }
}

#[test]
fn tic_and_toc_sound_different() {
    let p = MechanicalParams { amplitude_wobble: 0.0, duration_s: 2.0, ..MechanicalParams::default() };
    let mut s = Synth::mechanical(&p).unwrap();
    let beats = s.beat_events(4);
    let x = read_all(&mut s, 4096);
    // Magnitude spectrum (1-10 kHz) of the first 12 ms of a beat: blind to the sub-sample onset.
    let spectrum = |t: f64| {
        let n = (t * 48_000.0).ceil() as usize;
        (10..=100)
            .map(|k| {
                let w = 2.0 * std::f64::consts::PI * k as f64 * 100.0 / 48_000.0;
                let (mut re, mut im) = (0.0, 0.0);
                for (i, v) in x[n..n + 576].iter().enumerate() {
                    re += *v as f64 * (w * i as f64).cos();
                    im += *v as f64 * (w * i as f64).sin();
                }
                (re * re + im * im).sqrt()
            })
            .collect::<Vec<f64>>()
    };
    let dist = |u: &[f64], v: &[f64]| {
        let norm: f64 = u.iter().map(|a| a * a).sum::<f64>().sqrt();
        u.iter().zip(v).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt() / norm
    };
    let s0 = spectrum(beats[0].unlock_s);
    let s1 = spectrum(beats[1].unlock_s);
    let s2 = spectrum(beats[2].unlock_s);
    let same = dist(&s0, &s2);
    let other = dist(&s0, &s1);
    assert!(same < 0.05 && other > 4.0 * same, "same side {same:.4}, other side {other:.4}");
}
