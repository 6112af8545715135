//! Feeds a recording through the live path: a thread reads it block by block and writes it
//! into the same ring a sound card's callback would, paced at `speed` times real time (or as
//! fast as the analysis takes it with speed 0, never dropping), so the whole live path can be
//! tested without hardware.
use super::hostclock::Stamper;
use super::ring::RingProducer;
use crate::source::{self, channel::MonoBlocks};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a replay will deliver.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayInfo {
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// The channel replayed (the one where the ticks are strongest).
    pub channel: u16,
    /// Channels in the file.
    pub channels: u16,
}

/// Opens `path` and picks its channel (read again by [`spawn`]).
pub fn probe(path: &Path) -> Result<ReplayInfo, source::Error> {
    let mut src = source::open(path)?;
    let info = src.info().clone();
    let channel =
        if info.channels > 1 { source::channel::choose_channel(src.as_mut(), 20.0)?.channel } else { 0 };
    Ok(ReplayInfo { sample_rate_hz: info.sample_rate_hz, channel, channels: info.channels })
}

/// Starts the replay thread. It ends (dropping the producer, which the consumer sees as the
/// end) at the end of the file, when `stop` is set, or on a read error (put in `error`).
pub fn spawn(
    path: PathBuf,
    info: ReplayInfo,
    speed: f64,
    producer: RingProducer,
    stop: Arc<AtomicBool>,
    error: Arc<Mutex<Option<String>>>,
) -> JoinHandle<()> {
    spawn_stamped(path, info, speed, producer, stop, error, None)
}

/// [`spawn`], stamping each block with `stamper`'s host clock once it is in the ring (a
/// replay's only host clock is a synthetic one: see [`super::hostclock`]).
pub fn spawn_stamped(
    path: PathBuf,
    info: ReplayInfo,
    speed: f64,
    mut producer: RingProducer,
    stop: Arc<AtomicBool>,
    error: Arc<Mutex<Option<String>>>,
    mut stamper: Option<Stamper>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let src = match source::open(&path) {
            Ok(s) => s,
            Err(e) => {
                *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                return;
            }
        };
        let fs = info.sample_rate_hz as f64;
        // ~10 ms blocks, like a sound card's periods.
        let block = ((fs / 100.0) as usize).max(64);
        let mut blocks = MonoBlocks::new(src, info.channel, block);
        let t0 = Instant::now();
        let mut sent = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let b = match blocks.next_block() {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    break;
                }
            };
            if speed > 0.0 {
                let due = Duration::from_secs_f64(sent as f64 / (fs * speed));
                if let Some(wait) = due.checked_sub(t0.elapsed()) {
                    std::thread::sleep(wait);
                }
                producer.push_frames(b, 1, 0);
            } else {
                let mut rest = b;
                while !rest.is_empty() && !stop.load(Ordering::Relaxed) {
                    let n = producer.push_frames(&rest[..rest.len().min(producer.slots())], 1, 0);
                    rest = &rest[n..];
                    if !rest.is_empty() {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
            sent += b.len() as u64;
            if let Some(s) = stamper.as_mut() {
                s.delivered(b.len());
            }
        }
    })
}
