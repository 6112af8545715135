//! UTC instants written and read as RFC 3339 text.
//!
//! Hand-written (about 80 lines) rather than pulling in `chrono` or `time`: profiles only need
//! whole-second UTC instants, formatting them as `YYYY-MM-DDTHH:MM:SSZ` and reading back any
//! RFC 3339 timestamp (fractional seconds and numeric offsets accepted), which is the
//! days-from-civil conversion below and nothing else.
use std::fmt;

/// An instant in UTC, whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime {
    /// Seconds since the Unix epoch (negative before 1970).
    pub unix_s: i64,
}

impl UtcTime {
    /// The instant `unix_s` seconds after the Unix epoch.
    pub fn from_unix(unix_s: i64) -> Self {
        UtcTime { unix_s }
    }

    /// The system clock's current time (the epoch itself if the clock is set before 1970).
    pub fn now() -> Self {
        let s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        UtcTime { unix_s: s }
    }

    /// Seconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn seconds_since(&self, earlier: UtcTime) -> i64 {
        self.unix_s - earlier.unix_s
    }

    /// Parses an RFC 3339 timestamp, e.g. `2026-11-21T13:07:33Z` or
    /// `2026-11-21T15:07:33.25+02:00` (fractional seconds are truncated).
    pub fn parse_rfc3339(s: &str) -> Option<UtcTime> {
        let b = s.as_bytes();
        if b.len() < 20 || b.len() > 40 {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = &b[r];
            if t.iter().all(|c| c.is_ascii_digit()) {
                std::str::from_utf8(t).ok()?.parse().ok()
            } else {
                None
            }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let mut i = 19;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let offset_s = match b.get(i)? {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'+' {
                    o
                } else {
                    -o
                }
            }
            _ => return None,
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(UtcTime { unix_s: days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_s })
    }

    /// The instant as `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_rfc3339(&self) -> String {
        let days = self.unix_s.div_euclid(86_400);
        let secs = self.unix_s.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parse_round_trip_over_centuries() {
        let mut t = -2_000_000_000i64;
        while t < 8_000_000_000 {
            let u = UtcTime::from_unix(t);
            assert_eq!(UtcTime::parse_rfc3339(&u.to_rfc3339()), Some(u), "{}", u);
            t += 86_399 * 37 + 11;
        }
    }

    #[test]
    fn known_instants_and_offsets() {
        assert_eq!(UtcTime::from_unix(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(UtcTime::from_unix(951_782_400).to_rfc3339(), "2000-02-29T00:00:00Z");
        let a = UtcTime::parse_rfc3339("2026-11-21T15:07:33.75+02:00").unwrap();
        assert_eq!(a, UtcTime::parse_rfc3339("2026-11-21T13:07:33Z").unwrap());
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for s in [
            "",
            "2026-11-21",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T12:00:00",
            "2026-11-21T12:00:00+2:00",
            "2026-11-21T12:00:00.Z",
            "２０２６-11-21T12:00:00Z",
        ] {
            assert_eq!(UtcTime::parse_rfc3339(s), None, "{s}");
        }
    }
}
