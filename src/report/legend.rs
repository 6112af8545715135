//! Plot legends drawn beside the data area (never over a point), and the marker and line style
//! of each watch position: six positions, six markers and six line styles, so every position
//! can be told apart in black-and-white print.
use plotters::coord::Shift;
use plotters::element::{DynElement, IntoDynElement};
use plotters::prelude::*;

use super::plots::DrawResult;

/// Width of the legend column on the right of every plot, pixels.
pub const LEGEND_W: u32 = 230;
const FONT: &str = "sans-serif";
const GREY: RGBColor = RGBColor(110, 110, 110);

/// The six standard positions in protocol order: a position's index picks its style.
const POSITIONS: [&str; 6] = ["DU", "DD", "CD", "CL", "CU", "CR"];

/// The marker names, for a legend read in words.
pub const MARKER_NAMES: [&str; 6] = ["dots", "crosses", "triangles", "squares", "rings", "diamonds"];

/// The style index of a position: its place among the six standard ones, else its order `k`.
pub fn style_of(position: &str, k: usize) -> usize {
    POSITIONS.iter().position(|p| *p == position).unwrap_or(k) % 6
}

/// Marker `k` (0..6) at `at`, in any coordinate (data or pixels).
pub fn marker<'a, DB: DrawingBackend + 'a, C: Clone + 'a>(at: C, k: usize) -> DynElement<'a, DB, C> {
    let solid = BLACK.filled();
    let line = BLACK.stroke_width(2);
    match k % 6 {
        0 => (EmptyElement::at(at) + Circle::new((0, 0), 4, solid)).into_dyn(),
        1 => (EmptyElement::at(at) + Cross::new((0, 0), 4, line)).into_dyn(),
        2 => (EmptyElement::at(at) + TriangleMarker::new((0, 0), 5, solid)).into_dyn(),
        3 => (EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], line)).into_dyn(),
        4 => (EmptyElement::at(at) + Circle::new((0, 0), 4, line)).into_dyn(),
        _ => (EmptyElement::at(at) + Polygon::new(vec![(0, -5), (5, 0), (0, 5), (-5, 0)], solid)).into_dyn(),
    }
}

/// Line style `k` (0..6): solid, dashed, dotted, long dashes, short dashes, sparse dots, as
/// (dash, gap) pixels; `None` is solid.
pub fn dashes(k: usize) -> Option<(u32, u32)> {
    [None, Some((10, 5)), Some((2, 4)), Some((18, 5)), Some((5, 3)), Some((2, 9))][k % 6]
}

/// The line style names, for a legend read in words.
pub const LINE_NAMES: [&str; 6] = ["solid", "dashed", "dotted", "long dashes", "short dashes", "sparse dots"];

/// What a legend entry shows before its label.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// Position marker `k` on line style `k`.
    Position(usize),
    /// A marker alone.
    Marker(usize),
    /// A line: (dash, gap) or solid, width, grey or black.
    Line(Option<(u32, u32)>, u32, bool),
    /// A short vertical bar of this width.
    Bar(u32),
    /// A symbol in text (an arrow).
    Note(&'static str),
}

/// Draws the legend `items` in `side` (the column right of the data area), top down.
pub fn draw_legend<DB: DrawingBackend>(side: &DrawingArea<DB, Shift>, items: &[(String, Mark)]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut y = 48;
    for (label, mark) in items {
        draw_mark(side, *mark, y)?;
        for (i, line) in wrap(label, 27).iter().enumerate() {
            side.draw(&Text::new(line.clone(), (42, y - 7 + 16 * i as i32), (FONT, 13).into_font()))?;
        }
        y += 16 * wrap(label, 27).len() as i32 + 8;
    }
    Ok(())
}

fn draw_mark<DB: DrawingBackend>(side: &DrawingArea<DB, Shift>, mark: Mark, y: i32) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let line = |dash: Option<(u32, u32)>, width: u32, grey: bool| -> DrawResult {
        let style = if grey { GREY.stroke_width(width) } else { BLACK.stroke_width(width) };
        let pts = [(6, y), (36, y)];
        match dash {
            None => side.draw(&PathElement::new(pts, style))?,
            Some((d, g)) => {
                for e in DashedLineSeries::new(pts, d, g, style) {
                    side.draw(&e)?;
                }
            }
        }
        Ok(())
    };
    match mark {
        Mark::Position(k) => {
            line(dashes(k), 1, false)?;
            side.draw(&marker::<DB, (i32, i32)>((21, y), k))?;
        }
        Mark::Marker(k) => side.draw(&marker::<DB, (i32, i32)>((21, y), k))?,
        Mark::Line(d, w, grey) => line(d, w, grey)?,
        Mark::Bar(w) => side.draw(&PathElement::new([(21, y - 7), (21, y + 7)], BLACK.stroke_width(w)))?,
        Mark::Note(t) => side.draw(&Text::new(t, (15, y - 9), (FONT, 17).into_font()))?,
    }
    Ok(())
}

/// Splits `s` into lines of at most `width` characters at spaces.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in s.split(' ') {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_position_has_its_own_marker_and_line() {
        let k: Vec<usize> = POSITIONS.iter().enumerate().map(|(i, p)| style_of(p, i)).collect();
        for (i, a) in k.iter().enumerate() {
            assert!(k[..i].iter().all(|b| b != a), "{} shares a style", POSITIONS[i]);
        }
        assert_ne!(style_of("DU", 0), style_of("CU", 4));
        assert_eq!(wrap("tolerance -15 .. +15 s/day (long dashes)", 27).len(), 2);
    }
}
