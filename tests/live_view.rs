//! The terminal view drawn on ratatui's TestBackend: key texts at 80x24 and 160x48, no panic
//! at tiny sizes, keys mapped to commands.
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use tickproof::live::run::Command;
use tickproof::live::tui::{key_action, next_bph, KeyAction, ViewFrontend};
use tickproof::live::view::{big_text, render, ViewData};
use tickproof::live::{LiveConfig, LiveSession};
use tickproof::measurement::STANDARD_BPH;
use tickproof::source::BlockSource;
use tickproof::synth::{MechanicalParams, Synth};

fn measured_view() -> ViewData {
    let p = MechanicalParams {
        bph: 28800,
        rate_s_per_day: 12.0,
        beat_error_ms: 0.6,
        amplitude_deg: 260.0,
        duration_s: 15.0,
        snr_db: Some(20.0),
        seed: 7,
        ..Default::default()
    };
    let mut s = Synth::mechanical(&p).unwrap();
    let mut session = LiveSession::new(48_000, LiveConfig::default());
    let mut buf = vec![0.0f32; 480];
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        session.push(&buf[..n]);
    }
    let mut d = ViewData {
        source: "replay:test.wav".into(),
        recording: Some("rec.wav".into()),
        ..Default::default()
    };
    d.update_from(&session);
    assert!(!d.strip.is_empty() && d.waveforms.is_some() && !d.trend.is_empty());
    d
}

fn screen(d: &ViewData, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(f, d)).unwrap();
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
fn the_view_shows_every_readout_with_units_at_80x24_and_160x48() {
    let d = measured_view();
    let r = d.reading.clone().unwrap();
    for (w, h) in [(80, 24), (160, 48)] {
        let s = screen(&d, w, h);
        for key in [
            "Rate",
            "s/day",
            "Beat error",
            "ms",
            "Amplitude",
            "deg",
            "28800 bph (auto)",
            "lift 52°",
            "quality",
            "Paper strip",
            "Tic",
            "Rate trend",
            "q quit",
            "REC rec.wav",
            "over-runs 0",
            "(u95)",
        ] {
            assert!(s.contains(key), "{w}x{h}: {key:?} missing in\n{s}");
        }
        let rate = format!("{:+.1}", r.rate_s_per_day.unwrap().value);
        assert!(s.contains(&rate), "{w}x{h}: rate {rate} missing in\n{s}");
        // The large digits are drawn.
        assert!(s.contains('█'), "{w}x{h}: no large digits\n{s}");
    }
}

#[test]
fn the_view_never_panics_at_tiny_sizes() {
    let d = measured_view();
    for (w, h) in [(20, 5), (1, 1), (59, 15), (60, 16), (200, 3), (5, 60)] {
        let s = screen(&d, w, h);
        assert_eq!(s.lines().count(), h as usize);
    }
    let s = screen(&d, 40, 8);
    assert!(s.contains("rate") && s.contains("s/day"), "compact view\n{s}");
    // Empty (nothing heard yet) at every size too.
    let empty = ViewData::default();
    for (w, h) in [(80, 24), (20, 5), (160, 48)] {
        let s = screen(&empty, w, h);
        assert!(s.contains("--"), "{w}x{h}\n{s}");
    }
}

#[test]
fn large_digits_fit_or_step_aside() {
    let rows = big_text("+12.5", 40).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(big_text("+12.5", 5).is_none());
}

#[test]
fn keys_map_to_the_documented_commands() {
    let none = KeyModifiers::NONE;
    assert_eq!(key_action(KeyCode::Char('q'), none, 52.0, None), KeyAction::Command(Command::Quit));
    assert_eq!(
        key_action(KeyCode::Char('c'), KeyModifiers::CONTROL, 52.0, None),
        KeyAction::Command(Command::Quit)
    );
    assert_eq!(
        key_action(KeyCode::Char('l'), none, 52.0, None),
        KeyAction::Command(Command::SetLiftAngle(51.0))
    );
    assert_eq!(
        key_action(KeyCode::Char('L'), none, 52.0, None),
        KeyAction::Command(Command::SetLiftAngle(53.0))
    );
    assert_eq!(
        key_action(KeyCode::Char('L'), none, 90.0, None),
        KeyAction::Command(Command::SetLiftAngle(90.0))
    );
    assert_eq!(key_action(KeyCode::Char('p'), none, 52.0, None), KeyAction::TogglePause);
    assert_eq!(key_action(KeyCode::Char('m'), none, 52.0, None), KeyAction::Command(Command::Mark));
    assert_eq!(key_action(KeyCode::Char('s'), none, 52.0, None), KeyAction::Command(Command::Snapshot));
    assert_eq!(key_action(KeyCode::Char('x'), none, 52.0, None), KeyAction::None);
    // b cycles: auto, every standard rate in order, auto.
    let mut b = None;
    let mut seen = vec![];
    for _ in 0..=STANDARD_BPH.len() {
        b = next_bph(b);
        seen.push(b);
    }
    assert_eq!(seen.last(), Some(&None));
    assert_eq!(seen[..STANDARD_BPH.len()].iter().map(|x| x.unwrap()).collect::<Vec<_>>(), STANDARD_BPH);
}

#[test]
fn pause_freezes_the_display() {
    let d = measured_view();
    let mut fe = ViewFrontend::new(Terminal::new(TestBackend::new(80, 24)).unwrap(), d, false);
    assert_eq!(fe.key(KeyCode::Char('p'), KeyModifiers::NONE), None);
    assert!(fe.data.paused);
    fe.draw().unwrap();
    let s = format!("{:?}", fe.terminal.backend().buffer());
    assert!(s.contains("PAUSED"));
}
