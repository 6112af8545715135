//! Figures that contradict physics are never printed, whatever the recording: an amplitude
//! outside 100..360 deg, an amplitude its own unlock-to-drop time does not give, a zero-width or
//! non-finite 95% interval, a beat error of half a beat period or more, or a watch measured in a
//! recording that holds none. Over seeded synthetic recordings at the edges of the parameter
//! range, the real recording and the third-party files. Withholding a figure is always allowed.
mod harness;

use harness::{analyze, bad_u95, lift, read_wav, render, row, shared_recording, Audio};
use tickproof::measurement::{Figure, Kind, Measurement};
use tickproof::synth::{MechanicalParams, Negative, NegativeParams, Synth};

const PHYSICAL_AMPLITUDE_DEG: (f64, f64) = (100.0, 360.0);

/// L / (2 sin(pi t / T)): the amplitude an unlock-to-drop time `t_ms` gives, T = two beats.
fn amplitude_from_unlock_to_drop(lift_deg: f64, t_ms: f64, period_s: f64) -> f64 {
    lift_deg / (2.0 * (std::f64::consts::PI * t_ms / 1000.0 / period_s).sin())
}

/// The oscillation period the measurement implies: 7200 / bph seconds, at the measured rate.
fn period_s(m: &Measurement, bph: u32) -> f64 {
    let rate = m.rate_s_per_day.map_or(0.0, |r| r.value);
    7200.0 / bph as f64 / (1.0 + rate / 86400.0)
}

/// The printed amplitude must cover what its own unlock-to-drop time gives (0.5 deg floor for
/// rounding): `Some(why)` when it does not.
fn inconsistent(name: &str, a: Figure, implied: f64) -> Option<String> {
    ((a.value - implied).abs() > a.u95.max(0.5)).then(|| {
        format!("{name} {:.2}±{:.2} but its unlock-to-drop time gives {implied:.2} deg", a.value, a.u95)
    })
}

/// Everything in `m` that contradicts physics.
fn implausible(m: &Measurement) -> Vec<String> {
    let mut bad: Vec<String> =
        bad_u95(m).into_iter().map(|f| format!("u95 not finite and > 0: {f}")).collect();
    if m.kind == Kind::None {
        if m.rate_s_per_day.is_some() || m.beat_error_ms.is_some() || m.amplitude_deg.is_some() {
            bad.push("figures printed for no watch".into());
        }
        return bad;
    }
    if m.kind != Kind::Mechanical {
        return bad;
    }
    let Some(bph) = m.bph else {
        bad.push("mechanical without a bph".into());
        return bad;
    };
    let half_beat_ms = 0.5 * 3600e3 / bph as f64;
    if let Some(be) = m.beat_error_ms {
        if !(0.0..half_beat_ms).contains(&be.value) {
            bad.push(format!("beat error {:.3} ms not within 0..{half_beat_ms:.1} (half a beat)", be.value));
        }
    }
    let mech = m.mechanical.as_ref();
    let sides = [
        ("amplitude", m.amplitude_deg),
        ("tic amplitude", mech.and_then(|x| x.tic_amplitude_deg)),
        ("toc amplitude", mech.and_then(|x| x.toc_amplitude_deg)),
    ];
    for (name, f) in sides {
        if let Some(f) = f {
            if !(PHYSICAL_AMPLITUDE_DEG.0..=PHYSICAL_AMPLITUDE_DEG.1).contains(&f.value) {
                bad.push(format!("{name} {:.1} outside 100..360 deg", f.value));
            }
        }
    }
    if let Some(a) = m.amplitude_deg {
        match mech.and_then(|x| x.unlock_to_drop_ms) {
            None => bad.push("an amplitude without the unlock-to-drop time it comes from".into()),
            Some(t) => {
                let (lift_deg, p) = (mech.unwrap().lift_angle_deg, period_s(m, bph));
                let implied = |t_ms: f64| amplitude_from_unlock_to_drop(lift_deg, t_ms, p);
                bad.extend(inconsistent("amplitude", a, 0.5 * (implied(t[0]) + implied(t[1]))));
                for (i, (name, f)) in sides[1..].iter().enumerate() {
                    if let Some(f) = f {
                        bad.extend(inconsistent(name, *f, implied(t[i])));
                    }
                }
            }
        }
    }
    bad
}

/// Analyses `a`, prints its row, and returns the contradictions found (labelled).
fn check(label: &str, a: &Audio, lift_deg: f64) -> Vec<String> {
    let m = analyze(a, &lift(lift_deg));
    let bad = match &m {
        Err(e) => vec![format!("error: {e}")],
        Ok(m) => implausible(m),
    };
    println!(
        "{} {}",
        row(label, &m),
        if bad.is_empty() { "ok".into() } else { format!("FAIL {}", bad.join("; ")) }
    );
    bad.into_iter().map(|b| format!("{label}: {b}")).collect()
}

/// Watches at the edges of the range: low and high amplitude and lift angle, large and zero
/// beat error, slow and fast trains, low SNR, hum, knocks and dropouts.
fn edge_watches() -> Vec<MechanicalParams> {
    let b = MechanicalParams::default();
    let p = |bph, amp, lift, be, snr, fs, dur, seed| MechanicalParams {
        bph,
        amplitude_deg: amp,
        lift_angle_deg: lift,
        beat_error_ms: be,
        snr_db: Some(snr),
        sample_rate_hz: fs,
        duration_s: dur,
        seed,
        rate_s_per_day: seed as f64 - 25.0,
        ..b.clone()
    };
    vec![
        p(12000, 150.0, 40.0, 2.5, 12.0, 44_100, 20.0, 21),
        p(36000, 320.0, 58.0, 0.2, 18.0, 96_000, 15.0, 22),
        p(28800, 180.0, 52.0, 0.0, 30.0, 48_000, 20.0, 23),
        p(18000, 300.0, 45.0, 4.0, 10.0, 48_000, 20.0, 24),
        p(43200, 260.0, 50.0, 0.5, 20.0, 48_000, 20.0, 25),
        p(19800, 140.0, 60.0, 1.0, 8.0, 48_000, 25.0, 26),
        MechanicalParams { jitter_us: 50.0, ..p(25200, 240.0, 52.0, 0.8, 15.0, 44_100, 20.0, 27) },
        MechanicalParams {
            hum_hz: Some(50.0),
            hum_db: 6.0,
            knocks_per_min: 15.0,
            dropouts_per_min: 4.0,
            ..p(21600, 230.0, 53.0, 0.6, 12.0, 44_100, 30.0, 28)
        },
    ]
}

#[test]
fn the_checks_catch_planted_contradictions() {
    let (a, _) = render(&edge_watches()[2]);
    let m = analyze(&a, &lift(52.0)).unwrap();
    type Plant = fn(&mut Measurement);
    let planted: [(&str, Plant); 5] = [
        ("amplitude 400", |m| m.amplitude_deg = Some(Figure::new(400.0, 5.0))),
        ("u95 zero", |m| m.rate_s_per_day = Some(Figure::new(1.0, 0.0))),
        ("u95 NaN", |m| m.beat_error_ms = Some(Figure { value: 0.1, u95: f64::NAN })),
        ("beat error 70 ms at 28800", |m| m.beat_error_ms = Some(Figure::new(70.0, 1.0))),
        ("figures for no watch", |m| m.kind = Kind::None),
    ];
    for (name, plant) in planted {
        let mut m = m.clone();
        m.amplitude_deg.get_or_insert(Figure::new(250.0, 5.0));
        plant(&mut m);
        assert!(!implausible(&m).is_empty(), "{name} not caught");
    }
    // An unlock-to-drop time that gives another amplitude than the one printed.
    let mut m = m.clone();
    if let Some(x) = m.mechanical.as_mut() {
        x.unlock_to_drop_ms = Some([1.0, 1.0]);
        m.amplitude_deg = Some(Figure::new(250.0, 5.0));
        assert!(!implausible(&m).is_empty(), "inconsistent unlock-to-drop not caught");
    }
    // And the physics itself: 52 deg lift, 28800 bph, the t that gives 270 deg gives 270 back.
    let p = 0.25;
    let t_ms = 1000.0 * p / std::f64::consts::PI * (52.0f64 / 540.0).asin();
    assert!((amplitude_from_unlock_to_drop(52.0, t_ms, p) - 270.0).abs() < 1e-9);
}

#[test]
fn synthetic_watches_never_print_impossible_figures() {
    let bad: Vec<String> = edge_watches()
        .iter()
        .flat_map(|p| check(&format!("{}bph-seed{}", p.bph, p.seed), &render(p).0, p.lift_angle_deg))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn real_and_third_party_recordings_never_print_impossible_figures() {
    let files = [
        ("seiko-7s26-21600bph-laptop-mic-40s.wav", 53.0),
        ("third-party/1_18000BPH_clean-18000_48000Hz.wav", 52.0),
        ("third-party/5_21600BPH_fast-plus30s_48000Hz.wav", 52.0),
        ("third-party/21600BPH_normal_noisegap_normal_48k_float.wav", 52.0),
        ("third-party/21600BPH_normal_aonly_noise_normal_48k_float.wav", 52.0),
    ];
    let bad: Vec<String> = files
        .iter()
        .filter_map(|&(f, l)| shared_recording(f).map(|p| (f, l, p)))
        .flat_map(|(f, l, p)| check(f.rsplit('/').next().unwrap(), &read_wav(&p), l))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Recordings with no watch, other than those tests/mechanical_accuracy.rs uses: other
/// lengths, sample rates, seeds, tempos, and interference on top.
fn no_watch() -> Vec<NegativeParams> {
    let n = |sc, fs, dur, seed| NegativeParams {
        sample_rate_hz: fs,
        duration_s: dur,
        seed,
        ..NegativeParams::new(sc)
    };
    vec![
        n(Negative::Noise, 48_000, 30.0, 7),
        n(Negative::PinkNoise, 44_100, 20.0, 8),
        NegativeParams { hum_hz: Some(50.0), hum_db: -6.0, ..n(Negative::Speech, 44_100, 25.0, 9) },
        n(Negative::Music, 44_100, 30.0, 10),
        NegativeParams { snr_db: Some(10.0), ..n(Negative::Music, 48_000, 20.0, 11) },
        NegativeParams { knocks_per_min: 60.0, ..n(Negative::Knocks, 48_000, 20.0, 12) },
        n(Negative::Silence, 48_000, 40.0, 13),
        n(Negative::Dither, 44_100, 20.0, 14),
        n(Negative::Metronome { bpm: 72.0 }, 48_000, 20.0, 15),
        n(Negative::Metronome { bpm: 176.0 }, 44_100, 20.0, 16),
        NegativeParams { snr_db: Some(15.0), ..n(Negative::Metronome { bpm: 208.0 }, 48_000, 30.0, 17) },
        NegativeParams { knocks_per_min: 30.0, ..n(Negative::Speech, 48_000, 20.0, 18) },
    ]
}

#[test]
fn recordings_without_a_watch_are_never_measured_as_one() {
    let mut bad = Vec::new();
    for p in no_watch() {
        let label = format!("{}-seed{}", p.scenario.name(), p.seed);
        let mut s = Synth::negative(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let a = harness::read_source(&mut s);
        let m = analyze(&a, &lift(52.0));
        println!("{}", row(&label, &m));
        match m {
            Ok(m) if m.kind == Kind::None && m.bph.is_none() && m.rate_s_per_day.is_none() => {}
            Ok(m) => bad.push(format!("{label}: read as {:?} {:?} {:?}", m.kind, m.bph, m.rate_s_per_day)),
            Err(e) => bad.push(format!("{label}: error {e}")),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
