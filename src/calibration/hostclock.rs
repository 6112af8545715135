//! Method 3: the recorder's clock against the host's (NTP-disciplined) system clock during
//! live capture.
//!
//! The capture callback reports `(host_s, frames)`: the system clock when it ran and the frames
//! received so far. A callback runs some time after its last frame was captured, and that delay
//! is never negative and sometimes long (scheduling), so the estimator keeps, in each window of
//! [`HostClockConfig::window_s`] of recorder time, only the reading with the smallest delay
//! (the smallest `host_s - frames / fs`), and fits those against recorder time
//! ([`fit_line`]: outliers rejected, u95 with residual correlation allowed for). Memory is flat
//! ([`Decimator`]); pushing allocates nothing.
//!
//! The host clock is itself only as good as its synchronisation: NTP keeps its offset within
//! some milliseconds but not its rate at every moment, so a term `2 * host_offset_u95_s / T`
//! (the slope that an offset error of that size at both ends would fake over a run of `T`
//! seconds) is added in quadrature. Runs of hours make it small; minutes do not. Use
//! [`host_clock_sync`] to check (and [`require_synchronised`] to refuse) an unsynchronised
//! clock first.
use super::error::CalibrationError;
use super::fit::{fit_segments, Decimator, SegmentPoints};
use crate::measurement::Figure;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Settings of the host-clock estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HostClockConfig {
    /// Window of recorder time in which the least-delayed reading is kept, seconds (default 1).
    pub window_s: f64,
    /// 95 % bound of the host clock's offset from true time while synchronised, seconds
    /// (default 0.005, typical of NTP over the internet; 0 to report the fit alone).
    pub host_offset_u95_s: f64,
}

impl Default for HostClockConfig {
    fn default() -> Self {
        HostClockConfig { window_s: 1.0, host_offset_u95_s: 0.005 }
    }
}

/// What the host-clock estimator measured.
#[derive(Debug, Clone, PartialEq)]
pub struct HostClockEstimate {
    /// The recorder's clock error, ppm (+ = fast), with its u95 (fit and host-clock terms).
    pub recorder_ppm: Figure,
    /// The u95 from the fit alone, ppm.
    pub fit_u95_ppm: f64,
    /// Recorder time covered, seconds.
    pub duration_s: f64,
    /// Readings pushed.
    pub readings: u64,
    /// Readings ignored: a non-finite time, or a frame count that went backwards.
    pub readings_ignored: u64,
    /// Steps of more than [`STEP_S`] between successive windows (the host clock was stepped,
    /// or frames were lost in an overrun); each was taken out before the fit.
    pub steps_removed: u32,
    /// Windows (or merged groups of them) used in the fit.
    pub windows_used: usize,
    /// Windows rejected as outliers.
    pub windows_rejected: usize,
    /// RMS residual of the least-delayed readings about the fit, milliseconds.
    pub residual_rms_ms: f64,
    /// Captures pooled (a protocol stopped and resumed has one per run), each with an offset of
    /// its own and the one ppm of the recorder.
    pub segments: usize,
}

/// The stamps of one capture as the fit uses them (the least-delayed reading per window,
/// decimated): kept with a protocol stopped halfway, so that the run that resumes it pools
/// them with its own ([`report_segments`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostClockSegment {
    /// Recorder time of each point since the capture's first stamp, seconds.
    pub x_s: Vec<f64>,
    /// Host minus recorder time at each point, seconds (any origin).
    pub y_s: Vec<f64>,
    /// Windows each point stands for.
    pub weight: Vec<f64>,
    /// Recorder time covered, seconds.
    pub duration_s: f64,
    /// Readings pushed.
    pub readings: u64,
    /// Readings ignored.
    pub readings_ignored: u64,
    /// Steps taken out.
    pub steps_removed: u32,
}

/// Most points a segment holds (the estimator's decimator keeps at most this many).
pub const MAX_SEGMENT_POINTS: usize = 8192;

impl HostClockSegment {
    /// Why the segment cannot be used (lengths that differ, too many points, a value that is
    /// not finite), if so: a check for segments read back from a file.
    pub fn problem(&self) -> Option<String> {
        let n = self.x_s.len();
        if self.y_s.len() != n || self.weight.len() != n {
            return Some("x_s, y_s and weight differ in length".into());
        }
        if n > MAX_SEGMENT_POINTS {
            return Some(format!("{n} points, more than {MAX_SEGMENT_POINTS}"));
        }
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !(finite(&self.x_s) && finite(&self.y_s) && finite(&self.weight) && self.duration_s.is_finite()) {
            return Some("a value is not a finite number".into());
        }
        if self.weight.iter().any(|&w| w <= 0.0) || self.duration_s < 0.0 {
            return Some("a weight or the duration is not positive".into());
        }
        None
    }
}

/// The recorder's clock error from the stamps of several captures of one recorder: one ppm,
/// an offset per capture ([`fit_segments`]). The host-clock term is each capture's
/// `2 * host_offset_u95_s / duration` weighted by its share of the slope and summed linearly
/// (as if the offset errors of all captures were the same: the worst case). `None` before 8
/// windows in all, or when no capture has 3.
pub fn report_segments(segments: &[HostClockSegment], cfg: HostClockConfig) -> Option<HostClockEstimate> {
    let windows: f64 = segments.iter().map(|s| s.weight.iter().sum::<f64>()).sum();
    if windows < 7.0 {
        return None;
    }
    let view: Vec<SegmentPoints> = segments.iter().map(|s| (&s.x_s[..], &s.y_s[..], &s.weight[..])).collect();
    // Every point is a minimum over a window (or a merged group of them); equal weights per
    // window are what the min-filter gives, so weight by windows merged.
    let pooled = fit_segments(&view, 5.0)?;
    let fit = pooled.fit;
    // y = x (1/(1+p) - 1)  =>  p = 1/(1+s) - 1
    let s = fit.slope;
    let ppm = (1.0 / (1.0 + s) - 1.0) * 1e6;
    let dpds = 1.0 / (1.0 + s).powi(2) * 1e6;
    let fit_u95 = fit.slope_u95 * dpds;
    let offset = cfg.host_offset_u95_s.max(0.0);
    let host_u95: f64 = segments
        .iter()
        .zip(&pooled.shares)
        .map(|(seg, share)| share * 2.0 * offset / seg.duration_s.max(1e-9) * 1e6)
        .sum();
    Some(HostClockEstimate {
        recorder_ppm: Figure::new(ppm, fit_u95.hypot(host_u95)),
        fit_u95_ppm: fit_u95,
        duration_s: segments.iter().map(|s| s.duration_s).sum(),
        readings: segments.iter().map(|s| s.readings).sum(),
        readings_ignored: segments.iter().map(|s| s.readings_ignored).sum(),
        steps_removed: segments.iter().map(|s| s.steps_removed).sum(),
        windows_used: fit.used,
        windows_rejected: fit.rejected,
        residual_rms_ms: fit.residual_rms * 1e3,
        segments: pooled.segments,
    })
}

/// A jump between successive windows' least-delayed readings larger than this (seconds) is a
/// step of the host clock or a loss of frames, not scheduling jitter, and is taken out.
pub const STEP_S: f64 = 0.1;

/// Regresses samples received against the host clock. Feed it from the capture thread (or
/// from anything else, e.g. a test with synthetic timestamps).
#[derive(Debug, Clone)]
pub struct HostClockEstimator {
    rate_hz: f64,
    cfg: HostClockConfig,
    origin: Option<(f64, u64)>,
    last: Option<(f64, u64)>,
    window: i64,
    best: Option<(f64, f64)>,
    dec: Decimator,
    readings: u64,
    ignored: u64,
    span_x: f64,
    correction: f64,
    steps: u32,
    step_pending: bool,
    sums: [f64; 5],
}

impl HostClockEstimator {
    /// An estimator for a stream with nominal sample rate `nominal_rate_hz`.
    pub fn new(nominal_rate_hz: u32, cfg: HostClockConfig) -> Self {
        let window_s = if cfg.window_s.is_finite() && cfg.window_s > 0.0 { cfg.window_s } else { 1.0 };
        HostClockEstimator {
            rate_hz: nominal_rate_hz.max(1) as f64,
            cfg: HostClockConfig { window_s, ..cfg },
            origin: None,
            last: None,
            window: i64::MIN,
            best: None,
            dec: Decimator::new(MAX_SEGMENT_POINTS),
            readings: 0,
            ignored: 0,
            span_x: 0.0,
            correction: 0.0,
            steps: 0,
            step_pending: false,
            sums: [0.0; 5],
        }
    }

    /// Adds one reading: the host clock `host_s` (seconds, any origin, e.g. the Unix time) when
    /// `frames` frames had been received in total. Readings with a non-finite time or a count
    /// that goes backwards are ignored and counted; steps of the host clock (or frames lost)
    /// show as a jump between windows and are taken out. Allocates nothing.
    pub fn push(&mut self, host_s: f64, frames: u64) {
        self.readings += 1;
        if !host_s.is_finite() {
            self.ignored += 1;
            return;
        }
        if let Some((_, f)) = self.last {
            if frames < f {
                self.ignored += 1;
                return;
            }
        }
        self.last = Some((host_s, frames));
        let (h0, f0) = *self.origin.get_or_insert((host_s, frames));
        let x = (frames - f0) as f64 / self.rate_hz; // recorder seconds
        let y = (host_s - h0) - x; // host minus recorder: slope 1/(1+ppm) - 1, plus delay
        self.span_x = x;
        let w = (x / self.cfg.window_s).floor() as i64;
        if w != self.window {
            if let Some((bx, by)) = self.best.take() {
                self.flush(bx, by);
            }
            self.window = w;
        }
        if self.best.is_none_or(|(_, by)| y < by) {
            self.best = Some((x, y));
        }
    }

    /// Takes one window's least-delayed reading. A jump of more than [`STEP_S`] from the line
    /// so far drops that window (it may hold both sides of the step) and measures the step on
    /// the next, whole, window against the line, so no window's noise is carried forward.
    fn flush(&mut self, x: f64, y: f64) {
        let [n, sx, sy, sxx, sxy] = self.sums;
        let pred = if n >= 2.0 && n * sxx - sx * sx > 0.0 {
            let b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
            (sy - b * sx) / n + b * x
        } else if n >= 1.0 {
            sy / n
        } else {
            y
        };
        let jump = y + self.correction - pred;
        if self.step_pending {
            self.step_pending = false;
            if jump.abs() > STEP_S {
                self.correction -= jump;
                self.steps += 1;
            }
        } else if jump.abs() > STEP_S {
            self.step_pending = true;
            return;
        }
        let y = y + self.correction;
        self.sums = [n + 1.0, sx + x, sy + y, sxx + x * x, sxy + x * y];
        self.dec.push(x, y);
    }

    /// The recorder's clock error so far, or `None` before 8 windows.
    pub fn estimate(&self) -> Option<Figure> {
        self.report().map(|r| r.recorder_ppm)
    }

    /// The estimate with its detail, or `None` before 8 windows.
    pub fn report(&self) -> Option<HostClockEstimate> {
        report_segments(&[self.segment()], self.cfg)
    }

    /// The settings it was made with.
    pub fn config(&self) -> HostClockConfig {
        self.cfg
    }

    /// The stamps so far as the fit uses them (the window in progress is left out: it is
    /// partial, and may hold a step), to keep or to pool with other captures'.
    pub fn segment(&self) -> HostClockSegment {
        let (x_s, y_s, weight) = self.dec.points();
        HostClockSegment {
            x_s,
            y_s,
            weight,
            duration_s: self.span_x,
            readings: self.readings,
            readings_ignored: self.ignored,
            steps_removed: self.steps,
        }
    }
}

/// Whether the host clock is synchronised to a time source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HostSync {
    /// The system says it is synchronised.
    Synchronised,
    /// The system says it is not.
    NotSynchronised,
    /// The system does not say (no timedatectl or ntpstat, or they failed).
    Unknown,
}

/// The host clock's synchronisation and how it was learnt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSyncStatus {
    /// The state.
    pub state: HostSync,
    /// The tool that told (`timedatectl`, `ntpstat`) or `none`.
    pub source: String,
    /// What it said, one line.
    pub detail: String,
}

/// The flag file systemd-timesyncd keeps while it has synchronised the clock (touched at each
/// synchronisation, removed when it stops).
pub const TIMESYNCD_FLAG: &str = "/run/systemd/timesync/synchronized";

/// Asks the system whether its clock is synchronised: `timedatectl show -p NTPSynchronized`
/// (systemd; the kernel's own flag, `adjtimex(2)` without `STA_UNSYNC`), else `ntpstat` (exit 0
/// synchronised, 1 not), else the flag file [`TIMESYNCD_FLAG`] of systemd-timesyncd (present:
/// synchronised), else unknown. Each tool gets at most 3 seconds.
pub fn host_clock_sync() -> HostSyncStatus {
    if let Some((code, out)) = run_with_timeout("timedatectl", &["show", "-p", "NTPSynchronized"]) {
        if code == Some(0) {
            if let Some(sync) = parse_timedatectl(&out) {
                return HostSyncStatus {
                    state: if sync { HostSync::Synchronised } else { HostSync::NotSynchronised },
                    source: "timedatectl".into(),
                    detail: out.trim().to_string(),
                };
            }
        }
    }
    if let Some((code, out)) = run_with_timeout("ntpstat", &[]) {
        let first = out.lines().next().unwrap_or("").trim().to_string();
        match code {
            Some(0) => {
                return HostSyncStatus {
                    state: HostSync::Synchronised,
                    source: "ntpstat".into(),
                    detail: first,
                }
            }
            Some(1) => {
                return HostSyncStatus {
                    state: HostSync::NotSynchronised,
                    source: "ntpstat".into(),
                    detail: first,
                }
            }
            _ => {}
        }
    }
    if std::path::Path::new(TIMESYNCD_FLAG).exists() {
        return HostSyncStatus {
            state: HostSync::Synchronised,
            source: "systemd-timesyncd".into(),
            detail: format!("{TIMESYNCD_FLAG} exists"),
        };
    }
    HostSyncStatus {
        state: HostSync::Unknown,
        source: "none".into(),
        detail: format!(
            "neither timedatectl nor ntpstat reported the clock's synchronisation, and {TIMESYNCD_FLAG} is absent"
        ),
    }
}

/// Reads `NTPSynchronized=yes|no` from `timedatectl show` output.
pub fn parse_timedatectl(out: &str) -> Option<bool> {
    out.lines().find_map(|l| match l.trim().strip_prefix("NTPSynchronized=")? {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    })
}

/// Refuses an unsynchronised host clock (unless `allow_unsynchronised`); returns a warning to
/// show when the state is unknown or refusal was overridden.
pub fn require_synchronised(
    status: &HostSyncStatus,
    allow_unsynchronised: bool,
) -> Result<Option<String>, CalibrationError> {
    match status.state {
        HostSync::Synchronised => Ok(None),
        HostSync::NotSynchronised if !allow_unsynchronised => Err(CalibrationError::invalid(format!(
            "the host clock is not synchronised ({}: {}); the host-clock method would measure the host's own \
             error: enable NTP and wait for it to synchronise, or use a tone or tick reference",
            status.source, status.detail
        ))),
        HostSync::NotSynchronised => Ok(Some(format!(
            "warning: the host clock is not synchronised ({}); the figure includes the host's own rate error",
            status.source
        ))),
        HostSync::Unknown => Ok(Some(format!(
            "warning: cannot tell whether the host clock is synchronised ({}); the figure is only as good as it",
            status.detail
        ))),
    }
}

fn run_with_timeout(cmd: &str, args: &[&str]) -> Option<(Option<i32>, String)> {
    use std::io::Read;
    let mut child = std::process::Command::new(cmd)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut out = String::new();
                if let Some(mut o) = child.stdout.take() {
                    let _ = o.by_ref().take(4096).read_to_string(&mut out);
                }
                return Some((status.code(), out));
            }
            Ok(None) if start.elapsed() < Duration::from_secs(3) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn timedatectl_output_is_parsed() {
        assert_eq!(parse_timedatectl("NTPSynchronized=yes\n"), Some(true));
        assert_eq!(parse_timedatectl("NTPSynchronized=no"), Some(false));
        assert_eq!(parse_timedatectl("Timezone=UTC\n"), None);
    }
    #[test]
    fn unsynchronised_clock_is_refused_unless_allowed() {
        let s = HostSyncStatus { state: HostSync::NotSynchronised, source: "t".into(), detail: "d".into() };
        assert!(require_synchronised(&s, false).is_err());
        assert!(require_synchronised(&s, true).unwrap().is_some());
        let u = HostSyncStatus { state: HostSync::Unknown, source: "none".into(), detail: "d".into() };
        assert!(require_synchronised(&u, false).unwrap().is_some());
    }
}
