//! Shared by the metamorphic, third-party and plausibility tests: audio in memory (from a WAV
//! file or a synthetic recording), one analysis of it, and a table row that shows every figure
//! so a failing assertion says everything at once. Each helper does one thing.
#![allow(dead_code)]
pub mod bursts;
pub mod faint;
pub mod rooms;

use std::path::{Path, PathBuf};
use tickproof::measurement::{analyze_source, AnalysisConfig, Figure, Kind, Measurement};
use tickproof::source::{BlockSource, MemorySource};
use tickproof::synth::{MechanicalParams, Synth, Truth};

/// Interleaved samples in [-1, 1] with their format.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub samples: Vec<f32>,
    pub fs: u32,
    pub channels: u16,
}

impl Audio {
    /// Mono audio.
    pub fn mono(samples: Vec<f32>, fs: u32) -> Self {
        Audio { samples, fs, channels: 1 }
    }
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels as usize
    }
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.frames() as f64 / self.fs as f64
    }
    /// Seconds to whole frames, rounded to the nearest frame.
    pub fn frames_in(&self, seconds: f64) -> usize {
        (seconds * self.fs as f64).round() as usize
    }
}

/// A file under `../shared/recordings` (relative to the crate root), or `None` (with a note on
/// stderr saying the test is skipped) when it is not on this machine.
pub fn shared_recording(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/recordings").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is not here", p.display());
        None
    }
}

/// Reads a WAV file (integer PCM of any width, or 32-bit float) into f32 samples in [-1, 1].
pub fn read_wav(path: &Path) -> Audio {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let full = (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>().map(|s| s.unwrap() as f32 / full).collect()
        }
    };
    Audio { samples, fs: spec.sample_rate, channels: spec.channels }
}

/// Reads a whole block source (a synthetic recording, say) into memory.
pub fn read_source(src: &mut dyn BlockSource) -> Audio {
    let (fs, channels) = (src.info().sample_rate_hz, src.info().channels);
    let mut block = vec![0f32; 4096 * channels as usize];
    let mut samples = Vec::new();
    loop {
        let n = src.read_frames(&mut block).unwrap();
        if n == 0 {
            break;
        }
        samples.extend_from_slice(&block[..n * channels as usize]);
    }
    Audio { samples, fs, channels }
}

/// A synthetic mechanical recording rendered into memory, with its truth.
pub fn render(p: &MechanicalParams) -> (Audio, Truth) {
    let mut s = Synth::mechanical(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    let truth = s.truth();
    (read_source(&mut s), truth)
}

/// The analysis of audio held in memory; an error is kept as text so a table can show it.
pub fn analyze(a: &Audio, cfg: &AnalysisConfig) -> Result<Measurement, String> {
    let src = MemorySource::new(a.samples.clone(), a.fs, a.channels);
    analyze_source(Box::new(src), cfg).map_err(|e| e.to_string())
}

/// An analysis configuration with only the lift angle set.
pub fn lift(lift_angle_deg: f64) -> AnalysisConfig {
    AnalysisConfig { lift_angle_deg, ..AnalysisConfig::default() }
}

/// `value±u95`, or `-` when the figure is absent.
pub fn fig(f: Option<Figure>) -> String {
    match f {
        Some(f) if f.u95 != 0.0 && f.u95.abs() < 0.001 => format!("{:.3}±{:.1e}", f.value, f.u95),
        Some(f) => format!("{:.3}±{:.3}", f.value, f.u95),
        None => "-".into(),
    }
}

/// One line with every figure of an analysis.
pub fn row(name: &str, m: &Result<Measurement, String>) -> String {
    match m {
        Err(e) => format!("{name:<22} ERROR {e}"),
        Ok(m) => {
            let kind = match m.kind {
                Kind::Mechanical => "mech",
                Kind::Quartz => "quartz",
                Kind::None => "none",
            };
            let t = m.mechanical.as_ref().and_then(|x| x.unlock_to_drop_ms);
            format!(
                "{name:<22} {kind:<6} bph {:<6} rate {:<16} be {:<14} amp {:<16} t {} {}",
                m.bph.map_or("-".into(), |b| b.to_string()),
                fig(m.rate_s_per_day),
                fig(m.beat_error_ms),
                fig(m.amplitude_deg),
                t.map_or("-".into(), |t| format!("{:.3}/{:.3}ms", t[0], t[1])),
                m.reason.as_deref().unwrap_or(""),
            )
        }
    }
}

/// Every figure's u95 is finite and strictly positive (a 95% interval of zero width is a claim
/// no measurement can make). Returns the names of the figures that break this.
pub fn bad_u95(m: &Measurement) -> Vec<String> {
    let mut figs = vec![
        ("rate", m.rate_s_per_day),
        ("beat error", m.beat_error_ms),
        ("amplitude", m.amplitude_deg),
        ("rate s/month", m.rate_s_per_month),
    ];
    if let Some(x) = &m.mechanical {
        figs.push(("tic amplitude", x.tic_amplitude_deg));
        figs.push(("toc amplitude", x.toc_amplitude_deg));
    }
    figs.into_iter()
        .filter_map(|(n, f)| f.map(|f| (n, f)))
        .filter(|(_, f)| !(f.u95.is_finite() && f.u95 > 0.0 && f.value.is_finite()))
        .map(|(n, f)| format!("{n} {f:?}"))
        .collect()
}
