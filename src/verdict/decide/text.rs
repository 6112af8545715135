//! The verdict for people.
use super::fmt_fig;
use super::outcome::{RateSource, Verdict};
use crate::measurement::Figure;
use crate::verdict::policy::RateUnit;
use std::fmt::Write as _;

impl Verdict {
    /// The verdict for people: the answer first, then why, the figures and the findings.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Verdict: {}", self.verdict.name());
        let _ = writeln!(
            s,
            "Policy: {} v{} (sha256 {})",
            self.policy.name, self.policy.version, self.policy.sha256
        );
        let _ = writeln!(s, "Movement: {}", self.movement);
        s.push_str("Why:\n");
        for r in &self.reasons {
            let _ = writeln!(s, "  - {r}");
        }
        if let Some(t) = &self.to_decide {
            let _ = writeln!(s, "To decide: {t}");
        }
        if let Some(r) = self.average_rate_s_per_day {
            let _ = write!(s, "Average rate: {}", fmt_fig(r, RateUnit::SPerDay));
            if let Some(m) = self.average_rate_s_per_month {
                let _ = write!(s, " = {}", fmt_fig(m, RateUnit::SPerMonth));
            }
            let src = match self.rate_source {
                RateSource::DialLog => "dial log",
                _ => "average over positions",
            };
            let _ = writeln!(s, " ({src})");
        }
        if !self.positions.is_empty() {
            s.push_str("Positions:\n");
            for p in &self.positions {
                let _ = write!(s, "  {:<8}", p.position.code());
                match p.rate_s_per_day {
                    Some(r) => {
                        let _ = write!(s, " rate {:+8.2} ± {:.2} s/day", r.value, r.u95);
                    }
                    None => s.push_str(" rate        - "),
                }
                if let Some(a) = p.amplitude_deg {
                    let _ = write!(s, "  amplitude {:.0} ± {:.0} deg", a.value, a.u95);
                }
                if let Some(b) = p.beat_error_ms {
                    let _ = write!(s, "  beat error {:.2} ± {:.2} ms", b.value, b.u95);
                }
                if let Some(st) = p.step_interval_s {
                    let _ = write!(s, "  step {st:.0} s");
                }
                let _ = writeln!(s, "  ({:.0} s, quality {:.2}, {})", p.duration_s, p.quality, p.calibration);
            }
        }
        let extra: [(&str, Option<Figure>, &str); 4] = [
            ("Positional spread D", self.positional_spread_s_per_day, "s/day"),
            ("Vertical - horizontal", self.vertical_horizontal_difference_s_per_day, "s/day"),
            ("Amplitude drop flat to hanging", self.amplitude_drop_flat_to_hanging_deg, "deg"),
            ("Largest beat error", self.max_beat_error_ms, "ms"),
        ];
        for (name, f, u) in extra {
            if let Some(f) = f {
                let _ = writeln!(s, "{name}: {:.2} ± {:.2} {u}", f.value, f.u95);
            }
        }
        if !self.findings.is_empty() {
            s.push_str("Findings:\n");
            for f in &self.findings {
                let _ = writeln!(s, "  [{}] {}", f.code, f.message);
            }
        }
        s
    }
}
