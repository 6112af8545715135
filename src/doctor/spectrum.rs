//! Mains hum and the band where the beat energy sits, from spectra of one channel.
//!
//! Hum is measured between the ticks: 5 ms blocks louder than twice the median block (the
//! ticks, a knock) are zeroed before a Welch spectrum of about 1 Hz resolution, so a watch
//! whose beat rate divides 50 Hz (18000 bph beats at 5 Hz) does not read as hum. The level is
//! scaled back by the share of audio kept. The tick band compares octave-band powers of the
//! loudest 20 ms frames with those of the quietest half.
use super::level::{block_rms, percentile, BLOCK_S};
use realfft::RealFftPlanner;
use serde::Serialize;

/// Mains frequencies looked for, Hz.
pub const MAINS_HZ: [f64; 2] = [50.0, 60.0];
/// Harmonics of the mains frequency examined (the fundamental is the first).
pub const HARMONICS: usize = 6;
/// A spectral line this far above its neighbourhood (dB) is hum.
pub const HUM_PROMINENCE_DB: f64 = 15.0;
/// A harmonic this far above its neighbourhood (dB) is listed with the hum.
pub const HARMONIC_PROMINENCE_DB: f64 = 10.0;

/// Mains hum found between the ticks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hum {
    /// 50 or 60 when hum is there, else `None`.
    pub mains_hz: Option<f64>,
    /// RMS level of the hum lines together, dBFS (`None` without hum).
    pub level_dbfs: Option<f64>,
    /// The strongest line's height above its neighbourhood, dB (0 without a line).
    pub prominence_db: f64,
    /// The harmonics heard (Hz), the fundamental first when it is heard.
    pub harmonics_hz: Vec<f64>,
}

/// One octave band's share in the ticks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OctaveBand {
    /// Centre frequency, Hz.
    pub centre_hz: f64,
    /// Level the loud frames add over the quietest half in this band, dBFS (-160 for none).
    pub tick_dbfs: f64,
    /// Mean power of the loud frames over that of the quietest half, dB (capped at 120).
    pub excess_db: f64,
}

/// Where the beat energy sits: the octave bands where the loud frames (the ticks) add the
/// most power over the quietest half.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Centre of the octave band where the loud frames add the most power, Hz (`None` when the
    /// audio is too short or nothing stands out).
    pub peak_hz: Option<f64>,
    /// Lower edge of the contiguous octave bands within 6 dB of the best, Hz.
    pub low_hz: Option<f64>,
    /// Upper edge of the same bands, Hz.
    pub high_hz: Option<f64>,
    /// How far the loud frames stand out of the quiet ones in the best band, dB.
    pub excess_db: f64,
    /// Every octave band examined.
    pub bands: Vec<OctaveBand>,
}

/// Hann window of length `n`.
fn hann(n: usize) -> Vec<f64> {
    (0..n).map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()).collect()
}

/// Averaged one-sided power spectrum of `x` (Welch, Hann, half overlap), each bin the mean
/// square it holds; `None` when `x` is shorter than one segment.
fn welch(x: &[f64], n: usize) -> Option<Vec<f64>> {
    if x.len() < n {
        return None;
    }
    let w = hann(n);
    let w2: f64 = w.iter().map(|v| v * v).sum();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let (mut buf, mut spec) = (fft.make_input_vec(), fft.make_output_vec());
    let mut acc = vec![0.0; spec.len()];
    let mut segments = 0usize;
    let mut start = 0;
    while start + n <= x.len() {
        for (b, (s, wv)) in buf.iter_mut().zip(x[start..start + n].iter().zip(&w)) {
            *b = s * wv;
        }
        fft.process(&mut buf, &mut spec).ok()?;
        for (a, c) in acc.iter_mut().zip(&spec) {
            *a += c.norm_sqr();
        }
        segments += 1;
        start += n / 2;
    }
    let scale = 2.0 / (n as f64 * w2 * segments as f64);
    Some(acc.into_iter().map(|a| a * scale).collect())
}

/// `x` with its loud 5 ms blocks (over twice the median, and one block either side) zeroed,
/// and the share of samples kept.
fn between_ticks(x: &[f32], fs_hz: f64) -> (Vec<f64>, f64) {
    let n = ((BLOCK_S * fs_hz).round() as usize).max(1);
    let rms = block_rms(x, n);
    let mut sorted = rms.clone();
    let limit = 2.0 * percentile(&mut sorted, 0.5);
    let loud: Vec<bool> = (0..rms.len())
        .map(|i| (i.saturating_sub(1)..=(i + 1).min(rms.len() - 1)).any(|j| rms[j] > limit))
        .collect();
    let mut kept = 0usize;
    let y: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if loud.get(i / n).copied().unwrap_or(false) {
                0.0
            } else {
                kept += 1;
                v as f64
            }
        })
        .collect();
    (y, kept as f64 / x.len().max(1) as f64)
}

/// Mains hum in `x` (one channel at `fs_hz`), measured between the ticks.
pub fn hum(x: &[f32], fs_hz: f64) -> Hum {
    let none = Hum { mains_hz: None, level_dbfs: None, prominence_db: 0.0, harmonics_hz: vec![] };
    let (y, kept) = between_ticks(x, fs_hz);
    let n = (fs_hz as usize).next_power_of_two();
    let n = if y.len() >= n { n } else { (y.len() / 2).next_power_of_two().max(1) };
    if kept < 0.05 || n < 4096 {
        return none;
    }
    let Some(p) = welch(&y, n) else { return none };
    let bin_hz = fs_hz / n as f64;
    let mut best: Option<(f64, f64, f64, Vec<f64>)> = None; // (f0, excess power, top prominence, harmonics)
    for f0 in MAINS_HZ {
        let (mut excess, mut top, mut heard) = (0.0, 0.0f64, vec![]);
        for k in 1..=HARMONICS {
            let f = f0 * k as f64;
            let Some((line, floor, prom)) = line_at(&p, bin_hz, f) else { continue };
            top = top.max(prom);
            if prom >= HARMONIC_PROMINENCE_DB {
                excess += (line - floor).max(0.0);
                heard.push(f);
            }
        }
        if top >= HUM_PROMINENCE_DB && best.as_ref().is_none_or(|b| excess > b.1) {
            best = Some((f0, excess, top, heard));
        }
    }
    match best {
        Some((f0, excess, top, heard)) => Hum {
            mains_hz: Some(f0),
            level_dbfs: Some(10.0 * (excess / kept).max(1e-16).log10()),
            prominence_db: top,
            harmonics_hz: heard,
        },
        None => none,
    }
}

/// The power of the line at `f` (bins within 2 Hz), the floor it stands on (the median bin
/// 4..15 Hz away, times the line's bins) and its prominence in dB; `None` past Nyquist.
fn line_at(p: &[f64], bin_hz: f64, f: f64) -> Option<(f64, f64, f64)> {
    let bin = |hz: f64| (hz / bin_hz).round() as isize;
    let (lo, hi) = (bin(f - 2.0).max(1), bin(f + 2.0));
    if hi as usize + bin(15.0) as usize >= p.len() {
        return None;
    }
    let line: f64 = (lo..=hi).map(|i| p[i as usize]).sum();
    let mut around: Vec<f64> = (bin(f - 15.0).max(1)..=bin(f + 15.0))
        .filter(|&i| (i as f64 * bin_hz - f).abs() >= 4.0)
        .map(|i| p[i as usize])
        .collect();
    let floor = percentile(&mut around, 0.5) * (hi - lo + 1) as f64;
    if line <= 1e-20 {
        return Some((line, floor, 0.0));
    }
    Some((line, floor, 10.0 * (line / floor.max(line * 1e-12)).log10()))
}

/// Octave-band centres examined, Hz (those whose upper edge is below Nyquist are used).
pub const OCTAVE_CENTRES_HZ: [f64; 8] = [125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0];

/// Where the beat energy of `x` (one channel at `fs_hz`) sits.
pub fn band(x: &[f32], fs_hz: f64) -> Band {
    let n = ((0.02 * fs_hz) as usize).next_power_of_two().max(256);
    let empty = Band { peak_hz: None, low_hz: None, high_hz: None, excess_db: 0.0, bands: vec![] };
    let centres: Vec<f64> =
        OCTAVE_CENTRES_HZ.iter().copied().filter(|c| c * std::f64::consts::SQRT_2 < fs_hz / 2.0).collect();
    if x.len() < 8 * n || centres.is_empty() {
        return empty;
    }
    let frames = frame_bands(x, fs_hz, n, &centres);
    let mut energy: Vec<f64> = frames.iter().map(|f| f.0).collect();
    let loud_at = percentile(&mut energy.clone(), 0.9);
    let quiet_at = percentile(&mut energy, 0.5);
    let mean = |pick: &dyn Fn(f64) -> bool, b: usize| {
        let v: Vec<f64> = frames.iter().filter(|f| pick(f.0)).map(|f| f.1[b]).collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let added: Vec<f64> = (0..centres.len())
        .map(|b| (mean(&|e| e >= loud_at, b) - mean(&|e| e <= quiet_at, b)).max(0.0))
        .collect();
    let bands: Vec<OctaveBand> = (0..centres.len())
        .map(|b| {
            let (loud, quiet) = (mean(&|e| e >= loud_at, b), mean(&|e| e <= quiet_at, b));
            let excess =
                if loud <= 1e-24 { 0.0 } else { (10.0 * (loud / quiet.max(1e-30)).log10()).min(120.0) };
            OctaveBand { centre_hz: centres[b], tick_dbfs: super::db(added[b].sqrt()), excess_db: excess }
        })
        .collect();
    let Some(best) = (0..bands.len()).max_by(|&a, &b| added[a].total_cmp(&added[b])) else {
        return empty;
    };
    if added[best] <= 1e-20 || bands[best].excess_db < 1.0 {
        return Band { bands, ..empty };
    }
    let near = |i: usize| added[i] >= added[best] / 4.0;
    let (mut lo, mut hi) = (best, best);
    while lo > 0 && near(lo - 1) {
        lo -= 1;
    }
    while hi + 1 < bands.len() && near(hi + 1) {
        hi += 1;
    }
    Band {
        peak_hz: Some(bands[best].centre_hz),
        low_hz: Some(bands[lo].centre_hz / std::f64::consts::SQRT_2),
        high_hz: Some(bands[hi].centre_hz * std::f64::consts::SQRT_2),
        excess_db: bands[best].excess_db,
        bands,
    }
}

/// Per frame of `n` samples (Hann): the power above 300 Hz, and the power in each octave band
/// (mean squares).
fn frame_bands(x: &[f32], fs_hz: f64, n: usize, centres: &[f64]) -> Vec<(f64, Vec<f64>)> {
    let w = hann(n);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let (mut buf, mut spec) = (fft.make_input_vec(), fft.make_output_vec());
    let bin_hz = fs_hz / n as f64;
    let edges: Vec<(usize, usize)> = centres
        .iter()
        .map(|c| {
            let lo = (c / std::f64::consts::SQRT_2 / bin_hz).ceil() as usize;
            let hi = ((c * std::f64::consts::SQRT_2 / bin_hz).floor() as usize).min(spec.len() - 1);
            (lo, hi)
        })
        .collect();
    let above = (300.0 / bin_hz).ceil() as usize;
    let w2: f64 = w.iter().map(|v| v * v).sum();
    let scale = 2.0 / (n as f64 * w2);
    x.chunks_exact(n)
        .filter_map(|c| {
            for (b, (s, wv)) in buf.iter_mut().zip(c.iter().zip(&w)) {
                *b = *s as f64 * wv;
            }
            fft.process(&mut buf, &mut spec).ok()?;
            let p: Vec<f64> = spec.iter().map(|v| v.norm_sqr() * scale).collect();
            let bands = edges.iter().map(|&(lo, hi)| p[lo..=hi.max(lo)].iter().sum()).collect();
            Some((p[above.min(p.len())..].iter().sum(), bands))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f64, a: f64, fs: f64, secs: f64) -> Vec<f32> {
        (0..(fs * secs) as usize)
            .map(|i| (a * (2.0 * std::f64::consts::PI * f * i as f64 / fs).sin()) as f32)
            .collect()
    }

    #[test]
    fn a_50_hz_tone_with_its_harmonic_is_hum_at_its_level() {
        let fs = 48_000.0;
        let mut x = tone(50.0, 0.1, fs, 6.0);
        for (v, h) in x.iter_mut().zip(tone(150.0, 0.05, fs, 6.0)) {
            *v += h;
        }
        let h = hum(&x, fs);
        assert_eq!(h.mains_hz, Some(50.0), "{h:?}");
        assert!(h.harmonics_hz.contains(&150.0), "{h:?}");
        // 0.1 and 0.05 peak: mean square 0.005 + 0.00125 -> -22.0 dBFS.
        assert!((h.level_dbfs.unwrap() + 22.0).abs() < 1.0, "{h:?}");
    }

    #[test]
    fn a_60_hz_tone_is_60_hz_hum_and_silence_is_none() {
        let fs = 44_100.0;
        assert_eq!(hum(&tone(60.0, 0.05, fs, 6.0), fs).mains_hz, Some(60.0));
        assert_eq!(hum(&vec![0.0; 44_100 * 6], fs).mains_hz, None);
    }

    #[test]
    fn clicks_at_3_khz_put_the_band_at_the_2_or_4_khz_octave() {
        let fs = 48_000.0;
        let mut x = vec![0.0f32; 48_000 * 4];
        for k in 0..24 {
            let at = k * 8_000;
            for i in 0..240 {
                let t = i as f64 / fs;
                x[at + i] =
                    (0.5 * (2.0 * std::f64::consts::PI * 3000.0 * t).sin() * (-t / 0.001).exp()) as f32;
            }
        }
        let b = band(&x, fs);
        assert!(matches!(b.peak_hz, Some(p) if p == 2000.0 || p == 4000.0), "{b:?}");
    }
}
