//! The guided protocol: a policy's positions measured one after the other through the live
//! path. For each position the technician is told what to do (settle, then measure, then done);
//! the settling audio is analysed for the view but not kept, and the measuring stretch of each
//! position is recorded to its own `DIR/<POS>.wav` with the side file `DIR/<POS>.wav.json`
//! carrying `"position": "<POS>"` (the side file `judge` and `claim measure` read).
//!
//! Boundaries fall on exact sample counts ([`super::run::Stages`]), so each position's recording
//! is `seconds_per_position` long to the sample.
use super::recorder::{Recorder, RecordingMeta};
use super::run::{Frontend, Stages};
use super::session::LiveSession;
use super::LiveError;
use crate::measurement::Figure;
use crate::verdict::Position;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Longest settling or measuring time per position accepted, seconds (one day).
pub const MAX_PHASE_S: f64 = 86_400.0;

/// What a protocol step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// The watch was just put in the position, or is settling (audio not kept).
    Settle,
    /// The position is being measured (audio recorded).
    Measure,
    /// The position is done; its recording is complete.
    Done,
}

/// One event of the guided protocol: at the start of each phase, once per second of audio
/// within it, and when a position is done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// What is happening.
    pub event: StepKind,
    /// The position, 1-based, in protocol order.
    pub index: usize,
    /// Positions in the protocol.
    pub count: usize,
    /// The position.
    pub position: Position,
    /// Seconds of this phase done.
    pub elapsed_s: f64,
    /// Seconds of this phase left (0 when done).
    pub remaining_s: f64,
    /// Length of this phase, seconds.
    pub phase_s: f64,
    /// Live rate from the measuring stretch only, s/day (none while settling or before the
    /// watch is locked in this position).
    pub rate_s_per_day: Option<Figure>,
    /// Live beat error from the measuring stretch, ms.
    pub beat_error_ms: Option<Figure>,
    /// Live amplitude from the measuring stretch, degrees.
    pub amplitude_deg: Option<Figure>,
    /// The position's recording (measuring and done).
    pub file: Option<PathBuf>,
}

impl Step {
    /// The step in plain words, one line.
    pub fn line(&self) -> String {
        let p = self.position;
        let rate = self
            .rate_s_per_day
            .map(|r| format!("rate {:+.2} ± {:.2} s/day", r.value, r.u95))
            .unwrap_or_else(|| "no rate yet".into());
        match self.event {
            StepKind::Settle if self.elapsed_s == 0.0 => format!(
                "Position {} of {}: {} ({}). Settle {:.0} s…",
                self.index,
                self.count,
                p.code(),
                p.words(),
                self.phase_s
            ),
            StepKind::Settle => format!("Settling {}: {:.0} s left", p.code(), self.remaining_s),
            StepKind::Measure => {
                format!("Measuring {}: {:.0}/{:.0} s  {rate}", p.code(), self.elapsed_s, self.phase_s)
            }
            StepKind::Done => format!(
                "{} done: {rate} ({})",
                p.code(),
                self.file.as_deref().map(|f| f.display().to_string()).unwrap_or_default()
            ),
        }
    }
}

/// A protocol to follow: positions and times.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Positions in order (distinct, not `Unstated`).
    pub positions: Vec<Position>,
    /// Settling time per position, seconds (audio analysed, not kept).
    pub settle_s: f64,
    /// Measuring time per position, seconds (recorded).
    pub seconds_per_position: f64,
}

impl Plan {
    /// Checks the plan; the error names the setting.
    pub fn validate(&self) -> Result<(), LiveError> {
        if self.positions.is_empty() || self.positions.len() > Position::ALL.len() {
            return Err(LiveError::Config("the protocol must have 1 to 6 positions".into()));
        }
        for (i, p) in self.positions.iter().enumerate() {
            if *p == Position::Unstated || self.positions[..i].contains(p) {
                return Err(LiveError::Config(format!("protocol position {p} is not usable or given twice")));
            }
        }
        if !(self.settle_s.is_finite() && (0.0..=MAX_PHASE_S).contains(&self.settle_s)) {
            return Err(LiveError::Config(format!("--settle-s {} is outside 0..86400 s", self.settle_s)));
        }
        if !(self.seconds_per_position.is_finite() && self.seconds_per_position >= 1.0)
            || self.seconds_per_position > MAX_PHASE_S
        {
            return Err(LiveError::Config(format!(
                "--seconds-per-position {} is outside 1..86400 s",
                self.seconds_per_position
            )));
        }
        Ok(())
    }

    /// Total audio the protocol takes, seconds.
    pub fn total_s(&self) -> f64 {
        self.positions.len() as f64 * (self.settle_s + self.seconds_per_position)
    }
}

/// A position's recording and its side file in `dir`: `<POS>.wav`, `<POS>.wav.json`.
pub fn position_files(dir: &Path, p: Position) -> (PathBuf, PathBuf) {
    (dir.join(format!("{}.wav", p.code())), dir.join(format!("{}.wav.json", p.code())))
}

/// Refuses (with [`LiveError::Exists`] naming the file) when any recording or side file of the
/// plan already exists in `dir`, before anything is recorded.
pub fn check_free(dir: &Path, plan: &Plan) -> Result<(), LiveError> {
    for p in &plan.positions {
        let (wav, side) = position_files(dir, *p);
        for f in [wav, side] {
            if f.exists() {
                return Err(LiveError::Exists(f));
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Start,
    Settle,
    Measure,
    Finished,
}

/// Drives a run through the plan ([`Stages`] for [`super::run::run_stages`]).
#[derive(Debug)]
pub struct Guide {
    plan: Plan,
    fs: u32,
    dir: PathBuf,
    meta: RecordingMeta,
    settle_n: u64,
    measure_n: u64,
    idx: usize,
    phase: Phase,
    phase_start: u64,
    next: u64,
    files: Vec<(Position, PathBuf)>,
}

impl Guide {
    /// A guide writing into `dir` (which must exist) at `fs` Hz; `meta` is the side file
    /// template (device, format, calibration...), its `position` set per recording.
    pub fn new(plan: Plan, fs: u32, dir: &Path, meta: RecordingMeta) -> Result<Self, LiveError> {
        plan.validate()?;
        let n = |s: f64| (s * fs as f64).round() as u64;
        Ok(Guide {
            settle_n: n(plan.settle_s),
            measure_n: n(plan.seconds_per_position),
            plan,
            fs,
            dir: dir.to_path_buf(),
            meta,
            idx: 0,
            phase: Phase::Start,
            phase_start: 0,
            next: 0,
            files: Vec::new(),
        })
    }

    /// The plan followed.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The positions completed so far and their recordings, in protocol order.
    pub fn files(&self) -> &[(Position, PathBuf)] {
        &self.files
    }

    /// True once every position was measured.
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The position being measured when the run stopped early, and its (partial) recording.
    pub fn unfinished(&self) -> Option<(Position, PathBuf)> {
        let p = *self.plan.positions.get(self.idx)?;
        (self.phase == Phase::Measure).then(|| (p, position_files(&self.dir, p).0))
    }

    fn step(&self, event: StepKind, samples: u64, session: &LiveSession) -> Step {
        let fs = self.fs as f64;
        let len = match event {
            StepKind::Settle => self.settle_n,
            _ => self.measure_n,
        };
        let done = samples.saturating_sub(self.phase_start).min(len);
        // Figures only from readings made on the measuring stretch.
        let reading = match event {
            StepKind::Settle => None,
            _ => session.latest().filter(|r| r.elapsed_s * fs >= self.phase_start as f64 + 0.5),
        };
        let p = self.plan.positions[self.idx];
        Step {
            event,
            index: self.idx + 1,
            count: self.plan.positions.len(),
            position: p,
            elapsed_s: done as f64 / fs,
            remaining_s: (len - done) as f64 / fs,
            phase_s: len as f64 / fs,
            rate_s_per_day: reading.and_then(|r| r.rate_s_per_day),
            beat_error_ms: reading.and_then(|r| r.beat_error_ms),
            amplitude_deg: reading.and_then(|r| r.amplitude_deg),
            file: (event != StepKind::Settle).then(|| position_files(&self.dir, p).0),
        }
    }

    /// The next boundary: the next whole second of the phase, or its end.
    fn tick(&mut self, samples: u64, len: u64) {
        let fs = self.fs as u64;
        let k = (samples - self.phase_start) / fs + 1;
        self.next = self.phase_start + (k * fs).min(len);
    }

    fn begin_settle(&mut self, samples: u64, session: &mut LiveSession, fe: &mut dyn Frontend) {
        self.phase = Phase::Settle;
        self.phase_start = samples;
        session.mark_position(self.plan.positions[self.idx].code());
        fe.step(&self.step(StepKind::Settle, samples, session));
        self.tick(samples, self.settle_n);
    }

    fn begin_measure(
        &mut self,
        samples: u64,
        recorder: &mut Option<Recorder>,
        session: &mut LiveSession,
        fe: &mut dyn Frontend,
    ) -> Result<(), LiveError> {
        let p = self.plan.positions[self.idx];
        let (wav, side) = position_files(&self.dir, p);
        let mut meta = self.meta.clone();
        meta.position = Some(p.code().to_string());
        *recorder = Some(Recorder::create_with_side(&wav, &side, meta)?);
        self.phase = Phase::Measure;
        self.phase_start = samples;
        // Start the analysis afresh: the settling audio is not part of the measurement.
        session.mark_position(p.code());
        fe.step(&self.step(StepKind::Measure, samples, session));
        self.tick(samples, self.measure_n);
        Ok(())
    }
}

impl Stages for Guide {
    fn next_boundary(&self) -> Option<u64> {
        (self.phase != Phase::Finished).then_some(self.next)
    }

    fn at_boundary(
        &mut self,
        samples: u64,
        recorder: &mut Option<Recorder>,
        session: &mut LiveSession,
        fe: &mut dyn Frontend,
    ) -> Result<bool, LiveError> {
        match self.phase {
            Phase::Start => self.begin_settle(samples, session, fe),
            Phase::Settle if samples >= self.phase_start + self.settle_n => {
                self.begin_measure(samples, recorder, session, fe)?
            }
            Phase::Settle => {
                fe.step(&self.step(StepKind::Settle, samples, session));
                self.tick(samples, self.settle_n);
            }
            Phase::Measure if samples >= self.phase_start + self.measure_n => {
                if let Some(mut r) = recorder.take() {
                    r.finish(None)?;
                }
                let p = self.plan.positions[self.idx];
                fe.step(&self.step(StepKind::Done, samples, session));
                self.files.push((p, position_files(&self.dir, p).0));
                self.idx += 1;
                if self.idx == self.plan.positions.len() {
                    self.phase = Phase::Finished;
                    return Ok(false);
                }
                self.begin_settle(samples, session, fe);
            }
            Phase::Measure => {
                fe.step(&self.step(StepKind::Measure, samples, session));
                self.tick(samples, self.measure_n);
            }
            Phase::Finished => return Ok(false),
        }
        Ok(true)
    }

    fn position(&self) -> Option<&'static str> {
        match self.phase {
            Phase::Settle | Phase::Measure => self.plan.positions.get(self.idx).map(|p| p.code()),
            _ => None,
        }
    }
}
