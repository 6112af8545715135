//! UTC timestamps and calendar dates as records write them (`2025-03-01T14:05:09Z`, `2025-03-01`).
//!
//! Hand-written (the civil-from-days conversion is twenty lines of integer arithmetic, H. Hinnant's
//! algorithm) rather than pulling a date-time crate into the build for two formats.
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date (proleptic Gregorian), validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, 1970..=9999.
    pub year: u32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31 (valid for the month).
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`, rejecting impossible dates (`2023-02-29`) and anything else.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        Date::new(num(0..4)?, num(5..7)?, num(8..10)?)
    }

    /// A date from its parts, when they form a real date between 1970 and 9999.
    pub fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day < 1 {
            return None;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        (day <= days[month as usize - 1]).then_some(Date { year, month, day })
    }

    /// `YYYY-MM-DD`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `YYYYMMDD`, as claim ids use it.
    pub fn compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// A moment in UTC, whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_s: u64,
}

impl UtcTime {
    /// Now, from the system clock (a clock before 1970 reads as 1970).
    pub fn now() -> UtcTime {
        let s = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        UtcTime { unix_s: s }
    }

    /// The calendar date of this moment in UTC.
    pub fn date(&self) -> Date {
        let (y, m, d) = civil_from_days((self.unix_s / 86_400) as i64);
        Date { year: y as u32, month: m, day: d }
    }

    /// RFC 3339 in UTC with a `Z`, e.g. `2025-03-01T14:05:09Z` (sorts as text in time order).
    pub fn rfc3339(&self) -> String {
        let secs = self.unix_s % 86_400;
        format!("{}T{:02}:{:02}:{:02}Z", self.date().iso(), secs / 3600, secs / 60 % 60, secs % 60)
    }
}

/// Days since 1970-01-01 to (year, month, day). Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// True when `s` is a timestamp as [`UtcTime::rfc3339`] writes it.
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && Date::parse(&s[..10]).is_some()
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && [11, 12, 14, 15, 17, 18].iter().all(|&i| b[i].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_as_rfc3339() {
        assert_eq!(UtcTime { unix_s: 0 }.rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(UtcTime { unix_s: 951_782_400 }.rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(UtcTime { unix_s: 1_740_837_909 }.rfc3339(), "2025-03-01T14:05:09Z");
        assert!(is_rfc3339_utc("2025-03-01T14:05:09Z"));
        assert!(!is_rfc3339_utc("2025-03-01 14:05:09Z"));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
        assert!(Date::parse("2023-1-01").is_none());
        assert!(Date::parse("+023-01-01").is_none());
    }
}
