//! What more measurement or calibration would decide a rate that the measurement cannot.
use crate::measurement::{Figure, S_PER_DAY_PER_PPM};
use crate::verdict::dial_log::DialRate;
use crate::verdict::policy::RateUnit;
use std::fmt::Write as _;

/// The uncertainty budget of the compared rate, for advice.
pub(super) struct Budget {
    pub(super) random_s_per_day: f64,
    pub(super) recorder_s_per_day: f64,
    pub(super) recorder_assumed: bool,
    pub(super) mean_duration_s: f64,
    pub(super) dial: Option<DialRate>,
}

/// What more measurement or calibration would decide a rate against an edge (`edge` in s/day).
///
/// The random part of the u95 shrinks with measuring time `T`: as `1/T^1.5` when beat-timing
/// noise dominates (white timing jitter), as `1/sqrt(T)` when the rate itself wanders; both
/// factors are given. The recorder part does not shrink: only a calibration removes it. A dial
/// log read to the second decides a distance `d` s/day in about `0.82 / d` days (two readings, k=2).
pub(super) fn advice(rate: Figure, edge: f64, b: &Budget, unit: RateUnit) -> String {
    let k = unit.per_s_per_day();
    let u = unit.name();
    let d = (rate.value - edge).abs();
    if d < 1e-9 * (1.0 + edge.abs()) {
        return format!(
            "The measured value sits on the {:+} {u} limit: more measurement narrows the interval but cannot move \
             the value off it; only a new measurement that finds a different rate can decide.",
            edge * k
        );
    }
    let dial_days = (0.8165 / d).max(1.0);
    let dial_note = format!(
        "a dial log of at least {} days with readings to the second (independent of the recorder)",
        fmt_days(dial_days)
    );
    if let Some(dl) = &b.dial {
        let days = dl.span_days * dl.rate_s_per_day.u95 / d;
        return format!(
            "The value is {:.2} {u} from the limit and the dial log's u95 is {:.2} {u}: continue the dial log to \
             about {} days in all (now {}); its u95 shrinks roughly as 1/time.",
            d * k,
            dl.rate_s_per_day.u95 * k,
            fmt_days(days),
            fmt_days(dl.span_days)
        );
    }
    let r = b.random_s_per_day;
    let c = b.recorder_s_per_day;
    let what = if b.recorder_assumed {
        "assumed for the uncalibrated recorder"
    } else {
        "of the recorder calibration"
    };
    if c >= d {
        let target_ppm = if d > r { Some((d * d - r * r).sqrt() / S_PER_DAY_PER_PPM) } else { None };
        let cal = match target_ppm {
            Some(p) => format!(
                "calibrate the recorder to better than ±{p:.1} ppm (`tickproof calibrate`) and measure again"
            ),
            None => "calibrate the recorder and measure each position longer".to_string(),
        };
        return format!(
            "The value is {:.2} {u} from the limit, but the recorder clock's u95 ({:.2} {u}, {what}) alone is \
             larger and no measuring time reduces it: {cal}, or keep {dial_note}.",
            d * k,
            c * k
        );
    }
    let need = (d * d - c * c).sqrt();
    if r <= 0.0 || b.mean_duration_s <= 0.0 {
        return format!("Measure again, longer, or keep {dial_note}.");
    }
    let f = r / need;
    let slow = f * f; // u ~ 1/sqrt(T)
    let fast = f.powf(2.0 / 3.0); // u ~ 1/T^1.5
    let mut s = format!(
        "The value is {:.2} {u} from the limit; the random part of the u95 is {:.2} {u}. Measuring each position \
         about {:.1} to {:.1} times as long (about {:.0} to {:.0} s instead of {:.0} s) would decide it: u95 shrinks \
         as 1/time^1.5 when beat timing noise dominates and as 1/sqrt(time) when the rate itself wanders.",
        d * k,
        r * k,
        fast.max(1.0),
        slow.max(1.0),
        b.mean_duration_s * fast.max(1.0),
        b.mean_duration_s * slow.max(1.0),
        b.mean_duration_s
    );
    if c > 0.0 {
        let _ = write!(s, " The recorder part ({:.2} {u}, {what}) does not shrink with time", c * k);
        if b.recorder_assumed {
            s.push_str("; calibrating the recorder removes most of it");
        }
        s.push('.');
    }
    let _ = write!(s, " Alternatively, keep {dial_note}.");
    s
}

fn fmt_days(days: f64) -> String {
    if days < 10.0 {
        format!("{days:.1}")
    } else {
        format!("{days:.0}")
    }
}
