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

/// The bundled 20 s recording the claims here are measured from.
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav"
);

/// The claim id that `claim new` printed (as JSON) in `o`.
fn claim_id(o: &Output) -> String {
    serde_json::from_str::<serde_json::Value>(stdout(o).trim()).unwrap()["id"].as_str().unwrap().to_string()
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
    let id = claim_id(&o);
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
    let id = claim_id(&o);
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
    let id = claim_id(&o);
    let o = run(
        home.path(),
        &["--store", store, "claim", "measure", &id, "--from", FIXTURE, "--positions", "DU"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let show = run(home.path(), &["--store", store, "claim", "show", &id, "--json"]);
    let rec = tickproof::record::SealedRecord::from_json(&show.stdout).unwrap();
    assert_eq!(rec.record.revision, 2);
    let v = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(v.status.code(), Some(0), "{}{}", stdout(&v), stderr(&v));
    assert!(stdout(&v).contains("re-analysed"), "{}", stdout(&v));
}

/// A key made with `key new` at `home/<name>.key`; returns its path and public key.
fn make_key(home: &Path, name: &str) -> (String, String) {
    let key = home.join(format!("{name}.key")).to_str().unwrap().to_string();
    let o = run(home, &["key", "new", "--key", &key]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pk = std::fs::read_to_string(format!("{key}.pub")).unwrap().trim().to_string();
    (key, pk)
}

#[test]
fn a_head_receipt_is_printed_kept_and_proves_what_the_store_held() {
    let home = tempfile::tempdir().unwrap();
    let (key, _) = make_key(home.path(), "shop");
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let first = new_claim(home.path(), store, &["--key", &key]);
    let v: serde_json::Value = serde_json::from_str(stdout(&first).trim()).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["receipt"]["head_seq"], 1);
    let second = new_claim(home.path(), store, &["--key", &key]);
    let v2: serde_json::Value = serde_json::from_str(stdout(&second).trim()).unwrap();
    let hash = v2["receipt_sha256"].as_str().unwrap().to_string();
    let id2 = v2["id"].as_str().unwrap().to_string();
    // The receipt file as `claim receipt` prints it, and its hash as the report names it.
    let r = run(home.path(), &["--store", store, "claim", "receipt", &id2]);
    assert!(r.status.success(), "{}", stderr(&r));
    let file = home.path().join("receipt.json");
    std::fs::write(&file, &r.stdout).unwrap();
    let file = file.to_str().unwrap();
    for given in [file, hash.as_str()] {
        let ok = run(home.path(), &["--store", store, "claim", "verify", &id, "--receipt", given]);
        assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
        assert!(
            stdout(&ok).contains(&format!("receipt {hash}: the chain up to record 2")),
            "{}",
            stdout(&ok)
        );
    }
    let bad = run(home.path(), &["--store", store, "claim", "verify", &id, "--receipt", "zz"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("--receipt") && stderr(&bad).trim().lines().count() == 1,
        "{}",
        stderr(&bad)
    );
    // The newest record and its receipt deleted, the head marker rewound: the receipt tells.
    let c = rusqlite::Connection::open(Path::new(store).join("claims.sqlite3")).unwrap();
    c.execute_batch(
        "DROP TRIGGER records_append_only_delete; DROP TRIGGER receipts_append_only_delete;
         DELETE FROM records WHERE seq = 2; DELETE FROM receipts WHERE head_seq = 2;
         UPDATE meta SET value = (SELECT seq || ' ' || sha256 FROM records WHERE seq = 1) WHERE key = 'head';",
    )
    .unwrap();
    drop(c);
    let plain = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(plain.status.code(), Some(0), "the chain alone cannot tell: {}", stderr(&plain));
    for given in [file, hash.as_str()] {
        let gone = run(home.path(), &["--store", store, "claim", "verify", &id, "--receipt", given]);
        assert_eq!(gone.status.code(), Some(5), "{}", stderr(&gone));
        assert!(stderr(&gone).contains(&format!("receipt {hash}")), "{}", stderr(&gone));
    }
}

/// Re-signs (or, with `None`, strips) every revision of an exported claim archive in place.
fn resign_archive(tar_path: &Path, key: Option<&tickproof::record::ServiceKey>) {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut ar = tar::Archive::new(std::fs::File::open(tar_path).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_dir() {
            continue;
        }
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        if name.ends_with("record.json") || name.contains("/revisions/") {
            let mut r = tickproof::record::SealedRecord::from_json(&bytes).unwrap();
            r.signature = key.map(|k| k.sign(&r.canonical_bytes().unwrap()));
            bytes = r.to_json_pretty().into_bytes();
        }
        entries.push((name, bytes));
    }
    let mut b = tar::Builder::new(std::fs::File::create(tar_path).unwrap());
    for (name, bytes) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn a_claim_archive_re_signed_or_stripped_fails_verify_and_the_shop_key_anchors_it() {
    let home = tempfile::tempdir().unwrap();
    let (key, pk) = make_key(home.path(), "shop");
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = new_claim(home.path(), store, &["--key", &key]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let attacker = tickproof::record::ServiceKey::from_seed([66; 32]);
    for (name, resign) in [("resigned.tar", Some(&attacker)), ("stripped.tar", None)] {
        let tar_path = home.path().join(name);
        let out = run(
            home.path(),
            &["--store", store, "claim", "export", &id, "--out", tar_path.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let ok = run(home.path(), &["claim", "verify", tar_path.to_str().unwrap()]);
        assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
        assert!(stdout(&ok).contains("1 signed, by trusted key"), "{}", stdout(&ok));
        resign_archive(&tar_path, resign);
        let bad = run(home.path(), &["claim", "verify", tar_path.to_str().unwrap(), "--json"]);
        assert_eq!(bad.status.code(), Some(5), "{name}: {}", stderr(&bad));
        let want = if resign.is_some() { "re-signed with another key" } else { "a signature was removed" };
        assert!(stdout(&bad).contains(want), "{name}: {}", stdout(&bad));
        assert!(!stdout(&bad).contains("by trusted key"), "{name}: {}", stdout(&bad));
    }
    // With the shop trusting another key, the store's own keyring is not enough.
    let bad = run(home.path(), &["shop", "set", "--trust-key", "zz"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--trust-key"), "{}", stderr(&bad));
    let (_, other) = make_key(home.path(), "other");
    let set = run(home.path(), &["shop", "set", "--trust-key", &other]);
    assert!(set.status.success(), "{}", stderr(&set));
    let o = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("which the shop does not trust"), "{}", stderr(&o));
    let set = run(home.path(), &["shop", "set", "--trust-key", "", "--trust-key", &pk]);
    assert!(set.status.success(), "{}", stderr(&set));
    let o = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn the_summary_never_says_signed_by_the_trusted_key_when_it_was_not() {
    let home = tempfile::tempdir().unwrap();
    let (key, _) = make_key(home.path(), "shop");
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = new_claim(home.path(), store, &["--key", &key]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let id = v["id"].as_str().unwrap();
    let other = "11".repeat(32);
    let bad = run(home.path(), &["--store", store, "claim", "verify", id, "--trusted-key", &other, "--json"]);
    assert_eq!(bad.status.code(), Some(5), "{}", stderr(&bad));
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    let checked = v["checked"].to_string();
    assert!(
        !checked.contains("by the trusted key") && checked.contains("not all by a trusted key"),
        "{checked}"
    );
}

/// Runs `script` (sh) in a mount namespace of its own, where it mounts a small tmpfs at `$FS`
/// and fills it: `unshare -m` as root, else `unshare -rm` (a user namespace). Fails, saying
/// so, when neither can be had here: a full disk is never skipped silently.
fn in_a_full_filesystem(home: &Path, script: &str, envs: &[(&str, &str)]) {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let prelude = "set -u\nmount -t tmpfs -o size=12m tmpfs \"$FS\" || exit 97\n";
    let o = Command::new("unshare")
        .arg(if root { "-m" } else { "-rm" })
        .args(["sh", "-c", &format!("{prelude}{script}")])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("BIN", env!("CARGO_BIN_EXE_tickproof"))
        .envs(envs.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("a full-disk test needs util-linux's `unshare` (mount namespaces): {e}"));
    assert!(
        o.status.success(),
        "a full-disk test mounts a small tmpfs in a namespace of its own ({}); it could not here: {}",
        if root { "unshare -m" } else { "unshare -rm, user namespaces" },
        stderr(&o)
    );
}

#[test]
fn read_only_commands_work_on_a_full_disk_and_writes_say_disk_full_naming_the_destination() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = new_claim(home.path(), store, &[]);
    let id = claim_id(&o);
    let o = run(
        home.path(),
        &["--store", store, "claim", "measure", &id, "--from", FIXTURE, "--positions", "DU"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fs_dir = home.path().join("full");
    let out = home.path().join("out");
    std::fs::create_dir_all(&fs_dir).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let script = r#"
cp -a "$SRC" "$FS/store" || exit 98
dd if=/dev/zero of="$FS/fill" bs=4096 2>/dev/null
df -k "$FS" | tail -1 | awk '{print $4}' > "$OUT/free_kib"
run() { name=$1; shift; "$BIN" --store "$FS/store" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; echo $? >"$OUT/$name.rc"; }
run list claim list
run show claim show "$ID"
run verify claim verify "$ID"
run new claim new --brand B --model M --serial 9 --movement mechanical --policy bultime-bg
run export claim export "$ID" --out "$FS/claim.tar"
"#;
    let envs = [
        ("FS", fs_dir.to_str().unwrap()),
        ("OUT", out.to_str().unwrap()),
        ("SRC", store),
        ("ID", id.as_str()),
    ];
    in_a_full_filesystem(home.path(), script, &envs);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    assert_eq!(read("free_kib").trim(), "0", "the file system was not full");
    for cmd in ["list", "show", "verify"] {
        assert_eq!(
            read(&format!("{cmd}.rc")).trim(),
            "0",
            "claim {cmd} on a full disk: {}",
            read(&format!("{cmd}.err"))
        );
    }
    assert!(read("list.out").contains(&id), "{}", read("list.out"));
    assert!(read("verify.out").contains("everything checks out"), "{}", read("verify.out"));
    let db = fs_dir.join("store/claims.sqlite3");
    let tar = fs_dir.join("claim.tar");
    for (cmd, dest) in [("new", db), ("export", tar)] {
        assert_eq!(read(&format!("{cmd}.rc")).trim(), "7", "claim {cmd}: {}", read(&format!("{cmd}.err")));
        let e = read(&format!("{cmd}.err"));
        assert!(e.contains("disk full") && e.contains(dest.to_str().unwrap()), "claim {cmd}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
    }
}

#[test]
fn the_customer_s_report_names_the_receipt_that_proves_the_store_held_the_claim() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (key, _) = make_key(h, "shop");
    let store = h.join("store");
    let store = store.to_str().unwrap();
    let opened: serde_json::Value =
        serde_json::from_str(stdout(&new_claim(h, store, &["--key", &key])).trim()).unwrap();
    let id = opened["id"].as_str().unwrap();
    let hash = opened["receipt_sha256"].as_str().unwrap();
    let m = run(
        h,
        &["--store", store, "claim", "measure", id, "--positions", "DU", "--from", FIXTURE, "--key", &key],
    );
    assert!(m.status.success(), "{}", stderr(&m));
    let out = h.join("export");
    let e = run(h, &["--store", store, "claim", "export", id, "--out", out.to_str().unwrap()]);
    assert!(e.status.success(), "{}", stderr(&e));
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains(&format!("Receipt <span class=\"hash\">{hash}</span>")),
        "no receipt in the report"
    );
    assert!(report.contains(&format!("--receipt {hash}")), "the report does not say how to prove it");
    // The hash the customer holds proves the store, and the export, still hold the claim.
    for target in
        [vec!["--store", store, "claim", "verify", id], vec!["claim", "verify", out.to_str().unwrap()]]
    {
        let v = run(h, &[&target[..], &["--receipt", hash]].concat());
        assert!(v.status.success(), "{target:?}: {}", stderr(&v));
    }
}

/// Issue 12: `claim verify` re-applies the policy text the verdict applied (kept as evidence),
/// not this build's policy of the same name, nor a file that changed or went since.
#[test]
fn verify_reapplies_the_policy_text_that_was_applied_not_this_build_s_policy_of_that_name() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    // The shop's own edition of bultime-bg: same name, another version and tolerance.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/bultime-bg.toml"))
        .unwrap()
        .replacen("version = \"1\"", "version = \"shop-2\"", 1)
        .replacen("plus_minus = 15.0", "plus_minus = 4.0", 1);
    assert!(text.contains("shop-2") && text.contains("plus_minus = 4.0"), "policy edited");
    let file = home.path().join("shop-bultime.toml");
    std::fs::write(&file, &text).unwrap();
    let o = new_claim(home.path(), store, &["--policy", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = claim_id(&o);
    let args = ["--store", store, "claim", "measure", &id, "--from", FIXTURE, "--positions", "DU"];
    let args = [&args[..], &["--recorder-ppm", "0", "--recorder-ppm-u95", "0.5"]].concat();
    let o = run(home.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let show = run(home.path(), &["--store", store, "claim", "show", &id, "--json"]);
    let rec = tickproof::record::SealedRecord::from_json(&show.stdout).unwrap().record;
    let pol = rec.policy.clone().unwrap();
    assert_eq!((pol.name.as_str(), pol.version.as_str()), ("bultime-bg", "shop-2"));
    // Judged against the shop's ±4 s/day, not the built-in's ±15.
    let limit = &rec.verdict.as_ref().unwrap().detail["limit"];
    assert_eq!((limit["min"].as_f64(), limit["max"].as_f64()), (Some(-4.0), Some(4.0)), "{limit}");
    let kept = rec.evidence.iter().find(|e| e.name == "policy/bultime-bg.toml").expect("policy kept");
    assert_eq!(kept.role, tickproof::record::EvidenceRole::Policy);
    assert_eq!(kept.sha256, pol.sha256, "the evidence is the text the record names");
    assert_eq!(kept.size_bytes, text.len() as u64);
    // The file is gone: the record alone decides, and reproduces the verdict.
    std::fs::remove_file(&file).unwrap();
    let v = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(v.status.code(), Some(0), "{}{}", stdout(&v), stderr(&v));
    assert!(stdout(&v).contains("policy/bultime-bg.toml"), "{}", stdout(&v));
    // And in an export.
    let out = home.path().join("export");
    let e = run(home.path(), &["--store", store, "claim", "export", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(e.status.code(), Some(0), "{}", stderr(&e));
    assert_eq!(std::fs::read_to_string(out.join("policy/bultime-bg.toml")).unwrap(), text);
    let v = run(home.path(), &["claim", "verify", out.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}{}", stdout(&v), stderr(&v));
}
