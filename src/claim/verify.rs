//! `claim verify`: a claim in a store, or an export, checked against everything it recorded:
//! hashes, chain, signatures (held to the store's keyring, the shop's trusted keys and
//! `--trusted-key`), a head receipt, the evidence, and a re-analysis of the audio.
use serde_json::Value;
use std::path::{Path, PathBuf};

use super::{measure_and_judge, reanalysis_config, Analyzer, ClaimError};
use crate::record::canonical::json_differences;
use crate::record::{ClaimId, Evidence, EvidenceRole, Keyring, Receipt, Record, SealedRecord};
use crate::store::export::Exported;
use crate::store::trust::KeyRule;
use crate::store::{ClaimStore, Limits, StoreError, TrustAnchors};
use crate::verdict::policy::{sha256_hex, POLICY_MAX_BYTES};

/// The outcome of a verification: what was checked and every problem found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verification {
    /// What was checked, in plain words.
    pub checked: Vec<String>,
    /// Every difference found, naming the record or file. Empty = everything checks out.
    pub problems: Vec<String>,
}

impl Verification {
    /// True when nothing is wrong.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A head receipt to prove: one read from a file, or the hash of one the store issued.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiptRef {
    /// A receipt as handed out (`--receipt FILE`).
    File(Box<Receipt>),
    /// A receipt's hash, as the customer's report names it (`--receipt HASH`).
    Hash(String),
}

/// What a verification trusts and proves.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// `--trusted-key`: every revision of the claim must be signed by this public key (hex).
    pub trusted_key: Option<String>,
    /// Keys the shop trusts (its configuration's `trusted_keys`).
    pub anchors: TrustAnchors,
    /// `--receipt`: the store (or export) must still hold everything up to its head.
    pub receipt: Option<ReceiptRef>,
}

/// The keyring rule of a claim's chain; a ring that cannot be read binds every record.
fn rule_of(ring: Result<Option<Keyring>, String>, anchors: &TrustAnchors) -> KeyRule {
    match ring {
        Ok(r) => KeyRule::new(r.as_ref(), anchors).0,
        Err(_) => KeyRule::damaged(anchors),
    }
}

/// Whether `public_key` is trusted for this verification: `--trusted-key` when given, else the
/// chain's rule.
fn trusted(public_key: &str, seq: u64, rule: &KeyRule, opts: &VerifyOptions) -> bool {
    match &opts.trusted_key {
        Some(k) => public_key.eq_ignore_ascii_case(k.trim()),
        None => rule.trusts_at(public_key, seq),
    }
}

/// Checks the revisions of one claim: hashes, signatures, numbering and links, signer.
fn check_revisions(revisions: &[SealedRecord], rule: &KeyRule, opts: &VerifyOptions, v: &mut Verification) {
    for (i, r) in revisions.iter().enumerate() {
        let name = format!("{} revision {}", r.record.claim_id, r.record.revision);
        for p in r.problems() {
            v.problems.push(format!("{name}: {p}"));
        }
        if r.record.revision as usize != i + 1 {
            v.problems.push(format!("{name}: expected revision {} here (a revision is missing)", i + 1));
        }
        if i > 0 {
            let prev = &revisions[i - 1];
            if r.record.supersedes.as_ref().map(|s| &s.sha256) != Some(&prev.sha256) {
                v.problems
                    .push(format!("{name}: does not point at revision {} it replaces", prev.record.revision));
            }
            if r.record.seq <= prev.record.seq {
                v.problems
                    .push(format!("{name}: comes before revision {} in the chain", prev.record.revision));
            }
        }
        if let Some(note) = rule.record_note(r.record.seq, r.signature.as_ref()) {
            v.checked.push(format!("{name}: {note}"));
        }
        match (&r.signature, &opts.trusted_key) {
            (Some(s), Some(_)) if !trusted(&s.public_key, r.record.seq, rule, opts) => {
                v.problems.push(format!("{name}: signed by key {}, not by the trusted key", s.key_id))
            }
            (None, Some(_)) => v.problems.push(format!("{name}: not signed, but a trusted key was required")),
            _ => {}
        }
    }
    v.checked.push(format!(
        "{} revision(s): hashes, schema, links ({})",
        revisions.len(),
        signers(revisions, rule, opts)
    ));
}

/// The summary of who signed: "by the trusted key" only when every revision is signed by a
/// key trusted here (`--trusted-key`, else the keyring or the shop).
fn signers(revisions: &[SealedRecord], rule: &KeyRule, opts: &VerifyOptions) -> String {
    let signed: Vec<_> =
        revisions.iter().filter_map(|r| Some((r.record.seq, r.signature.as_ref()?))).collect();
    if signed.is_empty() {
        return "unsigned".into();
    }
    let all_trusted = signed.len() == revisions.len()
        && signed.iter().all(|(seq, s)| trusted(&s.public_key, *seq, rule, opts));
    let signed: Vec<_> = signed.into_iter().map(|(_, s)| s).collect();
    let mut ids: Vec<&str> = signed.iter().map(|s| s.key_id.as_str()).collect();
    ids.dedup();
    match (all_trusted, &opts.trusted_key) {
        (true, Some(_)) => format!("{} signed, by the trusted key", signed.len()),
        (true, None) => format!("{} signed, by trusted key {}", signed.len(), ids.join(", ")),
        (false, _) => format!(
            "{} of {} signed, by key {}: not all by a trusted key",
            signed.len(),
            revisions.len(),
            ids.join(", ")
        ),
    }
}

/// The policy text a record kept (`policy/NAME.toml`, role policy), read back (at most
/// [`POLICY_MAX_BYTES`]) and checked against the SHA-256 of the policy the record names.
/// `Ok(None)`: the record keeps none (made before policies were kept, or without a policy).
fn recorded_policy_text(
    r: &Record,
    path_of: &dyn Fn(&Evidence) -> PathBuf,
) -> Result<Option<String>, String> {
    use std::io::Read;
    let Some(pol) = &r.policy else { return Ok(None) };
    let Some(e) = r.evidence.iter().find(|e| e.role == EvidenceRole::Policy && e.name.starts_with("policy/"))
    else {
        return Ok(None);
    };
    if e.size_bytes > POLICY_MAX_BYTES {
        return Err(format!("{}: {} bytes, more than a policy's {POLICY_MAX_BYTES}", e.name, e.size_bytes));
    }
    let file =
        std::fs::File::open(path_of(e)).map_err(|err| format!("{}: cannot be read ({err})", e.name))?;
    let mut bytes = Vec::new();
    file.take(POLICY_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("{}: cannot be read ({err})", e.name))?;
    if bytes.len() as u64 > POLICY_MAX_BYTES {
        return Err(format!("{}: more than a policy's {POLICY_MAX_BYTES} bytes", e.name));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", e.name))?;
    let sha = sha256_hex(&text);
    if sha != pol.sha256 {
        return Err(format!(
            "{}: SHA-256 {sha}, but the record says policy {} version {} ({}) was applied",
            e.name, pol.name, pol.version, pol.sha256
        ));
    }
    Ok(Some(text))
}

/// Re-hashes evidence and re-runs the analysis and the verdict on the recorded audio.
fn check_evidence_and_reanalyse(
    sealed: &SealedRecord,
    analyzer: &dyn Analyzer,
    hash: &dyn Fn(&Evidence) -> Result<(), String>,
    path_of: &dyn Fn(&Evidence) -> PathBuf,
    v: &mut Verification,
) {
    let r = &sealed.record;
    let mut intact = true;
    for e in &r.evidence {
        if let Err(p) = hash(e) {
            v.problems.push(p);
            intact = false;
        }
    }
    v.checked.push(format!("{} evidence file(s) re-hashed", r.evidence.len()));
    if r.positions.is_empty() {
        return;
    }
    if !intact {
        v.problems.push("re-analysis: skipped, the audio does not match its recorded hash".into());
        return;
    }
    let mut recordings = Vec::new();
    let mut configs = Vec::new();
    for p in &r.positions {
        let Some(e) = r.evidence.iter().find(|e| e.name == p.audio) else {
            v.problems.push(format!("{}: audio {} not listed in the evidence", p.position, p.audio));
            return;
        };
        recordings.push((p.position.clone(), path_of(e)));
        configs.push(reanalysis_config(&r.claim, &p.measurement));
    }
    let policy = r.policy.as_ref().map(|p| p.name.clone()).or_else(|| r.claim.policy.clone());
    let text = match recorded_policy_text(r, path_of) {
        Ok(t) => t,
        Err(p) => {
            v.problems.push(format!("re-judging: {p}"));
            return;
        }
    };
    match (&text, &r.policy) {
        (Some(_), Some(p)) => v.checked.push(format!(
            "policy {} version {}: re-applied from the text kept with the claim (policy/{}.toml)",
            p.name, p.version, p.name
        )),
        (None, Some(p)) => v.checked.push(format!(
            "policy {}: the record keeps no policy text (made before policies were kept); re-judged with \
             this build's policy of that name",
            p.name
        )),
        _ => {}
    }
    match measure_and_judge(analyzer, &r.claim, policy.as_deref(), text.as_deref(), &recordings, &configs) {
        Err(e) => v.problems.push(format!("re-analysis: cannot run: {e}")),
        Ok((analyses, judgement)) => {
            for (p, a) in r.positions.iter().zip(&analyses) {
                let now = serde_json::to_value(&a.measurement).unwrap_or(Value::Null);
                for d in json_differences(&p.measurement, &now, 20) {
                    v.problems.push(format!("re-analysis of {} ({}): {d}", p.position, p.audio));
                }
            }
            if let Some(rv) = &r.verdict {
                for d in json_differences(&rv.detail, &judgement.verdict, 20) {
                    v.problems.push(format!("verdict not reproduced: {d}"));
                }
            }
            if let Some(pol) = &r.policy {
                if pol.sha256 != judgement.policy.sha256 || pol.version != judgement.policy.version {
                    v.problems.push(format!(
                        "policy {}: version {} ({}) was applied, this build has version {} ({})",
                        pol.name, pol.version, pol.sha256, judgement.policy.version, judgement.policy.sha256
                    ));
                }
            }
            v.checked.push(format!(
                "{} recording(s) re-analysed and re-judged, every figure compared",
                analyses.len()
            ));
        }
    }
}

/// Checks a receipt found (`Some`) for `given`: its own soundness and signer. `holds` says
/// whether the store or export still holds the record it names.
fn check_receipt(
    given: &ReceiptRef,
    found: Option<Receipt>,
    rule: &KeyRule,
    opts: &VerifyOptions,
    holds: &dyn Fn(&Receipt) -> Result<bool, StoreError>,
    v: &mut Verification,
) -> Result<(), ClaimError> {
    let problems_before = v.problems.len();
    let (hash, receipt) = match (given, found) {
        (ReceiptRef::Hash(h), None) => {
            v.problems.push(format!("receipt {h}: not held here (removed, or never issued by this store)"));
            return Ok(());
        }
        (ReceiptRef::File(r), None) => {
            v.problems.push(format!(
                "receipt {}: no longer held with its claim (the store's copy was removed)",
                r.sha256()
            ));
            (r.sha256(), (**r).clone())
        }
        (_, Some(r)) => (r.sha256(), r),
    };
    let name = format!("receipt {hash}");
    v.problems.extend(receipt.problems().into_iter().map(|p| format!("{name}: {p}")));
    let b = &receipt.body;
    if let Some(p) = rule.record_problem(b.head_seq, receipt.signature.as_ref()) {
        v.problems.push(format!("{name}: {p}"));
    } else if let Some(s) =
        receipt.signature.as_ref().filter(|s| !trusted(&s.public_key, b.head_seq, rule, opts))
    {
        v.problems.push(format!("{name}: signed by key {}, not by the trusted key", s.key_id));
    }
    if !holds(&receipt)? {
        v.problems.push(format!(
            "{name}: record {} ({}, {} revision {}) is no longer held: records up to the receipt's head were \
             removed or changed",
            b.head_seq, b.head_sha256, b.claim_id, b.revision
        ));
    }
    // Listed as checked only when it holds: not beside the problems it was found with.
    if v.problems.len() == problems_before {
        v.checked.push(format!(
            "{name}: the chain up to record {} ({} revision {})",
            b.head_seq, b.claim_id, b.revision
        ));
    }
    Ok(())
}

/// Verifies a claim in a store: the whole chain, the claim's revisions, its evidence, and a
/// re-analysis of its audio. `trusted_key`: require signatures by this public key (hex).
pub fn verify_stored(
    store: &dyn ClaimStore,
    analyzer: &dyn Analyzer,
    id: &ClaimId,
    trusted_key: Option<&str>,
) -> Result<Verification, ClaimError> {
    let opts = VerifyOptions { trusted_key: trusted_key.map(str::to_string), ..VerifyOptions::default() };
    verify_stored_with(store, analyzer, id, &opts)
}

/// [`verify_stored`] with the shop's trusted keys and a receipt to prove.
pub fn verify_stored_with(
    store: &dyn ClaimStore,
    analyzer: &dyn Analyzer,
    id: &ClaimId,
    opts: &VerifyOptions,
) -> Result<Verification, ClaimError> {
    let mut v = Verification::default();
    let chain = store.verify_chain_with(&opts.anchors)?;
    v.problems.extend(chain.problems.iter().map(|p| format!("store chain: {p}")));
    v.checked.push(format!("store chain of {} record(s)", chain.records));
    let revisions = store.claim_revisions(id)?;
    let ring = match store.keyring_for(id) {
        Err(StoreError::Corrupt { problem, .. }) => Err(problem),
        other => Ok(other?),
    };
    let rule = rule_of(ring, &opts.anchors);
    check_revisions(&revisions, &rule, opts, &mut v);
    if let Some(given) = &opts.receipt {
        let found = match given {
            ReceiptRef::Hash(h) => store.receipt_by_hash(h)?,
            ReceiptRef::File(r) => store.receipt_by_hash(&r.sha256())?,
        };
        let holds = |r: &Receipt| store.holds_record(r.body.head_seq, &r.body.head_sha256);
        check_receipt(given, found, &rule, opts, &holds, &mut v)?;
    }
    let latest = revisions.last().expect("revisions() is never empty");
    // Local files of the evidence (temporary copies for a registry); a missing one is named by
    // the check below, and its path then leads nowhere.
    let local: Vec<(String, Option<crate::store::LocalEvidence>)> = latest
        .record
        .evidence
        .iter()
        .map(|e| (e.sha256.clone(), store.evidence_file(&e.sha256).ok()))
        .collect();
    let path_of = |e: &Evidence| {
        local
            .iter()
            .find(|(sha, _)| *sha == e.sha256)
            .and_then(|(_, f)| f.as_ref().map(|f| f.path().to_path_buf()))
            .unwrap_or_else(|| PathBuf::from(&e.name))
    };
    check_evidence_and_reanalyse(latest, analyzer, &|e| store.check_evidence(e), &path_of, &mut v);
    Ok(v)
}

/// Verifies an exported claim (folder or `.tar`): revisions, their place in the exported chain,
/// every evidence file, and a re-analysis of the audio.
pub fn verify_export(
    path: &Path,
    analyzer: &dyn Analyzer,
    trusted_key: Option<&str>,
    limits: Limits,
) -> Result<Verification, ClaimError> {
    let opts = VerifyOptions { trusted_key: trusted_key.map(str::to_string), ..VerifyOptions::default() };
    verify_export_with(path, analyzer, &opts, limits)
}

/// Checks the export's chain.json and each revision's place in it.
fn check_export_chain(ex: &Exported, v: &mut Verification) {
    for (i, link) in ex.chain.iter().enumerate() {
        let ok = if i == 0 {
            link.seq == 1 && link.prev_sha256 == crate::record::GENESIS_SHA256
        } else {
            link.seq == ex.chain[i - 1].seq + 1 && link.prev_sha256 == ex.chain[i - 1].sha256
        };
        if !ok {
            v.problems.push(format!("chain.json: entry {} does not follow the one before it", link.seq));
        }
    }
    for r in &ex.revisions {
        let found = ex
            .chain
            .iter()
            .any(|l| l.seq == r.record.seq && l.sha256 == r.sha256 && l.prev_sha256 == r.record.prev_sha256);
        if !found {
            v.problems.push(format!(
                "{} revision {}: not at its place (record {}) in chain.json",
                r.record.claim_id, r.record.revision, r.record.seq
            ));
        }
    }
    v.checked.push(format!("chain.json: {} link(s)", ex.chain.len()));
}

/// Checks the signatures of an export's revisions and receipts against its keyring.
fn check_export_signatures(ex: &Exported, rule: &KeyRule, v: &mut Verification) {
    if let Err(e) = &ex.keyring {
        v.problems.push(format!("keyring.json: {e}"));
    }
    if let Ok(Some(ring)) = &ex.keyring {
        let (_, problems) = KeyRule::new(Some(ring), &TrustAnchors::default());
        v.problems.extend(problems.into_iter().map(|p| format!("keyring.json: {p}")));
    }
    for r in &ex.revisions {
        if let Some(p) = rule.record_problem(r.record.seq, r.signature.as_ref()) {
            v.problems.push(format!("{} revision {}: {p}", r.record.claim_id, r.record.revision));
        }
    }
    for rc in &ex.receipts {
        let b = &rc.body;
        let name = format!("receipts/r{:04}.json", b.revision);
        v.problems.extend(rc.problems().into_iter().map(|p| format!("{name}: {p}")));
        if let Some(p) = rule.record_problem(b.head_seq, rc.signature.as_ref()) {
            v.problems.push(format!("{name}: {p}"));
        }
        let matches = ex.revisions.iter().any(|r| {
            r.record.revision == b.revision && r.sha256 == b.head_sha256 && r.record.seq == b.head_seq
        });
        if !matches {
            v.problems.push(format!("{name}: does not name revision {} as exported", b.revision));
        }
    }
}

/// [`verify_export`] with the shop's trusted keys and a receipt to prove.
pub fn verify_export_with(
    path: &Path,
    analyzer: &dyn Analyzer,
    opts: &VerifyOptions,
    limits: Limits,
) -> Result<Verification, ClaimError> {
    let ex = Exported::open(path, limits)?;
    let mut v = Verification::default();
    let rule = rule_of(ex.keyring.clone(), &opts.anchors);
    check_revisions(&ex.revisions, &rule, opts, &mut v);
    check_export_signatures(&ex, &rule, &mut v);
    if ex.revisions.last() != Some(&ex.record) {
        v.problems.push("record.json: differs from the last revision in revisions/".into());
    }
    check_export_chain(&ex, &mut v);
    if let Some(given) = &opts.receipt {
        let wanted = match given {
            ReceiptRef::Hash(h) => h.clone(),
            ReceiptRef::File(r) => r.sha256(),
        };
        let found = ex.receipts.iter().find(|r| r.sha256() == wanted).cloned();
        let holds = |r: &Receipt| {
            Ok(ex.chain.iter().any(|l| l.seq == r.body.head_seq && l.sha256 == r.body.head_sha256))
        };
        check_receipt(given, found, &rule, opts, &holds, &mut v)?;
    }
    let hash = |e: &Evidence| -> Result<(), String> {
        let p = ex.file(&e.name);
        let mut f =
            std::fs::File::open(&p).map_err(|err| format!("{}: missing from the export ({err})", e.name))?;
        let (sha, size) =
            crate::store::hash_reader(&mut f).map_err(|err| format!("{}: cannot be read ({err})", e.name))?;
        if sha != e.sha256 || size != e.size_bytes {
            return Err(format!("{}: content changed (SHA-256 {sha}, recorded {})", e.name, e.sha256));
        }
        Ok(())
    };
    check_evidence_and_reanalyse(&ex.record, analyzer, &hash, &|e| ex.file(&e.name), &mut v);
    Ok(v)
}
