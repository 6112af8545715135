//! Measuring and verifying a claim: ties the record, the store and the report together.
//!
//! # The seam to the pipeline
//!
//! Everything here reaches the measurement pipeline and the verdict module through the
//! [`Analyzer`] trait, two methods: [`Analyzer::analyze`] (one recording to a
//! [`Measurement`]) and [`Analyzer::judge`] (the measurements to the verdict JSON). The
//! production implementation is [`Pipeline`]; its two method bodies are the only place that
//! names `measurement::analyze_path` and the verdict module. Tests drive the same flow with a
//! deterministic stand-in.
//!
//! `claim measure` copies each recording byte for byte into the store first and analyses the
//! stored copy, so `claim verify` re-analyses exactly the bytes that were measured and must
//! reproduce every figure and the verdict exactly (the pipeline is deterministic).
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::measurement::{AnalysisConfig, Figure, KindChoice, Measurement, RecorderClock};
use crate::record::{Claim, Movement, PolicyRef, RecordError};
use crate::report::{PaperStrip, ReportError, StepResiduals, ToleranceBand, Waveform};
use crate::store::StoreError;

mod pipeline;
mod verify;
pub use pipeline::{measure_claim, MeasureRequest};
pub use verify::{
    verify_export, verify_export_with, verify_stored, verify_stored_with, ReceiptRef, Verification,
    VerifyOptions,
};

/// What the pipeline gives for one recording: the measurement and, when it has them, the series
/// the plots draw (the integrator fills the optional ones as the pipeline exposes them).
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The measurement.
    pub measurement: Measurement,
    /// Per-beat timing for the paper strip.
    pub paper_strip: Option<PaperStrip>,
    /// Averaged tic and toc sounds.
    pub waveform: Option<Waveform>,
    /// Quartz step residuals.
    pub steps: Option<StepResiduals>,
}

impl Analysis {
    /// An analysis with only the measurement.
    pub fn new(measurement: Measurement) -> Analysis {
        Analysis { measurement, paper_strip: None, waveform: None, steps: None }
    }
}

/// What the verdict module gives for a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The verdict as `judge --json` writes it: at least `verdict`, `reasons`, `rule`, and
    /// `average_rate_s_per_day` (quartz also `average_rate_s_per_month`) as `{value, u95}`.
    pub verdict: Value,
    /// The policy applied (name, version, content hash, clause).
    pub policy: PolicyRef,
    /// The tolerance band to draw (s/day, or s/month for quartz), when the policy has one.
    pub tolerance: Option<ToleranceBand>,
    /// The exact text of the policy applied (its SHA-256 is `policy.sha256`), kept with the
    /// claim as evidence so that `claim verify` re-applies it; `None` when the verdict module
    /// has no text to give.
    pub policy_text: Option<String>,
}

/// The verdict module's input: the claim and one measurement per position.
#[derive(Debug, Clone, Copy)]
pub struct JudgeInput<'a> {
    /// The claim (movement kind, model).
    pub claim: &'a Claim,
    /// Policy name asked for (`--policy`, or the claim's).
    pub policy: Option<&'a str>,
    /// The exact policy text to apply instead of looking `policy` up: the text a claim record
    /// kept (at most [`crate::verdict::policy::POLICY_MAX_BYTES`], validated like a policy file).
    pub policy_text: Option<&'a str>,
    /// Position name and measurement, in the order measured.
    pub positions: &'a [(String, Measurement)],
}

/// The two calls into the pipeline.
pub trait Analyzer {
    /// Measures one recording (the stored copy of the evidence).
    fn analyze(&self, audio: &Path, config: &AnalysisConfig) -> Result<Analysis, SeamError>;
    /// Judges the measurements of a claim against a policy.
    fn judge(&self, input: &JudgeInput) -> Result<Judgement, SeamError>;
}

/// The production analyzer: the measurement pipeline and the verdict module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pipeline;

impl Analyzer for Pipeline {
    fn analyze(&self, audio: &Path, config: &AnalysisConfig) -> Result<Analysis, SeamError> {
        let (m, detail) = crate::measurement::pipeline::analyze_path_detailed(audio, config)
            .map_err(|e| SeamError::Analysis { file: audio.to_path_buf(), message: e.to_string() })?;
        if m.kind == crate::measurement::Kind::None {
            return Err(SeamError::NoSignal {
                file: audio.to_path_buf(),
                reason: m.reason.clone().unwrap_or_else(|| "no watch heard".into()),
            });
        }
        let mut a = Analysis::new(m);
        if let Some(e) = &detail.mechanical {
            a.paper_strip = Some(PaperStrip {
                t_s: e.paper_strip.iter().map(|p| p.0).collect(),
                deviation_ms: e.paper_strip.iter().map(|p| p.1).collect(),
                side: e.paper_strip.iter().map(|p| p.2).collect(),
                rate_s_per_day: Some(e.mechanical.rate_s_per_day.value),
            });
            let [tic, toc] = &e.waveforms;
            let n = tic.samples.len().min(toc.samples.len());
            let t0 = tic.unlock_ms;
            a.waveform = Some(Waveform {
                t_ms: (0..n).map(|i| i as f64 * tic.dt_ms - t0).collect(),
                tic: tic.samples[..n].iter().map(|&v| v as f64).collect(),
                toc: toc.samples[..n].iter().map(|&v| v as f64).collect(),
                unlock_ms: Some(0.0),
                drop_ms: tic.drop_ms.map(|d| d - t0),
            });
        }
        if let Some(steps) = &detail.quartz_steps {
            let used: Vec<_> = steps.iter().filter(|s| s.used).collect();
            if !used.is_empty() {
                a.steps = Some(StepResiduals {
                    t_s: used.iter().map(|s| s.t_s).collect(),
                    residual_ms: used.iter().map(|s| s.residual_s * 1000.0).collect(),
                    inhibition_t_s: Vec::new(),
                });
            }
        }
        Ok(a)
    }

    fn judge(&self, input: &JudgeInput) -> Result<Judgement, SeamError> {
        use crate::verdict::{self, Position};
        let name = input.policy.or(input.claim.policy.as_deref()).ok_or_else(|| SeamError::Verdict {
            message: "no policy named for the claim (use --policy)".into(),
        })?;
        let policy = match input.policy_text {
            Some(text) => verdict::Policy::from_toml_str(text, &format!("policy/{name}.toml")),
            None => verdict::Policy::load(name),
        }
        .map_err(|e| SeamError::Verdict { message: e.to_string() })?;
        let movement = match input.claim.movement {
            crate::record::Movement::Mechanical => verdict::Movement::Mechanical,
            crate::record::Movement::Quartz => verdict::Movement::Quartz,
        };
        let positions: Vec<(Position, Measurement)> = input
            .positions
            .iter()
            .map(|(p, m)| (Position::parse(p).unwrap_or(Position::Unstated), m.clone()))
            .collect();
        let v = verdict::judge(&policy, movement, None, &positions);
        let tolerance = v.limit.as_ref().map(|l| ToleranceBand { lo: l.min, hi: l.max });
        let clause = v.reasons.first().cloned();
        let r = policy.reference();
        let verdict = serde_json::to_value(&v).map_err(|e| SeamError::Verdict { message: e.to_string() })?;
        Ok(Judgement {
            verdict,
            policy: crate::record::PolicyRef { name: r.name, version: r.version, sha256: r.sha256, clause },
            tolerance,
            policy_text: Some(policy.text),
        })
    }
}

/// Errors at the seam to the pipeline.
///
/// Recoverability: [`NotConnected`](SeamError::NotConnected) means this build has no pipeline
/// (nothing is written; exit 1). [`NoSignal`](SeamError::NoSignal) and
/// [`Analysis`](SeamError::Analysis) concern one recording: record it again or fix the file
/// (exit 3 / 2). [`Verdict`](SeamError::Verdict): the policy or the measurements cannot be
/// judged (exit 2).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SeamError {
    /// The pipeline or the verdict module is not part of this build.
    NotConnected {
        /// Which part.
        what: String,
    },
    /// No watch heard in a recording.
    NoSignal {
        /// The recording.
        file: PathBuf,
        /// Why, in plain words.
        reason: String,
    },
    /// A recording could not be analysed.
    Analysis {
        /// The recording.
        file: PathBuf,
        /// Why.
        message: String,
    },
    /// The measurements could not be judged.
    Verdict {
        /// Why.
        message: String,
    },
}

impl fmt::Display for SeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeamError::NotConnected { what } => {
                write!(f, "this build cannot analyse: {what} is not connected")
            }
            SeamError::NoSignal { file, reason } => {
                write!(f, "{}: no watch signal: {reason}", file.display())
            }
            SeamError::Analysis { file, message } => write!(f, "{}: {message}", file.display()),
            SeamError::Verdict { message } => write!(f, "verdict: {message}"),
        }
    }
}

impl std::error::Error for SeamError {}

/// Errors of the claim workflow: one of the layers it drives.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClaimError {
    /// The store (see [`StoreError`] for recoverability).
    Store(StoreError),
    /// The record layer (see [`RecordError`]).
    Record(RecordError),
    /// The pipeline seam (see [`SeamError`]).
    Seam(SeamError),
    /// A plot or the report (see [`ReportError`]).
    Report(ReportError),
}

impl fmt::Display for ClaimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimError::Store(e) => e.fmt(f),
            ClaimError::Record(e) => e.fmt(f),
            ClaimError::Seam(e) => e.fmt(f),
            ClaimError::Report(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ClaimError {}

impl From<StoreError> for ClaimError {
    fn from(e: StoreError) -> Self {
        ClaimError::Store(e)
    }
}
impl From<RecordError> for ClaimError {
    fn from(e: RecordError) -> Self {
        ClaimError::Record(e)
    }
}
impl From<SeamError> for ClaimError {
    fn from(e: SeamError) -> Self {
        ClaimError::Seam(e)
    }
}
impl From<ReportError> for ClaimError {
    fn from(e: ReportError) -> Self {
        ClaimError::Report(e)
    }
}

/// The analysis settings a claim implies: its lift angle (52 when not stated) and movement kind.
pub fn analysis_config(claim: &Claim) -> AnalysisConfig {
    AnalysisConfig {
        lift_angle_deg: claim.lift_angle_deg.unwrap_or(52.0),
        kind: match claim.movement {
            Movement::Mechanical => KindChoice::Mechanical,
            Movement::Quartz => KindChoice::Quartz,
        },
        ..AnalysisConfig::default()
    }
}

/// The settings to re-analyse a recorded measurement: the claim's, with the recorder correction
/// exactly as recorded (so an aged calibration profile does not change the figures).
pub fn reanalysis_config(claim: &Claim, recorded: &Value) -> AnalysisConfig {
    let mut c = analysis_config(claim);
    let ppm = recorded.get("recorder_ppm").and_then(|f| serde_json::from_value::<Figure>(f.clone()).ok());
    if let Some(ppm) = ppm {
        c.recorder = RecorderClock {
            recorder_ppm: ppm,
            source: recorded.get("calibration").and_then(Value::as_str).unwrap_or("uncalibrated").to_string(),
            stale: recorded.get("calibration_stale").and_then(Value::as_bool).unwrap_or(false),
        };
    }
    if let Some(l) = recorded.get("lift_angle_deg").and_then(Value::as_f64) {
        c.lift_angle_deg = l;
    }
    c
}

/// Analyses every recording, then judges them together: the whole use of the pipeline.
/// `policy_text`: the exact policy to apply (a recorded claim's), else `policy` is looked up.
pub fn measure_and_judge(
    analyzer: &dyn Analyzer,
    claim: &Claim,
    policy: Option<&str>,
    policy_text: Option<&str>,
    recordings: &[(String, PathBuf)],
    configs: &[AnalysisConfig],
) -> Result<(Vec<Analysis>, Judgement), SeamError> {
    let mut analyses = Vec::with_capacity(recordings.len());
    for ((_, path), config) in recordings.iter().zip(configs) {
        analyses.push(analyzer.analyze(path, config)?);
    }
    let positions: Vec<(String, Measurement)> =
        recordings.iter().zip(&analyses).map(|((p, _), a)| (p.clone(), a.measurement.clone())).collect();
    let judgement = analyzer.judge(&JudgeInput { claim, policy, policy_text, positions: &positions })?;
    Ok((analyses, judgement))
}
