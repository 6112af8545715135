//! Feeds arbitrary text to the dial-log parser and fits a rate to what it reads: errors are
//! fine; a panic, a hang or a non-finite rate is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tickproof::verdict::DialLog;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(log) = DialLog::parse(text, "fuzz-dial.csv") {
        if let Ok(r) = log.rate(1.0) {
            let s = format!("{r:?}");
            assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
        }
    }
});
