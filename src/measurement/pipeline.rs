//! The pipeline: source -> conditioning -> beats -> estimators -> [`Measurement`].
//!
//! A file is read twice. The first pass ([`RateScan`]) decides the beat rate from the whole
//! recording, so a noisy or silent start cannot decide it. The second feeds [`Analyzer`]: it
//! keeps a stretch of audio to find the beats and learn the tic and toc envelopes, sliding on
//! past stretches where that fails (a noise gap, a knock-filled start), then replays the stretch
//! through the beat timer and keeps timing beats as more audio arrives; memory stays flat.
//! Live input has no first pass: the analyser decides the rate from its own stretch, and the
//! live session re-acquires on a sliding window.
use super::types::*;
use crate::beats::acquire::{self, Envelope, Lock, RateScan};
use crate::beats::template::{self, Templates};
use crate::beats::timer::{BeatRecord, BeatTimer};
use crate::estimators::mechanical::{self, MechanicalEstimate};
use crate::source::{self, BlockSource};
use std::fmt;
use std::path::{Path, PathBuf};

/// Samples per block fed through the pipeline.
pub const BLOCK_FRAMES: usize = 4096;
/// Seconds of audio used to recognise the beat rate and learn the beat's sound.
pub const ACQUISITION_S: f64 = 12.0;
/// Seconds of beats missed in a row after which a file's analysis gives the beat line up and
/// learns the beats anew from the audio that follows (a new segment): the watch moved and sounds
/// different, or the recording was cut. Shorter gaps (a dropout, a burst of noise) are bridged
/// by the beat line.
pub const LOST_S: f64 = 4.0;
/// Smallest fraction of a stretch's beat slots that must hold a tick for the beats to be
/// learnt from it while more of the recording remains.
pub const MIN_TICKING_FRACTION: f64 = 0.8;
/// Most segments of one recording (past that, the last one runs to the end).
pub const MAX_SEGMENTS: usize = 16;
/// How close, seconds, a new segment's first unlock must fall to a slot of the last segment's
/// beat line for the line's parity to name its sides: well above the timing scatter and the
/// shift of an unlock read on a different sound, far below a beat.
pub const GRID_TOLERANCE_S: f64 = 0.002;
/// Smallest tic/toc offset, seconds, whose sign names the sides of a new segment: ten times
/// the precision of the offset over one stretch, a tenth of a typical beat error.
pub const SIDE_OFFSET_MIN_S: f64 = 0.00005;
/// Below this sample rate a recording is narrow-band (a phone call, a dictaphone): a "no watch"
/// there says what the band took away.
pub const NARROW_BAND_HZ: u32 = 22_050;

/// Errors of the analysis layer.
///
/// `Source` errors are final for that file (except `source::Error::Io`, which may be
/// transient). A recording without a watch is not an error: it is a [`Measurement`] of kind
/// [`Kind::None`] with a reason.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// The audio could not be read.
    Source(source::Error),
    /// A setting is out of range (names the setting).
    Config(String),
}

impl fmt::Display for AnalyzeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnalyzeError::Source(e) => write!(f, "{e}"),
            AnalyzeError::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AnalyzeError {}

impl From<source::Error> for AnalyzeError {
    fn from(e: source::Error) -> Self {
        AnalyzeError::Source(e)
    }
}

impl AnalysisConfig {
    /// Checks the ranges of the settings.
    pub fn validate(&self) -> Result<(), AnalyzeError> {
        if !(self.lift_angle_deg.is_finite() && (10.0..=90.0).contains(&self.lift_angle_deg)) {
            return Err(AnalyzeError::Config(format!(
                "lift angle {} deg is outside 10..90 deg",
                self.lift_angle_deg
            )));
        }
        if let Some(b) = self.bph {
            if !BPH_RANGE.contains(&b) {
                return Err(AnalyzeError::Config(format!("beat rate {b} bph is outside 3600..72000")));
            }
        }
        let r = &self.recorder.recorder_ppm;
        if !(r.value.is_finite() && r.value.abs() <= 10_000.0 && r.u95.is_finite() && r.u95 <= 10_000.0) {
            return Err(AnalyzeError::Config(format!(
                "recorder clock error {} ppm (u95 {}) is not a plausible value",
                r.value, r.u95
            )));
        }
        Ok(())
    }
}

enum State {
    Acquiring,
    Tracking { lock: Lock, timer: Box<BeatTimer> },
    Failed(String),
}

/// The mechanical analyser, fed block by block.
pub struct Analyzer {
    fs: f64,
    cfg: AnalysisConfig,
    acq: Vec<f32>,
    acq_len: usize,
    // Absolute sample of `acq[0]`.
    acq_start: u64,
    // The beat rate decided by the whole recording, when there was a first pass.
    prior_bph: Option<u32>,
    last_failure: Option<String>,
    state: State,
    samples: u64,
    // Segments already timed (see `LOST_S`).
    segments: Vec<(Lock, Box<BeatTimer>)>,
    // The recording's length in samples, when known (a file after its first pass).
    total_samples: Option<u64>,
}

impl fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer").field("fs", &self.fs).field("samples", &self.samples).finish()
    }
}

/// What the mechanical analyser concluded.
#[derive(Debug, Clone)]
pub enum MechanicalOutcome {
    /// Figures.
    Measured(Box<MechanicalEstimate>),
    /// No watch, and why.
    NoWatch(String),
}

impl Analyzer {
    /// An analyser for mono audio at `sample_rate_hz`.
    pub fn new(sample_rate_hz: u32, cfg: AnalysisConfig) -> Self {
        Self::with_acquisition(sample_rate_hz, cfg, ACQUISITION_S)
    }

    /// An analyser that recognises the beat rate after `acquisition_s` seconds (at least 2 s;
    /// live readings use ~3 s to show a first figure quickly, files use [`ACQUISITION_S`]).
    pub fn with_acquisition(sample_rate_hz: u32, cfg: AnalysisConfig, acquisition_s: f64) -> Self {
        let fs = sample_rate_hz as f64;
        let mut acq_s = acquisition_s.max(2.0);
        if let Some(b) = cfg.bph {
            acq_s = acq_s.max(10.0 * 7200.0 / b as f64);
        }
        let acq_len = (acq_s * fs) as usize;
        Analyzer {
            fs,
            cfg,
            acq: Vec::with_capacity(acq_len),
            acq_len,
            acq_start: 0,
            prior_bph: None,
            last_failure: None,
            state: State::Acquiring,
            samples: 0,
            segments: Vec::new(),
            total_samples: None,
        }
    }

    /// An analyser for a recording whose beat rate a first pass over all of it decided
    /// (`bph`): a stretch where the beats cannot be found is passed over, and the next is
    /// tried, until the recording ends.
    pub fn with_rate(sample_rate_hz: u32, cfg: AnalysisConfig, bph: u32) -> Self {
        let mut a = Self::new(sample_rate_hz, cfg);
        a.prior_bph = Some(bph);
        a
    }

    /// Tells the analyser how long the recording is, in samples: a stretch that ticks only in
    /// part is then passed over only when another half stretch of audio is still to come.
    pub fn with_length(mut self, samples: u64) -> Self {
        self.total_samples = Some(samples);
        self
    }

    /// True once the analyser has decided there is no watch (the rest need not be read).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Failed(_))
    }

    /// Feeds consecutive mono samples.
    pub fn push(&mut self, block: &[f32]) {
        self.samples += block.len() as u64;
        match &mut self.state {
            State::Failed(_) => {}
            State::Tracking { timer, .. } => {
                timer.push(block);
                let lost = timer.accepted >= 12
                    && timer.misses() as f64 * timer.templates().beat_period >= LOST_S * self.fs;
                if lost && self.prior_bph.is_some() && self.segments.len() + 1 < MAX_SEGMENTS {
                    self.new_segment();
                }
            }
            State::Acquiring => {
                let mut rest = block;
                while !rest.is_empty() {
                    let take = (self.acq_len - self.acq.len()).min(rest.len());
                    self.acq.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if self.acq.len() < self.acq_len {
                        break;
                    }
                    self.lock(self.prior_bph.is_some());
                    match &mut self.state {
                        State::Tracking { timer, .. } => {
                            timer.push(rest);
                            break;
                        }
                        State::Failed(_) => break,
                        State::Acquiring => {}
                    }
                }
            }
        }
    }

    /// Finds the beats in the stretch held and starts the timer; on failure, either slides on
    /// by half a stretch (`slide`: the whole recording said there is a watch) or gives up (no
    /// first pass: the caller, e.g. the live session, decides what next; or the recording ended).
    fn lock(&mut self, slide: bool) {
        let attempt = self.try_lock().and_then(|(lock, timer)| {
            // A stretch only partly ticking (the watch put on the microphone half way through)
            // learns a poorer sound than the next one will: passed over while more audio comes.
            let f = timer.templates().ticking_fraction;
            let end = self.acq_start + self.acq.len() as u64;
            let more_to_come = self.total_samples.is_none_or(|n| n >= end + self.acq_len as u64 / 2);
            if slide && more_to_come && f < MIN_TICKING_FRACTION {
                Err(format!("only {:.0}% of the beat slots of a stretch held a tick", 100.0 * f))
            } else {
                Ok((lock, timer))
            }
        });
        match attempt {
            Ok((lock, mut timer)) => {
                timer.origin_samples = self.acq_start;
                for chunk in self.acq.chunks(BLOCK_FRAMES) {
                    timer.push(chunk);
                }
                self.acq = Vec::new();
                self.state = State::Tracking { lock, timer };
            }
            Err(reason) if slide => {
                self.last_failure = Some(reason);
                let half = self.acq.len() / 2;
                self.acq.drain(..half);
                self.acq_start += half as u64;
            }
            Err(reason) => {
                // A failure of the last, partial stretch says less than one of a full stretch.
                let reason = if self.acq.len() < self.acq_len { self.last_failure.take() } else { None }
                    .unwrap_or(reason);
                self.state = State::Failed(reason);
                self.acq = Vec::new();
            }
        }
    }

    /// Closes the segment being timed and learns the beats anew from the audio that follows.
    fn new_segment(&mut self) {
        if let State::Tracking { lock, timer } = std::mem::replace(&mut self.state, State::Acquiring) {
            self.segments.push((lock, timer));
        }
        self.acq = Vec::with_capacity(self.acq_len);
        self.acq_start = self.samples;
    }

    fn try_lock(&self) -> Result<(Lock, Box<BeatTimer>), String> {
        let env = Envelope::of(&self.acq, self.fs);
        let mut lock = acquire::acquire_among(&env, self.cfg.bph, self.prior_bph).map_err(|e| e.reason)?;
        lock.forced = self.cfg.bph.is_some();
        let build = |lock: &Lock| {
            template::build(&self.acq, self.fs, lock, self.cfg.lift_angle_deg)
                .map_err(|e| format!("ticks at {} bph, but {}", lock.bph, e.0))
        };
        let mut t = build(&lock)?;
        // A later segment keeps the tic and toc of the first: where the beat line of the last
        // segment runs on through the new stretch (the watch was moved, not the recording cut),
        // its parity says which side is which; otherwise the sign of a clear beat error (the
        // short interval stays from tic to toc); otherwise the sides that sound alike.
        if let Some((_, first)) = self.segments.first() {
            let by_line = self.segments.last().and_then(|(_, last)| self.parity_on(last, &t));
            let by_offset = self.segments.last().and_then(|(_, last)| self.offset_sign_on(last, &t));
            if by_line.or(by_offset).unwrap_or_else(|| template::sides_swapped(&t, first.templates())) {
                lock.first_tic_s += lock.toc_offset_s;
                lock.toc_offset_s = 2.0 * lock.beat_period_s - lock.toc_offset_s;
                t = build(&lock)?;
            }
        }
        Ok((lock, Box::new(BeatTimer::new(t, BLOCK_FRAMES))))
    }

    /// Whether the new stretch's first side-0 unlock (templates `t`) falls on the odd slots of
    /// the beat line of `last` (true: the sides are swapped), when it falls clearly on one
    /// parity: within [`GRID_TOLERANCE_S`] of a slot of one parity and far from the other.
    /// `None` when the line does not run on (a cut recording, a stopped watch).
    fn parity_on(&self, last: &BeatTimer, t: &Templates) -> Option<bool> {
        let new = self.acq_start as f64 + t.first_origin + t.sides[0].events.unlock;
        let (t0, t1) = (last.unlock_at(0.0, 0)?, last.unlock_at(2.0, 0)?);
        let period = 0.5 * (t1 - t0);
        let k = ((new - t0) / period).round();
        let off = |k: f64| {
            let side = (k.rem_euclid(2.0)) as usize;
            last.unlock_at(k, side).map(|at| (new - at).abs())
        };
        let tol = GRID_TOLERANCE_S * self.fs;
        let (here, next) = (off(k)?, off(k + 1.0)?.min(off(k - 1.0)?));
        (here < tol && next > 4.0 * tol).then_some(k.rem_euclid(2.0) == 1.0)
    }

    /// Whether the new stretch's tic/toc offset (templates `t`) has the opposite sign to the
    /// last segment's (true: the sides are swapped), when both are clearly not zero (over
    /// [`SIDE_OFFSET_MIN_S`]). `None` for a watch in beat, where the sides cannot be told apart
    /// by their timing (and their order changes no figure).
    fn offset_sign_on(&self, last: &BeatTimer, t: &Templates) -> Option<bool> {
        let old = last.unlock_offset()?;
        let new = t.side_offset + t.sides[1].events.unlock - t.sides[0].events.unlock;
        let min = SIDE_OFFSET_MIN_S * self.fs;
        (old.abs() > min && new.abs() > min).then_some(old.signum() != new.signum())
    }

    /// The figures from every segment and the one being timed (`current`).
    fn estimate_with(&self, current: Option<(&Lock, &BeatTimer)>) -> MechanicalOutcome {
        let mut timers: Vec<&BeatTimer> = self.segments.iter().map(|(_, t)| t.as_ref()).collect();
        timers.extend(current.map(|(_, t)| t));
        let Some(lock) = current.map(|(l, _)| l).or(self.segments.last().map(|(l, _)| l)) else {
            return MechanicalOutcome::NoWatch("no audio".into());
        };
        match mechanical::estimate_segments(
            &timers,
            lock.bph,
            lock.forced,
            self.cfg.lift_angle_deg,
            &self.cfg.recorder,
        ) {
            Ok(m) => MechanicalOutcome::Measured(Box::new(m)),
            Err(e) => MechanicalOutcome::NoWatch(e.0),
        }
    }

    /// The figures from the audio so far (a live reading), without ending the recording:
    /// `None` while the beat rate is still being recognised.
    pub fn snapshot(&self) -> Option<MechanicalOutcome> {
        match &self.state {
            _ if !self.segments.is_empty() && !matches!(self.state, State::Tracking { .. }) => {
                Some(self.estimate_with(None))
            }
            State::Acquiring => None,
            State::Failed(r) => Some(MechanicalOutcome::NoWatch(r.clone())),
            State::Tracking { lock, timer } => Some(self.estimate_with(Some((lock, timer)))),
        }
    }

    /// True once the beat rate is recognised and beats are being timed (live readings use it
    /// to tell "still listening" from "locked, but not enough beats for figures yet").
    pub fn is_tracking(&self) -> bool {
        matches!(self.state, State::Tracking { .. })
    }

    /// The recognised beat rate (bph) once tracking.
    pub fn locked_bph(&self) -> Option<u32> {
        match &self.state {
            State::Tracking { lock, .. } => Some(lock.bph),
            _ => None,
        }
    }

    /// The per-beat records kept so far (thinned past [`crate::beats::timer::MAX_RECORDS`]),
    /// times in samples from this analyser's first sample; empty until tracking. For the live
    /// paper strip and for noticing that the beats stopped matching.
    pub fn beat_records(&self) -> &[BeatRecord] {
        match &self.state {
            State::Tracking { timer, .. } => &timer.records,
            _ => &[],
        }
    }

    /// The event windows read so far (unlock and drop per side, about every 2 s): what the beat
    /// error and the amplitude are combined from. Empty until tracking.
    pub fn event_readings(&self) -> &[crate::beats::timer::EventReading] {
        match &self.state {
            State::Tracking { timer, .. } => &timer.event_readings,
            _ => &[],
        }
    }

    /// Samples fed so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Ends the recording and computes the figures.
    pub fn finish(mut self) -> MechanicalOutcome {
        if matches!(self.state, State::Acquiring) {
            if (self.acq.len() as f64) < 2.0 * self.fs && !self.segments.is_empty() {
                return self.estimate_with(None);
            }
            if (self.acq.len() as f64) < 2.0 * self.fs {
                return MechanicalOutcome::NoWatch(self.last_failure.take().unwrap_or_else(|| {
                    format!(
                        "the recording is {:.1} s long; at least 2 s are needed to hear a watch",
                        self.acq.len() as f64 / self.fs
                    )
                }));
            }
            // What is left is all there is: tried once more, without sliding on.
            self.lock(false);
        }
        match &self.state {
            State::Tracking { lock, timer } => self.estimate_with(Some((lock, timer))),
            _ if !self.segments.is_empty() => self.estimate_with(None),
            State::Failed(r) => MechanicalOutcome::NoWatch(r.clone()),
            State::Acquiring => MechanicalOutcome::NoWatch("no audio".into()),
        }
    }
}

fn none(reason: String) -> (Kind, Option<String>) {
    (Kind::None, Some(reason))
}

/// Findings about the file itself: `nonfinite` samples that were not numbers (NaN, infinite)
/// and were replaced, and what a cut file lacks.
fn source_findings(nonfinite: u64, truncation: Option<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    if nonfinite > 0 {
        out.push(Finding::new(
            "samples_not_finite",
            format!(
                "{nonfinite} samples of the recording were not finite numbers (NaN or infinite) and were replaced by \
                 0 or full scale: the file is damaged or was written by a faulty program"
            ),
        ));
    }
    if let Some(t) = truncation {
        out.push(Finding::new("recording_truncated", format!("{t}; the figures are from what is there")));
    }
    out
}

/// A forced beat rate the ticks do not fit (the whole recording's rate scan finds another):
/// no figures, since a rate half the watch's folds tic onto tic and reads no beat error, and
/// the reason names the rate the ticks do fit.
fn forced_rate_refused(outcome: MechanicalOutcome, forced: u32, fits: u32) -> MechanicalOutcome {
    let why =
        format!("the ticks fit {fits} bph, not the forced {forced} bph: use --bph auto (or --bph {fits})");
    match outcome {
        MechanicalOutcome::NoWatch(r) => MechanicalOutcome::NoWatch(format!("{r}; {why}")),
        _ => MechanicalOutcome::NoWatch(why),
    }
}

/// Analyses a source (any [`BlockSource`]): picks the channel, runs the pipeline, and returns
/// the measurement (of kind `none` with a reason when there is no watch).
pub fn analyze_source(src: Box<dyn BlockSource>, cfg: &AnalysisConfig) -> Result<Measurement, AnalyzeError> {
    analyze_source_detailed(src, cfg).map(|(m, _)| m)
}

/// What a measurement's plots are drawn from, beside the figures.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    /// Mechanical: averaged tic/toc envelopes and the paper strip.
    pub mechanical: Option<Box<MechanicalEstimate>>,
    /// Quartz: every motor step's timing residual.
    pub quartz_steps: Option<Vec<crate::estimators::quartz::StepResidual>>,
}

/// [`analyze_source`], keeping what the plots need ([`Detail`]).
pub fn analyze_source_detailed(
    src: Box<dyn BlockSource>,
    cfg: &AnalysisConfig,
) -> Result<(Measurement, Detail), AnalyzeError> {
    let mut detail = Detail::default();
    cfg.validate()?;
    let mut src = src;
    let info = src.info().clone();
    let channel = match cfg.channel {
        Some(c) if c >= info.channels => {
            return Err(AnalyzeError::Config(format!(
                "channel {c} does not exist (the recording has {} channels)",
                info.channels
            )))
        }
        Some(c) => c,
        None if info.channels > 1 => source::channel::choose_channel(src.as_mut(), 20.0)?.channel,
        None => 0,
    };
    let mut blocks = source::channel::MonoBlocks::new(src, channel, BLOCK_FRAMES);
    let mut frames = 0u64;
    let mut outcome = MechanicalOutcome::NoWatch("not analysed as mechanical (quartz was asked for)".into());
    // Samples that were not numbers, replaced by the source (counted over the whole file).
    let mut nonfinite = 0u64;
    let mut truncation: Option<String> = None;
    if cfg.kind != KindChoice::Quartz {
        // First pass: the beat rate, from all of the recording.
        let mut scan = RateScan::new(info.sample_rate_hz as f64);
        while let Some(b) = blocks.next_block()? {
            frames += b.len() as u64;
            scan.push(b);
        }
        // A forced rate the ticks do not fit: say which rate they do fit.
        let auto = cfg.bph.map(|_| scan.clone());
        nonfinite = blocks.nonfinite_samples();
        truncation = blocks.truncation();
        outcome = match scan.finish(cfg.bph) {
            Err(e) => MechanicalOutcome::NoWatch(e.reason),
            Ok(rate) => {
                blocks.rewind()?;
                let mut an =
                    Analyzer::with_rate(info.sample_rate_hz, cfg.clone(), rate.bph).with_length(frames);
                while let Some(b) = blocks.next_block()? {
                    an.push(b);
                    if an.is_done() {
                        break;
                    }
                }
                an.finish()
            }
        };
        if let (Some(Ok(fit)), Some(forced)) = (auto.map(|a| a.finish(None)), cfg.bph) {
            if fit.bph != forced {
                outcome = forced_rate_refused(outcome, forced, fit.bph);
            }
        }
    }
    // A file read only in part (no watch found early) still reports its whole length.
    let duration_s = info.frames.unwrap_or(frames).max(frames) as f64 / info.sample_rate_hz as f64;
    let try_quartz = match cfg.kind {
        KindChoice::Quartz => true,
        KindChoice::Mechanical => false,
        KindChoice::Auto => matches!(outcome, MechanicalOutcome::NoWatch(_)),
    };
    if try_quartz {
        let mut src = blocks.into_inner();
        src.rewind()?;
        let q = crate::estimators::quartz::measure(src.as_mut(), channel, &cfg.recorder).map_err(
            |e| match e {
                crate::estimators::quartz::Error::Source(s) => AnalyzeError::Source(s),
                other => AnalyzeError::Config(other.to_string()),
            },
        )?;
        let nonfinite = nonfinite.max(src.nonfinite_samples());
        let truncation = truncation.clone().or_else(|| src.truncation());
        if q.quartz.is_some() || cfg.kind == KindChoice::Quartz {
            let mut m = q.to_measurement(info.channels, channel);
            m.findings.extend(source_findings(nonfinite, truncation));
            m.lift_angle_deg = cfg.lift_angle_deg;
            m.calibration = cfg.recorder.source.clone();
            m.calibration_stale = cfg.recorder.stale;
            m.duration_s = m.duration_s.max(duration_s);
            detail.quartz_steps = Some(q.residuals.clone());
            return Ok((m, detail));
        }
        if let MechanicalOutcome::NoWatch(r) = &mut outcome {
            if let Some(qr) = &q.reason {
                *r = format!("{r}; and not a quartz watch: {qr}");
            }
        }
    }
    if let MechanicalOutcome::NoWatch(r) = &mut outcome {
        if info.sample_rate_hz < NARROW_BAND_HZ {
            let hi_khz = info.sample_rate_hz as f64 / 2000.0;
            r.push_str(&format!(
                " (recorded at {} Hz, the file holds nothing above {hi_khz:.1} kHz, where most of a tick's sound lies: record at 44100 Hz or more)",
                info.sample_rate_hz
            ));
        }
    }
    let mut m = Measurement {
        kind: Kind::None,
        bph: None,
        rate_s_per_day: None,
        beat_error_ms: None,
        amplitude_deg: None,
        lift_angle_deg: cfg.lift_angle_deg,
        recorder_ppm: cfg.recorder.recorder_ppm,
        calibration: cfg.recorder.source.clone(),
        calibration_stale: cfg.recorder.stale,
        beats_used: 0,
        beats_rejected: 0,
        duration_s,
        quality: 0.0,
        snr_db: None,
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        channel,
        reason: None,
        mechanical: None,
        quartz: None,
        rate_s_per_month: None,
        findings: source_findings(nonfinite, truncation),
        software: software_id(),
    };
    match outcome {
        MechanicalOutcome::Measured(e) => {
            let mech = e.mechanical.clone();
            detail.mechanical = Some(e.clone());
            m.kind = Kind::Mechanical;
            m.bph = Some(mech.bph);
            m.rate_s_per_day = Some(mech.rate_s_per_day);
            m.beat_error_ms = mech.beat_error_ms;
            m.amplitude_deg = mech.amplitude_deg;
            m.beats_used = mech.beats_used;
            m.beats_rejected = mech.beats_rejected;
            m.quality = e.quality;
            m.snr_db = Some(e.snr_db);
            m.mechanical = Some(mech);
        }
        MechanicalOutcome::NoWatch(r) => {
            let (k, reason) = none(r);
            m.kind = k;
            m.reason = reason;
        }
    }
    Ok((m, detail))
}

/// Opens and analyses a recording, keeping what the plots need.
pub fn analyze_path_detailed(
    path: &Path,
    cfg: &AnalysisConfig,
) -> Result<(Measurement, Detail), AnalyzeError> {
    let src = source::open(path)?;
    analyze_source_detailed(src, cfg).map_err(|e| match e {
        AnalyzeError::Config(m) => AnalyzeError::Config(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Opens and analyses a recording.
pub fn analyze_path(path: &Path, cfg: &AnalysisConfig) -> Result<Measurement, AnalyzeError> {
    let src = source::open(path)?;
    analyze_source(src, cfg).map_err(|e| match e {
        AnalyzeError::Config(m) => AnalyzeError::Config(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// The path of a file, for messages.
pub fn display(path: &Path) -> PathBuf {
    path.to_path_buf()
}
