//! Command-line conventions (issue 13): errors that suggest the fix, empty results said in
//! words, and the same exit code for the same outcome on every path.
use std::process::Command;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav"
);
const NOISE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/none-noise-48k-10s.wav");

fn tickproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).output().unwrap()
}

#[test]
fn a_forced_bph_the_ticks_do_not_fit_says_which_one_they_do() {
    let o = tickproof(&["analyze", FIXTURE, "--bph", "28000"]);
    assert_eq!(o.status.code(), Some(3));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("the ticks fit 21600 bph, not the forced 28000 bph: use --bph auto"), "{text}");
}

#[test]
fn half_the_watch_s_beat_rate_is_refused_not_read_as_an_even_beat() {
    // At 10800 bph every frame holds a tic, never a toc: it would read a beat error of zero.
    let o = tickproof(&["analyze", FIXTURE, "--bph", "10800", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["mechanical"].is_null() || v["mechanical"]["beat_error_ms"].is_null(), "{v}");
    assert!(v.to_string().contains("the ticks fit 21600 bph"), "{v}");
}

#[test]
fn claim_list_says_no_claims_and_refuses_an_unknown_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let o = tickproof(&["--store", store, "claim", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "no claims");
    let o = tickproof(&["--store", store, "claim", "list", "--verdict", "bogus"]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bogus") && e.contains("within_spec") && e.trim().lines().count() == 1, "{e}");
}

#[test]
fn a_replay_without_a_watch_exits_3_like_analyze() {
    let args = ["listen", "--replay", NOISE, "--speed", "0", "--no-tui"];
    let o = tickproof(&args);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("the recording ended") && !e.contains("EndOfStream"), "{e}");
    assert_eq!(tickproof(&["analyze", NOISE]).status.code(), Some(3));
    let o = tickproof(&["listen", "--replay", FIXTURE, "--speed", "0", "--no-tui"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn verify_of_a_file_that_is_no_export_is_bad_input_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("passwd");
    std::fs::write(&f, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
        .unwrap();
    let store = dir.path().join("store");
    let o = tickproof(&["--store", store.to_str().unwrap(), "claim", "verify", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("not a claim export") && !e.contains("root:x"), "{e}");
}

#[cfg(unix)]
#[test]
fn a_named_pipe_as_input_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.wav");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut c = Command::new(env!("CARGO_BIN_EXE_tickproof"))
        .args(["analyze", fifo.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = c.kill();
            panic!("analyze blocked on a named pipe");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
}

#[test]
fn verify_of_an_archive_with_a_bad_record_leaves_no_copy_in_the_temporary_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (store, tmp) = (dir.path().join("store"), dir.path().join("tmp"));
    std::fs::create_dir(&tmp).unwrap();
    let store = store.to_str().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tickproof")).args(args).env("TMPDIR", &tmp).output().unwrap()
    };
    let o = run(&["--store", store, "claim", "new", "--brand", "A", "--model", "B", "--serial", "C"]);
    assert_eq!(o.status.code(), Some(2)); // --movement is required
    let o = run(&[
        "--store",
        store,
        "claim",
        "new",
        "--brand",
        "A",
        "--model",
        "B",
        "--serial",
        "C",
        "--movement",
        "mechanical",
        "--policy",
        "bultime-bg",
        "--json",
    ]);
    let id =
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["id"].as_str().unwrap().to_string();
    let o = run(&["--store", store, "claim", "measure", &id, "--positions", "DU", "--from", FIXTURE]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let folder = dir.path().join("export");
    assert_eq!(
        run(&["--store", store, "claim", "export", &id, "--out", folder.to_str().unwrap()]).status.code(),
        Some(0)
    );
    // The record damaged, then archived.
    std::fs::write(folder.join("record.json"), b"{ not a record").unwrap();
    let archive = dir.path().join("bad.tar");
    let mut t = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    t.append_dir_all("export", &folder).unwrap();
    t.finish().unwrap();
    drop(t);
    let o = run(&["--store", store, "claim", "verify", archive.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left in the temporary folder: {left:?}");
}

#[test]
fn a_trusted_key_that_is_neither_a_file_nor_hex_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    for k in ["zz", "0123", &"g".repeat(64)] {
        let o = tickproof(&[
            "--store",
            store.to_str().unwrap(),
            "claim",
            "verify",
            "C-20260101-0001",
            "--trusted-key",
            k,
        ]);
        assert_eq!(o.status.code(), Some(2), "{k}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            e.contains("--trusted-key") && e.contains("64 hex digits") && e.trim().lines().count() == 1,
            "{e}"
        );
    }
}

/// A FLAC of the fixture's first 10 s (16-bit mono, 4096-frame blocks).
fn fixture_flac() -> Vec<u8> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let mut r = hound::WavReader::open(FIXTURE).unwrap();
    let fs = r.spec().sample_rate as usize;
    let samples: Vec<i32> = r.samples::<i16>().take(10 * fs).map(|s| s.unwrap() as i32).collect();
    let mut config = flacenc::config::Encoder::default();
    config.block_size = 4096;
    let config = config.into_verified().expect("flacenc config");
    let src = flacenc::source::MemSource::from_samples(&samples, 1, 16, fs);
    let stream = flacenc::encode_with_fixed_block_size(&config, src, 4096).expect("flac encode");
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).expect("flac write");
    let mut b = sink.as_slice().to_vec();
    let max = [b[10], b[11]];
    b[8..10].copy_from_slice(&max); // min block = max block, as libFLAC writes fixed blocking
    b
}

#[test]
fn a_replayed_file_that_breaks_midway_is_bad_input_not_a_device_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = fixture_flac();
    // Damage the frames from the middle on: the header reads, a later frame does not.
    let mid = b.len() / 2;
    for (i, v) in b[mid..].iter_mut().enumerate() {
        *v = (i as u8).wrapping_mul(37) ^ 0x5A;
    }
    let flac = dir.path().join("broken.flac");
    std::fs::write(&flac, &b).unwrap();
    let o = tickproof(&["listen", "--replay", flac.to_str().unwrap(), "--speed", "0", "--no-tui"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(!e.contains("audio device") && e.contains("broken.flac"), "{e}");
    eprintln!("{e}");
}

#[test]
fn with_no_sound_card_the_live_commands_say_so_in_one_line_and_exit_6() {
    // Only where the system shows no input at all (as on a CI machine without a sound card).
    let d = tickproof(&["devices", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    if v["devices"].as_array().is_none_or(|a| !a.is_empty()) {
        return;
    }
    for args in [&["listen", "--no-tui"][..], &["doctor", "--live"][..]] {
        let o = tickproof(args);
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(6), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{args:?}: the sound system's own messages leak: {e}");
        assert!(e.contains("no microphone or sound card"), "{args:?}: {e}");
    }
}
