//! The per-beat reading: one beat slot's frame is matched against its side's envelope template,
//! judged against the recent accepted beats (knock, dropout, mismatch, timing outlier), and
//! either used or recorded as rejected.
use super::{BeatTimer, LOCAL, MAX_RECORDS, REANCHOR_BEATS};
use crate::beats::template::Matching;
use crate::estimators::fit::TicTocFit;

/// Recent accepted beats of one side judged against.
pub(super) const RING: usize = 32;
/// Accepted beats of a side before its own medians judge the next.
const MIN_RING: usize = 4;

/// Why a beat slot was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The waveform does not match the template (speech, noise, a dropout).
    Mismatch,
    /// Far louder than the beats around it (a knock).
    Loud,
    /// Far quieter than the beats around it (the watch moved away, a dropout).
    Quiet,
    /// The time does not fit the beats around it.
    Timing,
}

/// One timed beat slot, kept (thinned) for plots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeatRecord {
    /// Slot index (even = tic, odd = toc).
    pub slot: u64,
    /// Unlock time, samples from the start (recorder clock).
    pub t: f64,
    /// Normalised correlation with the template.
    pub rho: f32,
    /// `None` when used, else why not.
    pub rejected: Option<Rejection>,
}

/// The correlation, energy and timing residual of the last [`RING`] accepted beats of one side.
///
/// Each side is judged against its own beats: a toc 10 dB under its tic is not a dropout, and a
/// pooled median, halfway between the two, took every such toc for one.
pub(super) struct Rings {
    rho: [f32; RING],
    energy: [f32; RING],
    resid: [f32; RING],
    pub(super) len: usize,
    pos: usize,
    scratch: [f32; RING],
}

impl Rings {
    /// No beats yet.
    pub(super) fn new() -> Self {
        Rings {
            rho: [0.0; RING],
            energy: [0.0; RING],
            resid: [0.0; RING],
            len: 0,
            pos: 0,
            scratch: [0.0; RING],
        }
    }

    /// Medians of the correlation, energy and |residual| held.
    fn medians(&mut self) -> (f32, f32, f32) {
        let len = self.len;
        let med_rho = ring_median(&self.rho, len, &mut self.scratch);
        let med_e = ring_median(&self.energy, len, &mut self.scratch);
        let med_r = ring_median(&self.resid, len, &mut self.scratch);
        (med_rho, med_e, med_r)
    }

    fn push(&mut self, rho: f32, energy: f32, resid: f32) {
        self.rho[self.pos] = rho;
        self.energy[self.pos] = energy;
        self.resid[self.pos] = resid;
        self.pos = (self.pos + 1) % RING;
        self.len = (self.len + 1).min(RING);
    }
}

fn ring_median(ring: &[f32], len: usize, scratch: &mut [f32]) -> f32 {
    let s = &mut scratch[..len];
    s.copy_from_slice(&ring[..len]);
    let k = len / 2;
    *s.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
}

/// The best match of a frame with its side's template.
#[derive(Clone, Copy)]
struct Match {
    /// Lag of the template in the frame, samples (sub-sample).
    lag: f64,
    /// Normalised correlation.
    rho: f32,
    /// In-band energy of the beat span.
    span: f64,
    /// In-band noise power per sample around it.
    noise_p: f64,
}

/// The highest of `corr[0..=hi]` and the parabolic sub-sample offset of the peak.
fn peak(corr: &[f32], hi: usize) -> (usize, f64) {
    let mut m = 0usize;
    for i in 0..=hi {
        if corr[i] > corr[m] {
            m = i;
        }
    }
    let frac = if m > 0 && m < hi {
        let (y0, y1, y2) = (corr[m - 1] as f64, corr[m] as f64, corr[m + 1] as f64);
        let d = y0 - 2.0 * y1 + y2;
        if d < 0.0 {
            (0.5 * (y0 - y2) / d).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    (m, frac)
}

impl BeatTimer {
    /// Predicted frame origin of `slot` (samples).
    pub(super) fn predict(&self, slot: u64) -> f64 {
        let k = slot as f64;
        let s = (slot % 2) as f64;
        if self.recent_len >= 8 {
            let mut f = TicTocFit::default();
            for &(kk, ss, tt) in &self.recent[..self.recent_len] {
                f.add(kk - k, ss, tt);
            }
            if let Some(r) = f.solve() {
                return r.a + r.c * s;
            }
        }
        let (a, b, c) = self.seed;
        a + b * k + c * s
    }

    pub(super) fn reject(&mut self, slot: u64, t: f64, rho: f32, why: Rejection) {
        self.rejected[why as usize] += 1;
        self.misses += 1;
        self.record(BeatRecord { slot, t, rho, rejected: Some(why) });
    }

    fn record(&mut self, r: BeatRecord) {
        if r.slot % self.record_stride != 0 {
            return;
        }
        if self.records.len() == MAX_RECORDS {
            let mut j = 0;
            for i in 0..self.records.len() {
                if self.records[i].slot % (2 * self.record_stride) == 0 {
                    self.records[j] = self.records[i];
                    j += 1;
                }
            }
            self.records.truncate(j);
            self.record_stride *= 2;
            if r.slot % self.record_stride != 0 {
                return;
            }
        }
        self.records.push(r);
    }

    /// Envelope of the frame at `ws` and its best match with the side's template.
    fn match_frame(&mut self, ws: i64, side: usize) -> Match {
        let n = self.t.n;
        let lt = self.t.lt;
        let off = (ws - self.buf_start as i64) as usize;
        self.frame.copy_from_slice(&self.buf[off..off + n]);
        self.sp.forward_weighted(&self.frame, &mut self.xspec);
        self.sp.analytic(&self.xspec, &mut self.analytic);
        for (e, a) in self.envelope.iter_mut().zip(&self.analytic) {
            // Not `norm()`: its overflow-safe `hypot` took a twentieth of the analysis, and an
            // f32 square of any sample's spectrum is far from overflow.
            *e = a.norm_sqr().sqrt();
        }
        let matched = match self.t.matching {
            Matching::Amplitude => &self.envelope,
            how => {
                for (c, &e) in self.matched.iter_mut().zip(&self.envelope) {
                    *c = how.apply(e);
                }
                &self.matched
            }
        };
        self.sp.forward(matched, &mut self.espec);
        self.sp.xcorr_real(&self.espec, &self.tspec[side], &mut self.corr);
        let (m, frac) = peak(&self.corr, (2 * self.t.search).min(n - lt));
        let seg = &matched[m..m + lt];
        let mean = seg.iter().map(|&v| v as f64).sum::<f64>() / lt as f64;
        let var: f64 = seg.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        let rho =
            (self.corr[m] as f64 / (var * self.t_energy[side]).sqrt().max(1e-30)).clamp(0.0, 1.0) as f32;
        // In-band energy of the beat span and the noise around it (the analytic signal carries
        // twice the energy of its real part).
        let seg = &self.envelope[m..m + lt];
        let span: f64 = 0.5 * seg.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        let total: f64 = 0.5 * self.envelope.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        let noise_p = ((total - span).max(0.0) / (n - lt) as f64).max(1e-30);
        Match { lag: m as f64 + frac, rho, span, noise_p }
    }

    /// Times the beat slot whose frame starts at `ws`, and uses it or records why not.
    pub(super) fn time_beat(&mut self, ws: i64) {
        let slot = self.slot;
        let side = (slot % 2) as usize;
        let m = self.match_frame(ws, side);
        let t = ws as f64 + m.lag;
        match self.judge(slot, side, t, m.rho, m.span as f32) {
            Ok(resid) => self.accept(slot, side, t, resid, m),
            Err(why) => self.reject(slot, t + self.t.sides[side].events.unlock, m.rho, why),
        }
    }

    /// Judges the beat of `slot` at `t` against the recent accepted beats: its timing
    /// residual when it is used, else why not.
    fn judge(&mut self, slot: u64, side: usize, t: f64, rho: f32, energy: f32) -> Result<f64, Rejection> {
        let pred = self.predict(slot);
        let mut resid = t - pred;
        if self.rings[side].len >= MIN_RING {
            let (med_rho, med_e, med_r) = self.rings[side].medians();
            if energy > 8.0 * med_e {
                return Err(Rejection::Loud);
            }
            if energy < med_e / 10.0 {
                return Err(Rejection::Quiet);
            }
            if rho < 0.6 * med_rho {
                return Err(Rejection::Mismatch);
            }
            let tol = (6.0 * 1.4826 * med_r as f64).max(1.0);
            if resid.abs() > tol {
                if !self.reanchor(slot, side, t, resid, tol) {
                    return Err(Rejection::Timing);
                }
                resid = t - self.predict(slot);
            }
        } else if (rho as f64) < 0.5 * self.t.median_rho || resid.abs() > 0.8 * self.t.search as f64 {
            return Err(Rejection::Mismatch);
        }
        Ok(resid)
    }

    /// Uses the beat of `slot` at `t` (timing residual `resid`): the recent beats, the fits,
    /// the windows and the sums.
    fn accept(&mut self, slot: u64, side: usize, t: f64, resid: f64, m: Match) {
        self.streak_len = 0;
        self.rings[side].push(m.rho, m.span as f32, resid.abs() as f32);
        self.recent[self.recent_pos] = (slot as f64, side as f64, t);
        self.recent_pos = (self.recent_pos + 1) % LOCAL;
        self.recent_len = (self.recent_len + 1).min(LOCAL);
        self.accepted += 1;
        self.misses = 0;
        self.rho_sum += m.rho as f64;
        self.tick_energy_sum += m.span;
        self.noise_power_sum += m.noise_p;
        let k = slot as f64;
        let u = t - (self.ref_t + k * self.ref_p);
        self.global.add(k, side as f64, u);
        self.add_to_window(k, side as f64, u, t);
        if self.ev.t0.is_nan() {
            self.ev.t0 = t;
        }
        self.ev.fit.add(k, side as f64, u);
        self.accumulate(side, m.lag);
        let t_unlock = t + self.t.sides[side].events.unlock;
        self.record(BeatRecord { slot, t: t_unlock, rho: m.rho, rejected: None });
    }

    /// Counts a beat that matches the template but misses its predicted time by `resid` (over
    /// `tol`): when it extends a run of consecutive such slots whose misses agree within `tol`,
    /// and the run reaches [`REANCHOR_BEATS`], the prediction is anchored on the run instead of
    /// the beats before it (true: the beat is then used).
    fn reanchor(&mut self, slot: u64, side: usize, t: f64, resid: f64, tol: f64) -> bool {
        let entry = (slot as f64, side as f64, t, resid);
        let extends = self.streak_len > 0 && {
            let (last, _, _, r0) = self.streak[self.streak_len - 1];
            last + 1.0 == slot as f64 && (resid - r0).abs() <= tol
        };
        if !extends {
            self.streak_len = 0;
        }
        self.streak[self.streak_len] = entry;
        self.streak_len += 1;
        if self.streak_len < REANCHOR_BEATS {
            return false;
        }
        for (i, &(k, s, tt, _)) in self.streak.iter().enumerate() {
            self.recent[i] = (k, s, tt);
        }
        self.recent_len = REANCHOR_BEATS;
        self.recent_pos = REANCHOR_BEATS % LOCAL;
        self.streak_len = 0;
        true
    }
}
