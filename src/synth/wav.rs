//! Writing a synthetic recording as a WAV file.
use super::Synth;
use crate::source::BlockSource;
use serde::{Deserialize, Serialize};

/// Output sample encodings of [`write_wav`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleFormat {
    /// 8-bit unsigned PCM (coarse: quantisation noise near -50 dBFS).
    U8,
    /// 16-bit PCM.
    I16,
    /// 24-bit PCM.
    I24,
    /// 32-bit PCM.
    I32,
    /// 32-bit IEEE float.
    F32,
}

impl SampleFormat {
    /// The name used on the command line and in truth files.
    pub fn name(&self) -> &'static str {
        match self {
            SampleFormat::U8 => "u8",
            SampleFormat::I16 => "i16",
            SampleFormat::I24 => "i24",
            SampleFormat::I32 => "i32",
            SampleFormat::F32 => "f32",
        }
    }
}
/// Writes every frame of `synth` (from its current position) as a WAV file in `format`, in
/// blocks. Returns the frames written.
pub fn write_wav<W: std::io::Write + std::io::Seek>(
    synth: &mut Synth,
    format: SampleFormat,
    writer: W,
) -> Result<u64, hound::Error> {
    let (bits, sample_format) = match format {
        SampleFormat::U8 => (8, hound::SampleFormat::Int),
        SampleFormat::I16 => (16, hound::SampleFormat::Int),
        SampleFormat::I24 => (24, hound::SampleFormat::Int),
        SampleFormat::I32 => (32, hound::SampleFormat::Int),
        SampleFormat::F32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: synth.info.channels,
        sample_rate: synth.info.sample_rate_hz,
        bits_per_sample: bits,
        sample_format,
    };
    let mut w = hound::WavWriter::new(writer, spec)?;
    let ch = synth.info.channels as usize;
    let mut buf = vec![0.0f32; 4096 * ch];
    let mut total = 0u64;
    loop {
        let n = synth
            .read_frames(&mut buf)
            .map_err(|e| hound::Error::IoError(std::io::Error::other(e.to_string())))?;
        if n == 0 {
            break;
        }
        for &x in &buf[..n * ch] {
            let x = x as f64;
            match format {
                SampleFormat::U8 => w.write_sample((x * 127.0).round() as i8)?,
                SampleFormat::I16 => w.write_sample((x * 32767.0).round() as i16)?,
                SampleFormat::I24 => w.write_sample((x * 8_388_607.0).round() as i32)?,
                SampleFormat::I32 => w.write_sample((x * 2_147_483_647.0).round() as i32)?,
                SampleFormat::F32 => w.write_sample(x as f32)?,
            }
        }
        total += n as u64;
    }
    w.finalize()?;
    Ok(total)
}
