//! Calibration profiles: round trip, staleness, bad files, device names, atomic saves.
use std::path::Path;
use tickproof::calibration::profile::{host_name, MAX_PROFILE_BYTES};
use tickproof::calibration::store::read_profile;
use tickproof::calibration::{
    manual_profile, resolve_recorder_in, CalibrationError, DeviceName, Evidence, Method, Profile,
    ProfileStore, UtcTime, UNKNOWN_DEVICE,
};
use tickproof::measurement::Figure;

fn t(s: &str) -> UtcTime {
    UtcTime::parse_rfc3339(s).unwrap()
}

fn sample(device: &str) -> Profile {
    Profile {
        device: device.into(),
        device_identity: Some("usb 1235:8210 serial Y8XXXX".into()),
        recorder_ppm: Figure { value: 37.123456789012345, u95: 0.0123 },
        method: Method::Tone,
        reference: "signal generator 1000 Hz, GPSDO \"locked\"".into(),
        measured_at: t("2026-11-01T10:00:00Z"),
        valid_days: 30.0,
        host: "bench-pc".into(),
        note: "line 1\nline 2 with ünïcode".into(),
        evidence: Evidence {
            recording: Some("gen-1k.wav".into()),
            recording_sha256: Some("ab".repeat(32)),
            sample_rate_hz: Some(48_000),
            duration_s: Some(60.5),
            points_used: Some(6000),
            points_rejected: Some(3),
        },
    }
}

fn store() -> (tempfile::TempDir, ProfileStore) {
    let d = tempfile::tempdir().unwrap();
    let s = ProfileStore::new(d.path().join("calibration"));
    (d, s)
}

#[test]
fn profile_save_load_round_trip_is_exact() {
    let (_d, s) = store();
    let p = sample("Focusrite Scarlett 2i2 (hw:1,0)");
    let path = s.save(&p, false).unwrap();
    assert_eq!(path.file_name().unwrap(), "focusrite-scarlett-2i2-hw-1-0.toml");
    let name = DeviceName::parse(&p.device).unwrap();
    assert_eq!(s.load(&name).unwrap(), p);
    let mut minimal = sample(UNKNOWN_DEVICE);
    minimal.device_identity = None;
    minimal.evidence = Evidence::default();
    minimal.method = Method::Manual;
    s.save(&minimal, false).unwrap();
    assert_eq!(s.load(&DeviceName::parse(UNKNOWN_DEVICE).unwrap()).unwrap(), minimal);
}

#[test]
fn save_refuses_to_overwrite_without_force() {
    let (_d, s) = store();
    let p = sample("mic");
    let path = s.save(&p, false).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut q = p.clone();
    q.recorder_ppm.value = -5.0;
    let e = s.save(&q, false).unwrap_err();
    assert!(matches!(e, CalibrationError::Exists { .. }), "{e}");
    assert!(e.to_string().contains("--force") && e.to_string().contains("mic.toml"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the old profile was touched");
    // A different name that maps to the same file is refused too.
    let mut r = p.clone();
    r.device = "MIC".into();
    assert!(matches!(s.save(&r, false), Err(CalibrationError::Exists { .. })));
    s.save(&q, true).unwrap();
    assert_eq!(s.load(&DeviceName::parse("mic").unwrap()).unwrap().recorder_ppm.value, -5.0);
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(s.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn profile_is_stale_after_its_validity() {
    let mut p = sample("mic");
    assert!(!p.is_stale(t("2026-11-01T10:00:00Z")));
    assert!(!p.is_stale(t("2026-12-01T10:00:00Z")), "exactly 30 days is still valid");
    assert!(p.is_stale(t("2026-12-01T10:00:01Z")));
    assert!(p.is_stale(t("2026-10-30T00:00:00Z")), "dated two days in the future");
    p.valid_days = 7.0;
    assert!(p.is_stale(t("2026-11-09T00:00:00Z")));
    assert!((p.age_days(t("2026-11-02T10:00:00Z")) - 1.0).abs() < 1e-12);
}

#[test]
fn resolve_recorder_applies_profile_and_marks_it_stale() {
    let (_d, s) = store();
    s.save(&sample("mic"), false).unwrap();
    let fresh = resolve_recorder_in(Some(&s), Some("mic"), None, None, t("2026-11-10T00:00:00Z")).unwrap();
    assert_eq!(fresh.recorder_ppm, sample("mic").recorder_ppm);
    // Named with its date and the hash of its file, so a record says which calibration it used.
    let hash = tickproof::record::canonical::sha256_hex(
        &std::fs::read(s.path_for(&DeviceName::parse("mic").unwrap())).unwrap(),
    );
    assert_eq!(fresh.source, format!("profile mic (measured 2026-11-01T10:00:00Z, sha256 {})", &hash[..16]));
    assert!(!fresh.stale);
    let old = resolve_recorder_in(Some(&s), Some("mic"), None, None, t("2027-01-10T00:00:00Z")).unwrap();
    assert!(old.stale);
}

#[test]
fn explicit_recorder_ppm_wins_over_a_profile() {
    let (_d, s) = store();
    s.save(&sample("mic"), false).unwrap();
    let now = t("2026-11-10T00:00:00Z");
    let r = resolve_recorder_in(Some(&s), Some("mic"), Some(12.5), Some(0.3), now).unwrap();
    assert_eq!((r.recorder_ppm, r.source.as_str(), r.stale), (Figure::new(12.5, 0.3), "command line", false));
    let r = resolve_recorder_in(None, None, None, None, now).unwrap();
    assert!(r.is_uncalibrated());
    for (dev, ppm, u95) in [
        (None, None, Some(0.1)),
        (None, Some(f64::NAN), None),
        (None, Some(5000.0), None),
        (None, Some(1.0), Some(-1.0)),
        (Some("../mic"), Some(1.0), None),
    ] {
        let e = resolve_recorder_in(Some(&s), dev, ppm, u95, now).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    let e = resolve_recorder_in(Some(&s), Some("other"), None, None, now).unwrap_err();
    assert!(matches!(e, CalibrationError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("other.toml"), "{e}");
}

/// Writes `text` as `mic.toml` and returns the error reading it gives.
fn bad(text: &[u8]) -> (String, CalibrationError) {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("mic.toml");
    std::fs::write(&path, text).unwrap();
    let e = read_profile(&path).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&*path.to_string_lossy()), "message does not name the file: {msg}");
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
    (msg, e)
}

const GOOD: &str = r#"schema_version = 1
device = "mic"
method = "tone"
reference = "generator"
measured_at = "2026-11-01T10:00:00Z"
host = "pc"
note = ""

[recorder_ppm]
value = 12.5
u95 = 0.05
"#;

#[test]
fn the_documented_minimal_profile_reads() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("mic.toml");
    std::fs::write(&path, GOOD).unwrap();
    let p = read_profile(&path).unwrap();
    assert_eq!(p.valid_days, 30.0);
    assert_eq!(p.recorder_ppm, Figure::new(12.5, 0.05));
    // A native TOML datetime is accepted as well as a string.
    std::fs::write(&path, GOOD.replace("\"2026-11-01T10:00:00Z\"", "2026-11-01T12:00:00+02:00")).unwrap();
    assert_eq!(read_profile(&path).unwrap().measured_at, p.measured_at);
}

#[test]
fn bad_profile_files_name_the_file_and_field() {
    let cases: Vec<(String, &str)> = vec![
        (GOOD.replace("value = 12.5", "value = 12.5.5"), "line 10"),
        (GOOD.replace("method = \"tone\"\n", ""), "field `method`: missing"),
        (GOOD.replace("u95 = 0.05\n", ""), "field `recorder_ppm.u95`: missing"),
        (GOOD.replace("value = 12.5", "value = nan"), "field `recorder_ppm.value`"),
        (GOOD.replace("value = 12.5", "value = inf"), "field `recorder_ppm.value`"),
        (GOOD.replace("value = 12.5", "value = 5000.0"), "absurd"),
        (GOOD.replace("u95 = 0.05", "u95 = -0.05"), "field `recorder_ppm.u95`"),
        (GOOD.replace("u95 = 0.05", "u95 = 0"), "field `recorder_ppm.u95`"),
        (GOOD.replace("value = 12.5", "value = \"12.5\""), "field `recorder_ppm.value`: expected a number"),
        (GOOD.replace("host = \"pc\"", "host = \"pc\"\nhots = 1"), "field `hots`: unknown"),
        (GOOD.replace("method = \"tone\"", "method = \"guess\""), "field `method`"),
        (GOOD.replace("2026-11-01T10:00:00Z", "yesterday"), "field `measured_at`"),
        (GOOD.replace("schema_version = 1", "schema_version = 2"), "field `schema_version`"),
        (GOOD.replace("device = \"mic\"", "device = \"speaker\""), "field `device`"),
        (GOOD.replace("device = \"mic\"", "device = \"../mic\""), "field `device`"),
        (GOOD.replace("reference = \"generator\"", "reference = \"\""), "field `reference`"),
        (GOOD.replace("method = \"tone\"", "method = \"manual\""), "field `note`"),
        (GOOD.replace("note = \"\"", "note = \"\"\nhost = \"again\""), "line 8"),
        (GOOD.replace("host = \"pc\"", "host = \"pc\"\nvalid_days = 1e9"), "field `valid_days`"),
        (GOOD.replace("[recorder_ppm]", "recorder_ppm = 3\n[x]"), "field `"),
        (format!("{GOOD}[evidence]\nsample_rate_hz = 0\n"), "field `evidence.sample_rate_hz`"),
        (format!("{GOOD}[evidence]\nsample_rate_hz = 4000000000\n"), "field `evidence.sample_rate_hz`"),
    ];
    for (text, want) in &cases {
        let (msg, e) = bad(text.as_bytes());
        assert!(matches!(e, CalibrationError::BadProfile { .. }), "{msg}");
        assert!(msg.contains(want), "wanted {want:?} in: {msg}");
    }
}

#[test]
fn oversized_or_binary_profile_files_are_refused_unparsed() {
    let mut big = GOOD.as_bytes().to_vec();
    big.extend(std::iter::repeat_n(b'#', MAX_PROFILE_BYTES as usize));
    let (msg, _) = bad(&big);
    assert!(msg.contains("larger than"), "{msg}");
    let (msg, _) = bad(&[0xff, 0xfe, 0x00, 0x41]);
    assert!(msg.contains("UTF-8"), "{msg}");
    let (msg, _) = bad(b"");
    assert!(msg.contains("missing"), "{msg}");
}

#[test]
fn device_names_with_path_tricks_are_refused() {
    let long = "x".repeat(129);
    for name in [
        "",
        "../etc/passwd",
        "a/b",
        "a\\b",
        "..",
        ".",
        "mic..",
        "tab\there",
        "nul\0",
        " lead",
        "trail ",
        "uncalibrated",
        "Command Line",
        &long,
    ] {
        let e = DeviceName::parse(name).unwrap_err();
        assert!(matches!(e, CalibrationError::InvalidDeviceName { .. }), "{name:?}");
        assert!(!e.to_string().contains('\n') && !e.to_string().contains('\0'), "{e}");
    }
}

#[test]
fn device_slugs_are_safe_file_stems() {
    for (name, want) in [
        ("Focusrite Scarlett 2i2 (hw:1,0)", Some("focusrite-scarlett-2i2-hw-1-0")),
        ("unknown-device", Some("unknown-device")),
        ("USB_Audio.CODEC", Some("usb-audio-codec")),
        ("麦克风", None),
        ("-.-", None),
        (&"Ab".repeat(64), None),
    ] {
        let slug = DeviceName::parse(name).unwrap().slug();
        if let Some(w) = want {
            assert_eq!(slug, w);
        }
        assert!(!slug.is_empty() && slug.len() <= 64, "{slug}");
        assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{slug}");
        assert!(!slug.starts_with('-') && !slug.ends_with('-'), "{slug}");
    }
    assert_ne!(DeviceName::parse("麦克风").unwrap().slug(), DeviceName::parse("话筒").unwrap().slug());
}

#[test]
fn list_shows_bad_files_without_hiding_good_ones() {
    let (_d, s) = store();
    assert!(s.list().unwrap().is_empty(), "an absent store is empty");
    s.save(&sample("mic"), false).unwrap();
    s.save(&sample("line in"), false).unwrap();
    std::fs::write(s.dir().join("broken.toml"), "schema_version = [").unwrap();
    std::fs::write(s.dir().join("README.txt"), "not a profile").unwrap();
    let l = s.list().unwrap();
    assert_eq!(l.len(), 3);
    assert_eq!(l.iter().filter(|p| p.profile.is_ok()).count(), 2);
    assert!(l[0].path.ends_with("broken.toml") && l[0].profile.is_err());
}

#[test]
fn remove_deletes_the_profile_once() {
    let (_d, s) = store();
    let name = DeviceName::parse("mic").unwrap();
    s.save(&sample("mic"), false).unwrap();
    s.remove(&name).unwrap();
    assert!(matches!(s.load(&name), Err(CalibrationError::NotFound { .. })));
    assert!(matches!(s.remove(&name), Err(CalibrationError::NotFound { .. })));
}

#[test]
fn manual_entry_requires_a_note_and_sane_figures() {
    let name = DeviceName::parse("mic").unwrap();
    let now = t("2026-11-21T12:00:00Z");
    let p = manual_profile(&name, 21.0, 1.5, "", "from the lab certificate 2026-117", now).unwrap();
    assert_eq!((p.method, p.recorder_ppm, p.measured_at), (Method::Manual, Figure::new(21.0, 1.5), now));
    assert_eq!(p.host, host_name());
    assert!(manual_profile(&name, 21.0, 1.5, "", "  ", now).unwrap_err().to_string().contains("--note"));
    assert!(manual_profile(&name, 2e4, 1.5, "", "x", now).unwrap_err().to_string().contains("--ppm"));
    assert!(manual_profile(&name, 2.0, 0.0, "", "x", now).unwrap_err().to_string().contains("--u95"));
    assert!(manual_profile(&name, f64::NAN, 1.0, "", "x", now).is_err());
}

#[test]
fn repository_examples_are_valid_profiles() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("calibration").join("examples");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let p = read_profile(&path).unwrap_or_else(|e| panic!("{e}"));
            // Written back and read again, it is the same profile.
            assert_eq!(Profile::from_toml(&p.to_toml(), &path).unwrap(), p);
            n += 1;
        }
    }
    assert!(n >= 3);
    let unknown = read_profile(&dir.join("unknown-device.toml")).unwrap();
    assert_eq!((unknown.device.as_str(), unknown.recorder_ppm.value), (UNKNOWN_DEVICE, 0.0));
}

#[test]
fn mutated_profiles_never_panic_and_errors_stay_one_line() {
    let mut rng = tickproof::synth::rng::Rng::new(4242);
    let base = GOOD.as_bytes();
    let alphabet = b"=[]\"'.,#\n\\ 0123456789abcdefnaiuxyz-+:TZ\x00\xff";
    let path = Path::new("fuzz/mic.toml");
    for _ in 0..3000 {
        let mut b = base.to_vec();
        for _ in 0..1 + (rng.uniform() * 6.0) as usize {
            let i = (rng.uniform() * b.len() as f64) as usize % b.len().max(1);
            match (rng.uniform() * 3.0) as u32 {
                0 => b[i] = alphabet[(rng.uniform() * alphabet.len() as f64) as usize % alphabet.len()],
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, alphabet[(rng.uniform() * alphabet.len() as f64) as usize % alphabet.len()]),
            }
        }
        if let Ok(text) = std::str::from_utf8(&b) {
            match Profile::from_toml(text, path) {
                Ok(p) => assert!(p.recorder_ppm.value.is_finite() && p.recorder_ppm.u95 > 0.0),
                Err(e) => {
                    let m = e.to_string();
                    assert!(m.starts_with("fuzz/mic.toml") && !m.contains('\n'), "{m}");
                }
            }
        }
    }
}

#[test]
fn names_that_differ_only_in_case_or_spacing_do_not_share_a_profile() {
    let (_d, s) = store();
    s.save(&sample("Bench Mic"), false).unwrap();
    let other = DeviceName::parse("bench  mic").unwrap();
    assert_eq!(s.path_for(&other), s.path_for(&DeviceName::parse("Bench Mic").unwrap()));
    // Neither read nor removed through the other name; saving under it does not replace it.
    let e = s.load(&other).unwrap_err();
    assert!(matches!(e, CalibrationError::OtherDevice { .. }), "{e}");
    assert!(e.to_string().contains("\"Bench Mic\""), "{e}");
    assert!(matches!(s.remove(&other), Err(CalibrationError::OtherDevice { .. })));
    assert!(matches!(s.save(&sample("bench  mic"), false), Err(CalibrationError::Exists { .. })));
    assert_eq!(s.load(&DeviceName::parse("Bench Mic").unwrap()).unwrap().device, "Bench Mic");
    s.remove(&DeviceName::parse("Bench Mic").unwrap()).unwrap();
}
