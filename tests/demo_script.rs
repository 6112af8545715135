//! `make demo` (scripts/demo.sh) decides a claim: the calibrated five-position protocol ends
//! `defect` with a report, and the uncalibrated single position `inconclusive` (issue 12).
use std::process::Command;

#[test]
fn the_demo_ends_with_a_decided_claim_and_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let o = Command::new("bash")
        .arg("scripts/demo.sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TICKPROOF_BIN", env!("CARGO_BIN_EXE_tickproof"))
        .env("DEMO_DIR", &demo)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    let decided =
        out.lines().find(|l| l.starts_with("measured claim") && l.contains("serial DEMO-1")).unwrap();
    assert!(decided.ends_with("verdict defect"), "{decided}");
    assert!(out.contains("everything checks out"), "{out}");
    let report = out.lines().find_map(|l| l.strip_prefix("report: ")).unwrap();
    let html = std::fs::read_to_string(report).unwrap();
    assert!(html.contains("Demo Watch Service") && html.contains("+12.000 ± 0.500 ppm"));
    let contrast =
        out.lines().find(|l| l.starts_with("measured claim") && l.contains("serial DEMO-2")).unwrap();
    assert!(contrast.ends_with("verdict inconclusive"), "{contrast}");
    assert!(out.contains("to decide: "), "{out}");
    // The user's own configuration and store are never touched.
    assert!(!dir.path().join("config").exists() && !dir.path().join("data").exists());
}
