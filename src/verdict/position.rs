//! Watch positions on the timegrapher and the movement kinds a policy distinguishes.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A position of the watch during a measurement (the six standard ones, or unstated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Position {
    /// Dial up (horizontal).
    DU,
    /// Dial down (horizontal).
    DD,
    /// Crown down (vertical, "hanging").
    CD,
    /// Crown left (vertical).
    CL,
    /// Crown up (vertical).
    CU,
    /// Crown right (vertical).
    CR,
    /// The position was not stated (it counts towards no protocol position).
    #[serde(rename = "unstated")]
    Unstated,
}

impl Position {
    /// The six standard positions, in protocol order.
    pub const ALL: [Position; 6] =
        [Position::DU, Position::DD, Position::CD, Position::CL, Position::CU, Position::CR];

    /// The two-letter code (`DU`, `DD`, `CD`, `CL`, `CU`, `CR`), or `unstated`.
    pub fn code(self) -> &'static str {
        match self {
            Position::DU => "DU",
            Position::DD => "DD",
            Position::CD => "CD",
            Position::CL => "CL",
            Position::CU => "CU",
            Position::CR => "CR",
            Position::Unstated => "unstated",
        }
    }

    /// The position in plain words.
    pub fn words(self) -> &'static str {
        match self {
            Position::DU => "dial up",
            Position::DD => "dial down",
            Position::CD => "crown down",
            Position::CL => "crown left",
            Position::CU => "crown up",
            Position::CR => "crown right",
            Position::Unstated => "position not stated",
        }
    }

    /// True for dial up and dial down (the watch lies flat).
    pub fn is_horizontal(self) -> bool {
        matches!(self, Position::DU | Position::DD)
    }

    /// True for the four crown positions (the watch hangs).
    pub fn is_vertical(self) -> bool {
        matches!(self, Position::CD | Position::CL | Position::CU | Position::CR)
    }

    /// Parses a two-letter code, case-insensitive (`du`, `DU`; also `unstated`).
    pub fn parse(s: &str) -> Option<Position> {
        let t = s.trim();
        Position::ALL
            .into_iter()
            .find(|p| p.code().eq_ignore_ascii_case(t))
            .or_else(|| t.eq_ignore_ascii_case("unstated").then_some(Position::Unstated))
    }

    /// Parses a comma-separated list such as `DU,DD,CD`; the error names the bad item.
    pub fn parse_list(s: &str) -> Result<Vec<Position>, String> {
        s.split(',')
            .map(|item| {
                Position::parse(item).ok_or_else(|| {
                    format!("unknown position `{}` (expected DU, DD, CD, CL, CU or CR)", item.trim())
                })
            })
            .collect()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The movement kinds a policy distinguishes (its accuracy term is per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Movement {
    /// Mechanical, manual or automatic winding: tolerances in s/day.
    Mechanical,
    /// Quartz, including autoquartz (kinetic) and solar: tolerances usually in s/month.
    Quartz,
}

impl Movement {
    /// Parses `mechanical` (also `manual`, `automatic`) or `quartz` (also `kinetic`, `solar`).
    pub fn parse(s: &str) -> Option<Movement> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mechanical" | "manual" | "automatic" => Some(Movement::Mechanical),
            "quartz" | "kinetic" | "solar" | "autoquartz" => Some(Movement::Quartz),
            _ => None,
        }
    }
    /// `mechanical` or `quartz`.
    pub fn name(self) -> &'static str {
        match self {
            Movement::Mechanical => "mechanical",
            Movement::Quartz => "quartz",
        }
    }
}

impl fmt::Display for Movement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Largest side file read for a position (bytes): side files are small JSON objects.
pub const SIDE_FILE_MAX_BYTES: u64 = 1 << 20;

/// The position stated in a recording's side file `FILE.json` (e.g. `take.wav.json`), or, when
/// there is none, `take.json` (the side file `tickproof listen --out take.wav` writes), if any.
///
/// Returns `Ok(None)` when there is no side file or it has no `"position"` field, and an error
/// naming the side file when it exists but is unreadable, too large, not JSON, or names an
/// unknown position.
pub fn side_file_position(recording: &Path) -> Result<Option<Position>, String> {
    let mut side = recording.as_os_str().to_owned();
    side.push(".json");
    let mut side = std::path::PathBuf::from(side);
    if !side.exists() && recording.extension().is_some_and(|e| e != "json") {
        side = recording.with_extension("json");
    }
    let meta = match std::fs::metadata(&side) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", side.display())),
    };
    if meta.len() > SIDE_FILE_MAX_BYTES {
        return Err(format!(
            "{}: side file is {} bytes, more than the {} allowed",
            side.display(),
            meta.len(),
            SIDE_FILE_MAX_BYTES
        ));
    }
    let text = std::fs::read_to_string(&side).map_err(|e| format!("{}: {e}", side.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON: {e}", side.display()))?;
    match value.get("position") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Position::parse(s).map(Some).ok_or_else(|| {
            format!(
                "{}: field `position`: unknown position `{s}` (expected DU, DD, CD, CL, CU or CR)",
                side.display()
            )
        }),
        Some(_) => Err(format!("{}: field `position`: expected a string such as \"DU\"", side.display())),
    }
}
