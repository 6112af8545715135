//! `listen --protocol` and the protocol behind `claim measure --live`: a policy's positions
//! one after the other, resumable. A run that stops before the end (quit, Ctrl-C, the replay
//! ran out, the device failed) keeps every position it finished, says where, and how to go on.
use super::{fail, live, Args};
use crate::cli::{ExitCode, Failure};
use crate::live::protocol::{Finished, Plan};
use crate::live::resume::Found;
use crate::live::run::Ended;
use crate::live::view::{PositionRow, RowState};
use crate::measurement::Figure;
use crate::verdict::{Policy, Position};
use std::path::{Path, PathBuf};

/// A guided run: the plan, its folder, and whether to go on with what the folder holds.
#[derive(Debug, Clone)]
pub struct GuidedRun {
    /// Positions and times.
    pub plan: Plan,
    /// The folder of the recordings.
    pub dir: PathBuf,
    /// Keep the positions a stopped run finished (else the folder must hold none of them).
    pub resume: bool,
    /// Finished positions to measure again (set aside before the folder is scanned).
    pub remeasure: Vec<Position>,
    /// The recorder u95 the policy assumes when nothing better is known, ppm.
    pub assumed_u95_ppm: f64,
}

/// A protocol run: how it ended, and what its recorder calibration may use.
#[derive(Debug)]
pub struct ProtocolRun {
    /// How it ended.
    pub end: ProtocolEnd,
    /// The host-clock method over the whole run (every position and its settling), if the
    /// capture was stamped.
    pub host_clock: Option<crate::calibration::HostClockRun>,
    /// The calibration the live figures were made with (command line, profile, uncalibrated).
    pub recorder: crate::measurement::RecorderClock,
}

/// How a protocol run ended.
#[derive(Debug)]
pub enum ProtocolEnd {
    /// Every position recorded: the positions with their figures, in protocol order.
    Complete(Vec<Finished>),
    /// Stopped early; the positions finished are kept in the folder.
    Stopped {
        /// Why.
        ended: Ended,
        /// The positions finished (kept).
        finished: Vec<Finished>,
        /// Seconds of audio in this run.
        audio_s: f64,
    },
}

/// The guided protocol of `args` (`--protocol` and the overrides) and its folder.
pub(super) fn plan_of(args: &Args) -> Result<Option<GuidedRun>, Failure> {
    let Some(name) = &args.protocol else { return Ok(None) };
    let policy = Policy::load(name).map_err(|e| Failure::usage(e.to_string()))?;
    let plan = Plan {
        positions: policy.protocol.positions.clone(),
        settle_s: args.settle_s.unwrap_or(policy.protocol.settling_s),
        seconds_per_position: args.seconds_per_position.unwrap_or(policy.protocol.seconds_per_position),
    };
    plan.validate().map_err(fail)?;
    let dir = args.out_dir.clone().unwrap_or_else(|| {
        let stamp: String =
            crate::live::recorder::utc_now().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        PathBuf::from(format!("tickproof-{stamp}"))
    });
    let remeasure = match &args.remeasure {
        Some(list) => Position::parse_list(list).map_err(|e| Failure::usage(format!("--remeasure: {e}")))?,
        None => Vec::new(),
    };
    if let Some(p) = remeasure.iter().find(|p| !plan.positions.contains(p)) {
        return Err(Failure::usage(format!("--remeasure {p}: not a position of the {name} protocol")));
    }
    let assumed_u95_ppm = policy.uncalibrated_recorder_u95_ppm;
    Ok(Some(GuidedRun { plan, dir, resume: args.resume, remeasure, assumed_u95_ppm }))
}

/// The line that says what a resumed run found, if anything.
pub(super) fn resumed_note(found: &Found) -> Option<String> {
    let mut parts = Vec::new();
    if !found.kept.is_empty() {
        let codes: Vec<&str> = found.kept.iter().map(|f| f.position.code()).collect();
        parts.push(format!("resuming: {} kept from the earlier run", codes.join(", ")));
    }
    for p in &found.set_aside {
        parts.push(format!("an unfinished recording was set aside as {}", p.display()));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The positions table of the view: every position of the plan, the kept ones filled in.
pub(super) fn table_rows(plan: &Plan, kept: &[Finished]) -> Vec<PositionRow> {
    plan.positions
        .iter()
        .map(|&p| match kept.iter().find(|k| k.position == p) {
            Some(k) => PositionRow {
                position: p,
                state: RowState::Kept,
                rate_s_per_day: k.rate_s_per_day,
                beat_error_ms: k.beat_error_ms,
                amplitude_deg: k.amplitude_deg,
            },
            None => PositionRow::pending(p),
        })
        .collect()
}

/// Runs a policy's protocol through the live path (`listen --protocol`, `claim measure
/// --live`): one recording per position in `run.dir` (created if absent). Without
/// `run.resume`, a folder already holding one of its recordings is refused (exit 2, naming the
/// file). Steps go to standard error with `steps_to_stderr` (standard output is the caller's).
/// The partial recording of a position cut short is removed: it is not a measurement.
pub fn run_protocol(args: &Args, run: &GuidedRun, steps_to_stderr: bool) -> Result<ProtocolRun, Failure> {
    run.plan.validate().map_err(fail)?;
    std::fs::create_dir_all(&run.dir).map_err(|e| {
        Failure::new(ExitCode::Storage, format!("{}: cannot create folder: {e}", run.dir.display()))
    })?;
    if !run.resume {
        crate::live::protocol::check_free(&run.dir, &run.plan).map_err(|e| Failure::usage(e.to_string()))?;
    }
    let lived = live(args, Some(run), steps_to_stderr)?;
    let guide = lived.guide.expect("guided run");
    if let (Some((p, wav)), false) = (guide.unfinished(), guide.is_complete()) {
        let _ = std::fs::remove_file(&wav);
        let _ = std::fs::remove_file(crate::live::protocol::position_files(&run.dir, p).1);
    }
    let finished = guide.finished();
    let audio_s = lived.outcome.samples as f64 / lived.fs as f64;
    let end = match lived.outcome.ended {
        Ended::Completed => ProtocolEnd::Complete(finished),
        ended => ProtocolEnd::Stopped { ended, finished, audio_s },
    };
    Ok(ProtocolRun { end, host_clock: lived.outcome.host_clock, recorder: lived.recorder })
}

/// Why a protocol stopped, in words.
pub fn why(ended: &Ended) -> String {
    match ended {
        Ended::DeviceError(m) => format!("audio device: {m}"),
        Ended::EndOfStream => "the replayed recording ended".into(),
        Ended::Interrupted => "interrupted".into(),
        Ended::Quit => "quit".into(),
        Ended::Duration => "the duration was reached".into(),
        Ended::Completed => "complete".into(),
    }
}

/// The one-line account of a stopped protocol: what is kept where, and how to go on.
pub fn stopped_message(
    ended: &Ended,
    finished: &[Finished],
    plan: &Plan,
    audio_s: f64,
    dir: &Path,
    go_on: &str,
) -> String {
    let codes: Vec<&str> = finished.iter().map(|f| f.position.code()).collect();
    format!(
        "protocol stopped ({}) after {audio_s:.1} s of audio: {} of {} positions recorded{}, kept in {}; {go_on}",
        why(ended),
        finished.len(),
        plan.positions.len(),
        if codes.is_empty() { String::new() } else { format!(" ({})", codes.join(", ")) },
        dir.display()
    )
}

fn fig(x: Option<Figure>, dec: usize, signed: bool, unit: &str) -> String {
    match x {
        Some(x) if signed => format!("{:+.*} ± {:.*} {unit}", dec, x.value, dec, x.u95),
        Some(x) => format!("{:.*} ± {:.*} {unit}", dec, x.value, dec, x.u95),
        None => format!("-- {unit}"),
    }
}

/// One line of the table of finished positions: code, words, live figures, recording.
pub fn table_line(f: &Finished) -> String {
    format!(
        "{} {:<11} rate {}  beat error {}  amplitude {}  {}",
        f.position.code(),
        f.position.words(),
        fig(f.rate_s_per_day, 1, true, "s/day"),
        fig(f.beat_error_ms, 2, false, "ms"),
        fig(f.amplitude_deg, 0, false, "deg"),
        f.file.display()
    )
}

/// `listen --protocol`: complete, the table of positions (exit 0); stopped by the user, what
/// is kept and how to resume (exit 0); the replay ran out (exit 4) or the device failed
/// (exit 6), the same account on standard error.
pub(super) fn listen_protocol(args: &Args, g: GuidedRun) -> Result<ExitCode, Failure> {
    let run = run_protocol(args, &g, false)?;
    let host_clock = run.host_clock.as_ref();
    let choice = super::recorder::after_capture(args, &run.recorder, host_clock, g.assumed_u95_ppm);
    eprintln!("tickproof: {}", super::recorder::choice_line(&choice, &run.recorder));
    match run.end {
        ProtocolEnd::Complete(done) => {
            if args.json {
                let list: Vec<_> = done
                    .iter()
                    .map(|f| {
                        serde_json::json!({"position": f.position.code(), "file": f.file,
                            "rate_s_per_day": f.rate_s_per_day, "beat_error_ms": f.beat_error_ms,
                            "amplitude_deg": f.amplitude_deg})
                    })
                    .collect();
                let recorder = super::recorder::choice_json(&choice);
                let v = serde_json::json!({"event": "complete", "files": list, "recorder": recorder});
                crate::outln!("{}", super::super::schema::tag(super::super::schema::LISTEN, v));
            } else {
                crate::outln!("Protocol complete: {} recordings", done.len());
                for f in &done {
                    crate::outln!("{}", table_line(f));
                }
            }
            Ok(ExitCode::Ok)
        }
        ProtocolEnd::Stopped { ended, finished, audio_s } => {
            let go_on = "to go on, run the same command with --resume";
            let msg = stopped_message(&ended, &finished, &g.plan, audio_s, &g.dir, go_on);
            for f in &finished {
                eprintln!("tickproof: {}", table_line(f));
            }
            match ended {
                Ended::Quit | Ended::Interrupted => {
                    eprintln!("tickproof: {msg}");
                    Ok(ExitCode::Ok)
                }
                Ended::DeviceError(_) => Err(Failure::new(ExitCode::Device, msg)),
                _ => Err(Failure::new(ExitCode::Insufficient, msg)),
            }
        }
    }
}

/// The positions of `finished`, for callers that want only the recordings.
pub fn files(finished: &[Finished]) -> Vec<(Position, PathBuf)> {
    finished.iter().map(|f| (f.position, f.file.clone())).collect()
}
