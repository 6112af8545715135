//! Feeds arbitrary bytes to the shop-file parser: errors are fine; a panic, or a shop that loads
//! but does not validate, is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use tickproof::shop::Shop;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-shop.toml");
    if let Ok(shop) = Shop::from_bytes(data, path) {
        assert!(shop.validate(path).is_ok(), "a loaded shop validates");
    }
});
