//! `tickproof analyze FILE`: measure one recording.
use super::{ExitCode, Failure};
use std::path::PathBuf;

/// Raw arguments of `analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The recording (WAV or FLAC).
    pub file: PathBuf,
}

/// Runs `analyze`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let _ = crate::source::open(&args.file)?;
    Ok(ExitCode::Ok)
}
