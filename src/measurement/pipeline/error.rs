//! The analysis layer's error, and the check of the settings that raises it.
use crate::measurement::types::{AnalysisConfig, BPH_RANGE};
use crate::source;
use std::fmt;

/// Errors of the analysis layer.
///
/// `Source` errors are final for that file (except `source::Error::Io`, which may be
/// transient). A recording without a watch is not an error: it is a [`Measurement`] of kind
/// [`Kind::None`] with a reason.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// The audio could not be read.
    Source(source::Error),
    /// A setting is out of range (names the setting).
    Config(String),
}

impl fmt::Display for AnalyzeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnalyzeError::Source(e) => write!(f, "{e}"),
            AnalyzeError::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for AnalyzeError {}

impl From<source::Error> for AnalyzeError {
    fn from(e: source::Error) -> Self {
        AnalyzeError::Source(e)
    }
}

impl AnalysisConfig {
    /// Checks the ranges of the settings.
    pub fn validate(&self) -> Result<(), AnalyzeError> {
        if !(self.lift_angle_deg.is_finite() && (10.0..=90.0).contains(&self.lift_angle_deg)) {
            return Err(AnalyzeError::Config(format!(
                "lift angle {} deg is outside 10..90 deg",
                self.lift_angle_deg
            )));
        }
        if let Some(b) = self.bph {
            if !BPH_RANGE.contains(&b) {
                return Err(AnalyzeError::Config(format!("beat rate {b} bph is outside 3600..72000")));
            }
        }
        let r = &self.recorder.recorder_ppm;
        if !(r.value.is_finite() && r.value.abs() <= 10_000.0 && r.u95.is_finite() && r.u95 <= 10_000.0) {
            return Err(AnalyzeError::Config(format!(
                "recorder clock error {} ppm (u95 {}) is not a plausible value",
                r.value, r.u95
            )));
        }
        Ok(())
    }
}
