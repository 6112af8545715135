//! The sounds a [`Synth`](super::Synth) mixes, and the power of one over a whole timeline.
/// A sound that a [`Synth`](super::Synth) mixes: generated sample by sample, in order, from its seed.
///
/// Public so further kinds (e.g. quartz) can plug into
/// [`Synth::from_generator`](super::Synth::from_generator).
pub trait Generator: Send {
    /// Goes back to the first sample (regenerates from the seed).
    fn reset(&mut self);
    /// Adds `gain` times the samples `start .. start + out.len()` to `out`. After a reset,
    /// calls cover the timeline in order without gaps; they must not allocate.
    fn render_add(&mut self, start: u64, gain: f64, out: &mut [f64]);
}

/// A generator that makes no sound (digital silence).
pub(super) struct Silent;

impl Generator for Silent {
    fn reset(&mut self) {}
    fn render_add(&mut self, _start: u64, _gain: f64, _out: &mut [f64]) {}
}
/// Mean power of a generator over a whole timeline (renders it once, then resets it).
pub(super) fn mean_power(g: &mut dyn Generator, frames: u64, scratch: &mut [f64]) -> f64 {
    power_and_peak(g, frames, scratch).0
}

/// Mean power and largest absolute sample of a generator over a whole timeline.
pub(crate) fn power_and_peak(g: &mut dyn Generator, frames: u64, scratch: &mut [f64]) -> (f64, f64) {
    g.reset();
    let mut sum = 0.0;
    let mut peak = 0.0f64;
    let mut n = 0u64;
    while n < frames {
        let m = (frames - n).min(scratch.len() as u64) as usize;
        let buf = &mut scratch[..m];
        buf.fill(0.0);
        g.render_add(n, 1.0, buf);
        sum += buf.iter().map(|v| v * v).sum::<f64>();
        peak = buf.iter().fold(peak, |p, v| p.max(v.abs()));
        n += m as u64;
    }
    g.reset();
    (sum / frames as f64, peak)
}
