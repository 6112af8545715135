//! From synthesised position recordings to a warranty verdict, through the `judge` command.
use std::process::Command;
use tickproof::synth::{write_wav, MechanicalParams, SampleFormat, Synth};

/// Writes the policy's five positions (60 s each) of a watch gaining `rate` s/day.
fn positions(dir: &std::path::Path, rate: f64) -> Vec<String> {
    ["DU", "DD", "CD", "CL", "CU"]
        .iter()
        .enumerate()
        .map(|(i, pos)| {
            let p = MechanicalParams {
                bph: 28800,
                // Positional differences of a few s/day, as real watches show.
                rate_s_per_day: rate + [0.0, 1.5, -2.0, -1.0, 2.5][i],
                amplitude_deg: [280.0, 275.0, 245.0, 250.0, 240.0][i],
                duration_s: 62.0,
                sample_rate_hz: 22_050,
                snr_db: Some(20.0),
                seed: 40 + i as u64,
                ..Default::default()
            };
            let path = dir.join(format!("{pos}.wav"));
            let mut s = Synth::mechanical(&p).unwrap();
            write_wav(&mut s, SampleFormat::I16, std::fs::File::create(&path).unwrap()).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect()
}

fn judge(files: &[String], extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["judge", "--policy", "bultime-bg", "--movement", "mechanical", "--json"];
    args.extend_from_slice(extra);
    args.extend(files.iter().map(|s| s.as_str()));
    let o = Command::new(env!("CARGO_BIN_EXE_tickproof")).args(&args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_watch_gaining_40_s_a_day_is_a_defect_and_one_gaining_3_is_within_spec() {
    let dir = tempfile::tempdir().unwrap();
    let calibrated = ["--positions", "DU,DD,CD,CL,CU", "--recorder-ppm", "0", "--recorder-ppm-u95", "1"];
    let fast = positions(dir.path(), 40.0);
    let v = judge(&fast, &calibrated);
    assert_eq!(v["verdict"], "defect", "{v:#}");
    let avg = v["average_rate_s_per_day"]["value"].as_f64().unwrap();
    assert!((avg - 40.2).abs() < 0.2, "average {avg}");
    let sub = dir.path().join("ok");
    std::fs::create_dir(&sub).unwrap();
    let good = positions(&sub, 3.0);
    let v = judge(&good, &calibrated);
    assert_eq!(v["verdict"], "within_spec", "{v:#}");
    assert_eq!(v["rule"], "guarded_acceptance");
    // Uncalibrated, +-100 ppm (8.64 s/day) is assumed: still within for +3 s/day, but +10 s/day
    // can no longer be told from +15.
    let v = judge(&good, &["--positions", "DU,DD,CD,CL,CU"]);
    assert_eq!(v["verdict"], "within_spec", "{v:#}");
    let sub = dir.path().join("near");
    std::fs::create_dir(&sub).unwrap();
    let near = positions(&sub, 10.0);
    let v = judge(&near, &["--positions", "DU,DD,CD,CL,CU"]);
    assert_eq!(v["verdict"], "inconclusive", "{v:#}");
    let v = judge(&near, &calibrated);
    assert_eq!(v["verdict"], "within_spec", "{v:#}");
}

/// A quartz watch at `rate` s/month, 120 s with a 60 s inhibition, through a recorder 12 ppm
/// fast; the path of the recording.
fn quartz(dir: &std::path::Path, rate: f64) -> String {
    let path = dir.join(format!("quartz{rate}.wav"));
    let o = Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(["synth", "--kind", "quartz", "--duration-s", "120", "--inhibition-period-s", "60"])
        .args(["--inhibition-ppm", "25", "--recorder-ppm", "12", "--seed", "3", "--rate-s-per-month"])
        .arg(rate.to_string())
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    path.to_str().unwrap().to_string()
}

#[test]
fn a_quartz_watch_losing_35_s_a_month_over_120_s_is_a_defect_and_one_gaining_5_is_within_spec() {
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &str| {
        let args = [
            "judge",
            "--policy",
            "rankine-ro",
            "--recorder-ppm",
            "12",
            "--recorder-ppm-u95",
            "0.2",
            "--json",
        ];
        let o = Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).arg(file).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let v = run(&quartz(dir.path(), -35.0));
    assert_eq!(v["verdict"], "defect", "{v:#}");
    let avg = &v["average_rate_s_per_month"];
    assert!((avg["value"].as_f64().unwrap() + 35.0).abs() < 1.0, "{avg}");
    assert!(avg["u95"].as_f64().unwrap() <= 1.0, "{avg}");
    let v = run(&quartz(dir.path(), 5.0));
    assert_eq!(v["verdict"], "within_spec", "{v:#}");
}
