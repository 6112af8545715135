//! The streaming beat timer: every beat slot is predicted from the recent beats, matched against
//! its side's frozen template (analytic cross-correlation, carrier-phase sub-sample peak),
//! accepted or rejected (knock, speech, dropout, timing outlier), and folded into the
//! estimators' accumulators.
//!
//! All buffers and FFT plans are allocated in [`BeatTimer::new`]; [`BeatTimer::push`] allocates
//! nothing, so memory is flat for any length of recording.
use super::template::Templates;
use crate::conditioning::spectral::{find_peak, Band, Spectral, C32};
use crate::estimators::fit::TicTocFit;

/// Length of an estimator window, seconds (the rate spread is reported over these).
pub const WINDOW_S: f64 = 10.0;
/// Most groups of averaged beats kept for the jackknife (pairs merge when reached).
pub const MAX_GROUPS: usize = 32;
/// Most per-beat records kept for plots (thinned by two when reached).
pub const MAX_RECORDS: usize = 16_384;
const RING: usize = 64;
const LOCAL: usize = 24;

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

/// Summary of one estimator window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSummary {
    /// First beat time, samples.
    pub t0: f64,
    /// Last beat time, samples.
    pub t1: f64,
    /// Local fit of the window (`u` relative to the timer's reference line).
    pub fit: crate::estimators::fit::FitResult,
    /// Sum of products of consecutive residuals.
    pub lag1: f64,
    /// Sum of squared residuals that have a consecutive predecessor.
    pub lag1_norm: f64,
}

/// Averaged beats of one stretch of the recording, both sides.
///
/// Envelopes, not waveforms, are summed: on a real watch the unlock-to-drop time changes a
/// little from beat to beat, so waveforms aligned on the loud drop would cancel the faint unlock;
/// their envelopes add up.
#[derive(Debug, Clone)]
pub struct Group {
    /// Sum of aligned band-limited power envelopes (squared magnitude of the analytic signal)
    /// per side, frame samples. Powers, not magnitudes: noise then adds a constant pedestal
    /// that can be taken off exactly, instead of rounding the foot of every onset.
    pub sum: [Vec<f64>; 2],
    /// Beats summed per side.
    pub count: [u32; 2],
}

/// The streaming beat timer.
pub struct BeatTimer {
    t: Templates,
    sp: Spectral,
    xspec: Vec<C32>,
    acorr: Vec<C32>,
    analytic: Vec<C32>,
    envelope: Vec<f32>,
    frame: Vec<f32>,
    // Raw samples `buf[0..len]` start at absolute sample `buf_start`.
    buf: Vec<f32>,
    buf_len: usize,
    buf_start: u64,
    slot: u64,
    // Reference line for the fit: u = t - (ref_t + slot * ref_p).
    ref_t: f64,
    ref_p: f64,
    seed: (f64, f64, f64),
    recent: [(f64, f64, f64); LOCAL],
    recent_len: usize,
    recent_pos: usize,
    rho_ring: [f32; RING],
    energy_ring: [f32; RING],
    resid_ring: [f32; RING],
    ring_len: usize,
    ring_pos: usize,
    scratch: [f32; RING],
    /// Global fit over every accepted beat.
    pub global: TicTocFit,
    win: TicTocFit,
    win_pts: Vec<(f64, f64, f64)>,
    win_t0: f64,
    /// Closed windows.
    pub windows: Vec<WindowSummary>,
    /// Averaged beats per stretch.
    pub groups: Vec<Group>,
    group_size: u32,
    group_fill: u32,
    /// Per-beat records (thinned).
    pub records: Vec<BeatRecord>,
    record_stride: u64,
    /// Accepted beats.
    pub accepted: u64,
    /// Rejected slots, by reason: mismatch, loud, quiet, timing.
    pub rejected: [u64; 4],
    /// Sum of accepted normalised correlations.
    pub rho_sum: f64,
    /// Sum of per-beat in-band tick energy (accepted beats).
    pub tick_energy_sum: f64,
    /// Sum of per-sample in-band noise power estimates (accepted beats).
    pub noise_power_sum: f64,
    /// Samples seen.
    pub samples_seen: u64,
}

impl std::fmt::Debug for BeatTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeatTimer").field("slot", &self.slot).field("accepted", &self.accepted).finish()
    }
}

fn ring_median(ring: &[f32], len: usize, scratch: &mut [f32]) -> f32 {
    let s = &mut scratch[..len];
    s.copy_from_slice(&ring[..len]);
    let k = len / 2;
    *s.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
}

impl BeatTimer {
    /// A timer for the templates `t`, accepting blocks of at most `max_block` samples.
    pub fn new(t: Templates, max_block: usize) -> Self {
        let n = t.n;
        let fs = t.fs;
        let bins = n / 2 + 1;
        let sp = Spectral::new(n, fs, Band::ticks(fs));
        let ref_t = t.first_unlock;
        let ref_p = t.beat_period;
        let seed = (t.first_unlock, t.beat_period, t.side_offset);
        let win_cap = ((WINDOW_S * fs / t.beat_period) as usize + 8).max(16);
        BeatTimer {
            sp,
            xspec: vec![C32::default(); bins],
            acorr: vec![C32::default(); n],
            analytic: vec![C32::default(); n],
            envelope: vec![0.0; n],
            frame: vec![0.0; n],
            buf: vec![0.0; 2 * n + max_block],
            buf_len: 0,
            buf_start: 0,
            slot: 0,
            ref_t,
            ref_p,
            seed,
            recent: [(0.0, 0.0, 0.0); LOCAL],
            recent_len: 0,
            recent_pos: 0,
            rho_ring: [0.0; RING],
            energy_ring: [0.0; RING],
            resid_ring: [0.0; RING],
            ring_len: 0,
            ring_pos: 0,
            scratch: [0.0; RING],
            global: TicTocFit::default(),
            win: TicTocFit::default(),
            win_pts: Vec::with_capacity(win_cap),
            win_t0: f64::NAN,
            windows: Vec::with_capacity(1024),
            groups: (0..MAX_GROUPS)
                .map(|_| Group { sum: [vec![0.0; n], vec![0.0; n]], count: [0, 0] })
                .collect(),
            group_size: 8,
            group_fill: 0,
            records: Vec::with_capacity(MAX_RECORDS),
            record_stride: 1,
            accepted: 0,
            rejected: [0; 4],
            rho_sum: 0.0,
            tick_energy_sum: 0.0,
            noise_power_sum: 0.0,
            samples_seen: 0,
            t,
        }
    }

    /// The templates in use.
    pub fn templates(&self) -> &Templates {
        &self.t
    }

    /// Groups in use (the first `groups_used()` entries of [`BeatTimer::groups`]).
    pub fn groups_used(&self) -> usize {
        self.groups.iter().take_while(|g| g.count[0] + g.count[1] > 0).count()
    }

    /// Predicted unlock time of `slot` (samples).
    fn predict(&self, slot: u64) -> f64 {
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

    /// Feeds consecutive samples.
    pub fn push(&mut self, block: &[f32]) {
        let mut rest = block;
        while !rest.is_empty() {
            let room = self.buf.len() - self.buf_len;
            if room == 0 {
                self.compact(true);
                continue;
            }
            let take = room.min(rest.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&rest[..take]);
            self.buf_len += take;
            self.samples_seen += take as u64;
            rest = &rest[take..];
            self.process_ready();
            self.compact(false);
        }
    }

    fn compact(&mut self, force: bool) {
        // Keep from the next window's start on (or the last `n` samples when forced).
        let n = self.t.n;
        let next = self.window_start(self.slot);
        let keep_from = if force {
            (self.buf_start + self.buf_len as u64).saturating_sub(n as u64).max(next.max(0) as u64)
        } else {
            next.max(0) as u64
        };
        if keep_from <= self.buf_start {
            return;
        }
        let drop = ((keep_from - self.buf_start) as usize).min(self.buf_len);
        if drop == 0 || (!force && drop < self.buf.len() / 2) {
            return;
        }
        self.buf.copy_within(drop..self.buf_len, 0);
        self.buf_len -= drop;
        self.buf_start += drop as u64;
    }

    fn window_start(&self, slot: u64) -> i64 {
        let side = (slot % 2) as usize;
        (self.predict(slot) - self.t.sides[side].events.unlock - self.t.search as f64).floor() as i64
    }

    fn process_ready(&mut self) {
        let n = self.t.n as i64;
        loop {
            let ws = self.window_start(self.slot);
            let end = self.buf_start as i64 + self.buf_len as i64;
            if ws + n > end {
                return;
            }
            if ws < self.buf_start as i64 {
                // Before the data we hold (the start of the recording): not a beat slot we can see.
                if self.accepted == 0 && self.ring_len == 0 {
                    self.slot += 1;
                    continue;
                }
                self.reject(self.slot, f64::NAN, 0.0, Rejection::Quiet);
                self.slot += 1;
                continue;
            }
            self.time_beat(ws);
            self.slot += 1;
        }
    }

    fn reject(&mut self, slot: u64, t: f64, rho: f32, why: Rejection) {
        self.rejected[why as usize] += 1;
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

    fn time_beat(&mut self, ws: i64) {
        let n = self.t.n;
        let lt = self.t.lt;
        let slot = self.slot;
        let side = (slot % 2) as usize;
        let off = (ws - self.buf_start as i64) as usize;
        self.frame.copy_from_slice(&self.buf[off..off + n]);
        self.sp.forward_weighted(&self.frame, &mut self.xspec);
        self.sp.analytic_xcorr(&self.xspec, &self.t.sides[side].spectrum, &mut self.acorr);
        let s2 = 2 * self.t.search;
        let Some(pk) = find_peak(&self.acorr, 1, s2.min(n - lt - 1)) else {
            self.reject(slot, f64::NAN, 0.0, Rejection::Mismatch);
            return;
        };
        // In-band envelope; energy of the beat span and the noise around it (the analytic
        // signal carries twice the energy of its real part).
        self.sp.analytic(&self.xspec, &mut self.analytic);
        for (e, a) in self.envelope.iter_mut().zip(&self.analytic) {
            *e = a.norm();
        }
        let m = pk.lag.round().clamp(0.0, (n - lt) as f64) as usize;
        let span: f64 = 0.5 * self.envelope[m..m + lt].iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        let total: f64 = 0.5 * self.envelope.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        let outside = (n - lt) as f64;
        let noise_p = ((total - span).max(0.0) / outside).max(1e-30);
        let rho =
            (pk.magnitude as f64 / (span * self.t.sides[side].energy).sqrt().max(1e-30)).min(1.0) as f32;
        let t = ws as f64 + pk.lag + self.t.sides[side].events.unlock;
        let pred = self.predict(slot);
        let resid = t - pred;
        let energy = span as f32;
        // Judge against the recent accepted beats.
        if self.ring_len >= 8 {
            let len = self.ring_len;
            let med_rho = ring_median(&self.rho_ring, len, &mut self.scratch);
            let med_e = ring_median(&self.energy_ring, len, &mut self.scratch);
            let med_r = ring_median(&self.resid_ring, len, &mut self.scratch);
            if energy > 8.0 * med_e {
                return self.reject(slot, t, rho, Rejection::Loud);
            }
            if energy < med_e / 10.0 {
                return self.reject(slot, t, rho, Rejection::Quiet);
            }
            if rho < 0.6 * med_rho {
                return self.reject(slot, t, rho, Rejection::Mismatch);
            }
            let sigma = 1.4826 * med_r as f64;
            if resid.abs() > (6.0 * sigma).max(1.0) {
                return self.reject(slot, t, rho, Rejection::Timing);
            }
        } else if (rho as f64) < 0.5 * self.t.median_rho || resid.abs() > 0.8 * self.t.search as f64 {
            return self.reject(slot, t, rho, Rejection::Mismatch);
        }
        // Accepted.
        self.rho_ring[self.ring_pos] = rho;
        self.energy_ring[self.ring_pos] = energy;
        self.resid_ring[self.ring_pos] = resid.abs() as f32;
        self.ring_pos = (self.ring_pos + 1) % RING;
        self.ring_len = (self.ring_len + 1).min(RING);
        self.recent[self.recent_pos] = (slot as f64, side as f64, t);
        self.recent_pos = (self.recent_pos + 1) % LOCAL;
        self.recent_len = (self.recent_len + 1).min(LOCAL);
        self.accepted += 1;
        self.rho_sum += rho as f64;
        self.tick_energy_sum += span;
        self.noise_power_sum += noise_p;
        let k = slot as f64;
        let u = t - (self.ref_t + k * self.ref_p);
        self.global.add(k, side as f64, u);
        self.add_to_window(k, side as f64, u, t);
        self.add_to_group(side, pk.lag);
        self.record(BeatRecord { slot, t, rho, rejected: None });
    }

    fn add_to_window(&mut self, k: f64, s: f64, u: f64, t: f64) {
        if self.win_t0.is_nan() {
            self.win_t0 = t;
        }
        if t - self.win_t0 >= WINDOW_S * self.t.fs || self.win_pts.len() == self.win_pts.capacity() {
            self.close_window();
            self.win_t0 = t;
        }
        self.win.add(k, s, u);
        self.win_pts.push((k, s, u));
    }

    /// Summary of the window still open (not yet closed), if it has enough beats.
    pub fn open_window(&self) -> Option<WindowSummary> {
        let fit = self.win.solve()?;
        let mut lag1 = 0.0;
        let mut norm = 0.0;
        let mut prev: Option<(f64, f64)> = None;
        for &(k, s, u) in &self.win_pts {
            let e = u - (fit.a + fit.b * k + fit.c * s);
            if let Some((pk, pe)) = prev {
                if k - pk == 1.0 {
                    lag1 += e * pe;
                    norm += pe * pe;
                }
            }
            prev = Some((k, e));
        }
        let t0 = self.win_t0;
        let t1 = self.win_pts.last().map(|p| self.ref_t + p.0 * self.ref_p + p.2).unwrap_or(t0);
        Some(WindowSummary { t0, t1, fit, lag1, lag1_norm: norm })
    }

    /// Closes the current estimator window.
    pub fn close_window(&mut self) {
        if let Some(w) = self.open_window() {
            self.windows.push(w);
        }
        self.win = TicTocFit::default();
        self.win_pts.clear();
        self.win_t0 = f64::NAN;
    }

    fn add_to_group(&mut self, side: usize, lag: f64) {
        let mut used = self.groups_used();
        if used == 0 {
            used = 1;
        }
        let mut g = used - 1;
        if self.group_fill >= self.group_size {
            if used == MAX_GROUPS {
                // Merge neighbours pairwise: half as many groups, twice as long.
                for i in 0..MAX_GROUPS / 2 {
                    let (a, b) = (2 * i, 2 * i + 1);
                    for s in 0..2 {
                        let (lo, hi) = self.groups.split_at_mut(b);
                        for (x, y) in lo[a].sum[s].iter_mut().zip(hi[0].sum[s].iter()) {
                            *x += *y;
                        }
                        let cnt = self.groups[a].count[s] + self.groups[b].count[s];
                        self.groups[a].count[s] = cnt;
                    }
                    self.groups.swap(i, a);
                }
                for i in MAX_GROUPS / 2..MAX_GROUPS {
                    for s in 0..2 {
                        self.groups[i].sum[s].iter_mut().for_each(|v| *v = 0.0);
                        self.groups[i].count[s] = 0;
                    }
                }
                self.group_size *= 2;
                g = MAX_GROUPS / 2 - 1;
                self.group_fill = self.groups[g].count[0] + self.groups[g].count[1];
                if self.group_fill >= self.group_size {
                    g += 1;
                    self.group_fill = 0;
                }
            } else {
                g += 1;
                self.group_fill = 0;
            }
        }
        // Advance the envelope by the (fractional) lag so the beat lands on the frame origin.
        let i0 = lag.floor() as usize;
        let f = (lag - lag.floor()) as f32;
        let env = &self.envelope;
        let n = env.len();
        for (j, acc) in self.groups[g].sum[side].iter_mut().enumerate().take(n.saturating_sub(i0 + 1)) {
            let (a, b) = (env[i0 + j] as f64, env[i0 + j + 1] as f64);
            *acc += a * a * (1.0 - f as f64) + b * b * f as f64;
        }
        self.groups[g].count[side] += 1;
        self.group_fill += 1;
    }

    /// Reference line used for the fits' `u`: `(ref_t, ref_p)` in samples.
    pub fn reference(&self) -> (f64, f64) {
        (self.ref_t, self.ref_p)
    }
}
