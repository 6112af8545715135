//! The doctor's checks: each statistic judged `ok`, `warn` or `fail`, with what to change.
use super::{Band, CalibrationState, Hum, LevelStats, Mode, Ticks};
use serde::Serialize;

/// Below this peak (dBFS) the input is taken as silent: nothing reaches the recorder.
pub const SILENT_PEAK_DBFS: f64 = -90.0;
/// Below this peak (dBFS) the ticks are quiet enough for the converter's own noise to matter.
pub const QUIET_PEAK_DBFS: f64 = -40.0;
/// Less headroom than this (dB) leaves a louder tick, a knock, no room.
pub const MIN_HEADROOM_DB: f64 = 1.0;
/// A share of samples at full scale above this fails: the tick shapes (unlock, drop) are cut.
pub const CLIP_FAIL_SHARE: f64 = 1e-3;
/// A share of samples at full scale above this warns.
pub const CLIP_WARN_SHARE: f64 = 1e-4;
/// Ticks heard with an SNR below this (dB, in the analysis band) are noisy.
pub const NOISY_SNR_DB: f64 = 15.0;
/// Hum louder than this (dBFS) warns, whatever the ticks.
pub const LOUD_HUM_DBFS: f64 = -50.0;
/// Audio shorter than this (s) in which no ticks are heard is too short to tell.
pub const MIN_TICKS_S: f64 = 10.0;
/// Beat energy peaking in an octave band centred below this (Hz) warns: the analysis listens
/// above about 1.5 kHz, where an escapement's clicks are.
pub const LOW_BAND_HZ: f64 = 1000.0;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to change.
    Ok,
    /// A measurement can go ahead, but it would be better with the change advised.
    Warn,
    /// The input cannot be measured as it is.
    Fail,
}

impl Status {
    /// The status as printed: `ok`, `warn`, `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// `level`, `clipping`, `noise`, `hum`, `band`, `ticks` or `calibration`.
    pub check: &'static str,
    /// How it ended.
    pub status: Status,
    /// What was found, in plain words with the figures.
    pub message: String,
    /// What to change, when something should.
    pub advice: Option<String>,
}

fn check(check: &'static str, status: Status, message: String, advice: Option<String>) -> Check {
    Check { check, status, message, advice }
}

/// Every check, in the order they are shown.
pub fn all(
    l: &LevelStats,
    hum: &Hum,
    band: &Band,
    ticks: &Ticks,
    cal: &CalibrationState,
    mode: Mode,
    duration_s: f64,
) -> Vec<Check> {
    vec![
        level(l, mode),
        clipping(l),
        noise(l, ticks),
        hum_check(hum, l),
        band_check(band, l),
        ticks_check(ticks, l, duration_s),
        calibration(cal, mode),
    ]
}

fn level(l: &LevelStats, mode: Mode) -> Check {
    let what = format!("peak {:.1} dBFS, RMS {:.1} dBFS", l.peak_dbfs, l.rms_dbfs);
    if l.peak_dbfs < SILENT_PEAK_DBFS {
        let advice = match mode {
            Mode::Live => {
                "nothing reaches the recorder: check that the microphone is plugged in, chosen \
                           (`tickproof devices`, --device) and not muted, and raise its gain"
            }
            Mode::File => {
                "the recording holds no sound: record again with the microphone plugged in, \
                           chosen and not muted"
            }
        };
        return check("level", Status::Fail, format!("silent ({what})"), Some(advice.into()));
    }
    if l.peak_dbfs < QUIET_PEAK_DBFS {
        return check(
            "level",
            Status::Warn,
            format!("quiet ({what})"),
            Some(format!(
                "raise the input gain by about {:.0} dB, or put the microphone closer to the watch",
                (-20.0 - l.peak_dbfs).round()
            )),
        );
    }
    if l.headroom_db < MIN_HEADROOM_DB && l.clipped_share < CLIP_WARN_SHARE {
        return check(
            "level",
            Status::Warn,
            format!("hot: {:.1} dB of headroom ({what})", l.headroom_db),
            Some("lower the input gain by about 6 dB to leave room for a louder tick".into()),
        );
    }
    check("level", Status::Ok, format!("{what}, {:.1} dB of headroom", l.headroom_db), None)
}

fn clipping(l: &LevelStats) -> Check {
    let pct = 100.0 * l.clipped_share;
    let what =
        format!("{} samples ({pct:.3}%) cut flat at the peak, {:.1} dBFS", l.clipped_samples, l.peak_dbfs);
    let lower =
        |db: u32| Some(format!("lower the input gain by about {db} dB (clipping cuts the tick shapes)"));
    if l.clipped_share >= CLIP_FAIL_SHARE {
        check("clipping", Status::Fail, format!("clipped: {what}"), lower(12))
    } else if l.clipped_share >= CLIP_WARN_SHARE {
        check("clipping", Status::Warn, format!("some clipping: {what}"), lower(6))
    } else {
        check("clipping", Status::Ok, "no clipping".into(), None)
    }
}

fn noise(l: &LevelStats, t: &Ticks) -> Check {
    let floor = format!("noise floor {:.1} dBFS", l.noise_floor_dbfs);
    let quieter = "record in a quieter room (no fan, no traffic), put the watch on a soft pad and the \
                   microphone against the case";
    match t.snr_db {
        Some(snr) if t.heard && snr < NOISY_SNR_DB => check(
            "noise",
            Status::Warn,
            format!("noisy: ticks {snr:.1} dB above the noise ({floor})"),
            Some(quieter.into()),
        ),
        Some(snr) if t.heard => {
            check("noise", Status::Ok, format!("ticks {snr:.1} dB above the noise ({floor})"), None)
        }
        _ if l.peak_dbfs >= SILENT_PEAK_DBFS && l.loud_to_floor_db < 10.0 => check(
            "noise",
            Status::Warn,
            format!(
                "nothing stands out of the noise: loudest sounds {:.1} dB above it ({floor})",
                l.loud_to_floor_db
            ),
            Some(quieter.into()),
        ),
        _ => check(
            "noise",
            Status::Ok,
            format!("{floor}; loudest sounds {:.1} dB above it", l.loud_to_floor_db),
            None,
        ),
    }
}

fn hum_check(h: &Hum, l: &LevelStats) -> Check {
    let (Some(f), Some(level)) = (h.mains_hz, h.level_dbfs) else {
        return check("hum", Status::Ok, "no mains hum".into(), None);
    };
    let lines = h.harmonics_hz.iter().map(|f| format!("{f:.0}")).collect::<Vec<_>>().join(", ");
    let what = format!("mains hum at {f:.0} Hz ({lines} Hz), {level:.1} dBFS");
    if level > LOUD_HUM_DBFS || level > l.loud_dbfs - 20.0 {
        let advice = "move the microphone and its cable away from chargers and mains leads, run the \
                      recorder on battery, or use an interface with a ground-isolated input";
        check("hum", Status::Warn, what, Some(advice.into()))
    } else {
        check("hum", Status::Ok, format!("{what}, well below the ticks"), None)
    }
}

fn band_check(b: &Band, l: &LevelStats) -> Check {
    let (Some(peak), Some(lo), Some(hi)) = (b.peak_hz, b.low_hz, b.high_hz) else {
        let status = if l.peak_dbfs < SILENT_PEAK_DBFS { Status::Ok } else { Status::Warn };
        let advice = (status == Status::Warn)
            .then(|| "no band carries a beat: put the microphone against the case, near the balance".into());
        return check("band", status, "no band where sounds stand out".into(), advice);
    };
    let what = format!(
        "the loud sounds sit at {lo:.0}-{hi:.0} Hz (strongest octave {peak:.0} Hz, {:.1} dB over the quiet)",
        b.excess_db
    );
    if peak < LOW_BAND_HZ {
        let advice = "the energy is low in pitch (the table or the case booming, or voices): put the \
                      microphone against the case back, with the watch on a soft pad";
        check("band", Status::Warn, what, Some(advice.into()))
    } else {
        check("band", Status::Ok, what, None)
    }
}

fn ticks_check(t: &Ticks, l: &LevelStats, duration_s: f64) -> Check {
    if !t.heard && duration_s < MIN_TICKS_S && l.peak_dbfs >= SILENT_PEAK_DBFS {
        return check(
            "ticks",
            Status::Fail,
            format!("no ticks heard in {duration_s:.1} s, too short to tell"),
            Some(format!("examine at least {MIN_TICKS_S:.0} s of audio with the watch on the microphone")),
        );
    }
    if !t.heard {
        let why = t.reason.as_deref().unwrap_or("no watch signal");
        // Silence has its advice under `level`.
        let advice = (l.peak_dbfs >= SILENT_PEAK_DBFS).then(|| {
            "no ticks are heard: put the microphone against the case (crown or case back), keep it \
             still, and silence voices and music nearby"
                .to_string()
        });
        return check("ticks", Status::Fail, format!("no ticks heard: {why}"), advice);
    }
    let (what, unit) = match (t.kind, t.bph) {
        (crate::measurement::Kind::Quartz, _) => ("a quartz watch's motor".to_string(), "steps"),
        (_, Some(bph)) => (format!("a mechanical watch at {bph} bph"), "beats"),
        _ => ("a watch".to_string(), "beats"),
    };
    let what = format!(
        "{what}: {} {unit} used, {} rejected, quality {:.2}",
        t.beats_used, t.beats_rejected, t.quality
    );
    check("ticks", Status::Ok, what, None)
}

fn calibration(c: &CalibrationState, mode: Mode) -> Check {
    let device = c.device.as_deref();
    match (c.state.as_str(), device) {
        ("calibrated", _) => check(
            "calibration",
            Status::Ok,
            format!("{:+.2} ± {:.2} ppm from {}", c.recorder_ppm.value, c.recorder_ppm.u95, c.source),
            None,
        ),
        ("stale", Some(d)) => check(
            "calibration",
            Status::Warn,
            format!("the profile is past its validity ({})", c.source),
            Some(format!("calibrate {d} again: tickproof calibrate ticks|tone FILE ... --save {d:?}")),
        ),
        (_, Some(d)) => check(
            "calibration",
            Status::Warn,
            format!("{d} has no calibration profile: rates carry its unknown clock error (10-100 ppm, up to ±8.6 s/day)"),
            Some(format!("calibrate it once: tickproof calibrate ticks|tone FILE ... --save {d:?}")),
        ),
        (_, None) => {
            let advice = match mode {
                Mode::File => "name the recorder with --device to check its calibration profile",
                Mode::Live => "calibrate the recorder: tickproof calibrate ticks|tone FILE ... --save DEVICE",
            };
            check(
                "calibration",
                Status::Warn,
                "recorder not named: rates carry its unknown clock error (10-100 ppm, up to ±8.6 s/day)".into(),
                Some(advice.into()),
            )
        }
    }
}
