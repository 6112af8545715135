//! The source layer against files made here with known content: WAV through hound's writer (and
//! hand-built headers for the cases hound will not write), FLAC through the pure-Rust `flacenc`
//! encoder. Every expected value comes from the samples written, never from the reader.
#[path = "support/soak.rs"]
mod soak;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use tickproof::source::channel::{choose_channel, MonoBlocks};
use tickproof::source::flac::FlacSource;
use tickproof::source::wav::WavSource;
use tickproof::source::{open, open_with_limits, BlockSource, Error, Limits, MemorySource};
use tickproof::synth::rng::Rng;

// ---------------------------------------------------------------- helpers

fn write_wav<S: hound::Sample + Copy>(path: &Path, spec: hound::WavSpec, samples: &[S]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

fn int_spec(channels: u16, rate: u32, bits: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    }
}

/// Reads a whole source with an awkward buffer size (so reads straddle packets and chunks).
fn read_all(src: &mut dyn BlockSource, frames_per_call: usize) -> Vec<f32> {
    let ch = src.info().channels as usize;
    let mut buf = vec![0.0f32; frames_per_call * ch];
    let mut all = Vec::new();
    loop {
        let n = src.read_frames(&mut buf).unwrap();
        if n == 0 {
            return all;
        }
        all.extend_from_slice(&buf[..n * ch]);
    }
}

fn random_ints(seed: u64, n: usize, bits: u32) -> Vec<i32> {
    let mut rng = Rng::new(seed);
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    let mut v: Vec<i32> = (0..n).map(|_| rng.range(lo as f64, hi as f64 + 1.0).floor() as i32).collect();
    // The extremes must survive too.
    v[0] = lo as i32;
    v[1] = hi as i32;
    v
}

/// A FLAC file of interleaved integer samples.
fn flac_bytes(samples: &[i32], channels: usize, bits: usize, rate: usize, block: usize) -> Vec<u8> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let mut config = flacenc::config::Encoder::default();
    config.block_size = block;
    let config = config.into_verified().expect("flacenc config");
    let src = flacenc::source::MemSource::from_samples(samples, channels, bits, rate);
    let stream = flacenc::encode_with_fixed_block_size(&config, src, block).expect("flac encode");
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).expect("flac write");
    let mut b = sink.as_slice().to_vec();
    // flacenc puts the short last block's length in STREAMINFO's minimum block size; the FLAC
    // specification excludes the last block from it, libFLAC writes min = max for fixed-size
    // streams, and symphonia relies on that to recognise fixed blocking. Make it conform.
    assert_eq!(&b[..4], b"fLaC");
    let max = [b[10], b[11]];
    b[8..10].copy_from_slice(&max);
    b
}

/// A minimal RIFF/WAVE file: 16-byte PCM `fmt ` (or the bytes given), then `data`.
fn wav_bytes(fmt: &[u8], data: &[u8], claimed_data_len: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&((4 + 8 + fmt.len() + 8 + data.len()) as u32).to_le_bytes());
    b.extend_from_slice(b"WAVE");
    b.extend_from_slice(b"fmt ");
    b.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    b.extend_from_slice(fmt);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&claimed_data_len.to_le_bytes());
    b.extend_from_slice(data);
    b
}

fn pcm_fmt(tag: u16, channels: u16, rate: u32, bits: u16, block_align: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate.wrapping_mul(block_align as u32)).to_le_bytes());
    f.extend_from_slice(&block_align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

fn extensible_fmt(channels: u16, rate: u32, container_bits: u16, valid_bits: u16) -> Vec<u8> {
    let block_align = channels * container_bits / 8;
    let mut f = pcm_fmt(0xfffe, channels, rate, container_bits, block_align);
    f.extend_from_slice(&22u16.to_le_bytes());
    f.extend_from_slice(&valid_bits.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    // KSDATAFORMAT_SUBTYPE_PCM
    f.extend_from_slice(&[
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
    ]);
    f
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The error's one line names the file.
fn assert_names_file(e: &Error, path: &Path) {
    let msg = e.to_string();
    assert!(msg.contains(&path.display().to_string()), "message does not name the file: {msg}");
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
}

/// Clicks (3 kHz bursts decaying in 0.4 ms) at `rate_hz` with Gaussian noise of `noise_rms`.
fn ticks(seed: u64, fs: u32, seconds: f64, rate_hz: f64, peak: f32, noise_rms: f32) -> Vec<f32> {
    clicks(seed, fs, seconds, rate_hz, 0.0004, peak, noise_rms)
}

/// Clicks (3 kHz bursts decaying with time constant `tau_s`) at `rate_hz` with Gaussian noise.
fn clicks(seed: u64, fs: u32, seconds: f64, rate_hz: f64, tau_s: f64, peak: f32, noise_rms: f32) -> Vec<f32> {
    let n = (seconds * fs as f64) as usize;
    let mut rng = Rng::new(seed);
    let mut x: Vec<f32> = (0..n).map(|_| noise_rms * rng.gauss() as f32).collect();
    let period = (fs as f64 / rate_hz) as usize;
    let mut start = period / 3;
    while start < n {
        for k in 0..((10.0 * tau_s * fs as f64) as usize).min(n - start) {
            let t = k as f64 / fs as f64;
            x[start + k] +=
                peak * ((-t / tau_s).exp() * (2.0 * std::f64::consts::PI * 3000.0 * t).sin()) as f32;
        }
        start += period;
    }
    x
}

fn interleave(chans: &[&[f32]]) -> Vec<f32> {
    let n = chans[0].len();
    let mut v = Vec::with_capacity(n * chans.len());
    for i in 0..n {
        for c in chans {
            v.push(c[i]);
        }
    }
    v
}

// ---------------------------------------------------------------- WAV round trips

#[test]
fn write_read_i16_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("i16.wav");
    let ints = random_ints(1, 48_000, 16);
    let s16: Vec<i16> = ints.iter().map(|&v| v as i16).collect();
    write_wav(&p, int_spec(1, 48_000, 16), &s16);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().frames, Some(48_000));
    assert_eq!(src.info().encoding, "WAV PCM 16-bit");
    let got = read_all(src.as_mut(), 1000);
    let want: Vec<f32> = s16.iter().map(|&v| v as f32 / 32_768.0).collect();
    assert_eq!(got, want);
}

#[test]
fn write_read_i24_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("i24.wav");
    let ints = random_ints(2, 2 * 30_000, 24);
    write_wav(&p, int_spec(2, 96_000, 24), &ints);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().sample_rate_hz, 96_000);
    let got = read_all(src.as_mut(), 777);
    let want: Vec<f32> = ints.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(got, want);
}

#[test]
fn write_read_i32_keeps_f32_precision() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("i32.wav");
    let ints = random_ints(3, 20_000, 32);
    write_wav(&p, int_spec(1, 44_100, 32), &ints);
    let got = read_all(open(&p).unwrap().as_mut(), 4096);
    assert_eq!(got.len(), ints.len());
    for (g, &i) in got.iter().zip(&ints) {
        let exact = i as f64 / 2_147_483_648.0;
        assert!((*g as f64 - exact).abs() <= 2f64.powi(-24), "{g} vs {exact}");
    }
    assert_eq!(got[0], -1.0);
}

#[test]
fn write_read_f32_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f32.wav");
    let mut rng = Rng::new(4);
    let mut xs: Vec<f32> = (0..3 * 10_000).map(|_| rng.range(-1.0, 1.0) as f32).collect();
    xs[0] = -1.0;
    xs[1] = 1.0;
    xs[2] = 1e-30;
    let spec = hound::WavSpec {
        channels: 3,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    write_wav(&p, spec, &xs);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().channels, 3);
    assert_eq!(src.info().encoding, "WAV IEEE float 32-bit");
    assert_eq!(read_all(src.as_mut(), 1001), xs);
}

#[test]
fn u8_silence_reads_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("u8.wav");
    // hound takes 8-bit samples as i8 and stores them offset by 128.
    let mut s: Vec<i8> = vec![0; 22_050];
    s[100] = -128;
    s[101] = 127;
    write_wav(&p, int_spec(1, 22_050, 8), &s);
    let got = read_all(open(&p).unwrap().as_mut(), 4096);
    assert_eq!(got.len(), 22_050);
    assert_eq!(got[100], -1.0);
    assert_eq!(got[101], 127.0 / 128.0);
    assert!(got.iter().enumerate().all(|(i, &v)| i == 100 || i == 101 || v == 0.0));
}

#[test]
fn stereo_reads_interleaved() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("stereo.wav");
    let mut s = Vec::new();
    for i in 0..10_000i32 {
        s.push((i % 30_000) as i16);
        s.push(-((i % 30_000) as i16) - 1);
    }
    write_wav(&p, int_spec(2, 48_000, 16), &s);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().channels, 2);
    assert_eq!(src.info().frames, Some(10_000));
    let mut buf = vec![0.0f32; 2 * 333];
    let n = src.read_frames(&mut buf).unwrap();
    assert_eq!(n, 333);
    for f in 0..n {
        assert_eq!(buf[2 * f], f as f32 / 32_768.0);
        assert_eq!(buf[2 * f + 1], -(f as f32 + 1.0) / 32_768.0);
    }
}

#[test]
fn extensible_24_in_32_bit_containers_reads_left_justified() {
    let dir = tempfile::tempdir().unwrap();
    let ints = random_ints(5, 1000, 24);
    let mut data = Vec::new();
    for &v in &ints {
        data.extend_from_slice(&(v << 8).to_le_bytes());
    }
    let bytes = wav_bytes(&extensible_fmt(1, 48_000, 32, 24), &data, data.len() as u32);
    let p = write_file(dir.path(), "ext24in32.wav", &bytes);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().encoding, "WAV PCM 24-bit in 32-bit containers");
    let got = read_all(src.as_mut(), 100);
    let want: Vec<f32> = ints.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(got, want);
}

#[test]
fn extensible_16_bit_with_unknown_chunks_reads_like_plain_pcm() {
    let dir = tempfile::tempdir().unwrap();
    let ints = random_ints(6, 2 * 500, 16);
    let data: Vec<u8> = ints.iter().flat_map(|&v| (v as i16).to_le_bytes()).collect();
    let mut bytes = wav_bytes(&extensible_fmt(2, 44_100, 16, 16), &data, data.len() as u32);
    // A LIST chunk before `data` (hound skips it) and one after (ignored).
    let fmt_end = 12 + 8 + 40;
    let list = b"LIST\x04\x00\x00\x00abcd";
    bytes.splice(fmt_end..fmt_end, list.iter().copied());
    bytes.extend_from_slice(list);
    let p = write_file(dir.path(), "ext16.wav", &bytes);
    let got = read_all(open(&p).unwrap().as_mut(), 64);
    let want: Vec<f32> = ints.iter().map(|&v| v as f32 / 32_768.0).collect();
    assert_eq!(got, want);
}

#[test]
fn odd_sized_chunks_and_their_pad_bytes_are_skipped() {
    // RIFF pads a chunk of odd length with one byte. Another project's fixtures put a 3-byte
    // JUNK chunk (and its pad byte) before `fmt ` and an odd LIST before `data`; a reader that
    // skips only the declared length loses its place ("failed to read enough bytes").
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<f32> = (0..600).map(|i| ((i as f32) * 0.01).sin() * 0.5).collect();
    let data: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut bytes = wav_bytes(&pcm_fmt(3, 1, 48_000, 32, 4), &data, data.len() as u32);
    bytes.splice(12..12, b"JUNK\x03\x00\x00\x00\x10\x20\x30\x00".iter().copied());
    let fmt_end = 12 + 12 + 8 + 16;
    bytes.splice(fmt_end..fmt_end, b"LIST\x05\x00\x00\x00INFOx\x00".iter().copied());
    let p = write_file(dir.path(), "junk.wav", &bytes);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().frames, Some(600));
    assert_eq!(read_all(src.as_mut(), 64), samples);
}
// ---------------------------------------------------------------- FLAC

#[test]
fn flac_reads_like_the_wav_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let left = ticks(7, 48_000, 1.0, 5.0, 0.5, 0.01);
    let right = ticks(8, 48_000, 1.0, 6.0, 0.3, 0.02);
    let ints: Vec<i32> = interleave(&[&left, &right])
        .iter()
        .map(|&x| (x * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i32)
        .collect();
    let wav = dir.path().join("clicks.wav");
    let s16: Vec<i16> = ints.iter().map(|&v| v as i16).collect();
    write_wav(&wav, int_spec(2, 48_000, 16), &s16);
    let flac = write_file(dir.path(), "clicks.flac", &flac_bytes(&ints, 2, 16, 48_000, 4096));

    let mut w = open(&wav).unwrap();
    let mut f = open(&flac).unwrap();
    assert_eq!(f.info().sample_rate_hz, 48_000);
    assert_eq!(f.info().channels, 2);
    assert_eq!(f.info().frames, Some(48_000));
    assert_eq!(f.info().encoding, "FLAC 16-bit");
    let from_wav = read_all(w.as_mut(), 1000);
    let from_flac = read_all(f.as_mut(), 1000);
    assert_eq!(from_wav.len(), 2 * 48_000);
    assert_eq!(from_flac, from_wav);
}

#[test]
fn flac_24_bit_is_lossless_across_odd_reads() {
    let dir = tempfile::tempdir().unwrap();
    let ints = random_ints(9, 20_001, 24);
    let p = write_file(dir.path(), "i24.flac", &flac_bytes(&ints, 1, 24, 96_000, 1152));
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().encoding, "FLAC 24-bit");
    // 997 frames per call: reads straddle the 1152-frame packets.
    let got = read_all(src.as_mut(), 997);
    let want: Vec<f32> = ints.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(got, want);
}

/// `flac` with a metadata block of `kind` holding `body` inserted after STREAMINFO.
fn with_metadata_block(flac: &[u8], kind: u8, body: &[u8]) -> Vec<u8> {
    // fLaC, then STREAMINFO: a 4-byte header and 34 bytes.
    let (head, rest) = flac.split_at(4 + 4 + 34);
    let mut out = head.to_vec();
    let last = out[4] & 0x80;
    out[4] &= 0x7f;
    let n = body.len() as u32;
    out.extend_from_slice(&[kind | last, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    out.extend_from_slice(body);
    out.extend_from_slice(rest);
    out
}

fn vorbis_comment(vendor: &[u8], comments: &[&[u8]], claimed_first_len: Option<u32>) -> Vec<u8> {
    let mut b = (vendor.len() as u32).to_le_bytes().to_vec();
    b.extend_from_slice(vendor);
    b.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for (i, c) in comments.iter().enumerate() {
        let n = if i == 0 { claimed_first_len.unwrap_or(c.len() as u32) } else { c.len() as u32 };
        b.extend_from_slice(&n.to_le_bytes());
        b.extend_from_slice(c);
    }
    b
}

#[test]
fn flac_with_comments_reads_like_the_same_flac_without() {
    let ints = random_ints(12, 10_000, 16);
    let plain = flac_bytes(&ints, 1, 16, 48_000, 4096);
    let tagged = with_metadata_block(
        &plain,
        4,
        &vorbis_comment(b"tickproof", &[b"TITLE=ticks", b"ARTIST=a watch"], None),
    );
    let limits = Limits::default();
    let read = |b: &[u8]| {
        let mut s = FlacSource::from_reader(Cursor::new(b.to_vec()), Path::new("t.flac"), &limits).unwrap();
        read_all(&mut s, 1000)
    };
    assert_eq!(read(&tagged), read(&plain));
}

#[test]
fn flac_lengths_in_metadata_are_bounded_by_the_file_before_anything_is_allocated() {
    let ints = random_ints(13, 10_000, 16);
    let plain = flac_bytes(&ints, 1, 16, 48_000, 4096);
    let mut picture = Vec::new();
    for v in [3u32, 9] {
        picture.extend_from_slice(&v.to_be_bytes());
    }
    picture.extend_from_slice(b"image/png");
    picture.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes()); // description "4 GB"
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // A comment that says 2.3 GB in a block of a few bytes (the audit's 4 KB file).
        ("comment", with_metadata_block(&plain, 4, &vorbis_comment(b"x", &[b"A=b"], Some(2_317_945_511)))),
        (
            "vendor",
            with_metadata_block(&plain, 4, &{
                let mut b = vorbis_comment(b"x", &[], None);
                b[..4].copy_from_slice(&0xFFFF_0000u32.to_le_bytes());
                b
            }),
        ),
        (
            "comments",
            with_metadata_block(&plain, 4, &{
                let mut b = vorbis_comment(b"x", &[], None);
                b[5..9].copy_from_slice(&0x4000_0000u32.to_le_bytes());
                b
            }),
        ),
        ("description", with_metadata_block(&plain, 6, &picture)),
        ("past the end", {
            let mut b = with_metadata_block(&plain, 4, &vorbis_comment(b"x", &[], None));
            b.truncate(4 + 4 + 34 + 6);
            b
        }),
    ];
    for (what, bytes) in cases {
        let err = FlacSource::from_reader(Cursor::new(bytes), Path::new("evil.flac"), &Limits::default())
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        assert!(matches!(err, Error::Malformed { .. }), "{what}: {err}");
        let text = err.to_string();
        assert!(text.contains("evil.flac") && text.contains("metadata block"), "{what}: {text}");
        assert!(text.contains(what), "{what}: {text}");
    }
}

#[test]
fn truncated_flac_is_reported_not_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let ints = random_ints(10, 30_000, 16);
    let bytes = flac_bytes(&ints, 1, 16, 48_000, 4096);
    let p = write_file(dir.path(), "cut.flac", &bytes[..bytes.len() * 2 / 3]);
    let mut src = open(&p).unwrap();
    let mut buf = vec![0.0f32; 4096];
    let err = loop {
        match src.read_frames(&mut buf) {
            Ok(0) => panic!("a truncated FLAC read to a clean end"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::Malformed { .. }), "{err}");
    assert_names_file(&err, &p);
}

// ---------------------------------------------------------------- damage and limits

#[test]
fn a_truncated_wav_is_read_as_far_as_it_goes_and_says_where_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.wav");
    let s: Vec<i16> = (0..2 * 1000).map(|i| i as i16).collect();
    write_wav(&full, int_spec(2, 48_000, 16), &s);
    let bytes = std::fs::read(&full).unwrap();
    // Cut 1001 of the 4000 data bytes: 749 whole frames remain, plus 3 bytes of the next.
    let p = write_file(dir.path(), "cut.wav", &bytes[..bytes.len() - 1001]);
    let mut src = open(&p).unwrap();
    assert_eq!(src.info().frames, Some(749));
    let got = read_all(src.as_mut(), 300);
    let want: Vec<f32> = s[..2 * 749].iter().map(|&v| v as f32 / 32_768.0).collect();
    assert_eq!(got, want);
    let t = src.truncation().expect("the cut is reported");
    assert!(t.contains(&format!("ends at byte {}", bytes.len() - 1001)), "{t}");
    assert!(t.contains("749 of the 1000 frames") && t.contains("3 stray bytes"), "{t}");
    let whole = open(&full).unwrap();
    assert_eq!(whole.truncation(), None);
}

#[test]
fn rate_outside_limits_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [4_000u32, 384_000] {
        let p = dir.path().join(format!("rate{rate}.wav"));
        write_wav(&p, int_spec(1, rate, 16), &[0i16; 100]);
        let err = open(&p).err().expect("rate must be refused");
        assert!(matches!(err, Error::Limit { .. }), "{err}");
        assert_names_file(&err, &p);
        assert!(err.to_string().contains(&format!("{rate} Hz")), "{err}");
        // ... and allowed when the caller widens the limits.
        let wide = Limits { min_sample_rate_hz: 4_000, max_sample_rate_hz: 384_000, ..Limits::default() };
        assert!(open_with_limits(&p, &wide).is_ok());
    }
    let p = write_file(dir.path(), "rate4000.flac", &flac_bytes(&[0; 1000], 1, 16, 4_000, 256));
    let err = open(&p).err().expect("4 kHz FLAC must be refused");
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert_names_file(&err, &p);
}

#[test]
fn absurd_header_fields_are_refused_with_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![0u8; 400];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zero-channels", wav_bytes(&pcm_fmt(1, 0, 48_000, 16, 2), &data, 400)),
        ("rate-zero", wav_bytes(&pcm_fmt(1, 1, 0, 16, 2), &data, 400)),
        ("bits-zero", wav_bytes(&pcm_fmt(1, 1, 48_000, 0, 2), &data, 400)),
        ("bits-40", wav_bytes(&pcm_fmt(1, 1, 48_000, 40, 5), &data, 400)),
        ("valid-bits-40", wav_bytes(&extensible_fmt(1, 48_000, 32, 40), &data, 400)),
        ("float-64", wav_bytes(&pcm_fmt(3, 1, 48_000, 64, 8), &data, 400)),
        ("nine-channels", wav_bytes(&pcm_fmt(1, 9, 48_000, 16, 18), &[0u8; 18 * 10], 180)),
        ("adpcm", wav_bytes(&pcm_fmt(2, 1, 48_000, 16, 2), &data, 400)),
        // 4 GiB of 8-bit mono at 22.05 kHz is 54 hours: over the 24 h limit, refused before
        // anything is read (the file itself is tiny).
        ("54-hours", wav_bytes(&pcm_fmt(1, 1, 22_050, 8, 1), &data, u32::MAX)),
        ("no-data", wav_bytes(&pcm_fmt(1, 1, 48_000, 16, 2), &[], 0)[..36].to_vec()),
        ("empty", Vec::new()),
        ("text", b"this is not audio at all".to_vec()),
    ];
    for (name, bytes) in cases {
        let p = write_file(dir.path(), &format!("{name}.wav"), &bytes);
        match open(&p) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => {
                assert_names_file(&e, &p);
                if name == "54-hours" || name == "nine-channels" {
                    assert!(matches!(e, Error::Limit { .. }), "{name}: {e}");
                }
            }
        }
    }
}

/// Reads `bytes` as WAV or FLAC from memory, to the end or the first error; checks that every
/// sample returned is in `[-1, 1]`. Returns whether it was accepted and read cleanly.
fn read_untrusted(bytes: &[u8], flac: bool, limits: &Limits) -> bool {
    let name = Path::new(if flac { "fuzz.flac" } else { "fuzz.wav" });
    let src: Result<Box<dyn BlockSource>, Error> = if flac {
        FlacSource::from_reader(Cursor::new(bytes.to_vec()), name, limits).map(|s| Box::new(s) as _)
    } else {
        WavSource::from_reader(Cursor::new(bytes.to_vec()), name, limits).map(|s| Box::new(s) as _)
    };
    let Ok(mut src) = src else {
        let e = src.err().unwrap();
        assert!(e.to_string().starts_with(&name.display().to_string()), "{e}");
        return false;
    };
    let ch = src.info().channels as usize;
    assert!(ch >= 1);
    let mut buf = vec![0.0f32; 1024 * ch];
    loop {
        match src.read_frames(&mut buf) {
            Ok(0) => return true,
            Ok(n) => assert!(buf[..n * ch].iter().all(|x| (-1.0..=1.0).contains(x))),
            Err(e) => {
                assert!(e.to_string().starts_with(&name.display().to_string()), "{e}");
                return false;
            }
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let limits = Limits { max_duration_s: 60.0, ..Limits::default() };
    let dir = tempfile::tempdir().unwrap();
    let wav_path = dir.path().join("seed.wav");
    let s: Vec<i16> = random_ints(11, 2 * 2000, 16).iter().map(|&v| v as i16).collect();
    write_wav(&wav_path, int_spec(2, 48_000, 16), &s);
    let valid_wav = std::fs::read(&wav_path).unwrap();
    let valid_ext = {
        let p = dir.path().join("seed24.wav");
        write_wav(&p, int_spec(1, 44_100, 24), &random_ints(12, 3000, 24));
        std::fs::read(&p).unwrap()
    };
    let valid_flac = flac_bytes(&random_ints(13, 2 * 3000, 16), 2, 16, 48_000, 512);
    assert!(read_untrusted(&valid_wav, false, &limits));
    assert!(read_untrusted(&valid_ext, false, &limits));
    assert!(read_untrusted(&valid_flac, true, &limits));

    let mut rng = Rng::new(2024);
    let mut accepted = 0;
    let rounds = soak::cases(3000, 60_000);
    for round in 0..rounds {
        let kind = round % 6;
        let bytes: Vec<u8> = match kind {
            // Pure noise, sometimes behind the right magic bytes.
            0 | 1 => {
                let n = (rng.uniform() * 600.0) as usize;
                let mut b: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                if kind == 1 {
                    let magic: &[u8] = if round % 4 == 1 { b"RIFF\x00\x00\x00\x00WAVEfmt " } else { b"fLaC" };
                    b.splice(0..0, magic.iter().copied());
                }
                b
            }
            // Valid files with a few bytes changed, mostly in the headers.
            2..=4 => {
                let base = match kind {
                    2 => &valid_wav,
                    3 => &valid_ext,
                    _ => &valid_flac,
                };
                let mut b = base.clone();
                for _ in 0..1 + (rng.uniform() * 4.0) as usize {
                    let span = if rng.uniform() < 0.8 { 120.min(b.len()) } else { b.len() };
                    let i = (rng.uniform() * span as f64) as usize;
                    b[i] = rng.next_u64() as u8;
                }
                b
            }
            // Valid files cut anywhere.
            _ => {
                let base = if round % 4 == 1 { &valid_wav } else { &valid_flac };
                base[..(rng.uniform() * base.len() as f64) as usize].to_vec()
            }
        };
        // Try both readers on everything: each must refuse foreign bytes cleanly.
        let as_flac = read_untrusted(&bytes, true, &limits);
        let as_wav = read_untrusted(&bytes, false, &limits);
        accepted += (as_flac || as_wav) as usize;
    }
    // Some mutations (in sample data or ignorable fields) stay readable: the mutator does reach
    // the decoding paths, not just the magic checks.
    assert!(accepted > 50, "only {accepted} inputs were read to the end");
    soak::figures(
        "random_bytes_never_panic",
        &format!("{rounds} mutated or random audio files tried (each as WAV and as FLAC), no panic, {accepted} read to the end"),
    );
}

// ---------------------------------------------------------------- channels and blocks

#[test]
fn choose_channel_picks_the_ticking_channel() {
    let fs = 48_000;
    // A mechanical watch's ticks at 6 per second, and a quartz watch's 1 Hz clicks.
    let mechanical = ticks(20, fs, 10.0, 6.0, 0.2, 0.01);
    let quartz = clicks(25, fs, 10.0, 1.0, 0.001, 0.2, 0.01);
    let mut rng = Rng::new(21);
    let noise: Vec<f32> = (0..mechanical.len()).map(|_| 0.01 * rng.gauss() as f32).collect();
    let silent = vec![0.0f32; mechanical.len()];
    let constant = vec![0.25f32; mechanical.len()];
    for tick in [&mechanical, &quartz] {
        for other in [&noise, &silent, &constant] {
            for ticking in 0..2u16 {
                let chans: [&[f32]; 2] = if ticking == 0 { [tick, other] } else { [other, tick] };
                let mut src = MemorySource::new(interleave(&chans), fs, 2);
                let choice = choose_channel(&mut src, 10.0).unwrap();
                assert_eq!(choice.channel, ticking, "scores {:?}", choice.scores_db);
                assert_eq!(choice.scores_db.len(), 2);
                let (t, o) = (choice.scores_db[ticking as usize], choice.scores_db[1 - ticking as usize]);
                // The clicks sit about 8 dB over the noise in a 0.5 ms block (3 kHz loses 8 dB
                // in the first difference, white noise gains 3): a clear but not huge margin.
                assert!(t > o + 3.0 && o < 6.0, "ticking {t} dB, other {o} dB");
            }
        }
    }
}

#[test]
fn choose_channel_prefers_quiet_ticks_over_loud_noise() {
    let fs = 44_100;
    let tick = ticks(22, fs, 4.0, 5.0, 0.05, 0.002);
    let mut rng = Rng::new(23);
    let loud: Vec<f32> = (0..tick.len()).map(|_| (0.2 * rng.gauss() as f32).clamp(-1.0, 1.0)).collect();
    let mut src = MemorySource::new(interleave(&[&loud, &tick, &loud]), fs, 3);
    let choice = choose_channel(&mut src, 10.0).unwrap();
    assert_eq!(choice.channel, 1, "scores {:?}", choice.scores_db);
}

#[test]
fn silent_and_constant_channels_score_zero() {
    let n = 48_000;
    let mut src = MemorySource::new(interleave(&[&vec![0.0; n], &vec![-0.5; n]]), 48_000, 2);
    let choice = choose_channel(&mut src, 1.0).unwrap();
    assert_eq!(choice.scores_db, vec![0.0, 0.0]);
    assert_eq!(choice.channel, 0);
}

#[test]
fn choose_channel_rewinds_and_reads_no_further_than_asked() {
    /// Counts the frames read since the last rewind.
    struct Counting(MemorySource, u64, u64);
    impl BlockSource for Counting {
        fn info(&self) -> &tickproof::source::AudioInfo {
            self.0.info()
        }
        fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
            let n = self.0.read_frames(out)?;
            self.1 += n as u64;
            self.2 = self.2.max(self.1);
            Ok(n)
        }
        fn rewind(&mut self) -> Result<(), Error> {
            self.1 = 0;
            self.0.rewind()
        }
    }
    let x = ticks(24, 48_000, 5.0, 5.0, 0.3, 0.01);
    let mut src = Counting(MemorySource::new(x.clone(), 48_000, 1), 0, 0);
    let choice = choose_channel(&mut src, 2.0).unwrap();
    assert_eq!(choice.channel, 0);
    assert_eq!(src.2, 96_000, "scanned more or less than 2 s");
    assert_eq!(src.1, 0, "not rewound");
    let mut first = vec![0.0f32; 10];
    src.read_frames(&mut first).unwrap();
    assert_eq!(&first[..], &x[..10]);
}

/// Returns at most 7 frames per call, as a live or network source might.
struct Dribble(MemorySource);
impl BlockSource for Dribble {
    fn info(&self) -> &tickproof::source::AudioInfo {
        self.0.info()
    }
    fn read_frames(&mut self, out: &mut [f32]) -> Result<usize, Error> {
        let ch = self.0.info().channels as usize;
        let n = out.len().min(7 * ch);
        self.0.read_frames(&mut out[..n])
    }
    fn rewind(&mut self) -> Result<(), Error> {
        self.0.rewind()
    }
}

#[test]
fn mono_blocks_concatenate_to_the_whole_channel() {
    let n = 10_500;
    let chans: Vec<Vec<f32>> = (0..3).map(|c| (0..n).map(|i| (c * n + i) as f32 / 1e5).collect()).collect();
    let inter = interleave(&[&chans[0], &chans[1], &chans[2]]);
    for channel in 0..3u16 {
        for dribble in [false, true] {
            let mem = MemorySource::new(inter.clone(), 48_000, 3);
            let src: Box<dyn BlockSource> = if dribble { Box::new(Dribble(mem)) } else { Box::new(mem) };
            let mut blocks = MonoBlocks::new(src, channel, 1000);
            assert_eq!(blocks.channel(), channel);
            let mut all = Vec::new();
            let mut sizes = Vec::new();
            while let Some(b) = blocks.next_block().unwrap() {
                sizes.push(b.len());
                all.extend_from_slice(b);
                assert_eq!(blocks.frames_read(), all.len() as u64);
            }
            assert_eq!(all, chans[channel as usize]);
            assert_eq!(sizes.len(), 11);
            assert!(sizes[..10].iter().all(|&s| s == 1000) && sizes[10] == 500);
            assert!(blocks.next_block().unwrap().is_none());
        }
    }
    // Mono, straight from a WAV file.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mono.wav");
    let s: Vec<i16> = (0..n).map(|i| (i - 5000) as i16).collect();
    write_wav(&p, int_spec(1, 48_000, 16), &s);
    let mut blocks = MonoBlocks::new(open(&p).unwrap(), 0, 4096);
    assert_eq!(blocks.info().frames, Some(n as u64));
    let mut all = Vec::new();
    while let Some(b) = blocks.next_block().unwrap() {
        all.extend_from_slice(b);
    }
    let want: Vec<f32> = s.iter().map(|&v| v as f32 / 32_768.0).collect();
    assert_eq!(all, want);
}

#[test]
fn rewind_restarts_at_frame_zero() {
    let dir = tempfile::tempdir().unwrap();
    let ints = random_ints(30, 2 * 9000, 16);
    let wav = dir.path().join("r.wav");
    write_wav(&wav, int_spec(2, 48_000, 16), &ints.iter().map(|&v| v as i16).collect::<Vec<_>>());
    let flac = write_file(dir.path(), "r.flac", &flac_bytes(&ints, 2, 16, 48_000, 1024));
    for p in [&wav, &flac] {
        let mut src = open(p).unwrap();
        let whole = read_all(src.as_mut(), 500);
        assert_eq!(whole.len(), ints.len());
        src.rewind().unwrap();
        // Part-way, then rewind, then the whole again.
        let mut buf = vec![0.0f32; 2 * 1500];
        src.read_frames(&mut buf).unwrap();
        src.rewind().unwrap();
        assert_eq!(read_all(src.as_mut(), 2048), whole, "{}", p.display());
        src.rewind().unwrap();
        let mut blocks = MonoBlocks::new(src, 1, 600);
        blocks.next_block().unwrap();
        blocks.next_block().unwrap();
        blocks.rewind().unwrap();
        assert_eq!(blocks.frames_read(), 0);
        let first = blocks.next_block().unwrap().unwrap().to_vec();
        let want: Vec<f32> = whole.iter().skip(1).step_by(2).take(600).copied().collect();
        assert_eq!(first, want);
    }
}

#[test]
fn a_wav_with_a_second_data_or_fmt_chunk_is_refused_naming_it() {
    let fmt = pcm_fmt(1, 1, 48_000, 16, 2);
    let data = vec![0u8; 200];
    let one = wav_bytes(&fmt, &data, data.len() as u32);
    assert!(WavSource::from_reader(Cursor::new(one.clone()), Path::new("ok.wav"), &Limits::default()).is_ok());
    // A second data chunk after the first (a recording appended by a careless tool).
    let mut two_data = one.clone();
    two_data.extend_from_slice(b"data");
    two_data.extend_from_slice(&100u32.to_le_bytes());
    two_data.extend_from_slice(&[0u8; 100]);
    // A second fmt chunk after the data.
    let mut two_fmt = one;
    two_fmt.extend_from_slice(b"fmt ");
    two_fmt.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    two_fmt.extend_from_slice(&fmt);
    for (what, bytes) in [("data", two_data), ("fmt ", two_fmt)] {
        let err = WavSource::from_reader(Cursor::new(bytes), Path::new("twice.wav"), &Limits::default())
            .err()
            .unwrap_or_else(|| panic!("a second {what} chunk was accepted"));
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("twice.wav") && text.contains(&format!("second '{what}' chunk")), "{text}");
    }
}
