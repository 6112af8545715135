//! The plots of a claim, each drawn once for SVG (inline in the report) and once for PNG.
//!
//! Every plot is readable in black and white: series differ by marker shape and line dash, not
//! colour alone; axes carry their units.
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{dashes, draw_legend, style_of, Mark, LEGEND_W, LINE_NAMES, MARKER_NAMES};
use super::{
    ensure_font, PaperStrip, Plot, PositionRate, ReportError, StepResiduals, ToleranceBand, Waveform,
};
use crate::measurement::{Figure, WindowRate};

/// What drawing a plot gives: nothing, or the backend's error.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error>>;

const W: u32 = 900;
const H: u32 = 420;
const FONT: &str = "sans-serif";
const GREY: RGBColor = RGBColor(110, 110, 110);

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

type Areas<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

/// The white page split into the data area and the legend column on its right.
fn split<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> Result<Areas<DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    Ok(root.split_horizontally(W - LEGEND_W))
}

/// The frame every plot shares: title, margins and label areas, f64 axes.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<Chart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(root)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)?)
}

/// The plain grid with both axes described (units in the descriptions).
fn mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x_desc: impl Into<String>,
    y_desc: impl Into<String>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 14))
        .draw()?;
    Ok(())
}

/// Draws marker `k` (0..6, as [`super::legend::marker`] draws it in the legend) at every point.
fn draw_markers<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, pts: &[(f64, f64)], k: usize) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (solid, line) = (BLACK.filled(), BLACK.stroke_width(2));
    let at = pts.iter().copied();
    match k % 6 {
        0 => chart.draw_series(at.map(|p| Circle::new(p, 4, solid)))?,
        1 => chart.draw_series(at.map(|p| Cross::new(p, 4, line)))?,
        2 => chart.draw_series(at.map(|p| TriangleMarker::new(p, 5, solid)))?,
        3 => chart.draw_series(at.map(|p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], line)))?,
        4 => chart.draw_series(at.map(|p| Circle::new(p, 4, line)))?,
        _ => chart.draw_series(
            at.map(|p| EmptyElement::at(p) + Polygon::new(vec![(0, -5), (5, 0), (0, 5), (-5, 0)], solid)),
        )?,
    };
    Ok(())
}

/// Draws `$body` (which uses `$root`) once on an SVG string and once on an RGB buffer.
macro_rules! render_both {
    ($name:expr, $title:expr, $root:ident => $body:expr) => {{
        ensure_font()?;
        let mut svg = String::new();
        {
            let $root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
            $body.map_err(|e| ReportError::Plot { plot: $name.to_string(), problem: e.to_string() })?;
            $root
                .present()
                .map_err(|e| ReportError::Plot { plot: $name.to_string(), problem: e.to_string() })?;
        }
        let mut rgb = vec![0u8; (W * H * 3) as usize];
        {
            let $root = super::glyphs::TextBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area();
            $body.map_err(|e| ReportError::Plot { plot: $name.to_string(), problem: e.to_string() })?;
            $root
                .present()
                .map_err(|e| ReportError::Plot { plot: $name.to_string(), problem: e.to_string() })?;
        }
        Ok(Plot { name: $name.to_string(), title: $title.to_string(), svg, png: encode_png(&rgb, W, H)? })
    }};
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ReportError> {
    let mut out = Vec::new();
    let err = |e: png::EncodingError| ReportError::Plot { plot: "png".into(), problem: e.to_string() };
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(rgb).map_err(err)?;
    }
    Ok(out)
}

/// Range covering `values` with a margin, never empty.
fn span(values: impl Iterator<Item = f64>, extra: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.chain(extra.iter().copied()).filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-3 * hi.abs().max(lo.abs())).max(1e-6);
    (lo - pad, hi + pad)
}

fn check_lengths(plot: &str, lens: &[usize]) -> Result<(), ReportError> {
    if lens.windows(2).any(|w| w[0] != w[1]) {
        return Err(ReportError::Input { plot: plot.into(), problem: "series of different lengths".into() });
    }
    if lens.first().copied().unwrap_or(0) == 0 {
        return Err(ReportError::Input { plot: plot.into(), problem: "no points".into() });
    }
    Ok(())
}

/// The paper strip of one position: each beat's timing deviation against time, tic and toc
/// apart, with the rate drawn as the slope of a dashed line.
pub fn paper_strip(position: &str, strip: &PaperStrip) -> Result<Plot, ReportError> {
    let name = format!("paper-strip-{position}");
    check_lengths(&name, &[strip.t_s.len(), strip.deviation_ms.len(), strip.side.len()])?;
    let title = format!("Paper strip, {}", crate::record::id::position_words(position));
    render_both!(name, title, root => draw_paper_strip(&root, &title, strip))
}

fn draw_paper_strip<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    s: &PaperStrip,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (area, side) = split(root)?;
    let (x0, x1) = span(s.t_s.iter().copied(), &[]);
    let (y0, y1) = span(s.deviation_ms.iter().copied(), &[]);
    let mut chart = frame(&area, title, x0..x1, y0..y1)?;
    mesh(&mut chart, "time (s)", "beat timing deviation (ms), + = early")?;
    let pts = |side: u8| {
        s.t_s
            .iter()
            .zip(&s.deviation_ms)
            .zip(&s.side)
            .filter(move |(_, &k)| k == side)
            .map(|((&t, &d), _)| (t, d))
    };
    chart.draw_series(pts(0).map(|p| Circle::new(p, 2, BLACK.filled())))?;
    chart.draw_series(pts(1).map(|p| Cross::new(p, 3, BLACK.stroke_width(1))))?;
    let mut items =
        vec![("tic (dots)".to_string(), Mark::Marker(0)), ("toc (crosses)".to_string(), Mark::Marker(1))];
    if let Some(rate) = s.rate_s_per_day {
        // Deviation grows by rate / 86.4 ms per second of recording (rate s/day over 86 400 s).
        let slope = rate / 86.4;
        let n = s.t_s.len() as f64;
        let (mt, md) = (s.t_s.iter().sum::<f64>() / n, s.deviation_ms.iter().sum::<f64>() / n);
        let line = [(x0, md + slope * (x0 - mt)), (x1, md + slope * (x1 - mt))];
        chart.draw_series(DashedLineSeries::new(line, 8, 5, BLACK.stroke_width(2)))?;
        items.push((format!("rate {rate:+.1} s/day (dashed slope)"), Mark::Line(Some((8, 5)), 2, false)));
    }
    // The same sign as the terminal's live strip: a beat that comes early is drawn higher.
    items.push(("line rising: gaining".into(), Mark::Note("↑")));
    items.push(("line falling: losing".into(), Mark::Note("↓")));
    draw_legend(&side, &items)
}

/// Rate per position with its u95 bar, against the tolerance band and the average X.
pub fn position_rates(
    rates: &[PositionRate],
    unit: &str,
    band: Option<ToleranceBand>,
    average: Option<Figure>,
) -> Result<Plot, ReportError> {
    check_lengths("rates", &[rates.len()])?;
    let title = format!("Rate per position ({unit}), with 95% uncertainty");
    render_both!("rates", title, root => draw_rates(&root, &title, rates, unit, band, average))
}

fn draw_rates<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    rates: &[PositionRate],
    unit: &str,
    band: Option<ToleranceBand>,
    average: Option<Figure>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (area, side) = split(root)?;
    let mut extra = Vec::new();
    if let Some(b) = band {
        extra.extend([b.lo, b.hi]);
    }
    if let Some(a) = average {
        extra.extend([a.lo(), a.hi()]);
    }
    let (y0, y1) = span(rates.iter().flat_map(|r| [r.rate.lo(), r.rate.hi()]), &extra);
    let n = rates.len();
    let mut chart = frame(&area, title, -0.6f64..(n as f64 - 0.4), y0..y1)?;
    let labels: Vec<String> = rates.iter().map(|r| r.position.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE.mix(0.0))
        .x_labels(n.max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("position")
        .y_desc(format!("rate ({unit})"))
        .label_style((FONT, 14))
        .draw()?;
    let (xa, xb) = (-0.6, n as f64 - 0.4);
    let mut items = Vec::new();
    if let Some(b) = band {
        for y in [b.lo, b.hi] {
            chart.draw_series(DashedLineSeries::new([(xa, y), (xb, y)], 10, 6, GREY.stroke_width(2)))?;
        }
        items.push((
            format!("tolerance {:+} .. {:+} {unit} (long dashes)", b.lo, b.hi),
            Mark::Line(Some((10, 6)), 2, true),
        ));
    }
    if let Some(a) = average {
        chart.draw_series(DashedLineSeries::new(
            [(xa, a.value), (xb, a.value)],
            3,
            3,
            BLACK.stroke_width(2),
        ))?;
        for y in [a.lo(), a.hi()] {
            chart.draw_series(DashedLineSeries::new([(xa, y), (xb, y)], 2, 6, BLACK.stroke_width(1)))?;
        }
        items.push((
            format!("average X {:+.2} ± {:.2} {unit} (dotted)", a.value, a.u95),
            Mark::Line(Some((3, 3)), 2, false),
        ));
    }
    for (i, r) in rates.iter().enumerate() {
        let x = i as f64;
        let st = BLACK.stroke_width(2);
        chart.draw_series(std::iter::once(PathElement::new([(x, r.rate.lo()), (x, r.rate.hi())], st)))?;
        for y in [r.rate.lo(), r.rate.hi()] {
            chart.draw_series(std::iter::once(PathElement::new([(x - 0.12, y), (x + 0.12, y)], st)))?;
        }
        let k = style_of(&r.position, i);
        draw_markers(&mut chart, &[(x, r.rate.value)], k)?;
        items.push((format!("{} ({}), bar: u95", r.position, MARKER_NAMES[k]), Mark::Marker(k)));
    }
    draw_legend(&side, &items)
}

/// Rate over the measurement, window by window, one marker shape per position.
pub fn rate_trend(series: &[(String, Vec<WindowRate>)]) -> Result<Plot, ReportError> {
    check_lengths("trend", &[series.iter().map(|s| s.1.len()).sum()])?;
    let title = "Rate over the measurement (10 s windows), with 95% uncertainty";
    render_both!("trend", title, root => draw_trend(&root, title, series))
}

fn draw_trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    series: &[(String, Vec<WindowRate>)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (area, side) = split(root)?;
    let mid = |w: &WindowRate| 0.5 * (w.start_s + w.end_s);
    let (x0, x1) = span(series.iter().flat_map(|s| s.1.iter().map(mid)), &[]);
    let (y0, y1) = span(
        series.iter().flat_map(|s| s.1.iter().flat_map(|w| [w.rate_s_per_day.lo(), w.rate_s_per_day.hi()])),
        &[],
    );
    let mut chart = frame(&area, title, x0..x1, y0..y1)?;
    mesh(&mut chart, "time in the recording (s)", "rate (s/day)")?;
    let mut items = Vec::new();
    for (i, (pos, windows)) in series.iter().enumerate() {
        // Each position slightly apart in time, so that error bars do not overlap.
        let shift = (i as f64 - (series.len() as f64 - 1.0) / 2.0) * (x1 - x0) * 0.006;
        for w in windows {
            let x = mid(w) + shift;
            let f = w.rate_s_per_day;
            chart.draw_series(std::iter::once(PathElement::new(
                [(x, f.lo()), (x, f.hi())],
                BLACK.stroke_width(1),
            )))?;
        }
        let pts: Vec<(f64, f64)> = windows.iter().map(|w| (mid(w) + shift, w.rate_s_per_day.value)).collect();
        let k = style_of(pos, i);
        match dashes(k) {
            None => {
                chart.draw_series(LineSeries::new(pts.iter().copied(), BLACK.stroke_width(1)))?;
            }
            Some((d, g)) => {
                chart.draw_series(DashedLineSeries::new(pts.iter().copied(), d, g, BLACK.stroke_width(1)))?;
            }
        }
        // Shapes and dashes, not colours, tell the positions apart (black-and-white print).
        draw_markers(&mut chart, &pts, k)?;
        items.push((format!("{pos} ({}, {})", MARKER_NAMES[k], LINE_NAMES[k]), Mark::Position(k)));
    }
    items.push(("bar: u95 of the window".into(), Mark::Bar(1)));
    draw_legend(&side, &items)
}

/// The averaged tic and toc waveforms, with the unlock and drop used for the amplitude marked.
pub fn waveform(position: &str, w: &Waveform) -> Result<Plot, ReportError> {
    let name = format!("waveform-{position}");
    check_lengths(&name, &[w.t_ms.len(), w.tic.len(), w.toc.len()])?;
    let title = format!("Averaged beat sound, {}", crate::record::id::position_words(position));
    render_both!(name, title, root => draw_waveform(&root, &title, w))
}

fn draw_waveform<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, w: &Waveform) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (area, side) = split(root)?;
    let (x0, x1) = span(w.t_ms.iter().copied(), &[]);
    let (y0, y1) = span(w.tic.iter().chain(&w.toc).copied(), &[]);
    let mut chart = frame(&area, title, x0..x1, y0..y1)?;
    mesh(&mut chart, "time from the beat's unlock (ms)", "envelope (relative)")?;
    chart.draw_series(LineSeries::new(
        w.t_ms.iter().copied().zip(w.tic.iter().copied()),
        BLACK.stroke_width(2),
    ))?;
    chart.draw_series(DashedLineSeries::new(
        w.t_ms.iter().copied().zip(w.toc.iter().copied()),
        6,
        4,
        GREY.stroke_width(2),
    ))?;
    let mut items = vec![
        ("tic (solid)".to_string(), Mark::Line(None, 2, false)),
        ("toc (dashed)".to_string(), Mark::Line(Some((6, 4)), 2, true)),
    ];
    let marks = [(w.unlock_ms, "unlock", 1u32), (w.drop_ms, "drop", 3u32)];
    for (t, what, width) in marks {
        if let Some(t) = t {
            chart.draw_series(std::iter::once(PathElement::new(
                [(t, y0), (t, y1)],
                BLACK.stroke_width(width),
            )))?;
            items.push((format!("{what} at {t:.2} ms"), Mark::Bar(width)));
        }
    }
    draw_legend(&side, &items)
}

/// Quartz: each motor step's timing residual, with the inhibition corrections marked.
pub fn step_residuals(position: &str, s: &StepResiduals) -> Result<Plot, ReportError> {
    let name = format!("steps-{position}");
    check_lengths(&name, &[s.t_s.len(), s.residual_ms.len()])?;
    let title = format!("Quartz step timing, {}", crate::record::id::position_words(position));
    render_both!(name, title, root => draw_steps(&root, &title, s))
}

fn draw_steps<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, s: &StepResiduals) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (area, side) = split(root)?;
    let (x0, x1) = span(s.t_s.iter().copied(), &[]);
    let (y0, y1) = span(s.residual_ms.iter().copied(), &[]);
    let mut chart = frame(&area, title, x0..x1, y0..y1)?;
    mesh(&mut chart, "time (s)", "step timing residual (ms)")?;
    chart.draw_series(
        s.t_s.iter().zip(&s.residual_ms).map(|(&t, &r)| Circle::new((t, r), 2, BLACK.filled())),
    )?;
    let mut items = vec![("motor steps (dots)".to_string(), Mark::Marker(0))];
    for &t in &s.inhibition_t_s {
        chart.draw_series(DashedLineSeries::new([(t, y0), (t, y1)], 6, 4, GREY.stroke_width(1)))?;
    }
    if !s.inhibition_t_s.is_empty() {
        items.push(("inhibition correction (dashed)".into(), Mark::Line(Some((6, 4)), 1, true)));
    }
    draw_legend(&side, &items)
}
