//! Channel choice and mono blocks (temporary minimal version; replaced by the source layer).
use super::{AudioInfo, BlockSource, Error};
/// The chosen channel.
pub struct ChannelChoice {
    /// Channel index.
    pub channel: u16,
    /// Scores.
    pub scores_db: Vec<f32>,
}
/// Picks channel 0.
pub fn choose_channel(_src: &mut dyn BlockSource, _max_seconds: f64) -> Result<ChannelChoice, Error> {
    Ok(ChannelChoice { channel: 0, scores_db: vec![] })
}
/// Mono blocks of one channel.
pub struct MonoBlocks {
    src: Box<dyn BlockSource>,
    ch: usize,
    inter: Vec<f32>,
    mono: Vec<f32>,
}
impl MonoBlocks {
    /// New.
    pub fn new(src: Box<dyn BlockSource>, channel: u16, block_frames: usize) -> Self {
        let c = src.info().channels as usize;
        MonoBlocks {
            src,
            ch: channel as usize,
            inter: vec![0.0; block_frames * c],
            mono: vec![0.0; block_frames],
        }
    }
    /// Info.
    pub fn info(&self) -> &AudioInfo {
        self.src.info()
    }
    /// Next block.
    pub fn next_block(&mut self) -> Result<Option<&[f32]>, Error> {
        let c = self.src.info().channels as usize;
        let n = self.src.read_frames(&mut self.inter)?;
        if n == 0 {
            return Ok(None);
        }
        for i in 0..n {
            self.mono[i] = self.inter[i * c + self.ch];
        }
        Ok(Some(&self.mono[..n]))
    }
}
