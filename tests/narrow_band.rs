//! Narrow-band recordings (a 16 kHz voice memo, a dictaphone, a phone's resampler): a
//! recording at a low sample rate is analysed, not refused; every figure it prints holds the
//! truth (synthetic recordings of every sound family) or the full-band reading (the shared
//! Seiko) within its u95, or is withheld; and where too little of the band is left to hold a
//! tick, "no watch" names the sample rate as the reason.
mod harness;

use harness::{analyze, fig, lift, read_wav, render, row, shared_recording, Audio};
use std::f64::consts::PI;
use tickproof::measurement::{Figure, Kind, Measurement};
use tickproof::synth::{MechanicalParams, SoundFamily};

/// Taps of the decimation filter per output sample period, each side of its centre.
const HALF_TAPS_PER_Q: usize = 16;

/// `a` decimated by `q` as a resampler does it: a linear-phase low-pass (Blackman-windowed
/// sinc, cut off at 0.45 of the new sample rate, with the pre-ringing such filters have) and
/// every `q`-th sample kept. Mono only.
fn decimate(a: &Audio, q: usize) -> Audio {
    assert_eq!(a.channels, 1);
    let half = HALF_TAPS_PER_Q * q;
    let fc = 0.45 / q as f64;
    let taps: Vec<f64> = (0..=2 * half)
        .map(|i| {
            let k = i as f64 - half as f64;
            let sinc = if k == 0.0 { 2.0 * fc } else { (2.0 * PI * fc * k).sin() / (PI * k) };
            let w = i as f64 / (2 * half) as f64;
            sinc * (0.42 - 0.5 * (2.0 * PI * w).cos() + 0.08 * (4.0 * PI * w).cos())
        })
        .collect();
    let x = &a.samples;
    let samples = (half..x.len().saturating_sub(half))
        .step_by(q)
        .map(|c| taps.iter().enumerate().map(|(i, t)| t * x[c + i - half] as f64).sum::<f64>() as f32)
        .collect();
    Audio::mono(samples, a.fs / q as u32)
}

/// `m`'s figure, if printed, holds `truth` within its u95 (or within `slack` more).
fn holds(name: &str, f: Option<Figure>, truth: f64, slack: f64) -> Result<(), String> {
    match f {
        Some(f) if (f.value - truth).abs() > f.u95 + slack => {
            Err(format!("{name} {} misses {truth:.3}", fig(Some(f))))
        }
        _ => Ok(()),
    }
}

fn measured(m: &Result<Measurement, String>) -> &Measurement {
    m.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_16_khz_recording_of_every_sound_family_reads_its_truth_within_the_u95() {
    let mut failures = Vec::new();
    for (i, family) in SoundFamily::ALL.into_iter().enumerate() {
        for (j, bph) in [21600u32, 28800].into_iter().enumerate() {
            let p = MechanicalParams {
                bph,
                family,
                rate_s_per_day: 5.0,
                beat_error_ms: 0.3,
                amplitude_deg: 250.0,
                lift_angle_deg: 52.0,
                snr_db: Some(25.0),
                sample_rate_hz: 48_000,
                duration_s: 20.0,
                seed: 1 + (2 * i + j) as u64,
                ..MechanicalParams::default()
            };
            let (audio, truth) = render(&p);
            let narrow = decimate(&audio, 3);
            assert_eq!(narrow.fs, 16_000);
            let m = analyze(&narrow, &lift(p.lift_angle_deg));
            let line = row(&format!("{family} {bph}"), &m);
            let m = measured(&m);
            println!("{line}");
            assert_eq!((m.kind, m.bph), (Kind::Mechanical, Some(bph)), "{line}");
            assert!(m.rate_s_per_day.is_some(), "{line}");
            let checks = [
                holds("rate", m.rate_s_per_day, truth.rate_s_per_day.unwrap(), 0.0),
                holds("beat error", m.beat_error_ms, truth.beat_error_ms.unwrap(), 0.0),
                holds("amplitude", m.amplitude_deg, truth.amplitude_by_convention_deg.unwrap(), 0.0),
            ];
            failures.extend(checks.into_iter().filter_map(Result::err).map(|e| format!("{line}: {e}")));
        }
    }
    // Coverage is a 95% promise: of 30 figures one or two may miss by chance, three may not.
    assert!(failures.len() <= 2, "{}", failures.join("\n"));
}

#[test]
fn the_seiko_at_a_third_of_its_sample_rate_agrees_with_its_full_band_reading() {
    let Some(path) = shared_recording("seiko-7s26-21600bph-laptop-mic-40s.wav") else { return };
    let full = read_wav(&path);
    let mono = Audio::mono(full.samples.iter().step_by(full.channels as usize).copied().collect(), full.fs);
    let cfg = lift(53.0);
    let (a, b) = (analyze(&mono, &cfg), analyze(&decimate(&mono, 3), &cfg));
    let table = format!("{}\n{}", row("full band", &a), row("14.7 kHz", &b));
    let (a, b) = (measured(&a), measured(&b));
    assert_eq!(b.bph, Some(21600), "{table}");
    let agree = |x: Option<Figure>, y: Option<Figure>| match (x, y) {
        (Some(x), Some(y)) => (x.value - y.value).abs() <= x.u95.hypot(y.u95),
        _ => true,
    };
    assert!(b.rate_s_per_day.is_some() && agree(a.rate_s_per_day, b.rate_s_per_day), "{table}");
    assert!(agree(a.beat_error_ms, b.beat_error_ms), "{table}");
    assert!(agree(a.amplitude_deg, b.amplitude_deg), "{table}");
}

#[test]
fn at_8_khz_no_watch_names_the_sample_rate() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("phone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    let mut rng = tickproof::synth::rng::Rng::new(7);
    for _ in 0..8000 * 15 {
        w.write_sample((rng.gauss() * 3000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .arg("analyze")
        .arg(&wav)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("recorded at 8000 Hz") && text.contains("4.0 kHz"), "{text}");
}
