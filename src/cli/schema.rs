//! The JSON Schemas of the `--json` outputs. Every output object names its schema and version
//! in a `schema` field, as the claim record does (`record.schema`, `tickproof.claim-record.v1`):
//! `tickproof.<command>.v<N>`, described by `schema/<command>.v<N>.json` (JSON Schema 2020-12,
//! its `$id` the same name). A change that removes or renames a field, or changes its meaning,
//! is a new version; a new optional field is not.
//!
//! `claim measure`, `claim show` and `claim correct` print the sealed claim record itself,
//! which names its schema in `record.schema` (`schema/claim-record.v1.json`).
use serde_json::Value;

/// `analyze --json`.
pub const ANALYZE: &str = "tickproof.analyze.v1";
/// `judge --json`.
pub const JUDGE: &str = "tickproof.judge.v1";
/// Every line of `listen --json` (readings, protocol steps, the protocol's end).
pub const LISTEN: &str = "tickproof.listen.v1";
/// `calibrate ... --json` (ticks, tone, manual, show, list, remove, host-status).
pub const CALIBRATE: &str = "tickproof.calibrate.v1";
/// `claim new|list|verify --json` (the other claim commands print the record).
pub const CLAIM: &str = "tickproof.claim.v1";
/// `doctor --json`.
pub const DOCTOR: &str = crate::doctor::SCHEMA;
/// `devices --json`.
pub const DEVICES: &str = "tickproof.devices.v1";
/// `key show --json`.
pub const KEY: &str = "tickproof.key.v1";

/// `policy list|check --json`.
pub const POLICY: &str = "tickproof.policy.v1";

/// `shop show --json`.
pub const SHOP: &str = "tickproof.shop.v1";

/// `store push|pull --json`.
pub const STORE: &str = "tickproof.store.v1";

/// `evaluate --json` (a folder or a sweep).
pub const EVALUATE: &str = "tickproof.evaluate.v1";

/// `synth --json` (the truth written beside the recording, with this `schema` field).
pub const SYNTH: &str = "tickproof.synth.v1";

/// Every schema named by an output, with its file under `schema/`.
pub const ALL: [(&str, &str); 13] = [
    (ANALYZE, "analyze.v1.json"),
    (JUDGE, "judge.v1.json"),
    (LISTEN, "listen.v1.json"),
    (CALIBRATE, "calibrate.v1.json"),
    (CLAIM, "claim.v1.json"),
    (DOCTOR, "doctor.v1.json"),
    (DEVICES, "devices.v1.json"),
    (KEY, "key.v1.json"),
    (POLICY, "policy.v1.json"),
    (SHOP, "shop.v1.json"),
    (STORE, "store.v1.json"),
    (EVALUATE, "evaluate.v1.json"),
    (SYNTH, "synth.v1.json"),
];

/// `v` with its `schema` field set to `id` (`v` unchanged when it is not an object).
pub fn tag(id: &str, mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.insert("schema".into(), Value::String(id.into()));
    }
    v
}

/// A serialisable value as JSON, tagged with its schema.
pub fn tagged<T: serde::Serialize>(id: &str, value: &T) -> Result<Value, super::Failure> {
    serde_json::to_value(value)
        .map(|v| tag(id, v))
        .map_err(|e| super::Failure::new(super::ExitCode::Internal, format!("cannot write JSON: {e}")))
}
