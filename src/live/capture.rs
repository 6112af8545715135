//! Sound-card input through cpal (feature `capture`). The data callback only converts and
//! copies samples into the ring ([`RingProducer::push_frames`]): no allocation, no lock. The
//! error callback (a device unplugged mid-run, say) puts a one-line message where the consumer
//! loop sees it, so the recording is finalised and the run ends with the device exit code.
use super::hostclock::Stamper;
use super::recorder::StoredFormat;
use super::ring::RingProducer;
use super::LiveError;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// Sample rates accepted, Hz.
pub const RATE_RANGE: std::ops::RangeInclusive<u32> = 22_050..=192_000;
/// Rates tried in order of preference when a device offers them.
pub const PREFERRED_RATES: [u32; 6] = [48_000, 44_100, 96_000, 88_200, 192_000, 32_000];

/// One supported configuration range of an input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigRange {
    /// Channels.
    pub channels: u16,
    /// Lowest sample rate, Hz.
    pub min_rate_hz: u32,
    /// Highest sample rate, Hz.
    pub max_rate_hz: u32,
    /// Sample format (i16, f32, ...).
    pub format: String,
}

/// An input device as `tickproof devices` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInfo {
    /// Index to pass as `--device ID`.
    pub id: usize,
    /// Name to pass as `--device NAME`.
    pub name: String,
    /// True for the system's default input.
    pub is_default: bool,
    /// What it supports (empty when it could not be asked, see `error`).
    pub configs: Vec<ConfigRange>,
    /// Why its configurations could not be listed (busy, no permission...), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn dev_err(what: &str, e: impl std::fmt::Display) -> LiveError {
    LiveError::Device(format!("{what}: {e}"))
}

/// Lists the input devices of the default host.
pub fn list_inputs() -> Result<Vec<DeviceInfo>, LiveError> {
    quietly(list_inputs_loudly)
}

fn list_inputs_loudly() -> Result<Vec<DeviceInfo>, LiveError> {
    let host = cpal::default_host();
    let default_name = host.default_input_device().and_then(|d| d.name().ok());
    let devices = host.input_devices().map_err(|e| dev_err("cannot list input devices", e))?;
    let mut out = Vec::new();
    for (id, d) in devices.enumerate() {
        let name = d.name().unwrap_or_else(|_| format!("input {id}"));
        let (configs, error) = match d.supported_input_configs() {
            Ok(cs) => (
                cs.map(|c| ConfigRange {
                    channels: c.channels(),
                    min_rate_hz: c.min_sample_rate().0,
                    max_rate_hz: c.max_sample_rate().0,
                    format: c.sample_format().to_string(),
                })
                .collect(),
                None,
            ),
            Err(e) => (vec![], Some(e.to_string())),
        };
        out.push(DeviceInfo {
            id,
            is_default: default_name.as_deref() == Some(name.as_str()),
            name,
            configs,
            error,
        });
    }
    Ok(out)
}

/// The device and stream configuration chosen for a run.
pub struct Chosen {
    device: cpal::Device,
    config: cpal::StreamConfig,
    format: cpal::SampleFormat,
    /// The device's name.
    pub name: String,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// Channels the device delivers per frame.
    pub channels: u16,
}

impl std::fmt::Debug for Chosen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chosen").field("name", &self.name).field("rate", &self.sample_rate_hz).finish()
    }
}

impl Chosen {
    /// How the recording stores this device's samples losslessly.
    pub fn stored_format(&self) -> StoredFormat {
        match self.format {
            cpal::SampleFormat::I16 | cpal::SampleFormat::U16 => StoredFormat::I16,
            _ => StoredFormat::F32,
        }
    }
}

fn format_rank(f: cpal::SampleFormat) -> Option<u8> {
    match f {
        cpal::SampleFormat::I16 => Some(0),
        cpal::SampleFormat::F32 => Some(1),
        cpal::SampleFormat::U16 => Some(2),
        _ => None,
    }
}

/// Picks the input (`spec`: an id from `tickproof devices`, an exact name, or a unique part of
/// a name; `None` for the default) and a configuration: 48 kHz preferred, any rate in
/// [`RATE_RANGE`] accepted, i16/f32/u16 samples, the fewest channels.
pub fn choose(spec: Option<&str>) -> Result<Chosen, LiveError> {
    quietly(|| choose_loudly(spec))
}

/// No input at all: one line that says so and what to do instead.
fn no_input() -> LiveError {
    LiveError::Device(
        "no input found: no microphone or sound card is visible to this system \
         (see `tickproof devices`); a recording can be read instead (--replay FILE, analyze FILE)"
            .into(),
    )
}

fn choose_loudly(spec: Option<&str>) -> Result<Chosen, LiveError> {
    let host = cpal::default_host();
    if host.input_devices().map(|mut d| d.next().is_none()).unwrap_or(false) {
        return Err(no_input());
    }
    let device = match spec {
        None => host.default_input_device().ok_or_else(no_input)?,
        Some(s) => {
            let devices: Vec<cpal::Device> =
                host.input_devices().map_err(|e| dev_err("cannot list input devices", e))?.collect();
            let names: Vec<String> = devices.iter().map(|d| d.name().unwrap_or_default()).collect();
            let idx = if let Ok(i) = s.parse::<usize>() {
                (i < devices.len()).then_some(i)
            } else if let Some(i) = names.iter().position(|n| n == s) {
                Some(i)
            } else {
                let low = s.to_lowercase();
                let hits: Vec<usize> =
                    (0..names.len()).filter(|&i| names[i].to_lowercase().contains(&low)).collect();
                if hits.len() > 1 {
                    return Err(LiveError::Device(format!(
                        "input device {s:?} is ambiguous ({}); use an id from `tickproof devices`",
                        hits.iter().map(|&i| names[i].as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
                hits.first().copied()
            };
            let Some(i) = idx else {
                return Err(LiveError::Device(format!(
                    "no input device {s:?} ({} inputs); see `tickproof devices`",
                    devices.len()
                )));
            };
            devices.into_iter().nth(i).expect("index checked")
        }
    };
    let name = device.name().unwrap_or_else(|_| "input".into());
    let ranges: Vec<cpal::SupportedStreamConfigRange> = device
        .supported_input_configs()
        .map_err(|e| {
            dev_err(&format!("{name}: cannot ask what it supports (busy, unplugged, no permission?)"), e)
        })?
        .filter(|c| format_rank(c.sample_format()).is_some())
        .collect();
    let mut best: Option<(u32, (usize, u8, u16), cpal::SupportedStreamConfigRange)> = None;
    for c in &ranges {
        let (lo, hi) = (c.min_sample_rate().0, c.max_sample_rate().0);
        let rate = PREFERRED_RATES
            .iter()
            .position(|&r| (lo..=hi).contains(&r))
            .map(|p| (PREFERRED_RATES[p], p))
            .or_else(|| {
                let r = hi.min(*RATE_RANGE.end());
                (r >= lo && RATE_RANGE.contains(&r)).then_some((r, PREFERRED_RATES.len()))
            });
        let Some((rate, pref)) = rate else { continue };
        let key = (pref, format_rank(c.sample_format()).unwrap_or(9), c.channels());
        if best.as_ref().is_none_or(|b| key < b.1) {
            best = Some((rate, key, *c));
        }
    }
    let Some((rate, _, range)) = best else {
        return Err(LiveError::Device(format!(
            "{name}: offers no i16/f32/u16 input between 22.05 and 192 kHz"
        )));
    };
    let sc = range.with_sample_rate(cpal::SampleRate(rate));
    let format = sc.sample_format();
    let config: cpal::StreamConfig = sc.into();
    Ok(Chosen { name, sample_rate_hz: rate, channels: config.channels, config, format, device })
}

/// Starts capturing channel `channel` of `chosen` into `producer`. Device errors during the
/// run land in `error` (one line). With a `stamper`, each callback stamps the frames delivered
/// so far with the host clock (the host-clock calibration, [`super::hostclock`]).
pub fn start(
    chosen: &Chosen,
    channel: u16,
    producer: RingProducer,
    error: Arc<Mutex<Option<String>>>,
    stamper: Option<Stamper>,
) -> Result<cpal::Stream, LiveError> {
    quietly(|| start_loudly(chosen, channel, producer, error, stamper))
}

fn start_loudly(
    chosen: &Chosen,
    channel: u16,
    producer: RingProducer,
    error: Arc<Mutex<Option<String>>>,
    stamper: Option<Stamper>,
) -> Result<cpal::Stream, LiveError> {
    let channels = chosen.channels as usize;
    if channel as usize >= channels {
        return Err(LiveError::Config(format!(
            "{}: channel {channel} does not exist (the device gives {channels})",
            chosen.name
        )));
    }
    let ch = channel as usize;
    let name = chosen.name.clone();
    let on_error = move |e: cpal::StreamError| {
        let msg = match e {
            cpal::StreamError::DeviceNotAvailable => format!("{name}: the device was unplugged or went away"),
            other => format!("{name}: {other}"),
        };
        if let Ok(mut g) = error.lock() {
            g.get_or_insert(msg);
        }
    };
    let build = |e: cpal::BuildStreamError| {
        let what = match e {
            cpal::BuildStreamError::DeviceNotAvailable => {
                "the device is not available (unplugged or busy)".into()
            }
            other => other.to_string(),
        };
        LiveError::Device(format!("{}: cannot open for capture: {what}", chosen.name))
    };
    let stream = match chosen.format {
        cpal::SampleFormat::I16 => {
            let (mut p, mut st) = (producer, stamper);
            chosen.device.build_input_stream(
                &chosen.config,
                move |d: &[i16], _: &cpal::InputCallbackInfo| {
                    p.push_frames(d, channels, ch);
                    if let Some(s) = st.as_mut() {
                        s.delivered(d.len() / channels);
                    }
                },
                on_error,
                None,
            )
        }
        cpal::SampleFormat::U16 => {
            let (mut p, mut st) = (producer, stamper);
            chosen.device.build_input_stream(
                &chosen.config,
                move |d: &[u16], _: &cpal::InputCallbackInfo| {
                    p.push_frames(d, channels, ch);
                    if let Some(s) = st.as_mut() {
                        s.delivered(d.len() / channels);
                    }
                },
                on_error,
                None,
            )
        }
        _ => {
            let (mut p, mut st) = (producer, stamper);
            chosen.device.build_input_stream(
                &chosen.config,
                move |d: &[f32], _: &cpal::InputCallbackInfo| {
                    p.push_frames(d, channels, ch);
                    if let Some(s) = st.as_mut() {
                        s.delivered(d.len() / channels);
                    }
                },
                on_error,
                None,
            )
        }
    }
    .map_err(build)?;
    stream.play().map_err(|e| LiveError::Device(format!("{}: cannot start capture: {e}", chosen.name)))?;
    Ok(stream)
}

/// Runs `f` with the process's standard error sent to /dev/null, so that the sound system's
/// own library (ALSA prints a dozen lines when there is no card) says nothing; our errors are
/// returned, not printed, and said once afterwards. Standard error is restored whatever `f`
/// does (when it cannot be redirected, `f` simply runs).
#[cfg(unix)]
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    use std::os::fd::AsFd;
    let saved = nix::unistd::dup(std::io::stderr().as_fd()).ok();
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null").ok();
    let redirected = match (&saved, &null) {
        (Some(_), Some(n)) => nix::unistd::dup2_stderr(n).is_ok(),
        _ => false,
    };
    let out = f();
    if let (true, Some(s)) = (redirected, saved) {
        let _ = nix::unistd::dup2_stderr(s);
    }
    out
}

/// Runs `f` (standard error is left as it is off Unix).
#[cfg(not(unix))]
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    f()
}
