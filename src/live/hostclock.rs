//! The host-clock method during live capture: each audio callback (or replay block) stamps the
//! frames delivered so far with a host clock ([`Stamper`], on the producer side, wait-free and
//! allocation-free), the consumer loop drains the stamps into a
//! [`HostClockEstimator`] ([`StampLog`]), and the end of the run gives a [`HostClockRun`] that
//! [`crate::calibration::choose_recorder`] weighs against the other calibrations.
//!
//! The clock is behind [`HostClock`]. A sound card is stamped with [`SystemClock`]: the
//! monotonic clock (`CLOCK_MONOTONIC` on Linux), whose rate the kernel disciplines with NTP's
//! frequency correction like the system clock's but which is never stepped; whether the system
//! clock is synchronised is asked at the start and at the end of the run
//! ([`crate::calibration::host_clock_sync`]). A replay runs as fast as the analysis goes (or at
//! any `--speed`), so the real clock says nothing about the recording's sample clock and is
//! never used for one: a replay has no host clock unless given a [`SyntheticClock`], which
//! ticks as if the recorder ran a stated ppm fast (a test aid, `--replay-host-clock-ppm`).
use crate::calibration::{
    HostClockCapture, HostClockConfig, HostClockEstimator, HostClockRun, HostSync, HostSyncStatus,
};
use std::sync::Arc;
use std::time::Instant;

/// Stamps the ring holds between two drains (about 40 s of 10 ms callbacks); a stamp that does
/// not fit is dropped, which the estimator's per-window minimum does not miss.
pub const STAMP_CAPACITY: usize = 4096;

/// A host clock to stamp delivered frames with.
pub trait HostClock: Send + Sync {
    /// The host time, seconds (any origin), now that `delivered_frames` frames have been
    /// delivered in total. Called in the audio callback: must not block or allocate.
    fn now_s(&self, delivered_frames: u64) -> f64;
    /// Whether the clock is synchronised to a time source, and how that is known.
    fn sync(&self) -> HostSyncStatus;
    /// The clock in words (`the system clock`).
    fn words(&self) -> String;
}

/// The computer's clock: monotonic time since the run started, rate-disciplined by NTP.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HostClock for SystemClock {
    fn now_s(&self, _: u64) -> f64 {
        self.origin.elapsed().as_secs_f64()
    }
    fn sync(&self) -> HostSyncStatus {
        crate::calibration::host_clock_sync()
    }
    fn words(&self) -> String {
        "the system clock".into()
    }
}

/// A made-up host clock for a replay: it reads the true time at which a recorder `ppm` fast
/// would have delivered the frames, plus a callback delay of 0.5 ms and an exponential part of
/// mean 1 ms drawn from the frame count (deterministic, so a replay gives the same figure every
/// time). `synchronised` is what it reports about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticClock {
    /// Nominal sample rate, Hz.
    pub rate_hz: u32,
    /// How fast the modelled recorder runs, ppm (+ = fast).
    pub ppm: f64,
    /// Whether it says it is synchronised.
    pub synchronised: bool,
}

/// A uniform number in (0, 1) from `x` (SplitMix64's finaliser).
fn unit(x: u64) -> f64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

impl HostClock for SyntheticClock {
    fn now_s(&self, delivered_frames: u64) -> f64 {
        let true_rate = self.rate_hz.max(1) as f64 * (1.0 + self.ppm * 1e-6);
        let delay = 0.0005 - 0.001 * unit(delivered_frames).ln();
        1.79e9 + delivered_frames as f64 / true_rate + delay
    }
    fn sync(&self) -> HostSyncStatus {
        let (state, detail) = if self.synchronised {
            (HostSync::Synchronised, "marked synchronised by --replay-host-clock-ppm")
        } else {
            (HostSync::NotSynchronised, "marked unsynchronised by --replay-host-clock-unsynchronised")
        };
        HostSyncStatus { state, source: "synthetic".into(), detail: detail.into() }
    }
    fn words(&self) -> String {
        format!("the host clock of a replay (synthetic: the recorder modelled {:+} ppm fast)", self.ppm)
    }
}

/// The producer side: stamps the frames delivered so far after each callback or block.
pub struct Stamper {
    clock: Arc<dyn HostClock>,
    tx: rtrb::Producer<(f64, u64)>,
    delivered: u64,
}

impl Stamper {
    /// `frames` more frames were delivered (kept or dropped by the ring: the device delivered
    /// them either way). Wait-free, allocates nothing: safe in an audio callback.
    pub fn delivered(&mut self, frames: usize) {
        self.delivered += frames as u64;
        let _ = self.tx.push((self.clock.now_s(self.delivered), self.delivered));
    }
}

/// The consumer side: the estimator fed from the stamps, and the clock's synchronisation at
/// the start of the run.
pub struct StampLog {
    rx: rtrb::Consumer<(f64, u64)>,
    estimator: HostClockEstimator,
    clock: Arc<dyn HostClock>,
    sync_at_start: HostSyncStatus,
}

/// A stamper and its log for a stream of nominal rate `rate_hz` (the clock's synchronisation
/// is asked now, and again by [`StampLog::finish`]).
pub fn stamps(clock: Arc<dyn HostClock>, rate_hz: u32) -> (Stamper, StampLog) {
    let (tx, rx) = rtrb::RingBuffer::new(STAMP_CAPACITY);
    let sync_at_start = clock.sync();
    let estimator = HostClockEstimator::new(rate_hz, HostClockConfig::default());
    (Stamper { clock: clock.clone(), tx, delivered: 0 }, StampLog { rx, estimator, clock, sync_at_start })
}

impl StampLog {
    /// Moves the stamps waiting into the estimator (every turn of the consumer loop).
    pub fn drain(&mut self) {
        while let Ok((t, frames)) = self.rx.pop() {
            self.estimator.push(t, frames);
        }
    }

    /// The run's result: the estimate, and the synchronisation (the worse of the start and the
    /// end: a clock that lost or gained its synchronisation during the run is not trusted).
    pub fn finish(mut self) -> HostClockRun {
        self.drain();
        let (start, end) = (self.sync_at_start, self.clock.sync());
        let sync = match (start.state, end.state) {
            (HostSync::Synchronised, HostSync::Synchronised) => end,
            (HostSync::Synchronised, _) => {
                HostSyncStatus { detail: format!("{} at the end of the capture", end.detail), ..end }
            }
            _ => HostSyncStatus { detail: format!("{} at the start of the capture", start.detail), ..start },
        };
        let capture = HostClockCapture { clock: self.clock.words(), sync, segment: self.estimator.segment() };
        HostClockRun::pooled(vec![capture], self.estimator.config()).expect("one capture")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(clock: SyntheticClock, seconds: u64) -> HostClockRun {
        let fs = clock.rate_hz;
        let (mut stamper, mut log) = stamps(Arc::new(clock), fs);
        for _ in 0..seconds * 100 {
            stamper.delivered(fs as usize / 100);
            log.drain();
        }
        log.finish()
    }

    #[test]
    fn a_synthetic_clock_is_read_back_as_the_recorder_error_it_models() {
        let run = drive(SyntheticClock { rate_hz: 22_050, ppm: 12.0, synchronised: true }, 300);
        let e = run.estimate.clone().unwrap();
        assert!((e.recorder_ppm.value - 12.0).abs() < 0.5 && e.recorder_ppm.covers(12.0), "{e:?}");
        assert!((e.duration_s - 299.3).abs() < 0.1, "{e:?}");
        assert_eq!(run.sync.state, HostSync::Synchronised);
        let source = run.recorder().unwrap().source;
        assert!(source.contains("over 299 s"), "{source}"); // 30 000 blocks of 220 frames
    }

    #[test]
    fn an_unsynchronised_synthetic_clock_says_so() {
        let run = drive(SyntheticClock { rate_hz: 8_000, ppm: -30.0, synchronised: false }, 20);
        assert_eq!(run.sync.state, HostSync::NotSynchronised);
        assert!(run.recorder().unwrap_err().contains("is not synchronised"));
    }

    #[test]
    fn stamps_beyond_the_ring_are_dropped_not_blocked_on() {
        let clock = SyntheticClock { rate_hz: 8_000, ppm: 0.0, synchronised: true };
        let (mut stamper, log) = stamps(Arc::new(clock), 8_000);
        for _ in 0..STAMP_CAPACITY + 10 {
            stamper.delivered(80);
        }
        assert_eq!(log.finish().estimate.map(|e| e.readings), Some(STAMP_CAPACITY as u64));
    }
}
