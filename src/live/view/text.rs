//! Text that fits: lines packed from items (never cut inside an item), the first of several
//! wordings that fits a width, and word wrapping. The view uses them so that nothing it draws
//! is truncated at any terminal size.
use ratatui::text::{Line, Span};

/// Display width of `s` in terminal cells (every character the view uses is one cell wide).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// The first of `candidates` at most `max` cells wide, else the last one shortened from the
/// left with `…` (which keeps the end, where a file name is).
pub fn first_fitting(candidates: &[String], max: usize) -> String {
    if let Some(c) = candidates.iter().find(|c| width(c) <= max) {
        return c.clone();
    }
    shorten_left(candidates.last().map(String::as_str).unwrap_or(""), max)
}

/// `s` shortened from the left to `max` cells with a leading `…`.
pub fn shorten_left(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let tail: Vec<char> = s.chars().rev().take(max - 1).collect();
    std::iter::once('…').chain(tail.into_iter().rev()).collect()
}

/// Packs items (each a few styled spans) into lines at most `max` cells wide, `sep` between
/// items on a line; an item wider than a line gets a line of its own (shortened from the
/// left when it is a single span).
pub fn flow(items: Vec<Vec<Span<'static>>>, sep: &str, max: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut cur_w = 0;
    for mut item in items {
        let mut w: usize = item.iter().map(|s| width(&s.content)).sum();
        if w > max && item.len() == 1 {
            let s = &item[0];
            item = vec![Span::styled(shorten_left(&s.content, max), s.style)];
            w = max.min(w);
        }
        let need = if cur.is_empty() { w } else { cur_w + width(sep) + w };
        if need > max && !cur.is_empty() {
            lines.push(Line::from(std::mem::take(&mut cur)));
            cur_w = 0;
        }
        if !cur.is_empty() {
            cur.push(Span::raw(sep.to_string()));
            cur_w += width(sep);
        }
        cur_w += w;
        cur.extend(item);
    }
    if !cur.is_empty() {
        lines.push(Line::from(cur));
    }
    lines
}

/// Word-wraps `text` to lines of at most `max` cells (a word longer than a line is split).
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > max {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(word.drain(..max).collect());
        }
        let word: String = word.into_iter().collect();
        if !cur.is_empty() && width(&cur) + 1 + width(&word) > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_breaks_between_items_never_inside_one() {
        let items = vec![vec![Span::raw("aaaa")], vec![Span::raw("bbbb")], vec![Span::raw("cc")]];
        let lines = flow(items, " · ", 11);
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["aaaa · bbbb", "cc"]);
    }

    #[test]
    fn a_long_single_item_keeps_its_end() {
        assert_eq!(shorten_left("/very/long/path/view.wav", 10), "…/view.wav");
        assert_eq!(first_fitting(&["long wording".into(), "short".into()], 6), "short");
    }

    #[test]
    fn wrap_keeps_every_word() {
        let w = wrap("the ticks fit 28800 bph (a: back to automatic)", 20);
        assert!(w.iter().all(|l| width(l) <= 20), "{w:?}");
        assert_eq!(w.join(" "), "the ticks fit 28800 bph (a: back to automatic)");
    }
}
