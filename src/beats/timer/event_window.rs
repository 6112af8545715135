//! The event window: about 2 s of accepted beats, their aligned power envelopes summed per side,
//! from which the unlock and drop of that window are read when it closes.
use super::{BeatTimer, MAX_EVENT_READINGS};
use crate::beats::template::Templates;
use crate::estimators::events::{self, Events};
use crate::estimators::fit::TicTocFit;

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

/// The open event window: slots per window, its first slot, its fit and per-side power sums.
pub(super) struct EventWindow {
    pub(super) slots: u64,
    pub(super) first: u64,
    pub(super) t0: f64,
    pub(super) fit: TicTocFit,
    pub(super) sum: [Vec<f64>; 2],
    pub(super) count: [u32; 2],
}

/// Buffers the reading of an event window works in (`lt` long each).
pub(super) struct EventScratch {
    env: Vec<f32>,
    scratch: Vec<f32>,
    scratch64: Vec<f64>,
}

impl EventScratch {
    /// Buffers for templates `lt` samples long.
    pub(super) fn new(lt: usize) -> Self {
        EventScratch { env: vec![0.0; lt], scratch: vec![0.0; lt], scratch64: vec![0.0; lt] }
    }
}

/// The quiet lead of side `side`'s frames (samples): all of the frame before the template's
/// unlock but its last 0.3 ms, and at least the frame's first millisecond. The longer the
/// lead, the better its noise tells how high noise alone goes before the unlock.
fn quiet_lead(t: &Templates, side: usize) -> usize {
    let before = t.sides[side].events.unlock - 0.0003 * t.fs;
    events::quiet_lead(t.fs).max(before.max(0.0) as usize)
}

impl EventWindow {
    /// An empty window of `slots` beat slots, for templates `lt` samples long.
    pub(super) fn new(slots: u64, lt: usize) -> Self {
        EventWindow {
            slots,
            first: 0,
            t0: f64::NAN,
            fit: TicTocFit::default(),
            sum: [vec![0.0; lt], vec![0.0; lt]],
            count: [0; 2],
        }
    }

    /// The window's unlock and drop per side, read in `buf`, if each side has enough beats.
    fn read(&self, t: &Templates, buf: &mut EventScratch) -> Option<EventReading> {
        let min_beats = (self.slots / 4).max(3) as u32;
        if self.count[0] < min_beats || self.count[1] < min_beats {
            return None;
        }
        let fit = self.fit.solve()?;
        let merge = events::MERGE_S * t.fs;
        let mut ev = [None, None];
        for (s, e) in ev.iter_mut().enumerate() {
            events::from_power_with(&self.sum[s], self.count[s] as f64, &mut buf.env, &mut buf.scratch64);
            *e = events::find_with(&buf.env, 0, t.lt, t.t_range, merge, quiet_lead(t, s), &mut buf.scratch);
        }
        match ev {
            [Some(e0), Some(e1)] => {
                Some(EventReading { t0: self.t0, count: self.count, c: fit.c, events: [e0, e1] })
            }
            _ => None,
        }
    }

    /// Empties the window and moves it on to the one holding `slot`.
    fn restart(&mut self, slot: u64) {
        let next = slot - slot % self.slots;
        self.first = if next > self.first { next } else { self.first + self.slots };
        self.t0 = f64::NAN;
        self.fit = TicTocFit::default();
        for s in 0..2 {
            self.sum[s].iter_mut().for_each(|v| *v = 0.0);
            self.count[s] = 0;
        }
    }
}

impl BeatTimer {
    /// Adds the power envelope advanced by the (fractional) lag, so the beat lands on the frame
    /// origin, to the open event window and the whole-recording sums.
    pub(super) fn accumulate(&mut self, side: usize, lag: f64) {
        let lt = self.t.lt;
        let i0 = lag.floor() as usize;
        let f = lag - lag.floor();
        let env = &self.envelope;
        let whole = self.whole[side].next_row();
        for j in 0..lt.min(env.len() - i0 - 1) {
            let (a, b) = (env[i0 + j] as f64, env[i0 + j + 1] as f64);
            let p = a * a * (1.0 - f) + b * b * f;
            self.ev.sum[side][j] += p;
            whole[j] += p;
        }
        self.ev.count[side] += 1;
    }

    /// Closes the open event window: reads its unlock and drop per side (when each side has
    /// enough beats) and starts the next one.
    pub(super) fn close_event_window(&mut self) {
        if let Some(r) = self.ev.read(&self.t, &mut self.ev_scratch) {
            self.push_reading(r);
        }
        self.ev.restart(self.slot);
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
        self.ev.read(&self.t, &mut EventScratch::new(self.t.lt))
    }
}
