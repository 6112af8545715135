//! The boxes of the view: readouts, paper strip, averaged tic and toc, trend, positions table.
use super::text::{first_fitting, width};
use super::{digits, fmt_at, fmt_fig, RowState, ViewData};
use crate::measurement::Figure;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CLine, Points};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// A bordered box whose title is the longest of `titles` that fits (one cell spare).
fn boxed(area: Rect, titles: &[String], style: Style) -> Block<'static> {
    let room = (area.width as usize).saturating_sub(3);
    Block::default().borders(Borders::ALL).title(Span::styled(first_fitting(titles, room), style))
}

/// One readout: `big` in large digits (fixed decimals, so the digits keep their size), then
/// `value ± u95` at the precision the u95 needs.
#[allow(clippy::too_many_arguments)]
fn readout(
    f: &mut Frame,
    area: Rect,
    titles: &[String],
    big: Option<String>,
    value: Option<String>,
    unit: &str,
    u95: Option<String>,
    c: Color,
    trend: Option<Vec<String>>,
) {
    let style = Style::default().fg(c).add_modifier(Modifier::BOLD);
    let mut block = boxed(area, titles, style);
    if let Some(t) = trend {
        let room = (area.width as usize).saturating_sub(3);
        block = block.title_bottom(Span::styled(first_fitting(&t, room), Style::default().fg(c)));
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let text = big.unwrap_or_else(|| "--".into());
    let room = (inner.width as usize).saturating_sub(1);
    let mut lines: Vec<Line> =
        match digits::best_scale(&text, room, (inner.height as usize).saturating_sub(1)) {
            Some(k) => digits::render(&text, k)
                .unwrap_or_default()
                .into_iter()
                .map(|r| Line::from(Span::styled(r, style)))
                .collect(),
            None => vec![Line::from(Span::styled(text.clone(), style))],
        };
    let tails = match (&value, u95) {
        (Some(v), Some(u)) => {
            vec![format!("{v} ± {u} {unit} (u95)"), format!("{v} ± {u} {unit}"), format!("±{u}")]
        }
        (Some(v), None) => vec![format!("{v} {unit}")],
        _ => vec![format!("-- {unit}"), unit.to_string()],
    };
    lines.push(Line::from(first_fitting(&tails, room)));
    f.render_widget(Paragraph::new(lines), inner);
}

/// Rate, beat error and amplitude in large digits scaled to the box; with `trend` (when the
/// trend panels do not fit), each box's bottom border carries its figure's trend in one line.
pub(super) fn readouts(f: &mut Frame, area: Rect, d: &ViewData, trend: bool) {
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Ratio(2, 5), Constraint::Ratio(3, 10), Constraint::Ratio(3, 10)])
        .split(area);
    let r = d.reading.as_ref().filter(|r| r.status == crate::live::Status::Measuring);
    let t = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
    let big = |x: Option<Figure>, dec: usize, signed: bool| x.and_then(|x| fmt_at(x, dec, signed).0);
    let line = |g: TrendPick, dec: usize, signed: bool| trend.then(|| trend_line(&pick(d, g), dec, signed));
    let x = r.and_then(|r| r.rate_s_per_day);
    let (v, u) = fmt_fig(x, 1, true);
    let title = t("Rate, s/day (+ = gaining)", "Rate s/day");
    let tr = line(|p| Some(p.rate_s_per_day), 1, true);
    readout(f, cols[0], &title, big(x, 1, true), v, "s/day", u, Color::Cyan, tr);
    let x = r.and_then(|r| r.beat_error_ms);
    let (v, u) = fmt_fig(x, 2, false);
    let tr = line(|p| p.beat_error_ms, 2, false);
    readout(f, cols[1], &t("Beat error, ms", "Beat error"), big(x, 2, false), v, "ms", u, Color::Yellow, tr);
    let x = r.and_then(|r| r.amplitude_deg);
    let (v, u) = fmt_fig(x, 0, false);
    let tr = line(|p| p.amplitude_deg, 0, false);
    readout(f, cols[2], &t("Amplitude, deg", "Amplitude"), big(x, 0, false), v, "deg", u, Color::Green, tr);
}

/// Picks one figure of each trend point.
type TrendPick = fn(&crate::live::TrendPoint) -> Option<Figure>;

/// The finite (time, value) points of one figure of the trend.
fn pick(d: &ViewData, g: TrendPick) -> Vec<(f64, f64)> {
    d.trend.iter().filter_map(|p| g(p).map(|x| (p.t_s, x.value))).filter(|p| p.1.is_finite()).collect()
}

/// The window the trend shows: whole minutes (at least one, up to ten) back from the last
/// point, and the points in it.
fn recent(pts: &[(f64, f64)]) -> (f64, Vec<(f64, f64)>) {
    let t1 = pts.last().map(|p| p.0).unwrap_or(0.0);
    let t_first = pts.first().map(|p| p.0).unwrap_or(0.0);
    let minutes = ((t1 - t_first) / 60.0).ceil().clamp(1.0, 10.0);
    let t0 = t1 - minutes * 60.0;
    (minutes, pts.iter().copied().filter(|p| p.0 >= t0).collect())
}

/// One figure's trend in one line, longest wording first: over the trend panel's window, a
/// sparkline of `n` bucket means and the range `lo..hi` (the panel title's numbers).
fn trend_line(pts: &[(f64, f64)], dec: usize, signed: bool) -> Vec<String> {
    let (minutes, shown) = recent(pts);
    if shown.is_empty() {
        return vec!["trend: none yet".into(), "trend --".into()];
    }
    let (lo, hi) = shown.iter().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let v = |x: f64| if signed { format!("{x:+.dec$}") } else { format!("{x:.dec$}") };
    let range = format!("{}..{}", v(lo), v(hi));
    // One cell step is at least one displayed digit: a change the range does not show is not drawn.
    // A trend narrower than that is drawn around ▄.
    let min_span = 7.0 * 10f64.powi(-(dec as i32));
    let (base, span) =
        if hi - lo >= min_span { (lo, hi - lo) } else { ((lo + hi) / 2.0 - min_span * 3.0 / 7.0, min_span) };
    let (s6, s4) = (sparkline(&shown, 6, base, span), sparkline(&shown, 4, base, span));
    vec![
        format!("trend {minutes:.0} min {s6} {range}"),
        format!("trend {s6} {range}"),
        format!("trend {s4} {range}"),
        format!("{s4} {range}"),
        range,
    ]
}

/// Up to `n` cells of ▁..█, each the mean of an equal share of `pts`, ▁ at `base` and █ at
/// `base + span`.
fn sparkline(pts: &[(f64, f64)], n: usize, base: f64, span: f64) -> String {
    const CELLS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let n = n.min(pts.len()).max(1);
    (0..n)
        .map(|k| {
            let part = &pts[k * pts.len() / n..((k + 1) * pts.len() / n).max(k * pts.len() / n + 1)];
            let mean = part.iter().map(|p| p.1).sum::<f64>() / part.len() as f64;
            CELLS[((mean - base) / span * 7.0).round().clamp(0.0, 7.0) as usize]
        })
        .collect()
}

/// A strip deviation folded into the strip's height (the trace wraps as on paper).
pub fn wrap_ms(dev_ms: f64, height_ms: f64) -> f64 {
    (dev_ms + height_ms / 2.0).rem_euclid(height_ms) - height_ms / 2.0
}

/// The paper strip: tic and toc traces at the fixed height `d.strip_ms`, wrapping, over the
/// last `d.strip_s` seconds; the rate is the slope (+ = early beats, a gaining watch rises, as
/// in the report), drawn as a grey guide through the first beat.
pub(super) fn strip(f: &mut Frame, area: Rect, d: &ViewData) {
    let (h, span) = (d.strip_ms, d.strip_s.max(1.0));
    let t1 = d.elapsed_s.max(span);
    let t0 = t1 - span;
    let ms = if h < 1.0 { format!("{h:.1}") } else { format!("{h:.0}") };
    let titles = [
        format!("Paper strip: {ms} ms tall, {span:.0} s, wraps; up = gaining, slope = rate"),
        format!("Paper strip {ms} ms, {span:.0} s, wraps; up = gaining"),
        format!("Paper strip {ms} ms, {span:.0} s; up = gaining"),
        format!("Paper strip {ms} ms; up = gaining"),
        format!("Strip {ms} ms; up = gain"),
        format!("{ms} ms"),
    ];
    let mut tic = Vec::with_capacity(d.strip.len());
    let mut toc = Vec::with_capacity(d.strip.len());
    for p in d.strip.iter().filter(|p| p.t_s >= t0) {
        let pt = (p.t_s, wrap_ms(p.dev_ms, h));
        if p.side == 0 {
            tic.push(pt)
        } else {
            toc.push(pt)
        }
    }
    let rate = d.reading.as_ref().and_then(|r| r.rate_s_per_day).map(|r| r.value);
    let guide: Vec<(f64, f64)> = match (d.strip.first(), d.strip.last(), rate) {
        (Some(a), Some(z), Some(rate)) => {
            let n = (area.width as usize * 2).max(2);
            let (from, to) = (t0.max(a.t_s), z.t_s);
            (0..n)
                .map(|i| from + (to - from) * i as f64 / (n - 1) as f64)
                .map(|t| (t, wrap_ms(a.dev_ms + rate / 86.4 * (t - a.t_s), h)))
                .collect()
        }
        _ => Vec::new(),
    };
    let c = Canvas::default()
        .block(boxed(area, &titles, Style::default()))
        .marker(Marker::Braille)
        .x_bounds([t0, t1])
        .y_bounds([-h / 2.0, h / 2.0])
        .paint(move |ctx| {
            ctx.draw(&Points { coords: &guide, color: Color::DarkGray });
            ctx.layer();
            ctx.draw(&Points { coords: &tic, color: Color::Cyan });
            ctx.draw(&Points { coords: &toc, color: Color::Magenta });
        });
    f.render_widget(c, area);
}

/// The averaged tic (top) and toc (bottom) with their unlock (green) and drop (red) marks.
pub(super) fn waveforms(f: &mut Frame, area: Rect, d: &ViewData) {
    let titles = [
        "Averaged tic (top), toc: | unlock green, | drop red".to_string(),
        "Tic (top), toc: | unlock green, drop red".to_string(),
        "Tic/toc: unlock green, drop red".to_string(),
        "Tic/toc".to_string(),
    ];
    let block = boxed(area, &titles, Style::default());
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

/// Rate, amplitude and beat error over the minutes of the session, side by side.
pub(super) fn trend(f: &mut Frame, area: Rect, d: &ViewData) {
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Ratio(1, 3), Constraint::Ratio(1, 3), Constraint::Ratio(1, 3)])
        .split(area);
    let rate = pick(d, |p| Some(p.rate_s_per_day));
    let amp = pick(d, |p| p.amplitude_deg);
    let be = pick(d, |p| p.beat_error_ms);
    trend_panel(f, cols[0], "Rate", "s/day", 1, true, &rate, Color::Cyan);
    trend_panel(f, cols[1], "Amplitude", "deg", 0, false, &amp, Color::Green);
    trend_panel(f, cols[2], "Beat error", "ms", 2, false, &be, Color::Yellow);
}

#[allow(clippy::too_many_arguments)]
fn trend_panel(
    f: &mut Frame,
    area: Rect,
    name: &str,
    unit: &str,
    dec: usize,
    signed: bool,
    pts: &[(f64, f64)],
    col: Color,
) {
    // Whole minutes, at least one: the time axis grows a minute at a time, up to ten.
    let (minutes, shown) = recent(pts);
    let t1 = pts.last().map(|p| p.0).unwrap_or(0.0);
    let t0 = t1 - minutes * 60.0;
    let (lo, hi) = shown.iter().fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
    let v = |x: f64| if signed { format!("{x:+.dec$}") } else { format!("{x:.dec$}") };
    let titles = if shown.is_empty() {
        vec![format!("{name} trend, {unit}: none yet"), format!("{name} {unit}"), name.to_string()]
    } else {
        vec![
            format!("{name}, {unit}: {} .. {}, last {minutes:.0} min", v(lo), v(hi)),
            format!("{name} {unit} {}..{}", v(lo), v(hi)),
            format!("{name} {unit}"),
            name.to_string(),
        ]
    };
    let (lo, hi) = if shown.is_empty() { (-1.0, 1.0) } else { (lo, hi) };
    let pad = ((hi - lo) * 0.1).max(10f64.powi(-(dec as i32)));
    let c = Canvas::default()
        .block(boxed(area, &titles, Style::default().fg(col)))
        .marker(Marker::Braille)
        .x_bounds([t0, t1.max(t0 + 1.0)])
        .y_bounds([lo - pad, hi + pad])
        .paint(move |ctx| {
            for w in shown.windows(2) {
                ctx.draw(&CLine { x1: w[0].0, y1: w[0].1, x2: w[1].0, y2: w[1].1, color: col });
            }
            if shown.len() == 1 {
                ctx.draw(&Points { coords: &shown, color: col });
            }
        });
    f.render_widget(c, area);
}

fn fig_text(x: Option<Figure>, dec: usize, signed: bool, unit: &str) -> String {
    match fmt_fig(x, dec, signed) {
        (Some(v), Some(u)) => format!("{v} ± {u} {unit}"),
        (Some(v), None) => format!("{v} {unit}"),
        _ => format!("-- {unit}"),
    }
}

/// The positions of a guided protocol: done ones with their readings, the current one, the rest.
pub(super) fn positions(f: &mut Frame, area: Rect, d: &ViewData) {
    let titles = [
        "Positions: rate, beat error, amplitude of each measuring stretch".to_string(),
        "Positions".to_string(),
    ];
    let block = boxed(area, &titles, Style::default().add_modifier(Modifier::BOLD));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let room = (inner.width as usize).saturating_sub(1);
    let lines: Vec<Line> = d
        .protocol
        .iter()
        .map(|r| {
            let (state, col) = match r.state {
                RowState::Pending => ("to do", Color::Gray),
                RowState::Settling => ("settling", Color::Yellow),
                RowState::Measuring => ("measuring", Color::Yellow),
                RowState::Done => ("done", Color::Green),
                RowState::Kept => ("kept", Color::Green),
            };
            let p = r.position;
            let figs = [
                fig_text(r.rate_s_per_day, 1, true, "s/day"),
                fig_text(r.beat_error_ms, 2, false, "ms"),
                fig_text(r.amplitude_deg, 0, false, "deg"),
            ];
            let long = format!("{} {:<11} {:<9} {}", p.code(), p.words(), state, figs.join("  "));
            let short = format!("{} {:<9} {}", p.code(), state, figs[0]);
            let text = first_fitting(&[long, short, format!("{} {state}", p.code())], room);
            let _ = width(&text);
            Line::from(Span::styled(text, Style::default().fg(col)))
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_flat_at_the_shown_precision_draws_a_flat_sparkline() {
        let pts: Vec<(f64, f64)> = (0..12).map(|k| (10.0 * k as f64, 12.0 + 0.004 * k as f64)).collect();
        let line = trend_line(&pts, 1, true);
        assert_eq!(line[0], "trend 2 min ▄▄▄▄▄▄ +12.0..+12.0");
    }

    #[test]
    fn a_rising_trend_draws_a_rising_sparkline() {
        let pts: Vec<(f64, f64)> = (0..12).map(|k| (10.0 * k as f64, 250.0 + 2.0 * k as f64)).collect();
        assert_eq!(trend_line(&pts, 0, false)[1], "trend ▁▃▄▅▆█ 250..272");
    }
}
