//! The report's words and numbers: HTML escaping, figures with the decimals their u95 sets, and
//! the verdict, decision rule and recorder source in plain words (never an internal name).
use serde_json::Value;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// The decimals a figure is shown with: two significant digits of its u95, 0 to 3.
pub fn decimals_for(u95: f64) -> usize {
    if u95 > 0.0 && u95.is_finite() {
        (1.0 - u95.log10().floor()).clamp(0.0, 3.0) as usize
    } else {
        3
    }
}

/// The u95 at `d` decimals; below what `d` decimals can show, "< 0.001".
fn u95_text(u95: f64, d: usize) -> String {
    let least = 10f64.powi(-(d as i32));
    if u95 < least / 2.0 {
        format!("< {least:.d$}")
    } else {
        format!("{u95:.d$}")
    }
}

/// `value ± u95 unit` with the decimals the u95 sets; `signed` shows `+` for gains.
pub fn figure(value: f64, u95: f64, unit: &str, signed: bool) -> String {
    figure_at(value, u95, unit, signed, decimals_for(u95))
}

/// As [`figure`], at `d` decimals (for a column shown alike).
pub fn figure_at(value: f64, u95: f64, unit: &str, signed: bool, d: usize) -> String {
    let v = if signed { format!("{value:+.d$}") } else { format!("{value:.d$}") };
    let v = v.replace('-', "−");
    let sep = if unit.is_empty() || unit == "°" { "" } else { " " };
    format!("{v} ± {}{sep}{unit}", u95_text(u95, d))
}

/// `± u95 unit` alone, with the decimals the u95 sets.
pub fn u95_only(u95: f64, unit: &str) -> String {
    format!("± {} {unit}", u95_text(u95, decimals_for(u95)))
}

/// `{value, u95}` at `key` of a JSON object.
pub fn fig_of(v: &Value, key: &str) -> Option<(f64, f64)> {
    let f = v.get(key)?;
    Some((f.get("value")?.as_f64()?, f.get("u95")?.as_f64()?))
}

/// The verdict as the headline word(s) of the report.
pub fn verdict_title(verdict: Option<&str>) -> &'static str {
    match verdict {
        None => "Not judged yet",
        Some("defect") => "Defect: covered by the warranty",
        Some("within_spec") => "Within the warranty's tolerance",
        Some("inconclusive") => "Not decided: more measurement needed",
        Some("needs_model_spec") => "The model's specification decides",
        Some("not_a_defect") => "Not a defect of the movement",
        Some("excluded") => "Excluded from the warranty",
        Some(_) => "Verdict",
    }
}

/// The decision rule in words, from its name in the record.
pub fn rule_words(rule: &str) -> String {
    match rule.replace(' ', "_").as_str() {
        "guarded_acceptance" => "A verdict is given only when the whole 95% interval of the measured rate lies on \
                                 one side of the limit; otherwise the claim stays undecided and the report says \
                                 what would decide it."
            .into(),
        "simple_acceptance" => "The measured rate decides on its own, whatever its uncertainty.".into(),
        other => other.replace('_', " "),
    }
}

/// The calibration of a record in words: where the correction came from.
pub fn source_words(source: Option<&str>, profile: &str) -> &'static str {
    match source {
        Some("profile") => "the recording device's calibration profile",
        Some("command_line") => "a figure entered by the technician",
        Some("host_clock") => "the computer's synchronised clock during the recording",
        Some("assumed") => "assumed: the recorder was not calibrated",
        _ if profile == "uncalibrated" => "assumed: the recorder was not calibrated",
        _ if profile == "command line" => "a figure entered by the technician",
        _ if profile.starts_with("host clock") => "the computer's synchronised clock during the recording",
        _ => "the recording device's calibration profile",
    }
}

/// Standard base64 (RFC 4648, with padding), for a logo embedded in the report.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                o.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_u95() {
        assert_eq!(figure(21.1667, 0.0432, "s/day", true), "+21.167 ± 0.043 s/day");
        assert_eq!(figure(20.13, 8.64, "s/day", true), "+20.1 ± 8.6 s/day");
        assert_eq!(figure(-3.0, 25.0, "s/day", true), "−3 ± 25 s/day");
        assert_eq!(figure(8.0, 0.0001, "s/day", true), "+8.000 ± < 0.001 s/day");
        assert_eq!(figure(250.2, 1.39, "°", false), "250.2 ± 1.4°");
    }

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
