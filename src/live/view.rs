//! The terminal view, drawn with ratatui from a [`ViewData`] (a copy of what is shown, so a
//! paused view stays still while recording goes on). Only the 16 named colours are used, so it
//! reads the same in a 16-colour terminal; below 60x16 cells it falls back to plain lines.
use super::session::{LiveSession, Reading, Status as SessionStatus, StripPoint};
use crate::estimators::mechanical::AveragedBeat;
use crate::measurement::Figure;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CLine, Points};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Smallest size drawn with plots; below it the view is a few plain lines.
pub const MIN_FULL: (u16, u16) = (60, 16);

/// Everything the view shows.
#[derive(Debug, Clone, Default)]
pub struct ViewData {
    /// Where the audio comes from (device or replayed file).
    pub source: String,
    /// Sample rate, Hz.
    pub sample_rate_hz: u32,
    /// The recording being written.
    pub recording: Option<String>,
    /// Samples dropped by the ring so far.
    pub overrun_samples: u64,
    /// Seconds of audio so far.
    pub elapsed_s: f64,
    /// The latest reading.
    pub reading: Option<Reading>,
    /// The paper strip.
    pub strip: Vec<StripPoint>,
    /// Averaged tic and toc waveforms with their marks.
    pub waveforms: Option<[AveragedBeat; 2]>,
    /// Rate trend: (seconds, rate).
    pub trend: Vec<(f64, Figure)>,
    /// Forced beat rate (None = automatic).
    pub forced_bph: Option<u32>,
    /// Lift angle, degrees.
    pub lift_angle_deg: f64,
    /// The last position marked.
    pub position: Option<String>,
    /// True while the display is frozen.
    pub paused: bool,
    /// A one-line notice (last restart, snapshot saved...).
    pub notice: Option<String>,
    /// The guided protocol's current step with its countdown ("Measuring DD: 12/60 s"),
    /// shown prominently under the header.
    pub step: Option<String>,
}

impl ViewData {
    /// Copies what the view shows from a session (plots included).
    pub fn update_from(&mut self, s: &LiveSession) {
        self.elapsed_s = s.elapsed_s();
        self.reading = s.latest().cloned();
        s.paper_strip(&mut self.strip);
        self.waveforms = s.estimate().map(|e| e.waveforms.clone());
        self.trend.clear();
        self.trend.extend(s.trend().iter().copied());
        self.forced_bph = s.config().analysis.bph;
        self.lift_angle_deg = s.config().analysis.lift_angle_deg;
        self.sample_rate_hz = s.sample_rate_hz();
    }
}

const KEYS: &str = "l/L lift-/+  b bph  p pause  m mark  s snapshot  q quit";

/// Draws the whole view into the frame.
pub fn render(f: &mut Frame, d: &ViewData) {
    let area = f.area();
    if area.width < MIN_FULL.0 || area.height < MIN_FULL.1 {
        render_compact(f, area, d);
        return;
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Length(d.step.is_some() as u16),
            Constraint::Length(6),
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(if area.height >= 30 { 10 } else { 5 }),
            Constraint::Length(2),
        ])
        .split(area);
    f.render_widget(Paragraph::new(header(d)), rows[0]);
    if let Some(step) = &d.step {
        let style = Style::default().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD);
        f.render_widget(Paragraph::new(Line::from(Span::styled(format!(" {step} "), style))), rows[1]);
    }
    let rows = &rows[1..];
    render_readouts(f, rows[1], d);
    f.render_widget(Paragraph::new(info_line(d)), rows[2]);
    let mid = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
        .split(rows[3]);
    render_strip(f, mid[0], d);
    render_waveforms(f, mid[1], d);
    render_trend(f, rows[4], d);
    let foot = vec![
        Line::from(Span::styled(notice(d), Style::default().fg(Color::Yellow))),
        Line::from(Span::styled(KEYS, Style::default().fg(Color::Gray))),
    ];
    f.render_widget(Paragraph::new(foot), rows[5]);
}

fn notice(d: &ViewData) -> String {
    let mut s = String::new();
    if d.paused {
        s.push_str("PAUSED (still recording)  ");
    }
    if let Some(r) = &d.reading {
        if let Some(n) = &r.note {
            s.push_str(n);
            s.push_str("  ");
        }
    }
    if let Some(n) = &d.notice {
        s.push_str(n);
    }
    s
}

fn header(d: &ViewData) -> Line<'static> {
    let t = d.elapsed_s.max(0.0) as u64;
    let mut spans = vec![
        Span::styled("tickproof ", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!("{} · {:.1} kHz · ", d.source, d.sample_rate_hz as f64 / 1000.0)),
    ];
    match &d.recording {
        Some(p) => spans.push(Span::styled(format!("REC {p} · "), Style::default().fg(Color::Red))),
        None => spans.push(Span::raw("not recording · ")),
    }
    let ov_style = if d.overrun_samples > 0 { Style::default().fg(Color::Red) } else { Style::default() };
    spans.push(Span::styled(format!("over-runs {} · ", d.overrun_samples), ov_style));
    spans.push(Span::raw(format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)));
    Line::from(spans)
}

fn info_line(d: &ViewData) -> Line<'static> {
    let r = d.reading.as_ref();
    let bph = match (r.and_then(|r| r.bph), d.forced_bph) {
        (Some(b), Some(_)) => format!("{b} bph (forced)"),
        (Some(b), None) => format!("{b} bph (auto)"),
        (None, Some(f)) => format!("-- bph (forcing {f})"),
        (None, None) => "-- bph (auto)".into(),
    };
    let q = r.and_then(|r| r.quality).map(|q| format!("{:.0}%", q * 100.0)).unwrap_or_else(|| "--".into());
    let snr = r.and_then(|r| r.snr_db).map(|s| format!("{s:.0} dB")).unwrap_or_else(|| "--".into());
    let (used, rej, win) = r.map(|r| (r.beats_used, r.beats_rejected, r.window_s)).unwrap_or((0, 0, 0.0));
    let pos = d.position.as_deref().map(|p| format!(" · position {p}")).unwrap_or_default();
    let qcol = match r.and_then(|r| r.quality) {
        Some(q) if q >= 0.6 => Color::Green,
        Some(q) if q >= 0.3 => Color::Yellow,
        Some(_) => Color::Red,
        None => Color::Gray,
    };
    Line::from(vec![
        Span::styled(bph, Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!(" · lift {:.0}° · quality ", d.lift_angle_deg)),
        Span::styled(q, Style::default().fg(qcol)),
        Span::raw(format!(" · SNR {snr} · beats {used}/{rej} rej · window {win:.0} s{pos}")),
    ])
}

/// 3-row digits for the large readouts.
fn glyph(c: char) -> [&'static str; 3] {
    match c {
        '0' => ["█▀█", "█ █", "▀▀▀"],
        '1' => ["▀█ ", " █ ", "▀▀▀"],
        '2' => ["▀▀█", "█▀▀", "▀▀▀"],
        '3' => ["▀▀█", " ▀█", "▀▀▀"],
        '4' => ["█ █", "▀▀█", "  ▀"],
        '5' => ["█▀▀", "▀▀█", "▀▀▀"],
        '6' => ["█▀▀", "█▀█", "▀▀▀"],
        '7' => ["▀▀█", "  █", "  ▀"],
        '8' => ["█▀█", "█▀█", "▀▀▀"],
        '9' => ["█▀█", "▀▀█", "▀▀▀"],
        '+' => ["   ", "▄█▄", " ▀ "],
        '-' => ["   ", "▀▀▀", "   "],
        '.' => [" ", " ", "▀"],
        _ => ["   ", "   ", "   "],
    }
}

/// The large form of `text` as three lines, or `None` when it does not fit in `width`.
pub fn big_text(text: &str, width: u16) -> Option<[String; 3]> {
    let mut rows = [String::new(), String::new(), String::new()];
    for c in text.chars() {
        let g = glyph(c);
        for (r, s) in rows.iter_mut().zip(g) {
            r.push_str(s);
            r.push(' ');
        }
    }
    (rows[0].chars().count() <= width as usize).then_some(rows)
}

fn readout(
    f: &mut Frame,
    area: Rect,
    title: &str,
    value: Option<String>,
    unit: &str,
    u95: Option<String>,
    c: Color,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title.to_string(), Style::default().fg(c).add_modifier(Modifier::BOLD)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let style = Style::default().fg(c).add_modifier(Modifier::BOLD);
    let text = value.clone().unwrap_or_else(|| "--".into());
    let mut lines: Vec<Line> = match big_text(&text, inner.width) {
        Some(rows) if inner.height >= 4 => {
            rows.into_iter().map(|r| Line::from(Span::styled(r, style))).collect()
        }
        _ => vec![Line::from(Span::styled(text.clone(), style))],
    };
    let tail = match (&value, u95) {
        (Some(v), Some(u)) => format!("{v} ± {u} {unit} (u95)"),
        (Some(v), None) => format!("{v} {unit}"),
        _ => unit.to_string(),
    };
    lines.push(Line::from(tail));
    f.render_widget(Paragraph::new(lines), inner);
}

fn fmt_fig(fig: Option<Figure>, decimals: usize, signed: bool) -> (Option<String>, Option<String>) {
    match fig {
        Some(x) if x.value.is_finite() => (
            Some(if signed {
                format!("{:+.*}", decimals, x.value)
            } else {
                format!("{:.*}", decimals, x.value)
            }),
            x.u95.is_finite().then(|| format!("{:.*}", decimals, x.u95)),
        ),
        _ => (None, None),
    }
}

fn render_readouts(f: &mut Frame, area: Rect, d: &ViewData) {
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Ratio(2, 5), Constraint::Ratio(3, 10), Constraint::Ratio(3, 10)])
        .split(area);
    let r = d.reading.as_ref().filter(|r| r.status == SessionStatus::Measuring);
    let (v, u) = fmt_fig(r.and_then(|r| r.rate_s_per_day), 1, true);
    readout(f, cols[0], "Rate", v, "s/day", u, Color::Cyan);
    let (v, u) = fmt_fig(r.and_then(|r| r.beat_error_ms), 2, false);
    readout(f, cols[1], "Beat error", v, "ms", u, Color::Yellow);
    let (v, u) = fmt_fig(r.and_then(|r| r.amplitude_deg), 0, false);
    readout(f, cols[2], "Amplitude", v, "deg", u, Color::Green);
}

fn render_strip(f: &mut Frame, area: Rect, d: &ViewData) {
    let pts = &d.strip;
    let (t0, t1) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => (a.t_s, b.t_s.max(a.t_s + 1.0)),
        _ => (0.0, 1.0),
    };
    let (mut lo, mut hi) =
        pts.iter().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.dev_ms), a.1.max(p.dev_ms)));
    if pts.is_empty() {
        (lo, hi) = (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(0.5);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut tic = Vec::with_capacity(pts.len());
    let mut toc = Vec::with_capacity(pts.len());
    for p in pts {
        if p.side == 0 {
            tic.push((p.t_s, p.dev_ms))
        } else {
            toc.push((p.t_s, p.dev_ms))
        }
    }
    // The report's sign: + = the beat came early, so a gaining watch's line rises.
    let title = format!("Paper strip: up = gaining, down = losing; {:.1} ms tall, {:.0} s", hi - lo, t1 - t0);
    let c = Canvas::default()
        .block(Block::default().borders(Borders::ALL).title(title))
        .marker(Marker::Braille)
        .x_bounds([t0, t1])
        .y_bounds([lo, hi])
        .paint(move |ctx| {
            ctx.draw(&Points { coords: &tic, color: Color::Cyan });
            ctx.draw(&Points { coords: &toc, color: Color::Magenta });
        });
    f.render_widget(c, area);
}

fn render_waveforms(f: &mut Frame, area: Rect, d: &ViewData) {
    let title = "Tic (top) / toc: unlock | drop |";
    let block = Block::default().borders(Borders::ALL).title(title);
    let Some(w) = &d.waveforms else {
        f.render_widget(Paragraph::new("no averaged beat yet").block(block), area);
        return;
    };
    let len_ms = w.iter().map(|b| b.samples.len() as f64 * b.dt_ms).fold(1.0, f64::max);
    let mut lines: [Vec<(f64, f64)>; 2] = [vec![], vec![]];
    for (s, b) in w.iter().enumerate() {
        let peak = b.samples.iter().fold(1e-12f32, |m, x| m.max(x.abs())) as f64;
        let off = if s == 0 { 1.0 } else { -1.0 };
        lines[s] = b
            .samples
            .iter()
            .enumerate()
            .map(|(i, x)| (i as f64 * b.dt_ms, off + 0.9 * *x as f64 / peak))
            .collect();
    }
    let marks: Vec<(f64, f64, Color)> = w
        .iter()
        .enumerate()
        .flat_map(|(s, b)| {
            let y = if s == 0 { 1.0 } else { -1.0 };
            std::iter::once((b.unlock_ms, y, Color::Green)).chain(b.drop_ms.map(|d| (d, y, Color::Red)))
        })
        .collect();
    let c = Canvas::default()
        .block(block)
        .marker(Marker::Braille)
        .x_bounds([0.0, len_ms])
        .y_bounds([-2.0, 2.0])
        .paint(move |ctx| {
            ctx.draw(&Points { coords: &lines[0], color: Color::Cyan });
            ctx.draw(&Points { coords: &lines[1], color: Color::Magenta });
            for &(x, y, col) in &marks {
                ctx.draw(&CLine { x1: x, y1: y - 1.0, x2: x, y2: y + 1.0, color: col });
            }
        });
    f.render_widget(c, area);
}

fn render_trend(f: &mut Frame, area: Rect, d: &ViewData) {
    let pts: Vec<(f64, f64)> = d.trend.iter().map(|(t, r)| (*t, r.value)).collect();
    let (t0, t1) = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => (a.0, b.0.max(a.0 + 1.0)),
        _ => (0.0, 1.0),
    };
    let (mut lo, mut hi) = pts.iter().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    if pts.is_empty() {
        (lo, hi) = (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(0.5);
    let title = format!(
        "Rate trend, last {:.0} min: {:+.1} .. {:+.1} s/day",
        ((t1 - t0) / 60.0).ceil(),
        if pts.is_empty() { 0.0 } else { lo },
        if pts.is_empty() { 0.0 } else { hi }
    );
    let (lo, hi) = (lo - pad, hi + pad);
    let c = Canvas::default()
        .block(Block::default().borders(Borders::ALL).title(title))
        .marker(Marker::Braille)
        .x_bounds([t0, t1])
        .y_bounds([lo, hi])
        .paint(move |ctx| {
            for w in pts.windows(2) {
                ctx.draw(&CLine { x1: w[0].0, y1: w[0].1, x2: w[1].0, y2: w[1].1, color: Color::Cyan });
            }
        });
    f.render_widget(c, area);
}

fn render_compact(f: &mut Frame, area: Rect, d: &ViewData) {
    let r = d.reading.as_ref().filter(|r| r.status == SessionStatus::Measuring);
    let fig = |x: Option<Figure>, dec: usize, unit: &str| match x {
        Some(x) => format!("{:.*} ± {:.*} {unit}", dec, x.value, dec, x.u95),
        None => format!("-- {unit}"),
    };
    let mut lines = vec![];
    if let Some(step) = &d.step {
        lines.push(Line::from(Span::styled(step.clone(), Style::default().add_modifier(Modifier::BOLD))));
    }
    lines.extend([
        Line::from(format!("rate {}", fig(r.and_then(|r| r.rate_s_per_day), 1, "s/day"))),
        Line::from(format!("beat error {}", fig(r.and_then(|r| r.beat_error_ms), 2, "ms"))),
        Line::from(format!("amplitude {}", fig(r.and_then(|r| r.amplitude_deg), 0, "deg"))),
        Line::from(format!(
            "{} bph  over-runs {}",
            r.and_then(|r| r.bph).map(|b| b.to_string()).unwrap_or_else(|| "--".into()),
            d.overrun_samples
        )),
        Line::from(notice(d)),
        Line::from("q quit"),
    ]);
    f.render_widget(Paragraph::new(lines), area);
}
