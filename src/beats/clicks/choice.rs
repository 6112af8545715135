//! Which of a click's timings a train carries: the one that scatters least over the train.
//!
//! Every click is timed three ways (its waveform, its smoothed envelope, its onset); which is
//! best depends on the motor's sound, so the train itself decides. The statistic must see
//! only the timing's own error, not what the watch does:
//! - a rate, or a rate that drifts slowly, is a straight or gently bent line: the local second
//!   difference `u_k = t_k - (t_(k-1) + t_(k+1)) / 2` of consecutive movements removes it;
//! - odd and even steps may sound different and carry different constant offsets: `u_k` is
//!   taken about the median of its own class (the class of step `k`);
//! - an inhibition jump moves the times of every step after it by the same amount, so it
//!   touches only the `u_k` of the two steps around it: 2 in every period, 20% at the shortest
//!   period in use (10 s), and less at longer ones. The 75th percentile of `|u_k|` lies above
//!   them, so no inhibition (and no outlier click among 8) can inflate it;
//! - a timing that fails on a minority of clicks (a waveform peak that jumps a carrier cycle
//!   on one click in ten, which a median would not see) shows in over a quarter of the `u_k`,
//!   each of which involves three clicks, and so raises the 75th percentile.
//!
//! The same clicks are compared under every timing, so the watch's own jitter adds to all
//! alike. The first candidate (the waveform) wins ties and trains too short to tell.
use super::fit::median;

/// Which timing a click train carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClickTiming {
    /// The click's waveform correlated with its template's (the sound repeats).
    Waveform,
    /// The click's envelope correlated with its template's (the fine waveform changes).
    Envelope,
    /// The steepest rise of the click's band-limited power envelope (the ringing changes from
    /// step to step; the strike that starts it does not).
    Onset,
    /// A fit in which each of the click's resonances keeps a free phase ([`super::partials`]):
    /// the ringing starts with a new phase at every step and the attack is too short for the
    /// onset to ignore it.
    Partials,
}

impl ClickTiming {
    /// The name used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ClickTiming::Waveform => "waveform",
            ClickTiming::Envelope => "envelope",
            ClickTiming::Onset => "onset",
            ClickTiming::Partials => "partials",
        }
    }
}

/// Fewest movements for a choice; with fewer the first candidate is kept.
const MIN_MOVEMENTS: usize = 8;

/// The free-phase fit ([`ClickTiming::Partials`]) is kept only where it scatters less than
/// this fraction of every other timing's scatter: its basis is learned from the clicks
/// themselves (up to a dozen waveforms per class), so where a class mixes two sounds it can
/// fit some clicks well and others badly, in ways the 75th percentile does not always show
/// (measured: one contact-microphone recording in eight read 3.99 s/month of u95 instead of
/// 0.25 without the margin); it must earn its place by a clear margin.
const PARTIALS_MARGIN: f64 = 0.8;

/// Percentile of `|u_k|` used as the scatter (see the module docs for why 75).
const SCATTER_PERCENTILE: f64 = 0.75;

/// The timing among `candidates` (each the times of the same clicks, seconds) that scatters
/// least over the train: see the module docs. `classes` holds each click's sound class;
/// movements start after a gap of over half the nominal period `period_s` (the first click
/// of an end-of-life burst).
pub fn choose(candidates: &[(ClickTiming, &[f64])], classes: &[u8], period_s: f64) -> ClickTiming {
    let Some(&(first, t0)) = candidates.first() else {
        return ClickTiming::Waveform;
    };
    let starts: Vec<usize> =
        (0..t0.len()).filter(|&i| i == 0 || t0[i] - t0[i - 1] > 0.5 * period_s).collect();
    if starts.len() < MIN_MOVEMENTS {
        return first;
    }
    let mut best = (first, scatter_s(t0, classes, &starts));
    for &(timing, t) in &candidates[1..] {
        let mut s = scatter_s(t, classes, &starts);
        if timing == ClickTiming::Partials {
            s /= PARTIALS_MARGIN;
        }
        if s < best.1 {
            best = (timing, s);
        }
    }
    best.0
}

/// The scatter of the times `t` over the movements starting at `starts`: the 75th percentile
/// of `|u_k|` about its class's median (see the module docs), seconds.
pub fn scatter_s(t: &[f64], classes: &[u8], starts: &[usize]) -> f64 {
    let u: Vec<(u8, f64)> =
        starts.windows(3).map(|w| (classes[w[1]], t[w[1]] - 0.5 * (t[w[0]] + t[w[2]]))).collect();
    let mut dev = Vec::with_capacity(u.len());
    for c in [0u8, 1] {
        let mut own: Vec<f64> = u.iter().filter(|v| v.0 == c).map(|v| v.1).collect();
        if own.is_empty() {
            continue;
        }
        let m = median(&mut own);
        dev.extend(own.iter().map(|v| (v - m).abs()));
    }
    if dev.is_empty() {
        return f64::INFINITY;
    }
    let k = ((SCATTER_PERCENTILE * dev.len() as f64) as usize).min(dev.len() - 1);
    *dev.select_nth_unstable_by(k, f64::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::rng::Rng;

    /// Step times of a watch at `rate` (fractional) with a 10 s inhibition of 120 us, odd steps
    /// 1 ms later than even ones.
    fn watch(n: usize, rate: f64) -> (Vec<f64>, Vec<u8>) {
        let t = (0..n).map(|k| k as f64 * (1.0 + rate) + 1.2e-4 * (k / 10) as f64 + 1e-3 * (k % 2) as f64);
        (t.collect(), (0..n).map(|k| (k % 2) as u8).collect())
    }

    #[test]
    fn the_timing_that_scatters_less_wins_whatever_the_rate_offsets_and_inhibition() {
        let (exact, classes) = watch(60, 3e-5);
        let mut rng = Rng::new(3);
        let noisy: Vec<f64> = exact.iter().map(|t| t + 2e-5 * rng.gauss()).collect();
        let fine: Vec<f64> = exact.iter().map(|t| t + 4e-6 * rng.gauss()).collect();
        let pick = |a: &[f64], b: &[f64]| {
            choose(&[(ClickTiming::Waveform, a), (ClickTiming::Onset, b)], &classes, 1.0)
        };
        assert_eq!(pick(&noisy, &fine), ClickTiming::Onset);
        assert_eq!(pick(&fine, &noisy), ClickTiming::Waveform);
        assert_eq!(pick(&fine, &fine), ClickTiming::Waveform, "a tie keeps the first");
        let few =
            choose(&[(ClickTiming::Envelope, &noisy[..5]), (ClickTiming::Onset, &fine[..5])], &classes, 1.0);
        assert_eq!(few, ClickTiming::Envelope, "too short to tell keeps the first");
    }

    #[test]
    fn a_timing_that_slips_a_carrier_cycle_on_one_click_in_eight_loses() {
        let (exact, classes) = watch(80, -2e-5);
        let mut rng = Rng::new(5);
        let slips: Vec<f64> =
            exact.iter().enumerate().map(|(k, t)| t + if k % 8 == 3 { 4e-4 } else { 0.0 }).collect();
        let steady: Vec<f64> = exact.iter().map(|t| t + 1e-5 * rng.gauss()).collect();
        let starts: Vec<usize> = (0..exact.len()).collect();
        // Its median deviation is zero: the median alone would keep it.
        assert!(scatter_s(&slips, &classes, &starts) > scatter_s(&steady, &classes, &starts));
        let c = choose(&[(ClickTiming::Waveform, &slips), (ClickTiming::Envelope, &steady)], &classes, 1.0);
        assert_eq!(c, ClickTiming::Envelope);
    }

    #[test]
    fn inhibition_and_class_offsets_add_nothing_to_an_exact_train() {
        let (exact, classes) = watch(120, 5e-5);
        let starts: Vec<usize> = (0..exact.len()).collect();
        assert!(scatter_s(&exact, &classes, &starts) < 1e-9);
    }
}
