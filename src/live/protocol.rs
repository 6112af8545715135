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
    /// The step in plain words, one line: what to do with the watch, then the countdown.
    pub fn line(&self) -> String {
        let p = self.position;
        let rate = self
            .rate_s_per_day
            .map(|r| format!("rate {:+.2} ± {:.2} s/day", r.value, r.u95))
            .unwrap_or_else(|| "no rate yet".into());
        let of = format!("{}/{}", self.index, self.count);
        match self.event {
            StepKind::Settle => format!(
                "{of} turn the watch to {} ({}) and press space, or wait {:.0} s",
                p.words(),
                p.code(),
                self.remaining_s
            ),
            StepKind::Measure => format!(
                "{of} measuring {} ({}): {:.0}/{:.0} s, {rate}",
                p.words(),
                p.code(),
                self.elapsed_s,
                self.phase_s
            ),
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

/// Refuses (naming the file and how to resume) when any recording or side file of the
/// plan already exists in `dir`, before anything is recorded.
pub fn check_free(dir: &Path, plan: &Plan) -> Result<(), LiveError> {
    for p in &plan.positions {
        let (wav, side) = position_files(dir, *p);
        for f in [wav, side] {
            if f.exists() {
                return Err(LiveError::Config(format!(
                    "{}: already exists; recordings are never overwritten (resume the protocol with \
                     --resume, or choose another --out-dir)",
                    f.display()
                )));
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

/// A finished position: its recording and the live figures of its measuring stretch.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Finished {
    /// The position.
    pub position: Position,
    /// Its recording.
    pub file: PathBuf,
    /// Live rate of the measuring stretch, s/day.
    pub rate_s_per_day: Option<Figure>,
    /// Live beat error, ms.
    pub beat_error_ms: Option<Figure>,
    /// Live amplitude, degrees.
    pub amplitude_deg: Option<Figure>,
}

/// Drives a run through the plan ([`Stages`] for [`super::run::run_stages`]): the positions
/// still to do in protocol order, each settled (space ends the settling early) and then
/// recorded; `r` puts the last finished position back at the head of the list.
#[derive(Debug)]
pub struct Guide {
    plan: Plan,
    fs: u32,
    dir: PathBuf,
    meta: RecordingMeta,
    settle_n: u64,
    measure_n: u64,
    /// Plan indices still to measure, the current one first.
    todo: std::collections::VecDeque<usize>,
    phase: Phase,
    phase_start: u64,
    next: u64,
    proceed: bool,
    done: Vec<Finished>,
}

impl Guide {
    /// A guide writing into `dir` (which must exist) at `fs` Hz; `meta` is the side file
    /// template (device, format, calibration...), its `position` set per recording. `kept`
    /// are positions finished in an earlier run (a resumed protocol): they are not measured
    /// again.
    pub fn new(
        plan: Plan,
        fs: u32,
        dir: &Path,
        meta: RecordingMeta,
        kept: Vec<Finished>,
    ) -> Result<Self, LiveError> {
        plan.validate()?;
        let n = |s: f64| (s * fs as f64).round() as u64;
        let todo = (0..plan.positions.len())
            .filter(|&i| !kept.iter().any(|k| k.position == plan.positions[i]))
            .collect();
        Ok(Guide {
            settle_n: n(plan.settle_s),
            measure_n: n(plan.seconds_per_position),
            plan,
            fs,
            dir: dir.to_path_buf(),
            meta,
            todo,
            phase: Phase::Start,
            phase_start: 0,
            next: 0,
            proceed: false,
            done: kept,
        })
    }

    /// The plan followed.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The positions finished so far (kept from an earlier run included) and their
    /// recordings, in protocol order.
    pub fn files(&self) -> Vec<(Position, PathBuf)> {
        self.finished().into_iter().map(|f| (f.position, f.file)).collect()
    }

    /// The positions finished so far with their live figures, in protocol order.
    pub fn finished(&self) -> Vec<Finished> {
        let order = |p: Position| self.plan.positions.iter().position(|q| *q == p).unwrap_or(usize::MAX);
        let mut v = self.done.clone();
        v.sort_by_key(|f| order(f.position));
        v
    }

    /// True once every position was measured.
    pub fn is_complete(&self) -> bool {
        self.todo.is_empty()
    }

    /// The position being measured when the run stopped early, and its (partial) recording.
    pub fn unfinished(&self) -> Option<(Position, PathBuf)> {
        let p = self.current()?;
        (self.phase == Phase::Measure).then(|| (p, position_files(&self.dir, p).0))
    }

    fn current(&self) -> Option<Position> {
        self.todo.front().map(|&i| self.plan.positions[i])
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
        let i = *self.todo.front().expect("a position is current");
        let p = self.plan.positions[i];
        Step {
            event,
            index: i + 1,
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

    fn begin_settle(&mut self, samples: u64, session: &mut LiveSession, fe: &mut dyn Frontend) -> bool {
        let Some(p) = self.current() else {
            self.phase = Phase::Finished;
            return false;
        };
        self.phase = Phase::Settle;
        self.phase_start = samples;
        self.proceed = false;
        session.mark_position(p.code());
        fe.step(&self.step(StepKind::Settle, samples, session));
        self.tick(samples, self.settle_n);
        true
    }

    fn begin_measure(
        &mut self,
        samples: u64,
        recorder: &mut Option<Recorder>,
        session: &mut LiveSession,
        fe: &mut dyn Frontend,
    ) -> Result<(), LiveError> {
        let p = self.current().expect("a position is current");
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

    fn finish_position(
        &mut self,
        samples: u64,
        recorder: &mut Option<Recorder>,
        session: &LiveSession,
        fe: &mut dyn Frontend,
    ) -> Result<(), LiveError> {
        if let Some(mut r) = recorder.take() {
            r.finish(None)?;
        }
        let step = self.step(StepKind::Done, samples, session);
        fe.step(&step);
        self.done.retain(|f| f.position != step.position);
        self.done.push(Finished {
            position: step.position,
            file: position_files(&self.dir, step.position).0,
            rate_s_per_day: step.rate_s_per_day,
            beat_error_ms: step.beat_error_ms,
            amplitude_deg: step.amplitude_deg,
        });
        self.todo.pop_front();
        super::resume::save_progress(&self.dir, &self.finished())
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
            Phase::Start => return Ok(self.begin_settle(samples, session, fe)),
            Phase::Settle if self.proceed || samples >= self.phase_start + self.settle_n => {
                self.begin_measure(samples, recorder, session, fe)?
            }
            Phase::Settle => {
                fe.step(&self.step(StepKind::Settle, samples, session));
                self.tick(samples, self.settle_n);
            }
            Phase::Measure if samples >= self.phase_start + self.measure_n => {
                self.finish_position(samples, recorder, session, fe)?;
                return Ok(self.begin_settle(samples, session, fe));
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
            Phase::Settle | Phase::Measure => self.current().map(|p| p.code()),
            _ => None,
        }
    }

    fn proceed(&mut self, samples: u64) -> Option<String> {
        match (self.phase, self.current()) {
            (Phase::Settle, Some(_)) => {
                self.proceed = true;
                self.next = samples;
                None
            }
            (Phase::Measure, Some(p)) => {
                Some(format!("already measuring {}: keep the watch still", p.code()))
            }
            _ => None,
        }
    }

    fn remeasure(
        &mut self,
        samples: u64,
        recorder: &mut Option<Recorder>,
        session: &mut LiveSession,
        fe: &mut dyn Frontend,
    ) -> Result<String, LiveError> {
        // The last finished position in protocol order before the current one, else the last.
        let cur = self.todo.front().copied();
        let finished = self.finished();
        let last = finished
            .iter()
            .rev()
            .find(|f| cur.is_none_or(|c| self.plan.positions.iter().position(|q| *q == f.position) < Some(c)))
            .or(finished.last());
        let Some(last) = last.cloned() else {
            return Ok("no position finished yet to measure again".into());
        };
        // The stretch being recorded now is not a measurement: it is dropped.
        if let (Some(mut r), Some((p, wav))) = (recorder.take(), self.unfinished()) {
            r.finish(Some("re-measure asked".into()))?;
            drop(r);
            let _ = std::fs::remove_file(&wav);
            let _ = std::fs::remove_file(position_files(&self.dir, p).1);
        }
        let aside = super::resume::set_aside(&self.dir, last.position, "superseded")?;
        self.done.retain(|f| f.position != last.position);
        super::resume::save_progress(&self.dir, &self.finished())?;
        let i = self.plan.positions.iter().position(|q| *q == last.position).expect("in plan");
        self.todo.push_front(i);
        self.begin_settle(samples, session, fe);
        Ok(format!(
            "measuring {} again; the earlier recording is kept as {}",
            last.position.code(),
            aside.display()
        ))
    }
}
