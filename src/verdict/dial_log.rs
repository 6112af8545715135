//! The dial log: readings of the watch's display against a reference time over hours or days.
//! The long-term method, and for quartz often the only way to ±20 s/month without a calibrated
//! recorder, since it does not depend on the recorder's clock at all.
//!
//! # Format
//! One reading per line, `reference_utc,watch_reading` (comma, semicolon or tab):
//!
//! ```text
//! # reference_utc,watch_reading
//! 2024-05-01T09:00:00Z,09:00:03
//! 2024-05-02T09:00:00Z,09:00:18
//! 2024-05-08T09:00:00Z,09:01:48
//! ```
//!
//! * `reference_utc`: `YYYY-MM-DDTHH:MM:SS[.fff]` (`T` or a space), optionally `Z` or `±HH:MM`;
//!   without a zone it is taken as UTC.
//! * `watch_reading`: what the display showed, either a time of day `HH:MM:SS[.fff]` (12- or
//!   24-hour: offsets are unwrapped modulo 12 hours, so the watch may be set to any time zone) or
//!   a full date-time as above. All lines use the same form.
//! * Blank lines and lines starting with `#` are skipped; a first line naming the columns is a
//!   header.
//!
//! # Rate and uncertainty
//! The watch's offset from the reference is fitted by least squares against elapsed time; the
//! slope is the average daily rate. Its u95 comes from the reading resolution `q` (a display read
//! to the second has a quantisation error uniform over one step, standard deviation `q / sqrt 12`)
//! or, when the readings scatter more than that, from the residual scatter with Student's t:
//! `u95 = k * sigma / sqrt(Sxx)`, `Sxx` the spread of the reading times in days squared.
//!
//! # Limits
//! At most [`DIAL_LOG_MAX_BYTES`] bytes, [`DIAL_LOG_MAX_READINGS`] readings, lines of at most
//! [`DIAL_LOG_MAX_LINE`] characters; reference times strictly increasing.
use crate::measurement::{Figure, Finding};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Largest dial-log file accepted, bytes.
pub const DIAL_LOG_MAX_BYTES: u64 = 1 << 20;
/// Most readings in a dial log.
pub const DIAL_LOG_MAX_READINGS: usize = 100_000;
/// Longest line, characters.
pub const DIAL_LOG_MAX_LINE: usize = 256;

const HALF_DAY_S: f64 = 43_200.0;

/// A dial log that cannot be used; every message names the source and, for content, the line.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DialLogError {
    /// The file could not be read.
    Io {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// Larger than [`DIAL_LOG_MAX_BYTES`] or more than [`DIAL_LOG_MAX_READINGS`] readings.
    TooLarge {
        /// The file.
        path: String,
        /// What is too large.
        message: String,
    },
    /// A line that cannot be read.
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The problem.
        message: String,
    },
    /// Not enough readings, or too short a span, for a rate.
    TooFew {
        /// The file.
        path: String,
        /// The problem.
        message: String,
    },
    /// The reading resolution given is not a positive number.
    BadResolution {
        /// The value given.
        resolution_s: f64,
    },
}

impl fmt::Display for DialLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialLogError::Io { path, message } => write!(f, "{path}: cannot read dial log: {message}"),
            DialLogError::TooLarge { path, message } => write!(f, "{path}: dial log too large: {message}"),
            DialLogError::Line { path, line, message } => write!(f, "{path}:{line}: {message}"),
            DialLogError::TooFew { path, message } => write!(f, "{path}: {message}"),
            DialLogError::BadResolution { resolution_s } => {
                write!(
                    f,
                    "dial-log reading resolution must be a positive number of seconds, not {resolution_s}"
                )
            }
        }
    }
}

impl std::error::Error for DialLogError {}

/// One reading: when (reference) and how far the watch was ahead.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DialReading {
    /// 1-based line of the file.
    pub line: usize,
    /// Reference time, seconds since 1970-01-01 UTC.
    pub reference_unix_s: f64,
    /// Watch minus reference, seconds (+ = ahead), unwrapped; only its changes matter.
    pub offset_s: f64,
}

/// A parsed dial log.
#[derive(Debug, Clone, PartialEq)]
pub struct DialLog {
    /// Where it came from (file name), for messages.
    pub source: String,
    /// The readings in order.
    pub readings: Vec<DialReading>,
}

/// The average daily rate from a dial log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialRate {
    /// Average rate, s/day (+ = gains), with its u95.
    pub rate_s_per_day: Figure,
    /// Readings used.
    pub readings: usize,
    /// Time from the first to the last reading, days.
    pub span_days: f64,
    /// RMS of the residuals of the fit, seconds.
    pub residual_rms_s: f64,
    /// The reading resolution assumed, seconds.
    pub resolution_s: f64,
    /// Where the log came from.
    pub source: String,
    /// Remarks (e.g. readings scatter more than the resolution explains).
    pub findings: Vec<Finding>,
}

impl DialLog {
    /// Reads a dial log file (at most [`DIAL_LOG_MAX_BYTES`]).
    pub fn from_file(path: &Path) -> Result<DialLog, DialLogError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let io = |e: std::io::Error| DialLogError::Io { path: shown.clone(), message: e.to_string() };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(DIAL_LOG_MAX_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > DIAL_LOG_MAX_BYTES {
            return Err(DialLogError::TooLarge {
                path: shown,
                message: format!("more than {DIAL_LOG_MAX_BYTES} bytes"),
            });
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| DialLogError::Io { path: shown.clone(), message: "not UTF-8 text".into() })?;
        DialLog::parse(&text, &shown)
    }

    /// Parses dial-log text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<DialLog, DialLogError> {
        let line_err =
            |line: usize, message: String| DialLogError::Line { path: source.to_string(), line, message };
        let mut readings: Vec<DialReading> = Vec::new();
        let mut form: Option<bool> = None; // Some(true): watch readings are full date-times
        let mut seen_data = false;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.chars().count() > DIAL_LOG_MAX_LINE {
                return Err(line_err(line, format!("line longer than {DIAL_LOG_MAX_LINE} characters")));
            }
            let t = raw.trim().trim_start_matches('\u{feff}');
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = t.split([',', ';', '\t']).map(str::trim).collect();
            if !seen_data && fields.len() == 2 && !fields[0].starts_with(|c: char| c.is_ascii_digit()) {
                seen_data = true; // a header naming the columns
                continue;
            }
            seen_data = true;
            if fields.len() != 2 {
                return Err(line_err(
                    line,
                    format!("expected `reference_utc,watch_reading`, found {} fields", fields.len()),
                ));
            }
            if readings.len() == DIAL_LOG_MAX_READINGS {
                return Err(DialLogError::TooLarge {
                    path: source.to_string(),
                    message: format!("more than {DIAL_LOG_MAX_READINGS} readings"),
                });
            }
            let reference = parse_datetime(fields[0])
                .map_err(|m| line_err(line, format!("reference_utc `{}`: {m}", fields[0])))?;
            let full = fields[1].len() > 12 && fields[1].contains('-');
            if *form.get_or_insert(full) != full {
                return Err(line_err(
                    line,
                    "watch_reading: mixes a time of day and a full date-time; use one form throughout".into(),
                ));
            }
            let offset = if full {
                let w = parse_datetime(fields[1])
                    .map_err(|m| line_err(line, format!("watch_reading `{}`: {m}", fields[1])))?;
                w - reference
            } else {
                let w = parse_time_of_day(fields[1])
                    .map_err(|m| line_err(line, format!("watch_reading `{}`: {m}", fields[1])))?;
                let raw_offset = wrap_half_day(w - reference.rem_euclid(86_400.0));
                match readings.last() {
                    // unwrap: the offset changes by far less than 6 hours between readings
                    Some(prev) => prev.offset_s + wrap_half_day(raw_offset - prev.offset_s),
                    None => raw_offset,
                }
            };
            if let Some(prev) = readings.last() {
                if reference <= prev.reference_unix_s {
                    return Err(line_err(
                        line,
                        format!("reference_utc `{}` is not later than the reading before it", fields[0]),
                    ));
                }
            }
            readings.push(DialReading { line, reference_unix_s: reference, offset_s: offset });
        }
        Ok(DialLog { source: source.to_string(), readings })
    }

    /// The average daily rate by least squares, with u95 from the reading resolution
    /// `resolution_s` (e.g. 1.0 for a display read to the second) or the residual scatter.
    pub fn rate(&self, resolution_s: f64) -> Result<DialRate, DialLogError> {
        if !resolution_s.is_finite() || resolution_s <= 0.0 || resolution_s > 3600.0 {
            return Err(DialLogError::BadResolution { resolution_s });
        }
        let n = self.readings.len();
        if n < 2 {
            return Err(DialLogError::TooFew {
                path: self.source.clone(),
                message: format!("a dial log needs at least 2 readings, found {n}"),
            });
        }
        let t0 = self.readings[0].reference_unix_s;
        let xs: Vec<f64> = self.readings.iter().map(|r| (r.reference_unix_s - t0) / 86_400.0).collect();
        let ys: Vec<f64> = self.readings.iter().map(|r| r.offset_s - self.readings[0].offset_s).collect();
        let nf = n as f64;
        let mx = xs.iter().sum::<f64>() / nf;
        let my = ys.iter().sum::<f64>() / nf;
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let span_days = xs[n - 1];
        if sxx <= 0.0 || span_days * 86_400.0 < 60.0 {
            return Err(DialLogError::TooFew {
                path: self.source.clone(),
                message: "the readings span less than a minute: no rate can be drawn".into(),
            });
        }
        let slope = sxy / sxx;
        let intercept = my - slope * mx;
        let ss: f64 = xs.iter().zip(&ys).map(|(x, y)| (y - intercept - slope * x).powi(2)).sum();
        let residual_rms_s = (ss / nf).sqrt();
        let sigma_q = resolution_s / 12f64.sqrt();
        let (sigma, k) = if n >= 3 {
            let s = (ss / (nf - 2.0)).sqrt();
            if s > sigma_q {
                (s, student_t95(n - 2))
            } else {
                (sigma_q, 2.0)
            }
        } else {
            (sigma_q, 2.0)
        };
        let u95 = k * sigma / sxx.sqrt();
        let mut findings = Vec::new();
        if n >= 4 && residual_rms_s > 3.0 * sigma_q {
            findings.push(Finding::new(
                "dial_log_scatter",
                format!(
                    "the dial readings scatter by {residual_rms_s:.2} s RMS about a straight line, more than a \
                     {resolution_s} s reading resolution explains: check for typing errors, a reset of the watch \
                     or a changing rate; the u95 uses the scatter"
                ),
            ));
        }
        Ok(DialRate {
            rate_s_per_day: Figure::new(slope, u95),
            readings: n,
            span_days,
            residual_rms_s,
            resolution_s,
            source: self.source.clone(),
            findings,
        })
    }
}

/// Two-sided 95% quantile of Student's t with `dof` degrees of freedom (table to 30, then a
/// close approximation; within 0.002 of the exact value).
pub fn student_t95(dof: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match dof {
        0 => f64::INFINITY,
        1..=30 => T[dof - 1],
        _ => 1.96 + 2.5 / dof as f64,
    }
}

fn wrap_half_day(x: f64) -> f64 {
    (x + HALF_DAY_S / 2.0).rem_euclid(HALF_DAY_S) - HALF_DAY_S / 2.0
}

// Hand-written on purpose: two fixed formats do not justify a date-time dependency, and the
// arithmetic (days from civil date, after H. Hinnant) is tested below.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str, n: usize, what: &str) -> Result<i64, String> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} must be {n} digits"));
    }
    s.parse::<i64>().map_err(|_| format!("{what} must be {n} digits"))
}

/// `HH:MM:SS[.fff]` to seconds after midnight.
fn parse_time_of_day(s: &str) -> Result<f64, String> {
    let mut parts = s.split(':');
    let (Some(h), Some(m), Some(sec), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("expected HH:MM:SS".into());
    };
    let h = if h.len() == 1 { digits(&format!("0{h}"), 2, "hours")? } else { digits(h, 2, "hours")? };
    let m = digits(m, 2, "minutes")?;
    let (whole, frac) = match sec.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (sec, None),
    };
    let whole = digits(whole, 2, "seconds")?;
    let frac = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<f64>().map_err(|_| "bad fraction of a second")? / 10f64.powi(f.len() as i32)
        }
        Some(_) => return Err("the fraction of a second must be 1 to 9 digits".into()),
        None => 0.0,
    };
    if h > 23 || m > 59 || whole > 60 {
        return Err("hours 0-23, minutes 0-59, seconds 0-60".into());
    }
    Ok((h * 3600 + m * 60 + whole) as f64 + frac)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|±HH:MM]` to seconds since 1970 UTC.
fn parse_datetime(s: &str) -> Result<f64, String> {
    let s = s.trim();
    if s.len() < 19 || !s.is_char_boundary(10) || !s.is_char_boundary(11) {
        return Err("expected YYYY-MM-DDTHH:MM:SS".into());
    }
    let (date, rest) = (&s[..10], &s[11..]);
    if !matches!(&s[10..11], "T" | "t" | " ") {
        return Err("expected `T` or a space between date and time".into());
    }
    let mut dp = date.split('-');
    let (Some(y), Some(mo), Some(d), None) = (dp.next(), dp.next(), dp.next(), dp.next()) else {
        return Err("expected YYYY-MM-DD".into());
    };
    let (y, mo, d) = (digits(y, 4, "year")?, digits(mo, 2, "month")?, digits(d, 2, "day")?);
    if !(1..=12).contains(&mo) {
        return Err("month 01-12".into());
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(mo - 1) as usize];
    if d < 1 || d > dim {
        return Err(format!("day 01-{dim} in that month"));
    }
    let (time, zone_s) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0.0)
    } else if rest.len() > 6 && matches!(rest.as_bytes()[rest.len() - 6], b'+' | b'-') {
        let (t, z) = rest.split_at(rest.len() - 6);
        let sign = if z.starts_with('-') { -1.0 } else { 1.0 };
        let (zh, zm) = z[1..].split_once(':').ok_or("zone must be ±HH:MM")?;
        let (zh, zm) = (digits(zh, 2, "zone hours")?, digits(zm, 2, "zone minutes")?);
        if zh > 14 || zm > 59 {
            return Err("zone must be ±HH:MM, at most ±14:00".into());
        }
        (t, sign * (zh * 3600 + zm * 60) as f64)
    } else {
        (rest, 0.0)
    };
    let tod = parse_time_of_day(time)?;
    Ok(days_from_civil(y, mo, d) as f64 * 86_400.0 + tod - zone_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_epoch_and_a_leap_day_are_exact() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z").unwrap(), 0.0);
        assert_eq!(parse_datetime("2000-03-01 00:00:00").unwrap(), 951_868_800.0);
        assert_eq!(parse_datetime("2024-02-29T12:00:00+02:00").unwrap(), 1_709_200_800.0);
        assert!(parse_datetime("2023-02-29T00:00:00Z").is_err());
        assert!(parse_datetime("2023-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn offsets_unwrap_across_midnight() {
        let log =
            DialLog::parse("2024-01-01T23:59:00Z,23:59:10\n2024-01-02T00:01:00Z,00:01:11\n", "t").unwrap();
        assert!((log.readings[1].offset_s - log.readings[0].offset_s - 1.0).abs() < 1e-9);
    }
}
