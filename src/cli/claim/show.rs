//! `claim show`: a record in words.
use crate::record::SealedRecord;

/// Prints a sealed record for people: summary, verdict, figures, evidence.
pub(super) fn print_record(r: &SealedRecord) {
    let rec = &r.record;
    crate::outln!("{}", super::summary_line(r));
    crate::outln!(
        "  opened/changed: {} ({}) on {} by {}",
        rec.created_utc,
        rec.change,
        rec.host,
        rec.technician.as_deref().unwrap_or("-")
    );
    if let Some(c) = &rec.claim.complaint {
        crate::outln!("  complaint: {c}");
    }
    if let Some(v) = &rec.verdict {
        crate::outln!("  verdict: {}", crate::report::verdict_in_words(Some(&v.verdict)));
        for reason in &v.reasons {
            crate::outln!("    - {reason}");
        }
    }
    if let Some(t) = rec.verdict.as_ref().and_then(|v| v.detail.get("to_decide")).and_then(|t| t.as_str()) {
        crate::outln!("  to decide: {t}");
    }
    let figures = rec.verdict.as_ref().and_then(|v| v.detail.get("positions")).and_then(|p| p.as_array());
    for (i, p) in rec.positions.iter().enumerate() {
        let rate = p
            .measurement
            .get("rate_s_per_day")
            .and_then(|f| Some((f.get("value")?.as_f64()?, f.get("u95")?.as_f64()?)));
        // The u95 the verdict used: with the recorder term (calibrated or assumed).
        let with = figures
            .and_then(|f| f.get(i))
            .and_then(|f| f.get("rate_u95_with_recorder_s_per_day"))
            .and_then(|u| u.as_f64());
        match rate {
            Some((v, u)) => crate::outln!(
                "  {}: rate {} ({})",
                p.position,
                crate::report::text::figure(v, with.unwrap_or(u), "s/day", true),
                p.audio
            ),
            None => crate::outln!("  {}: no rate ({})", p.position, p.audio),
        }
    }
    for e in &rec.evidence {
        crate::outln!("  evidence {} {} ({} bytes)", e.sha256, e.name, e.size_bytes);
    }
    crate::outln!("  record sha256 {}{}", r.sha256, if r.signature.is_some() { ", signed" } else { "" });
}
