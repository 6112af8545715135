//! From per-position measurements to the figures a warranty bounds: the average daily rate X
//! with its u95, the positional spread D, the vertical-horizontal difference, the amplitude drop
//! from flat to hanging and the worst beat error.
//!
//! # Uncertainty of the average
//! Each position's rate u95 holds two parts: a random part (beat timing, noise) that is
//! independent from one position to the next and averages down, and the recorder clock's part
//! (`recorder_ppm.u95 * 0.0864` s/day), which is the same clock for every position: fully
//! correlated, it does not average down. So, with `n` positions, random parts `r_i` and recorder
//! parts `c_i` (all 95% half-widths):
//!
//! ```text
//! u95(X)^2 = sum(r_i^2) / n^2 + (sum(c_i) / n)^2
//! ```
//!
//! Differences between positions (D, vertical-horizontal) cancel the common recorder part: their
//! u95 is from the random parts alone. All positions are assumed measured with the same recorder.
//!
//! When a measurement was made with an uncalibrated recorder (`calibration == "uncalibrated"`)
//! its clock error is unknown, not zero: the policy's `uncalibrated_recorder_u95_ppm` (100 ppm
//! in the built-in policies, the top of the 10-100 ppm typical of sound cards) is taken as its
//! u95 and stated in the verdict.
use super::position::Position;
use crate::measurement::{Figure, Kind, Measurement, S_PER_DAY_PER_PPM};
use serde::{Deserialize, Serialize};

/// The figures of one position as the verdict reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionFigures {
    /// The position.
    pub position: Position,
    /// What the recording held.
    pub kind: Kind,
    /// Rate, s/day, as measured (u95 as measured, with the recorder part the analysis included).
    pub rate_s_per_day: Option<Figure>,
    /// Rate, s/month (quartz).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_s_per_month: Option<Figure>,
    /// Beat error, ms (mechanical).
    pub beat_error_ms: Option<Figure>,
    /// Amplitude, degrees (mechanical).
    pub amplitude_deg: Option<Figure>,
    /// Standard deviation of the 10 s window rates, s/day (mechanical), if measured.
    pub rate_spread_s_per_day: Option<f64>,
    /// Seconds between quartz hand steps (quartz).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_interval_s: Option<f64>,
    /// Signal quality 0..1.
    pub quality: f64,
    /// Length measured, seconds.
    pub duration_s: f64,
    /// Calibration profile applied, or `uncalibrated`.
    pub calibration: String,
    /// The rate's u95 without any recorder term (beat timing and noise alone), s/day.
    pub rate_u95_without_recorder_s_per_day: Option<f64>,
    /// The rate's u95 with the recorder term the verdict uses (the calibration's, or the
    /// policy's assumed u95 for an uncalibrated recorder), s/day.
    pub rate_u95_with_recorder_s_per_day: Option<f64>,
}

impl PositionFigures {
    /// The figures of one measurement in one position.
    pub fn of(position: Position, m: &Measurement) -> Self {
        let mech = m.mechanical.as_ref();
        PositionFigures {
            position,
            kind: m.kind,
            rate_s_per_day: m.rate_s_per_day,
            rate_s_per_month: m.rate_s_per_month.or_else(|| {
                (m.kind == Kind::Quartz)
                    .then_some(m.rate_s_per_day)
                    .flatten()
                    .map(|r| Figure::new(r.value * 30.0, r.u95 * 30.0))
            }),
            beat_error_ms: m.beat_error_ms,
            amplitude_deg: m.amplitude_deg,
            rate_spread_s_per_day: mech.and_then(|x| x.rate_spread_s_per_day),
            step_interval_s: m.quartz.as_ref().map(|q| q.step_interval_s),
            quality: m.quality,
            duration_s: m.duration_s,
            calibration: m.calibration.clone(),
            rate_u95_without_recorder_s_per_day: None,
            rate_u95_with_recorder_s_per_day: None,
        }
    }
}

/// The average over positions and the positional figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Average {
    /// Average rate X over the positions with a rate, s/day, with its u95 (correlated recorder
    /// part included once, not averaged down).
    pub rate_s_per_day: Figure,
    /// The part of X's u95 that shrinks with longer measurement (random), s/day.
    pub random_u95_s_per_day: f64,
    /// The part of X's u95 from the recorder clock (common to all positions), s/day.
    pub recorder_u95_s_per_day: f64,
    /// True when some position was measured uncalibrated and the policy's assumed recorder u95
    /// was used for it.
    pub recorder_assumed: bool,
    /// How many positions entered the average.
    pub positions_used: usize,
    /// Positional spread D = max - min of the position rates, s/day (2 or more positions).
    pub positional_spread_s_per_day: Option<Figure>,
    /// Mean of the vertical positions minus mean of the horizontal ones, s/day.
    pub vertical_horizontal_difference_s_per_day: Option<Figure>,
    /// Mean amplitude flat (DU, DD) minus mean amplitude hanging (crown positions), degrees.
    pub amplitude_drop_flat_to_hanging_deg: Option<Figure>,
    /// The largest beat error of any position, ms.
    pub max_beat_error_ms: Option<Figure>,
    /// Mean measuring time per position, seconds.
    pub mean_duration_s: f64,
}

/// The recorder part of a measurement's rate u95 as the analysis included it, s/day.
pub fn measured_recorder_u95_s_per_day(m: &Measurement) -> f64 {
    m.recorder_ppm.u95.abs() * S_PER_DAY_PER_PPM
}

/// The recorder part the verdict uses, s/day: as measured, or the assumed u95 when uncalibrated.
pub fn recorder_u95_s_per_day(m: &Measurement, uncalibrated_u95_ppm: f64) -> (f64, bool) {
    if m.calibration == "uncalibrated" {
        let assumed = uncalibrated_u95_ppm.abs() * S_PER_DAY_PER_PPM;
        (assumed.max(measured_recorder_u95_s_per_day(m)), true)
    } else {
        (measured_recorder_u95_s_per_day(m), false)
    }
}

/// The random (non-recorder) part of a measurement's rate u95, s/day.
pub(crate) fn random_u95(m: &Measurement, rate: Figure) -> f64 {
    let c = measured_recorder_u95_s_per_day(m);
    (rate.u95 * rate.u95 - c * c).max(0.0).sqrt()
}

fn mean_figure(items: &[Figure]) -> Option<Figure> {
    if items.is_empty() {
        return None;
    }
    let n = items.len() as f64;
    let v = items.iter().map(|f| f.value).sum::<f64>() / n;
    let u = items.iter().map(|f| f.u95 * f.u95).sum::<f64>().sqrt() / n;
    Some(Figure::new(v, u))
}

/// Averages the positions that have a rate. `None` when none has.
///
/// `uncalibrated_u95_ppm` is the recorder u95 assumed for measurements made uncalibrated.
pub fn average(positions: &[(Position, Measurement)], uncalibrated_u95_ppm: f64) -> Option<Average> {
    // (position, value, random u95, recorder u95)
    let mut rows: Vec<(Position, f64, f64, f64)> = Vec::new();
    let mut assumed = false;
    for (p, m) in positions {
        let Some(rate) = m.rate_s_per_day.filter(|r| r.value.is_finite() && r.u95.is_finite()) else {
            continue;
        };
        let (c, a) = recorder_u95_s_per_day(m, uncalibrated_u95_ppm);
        assumed |= a;
        rows.push((*p, rate.value, random_u95(m, rate), c));
    }
    if rows.is_empty() {
        return None;
    }
    let n = rows.len() as f64;
    let value = rows.iter().map(|r| r.1).sum::<f64>() / n;
    let random = rows.iter().map(|r| r.2 * r.2).sum::<f64>().sqrt() / n;
    let recorder = rows.iter().map(|r| r.3).sum::<f64>() / n;
    let u95 = (random * random + recorder * recorder).sqrt();

    let spread = if rows.len() >= 2 {
        let hi = rows.iter().max_by(|a, b| a.1.total_cmp(&b.1)).copied();
        let lo = rows.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied();
        hi.zip(lo).map(|(h, l)| Figure::new(h.1 - l.1, (h.2 * h.2 + l.2 * l.2).sqrt()))
    } else {
        None
    };
    let group = |pred: fn(Position) -> bool| -> Vec<Figure> {
        rows.iter().filter(|r| pred(r.0)).map(|r| Figure::new(r.1, r.2)).collect()
    };
    let vh = mean_figure(&group(Position::is_vertical))
        .zip(mean_figure(&group(Position::is_horizontal)))
        .map(|(v, h)| Figure::new(v.value - h.value, (v.u95 * v.u95 + h.u95 * h.u95).sqrt()));

    let amps = |pred: fn(Position) -> bool| -> Vec<Figure> {
        positions.iter().filter(|(p, _)| pred(*p)).filter_map(|(_, m)| m.amplitude_deg).collect()
    };
    let drop = mean_figure(&amps(Position::is_horizontal))
        .zip(mean_figure(&amps(Position::is_vertical)))
        .map(|(f, h)| Figure::new(f.value - h.value, (f.u95 * f.u95 + h.u95 * h.u95).sqrt()));
    let max_be = positions
        .iter()
        .filter_map(|(_, m)| m.beat_error_ms)
        .filter(|b| b.value.is_finite())
        .max_by(|a, b| a.value.total_cmp(&b.value));
    let with_rate: Vec<f64> =
        positions.iter().filter(|(_, m)| m.rate_s_per_day.is_some()).map(|(_, m)| m.duration_s).collect();
    let mean_duration_s = with_rate.iter().sum::<f64>() / with_rate.len().max(1) as f64;

    Some(Average {
        rate_s_per_day: Figure::new(value, u95),
        random_u95_s_per_day: random,
        recorder_u95_s_per_day: recorder,
        recorder_assumed: assumed,
        positions_used: rows.len(),
        positional_spread_s_per_day: spread,
        vertical_horizontal_difference_s_per_day: vh,
        amplitude_drop_flat_to_hanging_deg: drop,
        max_beat_error_ms: max_be,
        mean_duration_s,
    })
}
