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
        vec!["listen", "--replay", FIXTURE, "--speed", "0", "--json"],
        vec!["listen", "--replay", FIXTURE, "--speed", "0", "--no-tui"],
    ]
}

/// How long a command may take before it is taken to hang (output that goes away must end it).
const HANG_S: u64 = 120;

/// Waits for `cmd` (standard error read as it comes), killing it and failing if it takes over
/// [`HANG_S`].
fn output_within(mut cmd: Command, what: &[&str]) -> std::process::Output {
    use std::io::Read;
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        pipe.read_to_end(&mut v).map(|_| v)
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(HANG_S);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{what:?} still running after {HANG_S} s with its output gone");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output { status, stdout: vec![], stderr: reader.join().unwrap().unwrap() }
}

/// Runs `args` with standard output a pipe whose reader is gone before the program starts (so
/// that even a short output written at once meets the closed pipe).
fn with_closed_pipe(args: &[&str]) -> std::process::Output {
    // The pipe's only reader is the standard input of a `true` that has already exited
    // (`std::io::pipe` would do, but it is newer than the crate's MSRV).
    let mut sink = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let writer = sink.stdin.take().unwrap();
    sink.wait().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickproof"));
    cmd.args(args).stdout(writer);
    output_within(cmd, args)
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
        // Nobody stopped it: the output went away, and that is all there is to say.
        assert!(!e.contains("stopped by the user"), "{args:?}: {e}");
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
        vec!["listen", "--replay", FIXTURE, "--speed", "0", "--json"],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickproof"));
        cmd.args(&args).stdout(full);
        let o = output_within(cmd, &args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(7), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{e}");
        // One line says so, the last.
        assert_eq!(e.lines().filter(|l| l.contains("could not be written")).count(), 1, "{e}");
        assert!(e.trim().lines().last().is_some_and(|l| l.contains("disk full")), "{e}");
    }
}
