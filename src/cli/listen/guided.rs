//! `listen --protocol` and the protocol behind `claim measure --live`: a policy's positions
//! one after the other, resumable. A run that stops before the end (quit, Ctrl-C, the replay
//! ran out, the device failed) keeps every position it finished, says where, and how to go on.
use super::recorder::RestatedRate;
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
    let host_clock = pool_host_clock(run, &lived.source, lived.fs, lived.outcome.host_clock);
    let end = match lived.outcome.ended {
        Ended::Completed => ProtocolEnd::Complete(finished),
        ended => ProtocolEnd::Stopped { ended, finished, audio_s },
    };
    Ok(ProtocolRun { end, host_clock, recorder: lived.recorder })
}

/// This run's host-clock stamps pooled with those the earlier runs of a resumed protocol left in
/// its folder (same source, same rate), and all of them kept there for the run after. A fresh
/// run starts the file anew; a run without a host clock (a replay) pools nothing. What was
/// pooled, or why not, goes to standard error.
fn pool_host_clock(
    run: &GuidedRun,
    source: &str,
    fs: u32,
    this: Option<crate::calibration::HostClockRun>,
) -> Option<crate::calibration::HostClockRun> {
    use crate::live::resume::{load_host_clock, save_host_clock, HostClockState};
    let this = this?;
    let mut captures = Vec::new();
    if run.resume {
        match load_host_clock(&run.dir) {
            Ok(Some(s)) if s.source == source && s.sample_rate_hz == fs => captures = s.captures,
            Ok(Some(s)) => eprintln!(
                "tickproof: host clock: the earlier runs' stamps ({} at {} Hz) are not pooled with this run's \
                 ({source} at {fs} Hz)",
                s.source, s.sample_rate_hz
            ),
            Ok(None) => {}
            Err(why) => eprintln!("tickproof: host clock: the earlier runs' stamps are not used: {why}"),
        }
    }
    let earlier = captures.len();
    captures.extend(this.captures);
    let state = HostClockState { source: source.to_string(), sample_rate_hz: fs, captures };
    if let Err(e) = save_host_clock(&run.dir, &state) {
        eprintln!("tickproof: host clock: this run's stamps were not kept for a resumed run: {e}");
    }
    let skip = state.captures.len().saturating_sub(crate::live::resume::MAX_CAPTURES);
    let captures = state.captures[skip..].to_vec();
    if earlier > 0 {
        eprintln!(
            "tickproof: host clock: this run's stamps pooled with those of {earlier} earlier run(s) (one \
             recorder ppm, an offset per run)"
        );
    }
    crate::calibration::HostClockRun::pooled(captures, crate::calibration::HostClockConfig::default())
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

/// One line of the table of finished positions: code, words, the rate restated with the
/// recorder calibration chosen at the end (`rate`, see [`super::recorder::restate_rate`]), the
/// live beat error and amplitude, the recording.
pub fn table_line(f: &Finished, rate: Option<RestatedRate>) -> String {
    let rate = match rate {
        Some(r) => format!(
            "{} (± {:.1} without the recorder)",
            fig(Some(r.rate_s_per_day), 1, true, "s/day"),
            r.rate_u95_without_recorder_s_per_day
        ),
        None => fig(None, 1, true, "s/day"),
    };
    format!(
        "{} {:<11} rate {rate}  beat error {}  amplitude {}  {}",
        f.position.code(),
        f.position.words(),
        fig(f.beat_error_ms, 2, false, "ms"),
        fig(f.amplitude_deg, 0, false, "deg"),
        f.file.display()
    )
}

/// Each finished position's live rate restated with the calibration `choice` chose: the figure
/// the table, the JSON and a claim record state (`live`: the calibration the live figures used).
fn restated(
    done: &[Finished],
    choice: &crate::calibration::RecorderChoice,
    live: &crate::measurement::RecorderClock,
    assumed_u95_ppm: f64,
) -> Vec<Option<RestatedRate>> {
    let chosen = choice.recorder.as_ref();
    done.iter()
        .map(|f| f.rate_s_per_day.map(|r| super::recorder::restate_rate(r, live, chosen, assumed_u95_ppm)))
        .collect()
}

/// The JSON of a finished position: its rate restated (see [`restated`]) and the live reading.
fn position_json(f: &Finished, rate: Option<RestatedRate>) -> serde_json::Value {
    serde_json::json!({"position": f.position.code(), "file": f.file,
        "rate_s_per_day": rate.map(|r| r.rate_s_per_day),
        "rate_u95_without_recorder_s_per_day": rate.map(|r| r.rate_u95_without_recorder_s_per_day),
        "live_rate_s_per_day": f.rate_s_per_day,
        "beat_error_ms": f.beat_error_ms, "amplitude_deg": f.amplitude_deg})
}

/// `listen --protocol`: complete, the table of positions (exit 0); stopped by the user, what
/// is kept and how to resume (exit 0); the replay ran out (exit 4) or the device failed
/// (exit 6), the same account on standard error.
pub(super) fn listen_protocol(args: &Args, g: GuidedRun) -> Result<ExitCode, Failure> {
    let run = run_protocol(args, &g, false)?;
    let host_clock = run.host_clock.as_ref();
    let choice = super::recorder::after_capture(args, &run.recorder, host_clock, g.assumed_u95_ppm);
    eprintln!("tickproof: {}", super::recorder::choice_line(&choice, &run.recorder));
    let chosen = choice.recorder.as_ref().map_or("uncalibrated", |r| r.source.as_str());
    match run.end {
        ProtocolEnd::Complete(done) => {
            let rates = restated(&done, &choice, &run.recorder, g.assumed_u95_ppm);
            if args.json {
                let list: Vec<_> = done.iter().zip(&rates).map(|(f, r)| position_json(f, *r)).collect();
                let recorder = super::recorder::choice_json(&choice);
                let v = serde_json::json!({"event": "complete", "files": list, "recorder": recorder});
                crate::outln!("{}", super::super::schema::tag(super::super::schema::LISTEN, v));
            } else {
                crate::outln!(
                    "Protocol complete: {} recordings (rates with the recorder calibration {chosen})",
                    done.len()
                );
                for (f, r) in done.iter().zip(&rates) {
                    crate::outln!("{}", table_line(f, *r));
                }
            }
            Ok(ExitCode::Ok)
        }
        ProtocolEnd::Stopped { ended, finished, audio_s } => {
            let go_on = "to go on, run the same command with --resume";
            let msg = stopped_message(&ended, &finished, &g.plan, audio_s, &g.dir, go_on);
            let rates = restated(&finished, &choice, &run.recorder, g.assumed_u95_ppm);
            for (f, r) in finished.iter().zip(&rates) {
                eprintln!("tickproof: {}", table_line(f, *r));
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
