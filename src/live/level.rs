//! The input level the view shows: peak and RMS of the last second of audio, in dB below full
//! scale (dBFS), so the technician sees a microphone too quiet or clipping.

/// Peak and RMS of the last completed second of audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Highest absolute sample, dBFS (0 = full scale).
    pub peak_dbfs: f64,
    /// Root mean square, dBFS.
    pub rms_dbfs: f64,
    /// Samples at or above full scale (clipped) in that second.
    pub clipped: u64,
}

/// Lowest level shown, dBFS (digital silence reads this).
pub const FLOOR_DBFS: f64 = -120.0;

fn dbfs(x: f64) -> f64 {
    if x > 0.0 {
        (20.0 * x.log10()).max(FLOOR_DBFS)
    } else {
        FLOOR_DBFS
    }
}

/// Accumulates samples and publishes a [`Level`] once per `window` samples (allocation-free).
#[derive(Debug, Clone)]
pub struct LevelMeter {
    window: u64,
    n: u64,
    peak: f32,
    sum_sq: f64,
    clipped: u64,
    last: Option<Level>,
}

impl LevelMeter {
    /// A meter publishing every `window` samples (at least 1).
    pub fn new(window: u64) -> Self {
        LevelMeter { window: window.max(1), n: 0, peak: 0.0, sum_sq: 0.0, clipped: 0, last: None }
    }

    /// Adds consecutive samples.
    pub fn push(&mut self, block: &[f32]) {
        for &x in block {
            let a = if x.is_finite() { x.abs() } else { 0.0 };
            self.peak = self.peak.max(a);
            self.sum_sq += (a as f64) * (a as f64);
            self.clipped += (a >= 0.999_969) as u64; // 32767/32768: full scale of 16-bit audio
            self.n += 1;
            if self.n == self.window {
                self.last = Some(Level {
                    peak_dbfs: dbfs(self.peak as f64),
                    rms_dbfs: dbfs((self.sum_sq / self.n as f64).sqrt()),
                    clipped: self.clipped,
                });
                (self.n, self.peak, self.sum_sq, self.clipped) = (0, 0.0, 0.0, 0);
            }
        }
    }

    /// The last completed window's level (none before the first).
    pub fn level(&self) -> Option<Level> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_scale_square_wave_reads_minus_6_dbfs_peak_and_rms() {
        let mut m = LevelMeter::new(100);
        let block: Vec<f32> = (0..100).map(|i| if i % 2 == 0 { 0.5 } else { -0.5 }).collect();
        assert!(m.level().is_none());
        m.push(&block);
        let l = m.level().unwrap();
        assert!((l.peak_dbfs + 6.02).abs() < 0.01 && (l.rms_dbfs + 6.02).abs() < 0.01, "{l:?}");
        assert_eq!(l.clipped, 0);
    }

    #[test]
    fn silence_reads_the_floor_and_full_scale_counts_as_clipped() {
        let mut m = LevelMeter::new(4);
        m.push(&[0.0; 4]);
        assert_eq!(m.level().unwrap().peak_dbfs, FLOOR_DBFS);
        m.push(&[1.0, -1.0, 0.2, f32::NAN]);
        let l = m.level().unwrap();
        assert_eq!(l.clipped, 2);
        assert_eq!(l.peak_dbfs, 0.0);
    }
}
