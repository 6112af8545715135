//! Shell completions and manual pages come from the command-line definitions, and global
//! options are refused where they do nothing.
use std::process::Command;

fn tickproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).output().unwrap()
}

#[test]
fn completions_for_bash_zsh_and_fish_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let o = tickproof(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&o.stdout);
        for sub in ["analyze", "judge", "claim", "calibrate", "listen"] {
            assert!(text.contains(sub), "{shell}: no {sub}");
        }
    }
    assert_eq!(tickproof(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let o = tickproof(&["man", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    for page in ["tickproof.1", "tickproof-analyze.1", "tickproof-claim.1", "tickproof-judge.1"] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}: not roff");
    }
    let main = String::from_utf8(tickproof(&["man"]).stdout).unwrap();
    assert!(main.contains(".TH") && main.contains("analyze"), "{main}");
}

#[test]
fn store_is_refused_where_it_does_nothing() {
    let o = tickproof(&["--store", "/tmp/nowhere", "analyze", "x.wav"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--store") && e.trim().lines().count() == 1, "{e}");
    let help = String::from_utf8_lossy(&tickproof(&["analyze", "--help"]).stdout).into_owned();
    assert!(!help.contains("--store"), "{help}");
}
