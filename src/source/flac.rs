//! FLAC through symphonia, decoded packet by packet.
//!
//! Each FLAC frame (at most 65535 frames per channel) is decoded and converted to interleaved
//! `f32` in a carry-over buffer sized once at open from the stream's declared maximum block
//! size; whatever the caller's buffer does not take stays there for the next call. Memory is
//! therefore flat for any length, and no call allocates.
//!
//! Integrity: a timegrapher measures time by counting samples, so a lost frame would shift every
//! later beat. Where a media player would skip a frame that does not decode (symphonia's
//! demuxer resynchronises past damage), this reader stops with [`Error::Malformed`] naming the
//! frame: a frame that fails to decode, or a packet whose timestamp does not follow on from the
//! previous one, ends the read. The stream's MD5 signature is not checked (it would cost more
//! than the decoding).
//!
//! `rewind` re-reads the stream headers from byte 0 of the same source and resets the decoder,
//! which is exact and does not depend on a seek table.
use super::{AudioInfo, BlockSource, Error, Limits};
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use symphonia::core::audio::{AudioBufferRef, Signal};
use symphonia::core::codecs::{Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::default::codecs::FlacDecoder;
use symphonia::default::formats::FlacReader;

/// The largest block a FLAC stream may declare (frames per channel per packet).
const FLAC_MAX_BLOCK: usize = 65_535;

/// A FLAC file read in blocks.
pub struct FlacSource {
    info: AudioInfo,
    path: PathBuf,
    /// `None` only after a failed rewind or a panic inside the decoder.
    format: Option<Box<dyn FormatReader>>,
    decoder: FlacDecoder,
    track_id: u32,
    /// Decoded interleaved samples, allocated once (max block x channels).
    carry: Vec<f32>,
    /// Valid samples in `carry`.
    carry_len: usize,
    /// Samples of `carry` already returned.
    carry_pos: usize,
    /// Timestamp (frame index) the next packet must start at.
    next_ts: u64,
    /// Frames returned since the start (or the last rewind).
    frames_read: u64,
    /// Most frames we will decode (the duration limit), for streams that do not say their length.
    max_frames: u64,
    /// The stream has ended.
    ended: bool,
}

impl std::fmt::Debug for FlacSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlacSource")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("frames_read", &self.frames_read)
            .finish()
    }
}

/// A seekable reader as a symphonia media source (its length measured once).
struct Seekable<R> {
    inner: R,
    len: Option<u64>,
}

impl<R: Read> Read for Seekable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for Seekable<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for Seekable<R> {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        self.len
    }
}

impl FlacSource {
    /// Opens a FLAC file with the default [`Limits`].
    pub fn open(path: &Path) -> Result<Self, Error> {
        Self::open_with_limits(path, &Limits::default())
    }

    /// Opens a FLAC file, refusing it when its header is outside `limits`.
    pub fn open_with_limits(path: &Path, limits: &Limits) -> Result<Self, Error> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(file, path, limits)
    }

    /// Reads a FLAC stream from any seekable reader (e.g. bytes in memory via
    /// [`std::io::Cursor`]); `name` is the file named in errors.
    pub fn from_reader<R: Read + Seek + Send + Sync + 'static>(
        mut reader: R,
        name: &Path,
        limits: &Limits,
    ) -> Result<Self, Error> {
        let path = name;
        let len = reader.seek(SeekFrom::End(0)).map_err(|e| Error::io(path, e))?;
        reader.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, e))?;
        check_metadata(&mut reader, len, path)?;
        reader.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, e))?;
        let mss = MediaSourceStream::new(
            Box::new(Seekable { inner: reader, len: Some(len) }),
            MediaSourceStreamOptions::default(),
        );
        let format = open_format(path, mss)?;
        let track = format.tracks().first().ok_or_else(|| Error::malformed(path, "FLAC: no audio stream"))?;
        let params = track.codec_params.clone();
        let track_id = track.id;

        let sample_rate_hz =
            params.sample_rate.ok_or_else(|| Error::malformed(path, "FLAC: no sample rate in STREAMINFO"))?;
        let channels = params.channels.map(|c| c.count()).unwrap_or(0);
        let channels = u16::try_from(channels).unwrap_or(0);
        if channels == 0 {
            return Err(Error::malformed(path, "FLAC: 0 channels"));
        }
        let bits = params.bits_per_sample.unwrap_or(0);
        if !(4..=32).contains(&bits) {
            return Err(Error::malformed(path, format!("FLAC: {bits} bits per sample (4..32 allowed)")));
        }
        let info = AudioInfo {
            sample_rate_hz,
            channels,
            // STREAMINFO's total of 0 means "unknown".
            frames: params.n_frames.filter(|&n| n > 0),
            encoding: format!("FLAC {bits}-bit"),
        };
        // Refuse before allocating the carry-over buffer.
        limits.check(path, &info)?;
        let max_frames = (limits.max_duration_s * sample_rate_hz as f64).min(u64::MAX as f64) as u64;

        let max_block = params.max_frames_per_packet.unwrap_or(FLAC_MAX_BLOCK as u64) as usize;
        if max_block == 0 || max_block > FLAC_MAX_BLOCK {
            return Err(Error::malformed(path, format!("FLAC: maximum block size {max_block}")));
        }
        let decoder = guard(path, || FlacDecoder::try_new(&params, &DecoderOptions::default()))?
            .map_err(|e| symphonia_error(path, "FLAC stream header", e))?;

        Ok(FlacSource {
            info,
            path: path.to_path_buf(),
            format: Some(format),
            decoder,
            track_id,
            carry: vec![0.0; max_block * channels as usize],
            carry_len: 0,
            carry_pos: 0,
            next_ts: 0,
            frames_read: 0,
            max_frames,
            ended: false,
        })
    }

    /// Frames returned since the start (or the last rewind).
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// Decodes the next packet into `carry`; `false` at the end of the stream.
    fn decode_next(&mut self) -> Result<bool, Error> {
        let path = &self.path;
        let format = self.format.as_mut().ok_or_else(|| {
            Error::malformed(path, "FLAC: the stream cannot be read after an earlier error")
        })?;
        let packet = loop {
            let next = guard(path, || format.next_packet());
            let next = match next {
                Ok(n) => n,
                Err(e) => {
                    self.format = None;
                    return Err(e);
                }
            };
            match next {
                Ok(p) if p.track_id() == self.track_id => break p,
                Ok(_) => continue,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    if let Some(total) = self.info.frames {
                        if self.next_ts < total {
                            return Err(Error::malformed(
                                path,
                                format!(
                                    "truncated: STREAMINFO says {total} frames but the data ends at frame {}",
                                    self.next_ts
                                ),
                            ));
                        }
                    }
                    return Ok(false);
                }
                Err(e) => {
                    return Err(symphonia_error(path, &format!("FLAC frame at sample {}", self.next_ts), e));
                }
            }
        };
        if packet.ts() != self.next_ts {
            return Err(Error::malformed(
                path,
                format!(
                    "FLAC: frames missing or corrupt: the stream jumps from sample {} to {}",
                    self.next_ts,
                    packet.ts()
                ),
            ));
        }
        let at = self.next_ts;
        let decoder = &mut self.decoder;
        let decoded = guard(path, || decoder.decode(&packet).map(|b| interleave(b, &mut self.carry)))?;
        let decoded = decoded.map_err(|e| symphonia_error(path, &format!("FLAC frame at sample {at}"), e))?;
        let frames =
            decoded.map_err(|what| Error::malformed(path, format!("FLAC frame at sample {at}: {what}")))?;
        if let Some(total) = self.info.frames {
            if at + frames as u64 > total {
                return Err(Error::malformed(
                    path,
                    format!("FLAC: the stream holds more than the {total} frames STREAMINFO declares"),
                ));
            }
        }
        self.carry_len = frames * self.info.channels as usize;
        self.carry_pos = 0;
        self.next_ts += frames as u64;
        Ok(true)
    }
}

impl BlockSource for FlacSource {
    fn info(&self) -> &AudioInfo {
        &self.info
    }

    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let ch = self.info.channels as usize;
        let want = out.len() / ch;
        let mut done = 0;
        while done < want {
            if self.carry_pos == self.carry_len {
                if self.ended || !self.decode_next()? {
                    self.ended = true;
                    break;
                }
                continue;
            }
            let n = (want - done).min((self.carry_len - self.carry_pos) / ch);
            out[done * ch..(done + n) * ch]
                .copy_from_slice(&self.carry[self.carry_pos..self.carry_pos + n * ch]);
            self.carry_pos += n * ch;
            done += n;
        }
        self.frames_read += done as u64;
        if self.frames_read > self.max_frames {
            return Err(Error::limit(
                &self.path,
                format!(
                    "decodes to more than {} frames ({:.0} s); longer than the limit",
                    self.max_frames,
                    self.max_frames as f64 / self.info.sample_rate_hz as f64
                ),
            ));
        }
        Ok(done)
    }

    fn rewind(&mut self) -> Result<(), Error> {
        let path = &self.path;
        let format = self.format.take().ok_or_else(|| {
            Error::malformed(path, "FLAC: the stream cannot be read after an earlier error")
        })?;
        let mut mss = format.into_inner();
        mss.seek(SeekFrom::Start(0)).map_err(|e| Error::io(path, e))?;
        self.format = Some(open_format(path, mss)?);
        self.decoder.reset();
        self.carry_len = 0;
        self.carry_pos = 0;
        self.next_ts = 0;
        self.frames_read = 0;
        self.ended = false;
        Ok(())
    }
}

/// Walks the metadata blocks before the decoder sees them and refuses any length that the file
/// cannot hold: a block running past the end of the file, and inside a VORBIS_COMMENT or
/// PICTURE block a vendor string, comment, MIME type, description or picture longer than what
/// is left of its block. The decoder allocates what these lengths say, so they are bounded by
/// the bytes actually present before anything is allocated for them. Reads only the length
/// fields (nothing is buffered); a stream that does not start with `fLaC` is left to the
/// decoder to refuse.
fn check_metadata<R: Read + Seek>(r: &mut R, len: u64, path: &Path) -> Result<(), Error> {
    let io = |e| Error::io(path, e);
    let mut magic = [0u8; 4];
    if r.read_exact(&mut magic).is_err() || &magic != b"fLaC" {
        return Ok(());
    }
    let mut pos = 4u64;
    loop {
        let mut h = [0u8; 4];
        r.read_exact(&mut h)
            .map_err(|_| Error::malformed(path, "FLAC: the metadata ends inside a block header"))?;
        let (last, kind) = (h[0] & 0x80 != 0, h[0] & 0x7f);
        let size = u64::from(h[1]) << 16 | u64::from(h[2]) << 8 | u64::from(h[3]);
        pos += 4;
        if pos + size > len {
            return Err(Error::malformed(
                path,
                format!(
                    "FLAC: metadata block {kind} of {size} bytes at byte {} runs past the end of the file",
                    pos - 4
                ),
            ));
        }
        let mut fields = BlockFields { r: &mut *r, left: size, kind, at: pos, path };
        match kind {
            4 => fields.vorbis_comment()?,
            6 => fields.picture()?,
            _ => {}
        }
        pos += size;
        r.seek(SeekFrom::Start(pos)).map_err(io)?;
        if last {
            return Ok(());
        }
    }
}

/// The length fields of one metadata block, each checked against what is left of the block.
struct BlockFields<'a, R> {
    r: &'a mut R,
    left: u64,
    kind: u8,
    at: u64,
    path: &'a Path,
}

impl<R: Read + Seek> BlockFields<'_, R> {
    fn u32(&mut self, big_endian: bool, what: &str) -> Result<u64, Error> {
        let mut b = [0u8; 4];
        if self.left < 4 || self.r.read_exact(&mut b).is_err() {
            return Err(self.bad(format!("the block ends before its {what}")));
        }
        self.left -= 4;
        Ok(u64::from(if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }))
    }

    /// Skips a field of `n` bytes that must fit in what is left of the block.
    fn skip(&mut self, n: u64, what: &str) -> Result<(), Error> {
        if n > self.left {
            return Err(
                self.bad(format!("its {what} says {n} bytes but only {} are left in the block", self.left))
            );
        }
        self.left -= n;
        self.r.seek(SeekFrom::Current(n as i64)).map_err(|e| Error::io(self.path, e))?;
        Ok(())
    }

    fn vorbis_comment(&mut self) -> Result<(), Error> {
        let vendor = self.u32(false, "vendor length")?;
        self.skip(vendor, "vendor string")?;
        let count = self.u32(false, "comment count")?;
        if count.saturating_mul(4) > self.left {
            return Err(self.bad(format!("it says {count} comments, more than the block can hold")));
        }
        for _ in 0..count {
            let n = self.u32(false, "comment length")?;
            self.skip(n, "comment")?;
        }
        Ok(())
    }

    fn picture(&mut self) -> Result<(), Error> {
        self.u32(true, "picture type")?;
        let mime = self.u32(true, "MIME type length")?;
        self.skip(mime, "MIME type")?;
        let desc = self.u32(true, "description length")?;
        self.skip(desc, "description")?;
        for what in ["width", "height", "colour depth", "colour count"] {
            self.u32(true, what)?;
        }
        let data = self.u32(true, "picture length")?;
        self.skip(data, "picture")
    }

    fn bad(&self, what: String) -> Error {
        Error::malformed(
            self.path,
            format!("FLAC: metadata block {} at byte {}: {what}", self.kind, self.at - 4),
        )
    }
}

fn open_format(path: &Path, mss: MediaSourceStream) -> Result<Box<dyn FormatReader>, Error> {
    let reader = guard(path, || FlacReader::try_new(mss, &FormatOptions::default()))?
        .map_err(|e| symphonia_error(path, "FLAC header", e))?;
    Ok(Box::new(reader))
}

/// Copies a decoded buffer into `carry` as interleaved `f32`; returns the frames, or what is
/// wrong with the buffer.
fn interleave(buf: AudioBufferRef<'_>, carry: &mut [f32]) -> Result<usize, &'static str> {
    // symphonia's FLAC decoder always gives 32-bit integers, left-justified to full scale.
    let AudioBufferRef::S32(buf) = buf else {
        return Err("decoder gave an unexpected sample format");
    };
    let frames = buf.frames();
    let planes = buf.planes();
    let planes = planes.planes();
    let ch = planes.len();
    if ch == 0 || frames * ch > carry.len() {
        return Err("block larger than STREAMINFO's maximum block size");
    }
    if ch == 1 {
        for (o, &s) in carry.iter_mut().zip(&planes[0][..frames]) {
            *o = s as f32 * (1.0 / 2_147_483_648.0);
        }
        return Ok(frames);
    }
    for (c, plane) in planes.iter().enumerate() {
        for (o, &s) in carry[c..].iter_mut().step_by(ch).zip(&plane[..frames]) {
            *o = s as f32 * (1.0 / 2_147_483_648.0);
        }
    }
    Ok(frames)
}

/// Runs third-party parsing code, turning a panic into [`Error::Malformed`].
///
/// symphonia parses untrusted bytes; its authors fuzz it, but this program promises never to
/// panic on any input, so a bug there must surface as a bad-file error, not a crash.
fn guard<T>(path: &Path, f: impl FnOnce() -> T) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| Error::malformed(path, "FLAC: the decoder failed on this data (internal panic)"))
}

fn symphonia_error(path: &Path, context: &str, e: SymError) -> Error {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::malformed(path, format!("{context}: the file ends early"))
        }
        SymError::IoError(io) => Error::io(path, io),
        SymError::Unsupported(what) => Error::unsupported(path, format!("{context}: {what}")),
        SymError::DecodeError(what) => Error::malformed(path, format!("{context}: {what}")),
        SymError::LimitError(what) => Error::limit(path, format!("{context}: {what}")),
        other => Error::malformed(path, format!("{context}: {other}")),
    }
}
