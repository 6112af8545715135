//! The bitmap backend the PNG plots are drawn on: plotters' [`BitMapBackend`] with its text
//! drawn here.
//!
//! plotters 0.3.7's `ab_glyph` font drawing places each glyph's ink at the pen position and drops
//! the glyph's left side bearing, so a letter with a wide bearing ("i", "m") sits against the one
//! before it and the next gap opens ("tim e"); it also truncates the pen to whole pixels. Here
//! every glyph is outlined at its exact (sub-pixel) pen position, so its ink lands where the font
//! puts it. Layout, anchors, rotation and the vertical placement stay plotters' own, so the plots'
//! geometry does not move; every text is drawn with the embedded font, the only one registered.
use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

use super::FONT_TTF;

/// [`BitMapBackend`] on an RGB buffer, with evenly spaced text.
pub(crate) struct TextBackend<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> TextBackend<'a> {
    /// The backend drawing on `buf`, `w` x `h` RGB pixels.
    pub(crate) fn with_buffer(buf: &'a mut [u8], (w, h): (u32, u32)) -> Self {
        TextBackend { inner: BitMapBackend::with_buffer(buf, (w, h)) }
    }
}

/// The embedded font, parsed once; `None` if it does not parse (then `ensure_font` failed first).
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_TTF).ok()).as_ref()
}

/// The coverage of every pixel of `text` at `size` px, pen starting at (0, 0), with plotters'
/// vertical convention (a glyph's ink top at `size / 2` plus its bounds' top).
fn rasterise(font: &FontRef<'static>, size: f32, text: &str) -> Vec<(i32, i32, f32)> {
    let scaled = font.as_scaled(size);
    let (mut pen, mut prev, mut ink) = (0f32, None, Vec::new());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        if let Some(outline) = scaled.outline_glyph(id.with_scale_and_position(size, point(pen, 0.0))) {
            let bounds = outline.px_bounds();
            let (x0, y0) = (bounds.min.x as i32, (size / 2.0 + bounds.min.y) as i32);
            outline.draw(|x, y, a| ink.push((x0 + x as i32, y0 + y as i32, a)));
        }
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    ink
}

type BackendResult<E> = Result<(), DrawingErrorKind<E>>;

impl DrawingBackend for TextBackend<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> BackendResult<Self::ErrorType> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> BackendResult<Self::ErrorType> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, at: BackendCoord, color: BackendColor) -> BackendResult<Self::ErrorType> {
        self.inner.draw_pixel(at, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_line(a, b, s)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        s: &S,
        fill: bool,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_rect(a, b, s, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        s: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_path(path, s)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        s: &S,
        fill: bool,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_circle(c, r, s, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        s: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.fill_polygon(vert, s)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (w, h): (u32, u32),
        src: &[u8],
    ) -> BackendResult<Self::ErrorType> {
        self.inner.blit_bitmap(pos, (w, h), src)
    }

    /// plotters' own `draw_text` (anchor from the layout box, then the font transform), with the
    /// glyphs rasterised by [`rasterise`].
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> BackendResult<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font =
            font().ok_or_else(|| DrawingErrorKind::FontError("the embedded font does not load".into()))?;
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let (trans, (w, h)) = (style.transform(), self.get_size());
        for (x, y, a) in rasterise(font, style.size() as f32, text) {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let alpha = color.alpha * f64::from(a);
                self.inner.draw_pixel((x, y), BackendColor { alpha, rgb: color.rgb })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ab_glyph::{Font, FontRef, ScaleFont};
    use plotters::prelude::*;

    use super::TextBackend;
    use crate::report::{ensure_font, FONT_TTF};

    const SIZE: f64 = 80.0;

    /// Left edges of the runs of inked columns (any channel darker than mid grey).
    fn ink_starts(rgb: &[u8], w: usize) -> Vec<usize> {
        let inked = |x: usize| rgb.chunks(3).skip(x).step_by(w).any(|p| p.iter().any(|&c| c < 128));
        (0..w).filter(|&x| inked(x) && (x == 0 || !inked(x - 1))).collect()
    }

    /// Where the font puts each glyph's ink: caret (advances and kerning) plus its left bearing.
    fn font_starts(text: &str) -> Vec<f32> {
        let font = FontRef::try_from_slice(FONT_TTF).unwrap();
        let font = font.as_scaled(SIZE as f32);
        let (mut caret, mut prev, mut out) = (0.0, None, vec![]);
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                caret += font.kern(p, id);
            }
            out.push(caret + font.h_side_bearing(id));
            caret += font.h_advance(id);
            prev = Some(id);
        }
        out
    }

    fn render(text: &str) -> Vec<usize> {
        ensure_font().unwrap();
        let (w, h) = (500u32, 140u32);
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        {
            let root = TextBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            root.draw(&Text::new(text.to_string(), (20, 30), ("sans-serif", SIZE).into_font())).unwrap();
            root.present().unwrap();
        }
        ink_starts(&rgb, w as usize)
    }

    #[test]
    fn each_letter_of_a_png_label_starts_where_the_font_puts_it() {
        // "tim e" was the symptom: each glyph was drawn without its left side bearing.
        for word in ["time", "rate", "Tilt"] {
            let (got, want) = (render(word), font_starts(word));
            assert_eq!(got.len(), want.len(), "{word}: one run of ink per letter, got {got:?}");
            for k in 1..got.len() {
                let (g, w) = ((got[k] - got[0]) as f32, want[k] - want[0]);
                assert!((g - w).abs() <= 1.5, "{word}: letter {k} starts at {g} px, the font says {w:.1}");
            }
        }
    }
}
