//! From the beat timer's accumulators to the mechanical figures, each with a data-derived u95.
//!
//! * Rate: the slope of the tic/toc fit over every accepted beat. Its variance comes from the
//!   residual scatter and the number of beats, inflated for correlation between neighbouring
//!   beats (lag-1 autocorrelation of the residuals, AR(1)) and, with four or more 10 s windows,
//!   for wander of the rate between windows (Birge ratio of the window rates). The recorder
//!   clock's u95 adds in quadrature.
//! * Beat error: the fitted tic/toc offset, moved from the templates' reference point to the
//!   unlock onsets measured in the whole-recording averages; u95 from the fit and a delete-one
//!   jackknife over stretches of the recording.
//! * Amplitude: unlock-to-drop time in the whole-recording average of each side, converted with
//!   `L / (2 sin(pi t / T))` at the measured oscillation period; u95 from the jackknife.
use super::events::{self, Events};
use super::stats::{ar1_inflation, jackknife_se, t95};
use crate::beats::template::{upsampled_envelope, UPSAMPLE};
use crate::beats::timer::{BeatTimer, WINDOW_S};
use crate::conditioning::spectral::{Band, Spectral, C32, C64};
use crate::measurement::{
    correct_rate_s_per_day, Figure, Mechanical, RecorderClock, WindowRate, SECONDS_PER_DAY, S_PER_DAY_PER_PPM,
};

/// Mechanical figures plus the signal figures the measurement reports beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct MechanicalEstimate {
    /// The figures.
    pub mechanical: Mechanical,
    /// Signal quality 0..1.
    pub quality: f64,
    /// Tick-to-noise ratio in the analysis band, dB.
    pub snr_db: f64,
    /// Averaged tic and toc waveforms (band-limited), with unlock and drop marks, for plots.
    pub waveforms: [AveragedBeat; 2],
}

/// An averaged beat of one side, for plots.
#[derive(Debug, Clone, PartialEq)]
pub struct AveragedBeat {
    /// Sample spacing, ms.
    pub dt_ms: f64,
    /// The waveform (arbitrary units), from the frame origin.
    pub samples: Vec<f32>,
    /// Unlock onset, ms from the frame origin.
    pub unlock_ms: f64,
    /// Drop onset, ms from the frame origin.
    pub drop_ms: Option<f64>,
}

/// Why no figures could be given although acquisition found ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct NotAWatch(pub String);

struct SideEvents {
    ev: [Events; 2],
}

struct EventFinder {
    up: Spectral,
    half: Vec<C32>,
    out: Vec<C32>,
    env: Vec<f32>,
    n: usize,
}

impl EventFinder {
    fn new(n: usize, fs: f64) -> Self {
        let nu = n * UPSAMPLE;
        EventFinder {
            up: Spectral::new(nu, fs * UPSAMPLE as f64, Band::ticks(fs)),
            half: vec![C32::default(); nu / 2 + 1],
            out: vec![C32::default(); nu],
            env: vec![0.0; nu],
            n,
        }
    }
    fn events(&mut self, spec: &[C64], hint: &Events, radius: f64) -> Events {
        upsampled_envelope(&mut self.up, spec, &mut self.half, &mut self.out, &mut self.env);
        let u = UPSAMPLE as f64;
        let h = Events { unlock: hint.unlock * u, drop: hint.drop.map(|d| d * u), ..*hint };
        let r = events::refine(&self.env, &h, radius * u);
        Events {
            unlock: r.unlock / u,
            drop: r.drop.map(|d| d / u),
            unlock_spread: r.unlock_spread / u,
            drop_spread: r.drop_spread / u,
            ..r
        }
    }
    fn frame(&self) -> usize {
        self.n
    }
}

fn averaged(spec_sum: &[C64], count: f64) -> Vec<C64> {
    spec_sum.iter().map(|v| v / count.max(1.0)).collect()
}

/// Computes the figures from everything the timer has seen so far (the whole recording, or the
/// audio up to now for a live reading); the timer is not changed.
pub fn estimate(
    timer: &BeatTimer,
    bph: u32,
    forced: bool,
    lift_deg: f64,
    recorder: &RecorderClock,
) -> Result<MechanicalEstimate, NotAWatch> {
    let all_windows: Vec<_> = timer.windows.iter().copied().chain(timer.open_window()).collect();
    let t = timer.templates().clone();
    let fs = t.fs;
    let ppm = recorder.recorder_ppm.value;
    let clock = 1.0 + ppm * 1e-6;
    let slots = timer.accepted + timer.rejected.iter().sum::<u64>();
    let accepted_frac = timer.accepted as f64 / slots.max(1) as f64;
    let mean_rho = timer.rho_sum / timer.accepted.max(1) as f64;
    let p_nom = 3600.0 / bph as f64;
    let g = timer.global.solve();
    let Some(g) = g.filter(|_| timer.accepted >= 12 && accepted_frac >= 0.4) else {
        return Err(NotAWatch(format!(
            "ticks at {bph} bph were heard in only {} of {} beat slots ({:.0}%): not a steady watch signal",
            timer.accepted,
            slots,
            100.0 * accepted_frac
        )));
    };
    let (_, ref_p) = timer.reference();
    let p_app = (ref_p + g.b) / fs;
    // Lag-1 autocorrelation pooled over windows; the window rates for the spread and Birge.
    let (l1, l1n) = all_windows.iter().fold((0.0, 0.0), |a, w| (a.0 + w.lag1, a.1 + w.lag1_norm));
    let rho1 = if l1n > 0.0 { l1 / l1n } else { 0.0 };
    let infl = ar1_inflation(rho1);
    let jitter_ms = {
        let (rss, dof) =
            timer.windows.iter().fold((0.0, 0.0), |a, w| (a.0 + w.fit.rss, a.1 + (w.fit.n as f64 - 3.0)));
        if dof > 0.0 {
            (rss / dof).sqrt() / fs * 1000.0
        } else {
            (g.rss / (g.n as f64 - 3.0)).sqrt() / fs * 1000.0
        }
    };
    if jitter_ms > 0.1 * p_nom * 1000.0 {
        return Err(NotAWatch(format!(
            "the sounds at {bph} bph scatter by {jitter_ms:.1} ms from beat to beat: not a watch's escapement"
        )));
    }
    let rate_of = |b_samples: f64| {
        let p = (ref_p + b_samples) / fs;
        correct_rate_s_per_day((p_nom / p - 1.0) * SECONDS_PER_DAY, ppm)
    };
    let drate_db = SECONDS_PER_DAY * p_nom / (p_app * p_app) / fs; // s/day per sample of slope
    let mut windows = Vec::new();
    let full: Vec<_> = timer
        .windows
        .iter()
        .filter(|w| w.fit.n >= 8 && (w.t1 - w.t0) >= 0.8 * WINDOW_S * fs)
        .copied()
        .collect();
    for w in &full {
        let u = t95(w.fit.n - 3) * (w.fit.var_b * infl).sqrt() * drate_db;
        windows.push(WindowRate {
            start_s: w.t0 / fs,
            end_s: w.t1 / fs,
            rate_s_per_day: Figure::new(rate_of(w.fit.b), u),
            beats: w.fit.n,
        });
    }
    let mut var_b = g.var_b * infl;
    if full.len() >= 4 {
        let chi2: f64 = full.iter().map(|w| (w.fit.b - g.b).powi(2) / (w.fit.var_b * infl).max(1e-30)).sum();
        let birge2 = chi2 / (full.len() - 1) as f64;
        var_b *= birge2.max(1.0);
    }
    let rate = rate_of(g.b);
    let u_watch = t95(g.n - 3) * var_b.sqrt() * drate_db;
    let u_rec = recorder.recorder_ppm.u95 * S_PER_DAY_PER_PPM * (1.0 + rate / SECONDS_PER_DAY);
    let rate_fig = Figure::new(rate, (u_watch * u_watch + u_rec * u_rec).sqrt());
    let spread = (windows.len() >= 2).then(|| {
        let m = windows.iter().map(|w| w.rate_s_per_day.value).sum::<f64>() / windows.len() as f64;
        (windows.iter().map(|w| (w.rate_s_per_day.value - m).powi(2)).sum::<f64>()
            / (windows.len() - 1) as f64)
            .sqrt()
    });
    // Whole-recording averages and the jackknife over groups.
    let groups_used = timer.groups_used();
    let mut finder = EventFinder::new(t.n, fs);
    let hints = [t.sides[0].events, t.sides[1].events];
    let radius = (0.0004 * fs).max(3.0);
    let total: [Vec<C64>; 2] = std::array::from_fn(|s| {
        let mut acc = vec![C64::default(); finder.frame() / 2 + 1];
        for gr in &timer.groups[..groups_used] {
            for (a, v) in acc.iter_mut().zip(&gr.sum[s]) {
                *a += *v;
            }
        }
        acc
    });
    let counts: [f64; 2] =
        std::array::from_fn(|s| timer.groups[..groups_used].iter().map(|gr| gr.count[s] as f64).sum());
    let p_true = p_app / clock;
    let t_osc = 2.0 * p_true;
    let side_events = |finder: &mut EventFinder, sums: &[Vec<C64>; 2], cnt: &[f64; 2]| SideEvents {
        ev: std::array::from_fn(|s| finder.events(&averaged(&sums[s], cnt[s]), &hints[s], radius)),
    };
    let amp_of = |e: &Events| {
        e.drop.map(|d| {
            let t_s = (d - e.unlock) / fs / clock;
            lift_deg / (2.0 * (std::f64::consts::PI * t_s / t_osc).sin())
        })
    };
    let corr_of = |se: &SideEvents| {
        (se.ev[1].unlock - t.sides[1].events.unlock) - (se.ev[0].unlock - t.sides[0].events.unlock)
    };
    let whole = side_events(&mut finder, &total, &counts);
    let amp_whole = [amp_of(&whole.ev[0]), amp_of(&whole.ev[1])];
    let mut reps_amp: [Vec<f64>; 3] = [vec![], vec![], vec![]];
    let mut reps_corr = vec![];
    if groups_used >= 2 {
        for gr in &timer.groups[..groups_used] {
            let sums: [Vec<C64>; 2] =
                std::array::from_fn(|s| total[s].iter().zip(&gr.sum[s]).map(|(a, b)| a - b).collect());
            let cnt: [f64; 2] = std::array::from_fn(|s| counts[s] - gr.count[s] as f64);
            if cnt[0] < 1.0 || cnt[1] < 1.0 {
                continue;
            }
            let se = side_events(&mut finder, &sums, &cnt);
            reps_corr.push(corr_of(&se));
            let (a0, a1) = (amp_of(&se.ev[0]), amp_of(&se.ev[1]));
            if let (Some(a0), Some(a1)) = (a0, a1) {
                reps_amp[0].push(a0);
                reps_amp[1].push(a1);
                reps_amp[2].push(0.5 * (a0 + a1));
            }
        }
    }
    let jk = |v: &[f64]| if v.len() >= 2 { t95(v.len() - 1) * jackknife_se(v) } else { f64::NAN };
    // Beat error.
    let c_unlock = g.c + corr_of(&whole);
    let u_c_fit = t95(g.n - 3) * (g.var_c * infl).sqrt();
    let u_c_jk = jk(&reps_corr);
    let u_c = (u_c_fit * u_c_fit + if u_c_jk.is_finite() { u_c_jk * u_c_jk } else { 0.0 }).sqrt();
    let beat_error = Figure::new(c_unlock.abs() / fs / clock * 1000.0, u_c / fs / clock * 1000.0);
    // Amplitude.
    let mut note = None;
    let (amp, tic_amp, toc_amp) = match (amp_whole[0], amp_whole[1]) {
        (Some(a0), Some(a1)) if reps_amp[2].len() >= 2 && a0.is_finite() && a1.is_finite() => (
            Some(Figure::new(0.5 * (a0 + a1), jk(&reps_amp[2]))),
            Some(Figure::new(a0, jk(&reps_amp[0]))),
            Some(Figure::new(a1, jk(&reps_amp[1]))),
        ),
        (Some(_), Some(_)) => {
            note = Some("too few beats to give the amplitude an uncertainty; record longer".to_string());
            (None, None, None)
        }
        _ => {
            note = Some(
                "no drop sound found after the unlock within the physical range of amplitudes".to_string(),
            );
            (None, None, None)
        }
    };
    let unlock_to_drop_ms = match (whole.ev[0].drop, whole.ev[1].drop) {
        (Some(d0), Some(d1)) => Some([
            (d0 - whole.ev[0].unlock) / fs / clock * 1000.0,
            (d1 - whole.ev[1].unlock) / fs / clock * 1000.0,
        ]),
        _ => None,
    };
    let snr_db = 10.0 * ((timer.tick_energy_sum / t.lt as f64) / timer.noise_power_sum.max(1e-30)).log10();
    let quality = (accepted_frac * mean_rho * mean_rho).clamp(0.0, 1.0);
    let waveforms = std::array::from_fn(|s| AveragedBeat {
        dt_ms: 1000.0 / fs,
        samples: t.sides[s].waveform.clone(),
        unlock_ms: whole.ev[s].unlock / fs * 1000.0,
        drop_ms: whole.ev[s].drop.map(|d| d / fs * 1000.0),
    });
    Ok(MechanicalEstimate {
        mechanical: Mechanical {
            bph,
            bph_source: if forced { "forced" } else { "auto" }.into(),
            rate_s_per_day: rate_fig,
            beat_error_ms: beat_error,
            amplitude_deg: amp,
            tic_amplitude_deg: tic_amp,
            toc_amplitude_deg: toc_amp,
            amplitude_note: note,
            lift_angle_deg: lift_deg,
            unlock_to_drop_ms,
            jitter_ms,
            rate_spread_s_per_day: spread,
            windows,
            beats_used: timer.accepted as usize,
            beats_rejected: (slots - timer.accepted) as usize,
        },
        quality,
        snr_db,
        waveforms,
    })
}
