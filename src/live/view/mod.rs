//! The terminal view, drawn with ratatui from a [`ViewData`] (a copy of what is shown, so a
//! paused view stays still while the analysis goes on). It reads like a timegrapher: large
//! readouts that grow with the terminal, the paper strip at a fixed scale, the averaged tic and
//! toc, the trend over minutes (in panels, or in one line under each readout when the panels
//! do not fit, as in a guided protocol at 80x24) and the input level. Nothing drawn is cut: lines are packed
//! from whole items ([`text`]) and every title picks the longest wording that fits. Only the 16
//! named colours are used, so it reads the same in a 16-colour terminal; below 60x16 cells it
//! falls back to plain lines.
pub mod digits;
mod panels;
pub mod text;

use super::level::Level;
use super::protocol::{Step, StepKind};
use super::session::{LiveSession, Reading, Status as SessionStatus, StripPoint, TrendPoint};
use crate::estimators::mechanical::AveragedBeat;
use crate::measurement::Figure;
use crate::verdict::Position;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Smallest size drawn with plots; below it the view is a few plain lines.
pub const MIN_FULL: (u16, u16) = (60, 16);
/// The heights of the paper strip the technician steps through with `+` and `-`, ms.
pub const STRIP_SCALES_MS: [f64; 9] = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0];
/// The strip's height until the technician changes it, ms.
pub const DEFAULT_STRIP_MS: f64 = 10.0;

/// Where a position of a guided protocol stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    /// Not reached yet.
    Pending,
    /// The watch is being put in position (settling).
    Settling,
    /// Being measured now.
    Measuring,
    /// Measured in this run.
    Done,
    /// Measured in an earlier run and kept (a resumed protocol).
    Kept,
}

/// One line of the positions table of a guided protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRow {
    /// The position.
    pub position: Position,
    /// Where it stands.
    pub state: RowState,
    /// Rate, s/day (from the measuring stretch).
    pub rate_s_per_day: Option<Figure>,
    /// Beat error, ms.
    pub beat_error_ms: Option<Figure>,
    /// Amplitude, degrees.
    pub amplitude_deg: Option<Figure>,
}

impl PositionRow {
    /// A position not reached yet.
    pub fn pending(position: Position) -> Self {
        PositionRow {
            position,
            state: RowState::Pending,
            rate_s_per_day: None,
            beat_error_ms: None,
            amplitude_deg: None,
        }
    }
}

/// Everything the view shows.
#[derive(Debug, Clone)]
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
    /// Rate, beat error and amplitude per reading.
    pub trend: Vec<TrendPoint>,
    /// Forced beat rate (None = automatic).
    pub forced_bph: Option<u32>,
    /// The rate `b`/`B` proposed last (None = automatic): the cycle goes on from it even when
    /// the proposal was refused.
    pub bph_choice: Option<u32>,
    /// Lift angle, degrees.
    pub lift_angle_deg: f64,
    /// The last position marked.
    pub position: Option<String>,
    /// True while the display is frozen.
    pub paused: bool,
    /// A one-line notice (last restart, snapshot saved...).
    pub notice: Option<String>,
    /// The guided protocol's current step with its countdown, shown under the header.
    pub step: Option<String>,
    /// Full height of the paper strip, ms (fixed: it never rescales itself).
    pub strip_ms: f64,
    /// Width of the paper strip, seconds of audio.
    pub strip_s: f64,
    /// Input level of the last second.
    pub level: Option<Level>,
    /// The positions of a guided protocol (empty for a plain run).
    pub protocol: Vec<PositionRow>,
}

impl Default for ViewData {
    fn default() -> Self {
        ViewData {
            source: String::new(),
            sample_rate_hz: 0,
            recording: None,
            overrun_samples: 0,
            elapsed_s: 0.0,
            reading: None,
            strip: Vec::new(),
            waveforms: None,
            trend: Vec::new(),
            forced_bph: None,
            bph_choice: None,
            lift_angle_deg: crate::calibre::DEFAULT_LIFT_ANGLE_DEG,
            position: None,
            paused: false,
            notice: None,
            step: None,
            strip_ms: DEFAULT_STRIP_MS,
            strip_s: 60.0,
            level: None,
            protocol: Vec::new(),
        }
    }
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
        self.strip_s = s.config().window_s;
    }

    /// Records a protocol step in the positions table.
    pub fn apply_step(&mut self, step: &Step) {
        self.step = Some(step.line());
        let Some(row) = self.protocol.iter_mut().find(|r| r.position == step.position) else { return };
        row.state = match step.event {
            StepKind::Settle => RowState::Settling,
            StepKind::Measure => RowState::Measuring,
            StepKind::Done => RowState::Done,
        };
        if step.event == StepKind::Settle {
            (row.rate_s_per_day, row.beat_error_ms, row.amplitude_deg) = (None, None, None);
        } else {
            row.rate_s_per_day = step.rate_s_per_day;
            row.beat_error_ms = step.beat_error_ms;
            row.amplitude_deg = step.amplitude_deg;
        }
    }

    /// The next strip height up (`up`) or down the ladder of [`STRIP_SCALES_MS`].
    pub fn step_strip(&mut self, up: bool) {
        let i = STRIP_SCALES_MS.iter().position(|&s| s >= self.strip_ms).unwrap_or(STRIP_SCALES_MS.len() - 1);
        let j = if up { (i + 1).min(STRIP_SCALES_MS.len() - 1) } else { i.saturating_sub(1) };
        self.strip_ms = STRIP_SCALES_MS[j];
    }
}

/// The keys, for the footer and the README.
pub fn key_items(guided: bool) -> Vec<&'static str> {
    let mut k = vec!["l/L lift", "b/B bph", "a auto", "+/- strip", "p pause"];
    if guided {
        k.extend(["space measure", "r redo last"]);
    } else {
        k.push("m mark");
    }
    k.extend(["s snapshot", "q quit"]);
    k
}

/// Draws the whole view into the frame.
pub fn render(f: &mut Frame, d: &ViewData) {
    let area = f.area();
    if area.width < MIN_FULL.0 || area.height < MIN_FULL.1 {
        render_compact(f, area, d);
        return;
    }
    let w = area.width as usize;
    let head = header_lines(d, w - 1);
    let step = d.step.as_ref().map(|s| text::wrap(s, w - 2)).unwrap_or_default();
    let info = text::flow(info_items(d), " · ", w - 1);
    let mut note: Vec<String> = text::wrap(&notice(d), w - 1);
    note.truncate(3);
    let note_h = note.len().max(1);
    let keys = text::flow(
        key_items(!d.protocol.is_empty()).into_iter().map(|k| vec![Span::raw(k)]).collect(),
        "  ",
        w - 1,
    );
    let h = area.height as usize;
    let table_h = if d.protocol.is_empty() { 0 } else { d.protocol.len() + 2 };
    let fixed = head.len() + step.len() + info.len() + note_h + keys.len() + table_h;
    let mut readout_h = (h / 4).clamp(5, 13);
    let mut trend_h = if h >= 30 { 10 } else { 5 };
    if fixed + readout_h + trend_h + 4 > h {
        trend_h = 0;
    }
    if fixed + readout_h + trend_h + 4 > h {
        readout_h = 4;
    }
    if fixed + readout_h + trend_h + 4 > h {
        render_compact(f, area, d);
        return;
    }
    let len = |n: usize| Constraint::Length(n as u16);
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            len(head.len()),
            len(step.len()),
            len(readout_h),
            len(info.len()),
            Constraint::Min(4),
            len(table_h),
            len(trend_h),
            len(note_h),
            len(keys.len()),
        ])
        .split(area);
    f.render_widget(Paragraph::new(head), rows[0]);
    let step_style = Style::default().fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD);
    let step: Vec<Line> =
        step.into_iter().map(|s| Line::from(Span::styled(format!(" {s} "), step_style))).collect();
    f.render_widget(Paragraph::new(step), rows[1]);
    panels::readouts(f, rows[2], d, trend_h == 0);
    f.render_widget(Paragraph::new(info), rows[3]);
    let mid = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
        .split(rows[4]);
    panels::strip(f, mid[0], d);
    panels::waveforms(f, mid[1], d);
    if table_h > 0 {
        panels::positions(f, rows[5], d);
    }
    if trend_h > 0 {
        panels::trend(f, rows[6], d);
    }
    let note: Vec<Line> =
        note.into_iter().map(|n| Line::from(Span::styled(n, Style::default().fg(Color::Yellow)))).collect();
    f.render_widget(Paragraph::new(note), rows[7]);
    let keys: Vec<Line> = keys.into_iter().map(|l| l.style(Style::default().fg(Color::Gray))).collect();
    f.render_widget(Paragraph::new(keys), rows[8]);
}

/// What pausing does, in the same words as the header: the display freezes; the recording,
/// if there is one, goes on (evidence is never cut).
pub fn pause_text(d: &ViewData) -> String {
    match &d.recording {
        Some(p) => format!("PAUSED: display frozen; still recording to {p} (p resumes)"),
        None => "PAUSED: display frozen; not recording (p resumes)".to_string(),
    }
}

fn notice(d: &ViewData) -> String {
    let mut parts: Vec<String> = Vec::new();
    if d.paused {
        parts.push(pause_text(d));
    }
    if let Some(n) = d.reading.as_ref().and_then(|r| r.note.as_ref()) {
        parts.push(n.clone());
    }
    if let Some(n) = &d.notice {
        parts.push(n.clone());
    }
    parts.join(" · ")
}

/// Elapsed seconds as HH:MM:SS.
pub fn clock(elapsed_s: f64) -> String {
    let t = elapsed_s.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

fn header_items(d: &ViewData) -> Vec<Vec<Span<'static>>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut items = vec![vec![Span::styled("tickproof ", bold), Span::raw(clock(d.elapsed_s))]];
    if d.paused {
        items.push(vec![Span::styled("PAUSED", Style::default().fg(Color::Black).bg(Color::Yellow))]);
    }
    items.push(match &d.recording {
        Some(p) => vec![Span::styled(format!("REC {p}"), Style::default().fg(Color::Red))],
        None => vec![Span::raw("not recording")],
    });
    let ov = if d.overrun_samples > 0 { Style::default().fg(Color::Red) } else { Style::default() };
    items.push(vec![Span::styled(format!("over-runs {}", d.overrun_samples), ov)]);
    items
}

/// The header: clock, pause, recording and over-runs whole; then the source and its rate,
/// on the last line when there is room (its start shortened with `…` if need be: the file
/// name stays), else on a line of its own.
fn header_lines(d: &ViewData, max: usize) -> Vec<Line<'static>> {
    let mut lines = text::flow(header_items(d), " · ", max);
    let khz = format!("{:.1} kHz", d.sample_rate_hz as f64 / 1000.0);
    let src = if d.source.is_empty() { khz } else { format!("{} ({khz})", d.source) };
    let used = lines.last().map(|l| l.width()).unwrap_or(0);
    let room = max.saturating_sub(used + 3);
    if room >= 16.min(text::width(&src)) {
        if let Some(last) = lines.last_mut() {
            last.spans.push(Span::raw(" · "));
            last.spans.push(Span::raw(text::shorten_left(&src, room)));
            return lines;
        }
    }
    lines.push(Line::from(text::shorten_left(&src, max)));
    lines
}

/// The beat rate in words: which rate, and whether recognised or forced.
pub fn bph_text(d: &ViewData) -> String {
    match (d.reading.as_ref().and_then(|r| r.bph), d.forced_bph) {
        (Some(b), Some(_)) => format!("{b} bph (forced)"),
        (Some(b), None) => format!("{b} bph (auto)"),
        (None, Some(f)) => format!("-- bph (forcing {f})"),
        (None, None) => "-- bph (auto)".into(),
    }
}

fn level_item(l: Option<Level>) -> Vec<Span<'static>> {
    let Some(l) = l else { return vec![Span::raw("input --")] };
    // A bar of 10 cells from -60 to 0 dBFS peak.
    let cells = (((l.peak_dbfs + 60.0) / 6.0).round().clamp(0.0, 10.0)) as usize;
    let (col, word) = if l.clipped > 0 {
        (Color::Red, " CLIPPING")
    } else if l.peak_dbfs < -50.0 {
        (Color::Yellow, " too quiet")
    } else {
        (Color::Green, "")
    };
    vec![
        Span::raw("input "),
        Span::styled("█".repeat(cells), Style::default().fg(col)),
        Span::styled("░".repeat(10 - cells), Style::default().fg(Color::DarkGray)),
        Span::styled(format!(" {:.0} dBFS peak{word}", l.peak_dbfs), Style::default().fg(col)),
    ]
}

fn info_items(d: &ViewData) -> Vec<Vec<Span<'static>>> {
    let r = d.reading.as_ref();
    let q = r.and_then(|r| r.quality);
    let qcol = match q {
        Some(q) if q >= 0.6 => Color::Green,
        Some(q) if q >= 0.3 => Color::Yellow,
        Some(_) => Color::Red,
        None => Color::Gray,
    };
    let q = q.map(|q| format!("{:.0}%", q * 100.0)).unwrap_or_else(|| "--".into());
    let snr = r.and_then(|r| r.snr_db).map(|s| format!("{s:.0} dB")).unwrap_or_else(|| "--".into());
    let (used, rej, win) = r.map(|r| (r.beats_used, r.beats_rejected, r.window_s)).unwrap_or((0, 0, 0.0));
    let mut items = vec![
        vec![Span::styled(bph_text(d), Style::default().add_modifier(Modifier::BOLD))],
        vec![Span::raw(format!("lift {:.0}°", d.lift_angle_deg))],
        vec![Span::raw("quality "), Span::styled(q, Style::default().fg(qcol))],
        vec![Span::raw(format!("SNR {snr}"))],
        level_item(d.level),
        vec![Span::raw(format!("beats {used} used, {rej} rejected"))],
        vec![Span::raw(format!("window {win:.0} s"))],
    ];
    // In a guided protocol the step line and the table say the position.
    if let (Some(p), true) = (&d.position, d.protocol.is_empty()) {
        items.push(vec![Span::raw(format!("position {p}"))]);
    }
    items
}

/// Value and u95 of a figure as text, `decimals` after the point or up to two more when the
/// u95 would read 0 (`signed`: with its sign).
pub fn fmt_fig(fig: Option<Figure>, decimals: usize, signed: bool) -> (Option<String>, Option<String>) {
    match fig {
        Some(x) if x.value.is_finite() => {
            let mut decimals = decimals;
            while decimals < 3 && x.u95 > 0.0 && x.u95 < 0.95 * 10f64.powi(-(decimals as i32)) {
                decimals += 1;
            }
            fmt_at(x, decimals, signed)
        }
        _ => (None, None),
    }
}

/// Value and u95 of a figure at exactly `decimals` after the point.
pub fn fmt_at(x: Figure, decimals: usize, signed: bool) -> (Option<String>, Option<String>) {
    let value =
        if signed { format!("{:+.*}", decimals, x.value) } else { format!("{:.*}", decimals, x.value) };
    (Some(value), x.u95.is_finite().then(|| format!("{:.*}", decimals, x.u95)))
}

fn render_compact(f: &mut Frame, area: Rect, d: &ViewData) {
    let r = d.reading.as_ref().filter(|r| r.status == SessionStatus::Measuring);
    let fig = |x: Option<Figure>, dec: usize, unit: &str| match x {
        Some(x) => format!("{:.*} ± {:.*} {unit}", dec, x.value, dec, x.u95),
        None => format!("-- {unit}"),
    };
    let w = area.width.max(1) as usize;
    let mut lines: Vec<String> = vec![];
    if let Some(step) = &d.step {
        lines.extend(text::wrap(step, w));
    }
    for l in [
        format!("{} {}", clock(d.elapsed_s), if d.recording.is_some() { "REC" } else { "not recording" }),
        format!("rate {}", fig(r.and_then(|r| r.rate_s_per_day), 1, "s/day")),
        format!("beat error {}", fig(r.and_then(|r| r.beat_error_ms), 2, "ms")),
        format!("amplitude {}", fig(r.and_then(|r| r.amplitude_deg), 0, "deg")),
        format!("{}  over-runs {}", bph_text(d), d.overrun_samples),
        notice(d),
        "q quit".to_string(),
    ] {
        lines.extend(text::wrap(&l, w));
    }
    let lines: Vec<Line> = lines.into_iter().map(Line::from).collect();
    f.render_widget(Paragraph::new(lines), area);
}
