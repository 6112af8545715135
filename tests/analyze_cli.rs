//! The `analyze` command's contract: JSON fields, exit codes, one-line errors naming the file.
use std::process::Command;

fn tickproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).output().unwrap()
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav"
);

#[test]
fn json_has_every_contract_field_and_exit_0() {
    let o = tickproof(&["analyze", FIXTURE, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "mechanical");
    assert_eq!(v["bph"], 21600);
    for k in ["rate_s_per_day", "beat_error_ms", "amplitude_deg", "recorder_ppm"] {
        assert!(v[k]["value"].is_f64() && v[k]["u95"].is_f64(), "{k}: {}", v[k]);
    }
    for k in ["lift_angle_deg", "beats_used", "beats_rejected", "duration_s", "quality"] {
        assert!(v[k].is_number(), "{k}");
    }
    let rate = v["rate_s_per_day"]["value"].as_f64().unwrap();
    assert!((rate - 8.0).abs() < 0.1, "{rate}");
}

#[test]
fn no_watch_exits_3_with_a_reason() {
    let f = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/none-speech-48k-10s.wav");
    let o = tickproof(&["analyze", f, "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "none");
    assert!(v["reason"].as_str().unwrap().len() > 10);
    assert!(v["rate_s_per_day"].is_null());
}

#[test]
fn bad_input_is_one_line_naming_the_file_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.wav");
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"this is not audio at all").unwrap();
    for f in [&missing, &junk] {
        let o = tickproof(&["analyze", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(e.contains(f.file_name().unwrap().to_str().unwrap()), "{e}");
    }
    for bad in [["--bph", "1000"], ["--lift-angle", "0"], ["--kind", "sundial"]] {
        let o = tickproof(&["analyze", FIXTURE, bad[0], bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn text_output_states_figures_with_units_and_the_recorder() {
    let o = tickproof(&["analyze", FIXTURE, "--recorder-ppm", "12", "--recorder-ppm-u95", "0.5"]);
    let s = String::from_utf8_lossy(&o.stdout);
    for want in ["21600 bph", "s/day", "ms", "deg", "command line"] {
        assert!(s.contains(want), "missing {want} in\n{s}");
    }
}

#[test]
fn nan_and_infinite_samples_are_replaced_and_reported_in_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("damaged.wav");
    let mut r = hound::WavReader::open(FIXTURE).unwrap();
    let spec = hound::WavSpec { bits_per_sample: 32, sample_format: hound::SampleFormat::Float, ..r.spec() };
    let mut w = hound::WavWriter::create(&bad, spec).unwrap();
    for (i, s) in r.samples::<i16>().enumerate() {
        let x = s.unwrap() as f32 / 32_768.0;
        let x = match i % 50_000 {
            7 => f32::NAN,
            9 => f32::INFINITY,
            _ => x,
        };
        w.write_sample(x).unwrap();
    }
    w.finalize().unwrap();
    let o = tickproof(&["analyze", bad.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "mechanical");
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "samples_not_finite");
    let f = f.unwrap_or_else(|| panic!("no finding: {}", v["findings"]));
    // 20 s at 48 kHz: 960,000 samples, two of every 50,000 damaged.
    assert!(f["message"].as_str().unwrap().starts_with("40 samples"), "{f}");
}

#[test]
fn a_truncated_wav_is_analysed_as_far_as_it_goes_with_a_finding_naming_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(FIXTURE).unwrap();
    let cut = dir.path().join("cut.wav");
    let keep = bytes.len() * 3 / 4 + 1;
    std::fs::write(&cut, &bytes[..keep]).unwrap();
    let o = tickproof(&["analyze", cut.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "mechanical");
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "recording_truncated").cloned();
    let f = f.unwrap_or_else(|| panic!("no finding: {}", v["findings"]));
    assert!(f["message"].as_str().unwrap().contains(&format!("ends at byte {keep}")), "{f}");
    assert!((v["duration_s"].as_f64().unwrap() - 15.0).abs() < 0.1, "{}", v["duration_s"]);
}
