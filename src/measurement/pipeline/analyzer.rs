//! The streaming mechanical analyser: acquires the beat rate and the beats' sound from a stretch
//! of audio, then times beats block by block, in segments when the beats are lost.
use super::{
    ACQUISITION_S, BLOCK_FRAMES, GRID_TOLERANCE_S, LOST_S, MAX_SEGMENTS, MIN_TICKING_FRACTION,
    SIDE_OFFSET_MIN_S,
};
use crate::beats::acquire::{self, Envelope, Lock};
use crate::beats::template::{self, Templates};
use crate::beats::timer::{BeatRecord, BeatTimer};
use crate::estimators::mechanical::{self, MechanicalEstimate};
use crate::measurement::types::AnalysisConfig;
use std::fmt;

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
