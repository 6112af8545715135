//! Shared by the command-line tests that need a user of their own: the binary run with `HOME`,
//! the XDG folders and tickproof's config folder all inside a temporary `home`, from the
//! repository's root (so bundled fixtures are found by their relative paths).
#![allow(dead_code)]
use std::path::Path;
use std::process::{Command, Output};

/// Runs `tickproof args` as the user whose home is `home`.
pub fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TICKPROOF_CONFIG_DIR", home.join("config/tickproof"))
        .output()
        .unwrap()
}

/// The JSON a successful run printed (fails the test, with its stderr, on any other exit).
pub fn json_ok(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Opens a claim for the standard test watch (Seiko SRPD55, mechanical, serial `serial`) under
/// the policy `bultime-bg` in `store`, with `--json`; returns the run.
pub fn claim_new(home: &Path, store: &str, serial: &str) -> Output {
    let args =
        ["--store", store, "claim", "new", "--brand", "Seiko", "--model", "SRPD55", "--serial", serial];
    let rest = ["--movement", "mechanical", "--policy", "bultime-bg", "--json"];
    run(home, &[&args[..], &rest[..]].concat())
}
