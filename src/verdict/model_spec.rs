//! The model's own accuracy specification, as the technician reads it from the instructions or
//! the warranty card (`--model-spec`).
use super::policy::{RateUnit, Tolerance};
use super::position::Movement;
use serde::{Deserialize, Serialize};

/// A model's accuracy specification: the rate interval the maker states.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The most the watch may lose (zero or negative).
    pub min: f64,
    /// The most the watch may gain (zero or positive).
    pub max: f64,
    /// The unit; `None` means the movement's usual unit (s/day mechanical, s/month quartz).
    pub unit: Option<RateUnit>,
}

impl ModelSpec {
    /// Parses `±15`, `+-15`, `+/-15`, `15`, `-10/+20`, `-10..+20`, each optionally followed by a
    /// unit: `s/day` (`s/d`, `spd`, `sec/day`) or `s/month` (`s/mo`, `spm`, `sec/month`).
    pub fn parse(s: &str) -> Result<ModelSpec, String> {
        let bad = |why: &str| format!("model spec `{s}`: {why} (e.g. `±15 s/day`, `-10/+20`, `20 s/month`)");
        let t: String = s.trim().to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
        if t.is_empty() || t.len() > 64 {
            return Err(bad("empty or too long"));
        }
        const UNITS: [(&str, RateUnit); 8] = [
            ("sec/month", RateUnit::SPerMonth),
            ("s/month", RateUnit::SPerMonth),
            ("s/mo", RateUnit::SPerMonth),
            ("spm", RateUnit::SPerMonth),
            ("sec/day", RateUnit::SPerDay),
            ("s/day", RateUnit::SPerDay),
            ("s/d", RateUnit::SPerDay),
            ("spd", RateUnit::SPerDay),
        ];
        let (num, unit) = UNITS
            .iter()
            .find_map(|(suffix, u)| t.strip_suffix(suffix).map(|n| (n, Some(*u))))
            .unwrap_or((t.as_str(), None));
        let number = |x: &str| -> Result<f64, String> {
            let v: f64 = x.parse().map_err(|_| bad(&format!("`{x}` is not a number")))?;
            if !v.is_finite() || v.abs() > 100_000.0 {
                return Err(bad("numbers must be finite and at most 100000"));
            }
            Ok(v)
        };
        let symmetric = ["±", "+/-", "+-"].iter().find_map(|p| num.strip_prefix(p));
        let (min, max) = if let Some(x) = symmetric {
            let x = number(x)?;
            (-x.abs(), x.abs())
        } else if let Some((a, b)) = num.split_once("..").or_else(|| num.split_once('/')) {
            (number(a)?, number(b)?)
        } else {
            let x = number(num)?;
            if x < 0.0 {
                return Err(bad("a single number is a symmetric ± limit and must be positive"));
            }
            (-x, x)
        };
        if min > 0.0 || max < 0.0 || min >= max {
            return Err(bad("the lower limit must be zero or below and the upper zero or above"));
        }
        Ok(ModelSpec { min, max, unit })
    }

    /// The specification as a tolerance, in its unit or the movement's usual one.
    pub fn tolerance(&self, movement: Movement) -> Tolerance {
        let unit = self.unit.unwrap_or(match movement {
            Movement::Mechanical => RateUnit::SPerDay,
            Movement::Quartz => RateUnit::SPerMonth,
        });
        Tolerance { min: self.min, max: self.max, unit }
    }
}
