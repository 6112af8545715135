//! `tickproof judge --policy NAME_OR_FILE FILE...`: measure recordings (one per position) and
//! judge the claim against a warranty policy. Exit 0 whatever the verdict; 2 on bad input.
use super::{ExitCode, Failure};
use crate::measurement::{AnalysisConfig, Figure, Kind, KindChoice, Measurement, RecorderClock};
use crate::verdict::{
    judge, judge_dial_log, side_file_position, DialLog, ModelSpec, Movement, Policy, Position,
};
use std::path::{Path, PathBuf};

/// Raw arguments of `judge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Warranty policy: a built-in name (`tickproof policy list`) or a policy file.
    #[arg(long, value_name = "NAME_OR_FILE")]
    pub policy: String,
    /// Movement kind judged (default: from the recordings; quartz when all are quartz).
    #[arg(long, value_name = "mechanical|quartz")]
    pub movement: Option<String>,
    /// The model's own accuracy specification, e.g. `±15`, `-10/+20 s/day`, `20 s/month`.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub model_spec: Option<String>,
    /// Recordings, one per position (WAV or FLAC).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The position of each recording, in order (e.g. `DU,DD,CD,CL,CU`); otherwise the
    /// `"position"` field of the side file `FILE.json`.
    #[arg(long, value_name = "DU,DD,...")]
    pub positions: Option<String>,
    /// Lift angle of the movement, degrees (else the calibre's; else 52).
    #[arg(long, value_name = "DEG")]
    pub lift_angle: Option<f64>,
    /// The movement's calibre (e.g. "ETA 2824-2"): its lift angle from the built-in table
    /// (`--lift-angle` wins when both are given).
    #[arg(long, value_name = "NAME")]
    pub calibre: Option<String>,
    /// The recorder's clock error, ppm (+ = fast).
    #[arg(long, value_name = "P", allow_hyphen_values = true)]
    pub recorder_ppm: Option<f64>,
    /// The 95% uncertainty of `--recorder-ppm`, ppm.
    #[arg(long, value_name = "U")]
    pub recorder_ppm_u95: Option<f64>,
    /// A dial log (`reference_utc,watch_reading` per line): judge its average daily rate.
    #[arg(long, value_name = "FILE")]
    pub dial_log: Option<PathBuf>,
    /// Resolution of the dial-log readings, seconds.
    #[arg(long, value_name = "S", default_value_t = 1.0)]
    pub dial_resolution_s: f64,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The settings resolved from the raw arguments.
struct Resolved {
    policy: Policy,
    movement: Option<Movement>,
    model_spec: Option<ModelSpec>,
    positions: Vec<(PathBuf, Position)>,
    cfg: AnalysisConfig,
    dial: Option<crate::verdict::DialRate>,
}

fn resolve(args: &Args) -> Result<Resolved, Failure> {
    let policy = Policy::load(&args.policy).map_err(|e| Failure::usage(e.to_string()))?;
    let movement = args
        .movement
        .as_deref()
        .map(|m| {
            Movement::parse(m)
                .ok_or_else(|| Failure::usage(format!("--movement `{m}`: expected mechanical or quartz")))
        })
        .transpose()?;
    let model_spec = args
        .model_spec
        .as_deref()
        .map(ModelSpec::parse)
        .transpose()
        .map_err(|e| Failure::usage(format!("--model-spec: {e}")))?;
    if args.files.is_empty() && args.dial_log.is_none() {
        return Err(Failure::usage("judge: give the recordings (one per position) or --dial-log FILE"));
    }
    if args.files.len() > 64 {
        return Err(Failure::usage(format!("judge: {} recordings given, at most 64", args.files.len())));
    }
    let named = match &args.positions {
        Some(list) => {
            let ps = Position::parse_list(list).map_err(|e| Failure::usage(format!("--positions: {e}")))?;
            if ps.len() != args.files.len() {
                return Err(Failure::usage(format!(
                    "--positions: {} positions for {} recordings",
                    ps.len(),
                    args.files.len()
                )));
            }
            Some(ps)
        }
        None => None,
    };
    let mut positions = Vec::with_capacity(args.files.len());
    for (i, f) in args.files.iter().enumerate() {
        let p = match &named {
            Some(ps) => ps[i],
            None => side_file_position(f).map_err(Failure::usage)?.unwrap_or(Position::Unstated),
        };
        if p != Position::Unstated && positions.iter().any(|(_, q)| *q == p) {
            return Err(Failure::usage(format!(
                "{}: position {p} was already given for another recording",
                f.display()
            )));
        }
        positions.push((f.clone(), p));
    }
    let lift = super::analyze::lift_of(args.lift_angle, args.calibre.as_deref())?.lift_angle_deg;
    if !lift.is_finite() || !(10.0..=90.0).contains(&lift) {
        return Err(Failure::usage(format!("--lift-angle {lift}: expected 10 to 90 degrees")));
    }
    let recorder = match (args.recorder_ppm, args.recorder_ppm_u95) {
        (None, None) => RecorderClock::uncalibrated(),
        (None, Some(_)) => return Err(Failure::usage("--recorder-ppm-u95 needs --recorder-ppm")),
        (Some(p), u) => {
            let u = u.unwrap_or(0.0);
            if !p.is_finite() || p.abs() > 1000.0 {
                return Err(Failure::usage(format!("--recorder-ppm {p}: expected -1000 to 1000 ppm")));
            }
            if !u.is_finite() || !(0.0..=1000.0).contains(&u) {
                return Err(Failure::usage(format!("--recorder-ppm-u95 {u}: expected 0 to 1000 ppm")));
            }
            RecorderClock { recorder_ppm: Figure::new(p, u), source: "command line".into(), stale: false }
        }
    };
    let cfg = AnalysisConfig {
        lift_angle_deg: lift,
        kind: match movement {
            Some(Movement::Mechanical) => KindChoice::Mechanical,
            Some(Movement::Quartz) => KindChoice::Quartz,
            None => KindChoice::Auto,
        },
        recorder,
        ..AnalysisConfig::default()
    };
    let dial = match &args.dial_log {
        Some(path) => Some(
            DialLog::from_file(path)
                .and_then(|log| log.rate(args.dial_resolution_s))
                .map_err(|e| Failure::usage(e.to_string()))?,
        ),
        None => None,
    };
    Ok(Resolved { policy, movement, model_spec, positions, cfg, dial })
}

/// The one call into the measurement pipeline.
fn measure(path: &Path, cfg: &AnalysisConfig) -> Result<Measurement, Failure> {
    crate::measurement::analyze_path(path, cfg).map_err(|e| {
        let msg = e.to_string();
        let shown = path.display().to_string();
        Failure::usage(if msg.contains(&shown) { msg } else { format!("{shown}: {msg}") })
    })
}

/// Runs `judge`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let r = resolve(&args)?;
    let mut measured = Vec::with_capacity(r.positions.len());
    for (path, p) in &r.positions {
        measured.push((*p, measure(path, &r.cfg)?));
    }
    let movement = r.movement.unwrap_or_else(|| {
        let quartz = !measured.is_empty() && measured.iter().all(|(_, m)| m.kind == Kind::Quartz);
        if quartz {
            Movement::Quartz
        } else {
            Movement::Mechanical
        }
    });
    let verdict = match &r.dial {
        Some(d) => judge_dial_log(&r.policy, movement, r.model_spec, d, &measured),
        None => judge(&r.policy, movement, r.model_spec, &measured),
    };
    let text = if args.json {
        let json =
            serde_json::to_string(&super::schema::tagged(super::schema::JUDGE, &verdict)?).map_err(|e| {
                Failure::new(ExitCode::Internal, format!("judge: cannot write the verdict as JSON: {e}"))
            })?;
        json + "\n"
    } else {
        verdict.to_text()
    };
    // A closed pipe is not an error of ours.
    super::out::write_all(text.as_bytes());
    Ok(ExitCode::Ok)
}
