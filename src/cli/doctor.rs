//! `tickproof doctor FILE | --live`: is this input good enough to measure? Exit 0 usable,
//! 3 not usable (the output says what to change), 2 bad input, 6 no audio device.
use super::{ExitCode, Failure};
use crate::doctor::{self, DoctorError, Report};
use crate::measurement::AnalysisConfig;
use std::path::PathBuf;

/// Raw arguments of `doctor`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "live"])))]
pub struct Args {
    /// The recording to check (WAV or FLAC).
    pub file: Option<PathBuf>,
    /// Check the microphone instead: capture a few seconds and examine them.
    #[arg(long)]
    pub live: bool,
    /// With --live, the input device (an id or part of a name from `tickproof devices`;
    /// default: the shop's default device, else the default input). With FILE, the recorder
    /// that made it, whose calibration profile is checked.
    #[arg(long, value_name = "NAME|ID")]
    pub device: Option<String>,
    /// The channel to examine (0-based; default for a recording: where the ticks are strongest).
    #[arg(long, value_name = "N")]
    pub channel: Option<u16>,
    /// Seconds to examine (default 60 of a recording, 15 live; at most 600).
    #[arg(long, value_name = "S")]
    pub seconds: Option<f64>,
    /// Print one JSON object (schema/doctor.v1.json) instead of text.
    #[arg(long)]
    pub json: bool,
}

fn failure(e: DoctorError) -> Failure {
    let code = match &e {
        DoctorError::Device(_) => ExitCode::Device,
        DoctorError::Source(_) | DoctorError::Config(_) | DoctorError::Analysis(_) => ExitCode::Usage,
    };
    Failure::new(code, e.to_string())
}

/// Runs `doctor`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let analysis = AnalysisConfig { channel: args.channel.filter(|_| !args.live), ..Default::default() };
    let report = match &args.file {
        Some(file) => {
            let seconds = args.seconds.unwrap_or(doctor::DEFAULT_SECONDS);
            doctor::examine_file(file, seconds, &analysis, args.device.as_deref()).map_err(failure)?
        }
        None => live(&args, analysis)?,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::new(ExitCode::Internal, format!("doctor: cannot write JSON: {e}")))?;
        crate::outln!("{text}");
    } else {
        crate::out!("{}", render(&report));
    }
    Ok(if report.usable { ExitCode::Ok } else { ExitCode::NoSignal })
}

#[cfg(feature = "capture")]
fn live(args: &Args, analysis: AnalysisConfig) -> Result<Report, Failure> {
    let device = match &args.device {
        Some(d) => Some(d.clone()),
        None => super::shop::current()?.default_device,
    };
    let seconds = args.seconds.unwrap_or(doctor::live::DEFAULT_LIVE_SECONDS);
    let quiet = args.json;
    let started = |name: &str| {
        if !quiet {
            eprintln!("tickproof: listening to {name} for {seconds:.0} s; keep the watch on the microphone");
        }
    };
    let (input, name) = doctor::live::capture(device.as_deref(), args.channel.unwrap_or(0), seconds, started)
        .map_err(failure)?;
    let calibration = doctor::calibration_state(Some(&name)).map_err(failure)?;
    let cfg = AnalysisConfig { recorder: doctor::clock_of(&calibration), ..analysis };
    doctor::examine(&input, doctor::Mode::Live, &cfg, calibration).map_err(failure)
}

#[cfg(not(feature = "capture"))]
fn live(_: &Args, _: AnalysisConfig) -> Result<Report, Failure> {
    Err(Failure::new(
        ExitCode::Device,
        "this build has no audio capture (built without the `capture` feature); check a recording: doctor FILE",
    ))
}

/// The report as text: the input, one line per check, the verdict, and what to change.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let ch = if r.channels > 1 {
        format!("{} channels, channel {}", r.channels, r.channel)
    } else {
        "mono".into()
    };
    let _ = writeln!(
        o,
        "input        {} ({} Hz, {ch}, {:.1} s examined)",
        r.source, r.sample_rate_hz, r.duration_s
    );
    if let Some(t) = &r.truncation {
        let _ = writeln!(o, "warning      {t}");
    }
    for c in &r.checks {
        let _ = writeln!(o, "{:<12} {:<5} {}", c.check, c.status.label(), c.message);
    }
    let verdict = if r.usable {
        "usable: the input can be measured"
    } else {
        "NOT USABLE: change what is advised below, then check again"
    };
    let _ = writeln!(o, "verdict      {verdict}");
    let advice = r.advice();
    if !advice.is_empty() {
        let _ = writeln!(o, "to change:");
        for a in advice {
            let _ = writeln!(o, "  - {a}");
        }
    }
    o
}
