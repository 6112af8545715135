//! The aligned power envelopes of every accepted beat of a side, summed in interleaved groups so
//! that a reading made on their average can be jackknifed: beat `k` of the side goes to group
//! `k % WHOLE_GROUPS`, so every group spans the whole recording and the groups differ only by
//! which beats (and so which noise) they hold.
use ndarray::Array2;

/// Interleaved groups the whole-recording sums are kept in: enough for a jackknife with seven
/// degrees of freedom, few enough that each leave-one-out average holds 7/8 of the beats and
/// reads like the full one.
pub const WHOLE_GROUPS: usize = 8;

/// The summed power envelopes of one side's accepted beats, by group (groups by samples).
#[derive(Debug, Clone)]
pub struct WholeSums {
    sums: Array2<f64>,
    counts: [u32; WHOLE_GROUPS],
    beats: u32,
}

impl WholeSums {
    /// Empty sums for frames `lt` samples long.
    pub fn new(lt: usize) -> Self {
        WholeSums { sums: Array2::zeros((WHOLE_GROUPS, lt)), counts: [0; WHOLE_GROUPS], beats: 0 }
    }

    /// The row the next beat is summed into; the beat is counted.
    pub(super) fn next_row(&mut self) -> &mut [f64] {
        let g = self.beats as usize % WHOLE_GROUPS;
        self.counts[g] += 1;
        self.beats += 1;
        self.sums.row_mut(g).into_slice().expect("rows of a standard-layout array are contiguous")
    }

    /// Beats summed.
    pub fn count(&self) -> u32 {
        self.beats
    }

    /// Frame length, samples.
    pub fn len(&self) -> usize {
        self.sums.ncols()
    }

    /// True when the frames are empty (never for a timer's sums).
    pub fn is_empty(&self) -> bool {
        self.sums.ncols() == 0
    }

    /// Writes the sum of every beat into `out` (at least [`WholeSums::len`] long); returns the
    /// number of beats.
    pub fn sum_into(&self, out: &mut [f64]) -> u32 {
        self.sum_without_into(None, out)
    }

    /// Writes the sum of every beat but those of group `left_out` into `out`; returns the number
    /// of beats summed.
    pub fn sum_without_into(&self, left_out: Option<usize>, out: &mut [f64]) -> u32 {
        let out = &mut out[..self.len()];
        out.iter_mut().for_each(|v| *v = 0.0);
        let mut n = 0;
        for (g, row) in self.sums.rows().into_iter().enumerate() {
            if Some(g) == left_out {
                continue;
            }
            n += self.counts[g];
            for (o, v) in out.iter_mut().zip(row) {
                *o += v;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_is_every_beat_and_leaving_a_group_out_removes_exactly_its_beats() {
        let mut w = WholeSums::new(3);
        for k in 0..20u32 {
            let row = w.next_row();
            for (j, v) in row.iter_mut().enumerate() {
                *v += f64::from(k) + j as f64;
            }
        }
        let mut all = [0.0; 3];
        assert_eq!(w.sum_into(&mut all), 20);
        assert_eq!(all[0], (0..20).sum::<u32>() as f64);
        // Group 3 holds beats 3, 11 and 19.
        let mut without = [0.0; 3];
        assert_eq!(w.sum_without_into(Some(3), &mut without), 17);
        assert_eq!(all[1] - without[1], (3 + 11 + 19) as f64 + 3.0);
    }
}
