//! Level, headroom, clipping and the noise floor of one channel.
use super::db;
use serde::Serialize;

/// Length of the blocks whose RMS gives the noise floor and the tick level, seconds.
pub const BLOCK_S: f64 = 0.005;
/// A sample within this fraction of the recording's peak, next to another such sample, counts
/// as "at full scale": a signal cut flat by the converter or an amplifier sits there for runs
/// of samples, a clean tick's single highest sample (or a tone's crest) does not.
pub const FULL_SCALE_FRACTION: f64 = 0.999;
/// Below this peak (dBFS) a recording is too quiet for the full-scale count to mean anything
/// (a few quantisation steps would all sit "at the peak").
pub const CLIP_MIN_PEAK_DBFS: f64 = -40.0;

/// Level statistics of one channel. Levels are dBFS (0 dBFS = full scale; -160 for digital
/// zero); they describe the samples examined exactly, so they carry no uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelStats {
    /// Largest absolute sample, dBFS.
    pub peak_dbfs: f64,
    /// RMS over every sample, dBFS.
    pub rms_dbfs: f64,
    /// How far the peak is below full scale, dB.
    pub headroom_db: f64,
    /// Samples at the recording's full scale: in runs of two or more within 0.1% of its peak
    /// (counted when the peak is above -40 dBFS).
    pub clipped_samples: u64,
    /// `clipped_samples` over all samples.
    pub clipped_share: f64,
    /// The noise floor: the 10th percentile of the 5 ms blocks' RMS, dBFS.
    pub noise_floor_dbfs: f64,
    /// The loud blocks (ticks, when there are): the 99th percentile of the 5 ms blocks' RMS, dBFS.
    pub loud_dbfs: f64,
    /// `loud_dbfs - noise_floor_dbfs`, dB: how far the loudest sounds stand out of the floor.
    pub loud_to_floor_db: f64,
}

impl LevelStats {
    /// The statistics of `x` sampled at `fs_hz`.
    pub fn of(x: &[f32], fs_hz: f64) -> Self {
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        let sum_sq: f64 = x.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let rms = if x.is_empty() { 0.0 } else { (sum_sq / x.len() as f64).sqrt() };
        let clipped = if db(peak) >= CLIP_MIN_PEAK_DBFS { flat_top_samples(x, peak) } else { 0 };
        let mut blocks = block_rms(x, ((BLOCK_S * fs_hz).round() as usize).max(1));
        let floor = percentile(&mut blocks, 0.10);
        let loud = percentile(&mut blocks, 0.99);
        let (floor_db, loud_db) = (db(floor), db(loud));
        LevelStats {
            peak_dbfs: db(peak),
            rms_dbfs: db(rms),
            headroom_db: -db(peak),
            clipped_samples: clipped,
            clipped_share: if x.is_empty() { 0.0 } else { clipped as f64 / x.len() as f64 },
            noise_floor_dbfs: floor_db,
            loud_dbfs: loud_db,
            loud_to_floor_db: loud_db - floor_db,
        }
    }
}

/// Samples within 0.1% of `peak` that have a neighbour there too (runs of two or more).
fn flat_top_samples(x: &[f32], peak: f64) -> u64 {
    let at = (peak * FULL_SCALE_FRACTION) as f32;
    let high = |i: usize| x.get(i).is_some_and(|v| v.abs() >= at);
    (0..x.len()).filter(|&i| high(i) && ((i > 0 && high(i - 1)) || high(i + 1))).count() as u64
}

/// The RMS of consecutive blocks of `n` samples (the last, partial block dropped unless it is
/// the only one).
pub fn block_rms(x: &[f32], n: usize) -> Vec<f64> {
    let mut out: Vec<f64> = x
        .chunks_exact(n)
        .map(|c| (c.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / n as f64).sqrt())
        .collect();
    if out.is_empty() && !x.is_empty() {
        out.push((x.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>() / x.len() as f64).sqrt());
    }
    out
}

/// The `q` quantile (0..1) of `v` (reordered in place); 0 for an empty slice.
pub fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_at_half_scale_reads_minus_6_dbfs_peak_minus_9_rms_and_no_clipping() {
        let x: Vec<f32> = (0..48_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 48_000.0).sin())
            .collect();
        let s = LevelStats::of(&x, 48_000.0);
        assert!((s.peak_dbfs + 6.02).abs() < 0.05, "{s:?}");
        assert!((s.rms_dbfs + 9.03).abs() < 0.05, "{s:?}");
        assert_eq!(s.clipped_samples, 0, "{s:?}");
    }

    #[test]
    fn a_signal_cut_flat_counts_its_flat_tops_as_clipped() {
        let x: Vec<f32> = (0..48_000)
            .map(|i| {
                (2.0 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin()).clamp(-0.7, 0.7)
            })
            .collect();
        let s = LevelStats::of(&x, 48_000.0);
        assert!(s.clipped_share > 0.5, "{s:?}");
    }

    #[test]
    fn digital_zero_reads_the_floor_of_minus_160_dbfs_and_no_clipping() {
        let s = LevelStats::of(&[0.0; 4800], 48_000.0);
        assert_eq!((s.peak_dbfs, s.noise_floor_dbfs, s.clipped_samples), (-160.0, -160.0, 0));
    }
}
