//! Method 1: a recorded tick train whose true period is known (GPS 1PPS click, a reference
//! quartz watch of known rate, any train whose period the user states).
//!
//! Every tick is timed with the shared click timer ([`crate::beats::clicks`]: high-pass,
//! adaptive detection, sub-sample template matching, one or two sound classes), streamed with
//! flat memory apart from the list of tick times (16 bytes per tick, bounded by
//! [`ClickConfig::max_clicks`]). Ticks are numbered by the stated period, a constant offset
//! between the two sound classes of a quartz motor is fitted and removed
//! ([`clicks::fit_steps`]), and the times are fitted against tick number with outlier rejection
//! ([`fit_line`]): the slope is the period on the recorder's timeline, `P_app = P (1 + ppm
//! 1e-6)`, and its u95 allows for correlated residuals (a reference whose phase wanders, a
//! motor's alternating steps).
use super::error::CalibrationError;
use super::fit::{fit_line, LineFit};
use super::profile::MAX_ABS_PPM;
use crate::beats::clicks::{self, ClickConfig, ClickTrain};
use crate::measurement::Figure;
use crate::source::BlockSource;
use std::path::Path;

/// Shortest period accepted, seconds.
pub const MIN_PERIOD_S: f64 = 0.05;
/// Longest period accepted, seconds.
pub const MAX_PERIOD_S: f64 = 120.0;
/// Fewest ticks a calibration is computed from.
pub const MIN_TICKS: usize = 10;

/// Settings of the tick method.
#[derive(Debug, Clone, PartialEq)]
pub struct TickConfig {
    /// The reference's true period, seconds ([`MIN_PERIOD_S`] ..= [`MAX_PERIOD_S`]).
    pub period_s: f64,
    /// Use this channel (0-based) instead of the one with the clearest ticks.
    pub channel: Option<u16>,
    /// Click timer settings (its `nominal_period_s` and `min_gap_s` are set from `period_s`).
    pub clicks: ClickConfig,
}

impl TickConfig {
    /// Settings for a train of true period `period_s`, channel chosen automatically.
    pub fn new(period_s: f64) -> Self {
        TickConfig { period_s, channel: None, clicks: ClickConfig::default() }
    }
}

/// What the tick method measured.
#[derive(Debug, Clone, PartialEq)]
pub struct TickCalibration {
    /// The recorder's clock error, ppm (+ = fast), with its u95.
    pub recorder_ppm: Figure,
    /// The period on the recorder's timeline, seconds, with its u95.
    pub apparent_period_s: Figure,
    /// The channel analysed (0-based).
    pub channel: u16,
    /// Sample rate of the recording, Hz.
    pub sample_rate_hz: u32,
    /// Length analysed, seconds.
    pub duration_s: f64,
    /// Ticks used in the fit.
    pub ticks_used: usize,
    /// Ticks rejected: detections that matched no template, and timed ticks off the line.
    pub ticks_rejected: u64,
    /// Sound classes found (2 for a motor whose odd and even steps sound different).
    pub classes: u8,
    /// RMS of the timing residuals, seconds.
    pub residual_rms_s: f64,
    /// Lag-1 autocorrelation of the residuals.
    pub lag1_correlation: f64,
    /// Click-to-noise ratio in the timer's band, dB.
    pub snr_db: Option<f64>,
}

/// Measures the recorder's clock error from a tick train of known period. `name` names the
/// recording in errors. With several channels and none forced, the first 30 s of each are
/// timed to choose the clearest, and the source is rewound.
pub fn measure_ticks(
    src: &mut dyn BlockSource,
    name: &Path,
    cfg: &TickConfig,
) -> Result<TickCalibration, CalibrationError> {
    let p = cfg.period_s;
    if !p.is_finite() || !(MIN_PERIOD_S..=MAX_PERIOD_S).contains(&p) {
        return Err(CalibrationError::invalid(format!(
            "--period-s {} is outside {} .. {} s",
            p, MIN_PERIOD_S, MAX_PERIOD_S
        )));
    }
    let info = src.info().clone();
    let mut ccfg = cfg.clicks.clone();
    ccfg.nominal_period_s = p;
    ccfg.min_gap_s = ccfg.min_gap_s.min(0.4 * p);
    let timer_err = |e: clicks::Error| match e {
        clicks::Error::Source(s) => CalibrationError::Audio(s),
        other => CalibrationError::invalid(format!("{}: {}", name.display(), other)),
    };
    let channel = match cfg.channel {
        Some(c) if c >= info.channels => {
            return Err(CalibrationError::invalid(format!(
                "--channel {} but {} has {} channel(s)",
                c,
                name.display(),
                info.channels
            )))
        }
        Some(c) => c,
        None if info.channels <= 1 => 0,
        None => {
            let mut probe = ccfg.clone();
            probe.max_duration_s = Some(30.0f64.max(12.0 * p));
            let mut best = (0u16, f64::NEG_INFINITY);
            for c in 0..info.channels {
                src.rewind()?;
                let t = clicks::time_clicks(src, c, &probe).map_err(timer_err)?;
                let score = if t.clicks.len() >= 3 {
                    t.snr_db.unwrap_or(0.0) + t.clicks.len() as f64 * 1e-3
                } else {
                    -1e9
                };
                if score > best.1 {
                    best = (c, score);
                }
            }
            src.rewind()?;
            best.0
        }
    };
    let train = clicks::time_clicks(src, channel, &ccfg).map_err(timer_err)?;
    calibrate_from_train(&train, name, p, channel)
}

/// The recorder error from an already timed train (for a live capture's click timer).
pub fn calibrate_from_train(
    train: &ClickTrain,
    name: &Path,
    period_s: f64,
    channel: u16,
) -> Result<TickCalibration, CalibrationError> {
    let n = train.clicks.len();
    if n == 0 {
        return Err(CalibrationError::NoReference {
            path: name.to_path_buf(),
            what: format!("no ticks found on channel {} ({} detections rejected)", channel, train.rejected),
        });
    }
    if n < MIN_TICKS {
        return Err(CalibrationError::Insufficient {
            path: name.to_path_buf(),
            what: format!(
                "{} ticks found; at least {} are needed (about {:.0} s more)",
                n,
                MIN_TICKS,
                (MIN_TICKS - n) as f64 * period_s
            ),
        });
    }
    let t: Vec<f64> = train.clicks.iter().map(|c| c.t_s).collect();
    let class: Vec<u8> = train.clicks.iter().map(|c| c.class).collect();
    let mut steps = Vec::with_capacity(n);
    clicks::step_numbers(&t, period_s, &mut steps);
    let mut used = Vec::with_capacity(n);
    let pre =
        clicks::fit_steps(&steps, &t, &class, &mut used).ok_or_else(|| CalibrationError::Insufficient {
            path: name.to_path_buf(),
            what: "the ticks do not form a regular train".into(),
        })?;
    let ratio_ppm = (pre.period_s.value / period_s - 1.0) * 1e6;
    if ratio_ppm.abs() > MAX_ABS_PPM {
        return Err(CalibrationError::NoReference {
            path: name.to_path_buf(),
            what: format!(
                "the ticks come every {:.6} s, {:+.0} ppm from the stated {} s: wrong --period-s?",
                pre.period_s.value, ratio_ppm, period_s
            ),
        });
    }
    // Remove the class offset, then fit with the correlation-aware u95.
    let x: Vec<f64> = steps.iter().map(|&s| s as f64).collect();
    let y: Vec<f64> =
        t.iter().zip(&class).map(|(&ti, &c)| if c == 1 { ti - pre.class_offset_s } else { ti }).collect();
    // Ticks two or more to a step number (a knock between ticks) are kept out of the fit.
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    let mut dup = 0u64;
    for i in 0..n {
        if i > 0 && steps[i] == steps[i - 1] {
            dup += 1;
            continue;
        }
        xs.push(x[i]);
        ys.push(y[i]);
    }
    let fit: LineFit = fit_line(&xs, &ys, None, 5.0).ok_or_else(|| CalibrationError::Insufficient {
        path: name.to_path_buf(),
        what: "too few usable ticks to fit".into(),
    })?;
    if fit.used < MIN_TICKS {
        return Err(CalibrationError::Insufficient {
            path: name.to_path_buf(),
            what: format!("only {} ticks fit a regular train; at least {} are needed", fit.used, MIN_TICKS),
        });
    }
    let ppm = (fit.slope / period_s - 1.0) * 1e6;
    let u95 = fit.slope_u95 / period_s * 1e6;
    Ok(TickCalibration {
        recorder_ppm: Figure::new(ppm, u95),
        apparent_period_s: Figure::new(fit.slope, fit.slope_u95),
        channel,
        sample_rate_hz: train.sample_rate_hz,
        duration_s: train.duration_s,
        ticks_used: fit.used,
        ticks_rejected: train.rejected + dup + fit.rejected as u64,
        classes: train.classes,
        residual_rms_s: fit.residual_rms,
        lag1_correlation: fit.lag1_correlation,
        snr_db: train.snr_db,
    })
}
