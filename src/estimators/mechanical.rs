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
use crate::beats::timer::{BeatTimer, WINDOW_S};
use crate::measurement::{
    correct_rate_s_per_day, Figure, Mechanical, RecorderClock, WindowRate, SECONDS_PER_DAY, S_PER_DAY_PER_PPM,
};

/// Standard uncertainty of an onset, as a multiple of its definition spread (the distance
/// between the steepest-rise and half-rise onsets of the same edge). A clean, sharp onset has
/// both rules agree; interference between the partials of a sound pulls them apart, and the
/// true onset is then known only to about that distance. The factor is set so that the u95 of
/// beat error and amplitude covers the truth about 95% of the time over synthetic sweeps of
/// sounds with random partials (tests/mechanical_coverage.rs).
pub const ONSET_SPREAD_K: f64 = 1.7;

/// Largest beat-to-beat timing scatter (RMS, ms) of a watch's escapement.
pub const MAX_JITTER_MS: f64 = 1.0;
/// Smallest in-band tick-to-gap ratio (dB) of a watch's ticks.
pub const MIN_SNR_DB: f64 = 3.0;

/// [`ONSET_SPREAD_K`] for the amplitude, whose two onsets are a faint and a loud sound.
pub const AMPLITUDE_SPREAD_K: f64 = 2.6;

/// Weight of the tic/toc amplitude disagreement in the amplitude's standard uncertainty.
pub const SIDE_DISAGREEMENT_K: f64 = 1.8;
/// Weight of the unlock/drop beat-error disagreement in the beat error's standard uncertainty.
pub const EVENT_DISAGREEMENT_K: f64 = 1.0;

/// Mechanical figures plus the signal figures the measurement reports beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct MechanicalEstimate {
    /// The figures.
    pub mechanical: Mechanical,
    /// Signal quality 0..1.
    pub quality: f64,
    /// Tick-to-noise ratio in the analysis band, dB.
    pub snr_db: f64,
    /// Averaged tic and toc envelopes (band-limited, noise pedestal removed), with the unlock and
    /// drop marks used for the amplitude, for plots.
    pub waveforms: [AveragedBeat; 2],
    /// The paper strip: every used beat (thinned for long recordings) as (time s, deviation ms
    /// from the nominal beat grid, + = early, side 0 tic / 1 toc).
    pub paper_strip: Vec<(f64, f64, u8)>,
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
    env: Vec<f32>,
}

impl EventFinder {
    fn new(n: usize) -> Self {
        EventFinder { env: vec![0.0; n] }
    }
    fn events(&mut self, sum: &[f64], count: f64, hint: &Events, radius: f64) -> Events {
        events::from_power(sum, count, &mut self.env);
        events::refine(&self.env, hint, radius)
    }
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
    // An escapement repeats its sound to within a fraction of a millisecond; rhythmic sound
    // (music, a drum machine) drifts by milliseconds even when its tempo is steady.
    let max_jitter_ms = MAX_JITTER_MS.min(0.02 * p_nom * 1000.0);
    if jitter_ms > max_jitter_ms {
        return Err(NotAWatch(format!(
            "the sounds at {bph} bph scatter by {jitter_ms:.2} ms from beat to beat (a watch's escapement \
             stays within {max_jitter_ms:.2} ms): not a watch"
        )));
    }
    let snr_db = 10.0 * ((timer.tick_energy_sum / t.lt as f64) / timer.noise_power_sum.max(1e-30)).log10();
    if snr_db < MIN_SNR_DB {
        return Err(NotAWatch(format!(
            "the repeating sound at {bph} bph stands only {snr_db:.1} dB above the sound between beats \
             (at least {MIN_SNR_DB} dB for a tick): not a watch"
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
    let mut finder = EventFinder::new(t.n);
    let hints = [t.sides[0].events, t.sides[1].events];
    let radius = (0.0004 * fs).max(3.0);
    let total: [Vec<f64>; 2] = std::array::from_fn(|s| {
        let mut acc = vec![0.0f64; t.n];
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
    let side_events = |finder: &mut EventFinder, sums: &[Vec<f64>; 2], cnt: &[f64; 2]| SideEvents {
        ev: std::array::from_fn(|s| finder.events(&sums[s], cnt[s], &hints[s], radius)),
    };
    let amp_of = |e: &Events| {
        e.drop.map(|d| {
            let t_s = (d - e.unlock) / fs / clock;
            lift_deg / (2.0 * (std::f64::consts::PI * t_s / t_osc).sin())
        })
    };
    // The beat error is read twice, between the unlocks and between the drops (in the
    // escapement both alternate alike: the lift zone is crossed in the same time both ways), from
    // different sounds with independent onset errors. Their mean halves what one misread onset
    // does, and half their difference measures it.
    let by_drop = t.sides[0].events.drop.is_some() && t.sides[1].events.drop.is_some();
    let corr_pair = |se: &SideEvents| -> (f64, f64) {
        let u = (se.ev[1].unlock - t.sides[1].events.unlock) - (se.ev[0].unlock - t.sides[0].events.unlock);
        let d = match (by_drop, se.ev[0].drop, se.ev[1].drop) {
            (true, Some(d0), Some(d1)) => (d1 - t.sides[1].events.unlock) - (d0 - t.sides[0].events.unlock),
            _ => u,
        };
        (u, d)
    };
    let corr_of = |se: &SideEvents| {
        let (u, d) = corr_pair(se);
        0.5 * (u + d)
    };
    let whole = side_events(&mut finder, &total, &counts);
    let amp_whole = [amp_of(&whole.ev[0]), amp_of(&whole.ev[1])];
    let mut reps_amp: [Vec<f64>; 3] = [vec![], vec![], vec![]];
    let mut reps_corr = vec![];
    if groups_used >= 2 {
        for gr in &timer.groups[..groups_used] {
            let sums: [Vec<f64>; 2] =
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
    // Onset-definition uncertainty of the amplitude of each side (standard, degrees).
    let amp_onset = |e: &Events, a: Option<f64>| -> f64 {
        match (e.drop, a) {
            (Some(d), Some(a)) => {
                let t_s = (d - e.unlock) / fs / clock;
                let x = std::f64::consts::PI * t_s / t_osc;
                let da_dt = a * (std::f64::consts::PI / t_osc) / x.tan();
                da_dt * AMPLITUDE_SPREAD_K * e.unlock_spread.hypot(e.drop_spread) / fs
            }
            _ => 0.0,
        }
    };
    let ub = [amp_onset(&whole.ev[0], amp_whole[0]), amp_onset(&whole.ev[1], amp_whole[1])];
    let with_b = |u: f64, b: f64| (u * u + (1.96 * b).powi(2)).sqrt();
    // Beat error.
    let c_unlock = g.c + corr_of(&whole);
    let u_c_fit = t95(g.n - 3) * (g.var_c * infl).sqrt();
    let u_c_jk = jk(&reps_corr);
    let (cu, cd) = corr_pair(&whole);
    let spread2 = |e: &Events| 0.5 * e.unlock_spread.hypot(e.drop_spread);
    let u_c_onset = 1.96
        * (ONSET_SPREAD_K * spread2(&whole.ev[0]).hypot(spread2(&whole.ev[1])))
            .hypot(EVENT_DISAGREEMENT_K * 0.5 * (cu - cd).abs());
    let u_c =
        (u_c_fit * u_c_fit + if u_c_jk.is_finite() { u_c_jk * u_c_jk } else { 0.0 } + u_c_onset * u_c_onset)
            .sqrt();
    let beat_error = Figure::new(c_unlock.abs() / fs / clock * 1000.0, u_c / fs / clock * 1000.0);
    // Amplitude.
    let mut note = None;
    let (amp, tic_amp, toc_amp) = match (amp_whole[0], amp_whole[1]) {
        (Some(a0), Some(a1)) if reps_amp[2].len() >= 2 && a0.is_finite() && a1.is_finite() => {
            // In the escapement both sides cross the same lift angle in the same time, so the
            // tic and toc amplitudes differ only by how well their onsets are read: half their
            // difference is what one misread onset does to the mean.
            let d = (a0 - a1).abs();
            let mean_b = (0.25 * ub[0].hypot(ub[1]).powi(2) + (SIDE_DISAGREEMENT_K * 0.5 * d).powi(2)).sqrt();
            (
                Some(Figure::new(0.5 * (a0 + a1), with_b(jk(&reps_amp[2]), mean_b))),
                Some(Figure::new(a0, with_b(jk(&reps_amp[0]), ub[0].hypot(SIDE_DISAGREEMENT_K * d)))),
                Some(Figure::new(a1, with_b(jk(&reps_amp[1]), ub[1].hypot(SIDE_DISAGREEMENT_K * d)))),
            )
        }
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
    let quality = (accepted_frac * mean_rho * mean_rho).clamp(0.0, 1.0);
    let waveforms = std::array::from_fn(|s| {
        let mut env = vec![0.0f32; t.n];
        events::from_power(&total[s], counts[s], &mut env);
        env.truncate((t.lt + t.lt / 5).min(t.n));
        AveragedBeat {
            dt_ms: 1000.0 / fs,
            samples: env,
            unlock_ms: whole.ev[s].unlock / fs * 1000.0,
            drop_ms: whole.ev[s].drop.map(|d| d / fs * 1000.0),
        }
    });
    let paper_strip = {
        let used = timer.records.iter().filter(|r| r.rejected.is_none());
        let first = timer.records.iter().find(|r| r.rejected.is_none()).map(|r| (r.slot, r.t));
        match first {
            Some((k0, t0)) => used
                .map(|r| {
                    let late = (r.t - t0) / fs - (r.slot - k0) as f64 * p_nom;
                    (r.t / fs, -late * 1000.0, (r.slot % 2) as u8)
                })
                .collect(),
            None => Vec::new(),
        }
    };
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
        paper_strip,
    })
}
