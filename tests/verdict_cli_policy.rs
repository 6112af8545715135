//! `tickproof policy list|show|check` through the binary: the exact text, exit codes, one-line errors.
use std::process::Command;
use tickproof::verdict::{builtin, builtin_names, builtin_text};

fn tickproof(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).output().unwrap();
    (o.status.code().unwrap(), String::from_utf8(o.stdout).unwrap(), String::from_utf8(o.stderr).unwrap())
}

#[test]
fn policy_show_prints_the_exact_hashed_text_of_every_builtin() {
    for name in builtin_names() {
        let (code, out, _) = tickproof(&["policy", "show", name]);
        assert_eq!(code, 0);
        assert_eq!(out, builtin_text(name).unwrap());
        assert_eq!(tickproof::verdict::policy::sha256_hex(&out), builtin(name).unwrap().sha256);
    }
}

#[test]
fn policy_list_names_every_builtin_with_its_hash() {
    let (code, out, _) = tickproof(&["policy", "list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> =
        v["policies"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, builtin_names());
    assert_eq!(v["policies"][0]["sha256"].as_str().unwrap(), builtin("bultime-bg").unwrap().sha256);
}

#[test]
fn policy_check_accepts_a_good_file_and_names_the_line_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, builtin_text("rankine-ro").unwrap()).unwrap();
    let (code, out, _) = tickproof(&["policy", "check", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains(": ok: policy rankine-ro v1"), "{out}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        builtin_text("rankine-ro").unwrap().replace("plus_minus = 20.0", "plus_minus = 0.0"),
    )
    .unwrap();
    let (code, out, err) = tickproof(&["policy", "check", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("bad.toml:25: field `quartz.plus_minus`: must be a number above 0"), "{err}");
    // A tolerance no measurement could resolve (the audit's 5e-324 s/day).
    let tiny = dir.path().join("tiny.toml");
    std::fs::write(
        &tiny,
        builtin_text("rankine-ro").unwrap().replace("plus_minus = 20.0", "plus_minus = 5e-324"),
    )
    .unwrap();
    let (code, _, err) = tickproof(&["policy", "check", tiny.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tiny.toml:25: field `quartz.plus_minus`") && err.contains("below 0.01"), "{err}");
    let (code, _, err) = tickproof(&["policy", "check", dir.path().join("missing.toml").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.toml: cannot read policy"), "{err}");
}
