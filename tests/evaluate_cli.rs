//! `tickproof evaluate`: a folder of recordings with truth, the quick sweep, and the refusals.
use std::path::Path;
use std::process::{Command, Output};

fn tickproof() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickproof"))
}

fn synth(dir: &Path, name: &str, args: &[&str]) {
    let out = dir.join(name);
    let st = tickproof().arg("synth").arg(&out).args(args).output().unwrap();
    assert_eq!(st.status.code(), Some(0), "{}", String::from_utf8_lossy(&st.stderr));
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON object")
}

/// The one-line error of a refused run (exit 2).
fn refused(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(o.stdout.is_empty(), "no half-written report");
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

#[test]
fn a_folder_with_truth_is_measured_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--snr-db", "25", "--duration-s", "20"];
    synth(
        dir.path(),
        "a.wav",
        &[&["--bph", "21600", "--rate-s-per-day", "-35", "--beat-error-ms", "1.2"][..], &common].concat(),
    );
    synth(
        dir.path(),
        "b.wav",
        &[
            &[
                "--bph",
                "36000",
                "--rate-s-per-day",
                "12",
                "--sample-rate-hz",
                "96000",
                "--recorder-ppm",
                "60",
            ][..],
            &common,
        ]
        .concat(),
    );
    synth(dir.path(), "c.wav", &["--kind", "speech", "--duration-s", "20"]);
    let r = json(&tickproof().arg("evaluate").arg(dir.path()).arg("--json").output().unwrap());
    assert_eq!(r["recordings"], 3);
    assert_eq!(r["all"]["cases"], 2);
    assert_eq!(r["all"]["bph_correct_pct"], 100.0);
    let bphs: Vec<&str> =
        r["by_bph"].as_array().unwrap().iter().map(|x| x["group"].as_str().unwrap()).collect();
    assert_eq!(bphs, ["21600", "36000"]);
    // The targets at SNR >= 10 dB: the recorder clock of b.wav is known from its truth.
    assert!(r["all"]["rate_s_per_day"]["max_abs"].as_f64().unwrap() < 0.1, "{}", r["all"]);
    assert!(r["all"]["beat_error_ms"]["max_abs"].as_f64().unwrap() < 0.03, "{}", r["all"]);
    assert!(r["all"]["amplitude_deg"]["max_abs"].as_f64().unwrap() < 2.0, "{}", r["all"]);
    let neg = r["negatives"].as_array().unwrap();
    assert_eq!((neg[0]["scenario"].as_str(), neg[0]["rejected_pct"].as_f64()), (Some("speech"), Some(100.0)));
    assert!(r["failures"].as_array().unwrap().is_empty());
    assert!(r["x_real_time"].as_f64().unwrap() > 0.0);

    // The human form names the same groups.
    let o = tickproof().arg("evaluate").arg(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    for s in ["21600", "36000", "speech", "x real time"] {
        assert!(text.contains(s), "{s} missing from:\n{text}");
    }
}

#[test]
fn the_quick_sweep_covers_every_rate_band_and_negative() {
    let r = json(&tickproof().args(["evaluate", "--sweep", "--quick", "--json"]).output().unwrap());
    assert_eq!(r["seed"], 1);
    assert_eq!(r["recordings"], 11 * 3 + 8);
    assert_eq!(r["by_bph"].as_array().unwrap().len(), 11);
    let bands: Vec<&str> =
        r["by_snr"].as_array().unwrap().iter().map(|x| x["group"].as_str().unwrap()).collect();
    assert_eq!(bands, ["6-10 dB", "10-20 dB", "20-40 dB"]);
    assert_eq!(r["snr_10_db_and_up"]["cases"], 22);
    // Targets that hold for every recording at SNR >= 10 dB: the bph, and no-watch rejected.
    assert_eq!(r["snr_10_db_and_up"]["bph_correct_pct"], 100.0, "{}", r["failures"]);
    let all_neg = r["negatives"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((all_neg["scenario"].as_str(), all_neg["cases"].as_u64()), (Some("all"), Some(8)));
    assert_eq!(all_neg["rejected_pct"], 100.0, "{}", r["failures"]);
    // Same seed, same figures (speed aside).
    let again = json(
        &tickproof().args(["evaluate", "--sweep", "--quick", "--json", "--threads", "1"]).output().unwrap(),
    );
    assert_eq!(r["all"]["rate_s_per_day"], again["all"]["rate_s_per_day"]);
    assert_eq!(r["by_bph"][4]["amplitude_deg"], again["by_bph"][4]["amplitude_deg"]);
}

#[test]
fn bad_folders_and_truth_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No folder at all.
    let missing = d.join("nope");
    let e = refused(&tickproof().arg("evaluate").arg(&missing).output().unwrap());
    assert!(e.contains("nope") && e.lines().count() == 1, "{e}");
    // A folder without recordings.
    let e = refused(&tickproof().arg("evaluate").arg(d).output().unwrap());
    assert!(e.contains("no recordings") && e.lines().count() == 1, "{e}");
    // A recording without its truth.
    synth(d, "w.wav", &["--duration-s", "3"]);
    std::fs::remove_file(d.join("w.truth.json")).unwrap();
    let e = refused(&tickproof().arg("evaluate").arg(d).output().unwrap());
    assert!(e.contains("w.truth.json") && e.contains("missing") && e.lines().count() == 1, "{e}");
    // A truth that is not JSON, one that is JSON but not a truth, one with a NaN-like value.
    for (text, what) in
        [("{ not json", "bad truth"), ("{\"kind\": \"mechanical\"}", "bad truth"), ("[1, 2, 3]", "bad truth")]
    {
        std::fs::write(d.join("w.truth.json"), text).unwrap();
        let e = refused(&tickproof().arg("evaluate").arg(d).output().unwrap());
        assert!(e.contains("w.truth.json") && e.contains(what) && e.lines().count() == 1, "{text}: {e}");
    }
    // An oversized truth file is not read whole.
    std::fs::write(d.join("w.truth.json"), vec![b' '; 2 << 20]).unwrap();
    let e = refused(&tickproof().arg("evaluate").arg(d).output().unwrap());
    assert!(e.contains("w.truth.json") && e.contains("larger"), "{e}");
    // A broken recording with a good truth names the recording.
    synth(d, "v.wav", &["--duration-s", "3"]);
    std::fs::copy(d.join("v.truth.json"), d.join("w.truth.json")).unwrap();
    std::fs::write(d.join("w.wav"), b"RIFF\x04\x00\x00\x00WAVEjunk").unwrap();
    let e = refused(&tickproof().arg("evaluate").arg(d).output().unwrap());
    assert!(e.contains("w.wav") && e.lines().count() == 1, "{e}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["evaluate"][..],
        &["evaluate", "--sweep", "some-dir"],
        &["evaluate", "--quick"],
        &["evaluate", "--sweep", "--seeds", "0"],
        &["evaluate", "--sweep", "--quick", "--seeds", "3"],
    ] {
        let o = tickproof().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}
