//! The `claim` and `key` command-line contract: output, exit codes, bad input.
use std::path::Path;
use std::process::{Command, Output};

fn run(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn new_claim(home: &Path, store: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "--store",
        store,
        "claim",
        "new",
        "--brand",
        "Seiko",
        "--model",
        "SRPD55",
        "--serial",
        "A1",
        "--movement",
        "mechanical",
        "--json",
    ];
    if !extra.contains(&"--policy") {
        args.extend_from_slice(&["--policy", "bultime-bg"]); // claim new needs one (or the shop's)
    }
    args.extend_from_slice(extra);
    run(home, &args)
}

#[test]
fn claim_new_prints_json_with_an_id_and_show_list_verify_agree() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o =
        new_claim(home.path(), store, &["--complaint", "loses 1 min/day", "--purchase-date", "2024-02-29"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert!(tickproof::record::ClaimId::parse(&id).is_ok(), "{id}");
    assert_eq!(v["signed"], false);
    let show = run(home.path(), &["--store", store, "claim", "show", &id, "--json"]);
    let rec = tickproof::record::SealedRecord::from_json(&show.stdout).unwrap();
    assert_eq!(rec.record.claim.complaint.as_deref(), Some("loses 1 min/day"));
    let list = run(home.path(), &["--store", store, "claim", "list", "--json", "--model", "srpd55"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows["schema"], "tickproof.claim.v1");
    assert_eq!(rows["claims"].as_array().unwrap().len(), 1);
    let ok = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("everything checks out"));
}

#[test]
fn bad_claim_ids_and_oversize_fields_exit_2_with_one_line() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    for id in ["../../etc/passwd", "C-20250101-0001/..", "C-20250101-0000", "c-20250101-0001"] {
        let o = run(home.path(), &["--store", store, "claim", "show", id]);
        assert_eq!(o.status.code(), Some(2), "{id}");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    let long = "x".repeat(5000);
    let o = new_claim(home.path(), store, &["--complaint", &long]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("complaint is longer than 4000 characters"), "{}", stderr(&o));
    let o = new_claim(home.path(), store, &["--purchase-date", "2023-02-29"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(home.path(), &["--store", store, "claim", "show", "C-20250101-0001"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not in the store"));
}

#[test]
fn verify_exits_5_naming_a_record_edited_in_the_store() {
    let home = tempfile::tempdir().unwrap();
    let store_dir = home.path().join("store");
    let store = store_dir.to_str().unwrap();
    let o = new_claim(home.path(), store, &[]);
    let id = serde_json::from_str::<serde_json::Value>(stdout(&o).trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    new_claim(home.path(), store, &[]);
    let c = rusqlite::Connection::open(store_dir.join("claims.sqlite3")).unwrap();
    c.execute_batch(
        "DROP TRIGGER records_append_only_update;
         UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '\"A1\"', '\"B1\"') AS BLOB) WHERE seq = 1;",
    )
    .unwrap();
    let o = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("record 1 ("), "{}", stderr(&o));
}

#[test]
fn key_new_writes_a_private_key_once_and_signed_claims_verify_with_it() {
    let home = tempfile::tempdir().unwrap();
    let key = home.path().join("k/service.key");
    let key = key.to_str().unwrap();
    let o = run(home.path(), &["key", "new", "--key", key]);
    assert!(o.status.success(), "{}", stderr(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let before = std::fs::read(key).unwrap();
    let again = run(home.path(), &["key", "new", "--key", key]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("never overwritten"));
    assert_eq!(std::fs::read(key).unwrap(), before);
    let show = run(home.path(), &["key", "show", "--key", key, "--json"]);
    let pk = serde_json::from_slice::<serde_json::Value>(&show.stdout).unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = new_claim(home.path(), store, &["--key", key]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["signed"], true);
    let id = v["id"].as_str().unwrap();
    let ok = run(home.path(), &["--store", store, "claim", "verify", id, "--trusted-key", &pk]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let other = "11".repeat(32);
    let bad = run(home.path(), &["--store", store, "claim", "verify", id, "--trusted-key", &other]);
    assert_eq!(bad.status.code(), Some(5));
    assert!(stderr(&bad).contains("not by the trusted key"), "{}", stderr(&bad));
}

#[test]
fn measure_of_a_broken_recording_exits_2_and_records_nothing() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = new_claim(home.path(), store, &[]);
    let id = serde_json::from_str::<serde_json::Value>(stdout(&o).trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wav = home.path().join("du.wav");
    std::fs::write(&wav, b"RIFF....WAVE").unwrap();
    let o = run(
        home.path(),
        &["--store", store, "claim", "measure", &id, "--from", wav.to_str().unwrap(), "--positions", "DU"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("du.wav"), "{}", stderr(&o));
    let o = run(
        home.path(),
        &["--store", store, "claim", "measure", &id, "--from", wav.to_str().unwrap(), "--positions", "DU,DD"],
    );
    assert_eq!(o.status.code(), Some(2));
    let show = run(home.path(), &["--store", store, "claim", "show", &id, "--json"]);
    let rec = tickproof::record::SealedRecord::from_json(&show.stdout).unwrap();
    assert_eq!(rec.record.revision, 1, "no revision was added");
}

#[test]
fn measure_the_bundled_fixture_then_verify_reproduces_every_figure() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = new_claim(home.path(), store, &["--policy", "bultime-bg"]);
    let id = serde_json::from_str::<serde_json::Value>(stdout(&o).trim()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wav = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav"
    );
    let o =
        run(home.path(), &["--store", store, "claim", "measure", &id, "--from", wav, "--positions", "DU"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let show = run(home.path(), &["--store", store, "claim", "show", &id, "--json"]);
    let rec = tickproof::record::SealedRecord::from_json(&show.stdout).unwrap();
    assert_eq!(rec.record.revision, 2);
    let v = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(v.status.code(), Some(0), "{}{}", stdout(&v), stderr(&v));
    assert!(stdout(&v).contains("re-analysed"), "{}", stdout(&v));
}
