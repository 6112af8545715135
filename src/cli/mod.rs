//! The command line: raw arguments ([`clap`] structs, one file per subcommand) are resolved
//! into library configurations, the library does the work, and every outcome maps to one
//! deterministic exit code ([`exit`]).
use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub mod analyze;
pub mod calibrate;
pub mod claim;
pub mod devices;
pub mod docs;
pub mod doctor;
pub mod evaluate;
pub mod exit;
pub mod judge;
pub mod key;
pub mod listen;
pub mod out;
pub mod policy;
pub mod schema;
pub mod shop;
pub mod store;
pub mod synth;

pub use exit::{ExitCode, Failure};

/// tickproof: a timegrapher that settles watch accuracy claims with evidence.
#[derive(Debug, Parser)]
#[command(name = "tickproof", version, about, long_about = None)]
pub struct Cli {
    /// Store for claim records: a folder (default: the per-user data directory), or a shared
    /// registry `postgres://USER@HOST/DB` (password from PGPASSWORD or ~/.pgpass, never the
    /// URL); for `claim`, `key` and `store`.
    #[arg(long, value_name = "DIR|URL")]
    pub store: Option<PathBuf>,
    /// The branch (service centre) this machine is at, named in the records it writes and in
    /// their claim ids: 1 to 16 upper-case letters or digits (default: $TICKPROOF_BRANCH).
    #[arg(long, value_name = "CODE")]
    pub branch: Option<String>,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure a recording: bph, rate, beat error, amplitude (or quartz rate), with u95.
    Analyze(analyze::Args),
    /// Measure, keep and show the recorder's clock error (calibration profiles per device).
    Calibrate(calibrate::Args),
    /// Judge a claim: measure one recording per position and apply a warranty policy.
    Judge(judge::Args),
    /// Warranty policies: list the built-ins, show one's exact text, check a policy file.
    Policy(policy::Args),
    /// Write a recording with known truth (JSON beside it) from the escapement model.
    Synth(synth::Args),
    /// Warranty claims: open, measure, show, list, export, verify.
    Claim(claim::Args),
    /// The service centre's signing key: new, show; the keys a store trusts: trust, revoke.
    Key(key::Args),
    /// Copy claims between this store and a PostgreSQL registry (push, pull); migrate a registry.
    Store(store::Args),
    /// Read a watch live from a microphone (or `--replay FILE`), in a terminal view or as lines.
    Listen(listen::Args),
    /// List the audio inputs and the sample rates they support.
    Devices(devices::Args),
    /// Check the input before a measurement (a recording, or the microphone with --live):
    /// level, clipping, noise, hum, the ticks' band and bph, calibration; what to change.
    Doctor(doctor::Args),
    /// The shop: name, address and logo for the reports; default policy, device, technician.
    Shop(shop::Args),
    /// Benchmark the pipeline against known truth: a seeded synthetic sweep or a folder.
    Evaluate(evaluate::Args),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionArgs),
    /// Print the manual page, or write every page into a folder (`--out DIR`).
    Man(docs::ManArgs),
}

/// An error message as one line of at most 400 characters: control characters (a parser
/// quoting the bytes of a hostile file, say) become spaces.
fn one_line(message: &str) -> String {
    let mut s: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).take(400).collect();
    if message.chars().count() > 400 {
        s.push_str("...");
    }
    s
}

/// The store and branch from `--store`, `--branch` and `TICKPROOF_BRANCH` (bad code: exit 2).
fn store_choice(store: Option<PathBuf>, branch: Option<String>) -> Result<claim::StoreChoice, Failure> {
    let branch = branch.or_else(|| std::env::var("TICKPROOF_BRANCH").ok().filter(|b| !b.is_empty()));
    if let Some(b) = &branch {
        crate::record::id::validate_branch(b).map_err(|e| Failure::usage(e.to_string()))?;
    }
    Ok(claim::StoreChoice { store, branch })
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
    if cli.store.is_some() && !matches!(cli.command, Command::Claim(_) | Command::Key(_) | Command::Store(_))
    {
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "tickproof: --store applies to `claim`, `key` and `store` only");
        return ExitCode::Usage as i32;
    }
    let choice = match store_choice(cli.store.clone(), cli.branch.clone()) {
        Ok(c) => c,
        Err(f) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "tickproof: {}", one_line(&f.message));
            return f.code as i32;
        }
    };
    let outcome = match cli.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Calibrate(a) => calibrate::run(a),
        Command::Judge(a) => judge::run(a),
        Command::Policy(a) => policy::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Claim(a) => claim::run(a, choice),
        Command::Store(a) => store::run(a, choice),
        Command::Key(a) => key::run(a, choice),
        Command::Listen(a) => listen::run(a),
        Command::Devices(a) => devices::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Shop(a) => shop::run(a),
        Command::Completions(a) => docs::completions(a),
        Command::Man(a) => docs::man(a),
    };
    let code = match outcome {
        Ok(code) => code as i32,
        Err(f) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "tickproof: {}", one_line(&f.message));
            f.code as i32
        }
    };
    out::finish(code)
}
