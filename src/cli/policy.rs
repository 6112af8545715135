//! `tickproof policy list|show|check`: the warranty policies a verdict can apply.
use super::{ExitCode, Failure};
use crate::verdict::{builtin, builtin_names, builtin_text, Policy};
use std::path::PathBuf;

/// Raw arguments of `policy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// The `policy` actions.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// List the built-in policies: name, version, content hash and title.
    List {
        /// One JSON object on stdout: `{"schema": ..., "policies": [...]}`.
        #[arg(long)]
        json: bool,
    },
    /// Print the exact TOML text of a built-in policy or a policy file (what its hash covers).
    Show {
        /// A built-in policy name or a policy file.
        #[arg(value_name = "NAME_OR_FILE")]
        name: String,
    },
    /// Validate a policy file: exit 0 and a summary, or exit 2 naming the line and field.
    Check {
        /// The policy file (TOML).
        file: PathBuf,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
}

fn summary(p: &Policy) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "version": p.version,
        "sha256": p.sha256,
        "title": p.title,
        "source": p.source,
        "decision_rule": p.decision_rule,
        "mechanical": p.mechanical,
        "quartz": p.quartz,
        "protocol": p.protocol,
        "findings": p.findings,
    })
}

fn out(text: &str) {
    // A closed pipe (`| head`) is not an error of ours.
    super::out::write_all(text.as_bytes());
}

/// Runs `policy`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    match args.action {
        Action::List { json } => {
            let policies: Vec<Policy> = builtin_names()
                .into_iter()
                .map(|n| {
                    builtin(n)
                        .ok_or_else(|| Failure::new(ExitCode::Internal, format!("builtin:{n}: invalid")))
                })
                .collect::<Result<_, _>>()?;
            if json {
                let list: Vec<_> = policies.iter().map(summary).collect();
                let v = serde_json::json!({ "policies": list });
                out(&format!("{}\n", super::schema::tag(super::schema::POLICY, v)));
            } else {
                let mut s = String::new();
                for p in &policies {
                    s.push_str(&format!(
                        "{:<22} v{:<4} {}  {}\n",
                        p.name,
                        p.version,
                        &p.sha256[..12],
                        p.title
                    ));
                }
                out(&s);
            }
        }
        Action::Show { name } => match builtin_text(&name) {
            Some(text) => out(text),
            None => {
                let p = Policy::load(&name).map_err(|e| Failure::usage(e.to_string()))?;
                out(&p.text);
            }
        },
        Action::Check { file, json } => {
            let p = Policy::from_toml_file(&file).map_err(|e| Failure::usage(e.to_string()))?;
            if json {
                out(&format!("{}\n", super::schema::tag(super::schema::POLICY, summary(&p))));
            } else {
                out(&format!(
                    "{}: ok: policy {} v{} (sha256 {}): {}\n",
                    file.display(),
                    p.name,
                    p.version,
                    p.sha256,
                    p.title
                ));
            }
        }
    }
    Ok(ExitCode::Ok)
}
