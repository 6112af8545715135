//! The customer report: one self-contained HTML file (inline SVG, inline CSS, no external
//! assets, no scripts), laid out for A4 print.
use serde_json::Value;
use std::fmt::Write;

use super::Plot;
use crate::measurement::Finding;
use crate::record::id::position_words;
use crate::record::{CalibrationRef, Claim, Evidence, PolicyRef, PositionRecord, Software, VerdictRecord};

/// Everything the report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// Claim id.
    pub claim_id: &'a str,
    /// Revision the report belongs to.
    pub revision: u32,
    /// When the report was made (UTC).
    pub created_utc: &'a str,
    /// Claim and watch.
    pub claim: &'a Claim,
    /// Policy applied.
    pub policy: Option<&'a PolicyRef>,
    /// Calibration used.
    pub calibration: Option<&'a CalibrationRef>,
    /// Measurements.
    pub positions: &'a [PositionRecord],
    /// Verdict.
    pub verdict: Option<&'a VerdictRecord>,
    /// Findings.
    pub findings: &'a [Finding],
    /// Evidence listed with hashes (the audio; plots and the report itself are hashed in the
    /// record, which cannot be inside the report it hashes).
    pub evidence: &'a [Evidence],
    /// Plots, shown inline as SVG.
    pub plots: &'a [Plot],
    /// Software.
    pub software: &'a Software,
    /// Host.
    pub host: &'a str,
    /// Technician of this revision.
    pub technician: Option<&'a str>,
}

/// The verdict in one plain sentence for the customer.
pub fn verdict_in_words(verdict: Option<&str>) -> String {
    match verdict {
        None => "Not judged yet: no measurement has been recorded for this claim.".into(),
        Some("defect") => {
            "The watch does not keep time within the warranty's tolerance, beyond measurement doubt: \
             this is a defect covered by the warranty."
                .into()
        }
        Some("within_spec") => {
            "The watch keeps time within the warranty's tolerance, beyond measurement doubt: no defect was found."
                .into()
        }
        Some("inconclusive") => "The measurement cannot decide yet: its uncertainty reaches across the \
                                 warranty's limit. The reasons below say what more is needed."
            .into(),
        Some("needs_model_spec") => "The rate lies where the warranty defers to the model's own \
                                     specification: the manufacturer's figure for this model decides."
            .into(),
        Some("not_a_defect") => "What was found is not a defect of the movement (see the reasons below).".into(),
        Some("excluded") => "The claim falls under a warranty exclusion, to be confirmed by the technician \
                             (see the reasons below)."
            .into(),
        Some(other) => format!("Verdict: {other}."),
    }
}

fn esc(s: &str) -> String {
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

/// `value ± u95 unit` from a `{"value", "u95"}` member of a measurement, or an em dash.
fn fig(m: &Value, key: &str, digits: usize, unit: &str) -> String {
    match (
        m.get(key).and_then(|f| f.get("value")).and_then(Value::as_f64),
        m.get(key).and_then(|f| f.get("u95")).and_then(Value::as_f64),
    ) {
        (Some(v), Some(u)) => {
            // Enough decimals to show the u95 (to 3 at most); a sign only where it means gain/loss.
            let shown = if u > 0.0 { (1.0 - u.log10().floor()).clamp(0.0, 3.0) as usize } else { digits };
            let d = digits.max(shown);
            if key.starts_with("rate") {
                format!("{v:+.d$} ± {u:.d$} {unit}")
            } else {
                format!("{v:.d$} ± {u:.d$} {unit}")
            }
        }
        _ => "—".into(),
    }
}

fn num(m: &Value, key: &str, digits: usize) -> String {
    match m.get(key) {
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(Value::Number(n)) => format!("{:.digits$}", n.as_f64().unwrap_or(f64::NAN)),
        _ => "—".into(),
    }
}

const CSS: &str = "
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; font-size: 10.5pt; color: #000; background: #fff;
       margin: 0 auto; max-width: 182mm; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm 0; border-bottom: 1px solid #000; padding-bottom: 1mm; }
.meta { color: #333; font-size: 9pt; }
.verdict { border: 2.5px solid #000; padding: 3mm 4mm; margin: 4mm 0; break-inside: avoid; }
.verdict .word { font-size: 15pt; font-weight: bold; text-transform: uppercase; letter-spacing: 0.04em; }
.verdict p { margin: 1.5mm 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 2mm 0; break-inside: avoid; }
th, td { border: 1px solid #555; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.figures { font-size: 8.5pt; }
.hash { font-family: 'DejaVu Sans Mono', monospace; font-size: 7.5pt; word-break: break-all; }
figure { margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #999; }
figcaption { font-size: 9pt; color: #333; margin-top: 1mm; }
blockquote { margin: 1mm 0 1mm 4mm; padding-left: 3mm; border-left: 3px solid #888; font-style: italic; white-space: pre-wrap; }
ul { margin: 1mm 0; padding-left: 6mm; }
footer { margin-top: 6mm; font-size: 8.5pt; color: #333; border-top: 1px solid #999; padding-top: 2mm; }
";

/// Renders the report. Deterministic: the same input gives the same bytes.
pub fn html_report(r: &ReportInput) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let c = r.claim;
    let title = format!("Watch accuracy report, claim {}", r.claim_id);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = write!(
        h,
        "<header>\n<h1>{}</h1>\n<div class=\"meta\">{} {} · serial {} · {} movement · revision {} · {}</div>\n</header>\n",
        esc(&title),
        esc(&c.brand),
        esc(&c.model),
        esc(&c.serial),
        c.movement.as_str(),
        r.revision,
        esc(r.created_utc)
    );

    // The verdict first, in plain words.
    let code = r.verdict.map(|v| v.verdict.as_str());
    let _ = write!(
        h,
        "<section class=\"verdict\" id=\"verdict\">\n<div class=\"word\">{}</div>\n<p>{}</p>\n",
        esc(&code.unwrap_or("not judged").replace('_', " ")),
        esc(&verdict_in_words(code))
    );
    if let Some(v) = r.verdict {
        if !v.reasons.is_empty() {
            h.push_str("<ul class=\"reasons\">\n");
            for reason in &v.reasons {
                let _ = writeln!(h, "<li>{}</li>", esc(reason));
            }
            h.push_str("</ul>\n");
        }
        if let Some(rule) = &v.rule {
            let _ = writeln!(h, "<p>Decision rule: {}.</p>", esc(rule));
        }
    }
    h.push_str("</section>\n");

    // The claim.
    h.push_str("<section id=\"claim\">\n<h2>The claim</h2>\n<table>\n");
    let rows: [(&str, Option<String>); 6] = [
        ("Watch", Some(format!("{} {}, serial {}", c.brand, c.model, c.serial))),
        ("Movement", Some(c.movement.as_str().to_string())),
        ("Lift angle", c.lift_angle_deg.map(|l| format!("{l} degrees"))),
        ("Purchased", c.purchase_date.clone()),
        ("Technician", r.technician.map(str::to_string).or_else(|| c.technician.clone())),
        ("Policy asked for", c.policy.clone()),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{}</td></tr>", esc(v.as_deref().unwrap_or("—")));
    }
    h.push_str("</table>\n");
    if let Some(text) = &c.complaint {
        let _ = writeln!(
            h,
            "<p>The customer's complaint, in their words:</p>\n<blockquote>{}</blockquote>",
            esc(text)
        );
    }
    h.push_str("</section>\n");

    // Figures.
    h.push_str("<section id=\"figures\">\n<h2>Measured figures (each with its 95% uncertainty)</h2>\n");
    if r.positions.is_empty() {
        h.push_str("<p>No measurement recorded.</p>\n");
    } else {
        h.push_str(
            "<table class=\"figures\">\n<tr><th>Position</th><th>Rate</th><th>Beat error</th><th>Amplitude</th><th>Beat rate</th>\
             <th>Signal quality</th><th>Beats used</th><th>Length</th></tr>\n",
        );
        for p in r.positions {
            let m = &p.measurement;
            let quartz = m.get("kind").and_then(Value::as_str) == Some("quartz");
            let rate = if quartz {
                fig(m, "rate_s_per_month", 2, "s/month")
            } else {
                fig(m, "rate_s_per_day", 1, "s/day")
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{} bph</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} s</td></tr>",
                esc(&format!("{} ({})", position_words(&p.position), p.position)),
                esc(&rate),
                esc(&fig(m, "beat_error_ms", 2, "ms")),
                esc(&fig(m, "amplitude_deg", 0, "°")),
                esc(&num(m, "bph", 0)),
                esc(&num(m, "quality", 2)),
                esc(&num(m, "beats_used", 0)),
                esc(&num(m, "duration_s", 1)),
            );
        }
        h.push_str("</table>\n");
        h.push_str(
            "<p class=\"meta\">Rate: + gains, − loses. A figure ± u95: the true value lies in this interval \
             with 95% confidence.</p>\n",
        );
    }
    if !r.findings.is_empty() {
        h.push_str("<p>Findings:</p>\n<ul class=\"findings\">\n");
        for f in r.findings {
            let _ =
                writeln!(h, "<li>{} <span class=\"meta\">({})</span></li>", esc(&f.message), esc(&f.code));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");

    // Plots.
    if !r.plots.is_empty() {
        h.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
        for p in r.plots {
            let svg = p.svg.trim_start_matches(|c: char| c != '<');
            let svg = match svg.strip_prefix("<?xml") {
                Some(rest) => rest.split_once("?>").map_or(svg, |(_, s)| s.trim_start()),
                None => svg,
            };
            let _ = writeln!(
                h,
                "<figure id=\"plot-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
                esc(&p.name),
                svg,
                esc(&p.title)
            );
        }
        h.push_str("</section>\n");
    }

    // Policy and calibration.
    h.push_str("<section id=\"policy\">\n<h2>Warranty policy applied</h2>\n");
    match r.policy {
        Some(p) => {
            let _ = writeln!(
                h,
                "<table>\n<tr><th>Policy</th><td>{} (version {})</td></tr>\n<tr><th>Clause applied</th><td>{}</td></tr>\n\
                 <tr><th>Policy SHA-256</th><td class=\"hash\">{}</td></tr>\n</table>",
                esc(&p.name),
                esc(&p.version),
                esc(p.clause.as_deref().unwrap_or("—")),
                esc(&p.sha256)
            );
        }
        None => h.push_str("<p>No policy has been applied yet.</p>\n"),
    }
    h.push_str("</section>\n<section id=\"calibration\">\n<h2>Recorder calibration</h2>\n");
    match r.calibration {
        Some(cal) => {
            let _ = writeln!(
                h,
                "<table>\n<tr><th>Profile</th><td>{}{}</td></tr>\n<tr><th>Recorder clock error</th>\
                 <td class=\"num\">{:+.3} ± {:.3} ppm</td></tr>\n</table>",
                esc(&cal.profile),
                if cal.stale { " (past its validity when used)" } else { "" },
                cal.recorder_ppm.value,
                cal.recorder_ppm.u95
            );
            if cal.profile == "uncalibrated" {
                h.push_str(
                    "<p>No calibration was applied: the recorder's clock was taken as exact, which matters \
                     for quartz watches and near a limit.</p>\n",
                );
            }
        }
        None => h.push_str("<p>No measurement, so no calibration.</p>\n"),
    }
    h.push_str("</section>\n");

    // Evidence.
    h.push_str("<section id=\"evidence\">\n<h2>Evidence files</h2>\n");
    if r.evidence.is_empty() {
        h.push_str("<p>None yet.</p>\n");
    } else {
        h.push_str("<table>\n<tr><th>File</th><th>Bytes</th><th>SHA-256</th></tr>\n");
        for e in r.evidence {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"hash\">{}</td></tr>",
                esc(&e.name),
                e.size_bytes,
                esc(&e.sha256)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str(
        "<p class=\"meta\">Any copy of a file with the same SHA-256 is byte for byte the recording measured. \
         <code>tickproof claim verify</code> re-checks every hash and repeats the analysis.</p>\n</section>\n",
    );
    let _ = write!(
        h,
        "<footer>Made by {} {} ({}) on {}. Claim {} revision {}.</footer>\n</body>\n</html>\n",
        esc(&r.software.name),
        esc(&r.software.version),
        esc(&r.software.build),
        esc(r.host),
        esc(r.claim_id),
        r.revision
    );
    h
}
