//! The claim workflow: measure, export, verify; and every kind of tampering named.
mod common;

use common::{claim, recordings, StandIn};
use std::fs;
use std::path::Path;
use tickproof::claim::{measure_claim, verify_export, verify_stored, ClaimError, MeasureRequest, Pipeline};
use tickproof::record::{ClaimId, SealedRecord, ServiceKey};
use tickproof::store::export::export_claim;
use tickproof::store::{ClaimStore, Draft, Limits, Store, StoreError};

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    store: Store,
    id: ClaimId,
    record: SealedRecord,
}

fn measured_claim(key: Option<&ServiceKey>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let mut store = Store::open(&root.join("store")).unwrap();
    let opened = store.append(Draft::open(claim("SN-1")), key).unwrap();
    let id = opened.record.claim_id.clone();
    let files = recordings(&root, 3, 7);
    let req = MeasureRequest {
        id: id.clone(),
        recordings: ["DU", "DD", "CU"].iter().map(|p| p.to_string()).zip(files).collect(),
        policy: None,
        technician: Some("B. Petrov".into()),
        recorder: None,
        recorder_reason: None,
        letterhead: None,
    };
    let record = measure_claim(&mut store, &StandIn { drift: 0.0 }, &req, key).unwrap();
    Fixture { _dir: dir, root, store, id, record }
}

fn export(f: &Fixture, name: &str) -> std::path::PathBuf {
    let out = f.root.join(name);
    export_claim(&f.store, &f.id, &out).unwrap();
    out
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = fs::read(path).unwrap();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x01;
    fs::write(path, b).unwrap();
}

#[test]
fn measure_then_verify_in_the_store_checks_out() {
    let f = measured_claim(None);
    let r = &f.record.record;
    assert_eq!(r.revision, 2);
    assert_eq!(r.positions.len(), 3);
    assert!(r.evidence.iter().any(|e| e.name == "report.html"));
    assert!(r.evidence.iter().any(|e| e.name == "plots/rates.svg"));
    assert!(r.evidence.iter().any(|e| e.name == "plots/paper-strip-DU.png"));
    assert!(r.evidence.iter().any(|e| e.name == "plots/trend.svg"));
    assert_eq!(r.positions[0].audio, "audio/DU.wav");
    let audio = fs::read(f.store.object_path(&r.positions[0].audio_sha256)).unwrap();
    assert_eq!(audio, fs::read(f.root.join("pos0.wav")).unwrap(), "audio kept byte for byte");
    let v = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, None).unwrap();
    assert!(v.passed(), "{:?}", v.problems);
}

#[test]
fn export_to_a_folder_and_a_tar_round_trips_and_verifies() {
    let f = measured_claim(None);
    for name in ["export-dir", "export.tar"] {
        let out = export(&f, name);
        let v = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap();
        assert!(v.passed(), "{name}: {:?}", v.problems);
    }
    let rec = SealedRecord::from_json(&fs::read(f.root.join("export-dir/record.json")).unwrap()).unwrap();
    assert_eq!(rec, f.record);
    let err = export_claim(&f.store, &f.id, &f.root.join("export.tar")).unwrap_err();
    assert!(err.to_string().contains("never overwrites"), "{err}");
}

#[test]
fn one_byte_changed_in_exported_audio_is_detected_and_named() {
    let f = measured_claim(None);
    let out = export(&f, "x");
    flip_byte(&out.join("audio/DD.wav"), 100);
    let v = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap();
    assert!(v.problems.iter().any(|p| p.starts_with("audio/DD.wav: content changed")), "{:?}", v.problems);
}

#[test]
fn one_byte_changed_in_an_exported_plot_is_detected_and_named() {
    let f = measured_claim(None);
    let out = export(&f, "x");
    flip_byte(&out.join("plots/rates.svg"), 500);
    flip_byte(&out.join("plots/trend.png"), 5000);
    let v = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap();
    assert!(v.problems.iter().any(|p| p.starts_with("plots/rates.svg: content changed")), "{:?}", v.problems);
    assert!(v.problems.iter().any(|p| p.starts_with("plots/trend.png: content changed")), "{:?}", v.problems);
}

#[test]
fn one_byte_changed_in_the_exported_record_is_detected_and_named() {
    let f = measured_claim(None);
    let out = export(&f, "x");
    for file in ["record.json", "revisions/r0002.json"] {
        let p = out.join(file);
        let text =
            fs::read_to_string(&p).unwrap().replacen("\"serial\": \"SN-1\"", "\"serial\": \"SN-7\"", 1);
        fs::write(&p, text).unwrap();
    }
    let v = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap();
    assert!(
        v.problems.iter().any(|p| p.contains("revision 2") && p.contains("content was changed")),
        "{:?}",
        v.problems
    );
}

#[test]
fn an_edited_record_with_a_recomputed_hash_is_caught_by_the_chain() {
    let f = measured_claim(None);
    let out = export(&f, "x");
    for file in ["record.json", "revisions/r0002.json"] {
        let p = out.join(file);
        let mut r = SealedRecord::from_json(&fs::read(&p).unwrap()).unwrap();
        r.record.claim.serial = "SN-7".into();
        r.sha256 = tickproof::record::canonical::sha256_hex(&r.canonical_bytes().unwrap());
        fs::write(&p, r.to_json_pretty()).unwrap();
    }
    let v = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap();
    assert!(v.problems.iter().any(|p| p.contains("revision 2: not at its place")), "{:?}", v.problems);
}

#[test]
fn a_deleted_revision_in_an_export_is_detected_and_named() {
    let f = measured_claim(None);
    let out = export(&f, "x");
    fs::remove_file(out.join("revisions/r0001.json")).unwrap();
    let err = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap_err();
    assert!(
        matches!(&err, ClaimError::Store(StoreError::Corrupt { what, .. }) if what == "revisions/r0001.json"),
        "{err}"
    );
}

#[test]
fn a_figure_the_reanalysis_does_not_reproduce_is_named() {
    let f = measured_claim(None);
    let v = verify_stored(&f.store, &StandIn { drift: 0.001 }, &f.id, None).unwrap();
    assert!(
        v.problems.iter().any(|p| p.starts_with("re-analysis of DU (audio/DU.wav): rate_s_per_day.value")),
        "{:?}",
        v.problems
    );
    assert!(
        v.problems.iter().any(|p| p.starts_with("verdict not reproduced: average_rate_s_per_day")),
        "{:?}",
        v.problems
    );
}

#[test]
fn changed_audio_in_the_store_is_named_and_not_reanalysed() {
    let f = measured_claim(None);
    let e = f.record.record.evidence.iter().find(|e| e.name == "audio/CU.wav").unwrap();
    let p = f.store.object_path(&e.sha256);
    let mut perm = fs::metadata(&p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    fs::set_permissions(&p, perm).unwrap();
    flip_byte(&p, 2000);
    let v = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, None).unwrap();
    assert!(v.problems.iter().any(|p| p.starts_with("audio/CU.wav: content changed")), "{:?}", v.problems);
    assert!(v.problems.iter().any(|p| p.contains("re-analysis: skipped")), "{:?}", v.problems);
}

#[test]
fn signed_claims_verify_against_their_key_and_fail_against_another() {
    let key = ServiceKey::from_seed([9; 32]);
    let f = measured_claim(Some(&key));
    let ok = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, Some(&key.public_key_hex())).unwrap();
    assert!(ok.passed(), "{:?}", ok.problems);
    let other = ServiceKey::from_seed([10; 32]).public_key_hex();
    let bad = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, Some(&other)).unwrap();
    assert!(bad.problems.iter().any(|p| p.contains("not by the trusted key")), "{:?}", bad.problems);
    let out = export(&f, "signed.tar");
    let v =
        verify_export(&out, &StandIn { drift: 0.0 }, Some(&key.public_key_hex()), Limits::default()).unwrap();
    assert!(v.passed(), "{:?}", v.problems);
}

#[test]
fn verification_without_a_connected_pipeline_fails_and_says_why() {
    let f = measured_claim(None);
    let v = verify_stored(&f.store, &Pipeline, &f.id, None).unwrap();
    assert!(v.problems.iter().any(|p| p.starts_with("re-analysis: cannot run")), "{:?}", v.problems);
}

#[test]
fn archives_with_path_tricks_or_too_many_entries_are_refused() {
    let f = measured_claim(None);
    let out = export(&f, "ok.tar");
    let tiny = Limits { max_archive_entries: 3, ..Limits::default() };
    assert!(verify_export(&out, &StandIn { drift: 0.0 }, None, tiny).is_err());
    // An archive whose entry climbs out of its folder.
    let evil = f.root.join("evil.tar");
    {
        let mut b = tar::Builder::new(fs::File::create(&evil).unwrap());
        let data = b"x";
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        let name = format!("{}/../../escaped.txt", f.id);
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
        b.finish().unwrap();
    }
    let err = verify_export(&evil, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap_err();
    assert!(err.to_string().contains("unsafe entry name"), "{err}");
    assert!(!f.root.join("escaped.txt").exists());
    assert!(!std::env::temp_dir().join("escaped.txt").exists());
}

#[test]
fn an_export_whose_record_says_revision_0_is_refused_as_damaged() {
    // Found by the open_archive fuzz target: it read as an export holding no revision.
    let f = measured_claim(None);
    let out = export(&f, "x");
    let path = out.join("record.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["record"]["revision"] = 0.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let err = verify_export(&out, &StandIn { drift: 0.0 }, None, Limits::default()).unwrap_err();
    assert!(err.to_string().contains("revision 0"), "{err}");
}

/// The claim of `f` revised by hand (as an old build, or a forger with the store, would write it).
fn revised(f: &mut Fixture, edit: impl FnOnce(&mut Draft)) {
    let mut d = Draft::revise(&f.record.record, "edited");
    edit(&mut d);
    f.store.append_draft(d, None).unwrap();
}

#[test]
fn the_policy_text_applied_is_kept_and_re_applied_and_a_text_the_record_does_not_name_is_named() {
    let mut f = measured_claim(None);
    let r = &f.record.record;
    let kept = r.evidence.iter().find(|e| e.name == "policy/bg-15.toml").expect("policy text kept");
    assert_eq!(fs::read(f.store.object_path(&kept.sha256)).unwrap(), b"stand-in policy text");
    assert_eq!(Some(&kept.sha256), r.policy.as_ref().map(|p| &p.sha256));
    let v = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, None).unwrap();
    assert!(v.passed(), "{:?}", v.problems);
    assert!(v.checked.iter().any(|c| c.contains("re-applied from the text kept")), "{:?}", v.checked);
    // A record that names another policy text than the one it keeps.
    revised(&mut f, |d| {
        d.policy.as_mut().unwrap().sha256 = tickproof::record::canonical::sha256_hex(b"other")
    });
    let v = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, None).unwrap();
    let named =
        v.problems.iter().any(|p| p.contains("policy/bg-15.toml: SHA-256") && p.contains("was applied"));
    assert!(named, "{:?}", v.problems);
}

#[test]
fn a_record_made_before_policies_were_kept_verifies_as_before_and_says_so() {
    let mut f = measured_claim(None);
    revised(&mut f, |d| d.evidence.retain(|e| !e.name.starts_with("policy/")));
    let v = verify_stored(&f.store, &StandIn { drift: 0.0 }, &f.id, None).unwrap();
    assert!(v.passed(), "{:?}", v.problems);
    assert!(v.checked.iter().any(|c| c.contains("keeps no policy text")), "{:?}", v.checked);
}

/// A verdict module whose policy text is not the one its verdict names.
struct TextNotNamed(StandIn);

impl tickproof::claim::Analyzer for TextNotNamed {
    fn analyze(
        &self,
        audio: &Path,
        config: &tickproof::measurement::AnalysisConfig,
    ) -> Result<tickproof::claim::Analysis, tickproof::claim::SeamError> {
        self.0.analyze(audio, config)
    }
    fn judge(
        &self,
        input: &tickproof::claim::JudgeInput,
    ) -> Result<tickproof::claim::Judgement, tickproof::claim::SeamError> {
        let mut j = self.0.judge(input)?;
        j.policy_text = Some("another text".into());
        Ok(j)
    }
}

#[test]
fn a_claim_is_not_measured_with_a_policy_text_its_verdict_does_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store")).unwrap();
    let id = store.append(Draft::open(claim("SN-2")), None).unwrap().record.claim_id.clone();
    let files = recordings(dir.path(), 1, 9);
    let req = MeasureRequest {
        id: id.clone(),
        recordings: vec![("DU".into(), files[0].clone())],
        policy: None,
        technician: None,
        recorder: None,
        recorder_reason: None,
        letterhead: None,
    };
    let err = measure_claim(&mut store, &TextNotNamed(StandIn { drift: 0.0 }), &req, None).unwrap_err();
    assert!(err.to_string().contains("the text applied has SHA-256"), "{err}");
    assert_eq!(store.get_record(&id, None).unwrap().record.revision, 1, "nothing written");
}
