//! Standard output that goes away: a reader that closes the pipe ends the program quietly (exit
//! 141, no panic), and output that cannot be written (`> /dev/full`) is an error with exit 7, not
//! a success with the result lost.
use std::process::{Command, Stdio};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav"
);

/// The commands tried, each of which prints something on success.
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["analyze", FIXTURE, "--json"],
        vec!["analyze", FIXTURE],
        vec!["policy", "list"],
        vec!["devices", "--json"],
        vec!["judge", "--policy", "bultime-bg", "--positions", "DU", FIXTURE],
        vec!["doctor", FIXTURE, "--json"],
        vec!["policy", "show", "bultime-bg"],
        vec!["calibrate", "host-status", "--json"],
        vec!["completions", "bash"],
        vec!["man"],
    ]
}

/// Runs `args` with standard output a pipe whose reader is gone before the program starts (so
/// that even a short output written at once meets the closed pipe).
fn with_closed_pipe(args: &[&str]) -> std::process::Output {
    // The pipe's only reader is the standard input of a `true` that has already exited
    // (`std::io::pipe` would do, but it is newer than the crate's MSRV).
    let mut sink = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let writer = sink.stdin.take().unwrap();
    sink.wait().unwrap();
    Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_quietly_with_141_and_no_panic() {
    for args in commands() {
        let o = with_closed_pipe(&args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!e.contains("panicked"), "{args:?}: {e}");
        // A command whose work failed keeps its own code; one that printed to nobody says so.
        let code = o.status.code();
        assert!(code == Some(141) || code.is_some_and(|c| (2..=7).contains(&c)), "{args:?}: {code:?} {e}");
        if args[0] != "judge" && args[0] != "devices" {
            assert_eq!(code, Some(141), "{args:?}: {e}");
        }
    }
}

#[test]
fn output_to_a_full_disk_is_an_error_with_exit_7() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    for args in [
        vec!["analyze", FIXTURE, "--json"],
        vec!["policy", "list"],
        vec!["judge", "--policy", "bultime-bg", "--positions", "DU", FIXTURE, "--json"],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_tickproof")).args(&args).stdout(full).output().unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(7), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(e.contains("disk full"), "{e}");
    }
}
