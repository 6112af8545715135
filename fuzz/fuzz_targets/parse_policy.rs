//! Feeds arbitrary text to the warranty-policy parser (and judges nothing): errors are fine; a
//! panic, a hang or a policy that loads but whose words or reference cannot be made is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tickproof::verdict::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = Policy::from_toml_str(text, "fuzz.toml") {
        let _ = p.reference();
        let _ = p.rule_for(tickproof::verdict::Movement::Mechanical).map(|r| format!("{r:?}"));
    }
});
