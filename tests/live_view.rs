//! The terminal view drawn on ratatui's TestBackend at 80x24, 120x40 and 200x50: every
//! readout with its unit, nothing cut (header, titles, keys, notices), large digits that grow
//! with the terminal, a paper strip at a fixed scale, pause wording that agrees with the
//! header, the positions table of a guided protocol, and the keys.
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use std::collections::BTreeSet;
use tickproof::live::level::Level;
use tickproof::live::run::Command;
use tickproof::live::tui::{key_action, next_bph, prev_bph, KeyAction, ViewFrontend};
use tickproof::live::view::{key_items, render, PositionRow, RowState, ViewData, DEFAULT_STRIP_MS};
use tickproof::live::{LiveConfig, LiveSession, StripPoint};
use tickproof::measurement::{Figure, STANDARD_BPH};
use tickproof::source::BlockSource;
use tickproof::synth::{MechanicalParams, Synth};
use tickproof::verdict::Position;

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn measured_session() -> LiveSession {
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
            return session;
        }
        session.push(&buf[..n]);
    }
}

fn measured_view() -> ViewData {
    let session = measured_session();
    let mut d = ViewData {
        source: "replay:/a/rather/long/folder/name/for/the/replayed/recording/test.wav".into(),
        recording: Some("/tmp/a/long/folder/for/the/evidence/rec.wav".into()),
        level: Some(Level { peak_dbfs: -12.0, rms_dbfs: -30.0, clipped: 0 }),
        ..Default::default()
    };
    d.update_from(&session);
    assert!(!d.strip.is_empty() && d.waveforms.is_some() && !d.trend.is_empty());
    d
}

fn screen(d: &ViewData, w: u16, h: u16) -> Vec<Vec<char>> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(f, d)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| (0..buf.area.width).flat_map(|x| buf[(x, y)].symbol().chars().collect::<Vec<_>>()).collect())
        .collect()
}

fn text(s: &[Vec<char>]) -> String {
    s.iter().map(|r| r.iter().collect::<String>() + "\n").collect()
}

/// Nothing reaches the last column unless it is a border, and no box title runs into its
/// corner (a title cut to fit ends right at `┐`).
fn assert_nothing_truncated(s: &[Vec<char>], label: &str) {
    let all = text(s);
    for (y, row) in s.iter().enumerate() {
        let last = *row.last().unwrap();
        assert!(matches!(last, ' ' | '│' | '┐' | '┘'), "{label}: row {y} runs to the edge: {last:?}\n{all}");
        for x in 1..row.len() {
            if row[x] == '┐' {
                assert_eq!(row[x - 1], '─', "{label}: a title is cut at row {y} col {x}\n{all}");
            }
        }
    }
}

/// The rows of the box whose title starts with `title`: (first row inside, last row inside,
/// left border column, right border column).
fn boxed(s: &[Vec<char>], title: &str) -> (usize, usize, usize, usize) {
    for (y, row) in s.iter().enumerate() {
        let line: String = row.iter().collect();
        let Some(byte) = line.find(&format!("┌{title}")) else { continue };
        let left = line[..byte].chars().count();
        let right = (left + 1..row.len()).find(|&x| row[x] == '┐').unwrap();
        let bottom = (y + 1..s.len()).find(|&r| s[r][left] == '└').unwrap();
        return (y + 1, bottom - 1, left, right);
    }
    panic!("no box titled {title:?} in\n{}", text(s));
}

fn digit_rows(s: &[Vec<char>]) -> usize {
    let (top, bottom, l, r) = boxed(s, "Rate");
    (top..=bottom).filter(|&y| s[y][l + 1..r].iter().any(|c| matches!(c, '█' | '▀' | '▄'))).count()
}

#[test]
fn every_readout_and_key_is_shown_whole_at_80x24_120x40_and_200x50() {
    let d = measured_view();
    let r = d.reading.clone().unwrap();
    let rate = format!("{:+.1}", r.rate_s_per_day.unwrap().value);
    for (w, h) in SIZES {
        let s = screen(&d, w, h);
        let all = text(&s);
        let flat = all.replace('\n', " ");
        assert_nothing_truncated(&s, &format!("{w}x{h}"));
        for key in [
            "tickproof 00:00:15",
            "REC /tmp/a/long/folder/for/the/evidence/rec.wav",
            "over-runs 0",
            "48.0 kHz",
            "test.wav",
            "Rate",
            "s/day",
            "Beat error",
            "Amplitude",
            "28800 bph (auto)",
            "lift 52°",
            "quality",
            "-12 dBFS peak",
            "Paper strip",
            "10 ms",
            "up = gaining",
            "tic",
            "unlock green",
            "drop red",
            "(u95)",
        ] {
            assert!(flat.contains(key), "{w}x{h}: {key:?} missing in\n{all}");
        }
        for k in key_items(false) {
            assert!(flat.contains(k), "{w}x{h}: key {k:?} missing in\n{all}");
        }
        assert!(flat.contains(&rate), "{w}x{h}: rate {rate} missing in\n{all}");
        assert!(flat.contains("replay:/a/rather") || w < 200, "{w}x{h}: the source\n{all}");
        // The trend: rate, amplitude and beat error over minutes.
        for t in ["Rate", "Amplitude", "Beat error"] {
            assert!(all.matches(&format!("┌{t}")).count() >= 2, "{w}x{h}: {t} trend missing\n{all}");
        }
    }
}

#[test]
fn the_large_digits_grow_with_the_terminal() {
    let d = measured_view();
    let rows: Vec<usize> = SIZES.iter().map(|&(w, h)| digit_rows(&screen(&d, w, h))).collect();
    assert_eq!(rows[0], 3, "80x24");
    assert!(rows[0] < rows[1] && rows[1] < rows[2], "{rows:?}");
    assert!(rows[2] >= 8, "at full screen the digits are at least 8 rows: {rows:?}");
}

/// The braille cells drawn in the strip's box.
fn strip_cells(d: &ViewData, w: u16, h: u16) -> BTreeSet<(usize, usize)> {
    let s = screen(d, w, h);
    let (top, bottom, l, r) = boxed(&s, "Paper strip");
    let braille = |c: &char| ('\u{2801}'..='\u{28FF}').contains(c);
    s.iter()
        .enumerate()
        .take(bottom + 1)
        .skip(top)
        .flat_map(|(y, row)| (l + 1..r).filter(move |&x| braille(&row[x])).map(move |x| (y, x)))
        .collect()
}

#[test]
fn the_paper_strip_keeps_its_scale_when_the_trace_spreads_and_wraps_past_it() {
    let base = ViewData { elapsed_s: 30.0, ..Default::default() };
    let one = ViewData { strip: vec![StripPoint { t_s: 20.0, dev_ms: 2.0, side: 0 }], ..base.clone() };
    let mut two = one.clone();
    two.strip.push(StripPoint { t_s: 25.0, dev_ms: -4.8, side: 1 });
    for (w, h) in SIZES {
        let (a, b) = (strip_cells(&one, w, h), strip_cells(&two, w, h));
        assert!(!a.is_empty(), "{w}x{h}: the point is drawn");
        assert!(
            a.is_subset(&b),
            "{w}x{h}: the first point moved when a second was added: the strip rescaled"
        );
        assert!(b.len() > a.len());
        // 2 ms and 12 ms on a 10 ms strip wrap to the same height.
        let mut wrapped = one.clone();
        wrapped.strip[0].dev_ms = 12.0;
        assert_eq!(strip_cells(&wrapped, w, h), a, "{w}x{h}: the trace wraps at the strip's height");
    }
}

#[test]
fn plus_and_minus_step_the_strip_scale_and_the_title_says_it() {
    let mut fe = ViewFrontend::new(Terminal::new(TestBackend::new(80, 24)).unwrap(), measured_view(), false);
    assert_eq!(fe.data.strip_ms, DEFAULT_STRIP_MS);
    assert_eq!(fe.key(KeyCode::Char('+'), KeyModifiers::NONE), None);
    assert_eq!(fe.data.strip_ms, 20.0);
    fe.key(KeyCode::Char('-'), KeyModifiers::NONE);
    fe.key(KeyCode::Char('-'), KeyModifiers::NONE);
    assert_eq!(fe.data.strip_ms, 5.0);
    let s = text(&screen(&fe.data, 80, 24));
    assert!(s.contains("5 ms"), "{s}");
}

#[test]
fn the_view_never_panics_at_tiny_sizes() {
    let d = measured_view();
    for (w, h) in [(20, 5), (1, 1), (59, 15), (60, 16), (200, 3), (5, 60)] {
        let s = screen(&d, w, h);
        assert_eq!(s.len(), h as usize);
    }
    let s = text(&screen(&d, 40, 8));
    assert!(s.contains("rate") && s.contains("s/day"), "compact view\n{s}");
    let empty = ViewData::default();
    for (w, h) in [(80, 24), (20, 5), (120, 40), (200, 50)] {
        let s = screen(&empty, w, h);
        assert!(text(&s).contains("--"), "{w}x{h}\n{}", text(&s));
        if w >= 80 {
            assert_nothing_truncated(&s, &format!("empty {w}x{h}"));
        }
    }
}

#[test]
fn a_long_notice_is_wrapped_whole_at_80_columns() {
    let notice = "28000 bph refused: the ticks fit 28800 bph (a: back to automatic) and this notice goes on to be longer than one line";
    let d = ViewData { notice: Some(notice.into()), ..measured_view() };
    let s = screen(&d, 80, 24);
    assert_nothing_truncated(&s, "80x24");
    let flat = text(&s).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(notice), "{}", text(&s));
}

#[test]
fn pause_says_what_the_header_says_about_recording() {
    for rec in [Some("rec.wav".to_string()), None] {
        let d = ViewData { recording: rec.clone(), ..measured_view() };
        let mut fe = ViewFrontend::new(Terminal::new(TestBackend::new(80, 24)).unwrap(), d, false);
        assert_eq!(fe.key(KeyCode::Char('p'), KeyModifiers::NONE), None);
        assert!(fe.data.paused);
        let s = text(&screen(&fe.data, 80, 24));
        let head = s.lines().next().unwrap();
        assert!(head.contains("PAUSED"), "{s}");
        match rec {
            Some(_) => {
                assert!(head.contains("REC rec.wav"), "{s}");
                assert!(s.contains("still recording to rec.wav"), "{s}");
                assert!(!s.contains("not recording"), "{s}");
            }
            None => {
                assert!(head.contains("not recording"), "{s}");
                assert!(s.contains("PAUSED: display frozen; not recording"), "{s}");
                assert!(!s.contains("still recording"), "{s}");
            }
        }
    }
}

#[test]
fn the_positions_table_lists_done_current_and_pending_positions_with_readings() {
    let f = |v, u| Some(Figure::new(v, u));
    let mut d =
        ViewData { step: Some("Measuring CD (crown down), 3 of 5: 12/60 s".into()), ..measured_view() };
    d.protocol = vec![
        PositionRow {
            position: Position::DU,
            state: RowState::Kept,
            rate_s_per_day: f(8.04, 0.31),
            beat_error_ms: f(0.41, 0.02),
            amplitude_deg: f(251.0, 3.0),
        },
        PositionRow {
            position: Position::DD,
            state: RowState::Done,
            rate_s_per_day: f(-2.5, 0.4),
            beat_error_ms: None,
            amplitude_deg: None,
        },
        PositionRow { state: RowState::Measuring, ..PositionRow::pending(Position::CD) },
        PositionRow::pending(Position::CL),
        PositionRow::pending(Position::CU),
    ];
    for (w, h) in SIZES {
        let s = screen(&d, w, h);
        assert_nothing_truncated(&s, &format!("{w}x{h}"));
        let all = text(&s);
        for key in [
            "DU",
            "kept",
            "+8.0 ± 0.3 s/day",
            "DD",
            "done",
            "-2.5 ± 0.4 s/day",
            "CD",
            "measuring",
            "CU",
            "to do",
        ] {
            assert!(all.contains(key), "{w}x{h}: {key:?} missing in\n{all}");
        }
        assert!(all.contains("dial up") || w < 80, "{all}");
        for k in key_items(true) {
            assert!(all.replace('\n', " ").contains(k), "{w}x{h}: key {k:?}\n{all}");
        }
    }
}

#[test]
fn keys_map_to_the_documented_commands() {
    let none = KeyModifiers::NONE;
    let d = ViewData::default();
    let k = |c| key_action(KeyCode::Char(c), none, &d);
    assert_eq!(k('q'), KeyAction::Command(Command::Quit));
    assert_eq!(key_action(KeyCode::Char('c'), KeyModifiers::CONTROL, &d), KeyAction::Command(Command::Quit));
    assert_eq!(k('l'), KeyAction::Command(Command::SetLiftAngle(51.0)));
    assert_eq!(k('L'), KeyAction::Command(Command::SetLiftAngle(53.0)));
    let top = ViewData { lift_angle_deg: 90.0, ..Default::default() };
    assert_eq!(key_action(KeyCode::Char('L'), none, &top), KeyAction::Command(Command::SetLiftAngle(90.0)));
    assert_eq!(k('p'), KeyAction::TogglePause);
    assert_eq!(k('m'), KeyAction::Command(Command::Mark));
    assert_eq!(k('s'), KeyAction::Command(Command::Snapshot));
    assert_eq!(k('a'), KeyAction::Command(Command::SetBph(None)));
    assert_eq!(k(' '), KeyAction::Command(Command::Proceed));
    assert_eq!(k('r'), KeyAction::Command(Command::Remeasure));
    assert_eq!(k('x'), KeyAction::None);
    // b cycles up through auto and every standard rate; B the other way.
    let (mut up, mut down) = (None, None);
    let (mut seen_up, mut seen_down) = (vec![], vec![]);
    for _ in 0..=STANDARD_BPH.len() {
        up = next_bph(up);
        down = prev_bph(down);
        seen_up.push(up);
        seen_down.push(down);
    }
    assert_eq!(seen_up.last(), Some(&None));
    assert_eq!(seen_up[..STANDARD_BPH.len()].iter().map(|x| x.unwrap()).collect::<Vec<_>>(), STANDARD_BPH);
    let mut rev: Vec<Option<u32>> = seen_up[..STANDARD_BPH.len()].to_vec();
    rev.reverse();
    assert_eq!(seen_down[..STANDARD_BPH.len()], rev[..]);
    assert_eq!(seen_down.last(), Some(&None));
}

#[test]
fn the_bph_cycle_goes_on_from_a_refused_rate() {
    let mut fe =
        ViewFrontend::new(Terminal::new(TestBackend::new(80, 24)).unwrap(), ViewData::default(), false);
    let first = fe.key(KeyCode::Char('b'), KeyModifiers::NONE);
    // The loop refused it: the forced rate stays automatic, but the next b proposes the next.
    assert_eq!(fe.data.forced_bph, None);
    let second = fe.key(KeyCode::Char('b'), KeyModifiers::NONE);
    assert_eq!(first, Some(Command::SetBph(Some(STANDARD_BPH[0]))));
    assert_eq!(second, Some(Command::SetBph(Some(STANDARD_BPH[1]))));
    assert_eq!(fe.key(KeyCode::Char('B'), KeyModifiers::NONE), Some(Command::SetBph(Some(STANDARD_BPH[0]))));
    assert_eq!(fe.key(KeyCode::Char('a'), KeyModifiers::NONE), Some(Command::SetBph(None)));
}

#[test]
fn a_forced_rate_the_ticks_do_not_fit_is_refused_with_the_rate_they_fit() {
    let mut s = measured_session();
    assert_eq!(s.heard_bph(), Some(28800));
    let err = s.set_bph(Some(14400)).unwrap_err();
    assert!(err.contains("14400") && err.contains("the ticks fit 28800 bph"), "{err}");
    assert_eq!(s.config().analysis.bph, None, "a refused rate is not applied");
    assert!(s.set_bph(Some(90000)).unwrap_err().contains("90000"));
    s.set_bph(Some(28800)).unwrap();
    assert_eq!(s.config().analysis.bph, Some(28800));
    s.set_bph(None).unwrap();
    assert_eq!(s.config().analysis.bph, None);
}

#[test]
fn the_last_good_reading_survives_a_restart() {
    let mut s = measured_session();
    let good = s.latest().cloned().unwrap();
    assert_eq!(good.status, tickproof::live::Status::Measuring);
    s.mark_position("DU");
    // The next reading after the restart has no figures; the last good one is still there.
    let mut next = None;
    while next.is_none() {
        next = s.push(&[0.0f32; 480]);
    }
    assert!(next.unwrap().rate_s_per_day.is_none());
    let kept = s.last_good().unwrap();
    assert_eq!(kept, &good);
    assert!(kept.rate_s_per_day.is_some() && kept.beat_error_ms.is_some() && kept.amplitude_deg.is_some());
}

#[test]
fn a_rate_forced_from_the_start_that_the_ticks_do_not_fit_goes_back_to_automatic_saying_why() {
    let p = MechanicalParams {
        bph: 28800,
        rate_s_per_day: 12.0,
        duration_s: 15.0,
        snr_db: Some(20.0),
        seed: 7,
        ..Default::default()
    };
    let mut synth = Synth::mechanical(&p).unwrap();
    let mut cfg = LiveConfig::default();
    cfg.analysis.bph = Some(14400);
    let mut s = LiveSession::new(48_000, cfg);
    let mut buf = vec![0.0f32; 480];
    let mut readings = vec![];
    loop {
        let n = synth.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        readings.extend(s.push(&buf[..n]));
    }
    let why = readings.iter().find_map(|r| r.restarted.as_ref()).expect("a restart");
    assert!(why.message.contains("14400 bph refused: the ticks fit 28800 bph"), "{why:?}");
    assert_eq!(s.config().analysis.bph, None);
    assert_eq!(readings.last().unwrap().bph, Some(28800));
}

#[test]
fn a_six_position_guided_protocol_at_80x24_shows_the_trend_whole() {
    let mut d =
        ViewData { step: Some("Turn the watch to crown up (CU) and press space".into()), ..measured_view() };
    d.protocol = Position::ALL.iter().map(|&p| PositionRow::pending(p)).collect();
    d.protocol[0] = PositionRow {
        state: RowState::Done,
        rate_s_per_day: Some(Figure::new(8.04, 0.31)),
        ..PositionRow::pending(Position::DU)
    };
    let s = screen(&d, 80, 24);
    let all = text(&s);
    assert_nothing_truncated(&s, "80x24 guided");
    for p in Position::ALL {
        assert!(all.contains(p.code()), "{}: position missing\n{all}", p.code());
    }
    for k in key_items(true) {
        assert!(all.replace('\n', " ").contains(k), "key {k:?} missing\n{all}");
    }
    // The trend panels do not fit beside the table: each readout's bottom border carries its
    // trend over the same window (the range of the figure, as the trend panel's title gives it).
    let range = |g: fn(&tickproof::live::TrendPoint) -> Option<f64>, dec: usize, signed: bool| {
        let v: Vec<f64> = d.trend.iter().filter_map(g).collect();
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |a, &x| (a.0.min(x), a.1.max(x)));
        let f = |x: f64| if signed { format!("{x:+.dec$}") } else { format!("{x:.dec$}") };
        format!("{}..{}", f(lo), f(hi))
    };
    for (title, r) in [
        ("Rate, s/day", range(|p| Some(p.rate_s_per_day.value), 1, true)),
        ("Amplitude, deg", range(|p| p.amplitude_deg.map(|x| x.value), 0, false)),
        ("Beat error, ms", range(|p| p.beat_error_ms.map(|x| x.value), 2, false)),
    ] {
        let (_, bottom, l, right) = boxed(&s, title);
        let border: String = s[bottom + 1][l..=right].iter().collect();
        assert!(border.contains(&r), "the {title} trend ({r}) is not shown at 80x24\n{all}");
        assert!(border.ends_with("─┘"), "the {title} trend is cut: {border}\n{all}");
    }
    let rate_border = boxed(&s, "Rate, s/day").1 + 1;
    assert!(text(&s[rate_border..=rate_border]).contains("trend"), "the rate's trend is not named\n{all}");
}
