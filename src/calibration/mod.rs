//! Calibration: the recorder's sample-clock error, how it is measured, kept and applied.
//!
//! A sound card's clock is off by 10-100 ppm (1 ppm = 0.0864 s/day = 2.59 s/month): harmless far
//! from a ±15 s/day limit, larger than the whole ±20 s/month quartz tolerance. Convention:
//! `recorder_ppm` positive = the recorder's clock runs fast, which shifts every apparent rate
//! by `-ppm * 0.0864` s/day (corrected by [`crate::measurement::correct_rate_s_per_day`]).
//!
//! Methods, each giving a [`Figure`] in ppm with a data-derived u95:
//! 1. [`ticks`]: a recorded tick train of known period (GPS 1PPS, a reference quartz watch).
//! 2. [`tone`]: a recorded tone of known frequency (a calibrated signal generator).
//! 3. [`hostclock`]: samples received during live capture against the synchronised host clock.
//! 4. Manual entry with a provenance note ([`manual_profile`]).
//!
//! Results are kept as one [`Profile`] per input device in a [`ProfileStore`] (TOML files in
//! the per-user configuration directory; format in the repository's `calibration/` folder) and
//! applied to measurements through [`resolve_recorder`]. A live capture chooses among the
//! command line, the device's profile, its own host-clock run and the assumed u95 through
//! [`choose_recorder`].
use crate::measurement::{Figure, RecorderClock};

pub mod choose;
pub mod error;
pub mod fit;
pub mod hostclock;
pub mod profile;
pub mod store;
pub mod ticks;
pub mod time;
pub mod tone;

pub use choose::{
    choose_recorder, Candidates, HostClockCapture, HostClockRun, RecorderChoice, HOST_CLOCK_PREFIX,
};
pub use error::CalibrationError;
pub use hostclock::{
    host_clock_sync, report_segments, require_synchronised, HostClockConfig, HostClockEstimate,
    HostClockEstimator, HostClockSegment, HostSync, HostSyncStatus,
};
pub use profile::{DeviceName, Evidence, Method, Profile, DEFAULT_VALID_DAYS, MAX_ABS_PPM, UNKNOWN_DEVICE};
pub use store::{ListedProfile, ProfileStore};
pub use ticks::{measure_ticks, TickCalibration, TickConfig};
pub use time::UtcTime;
pub use tone::{measure_tone, ToneCalibration, ToneConfig};

/// The recorder correction for a measurement, from the command line or a device's profile.
///
/// Precedence (documented for `analyze` and `listen`): an explicit `ppm` (`--recorder-ppm`,
/// with `ppm_u95` from `--recorder-ppm-u95`, default 0) wins over the device's profile, and the
/// result's source says "command line"; otherwise `device` loads that device's profile from the
/// per-user store (an absent profile is an error, never a silent "uncalibrated"); with neither,
/// the recorder is taken as exact ("uncalibrated"). A profile past its validity at `now` is
/// still applied, with `stale: true`.
///
/// Errors: `ppm_u95` without `ppm`, a non-finite or absurd value, an invalid device name, a
/// missing or bad profile file (the message names the file and field).
pub fn resolve_recorder(
    device: Option<&str>,
    ppm: Option<f64>,
    ppm_u95: Option<f64>,
    now: UtcTime,
) -> Result<RecorderClock, CalibrationError> {
    if ppm.is_none() && device.is_none() {
        if ppm_u95.is_some() {
            return Err(CalibrationError::invalid("--recorder-ppm-u95 given without --recorder-ppm"));
        }
        return Ok(RecorderClock::uncalibrated());
    }
    let store = if ppm.is_none() { Some(ProfileStore::open_default()?) } else { None };
    resolve_recorder_in(store.as_ref(), device, ppm, ppm_u95, now)
}

/// [`resolve_recorder`] with an explicit store (`None` only when no profile is needed).
pub fn resolve_recorder_in(
    store: Option<&ProfileStore>,
    device: Option<&str>,
    ppm: Option<f64>,
    ppm_u95: Option<f64>,
    now: UtcTime,
) -> Result<RecorderClock, CalibrationError> {
    if let Some(p) = ppm {
        profile::check_ppm(p, "--recorder-ppm")
            .map_err(|e| CalibrationError::invalid(format!("--recorder-ppm: {}", e)))?;
        let u = ppm_u95.unwrap_or(0.0);
        if !u.is_finite() || !(0.0..=MAX_ABS_PPM).contains(&u) {
            return Err(CalibrationError::invalid(format!(
                "--recorder-ppm-u95 {} is not a number in 0..{} ppm",
                u, MAX_ABS_PPM
            )));
        }
        if let Some(d) = device {
            DeviceName::parse(d)?; // still refuse a malformed name rather than ignore it
        }
        return Ok(RecorderClock {
            recorder_ppm: Figure::new(p, u),
            source: "command line".into(),
            stale: false,
        });
    }
    if ppm_u95.is_some() {
        return Err(CalibrationError::invalid("--recorder-ppm-u95 given without --recorder-ppm"));
    }
    let Some(d) = device else { return Ok(RecorderClock::uncalibrated()) };
    let name = DeviceName::parse(d)?;
    let store = store.ok_or(CalibrationError::NoConfigDir)?;
    let p = store.load(&name)?;
    // Named with the profile's date and the hash of its file, so that a record says exactly
    // which calibration it used.
    let hash = std::fs::read(store.path_for(&name))
        .map(|b| crate::record::canonical::sha256_hex(&b)[..16].to_string())
        .unwrap_or_else(|_| "unreadable".into());
    Ok(RecorderClock {
        recorder_ppm: p.recorder_ppm,
        source: format!("profile {} (measured {}, sha256 {hash})", p.device, p.measured_at),
        stale: p.is_stale(now),
    })
}

/// A manual entry: `ppm` and `u95` as read from elsewhere (a data sheet, another lab's
/// certificate), with a required `note` saying where. Validated like any profile.
pub fn manual_profile(
    device: &DeviceName,
    ppm: f64,
    u95: f64,
    reference: &str,
    note: &str,
    now: UtcTime,
) -> Result<Profile, CalibrationError> {
    if note.trim().is_empty() {
        return Err(CalibrationError::invalid(
            "--note is required for a manual entry: say where the figure came from",
        ));
    }
    let p = Profile {
        device: device.as_str().to_string(),
        device_identity: None,
        recorder_ppm: Figure { value: ppm, u95 },
        method: Method::Manual,
        reference: if reference.trim().is_empty() {
            "stated by the user".into()
        } else {
            reference.to_string()
        },
        measured_at: now,
        valid_days: DEFAULT_VALID_DAYS,
        host: profile::host_name(),
        note: note.to_string(),
        evidence: Evidence::default(),
    };
    p.validate(std::path::Path::new("(manual entry)")).map_err(|e| match e {
        CalibrationError::BadProfile { field, problem, .. } => CalibrationError::invalid(format!(
            "{}: {}",
            match field.as_deref() {
                Some("recorder_ppm.value") => "--ppm",
                Some("recorder_ppm.u95") => "--u95",
                Some("note") => "--note",
                Some("reference") => "--reference",
                Some(f) => f,
                None => "manual entry",
            },
            problem
        )),
        other => other,
    })?;
    Ok(p)
}
