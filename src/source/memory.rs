//! An in-memory source, for tests, synthesis round trips and the live ring buffer's replay.
use super::{AudioInfo, BlockSource, Error};

/// Interleaved samples held in memory.
#[derive(Debug, Clone)]
pub struct MemorySource {
    info: AudioInfo,
    samples: Vec<f32>,
    pos: usize,
}

impl MemorySource {
    /// A source over interleaved `samples` with `channels` per frame.
    pub fn new(samples: Vec<f32>, sample_rate_hz: u32, channels: u16) -> Self {
        let frames = (samples.len() / channels.max(1) as usize) as u64;
        MemorySource {
            info: AudioInfo { sample_rate_hz, channels, frames: Some(frames), encoding: "memory f32".into() },
            samples,
            pos: 0,
        }
    }
}

impl BlockSource for MemorySource {
    fn info(&self) -> &AudioInfo {
        &self.info
    }
    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let ch = self.info.channels as usize;
        let frames = (out.len() / ch).min((self.samples.len() - self.pos) / ch);
        let n = frames * ch;
        out[..n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
        self.pos += n;
        Ok(frames)
    }
    fn rewind(&mut self) -> Result<(), Error> {
        self.pos = 0;
        Ok(())
    }
}
