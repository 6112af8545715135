//! WAV through hound.
use super::{AudioInfo, BlockSource, Error};
use std::path::Path;
/// A WAV file read in blocks.
pub struct WavSource {
    info: AudioInfo,
}
impl WavSource {
    /// Opens a WAV file.
    pub fn open(path: &Path) -> Result<Self, Error> {
        Err(Error::unsupported(path, "WAV reader not built yet"))
    }
}
impl BlockSource for WavSource {
    fn info(&self) -> &AudioInfo {
        &self.info
    }
    fn read_frames(&mut self, _out: &mut [f32]) -> Result<usize, Error> {
        Ok(0)
    }
    fn rewind(&mut self) -> Result<(), Error> {
        Ok(())
    }
}
