//! The terminal view end to end in tmux on replayed recordings (no sound card): the compact
//! layout at 80x24 with nothing cut, the keys (bph refused with the reason, pause, mark then
//! snapshot of the last good reading, quit), and the guided protocol (space, the positions
//! table, re-measure, quit halfway, resume).
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;
use std::process::Command;
use tmux::{have_tmux, Tmux};

const BIN: &str = env!("CARGO_BIN_EXE_tickproof");

/// A 60 s recording of a 28800 bph watch gaining 8 s/day (seeded).
fn recording(dir: &Path) -> String {
    let wav = dir.join("watch.wav");
    let out = Command::new(BIN)
        .args(["synth", "--bph", "28800", "--rate-s-per-day", "8", "--duration-s", "60", "--seed", "5"])
        .arg(&wav)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wav.display().to_string()
}

#[test]
fn at_80x24_the_view_is_whole_and_its_keys_do_what_they_say() {
    if !have_tmux() {
        eprintln!("SKIPPED: tmux is not installed (scripts/ensure-deps.sh tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = recording(dir.path());
    let rec = dir.path().join("view.wav");
    let cmd = format!("{BIN} listen --replay {wav} --out {}; echo EXIT=$?; sleep 60", rec.display());
    let t = Tmux::start("view", 80, 24, &cmd);
    // Every wait names all it then asserts: tmux may capture a frame half drawn.
    let screen =
        t.wait_for(&|s| s.contains("28800 bph (auto)") && s.contains("(u95)") && s.contains("q quit"));
    let head = screen.lines().next().unwrap_or("").to_string();
    // The clock whole (HH:MM:SS) and no line cut at the right edge.
    let clock = head.split_whitespace().nth(1).unwrap_or("");
    assert!(clock.len() == 8 && clock.matches(':').count() == 2, "{screen}");
    assert!(head.contains("REC") && head.contains("view.wav"), "{screen}");
    assert!(screen.contains("Paper strip") && screen.contains("q quit"), "{screen}");
    // A forced rate the ticks do not fit is refused, with the rate they fit.
    t.keys("b");
    let refused = t.wait_for(&|s| s.contains("the ticks fit 28800 bph") && s.contains("28800 bph (auto)"));
    assert!(refused.contains("the ticks fit 28800 bph"), "{refused}");
    assert!(refused.contains("28800 bph (auto)"), "still automatic:\n{refused}");
    // Pause: the header and the pause line agree that recording goes on.
    t.keys("p");
    let paused = t.wait_for(&|s| s.contains("PAUSED:") && s.contains("still recording to"));
    assert!(paused.lines().next().unwrap().contains("PAUSED"), "{paused}");
    assert!(paused.contains("still recording to") && !paused.contains("not recording"), "{paused}");
    t.keys("p");
    // Mark, then a snapshot at once: the last good reading, not the empty one of the restart.
    t.keys("m");
    t.keys("s");
    let saved = t.wait_for(&|s| s.contains("saved to") && s.contains("snapshot of the reading at"));
    assert!(saved.contains("snapshot of the reading at"), "{saved}");
    t.keys("q");
    let exited = t.wait_for(&|s| s.contains("EXIT="));
    assert!(exited.contains("EXIT=0"), "{exited}");
    let snap: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("view.snapshot-1.json")).unwrap()).unwrap();
    assert_eq!(snap["reading"]["status"], "measuring", "{snap}");
    assert!(snap["reading"]["rate_s_per_day"]["value"].is_number(), "{snap}");
    assert!(snap["taken_at_s"].as_f64().unwrap() >= snap["reading"]["elapsed_s"].as_f64().unwrap());
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rec.with_extension("json")).unwrap()).unwrap();
    assert_eq!(side["marks"][0]["position"], "DU");
    assert_eq!(side["complete"], true);
}

#[test]
fn the_guided_protocol_in_tmux_waits_for_space_redoes_a_position_and_resumes_after_quit() {
    if !have_tmux() {
        eprintln!("SKIPPED: tmux is not installed (scripts/ensure-deps.sh tmux)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let wav = recording(tmp.path());
    let dir = tmp.path().join("run");
    let protocol = format!(
        "{BIN} listen --protocol bultime-bg --replay {wav} --seconds-per-position 3 --out-dir {}",
        dir.display()
    );
    // A settling time far longer than the replay: only space moves the protocol on.
    let t = Tmux::start("guided", 200, 50, &format!("{protocol} --settle-s 600; echo EXIT=$?; sleep 60"));
    // Every wait names all it then asserts: tmux may capture a frame half drawn.
    let asked = t.wait_for(&|s| {
        s.contains("turn the watch to dial up (DU) and press space")
            && s.contains("Positions")
            && s.contains("to do")
    });
    assert!(asked.contains("Positions") && asked.contains("to do"), "{asked}");
    t.keys("Space");
    let next = t.wait_for(&|s| s.contains("turn the watch to dial down (DD)") && du_done(s));
    assert!(du_done(&next), "{next}");
    // Measure DU again: the first recording is set aside, never overwritten.
    t.keys("r");
    let again =
        t.wait_for(&|s| s.contains("measuring DU again") && s.contains("turn the watch to dial up (DU)"));
    assert!(again.contains("turn the watch to dial up (DU)"), "{again}");
    t.keys("Space");
    let redone = t.wait_for(&|s| s.contains("turn the watch to dial down (DD)") && du_done(s));
    assert!(du_done(&redone), "{redone}");
    // Quit halfway: the finished position is kept, and the way on is named.
    t.keys("q");
    let quit = t.wait_for(&|s| s.contains("EXIT="));
    assert!(quit.contains("EXIT=0"), "{quit}");
    let flat = quit.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("1 of 5 positions recorded (DU)") && flat.contains("--resume"), "{quit}");
    assert!(dir.join("DU.superseded-1.wav").exists() && dir.join("DU.wav").exists());
    let du = std::fs::read(dir.join("DU.wav")).unwrap();
    drop(t);
    // Resume without the terminal: DU is reused, the other four are measured.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{protocol} --settle-s 1 --resume --no-tui --speed 0"))
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("resuming: DU kept"), "{stderr}");
    assert!(stdout.contains("Protocol complete: 5 recordings") && !stdout.contains("DU done"), "{stdout}");
    assert_eq!(std::fs::read(dir.join("DU.wav")).unwrap(), du);
}

/// The positions table shows DU done with a measured rate.
fn du_done(screen: &str) -> bool {
    screen.lines().any(|l| {
        l.contains("DU dial up") && l.contains("done") && l.contains("s/day") && !l.contains("-- s/day")
    })
}
