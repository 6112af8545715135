//! A live claim calibrates itself (issue 12): the frames a capture delivered against a
//! synchronised host clock bound the recorder better than the assumed ±100 ppm. Driven by a
//! replay with a synthetic host clock (`--replay-host-clock-ppm`), so no sound card is needed;
//! a replay's real clock is never used.
//!
//! The replay: a watch gaining 21 s/day heard through a recorder 12 ppm fast (it reads
//! +19.96 s/day), 270 s, the whole of a 6-position protocol of 5 s settling and 40 s measuring.
mod cli_home;
use cli_home::{claim_new, json_ok, run};
use std::path::{Path, PathBuf};
use tickproof::synth::{write_wav, MechanicalParams, SampleFormat, Synth};

const FIXTURE: &str = "fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav";

fn replay(dir: &Path) -> PathBuf {
    replay_of(dir, 270.0, "protocol.wav")
}

/// The same watch through the same recorder, `seconds` long, as `dir/name`.
fn replay_of(dir: &Path, seconds: f64, name: &str) -> PathBuf {
    let p = MechanicalParams {
        bph: 28800,
        rate_s_per_day: 21.0,
        duration_s: seconds,
        sample_rate_hz: 22_050,
        snr_db: Some(25.0),
        recorder_ppm: 12.0,
        seed: 5,
        ..Default::default()
    };
    let path = dir.join(name);
    let mut s = Synth::mechanical(&p).unwrap();
    write_wav(&mut s, SampleFormat::I16, std::fs::File::create(&path).unwrap()).unwrap();
    path
}

/// bultime-bg's terms with all six positions, 5 s settling and 40 s measuring each.
fn six_positions(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string("policies/bultime-bg.toml").unwrap();
    let text = text
        .replace(
            r#"positions = ["DU", "DD", "CD", "CL", "CU"]"#,
            r#"positions = ["DU", "DD", "CD", "CL", "CU", "CR"]"#,
        )
        .replace("settling_s = 30.0", "settling_s = 5.0")
        .replace("seconds_per_position = 60.0", "seconds_per_position = 40.0");
    assert!(text.contains(r#""CU", "CR"]"#) && text.contains("settling_s = 5.0"), "policy edited");
    let path = dir.join("six.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The arguments of `claim measure ID --live` in `store`, replaying `wav` as fast as it goes.
fn live_args<'a>(store: &'a str, id: &'a str, wav: &'a Path) -> Vec<&'a str> {
    let wav = wav.to_str().unwrap();
    vec![
        "--store",
        store,
        "claim",
        "measure",
        id,
        "--live",
        "--speed",
        "0",
        "--unsigned",
        "--json",
        "--replay",
        wav,
    ]
}

/// `claim measure --live` of a new claim through the replay with `extra` options: the run.
fn measure_live(home: &Path, extra: &[&str]) -> std::process::Output {
    let store = home.join("store");
    let store = store.to_str().unwrap();
    let id = json_ok(&claim_new(home, store, "HC1"))["id"].as_str().unwrap().to_string();
    let (wav, policy) = (replay(home), six_positions(home));
    let mut args = live_args(store, &id, &wav);
    args.extend(["--policy", policy.to_str().unwrap()]);
    args.extend_from_slice(extra);
    run(home, &args)
}

/// Fails with every error when the sealed record `v` breaks `schema/claim-record.v1.json`.
fn follows_the_record_schema(v: &serde_json::Value) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/claim-record.v1.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let val = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = val.iter_errors(v).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_six_position_live_claim_against_a_synchronised_host_clock_is_calibrated_by_it_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let o = measure_live(home.path(), &["--replay-host-clock-ppm", "12"]);
    let v = json_ok(&o);
    follows_the_record_schema(&v);
    let rec = &v["record"];
    assert_eq!(rec["positions"].as_array().unwrap().len(), 6);
    // The record: the host clock, its figure, and why it was used.
    let cal = &rec["calibration"];
    let name = cal["profile"].as_str().unwrap();
    assert!(name.starts_with("host clock: the synchronised host clock of a replay"), "{cal:#}");
    assert!(name.contains("over 270 s") && name.contains("marked synchronised"), "{name}");
    let ppm = cal["recorder_ppm"]["value"].as_f64().unwrap();
    let u95 = cal["recorder_ppm"]["u95"].as_f64().unwrap();
    assert!((ppm - 12.0).abs() < 1.0 && (ppm - 12.0).abs() <= u95 && u95 < 50.0, "{cal:#}");
    let reason = cal["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the host clock (") && reason.contains("better than the assumed ±100 ppm"),
        "{reason}"
    );
    assert!(stderr(&o).contains("recorder calibration: the host clock ("), "{}", stderr(&o));
    // The verdict uses it and says so.
    let term = &rec["verdict"]["detail"]["recorder"];
    assert_eq!(term["source"], "host_clock", "{term:#}");
    assert_eq!(term["correction_ppm"]["value"].as_f64(), Some(ppm));
    let reasons = rec["verdict"]["reasons"].to_string();
    let said = "The recorder was calibrated against the synchronised host clock of a replay";
    assert!(reasons.contains(said) && reasons.contains(&format!("{ppm:+.3} ± {u95:.3} ppm")), "{reasons}");
    // Every position is corrected by it: +19.96 read, +21 true; decided against ±15 s/day.
    for p in rec["positions"].as_array().unwrap() {
        let m = &p["measurement"];
        assert_eq!(m["calibration"].as_str(), Some(name));
        let rate = m["rate_s_per_day"]["value"].as_f64().unwrap();
        assert!((rate - 21.0).abs() < 0.2, "{rate}");
    }
    let avg = rec["verdict"]["detail"]["average_rate_s_per_day"]["value"].as_f64().unwrap();
    assert!((avg - 21.0).abs() < 0.2, "average {avg}");
    assert_eq!(rec["verdict"]["verdict"], "defect", "{:#}", rec["verdict"]);
}

#[test]
fn an_unsynchronised_host_clock_is_not_used_and_the_record_says_why() {
    let home = tempfile::tempdir().unwrap();
    let o =
        measure_live(home.path(), &["--replay-host-clock-ppm", "12", "--replay-host-clock-unsynchronised"]);
    let v = json_ok(&o);
    follows_the_record_schema(&v);
    let cal = &v["record"]["calibration"];
    assert_eq!(cal["profile"], "uncalibrated", "{cal:#}");
    assert_eq!(cal["recorder_ppm"]["u95"].as_f64(), Some(100.0), "{cal:#}");
    let reason = cal["reason"].as_str().unwrap();
    assert!(reason.contains("the assumed ±100 ppm"), "{reason}");
    assert!(
        reason.contains("the host clock was not used") && reason.contains("is not synchronised"),
        "{reason}"
    );
    assert_eq!(v["record"]["verdict"]["detail"]["recorder"]["source"], "assumed");
    // Uncorrected (+19.96 s/day) with ±8.64 s/day assumed: not decided.
    assert_eq!(v["record"]["verdict"]["verdict"], "inconclusive");
}

#[test]
fn a_replay_without_a_synthetic_clock_is_never_calibrated_from_the_real_clock() {
    let home = tempfile::tempdir().unwrap();
    let v = json_ok(&measure_live(home.path(), &[]));
    let cal = &v["record"]["calibration"];
    assert_eq!(cal["profile"], "uncalibrated", "{cal:#}");
    assert!(cal["reason"].as_str().unwrap().contains("never used to calibrate one"), "{cal:#}");
    // Even a replay at real speed, long enough for the host-clock fit, is not calibrated.
    let o =
        run(home.path(), &["listen", "--replay", FIXTURE, "--speed", "1", "--duration-s", "10", "--no-tui"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line =
        stderr(&o).lines().find(|l| l.contains("recorder calibration:")).unwrap_or_default().to_string();
    assert!(line.contains("no calibration: the assumed ±100 ppm"), "{}", stderr(&o));
    assert!(line.contains("a replayed recording was not captured against this computer's clock"), "{line}");
}

#[test]
fn a_synthetic_clock_beyond_any_recorder_is_bad_input_and_records_nothing() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("x.wav");
    let o = run(
        home.path(),
        &["listen", "--replay", FIXTURE, "--replay-host-clock-ppm", "1e9", "--out", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("--replay-host-clock-ppm 1000000000 is not a number in"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists(), "nothing recorded");
}

#[test]
fn listen_protocol_json_ends_with_the_calibration_its_figures_should_use() {
    let home = tempfile::tempdir().unwrap();
    let (wav, policy) = (replay(home.path()), six_positions(home.path()));
    let out = home.path().join("run");
    let o = run(
        home.path(),
        &[
            "listen",
            "--protocol",
            policy.to_str().unwrap(),
            "--replay",
            wav.to_str().unwrap(),
            "--speed",
            "0",
            "--json",
            "--out-dir",
            out.to_str().unwrap(),
            "--replay-host-clock-ppm",
            "-30",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "complete");
    let r = &last["recorder"];
    assert!(r["source"].as_str().unwrap().starts_with("host clock: "), "{r:#}");
    // The synthetic clock models -30 ppm against a recording made 12 ppm fast: it reads -30.
    let ppm = r["correction_ppm"]["value"].as_f64().unwrap();
    assert!((ppm + 30.0).abs() < 1.0, "{r:#}");
    // Every position's rate is stated with that calibration (live readings made uncorrected).
    let ppm_u95 = r["correction_ppm"]["u95"].as_f64().unwrap();
    corrected_with(&last, ppm, ppm_u95);
}

/// Each position of a `complete` line states its live rate corrected with `ppm`, its u95 with
/// the recorder term (`ppm_u95`) and without it.
fn corrected_with(complete: &serde_json::Value, ppm: f64, ppm_u95: f64) {
    let files = complete["files"].as_array().unwrap();
    assert_eq!(files.len(), 6, "{complete:#}");
    for f in files {
        let live = f["live_rate_s_per_day"]["value"].as_f64().unwrap();
        let rate = &f["rate_s_per_day"];
        let want = tickproof::measurement::correct_rate_s_per_day(live, ppm);
        assert!((rate["value"].as_f64().unwrap() - want).abs() < 1e-9, "{f:#}");
        assert!((want - live).abs() > 0.5, "the correction shows: {f:#}");
        let without = f["rate_u95_without_recorder_s_per_day"].as_f64().unwrap();
        let term = ppm_u95 * 0.0864 * (1.0 + want / 86400.0);
        assert!((rate["u95"].as_f64().unwrap() - without.hypot(term)).abs() < 1e-9, "{f:#}");
    }
}

/// Issue 12: a guided protocol quit halfway and resumed calibrates its recorder from the
/// host-clock stamps of both runs (one ppm, an offset per run), not from the last run's only.
#[test]
fn a_protocol_stopped_and_resumed_pools_the_host_clock_stamps_of_both_runs() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // 150 s of audio: DU, DD, CD complete (3 x 45 s), CL cut short; then the rest (135 s).
    let (wav, policy) = (replay_of(h, 150.0, "short.wav"), six_positions(h));
    let out = h.join("run");
    let mut args = vec!["listen", "--protocol", policy.to_str().unwrap(), "--replay", wav.to_str().unwrap()];
    args.extend([
        "--speed",
        "0",
        "--json",
        "--out-dir",
        out.to_str().unwrap(),
        "--replay-host-clock-ppm",
        "12",
    ]);
    let first = run(h, &args);
    assert_eq!(first.status.code(), Some(4), "{}", stderr(&first));
    assert!(stderr(&first).contains("3 of 6 positions recorded"), "{}", stderr(&first));
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("host-clock.json")).unwrap()).unwrap();
    assert_eq!(kept["captures"].as_array().unwrap().len(), 1, "the first run's stamps are kept");
    args.push("--resume");
    let second = run(h, &args);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(stderr(&second).contains("pooled with those of 1 earlier run"), "{}", stderr(&second));
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&second.stdout).lines().last().unwrap()).unwrap();
    let r = &last["recorder"];
    let source = r["source"].as_str().unwrap();
    assert!(source.starts_with("host clock: ") && source.contains(" s in 2 captures"), "{r:#}");
    // Recorder time of both runs: about 150 s and 135 s.
    let over: f64 = source.split("over ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((275.0..=295.0).contains(&over), "{source}");
    let (ppm, u95) =
        (r["correction_ppm"]["value"].as_f64().unwrap(), r["correction_ppm"]["u95"].as_f64().unwrap());
    assert!((ppm - 12.0).abs() <= u95 && u95 < 100.0, "{r:#}");
    // The positions of both runs are stated with it: the watch's true +21 s/day.
    corrected_with(&last, ppm, u95);
    for f in last["files"].as_array().unwrap() {
        let rate = f["rate_s_per_day"]["value"].as_f64().unwrap();
        assert!((rate - 21.0).abs() < 0.5, "{f:#}");
    }
}

#[test]
fn claim_verify_reapplies_the_host_clock_calibration_it_recorded() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let store = h.join("store");
    let store = store.to_str().unwrap();
    let id = json_ok(&claim_new(h, store, "HC2"))["id"].as_str().unwrap().to_string();
    let wav = replay(h);
    let mut args = live_args(store, &id, &wav);
    args.extend(["--replay-host-clock-ppm", "12"]);
    args.extend(["--settle-s", "5", "--seconds-per-position", "40"]);
    let v = json_ok(&run(h, &args));
    assert!(v["record"]["calibration"]["profile"].as_str().unwrap().starts_with("host clock: "), "{v:#}");
    let o = run(h, &["--store", store, "claim", "verify", &id]);
    assert_eq!(o.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
}

/// The same through `claim measure --live`: the try that completes the protocol records the
/// calibration from both tries' stamps, and the claim verifies.
#[test]
fn a_live_claim_stopped_and_measured_again_records_the_host_clock_of_both_tries() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let store = h.join("store");
    let store = store.to_str().unwrap();
    let id = json_ok(&claim_new(h, store, "HC3"))["id"].as_str().unwrap().to_string();
    let (wav, policy) = (replay_of(h, 150.0, "short.wav"), six_positions(h));
    let mut args = live_args(store, &id, &wav);
    args.extend(["--policy", policy.to_str().unwrap()]);
    args.extend(["--replay-host-clock-ppm", "12"]);
    let first = run(h, &args);
    assert_eq!(first.status.code(), Some(4), "{}", stderr(&first));
    let v = json_ok(&run(h, &args));
    follows_the_record_schema(&v);
    let cal = &v["record"]["calibration"];
    let name = cal["profile"].as_str().unwrap();
    assert!(name.starts_with("host clock: ") && name.contains(" s in 2 captures"), "{cal:#}");
    let ppm = &cal["recorder_ppm"];
    let (value, u95) = (ppm["value"].as_f64().unwrap(), ppm["u95"].as_f64().unwrap());
    assert!((value - 12.0).abs() <= u95 && u95 < 100.0, "{cal:#}");
    assert_eq!(v["record"]["verdict"]["detail"]["recorder"]["source"], "host_clock");
    let o = run(h, &["--store", store, "claim", "verify", &id]);
    assert_eq!(o.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
}
