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
//! 5. Every click is also timed on its smoothed power envelope ([`super::click_envelope`]); at
//!    the end the timing that scatters less over the train is kept ([`ClickTrain::timing`]): the
//!    waveform where the motor's sound repeats, the envelope where its ringing starts with a new
//!    phase at every step.
//!
//! Times are on the recorder's timeline: `sample index / nominal sample rate`. They carry one
//! constant offset per class (filter delay, template reference), so differences between clicks
//! of the same class are exact; [`fit_period`] fits a per-class offset.
//!
//! [`fit_period`] / [`fit_steps`] fit `t = t0 + P n (+ class offset)` robustly (median start,
//! 5-sigma MAD rejection, least squares) with a data-derived u95 for the period (residual scatter,
//! number of clicks, lag-1 autocorrelation of the residuals through an effective N, Student t).
use std::fmt;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::click_envelope::{self, ClickTiming, EnvelopeTimer};
use crate::measurement::Figure;
use crate::source::{self, BlockSource};

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
    /// Which timing the clicks carry: the waveform's, or the envelope's where it scatters less.
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
}

/// One second-order section (direct form I), f64.
#[derive(Debug, Clone, Copy, Default)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    /// Butterworth high-pass (RBJ cookbook, Q = 1/sqrt 2).
    fn highpass(f0: f64, fs: f64) -> Self {
        let w0 = 2.0 * std::f64::consts::PI * f0 / fs;
        let alpha = w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
        let c = w0.cos();
        let a0 = 1.0 + alpha;
        Biquad {
            b: [(1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0],
            a: [-2.0 * c / a0, (1.0 - alpha) / a0],
            ..Default::default()
        }
    }
    #[inline]
    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

impl ClickTimer {
    /// A timer for audio at `sample_rate_hz`. `expected_duration_s`, when known, reserves the
    /// click list so that pushing never reallocates.
    pub fn new(
        sample_rate_hz: u32,
        cfg: &ClickConfig,
        expected_duration_s: Option<f64>,
    ) -> Result<Self, Error> {
        let fs = sample_rate_hz as f64;
        let bad = |s: &str| Err(Error::Config(s.to_string()));
        if !(8000.0..=768_000.0).contains(&fs) {
            return bad("sample rate must be 8000..768000 Hz");
        }
        if !(cfg.nominal_period_s > 0.0 && cfg.nominal_period_s.is_finite()) {
            return bad("nominal period must be positive");
        }
        if !(cfg.highpass_hz > 0.0 && cfg.highpass_hz < 0.4 * fs) {
            return bad("high-pass corner must lie between 0 and 0.4 x the sample rate");
        }
        if !(0.001..=0.05).contains(&cfg.click_len_s) {
            return bad("click length must be 1..50 ms");
        }
        if !(0.001..=10.0).contains(&cfg.min_gap_s) {
            return bad("minimum gap must be 1 ms..10 s");
        }
        if !(0.0..1.0).contains(&cfg.min_corr) || !(3..=64).contains(&cfg.template_clicks) {
            return bad("min_corr must be in [0, 1) and template_clicks in 3..=64");
        }
        let ms = |x: f64| ((x * 1e-3 * fs).round() as usize).max(2);
        let len = ((cfg.click_len_s * fs).round() as usize).max(16);
        let guard = ms(0.5);
        let lag_max = ms(3.0).max(8);
        let pre = guard + lag_max + ms(1.0);
        let n = (pre + len + lag_max + ms(1.0)).next_power_of_two().max(256);
        let mut planner = RealFftPlanner::<f64>::new();
        let r2c = planner.plan_fft_forward(n);
        let c2r = planner.plan_fft_inverse(n);
        let nc = n / 2 + 1;
        let ring_len = (4 * n).next_power_of_two();
        let m = cfg.template_clicks;
        let cap = expected_duration_s
            .map(|d| (2.0 * d / cfg.nominal_period_s).ceil() as usize + 64)
            .unwrap_or(4096)
            .min(cfg.max_clicks);
        let env_tau = 0.0005 * fs;
        let envt = EnvelopeTimer::with_plans(r2c.clone(), c2r.clone(), fs);
        Ok(ClickTimer {
            cfg: cfg.clone(),
            fs,
            hp: [Biquad::highpass(cfg.highpass_hz, fs), Biquad::highpass(cfg.highpass_hz, fs)],
            ring: vec![0.0; ring_len],
            mask: ring_len - 1,
            pos: 0,
            env: 0.0,
            env_a: 1.0 - (-1.0 / env_tau).exp(),
            sub_len: ms(5.0),
            sub_acc: 0.0,
            sub_cnt: 0,
            n_sub: 0,
            log_floor: 0.0,
            refractory_until: 0,
            min_gap: (cfg.min_gap_s * fs).round() as u64,
            pending: [0; 32],
            pending_head: 0,
            pending_len: 0,
            n,
            pre,
            guard,
            len,
            lag_max,
            seg: vec![0.0; n],
            fft_in: r2c.make_input_vec(),
            spec: r2c.make_output_vec(),
            cross: c2r.make_input_vec(),
            work: c2r.make_input_vec(),
            corr: c2r.make_output_vec(),
            scratch_f: r2c.make_scratch_vec(),
            scratch_i: c2r.make_scratch_vec(),
            r2c,
            c2r,
            learn_seg: vec![0.0; m * n],
            learn_spec: vec![Complex::new(0.0, 0.0); m * nc],
            learn_s0: vec![0; m],
            n_learn: 0,
            templates: [vec![Complex::new(0.0, 0.0); nc], vec![Complex::new(0.0, 0.0); nc]],
            n_classes: 0,
            learned: false,
            clicks: Vec::with_capacity(cap),
            detections: 0,
            rejected: 0,
            dropped: 0,
            support_energy: 0.0,
            envt,
            env_times: Vec::with_capacity(cap),
        })
    }

    /// The clicks timed so far (the first ones appear once the templates are built).
    pub fn clicks(&self) -> &[Click] {
        &self.clicks
    }

    /// Feeds mono samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.push_interleaved(samples, 1, 0);
    }

    /// Feeds interleaved frames with `channels` per frame, analysing `channel`.
    pub fn push_interleaved(&mut self, frames: &[f32], channels: usize, channel: usize) {
        let channels = channels.max(1);
        let thr_factor = 10f64.powf(self.cfg.threshold_db / 10.0);
        let mut i = channel;
        while i < frames.len() {
            let x = frames[i] as f64;
            i += channels;
            let y0 = self.hp[0].run(x);
            let y = self.hp[1].run(y0);
            let p = y * y;
            self.ring[(self.pos as usize) & self.mask] = y;
            self.sub_acc += p;
            self.sub_cnt += 1;
            if self.sub_cnt == self.sub_len {
                self.update_floor();
            }
            self.env += self.env_a * (p - self.env);
            if self.n_sub >= 20
                && self.pos >= self.refractory_until
                && self.env > thr_factor * 10f64.powf(self.log_floor)
            {
                self.detections += 1;
                self.refractory_until = self.pos + self.min_gap;
                if self.pos >= self.pre as u64 && self.pending_len < self.pending.len() {
                    let slot = (self.pending_head + self.pending_len) % self.pending.len();
                    self.pending[slot] = self.pos;
                    self.pending_len += 1;
                }
            }
            self.pos += 1;
            while self.pending_len > 0 {
                let d = self.pending[self.pending_head];
                let s0 = d - self.pre as u64;
                if self.pos < s0 + self.n as u64 {
                    break;
                }
                self.pending_head = (self.pending_head + 1) % self.pending.len();
                self.pending_len -= 1;
                self.on_detection(s0);
            }
        }
    }

    /// Running median of the log band power of 5 ms sub-blocks (a fixed-step quantile tracker,
    /// fast for the first 0.2 s, then 0.01 decade per sub-block).
    fn update_floor(&mut self) {
        let lp = (self.sub_acc / self.sub_len as f64).max(1e-30).log10();
        if self.n_sub == 0 {
            self.log_floor = lp;
        } else {
            let step = if self.n_sub < 40 { 0.1 } else { 0.01 };
            if lp > self.log_floor {
                self.log_floor += step;
            } else if lp < self.log_floor {
                self.log_floor -= step;
            }
        }
        self.n_sub += 1;
        self.sub_acc = 0.0;
        self.sub_cnt = 0;
    }

    fn copy_segment(&mut self, s0: u64) {
        for k in 0..self.n {
            self.seg[k] = self.ring[((s0 + k as u64) as usize) & self.mask];
        }
    }

    fn on_detection(&mut self, s0: u64) {
        self.copy_segment(s0);
        if self.learned {
            self.time_segment(s0);
            return;
        }
        let k = self.n_learn;
        let n = self.n;
        self.learn_seg[k * n..(k + 1) * n].copy_from_slice(&self.seg);
        self.learn_s0[k] = s0;
        self.n_learn += 1;
        if self.n_learn == self.cfg.template_clicks {
            self.learn(false);
        }
    }

    /// Builds the templates from the stored detections, then times them. When no consistent
    /// click shape is found, starts learning again from the next detections (unless `last`).
    fn learn(&mut self, last: bool) {
        self.learned = true;
        if !self.try_learn() && !last {
            self.learned = false;
            self.n_learn = 0;
        }
    }

    fn try_learn(&mut self) -> bool {
        let (n, nc, m) = (self.n, self.n / 2 + 1, self.n_learn);
        if m < 3 {
            return false;
        }
        for j in 0..m {
            self.fft_in.copy_from_slice(&self.learn_seg[j * n..(j + 1) * n]);
            let _ = self.r2c.process_with_scratch(&mut self.fft_in, &mut self.spec, &mut self.scratch_f);
            self.learn_spec[j * nc..(j + 1) * nc].copy_from_slice(&self.spec);
        }
        let norms: Vec<f64> = (0..m)
            .map(|j| self.learn_seg[j * n..(j + 1) * n].iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect();
        // Pairwise normalised correlation (max over lag) and the lag at the maximum.
        let mut rho = vec![0.0f64; m * m];
        let mut lag = vec![0.0f64; m * m];
        let lag_search = (2 * self.lag_max).min(n / 2 - 1);
        for i in 0..m {
            rho[i * m + i] = 1.0;
            for j in (i + 1)..m {
                let (t, v) = self.correlate_learned(j, i, lag_search);
                let r = v / (norms[i] * norms[j]).max(1e-300);
                rho[i * m + j] = r;
                rho[j * m + i] = r;
                lag[j * m + i] = t; // x_j is x_i delayed by t
                lag[i * m + j] = -t;
            }
        }
        // Outliers: detections that resemble fewer than two others.
        let good: Vec<bool> =
            (0..m).map(|i| (0..m).filter(|&j| j != i && rho[i * m + j] > 0.5).count() >= 2).collect();
        let idx: Vec<usize> = (0..m).filter(|&i| good[i]).collect();
        if idx.len() < 3 {
            return false;
        }
        let medoid_a = *idx
            .iter()
            .max_by(|&&a, &&b| {
                let sa: f64 = idx.iter().map(|&j| rho[a * m + j]).sum();
                let sb: f64 = idx.iter().map(|&j| rho[b * m + j]).sum();
                sa.total_cmp(&sb)
            })
            .unwrap();
        let seed_b =
            *idx.iter().min_by(|&&a, &&b| rho[medoid_a * m + a].total_cmp(&rho[medoid_a * m + b])).unwrap();
        let mut class = vec![0u8; m];
        let mut n_b = 0;
        if self.cfg.two_classes && rho[medoid_a * m + seed_b] < 0.9 {
            for &j in &idx {
                if rho[seed_b * m + j] > rho[medoid_a * m + j] {
                    class[j] = 1;
                    n_b += 1;
                }
            }
        }
        let two = n_b >= 2.max(idx.len() / 5) && idx.len() - n_b >= 2.max(idx.len() / 5);
        if !two {
            class.iter_mut().for_each(|c| *c = 0);
        }
        self.n_classes = if two { 2 } else { 1 };
        for c in 0..self.n_classes {
            let members: Vec<usize> = idx.iter().copied().filter(|&j| class[j] == c).collect();
            // Medoid of the class: the member most like the others.
            let med = *members
                .iter()
                .max_by(|&&a, &&b| {
                    let sa: f64 = members.iter().map(|&j| rho[a * m + j]).sum();
                    let sb: f64 = members.iter().map(|&j| rho[b * m + j]).sum();
                    sa.total_cmp(&sb)
                })
                .unwrap();
            // Average with fractional alignment to the medoid, in the frequency domain.
            let mut acc = vec![Complex::new(0.0, 0.0); nc];
            for &j in &members {
                let t = if j == med { 0.0 } else { lag[j * m + med] };
                let step = Complex::from_polar(1.0, 2.0 * std::f64::consts::PI * t / n as f64);
                let mut z = Complex::new(1.0, 0.0);
                for (a, &x) in acc.iter_mut().zip(&self.learn_spec[j * nc..(j + 1) * nc]) {
                    *a += x * z;
                    z *= step;
                }
            }
            let delta = self.make_template(&mut acc, c as usize);
            // The envelope template: the members' envelopes, aligned as their waveforms were.
            for &j in &members {
                let t = if j == med { 0.0 } else { lag[j * m + med] } - delta;
                let step = Complex::from_polar(1.0, 2.0 * std::f64::consts::PI * t / n as f64);
                let mut z = Complex::new(1.0, 0.0);
                for k in 0..nc {
                    self.work[k] = self.learn_spec[j * nc + k] * z;
                    z *= step;
                }
                self.envt.add_to_average(&self.work);
            }
            self.envt.set_template_from_average(c as usize, self.pre - self.guard, self.len);
        }
        // Time the stored detections with the templates.
        for j in 0..m {
            let s0 = self.learn_s0[j];
            self.seg.copy_from_slice(&self.learn_seg[j * n..(j + 1) * n]);
            self.time_segment(s0);
        }
        true
    }

    /// Correlation of learned segment `j` against learned segment `i` (x_j[n + t] x_i[n]):
    /// the refined lag and the peak value.
    fn correlate_learned(&mut self, j: usize, i: usize, lag_search: usize) -> (f64, f64) {
        let nc = self.n / 2 + 1;
        for k in 0..nc {
            self.cross[k] = self.learn_spec[j * nc + k] * self.learn_spec[i * nc + k].conj();
        }
        self.peak_of_cross(lag_search)
    }

    /// Integer peak of the circular correlation whose spectrum is in `self.cross`, searched over
    /// lags `-lag..=lag`, refined by Newton on the Fourier interpolation.
    fn peak_of_cross(&mut self, lag: usize) -> (f64, f64) {
        let n = self.n;
        self.cross[0].im = 0.0;
        self.cross[n / 2].im = 0.0;
        self.spec_tmp_to_corr();
        peak_within(&self.corr, &self.cross, lag)
    }

    fn spec_tmp_to_corr(&mut self) {
        // c2r uses its input as scratch: keep `cross` intact by working on `work`.
        self.work.copy_from_slice(&self.cross);
        let _ = self.c2r.process_with_scratch(&mut self.work, &mut self.corr, &mut self.scratch_i);
    }

    /// Turns an aligned sum of spectra into a unit-energy template with its onset at `pre`;
    /// returns the shift applied (samples).
    fn make_template(&mut self, acc: &mut [Complex<f64>], c: usize) -> f64 {
        let n = self.n;
        let nc = n / 2 + 1;
        acc[0].im = 0.0;
        acc[nc - 1].im = 0.0;
        self.work.copy_from_slice(acc);
        let _ = self.c2r.process_with_scratch(&mut self.work, &mut self.corr, &mut self.scratch_i);
        let onset = onset_of(&self.corr, ((0.00025 * self.fs).round() as usize).max(1));
        // Shift so that the onset falls exactly on sample `pre`.
        let delta = self.pre as f64 - onset;
        let step = Complex::from_polar(1.0, -2.0 * std::f64::consts::PI * delta / n as f64);
        let mut z = Complex::new(1.0, 0.0);
        for v in acc.iter_mut() {
            *v *= z;
            z *= step;
        }
        acc[0].im = 0.0;
        acc[nc - 1].im = 0.0;
        self.work.copy_from_slice(acc);
        let _ = self.c2r.process_with_scratch(&mut self.work, &mut self.corr, &mut self.scratch_i);
        // Window to the support with raised-cosine edges of `guard` samples, unit energy.
        let (start, len, g) = (self.pre - self.guard, self.len, self.guard);
        for k in 0..n {
            let w = if k < start || k >= start + len {
                0.0
            } else {
                let a = k - start;
                let b = start + len - 1 - k;
                let e = a.min(b);
                if e < g {
                    0.5 - 0.5 * (std::f64::consts::PI * (e as f64 + 0.5) / g as f64).cos()
                } else {
                    1.0
                }
            };
            self.fft_in[k] = self.corr[k] * w;
        }
        let e: f64 = self.fft_in.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        self.fft_in.iter_mut().for_each(|v| *v /= e);
        let _ = self.r2c.process_with_scratch(&mut self.fft_in, &mut self.templates[c], &mut self.scratch_f);
        self.envt.set_template_from_waveform(c, &self.templates[c], start, len);
        delta
    }

    /// Times the segment in `self.seg` (starting at absolute sample `s0`) against the templates
    /// and records the click, or counts a rejection.
    fn time_segment(&mut self, s0: u64) {
        if self.n_classes == 0 {
            return;
        }
        let n = self.n;
        let nc = n / 2 + 1;
        self.fft_in.copy_from_slice(&self.seg);
        let _ = self.r2c.process_with_scratch(&mut self.fft_in, &mut self.spec, &mut self.scratch_f);
        let mut best = (0usize, 0.0f64, f64::NEG_INFINITY);
        for c in 0..self.n_classes as usize {
            for k in 0..nc {
                self.cross[k] = self.spec[k] * self.templates[c][k].conj();
            }
            let (t, v) = self.peak_of_cross(self.lag_max);
            if v > best.2 {
                best = (c, t, v);
            }
        }
        let (c, tau, v) = best;
        // Energy of the segment under the template's support at the found lag.
        let start = self.pre as f64 - self.guard as f64 + tau;
        let a = start.round().max(0.0) as usize;
        let b = (a + self.len).min(n);
        let e: f64 = self.seg[a..b].iter().map(|x| x * x).sum();
        let rho = if e > 0.0 { v / e.sqrt() } else { 0.0 };
        if rho.is_nan() || rho < self.cfg.min_corr || !tau.is_finite() || tau.abs() > self.lag_max as f64 {
            self.rejected += 1;
            return;
        }
        // The same click on its envelope (kept beside the waveform time; see `finish`).
        let tau_e = self.envt.time(&self.spec, c, self.lag_max);
        let t_s = (s0 as f64 + self.pre as f64 + tau) / self.fs;
        let t_env = (s0 as f64 + self.pre as f64 + tau_e) / self.fs;
        // Keep time order: a stored click can only precede later detections.
        let order = |a: Option<f64>, b: f64| a.is_some_and(|a| b <= a);
        if order(self.clicks.last().map(|c| c.t_s), t_s) || order(self.env_times.last().copied(), t_env) {
            self.rejected += 1;
            return;
        }
        if self.clicks.len() >= self.cfg.max_clicks {
            self.dropped += 1;
            return;
        }
        self.support_energy += e;
        self.env_times.push(t_env);
        self.clicks.push(Click {
            t_s,
            strength: (e / self.len as f64).sqrt() as f32,
            corr: rho.min(1.0) as f32,
            class: c as u8,
        });
    }

    /// Ends the stream: builds the templates if fewer detections than asked were seen, and
    /// returns the click train.
    pub fn finish(mut self) -> ClickTrain {
        if !self.learned {
            self.learn(true);
        }
        let noise_p = 10f64.powf(self.log_floor);
        let duration_s = self.pos as f64 / self.fs;
        let signal_p = if self.pos > 0 {
            (self.support_energy - noise_p * (self.len * self.clicks.len()) as f64) / self.pos as f64
        } else {
            0.0
        };
        let snr_db = if self.clicks.is_empty() || self.n_sub == 0 {
            None
        } else {
            Some(10.0 * (signal_p.max(1e-30) / noise_p.max(1e-300)).log10())
        };
        let wave: Vec<f64> = self.clicks.iter().map(|c| c.t_s).collect();
        let timing = click_envelope::choose(&wave, &self.env_times, self.cfg.nominal_period_s);
        if timing == ClickTiming::Envelope {
            for (c, &t) in self.clicks.iter_mut().zip(&self.env_times) {
                c.t_s = t;
            }
        }
        ClickTrain {
            timing,
            clicks: self.clicks,
            classes: self.n_classes,
            sample_rate_hz: self.fs as u32,
            duration_s,
            detections: self.detections,
            rejected: self.rejected,
            dropped: self.dropped,
            noise_rms: noise_p.sqrt(),
            snr_db,
        }
    }
}

/// Onset of a click in `x`: where its energy envelope (moving average of `x^2` over `w` samples)
/// last rises through 10% of its peak before the peak, interpolated linearly.
fn onset_of(x: &[f64], w: usize) -> f64 {
    let n = x.len();
    let mut env = vec![0.0; n];
    let mut acc = 0.0;
    for k in 0..n {
        acc += x[k] * x[k];
        if k >= w {
            acc -= x[k - w] * x[k - w];
        }
        // centre the window
        let c = k.saturating_sub(w / 2);
        env[c] = acc.max(0.0);
    }
    let (mut p, mut pv) = (0usize, 0.0);
    for (k, &v) in env.iter().enumerate() {
        if v > pv {
            p = k;
            pv = v;
        }
    }
    let thr = 0.1 * pv;
    let mut k = p;
    while k > 0 && env[k - 1] > thr {
        k -= 1;
    }
    if k == 0 {
        return 0.0;
    }
    // env[k-1] <= thr < env[k]
    let (a, b) = (env[k - 1], env[k]);
    (k - 1) as f64 + if b > a { (thr - a) / (b - a) } else { 0.0 }
}

/// The peak of the circular correlation `corr` (its half spectrum `cross`) within lags
/// `-lag..=lag`: the largest sample, a parabola through it and its neighbours, then
/// [`refine_peak`] on the band-limited interpolation. Returns the lag and the value there.
pub(crate) fn peak_within(corr: &[f64], cross: &[Complex<f64>], lag: usize) -> (f64, f64) {
    let n = corr.len();
    let at = |t: i64| corr[t.rem_euclid(n as i64) as usize];
    let mut best = (0i64, f64::NEG_INFINITY);
    for t in -(lag as i64)..=(lag as i64) {
        if at(t) > best.1 {
            best = (t, at(t));
        }
    }
    let (ym, y0, yp) = (at(best.0 - 1), best.1, at(best.0 + 1));
    let den = ym - 2.0 * y0 + yp;
    let frac = if den < 0.0 { (0.5 * (ym - yp) / den).clamp(-0.5, 0.5) } else { 0.0 };
    refine_peak(cross, n, best.0 as f64 + frac)
}

/// Maximises the band-limited interpolation of a circular correlation given by its half
/// spectrum `cross` (length `n/2+1`, unnormalised as from a real FFT), starting at lag `t0`.
/// Returns the lag and the correlation value there (time-domain scale: sum of products).
pub(crate) fn refine_peak(cross: &[Complex<f64>], n: usize, t0: f64) -> (f64, f64) {
    let half = n / 2;
    let w1 = 2.0 * std::f64::consts::PI / n as f64;
    let eval = |t: f64| -> (f64, f64, f64) {
        // r(t) = (1/n) [C0 + 2 sum_{k=1}^{n/2-1} Re(C_k e^{i w_k t}) + Re(C_{n/2}) cos(pi t)]
        let step = Complex::from_polar(1.0, w1 * t);
        let mut z = step;
        let (mut r, mut d1, mut d2) = (0.0, 0.0, 0.0);
        for (k, c) in cross.iter().enumerate().take(half).skip(1) {
            let p = c * z;
            let wk = w1 * k as f64;
            r += p.re;
            d1 -= wk * p.im;
            d2 -= wk * wk * p.re;
            z *= step;
        }
        let pi = std::f64::consts::PI;
        let cn = cross[half].re;
        let inv = 1.0 / n as f64;
        (
            (cross[0].re + 2.0 * r + cn * (pi * t).cos()) * inv,
            (2.0 * d1 - cn * pi * (pi * t).sin()) * inv,
            (2.0 * d2 - cn * pi * pi * (pi * t).cos()) * inv,
        )
    };
    let mut t = t0;
    let (mut v, mut d1, mut d2) = eval(t);
    for _ in 0..8 {
        if d2 >= 0.0 {
            break;
        }
        let dt = (-d1 / d2).clamp(-0.5, 0.5);
        let (nv, nd1, nd2) = eval(t + dt);
        if nv < v {
            break;
        }
        t += dt;
        v = nv;
        d1 = nd1;
        d2 = nd2;
        if dt.abs() < 1e-9 {
            break;
        }
    }
    (t, v)
}

/// A robust straight-line fit of click times against step numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodFit {
    /// Period, seconds on the recorder's timeline, with its data-derived 95% uncertainty.
    pub period_s: Figure,
    /// Fitted time of step number 0 for class 0, seconds.
    pub t0_s: f64,
    /// Constant time offset of class 1 against class 0, seconds (0 with one class).
    pub class_offset_s: f64,
    /// RMS of the residuals of the clicks used, seconds.
    pub residual_rms_s: f64,
    /// Lag-1 autocorrelation of the residuals (in step order).
    pub lag1_autocorr: f64,
    /// Effective number of independent clicks behind the u95 (fewer than used when residuals
    /// are correlated).
    pub n_effective: f64,
    /// Clicks used in the fit.
    pub n_used: usize,
    /// Clicks rejected as outliers (more than 5 robust sigmas off the line).
    pub n_rejected: usize,
    /// Step numbers spanned by the clicks used (last minus first).
    pub span_steps: i64,
}

impl PeriodFit {
    /// The recorder's clock error implied when the true period is `true_period_s`: ppm, + = the
    /// recorder runs fast (it counts the period too long), with its u95.
    pub fn ppm_vs(&self, true_period_s: f64) -> Figure {
        Figure::new(
            (self.period_s.value / true_period_s - 1.0) * 1e6,
            self.period_s.u95 / true_period_s * 1e6,
        )
    }
}

/// Numbers clicks as steps of a train of nominal period `nominal_period_s`: each step number
/// follows the previous one by the rounded ratio of the interval to the period (0 for clicks
/// closer than half a period, which the fit then rejects). The first click is step 0.
pub fn step_numbers(times_s: &[f64], nominal_period_s: f64, out: &mut Vec<i64>) {
    out.clear();
    let mut n = 0i64;
    for (i, &t) in times_s.iter().enumerate() {
        if i > 0 {
            n += ((t - times_s[i - 1]) / nominal_period_s).round().max(0.0) as i64;
        }
        out.push(n);
    }
}

/// Fits the clicks of a train with nominal period `nominal_period_s` (numbered by
/// [`step_numbers`]); `None` with fewer than 3 usable clicks.
pub fn fit_period(clicks: &[Click], nominal_period_s: f64) -> Option<PeriodFit> {
    let t: Vec<f64> = clicks.iter().map(|c| c.t_s).collect();
    let class: Vec<u8> = clicks.iter().map(|c| c.class).collect();
    let mut steps = Vec::with_capacity(t.len());
    step_numbers(&t, nominal_period_s, &mut steps);
    let mut used = Vec::new();
    fit_steps(&steps, &t, &class, &mut used)
}

/// Fits `t = t0 + P n + d [class == 1]` to click times `t_s` at step numbers `steps` (in
/// increasing order), rejecting outliers; `used` receives which clicks were kept. `None` with
/// fewer than 3 usable clicks or a degenerate span.
///
/// Robust start: the median of the step-to-step period and the median offset per class; then
/// least squares with rejection of residuals beyond 5 robust sigmas (1.4826 MAD), repeated until
/// stable. u95 = t(0.975, N_eff - p) x the least-squares standard error, inflated by
/// sqrt((1 + r1) / (1 - r1)) for a lag-1 residual autocorrelation r1 > 0.
pub fn fit_steps(steps: &[i64], t_s: &[f64], class: &[u8], used: &mut Vec<bool>) -> Option<PeriodFit> {
    let m = steps.len();
    used.clear();
    used.resize(m, true);
    if m < 3 || t_s.len() != m || class.len() != m {
        return None;
    }
    // Robust start.
    let mut per: Vec<f64> = (1..m)
        .filter(|&i| steps[i] > steps[i - 1])
        .map(|i| (t_s[i] - t_s[i - 1]) / (steps[i] - steps[i - 1]) as f64)
        .collect();
    if per.is_empty() {
        return None;
    }
    let p0 = median(&mut per);
    let mut off = [0.0f64; 2];
    for c in 0..2u8 {
        let mut v: Vec<f64> =
            (0..m).filter(|&i| class[i] == c).map(|i| t_s[i] - p0 * steps[i] as f64).collect();
        if !v.is_empty() {
            off[c as usize] = median(&mut v);
        }
    }
    let mut res: Vec<f64> =
        (0..m).map(|i| t_s[i] - p0 * steps[i] as f64 - off[class[i].min(1) as usize]).collect();
    let mut scratch = Vec::with_capacity(m);
    let reject = |res: &[f64], used: &mut Vec<bool>, scratch: &mut Vec<f64>| {
        scratch.clear();
        scratch.extend(res.iter().zip(used.iter()).filter(|(_, &u)| u).map(|(r, _)| r.abs()));
        if scratch.is_empty() {
            scratch.extend(res.iter().map(|r| r.abs()));
        }
        let sigma = (1.4826 * median(scratch)).max(1e-8);
        let mut changed = false;
        for i in 0..m {
            let u = res[i].abs() <= 5.0 * sigma;
            changed |= u != used[i];
            used[i] = u;
        }
        changed
    };
    reject(&res, used, &mut scratch);
    let mut sol = None;
    for _ in 0..10 {
        let two = (0..m).any(|i| used[i] && class[i] == 1) && (0..m).any(|i| used[i] && class[i] == 0);
        let k = if two { 3 } else { 2 };
        let n0 = steps[(0..m).find(|&i| used[i])?] as f64;
        let t_ref = t_s[0];
        let mut ne = Normal::new(k);
        for i in 0..m {
            if used[i] {
                let x = steps[i] as f64 - n0;
                ne.add(&[1.0, x, if class[i] == 1 { 1.0 } else { 0.0 }, 0.0], t_s[i] - t_ref);
            }
        }
        let (beta, inv) = ne.solve()?;
        for i in 0..m {
            let x = steps[i] as f64 - n0;
            let d = if two && class[i] == 1 { beta[2] } else { 0.0 };
            res[i] = t_s[i] - t_ref - (beta[0] + beta[1] * x + d);
        }
        sol = Some((beta, inv, k, n0, t_ref, two));
        if !reject(&res, used, &mut scratch) {
            break;
        }
    }
    let (beta, inv, k, n0, t_ref, two) = sol?;
    let idx: Vec<usize> = (0..m).filter(|&i| used[i]).collect();
    let n_used = idx.len();
    if n_used <= k {
        return None;
    }
    let ss: f64 = idx.iter().map(|&i| res[i] * res[i]).sum();
    let s2 = ss / (n_used - k) as f64;
    let r1 = lag1(&idx.iter().map(|&i| res[i]).collect::<Vec<_>>());
    let rp = r1.clamp(0.0, 0.95);
    let infl = (1.0 + rp) / (1.0 - rp);
    let n_eff = n_used as f64 / infl;
    let se = (s2 * inv[1][1] * infl).sqrt();
    let u95 = t975((n_eff - k as f64).max(1.0)) * se;
    let span = steps[*idx.last()?] - steps[idx[0]];
    if span <= 0 {
        return None;
    }
    Some(PeriodFit {
        period_s: Figure::new(beta[1], u95),
        t0_s: t_ref + beta[0] - beta[1] * n0,
        class_offset_s: if two { beta[2] } else { 0.0 },
        residual_rms_s: (ss / n_used as f64).sqrt(),
        lag1_autocorr: r1,
        n_effective: n_eff,
        n_used,
        n_rejected: m - n_used,
        span_steps: span,
    })
}

/// Median of `v` (reorders it); 0 for an empty slice.
pub(crate) fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, &mut m, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    if v.len() % 2 == 1 {
        m
    } else {
        let lo = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lo + m)
    }
}

/// Lag-1 autocorrelation of a sequence of residuals (0 for fewer than 3).
pub(crate) fn lag1(r: &[f64]) -> f64 {
    if r.len() < 3 {
        return 0.0;
    }
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let den: f64 = r.iter().map(|x| (x - mean) * (x - mean)).sum();
    if den <= 0.0 {
        return 0.0;
    }
    r.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum::<f64>() / den
}

/// Two-sided 95% quantile of Student's t with `nu` degrees of freedom (series in 1/nu; within
/// 0.5% for nu >= 3, exact limit 1.96).
pub(crate) fn t975(nu: f64) -> f64 {
    let x = 1.0 / nu.max(1.0);
    1.959964 + x * (2.372 + x * (2.8225 + x * 2.556))
}

/// Normal equations of a least-squares fit with up to 4 regressors.
#[derive(Debug, Clone)]
pub(crate) struct Normal {
    k: usize,
    ata: [[f64; 4]; 4],
    aty: [f64; 4],
}

impl Normal {
    /// Empty equations for `k` regressors (the first `k` entries of each row are used).
    pub(crate) fn new(k: usize) -> Self {
        Normal { k: k.min(4), ata: [[0.0; 4]; 4], aty: [0.0; 4] }
    }
    /// Adds one observation.
    pub(crate) fn add(&mut self, row: &[f64; 4], y: f64) {
        for a in 0..self.k {
            for b in 0..self.k {
                self.ata[a][b] += row[a] * row[b];
            }
            self.aty[a] += row[a] * y;
        }
    }
    /// The solution and the inverse of the normal matrix (Gauss-Jordan with partial pivoting);
    /// `None` when singular.
    pub(crate) fn solve(&self) -> Option<([f64; 4], [[f64; 4]; 4])> {
        let k = self.k;
        let mut a = self.ata;
        let mut inv = [[0.0; 4]; 4];
        for (i, row) in inv.iter_mut().enumerate().take(k) {
            row[i] = 1.0;
        }
        for col in 0..k {
            let piv = (col..k).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
            let scale = (0..k).map(|j| self.ata[j][j].abs()).fold(0.0, f64::max).max(1e-300);
            if a[piv][col].abs() <= 1e-12 * scale {
                return None;
            }
            a.swap(col, piv);
            inv.swap(col, piv);
            let d = a[col][col];
            for j in 0..k {
                a[col][j] /= d;
                inv[col][j] /= d;
            }
            for r in 0..k {
                if r != col {
                    let f = a[r][col];
                    if f != 0.0 {
                        for j in 0..k {
                            a[r][j] -= f * a[col][j];
                            inv[r][j] -= f * inv[col][j];
                        }
                    }
                }
            }
        }
        let mut beta = [0.0; 4];
        for i in 0..k {
            beta[i] = (0..k).map(|j| inv[i][j] * self.aty[j]).sum();
        }
        Some((beta, inv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Newton refinement must agree with a brute-force evaluation of the interpolated
    /// correlation (naive reference for the fast path).
    #[test]
    fn refined_peak_matches_naive_interpolation() {
        let n = 256;
        let mut planner = RealFftPlanner::<f64>::new();
        let r2c = planner.plan_fft_forward(n);
        let pulse =
            |t: f64| if t < 0.0 { 0.0 } else { (-t / 6.0).exp() * (0.9 * t).sin() * (1.0 - (-t).exp()) };
        let shift = 3.37;
        let mut a: Vec<f64> = (0..n).map(|k| pulse(k as f64 - 60.0)).collect();
        let mut b: Vec<f64> = (0..n).map(|k| pulse(k as f64 - 60.0 - shift)).collect();
        let mut fa = r2c.make_output_vec();
        let mut fb = r2c.make_output_vec();
        r2c.process(&mut a, &mut fa).unwrap();
        r2c.process(&mut b, &mut fb).unwrap();
        let cross: Vec<Complex<f64>> = fb.iter().zip(&fa).map(|(x, y)| x * y.conj()).collect();
        let (t, v) = refine_peak(&cross, n, 3.0);
        // Naive: the same band-limited interpolation summed bin by bin on a fine grid.
        let naive = |tau: f64| -> f64 {
            let mut r = cross[0].re + cross[n / 2].re * (std::f64::consts::PI * tau).cos();
            for (k, c) in cross.iter().enumerate().take(n / 2).skip(1) {
                let w = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
                r += 2.0 * (c.re * (w * tau).cos() - c.im * (w * tau).sin());
            }
            r / n as f64
        };
        let (mut bt, mut bv) = (0.0, f64::NEG_INFINITY);
        for i in 0..20_001 {
            let tau = 2.5 + i as f64 * 1e-4;
            let r = naive(tau);
            if r > bv {
                bt = tau;
                bv = r;
            }
        }
        assert!((t - bt).abs() < 2e-4, "Newton {t}, grid {bt}");
        assert!((v - bv).abs() < 1e-9 * bv.abs());
        assert!((t - shift).abs() < 0.01, "refined lag {t}, true {shift}");
    }

    #[test]
    fn median_of_even_and_odd_lengths() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn normal_equations_solve_a_line() {
        let mut ne = Normal::new(2);
        for i in 0..10 {
            ne.add(&[1.0, i as f64, 0.0, 0.0], 2.0 + 0.5 * i as f64);
        }
        let (b, _) = ne.solve().unwrap();
        assert!((b[0] - 2.0).abs() < 1e-12 && (b[1] - 0.5).abs() < 1e-12);
    }
}
