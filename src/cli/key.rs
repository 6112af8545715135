//! `tickproof key new|show`: the service centre's Ed25519 signing key.
use super::{ExitCode, Failure};
use crate::record::sign::{default_key_path, public_key_path};
use crate::record::{RecordError, ServiceKey};
use std::path::PathBuf;

/// Raw arguments of `key`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Sub,
}

/// `key` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Sub {
    /// Create a new signing key (mode 0600; an existing key is never overwritten).
    New {
        /// Key file (default: the per-user config directory, keys/service-centre.key).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
    /// Print the public key and its fingerprint.
    Show {
        /// Key file (default: the per-user config directory, keys/service-centre.key).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Resolves the key path: the flag, else the default location.
pub fn key_path(flag: Option<PathBuf>) -> Result<PathBuf, Failure> {
    flag.or_else(default_key_path)
        .ok_or_else(|| Failure::usage("no per-user config directory here: give --key FILE"))
}

/// A public key given on the command line as `flag`: 64 hex digits, or a file holding them (a
/// `.pub` file from `key new`); anything else is bad input naming the flag. Returns lower-case hex.
pub fn public_key_arg(flag: &str, given: &str) -> Result<String, Failure> {
    let path = std::path::Path::new(given);
    let text = if path.is_file() {
        let f = std::fs::File::open(path).map_err(|e| Failure::usage(format!("{given}: {e}")))?;
        let mut buf = String::new();
        use std::io::Read;
        // A public key file is one line; more than a few hundred bytes is not one.
        f.take(512).read_to_string(&mut buf).map_err(|e| Failure::usage(format!("{given}: {e}")))?;
        buf.trim().to_string()
    } else {
        given.trim().to_string()
    };
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    let shown: String = text.chars().take(80).collect();
    Err(Failure::usage(format!(
        "{flag} {shown:?}: neither a public key file nor 64 hex digits of an Ed25519 public key"
    )))
}

/// Maps a record-layer key error to a failure.
pub fn key_failure(e: RecordError) -> Failure {
    match e {
        RecordError::Io { .. } => Failure::new(ExitCode::Storage, e.to_string()),
        _ => Failure::usage(e.to_string()),
    }
}

/// Runs `key`.
pub fn run(args: Args, _store: Option<PathBuf>) -> Result<ExitCode, Failure> {
    match args.command {
        Sub::New { key } => {
            let path = key_path(key)?;
            let k = ServiceKey::create_file(&path).map_err(key_failure)?;
            crate::outln!("new signing key {} written to {}", k.key_id(), path.display());
            crate::outln!("public key: {}", k.public_key_hex());
            crate::outln!(
                "public key file (give it to whoever verifies): {}",
                public_key_path(&path).display()
            );
            Ok(ExitCode::Ok)
        }
        Sub::Show { key, json } => {
            let path = key_path(key)?;
            if !path.exists() {
                return Err(Failure::usage(format!(
                    "{}: no key there; create one with `tickproof key new`",
                    path.display()
                )));
            }
            let k = ServiceKey::load(&path).map_err(key_failure)?;
            if json {
                let v = serde_json::json!({
                    "key_id": k.key_id(), "public_key": k.public_key_hex(), "algorithm": "ed25519",
                    "path": path.display().to_string()
                });
                crate::outln!("{}", super::schema::tag(super::schema::KEY, v));
            } else {
                crate::outln!("key {} (ed25519) at {}", k.key_id(), path.display());
                crate::outln!("public key: {}", k.public_key_hex());
            }
            Ok(ExitCode::Ok)
        }
    }
}
