//! The per-window readings of a recording and the robust location they are combined by.
use super::*;

/// One figure read per window (samples or degrees), with how far each window's reading moves
/// between the onset rules.
#[derive(Debug, Clone, Default)]
pub(super) struct Series {
    /// The reading per window (by the steepest rise).
    pub(super) v: Vec<f64>,
    /// The range of the window's readings over the onset rules.
    pub(super) rule_range: Vec<f64>,
}

impl Series {
    /// Adds one window's readings by every rule (in the order of [`events::Rules`]).
    pub(super) fn push(&mut self, by_rule: [f64; events::RULES]) {
        let (lo, hi) =
            by_rule.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, &x| (a.0.min(x), a.1.max(x)));
        self.v.push(by_rule[events::STEEPEST]);
        self.rule_range.push(hi - lo);
    }

    /// The standard uncertainty that the choice of onset rule leaves: [`RULE_RANGE_K`] times the
    /// median range over the windows.
    pub(super) fn rule_u(&self) -> f64 {
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
pub(super) struct SideReadings {
    /// Unlock-based offset of side 1 against side 0 per window (`c + unlock1 - unlock0`).
    pub(super) cu: Series,
    /// Drop-based offset per window, where both drops were found.
    pub(super) cd: Series,
    /// Amplitude per side and window.
    pub(super) amp: [Series; 2],
    /// Mean amplitude of the two sides per window, where both exist.
    pub(super) amp_mean: Series,
    /// Unlock-to-drop time per side and window, samples.
    pub(super) ut: [Vec<f64>; 2],
    /// Drop onset per side and window, samples from the frame origin.
    pub(super) drop: [Vec<f64>; 2],
}

impl SideReadings {
    /// `amp_of` turns an unlock-to-drop time (samples) into an amplitude (degrees); `merge`
    /// (samples) is the span within which sounds are one event. A window whose drop is not the
    /// sound most windows hear as the drop (see [`heard_drop`]) gives no drop-based reading.
    pub(super) fn of(readings: &[EventReading], amp_of: impl Fn(f64) -> f64, merge: f64) -> Self {
        let heard: [Option<f64>; 2] = std::array::from_fn(|s| {
            let mut drops: Vec<f64> = readings.iter().filter_map(|w| w.events[s].drop).collect();
            heard_drop(&mut drops, merge)
        });
        let mut r = SideReadings::default();
        let by_rule = |f: &dyn Fn(usize) -> f64| std::array::from_fn(f);
        for w in readings {
            let [e0, e1]: [Events; 2] = std::array::from_fn(|s| on_heard_drop(w.events[s], heard[s], merge));
            r.cu.push(by_rule(&|k| w.c + e1.unlock_rules[k] - e0.unlock_rules[k]));
            if let (Some(d0), Some(d1)) = (e0.drop_rules, e1.drop_rules) {
                r.cd.push(by_rule(&|k| w.c + d1[k] - d0[k]));
            }
            let a = [amp_by_rule(&e0, &amp_of), amp_by_rule(&e1, &amp_of)];
            for (s, (v, e)) in a.iter().zip([&e0, &e1]).enumerate() {
                if let (Some(v), Some(d)) = (v, e.drop) {
                    r.amp[s].push(*v);
                    r.ut[s].push(d - e.unlock);
                    r.drop[s].push(d);
                }
            }
            if let [Some(a0), Some(a1)] = a {
                r.amp_mean.push(by_rule(&|k| 0.5 * (a0[k] + a1[k])));
            }
        }
        r
    }
}

/// Share of the windows that must hear their drop at one place (within `merge` samples) for
/// that sound to be taken as the side's drop. Where two sounds of a beat are about as sharp
/// (an impulse nearly as loud as the drop), each window's average can take either, and a
/// robust mean of the windows' amplitudes then mixes two sounds; three quarters is what the
/// 20% trimmed mean would have left out had all the others fallen on one side.
pub const DROP_QUORUM: f64 = 0.75;

/// The drop most of the windows hear (`drops`, samples from the frame origin): the reading
/// with the most others within `merge` of it, where they are at least [`DROP_QUORUM`] of all
/// (fewer than [`MIN_WINDOWS`] never decide). `drops` is left sorted.
pub(super) fn heard_drop(drops: &mut [f64], merge: f64) -> Option<f64> {
    if drops.len() < MIN_WINDOWS {
        return None;
    }
    drops.sort_by(|a, b| a.total_cmp(b));
    let d = &*drops;
    // Sorted, the readings within `merge` of each are a run around it: two cursors find them.
    let (mut lo, mut hi, mut best) = (0, 0, (f64::NAN, 0));
    for &x in d {
        while d[lo] < x - merge {
            lo += 1;
        }
        while hi < d.len() && d[hi] <= x + merge {
            hi += 1;
        }
        if hi - lo > best.1 {
            best = (x, hi - lo);
        }
    }
    (best.1 as f64 >= DROP_QUORUM * d.len() as f64).then_some(best.0)
}

/// A window's events `e` with its drop taken away where it is not the drop the side's windows
/// hear (`heard`; `None` keeps every drop).
fn on_heard_drop(mut e: Events, heard: Option<f64>, merge: f64) -> Events {
    if let (Some(h), Some(d)) = (heard, e.drop) {
        if (d - h).abs() > merge {
            e.drop = None;
            e.drop_rules = None;
        }
    }
    e
}

/// The amplitude of one side's events read by every onset rule (`amp_of` turns an
/// unlock-to-drop time, samples, into degrees), where there is a drop and every reading is
/// finite.
pub(super) fn amp_by_rule(e: &Events, amp_of: &impl Fn(f64) -> f64) -> Option<[f64; events::RULES]> {
    let d = e.drop_rules?;
    let a: [f64; events::RULES] = std::array::from_fn(|k| amp_of(d[k] - e.unlock_rules[k]));
    a.iter().all(|x| x.is_finite()).then_some(a)
}

/// A robust location: the 20% trimmed mean (at least one value off each end from four values),
/// with its standard error (Tukey-McLaughlin, from the
/// winsorised variance) and degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Trimmed {
    pub(super) mean: f64,
    pub(super) se: f64,
    pub(super) dof: usize,
}

impl Trimmed {
    pub(super) fn u95(&self) -> f64 {
        t95(self.dof) * self.se
    }
}

/// The 20% trimmed mean of `v` (at least [`MIN_WINDOWS`] values).
pub(super) fn trimmed(v: &[f64]) -> Option<Trimmed> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drop_three_quarters_of_the_windows_hear_is_the_drop() {
        // Seven windows hear the drop at 500 (within a sample), two the impulse at 300.
        let mut drops = [500.0, 500.4, 499.8, 300.0, 500.2, 500.1, 299.5, 499.9, 500.3];
        let heard = heard_drop(&mut drops, 10.0).expect("a quorum");
        assert!((heard - 500.0).abs() <= 10.0, "{heard}");
        // Five against four is no quorum: neither sound is taken for the drop.
        let mut split = [500.0, 500.4, 300.0, 300.2, 299.9, 300.1, 500.0, 500.1, 500.2];
        assert_eq!(heard_drop(&mut split, 10.0), None);
        // Too few windows never decide.
        assert_eq!(heard_drop(&mut [500.0, 500.1], 10.0), None);
    }
}
