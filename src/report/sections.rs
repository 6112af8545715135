//! The report's first page: letterhead, verdict, summary, positions, reasons and signatures.
//! Every figure about the recorder is read from the record's calibration and the verdict's
//! recorder term, the one statement of it (see `verdict::recorder`).
use serde_json::Value;
use std::fmt::Write;

use super::html::{verdict_in_words, ReportInput};
use super::text::{
    base64, decimals_for, esc, fig_of, figure, figure_at, rule_words, source_words, u95_only, verdict_title,
};
use crate::record::id::position_words;
use crate::shop::Letterhead;

/// The shop's name, address and logo, or a plain title when no shop is configured.
pub fn letterhead(h: &mut String, l: Option<&Letterhead>) {
    h.push_str("<header class=\"letterhead\">\n");
    if let Some((media, bytes)) = l.and_then(|l| l.logo.as_ref()) {
        let _ = writeln!(
            h,
            "<img class=\"logo\" alt=\"logo\" src=\"data:{};base64,{}\">",
            esc(media),
            base64(bytes)
        );
    }
    h.push_str("<div class=\"shop\">");
    match l.and_then(|l| l.name.as_deref()) {
        Some(n) => {
            let _ = write!(h, "<div class=\"shop-name\">{}</div>", esc(n));
        }
        None => h.push_str("<div class=\"shop-name\">Watch accuracy report</div>"),
    }
    if let Some(a) = l.and_then(|l| l.address.as_deref()) {
        let lines: Vec<String> = a.lines().map(esc).collect();
        let _ = write!(h, "<div class=\"address\">{}</div>", lines.join("<br>"));
    }
    h.push_str("</div>\n</header>\n");
}

/// The tolerance the verdict compared with, in words (`±15 s/day`, `−4/+6 s/day`).
fn tolerance_words(detail: &Value) -> Option<String> {
    let l = detail.get("limit")?;
    let (lo, hi) = (l.get("min")?.as_f64()?, l.get("max")?.as_f64()?);
    let unit = l.get("unit").and_then(Value::as_str).unwrap_or("s/day");
    Some(if (lo + hi).abs() < 1e-9 {
        format!("±{hi} {unit}")
    } else {
        format!("{lo:+}/{hi:+} {unit}").replace('-', "−")
    })
}

/// The recorder in one sentence: correction, u95, source.
pub fn recorder_sentence(r: &ReportInput) -> Option<String> {
    let cal = r.calibration?;
    let detail = r.verdict.map(|v| &v.detail);
    let term = detail.and_then(|d| d.get("recorder"));
    let source = term.and_then(|t| t.get("source")).and_then(Value::as_str);
    let (value, u95) = term
        .and_then(|t| fig_of(t, "correction_ppm"))
        .unwrap_or((cal.recorder_ppm.value, cal.recorder_ppm.u95));
    let assumed = source == Some("assumed") || (source.is_none() && cal.profile == "uncalibrated");
    Some(if assumed {
        format!(
            "The recording device was not calibrated: no correction was applied to its clock, and an error of up to \
             ±{u95} ppm ({:.2} s/day) is assumed and included in every uncertainty.",
            u95 * 0.0864
        )
    } else {
        format!(
            "The recording device's clock was corrected by {} (from {}: {}){}.",
            figure_at(value, u95, "ppm", true, 3),
            source_words(source, &cal.profile),
            cal.profile.strip_prefix("profile ").unwrap_or(&cal.profile),
            if cal.stale { ", a calibration past its validity" } else { "" }
        )
    })
}

/// The verdict box: the answer in plain words, the average against the tolerance, the recorder.
pub fn verdict_box(h: &mut String, r: &ReportInput) {
    let code = r.verdict.map(|v| v.verdict.as_str());
    let _ = write!(
        h,
        "<section class=\"verdict\" id=\"verdict\">\n<div class=\"word\">{}</div>\n<p>{}</p>\n",
        esc(verdict_title(code)),
        esc(&verdict_in_words(code))
    );
    if let Some(d) = r.verdict.map(|v| &v.detail) {
        let quartz = d.get("movement").and_then(Value::as_str) == Some("quartz");
        let (key, unit) = if quartz {
            ("average_rate_s_per_month", "s/month")
        } else {
            ("average_rate_s_per_day", "s/day")
        };
        if let Some((v, u)) = fig_of(d, key) {
            let tol = tolerance_words(d)
                .map(|t| format!(", against the warranty's tolerance of {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<p class=\"key\">Average rate X = <b>{}</b> (95% interval {} to {} {unit}){}.</p>",
                esc(&figure(v, u, unit, true)),
                esc(&figure_bound(v - u, u)),
                esc(&figure_bound(v + u, u)),
                esc(&tol)
            );
        }
    }
    if let Some(s) = recorder_sentence(r) {
        let _ = writeln!(h, "<p>{}</p>", esc(&s));
    }
    h.push_str("</section>\n");
}

fn figure_bound(x: f64, u95: f64) -> String {
    let d = decimals_for(u95);
    format!("{x:+.d$}").replace('-', "−")
}

/// The summary table: the figures a warranty bounds, and the calibration used.
pub fn summary(h: &mut String, r: &ReportInput) {
    let Some(d) = r.verdict.map(|v| &v.detail) else { return };
    let c = r.claim;
    let mut cells: Vec<(&str, String)> = Vec::new();
    cells.push(("Watch", format!("{} {}, serial {} ({})", c.brand, c.model, c.serial, c.movement.as_str())));
    if let Some(t) = tolerance_words(d) {
        let from = r.policy.map(|p| format!(", policy {} v{}", p.name, p.version)).unwrap_or_default();
        cells.push(("Tolerance", format!("{t}{from}")));
    }
    let items: [(&str, &str, &str, bool); 4] = [
        ("Positional spread D", "positional_spread_s_per_day", "s/day", false),
        ("Vertical − horizontal", "vertical_horizontal_difference_s_per_day", "s/day", true),
        ("Amplitude drop, flat to hanging", "amplitude_drop_flat_to_hanging_deg", "°", true),
        ("Largest beat error", "max_beat_error_ms", "ms", false),
    ];
    for (k, key, unit, signed) in items {
        if let Some((v, u)) = fig_of(d, key) {
            cells.push((k, figure(v, u, unit, signed)));
        }
    }
    if let Some(cal) = r.calibration {
        let term = d.get("recorder");
        let source = term.and_then(|t| t.get("source")).and_then(Value::as_str);
        let (v, u) = term
            .and_then(|t| fig_of(t, "correction_ppm"))
            .unwrap_or((cal.recorder_ppm.value, cal.recorder_ppm.u95));
        let name = cal.profile.split(" (").next().unwrap_or("");
        let named = if name == "uncalibrated" || name == "command line" {
            String::new()
        } else {
            format!(" ({name})")
        };
        let text =
            format!("{}, {}{named}", figure_at(v, u, "ppm", true, 3), source_words(source, &cal.profile));
        cells.push(("Recorder calibration", text));
    }
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"summary\">\n");
    for pair in cells.chunks(2) {
        h.push_str("<tr>");
        for (k, v) in pair {
            let _ = write!(h, "<th>{k}</th><td>{}</td>", esc(v));
        }
        if pair.len() == 1 {
            h.push_str("<th></th><td></td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</section>\n");
}

/// The positions table: each rate with its u95 with and without the recorder term.
pub fn positions(h: &mut String, r: &ReportInput) {
    h.push_str("<section id=\"figures\">\n<h2>Measured in each position (each figure with its 95% uncertainty)</h2>\n");
    if r.positions.is_empty() {
        h.push_str("<p>No measurement recorded.</p>\n</section>\n");
        return;
    }
    let verdict_positions = r.verdict.and_then(|v| v.detail.get("positions")).and_then(Value::as_array);
    h.push_str(
        "<table class=\"figures\">\n<tr><th>Position</th><th>Rate (recorder included)</th><th>u95 without recorder</th>\
         <th>Beat error</th><th>Amplitude</th><th>Beat rate</th><th>Signal quality</th><th>Length</th></tr>\n",
    );
    for (i, p) in r.positions.iter().enumerate() {
        let m = &p.measurement;
        let quartz = m.get("kind").and_then(Value::as_str) == Some("quartz");
        let (key, unit, k) =
            if quartz { ("rate_s_per_month", "s/month", 30.0) } else { ("rate_s_per_day", "s/day", 1.0) };
        let vf = verdict_positions.and_then(|a| a.get(i));
        let get = |name: &str| vf.and_then(|f| f.get(name)).and_then(Value::as_f64).map(|x| x * k);
        let (rate, without) = match fig_of(m, key) {
            Some((v, u)) => {
                let with = get("rate_u95_with_recorder_s_per_day").unwrap_or(u);
                let w = get("rate_u95_without_recorder_s_per_day").unwrap_or(u);
                (figure(v, with, unit, true), u95_only(w, unit))
            }
            None => ("—".into(), "—".into()),
        };
        let f = |key: &str, unit: &str| {
            fig_of(m, key).map(|(v, u)| figure(v, u, unit, false)).unwrap_or_else(|| "—".into())
        };
        let n = |key: &str, d: usize| {
            m.get(key).and_then(Value::as_f64).map(|x| format!("{x:.d$}")).unwrap_or_else(|| "—".into())
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{} bph</td><td class=\"num\">{}</td><td class=\"num\">{} s</td></tr>",
            esc(&format!("{} {}", p.position, position_words(&p.position))),
            esc(&rate),
            esc(&without),
            esc(&f("beat_error_ms", "ms")),
            esc(&f("amplitude_deg", "°")),
            esc(&n("bph", 0)),
            esc(&n("quality", 2)),
            esc(&n("duration_s", 0)),
        );
    }
    h.push_str("</table>\n<p class=\"meta\">Rate: + the watch gains, − it loses. A figure ± u95: the true value lies \
                in this interval with 95% confidence. The recorder's clock is common to every position, so its part \
                of the uncertainty does not average out over the positions.</p>\n</section>\n");
}

/// Why: the verdict's reasons, the decision rule in words, and what would decide.
pub fn reasons(h: &mut String, r: &ReportInput) {
    let Some(v) = r.verdict else { return };
    h.push_str("<section id=\"reasons\">\n<h2>Why</h2>\n<ul class=\"reasons\">\n");
    // The rule is given in words below; the average and the recorder are in the verdict box.
    let shown =
        ["Decision rule:", "The average rate ", "The recorder was not calibrated", "The recorder's clock"];
    for reason in v.reasons.iter().filter(|s| !shown.iter().any(|p| s.starts_with(p))) {
        let _ = writeln!(h, "<li>{}</li>", esc(&reason.replace('`', "")));
    }
    h.push_str("</ul>\n");
    let rule = v.rule.as_deref().or_else(|| v.detail.get("rule").and_then(Value::as_str));
    if let Some(rule) = rule {
        let _ = writeln!(h, "<p><b>Decision rule.</b> {}</p>", esc(&rule_words(rule)));
    }
    if let Some(t) = v.detail.get("to_decide").and_then(Value::as_str) {
        let _ = writeln!(h, "<p><b>What would decide.</b> {}</p>", esc(&t.replace('`', "")));
    }
    h.push_str("</section>\n");
}

/// Lines for the technician's and the customer's signatures.
pub fn signatures(h: &mut String, technician: Option<&str>) {
    let _ = writeln!(
        h,
        "<section id=\"signatures\">\n<table class=\"sign\">\n<tr><td>Technician: {}<div class=\"line\"></div>\
         Signature and date</td><td>Customer: name<div class=\"line\"></div>Signature and date</td></tr>\n</table>\n</section>",
        esc(technician.unwrap_or(""))
    );
}
