//! The streaming beat timer: every beat slot is predicted from the recent beats, its band-limited
//! envelope (or its square root, as [`Templates::matching`] says) is matched against its side's
//! envelope template (cross-correlation of envelopes, parabolic sub-sample peak: no carrier phase,
//! which real ticks do not repeat), accepted or rejected (knock, speech, dropout, timing outlier),
//! and folded into the estimators' accumulators: the tic/toc line fits, and per event window (about
//! 2 s) the averaged envelope of each side, from which the unlock and drop of that window are read
//! when it closes. The templates stay as learnt: a template that followed the sound would carry its
//! own alignment errors forward, a random walk of the time reference that bends the rate (measured:
//! three times the rate error on sounds that change from beat to beat).
//!
//! All buffers and FFT plans are allocated in [`BeatTimer::new`]; [`BeatTimer::push`] allocates
//! nothing, so memory is flat for any length of recording.
use super::template::{zero_mean_spectrum_into, Templates};
use crate::conditioning::spectral::{Band, Spectral, C32};
use crate::estimators::fit::TicTocFit;

mod beat;
mod event_window;
mod whole;
mod window;

use beat::Rings;
pub use beat::{BeatRecord, Rejection};
pub use event_window::EventReading;
use event_window::{EventScratch, EventWindow};
pub use whole::{WholeSums, WHOLE_GROUPS};
use window::Window;
pub use window::WindowSummary;

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
const LOCAL: usize = 24;
/// Consecutive beats that match the template but all miss the predicted time by about the same
/// amount, after which they are taken for the watch's new timing (the prediction carried across
/// a dropout was off, or the watch's timing stepped) and the beat line is anchored on them.
pub const REANCHOR_BEATS: usize = 8;

/// The streaming beat timer.
pub struct BeatTimer {
    t: Templates,
    sp: Spectral,
    xspec: Vec<C32>,
    espec: Vec<C32>,
    analytic: Vec<C32>,
    envelope: Vec<f32>,
    // The envelope as matched ([`Templates::matching`]).
    matched: Vec<f32>,
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
    // The recent accepted beats the next are judged against.
    rings: [Rings; 2],
    /// Global fit over every accepted beat.
    pub global: TicTocFit,
    // The open estimator window.
    win: Window,
    /// Closed windows.
    pub windows: Vec<WindowSummary>,
    // The open event window, and the buffers it is read in.
    ev: EventWindow,
    ev_scratch: EventScratch,
    /// Closed event windows (thinned by two past [`MAX_EVENT_READINGS`]).
    pub event_readings: Vec<EventReading>,
    /// Aligned power envelopes of every accepted beat, summed per side in interleaved groups
    /// (the average of every beat, its plots, and its jackknife).
    pub whole: [WholeSums; 2],
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

/// The FFT plans for the templates `t`: the tick band, shaped by their whitening if any.
fn spectral_for(t: &Templates) -> Spectral {
    let (n, fs) = (t.n, t.fs);
    let mut sp = Spectral::new(n, fs, Band::ticks(fs));
    if let Some(w) = &t.whitening {
        let mut h = vec![C32::default(); n / 2 + 1];
        w.analysis_response_into(n, fs, &mut h);
        sp.shape(&h);
    }
    sp
}

impl BeatTimer {
    /// A timer for the templates `t`, accepting blocks of at most `max_block` samples.
    pub fn new(t: Templates, max_block: usize) -> Self {
        let n = t.n;
        let lt = t.lt;
        let fs = t.fs;
        let bins = n / 2 + 1;
        let mut sp = spectral_for(&t);
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
            let matched = t.matching.applied(&t.sides[s].envelope);
            t_energy[s] = zero_mean_spectrum_into(&mut sp, &matched, &mut frame, &mut tspec[s]);
        }
        BeatTimer {
            sp,
            xspec: vec![C32::default(); bins],
            espec: vec![C32::default(); bins],
            analytic: vec![C32::default(); n],
            envelope: vec![0.0; n],
            matched: vec![0.0; n],
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
            rings: [Rings::new(), Rings::new()],
            global: TicTocFit::default(),
            win: Window::with_capacity(win_cap),
            windows: Vec::with_capacity(1024),
            ev: EventWindow::new(ev_slots, lt),
            ev_scratch: EventScratch::new(lt),
            event_readings: Vec::with_capacity(MAX_EVENT_READINGS),
            whole: [WholeSums::new(lt), WholeSums::new(lt)],
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
        self.ev.slots
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
            if self.slot >= self.ev.first + self.ev.slots {
                self.close_event_window();
            }
            if ws < self.buf_start as i64 {
                // Before the data we hold (the start of the recording): not a beat slot we can see.
                if self.accepted == 0 && self.rings.iter().all(|r| r.len == 0) {
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
