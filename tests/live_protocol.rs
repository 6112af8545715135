//! The guided protocol through the live path: `listen --protocol` and `claim measure --live`,
//! fed by a replayed recording so no sound card is needed.
//!
//! Timings: the fixture is exactly 20 s and bultime-bg has 5 positions, so the tests use
//! `--settle-s 1 --seconds-per-position 3` (5 x (1 + 3) s = 20 s). The replay is not looped: a
//! loop would put a seam in the tick train inside a measuring stretch. A protocol longer than
//! the replay fails (exit 4) and keeps only the positions completed.
mod cli_home;
use cli_home::{claim_new, run};
use std::path::Path;
use std::process::{Command, Output};
use tickproof::verdict::{side_file_position, Position};

const BIN: &str = env!("CARGO_BIN_EXE_tickproof");
const FIXTURE: &str = "fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav";
const PROTOCOL: [&str; 5] = ["DU", "DD", "CD", "CL", "CU"];

fn listen_protocol(dir: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["listen", "--protocol", "bultime-bg", "--replay", FIXTURE, "--speed", "0", "--out-dir"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn wav_seconds(p: &Path) -> f64 {
    let r = hound::WavReader::open(p).unwrap();
    r.duration() as f64 / r.spec().sample_rate as f64
}

#[test]
fn listen_protocol_records_one_file_per_position_with_its_side_file_and_steps_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let out = listen_protocol(&dir, &["--no-tui", "--settle-s", "1", "--seconds-per-position", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut at = 0;
    for (i, p) in PROTOCOL.iter().enumerate() {
        let wav = dir.join(format!("{p}.wav"));
        assert!((wav_seconds(&wav) - 3.0).abs() <= 0.5, "{}: {} s", wav.display(), wav_seconds(&wav));
        assert_eq!(side_file_position(&wav).unwrap(), Position::parse(p), "{}", wav.display());
        let side: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{p}.wav.json"))).unwrap()).unwrap();
        assert_eq!(side["complete"], true);
        assert_eq!(side["position"], *p);
        // The steps of this position come after those of the one before.
        for needle in
            [format!("{}/5 turn the watch to ", i + 1), format!("({p}): 2/3 s"), format!("{p} done:")]
        {
            let found =
                stdout[at..].find(&needle).unwrap_or_else(|| panic!("{needle} not in order in:\n{stdout}"));
            at += found + needle.len();
        }
        assert!(stdout[at..].contains(&wav.display().to_string()), "file list names {}", wav.display());
    }
    assert!(stdout.contains("Protocol complete: 5 recordings"), "{stdout}");
    // Only the positions' files and the progress file: no settling audio was kept.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 11);
    let progress: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("protocol.json")).unwrap()).unwrap();
    assert_eq!(progress.as_array().unwrap().len(), 5);
}

#[test]
fn listen_protocol_json_prints_one_event_per_step() {
    let tmp = tempfile::tempdir().unwrap();
    let out = listen_protocol(tmp.path(), &["--json", "--settle-s", "1", "--seconds-per-position", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect(l)).collect();
    let done: Vec<&str> =
        events.iter().filter(|e| e["event"] == "done").map(|e| e["position"].as_str().unwrap()).collect();
    assert_eq!(done, PROTOCOL);
    assert_eq!(events[0]["event"], "settle");
    assert_eq!(events[0]["position"], "DU");
    assert_eq!(events[0]["remaining_s"], 1.0);
    let measure: Vec<_> =
        events.iter().filter(|e| e["event"] == "measure" && e["position"] == "DD").collect();
    let left: Vec<f64> = measure.iter().map(|e| e["remaining_s"].as_f64().unwrap()).collect();
    assert_eq!(left, [3.0, 2.0, 1.0], "one event per second of measuring, then done");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "complete");
    assert_eq!(last["files"].as_array().unwrap().len(), 5);
}

#[test]
fn listen_protocol_refuses_to_overwrite_a_position_file_and_records_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("CD.wav"), b"evidence").unwrap();
    let out = listen_protocol(tmp.path(), &["--no-tui", "--settle-s", "1", "--seconds-per-position", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("CD.wav") && err.contains("already exists"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(tmp.path().join("CD.wav")).unwrap(), b"evidence");
    assert!(!tmp.path().join("DU.wav").exists(), "nothing is recorded before the refusal");
}

#[test]
fn a_protocol_longer_than_the_replay_stops_keeps_its_positions_and_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let timing = ["--no-tui", "--settle-s", "1", "--seconds-per-position", "5"];
    // 5 x (1 + 5) s = 30 s of protocol for 20 s of audio: DU, DD, CD complete, CL cut short.
    let out = listen_protocol(tmp.path(), &timing);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("3 of 5 positions recorded (DU, DD, CD)"), "{err}");
    assert!(err.contains("kept in") && err.contains("--resume"), "{err}");
    let mut before = Vec::new();
    for p in ["DU", "DD", "CD"] {
        let wav = tmp.path().join(format!("{p}.wav"));
        assert!((wav_seconds(&wav) - 5.0).abs() <= 0.5);
        before.push(std::fs::read(&wav).unwrap());
    }
    assert!(!tmp.path().join("CL.wav").exists() && !tmp.path().join("CL.wav.json").exists());
    // The same command again without --resume: refused, nothing touched.
    let again = listen_protocol(tmp.path(), &timing);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("--resume"), "{}", text(&again.stderr));
    // With --resume: only CL and CU are measured (2 x 6 s of the 20 s replay).
    let mut args = timing.to_vec();
    args.push("--resume");
    let done = listen_protocol(tmp.path(), &args);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(text(&done.stderr).contains("resuming: DU, DD, CD kept"), "{}", text(&done.stderr));
    let stdout = text(&done.stdout);
    assert!(stdout.contains("Protocol complete: 5 recordings"), "{stdout}");
    assert!(
        !stdout.contains("DU done") && stdout.contains("CL done") && stdout.contains("CU done"),
        "{stdout}"
    );
    for (p, bytes) in ["DU", "DD", "CD"].iter().zip(&before) {
        assert_eq!(&std::fs::read(tmp.path().join(format!("{p}.wav"))).unwrap(), bytes, "{p} kept as it was");
        // The table of positions carries each one's figures, the kept ones included.
        let line =
            stdout.lines().find(|l| l.starts_with(p)).unwrap_or_else(|| panic!("{p} row in\n{stdout}"));
        assert!(line.contains("s/day") && !line.contains("-- s/day"), "{line}");
    }
    for p in ["CL", "CU"] {
        assert_eq!(side_file_position(&tmp.path().join(format!("{p}.wav"))).unwrap(), Position::parse(p));
    }
}

#[test]
fn a_resumed_protocol_sets_aside_an_unfinished_recording_and_measures_it_again() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("DU.wav"), b"a crash left this").unwrap();
    let out = listen_protocol(
        tmp.path(),
        &["--no-tui", "--settle-s", "1", "--seconds-per-position", "3", "--resume"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("set aside as"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(tmp.path().join("DU.partial-1.wav")).unwrap(), b"a crash left this");
    assert!((wav_seconds(&tmp.path().join("DU.wav")) - 3.0).abs() <= 0.5);
}

#[test]
fn claim_measure_live_adds_a_revision_with_one_measurement_per_position_that_verifies() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = claim_new(home.path(), store, "A1");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let m = run(
        home.path(),
        &[
            "--store",
            store,
            "claim",
            "measure",
            &id,
            "--live",
            "--replay",
            FIXTURE,
            "--speed",
            "0",
            "--settle-s",
            "1",
            "--seconds-per-position",
            "3",
            "--unsigned",
            "--json",
        ],
    );
    assert!(m.status.success(), "{}", text(&m.stderr));
    // The steps went to standard error; standard output is the revision alone.
    assert!(text(&m.stderr).contains("CU done:"), "{}", text(&m.stderr));
    let rec = tickproof::record::SealedRecord::from_json(&m.stdout).unwrap();
    assert_eq!(rec.record.revision, 2);
    let positions: Vec<&str> = rec.record.positions.iter().map(|p| p.position.as_str()).collect();
    assert_eq!(positions, PROTOCOL);
    let ok = run(home.path(), &["--store", store, "claim", "verify", &id]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", text(&ok.stdout), text(&ok.stderr));
}

fn screen(d: &tickproof::live::view::ViewData, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| tickproof::live::view::render(f, d)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

#[test]
fn the_terminal_view_shows_the_protocol_step_with_its_countdown_full_and_compact() {
    let step = "2/5 measuring dial down (DD): 12/60 s, no rate yet";
    let d = tickproof::live::view::ViewData {
        source: "replay:x.wav".into(),
        sample_rate_hz: 48000,
        step: Some(step.into()),
        ..Default::default()
    };
    for (w, h) in [(80, 24), (160, 48), (40, 10)] {
        // Whole, wrapped between words where the terminal is narrow.
        let flat = screen(&d, w, h).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(step), "{w}x{h}:\n{}", screen(&d, w, h));
    }
    let plain = tickproof::live::view::ViewData { step: None, ..d };
    assert!(!screen(&plain, 80, 24).contains("measuring"));
}

#[test]
fn bad_protocol_settings_exit_2_with_one_line_and_record_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    for (extra, needle) in [
        (&["--no-tui", "--seconds-per-position", "0"][..], "--seconds-per-position 0"),
        (&["--no-tui", "--settle-s", "-1"][..], "--settle-s -1"),
    ] {
        let out = listen_protocol(&dir, extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
        assert!(!dir.exists(), "nothing created for {extra:?}");
    }
    let out = Command::new(BIN)
        .args(["listen", "--protocol", "no-such-policy", "--replay", FIXTURE, "--speed", "0", "--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no-such-policy"), "{}", text(&out.stderr));
}

#[test]
fn claim_measure_live_stopped_halfway_keeps_its_positions_and_the_same_command_resumes_it() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store");
    let store = store.to_str().unwrap();
    let o = claim_new(home.path(), store, "B2");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let id =
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["id"].as_str().unwrap().to_string();
    let measure = [
        "--store",
        store,
        "claim",
        "measure",
        &id,
        "--live",
        "--replay",
        FIXTURE,
        "--speed",
        "0",
        "--settle-s",
        "1",
        "--seconds-per-position",
        "5",
        "--unsigned",
        "--json",
    ];
    // 30 s of protocol on 20 s of audio: stops after CD, nothing lost.
    let first = run(home.path(), &measure);
    assert_eq!(first.status.code(), Some(4), "{}", text(&first.stderr));
    let err = text(&first.stderr);
    assert!(
        err.contains("3 of 5 positions recorded (DU, DD, CD)") && err.contains("run the same command again"),
        "{err}"
    );
    let dir = home.path().join("data").join("tickproof").join("live").join(&id);
    for p in ["DU", "DD", "CD"] {
        assert!(dir.join(format!("{p}.wav")).exists(), "{p} kept in {}", dir.display());
    }
    // The claim was not measured.
    let shown = run(home.path(), &["--store", store, "claim", "show", &id, "--json"]);
    assert_eq!(tickproof::record::SealedRecord::from_json(&shown.stdout).unwrap().record.revision, 1);
    // Again: CL and CU only, then the claim is measured from all five.
    let second = run(home.path(), &measure);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let err = text(&second.stderr);
    assert!(err.contains("resuming: DU, DD, CD kept") && !err.contains("DU done"), "{err}");
    let rec = tickproof::record::SealedRecord::from_json(&second.stdout).unwrap();
    assert_eq!(rec.record.revision, 2);
    let positions: Vec<&str> = rec.record.positions.iter().map(|p| p.position.as_str()).collect();
    assert_eq!(positions, PROTOCOL);
    assert!(!dir.exists(), "the folder goes once the store holds the audio");
}

#[test]
fn remeasure_on_resume_measures_only_the_positions_named_and_keeps_the_old_recordings() {
    let tmp = tempfile::tempdir().unwrap();
    let timing = ["--no-tui", "--settle-s", "1", "--seconds-per-position", "3"];
    assert!(listen_protocol(tmp.path(), &timing).status.success());
    let old = std::fs::read(tmp.path().join("DD.wav")).unwrap();
    let mut args = timing.to_vec();
    args.extend(["--resume", "--remeasure", "DD"]);
    let out = listen_protocol(tmp.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("DD done") && !stdout.contains("DU done") && !stdout.contains("CU done"),
        "{stdout}"
    );
    assert_eq!(std::fs::read(tmp.path().join("DD.superseded-1.wav")).unwrap(), old);
    assert!((wav_seconds(&tmp.path().join("DD.wav")) - 3.0).abs() <= 0.5);
    // A position the protocol does not have is bad input.
    args.pop();
    args.push("CR");
    let bad = listen_protocol(tmp.path(), &args);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("--remeasure CR"), "{}", text(&bad.stderr));
}
