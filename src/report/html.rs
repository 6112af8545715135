//! The customer report: one self-contained HTML file (inline SVG, inline CSS, no external
//! assets, no scripts), laid out for A4 print.
use std::fmt::Write;

use super::sections;
use super::text::{esc, source_words};
use super::Plot;
use crate::measurement::Finding;
use crate::record::{CalibrationRef, Claim, Evidence, PolicyRef, PositionRecord, Software, VerdictRecord};
use crate::shop::Letterhead;

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
    /// The shop's name, address and logo at the head of the report, when configured.
    pub letterhead: Option<&'a Letterhead>,
    /// The head receipt that anchors the claim store as this report was made: its hash and
    /// the record it names (the claim's previous revision: a report cannot name the receipt of
    /// the record that holds its own hash).
    pub receipt: Option<(&'a str, u64)>,
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

const CSS: &str = "
@page { size: A4; margin: 12mm 14mm 14mm 14mm; }
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', Arial, Helvetica, sans-serif; font-size: 10pt; color: #000; background: #fff;
       margin: 0 auto; max-width: 182mm; line-height: 1.3; }
header.letterhead { display: flex; align-items: center; gap: 5mm; border-bottom: 2px solid #000; padding-bottom: 2mm; }
header.letterhead .logo { max-height: 18mm; max-width: 45mm; }
.shop-name { font-size: 15pt; font-weight: bold; }
.address { font-size: 9pt; color: #333; }
h1 { font-size: 13pt; margin: 3mm 0 1mm 0; }
h2 { font-size: 11pt; margin: 4mm 0 1.5mm 0; border-bottom: 1px solid #000; padding-bottom: 0.5mm; }
.meta { color: #333; font-size: 8.5pt; }
.verdict { border: 2.5px solid #000; padding: 2.5mm 4mm; margin: 3mm 0; break-inside: avoid; }
.verdict .word { font-size: 15pt; font-weight: bold; }
.verdict p { margin: 1.2mm 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 1.5mm 0; break-inside: avoid; }
th, td { border: 1px solid #555; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
table.summary th { width: 17%; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.figures { font-size: 8pt; }
table.figures td:first-child { white-space: nowrap; }
table.summary td, table.summary th { font-size: 9pt; }
table.sign td { border: none; width: 50%; padding: 3mm 4mm 0 0; font-size: 9pt; }
table.sign .line { border-bottom: 1px solid #000; height: 9mm; margin-bottom: 1mm; }
.details { break-before: page; }
.hash { font-family: 'DejaVu Sans Mono', monospace; font-size: 7pt; word-break: break-all; }
.plots { display: grid; grid-template-columns: 1fr 1fr; gap: 1mm 3mm; margin-bottom: 1mm; }
.plots.small { grid-template-columns: 1fr 1fr 1fr; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; border: 1px solid #999; }
figcaption { font-size: 8pt; color: #333; margin-top: 0.5mm; }
blockquote { margin: 1mm 0 1mm 4mm; padding-left: 3mm; border-left: 3px solid #888; font-style: italic; white-space: pre-wrap; }
ul { margin: 1mm 0; padding-left: 6mm; }
footer { margin-top: 4mm; font-size: 8pt; color: #333; border-top: 1px solid #999; padding-top: 1.5mm; }
";

/// Renders the report. Deterministic: the same input gives the same bytes.
///
/// The first page is for the customer: the shop's letterhead, the verdict in plain words, the
/// summary, the positions, why, and the signature lines. The details follow on the next pages:
/// the claim, the plots, the policy, the calibration and the evidence.
pub fn html_report(r: &ReportInput) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let c = r.claim;
    let title = format!("Watch accuracy report, claim {}", r.claim_id);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    sections::letterhead(&mut h, r.letterhead);
    let _ = write!(
        h,
        "<h1>{}</h1>\n<div class=\"meta\">{} {} · serial {} · report of {} (revision {})</div>\n",
        esc(&title),
        esc(&c.brand),
        esc(&c.model),
        esc(&c.serial),
        esc(r.created_utc),
        r.revision
    );
    sections::verdict_box(&mut h, r);
    sections::summary(&mut h, r);
    sections::positions(&mut h, r);
    sections::reasons(&mut h, r);
    sections::signatures(&mut h, r.technician.or(c.technician.as_deref()));
    h.push_str("<div class=\"details\">\n");
    claim_section(&mut h, r);
    findings(&mut h, r.findings);
    plots(&mut h, r.plots);
    policy_and_calibration(&mut h, r);
    evidence(&mut h, r.evidence);
    if let Some((sha, seq)) = r.receipt {
        let _ = writeln!(
            h,
            "<section id=\"receipt\">\n<h2>Store receipt</h2>\n<p>Receipt <span class=\"hash\">{}</span>: \
             the claim store held this claim's earlier revisions up to record {seq} when this report was made. \
             <code>tickproof claim verify {} --receipt {}</code> proves the store still holds them.</p>\n</section>",
            esc(sha),
            esc(r.claim_id),
            esc(sha)
        );
    }
    h.push_str("</div>\n");
    let build = if r.software.build.contains("unidentified") {
        String::new()
    } else {
        format!(", {}", r.software.build)
    };
    let _ = write!(
        h,
        "<footer>Made with {} {}{} on {}. Claim {} revision {}.</footer>\n</body>\n</html>\n",
        esc(&r.software.name),
        esc(&r.software.version),
        esc(&build),
        esc(r.host),
        esc(r.claim_id),
        r.revision
    );
    h
}

fn claim_section(h: &mut String, r: &ReportInput) {
    let c = r.claim;
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
}

fn findings(h: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    h.push_str("<section id=\"findings\">\n<h2>Observations</h2>\n<ul class=\"findings\">\n");
    for f in findings {
        let _ = writeln!(h, "<li>{}</li>", esc(&f.message.replace('`', "")));
    }
    h.push_str("</ul>\n</section>\n");
}

fn plots(h: &mut String, plots: &[Plot]) {
    if plots.is_empty() {
        return;
    }
    h.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    // The claim's overview (rates, trend) two abreast; one position's plots three abreast.
    let overview = |p: &&Plot| p.name == "rates" || p.name == "trend";
    for (class, group) in [
        ("plots", plots.iter().filter(overview).collect::<Vec<_>>()),
        ("plots small", plots.iter().filter(|p| !overview(p)).collect()),
    ] {
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<div class=\"{class}\">");
        for p in group {
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
        h.push_str("</div>\n");
    }
    h.push_str("</section>\n");
}

fn policy_and_calibration(h: &mut String, r: &ReportInput) {
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
    let Some(cal) = r.calibration else {
        h.push_str("<p>No measurement, so no calibration.</p>\n</section>\n");
        return;
    };
    let term = r.verdict.and_then(|v| v.detail.get("recorder"));
    let source = term.and_then(|t| t.get("source")).and_then(serde_json::Value::as_str);
    let (v, u) = term
        .and_then(|t| super::text::fig_of(t, "correction_ppm"))
        .unwrap_or((cal.recorder_ppm.value, cal.recorder_ppm.u95));
    let part = term.and_then(|t| t.get("recorder_u95_s_per_day")).and_then(serde_json::Value::as_f64);
    let _ = writeln!(
        h,
        "<table>\n<tr><th>Correction applied</th><td class=\"num\">{}</td></tr>\n<tr><th>Where it came from</th><td>{}</td></tr>\n\
         <tr><th>Calibration</th><td>{}{}</td></tr>\n<tr><th>Its part of the average's u95</th><td class=\"num\">{}</td></tr>\n</table>",
        esc(&super::text::figure_at(v, u, "ppm", true, 3)),
        esc(source_words(source, &cal.profile)),
        esc(&cal.profile),
        if cal.stale { " (past its validity when used)" } else { "" },
        esc(&part.map(|p| super::text::u95_only(p, "s/day")).unwrap_or_else(|| "—".into()))
    );
    if let Some(s) = sections::recorder_sentence(r) {
        let _ = writeln!(h, "<p>{}</p>", esc(&s));
    }
    h.push_str("</section>\n");
}

fn evidence(h: &mut String, evidence: &[Evidence]) {
    h.push_str("<section id=\"evidence\">\n<h2>Evidence files</h2>\n");
    if evidence.is_empty() {
        h.push_str("<p>None yet.</p>\n");
    } else {
        h.push_str("<table>\n<tr><th>File</th><th>Bytes</th><th>SHA-256</th></tr>\n");
        for e in evidence {
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
}
