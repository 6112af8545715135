//! `tickproof shop show|set`: the shop's name, address and logo for the reports, and the
//! defaults of a claim (policy, input device, technician). See [`crate::shop`].
use super::{ExitCode, Failure};
use crate::shop::{shop_path, Shop, ShopError};
use std::path::PathBuf;

/// Raw arguments of `shop`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// `shop` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Show the shop configuration and the file it is kept in.
    Show {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Set fields of the shop configuration (an empty value clears a field). Validated before
    /// anything is written.
    Set {
        /// The shop's name, at the head of every report.
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// The shop's address (`\n` or a newline separates lines).
        #[arg(long, value_name = "TEXT")]
        address: Option<String>,
        /// Logo for the report's letterhead: a PNG, JPEG or SVG file of at most 1 MiB.
        #[arg(long, value_name = "FILE")]
        logo: Option<PathBuf>,
        /// The policy `claim new` uses when none is given.
        #[arg(long, value_name = "NAME|FILE")]
        default_policy: Option<String>,
        /// The input device `listen` and `claim measure --live` use when none is given.
        #[arg(long, value_name = "NAME")]
        default_device: Option<String>,
        /// The technician `claim new` names when none is given.
        #[arg(long, value_name = "NAME")]
        technician: Option<String>,
        /// Trust this public key (64 hex digits, or a .pub file from `tickproof key new`):
        /// `claim verify` then holds every store's signatures to the trusted keys, and the key
        /// may join a store's keyring. Repeatable; an empty value clears the list.
        #[arg(long, value_name = "HEX|FILE")]
        trust_key: Vec<String>,
    },
}

/// Maps a shop error to a failure: bad input (exit 2), or a write that failed (exit 7).
pub fn shop_failure(e: ShopError, writing: bool) -> Failure {
    let code = if writing && matches!(e, ShopError::Io { .. }) { ExitCode::Storage } else { ExitCode::Usage };
    Failure::new(code, e.to_string())
}

/// The shop configuration in force (empty when there is no file); a bad file is bad input.
pub fn current() -> Result<Shop, Failure> {
    Shop::load_default().map_err(|e| shop_failure(e, false))
}

fn set_field<T>(field: &mut Option<T>, given: Option<String>, make: impl Fn(String) -> T) {
    if let Some(v) = given {
        *field = if v.is_empty() { None } else { Some(make(v)) };
    }
}

/// Runs `shop`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let path = shop_path().map_err(|e| shop_failure(e, false))?;
    match args.command {
        Sub::Show { json } => {
            let shop = current()?;
            if json {
                let v = serde_json::json!({ "file": path, "shop": shop });
                crate::outln!("{}", super::schema::tag(super::schema::SHOP, v));
            } else {
                crate::outln!(
                    "shop file      {}{}",
                    path.display(),
                    if path.exists() { "" } else { " (none yet)" }
                );
                let show = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                crate::outln!("name           {}", show(shop.name));
                crate::outln!("address        {}", show(shop.address.map(|a| a.replace('\n', ", "))));
                crate::outln!("logo           {}", show(shop.logo.map(|l| l.display().to_string())));
                crate::outln!("default policy {}", show(shop.default_policy));
                crate::outln!("default device {}", show(shop.default_device));
                crate::outln!("technician     {}", show(shop.technician));
                for k in &shop.trusted_keys {
                    crate::outln!("trusted key    {k}");
                }
            }
            Ok(ExitCode::Ok)
        }
        Sub::Set { name, address, logo, default_policy, default_device, technician, trust_key } => {
            let mut shop = current()?;
            set_field(&mut shop.name, name, |v| v);
            set_field(&mut shop.address, address, |v| v.replace("\\n", "\n"));
            set_field(&mut shop.logo, logo.map(|l| l.to_string_lossy().into_owned()), |v| {
                let p = PathBuf::from(v);
                // Kept absolute, so the report finds it from any working directory.
                std::path::absolute(&p).unwrap_or(p)
            });
            set_field(&mut shop.default_policy, default_policy, |v| v);
            set_field(&mut shop.default_device, default_device, |v| v);
            set_field(&mut shop.technician, technician, |v| v);
            for k in trust_key {
                if k.is_empty() {
                    shop.trusted_keys.clear();
                    continue;
                }
                let k = super::key::public_key_arg("--trust-key", &k)?;
                if !shop.trusted_keys.iter().any(|t| t.eq_ignore_ascii_case(&k)) {
                    shop.trusted_keys.push(k);
                }
            }
            shop.save(&path).map_err(|e| shop_failure(e, true))?;
            crate::outln!("saved {}", path.display());
            Ok(ExitCode::Ok)
        }
    }
}
