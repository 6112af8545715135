//! Hand-built measurements for the verdict tests (the analyser is tested on its own; here the
//! figures are the ground truth the verdict must respect).
#![allow(dead_code)]
use tickproof::measurement::{software_id, Figure, Finding, Kind, Measurement, Mechanical, Quartz};
use tickproof::verdict::Position;

/// A mechanical measurement: rate and its u95 (random part only), recorder calibrated to
/// `recorder_u95_ppm` (its part added in quadrature as the analyser does), `duration_s` long.
pub fn mech(rate: f64, random_u95: f64, recorder_u95_ppm: f64, duration_s: f64) -> Measurement {
    let c = recorder_u95_ppm * 0.0864;
    let u = (random_u95 * random_u95 + c * c).sqrt();
    Measurement {
        kind: Kind::Mechanical,
        bph: Some(28800),
        rate_s_per_day: Some(Figure::new(rate, u)),
        beat_error_ms: Some(Figure::new(0.3, 0.02)),
        amplitude_deg: Some(Figure::new(270.0, 2.0)),
        lift_angle_deg: 52.0,
        recorder_ppm: Figure::new(0.0, recorder_u95_ppm),
        calibration: if recorder_u95_ppm > 0.0 { "bench-mic".into() } else { "uncalibrated".into() },
        calibration_stale: false,
        beats_used: (duration_s * 8.0) as usize,
        beats_rejected: 0,
        duration_s,
        quality: 0.9,
        snr_db: Some(25.0),
        sample_rate_hz: 48_000,
        channels: 1,
        channel: 0,
        reason: None,
        mechanical: Some(Mechanical {
            bph: 28800,
            bph_source: "auto".into(),
            rate_s_per_day: Figure::new(rate, u),
            beat_error_ms: Some(Figure::new(0.3, 0.02)),
            beat_error_note: None,
            amplitude_deg: Some(Figure::new(270.0, 2.0)),
            tic_amplitude_deg: Some(Figure::new(270.0, 2.5)),
            toc_amplitude_deg: Some(Figure::new(270.0, 2.5)),
            amplitude_note: None,
            lift_angle_deg: 52.0,
            unlock_to_drop_ms: Some([4.0, 4.0]),
            jitter_ms: 0.02,
            rate_spread_s_per_day: Some(1.0),
            windows: Vec::new(),
            beats_used: (duration_s * 8.0) as usize,
            beats_rejected: 0,
        }),
        quartz: None,
        rate_s_per_month: None,
        findings: Vec::new(),
        software: software_id(),
    }
}

/// A full protocol (DU, DD, CD, CL, CU), 60 s each, every position at `rate`, calibrated.
pub fn five_positions(
    rate: f64,
    random_u95_each: f64,
    recorder_u95_ppm: f64,
) -> Vec<(Position, Measurement)> {
    [Position::DU, Position::DD, Position::CD, Position::CL, Position::CU]
        .into_iter()
        .map(|p| (p, mech(rate, random_u95_each, recorder_u95_ppm, 60.0)))
        .collect()
}

/// The per-position random u95 that gives an average with random u95 `u` over 5 positions.
pub fn per_position_u95_for_average(u: f64) -> f64 {
    u * 5f64.sqrt()
}

/// A quartz measurement: rate in s/month with u95 (random part), recorder `recorder_u95_ppm`
/// (0 = uncalibrated), stepping every `step_s` seconds.
pub fn quartz(
    rate_s_per_month: f64,
    random_u95_s_per_month: f64,
    recorder_u95_ppm: f64,
    step_s: f64,
) -> Measurement {
    let c = recorder_u95_ppm * 0.0864;
    let r = random_u95_s_per_month / 30.0;
    let u = (r * r + c * c).sqrt();
    let day = Figure::new(rate_s_per_month / 30.0, u);
    let month = Figure::new(rate_s_per_month, u * 30.0);
    let mut findings = Vec::new();
    if step_s > 1.5 {
        findings.push(Finding::new(
            "battery_end_of_life",
            format!("the hand steps every {step_s:.0} s: battery end of life"),
        ));
    }
    Measurement {
        kind: Kind::Quartz,
        bph: Some(3600),
        rate_s_per_day: Some(day),
        beat_error_ms: None,
        amplitude_deg: None,
        lift_angle_deg: 52.0,
        recorder_ppm: Figure::new(0.0, recorder_u95_ppm),
        calibration: if recorder_u95_ppm > 0.0 { "bench-mic".into() } else { "uncalibrated".into() },
        calibration_stale: false,
        beats_used: 600,
        beats_rejected: 0,
        duration_s: 600.0,
        quality: 0.9,
        snr_db: Some(25.0),
        sample_rate_hz: 48_000,
        channels: 1,
        channel: 0,
        reason: None,
        mechanical: None,
        quartz: Some(Quartz {
            rate_s_per_month: Some(month),
            rate_s_per_day: Some(day),
            step_interval_s: step_s,
            inhibition_period_s: Some(60.0),
            inhibition_correction_ppm: Some(5.0),
            steps_used: 600,
            steps_rejected: 0,
            jitter_ms: 0.05,
            needs_more_s: None,
        }),
        rate_s_per_month: Some(month),
        findings,
        software: software_id(),
    }
}

/// Five positions (60 s each) whose average has exactly `avg_u95` (recorder part of
/// `recorder_u95_ppm` included), every position at `rate`.
pub fn five_with_average_u95(rate: f64, avg_u95: f64, recorder_u95_ppm: f64) -> Vec<(Position, Measurement)> {
    let c = recorder_u95_ppm * 0.0864;
    let random_avg = (avg_u95 * avg_u95 - c * c).max(0.0).sqrt();
    five_positions(rate, per_position_u95_for_average(random_avg), recorder_u95_ppm)
}

/// A built-in policy with its decision rule switched to simple acceptance.
pub fn simple(name: &str) -> tickproof::verdict::Policy {
    let text = tickproof::verdict::builtin_text(name)
        .unwrap()
        .replace("decision_rule = \"guarded_acceptance\"", "decision_rule = \"simple_acceptance\"");
    tickproof::verdict::Policy::from_toml_str(&text, name).unwrap()
}
