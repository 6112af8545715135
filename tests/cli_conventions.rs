//! Command-line conventions (issue 13): errors that suggest the fix, empty results said in
//! words, and the same exit code for the same outcome on every path.
use std::process::Command;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav"
);
const NOISE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/none-noise-48k-10s.wav");

fn tickproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).output().unwrap()
}

#[test]
fn a_forced_bph_the_ticks_do_not_fit_says_which_one_they_do() {
    let o = tickproof(&["analyze", FIXTURE, "--bph", "28000"]);
    assert_eq!(o.status.code(), Some(3));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("the ticks fit 21600 bph: use --bph auto"), "{text}");
}

#[test]
fn claim_list_says_no_claims_and_refuses_an_unknown_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let o = tickproof(&["--store", store, "claim", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "no claims");
    let o = tickproof(&["--store", store, "claim", "list", "--verdict", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bogus") && e.contains("within_spec") && e.trim().lines().count() == 1, "{e}");
}

#[test]
fn a_replay_without_a_watch_exits_3_like_analyze() {
    let args = ["listen", "--replay", NOISE, "--speed", "0", "--no-tui"];
    let o = tickproof(&args);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("the recording ended") && !e.contains("EndOfStream"), "{e}");
    assert_eq!(tickproof(&["analyze", NOISE]).status.code(), Some(3));
    let o = tickproof(&["listen", "--replay", FIXTURE, "--speed", "0", "--no-tui"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}
