//! The bounded single-producer/single-consumer sample ring between the audio callback and the
//! analysis.
//!
//! Built on `rtrb` (a wait-free SPSC ring, well kept and small) rather than hand-written
//! atomics. The producer side is what the audio callback holds: [`RingProducer::push_frames`]
//! copies (and converts) samples in with no allocation and no lock, and counts every sample it
//! had to drop because the ring was full (an over-run) in a shared atomic counter that the
//! consumer side reads and shows. Nothing is ever dropped silently.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A sample type the callback may deliver, converted to `f32` in `[-1, 1]`.
pub trait ToF32: Copy {
    /// The sample as `f32` in `[-1, 1]`.
    fn to_f32(self) -> f32;
}

impl ToF32 for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
}

impl ToF32 for i16 {
    #[inline]
    fn to_f32(self) -> f32 {
        self as f32 / 32768.0
    }
}

impl ToF32 for u16 {
    #[inline]
    fn to_f32(self) -> f32 {
        (self as f32 - 32768.0) / 32768.0
    }
}

/// Counters shared by both ends of the ring.
#[derive(Debug, Default)]
pub struct RingStats {
    overrun_samples: AtomicU64,
    overrun_events: AtomicU64,
    pushed_samples: AtomicU64,
}

impl RingStats {
    /// Samples dropped because the ring was full.
    pub fn overrun_samples(&self) -> u64 {
        self.overrun_samples.load(Ordering::Relaxed)
    }
    /// Callbacks that had to drop samples.
    pub fn overrun_events(&self) -> u64 {
        self.overrun_events.load(Ordering::Relaxed)
    }
    /// Samples written into the ring (not counting dropped ones).
    pub fn pushed_samples(&self) -> u64 {
        self.pushed_samples.load(Ordering::Relaxed)
    }
}

/// The writing end (the audio callback's).
pub struct RingProducer {
    inner: rtrb::Producer<f32>,
    stats: Arc<RingStats>,
}

/// The reading end (the analysis thread's).
pub struct RingConsumer {
    inner: rtrb::Consumer<f32>,
    stats: Arc<RingStats>,
}

/// A ring holding up to `capacity` mono samples.
///
/// # Panics
/// When `capacity` is 0 (a programming mistake).
pub fn ring(capacity: usize) -> (RingProducer, RingConsumer) {
    assert!(capacity > 0, "ring capacity must be positive");
    let (p, c) = rtrb::RingBuffer::new(capacity);
    let stats = Arc::new(RingStats::default());
    (RingProducer { inner: p, stats: stats.clone() }, RingConsumer { inner: c, stats })
}

impl RingProducer {
    /// Copies channel `channel` of the interleaved frames `data` (`channels` per frame) into the
    /// ring, converting to `f32`. What does not fit is dropped and counted as an over-run.
    /// Returns the samples written. Allocates nothing, takes no lock: safe in an audio callback.
    pub fn push_frames<T: ToF32>(&mut self, data: &[T], channels: usize, channel: usize) -> usize {
        let channels = channels.max(1);
        let frames = data.len() / channels;
        let n = frames.min(self.inner.slots());
        if n < frames {
            self.stats.overrun_samples.fetch_add((frames - n) as u64, Ordering::Relaxed);
            self.stats.overrun_events.fetch_add(1, Ordering::Relaxed);
        }
        if n > 0 {
            // `slots()` said n are free and only this end writes, so this cannot fail.
            if let Ok(chunk) = self.inner.write_chunk_uninit(n) {
                let it = data.chunks_exact(channels).map(|f| f[channel.min(channels - 1)].to_f32());
                chunk.fill_from_iter(it);
            }
            self.stats.pushed_samples.fetch_add(n as u64, Ordering::Relaxed);
        }
        n
    }

    /// Free room, in samples.
    pub fn slots(&self) -> usize {
        self.inner.slots()
    }

    /// The shared counters.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.stats
    }
}

impl RingConsumer {
    /// Moves up to `out.len()` samples out of the ring into `out`; returns how many.
    pub fn pop_into(&mut self, out: &mut [f32]) -> usize {
        let n = out.len().min(self.inner.slots());
        if n == 0 {
            return 0;
        }
        match self.inner.read_chunk(n) {
            Ok(chunk) => {
                let (a, b) = chunk.as_slices();
                out[..a.len()].copy_from_slice(a);
                out[a.len()..a.len() + b.len()].copy_from_slice(b);
                chunk.commit_all();
                n
            }
            Err(_) => 0,
        }
    }

    /// Samples waiting to be read.
    pub fn available(&self) -> usize {
        self.inner.slots()
    }

    /// True when the producer is gone (the stream ended); samples may still be waiting.
    pub fn is_abandoned(&self) -> bool {
        self.inner.is_abandoned()
    }

    /// The shared counters.
    pub fn stats(&self) -> &Arc<RingStats> {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_come_out_in_order_and_converted() {
        let (mut p, mut c) = ring(8);
        assert_eq!(p.push_frames(&[0i16, 16384, -32768], 1, 0), 3);
        assert_eq!(p.push_frames(&[0.5f32, 0.25], 1, 0), 2);
        assert_eq!(p.push_frames(&[32768u16], 1, 0), 1);
        let mut out = [9.0f32; 8];
        assert_eq!(c.pop_into(&mut out), 6);
        assert_eq!(&out[..6], &[0.0, 0.5, -1.0, 0.5, 0.25, 0.0]);
        assert_eq!(p.stats().overrun_samples(), 0);
    }

    #[test]
    fn one_channel_is_taken_from_interleaved_frames() {
        let (mut p, mut c) = ring(8);
        assert_eq!(p.push_frames(&[1.0f32, -1.0, 0.5, -0.5], 2, 1), 2);
        let mut out = [0.0f32; 4];
        assert_eq!(c.pop_into(&mut out), 2);
        assert_eq!(&out[..2], &[-1.0, -0.5]);
    }

    #[test]
    fn a_full_ring_counts_what_it_drops() {
        let (mut p, mut c) = ring(4);
        assert_eq!(p.push_frames(&[0.1f32; 6], 1, 0), 4);
        assert_eq!(c.stats().overrun_samples(), 2);
        assert_eq!(c.stats().overrun_events(), 1);
        let mut out = [0.0f32; 3];
        assert_eq!(c.pop_into(&mut out), 3);
        // Wrap-around: two slices on the way out.
        assert_eq!(p.push_frames(&[0.2f32; 3], 1, 0), 3);
        let mut out = [0.0f32; 8];
        assert_eq!(c.pop_into(&mut out), 4);
        assert_eq!(&out[..4], &[0.1, 0.2, 0.2, 0.2]);
        assert_eq!(c.stats().pushed_samples(), 7);
    }

    #[test]
    fn a_dropped_producer_is_seen_as_the_end() {
        let (p, c) = ring(4);
        assert!(!c.is_abandoned());
        drop(p);
        assert!(c.is_abandoned());
    }
}
