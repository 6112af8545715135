//! The beat rate decided by a whole recording: [`RateScan`], fed block by block.
use super::autocorr::Autocorrelator;
use super::{choose_rate, level_normalise_with, max_lag_for, NoLock, RateChoice, ENVELOPE_RATE_HZ};

/// Longest moving average of a [`RateScan`]'s high-pass (192 kHz needs 65 samples).
const MAX_WINDOW: usize = 80;
/// Samples a [`RateScan`] high-passes at a time.
const SCAN_CHUNK: usize = 1024;

/// Seconds of envelope per stretch of a [`RateScan`].
pub const SCAN_STRETCH_S: f64 = 12.0;

/// The beat rate decided by a whole recording, fed block by block with flat memory: the
/// envelope of every stretch of [`SCAN_STRETCH_S`] seconds is autocorrelated and normalised, and
/// the autocorrelations are averaged, so each stretch has the same say whatever its loudness
/// (a knock-filled or silent stretch cannot outvote the rest), and the rate is chosen once from
/// the average.
#[derive(Debug, Clone)]
pub struct RateScan {
    fs: f64,
    d: usize,
    // The high-pass: the moving average's window `w`. `work` holds the last `w` samples
    // processed, then up to a chunk of samples waiting; `diffs` the last `3` differences
    // `x[n] - x[n - w]`, then the chunk's; `state` the window sums of the last four samples
    // (a sample `n` in slot `n mod 4`: every chunk but the last is whole); `ys` the chunk's
    // high-passed samples.
    w: usize,
    work: Vec<f32>,
    diffs: Vec<f64>,
    state: [f64; 4],
    ys: Vec<f64>,
    // The high-passed samples of the envelope block being filled (up to `d`).
    block: Vec<f32>,
    stretch: Vec<f32>,
    stretch_len: usize,
    sum: Vec<f64>,
    weight: f64,
    max_lag: usize,
    silent: bool,
    autocorr: Autocorrelator,
    prefix: Vec<f64>,
}

impl RateScan {
    /// A scan of audio at `fs_hz`.
    pub fn new(fs_hz: f64) -> Self {
        let d = (fs_hz / ENVELOPE_RATE_HZ).round().max(1.0) as usize;
        let rate = fs_hz / d as f64;
        let stretch_len = (SCAN_STRETCH_S * rate) as usize;
        let max_lag = max_lag_for(&crate::measurement::STANDARD_BPH, rate);
        let w = (((fs_hz / 3000.0).round() as usize) | 1).clamp(3, MAX_WINDOW - 1);
        // Silence before the first sample: the history is zeros.
        let (mut work, mut diffs) = (vec![0.0f32; w], vec![0.0f64; 3]);
        work.reserve(SCAN_CHUNK);
        diffs.reserve(SCAN_CHUNK);
        RateScan {
            fs: fs_hz,
            d,
            w,
            work,
            diffs,
            state: [0.0; 4],
            ys: vec![0.0; SCAN_CHUNK],
            block: Vec::with_capacity(d),
            stretch: Vec::with_capacity(stretch_len),
            stretch_len,
            sum: vec![0.0; max_lag],
            weight: 0.0,
            max_lag,
            silent: true,
            autocorr: Autocorrelator::new(stretch_len, max_lag),
            prefix: Vec::with_capacity(stretch_len + 1),
        }
    }

    /// Feeds consecutive mono samples.
    ///
    /// The envelope here is of `x` less its moving average over about 1/3000 s (an odd number
    /// `w` of samples, centred): a high-pass of 12 dB per octave up to about 1.5 kHz (-10 dB
    /// there, -16 dB at 1 kHz, -28 dB at 500 Hz, -36 dB at 300 Hz) and nearly flat above, close
    /// to the Butterworth of [`super::Envelope::of`] where it matters and several times cheaper over
    /// every sample of a long recording. The window sums are four interleaved running sums and
    /// each envelope block's energy is summed in eight fixed lanes, so nothing waits on the
    /// sample before; samples are taken in whole chunks from the start of the stream, so the
    /// figures do not depend on how the blocks fed are cut.
    pub fn push(&mut self, x: &[f32]) {
        let mut rest = x;
        while !rest.is_empty() {
            let take = (self.w + SCAN_CHUNK - self.work.len()).min(rest.len());
            self.work.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.work.len() == self.w + SCAN_CHUNK {
                self.high_pass();
            }
        }
    }

    /// High-passes the samples waiting in `work` and adds them to the envelope.
    fn high_pass(&mut self) {
        let w = self.w;
        let c = self.work.len() - w;
        let half = (w - 1) / 2;
        let (x, old) = (&self.work[w..], &self.work[..c]);
        self.diffs.extend(x.iter().zip(old).map(|(&a, &b)| a as f64 - b as f64));
        // S[n] = S[n - 4] + the last four differences: four interleaved running sums in
        // registers, so that no sum waits on the one just before it.
        let ys = &mut self.ys[..c];
        let d = &self.diffs;
        let shifted = d[3..].iter().zip(&d[2..]).zip(d[1..].iter().zip(d));
        for (y, ((&a, &b), (&c, &e))) in ys.iter_mut().zip(shifted) {
            *y = ((a + b) + c) + e;
        }
        let mut st = self.state;
        let mut quads = ys.chunks_exact_mut(4);
        for q in &mut quads {
            for (s, y) in st.iter_mut().zip(q.iter_mut()) {
                *s += *y;
                *y = *s;
            }
        }
        for (s, y) in st.iter_mut().zip(quads.into_remainder()) {
            *s += *y;
            *y = *s;
        }
        self.state = st;
        // The centre of sample n's window is `half` samples before it.
        let inv_w = 1.0 / w as f64;
        for (y, &v) in ys.iter_mut().zip(&self.work[w - half..w - half + c]) {
            *y = (v - (*y * inv_w) as f32) as f64;
        }
        let mut j = 0;
        while j < c {
            let take = (self.d - self.block.len()).min(c - j);
            self.block.extend(self.ys[j..j + take].iter().map(|&y| y as f32));
            j += take;
            if self.block.len() == self.d {
                self.close_block();
            }
        }
        self.work.drain(..c);
        self.diffs.drain(..c);
    }

    /// The RMS of a full block of high-passed samples, summed in eight fixed lanes.
    fn close_block(&mut self) {
        let mut lanes = [0.0f32; 8];
        let mut parts = self.block.chunks_exact(8);
        for part in &mut parts {
            for (l, &y) in lanes.iter_mut().zip(part) {
                *l += y * y;
            }
        }
        for (l, &y) in lanes.iter_mut().zip(parts.remainder()) {
            *l += y * y;
        }
        let e = (lanes.iter().sum::<f32>() / self.d as f32).sqrt();
        self.block.clear();
        self.silent &= e == 0.0;
        self.stretch.push(e);
        if self.stretch.len() == self.stretch_len {
            self.close_stretch();
        }
    }

    fn close_stretch(&mut self) {
        let n = self.stretch.len();
        level_normalise_with(&mut self.stretch, self.fs / self.d as f64, &mut self.prefix);
        // A last stretch shorter than two of the slowest oscillations says nothing of the rate.
        if n as f64 > 1.2 * self.max_lag as f64 && n >= 16 {
            let r = self.autocorr.run(&self.stretch, self.max_lag.min(n - 1));
            let w = n as f64 / self.stretch_len as f64;
            for (s, v) in self.sum.iter_mut().zip(r) {
                *s += w * v;
            }
            self.weight += w;
        }
        self.stretch.clear();
    }

    /// The beat rate of everything fed (or the check of the forced rate).
    pub fn finish(mut self, forced_bph: Option<u32>) -> Result<RateChoice, NoLock> {
        if self.work.len() > self.w {
            self.high_pass();
        }
        let rate = self.fs / self.d as f64;
        let r: Vec<f64> = if self.weight == 0.0 {
            // The whole recording is one short stretch: its own autocorrelation, as far as it goes.
            let n = self.stretch.len();
            if n < 16 {
                return Err(NoLock {
                    reason: "the recording is too short to hear a watch".into(),
                    candidates: vec![],
                });
            }
            level_normalise_with(&mut self.stretch, rate, &mut self.prefix);
            self.autocorr.run(&self.stretch, self.max_lag.min(n - 1)).to_vec()
        } else {
            self.close_stretch();
            self.sum.iter().map(|v| v / self.weight).collect()
        };
        let list: Vec<u32> = match forced_bph {
            Some(b) => vec![b],
            None => crate::measurement::STANDARD_BPH.to_vec(),
        };
        choose_rate(&r, rate, &list, self.silent, forced_bph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::BlockSource;
    use crate::synth::{MechanicalParams, Synth};

    /// The samples of a synthetic recording of `p`.
    fn render(p: &MechanicalParams) -> Vec<f32> {
        let mut s = Synth::mechanical(p).unwrap();
        let mut x = vec![0.0f32; (p.duration_s * p.sample_rate_hz as f64) as usize];
        let n = s.read_frames(&mut x).unwrap();
        x.truncate(n);
        x
    }

    fn watch() -> (Vec<f32>, u32) {
        let p = MechanicalParams { bph: 21600, snr_db: Some(15.0), duration_s: 14.0, ..Default::default() };
        (render(&p), p.sample_rate_hz)
    }

    /// The rate a whole-recording scan of `x` chooses.
    fn scan(x: &[f32], fs: f64) -> RateChoice {
        let mut s = RateScan::new(fs);
        s.push(x);
        s.finish(None).unwrap()
    }

    #[test]
    fn the_rate_scan_does_not_depend_on_how_the_audio_is_cut_into_blocks() {
        let (x, fs) = watch();
        let in_blocks = |block: usize| {
            let mut s = RateScan::new(fs as f64);
            for c in x.chunks(block) {
                s.push(c);
            }
            s.finish(None).unwrap()
        };
        let whole = in_blocks(x.len());
        assert_eq!(whole.bph, 21600);
        for block in [1, 7, 4096] {
            assert_eq!(in_blocks(block), whole, "blocks of {block}");
        }
    }

    #[test]
    fn a_contact_microphone_that_leaves_the_toc_10_db_under_the_tic_does_not_halve_the_rate() {
        // Drawn apart from the sweep (seed 15 of a 40 dB set): a contact microphone's band
        // passes the tic's pitch and not the toc's, 10 dB apart, at 36000 bph and a beat error of
        // 1.93 ms. The split half periods must count each peak's contrast: before, the broad
        // base was counted against them, 36000 scored under 0.6 of 18000 and the watch was read
        // at 18000 bph with a beat error of 0.001 ms.
        let p = MechanicalParams {
            bph: 36000,
            beat_error_ms: 1.93,
            amplitude_deg: 294.2,
            lift_angle_deg: 52.0,
            snr_db: Some(40.0),
            duration_s: 20.0,
            seed: 15,
            family: crate::synth::SoundFamily::Contact,
            ..Default::default()
        };
        let r = scan(&render(&p), p.sample_rate_hz as f64);
        assert_eq!(r.bph, 36000, "{:?}", r.candidates);
    }

    #[test]
    fn a_watch_with_an_echo_of_every_tick_near_half_a_beat_late_is_not_read_at_twice_its_rate() {
        // A 36000 bph watch in a room whose wall returns each tick 40 ms later at 0.3 of its
        // level: the echoes land in the half periods of 72000 bph, which a quiet side would fill.
        let p = MechanicalParams { bph: 36000, snr_db: Some(30.0), duration_s: 14.0, ..Default::default() };
        let (x, fs) = (render(&p), p.sample_rate_hz as f64);
        let lag = (0.040 * fs) as usize;
        let y: Vec<f32> =
            (0..x.len()).map(|i| x[i] + if i >= lag { 0.3 * x[i - lag] } else { 0.0 }).collect();
        let r = scan(&y, fs);
        assert_eq!(r.bph, 36000, "{:?}", r.candidates);
    }

    #[test]
    fn a_watch_around_thirteen_seconds_of_silence_is_not_read_at_twice_its_rate() {
        // A stretch of silence but its last second of ticks correlates broadly at every lag (the
        // ticks' level, normalised, is a step); the half periods of twice the rate must be read
        // as the contrast they have, not the hump twice.
        let (x, fs) = watch();
        let cut = 10 * fs as usize;
        let y = [&x[..cut], &vec![0.0; 13 * fs as usize][..], &x[cut..]].concat();
        let r = scan(&y, fs as f64);
        assert_eq!(r.bph, 21600, "{:?}", r.candidates);
    }

    #[test]
    fn the_rate_scan_high_pass_is_the_centred_moving_average_removed() {
        // The slow reference: every sample less the mean of the w samples centred on it.
        let fs = 48_000.0;
        // Longer than the chunk the scan high-passes at a time.
        let x: Vec<f32> = (0..3000).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.01).collect();
        let mut s = RateScan::new(fs);
        s.push(&x);
        let (w, half, d) = (s.w, (s.w - 1) / 2, s.d);
        let y = |n: usize| -> f64 {
            let mean = (n + 1 - w..=n).map(|i| x[i] as f64).sum::<f64>() / w as f64;
            x[n - half] as f64 - mean
        };
        // Compare the envelope of a block whose window is fully inside the signal.
        let b = 10;
        let want = ((b * d..(b + 1) * d).map(|n| y(n).powi(2)).sum::<f64>() / d as f64).sqrt();
        let got = s.stretch[b] as f64;
        assert!((got - want).abs() < 1e-4 * want.max(1e-6), "{got} vs {want}");
    }
}
