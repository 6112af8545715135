//! Snapshots of the record's JSON shape and of the report; plots; the report in a real browser.
//!
//! Snapshots live in tests/snapshots/; regenerate them with `TICKPROOF_UPDATE_SNAPSHOTS=1`.
mod common;

use common::{claim, StandIn};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use tickproof::claim::Analyzer;
use tickproof::measurement::{AnalysisConfig, Figure, Finding};
use tickproof::record::{
    CalibrationRef, Evidence, EvidenceRole, PolicyRef, PositionRecord, Record, SealedRecord, Software,
    Supersedes, VerdictRecord, GENESIS_SHA256, SCHEMA_V1,
};
use tickproof::report::{self, plots, PositionRate, ToleranceBand};

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if std::env::var_os("TICKPROOF_UPDATE_SNAPSHOTS").is_some() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with TICKPROOF_UPDATE_SNAPSHOTS=1", path.display()));
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{name} differs from its snapshot at line {}:\n  expected: {:?}\n  actual:   {:?}\n(TICKPROOF_UPDATE_SNAPSHOTS=1 to accept)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

/// A fixed record (no clock, no host): the same bytes on every machine.
fn fixed_record() -> (Record, Vec<tickproof::measurement::Measurement>) {
    let files = tempfile::tempdir().unwrap();
    let paths = common::recordings(files.path(), 2, 3);
    let cfg = AnalysisConfig { lift_angle_deg: 53.0, ..AnalysisConfig::default() };
    let an = StandIn { drift: 0.0 };
    let ms: Vec<_> = paths.iter().map(|p| an.analyze(p, &cfg).unwrap().measurement).collect();
    let audio: Vec<Evidence> = ["DU", "CU"]
        .iter()
        .zip(&paths)
        .map(|(pos, p)| {
            let b = fs::read(p).unwrap();
            Evidence {
                role: EvidenceRole::Audio,
                name: format!("audio/{pos}.wav"),
                sha256: tickproof::record::canonical::sha256_hex(&b),
                size_bytes: b.len() as u64,
                media_type: "audio/wav".into(),
                original_name: Some(format!("{pos}.wav")),
            }
        })
        .collect();
    let positions = audio
        .iter()
        .zip(&ms)
        .map(|(e, m)| PositionRecord {
            position: e.name[6..8].to_string(),
            audio: e.name.clone(),
            audio_sha256: e.sha256.clone(),
            measured_utc: "2025-03-01T10:15:00Z".into(),
            measurement: serde_json::to_value(m).unwrap(),
        })
        .collect();
    let record = Record {
        schema: SCHEMA_V1.into(),
        claim_id: tickproof::record::ClaimId::parse("C-20250301-0007").unwrap(),
        revision: 2,
        supersedes: Some(Supersedes { revision: 1, sha256: "ab".repeat(32) }),
        change: "measured".into(),
        seq: 12,
        prev_sha256: GENESIS_SHA256.into(),
        created_utc: "2025-03-01T10:16:00Z".into(),
        claim: claim("SN-<1>&\"2\""),
        policy: Some(PolicyRef {
            name: "bg-15".into(),
            version: "1".into(),
            sha256: "cd".repeat(32),
            clause: Some("Mechanical and automatic watches: permitted deviation ±15 seconds per day.".into()),
        }),
        calibration: Some(CalibrationRef {
            reason: None,
            profile: "uncalibrated".into(),
            recorder_ppm: Figure::new(0.0, 0.0),
            stale: false,
            sha256: None,
        }),
        positions,
        verdict: Some(
            VerdictRecord::from_json(serde_json::json!({
                "verdict": "defect", "reasons": ["The average rate −41.3 ± 0.2 s/day is below −15 s/day."],
                "rule": "guarded acceptance"
            }))
            .unwrap(),
        ),
        findings: vec![Finding::new("beat_error_high", "Beat error is high: 0.6 ms.")],
        evidence: audio,
        software: Software { name: "tickproof".into(), version: "0.1.0".into(), build: "test".into() },
        host: "bench-1".into(),
        technician: Some("B. Petrov".into()),
        branch: None,
    };
    record.validate().unwrap();
    (record, ms)
}

/// `path: type` for every member, arrays described by their first element.
fn shape(v: &Value, path: &str, out: &mut Vec<String>) {
    let t = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.push(format!("{path}: {t}"));
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                shape(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            if let Some(x) = a.first() {
                shape(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_record_json_shape_matches_its_snapshot() {
    let (record, _) = fixed_record();
    let sealed = SealedRecord::seal(record, None).unwrap();
    let mut lines = Vec::new();
    let mut v = serde_json::to_value(&sealed).unwrap();
    // The measurement is the pipeline's JSON, with its own contract: keep the record's shape only.
    for p in v["record"]["positions"].as_array_mut().unwrap() {
        p["measurement"] = Value::Object(Default::default());
    }
    v["record"]["verdict"]["detail"] = Value::Object(Default::default());
    shape(&v, "$", &mut lines);
    snapshot("claim-record-shape.txt", &(lines.join("\n") + "\n"));
}

#[test]
fn the_json_schema_requires_exactly_the_fields_a_record_has() {
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/claim-record.v1.json"))
            .unwrap(),
    )
    .unwrap();
    let (record, _) = fixed_record();
    let v = serde_json::to_value(SealedRecord::seal(record, None).unwrap()).unwrap();
    let keys = |x: &Value| {
        let mut k: Vec<String> = x.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let required = |x: &Value| {
        let mut k: Vec<String> =
            x["required"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
        k.sort();
        k
    };
    let rec = &schema["$defs"]["record"];
    assert_eq!(required(&schema), keys(&v));
    assert_eq!(required(rec), keys(&v["record"]));
    assert_eq!(required(&rec["properties"]["claim"]), keys(&v["record"]["claim"]));
    assert_eq!(required(&rec["properties"]["positions"]["items"]), keys(&v["record"]["positions"][0]));
    assert_eq!(required(&rec["properties"]["evidence"]["items"]), keys(&v["record"]["evidence"][0]));
    assert_eq!(required(&rec["properties"]["software"]), keys(&v["record"]["software"]));
    assert_eq!(required(&rec["properties"]["policy"]["oneOf"][1]), keys(&v["record"]["policy"]));
    assert_eq!(required(&rec["properties"]["calibration"]["oneOf"][1]), keys(&v["record"]["calibration"]));
    assert_eq!(required(&rec["properties"]["verdict"]["oneOf"][1]), keys(&v["record"]["verdict"]));
    assert_eq!(rec["properties"]["schema"]["const"], SCHEMA_V1);
}

fn input<'a>(r: &'a Record, plots: &'a [report::Plot]) -> report::ReportInput<'a> {
    report::ReportInput {
        claim_id: r.claim_id.as_str(),
        revision: r.revision,
        created_utc: &r.created_utc,
        claim: &r.claim,
        policy: r.policy.as_ref(),
        calibration: r.calibration.as_ref(),
        positions: &r.positions,
        verdict: r.verdict.as_ref(),
        findings: &r.findings,
        evidence: &r.evidence,
        plots,
        software: &r.software,
        host: &r.host,
        technician: r.technician.as_deref(),
        letterhead: None,
        receipt: None,
    }
}

#[test]
fn the_report_html_matches_its_snapshot_and_is_self_contained() {
    let (record, _) = fixed_record();
    let html = report::html_report(&input(&record, &[]));
    snapshot("report-no-plots.html", &html);
    // Verdict first: it comes before the figures, the plots and the evidence.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("id=\"verdict\"") < at("id=\"figures\""));
    assert!(at("id=\"figures\"") < at("id=\"policy\""));
    assert!(at("id=\"calibration\"") < at("id=\"evidence\""));
    assert!(html.contains("SN-&lt;1&gt;&amp;&quot;2&quot;"), "text is escaped");
    assert!(html.contains("@page { size: A4"));
}

#[test]
fn the_customer_report_has_the_letterhead_plain_words_and_signature_lines() {
    let (mut record, _) = fixed_record();
    // Internal names as the pipeline writes them must not reach the customer.
    record.verdict = Some(
        VerdictRecord::from_json(serde_json::json!({
            "verdict": "defect", "reasons": ["The average rate −41.3 ± 0.2 s/day is below −15 s/day."],
            "rule": "guarded_acceptance", "average_rate_s_per_day": {"value": -41.3, "u95": 0.2},
            "limit": {"min": -15.0, "max": 15.0, "unit": "s/day", "from": "the policy's tolerance"}
        }))
        .unwrap(),
    );
    record.software.build = "release x86_64 unidentified".into();
    let head = tickproof::shop::Letterhead {
        name: Some("Watch Repair Ltd".into()),
        address: Some("1 Main Street\nSofia".into()),
        logo: Some(("image/png".into(), vec![0x89, b'P', b'N', b'G'])),
    };
    let mut inp = input(&record, &[]);
    inp.letterhead = Some(&head);
    let html = report::html_report(&inp);
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("Watch Repair Ltd") < at("id=\"verdict\""), "letterhead first");
    assert!(html.contains("1 Main Street<br>Sofia"));
    assert!(html.contains("src=\"data:image/png;base64,iVBORw==\""), "logo embedded");
    assert!(at("Defect: covered by the warranty") < at("id=\"summary\""), "verdict in words first");
    assert!(html.contains("−41.30 ± 0.20 s/day") && html.contains("±15 s/day"));
    assert!(html.contains("lies on one side of the limit"), "decision rule in words");
    assert!(at("Technician: B. Petrov") < at("id=\"claim\""), "signatures on the first page");
    assert!(html.contains("Customer:"));
    for internal in ["guarded_acceptance", "EndOfStream", "unidentified", "beat_error_high", "within_spec"] {
        assert!(!html.contains(internal), "internal name {internal} in the report");
    }
}

fn all_plots() -> (Record, Vec<report::Plot>) {
    let (record, _) = fixed_record();
    let files = tempfile::tempdir().unwrap();
    let paths = common::recordings(files.path(), 2, 3);
    let an = StandIn { drift: 0.0 };
    let cfg = AnalysisConfig::default();
    let analyses: Vec<_> = paths.iter().map(|p| an.analyze(p, &cfg).unwrap()).collect();
    let rates: Vec<PositionRate> = ["DU", "CU"]
        .iter()
        .zip(&analyses)
        .map(|(p, a)| PositionRate { position: p.to_string(), rate: a.measurement.rate_s_per_day.unwrap() })
        .collect();
    let avg = Figure::new(rates.iter().map(|r| r.rate.value).sum::<f64>() / 2.0, 0.25);
    let mut out =
        vec![plots::position_rates(&rates, "s/day", Some(ToleranceBand { lo: -15.0, hi: 15.0 }), Some(avg))
            .unwrap()];
    let trend: Vec<_> = ["DU", "CU"]
        .iter()
        .zip(&analyses)
        .map(|(p, a)| (p.to_string(), a.measurement.mechanical.as_ref().unwrap().windows.clone()))
        .collect();
    out.push(plots::rate_trend(&trend).unwrap());
    out.push(plots::paper_strip("DU", analyses[0].paper_strip.as_ref().unwrap()).unwrap());
    out.push(plots::waveform("DU", analyses[0].waveform.as_ref().unwrap()).unwrap());
    let steps = report::StepResiduals {
        t_s: (0..120).map(|i| i as f64).collect(),
        residual_ms: (0..120)
            .map(|i| ((i * 37) % 11) as f64 / 10.0 - 0.5 - if i % 60 >= 30 { 0.8 } else { 0.0 })
            .collect(),
        inhibition_t_s: vec![30.0, 90.0],
    };
    out.push(plots::step_residuals("P1", &steps).unwrap());
    (record, out)
}

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>, png::ColorType) {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type)
}

/// Fraction of pixels that are not white.
fn ink(pixels: &[u8], channels: usize) -> f64 {
    let n = pixels.len() / channels;
    let dark = pixels.chunks(channels).filter(|p| p[..3].iter().any(|&c| c < 200)).count();
    dark as f64 / n as f64
}

#[test]
fn plots_render_to_svg_and_png_with_labelled_axes() {
    let (_, plots) = all_plots();
    assert_eq!(plots.len(), 5);
    for p in &plots {
        assert!(p.svg.starts_with("<svg") || p.svg.starts_with("<?xml"), "{}", p.name);
        let (w, h, px, ct) = decode_png(&p.png);
        assert_eq!((w, h, ct), (900, 420, png::ColorType::Rgb), "{}", p.name);
        let ink = ink(&px, 3);
        assert!(ink > 0.01 && ink < 0.5, "{}: {ink} of the pixels inked", p.name);
    }
    let by = |n: &str| plots.iter().find(|p| p.name == n).unwrap();
    assert!(by("rates").svg.contains("rate (s/day)"));
    assert!(by("rates").svg.contains("average X"));
    assert!(by("rates").svg.contains("tolerance"));
    assert!(by("trend").svg.contains("time in the recording (s)"));
    assert!(by("paper-strip-DU").svg.contains("beat timing deviation (ms)"));
    assert!(by("waveform-DU").svg.contains("unlock"));
    assert!(by("steps-P1").svg.contains("step timing residual (ms)"));
    // Legends stand beside the data area, never over it.
    let legend_x = |svg: &str, label: &str| -> f64 {
        let at = svg.find(label).unwrap_or_else(|| panic!("{label} missing"));
        let text = &svg[svg[..at].rfind("<text").unwrap()..at];
        let x = text.split("x=\"").nth(1).unwrap().split('"').next().unwrap();
        x.parse().unwrap()
    };
    for (plot, label) in [
        ("rates", "tolerance "),
        ("trend", "DU (dots"),
        ("paper-strip-DU", "tic (dots)"),
        ("waveform-DU", "tic (solid)"),
    ] {
        let x = legend_x(&by(plot).svg, label);
        assert!(x > 900.0 - 240.0, "{plot}: legend at x = {x}, inside the data area");
    }
    // DU and CU are told apart by marker and line, and the strip says which way is gaining.
    assert!(
        by("trend").svg.contains("DU (dots, solid)") && by("trend").svg.contains("CU (rings, short dashes)")
    );
    assert!(by("paper-strip-DU").svg.contains("gaining") && by("paper-strip-DU").svg.contains("losing"));
    for p in &plots {
        fs::write(out_dir().join(format!("{}.png", p.name)), &p.png).unwrap();
    }
    // Deterministic: the same data draws the same bytes.
    assert_eq!(all_plots().1, plots);
}

#[test]
fn empty_plot_data_is_an_input_error_not_a_panic() {
    let e = plots::position_rates(&[], "s/day", None, None).unwrap_err();
    assert!(matches!(e, report::ReportError::Input { .. }));
    let ragged = report::PaperStrip {
        t_s: vec![0.0, 1.0],
        deviation_ms: vec![0.0],
        side: vec![0, 1],
        rate_s_per_day: None,
    };
    assert!(matches!(plots::paper_strip("DU", &ragged), Err(report::ReportError::Input { .. })));
}

fn out_dir() -> PathBuf {
    // Kept after the test so the screenshot can be looked at.
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("record-report");
    fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_report_renders_in_a_headless_browser() {
    let chromium = Path::new("/usr/bin/chromium");
    let (record, plots) = all_plots();
    let html = report::html_report(&input(&record, &plots));
    // No external assets (the SVG namespace URI is a name, not a fetch).
    for fetch in ["href=", "url(", "@import", "<script", "<link", "<iframe"] {
        assert!(!html.contains(fetch), "the report contains {fetch}");
    }
    // An image only as embedded data (the shop's logo), never fetched.
    assert_eq!(html.matches("src=").count(), html.matches("src=\"data:").count());
    let dir = out_dir();
    let page = dir.join("report.html");
    fs::write(&page, &html).unwrap();
    if !chromium.exists() {
        eprintln!("SKIPPED: /usr/bin/chromium absent; report written to {}", page.display());
        return;
    }
    let shot = dir.join("report.png");
    let _ = fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1240,1754")
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "chromium failed: {status}");
    let bytes = fs::read(&shot).unwrap();
    assert!(bytes.len() > 30_000, "screenshot only {} bytes", bytes.len());
    let (w, h, px, ct) = decode_png(&bytes);
    assert_eq!((w, h), (1240, 1754));
    let channels = match ct {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected colour type {other:?}"),
    };
    let ink = ink(&px, channels);
    assert!(ink > 0.02, "the page is blank ({ink} inked)");
    println!("report screenshot: {}", shot.display());
}
