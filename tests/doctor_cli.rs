//! `tickproof doctor FILE | --live` end to end on recordings made by `tickproof synth` (clean,
//! clipped, noisy, hum, silence, and sounds that are not a watch) and the shared real
//! recording when `../shared/recordings` is there: the checks, the verdict and its exit code.
mod cli_home;
use cli_home::run;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Writes `name` with `tickproof synth` (seeded) in `home` and returns its path.
fn synth(home: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = home.join(name);
    let mut a = vec!["synth", out.to_str().unwrap(), "--force"];
    a.extend_from_slice(args);
    let o = run(home, &a);
    assert_eq!(o.status.code(), Some(0), "synth {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    out
}

/// Runs `doctor FILE --json [extra]` and returns (exit code, report).
fn doctor(home: &Path, file: &Path, extra: &[&str]) -> (i32, Value) {
    let mut a = vec!["doctor", file.to_str().unwrap(), "--json"];
    a.extend_from_slice(extra);
    let o = run(home, &a);
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap(), v)
}

/// The status of the check named `name`.
fn status<'a>(r: &'a Value, name: &str) -> &'a str {
    let c = r["checks"].as_array().unwrap().iter().find(|c| c["check"] == name).unwrap();
    c["status"].as_str().unwrap()
}

#[test]
fn a_clean_watch_is_usable_at_its_bph_with_no_failing_check() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "clean.wav", &["--bph", "21600", "--snr-db", "30"]);
    let (code, r) = doctor(home.path(), &f, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["usable"], true);
    assert_eq!(r["ticks"]["heard"], true);
    assert_eq!(r["ticks"]["bph"], 21600);
    for c in ["level", "clipping", "noise", "hum", "band", "ticks"] {
        assert_eq!(status(&r, c), "ok", "{c}: {r:#}");
    }
    // The synthetic ticks ring at a few kHz, where the analysis listens.
    let peak = r["band"]["peak_hz"].as_f64().unwrap();
    assert!((1000.0..=16000.0).contains(&peak), "{peak}");
}

#[test]
fn a_clipped_recording_fails_and_asks_for_less_gain() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "clip.wav", &["--clip", "0.3"]);
    let (code, r) = doctor(home.path(), &f, &[]);
    assert_eq!(code, 3, "{r:#}");
    assert_eq!(r["usable"], false);
    assert_eq!(status(&r, "clipping"), "fail");
    assert!(r["level"]["clipped_share"].as_f64().unwrap() > 1e-3);
    let text = run(home.path(), &["doctor", f.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("NOT USABLE") && out.contains("lower the input gain"), "{out}");
}

#[test]
fn a_noisy_watch_is_usable_with_a_noise_warning_and_a_quieter_room_advised() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "noisy.wav", &["--snr-db", "0"]);
    let (code, r) = doctor(home.path(), &f, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(status(&r, "noise"), "warn");
    let advice = r["checks"].as_array().unwrap().iter().find(|c| c["check"] == "noise").unwrap()["advice"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(advice.contains("quieter room"), "{advice}");
}

#[test]
fn mains_hum_is_found_at_50_and_60_hz_between_the_ticks() {
    let home = tempfile::tempdir().unwrap();
    for hz in ["50", "60"] {
        let f =
            synth(home.path(), &format!("hum{hz}.wav"), &["--hum-hz", hz, "--hum-db", "0", "--snr-db", "30"]);
        let (code, r) = doctor(home.path(), &f, &[]);
        assert_eq!(code, 0, "{r:#}");
        assert_eq!(r["hum"]["mains_hz"].as_f64(), Some(hz.parse().unwrap()), "{r:#}");
        assert_eq!(status(&r, "hum"), "warn");
    }
}

#[test]
fn a_watch_whose_beat_divides_the_mains_frequency_is_not_read_as_hum() {
    // 36000 bph beats at 10 Hz: with no noise, its tick train's spectral lines at 50, 60,
    // 120 Hz... stand high above their neighbourhood (they read as 60 Hz hum when the ticks
    // are not gated out).
    let home = tempfile::tempdir().unwrap();
    for family in ["classic", "echo"] {
        let f = synth(home.path(), &format!("w36000-{family}.wav"), &["--bph", "36000", "--family", family]);
        let (code, r) = doctor(home.path(), &f, &[]);
        assert_eq!(code, 0, "{r:#}");
        assert_eq!(r["hum"]["mains_hz"], Value::Null, "{family}: {r:#}");
    }
}

#[test]
fn silence_fails_the_level_check_and_is_not_usable() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "silence.wav", &["--kind", "silence"]);
    let (code, r) = doctor(home.path(), &f, &[]);
    assert_eq!(code, 3, "{r:#}");
    assert_eq!(status(&r, "level"), "fail");
    assert_eq!(r["ticks"]["heard"], false);
}

#[test]
fn noise_speech_and_music_are_not_reported_as_usable_ticks() {
    let home = tempfile::tempdir().unwrap();
    for kind in ["noise", "pink-noise", "speech", "music", "metronome"] {
        let f = synth(home.path(), &format!("{kind}.wav"), &["--kind", kind]);
        let (code, r) = doctor(home.path(), &f, &[]);
        assert_eq!(code, 3, "{kind}: {r:#}");
        assert_eq!(r["usable"], false, "{kind}");
        assert_eq!(r["ticks"]["heard"], false, "{kind}");
        assert_eq!(status(&r, "ticks"), "fail", "{kind}");
    }
}

#[test]
fn a_quartz_watch_is_usable() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "quartz.wav", &["--kind", "quartz", "--duration-s", "20"]);
    let (code, r) = doctor(home.path(), &f, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["ticks"]["kind"], "quartz");
}

#[test]
fn the_recorders_profile_is_reported_calibrated_and_an_unknown_one_uncalibrated() {
    let home = tempfile::tempdir().unwrap();
    let o = run(
        home.path(),
        &[
            "calibrate",
            "manual",
            "--ppm",
            "12",
            "--u95",
            "0.5",
            "--note",
            "lab certificate 42",
            "--save",
            "bench mic",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let f = synth(home.path(), "clean.wav", &[]);
    let (_, r) = doctor(home.path(), &f, &["--device", "bench mic"]);
    assert_eq!(r["calibration"]["state"], "calibrated", "{r:#}");
    assert_eq!(r["calibration"]["recorder_ppm"]["value"], 12.0);
    assert_eq!(status(&r, "calibration"), "ok");
    let (_, r) = doctor(home.path(), &f, &["--device", "other mic"]);
    assert_eq!(r["calibration"]["state"], "uncalibrated");
    assert_eq!(status(&r, "calibration"), "warn");
}

#[test]
fn only_the_seconds_asked_for_are_examined_and_a_bad_value_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "clean.wav", &[]);
    let (_, r) = doctor(home.path(), &f, &["--seconds", "12"]);
    assert_eq!(r["duration_s"], 12.0);
    for bad in ["0", "-3", "601", "nan"] {
        let o = run(home.path(), &["doctor", f.to_str().unwrap(), "--seconds", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn a_missing_file_is_bad_input_named_on_one_line() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), &["doctor", "no-such.wav"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such.wav"), "{err}");
}

#[test]
fn live_without_that_device_is_exit_6_with_one_clear_line() {
    // Whether or not this machine has a sound card, no input has this name; the sound system's
    // own messages (ALSA prints a dozen lines without a card) must not reach the user.
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), &["doctor", "--live", "--device", "no-such-input-7f3a"]);
    assert_eq!(o.status.code(), Some(6));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tickproof: audio device: "), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn the_shared_real_recording_is_usable_at_21600_bph() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/recordings/seiko-7s26-21600bph-laptop-mic-40s.wav");
    if !p.exists() {
        eprintln!("skipped: {} is not here", p.display());
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let (code, r) = doctor(home.path(), &p, &[]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["ticks"]["bph"], 21600);
    assert_eq!(status(&r, "clipping"), "ok");
}

#[test]
fn a_watch_heard_too_briefly_is_not_usable_and_asks_for_more_audio() {
    let home = tempfile::tempdir().unwrap();
    let f = synth(home.path(), "brief.wav", &["--duration-s", "1"]);
    let (code, r) = doctor(home.path(), &f, &[]);
    assert_eq!(code, 3, "{r:#}");
    let c = r["checks"].as_array().unwrap().iter().find(|c| c["check"] == "ticks").unwrap();
    assert!(c["message"].as_str().unwrap().contains("too short"), "{c}");
    assert!(c["advice"].as_str().unwrap().contains("at least 10 s"), "{c}");
}
