//! The claim record, schema v1 (`schema/claim-record.v1.json` is its JSON Schema).
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical::{canonical_bytes, is_sha256_hex, sha256_hex};
use super::id::{check_long_text, check_short_text, validate_position, ClaimId};
use super::sign::{RecordSignature, ServiceKey};
use super::time::{is_rfc3339_utc, Date};
use super::RecordError;
use crate::measurement::{Figure, Finding, Measurement};

/// The schema identifier every v1 record carries in its `schema` field.
pub const SCHEMA_V1: &str = "tickproof.claim-record.v1";

/// The previous-record hash of the first record in a store (64 zeros).
pub const GENESIS_SHA256: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Most positions (measurements) in one record.
pub const MAX_POSITIONS: usize = 12;
/// Most evidence files in one record.
pub const MAX_EVIDENCE_FILES: usize = 64;
/// Most reasons or findings in one record.
pub const MAX_LIST_ITEMS: usize = 64;
/// Largest canonical record, bytes (a record with 12 measurements is far below this).
pub const MAX_RECORD_BYTES: usize = 4 << 20;

/// The kind of movement named on the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Movement {
    /// Balance wheel and escapement (manual or automatic).
    Mechanical,
    /// Quartz oscillator and stepper motor (incl. kinetic and solar).
    Quartz,
}

impl Movement {
    /// `mechanical` or `quartz`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Movement::Mechanical => "mechanical",
            Movement::Quartz => "quartz",
        }
    }
}

/// The claim and the watch, as entered when the claim was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Brand on the dial or warranty card.
    pub brand: String,
    /// Model or reference number.
    pub model: String,
    /// Serial number of the watch (case or movement).
    pub serial: String,
    /// Mechanical or quartz.
    pub movement: Movement,
    /// Lift angle of the escapement, degrees (mechanical), when known; 52 is assumed otherwise.
    pub lift_angle_deg: Option<f64>,
    /// Date of purchase, `YYYY-MM-DD`.
    pub purchase_date: Option<String>,
    /// The customer's complaint, in their own words.
    pub complaint: Option<String>,
    /// The technician who took the claim.
    pub technician: Option<String>,
    /// The warranty policy asked for when the claim was opened (by name).
    pub policy: Option<String>,
}

impl Claim {
    /// Checks every field against its bounds (lengths, characters, ranges, date format).
    pub fn validate(&self) -> Result<(), RecordError> {
        check_short_text("brand", &self.brand)?;
        check_short_text("model", &self.model)?;
        check_short_text("serial", &self.serial)?;
        if let Some(l) = self.lift_angle_deg {
            if !(l.is_finite() && (20.0..=80.0).contains(&l)) {
                return Err(RecordError::InvalidField {
                    field: "lift_angle_deg".into(),
                    problem: format!("{l} is outside 20..80 degrees"),
                });
            }
        }
        if let Some(d) = &self.purchase_date {
            if Date::parse(d).is_none() {
                return Err(RecordError::InvalidField {
                    field: "purchase_date".into(),
                    problem: "is not a date YYYY-MM-DD".into(),
                });
            }
        }
        if let Some(c) = &self.complaint {
            check_long_text("complaint", c)?;
        }
        if let Some(t) = &self.technician {
            check_short_text("technician", t)?;
        }
        if let Some(p) = &self.policy {
            check_short_text("policy", p)?;
        }
        Ok(())
    }
}

/// The warranty policy a verdict applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// Policy name, e.g. `bg-15`.
    pub name: String,
    /// Policy version as the policy states it.
    pub version: String,
    /// SHA-256 of the policy's content (its TOML text), hex.
    pub sha256: String,
    /// The clause of the policy that decided, in plain words (for the report).
    pub clause: Option<String>,
}

/// The recorder calibration used by the measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationRef {
    /// Profile name, or `uncalibrated`.
    pub profile: String,
    /// Recorder clock error applied, ppm (+ = recorder fast), with its u95.
    pub recorder_ppm: Figure,
    /// True when the profile was past its validity when used.
    pub stale: bool,
    /// SHA-256 of the profile file, when there was one.
    pub sha256: Option<String>,
    /// Why this calibration was used rather than the others a live claim had (the command
    /// line, the device's profile, the host clock during the capture, the assumed u95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One position's measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionRecord {
    /// Position name (`DU`, `DD`, `CD`, `CL`, `CU`, `CR`, or `P1`.. when not stated).
    pub position: String,
    /// Name of the audio evidence file (an entry of [`Record::evidence`]).
    pub audio: String,
    /// SHA-256 of that audio, hex.
    pub audio_sha256: String,
    /// When the measurement was made.
    pub measured_utc: String,
    /// The measurement as the pipeline wrote it (`measurement::Measurement` JSON): every figure
    /// with its u95, the quality and the findings. Kept as JSON so a record stays readable when
    /// the measurement type grows.
    pub measurement: Value,
}

impl PositionRecord {
    /// The measurement as the current [`Measurement`] type, when it parses as one.
    pub fn measurement_typed(&self) -> Option<Measurement> {
        serde_json::from_value(self.measurement.clone()).ok()
    }
}

/// The verdict, with the fields a reader needs pulled out of the verdict module's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictRecord {
    /// The decision: `defect`, `within_spec`, `inconclusive`, `needs_model_spec`,
    /// `not_a_defect` or `excluded`.
    pub verdict: String,
    /// Why, in plain words.
    pub reasons: Vec<String>,
    /// The decision rule applied (e.g. guarded acceptance), when stated.
    pub rule: Option<String>,
    /// The verdict module's whole JSON, as produced.
    pub detail: Value,
}

impl VerdictRecord {
    /// Takes the verdict JSON (`{"verdict": .., "reasons": [..], "rule": .., ...}` per the
    /// `judge --json` contract) and pulls out the decision, reasons and rule.
    pub fn from_json(detail: Value) -> Result<VerdictRecord, RecordError> {
        let bad = |p: &str| RecordError::InvalidField { field: "verdict".into(), problem: p.to_string() };
        let verdict =
            detail.get("verdict").and_then(Value::as_str).ok_or_else(|| bad("has no 'verdict' string"))?;
        let reasons = match detail.get("reasons") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|r| r.as_str().map(str::to_string).ok_or_else(|| bad("has a reason that is not text")))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(bad("has no 'reasons' list")),
        };
        let rule = detail.get("rule").and_then(|r| match r {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        });
        let v = VerdictRecord { verdict: verdict.to_string(), reasons, rule, detail };
        v.validate()?;
        Ok(v)
    }

    fn validate(&self) -> Result<(), RecordError> {
        check_short_text("verdict", &self.verdict)?;
        if self.reasons.len() > MAX_LIST_ITEMS {
            return Err(RecordError::InvalidField {
                field: "verdict.reasons".into(),
                problem: "too many".into(),
            });
        }
        for r in &self.reasons {
            check_long_text("verdict.reasons", r)?;
        }
        Ok(())
    }
}

/// What an evidence file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceRole {
    /// A recording, kept byte for byte.
    Audio,
    /// A plot (SVG or PNG).
    Plot,
    /// The HTML report.
    Report,
    /// The policy file applied.
    Policy,
    /// The calibration profile applied.
    Calibration,
}

/// One evidence file: stored content-addressed, exported under `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// What it is.
    pub role: EvidenceRole,
    /// Relative path in an export, e.g. `audio/DU.wav`, `plots/rates.svg`, `report.html`:
    /// components of `A-Z a-z 0-9 . _ -`, no `..`, at most 3 levels.
    pub name: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// Media type, e.g. `audio/wav`, `image/svg+xml`.
    pub media_type: String,
    /// For audio, the file name it was measured from (as given, for the record only).
    pub original_name: Option<String>,
}

/// Checks an evidence name (see [`Evidence::name`]).
pub fn validate_evidence_name(name: &str) -> Result<(), RecordError> {
    let parts: Vec<&str> = name.split('/').collect();
    let ok = !name.is_empty()
        && name.len() <= 120
        && parts.len() <= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && *p != "."
                && *p != ".."
                && !p.starts_with('.')
                && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(RecordError::InvalidField {
            field: "evidence.name".into(),
            problem: format!("'{}' is not a safe relative file name", super::id::truncate_for_message(name)),
        })
    }
}

/// The software that made the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Software {
    /// `tickproof`.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// Build: profile and target, plus `TICKPROOF_BUILD_ID` (e.g. a git commit) when the build
    /// set it.
    pub build: String,
}

impl Software {
    /// This build of tickproof.
    pub fn current() -> Software {
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        let id = option_env!("TICKPROOF_BUILD_ID").unwrap_or("unidentified");
        Software {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            build: format!("{profile} {}-{} {id}", std::env::consts::ARCH, std::env::consts::OS),
        }
    }
}

/// A link from a revision to the revision it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supersedes {
    /// Revision number replaced.
    pub revision: u32,
    /// That revision's record SHA-256.
    pub sha256: String,
}

/// One claim record (one revision of one claim): everything that is hashed and signed.
///
/// Records are append-only. Revision 1 opens a claim; a measurement or a correction is a new
/// revision whose `supersedes` points at the one it replaces. `seq` and `prev_sha256` chain every
/// record in a store, whatever its claim, so a record deleted or moved is detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Always [`SCHEMA_V1`].
    pub schema: String,
    /// The claim.
    pub claim_id: ClaimId,
    /// Revision of this claim, from 1.
    pub revision: u32,
    /// The revision this one replaces (none for revision 1).
    pub supersedes: Option<Supersedes>,
    /// Why this revision exists: `opened`, `measured`, or a correction note in plain words.
    pub change: String,
    /// Position in the store's chain, from 1.
    pub seq: u64,
    /// SHA-256 of the record before this one in the store ([`GENESIS_SHA256`] for the first).
    pub prev_sha256: String,
    /// When the record was written (UTC).
    pub created_utc: String,
    /// Claim and watch data.
    pub claim: Claim,
    /// Policy applied by the verdict.
    pub policy: Option<PolicyRef>,
    /// Calibration used by the measurements.
    pub calibration: Option<CalibrationRef>,
    /// Every measurement, one per position.
    pub positions: Vec<PositionRecord>,
    /// The verdict.
    pub verdict: Option<VerdictRecord>,
    /// Findings from the measurements and the verdict.
    pub findings: Vec<Finding>,
    /// Every evidence file with its SHA-256.
    pub evidence: Vec<Evidence>,
    /// The software that wrote the record.
    pub software: Software,
    /// Host name of the machine that wrote it.
    pub host: String,
    /// The technician who made this revision.
    pub technician: Option<String>,
    /// The branch (service centre of a chain) that wrote this revision. Absent, not `null`,
    /// when none was named, so records written before branches existed keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

impl Record {
    /// Checks the whole record against the v1 rules (bounds, formats, cross references).
    pub fn validate(&self) -> Result<(), RecordError> {
        let bad = |field: &str, problem: String| RecordError::InvalidField { field: field.into(), problem };
        if self.schema != SCHEMA_V1 {
            return Err(bad("schema", format!("is '{}', expected '{SCHEMA_V1}'", self.schema)));
        }
        if self.revision == 0 {
            return Err(bad("revision", "starts at 1".into()));
        }
        match (&self.supersedes, self.revision) {
            (None, 1) => {}
            (Some(s), r) if r > 1 && s.revision + 1 == r && is_sha256_hex(&s.sha256) => {}
            _ => {
                return Err(bad(
                    "supersedes",
                    "must point at the previous revision (none for revision 1)".into(),
                ))
            }
        }
        check_long_text("change", &self.change)?;
        if self.seq == 0 || !is_sha256_hex(&self.prev_sha256) {
            return Err(bad("seq", "chain position or previous hash malformed".into()));
        }
        if !is_rfc3339_utc(&self.created_utc) {
            return Err(bad("created_utc", "is not a UTC time YYYY-MM-DDTHH:MM:SSZ".into()));
        }
        self.claim.validate()?;
        if let Some(p) = &self.policy {
            check_short_text("policy.name", &p.name)?;
            check_short_text("policy.version", &p.version)?;
            if !is_sha256_hex(&p.sha256) {
                return Err(bad("policy.sha256", "is not a SHA-256".into()));
            }
            if let Some(c) = &p.clause {
                check_long_text("policy.clause", c)?;
            }
        }
        if let Some(c) = &self.calibration {
            check_short_text("calibration.profile", &c.profile)?;
            if let Some(r) = &c.reason {
                check_long_text("calibration.reason", r)?;
            }
        }
        if self.positions.len() > MAX_POSITIONS {
            return Err(bad("positions", format!("more than {MAX_POSITIONS}")));
        }
        if self.evidence.len() > MAX_EVIDENCE_FILES {
            return Err(bad("evidence", format!("more than {MAX_EVIDENCE_FILES} files")));
        }
        if self.findings.len() > MAX_LIST_ITEMS {
            return Err(bad("findings", format!("more than {MAX_LIST_ITEMS}")));
        }
        for e in &self.evidence {
            validate_evidence_name(&e.name)?;
            if !is_sha256_hex(&e.sha256) {
                return Err(bad("evidence.sha256", format!("of {} is not a SHA-256", e.name)));
            }
        }
        let mut names: Vec<&str> = self.evidence.iter().map(|e| e.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad("evidence", "two files share a name".into()));
        }
        for p in &self.positions {
            validate_position(&p.position)?;
            let audio = self.evidence.iter().find(|e| e.name == p.audio && e.role == EvidenceRole::Audio);
            if audio.map(|e| e.sha256.as_str()) != Some(p.audio_sha256.as_str()) {
                return Err(bad(
                    "positions",
                    format!("{}: audio {} is not among the evidence", p.position, p.audio),
                ));
            }
            if !is_rfc3339_utc(&p.measured_utc) {
                return Err(bad("positions.measured_utc", "is not a UTC time".into()));
            }
        }
        if let Some(v) = &self.verdict {
            v.validate()?;
        }
        if let Some(t) = &self.technician {
            check_short_text("technician", t)?;
        }
        if let Some(b) = &self.branch {
            super::id::validate_branch(b)?;
        }
        check_short_text("host", &self.host)?;
        Ok(())
    }
}

/// A record with its hash and optional signature: what the store keeps and exports write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedRecord {
    /// The record.
    pub record: Record,
    /// SHA-256 of the record's canonical bytes ([`super::canonical`]), hex.
    pub sha256: String,
    /// Ed25519 signature over the same canonical bytes, when the store signs.
    pub signature: Option<RecordSignature>,
}

impl SealedRecord {
    /// Validates `record`, hashes its canonical bytes and signs them with `key` when given.
    pub fn seal(record: Record, key: Option<&ServiceKey>) -> Result<SealedRecord, RecordError> {
        record.validate()?;
        let bytes = canonical_bytes(&record)?;
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(RecordError::InvalidField {
                field: "record".into(),
                problem: format!("is larger than {MAX_RECORD_BYTES} bytes"),
            });
        }
        Ok(SealedRecord { sha256: sha256_hex(&bytes), signature: key.map(|k| k.sign(&bytes)), record })
    }

    /// The canonical bytes of the record (what the hash and signature cover).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, RecordError> {
        canonical_bytes(&self.record)
    }

    /// Re-checks the hash, the schema rules and the signature; lists every problem found.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.record.validate() {
            out.push(format!("does not follow schema v1: {e}"));
        }
        match self.canonical_bytes() {
            Err(e) => out.push(format!("cannot be serialised: {e}")),
            Ok(bytes) => {
                let h = sha256_hex(&bytes);
                if h != self.sha256 {
                    out.push(format!(
                        "content was changed: its SHA-256 is {h}, the record says {}",
                        self.sha256
                    ));
                }
                if let Some(sig) = &self.signature {
                    if let Err(e) = sig.verify(&bytes) {
                        out.push(format!("signature by key {}: {e}", sig.key_id));
                    }
                }
            }
        }
        out
    }

    /// Parses a sealed record from JSON text (as exported), bounded in size.
    pub fn from_json(bytes: &[u8]) -> Result<SealedRecord, RecordError> {
        if bytes.len() > 2 * MAX_RECORD_BYTES {
            return Err(RecordError::Malformed { what: "record".into(), problem: "too large".into() });
        }
        serde_json::from_slice(bytes)
            .map_err(|e| RecordError::Malformed { what: "record".into(), problem: e.to_string() })
    }

    /// Pretty JSON for people (the hash covers the canonical form, not this text).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record serialises")
    }
}
