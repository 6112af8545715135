//! `tickproof calibrate ...`: measure the recorder's clock error, keep it as a device profile,
//! show, list and remove profiles.
//!
//! Contract (other tools depend on it): `calibrate ticks FILE --period-s S` and `calibrate tone
//! FILE --freq-hz F` print the recorder error; with `--json` one object
//! `{"recorder_ppm": {"value": x, "u95": y}, "method": ..., ...}`; with `--save DEVICE` it is
//! stored as that device's profile (never over an existing one without `--force`).
//! Exit codes: 0 done, 2 bad input or usage (an existing profile without `--force` included),
//! 3 no reference in the recording, 4 not enough of it, 7 the profile could not be written.
use super::{ExitCode, Failure};
use crate::calibration::{
    self, host_clock_sync, manual_profile, measure_ticks, measure_tone, CalibrationError, DeviceName,
    Evidence, HostSync, Method, Profile, ProfileStore, TickConfig, ToneConfig, UtcTime,
};
use crate::measurement::{Figure, S_PER_DAY_PER_PPM};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Raw arguments of `calibrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// The `calibrate` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// From a recorded tick train of known period (GPS 1PPS, a reference quartz watch).
    Ticks(TicksArgs),
    /// From a recorded tone of known frequency (a calibrated signal generator).
    Tone(ToneArgs),
    /// Enter a figure measured elsewhere, with a note of where it came from.
    Manual(ManualArgs),
    /// Show one device's profile.
    Show(DeviceArgs),
    /// List the stored profiles (bad files are listed with their error).
    List(JsonArg),
    /// Remove one device's profile.
    Remove(DeviceArgs),
    /// Say whether the host clock is synchronised (for the live host-clock method).
    HostStatus(JsonArg),
}

/// Options shared by the measuring subcommands.
#[derive(Debug, clap::Args)]
pub struct SaveOpts {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Store the result as this device's calibration profile.
    #[arg(long, value_name = "DEVICE")]
    pub save: Option<String>,
    /// Replace an existing profile.
    #[arg(long)]
    pub force: bool,
    /// The reference used, in words (e.g. "GPS 1PPS, u-blox M8T").
    #[arg(long, value_name = "TEXT")]
    pub reference: Option<String>,
    /// Provenance note stored with the profile.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Days the calibration stays valid (default 30).
    #[arg(long, value_name = "DAYS")]
    pub valid_days: Option<f64>,
    /// A stable identity of the hardware (ALSA card id, USB vendor:product, serial).
    #[arg(long, value_name = "TEXT")]
    pub device_identity: Option<String>,
    /// Analyse this channel (0-based) instead of the clearest one.
    #[arg(long, value_name = "N")]
    pub channel: Option<u16>,
}

/// Raw arguments of `calibrate ticks`.
#[derive(Debug, clap::Args)]
pub struct TicksArgs {
    /// The recording (WAV or FLAC).
    pub file: PathBuf,
    /// The reference's true period, seconds (1 for GPS 1PPS).
    #[arg(long, value_name = "S")]
    pub period_s: f64,
    /// Output and saving options.
    #[command(flatten)]
    pub opts: SaveOpts,
}

/// Raw arguments of `calibrate tone`.
#[derive(Debug, clap::Args)]
pub struct ToneArgs {
    /// The recording (WAV or FLAC).
    pub file: PathBuf,
    /// The tone's true frequency, Hz.
    #[arg(long, value_name = "F")]
    pub freq_hz: f64,
    /// Output and saving options.
    #[command(flatten)]
    pub opts: SaveOpts,
}

/// Raw arguments of `calibrate manual`.
#[derive(Debug, clap::Args)]
pub struct ManualArgs {
    /// The recorder's clock error, ppm (+ = fast).
    #[arg(long, allow_negative_numbers = true, value_name = "P")]
    pub ppm: f64,
    /// Its 95 % uncertainty, ppm.
    #[arg(long, value_name = "U")]
    pub u95: f64,
    /// Where the figure came from (required).
    #[arg(long, value_name = "TEXT")]
    pub note: String,
    /// The device to store it for.
    #[arg(long, value_name = "DEVICE")]
    pub save: String,
    /// The reference the figure was measured against, in words.
    #[arg(long, value_name = "TEXT")]
    pub reference: Option<String>,
    /// Days the calibration stays valid (default 30).
    #[arg(long, value_name = "DAYS")]
    pub valid_days: Option<f64>,
    /// Replace an existing profile.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A device name and `--json`.
#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// The device.
    pub device: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Only `--json`.
#[derive(Debug, clap::Args)]
pub struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `calibrate`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let now = UtcTime::now();
    match args.command {
        Sub::Ticks(a) => {
            let mut src = crate::source::open(&a.file)?;
            let mut cfg = TickConfig::new(a.period_s);
            cfg.channel = a.opts.channel;
            let r = measure_ticks(src.as_mut(), &a.file, &cfg).map_err(failure)?;
            let detail = json!({
                "period_s": a.period_s,
                "apparent_period_s": r.apparent_period_s,
                "ticks_used": r.ticks_used,
                "ticks_rejected": r.ticks_rejected,
                "sound_classes": r.classes,
                "residual_rms_ms": r.residual_rms_s * 1e3,
                "lag1_correlation": r.lag1_correlation,
                "snr_db": r.snr_db,
            });
            let m = Measured {
                method: Method::Ticks,
                default_reference: format!("tick train of true period {} s", a.period_s),
                recorder_ppm: r.recorder_ppm,
                sample_rate_hz: r.sample_rate_hz,
                duration_s: r.duration_s,
                channel: r.channel,
                used: r.ticks_used as u64,
                rejected: r.ticks_rejected,
                detail,
            };
            finish(&a.file, m, &a.opts, now)
        }
        Sub::Tone(a) => {
            let mut src = crate::source::open(&a.file)?;
            let mut cfg = ToneConfig::new(a.freq_hz);
            cfg.channel = a.opts.channel;
            let r = measure_tone(src.as_mut(), &a.file, &cfg).map_err(failure)?;
            let detail = json!({
                "freq_hz": a.freq_hz,
                "apparent_freq_hz": r.apparent_freq_hz,
                "phase_residual_rms_rad": r.phase_residual_rms_rad,
                "peak_to_floor_db": r.peak_to_floor_db,
            });
            let m = Measured {
                method: Method::Tone,
                default_reference: format!("tone of true frequency {} Hz", a.freq_hz),
                recorder_ppm: r.recorder_ppm,
                sample_rate_hz: r.sample_rate_hz,
                duration_s: r.duration_s,
                channel: r.channel,
                used: r.points_used,
                rejected: r.points_rejected,
                detail,
            };
            finish(&a.file, m, &a.opts, now)
        }
        Sub::Manual(a) => {
            let device = DeviceName::parse(&a.save).map_err(failure)?;
            let mut p =
                manual_profile(&device, a.ppm, a.u95, a.reference.as_deref().unwrap_or(""), &a.note, now)
                    .map_err(failure)?;
            if let Some(d) = a.valid_days {
                p.valid_days = d;
            }
            let store = ProfileStore::open_default().map_err(failure)?;
            let path = store.save(&p, a.force).map_err(failure)?;
            if a.json {
                crate::outln!("{}", tag(profile_json(&p, &path, now)));
            } else {
                crate::outln!(
                    "saved {} for device {:?}: {}",
                    path.display(),
                    p.device,
                    describe(p.recorder_ppm)
                );
            }
            Ok(ExitCode::Ok)
        }
        Sub::Show(a) => {
            let device = DeviceName::parse(&a.device).map_err(failure)?;
            let store = ProfileStore::open_default().map_err(failure)?;
            let p = store.load(&device).map_err(failure)?;
            let path = store.path_for(&device);
            if a.json {
                crate::outln!("{}", tag(profile_json(&p, &path, now)));
            } else {
                print_profile(&p, &path, now);
            }
            Ok(ExitCode::Ok)
        }
        Sub::List(a) => {
            let store = ProfileStore::open_default().map_err(failure)?;
            let list = store.list().map_err(failure)?;
            if a.json {
                let items: Vec<Value> = list
                    .iter()
                    .map(|l| match &l.profile {
                        Ok(p) => profile_json(p, &l.path, now),
                        Err(e) => json!({"path": l.path, "error": e.to_string()}),
                    })
                    .collect();
                crate::outln!("{}", tag(json!({"directory": store.dir(), "profiles": items})));
            } else if list.is_empty() {
                crate::outln!("no calibration profiles in {}", store.dir().display());
            } else {
                for l in &list {
                    match &l.profile {
                        Ok(p) => crate::outln!(
                            "{:<32} {:>+10.3} ± {:.3} ppm  {:<10} {}{}",
                            p.device,
                            p.recorder_ppm.value,
                            p.recorder_ppm.u95,
                            p.method,
                            p.measured_at,
                            if p.is_stale(now) { "  STALE" } else { "" }
                        ),
                        Err(e) => crate::outln!("BAD  {}", e),
                    }
                }
            }
            Ok(ExitCode::Ok)
        }
        Sub::Remove(a) => {
            let device = DeviceName::parse(&a.device).map_err(failure)?;
            let store = ProfileStore::open_default().map_err(failure)?;
            let path = store.remove(&device).map_err(failure)?;
            if a.json {
                crate::outln!("{}", tag(json!({"removed": path, "device": device.as_str()})));
            } else {
                crate::outln!("removed {}", path.display());
            }
            Ok(ExitCode::Ok)
        }
        Sub::HostStatus(a) => {
            let s = host_clock_sync();
            let state = match s.state {
                HostSync::Synchronised => "synchronised",
                HostSync::NotSynchronised => "not_synchronised",
                HostSync::Unknown => "unknown",
            };
            if a.json {
                crate::outln!(
                    "{}",
                    tag(json!({"host_clock": state, "source": s.source, "detail": s.detail}))
                );
            } else {
                crate::outln!(
                    "host clock: {} ({}: {})",
                    state.replace('_', " "),
                    s.source,
                    s.detail.replace('\n', " ")
                );
            }
            Ok(ExitCode::Ok)
        }
    }
}

/// A `calibrate --json` output tagged with its schema (`schema/calibrate.v1.json`).
fn tag(v: Value) -> Value {
    super::schema::tag(super::schema::CALIBRATE, v)
}

/// What a measuring subcommand found, before printing and saving.
struct Measured {
    method: Method,
    default_reference: String,
    recorder_ppm: Figure,
    sample_rate_hz: u32,
    duration_s: f64,
    channel: u16,
    used: u64,
    rejected: u64,
    detail: Value,
}

fn finish(file: &Path, m: Measured, opts: &SaveOpts, now: UtcTime) -> Result<ExitCode, Failure> {
    let reference = opts.reference.clone().unwrap_or_else(|| m.default_reference.clone());
    let sha = sha256_file(file)?;
    let mut saved = Value::Null;
    if let Some(dev) = &opts.save {
        let device = DeviceName::parse(dev).map_err(failure)?;
        let p = Profile {
            device: device.as_str().to_string(),
            device_identity: opts.device_identity.clone(),
            recorder_ppm: m.recorder_ppm,
            method: m.method,
            reference: reference.clone(),
            measured_at: now,
            valid_days: opts.valid_days.unwrap_or(calibration::DEFAULT_VALID_DAYS),
            host: calibration::profile::host_name(),
            note: opts.note.clone().unwrap_or_default(),
            evidence: Evidence {
                recording: file.file_name().map(|n| n.to_string_lossy().into_owned()),
                recording_sha256: Some(sha.clone()),
                sample_rate_hz: Some(m.sample_rate_hz),
                duration_s: Some(m.duration_s),
                points_used: Some(m.used),
                points_rejected: Some(m.rejected),
            },
        };
        let store = ProfileStore::open_default().map_err(failure)?;
        let path = store.save(&p, opts.force).map_err(failure)?;
        saved = json!({"device": p.device, "path": path});
    }
    if opts.json {
        let out = json!({
            "recorder_ppm": m.recorder_ppm,
            "method": m.method.as_str(),
            "reference": reference,
            "file": file,
            "recording_sha256": sha,
            "sample_rate_hz": m.sample_rate_hz,
            "duration_s": m.duration_s,
            "channel": m.channel,
            "points_used": m.used,
            "points_rejected": m.rejected,
            "measured_at": now.to_rfc3339(),
            "detail": m.detail,
            "saved": saved,
        });
        crate::outln!("{}", tag(out));
    } else {
        crate::outln!("{}: {}", file.display(), describe(m.recorder_ppm));
        crate::outln!(
            "  method {} ({}), channel {}, {:.1} s at {} Hz, {} used, {} rejected",
            m.method,
            reference,
            m.channel,
            m.duration_s,
            m.sample_rate_hz,
            m.used,
            m.rejected
        );
        if let Some(p) = saved.get("path").and_then(Value::as_str) {
            crate::outln!("  saved as the profile of {:?}: {}", opts.save.as_deref().unwrap_or(""), p);
        }
    }
    Ok(ExitCode::Ok)
}

/// One line: the figure and what it does to rates.
fn describe(f: Figure) -> String {
    format!(
        "recorder clock {:+.4} ppm ± {:.4} (u95): the recorder runs {}, apparent rates read {:.4} s/day {}",
        f.value,
        f.u95,
        if f.value >= 0.0 { "fast" } else { "slow" },
        (f.value * S_PER_DAY_PER_PPM).abs(),
        if f.value >= 0.0 { "slow" } else { "fast" }
    )
}

fn profile_json(p: &Profile, path: &Path, now: UtcTime) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.insert("path".into(), json!(path));
        o.insert("stale".into(), json!(p.is_stale(now)));
        o.insert("age_days".into(), json!(p.age_days(now)));
    }
    v
}

fn print_profile(p: &Profile, path: &Path, now: UtcTime) {
    crate::outln!("device:        {}", p.device);
    if let Some(id) = &p.device_identity {
        crate::outln!("identity:      {}", id);
    }
    crate::outln!("recorder_ppm:  {:+.4} ± {:.4} (u95)", p.recorder_ppm.value, p.recorder_ppm.u95);
    crate::outln!("method:        {}", p.method);
    crate::outln!("reference:     {}", p.reference);
    crate::outln!(
        "measured_at:   {} ({:.1} days ago, valid {} days{})",
        p.measured_at,
        p.age_days(now),
        p.valid_days,
        if p.is_stale(now) { ", STALE" } else { "" }
    );
    crate::outln!("host:          {}", p.host);
    if !p.note.is_empty() {
        crate::outln!("note:          {}", p.note.replace('\n', " / "));
    }
    if let Some(r) = &p.evidence.recording {
        crate::outln!(
            "recording:     {} (sha256 {})",
            r,
            p.evidence.recording_sha256.as_deref().unwrap_or("?")
        );
    }
    crate::outln!("file:          {}", path.display());
}

fn sha256_file(path: &Path) -> Result<String, Failure> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("{}: cannot read: {}", path.display(), e)))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Failure::usage(format!("{}: cannot read: {}", path.display(), e)))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{:02x}", b)).collect())
}

/// Maps a calibration error to its exit code.
pub fn failure(e: CalibrationError) -> Failure {
    let code = match &e {
        CalibrationError::NoReference { .. } => ExitCode::NoSignal,
        CalibrationError::Insufficient { .. } => ExitCode::Insufficient,
        CalibrationError::Io { action, .. } if *action != "read" => ExitCode::Storage,
        _ => ExitCode::Usage,
    };
    Failure::new(code, e.to_string())
}

impl From<CalibrationError> for Failure {
    fn from(e: CalibrationError) -> Self {
        failure(e)
    }
}
