//! A calibration applied end to end: the recorder's error measured from a tone recorded through
//! it, kept as a profile, resolved for `analyze --device`, and a mechanical recording made
//! through the same +80 ppm recorder then reads its true rate.
use std::f64::consts::PI;
use std::path::Path;
use tickproof::calibration::{
    measure_tone, resolve_recorder_in, DeviceName, Evidence, Method, Profile, ProfileStore, ToneConfig,
    UtcTime,
};
use tickproof::measurement::{analyze_source, AnalysisConfig};
use tickproof::source::MemorySource;
use tickproof::synth::rng::Rng;
use tickproof::synth::{MechanicalParams, Synth};

const RECORDER_PPM: f64 = 80.0;

fn tone_through_recorder(seconds: f64, fs: u32) -> MemorySource {
    let mut rng = Rng::new(8);
    let fs_true = fs as f64 * (1.0 + RECORDER_PPM * 1e-6);
    let x: Vec<f32> = (0..(seconds * fs as f64) as u64)
        .map(|n| (0.4 * (2.0 * PI * (1000.0 / fs_true * n as f64).fract()).cos() + 0.01 * rng.gauss()) as f32)
        .collect();
    MemorySource::new(x, fs, 1)
}

#[test]
fn mechanical_rate_through_a_calibrated_80_ppm_recorder_is_within_0_1_s_per_day() {
    // 1. Calibrate the recorder from a tone.
    let mut tone = tone_through_recorder(60.0, 48_000);
    let cal = measure_tone(&mut tone, Path::new("tone.wav"), &ToneConfig::new(1000.0)).unwrap();
    assert!(cal.recorder_ppm.covers(RECORDER_PPM), "{:?}", cal.recorder_ppm);

    // 2. Keep it as the device's profile and resolve it as `analyze --device` does.
    let d = tempfile::tempdir().unwrap();
    let store = ProfileStore::new(d.path());
    let now = UtcTime::now();
    let profile = Profile {
        device: "bench mic".into(),
        device_identity: None,
        recorder_ppm: cal.recorder_ppm,
        method: Method::Tone,
        reference: "synthetic 1000 Hz".into(),
        measured_at: now,
        valid_days: 30.0,
        host: "test".into(),
        note: String::new(),
        evidence: Evidence::default(),
    };
    store.save(&profile, false).unwrap();
    let recorder = resolve_recorder_in(Some(&store), Some("bench mic"), None, None, now).unwrap();
    assert!(recorder.source.starts_with("profile bench mic (measured "), "{}", recorder.source);
    assert!(!recorder.stale);
    assert_eq!(DeviceName::parse("bench mic").unwrap().slug(), "bench-mic");

    // 3. A watch recorded through the same recorder, analysed with and without the profile.
    let truth_rate = 6.5;
    let p = MechanicalParams {
        rate_s_per_day: truth_rate,
        recorder_ppm: RECORDER_PPM,
        snr_db: Some(30.0),
        duration_s: 20.0,
        seed: 21,
        ..MechanicalParams::default()
    };
    let with = AnalysisConfig { recorder, ..AnalysisConfig::default() };
    let m = analyze_source(Box::new(Synth::mechanical(&p).unwrap()), &with).unwrap();
    let rate = m.rate_s_per_day.unwrap();
    assert!((rate.value - truth_rate).abs() <= 0.1, "calibrated: {rate:?}");
    assert!(rate.covers(truth_rate), "calibrated: {rate:?}");
    assert!(m.calibration.starts_with("profile bench mic"), "{}", m.calibration);
    let raw = analyze_source(Box::new(Synth::mechanical(&p).unwrap()), &AnalysisConfig::default()).unwrap();
    let raw_rate = raw.rate_s_per_day.unwrap().value;
    assert!((raw_rate - (truth_rate - RECORDER_PPM * 0.0864)).abs() < 0.2, "uncalibrated reads {raw_rate}");
}

#[test]
fn quartz_rate_through_a_calibrated_80_ppm_recorder_is_within_half_a_second_per_month() {
    use tickproof::measurement::{Kind, KindChoice};
    use tickproof::synth::quartz::{QuartzParams, QuartzSynth};
    let mut tone = tone_through_recorder(60.0, 48_000);
    let cal = measure_tone(&mut tone, Path::new("tone.wav"), &ToneConfig::new(1000.0)).unwrap();
    let recorder = tickproof::measurement::RecorderClock {
        recorder_ppm: cal.recorder_ppm,
        source: "bench mic".into(),
        stale: false,
    };
    let truth = 14.0;
    let p = QuartzParams {
        rate_s_per_month: truth,
        inhibition_period_s: Some(10),
        inhibition_ppm: 12.0,
        recorder_ppm: RECORDER_PPM,
        duration_s: 45.0,
        sample_rate_hz: 22_050,
        snr_db: 25.0,
        seed: 3,
        ..QuartzParams::default()
    };
    let cfg = AnalysisConfig { recorder, kind: KindChoice::Quartz, ..AnalysisConfig::default() };
    let m = analyze_source(Box::new(QuartzSynth::new(&p).unwrap()), &cfg).unwrap();
    assert_eq!(m.kind, Kind::Quartz, "{:?}", m.reason);
    let r = m.rate_s_per_month.expect("a rate over whole inhibition periods");
    assert!((r.value - truth).abs() <= 0.5, "calibrated quartz: {r:?}");
    assert!(r.covers(truth), "{r:?}");
    // Uncalibrated, the same recording is 80 ppm (207 s/month) off.
    let raw = analyze_source(
        Box::new(QuartzSynth::new(&p).unwrap()),
        &AnalysisConfig { kind: KindChoice::Quartz, ..AnalysisConfig::default() },
    )
    .unwrap();
    let off = raw.rate_s_per_month.unwrap().value - truth;
    assert!((off + RECORDER_PPM * 2.592).abs() < 1.0, "uncalibrated is off by {off}");
}
