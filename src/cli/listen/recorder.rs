//! The recorder calibration of a live capture: which host clock stamps it (the system clock for
//! a sound card, a synthetic one or none for a replay), and at the end, which of the command
//! line, the device's profile, the host clock and the assumed u95 is used, and why.
use super::Args;
use crate::calibration::{choose_recorder, Candidates, HostClockRun, RecorderChoice, MAX_ABS_PPM};
use crate::cli::Failure;
use crate::live::hostclock::{HostClock, SyntheticClock, SystemClock};
use crate::measurement::{Figure, RecorderClock};
use std::sync::Arc;

/// The recorder u95 assumed when nothing better is known and no policy says otherwise, ppm
/// (the built-in policies' figure).
pub const DEFAULT_ASSUMED_U95_PPM: f64 = 100.0;

/// Why a replay without a synthetic clock is not calibrated against the host clock.
pub const REPLAY_HAS_NO_HOST_CLOCK: &str =
    "a replayed recording was not captured against this computer's clock, \
     which is never used to calibrate one";

/// Refuses a `--replay-host-clock-ppm` that is not a number in the range of a profile's.
pub(super) fn check(args: &Args) -> Result<(), Failure> {
    match args.replay_host_clock_ppm {
        Some(ppm) if !(ppm.is_finite() && ppm.abs() <= MAX_ABS_PPM) => Err(Failure::usage(format!(
            "--replay-host-clock-ppm {ppm} is not a number in -{MAX_ABS_PPM}..{MAX_ABS_PPM} ppm"
        ))),
        _ => Ok(()),
    }
}

/// The host clock that stamps the capture of `args` at `fs` Hz: the system clock for a device,
/// the synthetic clock of `--replay-host-clock-ppm` for a replay (checked by [`check`]), else
/// none.
pub(super) fn host_clock(args: &Args, fs: u32) -> Option<Arc<dyn HostClock>> {
    if args.replay.is_none() {
        return Some(Arc::new(SystemClock::new()));
    }
    let ppm = args.replay_host_clock_ppm?;
    let synchronised = !args.replay_host_clock_unsynchronised;
    Some(Arc::new(SyntheticClock { rate_hz: fs, ppm, synchronised }))
}

/// `--recorder-ppm` and its u95 as given to `listen`, if either was.
pub fn command_line(args: &Args) -> Option<RecorderClock> {
    (args.recorder_ppm != 0.0 || args.recorder_ppm_u95 != 0.0).then(|| RecorderClock {
        recorder_ppm: Figure::new(args.recorder_ppm, args.recorder_ppm_u95),
        source: "command line".into(),
        stale: false,
    })
}

/// What the host-clock method gives for a run, or why it gives nothing.
pub fn host_result(args: &Args, run: Option<&HostClockRun>) -> Result<RecorderClock, String> {
    match run {
        Some(r) => r.recorder(),
        None if args.replay.is_some() => Err(REPLAY_HAS_NO_HOST_CLOCK.into()),
        None => Err("the capture was not stamped with the host clock".into()),
    }
}

/// The calibration a finished capture uses: `command_line` (always wins), else the best of
/// `profile`, the run's host clock and `assumed_u95_ppm`.
pub fn choose(
    args: &Args,
    command_line: Option<RecorderClock>,
    profile: Option<RecorderClock>,
    run: Option<&HostClockRun>,
    assumed_u95_ppm: f64,
) -> RecorderChoice {
    let profile = profile.filter(|p| !p.is_uncalibrated());
    let host_clock = host_result(args, run);
    choose_recorder(Candidates { command_line, profile, host_clock, assumed_u95_ppm })
}

/// The calibration a finished `listen` capture should use: `--recorder-ppm` when given, else the
/// best of the calibration `live` it started with (the device's profile, if any), the run's host
/// clock and `assumed_u95_ppm`.
pub(super) fn after_capture(
    args: &Args,
    live: &RecorderClock,
    run: Option<&HostClockRun>,
    assumed_u95_ppm: f64,
) -> RecorderChoice {
    let cl = command_line(args);
    let profile = cl.is_none().then(|| live.clone());
    choose(args, cl, profile, run, assumed_u95_ppm)
}

/// The line that says which calibration a capture's figures should use, and whether the live
/// figures shown already did (`live` is the calibration they were made with).
pub fn choice_line(c: &RecorderChoice, live: &RecorderClock) -> String {
    let chosen = c.recorder.as_ref().map_or("uncalibrated", |r| r.source.as_str());
    let shown = if chosen == live.source {
        String::new()
    } else {
        format!(" (the live figures shown used {}; `claim measure --live` applies the choice)", live.source)
    };
    format!("recorder calibration: {}{shown}", c.reason)
}

/// The choice as JSON for `listen --json`'s end of protocol.
pub fn choice_json(c: &RecorderChoice) -> serde_json::Value {
    serde_json::json!({
        "correction_ppm": c.recorder.as_ref().map(|r| r.recorder_ppm),
        "source": c.recorder.as_ref().map_or("uncalibrated", |r| r.source.as_str()),
        "reason": c.reason,
    })
}
