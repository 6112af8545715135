//! Large digits for the readouts, drawn from a 3x5 pixel font with half-block characters at
//! any whole scale, so they grow with the terminal (3 rows at 80x24, 8 rows at full screen).
//! Only `█ ▀ ▄` and spaces are used: block elements every terminal font has.

/// Pixel rows of a glyph at scale 1 (3 wide, 5 tall; `#` lit). `.` is one pixel wide.
fn bitmap(c: char) -> Option<[&'static str; 5]> {
    Some(match c {
        '0' => ["###", "#.#", "#.#", "#.#", "###"],
        '1' => [".#.", "##.", ".#.", ".#.", "###"],
        '2' => ["###", "..#", "###", "#..", "###"],
        '3' => ["###", "..#", "###", "..#", "###"],
        '4' => ["#.#", "#.#", "###", "..#", "..#"],
        '5' => ["###", "#..", "###", "..#", "###"],
        '6' => ["###", "#..", "###", "#.#", "###"],
        '7' => ["###", "..#", "..#", "..#", "..#"],
        '8' => ["###", "#.#", "###", "#.#", "###"],
        '9' => ["###", "#.#", "###", "..#", "###"],
        '+' => ["...", ".#.", "###", ".#.", "..."],
        '-' => ["...", "...", "###", "...", "..."],
        '.' => [".", ".", ".", ".", "#"],
        ' ' => ["...", "...", "...", "...", "..."],
        _ => return None,
    })
}

/// Terminal rows of the digits at `scale` (5 pixels a scale unit, two pixels a row).
pub fn rows_at(scale: usize) -> usize {
    (5 * scale).div_ceil(2)
}

/// Terminal columns `text` takes at `scale` (a gap of one scale unit between glyphs), or
/// `None` when it holds a character the font lacks.
pub fn width_at(text: &str, scale: usize) -> Option<usize> {
    let mut w = 0;
    for (i, c) in text.chars().enumerate() {
        w += bitmap(c)?[0].len() * scale + if i > 0 { scale } else { 0 };
    }
    Some(w)
}

/// The largest scale (1..=8) at which `text` fits in `width` x `height` cells.
pub fn best_scale(text: &str, width: usize, height: usize) -> Option<usize> {
    (1..=8).rev().find(|&k| rows_at(k) <= height && width_at(text, k).is_some_and(|w| w <= width))
}

/// `text` drawn at `scale`: [`rows_at`] lines of [`width_at`] columns, or `None` when the
/// font lacks one of its characters.
pub fn render(text: &str, scale: usize) -> Option<Vec<String>> {
    let k = scale.max(1);
    let glyphs: Vec<[&str; 5]> = text.chars().map(bitmap).collect::<Option<_>>()?;
    // Pixel rows of the whole text, `true` = lit.
    let mut px: Vec<Vec<bool>> = vec![Vec::new(); 5 * k];
    for (i, g) in glyphs.iter().enumerate() {
        for (r, row) in g.iter().enumerate() {
            for y in 0..k {
                let line = &mut px[r * k + y];
                if i > 0 {
                    line.extend(std::iter::repeat_n(false, k));
                }
                for c in row.chars() {
                    line.extend(std::iter::repeat_n(c == '#', k));
                }
            }
        }
    }
    let blank = vec![false; px[0].len()];
    let out = (0..rows_at(k))
        .map(|row| {
            let top = &px[2 * row];
            let bottom = px.get(2 * row + 1).unwrap_or(&blank);
            top.iter()
                .zip(bottom)
                .map(|(&t, &b)| match (t, b) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                })
                .collect()
        })
        .collect();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_grow_with_the_scale_and_keep_their_shape() {
        let one = render("+8.0", 1).unwrap();
        assert_eq!(one.len(), 3);
        assert_eq!(one[0].chars().count(), width_at("+8.0", 1).unwrap());
        let three = render("+8.0", 3).unwrap();
        assert_eq!(three.len(), rows_at(3));
        assert_eq!(three.len(), 8);
        assert_eq!(three[0].chars().count(), 3 * width_at("+8.0", 1).unwrap());
        assert!(render("8x", 1).is_none());
    }

    #[test]
    fn the_best_scale_is_the_largest_that_fits_both_ways() {
        assert_eq!(best_scale("250", 100, 3), Some(1));
        assert_eq!(best_scale("250", 100, 5), Some(2));
        assert_eq!(best_scale("250", 100, 8), Some(3));
        // 3 glyphs of 3 units and 2 gaps: 11 columns a unit.
        assert_eq!(best_scale("250", 22, 40), Some(2));
        assert_eq!(best_scale("250", 10, 40), None);
    }
}
