//! The consumer loop: takes audio out of the ring, records it, analyses it, shows readings and
//! carries out the user's commands, until quit, Ctrl-C, the duration, the end of a replay, or a
//! device error. The recording is finalised on every way out.
use super::recorder::{write_atomic, Recorder};
use super::ring::RingConsumer;
use super::session::{LiveSession, Reading};
use super::LiveError;
use crate::measurement::pipeline::BLOCK_FRAMES;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The positions a technician marks, in the order `m` cycles through them.
pub const POSITIONS: [&str; 6] = ["DU", "DD", "CD", "CL", "CU", "CR"];

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    /// Stop and finalise.
    Quit,
    /// Set the lift angle, degrees.
    SetLiftAngle(f64),
    /// Force a beat rate, or automatic.
    SetBph(Option<u32>),
    /// Mark the next position.
    Mark,
    /// Save the last good reading (the last with figures) next to the recording.
    Snapshot,
    /// Guided protocol: the watch is in position, end the settling countdown now (space).
    Proceed,
    /// Guided protocol: measure the last finished position again.
    Remeasure,
}

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// Ctrl-C.
    Interrupted,
    /// `--duration-s` reached.
    Duration,
    /// The replayed recording ended.
    EndOfStream,
    /// The audio device failed (the message says how).
    DeviceError(String),
    /// The guided protocol ([`Stages`]) reached its last step.
    Completed,
}

/// Something the loop tells the frontend (shown in the view's status line).
#[derive(Debug, Clone, PartialEq)]
pub struct Status<'a> {
    /// Samples the ring dropped so far.
    pub overrun_samples: u64,
    /// The recording being written, if any.
    pub recording: Option<&'a Path>,
    /// The last position marked.
    pub position: Option<&'static str>,
    /// The input level of the last second.
    pub level: Option<super::level::Level>,
}

/// Where readings go and commands come from.
pub trait Frontend {
    /// A new reading (its `overrun_samples` filled in).
    fn reading(&mut self, r: &Reading, session: &LiveSession, status: &Status) -> Result<(), LiveError>;
    /// Called every turn of the loop (every few ms): redraw if due, and return the next user
    /// command, if any (called again until `None`).
    fn poll(&mut self, session: &LiveSession, status: &Status) -> Result<Option<Command>, LiveError>;
    /// A one-line notice for the user (a snapshot saved, a position marked).
    fn notice(&mut self, text: &str);
    /// A step of a guided protocol (settle, measuring progress, position done). The default
    /// shows its one-line text as a notice (the terminal view's notice line).
    fn step(&mut self, step: &super::protocol::Step) {
        self.notice(&step.line());
    }
}

/// Steers a run through stages (the guided protocol of [`super::protocol`]): the loop feeds no
/// sample past [`Stages::next_boundary`] and calls [`Stages::at_boundary`] there, where the
/// recorder may be finished and replaced (or removed, for audio that is not kept).
pub trait Stages {
    /// The sample count (from the start of the run) of the next boundary, or `None` for none.
    fn next_boundary(&self) -> Option<u64>;
    /// Called when `samples` analysed reaches the boundary. Returns `false` when the protocol
    /// is complete (the run ends with [`Ended::Completed`]).
    fn at_boundary(
        &mut self,
        samples: u64,
        recorder: &mut Option<Recorder>,
        session: &mut LiveSession,
        fe: &mut dyn Frontend,
    ) -> Result<bool, LiveError>;
    /// The position being measured, for the status line.
    fn position(&self) -> Option<&'static str>;
    /// The user pressed space: end the settling now. Returns a notice when it cannot.
    fn proceed(&mut self, _samples: u64) -> Option<String> {
        Some("space only ends the settling of a guided protocol".into())
    }
    /// The user asked to measure the last finished position again. Returns a notice saying
    /// what happens.
    fn remeasure(
        &mut self,
        _samples: u64,
        _recorder: &mut Option<Recorder>,
        _session: &mut LiveSession,
        _fe: &mut dyn Frontend,
    ) -> Result<String, LiveError> {
        Ok("r only re-measures a position of a guided protocol".into())
    }
}

/// No stages: the plain run.
struct NoStages;

impl Stages for NoStages {
    fn next_boundary(&self) -> Option<u64> {
        None
    }
    fn at_boundary(
        &mut self,
        _: u64,
        _: &mut Option<Recorder>,
        _: &mut LiveSession,
        _: &mut dyn Frontend,
    ) -> Result<bool, LiveError> {
        Ok(true)
    }
    fn position(&self) -> Option<&'static str> {
        None
    }
}

/// What the loop needs besides the frontend.
pub struct RunInputs {
    /// The reading end of the ring.
    pub consumer: RingConsumer,
    /// The analyser.
    pub session: LiveSession,
    /// Where the audio goes (none for a replay without `--out`).
    pub recorder: Option<Recorder>,
    /// Set by Ctrl-C.
    pub interrupted: Arc<AtomicBool>,
    /// Set by the audio error callback (or the replay thread) with a one-line message.
    pub device_error: Arc<Mutex<Option<String>>>,
    /// Stop after this many samples.
    pub max_samples: Option<u64>,
    /// Snapshots are written as `<base>.snapshot-N.json`.
    pub snapshot_base: PathBuf,
    /// The host-clock stamps of the source (none for a replay without a synthetic clock).
    pub host_clock: Option<super::hostclock::StampLog>,
}

/// What the loop leaves behind.
#[derive(Debug)]
pub struct RunOutcome {
    /// Why it ended.
    pub ended: Ended,
    /// The last reading.
    pub last: Option<Reading>,
    /// Samples analysed.
    pub samples: u64,
    /// Samples the ring dropped.
    pub overrun_samples: u64,
    /// Snapshots written.
    pub snapshots: Vec<PathBuf>,
    /// What the host-clock method measured over the whole run (every position of a protocol).
    pub host_clock: Option<crate::calibration::HostClockRun>,
}

/// Runs the loop to its end. The recording is finalised whatever the way out; an error
/// writing it ends the loop with [`LiveError::Storage`] (after finalising what can be).
pub fn run(inp: RunInputs, fe: &mut dyn Frontend) -> Result<RunOutcome, LiveError> {
    run_stages(inp, fe, &mut NoStages)
}

/// [`run`] steered by `stages` (the guided protocol): position marks (`m`) are ignored, the
/// recorder follows the stages, and the run ends with [`Ended::Completed`] after the last one.
pub fn run_stages(
    mut inp: RunInputs,
    fe: &mut dyn Frontend,
    stages: &mut dyn Stages,
) -> Result<RunOutcome, LiveError> {
    let mut lp = Loop {
        guided: stages.next_boundary().is_some(),
        meter: super::level::LevelMeter::new(inp.session.sample_rate_hz() as u64),
        samples: 0,
        next_pos: 0,
        position: None,
        snapshots: Vec::new(),
        rec_path: inp.recorder.as_ref().map(|r| r.path().to_path_buf()),
        good_position: None,
    };
    let mut buf = vec![0.0f32; BLOCK_FRAMES];
    let mut pending = Vec::with_capacity(16);
    let result = loop {
        match lp.turn(&mut inp, &mut buf, &mut pending, fe, stages) {
            Ok(None) => {}
            Ok(Some(ended)) => break Ok(ended),
            Err(e) => break Err(e),
        }
    };
    let overrun_samples = inp.consumer.stats().overrun_samples();
    let stopped_by = match &result {
        Ok(Ended::DeviceError(m)) => Some(m.clone()),
        Err(e) => Some(e.to_string()),
        _ => None,
    };
    let fin = match inp.recorder.as_mut() {
        Some(r) => {
            r.set_overruns(overrun_samples);
            r.finish(stopped_by)
        }
        None => Ok(()),
    };
    let ended = result?;
    fin?;
    let last = inp.session.latest().cloned();
    let host_clock = inp.host_clock.take().map(|h| h.finish());
    Ok(RunOutcome { ended, last, samples: lp.samples, overrun_samples, snapshots: lp.snapshots, host_clock })
}

/// The state of the consumer loop between turns.
struct Loop {
    /// A guided protocol steers the positions (`m` is ignored).
    guided: bool,
    meter: super::level::LevelMeter,
    /// Samples analysed.
    samples: u64,
    /// The next position `m` marks.
    next_pos: usize,
    /// The position in force.
    position: Option<&'static str>,
    snapshots: Vec<PathBuf>,
    /// The recording being written.
    rec_path: Option<PathBuf>,
    /// The position in force when the last good reading was made (what a snapshot names).
    good_position: Option<&'static str>,
}

impl Loop {
    /// One turn: stage boundaries, the stop conditions, a block of audio, the user's commands.
    /// `Some` when the run ends.
    fn turn(
        &mut self,
        inp: &mut RunInputs,
        buf: &mut [f32],
        pending: &mut Vec<Command>,
        fe: &mut dyn Frontend,
        stages: &mut dyn Stages,
    ) -> Result<Option<Ended>, LiveError> {
        while stages.next_boundary().is_some_and(|b| self.samples >= b) {
            if !stages.at_boundary(self.samples, &mut inp.recorder, &mut inp.session, fe)? {
                return Ok(Some(Ended::Completed));
            }
            self.follow(inp, stages);
        }
        if inp.interrupted.load(Ordering::Relaxed) {
            return Ok(Some(Ended::Interrupted));
        }
        if let Some(m) = inp.device_error.lock().ok().and_then(|g| g.clone()) {
            // Take what the device delivered before it failed.
            let (rec, pos) = (self.rec_path.as_deref(), self.position);
            drain(inp, buf, &mut self.samples, fe, rec, pos, &mut self.good_position)?;
            return Ok(Some(Ended::DeviceError(m)));
        }
        let mut want = match inp.max_samples {
            Some(max) if self.samples >= max => return Ok(Some(Ended::Duration)),
            Some(max) => ((max - self.samples) as usize).min(buf.len()),
            None => buf.len(),
        };
        if let Some(b) = stages.next_boundary() {
            want = want.min((b - self.samples) as usize);
        }
        let n = inp.consumer.pop_into(&mut buf[..want]);
        if let Some(h) = inp.host_clock.as_mut() {
            h.drain();
        }
        self.meter.push(&buf[..n]);
        let status = Status {
            overrun_samples: inp.consumer.stats().overrun_samples(),
            recording: self.rec_path.as_deref(),
            position: self.position,
            level: self.meter.level(),
        };
        if n > 0 {
            feed(inp, &buf[..n], fe, &status, &mut self.good_position)?;
            self.samples += n as u64;
        } else if inp.consumer.is_abandoned() && inp.consumer.available() == 0 {
            return Ok(Some(Ended::EndOfStream));
        } else {
            std::thread::sleep(Duration::from_millis(4));
        }
        pending.clear();
        while let Some(cmd) = fe.poll(&inp.session, &status)? {
            pending.push(cmd);
        }
        for &cmd in pending.iter() {
            if let Some(end) = self.command(cmd, inp, fe, stages)? {
                return Ok(Some(end));
            }
        }
        Ok(None)
    }

    /// The recording and position after the stages changed them.
    fn follow(&mut self, inp: &RunInputs, stages: &dyn Stages) {
        self.rec_path = inp.recorder.as_ref().map(|r| r.path().to_path_buf());
        self.position = stages.position();
    }

    /// Carries out one command; `Some` when it ends the run.
    fn command(
        &mut self,
        cmd: Command,
        inp: &mut RunInputs,
        fe: &mut dyn Frontend,
        stages: &mut dyn Stages,
    ) -> Result<Option<Ended>, LiveError> {
        match cmd {
            Command::Quit => return Ok(Some(Ended::Quit)),
            Command::SetLiftAngle(l) => inp.session.set_lift_angle(l),
            Command::SetBph(b) => {
                if let Err(why) = inp.session.set_bph(b) {
                    fe.notice(&why);
                }
            }
            Command::Proceed => {
                if let Some(n) = stages.proceed(self.samples) {
                    fe.notice(&n);
                }
            }
            Command::Remeasure => {
                let n = stages.remeasure(self.samples, &mut inp.recorder, &mut inp.session, fe)?;
                self.follow(inp, stages);
                fe.notice(&n);
            }
            Command::Mark if self.guided => fe.notice("the protocol sets the positions: m is ignored"),
            Command::Mark => {
                let p = POSITIONS[self.next_pos % POSITIONS.len()];
                self.next_pos += 1;
                self.position = Some(p);
                let at = inp.session.elapsed_s();
                if let Some(r) = inp.recorder.as_mut() {
                    r.mark(p, at)?;
                }
                inp.session.mark_position(p);
                fe.notice(&format!("position {p} marked at {at:.1} s"));
            }
            Command::Snapshot => self.snapshot(inp, fe)?,
        }
        Ok(None)
    }

    /// Saves the last good reading (never the empty one of a restart).
    fn snapshot(&mut self, inp: &RunInputs, fe: &mut dyn Frontend) -> Result<(), LiveError> {
        let Some(r) = inp.session.last_good() else {
            fe.notice("no measured reading yet: nothing to save");
            return Ok(());
        };
        let now = inp.session.elapsed_s();
        let p = save_snapshot(&inp.snapshot_base, r, now, self.rec_path.as_deref(), self.good_position)?;
        fe.notice(&format!("snapshot of the reading at {:.0} s saved to {}", r.elapsed_s, p.display()));
        self.snapshots.push(p);
        Ok(())
    }
}

fn feed(
    inp: &mut RunInputs,
    block: &[f32],
    fe: &mut dyn Frontend,
    status: &Status,
    good_position: &mut Option<&'static str>,
) -> Result<(), LiveError> {
    if let Some(r) = inp.recorder.as_mut() {
        r.write(block)?;
        r.set_overruns(status.overrun_samples);
    }
    if let Some(mut r) = inp.session.push(block) {
        r.overrun_samples = status.overrun_samples;
        if r.status == super::session::Status::Measuring {
            *good_position = status.position;
        }
        fe.reading(&r, &inp.session, status)?;
    }
    Ok(())
}

fn drain(
    inp: &mut RunInputs,
    buf: &mut [f32],
    samples: &mut u64,
    fe: &mut dyn Frontend,
    rec: Option<&Path>,
    position: Option<&'static str>,
    good_position: &mut Option<&'static str>,
) -> Result<(), LiveError> {
    loop {
        let n = inp.consumer.pop_into(buf);
        if n == 0 {
            return Ok(());
        }
        let status = Status {
            overrun_samples: inp.consumer.stats().overrun_samples(),
            recording: rec,
            position,
            level: None,
        };
        feed(inp, &buf[..n], fe, &status, good_position)?;
        *samples += n as u64;
    }
}

/// Writes a reading as `<base>.snapshot-N.json` (the first N not taken; never overwrites).
/// `taken_at_s` is the session time of the key press (the reading may be older: the last good
/// one before a restart); `position` is the one in force when the reading was made.
pub fn save_snapshot(
    base: &Path,
    r: &Reading,
    taken_at_s: f64,
    recording: Option<&Path>,
    position: Option<&str>,
) -> Result<PathBuf, LiveError> {
    #[derive(serde::Serialize)]
    struct Snap<'a> {
        utc: String,
        taken_at_s: f64,
        recording: Option<&'a Path>,
        position: Option<&'a str>,
        reading: &'a Reading,
        software: String,
    }
    let snap = Snap {
        utc: super::recorder::utc_now(),
        taken_at_s,
        recording,
        position,
        reading: r,
        software: crate::measurement::software_id(),
    };
    let json = serde_json::to_vec_pretty(&snap).expect("reading serialises");
    let stem = base.with_extension("");
    for n in 1..10_000 {
        let p = PathBuf::from(format!("{}.snapshot-{n}.json", stem.display()));
        if p.exists() {
            continue;
        }
        match write_atomic(&p, &json, true) {
            Ok(()) => return Ok(p),
            Err(LiveError::Storage { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Err(LiveError::Exists(PathBuf::from(format!("{}.snapshot-*.json", stem.display()))))
}
