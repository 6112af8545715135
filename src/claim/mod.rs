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

use crate::measurement::{AnalysisConfig, Figure, Finding, KindChoice, Measurement, RecorderClock};
use crate::record::id::validate_position;
use crate::record::time::UtcTime;
use crate::record::{
    CalibrationRef, Claim, ClaimId, Evidence, EvidenceRole, Movement, PolicyRef, PositionRecord, RecordError,
    SealedRecord, ServiceKey, Software, VerdictRecord, MAX_POSITIONS,
};
use crate::report::{
    self, PaperStrip, Plot, PositionRate, ReportError, StepResiduals, ToleranceBand, Waveform,
};
use crate::store::{ClaimStore, Draft, StoreError};

mod verify;
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
}

/// The verdict module's input: the claim and one measurement per position.
#[derive(Debug, Clone, Copy)]
pub struct JudgeInput<'a> {
    /// The claim (movement kind, model).
    pub claim: &'a Claim,
    /// Policy name asked for (`--policy`, or the claim's).
    pub policy: Option<&'a str>,
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
        let policy =
            verdict::Policy::load(name).map_err(|e| SeamError::Verdict { message: e.to_string() })?;
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
pub fn measure_and_judge(
    analyzer: &dyn Analyzer,
    claim: &Claim,
    policy: Option<&str>,
    recordings: &[(String, PathBuf)],
    configs: &[AnalysisConfig],
) -> Result<(Vec<Analysis>, Judgement), SeamError> {
    let mut analyses = Vec::with_capacity(recordings.len());
    for ((_, path), config) in recordings.iter().zip(configs) {
        analyses.push(analyzer.analyze(path, config)?);
    }
    let positions: Vec<(String, Measurement)> =
        recordings.iter().zip(&analyses).map(|((p, _), a)| (p.clone(), a.measurement.clone())).collect();
    let judgement = analyzer.judge(&JudgeInput { claim, policy, positions: &positions })?;
    Ok((analyses, judgement))
}

/// A `claim measure` request.
#[derive(Debug, Clone)]
pub struct MeasureRequest {
    /// The claim.
    pub id: ClaimId,
    /// Position name and recording, one per position.
    pub recordings: Vec<(String, PathBuf)>,
    /// Policy to apply (default: the one named when the claim was opened).
    pub policy: Option<String>,
    /// Who measures.
    pub technician: Option<String>,
    /// The recorder's clock as calibrated (a profile, the command line, the host clock);
    /// `None`: uncalibrated, and the policy's assumed recorder error applies.
    pub recorder: Option<RecorderClock>,
    /// Why `recorder` was chosen over the other calibrations (a live claim), for the record.
    pub recorder_reason: Option<String>,
    /// The shop's letterhead for the report (`None`: a plain title).
    pub letterhead: Option<crate::shop::Letterhead>,
}

fn audio_name(position: &str, src: &Path) -> (String, &'static str) {
    let ext = src.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("wav") => (format!("audio/{position}.wav"), "audio/wav"),
        Some("flac") => (format!("audio/{position}.flac"), "audio/flac"),
        _ => (format!("audio/{position}.bin"), "application/octet-stream"),
    }
}

fn put_bytes(
    store: &dyn ClaimStore,
    bytes: &[u8],
    role: EvidenceRole,
    name: String,
    media: &str,
) -> Result<Evidence, StoreError> {
    let o = store.put_evidence_from(&mut { bytes }, Path::new(&name))?;
    Ok(Evidence {
        role,
        name,
        sha256: o.sha256,
        size_bytes: o.size_bytes,
        media_type: media.into(),
        original_name: None,
    })
}

/// `{value, u95}` at `key` of a JSON object, as a figure.
fn figure_at(v: &Value, key: &str) -> Option<Figure> {
    v.get(key).and_then(|f| serde_json::from_value(f.clone()).ok())
}

/// Measures a claim from recordings: stores each byte for byte, analyses the stored copies,
/// judges, draws the plots and the report, and appends the new revision.
pub fn measure_claim(
    store: &mut dyn ClaimStore,
    analyzer: &dyn Analyzer,
    req: &MeasureRequest,
    key: Option<&ServiceKey>,
) -> Result<SealedRecord, ClaimError> {
    let prev = store.get_record(&req.id, None)?;
    if req.recordings.is_empty() || req.recordings.len() > MAX_POSITIONS {
        return Err(RecordError::InvalidField {
            field: "recordings".into(),
            problem: format!("must be 1..{MAX_POSITIONS} files, one per position"),
        }
        .into());
    }
    for (i, (p, _)) in req.recordings.iter().enumerate() {
        validate_position(p)?;
        if req.recordings[..i].iter().any(|(q, _)| q == p) {
            return Err(RecordError::InvalidField {
                field: "positions".into(),
                problem: format!("{p} given twice"),
            }
            .into());
        }
    }
    let claim = prev.record.claim.clone();
    let mut evidence = Vec::new();
    let mut stored = Vec::new();
    // The stored copies as local files (temporary ones for a registry), kept while analysed.
    let mut local = Vec::new();
    for (pos, src) in &req.recordings {
        let obj = store.put_evidence_path(src)?;
        let (name, media) = audio_name(pos, src);
        evidence.push(Evidence {
            role: EvidenceRole::Audio,
            name: name.clone(),
            sha256: obj.sha256.clone(),
            size_bytes: obj.size_bytes,
            media_type: media.into(),
            original_name: src.file_name().map(|n| n.to_string_lossy().chars().take(200).collect()),
        });
        let file = store.evidence_file(&obj.sha256)?;
        stored.push((pos.clone(), file.path().to_path_buf()));
        local.push(file);
    }
    let policy = req.policy.clone().or_else(|| claim.policy.clone());
    let mut config = analysis_config(&claim);
    if let Some(r) = &req.recorder {
        config.recorder = r.clone();
    }
    let configs = vec![config; stored.len()];
    // Errors name the technician's file, not the store's copy of it.
    let original = |file: &Path| -> PathBuf {
        stored
            .iter()
            .zip(&req.recordings)
            .find(|((_, s), _)| s == file)
            .map(|(_, (_, o))| o.clone())
            .unwrap_or_else(|| file.to_path_buf())
    };
    let (analyses, judgement) = measure_and_judge(analyzer, &claim, policy.as_deref(), &stored, &configs)
        .map_err(|e| match e {
            SeamError::Analysis { file, message } => {
                let prefix = format!("{}: ", file.display());
                let message = message.strip_prefix(&prefix).unwrap_or(&message).to_string();
                SeamError::Analysis { file: original(&file), message }
            }
            SeamError::NoSignal { file, reason } => SeamError::NoSignal { file: original(&file), reason },
            other => other,
        })?;

    let now = UtcTime::now().rfc3339();
    let mut positions = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    for ((pos, _), (a, ev)) in req.recordings.iter().zip(analyses.iter().zip(&evidence)) {
        positions.push(PositionRecord {
            position: pos.clone(),
            audio: ev.name.clone(),
            audio_sha256: ev.sha256.clone(),
            measured_utc: now.clone(),
            measurement: serde_json::to_value(&a.measurement).map_err(|e| RecordError::InvalidField {
                field: "measurement".into(),
                problem: e.to_string(),
            })?,
        });
        findings.extend(a.measurement.findings.iter().cloned());
    }
    if let Some(Value::Array(fs)) = judgement.verdict.get("findings") {
        findings.extend(fs.iter().filter_map(|f| serde_json::from_value::<Finding>(f.clone()).ok()));
    }
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.code.clone(), f.message.clone())));
    findings.truncate(crate::record::MAX_LIST_ITEMS);
    let m0 = &analyses[0].measurement;
    // The record states the recorder as the verdict used it: for an uncalibrated recorder, no
    // correction with the policy's assumed u95, never "0 ± 0" (see verdict::recorder).
    let recorder_ppm = judgement
        .verdict
        .get("recorder")
        .and_then(|r| figure_at(r, "correction_ppm"))
        .unwrap_or(m0.recorder_ppm);
    let calibration = CalibrationRef {
        profile: m0.calibration.clone(),
        recorder_ppm,
        stale: m0.calibration_stale,
        sha256: None,
        reason: req.recorder_reason.clone(),
    };
    let verdict = VerdictRecord::from_json(judgement.verdict.clone())?;

    // Plots: skip one whose data cannot be drawn (ReportError::Input), fail on a drawing bug.
    let quartz = claim.movement == Movement::Quartz;
    let mut plots: Vec<Plot> = Vec::new();
    let mut keep = |r: Result<Plot, ReportError>| -> Result<(), ClaimError> {
        match r {
            Ok(p) => {
                plots.push(p);
                Ok(())
            }
            Err(ReportError::Input { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    };
    let (unit, rate_key, avg_key) = if quartz {
        ("s/month", "rate_s_per_month", "average_rate_s_per_month")
    } else {
        ("s/day", "rate_s_per_day", "average_rate_s_per_day")
    };
    let per_day = if quartz { 30.0 } else { 1.0 };
    let with_recorder = |i: usize| -> Option<f64> {
        let f = judgement.verdict.get("positions")?.get(i)?;
        Some(f.get("rate_u95_with_recorder_s_per_day")?.as_f64()? * per_day)
    };
    // Each position drawn with the u95 the verdict used for it (the recorder term included).
    let rates: Vec<PositionRate> = positions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            figure_at(&p.measurement, rate_key).map(|rate| PositionRate {
                position: p.position.clone(),
                rate: Figure::new(rate.value, with_recorder(i).unwrap_or(rate.u95)),
            })
        })
        .collect();
    keep(report::plots::position_rates(
        &rates,
        unit,
        judgement.tolerance,
        figure_at(&judgement.verdict, avg_key),
    ))?;
    let trend: Vec<(String, Vec<crate::measurement::WindowRate>)> = req
        .recordings
        .iter()
        .zip(&analyses)
        .filter_map(|((p, _), a)| a.measurement.mechanical.as_ref().map(|m| (p.clone(), m.windows.clone())))
        .collect();
    keep(report::plots::rate_trend(&trend))?;
    for ((pos, _), a) in req.recordings.iter().zip(&analyses) {
        if let Some(s) = &a.paper_strip {
            keep(report::plots::paper_strip(pos, s))?;
        }
        if let Some(w) = &a.waveform {
            keep(report::plots::waveform(pos, w))?;
        }
        if let Some(s) = &a.steps {
            keep(report::plots::step_residuals(pos, s))?;
        }
    }
    for p in &plots {
        evidence.push(put_bytes(
            store,
            p.svg.as_bytes(),
            EvidenceRole::Plot,
            format!("plots/{}.svg", p.name),
            "image/svg+xml",
        )?);
        evidence.push(put_bytes(
            store,
            &p.png,
            EvidenceRole::Plot,
            format!("plots/{}.png", p.name),
            "image/png",
        )?);
    }
    let technician = req.technician.clone().or_else(|| prev.record.technician.clone());
    let software = Software::current();
    let host = crate::record::host_name();
    let audio: Vec<Evidence> = evidence.iter().filter(|e| e.role == EvidenceRole::Audio).cloned().collect();
    // The receipt of the revision before this one: the store's anchor as the report was made.
    let receipt = store.receipt_for(&req.id, prev.record.revision)?.map(|r| (r.sha256(), r.body.head_seq));
    let html = report::html_report(&report::ReportInput {
        claim_id: req.id.as_str(),
        revision: prev.record.revision + 1,
        created_utc: &now,
        claim: &claim,
        policy: Some(&judgement.policy),
        calibration: Some(&calibration),
        positions: &positions,
        verdict: Some(&verdict),
        findings: &findings,
        evidence: &audio,
        plots: &plots,
        software: &software,
        host: &host,
        technician: technician.as_deref(),
        letterhead: req.letterhead.as_ref(),
        receipt: receipt.as_ref().map(|(sha, seq)| (sha.as_str(), *seq)),
    });
    evidence.push(put_bytes(
        store,
        html.as_bytes(),
        EvidenceRole::Report,
        "report.html".into(),
        "text/html",
    )?);

    let mut draft = Draft::revise(&prev.record, "measured");
    draft.policy = Some(judgement.policy);
    draft.calibration = Some(calibration);
    draft.positions = positions;
    draft.verdict = Some(verdict);
    draft.findings = findings;
    draft.evidence = evidence;
    draft.technician = technician;
    Ok(store.append_draft(draft, key)?)
}
