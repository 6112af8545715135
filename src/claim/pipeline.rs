//! `claim measure`: each recording stored byte for byte, the stored copies analysed and judged,
//! the plots and the report drawn, and the new revision appended with every file it rests on
//! (the audio, the policy text applied, the plots, the report).
use serde_json::Value;
use std::path::{Path, PathBuf};

use super::{analysis_config, measure_and_judge, Analyzer, ClaimError, SeamError};
use crate::measurement::{Figure, Finding, RecorderClock};
use crate::record::id::validate_position;
use crate::record::time::UtcTime;
use crate::record::{
    CalibrationRef, ClaimId, Evidence, EvidenceRole, Movement, PolicyRef, PositionRecord, RecordError,
    SealedRecord, ServiceKey, Software, VerdictRecord, MAX_POSITIONS,
};
use crate::report::{self, Plot, PositionRate, ReportError};
use crate::store::{ClaimStore, Draft, StoreError};

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

/// The policy text a verdict applied, kept as evidence `policy/NAME.toml` for `claim verify` to
/// re-apply. Refused when it is not the text the verdict names: the record would contradict
/// itself.
fn policy_evidence(store: &dyn ClaimStore, policy: &PolicyRef, text: &str) -> Result<Evidence, ClaimError> {
    let sha = crate::verdict::policy::sha256_hex(text);
    if sha != policy.sha256 {
        return Err(SeamError::Verdict {
            message: format!(
                "policy {}: the text applied has SHA-256 {sha}, the verdict names {}",
                policy.name, policy.sha256
            ),
        }
        .into());
    }
    let name = format!("policy/{}.toml", policy.name);
    Ok(put_bytes(store, text.as_bytes(), EvidenceRole::Policy, name, "application/toml")?)
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
    let (analyses, judgement) =
        measure_and_judge(analyzer, &claim, policy.as_deref(), None, &stored, &configs).map_err(
            |e| match e {
                SeamError::Analysis { file, message } => {
                    let prefix = format!("{}: ", file.display());
                    let message = message.strip_prefix(&prefix).unwrap_or(&message).to_string();
                    SeamError::Analysis { file: original(&file), message }
                }
                SeamError::NoSignal { file, reason } => SeamError::NoSignal { file: original(&file), reason },
                other => other,
            },
        )?;

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
    if let Some(text) = &judgement.policy_text {
        evidence.push(policy_evidence(store, &judgement.policy, text)?);
    }

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
