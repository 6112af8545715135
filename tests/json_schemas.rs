//! Every `--json` output names its schema (`"schema": "tickproof.<command>.v1"`) and validates
//! against `schema/<command>.v1.json`: real outputs of `analyze`, `judge`, `listen` (readings,
//! protocol steps, the protocol's end), `calibrate` (ticks, tone, manual, show, list, remove,
//! host-status), `claim` (new, list, verify; measure and show print the claim record, checked
//! against `claim-record.v1.json`; receipt prints the head receipt, `receipt.v1.json`), `doctor`, `devices`, `key show`, `policy` (list, check),
//! `shop show`, `store` (push, pull, against a PostgreSQL server of the test's own),
//! `evaluate` (a folder, a sweep) and `synth` (a watch, a quartz, no watch), through the binary.
mod cli_home;
#[path = "support/pg.rs"]
mod pg;
use cli_home::{claim_new, json_ok as ok_json, run};
use serde_json::Value;
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Output;
use tickproof::cli::schema;

const FIXTURE: &str = "fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav";

fn schema_file(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The validator of `schema/NAME`, with the claim record's and the head receipt's schemas known
/// by their `$id` (the claim outputs refer to them).
fn validator(name: &str) -> jsonschema::Validator {
    let record = jsonschema::Resource::from_contents(schema_file("claim-record.v1.json")).unwrap();
    let receipt = jsonschema::Resource::from_contents(schema_file("receipt.v1.json")).unwrap();
    jsonschema::options()
        .with_resource("json-schema:///tickproof.claim-record.v1", record)
        .with_resource("json-schema:///tickproof-receipt-v1", receipt)
        .build(&schema_file(name))
        .unwrap_or_else(|e| panic!("{name} is not a valid schema: {e}"))
}

/// Fails with every error when `v` does not follow the schema named by its `schema` field.
fn check(v: &Value) {
    let id = v["schema"].as_str().unwrap_or_else(|| panic!("no schema field: {v:#}"));
    let file = schema::ALL.iter().find(|(i, _)| *i == id).unwrap_or_else(|| panic!("unknown schema {id}")).1;
    check_against(file, v);
}

fn check_against(file: &str, v: &Value) {
    let val = validator(file);
    let errors: Vec<String> = val.iter_errors(v).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{file}:\n{}\n{v:#}", errors.join("\n"));
}

fn json_any(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

fn synth(home: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = home.join(name);
    let mut a = vec!["synth", out.to_str().unwrap(), "--force"];
    a.extend_from_slice(args);
    assert_eq!(run(home, &a).status.code(), Some(0));
    out
}

/// A 16-bit mono WAV at 22.05 kHz whose samples are `f(t)`.
fn wav(path: &Path, seconds: f64, f: impl Fn(f64) -> f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..(seconds * 22_050.0) as u64 {
        w.write_sample((f(n as f64 / 22_050.0).clamp(-1.0, 1.0) * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn every_schema_is_valid_json_schema_named_by_its_id() {
    for (id, file) in schema::ALL {
        let s = schema_file(file);
        assert_eq!(s["$id"], id, "{file}");
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema", "{file}");
        validator(file);
    }
}

#[test]
fn a_schema_refuses_an_output_that_breaks_it() {
    let home = tempfile::tempdir().unwrap();
    let mut v = ok_json(&run(home.path(), &["analyze", FIXTURE, "--json"]));
    check(&v);
    v["rate_s_per_day"]["u95"] = Value::from(-1.0);
    assert!(!validator("analyze.v1.json").is_valid(&v), "a negative u95 passed");
    v.as_object_mut().unwrap().remove("rate_s_per_day");
    assert!(!validator("analyze.v1.json").is_valid(&v), "a missing figure passed");
}

#[test]
fn analyze_outputs_follow_their_schema_for_a_watch_a_quartz_and_no_watch() {
    let home = tempfile::tempdir().unwrap();
    check(&ok_json(&run(home.path(), &["analyze", FIXTURE, "--json", "--calibre", "ETA 2824-2"])));
    let q = synth(home.path(), "quartz.wav", &["--kind", "quartz", "--duration-s", "20"]);
    let o = run(home.path(), &["analyze", q.to_str().unwrap(), "--json"]);
    let v = json_any(&o);
    assert_eq!(v["kind"], "quartz");
    check(&v);
    let n = synth(home.path(), "noise.wav", &["--kind", "noise"]);
    let o = run(home.path(), &["analyze", n.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let v = json_any(&o);
    assert_eq!(v["kind"], "none");
    check(&v);
}

#[test]
fn judge_outputs_follow_their_schema_uncalibrated_and_calibrated() {
    let home = tempfile::tempdir().unwrap();
    let v = ok_json(&run(
        home.path(),
        &["judge", "--policy", "bultime-bg", FIXTURE, "--positions", "DU", "--json"],
    ));
    assert_eq!(v["schema"], schema::JUDGE);
    check(&v);
    let v = ok_json(&run(
        home.path(),
        &[
            "judge",
            "--policy",
            "bultime-bg",
            "--recorder-ppm",
            "0",
            "--recorder-ppm-u95",
            "1",
            FIXTURE,
            "--json",
        ],
    ));
    check(&v);
}

#[test]
fn listen_lines_follow_their_schema_for_readings_and_a_guided_protocol() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), &["listen", "--replay", FIXTURE, "--speed", "0", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 10 && lines.iter().any(|l| !l["rate_s_per_day"].is_null()));
    lines.iter().for_each(check);
    let dir = home.path().join("protocol");
    let o = run(
        home.path(),
        &[
            "listen",
            "--protocol",
            "bultime-bg",
            "--replay",
            FIXTURE,
            "--speed",
            "0",
            "--json",
            "--settle-s",
            "1",
            "--seconds-per-position",
            "2",
            "--out-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|l| l["event"] == "done"));
    assert_eq!(lines.last().unwrap()["event"], "complete");
    lines.iter().for_each(check);
}

#[test]
fn calibrate_outputs_follow_their_schema_for_every_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let tone = h.join("tone.wav");
    wav(&tone, 20.0, |t| 0.5 * (2.0 * PI * 1000.0 * t).cos());
    let ticks = h.join("ticks.wav");
    wav(&ticks, 60.0, |t| {
        let tau = (t - 0.25).rem_euclid(1.0);
        let on = 1.0 - (-tau / 0.0002).exp();
        if tau < 0.01 {
            0.6 * on * on * (-tau / 0.0015).exp() * (2.0 * PI * 3000.0 * tau).sin()
        } else {
            0.0
        }
    });
    let outs = [
        ok_json(&run(
            h,
            &["calibrate", "tone", tone.to_str().unwrap(), "--freq-hz", "1000", "--json", "--save", "Mic A"],
        )),
        ok_json(&run(h, &["calibrate", "ticks", ticks.to_str().unwrap(), "--period-s", "1", "--json"])),
        ok_json(&run(
            h,
            &[
                "calibrate",
                "manual",
                "--ppm",
                "3",
                "--u95",
                "1",
                "--note",
                "certificate",
                "--save",
                "Mic B",
                "--json",
            ],
        )),
        ok_json(&run(h, &["calibrate", "show", "Mic A", "--json"])),
        ok_json(&run(h, &["calibrate", "list", "--json"])),
        ok_json(&run(h, &["calibrate", "remove", "Mic B", "--json"])),
        ok_json(&run(h, &["calibrate", "host-status", "--json"])),
    ];
    assert_eq!(outs[4]["profiles"].as_array().unwrap().len(), 2);
    for v in &outs {
        assert_eq!(v["schema"], schema::CALIBRATE);
        check(v);
    }
}

#[test]
fn claim_outputs_follow_their_schemas_and_the_record_its_own() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let store = h.join("store");
    let store = store.to_str().unwrap();
    let opened = ok_json(&claim_new(h, store, "A1"));
    check(&opened);
    let id = opened["id"].as_str().unwrap();
    let measured = ok_json(&run(
        h,
        &["--store", store, "claim", "measure", id, "--positions", "DU", "--json", "--from", FIXTURE],
    ));
    assert_eq!(measured["record"]["schema"], "tickproof.claim-record.v1");
    check_against("claim-record.v1.json", &measured);
    check_against(
        "claim-record.v1.json",
        &ok_json(&run(h, &["--store", store, "claim", "show", id, "--json"])),
    );
    let list = ok_json(&run(h, &["--store", store, "claim", "list", "--json"]));
    assert_eq!(list["claims"].as_array().unwrap().len(), 1);
    check(&list);
    check(&ok_json(&run(h, &["--store", store, "claim", "verify", id, "--json"])));
    // `claim receipt` prints the head receipt, which names its format (`receipt.v1.json`):
    // unsigned, and signed once the per-user key exists.
    check_against("receipt.v1.json", &ok_json(&run(h, &["--store", store, "claim", "receipt", id])));
    assert_eq!(run(h, &["key", "new"]).status.code(), Some(0));
    let signed = ok_json(&claim_new(h, h.join("signed").to_str().unwrap(), "A2"));
    let signed_id = signed["id"].as_str().unwrap();
    let receipt =
        ok_json(&run(h, &["--store", h.join("signed").to_str().unwrap(), "claim", "receipt", signed_id]));
    assert!(receipt["signature"].is_object(), "{receipt:#}");
    assert_eq!(receipt, signed["receipt"], "claim new and claim receipt print different receipts");
    check_against("receipt.v1.json", &receipt);
}

#[test]
fn doctor_outputs_follow_their_schema_usable_or_not() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    check(&ok_json(&run(h, &["doctor", FIXTURE, "--json"])));
    for (name, args) in
        [("hum.wav", vec!["--hum-hz", "60", "--hum-db", "0"]), ("silence.wav", vec!["--kind", "silence"])]
    {
        let f = synth(h, name, &args);
        check(&json_any(&run(h, &["doctor", f.to_str().unwrap(), "--json"])));
    }
}

#[test]
fn devices_and_key_outputs_follow_their_schemas() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let v = ok_json(&run(h, &["devices", "--json"]));
    assert_eq!(v["schema"], schema::DEVICES);
    check(&v);
    let key = h.join("centre.key");
    let key = key.to_str().unwrap();
    assert_eq!(run(h, &["key", "new", "--key", key]).status.code(), Some(0));
    let v = ok_json(&run(h, &["key", "show", "--key", key, "--json"]));
    assert_eq!(v["schema"], schema::KEY);
    check(&v);
}

#[test]
fn policy_outputs_follow_their_schema_for_list_and_check() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let list = ok_json(&run(h, &["policy", "list", "--json"]));
    assert_eq!(list["schema"], schema::POLICY);
    assert_eq!(list["policies"].as_array().unwrap().len(), tickproof::verdict::builtin_names().len());
    check(&list);
    for name in tickproof::verdict::builtin_names() {
        let file = h.join(format!("{name}.toml"));
        std::fs::write(&file, tickproof::verdict::builtin_text(name).unwrap()).unwrap();
        let v = ok_json(&run(h, &["policy", "check", file.to_str().unwrap(), "--json"]));
        assert_eq!(v["name"], name);
        check(&v);
    }
}

#[test]
fn shop_output_follows_its_schema_empty_and_filled() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    check(&ok_json(&run(h, &["shop", "show", "--json"])));
    let logo = h.join("logo.svg");
    std::fs::write(&logo, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let set = [
        "shop",
        "set",
        "--name",
        "Watch Repair Ltd",
        "--address",
        "1 High St\\nLyon",
        "--logo",
        logo.to_str().unwrap(),
        "--default-policy",
        "rankine-ro",
        "--technician",
        "B. Petrov",
        "--trust-key",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    ];
    assert_eq!(run(h, &set).status.code(), Some(0));
    let v = ok_json(&run(h, &["shop", "show", "--json"]));
    assert_eq!(v["schema"], schema::SHOP);
    assert_eq!(v["shop"]["trusted_keys"].as_array().unwrap().len(), 1);
    check(&v);
}

#[test]
fn store_push_and_pull_outputs_follow_their_schema() {
    let server = pg::PgServer::start();
    let url = server.registry("schemas");
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let (src, dst) = (h.join("src"), h.join("dst"));
    let (src, dst) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let opened = ok_json(&claim_new(h, src, "S1"));
    let id = opened["id"].as_str().unwrap();
    let store = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_tickproof"))
            .args(args)
            .env("HOME", h)
            .env("PGPASSWORD", pg::PASSWORD)
            .env_remove("TICKPROOF_BRANCH")
            .output()
            .unwrap();
        ok_json(&o)
    };
    let pushed = store(&["--store", src, "--branch", "LYON", "store", "push", &url, "--json"]);
    assert_eq!(pushed["schema"], schema::STORE);
    assert_eq!(pushed["records_copied"], 1, "{pushed}");
    check(&pushed);
    check(&store(&["--store", src, "--branch", "LYON", "store", "push", &url, "--json"]));
    let pulled = store(&["--store", dst, "store", "pull", &url, id, "--json"]);
    assert_eq!(pulled["chain_id"], pushed["chain_id"]);
    check(&pulled);
}

#[test]
fn evaluate_output_follows_its_schema_for_a_folder_of_a_watch_and_two_without() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let dir = h.join("set");
    std::fs::create_dir(&dir).unwrap();
    for stem in [
        "mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s",
        "none-noise-48k-10s",
        "none-speech-48k-10s",
    ] {
        for ext in ["wav", "truth.json"] {
            let name = format!("{stem}.{ext}");
            std::fs::copy(Path::new("fixtures").join(&name), dir.join(&name)).unwrap();
        }
    }
    let v = ok_json(&run(h, &["evaluate", dir.to_str().unwrap(), "--json", "--threads", "1"]));
    assert_eq!(v["schema"], schema::EVALUATE);
    assert_eq!(v["recordings"], 3, "{v:#}");
    assert_eq!(v["negatives"].as_array().unwrap().len(), 3, "noise, speech, all: {v:#}");
    check(&v);
    // A watch whose truth says "no watch": a failure, listed with its case.
    let fixture = Path::new("fixtures").join("mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav");
    std::fs::copy(fixture, dir.join("mislabelled.wav")).unwrap();
    std::fs::copy("fixtures/none-noise-48k-10s.truth.json", dir.join("mislabelled.truth.json")).unwrap();
    let v = ok_json(&run(h, &["evaluate", dir.to_str().unwrap(), "--json", "--threads", "1"]));
    assert_eq!(v["failures"].as_array().unwrap().len(), 1, "{v:#}");
    check(&v);
}

#[test]
fn evaluate_output_follows_its_schema_for_the_quick_sweep() {
    let home = tempfile::tempdir().unwrap();
    let v = ok_json(&run(home.path(), &["evaluate", "--sweep", "--quick", "--json", "--threads", "2"]));
    assert_eq!(v["seed"], 1);
    assert!(!v["by_family"].as_array().unwrap().is_empty(), "{v:#}");
    check(&v);
}

#[test]
fn synth_outputs_follow_their_schema_and_are_the_truth_file_beside_the_recording() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let cases: [(&str, &[&str]); 5] = [
        ("watch.wav", &[]),
        (
            "faults.wav",
            &["--family", "resonant", "--clip", "0.5", "--weak-stretch", "1,2,0.1", "--noise-gap", "3,4"],
        ),
        ("quartz.wav", &["--kind", "quartz", "--duration-s", "3", "--inhibition-period-s", "10"]),
        ("noise.wav", &["--kind", "noise", "--hum-hz", "50"]),
        ("metronome.wav", &["--kind", "metronome"]),
    ];
    for (name, args) in cases {
        let out = h.join(name);
        let mut a = vec!["synth", out.to_str().unwrap(), "--json"];
        a.extend_from_slice(args);
        let mut v = ok_json(&run(h, &a));
        assert_eq!(v["schema"], schema::SYNTH, "{name}");
        check(&v);
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(out.with_extension("truth.json")).unwrap())
                .unwrap();
        v.as_object_mut().unwrap().remove("schema");
        assert_eq!(v, file, "{name}: the output is not the truth file");
    }
    let mut v = ok_json(&run(h, &["synth", h.join("again.wav").to_str().unwrap(), "--json"]));
    v["params"]["bph"] = Value::from("fast");
    assert!(!validator("synth.v1.json").is_valid(&v), "a bph that is no number passed");
}
