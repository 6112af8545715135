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
use super::position::Position;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Largest policy file accepted, bytes.
pub const POLICY_MAX_BYTES: u64 = 64 * 1024;
/// Most `[[finding]]` rules in one policy.
pub const MAX_FINDING_RULES: usize = 32;
/// Longest text field (title, source, clause, note), characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// A policy that cannot be used. Every message names the file (or built-in name) and, for a
/// file's content, the line and the field.
#[derive(Debug)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// The file is larger than [`POLICY_MAX_BYTES`].
    TooLarge {
        /// The file.
        path: String,
        /// Its size, bytes.
        bytes: u64,
    },
    /// The file is not UTF-8 text.
    NotText {
        /// The file.
        path: String,
    },
    /// The content is not a valid policy: TOML syntax, a wrong type, an unknown or missing
    /// field, or a value out of range.
    Invalid {
        /// The file.
        path: String,
        /// 1-based line of the problem.
        line: usize,
        /// The field, as `table.key` (e.g. `mechanical.plus_minus`).
        field: String,
        /// The problem in plain words.
        message: String,
    },
    /// Neither a built-in policy nor an existing file has this name.
    UnknownName {
        /// The name asked for.
        name: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Io { path, message } => write!(f, "{path}: cannot read policy: {message}"),
            PolicyError::TooLarge { path, bytes } => {
                write!(f, "{path}: policy file is {bytes} bytes, more than the {POLICY_MAX_BYTES} allowed")
            }
            PolicyError::NotText { path } => write!(f, "{path}: policy file is not UTF-8 text"),
            PolicyError::Invalid { path, line, field, message } => {
                write!(f, "{path}:{line}: field `{field}`: {message}")
            }
            PolicyError::UnknownName { name } => write!(
                f,
                "{name}: no built-in policy or file of that name (built-in: {})",
                builtin_names().join(", ")
            ),
        }
    }
}

impl std::error::Error for PolicyError {}

/// Smallest tolerance a policy may state, in its unit (s/day or s/month): far below any
/// warranty term and any figure a recording gives.
pub const MIN_TOLERANCE: f64 = 0.01;

/// How a measured interval is compared with a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecisionRule {
    /// A verdict only when the whole 95% interval lies on one side of the limit; otherwise
    /// `inconclusive`.
    #[default]
    GuardedAcceptance,
    /// The measured value alone decides (the interval is reported, not used).
    SimpleAcceptance,
}

impl DecisionRule {
    /// The rule in plain words, for every verdict.
    pub fn words(self) -> &'static str {
        match self {
            DecisionRule::GuardedAcceptance => {
                "guarded acceptance: a verdict only when the whole 95% interval is on one side of the limit"
            }
            DecisionRule::SimpleAcceptance => {
                "simple acceptance: the measured value decides, whatever its uncertainty"
            }
        }
    }
}

/// The unit a tolerance is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateUnit {
    /// Seconds per day.
    #[serde(rename = "s/day")]
    SPerDay,
    /// Seconds per 30-day month.
    #[serde(rename = "s/month")]
    SPerMonth,
}

impl RateUnit {
    /// `s/day` or `s/month`.
    pub fn name(self) -> &'static str {
        match self {
            RateUnit::SPerDay => "s/day",
            RateUnit::SPerMonth => "s/month",
        }
    }
    /// How many of this unit one s/day is (1 or 30).
    pub fn per_s_per_day(self) -> f64 {
        match self {
            RateUnit::SPerDay => 1.0,
            RateUnit::SPerMonth => 30.0,
        }
    }
}

/// A closed rate interval `[min, max]` in one unit: a rate inside it is acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// The most the watch may lose (negative), in `unit`.
    pub min: f64,
    /// The most the watch may gain, in `unit`.
    pub max: f64,
    /// The unit of `min` and `max`.
    pub unit: RateUnit,
}

impl Tolerance {
    /// A symmetric tolerance `±x`.
    pub fn plus_minus(x: f64, unit: RateUnit) -> Self {
        Tolerance { min: -x.abs(), max: x.abs(), unit }
    }
    /// The same tolerance in another unit.
    pub fn to_unit(self, unit: RateUnit) -> Tolerance {
        let k = unit.per_s_per_day() / self.unit.per_s_per_day();
        Tolerance { min: self.min * k, max: self.max * k, unit }
    }
    /// Written as people read it: `±15 s/day` or `-4/+6 s/day`.
    pub fn words(&self) -> String {
        if (self.min + self.max).abs() < 1e-9 {
            format!("±{} {}", fmt_num(self.max), self.unit.name())
        } else {
            format!("{}/{:+} {}", fmt_num(self.min), self.max, self.unit.name())
        }
    }
}

fn fmt_num(x: f64) -> String {
    if x == x.round() && x.abs() < 1e9 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// What a policy says about the accuracy of one movement kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "term", rename_all = "snake_case")]
pub enum AccuracyTerm {
    /// A fixed tolerance for every model.
    Tolerance(Tolerance),
    /// Every model meets `inner`; none may exceed `outer`; in between the model's own
    /// specification decides.
    Band {
        /// The edge every model is admitted.
        inner: Tolerance,
        /// The edge no model may exceed.
        outer: Tolerance,
    },
    /// The model's own specification (instructions, warranty card) is the only limit.
    ModelSpecOnly,
}

/// The accuracy term of one movement kind and the words of the terms it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyRule {
    /// The term.
    pub term: AccuracyTerm,
    /// The clause of the warranty terms, quoted.
    pub clause: String,
}

/// State of wind required before a mechanical measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindState {
    /// Fully wound before the protocol starts.
    FullyWound,
    /// Fully wound, then left running 24 hours (the mainspring's average torque).
    #[serde(rename = "after_24_hours")]
    After24Hours,
    /// As handed in by the customer.
    AsReceived,
}

/// The measurement protocol for mechanical claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// The positions to measure (3, 5 or 6 distinct).
    pub positions: Vec<Position>,
    /// Time to let the watch settle in each position before measuring, seconds.
    pub settling_s: f64,
    /// Measuring time per position, seconds.
    pub seconds_per_position: f64,
    /// The state of wind.
    pub state_of_wind: WindState,
    /// Where the protocol comes from, in plain words.
    pub note: String,
}

/// Where a finding sends a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingOutcome {
    /// Not a defect of the movement (e.g. a flat battery).
    NotADefect,
    /// Excluded from the warranty (e.g. magnetisation, shock), to be confirmed by the technician.
    Excluded,
}

/// A finding the policy treats specially.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRule {
    /// The finding's code (`battery_end_of_life`, `magnetisation`, `shock`, ...).
    pub code: String,
    /// Where it sends the claim.
    pub outcome: FindingOutcome,
    /// For the battery indicator: the step intervals the terms name, seconds (empty: any).
    pub step_interval_s: Vec<u32>,
    /// The clause of the terms, quoted.
    pub clause: String,
}

/// Thresholds of the findings reported beside a verdict. Defaults are typical service values,
/// not warranty terms: they raise findings, never decide a verdict by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Amplitude below this in a flat position (DU, DD) is low, degrees (typical: 180).
    pub low_amplitude_flat_deg: f64,
    /// Amplitude below this in a hanging position is low, degrees (typical: 160).
    pub low_amplitude_hanging_deg: f64,
    /// Beat error above this is high, ms (typical: 1.0).
    pub high_beat_error_ms: f64,
    /// Positional spread D (max - min) above this is large, s/day (typical: 30).
    pub large_positional_spread_s_per_day: f64,
    /// An average gain above this, with an erratic rate, suggests magnetisation, s/day (60).
    pub magnetisation_gain_s_per_day: f64,
    /// Standard deviation of the 10 s window rates above this is erratic, s/day (typical: 10).
    pub erratic_window_spread_s_per_day: f64,
    /// Signal quality (0..1) below this is poor (typical: 0.5).
    pub poor_quality_below: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            low_amplitude_flat_deg: 180.0,
            low_amplitude_hanging_deg: 160.0,
            high_beat_error_ms: 1.0,
            large_positional_spread_s_per_day: 30.0,
            magnetisation_gain_s_per_day: 60.0,
            erratic_window_spread_s_per_day: 10.0,
            poor_quality_below: 0.5,
        }
    }
}

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
        let ctx = Ctx { text, path: origin };
        let raw: RawFile = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
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

const BUILTIN: [(&str, &str); 5] = [
    ("bultime-bg", include_str!("../../policies/bultime-bg.toml")),
    ("rankine-ro", include_str!("../../policies/rankine-ro.toml")),
    ("alltime-ru", include_str!("../../policies/alltime-ru.toml")),
    ("timeless-ge", include_str!("../../policies/timeless-ge.toml")),
    ("iso3159-chronometer", include_str!("../../policies/iso3159-chronometer.toml")),
];

/// The names of the built-in policies.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// The exact TOML text of a built-in policy.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A built-in policy by name (`bultime-bg`, `rankine-ro`, `alltime-ru`, `timeless-ge`,
/// `iso3159-chronometer`). The embedded texts are validated by the test suite.
pub fn builtin(name: &str) -> Option<Policy> {
    let text = builtin_text(name)?;
    Policy::from_toml_str(text, &format!("builtin:{name}")).ok()
}

/// SHA-256 of a text, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

// ---- raw form, as written; every value that is checked after parsing keeps its span ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policy: RawHeader,
    mechanical: Option<RawTerm>,
    quartz: Option<RawTerm>,
    protocol: RawProtocol,
    #[serde(default)]
    finding: Vec<RawFinding>,
    thresholds: Option<RawThresholds>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Spanned<String>,
    version: Spanned<String>,
    title: Spanned<String>,
    source: Spanned<String>,
    retailer: Option<Spanned<String>>,
    country: Option<Spanned<String>>,
    decision_rule: Option<DecisionRule>,
    uncalibrated_recorder_u95_ppm: Option<Spanned<f64>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum RawTermKind {
    Tolerance,
    Band,
    ModelSpecOnly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    term: Spanned<RawTermKind>,
    unit: Option<RateUnit>,
    plus_minus: Option<Spanned<f64>>,
    min: Option<Spanned<f64>>,
    max: Option<Spanned<f64>>,
    inner_plus_minus: Option<Spanned<f64>>,
    outer_plus_minus: Option<Spanned<f64>>,
    clause: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    positions: Spanned<Vec<Spanned<String>>>,
    settling_s: Spanned<f64>,
    seconds_per_position: Spanned<f64>,
    state_of_wind: WindState,
    note: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    code: Spanned<String>,
    outcome: FindingOutcome,
    #[serde(default)]
    step_interval_s: Option<Spanned<Vec<i64>>>,
    clause: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    low_amplitude_flat_deg: Option<Spanned<f64>>,
    low_amplitude_hanging_deg: Option<Spanned<f64>>,
    high_beat_error_ms: Option<Spanned<f64>>,
    large_positional_spread_s_per_day: Option<Spanned<f64>>,
    magnetisation_gain_s_per_day: Option<Spanned<f64>>,
    erratic_window_spread_s_per_day: Option<Spanned<f64>>,
    poor_quality_below: Option<Spanned<f64>>,
}

struct Ctx<'a> {
    text: &'a str,
    path: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    /// The `[table]` in force at a line (1-based), without brackets.
    fn table_at(&self, line: usize) -> String {
        let mut table = String::new();
        for l in self.text.lines().take(line) {
            let t = l.trim();
            if t.starts_with('[') {
                table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            }
        }
        table
    }

    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            path: self.path.to_string(),
            line: self.line_of(span.start),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Maps a TOML or serde error to the file, line and field it is about.
    fn toml_error(&self, e: &toml::de::Error) -> PolicyError {
        let message = e.message().trim().replace('\n', " ");
        let span = e.span().unwrap_or(0..0);
        let line = self.line_of(span.start);
        let table = self.table_at(line);
        // serde names the key for missing and unknown fields; otherwise the key is on the line.
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.find(p).map(|i| &message[i + p.len()..]))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let key = named.or_else(|| {
            let l = self.text.lines().nth(line - 1).unwrap_or("");
            l.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string())
        });
        let field = match (table.is_empty(), key) {
            (_, Some(k)) if k.contains('.') => k,
            (false, Some(k)) => format!("{table}.{k}"),
            (true, Some(k)) => k,
            (false, None) => table,
            (true, None) => "(document)".to_string(),
        };
        PolicyError::Invalid { path: self.path.to_string(), line, field, message }
    }

    fn text_field(&self, v: &Spanned<String>, field: &str, required: bool) -> Result<String, PolicyError> {
        let s = v.get_ref().trim();
        if required && s.is_empty() {
            return Err(self.err(v.span(), field, "must not be empty"));
        }
        if s.chars().count() > MAX_TEXT_CHARS {
            return Err(self.err(v.span(), field, format!("longer than {MAX_TEXT_CHARS} characters")));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(self.err(v.span(), field, "contains control characters"));
        }
        Ok(s.to_string())
    }

    fn positive(&self, v: &Spanned<f64>, field: &str, max: f64) -> Result<f64, PolicyError> {
        let x = *v.get_ref();
        if !x.is_finite() || x <= 0.0 || x > max {
            return Err(self.err(
                v.span(),
                field,
                format!("must be a number above 0 and at most {max}, not {x}"),
            ));
        }
        Ok(x)
    }

    fn validate(&self, raw: RawFile) -> Result<Policy, PolicyError> {
        let h = &raw.policy;
        let name = self.text_field(&h.name, "policy.name", true)?;
        let name_ok = name.len() <= 64
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if !name_ok {
            return Err(self.err(
                h.name.span(),
                "policy.name",
                "must be 1-64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit",
            ));
        }
        let version = self.text_field(&h.version, "policy.version", true)?;
        if version.len() > 32 || !version.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(self.err(
                h.version.span(),
                "policy.version",
                "must be at most 32 letters, digits, '-', '_' or '.'",
            ));
        }
        let title = self.text_field(&h.title, "policy.title", true)?;
        let source = self.text_field(&h.source, "policy.source", true)?;
        let retailer =
            h.retailer.as_ref().map(|v| self.text_field(v, "policy.retailer", true)).transpose()?;
        let country = h.country.as_ref().map(|v| self.text_field(v, "policy.country", true)).transpose()?;
        let uncal = match &h.uncalibrated_recorder_u95_ppm {
            Some(v) => self.positive(v, "policy.uncalibrated_recorder_u95_ppm", 10_000.0)?,
            None => 100.0,
        };
        let mechanical = raw.mechanical.as_ref().map(|t| self.term(t, "mechanical")).transpose()?;
        let quartz = raw.quartz.as_ref().map(|t| self.term(t, "quartz")).transpose()?;
        let protocol = self.protocol(&raw.protocol)?;
        if raw.finding.len() > MAX_FINDING_RULES {
            let span = raw.finding[MAX_FINDING_RULES].code.span();
            return Err(self.err(span, "finding", format!("more than {MAX_FINDING_RULES} finding rules")));
        }
        let mut findings: Vec<FindingRule> = Vec::with_capacity(raw.finding.len());
        for f in &raw.finding {
            let code = self.text_field(&f.code, "finding.code", true)?;
            let code_ok = code.len() <= 64
                && code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !code_ok {
                return Err(self.err(
                    f.code.span(),
                    "finding.code",
                    "must be snake_case: lowercase letters, digits and '_', at most 64",
                ));
            }
            if findings.iter().any(|g| g.code == code) {
                return Err(self.err(f.code.span(), "finding.code", format!("`{code}` appears twice")));
            }
            let mut steps = Vec::new();
            if let Some(s) = &f.step_interval_s {
                if s.get_ref().is_empty() || s.get_ref().len() > 8 {
                    return Err(self.err(s.span(), "finding.step_interval_s", "must list 1 to 8 intervals"));
                }
                for &x in s.get_ref() {
                    if !(2..=60).contains(&x) {
                        return Err(self.err(
                            s.span(),
                            "finding.step_interval_s",
                            format!("step intervals are whole seconds 2..60, not {x}"),
                        ));
                    }
                    steps.push(x as u32);
                }
            }
            let clause = self.text_field(&f.clause, "finding.clause", true)?;
            findings.push(FindingRule { code, outcome: f.outcome, step_interval_s: steps, clause });
        }
        let thresholds = match &raw.thresholds {
            None => Thresholds::default(),
            Some(t) => self.thresholds(t)?,
        };
        Ok(Policy {
            name,
            version,
            title,
            retailer,
            country,
            source,
            decision_rule: h.decision_rule.unwrap_or_default(),
            uncalibrated_recorder_u95_ppm: uncal,
            mechanical,
            quartz,
            protocol,
            findings,
            thresholds,
            text: self.text.to_string(),
            sha256: sha256_hex(self.text),
            origin: self.path.to_string(),
        })
    }

    fn term(&self, t: &RawTerm, table: &str) -> Result<AccuracyRule, PolicyError> {
        let f = |k: &str| format!("{table}.{k}");
        let clause = self.text_field(&t.clause, &f("clause"), true)?;
        let kind = *t.term.get_ref();
        let numbers: [(&Option<Spanned<f64>>, &str); 5] = [
            (&t.plus_minus, "plus_minus"),
            (&t.min, "min"),
            (&t.max, "max"),
            (&t.inner_plus_minus, "inner_plus_minus"),
            (&t.outer_plus_minus, "outer_plus_minus"),
        ];
        let allowed: &[&str] = match kind {
            RawTermKind::Tolerance => &["plus_minus", "min", "max"],
            RawTermKind::Band => &["inner_plus_minus", "outer_plus_minus"],
            RawTermKind::ModelSpecOnly => &[],
        };
        for (v, k) in numbers {
            if let Some(v) = v {
                if !allowed.contains(&k) {
                    return Err(self.err(v.span(), &f(k), "does not belong to this `term`"));
                }
                if !v.get_ref().is_finite() || v.get_ref().abs() > 100_000.0 {
                    return Err(self.err(v.span(), &f(k), "must be a finite number of at most 100000"));
                }
                let x = v.get_ref().abs();
                if x > 0.0 && x < MIN_TOLERANCE {
                    return Err(self.err(
                        v.span(),
                        &f(k),
                        format!("{x:e} is below {MIN_TOLERANCE}: no measurement resolves a tighter limit"),
                    ));
                }
            }
        }
        let unit =
            || t.unit.ok_or_else(|| self.err(t.term.span(), &f("unit"), "missing: \"s/day\" or \"s/month\""));
        let term = match kind {
            RawTermKind::ModelSpecOnly => {
                if t.unit.is_some() {
                    return Err(self.err(
                        t.term.span(),
                        &f("unit"),
                        "does not belong to a model_spec_only term",
                    ));
                }
                AccuracyTerm::ModelSpecOnly
            }
            RawTermKind::Tolerance => {
                let unit = unit()?;
                match (&t.plus_minus, &t.min, &t.max) {
                    (Some(pm), None, None) => AccuracyTerm::Tolerance(Tolerance::plus_minus(
                        self.positive(pm, &f("plus_minus"), 1e5)?,
                        unit,
                    )),
                    (None, Some(lo), Some(hi)) => {
                        if *lo.get_ref() >= 0.0 {
                            return Err(self.err(
                                lo.span(),
                                &f("min"),
                                "must be below 0 (the most the watch may lose)",
                            ));
                        }
                        if *hi.get_ref() <= 0.0 {
                            return Err(self.err(
                                hi.span(),
                                &f("max"),
                                "must be above 0 (the most the watch may gain)",
                            ));
                        }
                        AccuracyTerm::Tolerance(Tolerance { min: *lo.get_ref(), max: *hi.get_ref(), unit })
                    }
                    (Some(pm), _, _) => {
                        return Err(self.err(
                            pm.span(),
                            &f("plus_minus"),
                            "give either plus_minus or min and max, not both",
                        ))
                    }
                    (None, _, _) => {
                        return Err(self.err(
                            t.term.span(),
                            &f("plus_minus"),
                            "missing: give plus_minus, or min and max",
                        ))
                    }
                }
            }
            RawTermKind::Band => {
                let unit = unit()?;
                let (Some(i), Some(o)) = (&t.inner_plus_minus, &t.outer_plus_minus) else {
                    let k =
                        if t.inner_plus_minus.is_none() { "inner_plus_minus" } else { "outer_plus_minus" };
                    return Err(self.err(
                        t.term.span(),
                        &f(k),
                        "missing: a band needs inner_plus_minus and outer_plus_minus",
                    ));
                };
                let inner = self.positive(i, &f("inner_plus_minus"), 1e5)?;
                let outer = self.positive(o, &f("outer_plus_minus"), 1e5)?;
                if outer <= inner {
                    return Err(self.err(
                        o.span(),
                        &f("outer_plus_minus"),
                        format!("must be larger than inner_plus_minus ({inner})"),
                    ));
                }
                AccuracyTerm::Band {
                    inner: Tolerance::plus_minus(inner, unit),
                    outer: Tolerance::plus_minus(outer, unit),
                }
            }
        };
        Ok(AccuracyRule { term, clause })
    }

    fn protocol(&self, p: &RawProtocol) -> Result<Protocol, PolicyError> {
        let mut positions = Vec::new();
        for s in p.positions.get_ref() {
            let pos = Position::parse(s.get_ref()).filter(|p| *p != Position::Unstated).ok_or_else(|| {
                self.err(
                    s.span(),
                    "protocol.positions",
                    format!("unknown position `{}` (expected DU, DD, CD, CL, CU or CR)", s.get_ref()),
                )
            })?;
            if positions.contains(&pos) {
                return Err(self.err(s.span(), "protocol.positions", format!("{pos} appears twice")));
            }
            positions.push(pos);
        }
        if ![3, 5, 6].contains(&positions.len()) {
            return Err(self.err(
                p.positions.span(),
                "protocol.positions",
                format!("must list 3, 5 or 6 positions, not {}", positions.len()),
            ));
        }
        let settling_s = *p.settling_s.get_ref();
        if !settling_s.is_finite() || !(0.0..=86_400.0).contains(&settling_s) {
            return Err(self.err(p.settling_s.span(), "protocol.settling_s", "must be 0 to 86400 seconds"));
        }
        let seconds_per_position =
            self.positive(&p.seconds_per_position, "protocol.seconds_per_position", 86_400.0)?;
        let note = match &p.note {
            Some(n) => self.text_field(n, "protocol.note", false)?,
            None => String::new(),
        };
        Ok(Protocol { positions, settling_s, seconds_per_position, state_of_wind: p.state_of_wind, note })
    }

    fn thresholds(&self, t: &RawThresholds) -> Result<Thresholds, PolicyError> {
        let d = Thresholds::default();
        let get = |v: &Option<Spanned<f64>>, k: &str, default: f64, max: f64| match v {
            Some(v) => self.positive(v, &format!("thresholds.{k}"), max),
            None => Ok(default),
        };
        Ok(Thresholds {
            low_amplitude_flat_deg: get(
                &t.low_amplitude_flat_deg,
                "low_amplitude_flat_deg",
                d.low_amplitude_flat_deg,
                360.0,
            )?,
            low_amplitude_hanging_deg: get(
                &t.low_amplitude_hanging_deg,
                "low_amplitude_hanging_deg",
                d.low_amplitude_hanging_deg,
                360.0,
            )?,
            high_beat_error_ms: get(
                &t.high_beat_error_ms,
                "high_beat_error_ms",
                d.high_beat_error_ms,
                100.0,
            )?,
            large_positional_spread_s_per_day: get(
                &t.large_positional_spread_s_per_day,
                "large_positional_spread_s_per_day",
                d.large_positional_spread_s_per_day,
                10_000.0,
            )?,
            magnetisation_gain_s_per_day: get(
                &t.magnetisation_gain_s_per_day,
                "magnetisation_gain_s_per_day",
                d.magnetisation_gain_s_per_day,
                10_000.0,
            )?,
            erratic_window_spread_s_per_day: get(
                &t.erratic_window_spread_s_per_day,
                "erratic_window_spread_s_per_day",
                d.erratic_window_spread_s_per_day,
                10_000.0,
            )?,
            poor_quality_below: get(&t.poor_quality_below, "poor_quality_below", d.poor_quality_below, 1.0)?,
        })
    }
}
