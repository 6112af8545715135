//! Timer for a near-periodic click train: quartz motor steps, GPS 1 PPS clicks, reference ticks.
//!
//! The recording is streamed block by block from a [`BlockSource`]; memory stays flat whatever
//! its length (a ring of filtered samples, a few FFT buffers, the list of clicks found). All FFT
//! plans and scratch buffers are made once in [`ClickTimer::new`]; the per-block loop allocates
//! nothing (the click list is reserved up front from the expected duration).
//!
//! Method:
//! 1. A 4th-order Butterworth high-pass (two biquads) removes hum, rumble and handling noise.
//! 2. A short energy envelope is compared with an adaptive threshold: the running median of the
//!    band power over 5 ms sub-blocks (clicks occupy a tiny fraction of them), times
//!    [`ClickConfig::threshold_db`]. After a detection the detector is refractory for
//!    [`ClickConfig::min_gap_s`].
//! 3. The first [`ClickConfig::template_clicks`] detections are clustered by cross-correlation into
//!    one or two sound classes (quartz motors alternate polarity, so odd and even steps often sound
//!    different); outliers (knocks, speech) are left out; each class is averaged with fractional
//!    alignment into a template whose onset (10% of its peak energy envelope) is the reference
//!    point reported for every click of that class.
//! 4. Every detection is cross-correlated with the templates (FFT); the best class wins and its
//!    correlation peak is refined to a fraction of a sample by Newton iterations on the exact
//!    band-limited (Fourier) interpolation of the correlation, not a parabola, so there is no
//!    bias that depends on the fractional position. Detections whose normalised correlation is
//!    below [`ClickConfig::min_corr`] are rejected (knocks, speech, noise bursts).
//!
//! 5. Every click is also timed on its smoothed power envelope ([`super::click_envelope`]) and
//!    on its onset, the steepest rise of its band-limited power envelope ([`onset`]); at the end
//!    the timing that scatters least over the train is kept ([`ClickTrain::timing`], [`choose`]):
//!    the waveform where the motor's sound repeats, the envelope or the onset where its ringing
//!    changes from step to step. A fourth timing fits every click with a learned basis in which
//!    each resonance keeps a free phase ([`partials`]): where the attack is shorter than a
//!    carrier cycle and even the onset moves with the phase, it is the only one that does not.
//!
//! Times are on the recorder's timeline: `sample index / nominal sample rate`. They carry one
//! constant offset per class (filter delay, template reference), so differences between clicks
//! of the same class are exact; [`fit_period`] fits a per-class offset.
//!
//! [`fit_period`] / [`fit_steps`] fit `t = t0 + P n (+ class offset)` robustly (median start,
//! 5-sigma MAD rejection, least squares) with a data-derived u95 for the period (residual scatter,
//! number of clicks, lag-1 autocorrelation of the residuals through an effective N, Student t).

pub(crate) mod analytic;
mod choice;
mod fit;
mod highpass;
mod learn;
mod matching;
pub mod onset;
pub mod partials;
#[cfg(test)]
mod tests;
mod timer;

use std::fmt;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::click_envelope::EnvelopeTimer;
use crate::measurement::Figure;
use crate::source::{self, BlockSource};

pub use choice::{choose, ClickTiming};
pub use fit::{fit_period, fit_steps, step_numbers, PeriodFit};
pub(crate) use fit::{lag1, median, t975, Normal};
use highpass::Biquad;
pub(crate) use matching::peak_within;
use onset::OnsetTimer;
use partials::PartialsTimer;

/// Settings of the click timer. `Default` suits quartz steps and 1 PPS clicks.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickConfig {
    /// Nominal period of the train, seconds (1.0 for quartz steps and 1 PPS). Used to reserve
    /// the click list and by [`fit_period`] to number the clicks.
    pub nominal_period_s: f64,
    /// High-pass corner of the detection and timing band, Hz.
    pub highpass_hz: f64,
    /// Length of the click kept in the template, seconds (the ring-down that is matched).
    pub click_len_s: f64,
    /// Shortest time between two clicks, seconds (refractory time after a detection).
    pub min_gap_s: f64,
    /// Detection threshold: envelope power above the running noise median, dB.
    pub threshold_db: f64,
    /// Lowest normalised correlation with a template for a detection to count as a click (0..1).
    pub min_corr: f64,
    /// Detections used to build the templates (the first ones in the recording).
    pub template_clicks: usize,
    /// Allow two sound classes (alternating odd/even steps); `false` forces one template.
    pub two_classes: bool,
    /// Analyse at most this many seconds from the start (`None`: the whole recording).
    pub max_duration_s: Option<f64>,
    /// Most clicks kept (bounds memory on hostile input); later clicks are counted, not kept.
    pub max_clicks: usize,
}

impl Default for ClickConfig {
    fn default() -> Self {
        ClickConfig {
            nominal_period_s: 1.0,
            highpass_hz: 600.0,
            click_len_s: 0.008,
            min_gap_s: 0.02,
            threshold_db: 12.0,
            min_corr: 0.5,
            template_clicks: 16,
            two_classes: true,
            max_duration_s: None,
            max_clicks: 500_000,
        }
    }
}

/// One timed click.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Click {
    /// Time of the click's reference point (its template's onset), seconds on the recorder's
    /// timeline: sample index / nominal sample rate.
    pub t_s: f64,
    /// RMS amplitude of the click in the analysis band over the template's length.
    pub strength: f32,
    /// Normalised correlation with its template (1 = identical shape).
    pub corr: f32,
    /// Sound class (0 or 1): which template matched; alternates on a quartz motor whose odd and
    /// even steps sound different, always 0 with one class.
    pub class: u8,
}

/// The clicks found in a recording and what the timer saw.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickTrain {
    /// Accepted clicks in time order.
    pub clicks: Vec<Click>,
    /// Number of sound classes (templates): 0 when no click train was found, else 1 or 2.
    pub classes: u8,
    /// Sample rate of the recording, Hz.
    pub sample_rate_hz: u32,
    /// Length analysed, seconds.
    pub duration_s: f64,
    /// Threshold crossings examined.
    pub detections: u64,
    /// Detections rejected as not matching a template (knocks, speech, noise).
    pub rejected: u64,
    /// Clicks found but not kept because [`ClickConfig::max_clicks`] was reached.
    pub dropped: u64,
    /// RMS of the background noise in the analysis band.
    pub noise_rms: f64,
    /// Click power (averaged over the recording) over noise power, in the analysis band, dB.
    pub snr_db: Option<f64>,
    /// Which timing the clicks carry: the waveform's, the envelope's or the onset's, whichever
    /// scatters least over the train ([`choose`]).
    pub timing: ClickTiming,
}

/// Errors of the click timer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading the audio failed (the message names the file).
    Source(source::Error),
    /// The channel asked for does not exist.
    NoSuchChannel {
        /// Channel asked for (0-based).
        channel: u16,
        /// Channels in the recording.
        channels: u16,
    },
    /// A setting is out of range.
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Source(e) => write!(f, "{e}"),
            Error::NoSuchChannel { channel, channels } => {
                write!(f, "channel {channel} asked for, but the recording has {channels} channel(s)")
            }
            Error::Config(s) => write!(f, "click timer settings: {s}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Source(e) => Some(e),
            _ => None,
        }
    }
}

impl From<source::Error> for Error {
    fn from(e: source::Error) -> Self {
        Error::Source(e)
    }
}

/// Times every click of one channel of `src`, from its current position to the end (or
/// [`ClickConfig::max_duration_s`]). The source is left at the end; rewind it for another pass.
pub fn time_clicks(src: &mut dyn BlockSource, channel: u16, cfg: &ClickConfig) -> Result<ClickTrain, Error> {
    let info = src.info().clone();
    if channel >= info.channels {
        return Err(Error::NoSuchChannel { channel, channels: info.channels });
    }
    let fs = info.sample_rate_hz as f64;
    let mut expected_s = info.duration_s();
    if let Some(m) = cfg.max_duration_s {
        expected_s = Some(expected_s.map_or(m, |d| d.min(m)));
    }
    let mut timer = ClickTimer::new(info.sample_rate_hz, cfg, expected_s)?;
    let ch = info.channels as usize;
    let block_frames = 4096;
    let mut buf = vec![0.0f32; block_frames * ch];
    let max_frames = cfg.max_duration_s.map(|d| (d * fs).floor() as u64);
    let mut frames_read = 0u64;
    loop {
        let want = match max_frames {
            Some(m) => (m.saturating_sub(frames_read)).min(block_frames as u64) as usize,
            None => block_frames,
        };
        if want == 0 {
            break;
        }
        let got = src.read_frames(&mut buf[..want * ch])?;
        if got == 0 {
            break;
        }
        frames_read += got as u64;
        timer.push_interleaved(&buf[..got * ch], ch, channel as usize);
    }
    Ok(timer.finish())
}

/// Streaming click timer: feed samples with [`ClickTimer::push`] (or
/// [`ClickTimer::push_interleaved`]), read [`ClickTimer::clicks`] as they come, and
/// [`ClickTimer::finish`] at the end. [`time_clicks`] wraps it for a [`BlockSource`].
pub struct ClickTimer {
    cfg: ClickConfig,
    fs: f64,
    hp: [Biquad; 2],
    ring: Vec<f64>,
    mask: usize,
    pos: u64,
    env: f64,
    env_a: f64,
    sub_len: usize,
    sub_acc: f64,
    sub_cnt: usize,
    n_sub: u64,
    log_floor: f64,
    refractory_until: u64,
    min_gap: u64,
    pending: [u64; 32],
    pending_head: usize,
    pending_len: usize,
    // Geometry of a segment: `n` samples starting `pre` before the detection; the template's
    // onset sits at index `pre`, its support is `[pre - guard, pre - guard + len)`.
    n: usize,
    pre: usize,
    guard: usize,
    len: usize,
    lag_max: usize,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    seg: Vec<f64>,
    fft_in: Vec<f64>,
    spec: Vec<Complex<f64>>,
    cross: Vec<Complex<f64>>,
    work: Vec<Complex<f64>>,
    corr: Vec<f64>,
    scratch_f: Vec<Complex<f64>>,
    scratch_i: Vec<Complex<f64>>,
    learn_seg: Vec<f64>,
    learn_spec: Vec<Complex<f64>>,
    learn_s0: Vec<u64>,
    n_learn: usize,
    templates: [Vec<Complex<f64>>; 2],
    n_classes: u8,
    learned: bool,
    clicks: Vec<Click>,
    detections: u64,
    rejected: u64,
    dropped: u64,
    support_energy: f64,
    envt: EnvelopeTimer,
    env_times: Vec<f64>,
    onset: OnsetTimer,
    onset_times: Vec<f64>,
    partials: PartialsTimer,
    partial_times: Vec<f64>,
    partials_learned: bool,
    part_specs: Vec<Complex<f64>>,
    part_pending: Vec<matching::PartialsClick>,
    /// The template's support in a segment (raised-cosine edges).
    window: Vec<f64>,
}
