//! The estimator windows: the accepted beats of about [`WINDOW_S`] seconds fitted on their own,
//! whose spread says how much the rate wanders.
use super::{BeatTimer, WINDOW_S};
use crate::estimators::fit::{FitResult, TicTocFit};

/// Summary of one estimator window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSummary {
    /// First beat time, samples.
    pub t0: f64,
    /// Last beat time, samples.
    pub t1: f64,
    /// Local fit of the window (`u` relative to the timer's reference line).
    pub fit: FitResult,
    /// Sum of products of consecutive residuals.
    pub lag1: f64,
    /// Sum of squared residuals that have a consecutive predecessor.
    pub lag1_norm: f64,
}

/// The open estimator window: its fit, its points `(slot, side, u)` and its first beat time.
pub(super) struct Window {
    fit: TicTocFit,
    pts: Vec<(f64, f64, f64)>,
    t0: f64,
}

impl Window {
    /// An empty window holding at most `cap` beats.
    pub(super) fn with_capacity(cap: usize) -> Self {
        Window { fit: TicTocFit::default(), pts: Vec::with_capacity(cap), t0: f64::NAN }
    }

    /// Sum of products of consecutive residuals against `fit`, and of the squares of the
    /// residuals that have a consecutive predecessor.
    fn lag1(&self, fit: &FitResult) -> (f64, f64) {
        let mut lag1 = 0.0;
        let mut norm = 0.0;
        let mut prev: Option<(f64, f64)> = None;
        for &(k, s, u) in &self.pts {
            let e = u - (fit.a + fit.b * k + fit.c * s);
            if let Some((pk, pe)) = prev {
                if k - pk == 1.0 {
                    lag1 += e * pe;
                    norm += pe * pe;
                }
            }
            prev = Some((k, e));
        }
        (lag1, norm)
    }
}

impl BeatTimer {
    pub(super) fn add_to_window(&mut self, k: f64, s: f64, u: f64, t: f64) {
        if self.win.t0.is_nan() {
            self.win.t0 = t;
        }
        if t - self.win.t0 >= WINDOW_S * self.t.fs || self.win.pts.len() == self.win.pts.capacity() {
            self.close_window();
            self.win.t0 = t;
        }
        self.win.fit.add(k, s, u);
        self.win.pts.push((k, s, u));
    }

    /// Summary of the window still open (not yet closed), if it has enough beats.
    pub fn open_window(&self) -> Option<WindowSummary> {
        let fit = self.win.fit.solve()?;
        let (lag1, norm) = self.win.lag1(&fit);
        let t0 = self.win.t0;
        let t1 = self.win.pts.last().map(|p| self.ref_t + p.0 * self.ref_p + p.2).unwrap_or(t0);
        Some(WindowSummary { t0, t1, fit, lag1, lag1_norm: norm })
    }

    /// Closes the current estimator window.
    pub fn close_window(&mut self) {
        if let Some(w) = self.open_window() {
            self.windows.push(w);
        }
        self.win.fit = TicTocFit::default();
        self.win.pts.clear();
        self.win.t0 = f64::NAN;
    }
}
