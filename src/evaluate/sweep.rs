//! The synthetic sweep: its cases, drawn from the master seed, and how one case is made and
//! analysed.
use super::report::{CaseResult, Report};
use super::workers::{parallel, threads_for, timed};
use super::{config_for, SWEEP_DURATION_S, SWEEP_SAMPLE_RATES_HZ, SWEEP_SNR_BANDS};
use crate::measurement::{analyze_source, Kind, STANDARD_BPH};
use crate::source::MemorySource;
use crate::synth::rng::Rng;
use crate::synth::{MechanicalParams, Negative, NegativeParams, Scenario, SoundFamily, Synth};
use serde::Serialize;
use std::time::Instant;

/// Settings of a synthetic sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    /// Watch recordings per (beat rate, SNR band) cell, and recordings per no-watch scenario.
    pub seeds: usize,
    /// Master seed: the same seed gives the same recordings and the same figures.
    pub seed: u64,
    /// Worker threads (0 = the available cores).
    pub threads: usize,
}

impl SweepConfig {
    /// The full sweep: 7 seeds per cell, 231 watch recordings (enough for a coverage figure
    /// with a resolution of about half a percent) and 56 without a watch.
    pub fn full() -> Self {
        SweepConfig { seeds: 7, seed: 1, threads: 0 }
    }
    /// The quick sweep: one recording per cell, 33 watch recordings and 8 without a watch.
    pub fn quick() -> Self {
        SweepConfig { seeds: 1, ..SweepConfig::full() }
    }
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig::full()
    }
}

/// An SNR band (white-noise SNR as defined in [`crate::synth`]), for grouping results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnrBand {
    /// Below 6 dB.
    Below6,
    /// 6 to 10 dB.
    Db6To10,
    /// 10 to 20 dB.
    Db10To20,
    /// 20 to 40 dB.
    Db20To40,
    /// 40 dB and up.
    Above40,
    /// No noise added.
    Clean,
}

impl SnrBand {
    /// The band of an SNR (`None` = no noise added).
    pub fn of(snr_db: Option<f64>) -> Self {
        match snr_db {
            None => SnrBand::Clean,
            Some(s) if s < 6.0 => SnrBand::Below6,
            Some(s) if s < 10.0 => SnrBand::Db6To10,
            Some(s) if s < 20.0 => SnrBand::Db10To20,
            Some(s) if s < 40.0 => SnrBand::Db20To40,
            Some(_) => SnrBand::Above40,
        }
    }
    /// The edges of the band, dB (`None` for no noise; open edges are infinite).
    pub fn range_db(&self) -> Option<(f64, f64)> {
        match self {
            SnrBand::Below6 => Some((f64::NEG_INFINITY, 6.0)),
            SnrBand::Db6To10 => Some((6.0, 10.0)),
            SnrBand::Db10To20 => Some((10.0, 20.0)),
            SnrBand::Db20To40 => Some((20.0, 40.0)),
            SnrBand::Above40 => Some((40.0, f64::INFINITY)),
            SnrBand::Clean => None,
        }
    }
    /// The label printed in tables.
    pub fn label(&self) -> &'static str {
        match self {
            SnrBand::Below6 => "<6 dB",
            SnrBand::Db6To10 => "6-10 dB",
            SnrBand::Db10To20 => "10-20 dB",
            SnrBand::Db20To40 => "20-40 dB",
            SnrBand::Above40 => ">=40 dB",
            SnrBand::Clean => "no noise",
        }
    }
}

/// One recording of a sweep: a name that says how to make it again, and the recipe.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// E.g. `watch-28800bph-10-20dB-s3` or `none-music-s0`.
    pub name: String,
    /// The recipe ([`Synth::new`] makes the recording from it).
    pub scenario: Scenario,
}

/// The recordings of a sweep, in a fixed order: watch recordings by beat rate, SNR band and
/// seed, then the recordings without a watch by scenario and seed.
///
/// Every parameter is drawn from an [`Rng`] seeded from the master seed and the case's
/// position, so a case does not change when `seeds` grows.
pub fn sweep_cases(cfg: &SweepConfig) -> Vec<Case> {
    let mut cases = Vec::new();
    for (bi, &bph) in STANDARD_BPH.iter().enumerate() {
        for (ni, band) in SWEEP_SNR_BANDS.iter().enumerate() {
            for s in 0..cfg.seeds {
                let key = ((bi as u64) << 40) | ((ni as u64) << 32) | s as u64;
                let mut r = Rng::new(mix(cfg.seed, key));
                let (lo, hi) = band.range_db().expect("sweep bands are finite");
                let p = MechanicalParams {
                    bph,
                    rate_s_per_day: r.range(-300.0, 300.0),
                    beat_error_ms: r.range(0.0, 5.0),
                    amplitude_deg: r.range(140.0, 330.0),
                    lift_angle_deg: r.range(40.0, 60.0),
                    sample_rate_hz: pick(&mut r, &SWEEP_SAMPLE_RATES_HZ),
                    recorder_ppm: r.range(-100.0, 100.0),
                    snr_db: Some(r.range(lo, hi)),
                    duration_s: SWEEP_DURATION_S,
                    seed: r.next_u64(),
                    family: sweep_family(cfg.seed, key),
                    ..MechanicalParams::default()
                };
                cases.push(Case {
                    name: format!("watch-{bph}bph-{}-s{s}", band.label().replace(' ', "")),
                    scenario: Scenario::Mechanical(p),
                });
            }
        }
    }
    let negatives = [
        Negative::Noise,
        Negative::PinkNoise,
        Negative::Speech,
        Negative::Music,
        Negative::Silence,
        Negative::Dither,
        Negative::Metronome { bpm: 0.0 },
        Negative::Knocks,
    ];
    for (ki, kind) in negatives.iter().enumerate() {
        for s in 0..cfg.seeds {
            let key = (1u64 << 56) | ((ki as u64) << 32) | s as u64;
            let mut r = Rng::new(mix(cfg.seed, key));
            let scenario = match kind {
                // 40..190 clicks a minute: well below the slowest standard watch (200 a minute).
                Negative::Metronome { .. } => Negative::Metronome { bpm: r.range(40.0, 190.0) },
                k => *k,
            };
            let sounding = matches!(scenario, Negative::Metronome { .. } | Negative::Knocks);
            let p = NegativeParams {
                sample_rate_hz: pick(&mut r, &SWEEP_SAMPLE_RATES_HZ),
                duration_s: SWEEP_DURATION_S,
                recorder_ppm: r.range(-100.0, 100.0),
                snr_db: sounding.then(|| r.range(10.0, 40.0)),
                knocks_per_min: if scenario == Negative::Knocks { r.range(5.0, 60.0) } else { 0.0 },
                seed: r.next_u64(),
                ..NegativeParams::new(scenario)
            };
            cases.push(Case { name: format!("none-{}-s{s}", scenario.name()), scenario: Scenario::None(p) });
        }
    }
    cases
}

/// The sound family of the sweep's watch case `key`: uniform over [`SoundFamily::ALL`], from a
/// stream of its own (so the other draws of the case do not move).
pub fn sweep_family(seed: u64, key: u64) -> SoundFamily {
    let mut r = Rng::new(mix(seed, key) ^ 0xFA_3117_5EED_0007);
    pick(&mut r, &SoundFamily::ALL)
}

fn mix(seed: u64, key: u64) -> u64 {
    Rng::new(seed ^ key.rotate_left(17)).next_u64() ^ key
}

fn pick<T: Copy>(r: &mut Rng, xs: &[T]) -> T {
    xs[((r.uniform() * xs.len() as f64) as usize).min(xs.len() - 1)]
}

/// Synthesises and analyses one sweep case. The recording is rendered to memory first so that
/// only the analysis is timed.
pub fn run_case(case: &Case) -> CaseResult {
    let failed = |why: String| CaseResult {
        name: case.name.clone(),
        scenario: match &case.scenario {
            Scenario::None(p) => p.scenario.name().to_string(),
            _ => "watch".to_string(),
        },
        truth_kind: match case.scenario {
            Scenario::Mechanical(_) => Kind::Mechanical,
            _ => Kind::None,
        },
        truth_bph: None,
        snr_band: SnrBand::Clean,
        family: match &case.scenario {
            Scenario::Mechanical(p) => Some(p.family),
            _ => None,
        },
        measured_kind: Kind::None,
        measured_bph: None,
        rate_s_per_day: None,
        beat_error_ms: None,
        amplitude_deg: None,
        reason: Some(why),
        audio_s: 0.0,
        analysis_s: 0.0,
    };
    let mut synth = match Synth::new(&case.scenario) {
        Ok(s) => s,
        Err(e) => return failed(format!("synthesis refused the case: {e}")),
    };
    let truth = synth.truth();
    let ch = truth.channels as usize;
    let mut samples = vec![0.0f32; truth.frames as usize * ch];
    let mut filled = 0;
    while filled < samples.len() {
        match crate::source::BlockSource::read_frames(&mut synth, &mut samples[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n * ch,
        }
    }
    samples.truncate(filled);
    let src = MemorySource::new(samples, truth.sample_rate_hz, truth.channels);
    let (m, dt) = timed(|| analyze_source(Box::new(src), &config_for(&truth)));
    match m {
        Ok(m) => CaseResult::compare(case.name.clone(), &truth, &m, truth.duration_s, dt),
        Err(e) => failed(format!("analysis failed: {e}")),
    }
}

/// Runs a synthetic sweep (see the module docs).
pub fn run_sweep(cfg: &SweepConfig) -> Report {
    let t0 = Instant::now();
    let cases = sweep_cases(cfg);
    let threads = threads_for(cfg.threads, cases.len());
    let results = parallel(cases.len(), threads, |i| run_case(&cases[i]));
    Report::from_results("sweep".into(), Some(cfg.seed), &results, threads, t0.elapsed().as_secs_f64())
}
