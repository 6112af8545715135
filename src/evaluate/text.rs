//! The report for people.
use super::report::{ErrorStats, Report, Row};
use crate::measurement::Kind;
use std::fmt;

fn fmt_stats(s: &Option<ErrorStats>, prec: usize) -> String {
    match s {
        Some(s) => format!("{:>+8.p$} {:>7.p$} {:>7.p$}", s.mean, s.rms, s.max_abs, p = prec),
        None => format!("{:>8} {:>7} {:>7}", "-", "-", "-"),
    }
}

fn fmt_cov(s: &Option<ErrorStats>) -> String {
    s.map_or_else(|| format!("{:>4}", "-"), |s| format!("{:>4.0}", s.coverage_pct))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let watch = self.all.cases;
        let none = self.recordings - watch;
        match self.seed {
            Some(seed) => writeln!(
                f,
                "tickproof evaluate: synthetic sweep, seed {seed}: {watch} watch recordings, {none} without a watch"
            )?,
            None => writeln!(
                f,
                "tickproof evaluate: {}: {watch} watch recordings, {none} without a watch",
                self.source
            )?,
        }
        writeln!(
            f,
            "errors = measured - truth, over recordings with the right bph; cover = truth within +-u95"
        )?;
        let header = |f: &mut fmt::Formatter<'_>, first: &str| {
            writeln!(
                f,
                "{first:<11} {:>5} {:>6} | {:^24} | {:^24} | {:^24} | {:^14} | {:>7}",
                "cases",
                "bph ok",
                "rate err s/day",
                "beat error err ms",
                "amplitude err deg",
                "cover %",
                "speed"
            )?;
            writeln!(
                f,
                "{:<11} {:>5} {:>6} | {:>8} {:>7} {:>7} | {:>8} {:>7} {:>7} | {:>8} {:>7} {:>7} | {:>4} {:>4} {:>4} | {:>7}",
                "", "", "%", "mean", "rms", "max", "mean", "rms", "max", "mean", "rms", "max", "rate", "be", "amp",
                "x rt"
            )
        };
        let row = |f: &mut fmt::Formatter<'_>, r: &Row| {
            writeln!(
                f,
                "{:<11} {:>5} {:>6.1} | {} | {} | {} | {} {} {} | {:>7.0}",
                r.group,
                r.cases,
                r.bph_correct_pct,
                fmt_stats(&r.rate_s_per_day, 4),
                fmt_stats(&r.beat_error_ms, 4),
                fmt_stats(&r.amplitude_deg, 2),
                fmt_cov(&r.rate_s_per_day),
                fmt_cov(&r.beat_error_ms),
                fmt_cov(&r.amplitude_deg),
                r.x_real_time
            )
        };
        if watch > 0 {
            writeln!(f)?;
            header(f, "bph")?;
            for r in &self.by_bph {
                row(f, r)?;
            }
            writeln!(f)?;
            header(f, "SNR")?;
            for r in &self.by_snr {
                row(f, r)?;
            }
            row(f, &self.snr_10_db_and_up)?;
            row(f, &self.all)?;
            writeln!(f)?;
            header(f, "family")?;
            for r in &self.by_family {
                row(f, r)?;
            }
            let missing: usize = self.all.amplitude_missing;
            if self.all.missed > 0 || missing > 0 {
                writeln!(
                    f,
                    "{} watch recordings reported as no watch; {missing} measured without an amplitude",
                    self.all.missed
                )?;
            }
        }
        if !self.negatives.is_empty() {
            writeln!(f)?;
            writeln!(f, "{:<12} {:>5} {:>10} {:>7}", "no watch", "cases", "rejected %", "x rt")?;
            for n in &self.negatives {
                writeln!(
                    f,
                    "{:<12} {:>5} {:>10.1} {:>7.0}",
                    n.scenario, n.cases, n.rejected_pct, n.x_real_time
                )?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "speed: {:.0}x real time per core, on-CPU time ({} threads, {:.1} s wall{})",
            self.x_real_time,
            self.threads,
            self.wall_s,
            if self.seed.is_some() {
                ", synthesis included in wall, not in speed"
            } else {
                ", decoding included"
            }
        )?;
        if !self.failures.is_empty() {
            writeln!(f, "wrong in kind ({}):", self.failures.len())?;
            for r in self.failures.iter().take(20) {
                let got = match (r.measured_kind, r.measured_bph) {
                    (Kind::None, _) => format!("no watch: {}", r.reason.as_deref().unwrap_or("")),
                    (k, Some(b)) => format!("{k:?} at {b} bph").to_lowercase(),
                    (k, None) => format!("{k:?}").to_lowercase(),
                };
                writeln!(f, "  {}: {got}", r.name)?;
            }
            if self.failures.len() > 20 {
                writeln!(f, "  ... and {} more (see --json)", self.failures.len() - 20)?;
            }
        }
        Ok(())
    }
}
