//! Which channel to listen to, and a mono view of it in blocks.
//!
//! A stereo recording of a watch usually has the microphone closer to the movement on one
//! side, or one channel dead (an unplugged second input). Mixing would add the quiet channel's
//! noise to the good one's ticks, so [`choose_channel`] picks the single channel where the ticks
//! stand out most, and [`MonoBlocks`] then reads that channel alone.
use super::{AudioInfo, BlockSource, Error};

/// The channel [`choose_channel`] picked, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelChoice {
    /// Index of the chosen channel (0 = first/left).
    pub channel: u16,
    /// Tick score of every channel, in dB, indexed by channel: the typical (median over 1 s
    /// windows) loudest 0.5 ms burst of the high-passed signal, over the channel's median
    /// 0.5 ms energy. About 3-5 dB for steady noise, tens of dB for clear ticks, exactly 0 dB
    /// for a silent or constant channel.
    pub scores_db: Vec<f32>,
}

/// Envelope block length, seconds (a tick's sub-events last about a millisecond).
const BLOCK_S: f64 = 0.0005;
/// Window over which the loudest block is taken, seconds: every running watch ticks at least
/// once a second (3600 bph and up, quartz at 1 Hz).
const WINDOW_S: f64 = 1.0;
/// Energy floor in dB re full scale: quieter blocks count as digital silence. Keeps silence
/// from scoring (0 dB over 0 dB) while a noise-gated ticking channel still scores high.
const FLOOR_DB: f32 = -120.0;
/// Histogram resolution of the envelope, dB per bin.
const BIN_DB: f32 = 0.05;
/// Top of the histogram: the first difference of a full-scale signal is at most 2, so its mean
/// square is at most 4 (+6 dB).
const TOP_DB: f32 = 10.0;
const BINS: usize = ((TOP_DB - FLOOR_DB) / BIN_DB) as usize + 1;
/// Frames read per call while scanning.
const SCAN_FRAMES: usize = 4096;

/// Picks the channel whose ticks are strongest and most impulsive.
///
/// Scans at most `max_seconds` from the first frame (less if the recording is shorter; nothing
/// if `max_seconds` is not a positive number), then rewinds `src` to frame 0. For each channel
/// the signal is high-passed by its first difference (ticks are broadband, hum and rumble are
/// not) and its energy taken in blocks of 0.5 ms. The loudest block of each 1 s window stands
/// for that second's tick; the score is the median of those maxima over the median of all
/// blocks, in dB (see [`ChannelChoice::scores_db`]).
///
/// Why maxima per window rather than a high percentile of all blocks: a quartz watch clicks for
/// a few milliseconds once a second, so its ticks fill well under 1% of the blocks and a
/// percentile would have to be tuned to the tick length; the per-second maximum does not care
/// how long a tick rings. The median over windows ignores a knock or two. Steady noise scores
/// about 3-5 dB; a silent or constant (DC) channel scores exactly 0 dB and so never beats a
/// channel with ticks. Ties go to the lower channel index. A watch ticking less than once a
/// second (a quartz battery end-of-life indicator) leaves most windows tickless and scores
/// little higher than noise; the choice is then weak, as its score shows.
///
/// Memory is two fixed histograms per channel whatever `max_seconds` is.
pub fn choose_channel(src: &mut dyn BlockSource, max_seconds: f64) -> Result<ChannelChoice, Error> {
    let info = src.info().clone();
    let ch = info.channels.max(1) as usize;
    let block = ((BLOCK_S * info.sample_rate_hz as f64).round() as usize).max(1);
    let blocks_per_window = ((WINDOW_S / BLOCK_S).round() as usize).max(1);
    let max_frames: u64 = if max_seconds.is_finite() && max_seconds > 0.0 {
        (max_seconds * info.sample_rate_hz as f64).min(u64::MAX as f64) as u64
    } else {
        0
    };

    src.rewind()?;
    let mut buf = vec![0.0f32; SCAN_FRAMES * ch];
    // Per channel: histogram of block energies, histogram of per-window maxima.
    let mut blocks_hist = vec![0u32; BINS * ch];
    let mut window_hist = vec![0u32; BINS * ch];
    let mut window_max = vec![0usize; ch];
    let mut prev = vec![0.0f32; ch];
    let mut energy = vec![0.0f64; ch];
    let mut in_block = 0usize;
    let mut in_window = 0usize;
    let mut windows = 0usize;
    let mut first = true;
    let mut scanned = 0u64;
    while scanned < max_frames {
        let want = (max_frames - scanned).min(SCAN_FRAMES as u64) as usize;
        let n = src.read_frames(&mut buf[..want * ch])?;
        if n == 0 {
            break;
        }
        for frame in buf[..n * ch].chunks_exact(ch) {
            if first {
                // No difference for the very first frame: start from it, not from zero.
                prev.copy_from_slice(frame);
                first = false;
            }
            for ((e, p), &x) in energy.iter_mut().zip(prev.iter_mut()).zip(frame) {
                let d = (x - *p) as f64;
                *e += d * d;
                *p = x;
            }
            in_block += 1;
            if in_block < block {
                continue;
            }
            in_block = 0;
            for c in 0..ch {
                let bin = bin_of(energy[c] / block as f64);
                blocks_hist[c * BINS + bin] += 1;
                window_max[c] = window_max[c].max(bin);
                energy[c] = 0.0;
            }
            in_window += 1;
            if in_window == blocks_per_window {
                for c in 0..ch {
                    window_hist[c * BINS + window_max[c]] += 1;
                    window_max[c] = 0;
                }
                in_window = 0;
                windows += 1;
            }
        }
        scanned += n as u64;
    }
    src.rewind()?;
    if windows == 0 && in_window > 0 {
        // Shorter than one window: the partial one is all there is.
        for c in 0..ch {
            window_hist[c * BINS + window_max[c]] += 1;
        }
    }

    let scores_db: Vec<f32> = (0..ch)
        .map(|c| {
            let range = c * BINS..(c + 1) * BINS;
            percentile_db(&window_hist[range.clone()], 0.5) - percentile_db(&blocks_hist[range], 0.5)
        })
        .collect();
    let mut best = 0;
    for (c, &s) in scores_db.iter().enumerate() {
        if s > scores_db[best] {
            best = c;
        }
    }
    Ok(ChannelChoice { channel: best as u16, scores_db })
}

/// Histogram bin of a mean-square energy (bin 0 holds everything at or below the floor).
fn bin_of(mean_square: f64) -> usize {
    let db = 10.0 * mean_square.max(1e-30).log10() as f32;
    (((db - FLOOR_DB) / BIN_DB).max(0.0) as usize).min(BINS - 1)
}

/// The `q`-quantile of a histogram, in dB (the floor when it is empty).
fn percentile_db(hist: &[u32], q: f64) -> f32 {
    let total: u64 = hist.iter().map(|&n| n as u64).sum();
    if total == 0 {
        return FLOOR_DB;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0u64;
    for (i, &n) in hist.iter().enumerate() {
        seen += n as u64;
        if seen >= rank {
            return FLOOR_DB + i as f32 * BIN_DB;
        }
    }
    FLOOR_DB + (hist.len() - 1) as f32 * BIN_DB
}

/// Consecutive mono blocks of one channel of a [`BlockSource`].
///
/// Buffers are allocated once in [`MonoBlocks::new`]; [`MonoBlocks::next_block`] allocates
/// nothing. Mono sources are read straight into the output block (no de-interleaving copy).
pub struct MonoBlocks {
    src: Box<dyn BlockSource>,
    channel: usize,
    channels: usize,
    block_frames: usize,
    /// Interleaved frames as read (empty for mono sources).
    interleaved: Vec<f32>,
    /// The chosen channel of the current block.
    mono: Vec<f32>,
    frames_read: u64,
}

impl MonoBlocks {
    /// Reads `channel` of `src` in blocks of `block_frames` frames (the last may be shorter).
    ///
    /// # Panics
    /// When `channel` is not a channel of `src` or `block_frames` is 0: both are the caller's
    /// mistake, not the file's ([`choose_channel`] only returns valid channels).
    pub fn new(src: Box<dyn BlockSource>, channel: u16, block_frames: usize) -> Self {
        let channels = src.info().channels as usize;
        assert!((channel as usize) < channels, "channel {channel} of a {channels}-channel source");
        assert!(block_frames > 0, "block_frames must be positive");
        let interleaved = if channels == 1 { Vec::new() } else { vec![0.0; block_frames * channels] };
        MonoBlocks {
            src,
            channel: channel as usize,
            channels,
            block_frames,
            interleaved,
            mono: vec![0.0; block_frames],
            frames_read: 0,
        }
    }

    /// The next block of the chosen channel: `block_frames` samples, fewer only at the end,
    /// `None` after the last.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, Error> {
        let ch = self.channels;
        let mut filled = 0;
        if ch == 1 {
            while filled < self.block_frames {
                let n = self.src.read_frames(&mut self.mono[filled..])?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
        } else {
            while filled < self.block_frames {
                let n = self.src.read_frames(&mut self.interleaved[filled * ch..])?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            for (m, frame) in self.mono.iter_mut().zip(self.interleaved[..filled * ch].chunks_exact(ch)) {
                *m = frame[self.channel];
            }
        }
        self.frames_read += filled as u64;
        Ok(if filled == 0 { None } else { Some(&self.mono[..filled]) })
    }

    /// Goes back to frame 0.
    pub fn rewind(&mut self) -> Result<(), Error> {
        self.src.rewind()?;
        self.frames_read = 0;
        Ok(())
    }

    /// Gives the source back (for a second analysis of the same audio).
    pub fn into_inner(self) -> Box<dyn BlockSource> {
        self.src
    }

    /// Non-finite samples the underlying source replaced (see
    /// [`BlockSource::nonfinite_samples`]).
    pub fn nonfinite_samples(&self) -> u64 {
        self.src.nonfinite_samples()
    }

    /// What the underlying source lacks, when it was cut (see [`BlockSource::truncation`]).
    pub fn truncation(&self) -> Option<String> {
        self.src.truncation()
    }

    /// The underlying source's format, rate and length.
    pub fn info(&self) -> &AudioInfo {
        self.src.info()
    }

    /// The channel being read.
    pub fn channel(&self) -> u16 {
        self.channel as u16
    }

    /// Frames returned since the start (or the last rewind): the index of the next block's
    /// first sample.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_of_a_known_histogram() {
        let mut h = vec![0u32; BINS];
        h[10] = 50;
        h[20] = 49;
        h[30] = 1;
        assert_eq!(percentile_db(&h, 0.5), FLOOR_DB + 10.0 * BIN_DB);
        assert_eq!(percentile_db(&h, 0.99), FLOOR_DB + 20.0 * BIN_DB);
        assert_eq!(percentile_db(&h, 0.995), FLOOR_DB + 30.0 * BIN_DB);
    }

    #[test]
    fn silence_lands_in_the_floor_bin_and_full_scale_below_the_top() {
        assert_eq!(bin_of(0.0), 0);
        assert!(bin_of(4.0) < BINS - 1);
    }
}
