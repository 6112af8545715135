//! The recording chain of a family: the contact microphone's filters and the room's echo.

use super::*;

/// The contact microphone's filters: a band-pass biquad and a two-pole case resonator.
#[derive(Debug, Clone)]
pub(super) struct ContactState {
    b0: f64,
    a1: f64,
    a2: f64,
    c1: f64,
    c2: f64,
    gin: f64,
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
    r1: f64,
    r2: f64,
}

impl ContactState {
    fn new(c: &ContactResponse, tl: &Timeline) -> Self {
        let fs = tl.effective_rate_hz();
        let w0 = 2.0 * PI * c.band_hz / fs;
        let alpha = w0.sin() / (2.0 * c.band_q);
        let wr = 2.0 * PI * c.ring_hz / fs;
        let r = (-1.0 / (c.ring_decay_ms * 1e-3 * fs)).exp();
        ContactState {
            // RBJ band-pass, 0 dB at the centre (b1 = 0, b2 = -b0).
            b0: alpha / (1.0 + alpha),
            a1: -2.0 * w0.cos() / (1.0 + alpha),
            a2: (1.0 - alpha) / (1.0 + alpha),
            c1: 2.0 * r * wr.cos(),
            c2: r * r,
            // Impulse response ~ gin / sin(wr) r^n sin((n + 1) wr): scaled so a partial on the
            // ring frequency excites it to about its own level times `ring_gain`.
            gin: c.ring_gain * wr.sin() * 2.0 * PI * 1000.0 / fs,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
            r1: 0.0,
            r2: 0.0,
        }
    }
    fn reset(&mut self) {
        (self.x1, self.x2, self.y1, self.y2, self.r1, self.r2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    }
    fn process(&mut self, buf: &mut [f64]) {
        for v in buf.iter_mut() {
            let x = *v;
            let band = self.b0 * (x - self.x2) - self.a1 * self.y1 - self.a2 * self.y2;
            self.x2 = self.x1;
            self.x1 = x;
            self.y2 = self.y1;
            self.y1 = band;
            let ring = self.c1 * self.r1 - self.c2 * self.r2 + self.gin * x;
            self.r2 = self.r1;
            self.r1 = ring;
            *v = band + ring;
        }
    }
}

/// The room: a delay line (allocated once) and its taps.
#[derive(Debug, Clone)]
pub(super) struct EchoState {
    taps: [(usize, f64); MAX_ECHO_TAPS],
    n: usize,
    history: Vec<f64>,
    w: usize,
}

impl EchoState {
    fn new(taps: &[EchoTap], tl: &Timeline) -> Self {
        let mut t = [(1usize, 0.0f64); MAX_ECHO_TAPS];
        let n = taps.len().min(MAX_ECHO_TAPS);
        for (slot, tap) in t.iter_mut().zip(taps) {
            *slot = (((tap.delay_ms * 1e-3 * tl.effective_rate_hz()).round() as usize).max(1), tap.gain);
        }
        let longest = t[..n].iter().map(|x| x.0).max().unwrap_or(1);
        EchoState { taps: t, n, history: vec![0.0; longest + 1], w: 0 }
    }
    fn reset(&mut self) {
        self.history.fill(0.0);
        self.w = 0;
    }
    fn process(&mut self, buf: &mut [f64]) {
        let len = self.history.len();
        for v in buf.iter_mut() {
            self.history[self.w] = *v;
            let mut y = *v;
            for &(d, g) in &self.taps[..self.n] {
                y += g * self.history[(self.w + len - d) % len];
            }
            self.w = (self.w + 1) % len;
            *v = y;
        }
    }
}

/// The recording chain's filter on the watch sound (from the [`Voicing`]).
#[derive(Debug, Clone)]
pub(super) enum Post {
    Dry,
    Contact(ContactState),
    Echo(EchoState),
}

impl Post {
    pub(super) fn new(voicing: &Voicing, tl: &Timeline) -> Self {
        match (&voicing.contact, voicing.echo.is_empty()) {
            (Some(c), _) => Post::Contact(ContactState::new(c, tl)),
            (None, false) => Post::Echo(EchoState::new(&voicing.echo, tl)),
            (None, true) => Post::Dry,
        }
    }
    pub(super) fn reset(&mut self) {
        match self {
            Post::Dry => {}
            Post::Contact(c) => c.reset(),
            Post::Echo(e) => e.reset(),
        }
    }
    pub(super) fn process(&mut self, buf: &mut [f64]) {
        match self {
            Post::Dry => {}
            Post::Contact(c) => c.process(buf),
            Post::Echo(e) => e.process(buf),
        }
    }
}
