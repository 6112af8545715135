//! `tickproof calibrate ...` end to end: WAV files of a known recorder error in, the JSON
//! contract and the profile files out, with their exit codes.
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;
use tickproof::synth::rng::Rng;

fn bin(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tickproof"));
    c.env("TICKPROOF_CONFIG_DIR", config);
    c
}

/// Runs and returns (exit code, stdout, stderr).
fn run(config: &Path, args: &[&str]) -> (i32, String, String) {
    let o = bin(config).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// A 16-bit mono WAV of `seconds` at `fs` whose samples are `f(true time)` plus noise, taken at
/// the instants of a recorder `ppm` fast.
fn wav(path: &Path, fs: u32, seconds: f64, ppm: f64, noise: f64, seed: u64, f: impl Fn(f64) -> f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: fs,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut rng = Rng::new(seed);
    let fs_true = fs as f64 * (1.0 + ppm * 1e-6);
    for n in 0..(seconds * fs as f64) as u64 {
        let x = f(n as f64 / fs_true) + noise * rng.gauss();
        w.write_sample((x.clamp(-1.0, 1.0) * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn tone_wav(dir: &Path, ppm: f64) -> PathBuf {
    let p = dir.join("generator-1k.wav");
    wav(&p, 22_050, 20.0, ppm, 0.01, 1, |t| 0.5 * (2.0 * PI * 1000.0 * t + 0.3).cos());
    p
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn tone_command_prints_the_contract_and_saves_a_profile() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("config");
    let file = tone_wav(d.path(), 80.0);
    let f = file.to_str().unwrap();
    let (code, out, err) =
        run(&cfg, &["calibrate", "tone", f, "--freq-hz", "1000", "--json", "--save", "Test Mic"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let (value, u95) =
        (v["recorder_ppm"]["value"].as_f64().unwrap(), v["recorder_ppm"]["u95"].as_f64().unwrap());
    assert!((value - 80.0).abs() <= u95 && u95 < 0.2, "{out}");
    assert_eq!(v["method"], "tone");
    let profile = PathBuf::from(v["saved"]["path"].as_str().unwrap());
    assert_eq!(profile, cfg.join("calibration").join("test-mic.toml"));
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(
        text.contains(v["recording_sha256"].as_str().unwrap()) && text.contains("method = \"tone\""),
        "{text}"
    );

    // Saving again does not overwrite without --force.
    let (code, _, err) = run(&cfg, &["calibrate", "tone", f, "--freq-hz", "1000", "--save", "Test Mic"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force") && err.lines().count() == 1, "{err}");
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), text);
    let (code, _, err) =
        run(&cfg, &["calibrate", "tone", f, "--freq-hz", "1000", "--save", "Test Mic", "--force"]);
    assert_eq!(code, 0, "{err}");

    // show / list / remove.
    let (code, out, _) = run(&cfg, &["calibrate", "show", "Test Mic", "--json"]);
    assert_eq!(code, 0);
    let s = json(&out);
    assert_eq!((s["device"].as_str(), s["stale"].as_bool()), (Some("Test Mic"), Some(false)));
    let (code, out, _) = run(&cfg, &["calibrate", "list"]);
    assert!(code == 0 && out.contains("Test Mic"), "{out}");
    let (code, _, _) = run(&cfg, &["calibrate", "remove", "Test Mic"]);
    assert_eq!(code, 0);
    assert!(!profile.exists());
    let (code, _, err) = run(&cfg, &["calibrate", "show", "Test Mic"]);
    assert!(code == 2 && err.contains("test-mic.toml"), "{err}");
}

#[test]
fn ticks_command_measures_a_1pps_recording() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("gps-1pps.wav");
    wav(&file, 22_050, 90.0, -40.0, 0.01, 2, |t| {
        let tau = (t - 0.25).rem_euclid(1.0);
        if tau < 0.01 {
            let on = 1.0 - (-tau / 0.0002).exp();
            0.6 * on * on * (-tau / 0.0015).exp() * (2.0 * PI * 3000.0 * tau).sin()
        } else {
            0.0
        }
    });
    let (code, out, err) = run(
        &d.path().join("c"),
        &["calibrate", "ticks", file.to_str().unwrap(), "--period-s", "1", "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let (value, u95) =
        (v["recorder_ppm"]["value"].as_f64().unwrap(), v["recorder_ppm"]["u95"].as_f64().unwrap());
    assert!((value + 40.0).abs() <= u95 && u95 < 1.0, "{out}");
    assert_eq!((v["method"].as_str(), v["saved"].is_null()), (Some("ticks"), true));
    assert!(v["points_used"].as_u64().unwrap() >= 85, "{out}");
}

#[test]
fn manual_entry_needs_a_note_and_a_sane_device_name() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path();
    let (code, out, err) = run(
        cfg,
        &[
            "calibrate",
            "manual",
            "--ppm",
            "-12.5",
            "--u95",
            "0.4",
            "--note",
            "lab cert 117",
            "--save",
            "mic",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["recorder_ppm"]["value"].as_f64(), Some(-12.5));
    for args in [
        &["--ppm", "1", "--u95", "0.4", "--note", " ", "--save", "mic2"][..],
        &["--ppm", "1", "--u95", "0.4", "--note", "x", "--save", "../../etc/x"],
        &["--ppm", "1e6", "--u95", "0.4", "--note", "x", "--save", "mic3"],
        &["--ppm", "1", "--u95", "0.4", "--save", "mic4"],
    ] {
        let mut a = vec!["calibrate", "manual"];
        a.extend_from_slice(args);
        let (code, _, err) = run(cfg, &a);
        assert_eq!(code, 2, "{args:?}: {err}");
        // Our own errors are one line; a missing flag is clap's usage message.
        assert!(err.lines().count() == 1 || err.starts_with("error: the following required"), "{err}");
    }
    assert_eq!(std::fs::read_dir(cfg.join("calibration")).unwrap().count(), 1, "nothing else written");
}

#[test]
fn bad_profile_file_is_named_by_show_and_list() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("calibration");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mic.toml"),
        "schema_version = 1\ndevice = \"mic\"\n[recorder_ppm]\nvalue = nan\nu95 = 1\n",
    )
    .unwrap();
    let (code, _, err) = run(d.path(), &["calibrate", "show", "mic"]);
    assert_eq!(code, 2);
    assert!(err.contains("mic.toml") && err.contains("field `") && err.lines().count() == 1, "{err}");
    let (code, out, _) = run(d.path(), &["calibrate", "list", "--json"]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert!(v["profiles"][0]["error"].as_str().unwrap().contains("mic.toml"), "{out}");
}

#[test]
fn recordings_without_a_reference_get_their_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let noise = d.path().join("noise.wav");
    wav(&noise, 22_050, 8.0, 0.0, 0.1, 3, |_| 0.0);
    let n = noise.to_str().unwrap();
    let (code, _, err) = run(d.path(), &["calibrate", "tone", n, "--freq-hz", "1000"]);
    assert!(code == 3 && err.contains("noise.wav"), "{code}: {err}");
    let (code, _, err) = run(d.path(), &["calibrate", "ticks", n, "--period-s", "1"]);
    assert!((code == 3 || code == 4) && err.contains("noise.wav"), "{code}: {err}");
    let short = d.path().join("short.wav");
    wav(&short, 22_050, 1.0, 0.0, 0.01, 4, |t| 0.5 * (2.0 * PI * 1000.0 * t).sin());
    let (code, _, err) = run(d.path(), &["calibrate", "tone", short.to_str().unwrap(), "--freq-hz", "1000"]);
    assert!(code == 4 && err.contains("short.wav"), "{code}: {err}");
    let junk = d.path().join("junk.wav");
    std::fs::write(&junk, b"not audio at all").unwrap();
    let (code, _, err) = run(d.path(), &["calibrate", "tone", junk.to_str().unwrap(), "--freq-hz", "1000"]);
    assert!(code == 2 && err.contains("junk.wav"), "{code}: {err}");
    let (code, _, _) = run(d.path(), &["calibrate", "tone", n, "--freq-hz", "5"]);
    assert_eq!(code, 2);
}
