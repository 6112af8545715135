//! `doctor --live`: a few seconds from the microphone, through the same source layer `listen`
//! uses ([`crate::live::capture`] into the capture ring), examined like a recording.
use super::{DoctorError, Input};
use crate::live::{capture, ring};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds captured unless asked otherwise.
pub const DEFAULT_LIVE_SECONDS: f64 = 15.0;
/// Seconds the device may stay silent (no samples at all) before the capture is given up.
pub const NO_AUDIO_TIMEOUT_S: f64 = 5.0;

/// Captures `seconds` of channel `channel` of the input `device` (an id or part of a name
/// from `tickproof devices`; `None` for the default input), calling `started` once the device
/// is capturing. Returns the audio and the device's name; no input device at all, or one that
/// is absent, busy or gives no audio, is [`DoctorError::Device`].
pub fn capture(
    device: Option<&str>,
    channel: u16,
    seconds: f64,
    started: impl FnOnce(&str),
) -> Result<(Input, String), DoctorError> {
    super::input::check_seconds(seconds)?;
    let err = |e: crate::live::LiveError| match e {
        crate::live::LiveError::Config(m) => DoctorError::Config(m),
        other => DoctorError::Device(other.to_string().trim_start_matches("audio device: ").to_string()),
    };
    let chosen = capture::choose(device).map_err(err)?;
    let fs = chosen.sample_rate_hz;
    let wanted = (seconds * fs as f64).ceil() as usize;
    let (producer, mut consumer) = ring((4.0 * fs as f64) as usize);
    let failure = Arc::new(Mutex::new(None::<String>));
    let stream = capture::start(&chosen, channel, producer, failure.clone(), None).map_err(err)?;
    started(&chosen.name);
    let mut samples = Vec::with_capacity(wanted);
    let mut block = vec![0.0f32; 4096];
    let mut last_audio = Instant::now();
    let limit = Duration::from_secs_f64(NO_AUDIO_TIMEOUT_S);
    while samples.len() < wanted {
        if let Some(m) = failure.lock().ok().and_then(|g| g.clone()) {
            return Err(DoctorError::Device(m));
        }
        let n = consumer.pop_into(&mut block);
        samples.extend_from_slice(&block[..n.min(wanted - samples.len())]);
        if n > 0 {
            last_audio = Instant::now();
        } else {
            if last_audio.elapsed() > limit {
                return Err(DoctorError::Device(format!(
                    "{}: no audio for {:.0} s (busy, or stopped by the system?)",
                    chosen.name,
                    limit.as_secs_f64()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    drop(stream);
    let input =
        Input { samples, sample_rate_hz: fs, channels: 1, source: chosen.name.clone(), truncation: None };
    Ok((input, chosen.name.clone()))
}
