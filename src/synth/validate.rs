//! The ranges of the recipes, checked before anything is rendered; every error names the flag.
use super::params::{Common, MechanicalParams, Negative, NegativeParams};
use super::{Error, Escapement, Span, WeakStretch};

impl Common {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), Error> {
        check_range("--sample-rate-hz", self.sample_rate_hz as f64, 22_050.0, 192_000.0)?;
        if !(self.duration_s > 0.0 && self.duration_s <= 86_400.0) {
            return Err(Error::invalid(format!(
                "--duration-s {} is outside 0 < d <= 86400 s",
                self.duration_s
            )));
        }
        if (self.duration_s * self.sample_rate_hz as f64).round() < 1.0 {
            return Err(Error::invalid(format!("--duration-s {} gives no sample", self.duration_s)));
        }
        check_range("--recorder-ppm", self.recorder_ppm, -1000.0, 1000.0)?;
        check_range("--channels", self.channels as f64, 1.0, 8.0)?;
        if let Some(s) = self.snr_db {
            check_range("--snr-db", s, -20.0, 100.0)?;
        }
        if let Some(h) = self.hum_hz {
            check_range("--hum-hz", h, 40.0, 70.0)?;
        }
        check_range("--hum-db", self.hum_db, -80.0, 40.0)?;
        check_range("--knocks-per-min", self.knocks_per_min, 0.0, 120.0)?;
        if let Some(b) = self.babble_db {
            check_range("--babble-db", b, -80.0, 40.0)?;
        }
        check_range("--dropouts-per-min", self.dropouts_per_min, 0.0, 60.0)?;
        Ok(())
    }
    pub(super) fn frames(&self) -> u64 {
        (self.duration_s * self.sample_rate_hz as f64).round() as u64
    }
}

pub(crate) fn check_range(name: &str, v: f64, lo: f64, hi: f64) -> Result<(), Error> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::invalid(format!("{name} {v} is outside {lo}..={hi}")))
    }
}

/// Checks the faults of a watch recording `duration_s` long (the [`family`](super::family) docs), naming the
/// flag that is out of range.
pub(crate) fn check_faults(
    clip_level: Option<f64>,
    weak_stretch: Option<WeakStretch>,
    noise_gap: Option<Span>,
    duration_s: f64,
) -> Result<(), Error> {
    if let Some(c) = clip_level {
        check_range("--clip", c, 0.1, 1.0)?;
    }
    if let Some(w) = weak_stretch {
        check_span("--weak-stretch", w.start_s, w.end_s, duration_s)?;
        check_range("--weak-stretch level", w.level, 0.0, 1.0)?;
    }
    if let Some(g) = noise_gap {
        check_span("--noise-gap", g.start_s, g.end_s, duration_s)?;
    }
    Ok(())
}

fn check_span(name: &str, start_s: f64, end_s: f64, duration_s: f64) -> Result<(), Error> {
    if start_s.is_finite() && end_s.is_finite() && start_s >= 0.0 && start_s < end_s && end_s <= duration_s {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{name} {start_s},{end_s} is not a stretch inside the recording (0 <= start < end <= {duration_s} s)"
        )))
    }
}

impl MechanicalParams {
    /// The shared settings.
    pub fn common(&self) -> Common {
        Common {
            sample_rate_hz: self.sample_rate_hz,
            duration_s: self.duration_s,
            recorder_ppm: self.recorder_ppm,
            seed: self.seed,
            channels: self.channels,
            decorrelated_channels: self.decorrelated_channels,
            snr_db: self.snr_db,
            hum_hz: self.hum_hz,
            hum_db: self.hum_db,
            knocks_per_min: self.knocks_per_min,
            babble_db: self.babble_db,
            dropouts_per_min: self.dropouts_per_min,
        }
    }
    /// Checks every range and solves the escapement.
    pub fn validate(&self) -> Result<Escapement, Error> {
        check_range("--bph", self.bph as f64, 3600.0, 72_000.0)?;
        check_range("--rate-s-per-day", self.rate_s_per_day, -1000.0, 1000.0)?;
        check_range("--beat-error-ms", self.beat_error_ms, 0.0, 10.0)?;
        check_range("--amplitude-deg", self.amplitude_deg, 100.0, 360.0)?;
        check_range("--lift-angle-deg", self.lift_angle_deg, 30.0, 70.0)?;
        check_range("--impulse-fraction", self.impulse_fraction, 0.02, 0.9)?;
        for g in self.event_gains {
            check_range("event gain", g, 0.0, 1.0)?;
        }
        check_range("--attack-ms", self.attack_ms, 0.005, 0.2)?;
        check_range("--jitter-us", self.jitter_us, 0.0, 1000.0)?;
        check_range("--amplitude-wobble", self.amplitude_wobble, 0.0, 0.5)?;
        self.common().validate()?;
        check_faults(self.clip_level, self.weak_stretch, self.noise_gap, self.duration_s)?;
        Escapement::solve(
            self.bph,
            self.rate_s_per_day,
            self.beat_error_ms,
            self.amplitude_deg,
            self.lift_angle_deg,
            self.impulse_fraction,
        )
    }
}

impl NegativeParams {
    /// The shared settings.
    pub fn common(&self) -> Common {
        Common {
            sample_rate_hz: self.sample_rate_hz,
            duration_s: self.duration_s,
            recorder_ppm: self.recorder_ppm,
            seed: self.seed,
            channels: self.channels,
            decorrelated_channels: self.decorrelated_channels,
            snr_db: self.snr_db,
            hum_hz: self.hum_hz,
            hum_db: self.hum_db,
            knocks_per_min: if self.scenario == Negative::Knocks { 0.0 } else { self.knocks_per_min },
            babble_db: self.babble_db,
            dropouts_per_min: self.dropouts_per_min,
        }
    }
    /// Checks every range.
    pub fn validate(&self) -> Result<(), Error> {
        self.common().validate()?;
        check_range("--knocks-per-min", self.knocks_per_min, 0.0, 120.0)?;
        if let Negative::Metronome { bpm } = self.scenario {
            check_range("--metronome-bpm", bpm, 20.0, 600.0)?;
            for s in crate::measurement::STANDARD_BPH {
                let beats_per_min = s as f64 / 60.0;
                if (bpm / beats_per_min - 1.0).abs() < 0.01 {
                    return Err(Error::invalid(format!(
                        "--metronome-bpm {bpm} is a watch rate ({s} bph); a negative test needs a non-watch rate"
                    )));
                }
            }
        }
        let silent = matches!(self.scenario, Negative::Silence | Negative::Dither);
        if silent && (self.snr_db.is_some() || self.hum_hz.is_some() || self.babble_db.is_some()) {
            return Err(Error::invalid(format!(
                "--snr-db, --hum-hz and --babble-db are relative to the sound and {} has none",
                self.scenario.name()
            )));
        }
        Ok(())
    }
}
