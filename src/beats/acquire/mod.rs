//! Beat-rate acquisition: which standard rate (or the forced one), the exact beat period to a
//! few parts in 10^5, and where the tic and toc beats fall.
//!
//! Method: a 0.5 ms RMS envelope of the high-passed signal, compressed against knocks; its
//! normalised autocorrelation; for every candidate rate a comb score over whole oscillation
//! periods `m T` and half periods `(m - 1/2) T` (where the beat error splits the peak in two),
//! each measured as the *contrast* between the autocorrelation at the lag and at lags `3/8` of a
//! beat away, so that broad rhythms (speech, music) score low and sharp ticks high. Among the
//! rates that score near the best, the highest wins: a watch at 28800 bph also scores at 14400
//! (every other beat lines up), but not the other way round. Twice that rate wins too where a
//! sound falls at every half beat within a balance's beat error (one side much quieter than
//! the other scores low at its true rate).
use crate::conditioning::biquad::HighPass4;
use autocorr::autocorrelation;

mod autocorr;
mod scan;

pub use scan::{RateScan, SCAN_STRETCH_S};

/// Envelope samples per second.
pub const ENVELOPE_RATE_HZ: f64 = 2000.0;
/// Largest relative rate error searched around a nominal rate (about +-1000 s/day).
pub const RATE_TOLERANCE: f64 = 0.012;
/// Smallest acquisition score that counts as a watch.
pub const MIN_SCORE: f64 = 0.12;

/// A decimated RMS envelope of the high-passed signal.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Envelope samples per second (exactly `fs / decimation`).
    pub rate_hz: f64,
    /// RMS per block.
    pub values: Vec<f32>,
}

impl Envelope {
    /// The envelope of `x` at sample rate `fs_hz`.
    pub fn of(x: &[f32], fs_hz: f64) -> Self {
        let d = (fs_hz / ENVELOPE_RATE_HZ).round().max(1.0) as usize;
        let mut hp = HighPass4::new(1500.0, fs_hz);
        let mut values = Vec::with_capacity(x.len() / d + 1);
        for chunk in x.chunks_exact(d) {
            let mut e = 0.0f32;
            for &v in chunk {
                let y = hp.process(v);
                e += y * y;
            }
            values.push((e / d as f32).sqrt());
        }
        let rate_hz = fs_hz / d as f64;
        level_normalise(&mut values, rate_hz);
        Envelope { rate_hz, values }
    }
}

/// Seconds over which [`level_normalise`] takes the local level.
pub const LEVEL_WINDOW_S: f64 = 1.0;

/// Divides every envelope sample by the mean envelope over the [`LEVEL_WINDOW_S`] around it, so
/// that each second of the recording has the same say in the autocorrelation: a stretch of loud
/// noise (a dropout, the watch moved) or of loud handling cannot drown the ticks around it.
pub fn level_normalise(values: &mut [f32], rate_hz: f64) {
    level_normalise_with(values, rate_hz, &mut Vec::new());
}

/// [`level_normalise`] with the caller's buffer for the running sums.
pub(super) fn level_normalise_with(values: &mut [f32], rate_hz: f64, prefix: &mut Vec<f64>) {
    let n = values.len();
    if n == 0 {
        return;
    }
    let half = ((LEVEL_WINDOW_S * rate_hz / 2.0) as usize).max(1);
    prefix.clear();
    prefix.reserve(n + 1);
    prefix.push(0.0f64);
    for &v in values.iter() {
        prefix.push(prefix.last().expect("non-empty") + v as f64);
    }
    let total = prefix[n] / n as f64;
    for (i, v) in values.iter_mut().enumerate() {
        let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
        let local = (prefix[b] - prefix[a]) / (b - a) as f64;
        // A floor against dividing digital silence up into noise.
        let level = local.max(1e-3 * total).max(1e-12);
        *v = (*v as f64 / level) as f32;
    }
}

/// One candidate rate and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Beats per hour.
    pub bph: u32,
    /// Comb contrast score, 0 (nothing) .. about 1 (clean ticks).
    pub score: f64,
}

/// The outcome of acquisition.
#[derive(Debug, Clone, PartialEq)]
pub struct Lock {
    /// Nominal beats per hour.
    pub bph: u32,
    /// True when the rate was given rather than recognised.
    pub forced: bool,
    /// Measured beat period (half an oscillation), seconds on the recorder's clock.
    pub beat_period_s: f64,
    /// Time of the first side-0 ("tic") beat's envelope peak, seconds from the start.
    pub first_tic_s: f64,
    /// From a tic to the following toc, seconds (beat period plus the coarse beat error).
    pub toc_offset_s: f64,
    /// Score of the chosen rate.
    pub score: f64,
    /// Every candidate examined, best first.
    pub candidates: Vec<Candidate>,
}

/// Why acquisition found no watch.
#[derive(Debug, Clone, PartialEq)]
pub struct NoLock {
    /// Plain-words reason.
    pub reason: String,
    /// Every candidate examined, best first.
    pub candidates: Vec<Candidate>,
}

fn max_in(r: &[f64], lo: f64, hi: f64) -> Option<(usize, f64)> {
    let a = lo.floor().max(1.0) as usize;
    let b = (hi.ceil() as usize).min(r.len().saturating_sub(2));
    if a > b {
        return None;
    }
    (a..=b).map(|i| (i, r[i])).max_by(|x, y| x.1.total_cmp(&y.1))
}

fn interp(r: &[f64], x: f64) -> f64 {
    let i = x.floor() as usize;
    if i + 1 >= r.len() {
        return 0.0;
    }
    let f = x - i as f64;
    r[i] * (1.0 - f) + r[i + 1] * f
}

/// The mean of `r` at `d` either side of `x`: the base a lag's peak is measured against.
fn flanks(r: &[f64], x: f64, d: f64) -> f64 {
    0.5 * (interp(r, x - d) + interp(r, x + d))
}

/// Largest separation of the two beats of an oscillation from the half period, env samples.
fn max_split(p: f64, rate: f64) -> f64 {
    (0.2 * p).min(0.012 * rate)
}

/// Comb contrast score of a beat period `p` (envelope samples).
fn score(r: &[f64], p: f64, rate: f64) -> f64 {
    let t = 2.0 * p;
    let mmax = ((r.len() as f64 - 2.0 - 0.4 * p) / (t * (1.0 + RATE_TOLERANCE))).floor().min(4.0) as usize;
    if mmax == 0 {
        return 0.0;
    }
    let c = max_split(p, rate);
    let base = |x: f64| flanks(r, x, 0.375 * p);
    let mut full_sum = 0.0;
    let mut half_sum = 0.0;
    for m in 1..=mmax {
        let x = m as f64 * t;
        let w = x * RATE_TOLERANCE + 2.0;
        let full = max_in(r, x - w, x + w).map(|(_, v)| v).unwrap_or(0.0) - base(x);
        let h = (m as f64 - 0.5) * t;
        let wh = h * RATE_TOLERANCE + 2.0;
        let centre = max_in(r, h - wh, h + wh).map(|(_, v)| v).unwrap_or(0.0);
        let lo = max_in(r, h - wh - c, h - 1.0).map(|(_, v)| v).unwrap_or(0.0);
        let hi = max_in(r, h + 1.0, h + wh + c).map(|(_, v)| v).unwrap_or(0.0);
        // Split in two, each peak stands above the base by its share of the beats: their
        // contrasts add up (not their heights, which counts a broad hump twice).
        let half = (centre - base(h)).max(lo + hi - 2.0 * base(h)).min(full);
        full_sum += full;
        half_sum += half;
    }
    (full_sum.min(half_sum) / mmax as f64).max(0.0)
}

/// Largest beat error at any beat rate, as a fraction of the beat period: a balance whose rest
/// point is off by half a lift angle (25 deg, beyond which it cannot start by itself) at an
/// amplitude of 120 deg loses `25 / (120 pi)` of a beat on one side and gains it on the other.
pub const MAX_BEAT_ERROR_FRACTION: f64 = 0.07;
/// Smallest contrast at the half beat, as a fraction of the whole beat's, that counts as a
/// sound there: a side about 26 dB under the other.
const HALF_BEAT_MIN_SHARE: f64 = 0.05;
/// Smallest contrast at the half beat, in the autocorrelation's own ripple between the beats,
/// that counts as a sound there (far beyond any chance alignment).
const HALF_BEAT_MIN_Z: f64 = 8.0;

/// `bph`, or twice it (as often as it applies) where that is a rate of `list` that scores as a
/// watch and a sound falls at every half beat, within the beat error a balance can have at twice
/// the rate. (Twice a rate that does not score as a watch would not lock either: a side that
/// quiet is left unheard, and the watch read at the rate its loud side gives.)
fn doubled(r: &[f64], rate: f64, list: &[u32], bph: u32) -> u32 {
    let mut bph = bph;
    while list.contains(&(2 * bph)) {
        let p = 3600.0 / bph as f64 * rate;
        let (share, z) = half_beat_sound(r, p);
        if share < HALF_BEAT_MIN_SHARE || z < HALF_BEAT_MIN_Z || score(r, p / 2.0, rate) < MIN_SCORE {
            break;
        }
        bph *= 2;
    }
    bph
}

/// How clearly a sound falls at every half of the beat period `p` (envelope samples): its
/// autocorrelation contrast over the quarter beats on either side, as a share of the whole beat's
/// contrast and in units of the ripple between the beats.
fn half_beat_sound(r: &[f64], p: f64) -> (f64, f64) {
    let split = MAX_BEAT_ERROR_FRACTION * p / 2.0;
    let contrast = |x: f64, d: f64| interp(r, x) - flanks(r, x, d);
    let peak = |x: f64, w: f64| max_in(r, x - w, x + w).map_or(x, |(i, _)| i as f64);
    let (mut half, mut full, mut ripple, mut n) = (0.0, 0.0, 0.0, 0.0);
    for m in 1..=4 {
        let x = m as f64 * p;
        if x + 0.5 * p + 2.0 >= r.len() as f64 {
            break;
        }
        let h = x - 0.5 * p;
        half += contrast(peak(h, h * RATE_TOLERANCE + 2.0 + split), 0.25 * p);
        full += contrast(peak(x, x * RATE_TOLERANCE + 2.0), 0.375 * p);
        for k in [0.2, 0.3, 0.7, 0.8] {
            ripple += contrast((m as f64 - 1.0 + k) * p, 0.05 * p).powi(2);
        }
        n += 1.0;
    }
    if n == 0.0 || full <= 0.0 {
        return (0.0, 0.0);
    }
    let ripple = (ripple / (4.0 * n)).sqrt().max(1e-12);
    (half / full, half / n / ripple)
}

/// The beat rate chosen from an autocorrelation: nominal bph, the oscillation period in
/// envelope samples, the score, and every candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct RateChoice {
    /// Nominal beats per hour.
    pub bph: u32,
    /// Measured oscillation period (two beats), envelope samples.
    pub period_env: f64,
    /// Envelope samples per second.
    pub rate_hz: f64,
    /// Score of the chosen rate.
    pub score: f64,
    /// Every candidate examined, best first.
    pub candidates: Vec<Candidate>,
}

impl RateChoice {
    /// Beat period (half an oscillation), seconds on the recorder's clock.
    pub fn beat_period_s(&self) -> f64 {
        self.period_env / 2.0 / self.rate_hz
    }
}

pub(super) fn max_lag_for(list: &[u32], rate: f64) -> usize {
    let longest_t = list.iter().map(|&b| 7200.0 / b as f64).fold(0.0, f64::max);
    ((4.0 * longest_t * (1.0 + RATE_TOLERANCE) + 0.2) * rate) as usize
}

/// Chooses the beat rate among `list` from the normalised autocorrelation `r` of an envelope at
/// `rate` samples per second; `silent` and `forced` only shape the message when none fits.
pub(super) fn choose_rate(
    r: &[f64],
    rate: f64,
    list: &[u32],
    silent: bool,
    forced: Option<u32>,
) -> Result<RateChoice, NoLock> {
    let mut cands: Vec<Candidate> = list
        .iter()
        .map(|&bph| Candidate { bph, score: score(r, 3600.0 / bph as f64 * rate, rate) })
        .collect();
    let best = cands.iter().map(|c| c.score).fold(0.0, f64::max);
    let chosen = cands.iter().filter(|c| c.score >= 0.6 * best && c.score >= MIN_SCORE).map(|c| c.bph).max();
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    // A side much quieter than the other (a contact microphone, a toc 14-20 dB under its tic)
    // leaves twice the rate short of the bar above; what tells it is a sound at every half beat.
    let chosen = chosen.map(|b| if forced.is_some() { b } else { doubled(r, rate, list, b) });
    let Some(bph) = chosen else {
        let reason = if silent {
            "the recording is silent".to_string()
        } else if let Some(f) = forced {
            format!("no ticks at the forced rate of {f} bph (periodicity score {best:.2}, at least {MIN_SCORE} needed)")
        } else {
            format!(
                "no regular ticks at any standard beat rate (best: {} bph, periodicity score {:.2}; at least {} needed)",
                cands[0].bph, cands[0].score, MIN_SCORE
            )
        };
        return Err(NoLock { reason, candidates: cands });
    };
    let t_nom = 7200.0 / bph as f64 * rate;
    // Refine the period from the farthest whole-period peak that fits.
    let mmax = ((r.len() as f64 - 2.0) / (t_nom * (1.0 + RATE_TOLERANCE))).floor().clamp(1.0, 4.0);
    let x = mmax * t_nom;
    let w = x * RATE_TOLERANCE + 2.0;
    let (i, _) = max_in(r, x - w, x + w).unwrap_or((x.round() as usize, 0.0));
    let i = i.clamp(1, r.len().saturating_sub(2).max(1));
    let (y0, y1, y2) = (r[i - 1], r[i], r[i + 1]);
    let d = y0 - 2.0 * y1 + y2;
    let peak = i as f64 + if d < 0.0 { (0.5 * (y0 - y2) / d).clamp(-0.5, 0.5) } else { 0.0 };
    Ok(RateChoice { bph, period_env: peak / mmax, rate_hz: rate, score: best, candidates: cands })
}

/// Where the tic and toc fall: the envelope folded over one oscillation of `t_env` samples.
/// Returns (first beat, offset of the other beat after it), envelope samples.
fn locate(env: &Envelope, t_env: f64) -> (f64, f64) {
    let rate = env.rate_hz;
    let nb = t_env.round().max(4.0) as usize;
    let mut fold = vec![0.0f64; nb];
    for (n, &v) in env.values.iter().enumerate() {
        let ph = (n as f64 / t_env).fract();
        fold[((ph * nb as f64) as usize).min(nb - 1)] += v as f64;
    }
    let smooth: Vec<f64> =
        (0..nb).map(|b| fold[(b + nb - 1) % nb] + 2.0 * fold[b] + fold[(b + 1) % nb]).collect();
    let a = (0..nb).max_by(|&x, &y| smooth[x].total_cmp(&smooth[y])).unwrap_or(0);
    let c = max_split(t_env / 2.0, rate).ceil() as i64 + 1;
    let half = (nb as f64 / 2.0).round() as i64;
    let b = (half - c..=half + c)
        .map(|o| ((a as i64 + o).rem_euclid(nb as i64)) as usize)
        .max_by(|&x, &y| smooth[x].total_cmp(&smooth[y]))
        .unwrap_or((a + nb / 2) % nb);
    let scale = t_env / nb as f64;
    let (pa, pb) = (a as f64 * scale, b as f64 * scale);
    // Side 0 is the beat that comes first in the recording.
    let (first, second) = if pa <= pb { (pa, pb) } else { (pb, pa) };
    (first, second - first)
}

/// Recognises the beat rate (or checks the forced one) and locates the beats.
pub fn acquire(env: &Envelope, forced_bph: Option<u32>) -> Result<Lock, NoLock> {
    acquire_among(env, forced_bph, None)
}

/// [`acquire`] with the beat rate already decided elsewhere (by the whole recording, see
/// [`RateScan`]): only `prior` is checked, and the lock is not marked as forced.
pub fn acquire_among(env: &Envelope, forced_bph: Option<u32>, prior: Option<u32>) -> Result<Lock, NoLock> {
    let rate = env.rate_hz;
    let list: Vec<u32> = match (forced_bph, prior) {
        (Some(b), _) | (None, Some(b)) => vec![b],
        (None, None) => crate::measurement::STANDARD_BPH.to_vec(),
    };
    if env.values.len() < 16 {
        return Err(NoLock {
            reason: "the recording is too short to hear a watch".into(),
            candidates: vec![],
        });
    }
    let max_lag = max_lag_for(&list, rate);
    let r = autocorrelation(&env.values, max_lag.min(env.values.len() - 1));
    let silent = env.values.iter().all(|&v| v == 0.0);
    let ch = choose_rate(&r, rate, &list, silent, forced_bph)?;
    let (first, toc_offset) = locate(env, ch.period_env);
    Ok(Lock {
        bph: ch.bph,
        forced: forced_bph.is_some(),
        beat_period_s: ch.period_env / 2.0 / rate,
        first_tic_s: first / rate,
        toc_offset_s: toc_offset / rate,
        score: ch.score,
        candidates: ch.candidates,
    })
}
