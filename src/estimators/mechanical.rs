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
use super::events::{self, Events};
use super::fit::FitResult;
use super::pooled::Pooled;
use super::stats::{ar1_inflation, t95};
use crate::beats::timer::{BeatTimer, EventReading, WINDOW_S};
use crate::measurement::{
    correct_rate_s_per_day, Figure, Mechanical, RecorderClock, WindowRate, SECONDS_PER_DAY, S_PER_DAY_PER_PPM,
};

/// Largest beat-to-beat timing scatter (RMS, ms) of a watch's escapement.
pub const MAX_JITTER_MS: f64 = 1.0;
/// Smallest in-band tick-to-gap ratio (dB) of a watch's ticks.
pub const MIN_SNR_DB: f64 = 3.0;
/// Standard uncertainty of a figure from how its onsets are defined, as a multiple of how far
/// the figure moves between the onset rules (the range of its readings by a fifth of the rise,
/// half of the rise and the steepest rise; see [`events::Rules`]). A sharp onset has the rules
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

/// The amplitude's standard uncertainty from [`ONSET_RESOLUTION_SAMPLES`] on each of its two
/// onsets, at the unlock-to-drop time read (`amp_of` turns one into degrees).
fn onset_u_deg(r: &SideReadings, amp_of: impl Fn(f64) -> f64) -> f64 {
    let n = r.ut.iter().map(Vec::len).sum::<usize>();
    if n == 0 {
        return 0.0;
    }
    let ut = r.ut.iter().flatten().sum::<f64>() / n as f64;
    let d = ONSET_RESOLUTION_SAMPLES;
    let u = std::f64::consts::SQRT_2 * 0.5 * (amp_of(ut - d) - amp_of(ut + d)).abs();
    if u.is_finite() {
        u
    } else {
        0.0
    }
}

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

/// One figure read per window (samples or degrees), with how far each window's reading moves
/// between the onset rules.
#[derive(Debug, Clone, Default)]
struct Series {
    /// The reading per window (by the steepest rise).
    v: Vec<f64>,
    /// The range of the window's readings over the onset rules.
    rule_range: Vec<f64>,
}

impl Series {
    /// Adds one window's readings by every rule (in the order of [`events::Rules`]).
    fn push(&mut self, by_rule: [f64; events::RULES]) {
        let (lo, hi) =
            by_rule.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, &x| (a.0.min(x), a.1.max(x)));
        self.v.push(by_rule[events::STEEPEST]);
        self.rule_range.push(hi - lo);
    }

    /// The standard uncertainty that the choice of onset rule leaves: [`RULE_RANGE_K`] times the
    /// median range over the windows.
    fn rule_u(&self) -> f64 {
        if self.rule_range.is_empty() {
            return 0.0;
        }
        let mut m = self.rule_range.clone();
        let k = m.len() / 2;
        RULE_RANGE_K * *m.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
    }
}

/// The per-window readings of a recording, split by what they measure (samples, degrees).
#[derive(Debug, Clone, Default)]
struct SideReadings {
    /// Unlock-based offset of side 1 against side 0 per window (`c + unlock1 - unlock0`).
    cu: Series,
    /// Drop-based offset per window, where both drops were found.
    cd: Series,
    /// Amplitude per side and window.
    amp: [Series; 2],
    /// Mean amplitude of the two sides per window, where both exist.
    amp_mean: Series,
    /// Unlock-to-drop time per side and window, samples.
    ut: [Vec<f64>; 2],
}

impl SideReadings {
    /// `amp_of` turns an unlock-to-drop time (samples) into an amplitude (degrees).
    fn of(readings: &[EventReading], amp_of: impl Fn(f64) -> f64) -> Self {
        let mut r = SideReadings::default();
        let by_rule = |f: &dyn Fn(usize) -> f64| std::array::from_fn(f);
        for w in readings {
            let [e0, e1] = w.events;
            r.cu.push(by_rule(&|k| w.c + e1.unlock_rules[k] - e0.unlock_rules[k]));
            if let (Some(d0), Some(d1)) = (e0.drop_rules, e1.drop_rules) {
                r.cd.push(by_rule(&|k| w.c + d1[k] - d0[k]));
            }
            let amp = |e: &Events| {
                let d = e.drop_rules?;
                let a: [f64; events::RULES] = by_rule(&|k| amp_of(d[k] - e.unlock_rules[k]));
                a.iter().all(|x| x.is_finite()).then_some(a)
            };
            let a = [amp(&e0), amp(&e1)];
            for (s, (v, e)) in a.iter().zip(&w.events).enumerate() {
                if let (Some(v), Some(d)) = (v, e.drop) {
                    r.amp[s].push(*v);
                    r.ut[s].push(d - e.unlock);
                }
            }
            if let [Some(a0), Some(a1)] = a {
                r.amp_mean.push(by_rule(&|k| 0.5 * (a0[k] + a1[k])));
            }
        }
        r
    }
}

/// A robust location: the 20% trimmed mean (at least one value off each end from four values),
/// with its standard error (Tukey-McLaughlin, from the
/// winsorised variance) and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Trimmed {
    mean: f64,
    se: f64,
    dof: usize,
}

impl Trimmed {
    fn u95(&self) -> f64 {
        t95(self.dof) * self.se
    }
}

/// The 20% trimmed mean of `v` (at least [`MIN_WINDOWS`] values).
fn trimmed(v: &[f64]) -> Option<Trimmed> {
    let n = v.len();
    if n < MIN_WINDOWS {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    // At least one value off each end from four on: a plain mean of four windows would let one
    // misread window in (what few windows leave is then a wide, honest u95).
    let g = ((0.2 * n as f64).floor() as usize).max(usize::from(n >= 4));
    let kept = &s[g..n - g];
    let mean = kept.iter().sum::<f64>() / kept.len() as f64;
    let (lo, hi) = (s[g], s[n - 1 - g]);
    let wmean = s.iter().map(|x| x.clamp(lo, hi)).sum::<f64>() / n as f64;
    let wvar = s.iter().map(|x| (x.clamp(lo, hi) - wmean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let h = kept.len();
    Some(Trimmed {
        mean,
        se: wvar.sqrt() / ((1.0 - 2.0 * g as f64 / n as f64) * (n as f64).sqrt()),
        dof: h - 1,
    })
}

/// Beat error from the window readings, or why it is not given.
fn beat_error_of(
    r: &SideReadings,
    ms: impl Fn(f64) -> f64,
    floor_ms: f64,
    beat_period_ms: f64,
) -> (Option<Figure>, Option<String>) {
    let (Some(cu), cd) = (trimmed(&r.cu.v), trimmed(&r.cd.v)) else {
        return (
            None,
            Some(format!(
                "beat error not measured: fewer than {MIN_WINDOWS} stretches of steady beats to read it from; record longer"
            )),
        );
    };
    // In the escapement the unlocks and the drops alternate alike, so both read the same offset,
    // from different sounds: they are combined by their precision (the drop, louder, usually
    // counts more), and half their difference is a systematic part of the uncertainty that the
    // window-to-window scatter does not show. So is how far the offsets move between the onset
    // rules, weighted alike.
    // The weights count both: an offset read alike by every rule counts more than one that moves
    // with the rule, however steady each is from window to window.
    let (ru, rd) = (r.cu.rule_u(), r.cd.rule_u());
    let (c, rule_u) = match cd {
        Some(cd) => {
            let w = |t: &Trimmed, ru: f64| 1.0 / (t.se.powi(2) + ru.powi(2)).max(1e-18);
            let (wu, wd) = (w(&cu, ru), w(&cd, rd));
            let c = Trimmed {
                mean: (wu * cu.mean + wd * cd.mean) / (wu + wd),
                se: (wu * cu.se).hypot(wd * cd.se) / (wu + wd),
                dof: cu.dof.min(cd.dof),
            };
            (c, (wu * ru + wd * rd) / (wu + wd))
        }
        None => (cu, ru),
    };
    let disagree = cd.map_or(0.0, |d| ms((cu.mean - d.mean).abs()));
    if disagree > MAX_EVENT_DISAGREEMENT_MS {
        return (
            None,
            Some(format!(
                "beat error not measured: the unlocks and the drops give offsets {disagree:.2} ms apart \
                 (an escapement keeps them within {MAX_EVENT_DISAGREEMENT_MS} ms), so the beat's sounds are not read consistently"
            )),
        );
    }
    let value = ms(c.mean.abs());
    if value > 0.45 * beat_period_ms {
        return (
            None,
            Some(format!("beat error not measured: the tic and toc read {value:.1} ms apart from even, more than a beat allows")),
        );
    }
    let u = ms(c.u95())
        .hypot(1.96 * EVENT_DISAGREEMENT_K * 0.5 * disagree)
        .hypot(1.96 * ms(rule_u))
        .max(floor_ms);
    (Some(Figure::new(value, u)), None)
}

/// Amplitude (mean, tic, toc) from the window readings, or why it is not given.
#[allow(clippy::type_complexity)]
fn amplitude_of(
    r: &SideReadings,
    onset_deg: f64,
) -> (Option<Figure>, Option<Figure>, Option<Figure>, Option<String>) {
    let (Some(m), Some(a0), Some(a1)) = (trimmed(&r.amp_mean.v), trimmed(&r.amp[0].v), trimmed(&r.amp[1].v))
    else {
        let why = if r.amp_mean.v.is_empty() {
            "amplitude not measured: no drop sound found after the unlock within the physical range of amplitudes"
                .to_string()
        } else {
            format!(
                "amplitude not measured: a drop was found in only {} stretches of the recording (at least {MIN_WINDOWS} needed); record longer",
                r.amp_mean.v.len()
            )
        };
        return (None, None, None, Some(why));
    };
    if !(AMPLITUDE_RANGE_DEG.0..=AMPLITUDE_RANGE_DEG.1).contains(&m.mean) {
        return (
            None,
            None,
            None,
            Some(format!(
                "amplitude not measured: the sounds read {:.0} deg, outside what a balance swings ({:.0}..{:.0} deg); \
                 the unlock or the drop was not heard as such",
                m.mean, AMPLITUDE_RANGE_DEG.0, AMPLITUDE_RANGE_DEG.1
            )),
        );
    }
    // Both sides cross the same lift angle in the same time, so the tic and toc amplitudes
    // differ only by how well their onsets are read: half their difference is what one misread
    // onset does to the mean.
    let d = 0.5 * (a0.mean - a1.mean).abs();
    let sys = 1.96 * SIDE_DISAGREEMENT_K * d;
    // How far each figure moves between the onset rules, the same in every window.
    let fig = |t: &Trimmed, sys: f64, s: &Series| {
        Figure::new(
            t.mean,
            t.u95().hypot(sys).hypot(1.96 * s.rule_u()).hypot(1.96 * onset_deg).max(AMPLITUDE_RESOLUTION_DEG),
        )
    };
    let mean = fig(&m, sys, &r.amp_mean);
    let widest = (AMPLITUDE_RANGE_DEG.1 - AMPLITUDE_RANGE_DEG.0) / 4.0;
    if mean.u95 > widest {
        return (
            None,
            None,
            None,
            Some(format!(
                "amplitude not measured: the stretches of the recording disagree (about {:.0} +- {:.0} deg, \
                 wider than a quarter of what a balance can swing); record longer, or with the watch closer",
                mean.value, mean.u95
            )),
        );
    }
    (Some(mean), Some(fig(&a0, 2.0 * sys, &r.amp[0])), Some(fig(&a1, 2.0 * sys, &r.amp[1])), None)
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
    let sides = SideReadings::of(readings, amp_of);
    let floor_ms = ms(TIMING_RESOLUTION_SAMPLES);
    let (beat_error, beat_error_note) = beat_error_of(&sides, ms, floor_ms, p_true * 1000.0);
    let (amp, tic_amp, toc_amp, note) = amplitude_of(&sides, onset_u_deg(&sides, amp_of));
    let unlock_to_drop_ms = match (trimmed(&sides.ut[0]), trimmed(&sides.ut[1])) {
        (Some(a), Some(b)) => Some([ms(a.mean), ms(b.mean)]),
        _ => None,
    };
    let quality = (accepted_frac * mean_rho * mean_rho).clamp(0.0, 1.0);
    let whole: [Option<Events>; 2] = std::array::from_fn(|s| {
        let mut env = vec![0.0f32; t.lt];
        events::from_power(&main.whole_sum[s], main.whole_count[s] as f64, &mut env);
        events::find(&env, 0, t.lt, t.t_range, events::MERGE_S * fs, events::quiet_lead(fs))
    });
    let whole_deg = match whole {
        [Some(Events { unlock: u0, drop: Some(d0), .. }), Some(Events { unlock: u1, drop: Some(d1), .. })] => {
            Some(0.5 * (amp_of(d0 - u0) + amp_of(d1 - u1)))
        }
        _ => None,
    };
    let (amp, note) = checked_against_whole(amp, note, whole_deg);
    let waveforms = std::array::from_fn(|s| {
        let mut env = vec![0.0f32; t.lt];
        events::from_power(&main.whole_sum[s], main.whole_count[s] as f64, &mut env);
        AveragedBeat {
            dt_ms: 1000.0 / fs,
            samples: env,
            unlock_ms: whole[s].map_or(f64::NAN, |e| e.unlock / fs * 1000.0),
            drop_ms: whole[s].and_then(|e| e.drop.map(|d| d / fs * 1000.0)),
        }
    });
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
            unlock_to_drop_ms,
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

/// The amplitude of the windows checked against the one read on the average of every beat of
/// the recording (`whole_deg`), whose unlock stands clearer of the noise: where a faint unlock
/// sinks under the noise of the windows' shorter averages, the next sound of the beat is read
/// in its place and every window agrees on the wrong figure. When the two readings differ by
/// more than the windows' u95, their difference is a systematic the u95 did not hold: it is
/// added to it, and a note says so.
fn checked_against_whole(
    amp: Option<Figure>,
    note: Option<String>,
    whole_deg: Option<f64>,
) -> (Option<Figure>, Option<String>) {
    let (Some(a), Some(w)) = (amp, whole_deg) else { return (amp, note) };
    let diff = (w - a.value).abs();
    if !w.is_finite() || diff <= a.u95 {
        return (amp, note);
    }
    let why = format!(
        "the average of every beat reads {w:.0} deg, {diff:.0} deg from the stretches' {:.0}: the difference is in the u95",
        a.value
    );
    let note = Some(match note {
        Some(n) => format!("{n}; {why}"),
        None => why,
    });
    (Some(Figure { value: a.value, u95: a.u95 + diff }), note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(amp: &[(f64, f64)]) -> SideReadings {
        let mut r = SideReadings::default();
        for &(a0, a1) in amp {
            r.amp[0].push([a0; events::RULES]);
            r.amp[1].push([a1; events::RULES]);
            r.amp_mean.push([0.5 * (a0 + a1); events::RULES]);
        }
        r
    }

    #[test]
    fn one_misread_window_in_five_does_not_move_the_amplitude() {
        let r = readings(&[(250.0, 250.0), (251.0, 249.0), (249.0, 251.0), (250.5, 249.5), (340.0, 340.0)]);
        let (a, ..) = amplitude_of(&r, 0.0);
        let a = a.expect("measured");
        assert!((a.value - 250.0).abs() < 0.5 && a.u95 < 5.0, "{a:?}");
    }

    #[test]
    fn an_amplitude_the_windows_disagree_on_is_not_given() {
        let r = readings(&[(120.0, 120.0), (340.0, 340.0), (200.0, 200.0), (300.0, 300.0), (150.0, 150.0)]);
        let (a, tic, toc, note) = amplitude_of(&r, 0.0);
        assert!(a.is_none() && tic.is_none() && toc.is_none());
        assert!(note.unwrap().contains("disagree"));
    }

    #[test]
    fn a_whole_recording_reading_within_the_u95_leaves_the_amplitude_as_it_is() {
        let a = Some(Figure { value: 250.0, u95: 3.0 });
        assert_eq!(checked_against_whole(a, None, Some(252.0)), (a, None));
        assert_eq!(checked_against_whole(a, None, None), (a, None));
    }

    #[test]
    fn a_whole_recording_reading_beyond_the_u95_widens_it_and_says_so() {
        let a = Some(Figure { value: 285.0, u95: 6.0 });
        let (w, note) = checked_against_whole(a, Some("tic and toc".into()), Some(273.0));
        assert_eq!(w, Some(Figure { value: 285.0, u95: 18.0 }));
        let note = note.unwrap();
        assert!(note.starts_with("tic and toc; ") && note.contains("273 deg"), "{note}");
    }

    #[test]
    fn an_impossible_amplitude_is_not_given() {
        let r = readings(&[(460.0, 460.0); 5]);
        let (a, .., note) = amplitude_of(&r, 0.0);
        assert!(a.is_none() && note.unwrap().contains("outside what a balance swings"));
    }
}
