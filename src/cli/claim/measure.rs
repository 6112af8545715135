//! `claim measure`: the recorder correction, the shop's letterhead, and the live protocol.
use super::{claim_failure, store_failure, ExitCode, Failure};
use crate::claim::{self, MeasureRequest, Pipeline};
use crate::record::{ClaimId, SealedRecord, ServiceKey};
use crate::store::ClaimStore;

/// The shop's letterhead for a report; a bad shop file or logo is bad input.
pub(super) fn letterhead() -> Result<crate::shop::Letterhead, Failure> {
    let shop = crate::cli::shop::current()?;
    shop.letterhead().map_err(|e| crate::cli::shop::shop_failure(e, false))
}

/// What `claim measure --live` needs.
pub(super) struct LiveMeasure {
    pub(super) id: ClaimId,
    pub(super) policy: Option<String>,
    pub(super) technician: Option<String>,
    pub(super) key: Option<ServiceKey>,
    pub(super) listen: crate::cli::listen::Args,
    pub(super) recorder: Option<crate::measurement::RecorderClock>,
    /// `recorder` came from `--recorder-ppm` (it always wins over the host clock).
    pub(super) explicit: bool,
    pub(super) letterhead: crate::shop::Letterhead,
}

/// The recorder clock a measurement applies: `--recorder-ppm` (and its u95), else the
/// calibration profile of `--device` (bad input when there is none, except for a live capture,
/// which records from a device whether or not it was ever calibrated), else none.
pub(super) fn measure_recorder(
    device: Option<&str>,
    ppm: Option<f64>,
    u95: Option<f64>,
    live: bool,
) -> Result<Option<crate::measurement::RecorderClock>, Failure> {
    if device.is_none() && ppm.is_none() && u95.is_none() {
        return Ok(None);
    }
    if live && ppm.is_none() && u95.is_none() {
        let now = crate::calibration::time::UtcTime::now();
        return match crate::calibration::resolve_recorder(device, None, None, now) {
            Ok(r) => Ok(Some(r)),
            Err(crate::calibration::CalibrationError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Failure::usage(e.to_string())),
        };
    }
    crate::cli::analyze::recorder_of(device, ppm, u95).map(Some)
}

/// The folder of a claim's live protocol: `<data dir>/live/<ID>` (the system's temporary
/// folder when there is no data directory). The same for every try, so a protocol stopped
/// halfway goes on where it stopped.
pub(super) fn live_dir(id: &ClaimId) -> std::path::PathBuf {
    match directories::ProjectDirs::from("", "", "tickproof") {
        Some(d) => d.data_dir().join("live").join(id.to_string()),
        None => std::env::temp_dir().join(format!("tickproof-live-{id}")),
    }
}

/// `claim measure ID --live`: the claim's (or `--policy`) protocol through the live path into
/// the claim's folder ([`live_dir`]), then [`claim::measure_claim`] on those recordings, exactly
/// as `--from` would. A protocol stopped early keeps its positions there and the next try
/// resumes it. The folder is removed once the store holds the audio; on failure it is kept
/// and named.
pub(super) fn measure_live(s: &mut dyn ClaimStore, mut m: LiveMeasure) -> Result<SealedRecord, Failure> {
    let prev = s.get_record(&m.id, None).map_err(store_failure)?;
    if let Some(l) = prev.record.claim.lift_angle_deg {
        m.listen.lift_angle = Some(l);
    }
    let name = m
        .policy
        .clone()
        .or_else(|| prev.record.claim.policy.clone())
        .ok_or_else(|| Failure::usage("no policy named for the claim (use --policy)"))?;
    let pol = crate::verdict::Policy::load(&name).map_err(|e| Failure::usage(e.to_string()))?;
    let plan = crate::live::protocol::Plan {
        positions: pol.protocol.positions.clone(),
        settle_s: m.listen.settle_s.unwrap_or(pol.protocol.settling_s),
        seconds_per_position: m.listen.seconds_per_position.unwrap_or(pol.protocol.seconds_per_position),
    };
    let dir = live_dir(&m.id);
    let assumed_u95_ppm = pol.uncalibrated_recorder_u95_ppm;
    let run = crate::cli::listen::GuidedRun {
        plan,
        dir: dir.clone(),
        resume: true,
        remeasure: Vec::new(),
        assumed_u95_ppm,
    };
    let protocol = crate::cli::listen::run_protocol(&m.listen, &run, true);
    let host_clock = protocol.as_ref().ok().and_then(|p| p.host_clock.clone());
    let finished = match protocol.map(|p| p.end) {
        Ok(crate::cli::listen::ProtocolEnd::Complete(f)) => f,
        Ok(crate::cli::listen::ProtocolEnd::Stopped { ended, finished, audio_s }) => {
            let go_on = "to go on, run the same command again (the positions recorded are reused)";
            let msg = crate::cli::listen::guided::stopped_message(
                &ended, &finished, &run.plan, audio_s, &dir, go_on,
            );
            let code = match ended {
                crate::live::run::Ended::DeviceError(_) => ExitCode::Device,
                _ => ExitCode::Insufficient,
            };
            return Err(Failure::new(code, msg));
        }
        Err(e) => {
            let _ = std::fs::remove_dir(&dir); // only when empty: recordings are kept
            return Err(e);
        }
    };
    let files = crate::cli::listen::guided::files(&finished);
    let choice = live_choice(&m, host_clock.as_ref(), assumed_u95_ppm);
    eprintln!("tickproof: recorder calibration: {}", choice.reason);
    let req = MeasureRequest {
        id: m.id,
        recordings: files.iter().map(|(p, f)| (p.code().to_string(), f.clone())).collect(),
        policy: Some(name),
        technician: m.technician,
        recorder: choice.recorder,
        recorder_reason: Some(choice.reason),
        letterhead: Some(m.letterhead),
    };
    match claim::measure_claim(s, &Pipeline, &req, m.key.as_ref()) {
        Ok(r) => {
            let _ = std::fs::remove_dir_all(&dir);
            Ok(r)
        }
        Err(e) => {
            let f = claim_failure(e);
            Err(Failure::new(f.code, format!("{} (the recordings are kept in {})", f.message, dir.display())))
        }
    }
}

/// The calibration of a live claim: `--recorder-ppm` always wins; else the smallest u95 of the
/// device's profile, the host clock over the whole protocol and the policy's assumed u95.
fn live_choice(
    m: &LiveMeasure,
    host_clock: Option<&crate::calibration::HostClockRun>,
    assumed_u95_ppm: f64,
) -> crate::calibration::RecorderChoice {
    let (command_line, profile) =
        if m.explicit { (m.recorder.clone(), None) } else { (None, m.recorder.clone()) };
    crate::cli::listen::recorder::choose(&m.listen, command_line, profile, host_clock, assumed_u95_ppm)
}
