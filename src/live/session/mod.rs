//! The streaming analyser behind live readings: [`LiveSession`] feeds blocks to the same
//! [`Analyzer`] that analyses files and publishes a [`Reading`] at least every second.
//!
//! * First figures fast: until a watch is locked, a fresh candidate analyser (acquisition
//!   [`LiveConfig::acquisition_s`], 2.5 s by default) starts every
//!   [`LiveConfig::candidate_every_s`]; the first that locks and measures becomes the primary,
//!   so a first reading comes within about 3 s of ticks arriving whenever they arrive.
//! * Sliding window: when the primary has run half of [`LiveConfig::window_s`], a successor
//!   starts beside it; when the primary reaches the whole window the successor replaces it
//!   (`restarted: window`). The figures always rest on between half a window and a window of
//!   audio, u95 shrinks as the window grows, and the state is bounded (memory flat for hours).
//! * A change of watch or position is not averaged in: when the latest 10 s window's rate
//!   differs from the running rate by more than both u95s together, when no beat has matched
//!   for [`LiveConfig::silence_s`] (watch removed, moved, or a different beat rate), or when the
//!   analyser stops recognising a watch, everything restarts from acquisition and the next
//!   reading says why (`restarted`).
//!
//! Time is counted in samples (the recorder's clock), so a replay at any speed gives the same
//! readings as real time.
use crate::beats::timer::BeatRecord;
use crate::estimators::mechanical::MechanicalEstimate;
use crate::measurement::pipeline::{MechanicalOutcome, BLOCK_FRAMES};
use crate::measurement::{Analyzer, Figure};
mod types;

use std::collections::VecDeque;

/// Most candidate analysers alive at once while looking for a watch.
pub const MAX_CANDIDATES: usize = 8;
/// Points kept in the trend (one per reading: ten minutes at one a second).
pub const TREND_POINTS: usize = 600;

pub use types::*;

struct Track {
    an: Analyzer,
    /// Session sample at which this analyser's first sample was fed.
    start: u64,
    /// Lift angle the analyser uses.
    lift_deg: f64,
    est: Option<Box<MechanicalEstimate>>,
    windows_seen: usize,
    was_tracking: bool,
}

impl Track {
    fn new(fs: u32, cfg: &LiveConfig, start: u64) -> Self {
        Track {
            an: Analyzer::with_acquisition(fs, cfg.analysis.clone(), cfg.acquisition_s),
            start,
            lift_deg: cfg.analysis.lift_angle_deg,
            est: None,
            windows_seen: 0,
            was_tracking: false,
        }
    }
    fn measure(&mut self) -> Result<(), String> {
        match self.an.snapshot() {
            Some(MechanicalOutcome::Measured(e)) => {
                self.est = Some(e);
                Ok(())
            }
            Some(MechanicalOutcome::NoWatch(r)) => Err(r),
            None => Err("still recognising the beat rate".into()),
        }
    }
}

/// The live streaming analyser (see the module docs).
pub struct LiveSession {
    fs: u32,
    cfg: LiveConfig,
    samples: u64,
    primary: Option<Track>,
    successor: Option<Track>,
    candidates: Vec<Track>,
    /// With a forced beat rate: an automatic analyser that finds the rate the ticks fit, so a
    /// forced rate they do not fit is refused (dropped once it has locked or failed).
    witness: Option<Track>,
    next_candidate_at: u64,
    next_reading_at: u64,
    pending_restart: Option<Restart>,
    restarts: u64,
    note: Option<String>,
    trend: VecDeque<TrendPoint>,
    latest: Option<Reading>,
    last_good: Option<Reading>,
    heard_bph: Option<u32>,
}

impl std::fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSession").field("fs", &self.fs).field("samples", &self.samples).finish()
    }
}

impl LiveSession {
    /// A session for mono audio at `sample_rate_hz` (settings already validated).
    pub fn new(sample_rate_hz: u32, cfg: LiveConfig) -> Self {
        LiveSession {
            fs: sample_rate_hz,
            samples: 0,
            primary: None,
            successor: None,
            candidates: Vec::with_capacity(MAX_CANDIDATES),
            witness: None,
            next_candidate_at: 0,
            next_reading_at: (cfg.reading_every_s * sample_rate_hz as f64) as u64,
            pending_restart: None,
            restarts: 0,
            note: None,
            trend: VecDeque::with_capacity(TREND_POINTS),
            latest: None,
            last_good: None,
            heard_bph: None,
            cfg,
        }
    }

    /// Sample rate, Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.fs
    }

    /// The settings in force.
    pub fn config(&self) -> &LiveConfig {
        &self.cfg
    }

    /// Seconds of audio fed so far.
    pub fn elapsed_s(&self) -> f64 {
        self.samples as f64 / self.fs as f64
    }

    /// Restarts so far (all reasons).
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Analysers alive now (primary, successor, candidates, the witness of a forced rate):
    /// bounded by `3 + MAX_CANDIDATES`.
    pub fn analysers_alive(&self) -> usize {
        self.primary.is_some() as usize
            + self.successor.is_some() as usize
            + self.candidates.len()
            + self.witness.is_some() as usize
    }

    /// With a forced rate and no rate heard yet, feeds the witness; once it locks, a forced
    /// rate other than the one it heard is refused: back to automatic, saying why.
    fn check_forced(&mut self, chunk: &[f32]) {
        let Some(forced) = self.cfg.analysis.bph else {
            self.witness = None;
            return;
        };
        if self.heard_bph.is_some() {
            self.witness = None;
            return;
        }
        let w = self.witness.get_or_insert_with(|| {
            let mut auto = self.cfg.clone();
            auto.analysis.bph = None;
            Track::new(self.fs, &auto, self.samples)
        });
        w.an.push(chunk);
        if w.an.is_done() {
            self.witness = None; // nothing recognised here; a fresh witness tries the next audio
            return;
        }
        let Some(heard) = w.an.is_tracking().then(|| w.an.locked_bph()).flatten() else { return };
        self.witness = None;
        self.heard_bph = Some(heard);
        if heard != forced {
            self.cfg.analysis.bph = None;
            let msg = format!("{forced} bph refused: the ticks fit {heard} bph; back to automatic");
            self.restart(RestartReason::Settings, msg);
        }
    }

    /// Feeds consecutive mono samples; returns a reading when one is due (at least one per
    /// [`LiveConfig::reading_every_s`] of audio, and at once when a watch is first locked).
    pub fn push(&mut self, block: &[f32]) -> Option<Reading> {
        let mut out = None;
        let mut rest = block;
        while !rest.is_empty() {
            // Chunks end on the reading grid, so readings come on time whatever the block size.
            let to_reading = self.next_reading_at.saturating_sub(self.samples).max(1) as usize;
            let (chunk, tail) = rest.split_at(rest.len().min(BLOCK_FRAMES).min(to_reading));
            rest = tail;
            if let Some(r) = self.feed(chunk) {
                out = Some(r);
            }
        }
        out
    }

    fn s(&self, seconds: f64) -> u64 {
        (seconds * self.fs as f64).round() as u64
    }

    fn feed(&mut self, chunk: &[f32]) -> Option<Reading> {
        if self.primary.is_none()
            && self.samples >= self.next_candidate_at
            && self.candidates.len() < MAX_CANDIDATES
        {
            self.candidates.push(Track::new(self.fs, &self.cfg, self.samples));
            self.next_candidate_at = self.samples + self.s(self.cfg.candidate_every_s);
        }
        for t in self.primary.iter_mut().chain(self.successor.iter_mut()).chain(self.candidates.iter_mut()) {
            t.an.push(chunk);
        }
        self.check_forced(chunk);
        self.samples += chunk.len() as u64;
        let mut due = self.samples >= self.next_reading_at;
        if self.primary.is_none() && self.promote_candidate(due) {
            due = true;
        }
        if !due {
            return None;
        }
        let every = self.s(self.cfg.reading_every_s).max(1);
        self.next_reading_at = if self.samples >= self.next_reading_at {
            self.next_reading_at + every
        } else {
            self.samples + every
        };
        self.update();
        let r = self.reading();
        if let (Some(rate), Status::Measuring) = (r.rate_s_per_day, r.status) {
            if self.trend.len() == TREND_POINTS {
                self.trend.pop_front();
            }
            self.trend.push_back(TrendPoint {
                t_s: r.elapsed_s,
                rate_s_per_day: rate,
                beat_error_ms: r.beat_error_ms,
                amplitude_deg: r.amplitude_deg,
            });
            if self.cfg.analysis.bph.is_none() {
                self.heard_bph = r.bph;
            }
            self.last_good = Some(r.clone());
        }
        self.latest = Some(r.clone());
        Some(r)
    }

    /// Drops failed candidates; promotes the first that locked and measures (tried when it
    /// locks and then once a reading interval, `due`). True on promotion.
    fn promote_candidate(&mut self, due: bool) -> bool {
        let max_age = self.s(self.cfg.acquisition_s + 6.0);
        let now = self.samples;
        let mut promoted = None;
        let mut last_reason = None;
        self.candidates.retain_mut(|c| {
            if promoted.is_some() || c.an.is_done() {
                if let Some(MechanicalOutcome::NoWatch(r)) = c.an.snapshot() {
                    last_reason = Some(r);
                }
                return false;
            }
            if !c.an.is_tracking() {
                return true;
            }
            // Measure when it just locked, then once a reading interval.
            let just = !c.was_tracking;
            c.was_tracking = true;
            if just || due {
                match c.measure() {
                    Ok(()) => {
                        promoted = Some(());
                        return true;
                    }
                    Err(r) => last_reason = Some(r),
                }
            }
            now - c.start < max_age
        });
        if let Some(r) = last_reason {
            self.note = Some(r);
        }
        if promoted.is_some() {
            let i = self.candidates.iter().position(|c| c.est.is_some()).expect("promoted candidate");
            let t = self.candidates.swap_remove(i);
            self.candidates.clear();
            self.primary = Some(t);
            self.note = None;
            return true;
        }
        false
    }

    fn restart(&mut self, reason: RestartReason, message: String) {
        self.primary = None;
        self.successor = None;
        self.candidates.clear();
        self.next_candidate_at = self.samples;
        self.restarts += 1;
        self.note = Some(message.clone());
        self.pending_restart = Some(Restart { reason, message, at_s: self.elapsed_s() });
    }

    fn update(&mut self) {
        let fs = self.fs as f64;
        let now = self.samples;
        let Some(p) = self.primary.as_mut() else { return };
        if let Err(r) = p.measure() {
            self.restart(RestartReason::SignalLost, format!("the watch was lost: {r}"));
            return;
        }
        // Beats stopped matching?
        let last_ok = p.an.beat_records().iter().rev().find(|b| b.rejected.is_none()).map(|b| b.t);
        let silent_s = match last_ok {
            Some(t) => (now as f64 - (p.start as f64 + t)) / fs,
            None => (now - p.start) as f64 / fs,
        };
        if silent_s > self.cfg.silence_s {
            self.restart(
                RestartReason::SignalLost,
                format!("no beat matched for {silent_s:.1} s (watch removed, moved or changed)"),
            );
            return;
        }
        // The latest 10 s window against the running rate.
        let e = p.est.as_ref().expect("measured");
        let m = &e.mechanical;
        if m.windows.len() > p.windows_seen {
            p.windows_seen = m.windows.len();
            if m.windows.len() >= 3 {
                let w = m.windows[m.windows.len() - 1].rate_s_per_day;
                let r = m.rate_s_per_day;
                if (w.value - r.value).abs() > w.u95 + r.u95 {
                    let msg = format!(
                        "rate changed: the last 10 s read {:+.1} s/day against {:+.1} ± {:.1} s/day",
                        w.value, r.value, r.u95
                    );
                    self.restart(RestartReason::RateChange, msg);
                    return;
                }
            }
        }
        // The sliding window.
        let span = now - p.start;
        if span >= self.s(self.cfg.window_s / 2.0) && self.successor.is_none() {
            self.successor = Some(Track::new(self.fs, &self.cfg, now));
        }
        if span >= self.s(self.cfg.window_s) {
            let ready = match self.successor.as_mut() {
                Some(s) if s.an.is_done() => {
                    self.successor = None;
                    false
                }
                Some(s) if s.an.is_tracking() => s.measure().is_ok(),
                _ => false,
            };
            if ready {
                let old = self.primary.take().map(|p| p.start).unwrap_or(0);
                self.primary = self.successor.take();
                let msg = format!(
                    "the {:.0} s window moved on (audio from {:.0} s dropped)",
                    self.cfg.window_s,
                    (self.primary.as_ref().map(|p| p.start).unwrap_or(0) - old) as f64 / fs
                );
                self.restarts += 1;
                self.pending_restart =
                    Some(Restart { reason: RestartReason::Window, message: msg, at_s: now as f64 / fs });
            }
        }
    }

    fn reading(&mut self) -> Reading {
        let lift = self.cfg.analysis.lift_angle_deg;
        let mut r = Reading {
            elapsed_s: self.elapsed_s(),
            status: Status::Listening,
            window_s: 0.0,
            bph: None,
            bph_source: None,
            rate_s_per_day: None,
            beat_error_ms: None,
            amplitude_deg: None,
            lift_angle_deg: lift,
            quality: None,
            snr_db: None,
            beats_used: 0,
            beats_rejected: 0,
            note: None,
            overrun_samples: 0,
            restarted: self.pending_restart.take(),
        };
        match self.primary.as_ref().and_then(|p| p.est.as_ref().map(|e| (p, e))) {
            Some((p, e)) => {
                let m = &e.mechanical;
                // Amplitude is proportional to the lift angle: a new lift angle rescales it.
                let k = lift / p.lift_deg;
                r.status = Status::Measuring;
                r.window_s = (self.samples - p.start) as f64 / self.fs as f64;
                r.bph = Some(m.bph);
                r.bph_source = Some(m.bph_source.clone());
                r.rate_s_per_day = Some(m.rate_s_per_day);
                r.beat_error_ms = m.beat_error_ms;
                r.amplitude_deg = m.amplitude_deg.map(|a| Figure::new(a.value * k, a.u95 * k));
                r.quality = Some(e.quality);
                r.snr_db = Some(e.snr_db);
                r.beats_used = m.beats_used;
                r.beats_rejected = m.beats_rejected;
            }
            None => {
                r.note = Some(self.note.clone().unwrap_or_else(|| "listening for ticks".into()));
            }
        }
        r
    }

    /// The latest reading published.
    pub fn latest(&self) -> Option<&Reading> {
        self.latest.as_ref()
    }

    /// The estimate behind the latest figures (averaged tic/toc waveforms with unlock and drop
    /// marks, 10 s windows), when measuring.
    pub fn estimate(&self) -> Option<&MechanicalEstimate> {
        self.primary.as_ref().and_then(|p| p.est.as_deref())
    }

    /// The last reading with figures (status measuring), kept through restarts: what a
    /// snapshot saves.
    pub fn last_good(&self) -> Option<&Reading> {
        self.last_good.as_ref()
    }

    /// The beat rate the ticks were last recognised at automatically, if any.
    pub fn heard_bph(&self) -> Option<u32> {
        self.heard_bph
    }

    /// The trend: rate, beat error and amplitude per measuring reading, the last
    /// [`TREND_POINTS`].
    pub fn trend(&self) -> &VecDeque<TrendPoint> {
        &self.trend
    }

    /// The paper strip of the current analysis: every matched beat's deviation from the
    /// nominal period (tic and toc drift together with the rate; their gap is the beat error).
    /// Clears `out` and fills it; nothing while listening.
    pub fn paper_strip(&self, out: &mut Vec<StripPoint>) {
        out.clear();
        let Some(p) = self.primary.as_ref() else { return };
        let Some(bph) = p.an.locked_bph() else { return };
        let fs = self.fs as f64;
        let period = 3600.0 / bph as f64 * fs;
        let recs: &[BeatRecord] = p.an.beat_records();
        let Some(first) = recs.iter().find(|b| b.rejected.is_none()) else { return };
        for b in recs.iter().filter(|b| b.rejected.is_none()) {
            let expected = first.t + (b.slot - first.slot) as f64 * period;
            out.push(StripPoint {
                t_s: (p.start as f64 + b.t) / fs,
                dev_ms: (expected - b.t) / fs * 1000.0,
                side: (b.slot % 2) as u8,
            });
        }
    }

    /// Sets the lift angle: amplitudes are rescaled at once (amplitude is proportional to it)
    /// and new analysers use it.
    pub fn set_lift_angle(&mut self, lift_deg: f64) {
        if lift_deg.is_finite() && (10.0..=90.0).contains(&lift_deg) {
            self.cfg.analysis.lift_angle_deg = lift_deg;
        }
    }

    /// Forces a beat rate (or automatic with `None`); the analysis restarts. A forced rate
    /// other than the one the ticks were recognised at (a half or double rate reads a beat
    /// error of zero and a wrong amplitude) is refused, as `analyze --bph` refuses it; the
    /// error says which rate the ticks fit. A rate outside 3600..72000 bph is refused too.
    pub fn set_bph(&mut self, bph: Option<u32>) -> Result<(), String> {
        if self.cfg.analysis.bph == bph {
            return Ok(());
        }
        if let Some(b) = bph {
            let mut probe = self.cfg.analysis.clone();
            probe.bph = Some(b);
            probe.validate().map_err(|e| format!("{b} bph refused: {e}"))?;
            if let Some(h) = self.heard_bph.filter(|&h| h != b) {
                return Err(format!("{b} bph refused: the ticks fit {h} bph (a: back to automatic)"));
            }
        }
        self.cfg.analysis.bph = bph;
        let msg = match bph {
            Some(b) => format!("beat rate forced to {b} bph"),
            None => "beat rate back to automatic".to_string(),
        };
        self.restart(RestartReason::Settings, msg);
        Ok(())
    }

    /// A new position was marked: the analysis restarts so two positions are not averaged.
    pub fn mark_position(&mut self, position: &str) {
        self.restart(RestartReason::Mark, format!("position {position} marked"));
    }
}
