//! Calibration profiles: what one input device's clock error is, how it was measured, and when.
//!
//! A profile is a small human-readable TOML file (format: `calibration/profile.md` in the
//! repository, example: `calibration/examples/`). Reading one is strict: an unknown key, a
//! missing field, a NaN, an absurd value or an oversized file is a
//! [`CalibrationError::BadProfile`] that names the file and the field.
use super::error::{one_line, CalibrationError};
use super::time::UtcTime;
use crate::measurement::Figure;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// The profile format version written into (and required of) every profile.
pub const SCHEMA_VERSION: i64 = 1;
/// Highest sample rate a profile's evidence may name (above any audio interface's), Hz.
pub const MAX_SAMPLE_RATE_HZ: u32 = 1_000_000;
/// Largest profile file read, bytes; anything larger is refused unread.
pub const MAX_PROFILE_BYTES: u64 = 64 * 1024;
/// Largest recorder error accepted, ppm. Sound cards are off by 10-100 ppm; beyond 1000 ppm
/// (0.1 %) the recording was made at a different sample rate than its header says, which is
/// not a clock error to correct.
pub const MAX_ABS_PPM: f64 = 1000.0;
/// Default validity of a calibration, days.
pub const DEFAULT_VALID_DAYS: f64 = 30.0;
/// Longest validity accepted, days (ten years).
pub const MAX_VALID_DAYS: f64 = 3650.0;
/// Longest device name accepted, characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 128;
/// Longest slug (file stem) derived from a device name, bytes.
pub const MAX_SLUG_BYTES: usize = 64;
/// Longest note accepted, characters.
pub const MAX_NOTE_CHARS: usize = 4096;
/// Longest other text field accepted, characters.
pub const MAX_TEXT_CHARS: usize = 512;
/// The profile name for recordings from an unknown device.
pub const UNKNOWN_DEVICE: &str = "unknown-device";

/// A validated device name, safe to derive a file name from.
///
/// Refused: empty names, leading or trailing spaces, more than [`MAX_DEVICE_NAME_CHARS`]
/// characters, control characters, `/`, `\`, `..`, and the reserved words `uncalibrated` and
/// `command line` (which name other sources of a recorder correction).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceName(String);

impl DeviceName {
    /// Validates a device name.
    pub fn parse(name: &str) -> Result<DeviceName, CalibrationError> {
        let refuse = |reason: &str| {
            Err(CalibrationError::InvalidDeviceName { name: name.to_string(), reason: reason.to_string() })
        };
        let chars = name.chars().count();
        if chars == 0 {
            return refuse("it is empty");
        }
        if chars > MAX_DEVICE_NAME_CHARS {
            return refuse(&format!("longer than {} characters", MAX_DEVICE_NAME_CHARS));
        }
        if name.chars().any(char::is_control) {
            return refuse("it contains control characters");
        }
        if name.contains('/') || name.contains('\\') {
            return refuse("it contains a path separator");
        }
        if name.contains("..") || name == "." {
            return refuse("it contains `..` or is `.`");
        }
        if name.trim() != name {
            return refuse("it starts or ends with white space");
        }
        let lower = name.to_lowercase();
        if lower == "uncalibrated" || lower == "command line" {
            return refuse("the name is reserved");
        }
        Ok(DeviceName(name.to_string()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file stem of this device's profile: lower-case ASCII letters and digits, runs of
    /// anything else replaced by one `-`, at most [`MAX_SLUG_BYTES`]; a name with no ASCII
    /// letter or digit maps to `dev-` and 16 hex digits of its SHA-256. Never empty, never
    /// starts with `.` or `-`, never contains a path separator.
    pub fn slug(&self) -> String {
        let mut s = String::with_capacity(self.0.len());
        for c in self.0.chars() {
            if c.is_ascii_alphanumeric() {
                s.push(c.to_ascii_lowercase());
            } else if !s.ends_with('-') {
                s.push('-');
            }
        }
        let mut s = s.trim_matches('-').to_string();
        if s.len() > MAX_SLUG_BYTES {
            s.truncate(MAX_SLUG_BYTES);
            s = s.trim_end_matches('-').to_string();
        }
        if s.is_empty() {
            let h = Sha256::digest(self.0.as_bytes());
            s = format!("dev-{}", h[..8].iter().map(|b| format!("{:02x}", b)).collect::<String>());
        }
        s
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a recorder error was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// A recorded tick train of known period (GPS 1PPS, reference quartz watch).
    Ticks,
    /// A recorded tone of known frequency (calibrated signal generator).
    Tone,
    /// Samples received during live capture regressed against the synchronised host clock.
    HostClock,
    /// Entered by hand, with a note of where the figure came from.
    Manual,
}

impl Method {
    /// The name used in profiles and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Ticks => "ticks",
            Method::Tone => "tone",
            Method::HostClock => "host-clock",
            Method::Manual => "manual",
        }
    }
    /// Parses the name used in profiles and JSON.
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "ticks" => Some(Method::Ticks),
            "tone" => Some(Method::Tone),
            "host-clock" => Some(Method::HostClock),
            "manual" => Some(Method::Manual),
            _ => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a measured calibration came from (optional; absent for manual entries).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The recording's file name (no directory), when measured from a file.
    pub recording: Option<String>,
    /// SHA-256 of the recording, lower-case hex.
    pub recording_sha256: Option<String>,
    /// Sample rate of the recording, Hz.
    pub sample_rate_hz: Option<u32>,
    /// Length analysed, seconds.
    pub duration_s: Option<f64>,
    /// Ticks, phase points or clock readings used in the fit.
    pub points_used: Option<u64>,
    /// Ticks, phase points or clock readings rejected as outliers.
    pub points_rejected: Option<u64>,
}

/// One device's calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The device the profile belongs to.
    pub device: String,
    /// A stable identity of the hardware when known (ALSA card id, USB vendor:product, serial).
    pub device_identity: Option<String>,
    /// How fast the recorder's sample clock runs, ppm (+ = fast), with its u95.
    pub recorder_ppm: Figure,
    /// How it was measured.
    pub method: Method,
    /// The reference used ("GPS 1PPS", "signal generator 1000 Hz, GPSDO-locked", ...).
    pub reference: String,
    /// When it was measured (UTC).
    #[serde(with = "rfc3339")]
    pub measured_at: UtcTime,
    /// Days after `measured_at` that the calibration stays valid.
    pub valid_days: f64,
    /// The computer the device was attached to.
    pub host: String,
    /// Provenance in plain words (required for manual entries).
    pub note: String,
    /// What the figure was measured from.
    pub evidence: Evidence,
}

mod rfc3339 {
    use super::UtcTime;
    pub fn serialize<S: serde::Serializer>(t: &UtcTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<UtcTime, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        UtcTime::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }
}

impl Profile {
    /// True when the calibration is past its validity at `now` (or dated more than a day in
    /// the future, when its age cannot be trusted).
    pub fn is_stale(&self, now: UtcTime) -> bool {
        let age_s = now.seconds_since(self.measured_at) as f64;
        age_s > self.valid_days * 86_400.0 || age_s < -86_400.0
    }

    /// Age in days at `now`.
    pub fn age_days(&self, now: UtcTime) -> f64 {
        now.seconds_since(self.measured_at) as f64 / 86_400.0
    }

    /// Checks every field against the limits; `path` names the file in errors.
    pub fn validate(&self, path: &Path) -> Result<(), CalibrationError> {
        let bad = |field: &str, problem: String| {
            Err(CalibrationError::bad_profile(path, Some(field), None, problem))
        };
        if let Err(e) = DeviceName::parse(&self.device) {
            return bad("device", e.to_string());
        }
        check_ppm(self.recorder_ppm.value, "recorder_ppm.value").or_else(|p| bad("recorder_ppm.value", p))?;
        let u = self.recorder_ppm.u95;
        if !u.is_finite() || u <= 0.0 || u > MAX_ABS_PPM {
            return bad("recorder_ppm.u95", format!("{} is not a number in (0, {}] ppm", u, MAX_ABS_PPM));
        }
        if !self.valid_days.is_finite() || self.valid_days <= 0.0 || self.valid_days > MAX_VALID_DAYS {
            return bad("valid_days", format!("{} is not in (0, {}] days", self.valid_days, MAX_VALID_DAYS));
        }
        for (field, text, max) in [
            ("reference", &self.reference, MAX_TEXT_CHARS),
            ("host", &self.host, MAX_TEXT_CHARS),
            ("note", &self.note, MAX_NOTE_CHARS),
        ] {
            if text.chars().count() > max {
                return bad(field, format!("longer than {} characters", max));
            }
        }
        if let Some(id) = &self.device_identity {
            if id.chars().count() > MAX_TEXT_CHARS {
                return bad("device_identity", format!("longer than {} characters", MAX_TEXT_CHARS));
            }
        }
        if self.reference.trim().is_empty() {
            return bad("reference", "is empty: say what reference the figure was measured against".into());
        }
        if self.method == Method::Manual && self.note.trim().is_empty() {
            return bad("note", "a manual entry needs a note of where the figure came from".into());
        }
        if let Some(h) = &self.evidence.recording_sha256 {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad("evidence.recording_sha256", "not 64 hex digits".into());
            }
        }
        if let Some(fs) = self.evidence.sample_rate_hz.filter(|&fs| fs == 0 || fs > MAX_SAMPLE_RATE_HZ) {
            return bad(
                "evidence.sample_rate_hz",
                format!("{fs} Hz is not a recorder's sample rate (1..{MAX_SAMPLE_RATE_HZ} Hz)"),
            );
        }
        if let Some(d) = self.evidence.duration_s {
            if !d.is_finite() || d < 0.0 {
                return bad("evidence.duration_s", format!("{} is not a duration", d));
            }
        }
        Ok(())
    }

    /// Parses and validates a profile from TOML text; `path` names the file in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Profile, CalibrationError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
            });
            CalibrationError::bad_profile(path, None, line, format!("not valid TOML: {}", e.message()))
        })?;
        let mut r = Reader { path, table: &table, prefix: "" };
        r.only(&[
            "schema_version",
            "device",
            "device_identity",
            "recorder_ppm",
            "method",
            "reference",
            "measured_at",
            "valid_days",
            "host",
            "note",
            "evidence",
        ])?;
        let version = r.int("schema_version")?;
        if version != SCHEMA_VERSION {
            return Err(CalibrationError::bad_profile(
                path,
                Some("schema_version"),
                None,
                format!(
                    "version {} is not supported (this program reads version {})",
                    version, SCHEMA_VERSION
                ),
            ));
        }
        let ppm = r.table("recorder_ppm")?;
        let mut pr = Reader { path, table: ppm, prefix: "recorder_ppm." };
        pr.only(&["value", "u95"])?;
        let recorder_ppm = Figure { value: pr.float("value")?, u95: pr.float("u95")? };
        let method_s = r.string("method")?;
        let method = Method::parse(&method_s).ok_or_else(|| {
            CalibrationError::bad_profile(
                path,
                Some("method"),
                None,
                format!("{:?} is not one of ticks, tone, host-clock, manual", one_line(&method_s)),
            )
        })?;
        let measured_at = r.time("measured_at")?;
        let valid_days =
            if table.contains_key("valid_days") { r.float("valid_days")? } else { DEFAULT_VALID_DAYS };
        let evidence = match table.get("evidence") {
            None => Evidence::default(),
            Some(_) => {
                let t = r.table("evidence")?;
                let mut er = Reader { path, table: t, prefix: "evidence." };
                er.only(&[
                    "recording",
                    "recording_sha256",
                    "sample_rate_hz",
                    "duration_s",
                    "points_used",
                    "points_rejected",
                ])?;
                Evidence {
                    recording: er.opt_string("recording")?,
                    recording_sha256: er.opt_string("recording_sha256")?,
                    sample_rate_hz: er.opt_count("sample_rate_hz", u32::MAX as u64)?.map(|v| v as u32),
                    duration_s: match t.get("duration_s") {
                        None => None,
                        Some(_) => Some(er.float("duration_s")?),
                    },
                    points_used: er.opt_count("points_used", u64::MAX)?,
                    points_rejected: er.opt_count("points_rejected", u64::MAX)?,
                }
            }
        };
        let p = Profile {
            device: r.string("device")?,
            device_identity: r.opt_string("device_identity")?,
            recorder_ppm,
            method,
            reference: r.string("reference")?,
            measured_at,
            valid_days,
            host: r.string("host")?,
            note: if table.contains_key("note") { r.string("note")? } else { String::new() },
            evidence,
        };
        p.validate(path)?;
        Ok(p)
    }

    /// The profile as commented TOML (the format read by [`Profile::from_toml`]).
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut o = String::new();
        o.push_str("# tickproof recorder clock calibration (format: calibration/profile.md)\n");
        o.push_str("# recorder_ppm: + = the recorder's sample clock runs fast; apparent rates read\n");
        o.push_str("# -ppm * 0.0864 s/day and are corrected for it.\n");
        o.push_str(&format!("schema_version = {}\n", SCHEMA_VERSION));
        o.push_str(&format!("device = {}\n", q(&self.device)));
        if let Some(id) = &self.device_identity {
            o.push_str(&format!("device_identity = {}\n", q(id)));
        }
        o.push_str(&format!("method = {}\n", q(self.method.as_str())));
        o.push_str(&format!("reference = {}\n", q(&self.reference)));
        o.push_str(&format!("measured_at = {}\n", q(&self.measured_at.to_rfc3339())));
        o.push_str(&format!("valid_days = {}\n", fmt_float(self.valid_days)));
        o.push_str(&format!("host = {}\n", q(&self.host)));
        o.push_str(&format!("note = {}\n", q(&self.note)));
        o.push_str("\n[recorder_ppm]\n");
        o.push_str(&format!("value = {}\n", fmt_float(self.recorder_ppm.value)));
        o.push_str(&format!("u95 = {}\n", fmt_float(self.recorder_ppm.u95)));
        let e = &self.evidence;
        if *e != Evidence::default() {
            o.push_str("\n[evidence]\n");
            if let Some(v) = &e.recording {
                o.push_str(&format!("recording = {}\n", q(v)));
            }
            if let Some(v) = &e.recording_sha256 {
                o.push_str(&format!("recording_sha256 = {}\n", q(v)));
            }
            if let Some(v) = e.sample_rate_hz {
                o.push_str(&format!("sample_rate_hz = {}\n", v));
            }
            if let Some(v) = e.duration_s {
                o.push_str(&format!("duration_s = {}\n", fmt_float(v)));
            }
            if let Some(v) = e.points_used {
                o.push_str(&format!("points_used = {}\n", v));
            }
            if let Some(v) = e.points_rejected {
                o.push_str(&format!("points_rejected = {}\n", v));
            }
        }
        o
    }
}

/// Checks a recorder error in ppm: finite and within [`MAX_ABS_PPM`].
pub(crate) fn check_ppm(v: f64, what: &str) -> Result<(), String> {
    if !v.is_finite() {
        return Err(format!("{} is not a finite number", v));
    }
    if v.abs() > MAX_ABS_PPM {
        return Err(format!(
            "{} ppm is absurd for {} (at most ±{} ppm; a larger error means a wrong sample rate, not a clock error)",
            v, what, MAX_ABS_PPM
        ));
    }
    Ok(())
}

/// A float in TOML that always reads back as a float (never as an integer), losslessly.
fn fmt_float(v: f64) -> String {
    let s = format!("{:?}", v);
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s.replace("NaN", "nan")
    } else {
        format!("{}.0", s)
    }
}

/// Field access with errors that name the file and the dotted field.
struct Reader<'a> {
    path: &'a Path,
    table: &'a toml::Table,
    prefix: &'static str,
}

impl<'a> Reader<'a> {
    fn err(&self, key: &str, problem: impl Into<String>) -> CalibrationError {
        CalibrationError::bad_profile(self.path, Some(&format!("{}{}", self.prefix, key)), None, problem)
    }
    fn get(&self, key: &str) -> Result<&'a toml::Value, CalibrationError> {
        self.table.get(key).ok_or_else(|| self.err(key, "missing"))
    }
    fn only(&mut self, keys: &[&str]) -> Result<(), CalibrationError> {
        match self.table.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(self.err(k, "unknown field (a typo?)")),
            None => Ok(()),
        }
    }
    fn type_err(&self, key: &str, want: &str, v: &toml::Value) -> CalibrationError {
        self.err(key, format!("expected {}, found {}", want, v.type_str()))
    }
    fn int(&self, key: &str) -> Result<i64, CalibrationError> {
        let v = self.get(key)?;
        v.as_integer().ok_or_else(|| self.type_err(key, "an integer", v))
    }
    fn float(&self, key: &str) -> Result<f64, CalibrationError> {
        let v = self.get(key)?;
        let x = match v {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            _ => return Err(self.type_err(key, "a number", v)),
        };
        if !x.is_finite() {
            return Err(self.err(key, format!("{} is not a finite number", x)));
        }
        Ok(x)
    }
    fn string(&self, key: &str) -> Result<String, CalibrationError> {
        let v = self.get(key)?;
        v.as_str().map(str::to_string).ok_or_else(|| self.type_err(key, "a string", v))
    }
    fn opt_string(&self, key: &str) -> Result<Option<String>, CalibrationError> {
        if self.table.contains_key(key) {
            self.string(key).map(Some)
        } else {
            Ok(None)
        }
    }
    fn opt_count(&self, key: &str, max: u64) -> Result<Option<u64>, CalibrationError> {
        if !self.table.contains_key(key) {
            return Ok(None);
        }
        let i = self.int(key)?;
        if i < 0 || i as u64 > max {
            return Err(self.err(key, format!("{} is out of range", i)));
        }
        Ok(Some(i as u64))
    }
    fn table(&self, key: &str) -> Result<&'a toml::Table, CalibrationError> {
        let v = self.get(key)?;
        v.as_table().ok_or_else(|| self.type_err(key, "a table", v))
    }
    fn time(&self, key: &str) -> Result<UtcTime, CalibrationError> {
        let v = self.get(key)?;
        let s = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Datetime(d) => d.to_string(),
            _ => return Err(self.type_err(key, "an RFC 3339 time", v)),
        };
        UtcTime::parse_rfc3339(&s).ok_or_else(|| {
            self.err(
                key,
                format!("{:?} is not an RFC 3339 UTC time (e.g. 2026-11-21T13:07:33Z)", one_line(&s)),
            )
        })
    }
}

/// The name of this computer (`/proc/sys/kernel/hostname`, `/etc/hostname`, `$HOSTNAME`), or
/// `unknown` when none says.
pub fn host_name() -> String {
    for f in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(f) {
            let s = s.trim();
            if !s.is_empty() && s.len() <= 255 {
                return one_line(s);
            }
        }
    }
    std::env::var("HOSTNAME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| one_line(&s))
        .unwrap_or_else(|| "unknown".into())
}
