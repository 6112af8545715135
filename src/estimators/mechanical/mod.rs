//! From the beat timer's accumulators to the mechanical figures, each with a data-derived u95.
//!
//! * Rate: the slope of the tic/toc fit over every accepted beat. Its variance comes from the
//!   residual scatter and the number of beats, inflated for correlation between neighbouring
//!   beats (lag-1 autocorrelation of the residuals, AR(1)) and, with four or more 10 s windows,
//!   for wander of the rate between windows (Birge ratio of the window rates). The recorder
//!   clock's u95 adds in quadrature.
//! * Beat error and amplitude: read once per event window of about 2 s, from the averaged
//!   envelope of each side in that window (unlock: the first sound; drop: the loudest sound
//!   within the physical range after it), then combined by a 20% trimmed mean, so that knocks,
//!   a weak stretch or a dropout cannot bend them. The u95 is the trimmed mean's (from the
//!   winsorised scatter of the windows) with the systematic parts the scatter cannot show: half
//!   the unlock/drop disagreement of the beat error, half the tic/toc disagreement of the
//!   amplitude.
//! * Plausibility: a figure that contradicts physics is not given; a note says what was seen
//!   (an amplitude outside 100..360 deg, or whose u95 is wider than a quarter of that range; a
//!   beat error over a beat; unlock and drop offsets more than 1 ms apart). No u95 is below the
//!   timing resolution.
mod amplitude;
mod beat_error;
mod readings;
mod whole;

use super::events::{self, Events};
use super::fit::FitResult;
use super::pooled::Pooled;
use super::stats::{ar1_inflation, t95};
use crate::beats::timer::{BeatTimer, EventReading, WINDOW_S};
use crate::measurement::{
    correct_rate_s_per_day, Figure, Mechanical, RecorderClock, WindowRate, SECONDS_PER_DAY, S_PER_DAY_PER_PPM,
};
use amplitude::{amplitude_of, onset_u_deg, reconciled_with_whole, Amplitudes};
use beat_error::beat_error_of;
use readings::{amp_by_rule, trimmed, Series, SideReadings, Trimmed};
use whole::{same_drops, WholeAmplitude, WholeAverage};

/// Largest beat-to-beat timing scatter (RMS, ms) of a watch's escapement.
pub const MAX_JITTER_MS: f64 = 1.0;
/// Smallest in-band tick-to-gap ratio (dB) of a watch's ticks.
pub const MIN_SNR_DB: f64 = 3.0;
/// Standard uncertainty of a figure from how its onsets are defined, as a multiple of how far
/// the figure moves between the onset rules (the range of its readings by the steepest rise's
/// tangent's foot, half of the rise and the steepest rise; see [`events::Rules`]). A sharp onset has the rules
/// agree; a sound that grows slowly (a resonant pickup) or whose partials interfere pulls them
/// apart, and where the two sides or the two events sound differently the figure then moves
/// with the rule. Set so that, over sweeps of every synthetic sound family, the u95 covers the
/// truth 90-98% of the time.
pub const RULE_RANGE_K: f64 = 1.0;
/// Fewest event windows (about 2 s each) for a beat error or an amplitude with a u95.
pub const MIN_WINDOWS: usize = 3;
/// The amplitudes a balance can swing, degrees: below about 100 a watch stops, above about 360
/// the impulse pin would knock the banking. A reading outside is never printed.
pub const AMPLITUDE_RANGE_DEG: (f64, f64) = (100.0, 360.0);
/// Largest difference between the unlock-based and drop-based tic/toc offsets, ms, beyond which
/// the beat's sounds are taken as misread (in an escapement both alternate alike).
pub const MAX_EVENT_DISAGREEMENT_MS: f64 = 1.0;
/// Weight of the tic/toc amplitude disagreement in the amplitude's standard uncertainty.
pub const SIDE_DISAGREEMENT_K: f64 = 1.0;
/// Weight of the unlock/drop beat-error disagreement in the beat error's standard uncertainty.
pub const EVENT_DISAGREEMENT_K: f64 = 1.0;
/// Finest timing the sub-sample interpolation resolves, samples: the floor of every timing u95.
pub const TIMING_RESOLUTION_SAMPLES: f64 = 0.02;
/// Standard uncertainty of one onset read on an averaged envelope, samples: the steepest rise
/// is located by a parabola through the sampled slope, whose vertex is pulled towards the
/// nearest sample by up to a fraction of a sample depending on where the onset falls between
/// samples (the peak-locking of parabolic interpolation), and differently for edges of different
/// shape. The amplitude, the time between an unlock and a drop (two unlike edges), carries it;
/// the beat error compares like edges of the two sides, whose pull cancels.
pub const ONSET_RESOLUTION_SAMPLES: f64 = 0.2;

/// Finest amplitude resolution claimed, degrees: the floor of the amplitude's u95.
pub const AMPLITUDE_RESOLUTION_DEG: f64 = 0.1;

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

/// Computes the figures from everything the timer has seen so far (the whole recording, or the
/// audio up to now for a live reading); the timer is not changed.
pub fn estimate(
    timer: &BeatTimer,
    bph: u32,
    forced: bool,
    lift_deg: f64,
    recorder: &RecorderClock,
) -> Result<MechanicalEstimate, NotAWatch> {
    estimate_segments(&[timer], bph, forced, lift_deg, recorder)
}

/// The rate and its 10 s windows from the pooled beat lines.
struct RateReading {
    rate: Figure,
    windows: Vec<WindowRate>,
    spread: Option<f64>,
    /// Apparent beat period (recorder clock), seconds.
    p_app: f64,
    jitter_ms: f64,
}

fn rate_of_segments(p: &Pooled, g: &FitResult, bph: u32, recorder: &RecorderClock) -> RateReading {
    let fs = p.fs;
    let ppm = recorder.recorder_ppm.value;
    let p_nom = 3600.0 / bph as f64;
    let p_app = (p.ref_p + g.b) / fs;
    let rho1 = if p.lag1.1 > 0.0 { p.lag1.0 / p.lag1.1 } else { 0.0 };
    let infl = ar1_inflation(rho1);
    let jitter_ms = {
        let (rss, dof) =
            p.windows.iter().fold((0.0, 0.0), |a, w| (a.0 + w.fit.rss, a.1 + (w.fit.n as f64 - 3.0)));
        if dof > 0.0 {
            (rss / dof).sqrt() / fs * 1000.0
        } else {
            (g.rss / (g.n as f64 - 3.0)).sqrt() / fs * 1000.0
        }
    };
    let rate_of = |b_samples: f64| {
        let per = (p.ref_p + b_samples) / fs;
        correct_rate_s_per_day((p_nom / per - 1.0) * SECONDS_PER_DAY, ppm)
    };
    let drate_db = SECONDS_PER_DAY * p_nom / (p_app * p_app) / fs; // s/day per sample of slope
    let full: Vec<_> =
        p.windows.iter().filter(|w| w.fit.n >= 8 && (w.t1 - w.t0) >= 0.8 * WINDOW_S * fs).copied().collect();
    let windows: Vec<WindowRate> = full
        .iter()
        .map(|w| WindowRate {
            start_s: w.t0 / fs,
            end_s: w.t1 / fs,
            rate_s_per_day: Figure::new(
                rate_of(w.fit.b),
                t95(w.fit.n - 3) * (w.fit.var_b * infl).sqrt() * drate_db,
            ),
            beats: w.fit.n,
        })
        .collect();
    // The timing resolution bounds the slope from below, however clean the recording.
    let n = g.n as f64;
    let var_floor = TIMING_RESOLUTION_SAMPLES.powi(2) * 12.0 / (n * (n * n - 1.0)).max(1.0);
    let mut var_b = (g.var_b * infl).max(var_floor);
    if full.len() >= 4 {
        let chi2: f64 = full.iter().map(|w| (w.fit.b - g.b).powi(2) / (w.fit.var_b * infl).max(1e-30)).sum();
        var_b *= (chi2 / (full.len() - 1) as f64).max(1.0);
    }
    let rate = rate_of(g.b);
    let u_watch = t95(g.n - 3) * var_b.sqrt() * drate_db;
    let u_rec = recorder.recorder_ppm.u95 * S_PER_DAY_PER_PPM * (1.0 + rate / SECONDS_PER_DAY);
    let spread = (windows.len() >= 2).then(|| {
        let m = windows.iter().map(|w| w.rate_s_per_day.value).sum::<f64>() / windows.len() as f64;
        (windows.iter().map(|w| (w.rate_s_per_day.value - m).powi(2)).sum::<f64>()
            / (windows.len() - 1) as f64)
            .sqrt()
    });
    RateReading { rate: Figure::new(rate, u_watch.hypot(u_rec)), windows, spread, p_app, jitter_ms }
}

/// [`estimate`] over the segments of one recording (the analyser starts a new one when the
/// beats stop matching; see [`Pooled`]).
pub fn estimate_segments(
    timers: &[&BeatTimer],
    bph: u32,
    forced: bool,
    lift_deg: f64,
    recorder: &RecorderClock,
) -> Result<MechanicalEstimate, NotAWatch> {
    let pooled = Pooled::of(timers);
    let main = pooled.main();
    let t = main.templates().clone();
    let fs = t.fs;
    let clock = 1.0 + recorder.recorder_ppm.value * 1e-6;
    let slots = pooled.slots;
    let accepted_frac = pooled.accepted as f64 / slots.max(1) as f64;
    let mean_rho = pooled.rho_sum / pooled.accepted.max(1) as f64;
    let p_nom = 3600.0 / bph as f64;
    let Some(g) = pooled.global.solve().filter(|_| pooled.accepted >= 12 && accepted_frac >= 0.4) else {
        return Err(NotAWatch(format!(
            "ticks at {bph} bph were heard in only {} of {} beat slots ({:.0}%): not a steady watch signal",
            pooled.accepted,
            slots,
            100.0 * accepted_frac
        )));
    };
    let RateReading { rate: rate_fig, windows, spread, p_app, jitter_ms } =
        rate_of_segments(&pooled, &g, bph, recorder);
    // An escapement repeats its sound to within a fraction of a millisecond; rhythmic sound
    // (music, a drum machine) drifts by milliseconds even when its tempo is steady.
    let max_jitter_ms = MAX_JITTER_MS.min(0.02 * p_nom * 1000.0);
    if jitter_ms > max_jitter_ms {
        return Err(NotAWatch(format!(
            "the sounds at {bph} bph scatter by {jitter_ms:.2} ms from beat to beat (a watch's escapement \
             stays within {max_jitter_ms:.2} ms): not a watch"
        )));
    }
    let snr_db = pooled.snr_db;
    if snr_db < MIN_SNR_DB {
        return Err(NotAWatch(format!(
            "the repeating sound at {bph} bph stands only {snr_db:.1} dB above the sound between beats \
             (at least {MIN_SNR_DB} dB for a tick): not a watch"
        )));
    }
    let readings = &pooled.readings;
    // Beat error and amplitude: one reading per event window (about 2 s), combined robustly.
    let p_true = p_app / clock;
    let t_osc = 2.0 * p_true;
    let ms = |samples: f64| samples / fs / clock * 1000.0;
    let amp_of = |ut: f64| {
        let t_s = ut / fs / clock;
        lift_deg / (2.0 * (std::f64::consts::PI * t_s / t_osc).sin())
    };
    let sides = SideReadings::of(readings, amp_of, events::MERGE_S * fs);
    let floor_ms = ms(TIMING_RESOLUTION_SAMPLES);
    let (beat_error, beat_error_note) = beat_error_of(&sides, ms, floor_ms, p_true * 1000.0);
    let onset_deg = onset_u_deg(&sides, amp_of);
    let quality = (accepted_frac * mean_rho * mean_rho).clamp(0.0, 1.0);
    let whole = WholeAverage::of(main, amp_of, onset_deg);
    // The average's figures stand only where it hears the drops the windows hear.
    let whole_amp = whole.amplitude.filter(|_| same_drops(&sides, &whole.events, events::MERGE_S * fs));
    let Amplitudes { mean: amp, sides: [tic_amp, toc_amp], note, ut } =
        reconciled_with_whole(amplitude_of(&sides, onset_deg), whole.deg, whole_amp.as_ref());
    let WholeAverage { envelopes, events: whole_events, .. } = whole;
    let waveforms = {
        let [e0, e1] = envelopes;
        let mark = |e: Option<Events>, samples: Vec<f32>| AveragedBeat {
            dt_ms: 1000.0 / fs,
            samples,
            unlock_ms: e.map_or(f64::NAN, |e| e.unlock / fs * 1000.0),
            drop_ms: e.and_then(|e| e.drop.map(|d| d / fs * 1000.0)),
        };
        [mark(whole_events[0], e0), mark(whole_events[1], e1)]
    };
    let paper_strip = pooled.paper_strip(p_nom);
    Ok(MechanicalEstimate {
        mechanical: Mechanical {
            bph,
            bph_source: if forced { "forced" } else { "auto" }.into(),
            rate_s_per_day: rate_fig,
            beat_error_ms: beat_error,
            beat_error_note,
            amplitude_deg: amp,
            tic_amplitude_deg: tic_amp,
            toc_amplitude_deg: toc_amp,
            amplitude_note: note,
            lift_angle_deg: lift_deg,
            unlock_to_drop_ms: ut.map(|t| t.map(ms)),
            jitter_ms,
            rate_spread_s_per_day: spread,
            windows,
            beats_used: pooled.accepted as usize,
            beats_rejected: (slots - pooled.accepted) as usize,
        },
        quality,
        snr_db,
        waveforms,
        paper_strip,
    })
}
