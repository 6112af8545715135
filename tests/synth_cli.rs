//! `tickproof synth`: files, truth, refusals and exit codes.
use std::process::Command;

fn tickproof() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickproof"))
}

fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn synth_writes_the_wav_and_its_truth_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.wav");
    let args =
        ["synth", out.to_str().unwrap(), "--bph", "18000", "--duration-s", "2", "--beat-error-ms", "0.7"];
    let st = tickproof().args(args).arg("--json").output().unwrap();
    assert_eq!(st.status.code(), Some(0), "{}", String::from_utf8_lossy(&st.stderr));
    let mut truth: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(truth["kind"], "mechanical");
    // The output names its schema; the truth file beside the recording is the rest of it.
    assert_eq!(truth.as_object_mut().unwrap().remove("schema"), Some("tickproof.synth.v1".into()));
    assert_eq!(truth["bph"], 18000);
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("w.truth.json")).unwrap()).unwrap();
    assert_eq!(truth, on_disk);
    let r = hound::WavReader::open(&out).unwrap();
    assert_eq!((r.spec().sample_rate, r.spec().bits_per_sample, r.duration()), (48_000, 16, 96_000));
    let before = std::fs::read(&out).unwrap();

    // A second run must not replace the evidence.
    let st = tickproof().args(args).arg("--seed").arg("2").output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("w.wav") && err.contains("already exists") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // Unless asked to.
    let st = tickproof().args(args).args(["--seed", "2", "--force"]).output().unwrap();
    assert_eq!(st.status.code(), Some(0));
    assert_ne!(std::fs::read(&out).unwrap(), before);
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn synth_refuses_out_of_range_values_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad.wav");
    for bad in [
        &["--bph", "3000"][..],
        &["--rate-s-per-day", "-2000"],
        &["--beat-error-ms", "11"],
        &["--amplitude-deg", "90"],
        &["--lift-angle-deg", "80"],
        &["--sample-rate-hz", "8000"],
        &["--kind", "metronome", "--metronome-bpm", "360"],
        &["--kind", "silence", "--snr-db", "10"],
    ] {
        let st = tickproof().arg("synth").arg(&out).args(bad).output().unwrap();
        assert_eq!(st.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&st.stderr);
        assert!(err.contains("bad.wav") && err.trim().lines().count() == 1, "{bad:?}: {err}");
        assert!(!out.exists() && !dir.path().join("bad.truth.json").exists());
    }
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn synth_writes_every_format_and_negative_kind() {
    let dir = tempfile::tempdir().unwrap();
    for (fmt, bits) in [("u8", 8), ("i16", 16), ("i24", 24), ("i32", 32), ("f32", 32)] {
        let out = dir.path().join(format!("f-{fmt}.wav"));
        let st = tickproof()
            .arg("synth")
            .arg(&out)
            .args([
                "--format",
                fmt,
                "--duration-s",
                "0.5",
                "--channels",
                "2",
                "--snr-db",
                "20",
                "--decorrelated",
            ])
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(0), "{fmt}");
        let r = hound::WavReader::open(&out).unwrap();
        assert_eq!((r.spec().bits_per_sample, r.spec().channels), (bits, 2));
    }
    for kind in ["noise", "pink-noise", "speech", "music", "silence", "dither", "metronome", "knocks"] {
        let out = dir.path().join(format!("n-{kind}.wav"));
        let st =
            tickproof().arg("synth").arg(&out).args(["--kind", kind, "--duration-s", "1"]).output().unwrap();
        assert_eq!(st.status.code(), Some(0), "{kind}");
        let t: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("n-{kind}.truth.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!((t["kind"].as_str(), t["scenario"].as_str()), (Some("none"), Some(kind)));
        assert!(t["bph"].is_null());
    }
}

#[test]
fn synth_writes_every_sound_family_with_its_faults_into_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    for family in ["classic", "resonant", "unlock-loud", "contact", "echo"] {
        let out = dir.path().join(format!("{family}.wav"));
        let st = tickproof()
            .arg("synth")
            .arg(&out)
            .args(["--family", family, "--duration-s", "2", "--snr-db", "20", "--clip", "0.6"])
            .args(["--weak-stretch", "0.5,1.0,0.1", "--noise-gap", "1.2,1.5"])
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(0), "{family}: {}", String::from_utf8_lossy(&st.stderr));
        assert!(String::from_utf8_lossy(&st.stdout).contains(&format!("{family} sound")));
        let t: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("{family}.truth.json"))).unwrap(),
        )
        .unwrap();
        let p = &t["params"];
        // Classic is the default, left out so older truth files stay as they are.
        assert_eq!(p["family"].as_str().unwrap_or("classic"), family);
        assert_eq!(p["clip_level"], 0.6);
        assert_eq!(p["weak_stretch"], serde_json::json!({"start_s": 0.5, "end_s": 1.0, "level": 0.1}));
        assert_eq!(p["noise_gap"], serde_json::json!({"start_s": 1.2, "end_s": 1.5}));
        let r = hound::WavReader::open(&out).unwrap();
        assert_eq!(r.duration(), 96_000);
    }
    let st = tickproof().args(["synth", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&st.stdout);
    for flag in ["--family", "unlock-loud", "--clip", "--weak-stretch", "--noise-gap"] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn synth_refuses_bad_family_and_fault_flags_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bad.wav");
    for bad in [
        &["--clip", "0.05"][..],
        &["--clip", "1.5"],
        &["--weak-stretch", "1,2"],
        &["--weak-stretch", "a,b,c"],
        &["--weak-stretch", "3,2,0.1"],
        &["--weak-stretch", "1,30,0.1"],
        &["--weak-stretch", "1,2,1.5"],
        &["--noise-gap", "5"],
        &["--noise-gap", "2,1"],
        &["--noise-gap", "-1,1"],
        &["--kind", "noise", "--family", "echo"],
        &["--kind", "speech", "--noise-gap", "1,2"],
    ] {
        let st = tickproof().arg("synth").arg(&out).args(bad).output().unwrap();
        assert_eq!(st.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&st.stderr);
        assert!(err.contains("bad.wav") && err.trim().lines().count() == 1, "{bad:?}: {err}");
        assert!(!out.exists() && !dir.path().join("bad.truth.json").exists());
    }
    // An unknown family is a usage error too (clap's own message, listing the families).
    let st = tickproof().arg("synth").arg(&out).args(["--family", "bell"]).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("unlock-loud"));
    assert!(leftovers(dir.path()).is_empty());
}
