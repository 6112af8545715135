//! Method 2: a recorded tone of precisely known frequency.
//!
//! The recorder's timeline is stretched by `1 + ppm 1e-6`, so a tone of true frequency `f`
//! appears at `f_app = f / (1 + ppm 1e-6)`; `f_app` is measured to a tiny fraction of an FFT
//! bin in three steps:
//!
//! 1. Coarse: a Hann-windowed FFT (realfft) of the first ~1.4 s of every channel finds the
//!    peak within ±[`ToneConfig::search_ppm`] of the stated frequency (Gaussian interpolation
//!    of the log power, ~0.01 bin); the channel with the clearest peak is used.
//! 2. Refine: the same buffered audio is demodulated (below) and its phase slope corrects the
//!    coarse frequency to ~1e-5 Hz, so that the phase of the whole recording unwraps safely
//!    even across a dropout.
//! 3. Fine, streamed block by block with flat memory: the signal is multiplied by
//!    `exp(-i 2 pi f_c n / fs)` and integrated with triangular windows (hop `M` samples, about
//!    10 ms, chosen so the image at `2 f_c` falls on a zero of the window's response), giving
//!    one complex point per hop. Their unwrapped phase against time is a straight line of slope
//!    `2 pi (f_app - f_c)`, fitted over the whole recording ([`fit_line`]: outliers rejected,
//!    u95 from the residuals with their autocorrelation allowed for). Points are merged in
//!    pairs as needed to keep at most 4096 of them ([`Decimator`]); points whose amplitude
//!    drops below 30 % of the running level (a dropout) are skipped.
//!
//! The per-sample loop allocates nothing and keeps constant state: memory is flat however
//! long the recording.
use super::error::CalibrationError;
use super::fit::{fit_line, median, Decimator, LineFit};
use super::profile::MAX_ABS_PPM;
use crate::measurement::Figure;
use crate::source::BlockSource;
use std::f64::consts::PI;
use std::path::Path;

/// Settings of the tone method.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneConfig {
    /// The tone's true frequency, Hz (10 Hz .. 0.45 of the sample rate).
    pub freq_hz: f64,
    /// Use this channel (0-based) instead of the one with the clearest tone.
    pub channel: Option<u16>,
    /// How far from `freq_hz` the tone is looked for, ppm (default [`MAX_ABS_PPM`]).
    pub search_ppm: f64,
}

impl ToneConfig {
    /// Settings for a tone of `freq_hz`, channel chosen automatically.
    pub fn new(freq_hz: f64) -> Self {
        ToneConfig { freq_hz, channel: None, search_ppm: MAX_ABS_PPM }
    }
}

/// What the tone method measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ToneCalibration {
    /// The recorder's clock error, ppm (+ = fast), with its u95.
    pub recorder_ppm: Figure,
    /// The tone's frequency on the recorder's timeline, Hz, with its u95.
    pub apparent_freq_hz: Figure,
    /// The channel analysed (0-based).
    pub channel: u16,
    /// Sample rate of the recording, Hz.
    pub sample_rate_hz: u32,
    /// Length analysed, seconds (of the recorder's timeline).
    pub duration_s: f64,
    /// Phase points (one per hop, before merging) used.
    pub points_used: u64,
    /// Phase points skipped (dropouts) or rejected as outliers (counted in merged groups'
    /// worth of raw points).
    pub points_rejected: u64,
    /// RMS of the phase residuals of the fit, radians.
    pub phase_residual_rms_rad: f64,
    /// Peak-to-floor ratio of the tone in the coarse spectrum, dB.
    pub peak_to_floor_db: f64,
}

/// Measures the recorder's clock error from a tone of known frequency. `name` names the
/// recording in errors. The source is read twice (rewound once).
pub fn measure_tone(
    src: &mut dyn BlockSource,
    name: &Path,
    cfg: &ToneConfig,
) -> Result<ToneCalibration, CalibrationError> {
    let info = src.info().clone();
    let fs = info.sample_rate_hz as f64;
    let ch = info.channels.max(1) as usize;
    let f_true = cfg.freq_hz;
    if !f_true.is_finite() || f_true < 10.0 || f_true > 0.45 * fs {
        return Err(CalibrationError::invalid(format!(
            "--freq-hz {} is outside 10 .. {:.0} Hz (0.45 of the {} Hz sample rate of {})",
            f_true,
            0.45 * fs,
            info.sample_rate_hz,
            name.display()
        )));
    }
    if let Some(c) = cfg.channel {
        if c as usize >= ch {
            return Err(CalibrationError::invalid(format!(
                "--channel {} but {} has {} channel(s)",
                c,
                name.display(),
                ch
            )));
        }
    }
    let search_ppm =
        if cfg.search_ppm.is_finite() && cfg.search_ppm > 0.0 { cfg.search_ppm } else { MAX_ABS_PPM };

    // Pass 1: buffer the first ~1.4 s of every channel.
    let nfft = ((fs * 1.5) as usize).next_power_of_two() / 2;
    let mut head = vec![vec![0f32; nfft]; ch];
    let mut block = vec![0f32; 4096 * ch];
    let mut got = 0usize;
    while got < nfft {
        let want = (nfft - got).min(4096);
        let n = src.read_frames(&mut block[..want * ch])?;
        if n == 0 {
            break;
        }
        for i in 0..n {
            for (c, h) in head.iter_mut().enumerate() {
                h[got + i] = block[i * ch + c];
            }
        }
        got += n;
    }
    if got < nfft {
        return Err(CalibrationError::Insufficient {
            path: name.to_path_buf(),
            what: format!(
                "{:.2} s of audio; the tone method needs at least {:.1} s",
                got as f64 / fs,
                nfft as f64 / fs * 2.0
            ),
        });
    }

    // Coarse: FFT peak per channel.
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(nfft);
    let mut inbuf = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    let mut power = vec![0f64; nfft / 2 + 1];
    let bin_hz = fs / nfft as f64;
    let lo_bin = (((f_true * (1.0 - search_ppm * 1e-6)) / bin_hz).floor() as usize).saturating_sub(2).max(1);
    let hi_bin = (((f_true * (1.0 + search_ppm * 1e-6)) / bin_hz).ceil() as usize + 2).min(nfft / 2 - 1);
    let mut best: Option<(u16, f64, f64)> = None; // channel, coarse Hz, peak/floor
    let mut strongest_elsewhere: Option<(f64, f64)> = None;
    for (c, samples) in head.iter().enumerate() {
        if cfg.channel.is_some_and(|k| k as usize != c) {
            continue;
        }
        for (i, (v, &x)) in inbuf.iter_mut().zip(samples).enumerate() {
            let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / nfft as f64).cos();
            *v = x as f64 * w;
        }
        fft.process_with_scratch(&mut inbuf, &mut spec, &mut scratch)
            .map_err(|e| CalibrationError::invalid(format!("{}: FFT failed: {}", name.display(), e)))?;
        for (p, s) in power.iter_mut().zip(&spec) {
            *p = s.norm_sqr() + 1e-300;
        }
        let kp = (lo_bin..=hi_bin).max_by(|&a, &b| power[a].total_cmp(&power[b])).unwrap_or(lo_bin);
        let ratio = power[kp] / floor_around(&power, kp);
        let d = {
            let (a, b, cc) = (power[kp - 1].ln(), power[kp].ln(), power[kp + 1].ln());
            let den = a - 2.0 * b + cc;
            if den < 0.0 {
                (0.5 * (a - cc) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        };
        let f_coarse = (kp as f64 + d) * bin_hz;
        if best.is_none_or(|b| ratio > b.2) {
            best = Some((c as u16, f_coarse, ratio));
        }
        // For the error message: the clearest peak within ±5 % of the stated frequency.
        let wl = ((f_true * 0.95 / bin_hz) as usize).max(1);
        let wh = ((f_true * 1.05 / bin_hz) as usize).min(nfft / 2 - 1);
        if let Some(k) = (wl..=wh).max_by(|&a, &b| power[a].total_cmp(&power[b])) {
            let r = power[k] / floor_around(&power, k);
            if strongest_elsewhere.is_none_or(|s| r > s.1) {
                strongest_elsewhere = Some((k as f64 * bin_hz, r));
            }
        }
    }
    let (channel, f_coarse, ratio) = best.expect("at least one channel");
    const MIN_PEAK_TO_FLOOR: f64 = 30.0; // 15 dB above the local noise floor in one bin
    if ratio < MIN_PEAK_TO_FLOOR {
        let hint = match strongest_elsewhere {
            Some((f, r)) if r >= MIN_PEAK_TO_FLOOR => format!(
                "; the clearest tone nearby is at {:.2} Hz ({:+.0} ppm): wrong --freq-hz or sample rate?",
                f,
                (f_true / f - 1.0) * 1e6
            ),
            _ => String::new(),
        };
        return Err(CalibrationError::NoReference {
            path: name.to_path_buf(),
            what: format!(
                "no tone within ±{} ppm of {} Hz (peak {:.1} dB above the noise floor, 15 dB needed){}",
                search_ppm,
                f_true,
                10.0 * ratio.log10(),
                hint
            ),
        });
    }

    // Refine on the buffered head.
    let hop = hop_samples(f_coarse, fs);
    let mut refine = ToneDemod::new(f_coarse, fs, hop, 1024);
    for &x in &head[channel as usize] {
        refine.push(x);
    }
    let f_c = match refine.fit() {
        Some(f) if f.slope.is_finite() => f_coarse + f.slope / (2.0 * PI),
        _ => f_coarse,
    };
    drop(head);

    // Fine: the whole recording, streamed.
    src.rewind()?;
    let hop = hop_samples(f_c, fs);
    let mut demod = ToneDemod::new(f_c, fs, hop, 4096);
    let mut frames = 0u64;
    loop {
        let n = src.read_frames(&mut block)?;
        if n == 0 {
            break;
        }
        for i in 0..n {
            demod.push(block[i * ch + channel as usize]);
        }
        frames += n as u64;
    }
    let duration_s = frames as f64 / fs;
    let fit = demod.fit().ok_or_else(|| CalibrationError::Insufficient {
        path: name.to_path_buf(),
        what: "too few usable stretches of tone to fit (dropouts?)".into(),
    })?;
    if fit.residual_rms > 0.5 {
        return Err(CalibrationError::Insufficient {
            path: name.to_path_buf(),
            what: format!(
                "the tone's phase is too noisy to follow (residual {:.2} rad RMS, at most 0.5): \
                 raise the level or shorten the cable",
                fit.residual_rms
            ),
        });
    }
    let f_app = f_c + fit.slope / (2.0 * PI);
    let f_app_u95 = fit.slope_u95 / (2.0 * PI);
    let ppm = (f_true / f_app - 1.0) * 1e6;
    let ppm_u95 = f_true / (f_app * f_app) * f_app_u95 * 1e6;
    let raw_used = (demod.used_raw_points(&fit)) as u64;
    Ok(ToneCalibration {
        recorder_ppm: Figure::new(ppm, ppm_u95),
        apparent_freq_hz: Figure::new(f_app, f_app_u95),
        channel,
        sample_rate_hz: info.sample_rate_hz,
        duration_s,
        points_used: raw_used,
        points_rejected: demod.emitted - raw_used,
        phase_residual_rms_rad: fit.residual_rms,
        peak_to_floor_db: 10.0 * ratio.log10(),
    })
}

/// The median power of the bins 6..200 away from `k` on both sides (the local noise floor).
fn floor_around(power: &[f64], k: usize) -> f64 {
    let mut v: Vec<f64> = (k.saturating_sub(200)..(k + 201).min(power.len()))
        .filter(|&i| i.abs_diff(k) > 5 && i > 0)
        .map(|i| power[i])
        .collect();
    if v.is_empty() {
        return f64::MIN_POSITIVE;
    }
    median(&mut v)
}

/// The hop: about 10 ms, a whole number of periods of the image at `2 f`, so that the
/// triangular window (a boxcar of `M` convolved with itself) has a double zero on it.
fn hop_samples(f: f64, fs: f64) -> usize {
    let image_periods = (2.0 * f * 0.010).round().max(1.0);
    ((image_periods * fs / (2.0 * f)).round() as usize).max(4)
}

/// Streaming complex demodulator with triangular windows and phase unwrapping.
struct ToneDemod {
    cycles_per_sample: f64,
    fs: f64,
    m: usize,
    j: usize,
    block_start: u64,
    ph: (f64, f64),
    step: (f64, f64),
    rise_prev: (f64, f64),
    rise: (f64, f64),
    fall: (f64, f64),
    have_prev: bool,
    last_phase: Option<f64>,
    unwrapped: f64,
    amp_level: f64,
    emitted: u64,
    dec: Decimator,
}

impl ToneDemod {
    fn new(f_c: f64, fs: f64, m: usize, capacity: usize) -> Self {
        let w = -2.0 * PI * f_c / fs;
        ToneDemod {
            cycles_per_sample: f_c / fs,
            fs,
            m,
            j: 0,
            block_start: 0,
            ph: (1.0, 0.0),
            step: (w.cos(), w.sin()),
            rise_prev: (0.0, 0.0),
            rise: (0.0, 0.0),
            fall: (0.0, 0.0),
            have_prev: false,
            last_phase: None,
            unwrapped: 0.0,
            amp_level: 0.0,
            emitted: 0,
            dec: Decimator::new(capacity),
        }
    }

    #[inline]
    fn push(&mut self, x: f32) {
        let x = x as f64;
        let (cr, ci) = (x * self.ph.0, x * self.ph.1);
        let a = (self.j as f64 + 0.5) / self.m as f64;
        self.rise.0 += cr * a;
        self.rise.1 += ci * a;
        self.fall.0 += cr * (1.0 - a);
        self.fall.1 += ci * (1.0 - a);
        self.ph = (
            self.ph.0 * self.step.0 - self.ph.1 * self.step.1,
            self.ph.0 * self.step.1 + self.ph.1 * self.step.0,
        );
        self.j += 1;
        if self.j == self.m {
            self.end_block();
        }
    }

    fn end_block(&mut self) {
        if self.have_prev {
            let z = (self.rise_prev.0 + self.fall.0, self.rise_prev.1 + self.fall.1);
            let t = (self.block_start as f64 - 0.5) / self.fs;
            self.emit(z, t);
        }
        self.rise_prev = self.rise;
        self.rise = (0.0, 0.0);
        self.fall = (0.0, 0.0);
        self.have_prev = true;
        self.block_start += self.m as u64;
        self.j = 0;
        // Re-anchor the oscillator exactly so rounding never accumulates.
        let cyc = (self.cycles_per_sample * self.block_start as f64).fract();
        let p = -2.0 * PI * cyc;
        self.ph = (p.cos(), p.sin());
    }

    fn emit(&mut self, z: (f64, f64), t: f64) {
        let amp = z.0.hypot(z.1);
        self.emitted += 1;
        if self.emitted > 16 && amp < 0.3 * self.amp_level {
            return; // a dropout: skip, the next good point unwraps against the last good one
        }
        self.amp_level =
            if self.emitted <= 16 { self.amp_level.max(amp) } else { 0.98 * self.amp_level + 0.02 * amp };
        let phase = z.1.atan2(z.0);
        match self.last_phase {
            None => self.unwrapped = phase,
            Some(prev) => {
                let mut d = phase - prev;
                d -= 2.0 * PI * (d / (2.0 * PI)).round();
                self.unwrapped += d;
            }
        }
        self.last_phase = Some(phase);
        self.dec.push(t, self.unwrapped);
    }

    fn fit(&self) -> Option<LineFit> {
        let (x, y, w) = self.dec.points();
        if self.dec.count() < 8 {
            return None;
        }
        fit_line(&x, &y, Some(&w), 5.0)
    }

    /// Raw points in the groups the fit kept (approximately: rejected groups' weights are
    /// taken as the mean group weight).
    fn used_raw_points(&self, fit: &LineFit) -> usize {
        let (_, _, w) = self.dec.points();
        let total: f64 = w.iter().sum();
        let per = total / w.len().max(1) as f64;
        (total - fit.rejected as f64 * per).round().max(0.0) as usize
    }
}
