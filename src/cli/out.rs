//! Standard output that never panics: a reader that has gone (a closed pipe, `| head`) ends the
//! program quietly, and a write that fails for another reason (a full disk, `> /dev/full`) is an
//! error with its own exit code instead of a lost result reported as success.
//!
//! Every subcommand prints through [`out!`](crate::out) and [`outln!`](crate::outln); the first
//! failure is kept, later writes are skipped, and [`finish`] turns it into the exit code once the
//! subcommand has done its work (its records are written whether or not anyone reads stdout).
use super::ExitCode;
use std::io::{self, Write};
use std::sync::Mutex;

static FAILED: Mutex<Option<(io::ErrorKind, Option<i32>, String)>> = Mutex::new(None);

/// Writes formatted text to standard output, keeping the first failure.
pub fn write_fmt(args: std::fmt::Arguments<'_>) {
    if failed() {
        return;
    }
    let mut o = io::stdout().lock();
    if let Err(e) = o.write_fmt(args) {
        keep(e);
    }
}

/// Writes bytes to standard output, keeping the first failure.
pub fn write_all(bytes: &[u8]) {
    if failed() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_all(bytes) {
        keep(e);
    }
}

/// Whether a write to standard output has failed (the reader gone, the disk full).
pub fn failed() -> bool {
    FAILED.lock().map(|f| f.is_some()).unwrap_or(true)
}

fn keep(e: io::Error) {
    if let Ok(mut f) = FAILED.lock() {
        f.get_or_insert((e.kind(), e.raw_os_error(), e.to_string()));
    }
}

/// The exit code once the subcommand is done: `code` when everything printed reached standard
/// output; 141 (as a shell reports SIGPIPE) when the reader had gone; [`ExitCode::Storage`] with
/// one line on standard error when the output could not be written.
pub fn finish(code: i32) -> i32 {
    if let Err(e) = io::stdout().lock().flush() {
        keep(e);
    }
    let kept = FAILED.lock().ok().and_then(|f| f.clone());
    match kept {
        None => code,
        Some((io::ErrorKind::BrokenPipe, _, _)) => BROKEN_PIPE,
        Some((_, os, text)) => {
            // ENOSPC (ErrorKind::StorageFull is newer than the supported Rust).
            let why = if os == Some(ENOSPC) { "disk full".to_string() } else { text };
            let _ = writeln!(io::stderr(), "tickproof: standard output could not be written: {why}");
            if code == 0 {
                ExitCode::Storage as i32
            } else {
                code
            }
        }
    }
}

/// The "no space left on device" error number (Linux, the BSDs and macOS alike).
const ENOSPC: i32 = 28;

/// The exit status when standard output's reader has gone: 128 + SIGPIPE, as a shell reports a
/// program that the signal ended.
pub const BROKEN_PIPE: i32 = 141;

/// `print!` to standard output without panicking (see [`crate::cli::out`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::write_fmt(format_args!($($arg)*))
    };
}

/// `println!` to standard output without panicking (see [`crate::cli::out`]).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::cli::out::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {{
        $crate::cli::out::write_fmt(format_args!($($arg)*));
        $crate::cli::out::write_fmt(format_args!("\n"));
    }};
}
