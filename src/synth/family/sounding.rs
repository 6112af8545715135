//! [`Sounding`]: the damped resonances ringing now, passed through the family's recording chain.

use super::chain::Post;
use super::*;

/// The faults a watch generator applies (the clipping is the recorder's, in `Synth`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GeneratorFaults {
    /// Weak stretch in true seconds and its level.
    pub(crate) weak: Option<(f64, f64, f64)>,
    /// Noise gap as sample indices `[from, to)`.
    pub(crate) gap: Option<(u64, u64)>,
}

/// The sounding half of a watch generator, whatever schedules its sounds: the damped
/// resonances ringing now, the recording chain's filter of the family (contact response or room
/// echo) and the noise gap. Shared by the mechanical [`WatchGenerator`] and the quartz motor
/// ([`crate::synth::quartz`]). Its buffers are allocated once; rendering allocates nothing.
pub(crate) struct Sounding {
    timeline: Timeline,
    active: Vec<Ringing>,
    post: Post,
    gap: Option<(u64, u64)>,
    scratch: Vec<f64>,
}

impl Sounding {
    /// A chain for `voicing`'s family on `timeline`, silencing the samples `gap` = `[from, to)`,
    /// rendering `block` samples at a time.
    pub(crate) fn new(voicing: &Voicing, timeline: Timeline, gap: Option<(u64, u64)>, block: usize) -> Self {
        Sounding {
            timeline,
            active: Vec::with_capacity(256),
            post: Post::new(voicing, &timeline),
            gap,
            scratch: vec![0.0; block.max(1)],
        }
    }

    /// Silence: nothing ringing, the filters at rest.
    pub(crate) fn reset(&mut self) {
        self.active.clear();
        self.post.reset();
    }

    /// The sample instants.
    pub(crate) fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Starts `sound` with `gain` at `onset_s` true seconds.
    pub(crate) fn start(&mut self, sound: &Resonance, gain: f64, onset_s: f64) {
        self.active.push(Ringing::start(sound, gain, onset_s, &self.timeline));
    }

    /// Adds `gain` times the samples `start .. start + out.len()` to `out`. Before each internal
    /// block ending at sample `end` is rendered, `schedule(self, end)` starts (with
    /// [`Sounding::start`]) every sound whose first sample falls before `end`.
    pub(crate) fn render_add(
        &mut self,
        start: u64,
        gain: f64,
        out: &mut [f64],
        mut schedule: impl FnMut(&mut Sounding, u64),
    ) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut done = 0;
        while done < out.len() {
            let m = (out.len() - done).min(scratch.len());
            let buf = &mut scratch[..m];
            buf.fill(0.0);
            let s = start + done as u64;
            schedule(self, s + m as u64);
            self.render_block(s, gain, buf);
            for (o, x) in out[done..done + m].iter_mut().zip(buf.iter()) {
                *o += x;
            }
            done += m;
        }
        self.scratch = scratch;
    }

    fn render_block(&mut self, start: u64, gain: f64, buf: &mut [f64]) {
        let end = start + buf.len() as u64;
        let tl = self.timeline;
        for ev in self.active.iter_mut() {
            if ev.next_sample() < end {
                ev.render_add(start, gain, buf, &tl);
            }
        }
        self.active.retain(|e| !e.finished());
        self.post.process(buf);
        if let Some((from, to)) = self.gap {
            let a = from.clamp(start, end);
            let b = to.clamp(start, end);
            buf[(a - start) as usize..(b - start) as usize].fill(0.0);
        }
    }
}
