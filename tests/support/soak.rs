//! The audit's kinds of test sized for CI, and larger under `make soak` (`TICKPROOF_SOAK=1`).
//! Each sized test prints one `soak figures:` line; `make soak` collects them.
#![allow(dead_code)]

/// Whether this run is the soak (`TICKPROOF_SOAK` set to anything but `0` or empty).
pub fn soaking() -> bool {
    std::env::var("TICKPROOF_SOAK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `normal` cases in the normal suite, `soak` under `make soak`.
pub fn cases(normal: usize, soak: usize) -> usize {
    if soaking() {
        soak
    } else {
        normal
    }
}

/// Prints one line of figures for `make soak` to collect (visible with `--nocapture`).
pub fn figures(test: &str, line: &str) {
    eprintln!("soak figures: {test}: {line}");
}
