//! `tickproof shop show|set` and the defaults it gives `claim new` (issue 12): the policy is
//! checked when the claim is opened, a bad shop file is one line and exit 2, nothing written.
mod cli_home;
use cli_home::run;
use std::path::Path;
use std::process::Output;

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn new_claim(home: &Path, extra: &[&str]) -> Output {
    let store = home.join("store");
    let mut args = vec![
        "--store",
        store.to_str().unwrap(),
        "claim",
        "new",
        "--brand",
        "Orient",
        "--model",
        "RA",
        "--serial",
        "1",
        "--movement",
        "mechanical",
        "--json",
    ];
    args.extend_from_slice(extra);
    run(home, &args)
}

/// One line on stderr, exit 2, naming `what`.
fn bad_input(o: &Output, what: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "{}", err(o));
    let e = err(o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    for w in what {
        assert!(e.contains(w), "{w} not in {e}");
    }
}

#[test]
fn claim_new_checks_the_policy_at_once_and_takes_the_shops_defaults() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // A misspelt policy, and no policy with no shop default: refused, with the built-ins named.
    bad_input(&new_claim(h, &["--policy", "bultme-bg"]), &["bultme-bg", "bultime-bg", "rankine-ro"]);
    bad_input(&new_claim(h, &[]), &["--policy", "bultime-bg"]);
    assert!(!h.join("store").exists(), "a refused claim makes no store");
    // The shop's defaults.
    let o = run(
        h,
        &[
            "shop",
            "set",
            "--name",
            "Watch Repair Ltd",
            "--default-policy",
            "rankine-ro",
            "--technician",
            "B. Petrov",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&new_claim(h, &[]).stdout).unwrap();
    assert_eq!(v["claim"]["policy"], "rankine-ro", "{v}");
    assert_eq!(v["claim"]["technician"], "B. Petrov", "{v}");
    let v: serde_json::Value =
        serde_json::from_slice(&new_claim(h, &["--policy", "bultime-bg", "--technician", "A"]).stdout)
            .unwrap();
    assert_eq!(v["claim"]["policy"], "bultime-bg", "given wins: {v}");
    assert_eq!(v["claim"]["technician"], "A", "{v}");
    let o = run(h, &["shop", "show", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["shop"]["name"], "Watch Repair Ltd", "{v}");
}

#[test]
fn a_bad_shop_file_or_field_is_one_line_exit_2_and_nothing_is_written() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let file = h.join("config/tickproof/shop.toml");
    assert_eq!(run(h, &["shop", "set", "--name", "Good"]).status.code(), Some(0));
    let before = std::fs::read(&file).unwrap();
    bad_input(&run(h, &["shop", "set", "--default-policy", "nope"]), &["default_policy", "nope"]);
    bad_input(&run(h, &["shop", "set", "--logo", "/no/such/logo.png"]), &["logo", "/no/such/logo.png"]);
    bad_input(&run(h, &["shop", "set", "--logo", "shop.toml"]), &["logo", "not a .png"]);
    bad_input(&run(h, &["shop", "set", "--default-device", "a\u{1}b"]), &["default_device"]);
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing written");
    // A damaged file: every command that reads it refuses, naming the file.
    std::fs::write(&file, "name = \"x\"\ncolour = \"red\"\n").unwrap();
    bad_input(&run(h, &["shop", "show"]), &["shop.toml", "colour"]);
    bad_input(&new_claim(h, &["--policy", "bultime-bg"]), &["shop.toml", "colour"]);
    std::fs::write(&file, "name = [").unwrap();
    bad_input(&run(h, &["shop", "show"]), &["shop.toml"]);
    std::fs::write(&file, vec![b'#'; 70 * 1024]).unwrap();
    bad_input(&run(h, &["shop", "show"]), &["shop.toml", "larger than 64 KiB"]);
}
