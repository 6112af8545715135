//! How the recorder's clock entered a verdict: one statement of the correction applied, its
//! u95, where it came from, and each position's rate u95 with and without it.
//!
//! Every consumer (the verdict's reasons, the claim record, the report's figures table and its
//! calibration section) reads these figures, so they cannot contradict one another: an
//! uncalibrated recorder is a correction of 0 ppm with the policy's assumed u95 (±100 ppm in the
//! built-in policies), never "0 ± 0, taken as exact".
use super::protocol::{random_u95, recorder_u95_s_per_day, PositionFigures};
use super::Position;
use crate::measurement::{Figure, Measurement, S_PER_DAY_PER_PPM};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Where the recorder correction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecorderSource {
    /// A saved calibration profile of the recording device (`tickproof calibrate ... --save`).
    Profile,
    /// `--recorder-ppm` and `--recorder-ppm-u95` on the command line.
    CommandLine,
    /// The samples received against the synchronised host clock during live capture.
    HostClock,
    /// No calibration: a correction of 0 ppm with the policy's assumed u95.
    Assumed,
}

impl RecorderSource {
    /// The source of a measurement's calibration name (`uncalibrated`, `command line`,
    /// `host clock ...`, `profile ...`).
    pub fn of_calibration(name: &str) -> RecorderSource {
        if name == "uncalibrated" {
            RecorderSource::Assumed
        } else if name == "command line" {
            RecorderSource::CommandLine
        } else if name.starts_with("host clock") {
            RecorderSource::HostClock
        } else {
            RecorderSource::Profile
        }
    }

    /// The source in plain words, for a report.
    pub fn words(self) -> &'static str {
        match self {
            RecorderSource::Profile => "the recording device's calibration profile",
            RecorderSource::CommandLine => "a figure entered by the technician",
            RecorderSource::HostClock => "the computer's synchronised clock during the recording",
            RecorderSource::Assumed => "assumed: the recorder was not calibrated",
        }
    }
}

/// How the recorder clock entered the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecorderTerm {
    /// The calibration(s) the measurements used (`uncalibrated`, a profile, `command line`).
    pub calibration: String,
    /// Where the correction came from (of the first position, when they differ).
    pub source: RecorderSource,
    /// The correction applied, ppm (+ = recorder fast), with the u95 the verdict used for it:
    /// the calibration's, or the policy's assumed u95 for an uncalibrated recorder.
    pub correction_ppm: Figure,
    /// The recorder part of the average's u95, s/day (common to all positions).
    pub recorder_u95_s_per_day: f64,
    /// True when the recorder was uncalibrated and the policy's assumed u95 was used.
    pub assumed: bool,
    /// The assumed recorder u95, ppm, when `assumed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumed_u95_ppm: Option<f64>,
}

impl RecorderTerm {
    /// The recorder term of position measurements: `recorder_u95_s_per_day` is the average's
    /// recorder part, `uncalibrated_u95_ppm` the policy's assumed u95.
    pub fn of(
        positions: &[(Position, Measurement)],
        recorder_u95_s_per_day: f64,
        assumed: bool,
        uncalibrated_u95_ppm: f64,
    ) -> RecorderTerm {
        let names: BTreeSet<&str> = positions.iter().map(|(_, m)| m.calibration.as_str()).collect();
        let first = positions.first().map(|(_, m)| m);
        let source =
            first.map_or(RecorderSource::Assumed, |m| RecorderSource::of_calibration(&m.calibration));
        let correction_ppm = match first {
            Some(m) if source != RecorderSource::Assumed => m.recorder_ppm,
            Some(m) => Figure::new(m.recorder_ppm.value, uncalibrated_u95_ppm.max(m.recorder_ppm.u95)),
            None => Figure::new(0.0, uncalibrated_u95_ppm),
        };
        RecorderTerm {
            calibration: names.into_iter().collect::<Vec<_>>().join(", "),
            source,
            correction_ppm,
            recorder_u95_s_per_day,
            assumed,
            assumed_u95_ppm: assumed.then_some(uncalibrated_u95_ppm),
        }
    }

    /// The sentence the verdict gives about the recorder.
    pub fn reason(&self) -> String {
        let c = self.correction_ppm;
        let s_per_day = c.u95 * S_PER_DAY_PER_PPM;
        match self.source {
            RecorderSource::Assumed => format!(
                "The recorder was not calibrated: its clock error is unknown, so tickproof applied no correction \
                 and assumes up to ±{} ppm (95%), which is ±{:.2} s/day or ±{:.0} s/month, common to every \
                 position; it is included in the u95. Calibrate the recorder (`tickproof calibrate`) or keep a \
                 dial log to remove it.",
                c.u95,
                s_per_day,
                s_per_day * 30.0
            ),
            RecorderSource::HostClock => format!(
                "The recorder was calibrated against {}: {:+.3} ± {:.3} ppm (95%), applied to every position; \
                 it adds ±{:.3} s/day to the u95, common to every position.",
                self.calibration.strip_prefix(crate::calibration::HOST_CLOCK_PREFIX).unwrap_or(&self.calibration),
                c.value,
                c.u95,
                s_per_day
            ),
            source => format!(
                "The recorder's clock correction {:+.3} ± {:.3} ppm (95%) from {} ({}) was applied to every \
                 position; it adds ±{:.3} s/day to the u95, common to every position.",
                c.value,
                c.u95,
                source.words(),
                self.calibration,
                s_per_day
            ),
        }
    }
}

/// Fills each position's rate u95 without and with the recorder term (as the verdict uses it).
pub fn fill_position_u95(
    figures: &mut [PositionFigures],
    positions: &[(Position, Measurement)],
    uncal_ppm: f64,
) {
    for (f, (_, m)) in figures.iter_mut().zip(positions) {
        let Some(rate) = m.rate_s_per_day.filter(|r| r.u95.is_finite()) else { continue };
        let random = random_u95(m, rate);
        let (recorder, _) = recorder_u95_s_per_day(m, uncal_ppm);
        f.rate_u95_without_recorder_s_per_day = Some(random);
        f.rate_u95_with_recorder_s_per_day = Some((random * random + recorder * recorder).sqrt());
    }
}
