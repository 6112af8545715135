//! A recording timed in one or more segments, seen as one: what the mechanical estimators read.
//!
//! The analyser starts a new segment (new templates, a new beat line) when the beats stop
//! matching for a while: the watch moved and sounds different, or the recording was cut. Each
//! segment's beat line has its own intercept; the slope (the rate) and the tic/toc offset are
//! fitted over all of them, within each ([`TicTocFit::pool`]). Times are made absolute with each
//! segment's origin, and every slope is moved to the first segment's reference period.
use crate::beats::timer::{BeatTimer, EventReading, WindowSummary};
use crate::estimators::fit::TicTocFit;

/// Closed event windows from which on the open one no longer counts.
pub const OPEN_WINDOW_UNTIL: usize = 6;

/// The segments of one recording, pooled.
#[derive(Debug)]
pub struct Pooled<'a> {
    /// The segments, in order.
    pub timers: &'a [&'a BeatTimer],
    /// Sample rate, Hz.
    pub fs: f64,
    /// The common reference beat period of the slopes, samples (the first segment's).
    pub ref_p: f64,
    /// Every accepted beat's fit, pooled within segments, slope relative to `ref_p`.
    pub global: TicTocFit,
    /// Beats accepted.
    pub accepted: u64,
    /// Beat slots examined.
    pub slots: u64,
    /// Sum of accepted envelope correlations.
    pub rho_sum: f64,
    /// Tick-to-gap power ratio, dB.
    pub snr_db: f64,
    /// Lag-1 residual products and norm over every 10 s window (closed and open).
    pub lag1: (f64, f64),
    /// The 10 s windows, closed and still open: times from the start of the recording, slopes
    /// relative to `ref_p`.
    pub windows: Vec<WindowSummary>,
    /// Event windows of every segment (and the last one's open window).
    pub readings: Vec<EventReading>,
}

impl<'a> Pooled<'a> {
    /// Pools `timers` (at least one).
    pub fn of(timers: &'a [&'a BeatTimer]) -> Self {
        let first = timers.first().expect("at least one segment");
        let fs = first.templates().fs;
        let ref_p = first.reference().1;
        let mut p = Pooled {
            timers,
            fs,
            ref_p,
            global: TicTocFit::default(),
            accepted: 0,
            slots: 0,
            rho_sum: 0.0,
            snr_db: f64::NEG_INFINITY,
            lag1: (0.0, 0.0),
            windows: vec![],
            readings: vec![],
        };
        let (mut tick, mut noise) = (0.0, 0.0);
        for t in timers.iter() {
            let d = t.reference().1 - ref_p;
            p.global.pool(&t.global.shifted(d));
            p.accepted += t.accepted;
            p.slots += t.accepted + t.rejected.iter().sum::<u64>();
            p.rho_sum += t.rho_sum;
            tick += t.tick_energy_sum / t.templates().lt as f64;
            noise += t.noise_power_sum;
            let origin = t.origin_samples as f64;
            for w in t.windows.iter().chain(t.open_window().as_ref()) {
                p.lag1.0 += w.lag1;
                p.lag1.1 += w.lag1_norm;
            }
            // The window still open when the segment ended (the end of the recording) is a
            // window too: the rate's trend and spread take it where it is long enough.
            p.windows.extend(t.windows.iter().chain(t.open_window().as_ref()).map(|w| {
                let mut w = *w;
                w.t0 += origin;
                w.t1 += origin;
                w.fit.b += d;
                w
            }));
            p.readings.extend(t.event_readings.iter().copied());
        }
        // The window still open (cut short by the end of the recording, or a live reading's
        // latest) is a noisier reading: it counts only while the closed ones are few.
        if p.readings.len() < OPEN_WINDOW_UNTIL {
            p.readings.extend(timers.last().and_then(|t| t.open_event_reading()));
        }
        p.snr_db = 10.0 * (tick / noise.max(1e-30)).log10();
        p
    }

    /// The segment with the most accepted beats (its templates and averages stand for the
    /// recording's sound in plots).
    pub fn main(&self) -> &BeatTimer {
        self.timers.iter().max_by_key(|t| t.accepted).expect("at least one segment")
    }

    /// The paper strip: every used beat (thinned) as (time s from the start of the recording,
    /// deviation ms from the nominal beat grid, + = early, side), each segment against its own
    /// first beat.
    pub fn paper_strip(&self, beat_period_nominal_s: f64) -> Vec<(f64, f64, u8)> {
        let fs = self.fs;
        let mut strip = Vec::new();
        for t in self.timers {
            let origin = t.origin_samples as f64;
            let mut used = t.records.iter().filter(|r| r.rejected.is_none()).peekable();
            let Some(&&first) = used.peek() else { continue };
            strip.extend(used.map(|r| {
                let late = (r.t - first.t) / fs - (r.slot - first.slot) as f64 * beat_period_nominal_s;
                ((r.t + origin) / fs, -late * 1000.0, (r.slot % 2) as u8)
            }));
        }
        strip
    }
}
