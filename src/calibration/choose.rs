//! Which recorder calibration a live measurement uses, and why.
//!
//! A live capture may know the recorder's clock four ways: a figure typed on the command line,
//! the capturing device's saved profile, the host-clock method run during the capture itself
//! ([`super::hostclock`]), or nothing (the policy's assumed u95, ±100 ppm in the built-in
//! policies). An explicit command-line figure always wins: the technician said so. Otherwise the
//! valid candidate with the smallest u95 wins (ties: profile, then host clock), and the choice is
//! stated in words, so that a record can say which calibration it used and why the others were
//! not.
use super::hostclock::{
    report_segments, HostClockConfig, HostClockEstimate, HostClockSegment, HostSync, HostSyncStatus,
};
use crate::measurement::{Figure, RecorderClock};
use serde::{Deserialize, Serialize};

/// The prefix of a measurement's calibration name that marks the host-clock method (read back
/// by `verdict::RecorderSource::of_calibration`).
pub const HOST_CLOCK_PREFIX: &str = "host clock: ";

/// What the host-clock method learnt during one live capture.
#[derive(Debug, Clone, PartialEq)]
pub struct HostClockRun {
    /// The host clock in words, e.g. `the system clock` or `a synthetic host clock (replay,
    /// recorder modelled +12 ppm fast)`.
    pub clock: String,
    /// Whether it was synchronised (at both ends of the capture) and how that is known.
    pub sync: HostSyncStatus,
    /// The fit of samples delivered against it, or `None` when the capture was too short.
    pub estimate: Option<HostClockEstimate>,
    /// The captures behind `estimate`, in the order made: one for a single capture, one per
    /// run for a protocol stopped and resumed ([`HostClockRun::pooled`]).
    pub captures: Vec<HostClockCapture>,
}

/// One capture's part of a host-clock run: the clock, its synchronisation over the capture, and
/// its stamps as the fit uses them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostClockCapture {
    /// The host clock in words.
    pub clock: String,
    /// Its synchronisation (the worse of the capture's start and end).
    pub sync: HostSyncStatus,
    /// The stamps.
    pub segment: HostClockSegment,
}

/// The worst synchronisation of `captures` (not synchronised, then unknown), naming the capture
/// when there are several; `None` for no capture.
fn worst_sync(captures: &[HostClockCapture]) -> Option<HostSyncStatus> {
    let rank = |s: HostSync| match s {
        HostSync::NotSynchronised => 0,
        HostSync::Unknown => 1,
        HostSync::Synchronised => 2,
    };
    let (i, worst) = captures.iter().enumerate().min_by_key(|(i, c)| (rank(c.sync.state), usize::MAX - i))?;
    let mut sync = worst.sync.clone();
    if captures.len() > 1 && sync.state != HostSync::Synchronised {
        sync.detail = format!("{} (capture {} of {})", sync.detail, i + 1, captures.len());
    }
    Some(sync)
}

impl HostClockRun {
    /// The captures of one recorder pooled into one run: one ppm, an offset per capture
    /// ([`report_segments`]). It is synchronised only if every capture was (else the worst is
    /// said, and which capture); the clock named is the last capture's. `None` for no capture.
    pub fn pooled(captures: Vec<HostClockCapture>, cfg: HostClockConfig) -> Option<HostClockRun> {
        let sync = worst_sync(&captures)?;
        let clock = captures.last()?.clock.clone();
        let segments: Vec<HostClockSegment> = captures.iter().map(|c| c.segment.clone()).collect();
        let estimate = report_segments(&segments, cfg);
        Some(HostClockRun { clock, sync, estimate, captures })
    }

    /// The recorder clock it measured, or why it measured none that may be used: only a
    /// synchronised clock with an estimate of finite u95 calibrates.
    pub fn recorder(&self) -> Result<RecorderClock, String> {
        if self.sync.state != HostSync::Synchronised {
            let state = if self.sync.state == HostSync::Unknown {
                "may not be synchronised"
            } else {
                "is not synchronised"
            };
            return Err(format!("{} {state} ({}: {})", self.clock, self.sync.source, self.sync.detail));
        }
        let Some(e) = &self.estimate else {
            return Err(format!("the capture against {} was too short for an estimate", self.clock));
        };
        let ppm = e.recorder_ppm;
        if !(ppm.value.is_finite() && ppm.u95.is_finite() && ppm.value.abs() <= super::MAX_ABS_PPM) {
            return Err(format!("the fit against {} gave no usable figure ({ppm:?})", self.clock));
        }
        let pooled = if e.segments > 1 { format!(" in {} captures", e.segments) } else { String::new() };
        let source = format!(
            "{HOST_CLOCK_PREFIX}the synchronised {} over {:.0} s{pooled} ({}: {})",
            self.clock.strip_prefix("the ").unwrap_or(&self.clock),
            e.duration_s,
            self.sync.source,
            self.sync.detail
        );
        Ok(RecorderClock { recorder_ppm: ppm, source: clip(&source, 200), stale: false })
    }
}

/// The calibration chosen and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RecorderChoice {
    /// The correction to apply; `None`: uncalibrated (the policy's assumed u95 applies).
    pub recorder: Option<RecorderClock>,
    /// Why this one, in one sentence.
    pub reason: String,
}

/// The candidates of a live measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    /// `--recorder-ppm` (and its u95): always wins when given.
    pub command_line: Option<RecorderClock>,
    /// The capturing device's profile, if it has one.
    pub profile: Option<RecorderClock>,
    /// The host-clock method's result, or why there is none (a replay, an unsynchronised clock).
    pub host_clock: Result<RecorderClock, String>,
    /// The u95 assumed with no calibration, ppm (the policy's).
    pub assumed_u95_ppm: f64,
}

fn figure(f: Figure) -> String {
    format!("{:+.3} ± {:.3} ppm", f.value, f.u95)
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Chooses among `c`: the command line when given, else the smallest u95 among the profile, the
/// host clock and the assumed u95.
pub fn choose_recorder(c: Candidates) -> RecorderChoice {
    if let Some(r) = c.command_line {
        let reason = format!("{} given on the command line, which always wins", figure(r.recorder_ppm));
        return RecorderChoice { recorder: Some(r), reason };
    }
    let usable = |r: &RecorderClock| r.recorder_ppm.u95.is_finite() && r.recorder_ppm.u95 >= 0.0;
    let mut named: Vec<(&str, RecorderClock)> = Vec::new();
    let mut not_used: Vec<String> = Vec::new();
    match c.profile {
        Some(p) if usable(&p) => named.push(("the device's profile", p)),
        Some(p) => {
            not_used.push(format!("the device's profile has no usable u95 ({})", figure(p.recorder_ppm)))
        }
        None => not_used.push("the device has no calibration profile".into()),
    }
    match c.host_clock {
        Ok(h) if usable(&h) => named.push(("the host clock", h)),
        Ok(h) => not_used.push(format!("the host clock gave no usable u95 ({})", figure(h.recorder_ppm))),
        Err(why) => not_used.push(format!("the host clock was not used: {why}")),
    }
    // Stable: on a tie the earlier (profile, then host clock) stays first.
    named.sort_by(|a, b| a.1.recorder_ppm.u95.total_cmp(&b.1.recorder_ppm.u95));
    let assumed = format!("the assumed ±{} ppm", c.assumed_u95_ppm);
    let mut parts = Vec::new();
    let recorder = match named.first() {
        Some((name, r)) if r.recorder_ppm.u95 < c.assumed_u95_ppm => {
            let others: Vec<String> = named[1..]
                .iter()
                .map(|(n, o)| format!("{n} (±{:.3} ppm)", o.recorder_ppm.u95))
                .chain(std::iter::once(assumed))
                .collect();
            parts.push(format!(
                "{name} ({}) bounds the recorder better than {}",
                figure(r.recorder_ppm),
                others.join(" or ")
            ));
            Some(r.clone())
        }
        Some((name, r)) => {
            parts.push(format!("{name} (±{:.3} ppm) is no better than {assumed}", r.recorder_ppm.u95));
            None
        }
        None => {
            parts.push(format!("no calibration: {assumed}"));
            None
        }
    };
    parts.extend(not_used);
    RecorderChoice { recorder, reason: clip(&parts.join("; "), 4000) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::hostclock::HostClockEstimate;

    fn clock(ppm: f64, u95: f64, source: &str) -> RecorderClock {
        RecorderClock { recorder_ppm: Figure::new(ppm, u95), source: source.into(), stale: false }
    }

    fn run(state: HostSync, u95: f64) -> HostClockRun {
        HostClockRun {
            clock: "the system clock".into(),
            sync: HostSyncStatus {
                state,
                source: "timedatectl".into(),
                detail: "NTPSynchronized=yes".into(),
            },
            estimate: Some(HostClockEstimate {
                recorder_ppm: Figure::new(12.0, u95),
                fit_u95_ppm: 0.1,
                duration_s: 372.4,
                readings: 37_000,
                readings_ignored: 0,
                steps_removed: 0,
                windows_used: 372,
                windows_rejected: 0,
                residual_rms_ms: 0.4,
                segments: 1,
            }),
            captures: Vec::new(),
        }
    }

    fn candidates(profile: Option<RecorderClock>, host: Result<RecorderClock, String>) -> Candidates {
        Candidates { command_line: None, profile, host_clock: host, assumed_u95_ppm: 100.0 }
    }

    #[test]
    fn a_synchronised_host_clock_names_itself_its_span_and_how_sync_was_known() {
        let r = run(HostSync::Synchronised, 27.0).recorder().unwrap();
        assert_eq!(
            r.source,
            "host clock: the synchronised system clock over 372 s (timedatectl: NTPSynchronized=yes)"
        );
        assert_eq!(r.recorder_ppm, Figure::new(12.0, 27.0));
    }

    #[test]
    fn an_unsynchronised_or_unknown_host_clock_does_not_calibrate() {
        let e = run(HostSync::NotSynchronised, 1.0).recorder().unwrap_err();
        assert!(e.contains("is not synchronised"), "{e}");
        let e = run(HostSync::Unknown, 1.0).recorder().unwrap_err();
        assert!(e.contains("may not be synchronised"), "{e}");
        let mut short = run(HostSync::Synchronised, 1.0);
        short.estimate = None;
        assert!(short.recorder().unwrap_err().contains("too short"));
    }

    #[test]
    fn the_smallest_u95_wins_and_the_reason_names_the_others() {
        let host = run(HostSync::Synchronised, 27.0).recorder();
        let c = choose_recorder(candidates(Some(clock(3.0, 0.5, "profile mic")), host.clone()));
        assert_eq!(c.recorder.unwrap().source, "profile mic");
        assert!(c.reason.contains("the device's profile (+3.000 ± 0.500 ppm) bounds"), "{}", c.reason);
        assert!(c.reason.contains("the host clock (±27.000 ppm) or the assumed ±100 ppm"), "{}", c.reason);
        let c = choose_recorder(candidates(Some(clock(3.0, 40.0, "profile mic")), host.clone()));
        assert!(c.recorder.unwrap().source.starts_with(HOST_CLOCK_PREFIX));
        let c = choose_recorder(candidates(None, host));
        assert!(c.reason.contains("the device has no calibration profile"), "{}", c.reason);
    }

    #[test]
    fn a_host_clock_no_better_than_the_assumed_u95_is_not_applied() {
        let c = choose_recorder(candidates(None, run(HostSync::Synchronised, 150.0).recorder()));
        assert_eq!(c.recorder, None);
        assert!(c.reason.contains("is no better than the assumed ±100 ppm"), "{}", c.reason);
    }

    #[test]
    fn the_command_line_always_wins_and_a_missing_host_clock_says_why() {
        let mut c = candidates(Some(clock(3.0, 0.1, "profile mic")), Err("a replay".into()));
        c.command_line = Some(clock(5.0, 9.0, "command line"));
        let chosen = choose_recorder(c.clone());
        assert_eq!(chosen.recorder.unwrap().source, "command line");
        assert!(chosen.reason.contains("always wins"));
        c.command_line = None;
        c.profile = None;
        let chosen = choose_recorder(c);
        assert_eq!(chosen.recorder, None);
        assert!(chosen.reason.contains("the host clock was not used: a replay"), "{}", chosen.reason);
    }
}
