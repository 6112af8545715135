//! Validation of a policy's raw form, with errors that name the file, line and field.
use super::raw::{RawFile, RawProtocol, RawTerm, RawTermKind, RawThresholds};
use super::terms::{AccuracyRule, AccuracyTerm, FindingRule, Protocol, Thresholds, Tolerance};
use super::{sha256_hex, Policy, PolicyError, MAX_FINDING_RULES, MAX_TEXT_CHARS, MIN_TOLERANCE};
use crate::verdict::position::Position;
use std::ops::Range;
use toml::Spanned;

pub(super) struct Ctx<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    /// The `[table]` in force at a line (1-based), without brackets.
    fn table_at(&self, line: usize) -> String {
        let mut table = String::new();
        for l in self.text.lines().take(line) {
            let t = l.trim();
            if t.starts_with('[') {
                table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            }
        }
        table
    }

    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            path: self.path.to_string(),
            line: self.line_of(span.start),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Maps a TOML or serde error to the file, line and field it is about.
    pub(super) fn toml_error(&self, e: &toml::de::Error) -> PolicyError {
        let message = e.message().trim().replace('\n', " ");
        let span = e.span().unwrap_or(0..0);
        let line = self.line_of(span.start);
        let table = self.table_at(line);
        // serde names the key for missing and unknown fields; otherwise the key is on the line.
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.find(p).map(|i| &message[i + p.len()..]))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let key = named.or_else(|| {
            let l = self.text.lines().nth(line - 1).unwrap_or("");
            l.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string())
        });
        let field = match (table.is_empty(), key) {
            (_, Some(k)) if k.contains('.') => k,
            (false, Some(k)) => format!("{table}.{k}"),
            (true, Some(k)) => k,
            (false, None) => table,
            (true, None) => "(document)".to_string(),
        };
        PolicyError::Invalid { path: self.path.to_string(), line, field, message }
    }

    fn text_field(&self, v: &Spanned<String>, field: &str, required: bool) -> Result<String, PolicyError> {
        let s = v.get_ref().trim();
        if required && s.is_empty() {
            return Err(self.err(v.span(), field, "must not be empty"));
        }
        if s.chars().count() > MAX_TEXT_CHARS {
            return Err(self.err(v.span(), field, format!("longer than {MAX_TEXT_CHARS} characters")));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(self.err(v.span(), field, "contains control characters"));
        }
        Ok(s.to_string())
    }

    fn positive(&self, v: &Spanned<f64>, field: &str, max: f64) -> Result<f64, PolicyError> {
        let x = *v.get_ref();
        if !x.is_finite() || x <= 0.0 || x > max {
            return Err(self.err(
                v.span(),
                field,
                format!("must be a number above 0 and at most {max}, not {x}"),
            ));
        }
        Ok(x)
    }

    pub(super) fn validate(&self, raw: RawFile) -> Result<Policy, PolicyError> {
        let h = &raw.policy;
        let name = self.text_field(&h.name, "policy.name", true)?;
        let name_ok = name.len() <= 64
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if !name_ok {
            return Err(self.err(
                h.name.span(),
                "policy.name",
                "must be 1-64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit",
            ));
        }
        let version = self.text_field(&h.version, "policy.version", true)?;
        if version.len() > 32 || !version.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(self.err(
                h.version.span(),
                "policy.version",
                "must be at most 32 letters, digits, '-', '_' or '.'",
            ));
        }
        let title = self.text_field(&h.title, "policy.title", true)?;
        let source = self.text_field(&h.source, "policy.source", true)?;
        let retailer =
            h.retailer.as_ref().map(|v| self.text_field(v, "policy.retailer", true)).transpose()?;
        let country = h.country.as_ref().map(|v| self.text_field(v, "policy.country", true)).transpose()?;
        let uncal = match &h.uncalibrated_recorder_u95_ppm {
            Some(v) => self.positive(v, "policy.uncalibrated_recorder_u95_ppm", 10_000.0)?,
            None => 100.0,
        };
        let mechanical = raw.mechanical.as_ref().map(|t| self.term(t, "mechanical")).transpose()?;
        let quartz = raw.quartz.as_ref().map(|t| self.term(t, "quartz")).transpose()?;
        let protocol = self.protocol(&raw.protocol)?;
        if raw.finding.len() > MAX_FINDING_RULES {
            let span = raw.finding[MAX_FINDING_RULES].code.span();
            return Err(self.err(span, "finding", format!("more than {MAX_FINDING_RULES} finding rules")));
        }
        let mut findings: Vec<FindingRule> = Vec::with_capacity(raw.finding.len());
        for f in &raw.finding {
            let code = self.text_field(&f.code, "finding.code", true)?;
            let code_ok = code.len() <= 64
                && code.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !code_ok {
                return Err(self.err(
                    f.code.span(),
                    "finding.code",
                    "must be snake_case: lowercase letters, digits and '_', at most 64",
                ));
            }
            if findings.iter().any(|g| g.code == code) {
                return Err(self.err(f.code.span(), "finding.code", format!("`{code}` appears twice")));
            }
            let mut steps = Vec::new();
            if let Some(s) = &f.step_interval_s {
                if s.get_ref().is_empty() || s.get_ref().len() > 8 {
                    return Err(self.err(s.span(), "finding.step_interval_s", "must list 1 to 8 intervals"));
                }
                for &x in s.get_ref() {
                    if !(2..=60).contains(&x) {
                        return Err(self.err(
                            s.span(),
                            "finding.step_interval_s",
                            format!("step intervals are whole seconds 2..60, not {x}"),
                        ));
                    }
                    steps.push(x as u32);
                }
            }
            let clause = self.text_field(&f.clause, "finding.clause", true)?;
            findings.push(FindingRule { code, outcome: f.outcome, step_interval_s: steps, clause });
        }
        let thresholds = match &raw.thresholds {
            None => Thresholds::default(),
            Some(t) => self.thresholds(t)?,
        };
        Ok(Policy {
            name,
            version,
            title,
            retailer,
            country,
            source,
            decision_rule: h.decision_rule.unwrap_or_default(),
            uncalibrated_recorder_u95_ppm: uncal,
            mechanical,
            quartz,
            protocol,
            findings,
            thresholds,
            text: self.text.to_string(),
            sha256: sha256_hex(self.text),
            origin: self.path.to_string(),
        })
    }

    fn term(&self, t: &RawTerm, table: &str) -> Result<AccuracyRule, PolicyError> {
        let f = |k: &str| format!("{table}.{k}");
        let clause = self.text_field(&t.clause, &f("clause"), true)?;
        let kind = *t.term.get_ref();
        let numbers: [(&Option<Spanned<f64>>, &str); 5] = [
            (&t.plus_minus, "plus_minus"),
            (&t.min, "min"),
            (&t.max, "max"),
            (&t.inner_plus_minus, "inner_plus_minus"),
            (&t.outer_plus_minus, "outer_plus_minus"),
        ];
        let allowed: &[&str] = match kind {
            RawTermKind::Tolerance => &["plus_minus", "min", "max"],
            RawTermKind::Band => &["inner_plus_minus", "outer_plus_minus"],
            RawTermKind::ModelSpecOnly => &[],
        };
        for (v, k) in numbers {
            if let Some(v) = v {
                if !allowed.contains(&k) {
                    return Err(self.err(v.span(), &f(k), "does not belong to this `term`"));
                }
                if !v.get_ref().is_finite() || v.get_ref().abs() > 100_000.0 {
                    return Err(self.err(v.span(), &f(k), "must be a finite number of at most 100000"));
                }
                let x = v.get_ref().abs();
                if x > 0.0 && x < MIN_TOLERANCE {
                    return Err(self.err(
                        v.span(),
                        &f(k),
                        format!("{x:e} is below {MIN_TOLERANCE}: no measurement resolves a tighter limit"),
                    ));
                }
            }
        }
        let unit =
            || t.unit.ok_or_else(|| self.err(t.term.span(), &f("unit"), "missing: \"s/day\" or \"s/month\""));
        let term = match kind {
            RawTermKind::ModelSpecOnly => {
                if t.unit.is_some() {
                    return Err(self.err(
                        t.term.span(),
                        &f("unit"),
                        "does not belong to a model_spec_only term",
                    ));
                }
                AccuracyTerm::ModelSpecOnly
            }
            RawTermKind::Tolerance => {
                let unit = unit()?;
                match (&t.plus_minus, &t.min, &t.max) {
                    (Some(pm), None, None) => AccuracyTerm::Tolerance(Tolerance::plus_minus(
                        self.positive(pm, &f("plus_minus"), 1e5)?,
                        unit,
                    )),
                    (None, Some(lo), Some(hi)) => {
                        if *lo.get_ref() >= 0.0 {
                            return Err(self.err(
                                lo.span(),
                                &f("min"),
                                "must be below 0 (the most the watch may lose)",
                            ));
                        }
                        if *hi.get_ref() <= 0.0 {
                            return Err(self.err(
                                hi.span(),
                                &f("max"),
                                "must be above 0 (the most the watch may gain)",
                            ));
                        }
                        AccuracyTerm::Tolerance(Tolerance { min: *lo.get_ref(), max: *hi.get_ref(), unit })
                    }
                    (Some(pm), _, _) => {
                        return Err(self.err(
                            pm.span(),
                            &f("plus_minus"),
                            "give either plus_minus or min and max, not both",
                        ))
                    }
                    (None, _, _) => {
                        return Err(self.err(
                            t.term.span(),
                            &f("plus_minus"),
                            "missing: give plus_minus, or min and max",
                        ))
                    }
                }
            }
            RawTermKind::Band => {
                let unit = unit()?;
                let (Some(i), Some(o)) = (&t.inner_plus_minus, &t.outer_plus_minus) else {
                    let k =
                        if t.inner_plus_minus.is_none() { "inner_plus_minus" } else { "outer_plus_minus" };
                    return Err(self.err(
                        t.term.span(),
                        &f(k),
                        "missing: a band needs inner_plus_minus and outer_plus_minus",
                    ));
                };
                let inner = self.positive(i, &f("inner_plus_minus"), 1e5)?;
                let outer = self.positive(o, &f("outer_plus_minus"), 1e5)?;
                if outer <= inner {
                    return Err(self.err(
                        o.span(),
                        &f("outer_plus_minus"),
                        format!("must be larger than inner_plus_minus ({inner})"),
                    ));
                }
                AccuracyTerm::Band {
                    inner: Tolerance::plus_minus(inner, unit),
                    outer: Tolerance::plus_minus(outer, unit),
                }
            }
        };
        Ok(AccuracyRule { term, clause })
    }

    fn protocol(&self, p: &RawProtocol) -> Result<Protocol, PolicyError> {
        let mut positions = Vec::new();
        for s in p.positions.get_ref() {
            let pos = Position::parse(s.get_ref()).filter(|p| *p != Position::Unstated).ok_or_else(|| {
                self.err(
                    s.span(),
                    "protocol.positions",
                    format!("unknown position `{}` (expected DU, DD, CD, CL, CU or CR)", s.get_ref()),
                )
            })?;
            if positions.contains(&pos) {
                return Err(self.err(s.span(), "protocol.positions", format!("{pos} appears twice")));
            }
            positions.push(pos);
        }
        if ![3, 5, 6].contains(&positions.len()) {
            return Err(self.err(
                p.positions.span(),
                "protocol.positions",
                format!("must list 3, 5 or 6 positions, not {}", positions.len()),
            ));
        }
        let settling_s = *p.settling_s.get_ref();
        if !settling_s.is_finite() || !(0.0..=86_400.0).contains(&settling_s) {
            return Err(self.err(p.settling_s.span(), "protocol.settling_s", "must be 0 to 86400 seconds"));
        }
        let seconds_per_position =
            self.positive(&p.seconds_per_position, "protocol.seconds_per_position", 86_400.0)?;
        let note = match &p.note {
            Some(n) => self.text_field(n, "protocol.note", false)?,
            None => String::new(),
        };
        Ok(Protocol { positions, settling_s, seconds_per_position, state_of_wind: p.state_of_wind, note })
    }

    fn thresholds(&self, t: &RawThresholds) -> Result<Thresholds, PolicyError> {
        let d = Thresholds::default();
        let get = |v: &Option<Spanned<f64>>, k: &str, default: f64, max: f64| match v {
            Some(v) => self.positive(v, &format!("thresholds.{k}"), max),
            None => Ok(default),
        };
        Ok(Thresholds {
            low_amplitude_flat_deg: get(
                &t.low_amplitude_flat_deg,
                "low_amplitude_flat_deg",
                d.low_amplitude_flat_deg,
                360.0,
            )?,
            low_amplitude_hanging_deg: get(
                &t.low_amplitude_hanging_deg,
                "low_amplitude_hanging_deg",
                d.low_amplitude_hanging_deg,
                360.0,
            )?,
            high_beat_error_ms: get(
                &t.high_beat_error_ms,
                "high_beat_error_ms",
                d.high_beat_error_ms,
                100.0,
            )?,
            large_positional_spread_s_per_day: get(
                &t.large_positional_spread_s_per_day,
                "large_positional_spread_s_per_day",
                d.large_positional_spread_s_per_day,
                10_000.0,
            )?,
            magnetisation_gain_s_per_day: get(
                &t.magnetisation_gain_s_per_day,
                "magnetisation_gain_s_per_day",
                d.magnetisation_gain_s_per_day,
                10_000.0,
            )?,
            erratic_window_spread_s_per_day: get(
                &t.erratic_window_spread_s_per_day,
                "erratic_window_spread_s_per_day",
                d.erratic_window_spread_s_per_day,
                10_000.0,
            )?,
            poor_quality_below: get(&t.poor_quality_below, "poor_quality_below", d.poor_quality_below, 1.0)?,
        })
    }
}
