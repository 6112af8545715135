//! Tic and toc templates: the averaged waveform of each side of the beat, aligned to a fraction
//! of a sample, with its unlock and drop onsets; built once from the acquisition segment and
//! then frozen, so every beat of the recording is timed against the same reference.
use super::acquire::Lock;
use crate::conditioning::spectral::{accumulate_shifted, find_peak, Band, Spectral, C32, C64};
use crate::estimators::events::{self, Events};
use crate::estimators::fit::TicTocFit;

/// Upsampling factor of the envelopes in which onsets are located.
pub const UPSAMPLE: usize = 4;

/// One side of the beat (0 = tic, the side heard first; 1 = toc).
#[derive(Debug, Clone)]
pub struct SideTemplate {
    /// Band-weighted spectrum of the frozen template in the timer's frame (length `n/2+1`).
    pub spectrum: Vec<C32>,
    /// Energy of the correlation template (time domain), for normalised correlation.
    pub energy: f64,
    /// Unlock and drop onsets in frame samples (from the frame origin).
    pub events: Events,
    /// The averaged waveform, `lt` samples from the frame origin (for plots).
    pub waveform: Vec<f32>,
}

/// Everything the timer needs, fixed at acquisition.
#[derive(Debug, Clone)]
pub struct Templates {
    /// Sample rate, Hz.
    pub fs: f64,
    /// Timer frame length (FFT size).
    pub n: usize,
    /// Template length in samples (the frame origin is `pre` samples before the unlock).
    pub lt: usize,
    /// Search half-width around a predicted beat, samples.
    pub search: usize,
    /// The two sides.
    pub sides: [SideTemplate; 2],
    /// Beat period measured in the acquisition, samples.
    pub beat_period: f64,
    /// Unlock time of the first side-0 beat, samples from the start of the recording.
    pub first_unlock: f64,
    /// Fitted offset of side 1 against side 0, samples.
    pub side_offset: f64,
    /// Median normalised correlation of the acquisition beats against their template.
    pub median_rho: f64,
    /// Unlock-to-drop range accepted, samples.
    pub t_range: (f64, f64),
    /// Beats used to build the templates.
    pub beats_used: usize,
}

/// Why templates could not be built.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError(pub String);

struct AcqBeat {
    side: usize,
    slot: i64,
    wstart: i64,
    spec: Vec<C32>,
    energy: f64,
    lag: f64,
    rho: f64,
}

fn frame_energy(spec: &[C32], n: usize) -> f64 {
    let mut e = 0.0f64;
    for (k, v) in spec.iter().enumerate() {
        let w = if k == 0 || k == n / 2 { 1.0 } else { 2.0 };
        e += w * v.norm_sqr() as f64;
    }
    e / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let k = v.len() / 2;
    *v.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
}

/// Envelope of a half spectrum of an `n` frame, upsampled [`UPSAMPLE`] times.
pub fn upsampled_envelope(
    up: &mut Spectral,
    spec: &[C64],
    scratch_half: &mut [C32],
    out: &mut [C32],
    env: &mut [f32],
) {
    for v in scratch_half.iter_mut() {
        *v = C32::default();
    }
    for (d, s) in scratch_half.iter_mut().zip(spec) {
        *d = C32::new(s.re as f32, s.im as f32);
    }
    up.analytic(scratch_half, out);
    for (e, v) in env.iter_mut().zip(out.iter()) {
        *e = v.norm();
    }
}

/// Builds the templates from the acquisition samples `x`.
pub fn build(x: &[f32], fs: f64, lock: &Lock, lift_deg: f64) -> Result<Templates, TemplateError> {
    let p = lock.beat_period_s * fs;
    let half = (0.3 * p).ceil() as i64;
    let s0 = (0.0025 * fs).max(0.05 * p).ceil() as i64;
    let n0 = ((2 * half + 2 * s0) as usize).next_power_of_two();
    let band = Band::ticks(fs);
    let mut sp = Spectral::new(n0, fs, band);
    let bins0 = sp.bins();
    let mut beats: Vec<AcqBeat> = Vec::new();
    let t_osc = 2.0 * lock.beat_period_s;
    for side in 0..2 {
        let first = lock.first_tic_s + if side == 1 { lock.toc_offset_s } else { 0.0 };
        let mut j = 0i64;
        loop {
            let centre = ((first + j as f64 * t_osc) * fs).round() as i64;
            let wstart = centre - (n0 as i64) / 2;
            if wstart + n0 as i64 > x.len() as i64 {
                break;
            }
            if wstart >= 0 {
                let mut spec = vec![C32::default(); bins0];
                sp.forward_weighted(&x[wstart as usize..wstart as usize + n0], &mut spec);
                let energy = frame_energy(&spec, n0);
                beats.push(AcqBeat {
                    side,
                    slot: 2 * j + side as i64,
                    wstart,
                    spec,
                    energy,
                    lag: 0.0,
                    rho: 0.0,
                });
            }
            j += 1;
        }
    }
    if beats.iter().filter(|b| b.side == 0).count() < 3 || beats.iter().filter(|b| b.side == 1).count() < 3 {
        return Err(TemplateError("too few beats in the recording to learn their sound".into()));
    }
    // Seed each side with its median-energy beat, then align and average three times.
    let mut tmpl: [Vec<C32>; 2] = [vec![], vec![]];
    for (side, t) in tmpl.iter_mut().enumerate() {
        let mut idx: Vec<usize> = (0..beats.len()).filter(|&i| beats[i].side == side).collect();
        idx.sort_by(|&a, &b| beats[a].energy.total_cmp(&beats[b].energy));
        *t = beats[idx[idx.len() / 2]].spec.clone();
    }
    let mut acorr = vec![C32::default(); n0];
    let mut window = vec![C32::default(); (2 * s0 + 3) as usize];
    let mut acc = vec![C64::default(); bins0];
    for _iter in 0..3 {
        for side in 0..2 {
            let t_energy = frame_energy(&tmpl[side], n0);
            for b in beats.iter_mut().filter(|b| b.side == side) {
                sp.analytic_xcorr(&b.spec, &tmpl[side], &mut acorr);
                for (i, w) in window.iter_mut().enumerate() {
                    *w = acorr[(i as i64 - s0 - 1).rem_euclid(n0 as i64) as usize];
                }
                let pk = find_peak(&window, 1, window.len() - 2).expect("window long enough");
                b.lag = pk.lag - (s0 + 1) as f64;
                b.rho = pk.magnitude as f64 / (b.energy * t_energy).sqrt().max(1e-30);
            }
            let mut rhos: Vec<f64> = beats.iter().filter(|b| b.side == side).map(|b| b.rho).collect();
            let med = median(&mut rhos);
            acc.iter_mut().for_each(|a| *a = C64::default());
            let mut count = 0.0;
            for b in beats.iter().filter(|b| b.side == side && b.rho >= 0.5 * med) {
                accumulate_shifted(&mut acc, &b.spec, b.lag, n0, 1.0);
                count += 1.0;
            }
            for (t, a) in tmpl[side].iter_mut().zip(&acc) {
                *t = C32::new((a.re / count) as f32, (a.im / count) as f32);
            }
        }
    }
    // Events in each side's averaged *envelope*: on a real watch the unlock-to-drop time changes
    // a little from beat to beat, so waveforms aligned on the loud drop cancel the faint unlock,
    // while their envelopes add up.
    let t_range = events::unlock_to_drop_range(lock.beat_period_s, fs, lift_deg);
    let mut ev: [Option<Events>; 2] = [None, None];
    let mut env_keep: [Vec<f32>; 2] = [vec![], vec![]];
    let mut analytic = vec![C32::default(); n0];
    for side in 0..2 {
        let mut rhos: Vec<f64> = beats.iter().filter(|b| b.side == side).map(|b| b.rho).collect();
        let med = median(&mut rhos);
        let mut sum = vec![0.0f64; n0];
        let mut count = 0.0f64;
        for b in beats.iter().filter(|b| b.side == side && b.rho >= 0.5 * med) {
            sp.analytic(&b.spec, &mut analytic);
            // Advance by the lag (circular in the frame), linear between samples.
            let f = b.lag - b.lag.floor();
            let i0 = b.lag.floor() as i64;
            for (j, acc) in sum.iter_mut().enumerate() {
                let a = analytic[(j as i64 + i0).rem_euclid(n0 as i64) as usize].norm_sqr() as f64;
                let c = analytic[(j as i64 + i0 + 1).rem_euclid(n0 as i64) as usize].norm_sqr() as f64;
                *acc += a * (1.0 - f) + c * f;
            }
            count += 1.0;
        }
        let mut env = vec![0.0f32; n0];
        events::from_power(&sum, count, &mut env);
        let lo = s0 as usize;
        let hi = n0 - lo;
        let e = events::find(&env, lo, hi, t_range, 0.0006 * fs)
            .ok_or_else(|| TemplateError("the averaged beat has no clear onset".into()))?;
        ev[side] = Some(e);
        env_keep[side] = env;
    }
    // Trim to one frame length for both sides: from `pre` before the unlock to the end of the
    // ringing after the last event.
    let pre = (0.0006 * fs).max(8.0);
    let mut extent = 0.0f64;
    for side in 0..2 {
        let e = ev[side].expect("set above");
        let last = e.drop.unwrap_or(e.unlock);
        let env = &env_keep[side];
        let lvl = e.floor + 0.1 * (e.peak - e.floor);
        let mut i = last as usize;
        let limit = ((e.unlock + 0.75 * p) as usize).min(n0 - 1);
        // Past the last event's peak, until the envelope has decayed to a tenth.
        while i + 1 < limit && (env[i + 1] >= env[i] || env[i] > lvl) {
            i += 1;
        }
        extent = extent.max(i as f64 - e.unlock + pre + 0.0003 * fs);
    }
    let lt = (extent.ceil() as usize).clamp(16, (0.75 * p) as usize);
    let search = ((0.03 * p).clamp(0.001 * fs, 0.008 * fs).ceil() as usize).max(4);
    let n = (lt + 2 * search + 8).next_power_of_two();
    let mut spm = Spectral::new(n, fs, band);
    let mut wave0 = vec![0.0f32; n0];
    let mut sides: Vec<SideTemplate> = Vec::with_capacity(2);
    let mut origin = [0.0f64; 2];
    for side in 0..2 {
        sp.inverse_real(&tmpl[side], &mut wave0);
        let e = ev[side].expect("set above");
        let start = (e.unlock - pre).floor();
        origin[side] = start;
        let mut frame = vec![0.0f32; n];
        for (i, f) in frame.iter_mut().take(lt).enumerate() {
            *f = wave0[(start as i64 + i as i64).rem_euclid(n0 as i64) as usize];
        }
        let mut spectrum = vec![C32::default(); n / 2 + 1];
        spm.forward_weighted(&frame, &mut spectrum);
        let mut tw = vec![0.0f32; n];
        spm.inverse_real(&spectrum, &mut tw);
        let energy: f64 = tw.iter().map(|&v| (v as f64) * (v as f64)).sum();
        sides.push(SideTemplate {
            spectrum,
            energy,
            events: Events { unlock: e.unlock - start, drop: e.drop.map(|d| d - start), ..e },
            waveform: frame[..lt].to_vec(),
        });
    }
    // Unlock times of the acquisition beats give the timer its first prediction.
    let mut fit = TicTocFit::default();
    let mut rhos = Vec::new();
    for b in &beats {
        let unlock = b.wstart as f64 + b.lag + ev[b.side].expect("set").unlock;
        if b.rho > 0.3 {
            fit.add(b.slot as f64, b.side as f64, unlock);
            rhos.push(b.rho);
        }
    }
    let f = fit.solve().ok_or_else(|| TemplateError("the beats do not line up in time".into()))?;
    let median_rho = median(&mut rhos);
    let [s0t, s1t]: [SideTemplate; 2] = sides.try_into().expect("two sides");
    let _ = origin;
    Ok(Templates {
        fs,
        n,
        lt,
        search,
        sides: [s0t, s1t],
        beat_period: f.b,
        first_unlock: f.a,
        side_offset: f.c,
        median_rho,
        t_range,
        beats_used: rhos.len(),
    })
}
