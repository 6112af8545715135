//! Writes everything heard to disk as it arrives: a WAV file whose header is brought up to date
//! every second (so a crash or Ctrl-C leaves a valid, playable file holding all but the last
//! second at worst), and a side file `<name>.json` describing the recording (device, sample
//! rate, UTC start, calibration, software, position marks), replaced atomically whenever it
//! changes. An existing recording is never overwritten: both files are created exclusively.
use super::LiveError;
use crate::measurement::RecorderClock;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// How often the WAV header is rewritten, in seconds of audio.
pub const FLUSH_EVERY_S: f64 = 1.0;

/// How samples are stored in the WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoredFormat {
    /// 16-bit PCM (lossless for 16-bit devices).
    I16,
    /// 32-bit float (lossless for float devices and replays).
    F32,
}

/// A position the technician marked while recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionMark {
    /// Position code: DU, DD, CD, CL, CU, CR.
    pub position: String,
    /// Seconds of audio from the start of the recording.
    pub at_s: f64,
    /// Wall-clock time, UTC, RFC 3339.
    pub utc: String,
}

/// The side file `<name>.json` beside a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingMeta {
    /// The input device (name and id), or `replay:<file>`.
    pub device: String,
    /// Sample rate of the WAV, Hz.
    pub sample_rate_hz: u32,
    /// Channels in the WAV (always 1: the analysed channel).
    pub channels: u16,
    /// The device channel recorded (0-based).
    pub device_channel: u16,
    /// Sample encoding in the WAV.
    pub format: StoredFormat,
    /// When the first sample was written, UTC, RFC 3339.
    pub start_utc: String,
    /// The recorder clock calibration in force (profile name or "uncalibrated", ppm and u95).
    pub calibration: RecorderClock,
    /// Software that recorded.
    pub software: String,
    /// Positions marked during the recording.
    pub marks: Vec<PositionMark>,
    /// Frames written so far (final when `complete`).
    pub frames: u64,
    /// Samples the ring had to drop (over-runs): the recording has gaps when non-zero.
    pub overrun_samples: u64,
    /// When recording ended, UTC, RFC 3339 (null while recording).
    pub end_utc: Option<String>,
    /// True once the recording was ended cleanly.
    pub complete: bool,
    /// Why recording ended early (a device error), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// The position the whole recording was made in (guided protocol recordings), read by
    /// `judge` and `claim measure` from the side file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

impl RecordingMeta {
    /// The side file of a mono recording not yet started: `device`'s channel `device_channel`
    /// at `sample_rate_hz` in `format`, under `calibration`; nothing written, no marks, not
    /// complete (the recorder fills those in).
    pub fn starting(
        device: String,
        sample_rate_hz: u32,
        device_channel: u16,
        format: StoredFormat,
        calibration: RecorderClock,
    ) -> Self {
        RecordingMeta {
            device,
            sample_rate_hz,
            channels: 1,
            device_channel,
            format,
            start_utc: String::new(),
            calibration,
            software: crate::measurement::software_id(),
            marks: vec![],
            frames: 0,
            overrun_samples: 0,
            end_utc: None,
            complete: false,
            stopped_by: None,
            position: None,
        }
    }
}

/// The current time, UTC, RFC 3339 with seconds.
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The side file's path for a recording: `<name>.json`.
pub fn side_path(wav: &Path) -> PathBuf {
    wav.with_extension("json")
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, then a rename). With
/// `exclusive`, fails when `path` already exists (a hard link instead of the rename, which
/// never replaces).
pub fn write_atomic(path: &Path, bytes: &[u8], exclusive: bool) -> Result<(), LiveError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let storage = |e: std::io::Error| LiveError::Storage { path: path.to_path_buf(), source: e };
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if exclusive {
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)
        } else {
            std::fs::rename(&tmp, path)
        }
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(storage)
}

/// Writes every sample to a WAV file with a side file, keeping both valid at all times.
pub struct Recorder {
    path: PathBuf,
    side: PathBuf,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    meta: RecordingMeta,
    since_flush: u64,
    flush_every: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("path", &self.path).field("frames", &self.meta.frames).finish()
    }
}

impl Recorder {
    /// Creates `path` (a new WAV; refused when it or its side file exists) and its side file.
    /// `meta.start_utc` is set now; `frames`, `marks` and the end fields are reset.
    pub fn create(path: &Path, meta: RecordingMeta) -> Result<Self, LiveError> {
        Self::create_with_side(path, &side_path(path), meta)
    }

    /// As [`Recorder::create`], with the side file at `side` (the guided protocol writes
    /// `<name>.wav.json`, the name `judge` reads a recording's position from).
    pub fn create_with_side(path: &Path, side: &Path, mut meta: RecordingMeta) -> Result<Self, LiveError> {
        let side = side.to_path_buf();
        for p in [path, side.as_path()] {
            if p.exists() {
                return Err(LiveError::Exists(p.to_path_buf()));
            }
        }
        let file = OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                LiveError::Exists(path.to_path_buf())
            } else {
                LiveError::Storage { path: path.to_path_buf(), source: e }
            }
        })?;
        let spec = match meta.format {
            StoredFormat::I16 => hound::WavSpec {
                channels: 1,
                sample_rate: meta.sample_rate_hz,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
            StoredFormat::F32 => hound::WavSpec {
                channels: 1,
                sample_rate: meta.sample_rate_hz,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            },
        };
        let writer = hound::WavWriter::new(BufWriter::with_capacity(1 << 16, file), spec)
            .map_err(|e| hound_err(path, e))?;
        meta.channels = 1;
        meta.start_utc = utc_now();
        meta.frames = 0;
        meta.marks.clear();
        meta.end_utc = None;
        meta.complete = false;
        meta.stopped_by = None;
        let flush_every = (meta.sample_rate_hz as f64 * FLUSH_EVERY_S) as u64;
        let rec = Recorder {
            path: path.to_path_buf(),
            side: side.clone(),
            writer: Some(writer),
            meta,
            since_flush: 0,
            flush_every,
        };
        let json = serde_json::to_vec_pretty(&rec.meta).expect("metadata serialises");
        if let Err(e) = write_atomic(&side, &json, true) {
            // Do not leave an orphan WAV we created.
            drop(rec);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(rec)
    }

    /// The WAV path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The side file's current content.
    pub fn meta(&self) -> &RecordingMeta {
        &self.meta
    }

    /// Appends mono samples; the header is rewritten once per [`FLUSH_EVERY_S`] of audio.
    pub fn write(&mut self, samples: &[f32]) -> Result<(), LiveError> {
        let Some(w) = self.writer.as_mut() else { return Ok(()) };
        let res: Result<(), hound::Error> = (|| {
            match self.meta.format {
                StoredFormat::I16 => {
                    let mut iw = w.get_i16_writer(samples.len() as u32);
                    for &s in samples {
                        iw.write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
                    }
                    iw.flush()?;
                }
                StoredFormat::F32 => {
                    for &s in samples {
                        w.write_sample(s)?;
                    }
                }
            }
            Ok(())
        })();
        res.map_err(|e| hound_err(&self.path, e))?;
        self.meta.frames += samples.len() as u64;
        self.since_flush += samples.len() as u64;
        if self.since_flush >= self.flush_every {
            self.flush()?;
        }
        Ok(())
    }

    /// Brings the WAV header up to date with the samples written (hound's `flush`).
    pub fn flush(&mut self) -> Result<(), LiveError> {
        self.since_flush = 0;
        if let Some(w) = self.writer.as_mut() {
            w.flush().map_err(|e| hound_err(&self.path, e))?;
        }
        Ok(())
    }

    /// Records a position mark (and rewrites the side file).
    pub fn mark(&mut self, position: &str, at_s: f64) -> Result<(), LiveError> {
        self.meta.marks.push(PositionMark { position: position.to_string(), at_s, utc: utc_now() });
        self.write_side()
    }

    /// Notes the over-run count in the side file on the next rewrite.
    pub fn set_overruns(&mut self, samples: u64) {
        self.meta.overrun_samples = samples;
    }

    fn write_side(&self) -> Result<(), LiveError> {
        let json = serde_json::to_vec_pretty(&self.meta).expect("metadata serialises");
        write_atomic(&self.side, &json, false)
    }

    /// Ends the recording: finalises the WAV and completes the side file. `stopped_by` says
    /// why recording ended early (a device error), if it did. Safe to call once; later calls
    /// do nothing.
    pub fn finish(&mut self, stopped_by: Option<String>) -> Result<(), LiveError> {
        let Some(w) = self.writer.take() else { return Ok(()) };
        let res = w.finalize().map_err(|e| hound_err(&self.path, e));
        self.meta.end_utc = Some(utc_now());
        self.meta.complete = res.is_ok();
        self.meta.stopped_by = stopped_by;
        let side = self.write_side();
        res.and(side)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // A recorder dropped on an error path still leaves a valid file behind.
        let _ = self.finish(Some("interrupted".into()));
    }
}

fn hound_err(path: &Path, e: hound::Error) -> LiveError {
    match e {
        hound::Error::IoError(source) => LiveError::Storage { path: path.to_path_buf(), source },
        other => {
            LiveError::Storage { path: path.to_path_buf(), source: std::io::Error::other(other.to_string()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fs: u32, format: StoredFormat) -> RecordingMeta {
        RecordingMeta::starting("test".into(), fs, 0, format, RecorderClock::uncalibrated())
    }

    #[test]
    fn an_unfinished_recording_is_a_valid_wav_up_to_the_last_flush() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.wav");
        let mut r = Recorder::create(&p, meta(8000, StoredFormat::I16)).unwrap();
        let x: Vec<f32> = (0..20000).map(|i| ((i % 100) as f32 - 50.0) / 100.0).collect();
        r.write(&x).unwrap();
        // As after a crash: the file is read while the writer is still open.
        let rd = hound::WavReader::open(&p).unwrap();
        assert_eq!(rd.spec().sample_rate, 8000);
        assert_eq!(rd.len(), 20000);
        let got: Vec<i16> = rd.into_samples::<i16>().map(|s| s.unwrap()).collect();
        assert_eq!(got[1], ((-49.0f32 / 100.0) * 32768.0).round() as i16);
        r.finish(None).unwrap();
        let m: RecordingMeta = serde_json::from_slice(&std::fs::read(side_path(&p)).unwrap()).unwrap();
        assert!(m.complete);
        assert_eq!(m.frames, 20000);
    }

    #[test]
    fn write_read_f32_is_lossless() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.wav");
        let mut r = Recorder::create(&p, meta(48000, StoredFormat::F32)).unwrap();
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin() * 0.9).collect();
        r.write(&x).unwrap();
        r.finish(None).unwrap();
        let got: Vec<f32> =
            hound::WavReader::open(&p).unwrap().into_samples::<f32>().map(|s| s.unwrap()).collect();
        assert_eq!(got, x);
    }

    #[test]
    fn an_existing_recording_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.wav");
        std::fs::write(&p, b"evidence").unwrap();
        assert!(matches!(Recorder::create(&p, meta(8000, StoredFormat::I16)), Err(LiveError::Exists(_))));
        assert_eq!(std::fs::read(&p).unwrap(), b"evidence");
        // A side file alone also blocks it, and no WAV is left behind.
        let q = dir.path().join("c.wav");
        std::fs::write(side_path(&q), b"{}").unwrap();
        assert!(matches!(Recorder::create(&q, meta(8000, StoredFormat::I16)), Err(LiveError::Exists(_))));
        assert!(!q.exists());
    }

    #[test]
    fn marks_land_in_the_side_file_with_times() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.wav");
        let mut r = Recorder::create(&p, meta(8000, StoredFormat::I16)).unwrap();
        r.mark("DU", 1.5).unwrap();
        r.mark("DD", 31.0).unwrap();
        let m: RecordingMeta = serde_json::from_slice(&std::fs::read(side_path(&p)).unwrap()).unwrap();
        assert_eq!(m.marks.len(), 2);
        assert_eq!(m.marks[1].position, "DD");
        assert_eq!(m.marks[1].at_s, 31.0);
        assert!(m.marks[0].utc.ends_with('Z'));
        assert!(!m.complete);
    }
}
