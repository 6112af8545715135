//! `--calibre` (issue 12): the lift angle from the built-in calibre table on analyze, judge and
//! claim new, an explicit `--lift-angle` winning and said to, an unknown calibre bad input.
mod cli_home;
use cli_home::{json_ok, run};
use std::process::Output;

const FIXTURE: &str = "fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav";

fn bad_calibre(o: &Output) {
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("ETA 2842") && e.contains("closest: ETA 2824-2"), "{e}");
}

#[test]
fn analyze_takes_the_lift_angle_of_the_calibre_and_an_explicit_one_wins() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let v = json_ok(&run(h, &["analyze", FIXTURE, "--calibre", "eta 2824-2", "--json"]));
    assert_eq!(v["lift_angle_deg"].as_f64(), Some(50.0), "{v:#}");
    assert!(v["lift_angle_source"].as_str().unwrap().starts_with("calibre ETA 2824-2"), "{v:#}");
    let by_calibre = v["amplitude_deg"]["value"].as_f64().unwrap();
    let v =
        json_ok(&run(h, &["analyze", FIXTURE, "--calibre", "ETA 2824-2", "--lift-angle", "52", "--json"]));
    assert_eq!(v["lift_angle_deg"].as_f64(), Some(52.0));
    assert!(v["lift_angle_source"].as_str().unwrap().contains("given explicitly"), "{v:#}");
    // Amplitude scales with the lift angle: the calibre's 50 degrees read less than 52.
    assert!(v["amplitude_deg"]["value"].as_f64().unwrap() > by_calibre);
    bad_calibre(&run(h, &["analyze", FIXTURE, "--calibre", "ETA 2842"]));
    bad_calibre(&run(h, &["judge", FIXTURE, "--policy", "bultime-bg", "--calibre", "ETA 2842"]));
}

#[test]
fn claim_new_records_the_calibres_lift_angle_and_refuses_an_unknown_one() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let store = h.join("store");
    let new = |extra: &[&str]| {
        let mut a =
            vec!["--store", store.to_str().unwrap(), "claim", "new", "--brand", "Seiko", "--model", "SKX007"];
        a.extend_from_slice(&[
            "--serial",
            "1",
            "--movement",
            "mechanical",
            "--policy",
            "bultime-bg",
            "--json",
        ]);
        a.extend_from_slice(extra);
        run(h, &a)
    };
    bad_calibre(&new(&["--calibre", "ETA 2842"]));
    assert!(!store.exists(), "nothing written");
    let v = json_ok(&new(&["--calibre", "Seiko 7S26"]));
    assert_eq!(v["claim"]["lift_angle_deg"].as_f64(), Some(53.0), "{v:#}");
    assert!(v["change"].as_str().unwrap().contains("calibre Seiko 7S26"), "{v:#}");
    let v = json_ok(&new(&["--calibre", "Seiko 7S26", "--lift-angle", "52"]));
    assert_eq!(v["claim"]["lift_angle_deg"].as_f64(), Some(52.0), "{v:#}");
    assert!(v["change"].as_str().unwrap().contains("given explicitly"), "{v:#}");
}
