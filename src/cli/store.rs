//! `tickproof store push|pull|migrate`: a branch's SQLite store and the chain's PostgreSQL
//! registry.
use super::claim::{open_local, store_failure, StoreChoice};
use super::{ExitCode, Failure};
use crate::record::ClaimId;
use crate::store::postgres::is_registry_url;
use crate::store::sync::{self, SyncReport};
use crate::store::{PgStore, StoreOptions};

/// Raw arguments of `store`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// `store` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Send this store's chain (`--store DIR`, or the per-user store) to a registry: every
    /// revision, hash, chain link, signature and evidence file. Idempotent; resumes where an
    /// interrupted push stopped.
    Push {
        /// The registry, `postgres://USER@HOST[:PORT]/DB` (no password in it).
        url: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Copy a claim from a registry into this store (for a dispute at another branch), with
    /// the chain that holds it, so that the copy verifies on its own. The store must be empty or
    /// a copy of that chain.
    Pull {
        /// The registry URL.
        url: String,
        /// Claim id.
        id: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Create or upgrade a registry's schema (roles, tables, triggers, row-level security), as
    /// the database's owner. A registry newer than this program is refused and left alone.
    Migrate {
        /// The registry URL.
        url: String,
    },
}

fn registry_url(url: &str) -> Result<&str, Failure> {
    if is_registry_url(url) {
        Ok(url)
    } else {
        let shown: String = url.chars().take(80).collect();
        Err(Failure::usage(format!("{shown:?}: not a registry URL (postgres://USER@HOST/DB)")))
    }
}

fn print_report(verb: &str, r: &SyncReport, json: bool) -> Result<(), Failure> {
    if json {
        crate::outln!("{}", super::schema::tagged(super::schema::STORE, r)?);
    } else {
        crate::outln!(
            "{verb} chain {}: {} record(s) copied, {} already there, {} evidence object(s) copied",
            r.chain_id,
            r.records_copied,
            r.records_present,
            r.evidence_copied
        );
    }
    Ok(())
}

/// Runs `store`.
pub fn run(args: Args, choice: StoreChoice) -> Result<ExitCode, Failure> {
    if choice.store.as_deref().and_then(|p| p.to_str()).is_some_and(is_registry_url) {
        return Err(Failure::usage(
            "--store names the local store here (a folder); the registry is the URL argument",
        ));
    }
    let opts = StoreOptions { branch: choice.branch.clone(), ..StoreOptions::default() };
    match args.command {
        Sub::Push { url, json } => {
            let registry = PgStore::open(registry_url(&url)?, opts).map_err(store_failure)?;
            let mut local = open_local(&choice)?;
            let r = sync::push(&mut local, &registry).map_err(store_failure)?;
            print_report("pushed", &r, json)?;
        }
        Sub::Pull { url, id, json } => {
            let id = ClaimId::parse(&id).map_err(|e| Failure::usage(e.to_string()))?;
            let registry = PgStore::open(registry_url(&url)?, opts).map_err(store_failure)?;
            let mut local = open_local(&choice)?;
            let r = sync::pull(&registry, &mut local, &id).map_err(store_failure)?;
            print_report("pulled", &r, json)?;
        }
        Sub::Migrate { url } => {
            let (before, after) = PgStore::migrate(registry_url(&url)?).map_err(store_failure)?;
            if before == after {
                crate::outln!("registry schema already at version {after}");
            } else {
                crate::outln!("registry schema migrated from version {before} to {after}");
            }
        }
    }
    Ok(ExitCode::Ok)
}
