//! The average of every beat of the recording, per side: its envelope, its unlock and drop, and
//! the amplitude read on it with a jackknife u95.
//!
//! The 2 s stretches read the figures robustly (a knock or a weak stretch spoils a stretch, not
//! the figure), but each holds few beats: a faint unlock can sink under their noise, and the
//! next sound of the beat is then read in its place in every stretch alike. The average of
//! every beat stands clearer of the noise. Its u95 comes from the data by a delete-one-group
//! jackknife: the beats of a side are summed in [`WHOLE_GROUPS`] interleaved groups (each
//! spanning the whole recording), the reading is repeated on the average of every group but
//! one, and the scatter of those readings is what the noise of the beats does to it. Each of
//! those averages holds 7/8 of the beats, so where the full average's reading is unsure (an
//! onset near the noise, two sounds either of which could be read) they disagree, and the u95
//! says so.
use super::*;
use crate::beats::template::Templates;
use crate::beats::timer::{WholeSums, WHOLE_GROUPS};

/// Fewest beats per side for a jackknife: two per group.
const MIN_BEATS: u32 = 2 * WHOLE_GROUPS as u32;

/// Buffers a reading of an average works in.
struct Scratch {
    power: Vec<f64>,
    power_scratch: Vec<f64>,
    find_scratch: Vec<f32>,
}

/// The envelope of the average of the beats in `sums` (every group but `left_out`) into `env`,
/// and its unlock and drop.
fn read(
    sums: &WholeSums,
    left_out: Option<usize>,
    t: &Templates,
    env: &mut [f32],
    b: &mut Scratch,
) -> Option<Events> {
    let n = sums.sum_without_into(left_out, &mut b.power);
    if n == 0 {
        return None;
    }
    events::from_power_with(&b.power, f64::from(n), env, &mut b.power_scratch);
    let merge = events::MERGE_S * t.fs;
    events::find_with(env, 0, t.lt, t.t_range, merge, events::quiet_lead(t.fs), &mut b.find_scratch)
}

/// The average of every beat of one timer, per side.
pub(super) struct WholeAverage {
    /// The averaged envelope (noise pedestal removed), from the frame origin.
    pub(super) envelopes: [Vec<f32>; 2],
    /// Its unlock and drop.
    pub(super) events: [Option<Events>; 2],
    /// The amplitude read on it (the mean of the two sides), degrees, where both drops were
    /// found, whether or not a u95 could be given.
    pub(super) deg: Option<f64>,
    /// The amplitude read on it, where its drops and those of every leave-one-out average
    /// were found.
    pub(super) amplitude: Option<WholeAmplitude>,
}

/// The amplitude read on the average of every beat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct WholeAmplitude {
    /// Mean of the two sides, tic, toc, degrees, each with its u95.
    pub(super) figures: [Figure; 3],
    /// Unlock-to-drop time per side, samples.
    pub(super) ut: [f64; 2],
}

impl WholeAverage {
    /// Reads the average of every beat of `timer`; `amp_of` turns an unlock-to-drop time
    /// (samples) into degrees, `onset_deg` is the amplitude's onset-resolution term.
    pub(super) fn of(timer: &BeatTimer, amp_of: impl Fn(f64) -> f64, onset_deg: f64) -> Self {
        let t = timer.templates();
        let mut b =
            Scratch { power: vec![0.0; t.lt], power_scratch: vec![0.0; t.lt], find_scratch: vec![0.0; t.lt] };
        let mut envelopes = [vec![0.0f32; t.lt], vec![0.0f32; t.lt]];
        let events: [Option<Events>; 2] =
            std::array::from_fn(|s| read(&timer.whole[s], None, t, &mut envelopes[s], &mut b));
        let amplitude = jackknifed(timer, &events, &amp_of, onset_deg, &mut b);
        let deg = match events {
            [Some(e0), Some(e1)] => {
                e0.drop.zip(e1.drop).map(|(d0, d1)| 0.5 * (amp_of(d0 - e0.unlock) + amp_of(d1 - e1.unlock)))
            }
            _ => None,
        };
        WholeAverage { envelopes, events, deg, amplitude }
    }
}

/// The amplitude of the full averages `full` with its jackknife u95, or `None` where a drop is
/// missing from any of the averages or a side has fewer than [`MIN_BEATS`].
fn jackknifed(
    timer: &BeatTimer,
    full: &[Option<Events>; 2],
    amp_of: &impl Fn(f64) -> f64,
    onset_deg: f64,
    b: &mut Scratch,
) -> Option<WholeAmplitude> {
    if timer.whole.iter().any(|w| w.count() < MIN_BEATS) {
        return None;
    }
    let t = timer.templates();
    let (e0, e1) = (full[0]?, full[1]?);
    let by_rule = [amp_by_rule(&e0, amp_of)?, amp_by_rule(&e1, amp_of)?];
    let mut env = vec![0.0f32; t.lt];
    let mut loo = [[0.0; WHOLE_GROUPS]; 2];
    for g in 0..WHOLE_GROUPS {
        for (s, l) in loo.iter_mut().enumerate() {
            let e = read(&timer.whole[s], Some(g), t, &mut env, b)?;
            l[g] = amp_by_rule(&e, amp_of)?[events::STEEPEST];
        }
    }
    let mean_loo: [f64; WHOLE_GROUPS] = std::array::from_fn(|g| 0.5 * (loo[0][g] + loo[1][g]));
    let mean_rules: [f64; events::RULES] = std::array::from_fn(|k| 0.5 * (by_rule[0][k] + by_rule[1][k]));
    // As for the stretches: half the tic/toc difference is what one misread onset does to the
    // mean, and how far a figure moves between the onset rules is part of its uncertainty.
    let sys = 1.96
        * SIDE_DISAGREEMENT_K
        * 0.5
        * (by_rule[0][events::STEEPEST] - by_rule[1][events::STEEPEST]).abs();
    let fig = |rules: &[f64; events::RULES], loo: &[f64; WHOLE_GROUPS], sys: f64| {
        let u = t95(WHOLE_GROUPS - 1) * jackknife_se(loo);
        let (lo, hi) =
            rules.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, &x| (a.0.min(x), a.1.max(x)));
        Figure::new(
            rules[events::STEEPEST],
            u.hypot(sys)
                .hypot(1.96 * RULE_RANGE_K * (hi - lo))
                .hypot(1.96 * onset_deg)
                .max(AMPLITUDE_RESOLUTION_DEG),
        )
    };
    Some(WholeAmplitude {
        figures: [
            fig(&mean_rules, &mean_loo, sys),
            fig(&by_rule[0], &loo[0], 2.0 * sys),
            fig(&by_rule[1], &loo[1], 2.0 * sys),
        ],
        ut: [e0.drop? - e0.unlock, e1.drop? - e1.unlock],
    })
}

/// Whether the windows and the average of every beat (`whole`) hear the same drop on each side:
/// the windows' drops agree among themselves (their interquartile range) and their median
/// agrees with the average's, each within `merge` samples, the span within which sounds are one
/// event. The jackknife of the average measures what the noise of the beats does to its
/// reading, not which of two sounds is the drop: where the windows are split between two
/// sounds (an echo of the drop as sharp as the drop), or hear another drop than the average,
/// its u95 does not hold that doubt.
pub(super) fn same_drops(sides: &SideReadings, whole: &[Option<Events>; 2], merge: f64) -> bool {
    sides.drop.iter().zip(whole).all(|(d, w)| {
        let Some(wd) = w.and_then(|e| e.drop) else { return false };
        let mut d = d.clone();
        if d.len() < MIN_WINDOWS {
            return false;
        }
        d.sort_by(|a, b| a.total_cmp(b));
        let q = |f: f64| d[((d.len() - 1) as f64 * f).round() as usize];
        q(0.75) - q(0.25) <= merge && (q(0.5) - wd).abs() <= merge
    })
}

/// The delete-one-group jackknife standard error of a statistic from its leave-one-out values.
fn jackknife_se(loo: &[f64]) -> f64 {
    let k = loo.len() as f64;
    let m = loo.iter().sum::<f64>() / k;
    ((k - 1.0) / k * loo.iter().map(|x| (x - m).powi(2)).sum::<f64>()).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jackknife_of_a_mean_is_its_standard_error() {
        // For the mean, the delete-one jackknife gives exactly s / sqrt(n).
        let x = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0, 3.0, 6.0];
        let n = x.len() as f64;
        let loo: Vec<f64> = (0..x.len()).map(|i| (x.iter().sum::<f64>() - x[i]) / (n - 1.0)).collect();
        let m = x.iter().sum::<f64>() / n;
        let s = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert!((jackknife_se(&loo) - s / n.sqrt()).abs() < 1e-12);
    }
}
