//! Shared by the record tests: a claim, recordings, and a deterministic stand-in for the
//! pipeline (the real one lives on another branch; the record machinery only needs an analyzer
//! whose output is a pure function of the audio bytes, which the real pipeline also is).
#![allow(dead_code)]
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tickproof::claim::{Analysis, Analyzer, JudgeInput, Judgement, SeamError};
use tickproof::measurement::{AnalysisConfig, Figure, Finding, Kind, Measurement, Mechanical, WindowRate};
use tickproof::record::{Claim, Movement, PolicyRef};
use tickproof::report::{PaperStrip, ToleranceBand, Waveform};

/// A mechanical claim.
pub fn claim(serial: &str) -> Claim {
    Claim {
        brand: "Seiko".into(),
        model: "SRPD55".into(),
        serial: serial.into(),
        movement: Movement::Mechanical,
        lift_angle_deg: Some(53.0),
        purchase_date: Some("2024-05-17".into()),
        complaint: Some("It loses about a minute a day, since the first week.".into()),
        technician: Some("A. Ivanova".into()),
        policy: Some("bg-15".into()),
    }
}

/// Writes `n` pseudo-recordings (distinct bytes from `seed`) into `dir`.
pub fn recordings(dir: &Path, n: usize, seed: u64) -> Vec<PathBuf> {
    let mut rng = tickproof::synth::rng::Rng::new(seed);
    (0..n)
        .map(|i| {
            let p = dir.join(format!("pos{i}.wav"));
            let mut bytes = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
            bytes.extend((0..4096).map(|_| (rng.next_u64() & 0xff) as u8));
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

/// Deterministic stand-in for the pipeline: every figure is a pure function of the file bytes
/// (so tampering with a byte changes the figures, and re-analysis of the same bytes reproduces
/// them). `drift` adds to the rate, to simulate a pipeline that does not reproduce a figure.
pub struct StandIn {
    pub drift: f64,
}

fn h(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Analyzer for StandIn {
    fn analyze(&self, audio: &Path, config: &AnalysisConfig) -> Result<Analysis, SeamError> {
        let bytes = std::fs::read(audio)
            .map_err(|e| SeamError::Analysis { file: audio.into(), message: e.to_string() })?;
        let d = h(&bytes);
        let rate = (u16::from_le_bytes([d[0], d[1]]) % 800) as f64 / 10.0 - 60.0 + self.drift;
        let windows: Vec<WindowRate> = (0..6)
            .map(|i| WindowRate {
                start_s: i as f64 * 10.0,
                end_s: i as f64 * 10.0 + 10.0,
                rate_s_per_day: Figure::new(rate + (d[2 + i] as f64 - 128.0) / 100.0, 0.8),
                beats: 80,
            })
            .collect();
        let m = Measurement {
            kind: Kind::Mechanical,
            bph: Some(28800),
            rate_s_per_day: Some(Figure::new(rate, 0.35)),
            beat_error_ms: Some(Figure::new(d[8] as f64 / 400.0, 0.02)),
            amplitude_deg: Some(Figure::new(200.0 + d[9] as f64 / 4.0, 2.5)),
            lift_angle_deg: config.lift_angle_deg,
            recorder_ppm: config.recorder.recorder_ppm,
            calibration: config.recorder.source.clone(),
            calibration_stale: config.recorder.stale,
            beats_used: 480,
            beats_rejected: d[10] as usize % 5,
            duration_s: 60.0,
            quality: 0.5 + d[11] as f64 / 512.0,
            snr_db: Some(20.0),
            sample_rate_hz: 48000,
            channels: 1,
            channel: 0,
            reason: None,
            mechanical: Some(Mechanical {
                bph: 28800,
                bph_source: "auto".into(),
                rate_s_per_day: Figure::new(rate, 0.35),
                beat_error_ms: Some(Figure::new(d[8] as f64 / 400.0, 0.02)),
                beat_error_note: None,
                amplitude_deg: Some(Figure::new(200.0 + d[9] as f64 / 4.0, 2.5)),
                tic_amplitude_deg: None,
                toc_amplitude_deg: None,
                amplitude_note: None,
                lift_angle_deg: config.lift_angle_deg,
                unlock_to_drop_ms: Some([6.1, 6.3]),
                jitter_ms: 0.05,
                rate_spread_s_per_day: Some(0.5),
                windows,
                beats_used: 480,
                beats_rejected: 0,
            }),
            quartz: None,
            rate_s_per_month: None,
            findings: if d[12] % 2 == 0 {
                vec![Finding::new("beat_error_high", "Beat error is high.")]
            } else {
                vec![]
            },
            software: "stand-in".into(),
        };
        let n = 240;
        let t_s: Vec<f64> = (0..n).map(|i| i as f64 * 0.125).collect();
        let side: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        let deviation_ms = t_s
            .iter()
            .zip(&side)
            .enumerate()
            .map(|(i, (t, s))| {
                rate / 86.4 * t + if *s == 0 { 0.4 } else { -0.4 } + (d[i % 32] as f64 - 128.0) / 2000.0
            })
            .collect();
        let t_ms: Vec<f64> = (0..400).map(|i| i as f64 * 0.05).collect();
        let env = |t: f64, at: f64| if t < at { 0.0 } else { (-(t - at) / 1.2).exp() };
        let tic = t_ms.iter().map(|&t| env(t, 0.0) + 0.6 * env(t, 6.1)).collect();
        let toc = t_ms.iter().map(|&t| 0.8 * env(t, 0.0) + 0.5 * env(t, 6.3)).collect();
        Ok(Analysis {
            measurement: m,
            paper_strip: Some(PaperStrip { t_s, deviation_ms, side, rate_s_per_day: Some(rate) }),
            waveform: Some(Waveform { t_ms, tic, toc, unlock_ms: Some(0.0), drop_ms: Some(6.2) }),
            steps: None,
        })
    }

    fn judge(&self, input: &JudgeInput) -> Result<Judgement, SeamError> {
        // The text applied: a recorded claim's when given (verify), else the stand-in's own.
        let text = input.policy_text.unwrap_or("stand-in policy text");
        let rates: Vec<Figure> = input.positions.iter().filter_map(|(_, m)| m.rate_s_per_day).collect();
        let n = rates.len() as f64;
        let avg = rates.iter().map(|f| f.value).sum::<f64>() / n;
        let u = (rates.iter().map(|f| f.u95 * f.u95).sum::<f64>()).sqrt() / n;
        let verdict = if avg - u > 15.0 || avg + u < -15.0 {
            "defect"
        } else if avg - u >= -15.0 && avg + u <= 15.0 {
            "within_spec"
        } else {
            "inconclusive"
        };
        Ok(Judgement {
            verdict: json!({
                "verdict": verdict,
                "reasons": [format!("average rate {avg:+.2} ± {u:.2} s/day against ±15 s/day")],
                "rule": "guarded acceptance",
                "average_rate_s_per_day": {"value": avg, "u95": u},
                "positions": input.positions.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
                "findings": [],
            }),
            policy: PolicyRef {
                name: input.policy.unwrap_or("bg-15").into(),
                version: "1".into(),
                sha256: tickproof::record::canonical::sha256_hex(text.as_bytes()),
                clause: Some(
                    "Mechanical and automatic watches: permitted deviation ±15 seconds per day.".into(),
                ),
            },
            tolerance: Some(ToleranceBand { lo: -15.0, hi: 15.0 }),
            policy_text: Some(text.to_string()),
        })
    }
}
