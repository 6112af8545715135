//! `claim verify`: a claim in the store or an export, with the shop's trusted keys, an optional
//! `--trusted-key` and an optional head receipt to prove.
use super::{claim_failure, open_store_for, ExitCode, Failure, StoreChoice};
use crate::claim::{self, ClaimError, Pipeline, ReceiptRef, Verification, VerifyOptions};
use crate::record::{ClaimId, Receipt, RecordError};
use crate::store::{StoreError, TrustAnchors};
use std::path::Path;

/// `--receipt FILE|HASH`: a receipt file (bounded), or 64 hex digits of a receipt's hash.
fn receipt_arg(given: &str) -> Result<ReceiptRef, Failure> {
    let path = Path::new(given);
    if path.is_file() {
        use std::io::Read;
        let f = std::fs::File::open(path).map_err(|e| Failure::usage(format!("{given}: {e}")))?;
        let mut bytes = Vec::new();
        f.take(crate::record::receipt::MAX_RECEIPT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::usage(format!("{given}: {e}")))?;
        let r = Receipt::from_json(&bytes).map_err(|e| Failure::usage(format!("{given}: {e}")))?;
        return Ok(ReceiptRef::File(Box::new(r)));
    }
    if crate::record::canonical::is_sha256_hex(&given.to_ascii_lowercase()) {
        return Ok(ReceiptRef::Hash(given.to_ascii_lowercase()));
    }
    let shown: String = given.chars().take(80).collect();
    Err(Failure::usage(format!(
        "--receipt {shown:?}: neither a receipt file nor 64 hex digits of a receipt's hash"
    )))
}

/// Runs `claim verify TARGET`.
pub(super) fn run_verify(
    target: &str,
    trusted_key: Option<&str>,
    receipt: Option<&str>,
    json: bool,
    store: &StoreChoice,
) -> Result<ExitCode, Failure> {
    let trusted = trusted_key.map(|k| crate::cli::key::public_key_arg("--trusted-key", k)).transpose()?;
    let receipt = receipt.map(receipt_arg).transpose()?;
    let shop = crate::cli::shop::current()?;
    let opts =
        VerifyOptions { trusted_key: trusted, anchors: TrustAnchors::shop(&shop.trusted_keys), receipt };
    let (name, v) = match ClaimId::parse(target) {
        Ok(id) => {
            let s = open_store_for(store, true)?;
            let v = claim::verify_stored_with(&*s, &Pipeline, &id, &opts);
            (format!("claim {id}"), v)
        }
        Err(_) if Path::new(target).exists() => {
            not_an_export(Path::new(target))?;
            let v = claim::verify_export_with(
                Path::new(target),
                &Pipeline,
                &opts,
                crate::store::Limits::default(),
            );
            (target.to_string(), v)
        }
        Err(RecordError::InvalidClaimId { given }) => {
            return Err(Failure::usage(format!(
                "'{given}' is neither a claim id (C-YYYYMMDD-NNNN) nor an export folder or .tar"
            )))
        }
        Err(e) => return Err(Failure::usage(e.to_string())),
    };
    let is_export = ClaimId::parse(target).is_err();
    let v = v.map_err(|e| match e {
        ClaimError::Store(StoreError::Corrupt { what, problem }) => {
            Failure::new(ExitCode::VerifyFailed, format!("verify {name}: {what}: {problem}"))
        }
        // An export that cannot be read as one (a file missing, not a tar) fails verification.
        ClaimError::Store(e @ (StoreError::Io { .. } | StoreError::TooLarge { .. })) if is_export => {
            Failure::new(ExitCode::VerifyFailed, format!("verify {name}: not a readable claim export: {e}"))
        }
        other => claim_failure(other),
    })?;
    report_verification(&name, &v, json)
}

/// Bad input (exit 2) when `path` cannot be a claim export at all: neither a folder holding a
/// `record.json` nor a tar archive (the `ustar` mark at byte 257). A damaged export of the
/// right kind is left to verification, which names what is wrong (exit 5).
fn not_an_export(path: &Path) -> Result<(), Failure> {
    let bad = |why: &str| Err(Failure::usage(format!("{}: not a claim export: {why}", path.display())));
    if path.is_dir() {
        return if path.join("record.json").is_file() { Ok(()) } else { bad("a folder without record.json") };
    }
    if !path.is_file() {
        return bad("neither a folder nor a regular file");
    }
    use std::io::Read;
    let mut head = [0u8; 262];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Failure::usage(format!("{}: cannot read: {e}", path.display())))?;
    if n < 262 || &head[257..262] != b"ustar" {
        return bad("not a tar archive");
    }
    Ok(())
}

fn report_verification(name: &str, v: &Verification, json: bool) -> Result<ExitCode, Failure> {
    if json {
        let out = serde_json::json!({"target": name, "passed": v.passed(), "checked": v.checked, "problems": v.problems});
        crate::outln!("{}", crate::cli::schema::tag(crate::cli::schema::CLAIM, out));
    } else {
        for c in &v.checked {
            crate::outln!("checked: {c}");
        }
    }
    if v.passed() {
        if !json {
            crate::outln!("{name}: everything checks out");
        }
        return Ok(ExitCode::Ok);
    }
    for p in &v.problems {
        eprintln!("tickproof: verify {name}: {p}");
    }
    Err(Failure::new(ExitCode::VerifyFailed, format!("verify {name}: {} problem(s) found", v.problems.len())))
}
