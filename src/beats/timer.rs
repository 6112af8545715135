//! The streaming beat timer: every beat slot is predicted from the recent beats, its band-limited
//! envelope is matched against its side's envelope template (cross-correlation of envelopes,
//! parabolic sub-sample peak: no carrier phase, which real ticks do not repeat), accepted or
//! rejected (knock, speech, dropout, timing outlier), and folded into the estimators'
//! accumulators: the tic/toc line fits, and per event window (about 2 s) the averaged envelope of
//! each side, from which the unlock and drop of that window are read when it closes. The
//! templates stay as learnt: a template that followed the sound would carry its own alignment
//! errors forward, a random walk of the time reference that bends the rate (measured: three times
//! the rate error on sounds that change from beat to beat).
//!
//! All buffers and FFT plans are allocated in [`BeatTimer::new`]; [`BeatTimer::push`] allocates
//! nothing, so memory is flat for any length of recording.
use super::template::{zero_mean_spectrum_into, Templates};
use crate::conditioning::spectral::{Band, Spectral, C32};
use crate::estimators::events::{self, Events};
use crate::estimators::fit::TicTocFit;

/// Length of an estimator window, seconds (the rate spread is reported over these).
pub const WINDOW_S: f64 = 10.0;
/// Shortest event window, seconds (and at least [`EVENT_WINDOW_MIN_BEATS`] beats).
pub const EVENT_WINDOW_S: f64 = 2.0;
/// Fewest beat slots in an event window.
pub const EVENT_WINDOW_MIN_BEATS: u64 = 12;
/// Most event readings kept (thinned by two when reached: more than two hours).
pub const MAX_EVENT_READINGS: usize = 4096;

/// Most per-beat records kept for plots (thinned by two when reached).
pub const MAX_RECORDS: usize = 16_384;
const RING: usize = 64;
const LOCAL: usize = 24;
/// Consecutive beats that match the template but all miss the predicted time by about the same
/// amount, after which they are taken for the watch's new timing (the prediction carried across
/// a dropout was off, or the watch's timing stepped) and the beat line is anchored on them.
pub const REANCHOR_BEATS: usize = 8;

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

/// What one event window (about 2 s) of the recording says about the beat's sub-events.
///
/// Times are samples in each side's template frame (the beat's reference time is its frame
/// origin), so `c + unlock[1] - unlock[0]` is the unlock-to-unlock offset of the two sides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventReading {
    /// Time of the window's first slot, samples.
    pub t0: f64,
    /// Beats averaged per side.
    pub count: [u32; 2],
    /// Fitted offset of side 1 against side 0 in this window (frame origins), samples.
    pub c: f64,
    /// Unlock and drop of each side's averaged envelope in this window.
    pub events: [Events; 2],
}

/// The streaming beat timer.
pub struct BeatTimer {
    t: Templates,
    sp: Spectral,
    xspec: Vec<C32>,
    espec: Vec<C32>,
    analytic: Vec<C32>,
    envelope: Vec<f32>,
    corr: Vec<f32>,
    frame: Vec<f32>,
    // Per side: the template envelope's zero-mean spectrum and energy.
    tspec: [Vec<C32>; 2],
    t_energy: [f64; 2],
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
    // Consecutive slots rejected for their timing alone: (slot, side, time, residual).
    streak: [(f64, f64, f64, f64); REANCHOR_BEATS],
    streak_len: usize,
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
    // The open event window: slots per window, its first slot, its fit and per-side power sums.
    ev_slots: u64,
    ev_first: u64,
    ev_t0: f64,
    ev_fit: TicTocFit,
    ev_sum: [Vec<f64>; 2],
    ev_count: [u32; 2],
    ev_env: Vec<f32>,
    ev_scratch: Vec<f32>,
    ev_scratch64: Vec<f64>,
    /// Closed event windows (thinned by two past [`MAX_EVENT_READINGS`]).
    pub event_readings: Vec<EventReading>,
    /// Aligned power envelopes of every accepted beat, summed per side (for plots).
    pub whole_sum: [Vec<f64>; 2],
    /// Beats in [`BeatTimer::whole_sum`] per side.
    pub whole_count: [u32; 2],
    /// Per-beat records (thinned).
    pub records: Vec<BeatRecord>,
    record_stride: u64,
    /// Accepted beats.
    pub accepted: u64,
    /// Rejected slots, by reason: mismatch, loud, quiet, timing.
    pub rejected: [u64; 4],
    /// Sum of accepted envelope correlations.
    pub rho_sum: f64,
    /// Sum of per-beat in-band tick energy (accepted beats).
    pub tick_energy_sum: f64,
    /// Sum of per-sample in-band noise power estimates (accepted beats).
    pub noise_power_sum: f64,
    /// Samples seen.
    pub samples_seen: u64,
    /// Samples of the recording before the timer's first sample (its times count from there).
    pub origin_samples: u64,
    misses: u64,
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
        let lt = t.lt;
        let fs = t.fs;
        let bins = n / 2 + 1;
        let mut sp = Spectral::new(n, fs, Band::ticks(fs));
        if let Some(w) = &t.whitening {
            let mut h = vec![C32::default(); bins];
            w.analysis_response_into(n, fs, &mut h);
            sp.shape(&h);
        }
        let ref_t = t.first_origin;
        let ref_p = t.beat_period;
        let seed = (t.first_origin, t.beat_period, t.side_offset);
        let win_cap = ((WINDOW_S * fs / t.beat_period) as usize + 8).max(16);
        let ev_slots =
            (((EVENT_WINDOW_S * fs / t.beat_period).ceil() as u64).max(EVENT_WINDOW_MIN_BEATS) + 1) & !1;
        let mut frame = vec![0.0f32; n];
        let mut tspec = [vec![C32::default(); bins], vec![C32::default(); bins]];
        let mut t_energy = [0.0; 2];
        for s in 0..2 {
            t_energy[s] = zero_mean_spectrum_into(&mut sp, &t.sides[s].envelope, &mut frame, &mut tspec[s]);
        }
        BeatTimer {
            sp,
            xspec: vec![C32::default(); bins],
            espec: vec![C32::default(); bins],
            analytic: vec![C32::default(); n],
            envelope: vec![0.0; n],
            corr: vec![0.0; n],
            frame,
            tspec,
            t_energy,
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
            streak: [(0.0, 0.0, 0.0, 0.0); REANCHOR_BEATS],
            streak_len: 0,
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
            ev_slots,
            ev_first: 0,
            ev_t0: f64::NAN,
            ev_fit: TicTocFit::default(),
            ev_sum: [vec![0.0; lt], vec![0.0; lt]],
            ev_count: [0; 2],
            ev_env: vec![0.0; lt],
            ev_scratch: vec![0.0; lt],
            ev_scratch64: vec![0.0; lt],
            event_readings: Vec::with_capacity(MAX_EVENT_READINGS),
            whole_sum: [vec![0.0; lt], vec![0.0; lt]],
            whole_count: [0; 2],
            records: Vec::with_capacity(MAX_RECORDS),
            record_stride: 1,
            accepted: 0,
            rejected: [0; 4],
            rho_sum: 0.0,
            tick_energy_sum: 0.0,
            noise_power_sum: 0.0,
            samples_seen: 0,
            origin_samples: 0,
            misses: 0,
            t,
        }
    }

    /// The templates the timer started from.
    pub fn templates(&self) -> &Templates {
        &self.t
    }

    /// Beat slots rejected in a row since the last accepted beat.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    /// Beat slots per event window.
    pub fn event_window_slots(&self) -> u64 {
        self.ev_slots
    }

    /// Predicted frame origin of `slot` (samples).
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
        (self.predict(slot) - self.t.search as f64).round() as i64
    }

    fn process_ready(&mut self) {
        let n = self.t.n as i64;
        loop {
            let ws = self.window_start(self.slot);
            let end = self.buf_start as i64 + self.buf_len as i64;
            if ws + n > end {
                return;
            }
            if self.slot >= self.ev_first + self.ev_slots {
                self.close_event_window();
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

    /// Envelope of the frame at `ws` and its best match with the side's template:
    /// (lag, correlation, beat energy, noise power per sample).
    fn match_frame(&mut self, ws: i64, side: usize) -> (f64, f32, f64, f64) {
        let n = self.t.n;
        let lt = self.t.lt;
        let off = (ws - self.buf_start as i64) as usize;
        self.frame.copy_from_slice(&self.buf[off..off + n]);
        self.sp.forward_weighted(&self.frame, &mut self.xspec);
        self.sp.analytic(&self.xspec, &mut self.analytic);
        for (e, a) in self.envelope.iter_mut().zip(&self.analytic) {
            *e = a.norm();
        }
        self.sp.forward(&self.envelope, &mut self.espec);
        self.sp.xcorr_real(&self.espec, &self.tspec[side], &mut self.corr);
        let hi = (2 * self.t.search).min(n - lt);
        let mut m = 0usize;
        for i in 0..=hi {
            if self.corr[i] > self.corr[m] {
                m = i;
            }
        }
        let frac = if m > 0 && m < hi {
            let (y0, y1, y2) = (self.corr[m - 1] as f64, self.corr[m] as f64, self.corr[m + 1] as f64);
            let d = y0 - 2.0 * y1 + y2;
            if d < 0.0 {
                (0.5 * (y0 - y2) / d).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        } else {
            0.0
        };
        let seg = &self.envelope[m..m + lt];
        let mean = seg.iter().map(|&v| v as f64).sum::<f64>() / lt as f64;
        let var: f64 = seg.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        let rho =
            (self.corr[m] as f64 / (var * self.t_energy[side]).sqrt().max(1e-30)).clamp(0.0, 1.0) as f32;
        // In-band energy of the beat span and the noise around it (the analytic signal carries
        // twice the energy of its real part).
        let span: f64 = 0.5 * seg.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        let total: f64 = 0.5 * self.envelope.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
        let noise_p = ((total - span).max(0.0) / (n - lt) as f64).max(1e-30);
        (m as f64 + frac, rho, span, noise_p)
    }

    fn time_beat(&mut self, ws: i64) {
        let slot = self.slot;
        let side = (slot % 2) as usize;
        let (lag, rho, span, noise_p) = self.match_frame(ws, side);
        let t = ws as f64 + lag;
        let t_unlock = t + self.t.sides[side].events.unlock;
        let pred = self.predict(slot);
        let mut resid = t - pred;
        let energy = span as f32;
        // Judge against the recent accepted beats.
        if self.ring_len >= 8 {
            let len = self.ring_len;
            let med_rho = ring_median(&self.rho_ring, len, &mut self.scratch);
            let med_e = ring_median(&self.energy_ring, len, &mut self.scratch);
            let med_r = ring_median(&self.resid_ring, len, &mut self.scratch);
            if energy > 8.0 * med_e {
                return self.reject(slot, t_unlock, rho, Rejection::Loud);
            }
            if energy < med_e / 10.0 {
                return self.reject(slot, t_unlock, rho, Rejection::Quiet);
            }
            if rho < 0.6 * med_rho {
                return self.reject(slot, t_unlock, rho, Rejection::Mismatch);
            }
            let tol = (6.0 * 1.4826 * med_r as f64).max(1.0);
            if resid.abs() > tol {
                if !self.reanchor(slot, side, t, resid, tol) {
                    return self.reject(slot, t_unlock, rho, Rejection::Timing);
                }
                resid = t - self.predict(slot);
            }
        } else if (rho as f64) < 0.5 * self.t.median_rho || resid.abs() > 0.8 * self.t.search as f64 {
            return self.reject(slot, t_unlock, rho, Rejection::Mismatch);
        }
        // Accepted.
        self.streak_len = 0;
        self.rho_ring[self.ring_pos] = rho;
        self.energy_ring[self.ring_pos] = energy;
        self.resid_ring[self.ring_pos] = resid.abs() as f32;
        self.ring_pos = (self.ring_pos + 1) % RING;
        self.ring_len = (self.ring_len + 1).min(RING);
        self.recent[self.recent_pos] = (slot as f64, side as f64, t);
        self.recent_pos = (self.recent_pos + 1) % LOCAL;
        self.recent_len = (self.recent_len + 1).min(LOCAL);
        self.accepted += 1;
        self.misses = 0;
        self.rho_sum += rho as f64;
        self.tick_energy_sum += span;
        self.noise_power_sum += noise_p;
        let k = slot as f64;
        let u = t - (self.ref_t + k * self.ref_p);
        self.global.add(k, side as f64, u);
        self.add_to_window(k, side as f64, u, t);
        if self.ev_t0.is_nan() {
            self.ev_t0 = t;
        }
        self.ev_fit.add(k, side as f64, u);
        self.accumulate(side, lag);
        self.record(BeatRecord { slot, t: t_unlock, rho, rejected: None });
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

    /// Adds the power envelope advanced by the (fractional) lag, so the beat lands on the frame
    /// origin, to the open event window and the whole-recording sums.
    fn accumulate(&mut self, side: usize, lag: f64) {
        let lt = self.t.lt;
        let i0 = lag.floor() as usize;
        let f = lag - lag.floor();
        let env = &self.envelope;
        for j in 0..lt.min(env.len() - i0 - 1) {
            let (a, b) = (env[i0 + j] as f64, env[i0 + j + 1] as f64);
            let p = a * a * (1.0 - f) + b * b * f;
            self.ev_sum[side][j] += p;
            self.whole_sum[side][j] += p;
        }
        self.ev_count[side] += 1;
        self.whole_count[side] += 1;
    }

    /// The quiet lead of side `side`'s frames (samples): all of the frame before the template's
    /// unlock but its last 0.3 ms, and at least the frame's first millisecond. The longer the
    /// lead, the better its noise tells how high noise alone goes before the unlock.
    fn quiet_lead(&self, side: usize) -> usize {
        let before = self.t.sides[side].events.unlock - 0.0003 * self.t.fs;
        events::quiet_lead(self.t.fs).max(before.max(0.0) as usize)
    }

    /// Closes the open event window: reads its unlock and drop per side (when each side has
    /// enough beats) and starts the next one.
    fn close_event_window(&mut self) {
        let min_beats = (self.ev_slots / 4).max(3) as u32;
        if self.ev_count[0] >= min_beats && self.ev_count[1] >= min_beats {
            if let Some(fit) = self.ev_fit.solve() {
                let lt = self.t.lt;
                let merge = events::MERGE_S * self.t.fs;
                let mut ev = [None, None];
                for (s, e) in ev.iter_mut().enumerate() {
                    events::from_power_with(
                        &self.ev_sum[s],
                        self.ev_count[s] as f64,
                        &mut self.ev_env,
                        &mut self.ev_scratch64,
                    );
                    *e = events::find_with(
                        &self.ev_env,
                        0,
                        lt,
                        self.t.t_range,
                        merge,
                        self.quiet_lead(s),
                        &mut self.ev_scratch,
                    );
                }
                if let [Some(e0), Some(e1)] = ev {
                    self.push_reading(EventReading {
                        t0: self.ev_t0,
                        count: self.ev_count,
                        c: fit.c,
                        events: [e0, e1],
                    });
                }
            }
        }
        let next = self.slot - self.slot % self.ev_slots;
        self.ev_first = if next > self.ev_first { next } else { self.ev_first + self.ev_slots };
        self.ev_t0 = f64::NAN;
        self.ev_fit = TicTocFit::default();
        for s in 0..2 {
            self.ev_sum[s].iter_mut().for_each(|v| *v = 0.0);
            self.ev_count[s] = 0;
        }
    }

    fn push_reading(&mut self, r: EventReading) {
        if self.event_readings.len() == MAX_EVENT_READINGS {
            let mut j = 0;
            for i in (0..self.event_readings.len()).step_by(2) {
                self.event_readings[j] = self.event_readings[i];
                j += 1;
            }
            self.event_readings.truncate(j);
        }
        self.event_readings.push(r);
    }

    /// The event window still open, read as if it closed now (the end of a recording, a live
    /// reading), if its beats suffice.
    pub fn open_event_reading(&self) -> Option<EventReading> {
        let min_beats = (self.ev_slots / 4).max(3) as u32;
        if self.ev_count[0] < min_beats || self.ev_count[1] < min_beats {
            return None;
        }
        let fit = self.ev_fit.solve()?;
        let lt = self.t.lt;
        let merge = events::MERGE_S * self.t.fs;
        let mut env = vec![0.0f32; lt];
        let mut ev = [None, None];
        for (s, e) in ev.iter_mut().enumerate() {
            events::from_power(&self.ev_sum[s], self.ev_count[s] as f64, &mut env);
            *e = events::find(&env, 0, lt, self.t.t_range, merge, self.quiet_lead(s));
        }
        match ev {
            [Some(e0), Some(e1)] => {
                Some(EventReading { t0: self.ev_t0, count: self.ev_count, c: fit.c, events: [e0, e1] })
            }
            _ => None,
        }
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

    /// Where the beat line timed so far puts the unlock of slot `k` (absolute samples from the
    /// start of the recording), for slot parity `side` (0 = this timer's tic): `None` before the
    /// fit has both sides.
    pub fn unlock_at(&self, k: f64, side: usize) -> Option<f64> {
        let f = self.global.solve()?;
        let s = side as f64;
        Some(
            self.origin_samples as f64
                + self.ref_t
                + k * self.ref_p
                + f.a
                + f.b * k
                + f.c * s
                + self.t.sides[side].events.unlock,
        )
    }

    /// The fitted offset of side 1's unlocks against side 0's so far, samples (the signed beat
    /// error): `None` before the fit has both sides.
    pub fn unlock_offset(&self) -> Option<f64> {
        let f = self.global.solve()?;
        Some(f.c + self.t.sides[1].events.unlock - self.t.sides[0].events.unlock)
    }

    /// Reference line used for the fits' `u`: `(ref_t, ref_p)` in samples.
    pub fn reference(&self) -> (f64, f64) {
        (self.ref_t, self.ref_p)
    }
}
