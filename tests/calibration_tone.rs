//! The tone method against synthetic recordings of a known recorder error.
//!
//! A tone of true frequency `f` is rendered at the recorder's sample instants
//! `n / (fs (1 + ppm 1e-6))`, with white noise, mains hum and slowly wandering phase noise,
//! streamed block by block (nothing is held in memory).
use std::path::Path;
use tickproof::calibration::{measure_tone, CalibrationError, ToneConfig};
use tickproof::source::{AudioInfo, BlockSource, Error};
use tickproof::synth::rng::Rng;

#[derive(Clone)]
struct Tone {
    freq_hz: f64,
    ppm: f64,
    amp: f64,
    noise: f64,
    hum: f64,
    /// Slowly wandering timing jitter of the tone (clock jitter), seconds RMS.
    jitter_s: f64,
    /// (start_s, end_s) where the tone is silent.
    dropout: Option<(f64, f64)>,
    /// Put the tone on this channel of `channels`, noise only on the others.
    channel: u16,
    channels: u16,
}

struct ToneSource {
    t: Tone,
    info: AudioInfo,
    seed: u64,
    rng: Rng,
    n: u64,
    phi: f64,
    theta: f64,
}

impl ToneSource {
    fn new(t: Tone, fs: u32, seconds: f64, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let theta = rng.range(0.0, std::f64::consts::TAU);
        let info = AudioInfo {
            sample_rate_hz: fs,
            channels: t.channels,
            frames: Some((seconds * fs as f64) as u64),
            encoding: "synthetic tone".into(),
        };
        ToneSource { t, info, seed, rng, n: 0, phi: 0.0, theta }
    }
}

impl BlockSource for ToneSource {
    fn info(&self) -> &AudioInfo {
        &self.info
    }
    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let ch = self.info.channels as usize;
        let total = self.info.frames.unwrap();
        let frames = (out.len() / ch).min((total - self.n) as usize);
        let fs = self.info.sample_rate_hz as f64;
        let cyc = self.t.freq_hz / (fs * (1.0 + self.t.ppm * 1e-6));
        // AR(1) phase noise updated every 64 samples, correlation time ~0.2 s.
        let a = (-64.0 / (0.2 * fs)).exp();
        for i in 0..frames {
            let n = self.n + i as u64;
            if n % 64 == 0 {
                self.phi = a * self.phi + (1.0 - a * a).sqrt() * self.t.jitter_s * self.rng.gauss();
            }
            let t_true = n as f64 / (fs * (1.0 + self.t.ppm * 1e-6));
            let silent = self.t.dropout.is_some_and(|(s, e)| t_true >= s && t_true < e);
            let ph = 2.0 * std::f64::consts::PI * ((cyc * n as f64).fract() + self.t.freq_hz * self.phi)
                + self.theta;
            let tone = if silent { 0.0 } else { self.t.amp * ph.cos() };
            let hum = self.t.hum * (2.0 * std::f64::consts::PI * 50.0 * t_true).sin();
            for c in 0..ch {
                let s = if c == self.t.channel as usize { tone + hum } else { hum * 0.5 };
                out[i * ch + c] = (s + self.t.noise * self.rng.gauss()) as f32;
            }
        }
        self.n += frames as u64;
        Ok(frames)
    }
    fn rewind(&mut self) -> Result<(), Error> {
        let t = self.t.clone();
        let (fs, secs) =
            (self.info.sample_rate_hz, self.info.frames.unwrap() as f64 / self.info.sample_rate_hz as f64);
        *self = ToneSource::new(t, fs, secs, self.seed);
        Ok(())
    }
}

fn tone(freq_hz: f64, ppm: f64) -> Tone {
    Tone {
        freq_hz,
        ppm,
        amp: 0.3,
        noise: 0.03,
        hum: 0.01,
        jitter_s: 2e-6,
        dropout: None,
        channel: 0,
        channels: 1,
    }
}

const NAME: &str = "synthetic.wav";

#[test]
fn tone_recovers_recorder_error_within_0_05_ppm_from_60_s() {
    let mut worst: f64 = 0.0;
    for (k, &(ppm, f)) in
        [(-150.0, 1000.0), (-37.3, 440.0), (0.0, 10_000.0), (80.0, 1000.0), (149.9, 3_141.5)]
            .iter()
            .enumerate()
    {
        let mut src = ToneSource::new(tone(f, ppm), 44_100, 60.0, 11 + k as u64);
        let r = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(f)).unwrap();
        let err = r.recorder_ppm.value - ppm;
        worst = worst.max(err.abs());
        assert!(err.abs() <= 0.05, "ppm {ppm} f {f}: measured {:?} (error {err:+.4})", r.recorder_ppm);
        assert!(r.recorder_ppm.u95 < 0.05, "u95 {:?}", r.recorder_ppm);
        assert!((r.duration_s - 60.0).abs() < 1e-6);
    }
    eprintln!("tone, 60 s at 44.1 kHz: worst error {worst:.5} ppm");
}

#[test]
fn tone_u95_covers_truth_in_90_to_98_percent_of_seeds() {
    let seeds = 200;
    let mut covered = 0;
    let mut rng = Rng::new(2024);
    let (mut sum_u95, mut worst) = (0.0, 0.0f64);
    for seed in 0..seeds {
        let mut t = tone(rng.range(100.0, 8000.0), rng.range(-150.0, 150.0));
        t.noise = t.amp * 10f64.powf(-rng.range(0.0, 30.0) / 20.0); // SNR 0..30 dB
        t.jitter_s = rng.range(0.0, 5e-6);
        let mut src = ToneSource::new(t.clone(), 22_050, 20.0, 5000 + seed);
        let r = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(t.freq_hz)).unwrap();
        if !r.recorder_ppm.covers(t.ppm) {
            eprintln!(
                "miss: f {:.1} Hz noise {:.4} jitter {:.1e} s: {:?} truth {:.3}",
                t.freq_hz, t.noise, t.jitter_s, r.recorder_ppm, t.ppm
            );
        }
        covered += r.recorder_ppm.covers(t.ppm) as usize;
        sum_u95 += r.recorder_ppm.u95;
        worst = worst.max((r.recorder_ppm.value - t.ppm).abs());
    }
    let c = covered as f64 / seeds as f64;
    eprintln!(
        "tone coverage {c:.3} over {seeds} seeds; mean u95 {:.4} ppm; worst error {worst:.4} ppm",
        sum_u95 / seeds as f64
    );
    assert!((0.90..=0.98).contains(&c), "coverage {c}");
}

#[test]
fn tone_on_the_second_channel_is_found_there() {
    let mut t = tone(1000.0, 42.0);
    t.channels = 2;
    t.channel = 1;
    let mut src = ToneSource::new(t, 22_050, 10.0, 3);
    let r = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(1000.0)).unwrap();
    assert_eq!(r.channel, 1);
    assert!(r.recorder_ppm.covers(42.0) && r.recorder_ppm.u95 < 0.5, "{:?}", r.recorder_ppm);
}

#[test]
fn tone_with_a_dropout_still_measures() {
    let mut t = tone(1000.0, -95.0);
    t.dropout = Some((7.0, 9.5));
    let mut src = ToneSource::new(t, 22_050, 30.0, 4);
    let r = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(1000.0)).unwrap();
    assert!(r.recorder_ppm.covers(-95.0) && r.recorder_ppm.u95 < 0.1, "{:?}", r.recorder_ppm);
    assert!(r.points_rejected > 0);
}

#[test]
fn noise_without_a_tone_is_no_reference() {
    let mut t = tone(1000.0, 0.0);
    t.amp = 0.0;
    let mut src = ToneSource::new(t, 22_050, 10.0, 5);
    let e = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(1000.0)).unwrap_err();
    assert!(matches!(e, CalibrationError::NoReference { .. }), "{e}");
    assert!(e.to_string().starts_with(NAME), "{e}");
}

#[test]
fn wrong_stated_frequency_is_no_reference_with_a_hint() {
    let mut src = ToneSource::new(tone(1000.0, 10.0), 22_050, 10.0, 6);
    let e = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(1020.0)).unwrap_err();
    assert!(matches!(e, CalibrationError::NoReference { .. }), "{e}");
    assert!(e.to_string().contains("999.") && e.to_string().contains("wrong --freq-hz"), "{e}");
}

#[test]
fn frequency_outside_the_band_is_refused() {
    for f in [0.0, 5.0, 10_000.0, f64::NAN] {
        let mut src = ToneSource::new(tone(1000.0, 0.0), 22_050, 5.0, 7);
        let e = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(f)).unwrap_err();
        assert!(matches!(e, CalibrationError::InvalidArgument { .. }), "{f}: {e}");
    }
}

#[test]
fn too_short_a_recording_is_insufficient() {
    let mut src = ToneSource::new(tone(1000.0, 0.0), 22_050, 1.0, 8);
    let e = measure_tone(&mut src, Path::new(NAME), &ToneConfig::new(1000.0)).unwrap_err();
    assert!(matches!(e, CalibrationError::Insufficient { .. }), "{e}");
}
