//! Warranty policies as data: TOML files, validated, with errors that name the file, line and
//! field, and the built-in policies (embedded verbatim so `policy show` prints the exact text).
//!
//! # The format
//!
//! ```toml
//! [policy]
//! name = "bultime-bg"            # lowercase letters, digits, '-', '_', '.'; at most 64
//! version = "1"
//! title = "..."                  # one line for people
//! source = "seeds/003_....txt"   # where the terms come from
//! retailer = "Bultime"           # optional
//! country = "BG"                 # optional
//! decision_rule = "guarded_acceptance"   # or "simple_acceptance" (default: guarded)
//! uncalibrated_recorder_u95_ppm = 100.0  # assumed recorder error when none was measured
//!
//! [mechanical]                   # manual and automatic; optional
//! term = "tolerance"             # "tolerance", "band" or "model_spec_only"
//! unit = "s/day"                 # or "s/month"
//! plus_minus = 15.0              # or min = -4.0 and max = 6.0
//! clause = "the words of the terms"
//!
//! [quartz]                       # quartz, kinetic, solar; optional
//! term = "band"                  # inner edge every model meets, outer edge none may exceed
//! unit = "s/day"
//! inner_plus_minus = 10.0
//! outer_plus_minus = 30.0
//! clause = "..."
//!
//! [protocol]                     # the positional protocol for mechanical claims
//! positions = ["DU", "DD", "CD", "CL", "CU"]   # 3, 5 or 6 distinct positions
//! settling_s = 30.0
//! seconds_per_position = 60.0
//! state_of_wind = "fully_wound"  # or "after_24_hours", "as_received"
//! note = "..."                   # optional
//!
//! [[finding]]                    # findings that redirect a claim; at most 32
//! code = "battery_end_of_life"   # snake_case; detected ones: battery_end_of_life, magnetisation,
//! outcome = "not_a_defect"       # motor_missing_steps; others (e.g. shock) come from the technician
//! step_interval_s = [2, 4]       # optional, battery indicator steps named by the terms
//! clause = "..."
//!
//! [thresholds]                   # optional; typical service values are the defaults
//! low_amplitude_flat_deg = 180.0
//! ```
//!
//! A missing accuracy section means the policy states no figure for that movement kind: the
//! verdict is then `needs_model_spec`.
//!
//! # Limits
//! A policy file is at most [`POLICY_MAX_BYTES`]; at most [`MAX_FINDING_RULES`] finding rules;
//! every text field at most [`MAX_TEXT_CHARS`] characters.
//!
//! # Layout
//! * `terms`: what a policy says: [`DecisionRule`], [`Tolerance`], [`AccuracyTerm`], the
//!   [`Protocol`], the [`FindingRule`]s and the [`Thresholds`].
//! * `error`: [`PolicyError`].
//! * `raw` and `validate`: the TOML as written, and its checks with file/line/field errors.
//! * `builtin`: the built-in policies, embedded verbatim.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

mod builtin;
mod error;
mod raw;
mod terms;
mod validate;

pub use builtin::{builtin, builtin_names, builtin_text};
pub use error::PolicyError;
pub use terms::{
    AccuracyRule, AccuracyTerm, DecisionRule, FindingOutcome, FindingRule, Protocol, RateUnit, Thresholds,
    Tolerance, WindState,
};

/// Largest policy file accepted, bytes.
pub const POLICY_MAX_BYTES: u64 = 64 * 1024;
/// Most `[[finding]]` rules in one policy.
pub const MAX_FINDING_RULES: usize = 32;
/// Longest text field (title, source, clause, note), characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Smallest tolerance a policy may state, in its unit (s/day or s/month): far below any
/// warranty term and any figure a recording gives.
pub const MIN_TOLERANCE: f64 = 0.01;

/// A validated warranty policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Short name (`bultime-bg`).
    pub name: String,
    /// Version of the policy text.
    pub version: String,
    /// One line for people.
    pub title: String,
    /// The retailer whose terms these are, if any.
    pub retailer: Option<String>,
    /// Country code, if any.
    pub country: Option<String>,
    /// Where the terms come from (file, document).
    pub source: String,
    /// How intervals are compared with limits.
    pub decision_rule: DecisionRule,
    /// The recorder clock u95 assumed, ppm, when a measurement was made uncalibrated.
    pub uncalibrated_recorder_u95_ppm: f64,
    /// The term for mechanical movements (manual, automatic), if stated.
    pub mechanical: Option<AccuracyRule>,
    /// The term for quartz movements (quartz, kinetic, solar), if stated.
    pub quartz: Option<AccuracyRule>,
    /// The positional protocol for mechanical claims.
    pub protocol: Protocol,
    /// Findings that redirect a claim.
    pub findings: Vec<FindingRule>,
    /// Thresholds of the findings beside the verdict.
    pub thresholds: Thresholds,
    /// The exact TOML text the policy was read from.
    pub text: String,
    /// SHA-256 of `text`, lowercase hex.
    pub sha256: String,
    /// Where it was read from: `builtin:NAME` or the file path.
    pub origin: String,
}

/// Name, version and content hash of the policy a verdict applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// Policy name.
    pub name: String,
    /// Policy version.
    pub version: String,
    /// SHA-256 of the policy text, lowercase hex.
    pub sha256: String,
}

impl Policy {
    /// The reference a verdict records.
    pub fn reference(&self) -> PolicyRef {
        PolicyRef { name: self.name.clone(), version: self.version.clone(), sha256: self.sha256.clone() }
    }

    /// The accuracy rule for a movement kind, if the policy states one.
    pub fn rule_for(&self, movement: super::Movement) -> Option<&AccuracyRule> {
        match movement {
            super::Movement::Mechanical => self.mechanical.as_ref(),
            super::Movement::Quartz => self.quartz.as_ref(),
        }
    }

    /// The finding rule for a code, if any.
    pub fn finding_rule(&self, code: &str) -> Option<&FindingRule> {
        self.findings.iter().find(|r| r.code == code)
    }

    /// Reads and validates a policy file (at most [`POLICY_MAX_BYTES`]).
    pub fn from_toml_file(path: &Path) -> Result<Policy, PolicyError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let io = |e: std::io::Error| PolicyError::Io { path: shown.clone(), message: e.to_string() };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(POLICY_MAX_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > POLICY_MAX_BYTES {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(bytes.len() as u64);
            return Err(PolicyError::TooLarge { path: shown, bytes: size });
        }
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::NotText { path: shown.clone() })?;
        Policy::from_toml_str(&text, &shown)
    }

    /// Validates a policy from its TOML text; `origin` names it in errors (a path or `builtin:NAME`).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        if text.len() as u64 > POLICY_MAX_BYTES {
            return Err(PolicyError::TooLarge { path: origin.to_string(), bytes: text.len() as u64 });
        }
        let ctx = validate::Ctx { text, path: origin };
        let raw: raw::RawFile = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
        ctx.validate(raw)
    }

    /// A built-in policy by name, or a policy file by path.
    pub fn load(name_or_file: &str) -> Result<Policy, PolicyError> {
        if let Some(p) = builtin(name_or_file) {
            return Ok(p);
        }
        let path = Path::new(name_or_file);
        if path.exists() {
            return Policy::from_toml_file(path);
        }
        Err(PolicyError::UnknownName { name: name_or_file.to_string() })
    }
}

/// SHA-256 of a text, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
