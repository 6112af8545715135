//! The sample instants of a recording: true time against the recorder's time.
/// The sample instants of a recording in true time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    sample_rate_hz: u32,
    recorder_ppm: f64,
    frames: u64,
    /// Samples per true second.
    eff: f64,
}

impl Timeline {
    /// `frames` samples at a nominal `sample_rate_hz`, by a recorder whose clock runs
    /// `recorder_ppm` fast.
    pub fn new(sample_rate_hz: u32, recorder_ppm: f64, frames: u64) -> Self {
        Timeline {
            sample_rate_hz,
            recorder_ppm,
            frames,
            eff: sample_rate_hz as f64 * (1.0 + recorder_ppm * 1e-6),
        }
    }
    /// Nominal sample rate (what the file header says), Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }
    /// The recorder's clock error, ppm (+ = fast).
    pub fn recorder_ppm(&self) -> f64 {
        self.recorder_ppm
    }
    /// Frames in the recording.
    pub fn frames(&self) -> u64 {
        self.frames
    }
    /// Samples per true second: `fs (1 + ppm 1e-6)`.
    pub fn effective_rate_hz(&self) -> f64 {
        self.eff
    }
    /// True seconds between samples.
    pub fn sample_period_s(&self) -> f64 {
        1.0 / self.eff
    }
    /// True time of sample `n`, seconds.
    #[inline]
    pub fn true_time(&self, n: u64) -> f64 {
        n as f64 / self.eff
    }
    /// Recorder time of sample `n` (what a reader of the file sees), seconds.
    pub fn recorder_time(&self, n: u64) -> f64 {
        n as f64 / self.sample_rate_hz as f64
    }
    /// Converts a recorder time (sample position / nominal rate) to true time, seconds.
    pub fn recorder_to_true_s(&self, r: f64) -> f64 {
        r * self.sample_rate_hz as f64 / self.eff
    }
    /// Converts a true time to recorder time (sample position / nominal rate), seconds.
    pub fn true_to_recorder_s(&self, t: f64) -> f64 {
        t * self.eff / self.sample_rate_hz as f64
    }
    /// Length of the recording in true seconds.
    pub fn true_duration_s(&self) -> f64 {
        self.true_time(self.frames)
    }
    /// The first sample taken at or after true time `t` (0 for `t <= 0`).
    pub fn first_sample_at_or_after(&self, t: f64) -> u64 {
        if t.is_nan() || t <= 0.0 {
            return 0;
        }
        if !t.is_finite() || t * self.eff >= 1.8e19 {
            return u64::MAX;
        }
        let mut n = (t * self.eff).ceil() as u64;
        while self.true_time(n) < t {
            n += 1;
        }
        while n > 0 && self.true_time(n - 1) >= t {
            n -= 1;
        }
        n
    }
}
