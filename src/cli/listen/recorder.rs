//! The recorder calibration of a live capture: which host clock stamps it (the system clock for
//! a sound card, a synthetic one or none for a replay), and at the end, which of the command
//! line, the device's profile, the host clock and the assumed u95 is used, and why.
use super::Args;
use crate::calibration::{choose_recorder, Candidates, HostClockRun, RecorderChoice, MAX_ABS_PPM};
use crate::cli::Failure;
use crate::live::hostclock::{HostClock, SyntheticClock, SystemClock};
use crate::measurement::{correct_rate_s_per_day, Figure, RecorderClock, SECONDS_PER_DAY, S_PER_DAY_PER_PPM};
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

/// A position's rate restated with the calibration chosen at the end of a capture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestatedRate {
    /// The rate corrected with the chosen calibration, s/day; its u95 includes the chosen
    /// recorder term (the assumed u95 for an uncalibrated recorder), as the verdict counts it.
    pub rate_s_per_day: Figure,
    /// The u95 without the recorder term, s/day.
    pub rate_u95_without_recorder_s_per_day: f64,
}

/// The recorder part of a rate's u95, s/day, as the estimators add it.
fn recorder_u95_s_per_day(ppm_u95: f64, rate_s_per_day: f64) -> f64 {
    ppm_u95 * S_PER_DAY_PER_PPM * (1.0 + rate_s_per_day / SECONDS_PER_DAY)
}

/// Restates `rate`, a live reading made with the calibration `live`, with the calibration
/// `chosen` at the end (`None`: uncalibrated, so no correction and `assumed_u95_ppm` in the
/// u95): the live recorder term is taken out of the value and the u95, the chosen one put in.
pub fn restate_rate(
    rate: Figure,
    live: &RecorderClock,
    chosen: Option<&RecorderClock>,
    assumed_u95_ppm: f64,
) -> RestatedRate {
    let live_ppm = live.recorder_ppm;
    // The apparent rate (no correction) the live reading was made from.
    let ratio = (1.0 + rate.value / SECONDS_PER_DAY) / (1.0 + live_ppm.value * 1e-6);
    let apparent = (ratio - 1.0) * SECONDS_PER_DAY;
    let (ppm, ppm_u95) = match chosen {
        Some(c) => (c.recorder_ppm.value, c.recorder_ppm.u95),
        None => (0.0, assumed_u95_ppm),
    };
    let value = correct_rate_s_per_day(apparent, ppm);
    let live_term = recorder_u95_s_per_day(live_ppm.u95, rate.value);
    let without = (rate.u95 * rate.u95 - live_term * live_term).max(0.0).sqrt();
    let with = without.hypot(recorder_u95_s_per_day(ppm_u95, value));
    RestatedRate { rate_s_per_day: Figure::new(value, with), rate_u95_without_recorder_s_per_day: without }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(ppm: f64, u95: f64, source: &str) -> RecorderClock {
        RecorderClock { recorder_ppm: Figure::new(ppm, u95), source: source.into(), stale: false }
    }

    #[test]
    fn an_uncorrected_reading_is_corrected_with_the_chosen_calibration() {
        // +19.96 s/day read through a recorder 12 ppm fast, uncalibrated at capture time.
        let live = RecorderClock::uncalibrated();
        let r = restate_rate(Figure::new(19.96, 0.3), &live, Some(&clock(12.0, 2.0, "host clock: x")), 100.0);
        let want = correct_rate_s_per_day(19.96, 12.0);
        assert!((r.rate_s_per_day.value - want).abs() < 1e-12 && (want - 21.0).abs() < 0.01, "{r:?}");
        assert!((r.rate_u95_without_recorder_s_per_day - 0.3).abs() < 1e-12, "{r:?}");
        let rec = 2.0 * S_PER_DAY_PER_PPM * (1.0 + want / SECONDS_PER_DAY);
        assert!((r.rate_s_per_day.u95 - 0.3f64.hypot(rec)).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn a_reading_made_with_a_profile_is_restated_with_another_and_uncalibrated_gets_the_assumed_u95() {
        let profile = clock(-20.0, 5.0, "profile mic");
        let live =
            restate_rate(Figure::new(10.0, 0.1), &RecorderClock::uncalibrated(), Some(&profile), 100.0);
        // Back from the profile to uncalibrated: the original value, the assumed u95 in it.
        let back = restate_rate(live.rate_s_per_day, &profile, None, 100.0);
        assert!((back.rate_s_per_day.value - 10.0).abs() < 1e-9, "{back:?}");
        assert!((back.rate_u95_without_recorder_s_per_day - 0.1).abs() < 1e-9, "{back:?}");
        let assumed = 100.0 * S_PER_DAY_PER_PPM * (1.0 + 10.0 / SECONDS_PER_DAY);
        assert!((back.rate_s_per_day.u95 - 0.1f64.hypot(assumed)).abs() < 1e-9, "{back:?}");
    }
}
