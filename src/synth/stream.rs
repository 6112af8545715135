//! The mix, block by block: the main sound, interference and noise per channel, the recorder's
//! clipping and the dropouts.
use super::{Generator, Synth, CHUNK};
use crate::source::{AudioInfo, BlockSource};

impl Synth {
    /// Renders frames `start .. start + m` (m <= CHUNK) of the mono mix (before noise) into
    /// the scratch buffer.
    fn render_chunk(&mut self, start: u64, m: usize) {
        let buf = &mut self.scratch[..m];
        buf.fill(0.0);
        self.main.render_add(start, self.main_gain, buf);
        if let Some(k) = &mut self.knocks {
            k.render_add(start, 1.0, buf);
        }
        if let Some((b, g)) = &mut self.babble {
            b.render_add(start, *g, buf);
        }
        if let Some((h, g)) = &mut self.hum {
            h.render_add(start, *g, buf);
        }
    }
}
impl BlockSource for Synth {
    fn info(&self) -> &AudioInfo {
        &self.info
    }

    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, crate::source::Error> {
        let ch = self.info.channels as usize;
        let frames = (out.len() / ch).min((self.timeline.frames() - self.pos) as usize);
        let mut done = 0;
        while done < frames {
            let m = (frames - done).min(CHUNK);
            let start = self.pos + done as u64;
            self.render_chunk(start, m);
            let sigma = self.noise_sigma;
            let shared_noise = sigma > 0.0 && self.noise.len() == 1;
            if shared_noise {
                let g = &mut self.noise[0];
                for v in &mut self.scratch[..m] {
                    *v += sigma * g.sample();
                }
            }
            let block = &mut out[done * ch..(done + m) * ch];
            let lim = self.clip_limit;
            for c in 0..ch {
                let own = if sigma > 0.0 && !shared_noise { Some(&mut self.noise[c]) } else { None };
                match own {
                    Some(g) => {
                        for (o, x) in block[c..].iter_mut().step_by(ch).zip(&self.scratch[..m]) {
                            let v = (x + sigma * g.sample()).clamp(-lim, lim);
                            self.clipped += (v.abs() > 1.0) as u64;
                            *o = v.clamp(-1.0, 1.0) as f32;
                        }
                    }
                    None => {
                        for (o, x) in block[c..].iter_mut().step_by(ch).zip(&self.scratch[..m]) {
                            let x = x.clamp(-lim, lim);
                            self.clipped += (x.abs() > 1.0) as u64;
                            *o = x.clamp(-1.0, 1.0) as f32;
                        }
                    }
                }
            }
            if let Some(d) = &mut self.dropouts {
                for (i, frame) in block.chunks_mut(ch).enumerate() {
                    if d.silenced(start + i as u64) {
                        frame.fill(0.0);
                    }
                }
            }
            done += m;
        }
        self.pos += frames as u64;
        Ok(frames)
    }

    fn rewind(&mut self) -> Result<(), crate::source::Error> {
        self.main.reset();
        if let Some(k) = &mut self.knocks {
            k.reset();
        }
        if let Some((b, _)) = &mut self.babble {
            b.reset();
        }
        if let Some((h, _)) = &mut self.hum {
            h.reset();
        }
        if let Some(d) = &mut self.dropouts {
            d.reset();
        }
        for n in &mut self.noise {
            n.reset();
        }
        self.pos = 0;
        self.clipped = 0;
        Ok(())
    }
}
