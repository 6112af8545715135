//! Feeds arbitrary text to the calibration-profile parser: errors are fine; a panic, or a
//! profile that loads but does not validate or survive its own round trip, is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tickproof::calibration::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz-profile.toml");
    if let Ok(p) = Profile::from_toml(text, path) {
        assert!(p.validate(path).is_ok(), "a loaded profile validates");
        let again = Profile::from_toml(&p.to_toml(), path).expect("a profile reads back what it writes");
        assert_eq!(again.to_toml(), p.to_toml());
    }
});
