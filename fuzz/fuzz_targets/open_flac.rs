//! Feeds arbitrary bytes to the FLAC reader and reads them to the end, then again after a
//! rewind. Errors are fine; a panic, a hang or a sample outside [-1, 1] is a bug. (The FLAC
//! reader turns decoder panics into errors with `catch_unwind`, but libFuzzer's panic hook
//! aborts first, so the fuzzer still reports them.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::path::Path;
use tickproof::source::flac::FlacSource;
use tickproof::source::{BlockSource, Limits};

fuzz_target!(|data: &[u8]| {
    // Short limit: a tiny input must not decode for minutes.
    let limits = Limits { max_duration_s: 10.0, ..Limits::default() };
    let Ok(mut src) = FlacSource::from_reader(Cursor::new(data.to_vec()), Path::new("fuzz.flac"), &limits)
    else {
        return;
    };
    let ch = src.info().channels as usize;
    let mut buf = vec![0.0f32; 1000 * ch];
    for _pass in 0..2 {
        while let Ok(n) = src.read_frames(&mut buf) {
            if n == 0 {
                break;
            }
            assert!(buf[..n * ch].iter().all(|x| (-1.0..=1.0).contains(x)));
        }
        if src.rewind().is_err() {
            break;
        }
    }
});
