//! `tickproof listen`: live readings from a microphone (or a replayed recording through the same
//! path), shown in the terminal view, as lines, or as JSON lines.
pub mod guided;
pub mod recorder;

use super::{ExitCode, Failure};
use crate::live::protocol::{Guide, Step};
use crate::live::recorder::{RecordingMeta, StoredFormat};
use crate::live::run::{self, Command, Frontend, RunInputs, Status as LoopStatus};
use crate::live::{
    replay, resume, ring, LiveConfig, LiveError, LiveSession, Reading, Recorder, RING_SECONDS,
};
use crate::measurement::{AnalysisConfig, Figure, RecorderClock};
pub use guided::{run_protocol, GuidedRun, ProtocolEnd};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Raw arguments of `listen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input device: an id or (part of) a name from `tickproof devices` (default: the shop's
    /// default device, else the default input).
    #[arg(long, value_name = "NAME|ID", conflicts_with = "replay")]
    pub device: Option<String>,
    /// The device channel to record and analyse (0-based).
    #[arg(long, default_value_t = 0)]
    pub channel: u16,
    /// Feed a recording through the live path instead of a device.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Replay speed, times real time (0 = as fast as the analysis goes).
    #[arg(long, requires = "replay")]
    pub speed: Option<f64>,
    /// Print one line per reading instead of the terminal view.
    #[arg(long)]
    pub no_tui: bool,
    /// Print one JSON object per reading (implies --no-tui).
    #[arg(long)]
    pub json: bool,
    /// Write the audio here (default for a device: tickproof-(UTC time).wav; a replay is not
    /// re-recorded unless asked). Never overwrites.
    #[arg(long, value_name = "FILE.wav")]
    pub out: Option<PathBuf>,
    /// Lift angle, degrees (else the calibre's; else 52).
    #[arg(long)]
    pub lift_angle: Option<f64>,
    /// The movement's calibre (e.g. "ETA 2824-2"): its lift angle from the built-in table
    /// (`--lift-angle` wins when both are given).
    #[arg(long, value_name = "NAME")]
    pub calibre: Option<String>,
    /// Force the beat rate (3600..72000) instead of recognising it.
    #[arg(long)]
    pub bph: Option<u32>,
    /// Stop after this many seconds of audio.
    #[arg(long, value_name = "S")]
    pub duration_s: Option<f64>,
    /// Longest stretch of audio behind a reading, seconds (the sliding window).
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub window_s: f64,
    /// Seconds of audio the capture ring holds before it drops samples (over-runs).
    #[arg(long, value_name = "S", default_value_t = RING_SECONDS)]
    pub buffer_s: f64,
    /// Recorder clock error, ppm (+ = fast), applied to the rate.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub recorder_ppm: f64,
    /// 95% uncertainty of --recorder-ppm.
    #[arg(long, default_value_t = 0.0)]
    pub recorder_ppm_u95: f64,
    /// Follow this policy's measurement protocol (name or TOML file): for each position, settle,
    /// then record the measuring stretch to DIR/POS.wav, POS the position code (side file DIR/POS.wav.json).
    #[arg(long, value_name = "POLICY", conflicts_with_all = ["out", "duration_s"])]
    pub protocol: Option<String>,
    /// Folder for the protocol's recordings (created if absent; default tickproof-(UTC time)).
    #[arg(long, value_name = "DIR", requires = "protocol")]
    pub out_dir: Option<PathBuf>,
    /// Settling time per position, seconds (default: the policy's).
    #[arg(long, value_name = "S", requires = "protocol", allow_negative_numbers = true)]
    pub settle_s: Option<f64>,
    /// Measuring time per position, seconds (default: the policy's).
    #[arg(long, value_name = "S", requires = "protocol", allow_negative_numbers = true)]
    pub seconds_per_position: Option<f64>,
    /// Go on with an interrupted protocol in --out-dir: the positions recorded completely are
    /// kept and not measured again (anything else found is set aside, never overwritten).
    #[arg(long, requires_all = ["protocol", "out_dir"])]
    pub resume: bool,
    /// With --resume: measure these finished positions again (their recordings are set aside
    /// as POS.superseded-N.wav, never overwritten).
    #[arg(long, value_name = "DU,DD,...", requires = "resume")]
    pub remeasure: Option<String>,
    /// Height of the paper strip, ms (fixed; `+` and `-` change it in the view).
    #[arg(long, value_name = "MS", default_value_t = crate::live::view::DEFAULT_STRIP_MS)]
    pub strip_ms: f64,
    /// Test aid for a replay: stamp it with a synthetic host clock that ticks as if the
    /// recorder ran P ppm fast and says it is synchronised, so that the host-clock calibration
    /// can be exercised without a sound card (a replay never uses the real clock).
    #[arg(long, value_name = "P", requires = "replay", allow_negative_numbers = true)]
    pub replay_host_clock_ppm: Option<f64>,
    /// With --replay-host-clock-ppm: the synthetic clock says it is not synchronised.
    #[arg(long, requires = "replay_host_clock_ppm")]
    pub replay_host_clock_unsynchronised: bool,
}

impl Args {
    /// The arguments of a plain `listen` from a device (or a replay when `replay` is given).
    pub fn new(device: Option<String>, replay: Option<PathBuf>, speed: Option<f64>) -> Self {
        Args {
            device,
            channel: 0,
            replay,
            speed,
            no_tui: true,
            json: false,
            out: None,
            lift_angle: None,
            calibre: None,
            bph: None,
            duration_s: None,
            window_s: 60.0,
            buffer_s: RING_SECONDS,
            recorder_ppm: 0.0,
            recorder_ppm_u95: 0.0,
            protocol: None,
            out_dir: None,
            settle_s: None,
            seconds_per_position: None,
            resume: false,
            remeasure: None,
            strip_ms: crate::live::view::DEFAULT_STRIP_MS,
            replay_host_clock_ppm: None,
            replay_host_clock_unsynchronised: false,
        }
    }
}

/// Prints readings as lines or JSON lines; in a guided protocol, the steps instead (to
/// standard error with `stderr`, leaving standard output to the caller).
struct Lines {
    json: bool,
    guided: bool,
    stderr: bool,
    /// The quit asked for once nobody reads the lines (asked once: the loop drains `poll`).
    quit_asked: bool,
}

/// One human-readable line for a reading.
pub fn format_line(r: &Reading) -> String {
    let fig = |f: Option<Figure>, dec: usize, signed: bool, unit: &str| match f {
        Some(x) if signed => format!("{:+.*} ± {:.*} {unit}", dec, x.value, dec, x.u95),
        Some(x) => format!("{:.*} ± {:.*} {unit}", dec, x.value, dec, x.u95),
        None => format!("-- {unit}"),
    };
    let mut s = match (r.bph, r.rate_s_per_day) {
        (Some(bph), Some(rate)) => format!(
            "{:7.1} s  {bph} bph  rate {}  beat error {}  amplitude {}  quality {:.2}  beats {}  window {:.0} s",
            r.elapsed_s,
            fig(Some(rate), 1, true, "s/day"),
            fig(r.beat_error_ms, 2, false, "ms"),
            fig(r.amplitude_deg, 0, false, "deg"),
            r.quality.unwrap_or(0.0),
            r.beats_used,
            r.window_s
        ),
        _ => format!("{:7.1} s  listening: {}", r.elapsed_s, r.note.as_deref().unwrap_or("no watch yet")),
    };
    if r.overrun_samples > 0 {
        s.push_str(&format!("  OVER-RUNS {} samples", r.overrun_samples));
    }
    if let Some(x) = &r.restarted {
        s.push_str(&format!("  [restarted: {}]", x.message));
    }
    s
}

impl Frontend for Lines {
    fn reading(&mut self, r: &Reading, _: &LiveSession, _: &LoopStatus) -> Result<(), LiveError> {
        if self.guided {
            // The steps carry the figures of the measuring stretch.
            return Ok(());
        }
        if self.json {
            crate::outln!("{}", json_line(super::schema::LISTEN, r));
        } else {
            crate::outln!("{}", format_line(r));
        }
        Ok(())
    }
    fn poll(&mut self, _: &LiveSession, _: &LoopStatus) -> Result<Option<Command>, LiveError> {
        // Nobody reads the lines any more (`| head`, a closed pipe): stop and finalise the
        // recording, which is kept.
        // Asked once: the loop polls until there is nothing more.
        if self.quit_asked || !super::out::failed() {
            return Ok(None);
        }
        self.quit_asked = true;
        Ok(Some(Command::Quit))
    }
    fn notice(&mut self, text: &str) {
        eprintln!("tickproof: {text}");
    }
    fn step(&mut self, step: &Step) {
        let text = if self.json { json_line(super::schema::LISTEN, step) } else { step.line() };
        if self.stderr {
            eprintln!("{text}");
        } else {
            crate::outln!("{text}");
        }
    }
}

/// One JSON line of `value` tagged with schema `id` (the error in its place if it cannot be
/// written, which a derived `Serialize` of plain data never does).
fn json_line<T: serde::Serialize>(id: &str, value: &T) -> String {
    match super::schema::tagged(id, value) {
        Ok(v) => v.to_string(),
        Err(f) => serde_json::json!({"schema": id, "error": f.message}).to_string(),
    }
}

fn fail(e: LiveError) -> Failure {
    let code = match &e {
        LiveError::Device(_) => ExitCode::Device,
        LiveError::Storage { .. } | LiveError::Exists(_) => ExitCode::Storage,
        LiveError::Terminal(_) | LiveError::Config(_) | LiveError::Source(_) => ExitCode::Usage,
    };
    Failure::new(code, e.to_string())
}

/// Where the audio comes from, once started.
enum Input {
    Replay(std::thread::JoinHandle<()>),
    #[cfg(feature = "capture")]
    Device(cpal::Stream),
}

/// What a live run leaves.
pub(super) struct Lived {
    pub(super) outcome: run::RunOutcome,
    pub(super) guide: Option<Guide>,
    pub(super) out: Option<PathBuf>,
    pub(super) fs: u32,
    /// The source captured (device name, or `replay:FILE`).
    pub(super) source: String,
    /// The recorder calibration the live figures were made with.
    pub(super) recorder: RecorderClock,
}

/// Runs `listen`.
pub fn run(mut args: Args) -> Result<ExitCode, Failure> {
    // `--lift-angle` given wins over the calibre's.
    args.lift_angle = Some(super::analyze::lift_of(args.lift_angle, args.calibre.as_deref())?.lift_angle_deg);
    if args.device.is_none() && args.replay.is_none() {
        args.device = super::shop::current()?.default_device; // `tickproof shop set --default-device`
    }
    if let Some(g) = guided::plan_of(&args)? {
        return guided::listen_protocol(&args, g);
    }
    let lived = live(&args, None, false)?;
    let host_clock = lived.outcome.host_clock.as_ref();
    let choice =
        recorder::after_capture(&args, &lived.recorder, host_clock, recorder::DEFAULT_ASSUMED_U95_PPM);
    let said = recorder::choice_line(&choice, &lived.recorder);
    let (outcome, out, fs) = (lived.outcome, lived.out, lived.fs);
    let kept = out.as_ref().map(|p| format!("; the audio is in {}", p.display())).unwrap_or_default();
    match outcome.ended {
        // A replayed file that stops reading is bad input, not a failed device.
        run::Ended::DeviceError(m) if args.replay.is_some() => Err(Failure::usage(format!("{m}{kept}"))),
        run::Ended::DeviceError(m) => Err(Failure::new(ExitCode::Device, format!("audio device: {m}{kept}"))),
        // Nobody reads the output any more (`| head`, a full disk): not the user's stop. A closed
        // pipe ends quietly, saying only where the audio is kept; `out::finish` gives the code.
        run::Ended::Quit if super::out::failed() => {
            if let Some(p) = &out {
                eprintln!("tickproof: standard output closed; the audio is in {}", p.display());
            }
            Ok(ExitCode::Ok)
        }
        ended => {
            eprintln!("tickproof: {said}");
            let why = match ended {
                run::Ended::Quit => "stopped by the user",
                run::Ended::Interrupted => "interrupted",
                run::Ended::Duration => "the duration asked for was reached",
                run::Ended::EndOfStream => "the recording ended",
                run::Ended::Completed => "the protocol is complete",
                run::Ended::DeviceError(_) => "the audio device failed",
            };
            if !args.json {
                let last = outcome.last.as_ref().map(format_line).unwrap_or_else(|| "no reading".into());
                eprintln!(
                    "tickproof: {why} after {:.1} s, {} over-run samples{kept}\ntickproof: last reading: {}",
                    outcome.samples as f64 / fs as f64,
                    outcome.overrun_samples,
                    last.trim_start()
                );
            }
            // A replayed recording in which no watch was ever read is what `analyze` calls no
            // watch signal (exit 3).
            let heard = outcome.last.as_ref().is_some_and(|r| r.bph.is_some() && r.rate_s_per_day.is_some());
            if ended == run::Ended::EndOfStream && !heard {
                return Ok(ExitCode::NoSignal);
            }
            Ok(ExitCode::Ok)
        }
    }
}

/// The capturing device's calibration profile, when it has one (`tickproof calibrate ... --save
/// D`); a device never calibrated is uncalibrated, a damaged profile is bad input.
fn device_profile(args: &Args) -> Result<RecorderClock, Failure> {
    use crate::calibration::CalibrationError as E;
    let Some(d) = args.device.as_deref().filter(|_| args.replay.is_none()) else {
        return Ok(RecorderClock::uncalibrated());
    };
    match crate::calibration::resolve_recorder(Some(d), None, None, crate::calibration::UtcTime::now()) {
        Ok(r) => Ok(r),
        Err(E::NotFound { .. } | E::InvalidDeviceName { .. } | E::NoConfigDir) => {
            Ok(RecorderClock::uncalibrated())
        }
        Err(e) => Err(Failure::usage(e.to_string())),
    }
}

/// The live path: source, ring, recorder or guide, frontend, loop.
pub(super) fn live(args: &Args, guided: Option<&GuidedRun>, steps_to_stderr: bool) -> Result<Lived, Failure> {
    if let Some(s) = args.speed {
        if !(s.is_finite() && (0.0..=1000.0).contains(&s)) {
            return Err(Failure::usage(format!("--speed {s} is outside 0..1000 (0 = as fast as possible)")));
        }
    }
    if let Some(d) = args.duration_s {
        if !(d.is_finite() && d > 0.0 && d <= 7.0 * 86400.0) {
            return Err(Failure::usage(format!("--duration-s {d} must be a positive number of seconds")));
        }
    }
    if !(args.strip_ms.is_finite() && (0.1..=1000.0).contains(&args.strip_ms)) {
        return Err(Failure::usage(format!("--strip-ms {} is outside 0.1..1000 ms", args.strip_ms)));
    }
    recorder::check(args)?;
    if !(args.buffer_s.is_finite() && (0.5..=600.0).contains(&args.buffer_s)) {
        return Err(Failure::usage(format!("--buffer-s {} is outside 0.5..600 s", args.buffer_s)));
    }
    let recorder = if args.recorder_ppm == 0.0 && args.recorder_ppm_u95 == 0.0 {
        device_profile(args)?
    } else {
        RecorderClock {
            recorder_ppm: Figure::new(args.recorder_ppm, args.recorder_ppm_u95),
            source: "command line".into(),
            stale: false,
        }
    };
    let cfg = LiveConfig {
        analysis: AnalysisConfig {
            lift_angle_deg: args.lift_angle.unwrap_or(crate::calibre::DEFAULT_LIFT_ANGLE_DEG),
            bph: args.bph,
            recorder,
            ..Default::default()
        },
        window_s: args.window_s,
        ..Default::default()
    };
    cfg.validate().map_err(Failure::usage)?;

    let interrupted = Arc::new(AtomicBool::new(false));
    let device_error = Arc::new(Mutex::new(None));
    {
        let flag = interrupted.clone();
        // Fails only if a handler is already set (a library user's); Ctrl-C then keeps its
        // default meaning, and the flushed-every-second WAV is still valid.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    }

    // The source: its rate, name, storage format, and how to start it.
    let (fs, source_name, format, default_out, snapshot_base);
    #[cfg(feature = "capture")]
    let mut chosen = None;
    let replay_info = match &args.replay {
        Some(path) => {
            let info = replay::probe(path)?;
            fs = info.sample_rate_hz;
            source_name = format!("replay:{}", path.display());
            format = StoredFormat::F32;
            default_out = None;
            snapshot_base = path.clone();
            Some(info)
        }
        None => {
            #[cfg(feature = "capture")]
            {
                let c = crate::live::capture::choose(args.device.as_deref()).map_err(fail)?;
                fs = c.sample_rate_hz;
                source_name = c.name.clone();
                format = c.stored_format();
                let stamp: String =
                    crate::live::recorder::utc_now().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                default_out = Some(PathBuf::from(format!("tickproof-{stamp}.wav")));
                snapshot_base = PathBuf::new();
                chosen = Some(c);
                None
            }
            #[cfg(not(feature = "capture"))]
            {
                return Err(Failure::new(
                    ExitCode::Device,
                    "this build has no audio capture (built without the `capture` feature); use --replay FILE",
                ));
            }
        }
    };
    let out = if guided.is_some() { None } else { args.out.clone().or(default_out) };
    let channel = replay_info.as_ref().map(|i| i.channel).unwrap_or(args.channel);
    let meta =
        RecordingMeta::starting(source_name.clone(), fs, channel, format, cfg.analysis.recorder.clone());
    let (mut guide, resumed) = match guided {
        Some(g) => {
            for p in &g.remeasure {
                resume::set_aside(&g.dir, *p, "superseded").map_err(fail)?;
            }
            let found =
                if g.resume { resume::scan(&g.dir, &g.plan, fs).map_err(fail)? } else { Default::default() };
            let note = guided::resumed_note(&found);
            let rows = guided::table_rows(&g.plan, &found.kept);
            let guide = Guide::new(g.plan.clone(), fs, &g.dir, meta.clone(), found.kept).map_err(fail)?;
            (Some(guide), Some((note, rows)))
        }
        None => (None, None),
    };
    let rec = match &out {
        Some(p) => Some(Recorder::create(p, meta).map_err(fail)?),
        None => None,
    };
    let snapshot_base = match &args.out_dir {
        Some(d) if guide.is_some() => d.join("protocol"),
        _ => out.clone().unwrap_or(snapshot_base),
    };

    let (producer, consumer) = ring((args.buffer_s * fs as f64) as usize);
    let (stamper, host_clock) = match recorder::host_clock(args, fs) {
        Some(c) => {
            let (s, l) = crate::live::hostclock::stamps(c, fs);
            (Some(s), Some(l))
        }
        None => (None, None),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let input = match replay_info {
        Some(info) => Input::Replay(replay::spawn_stamped(
            args.replay.clone().expect("replay"),
            info,
            args.speed.unwrap_or(1.0),
            producer,
            stop.clone(),
            device_error.clone(),
            stamper,
        )),
        None => {
            #[cfg(feature = "capture")]
            {
                let c = chosen.as_ref().expect("device chosen");
                match crate::live::capture::start(c, args.channel, producer, device_error.clone(), stamper) {
                    Ok(s) => Input::Device(s),
                    Err(e) => {
                        // Nothing was recorded: leave no empty evidence behind.
                        if let (Some(mut r), Some(p)) = (rec, out.as_ref()) {
                            let _ = r.finish(Some(e.to_string()));
                            drop(r);
                            let _ = std::fs::remove_file(p);
                            let _ = std::fs::remove_file(crate::live::recorder::side_path(p));
                        }
                        return Err(fail(e));
                    }
                }
            }
            #[cfg(not(feature = "capture"))]
            unreachable!("capture checked above")
        }
    };

    let live_recorder = cfg.analysis.recorder.clone();
    let session = LiveSession::new(fs, cfg);
    let inputs = RunInputs {
        consumer,
        session,
        recorder: rec,
        interrupted,
        device_error,
        max_samples: args.duration_s.map(|d| (d * fs as f64).round() as u64),
        snapshot_base,
        host_clock,
    };
    let use_tui = !(args.no_tui || args.json) && std::io::stdout().is_terminal();
    let (note, rows) = resumed.unwrap_or_default();
    if !use_tui {
        if let Some(n) = &note {
            eprintln!("tickproof: {n}");
        }
    }
    if !(args.no_tui || args.json || use_tui || steps_to_stderr) {
        eprintln!("tickproof: standard output is not a terminal; printing one line per reading");
    }
    let outcome = if use_tui {
        let data = crate::live::view::ViewData {
            source: source_name.clone(),
            sample_rate_hz: fs,
            recording: out.as_ref().map(|p| p.display().to_string()),
            lift_angle_deg: args.lift_angle.unwrap_or(crate::calibre::DEFAULT_LIFT_ANGLE_DEG),
            forced_bph: args.bph,
            bph_choice: args.bph,
            strip_ms: args.strip_ms,
            strip_s: args.window_s,
            protocol: rows,
            notice: note,
            ..Default::default()
        };
        match crate::live::tui::open_terminal(data) {
            Ok((mut tui, guard)) => {
                let o = match guide.as_mut() {
                    Some(g) => run::run_stages(inputs, &mut tui, g),
                    None => run::run(inputs, &mut tui),
                };
                drop(guard);
                o
            }
            Err(e) => Err(e),
        }
    } else {
        let mut lines = Lines {
            json: args.json && !steps_to_stderr,
            guided: guide.is_some(),
            stderr: steps_to_stderr,
            quit_asked: false,
        };
        match guide.as_mut() {
            Some(g) => run::run_stages(inputs, &mut lines, g),
            None => run::run(inputs, &mut lines),
        }
    };
    stop.store(true, Ordering::Relaxed);
    match input {
        Input::Replay(h) => {
            let _ = h.join();
        }
        #[cfg(feature = "capture")]
        Input::Device(s) => drop(s),
    }
    let outcome = outcome.map_err(fail)?;
    Ok(Lived { outcome, guide, out, fs, source: source_name, recorder: live_recorder })
}
