//! The file driver: a recording read twice (the beat rate from all of it, then the beats),
//! quartz tried when no mechanical watch is heard, and the result made a [`Measurement`].
use super::{AnalyzeError, Analyzer, MechanicalOutcome, BLOCK_FRAMES, NARROW_BAND_HZ};
use crate::beats::acquire::{RateChoice, RateScan, RATE_TOLERANCE};
use crate::estimators::mechanical::MechanicalEstimate;
use crate::measurement::types::*;
use crate::source::{self, BlockSource};
use std::path::{Path, PathBuf};

fn none(reason: String) -> (Kind, Option<String>) {
    (Kind::None, Some(reason))
}

/// Findings about the file itself: `nonfinite` samples that were not numbers (NaN, infinite)
/// and were replaced, and what a cut file lacks.
fn source_findings(nonfinite: u64, truncation: Option<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    if nonfinite > 0 {
        out.push(Finding::new(
            "samples_not_finite",
            format!(
                "{nonfinite} samples of the recording were not finite numbers (NaN or infinite) and were replaced by \
                 0 or full scale: the file is damaged or was written by a faulty program"
            ),
        ));
    }
    if let Some(t) = truncation {
        out.push(Finding::new("recording_truncated", format!("{t}; the figures are from what is there")));
    }
    out
}

/// A forced beat rate the ticks do not fit (the whole recording's rate scan finds another):
/// no figures, since a rate half the watch's folds tic onto tic and reads no beat error, and
/// the reason names the rate the ticks do fit.
fn forced_rate_refused(outcome: MechanicalOutcome, forced: u32, fits: u32) -> MechanicalOutcome {
    let why =
        format!("the ticks fit {fits} bph, not the forced {forced} bph: use --bph auto (or --bph {fits})");
    match outcome {
        MechanicalOutcome::NoWatch(r) => MechanicalOutcome::NoWatch(format!("{r}; {why}")),
        _ => MechanicalOutcome::NoWatch(why),
    }
}

/// Analyses a source (any [`BlockSource`]): picks the channel, runs the pipeline, and returns
/// the measurement (of kind `none` with a reason when there is no watch).
pub fn analyze_source(src: Box<dyn BlockSource>, cfg: &AnalysisConfig) -> Result<Measurement, AnalyzeError> {
    analyze_source_detailed(src, cfg).map(|(m, _)| m)
}

/// What a measurement's plots are drawn from, beside the figures.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    /// Mechanical: averaged tic/toc envelopes and the paper strip.
    pub mechanical: Option<Box<MechanicalEstimate>>,
    /// Quartz: every motor step's timing residual.
    pub quartz_steps: Option<Vec<crate::estimators::quartz::StepResidual>>,
}

/// The channel to analyse: the one asked for (checked), else the one where the ticks are
/// strongest.
fn pick_channel(
    src: &mut dyn BlockSource,
    cfg: &AnalysisConfig,
    info: &source::AudioInfo,
) -> Result<u16, AnalyzeError> {
    Ok(match cfg.channel {
        Some(c) if c >= info.channels => {
            return Err(AnalyzeError::Config(format!(
                "channel {c} does not exist (the recording has {} channels)",
                info.channels
            )))
        }
        Some(c) => c,
        None if info.channels > 1 => source::channel::choose_channel(src, 20.0)?.channel,
        None => 0,
    })
}

/// What the mechanical pass over a recording found.
struct MechanicalPass {
    outcome: MechanicalOutcome,
    /// Frames read.
    frames: u64,
    /// Samples that were not numbers.
    nonfinite: u64,
    /// What a cut file lacks.
    truncation: Option<String>,
    /// The regular tick train at a standard beat rate that the whole recording's rate scan
    /// heard, when it heard one (whether or not its beats could then be timed).
    ticks: Option<RateChoice>,
}

/// The mechanical analysis of all of `blocks`.
fn mechanical_pass(
    blocks: &mut source::channel::MonoBlocks,
    cfg: &AnalysisConfig,
    info: &source::AudioInfo,
) -> Result<MechanicalPass, AnalyzeError> {
    let mut frames = 0u64;
    // First pass: the beat rate, from all of the recording.
    let mut scan = RateScan::new(info.sample_rate_hz as f64);
    while let Some(b) = blocks.next_block()? {
        frames += b.len() as u64;
        scan.push(b);
    }
    // A forced rate the ticks do not fit: say which rate they do fit.
    let auto = cfg.bph.map(|_| scan.clone());
    let nonfinite = blocks.nonfinite_samples();
    let truncation = blocks.truncation();
    let mut ticks = None;
    let mut outcome = match scan.finish(cfg.bph) {
        Err(e) => MechanicalOutcome::NoWatch(e.reason),
        Ok(rate) => {
            ticks = Some(rate.clone());
            blocks.rewind()?;
            let mut an = Analyzer::with_rate(info.sample_rate_hz, cfg.clone(), rate.bph).with_length(frames);
            while let Some(b) = blocks.next_block()? {
                an.push(b);
                if an.is_done() {
                    break;
                }
            }
            an.finish()
        }
    };
    if let (Some(Ok(fit)), Some(forced)) = (auto.map(|a| a.finish(None)), cfg.bph) {
        if fit.bph != forced {
            outcome = forced_rate_refused(outcome, forced, fit.bph);
        }
    }
    Ok(MechanicalPass { outcome, frames, nonfinite, truncation, ticks })
}

/// Why a quartz reading of a recording is refused, when it is: its hand movements, one every
/// `step_interval_s` seconds, fall on a whole number of beats of a denser regular tick train
/// (`ticks`, heard by the rate scan at a standard mechanical rate). A quartz motor makes one
/// sound per movement and none between; a step lattice that is a sub-lattice of a tick train
/// several times denser is every Nth beat of a mechanical watch too faint to be timed. The
/// ratio is whole within the rate scan's own tolerance on a beat rate.
fn denser_ticks_veto(step_interval_s: f64, ticks: &RateChoice) -> Option<String> {
    let beats_per_step = step_interval_s / ticks.beat_period_s();
    let whole = beats_per_step.round();
    (whole >= 2.0 && (beats_per_step - whole).abs() <= whole * RATE_TOLERANCE).then(|| {
        format!(
            "its steps every {step_interval_s:.0} s fall on one beat in {whole:.0} of the regular ticks heard at {} bph \
             (a mechanical watch, not a quartz motor)",
            ticks.bph
        )
    })
}

/// [`analyze_source`], keeping what the plots need ([`Detail`]).
pub fn analyze_source_detailed(
    src: Box<dyn BlockSource>,
    cfg: &AnalysisConfig,
) -> Result<(Measurement, Detail), AnalyzeError> {
    let mut detail = Detail::default();
    cfg.validate()?;
    let mut src = src;
    let info = src.info().clone();
    let channel = pick_channel(src.as_mut(), cfg, &info)?;
    let mut blocks = source::channel::MonoBlocks::new(src, channel, BLOCK_FRAMES);
    // Samples that were not numbers, replaced by the source (counted over the whole file).
    let pass = if cfg.kind != KindChoice::Quartz {
        mechanical_pass(&mut blocks, cfg, &info)?
    } else {
        MechanicalPass {
            outcome: MechanicalOutcome::NoWatch("not analysed as mechanical (quartz was asked for)".into()),
            frames: 0,
            nonfinite: 0,
            truncation: None,
            ticks: None,
        }
    };
    let MechanicalPass { mut outcome, frames, nonfinite, truncation, ticks } = pass;
    // A file read only in part (no watch found early) still reports its whole length.
    let duration_s = info.frames.unwrap_or(frames).max(frames) as f64 / info.sample_rate_hz as f64;
    let try_quartz = match cfg.kind {
        KindChoice::Quartz => true,
        KindChoice::Mechanical => false,
        KindChoice::Auto => matches!(outcome, MechanicalOutcome::NoWatch(_)),
    };
    if try_quartz {
        let mut src = blocks.into_inner();
        src.rewind()?;
        let mut q = crate::estimators::quartz::measure(src.as_mut(), channel, &cfg.recorder).map_err(
            |e| match e {
                crate::estimators::quartz::Error::Source(s) => AnalyzeError::Source(s),
                other => AnalyzeError::Config(other.to_string()),
            },
        )?;
        // Asked for by name, quartz is read whatever else the recording holds.
        if cfg.kind == KindChoice::Auto {
            let step_s = q.quartz.as_ref().map(|z| z.step_interval_s);
            if let Some(why) = step_s.zip(ticks.as_ref()).and_then(|(s, t)| denser_ticks_veto(s, t)) {
                q.quartz = None;
                q.reason = Some(why);
            }
        }
        let nonfinite = nonfinite.max(src.nonfinite_samples());
        let truncation = truncation.clone().or_else(|| src.truncation());
        if q.quartz.is_some() || cfg.kind == KindChoice::Quartz {
            let mut m = q.to_measurement(info.channels, channel);
            m.findings.extend(source_findings(nonfinite, truncation));
            m.lift_angle_deg = cfg.lift_angle_deg;
            m.calibration = cfg.recorder.source.clone();
            m.calibration_stale = cfg.recorder.stale;
            m.duration_s = m.duration_s.max(duration_s);
            detail.quartz_steps = Some(q.residuals.clone());
            return Ok((m, detail));
        }
        if let MechanicalOutcome::NoWatch(r) = &mut outcome {
            if let Some(qr) = &q.reason {
                *r = format!("{r}; and not a quartz watch: {qr}");
            }
        }
    }
    if let MechanicalOutcome::NoWatch(r) = &mut outcome {
        if info.sample_rate_hz < NARROW_BAND_HZ {
            let hi_khz = info.sample_rate_hz as f64 / 2000.0;
            r.push_str(&format!(
                " (recorded at {} Hz, the file holds nothing above {hi_khz:.1} kHz, where most of a tick's sound lies: record at 44100 Hz or more)",
                info.sample_rate_hz
            ));
        }
    }
    let mut m = Measurement {
        kind: Kind::None,
        bph: None,
        rate_s_per_day: None,
        beat_error_ms: None,
        amplitude_deg: None,
        lift_angle_deg: cfg.lift_angle_deg,
        recorder_ppm: cfg.recorder.recorder_ppm,
        calibration: cfg.recorder.source.clone(),
        calibration_stale: cfg.recorder.stale,
        beats_used: 0,
        beats_rejected: 0,
        duration_s,
        quality: 0.0,
        snr_db: None,
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        channel,
        reason: None,
        mechanical: None,
        quartz: None,
        rate_s_per_month: None,
        findings: source_findings(nonfinite, truncation),
        software: software_id(),
    };
    match outcome {
        MechanicalOutcome::Measured(e) => {
            let mech = e.mechanical.clone();
            detail.mechanical = Some(e.clone());
            m.kind = Kind::Mechanical;
            m.bph = Some(mech.bph);
            m.rate_s_per_day = Some(mech.rate_s_per_day);
            m.beat_error_ms = mech.beat_error_ms;
            m.amplitude_deg = mech.amplitude_deg;
            m.beats_used = mech.beats_used;
            m.beats_rejected = mech.beats_rejected;
            m.quality = e.quality;
            m.snr_db = Some(e.snr_db);
            m.mechanical = Some(mech);
        }
        MechanicalOutcome::NoWatch(r) => {
            let (k, reason) = none(r);
            m.kind = k;
            m.reason = reason;
        }
    }
    Ok((m, detail))
}

/// Opens and analyses a recording, keeping what the plots need.
pub fn analyze_path_detailed(
    path: &Path,
    cfg: &AnalysisConfig,
) -> Result<(Measurement, Detail), AnalyzeError> {
    let src = source::open(path)?;
    analyze_source_detailed(src, cfg).map_err(|e| match e {
        AnalyzeError::Config(m) => AnalyzeError::Config(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Opens and analyses a recording.
pub fn analyze_path(path: &Path, cfg: &AnalysisConfig) -> Result<Measurement, AnalyzeError> {
    analyze_path_detailed(path, cfg).map(|(m, _)| m)
}

/// The path of a file, for messages.
pub fn display(path: &Path) -> PathBuf {
    path.to_path_buf()
}
