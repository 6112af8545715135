//! The command line: raw arguments ([`clap`] structs, one file per subcommand) are resolved
//! into library configurations, the library does the work, and every outcome maps to one
//! deterministic exit code ([`exit`]).
use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub mod analyze;
pub mod evaluate;
pub mod exit;
pub mod synth;

pub use exit::{ExitCode, Failure};

/// tickproof: a timegrapher that settles watch accuracy claims with evidence.
#[derive(Debug, Parser)]
#[command(name = "tickproof", version, about, long_about = None)]
pub struct Cli {
    /// Store for claim records (default: the per-user data directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure a recording: bph, rate, beat error, amplitude (or quartz rate), with u95.
    Analyze(analyze::Args),
    /// Write a recording with known truth (JSON beside it) from the escapement model.
    Synth(synth::Args),
    /// Benchmark the pipeline against known truth: a seeded synthetic sweep or a folder.
    Evaluate(evaluate::Args),
}

/// Parses the process arguments, runs the subcommand and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => ExitCode::Usage as i32,
            };
            let _ = e.print();
            return code;
        }
    };
    let outcome = match cli.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Evaluate(a) => evaluate::run(a),
    };
    match outcome {
        Ok(code) => code as i32,
        Err(f) => {
            eprintln!("tickproof: {}", f.message);
            f.code as i32
        }
    }
}
