//! Feeds arbitrary bytes to the claim-archive reader (`claim verify ARCHIVE.tar`): the tar is
//! unpacked with its bounds checks and its records, chain, keyring and receipts read. Errors
//! are fine; a panic, a hang, or anything left in the temporary folder is a bug.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tickproof::store::export::Exported;
use tickproof::store::Limits;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("tickproof-fuzz-archive-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("claim.tar");
    std::fs::write(&path, data).unwrap();
    let limits = Limits { max_archive_bytes: 1 << 20, max_archive_entries: 64, ..Limits::default() };
    if let Ok(ex) = Exported::open(&path, limits) {
        assert!(!ex.revisions.is_empty());
    }
    let _ = std::fs::remove_file(&path);
});
