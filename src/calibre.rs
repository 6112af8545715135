//! Lift angle by calibre: a table of common movements (`data/calibres.toml`, compiled in) with
//! their beat rate, lift angle and the source of each value, and the rule that picks the lift
//! angle a measurement uses.
//!
//! Precedence: a lift angle given explicitly (`--lift-angle`) wins and is recorded as given;
//! else the calibre's (`--calibre "ETA 2824-2"`), recorded with its source; else 52 degrees,
//! recorded as the default. An unknown calibre is an error naming the closest known ones.
use serde::Deserialize;
use std::fmt;
use std::sync::OnceLock;

/// The lift angle used when neither a lift angle nor a calibre is given, degrees.
pub const DEFAULT_LIFT_ANGLE_DEG: f64 = 52.0;

static TABLE_TOML: &str = include_str!("../data/calibres.toml");

/// One calibre of the table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibre {
    /// The name as the manufacturer writes it (`ETA 2824-2`).
    pub name: String,
    /// Other names of the same movement.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Beats per hour.
    pub bph: u32,
    /// Lift angle, degrees.
    pub lift_angle_deg: f64,
    /// Where the values come from.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    calibre: Vec<Calibre>,
}

/// Every calibre of the table, in its order.
pub fn all() -> &'static [Calibre] {
    static TABLE: OnceLock<Vec<Calibre>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The table is part of the build and checked by the unit tests: it always parses.
        toml::from_str::<Table>(TABLE_TOML).map(|t| t.calibre).unwrap_or_default()
    })
}

/// A calibre name not in the table.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownCalibre {
    /// The name given.
    pub given: String,
    /// The closest names in the table, best first.
    pub close: Vec<String>,
}

impl fmt::Display for UnknownCalibre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--calibre {:?}: not a known calibre (closest: {}); give --lift-angle DEG instead",
            self.given,
            self.close.join(", ")
        )
    }
}

impl std::error::Error for UnknownCalibre {}

/// Letters and digits only, lower case: `ETA 2824-2`, `eta2824.2` and `Eta 28242` are alike.
fn key(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The calibre of that name or alias (case, spaces and punctuation ignored).
pub fn find(name: &str) -> Result<&'static Calibre, UnknownCalibre> {
    let k = key(name);
    let names = |c: &'static Calibre| std::iter::once(&c.name).chain(&c.aliases);
    if let Some(c) = all().iter().find(|c| !k.is_empty() && names(c).any(|n| key(n) == k)) {
        return Ok(c);
    }
    let mut scored: Vec<(usize, &str)> = all()
        .iter()
        .map(|c| {
            let d = names(c).map(|n| edit_distance(&k, &key(n))).min().unwrap_or(usize::MAX);
            (d, c.name.as_str())
        })
        .collect();
    scored.sort();
    let shown: String = name.chars().take(60).collect();
    Err(UnknownCalibre { given: shown, close: scored.iter().take(3).map(|(_, n)| n.to_string()).collect() })
}

/// The lift angle a measurement uses and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LiftChoice {
    /// Lift angle, degrees.
    pub lift_angle_deg: f64,
    /// Where it came from, in words (recorded beside the figures).
    pub source: String,
}

/// Picks the lift angle: explicit wins, then the calibre's, then the default (see the module
/// documentation). Errors only for an unknown calibre.
pub fn resolve_lift(explicit_deg: Option<f64>, calibre: Option<&str>) -> Result<LiftChoice, UnknownCalibre> {
    let cal = calibre.map(find).transpose()?;
    Ok(match (explicit_deg, cal) {
        (Some(l), Some(c)) => LiftChoice {
            lift_angle_deg: l,
            source: format!(
                "given explicitly (--lift-angle {l}); calibre {} lists {}",
                c.name, c.lift_angle_deg
            ),
        },
        (Some(l), None) => {
            LiftChoice { lift_angle_deg: l, source: format!("given explicitly (--lift-angle {l})") }
        }
        (None, Some(c)) => LiftChoice {
            lift_angle_deg: c.lift_angle_deg,
            source: format!("calibre {} ({} bph): {}", c.name, c.bph, c.source),
        },
        (None, None) => LiftChoice {
            lift_angle_deg: DEFAULT_LIFT_ANGLE_DEG,
            source: format!("default {DEFAULT_LIFT_ANGLE_DEG} degrees (no lift angle or calibre given)"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_value_is_plausible() {
        let t: Table = toml::from_str(TABLE_TOML).unwrap();
        assert!(t.calibre.len() >= 8);
        for c in &t.calibre {
            assert!((3600..=72000).contains(&c.bph) && c.bph % 3600 == 0, "{}", c.name);
            assert!((20.0..=80.0).contains(&c.lift_angle_deg), "{}", c.name);
            assert!(!c.source.trim().is_empty(), "{} has no source", c.name);
        }
    }

    #[test]
    fn names_match_loosely_and_an_unknown_one_names_the_closest() {
        assert_eq!(find("eta 2824.2").unwrap().name, "ETA 2824-2");
        assert_eq!(find("NH35A").unwrap().lift_angle_deg, 53.0);
        let e = find("ETA 2842-2").unwrap_err();
        assert!(e.close.iter().any(|c| c == "ETA 2824-2"), "{e}");
        assert!(find("").is_err());
    }

    #[test]
    fn an_explicit_lift_angle_wins_and_says_so() {
        let c = resolve_lift(Some(52.0), Some("ETA 2824-2")).unwrap();
        assert_eq!(c.lift_angle_deg, 52.0);
        assert!(c.source.contains("given explicitly") && c.source.contains("lists 50"), "{}", c.source);
        let c = resolve_lift(None, Some("Seiko 7S26")).unwrap();
        assert_eq!(c.lift_angle_deg, 53.0);
        assert!(c.source.starts_with("calibre Seiko 7S26"), "{}", c.source);
        assert_eq!(resolve_lift(None, None).unwrap().lift_angle_deg, DEFAULT_LIFT_ANGLE_DEG);
    }
}
