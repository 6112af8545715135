//! `tickproof listen` and `devices` end to end: replayed recordings as JSON lines, the
//! recording and its side file, refusal to overwrite, a missing device, the terminal view in
//! tmux, and cpal's real capture path fed by ALSA's `file` plugin (no sound card needed).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tickproof");
const FIXTURE: &str = "fixtures/mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s.wav";

fn truth(wav: &str) -> serde_json::Value {
    let p = Path::new(wav).with_extension("truth.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout).lines().map(|l| serde_json::from_str(l).expect(l)).collect()
}

fn covers(fig: &serde_json::Value, x: f64, slack: f64) -> bool {
    (fig["value"].as_f64().unwrap() - x).abs() <= fig["u95"].as_f64().unwrap() + slack
}

#[test]
fn listen_replay_prints_json_readings_that_find_the_truth() {
    let out =
        Command::new(BIN).args(["listen", "--replay", FIXTURE, "--speed", "0", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert!(lines.len() >= 18, "{} readings for 20 s", lines.len());
    let t = truth(FIXTURE);
    let last = lines.last().unwrap();
    assert_eq!(last["status"], "measuring");
    assert_eq!(last["bph"], t["bph"]);
    assert!(covers(&last["rate_s_per_day"], t["rate_s_per_day"].as_f64().unwrap(), 0.05), "{last}");
    assert!(covers(&last["beat_error_ms"], t["beat_error_ms"].as_f64().unwrap(), 0.03), "{last}");
    assert!(covers(&last["amplitude_deg"], t["amplitude_deg"].as_f64().unwrap(), 2.0), "{last}");
    assert_eq!(last["overrun_samples"], 0);
    let first = lines.iter().find(|l| l["status"] == "measuring").unwrap();
    assert!(first["elapsed_s"].as_f64().unwrap() <= 3.0, "{first}");
}

#[test]
fn listen_replay_records_a_valid_wav_with_its_side_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec.wav");
    let out = Command::new(BIN)
        .args(["listen", "--replay", FIXTURE, "--speed", "0", "--no-tui", "--duration-s", "6", "--out"])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 5 && text.contains("21600 bph") && text.contains("s/day"), "{text}");
    // The recording holds exactly the first 6 s of the replayed audio.
    let got: Vec<f32> =
        hound::WavReader::open(&rec).unwrap().into_samples::<f32>().map(|s| s.unwrap()).collect();
    let orig: Vec<f32> = hound::WavReader::open(FIXTURE)
        .unwrap()
        .into_samples::<i16>()
        .take(6 * 48_000)
        .map(|s| s.unwrap() as f32 / 32768.0)
        .collect();
    assert_eq!(got, orig);
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("rec.json")).unwrap()).unwrap();
    assert_eq!(side["sample_rate_hz"], 48_000);
    assert_eq!(side["complete"], true);
    assert_eq!(side["frames"], 6 * 48_000);
    assert!(side["device"].as_str().unwrap().starts_with("replay:"));
    assert!(side["start_utc"].as_str().unwrap().ends_with('Z'));
    assert_eq!(side["calibration"]["source"], "uncalibrated");
    // Again to the same file: refused with the storage code, evidence untouched.
    let before = std::fs::read(&rec).unwrap();
    let again = Command::new(BIN)
        .args(["listen", "--replay", FIXTURE, "--speed", "0", "--no-tui", "--out"])
        .arg(&rec)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(7));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("rec.wav") && err.contains("never overwritten"), "{err}");
    assert_eq!(std::fs::read(&rec).unwrap(), before);
}

#[test]
fn listen_rejects_bad_arguments_with_the_usage_code() {
    for args in [
        vec!["listen", "--replay", FIXTURE, "--speed", "-1"],
        vec!["listen", "--replay", FIXTURE, "--window-s", "5"],
        vec!["listen", "--replay", FIXTURE, "--lift-angle", "200"],
        vec!["listen", "--replay", "no-such-file.wav"],
        vec!["listen", "--speed", "2"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A temporary HOME whose `.asoundrc` holds `conf`.
fn alsa_home(conf: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".asoundrc"), conf).unwrap();
    home
}

#[cfg(all(feature = "capture", target_os = "linux"))]
#[test]
fn a_missing_device_is_one_clear_line_and_exit_code_6() {
    let home = alsa_home("pcm.!default { type hw; card 97 }\nctl.!default { type hw; card 97 }\n");
    let out = Command::new(BIN)
        .args(["listen", "--no-tui", "--duration-s", "2"])
        .env("HOME", home.path())
        .current_dir(home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("tickproof:")).collect();
    assert_eq!(ours.len(), 1, "{err}");
    assert!(ours[0].contains("audio device"), "{err}");
    // Nothing was recorded, so no empty evidence is left behind.
    let left: Vec<PathBuf> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// cpal's real ALSA capture path, fed from a raw file by ALSA's `file` plugin (its `infile`
/// feeds capture; the `null` slave needs no sound card). The plugin has no clock: it delivers
/// the file as fast as it is asked, then silence, so the ring is sized (`--buffer-s`) to hold
/// the whole run and the over-runs it counts are all after the audio analysed.
#[cfg(all(feature = "capture", target_os = "linux"))]
#[test]
fn alsa_file_plugin_drives_the_real_capture_path() {
    use tickproof::source::BlockSource;
    use tickproof::synth::{MechanicalParams, Synth};
    let p = MechanicalParams {
        bph: 28800,
        rate_s_per_day: -7.0,
        beat_error_ms: 0.5,
        amplitude_deg: 280.0,
        duration_s: 12.0,
        snr_db: Some(25.0),
        seed: 99,
        ..Default::default()
    };
    let mut s = Synth::mechanical(&p).unwrap();
    let mut raw = Vec::new();
    let mut buf = vec![0.0f32; 4800];
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        for &x in &buf[..n] {
            raw.extend_from_slice(&((x * 32768.0).round().clamp(-32768.0, 32767.0) as i16).to_le_bytes());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let infile = dir.path().join("in.raw");
    std::fs::write(&infile, &raw).unwrap();
    let home = alsa_home(&format!(
        "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n  infile \"{}\"\n  format \"raw\"\n}}\n",
        infile.display()
    ));
    let rec = dir.path().join("captured.wav");
    let out = Command::new(BIN)
        .args(["listen", "--no-tui", "--json", "--duration-s", "8", "--buffer-s", "20", "--out"])
        .arg(&rec)
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    let last = lines.last().expect("readings");
    assert_eq!(last["status"], "measuring", "{last}");
    assert_eq!(last["bph"], 28800);
    let t = s.truth();
    assert!(covers(&last["rate_s_per_day"], t.rate_s_per_day.unwrap(), 0.1), "{last}");
    assert!(covers(&last["beat_error_ms"], t.beat_error_ms.unwrap(), 0.03), "{last}");
    assert!(covers(&last["amplitude_deg"], t.amplitude_deg.unwrap(), 2.0), "{last}");
    // Captured i16 is stored losslessly: the WAV is the raw file's first 8 s.
    let got: Vec<i16> =
        hound::WavReader::open(&rec).unwrap().into_samples::<i16>().map(|s| s.unwrap()).collect();
    assert_eq!(got.len(), 8 * 48_000);
    let want: Vec<i16> =
        raw.chunks_exact(2).take(8 * 48_000).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    assert_eq!(got, want);
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rec.with_extension("json")).unwrap()).unwrap();
    assert_eq!(side["format"], "i16");
    assert_eq!(side["device"], "default");
}

fn have_tmux() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

fn tmux(args: &[&str]) -> String {
    let o = Command::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn wait_for(session: &str, what: &dyn Fn(&str) -> bool) -> String {
    let t0 = Instant::now();
    loop {
        let s = tmux(&["capture-pane", "-p", "-t", session]);
        if what(&s) || t0.elapsed() > Duration::from_secs(90) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_terminal_view_in_tmux_shows_readouts_marks_saves_and_quits_cleanly() {
    if !have_tmux() {
        eprintln!("SKIPPED: tmux is not installed (apt-get install -y tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("view.wav");
    let session = format!("tickproof-test-{}", std::process::id());
    let cmd = format!(
        "{BIN} listen --replay {} --speed 4 --out {}; echo EXIT=$?; sleep 60",
        std::fs::canonicalize(FIXTURE).unwrap().display(),
        rec.display()
    );
    tmux(&["new-session", "-d", "-s", &session, "-x", "100", "-y", "30", &cmd]);
    let screen = wait_for(&session, &|s| s.contains("21600 bph") && s.contains("(u95)"));
    let ok = screen.contains("Rate") && screen.contains("s/day") && screen.contains("Amplitude");
    tmux(&["send-keys", "-t", &session, "m"]);
    let marked = wait_for(&session, &|s| s.contains("position DU marked"));
    // The mark restarts the analysis; wait for figures again, then save them.
    wait_for(&session, &|s| s.contains("(u95)") && s.contains("position DU"));
    tmux(&["send-keys", "-t", &session, "s"]);
    let saved = wait_for(&session, &|s| s.contains("saved to"));
    tmux(&["send-keys", "-t", &session, "q"]);
    let exited = wait_for(&session, &|s| s.contains("EXIT="));
    tmux(&["kill-session", "-t", &session]);
    assert!(ok, "readouts missing:\n{screen}");
    assert!(marked.contains("position DU marked"), "{marked}");
    assert!(saved.contains("snapshot of the reading at"), "{saved}");
    assert!(exited.contains("EXIT=0"), "{exited}");
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rec.with_extension("json")).unwrap()).unwrap();
    assert_eq!(side["marks"][0]["position"], "DU");
    assert_eq!(side["complete"], true);
    let snap = dir.path().join("view.snapshot-1.json");
    let snap: serde_json::Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    assert_eq!(snap["reading"]["status"], "measuring");
    assert_eq!(snap["position"], "DU");
    assert!(hound::WavReader::open(&rec).is_ok());
}
