//! `tickproof analyze FILE`: measure one recording.
//!
//! Contract (other tools depend on it): `--json` prints one object with at least `kind`, `bph`,
//! `schema` ("tickproof.analyze.v1", `schema/analyze.v1.json`),
//! `rate_s_per_day`, `beat_error_ms`, `amplitude_deg` (each `{"value", "u95"}`),
//! `lift_angle_deg`, `recorder_ppm`, `beats_used`, `beats_rejected`, `duration_s`, `quality`,
//! and `reason` when `kind` is "none". Exit 0 measured, 2 bad input, 3 no watch signal,
//! 4 a watch heard but not enough recording for its figure.
use super::{ExitCode, Failure};
use crate::measurement::{
    analyze_path, AnalysisConfig, AnalyzeError, Figure, Kind, KindChoice, Measurement, RecorderClock,
};
use std::path::PathBuf;

/// Raw arguments of `analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recording (WAV or FLAC).
    pub file: PathBuf,
    /// Lift angle of the movement, degrees (from its documentation; else the calibre's; else 52).
    #[arg(long, value_name = "DEG")]
    pub lift_angle: Option<f64>,
    /// The movement's calibre (e.g. "ETA 2824-2"): its lift angle from the built-in table
    /// (`--lift-angle` wins when both are given).
    #[arg(long, value_name = "NAME")]
    pub calibre: Option<String>,
    /// Beats per hour: `auto` (recognise a standard rate) or any rate 3600..72000.
    #[arg(long, default_value = "auto", value_name = "auto|N")]
    pub bph: String,
    /// Movement kind: `auto`, `mechanical` or `quartz`.
    #[arg(long, default_value = "auto", value_name = "KIND")]
    pub kind: String,
    /// The recorder's clock error, ppm (+ = the recorder's clock runs fast).
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub recorder_ppm: Option<f64>,
    /// 95% uncertainty of `--recorder-ppm`, ppm.
    #[arg(long, value_name = "U")]
    pub recorder_ppm_u95: Option<f64>,
    /// Apply the recorder calibration profile of this input device (`tickproof calibrate`).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Analyse this channel (0-based) instead of the one where the ticks are strongest.
    #[arg(long, value_name = "N")]
    pub channel: Option<u16>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Resolves raw arguments into an analysis configuration.
pub fn resolve(args: &Args) -> Result<AnalysisConfig, Failure> {
    let bph = match args.bph.as_str() {
        "auto" => None,
        s => Some(
            s.parse::<u32>()
                .map_err(|_| Failure::usage(format!("--bph {s}: expected `auto` or a whole number")))?,
        ),
    };
    let kind = match args.kind.as_str() {
        "auto" => KindChoice::Auto,
        "mechanical" => KindChoice::Mechanical,
        "quartz" => KindChoice::Quartz,
        s => return Err(Failure::usage(format!("--kind {s}: expected auto, mechanical or quartz"))),
    };
    let recorder = recorder_of(args.device.as_deref(), args.recorder_ppm, args.recorder_ppm_u95)?;
    let lift = lift_of(args.lift_angle, args.calibre.as_deref())?;
    let cfg = AnalysisConfig {
        lift_angle_deg: lift.lift_angle_deg,
        bph,
        kind: if bph.is_some() && kind == KindChoice::Auto { KindChoice::Mechanical } else { kind },
        recorder,
        channel: args.channel,
    };
    cfg.validate().map_err(|e| Failure::usage(e.to_string()))?;
    Ok(cfg)
}

/// The recorder clock from `--device` (its calibration profile; an unknown device is bad
/// input), `--recorder-ppm` and `--recorder-ppm-u95`, or uncalibrated when none is given.
pub fn recorder_of(
    device: Option<&str>,
    ppm: Option<f64>,
    u95: Option<f64>,
) -> Result<RecorderClock, Failure> {
    match (device, ppm, u95) {
        (None, None, None) => Ok(RecorderClock::uncalibrated()),
        (None, None, Some(_)) => Err(Failure::usage("--recorder-ppm-u95 needs --recorder-ppm")),
        (d, p, u) => crate::calibration::resolve_recorder(d, p, u, crate::calibration::time::UtcTime::now())
            .map_err(|e| Failure::usage(e.to_string())),
    }
}

/// The lift angle from `--lift-angle` and `--calibre` (see [`crate::calibre::resolve_lift`]);
/// an unknown calibre is bad input naming the closest known ones.
pub fn lift_of(
    explicit_deg: Option<f64>,
    calibre: Option<&str>,
) -> Result<crate::calibre::LiftChoice, Failure> {
    crate::calibre::resolve_lift(explicit_deg, calibre).map_err(|e| Failure::usage(e.to_string()))
}

/// Runs `analyze`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let cfg = resolve(&args)?;
    let m = analyze_path(&args.file, &cfg).map_err(|e| match e {
        AnalyzeError::Source(s) => Failure::usage(s.to_string()),
        other => Failure::usage(format!("{}: {other}", args.file.display())),
    })?;
    if args.json {
        let internal = |e: serde_json::Error| Failure::new(ExitCode::Internal, e.to_string());
        let mut v = serde_json::to_value(&m).map_err(internal)?;
        if let (Some(o), Ok(lift)) = (v.as_object_mut(), lift_of(args.lift_angle, args.calibre.as_deref())) {
            o.insert("lift_angle_source".into(), lift.source.into());
        }
        if let (Some(q), Some(o)) = (&m.quartz, v.as_object_mut()) {
            // Quartz keys at top level too, where scripts read them (the contract).
            o.insert("step_interval_s".into(), q.step_interval_s.into());
            o.insert("inhibition_period_s".into(), q.inhibition_period_s.into());
            o.insert("steps_used".into(), q.steps_used.into());
            o.insert("needs_more_s".into(), q.needs_more_s.into());
        }
        let v = super::schema::tag(super::schema::ANALYZE, v);
        crate::outln!("{}", serde_json::to_string_pretty(&v).map_err(internal)?);
    } else {
        crate::out!("{}", render(&args.file, &m));
    }
    Ok(exit_code(&m))
}

/// The exit code a measurement maps to.
pub fn exit_code(m: &Measurement) -> ExitCode {
    match m.kind {
        Kind::None => ExitCode::NoSignal,
        Kind::Quartz if m.rate_s_per_day.is_none() => ExitCode::Insufficient,
        _ => ExitCode::Ok,
    }
}

/// Decimals that show a figure to the second significant digit of its u95.
fn decimals(u95: f64) -> usize {
    if !(u95.is_finite() && u95 > 0.0) {
        return 3;
    }
    (1.0 - u95.log10().floor()).clamp(0.0, 6.0) as usize
}

/// `+8.03 ± 0.12 s/day`.
pub fn fig(f: &Figure, unit: &str, signed: bool) -> String {
    let d = decimals(f.u95);
    if signed {
        format!("{:+.d$} ± {:.d$} {unit}", f.value, f.u95, d = d)
    } else {
        format!("{:.d$} ± {:.d$} {unit}", f.value, f.u95, d = d)
    }
}

/// The human-readable report of a measurement.
pub fn render(file: &std::path::Path, m: &Measurement) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let ch = if m.channels > 1 {
        format!("{} channels, channel {} (strongest ticks)", m.channels, m.channel)
    } else {
        "mono".to_string()
    };
    let _ = writeln!(
        o,
        "recording    {} ({} Hz, {}, {:.1} s)",
        file.display(),
        m.sample_rate_hz,
        ch,
        m.duration_s
    );
    match m.kind {
        Kind::None => {
            let _ = writeln!(o, "result       no watch signal");
            let _ = writeln!(o, "reason       {}", m.reason.as_deref().unwrap_or("not given"));
        }
        Kind::Mechanical => {
            let me = m.mechanical.as_ref().expect("mechanical detail");
            let _ = writeln!(o, "movement     mechanical, {} bph ({})", me.bph, me.bph_source);
            let _ = writeln!(o, "rate         {}", fig(&me.rate_s_per_day, "s/day", true));
            match &me.beat_error_ms {
                Some(b) => {
                    let _ = writeln!(o, "beat error   {}", fig(b, "ms", false));
                }
                None => {
                    let note = me.beat_error_note.as_deref().unwrap_or("beat error not measured");
                    let _ = writeln!(o, "beat error   {}", note.strip_prefix("beat error ").unwrap_or(note));
                }
            }
            match (&me.amplitude_deg, &me.tic_amplitude_deg, &me.toc_amplitude_deg) {
                (Some(a), Some(t), Some(c)) => {
                    let _ = writeln!(
                        o,
                        "amplitude    {} (tic {}, toc {}; lift angle {} deg)",
                        fig(a, "deg", false),
                        fig(t, "deg", false),
                        fig(c, "deg", false),
                        me.lift_angle_deg
                    );
                }
                _ => {
                    let _ = writeln!(
                        o,
                        "amplitude    {}",
                        me.amplitude_note
                            .as_deref()
                            .map(|n| n.strip_prefix("amplitude ").unwrap_or(n))
                            .unwrap_or("not measured: no drop sound found")
                    );
                }
            }
            let spread = me
                .rate_spread_s_per_day
                .map(|s| format!("; rate spread over 10 s windows {s:.2} s/day"))
                .unwrap_or_default();
            let _ = writeln!(o, "jitter       {:.4} ms per beat{}", me.jitter_ms, spread);
            let _ = writeln!(
                o,
                "beats        {} used, {} rejected; quality {:.2}; SNR {}",
                me.beats_used,
                me.beats_rejected,
                m.quality,
                m.snr_db.map(|s| format!("{s:.1} dB")).unwrap_or_else(|| "n/a".into())
            );
        }
        Kind::Quartz => {
            let q = m.quartz.as_ref().expect("quartz detail");
            let _ = writeln!(o, "movement     quartz, the hand steps every {} s", q.step_interval_s);
            match (&q.rate_s_per_month, &q.rate_s_per_day) {
                (Some(mo), Some(d)) => {
                    let _ =
                        writeln!(o, "rate         {} ({})", fig(mo, "s/month", true), fig(d, "s/day", true));
                }
                _ => {
                    let _ = writeln!(
                        o,
                        "rate         not measured: record {} s more to cover the inhibition periods",
                        q.needs_more_s.map(|s| format!("{s:.0}")).unwrap_or_else(|| "?".into())
                    );
                }
            }
            let inh = match (q.inhibition_period_s, q.inhibition_correction_ppm) {
                (Some(p), Some(c)) => format!("every {p:.0} s, {c:.1} ppm"),
                (Some(p), None) => format!("every {p:.0} s"),
                _ => "none seen".into(),
            };
            let _ = writeln!(o, "inhibition   {inh}");
            let _ = writeln!(
                o,
                "steps        {} used, {} rejected; jitter {:.4} ms; quality {:.2}",
                q.steps_used, q.steps_rejected, q.jitter_ms, m.quality
            );
        }
    }
    if m.kind != Kind::None {
        let rec = if m.calibration == "uncalibrated" {
            "uncalibrated: the recorder's clock error (often 10-100 ppm, 0.9-8.6 s/day) is not corrected"
                .to_string()
        } else {
            format!(
                "{} ({:+.3} ± {:.3} ppm applied{})",
                m.calibration,
                m.recorder_ppm.value,
                m.recorder_ppm.u95,
                if m.calibration_stale { ", STALE" } else { "" }
            )
        };
        let _ = writeln!(o, "recorder     {rec}");
    }
    for f in &m.findings {
        let _ = writeln!(o, "finding      {}: {}", f.code, f.message);
    }
    o
}
