//! `tickproof key new|show`: the service centre's Ed25519 signing key; `key trust|revoke`: a
//! store's keyring (see [`crate::record::keyring`]).
use super::claim::StoreChoice;
use super::{ExitCode, Failure};
use crate::record::sign::{default_key_path, public_key_path};
use crate::record::{Keyring, RecordError, ServiceKey};
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
    /// Trust another key in the store's keyring from the next record on (a signed change,
    /// appended; the store becomes signed if it was not)
    Trust {
        /// The key to trust: its public key file (`.pub`) or 64 hex digits.
        #[arg(value_name = "FILE|HEX")]
        public_key: String,
        /// The key that signs the change, one the keyring trusts (default: the per-user key).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
    /// Revoke a key in the store's keyring from the next record on (a signed change, appended:
    /// its records before still verify, any after do not)
    Revoke {
        /// The key to revoke: its public key file (`.pub`) or 64 hex digits.
        #[arg(value_name = "FILE|HEX")]
        public_key: String,
        /// The key that signs the change, one the keyring trusts (default: the per-user key).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
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

/// `key trust` and `key revoke`: the change made by `signer` to the keyring of `choice`'s store.
fn change_ring(
    choice: &StoreChoice,
    trust: bool,
    given: &str,
    signer: Option<PathBuf>,
) -> Result<ExitCode, Failure> {
    let flag = if trust { "key trust" } else { "key revoke" };
    let public_key = public_key_arg(flag, given)?;
    if choice.store.as_deref().and_then(|p| p.to_str()).is_some_and(crate::store::postgres::is_registry_url) {
        return Err(Failure::usage(format!(
            "{flag}: changes the keyring of a store folder; a registry takes it with `tickproof store push`"
        )));
    }
    let signer = ServiceKey::load(&key_path(signer)?).map_err(key_failure)?;
    let mut store = super::claim::open_local(choice)?;
    let ring = store
        .change_keyring(|ring, next| match (ring, trust) {
            (Some(r), true) => r.trust(&signer, &public_key, next),
            (None, true) => Keyring::new(&signer, next)?.trust(&signer, &public_key, next),
            (Some(r), false) => r.revoke(&signer, &public_key, next),
            (None, false) => Err(RecordError::InvalidField {
                field: "keyring:".into(),
                problem: "this store has none (it is unsigned): there is no key to revoke".into(),
            }),
        })
        .map_err(super::claim::store_failure)?;
    let c = ring.changes.last().expect("a change was just appended");
    crate::outln!(
        "{}: key {} {} from record {} on (change {} of the keyring, signed by key {})",
        store.dir().display(),
        c.key_id,
        if trust { "trusted" } else { "revoked" },
        c.from_seq,
        ring.changes.len(),
        signer.key_id()
    );
    Ok(ExitCode::Ok)
}

/// Runs `key`.
pub fn run(args: Args, choice: StoreChoice) -> Result<ExitCode, Failure> {
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
        Sub::Trust { public_key, key } => change_ring(&choice, true, &public_key, key),
        Sub::Revoke { public_key, key } => change_ring(&choice, false, &public_key, key),
    }
}
