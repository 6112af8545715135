//! Claim ids, measurement positions and bounds on the text a customer or technician types.
use serde::{Deserialize, Serialize};
use std::fmt;

use super::time::Date;
use super::RecordError;

/// A claim id: `C-YYYYMMDD-NNNN`, the date the claim was opened (UTC) and a 4-digit sequence
/// number 0001..9999 within that day; a claim opened at a named branch of a chain of service
/// centres adds the branch code: `C-YYYYMMDD-NNNN-BRANCH` (see [`validate_branch`]), so that ids
/// stay unique across branches that number their claims independently (offline, then pushed).
///
/// Anything else is rejected before it reaches the store or the file system: no slashes, dots,
/// spaces, lower case, or other characters can occur, so an id can never name a path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClaimId(String);

impl ClaimId {
    /// Parses and validates an id.
    pub fn parse(s: &str) -> Result<ClaimId, RecordError> {
        let bad = || RecordError::InvalidClaimId { given: truncate_for_message(s) };
        let b = s.as_bytes();
        if b.len() < 15 || &b[..2] != b"C-" || b[10] != b'-' {
            return Err(bad());
        }
        if !b[2..10].iter().chain(&b[11..15]).all(u8::is_ascii_digit) {
            return Err(bad());
        }
        if b.len() > 15 && (b[15] != b'-' || !is_branch(&s[16..])) {
            return Err(bad());
        }
        let date = Date::new(
            s[2..6].parse().unwrap_or(0),
            s[6..8].parse().unwrap_or(0),
            s[8..10].parse().unwrap_or(0),
        );
        let seq: u32 = s[11..15].parse().unwrap_or(0);
        if date.is_none() || seq == 0 {
            return Err(bad());
        }
        Ok(ClaimId(s.to_string()))
    }

    /// The id of the `seq`-th claim opened on `date` (`seq` in 1..=9999).
    pub fn new(date: Date, seq: u32) -> Result<ClaimId, RecordError> {
        if !(1..=9999).contains(&seq) {
            return Err(RecordError::InvalidField {
                field: "claim_id".into(),
                problem: format!("more than 9999 claims opened on {}", date.iso()),
            });
        }
        Ok(ClaimId(format!("C-{}-{seq:04}", date.compact())))
    }

    /// The id of the `seq`-th claim opened on `date` at `branch` (none: the plain form).
    pub fn new_at(date: Date, seq: u32, branch: Option<&str>) -> Result<ClaimId, RecordError> {
        let plain = ClaimId::new(date, seq)?;
        match branch {
            None => Ok(plain),
            Some(b) => {
                validate_branch(b)?;
                Ok(ClaimId(format!("{plain}-{b}")))
            }
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `C-YYYYMMDD-` prefix shared by all claims opened on the same day.
    pub fn day_prefix(date: Date) -> String {
        format!("C-{}-", date.compact())
    }

    /// The sequence number within the day.
    pub fn seq(&self) -> u32 {
        self.0[11..15].parse().unwrap_or(0)
    }

    /// The branch code of an id opened at a named branch.
    pub fn branch(&self) -> Option<&str> {
        self.0.get(16..)
    }
}

impl TryFrom<String> for ClaimId {
    type Error = RecordError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ClaimId::parse(&s)
    }
}

impl From<ClaimId> for String {
    fn from(id: ClaimId) -> String {
        id.0
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Longest branch code, in characters.
pub const MAX_BRANCH_CHARS: usize = 16;

fn is_branch(s: &str) -> bool {
    (1..=MAX_BRANCH_CHARS).contains(&s.len())
        && s.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Checks a branch code: 1 to [`MAX_BRANCH_CHARS`] upper-case ASCII letters or digits (`LYON`,
/// `B07`), so that it can sit in a claim id and never name a path.
pub fn validate_branch(s: &str) -> Result<(), RecordError> {
    if is_branch(s) {
        Ok(())
    } else {
        Err(RecordError::InvalidField {
            field: "branch".into(),
            problem: format!(
                "'{}' is not a branch code (1 to {MAX_BRANCH_CHARS} upper-case letters or digits)",
                truncate_for_message(s)
            ),
        })
    }
}

/// The positions of the positional protocol (ISO 3159 / timegrapher names).
pub const POSITIONS: [(&str, &str); 6] = [
    ("DU", "dial up"),
    ("DD", "dial down"),
    ("CD", "crown down"),
    ("CL", "crown left"),
    ("CU", "crown up"),
    ("CR", "crown right"),
];

/// Validates a position name: one of [`POSITIONS`], or `P1`..`P12` for a recording whose
/// position was not stated (never guessed).
pub fn validate_position(s: &str) -> Result<(), RecordError> {
    let known = POSITIONS.iter().any(|(p, _)| *p == s);
    let unstated =
        s.strip_prefix('P').and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| (1..=12).contains(&n))
            && !s.starts_with("P0");
    if known || unstated {
        Ok(())
    } else {
        Err(RecordError::InvalidField {
            field: "position".into(),
            problem: format!(
                "'{}' is not a position (DU, DD, CD, CL, CU, CR, or P1..P12 when unstated)",
                truncate_for_message(s)
            ),
        })
    }
}

/// The position's name in plain words.
pub fn position_words(s: &str) -> String {
    POSITIONS
        .iter()
        .find(|(p, _)| *p == s)
        .map(|(_, w)| w.to_string())
        .unwrap_or_else(|| format!("position not stated ({s})"))
}

/// Longest single-line field (brand, model, serial, technician, names), in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 200;
/// Longest free text (the customer's complaint, a correction note), in characters.
pub const MAX_LONG_TEXT_CHARS: usize = 4000;

/// Checks a single-line text field: not empty after trimming, at most
/// [`MAX_SHORT_TEXT_CHARS`], no control characters.
pub fn check_short_text(field: &str, s: &str) -> Result<(), RecordError> {
    check_text(field, s, MAX_SHORT_TEXT_CHARS, false)
}

/// Checks a free-text field: not empty after trimming, at most [`MAX_LONG_TEXT_CHARS`], no
/// control characters but newline and tab.
pub fn check_long_text(field: &str, s: &str) -> Result<(), RecordError> {
    check_text(field, s, MAX_LONG_TEXT_CHARS, true)
}

fn check_text(field: &str, s: &str, max: usize, multiline: bool) -> Result<(), RecordError> {
    let problem = if s.trim().is_empty() {
        Some("is empty".to_string())
    } else if s.chars().count() > max {
        Some(format!("is longer than {max} characters"))
    } else if s.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t'))) {
        Some("contains control characters".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(RecordError::InvalidField { field: field.to_string(), problem }),
        None => Ok(()),
    }
}

/// At most 40 characters of untrusted text, with control characters escaped, for error messages.
pub fn truncate_for_message(s: &str) -> String {
    let mut out: String = s.chars().take(40).flat_map(char::escape_debug).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids_parse_and_everything_else_is_rejected() {
        assert!(ClaimId::parse("C-20250301-0001").is_ok());
        for bad in [
            "",
            "C-20250301-0000",
            "C-20250230-0001",
            "C-20250301-001",
            "c-20250301-0001",
            "C-20250301-0001/..",
            "../C-20250301-0001",
            "C-2025030-10001",
            "C-20250301-00a1",
            "C-20250301-0001 ",
            "C-20250301-0001-",
            "C-20250301-0001-lyon",
            "C-20250301-0001-LY/N",
            "C-20250301-0001-ABCDEFGHIJKLMNOPQ",
            "C-20250301-0001LYON",
        ] {
            assert!(ClaimId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn branch_ids_carry_the_branch_and_number_like_plain_ones() {
        let d = Date::new(2025, 3, 1).unwrap();
        let id = ClaimId::new_at(d, 7, Some("LYON")).unwrap();
        assert_eq!(id.as_str(), "C-20250301-0007-LYON");
        assert_eq!((id.seq(), id.branch()), (7, Some("LYON")));
        assert_eq!(ClaimId::parse(id.as_str()).unwrap(), id);
        let plain = ClaimId::new_at(d, 7, None).unwrap();
        assert_eq!((plain.as_str(), plain.branch()), ("C-20250301-0007", None));
        assert!(ClaimId::new_at(d, 7, Some("lyon")).is_err());
    }

    #[test]
    fn positions_are_known_names_or_numbered_unstated() {
        for ok in ["DU", "CR", "P1", "P12"] {
            assert!(validate_position(ok).is_ok(), "{ok}");
        }
        for bad in ["du", "P0", "P13", "P01", "X", "DU/..", ""] {
            assert!(validate_position(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_fields_are_bounded() {
        assert!(check_short_text("brand", "Seiko").is_ok());
        assert!(check_short_text("brand", " ").is_err());
        assert!(check_short_text("brand", &"x".repeat(201)).is_err());
        assert!(check_short_text("brand", "a\nb").is_err());
        assert!(check_long_text("complaint", "loses\n5 minutes a day").is_ok());
        assert!(check_long_text("complaint", "bell\u{7}").is_err());
    }
}
