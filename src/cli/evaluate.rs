//! `tickproof evaluate`: the accuracy benchmark over a synthetic sweep or a folder with truth.
use super::{ExitCode, Failure};
use crate::evaluate::{self, SweepConfig};
use std::path::PathBuf;

/// Raw arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A folder of recordings, each `NAME.wav` (or `.flac`) with `NAME.truth.json` beside it.
    #[arg(required_unless_present = "sweep", conflicts_with = "sweep")]
    pub dir: Option<PathBuf>,
    /// Evaluate a seeded sweep synthesised in memory instead of a folder.
    #[arg(long)]
    pub sweep: bool,
    /// Watch recordings per (beat rate, SNR band) cell and per no-watch scenario (default 7).
    #[arg(long, requires = "sweep", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub seeds: Option<u32>,
    /// One recording per cell: a quick look rather than a coverage figure.
    #[arg(long, requires = "sweep", conflicts_with = "seeds")]
    pub quick: bool,
    /// Master seed of the sweep.
    #[arg(long, requires = "sweep", default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: the available cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: Option<u32>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Resolves the sweep settings (`None` for a folder).
    pub fn sweep_config(&self) -> Option<SweepConfig> {
        self.sweep.then(|| {
            let base = if self.quick { SweepConfig::quick() } else { SweepConfig::full() };
            SweepConfig {
                seeds: self.seeds.map_or(base.seeds, |s| s as usize),
                seed: self.seed,
                threads: self.threads.unwrap_or(0) as usize,
            }
        })
    }
}

/// Runs `evaluate`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let report = match (args.sweep_config(), &args.dir) {
        (Some(cfg), _) => evaluate::run_sweep(&cfg),
        (None, Some(dir)) => evaluate::run_dir_with(dir, args.threads.unwrap_or(0) as usize)
            .map_err(|e| Failure::usage(e.to_string()))?,
        (None, None) => return Err(Failure::usage("evaluate: give a folder or --sweep")),
    };
    if args.json {
        let v = super::schema::tagged(super::schema::EVALUATE, &report)?;
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| Failure::new(ExitCode::Internal, format!("evaluate: cannot write JSON: {e}")))?;
        crate::outln!("{text}");
    } else {
        crate::out!("{report}");
    }
    Ok(ExitCode::Ok)
}
