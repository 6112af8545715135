//! Results compared with truth, and the report that groups them.
use super::sweep::SnrBand;
use crate::measurement::{Figure, Kind, Measurement};
use crate::synth::{Scenario, SoundFamily, Truth};
use serde::Serialize;

/// The outcome of one recording, compared with its truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case name (sweep) or the recording's path (folder).
    pub name: String,
    /// The truth's scenario: `watch`, or what a recording without a watch holds (`music`, ...).
    pub scenario: String,
    /// What the recording holds.
    pub truth_kind: Kind,
    /// True beat rate.
    pub truth_bph: Option<u32>,
    /// SNR band of the truth.
    pub snr_band: SnrBand,
    /// Sound family of a watch recording (`None` without a watch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<SoundFamily>,
    /// What the analysis found.
    pub measured_kind: Kind,
    /// Beat rate found.
    pub measured_bph: Option<u32>,
    /// Rate error, s/day, with the reported u95 (only when the bph is right).
    pub rate_s_per_day: Option<Figure>,
    /// Beat error error, ms, with the reported u95 (only when the bph is right).
    pub beat_error_ms: Option<Figure>,
    /// Amplitude error, degrees, with the reported u95 (only when the bph is right and an
    /// amplitude was reported).
    pub amplitude_deg: Option<Figure>,
    /// Why nothing was measured, when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Seconds of audio.
    pub audio_s: f64,
    /// Seconds spent analysing, on-CPU where known (see the module docs for what is timed).
    pub analysis_s: f64,
}

impl CaseResult {
    /// Compares a measurement with its truth (`error.value` = measured - truth, `error.u95` =
    /// the measurement's u95).
    pub fn compare(name: String, truth: &Truth, m: &Measurement, audio_s: f64, analysis_s: f64) -> Self {
        let bph_ok = truth.kind == Kind::Mechanical && m.kind == Kind::Mechanical && m.bph == truth.bph;
        let err = |f: Option<Figure>, t: Option<f64>| match (bph_ok, f, t) {
            (true, Some(f), Some(t)) => Some(Figure::new(f.value - t, f.u95)),
            _ => None,
        };
        let amp_truth = truth.amplitude_by_convention_deg.or(truth.amplitude_deg);
        CaseResult {
            name,
            scenario: truth.scenario.clone(),
            truth_kind: truth.kind,
            truth_bph: truth.bph,
            snr_band: SnrBand::of(truth.snr_db),
            family: match &truth.params {
                Scenario::Mechanical(p) => Some(p.family),
                _ => None,
            },
            measured_kind: m.kind,
            measured_bph: m.bph,
            rate_s_per_day: err(m.rate_s_per_day, truth.rate_s_per_day),
            beat_error_ms: err(m.beat_error_ms, truth.beat_error_ms),
            amplitude_deg: err(m.amplitude_deg, amp_truth),
            reason: m.reason.clone(),
            audio_s,
            analysis_s,
        }
    }
    /// True when a watch recording was given the right beat rate.
    pub fn bph_correct(&self) -> bool {
        self.truth_kind == Kind::Mechanical
            && self.measured_kind == Kind::Mechanical
            && self.measured_bph == self.truth_bph
    }
    /// True when the result is wrong in kind: a watch missed or misread, or a recording
    /// without a watch given readings.
    pub fn is_failure(&self) -> bool {
        match self.truth_kind {
            Kind::None => self.measured_kind != Kind::None,
            _ => !self.bph_correct(),
        }
    }
}

/// Error statistics of one figure over a group of recordings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Recordings with this figure.
    pub n: usize,
    /// Mean error (bias).
    pub mean: f64,
    /// Root mean square error.
    pub rms: f64,
    /// Largest absolute error.
    pub max_abs: f64,
    /// Share of recordings whose truth lies within +-u95, percent.
    pub coverage_pct: f64,
}

impl ErrorStats {
    /// Statistics of the errors (`value` = error, `u95` = reported u95); `None` when empty.
    pub fn of(errors: impl Iterator<Item = Figure>) -> Option<Self> {
        let (mut n, mut sum, mut sq, mut max, mut covered) = (0usize, 0.0, 0.0, 0.0f64, 0usize);
        for e in errors {
            n += 1;
            sum += e.value;
            sq += e.value * e.value;
            max = max.max(e.value.abs());
            covered += e.covers(0.0) as usize;
        }
        (n > 0).then(|| ErrorStats {
            n,
            mean: sum / n as f64,
            rms: (sq / n as f64).sqrt(),
            max_abs: max,
            coverage_pct: 100.0 * covered as f64 / n as f64,
        })
    }
}

/// Results of the watch recordings of one group (a beat rate, an SNR band, or all).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The group, e.g. `28800` or `10-20 dB`.
    pub group: String,
    /// Watch recordings.
    pub cases: usize,
    /// Share given the right beat rate, percent.
    pub bph_correct_pct: f64,
    /// Watch recordings reported as "no watch".
    pub missed: usize,
    /// Rate error, s/day.
    pub rate_s_per_day: Option<ErrorStats>,
    /// Beat error error, ms.
    pub beat_error_ms: Option<ErrorStats>,
    /// Amplitude error, degrees.
    pub amplitude_deg: Option<ErrorStats>,
    /// Recordings with the right beat rate but no amplitude.
    pub amplitude_missing: usize,
    /// Audio seconds analysed per second of analysis, on one core.
    pub x_real_time: f64,
}

impl Row {
    /// Summarises the watch recordings among `results`.
    pub fn of<'a>(group: String, results: impl Iterator<Item = &'a CaseResult>) -> Self {
        let watch: Vec<&CaseResult> = results.filter(|r| r.truth_kind == Kind::Mechanical).collect();
        let ok: Vec<&&CaseResult> = watch.iter().filter(|r| r.bph_correct()).collect();
        Row {
            group,
            cases: watch.len(),
            bph_correct_pct: pct(ok.len(), watch.len()),
            missed: watch.iter().filter(|r| r.measured_kind == Kind::None).count(),
            rate_s_per_day: ErrorStats::of(ok.iter().filter_map(|r| r.rate_s_per_day)),
            beat_error_ms: ErrorStats::of(ok.iter().filter_map(|r| r.beat_error_ms)),
            amplitude_deg: ErrorStats::of(ok.iter().filter_map(|r| r.amplitude_deg)),
            amplitude_missing: ok.iter().filter(|r| r.amplitude_deg.is_none()).count(),
            x_real_time: speed(watch.iter().copied()),
        }
    }
}

/// Results of the recordings without a watch of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegativeRow {
    /// The scenario (e.g. `music`), or `all`.
    pub scenario: String,
    /// Recordings.
    pub cases: usize,
    /// Share reported as "no watch", percent.
    pub rejected_pct: f64,
    /// Audio seconds analysed per second of analysis, on one core.
    pub x_real_time: f64,
}

/// The benchmark's result: what `tickproof evaluate` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What was evaluated: `sweep` or the folder.
    pub source: String,
    /// Master seed of a sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Recordings evaluated (with and without a watch).
    pub recordings: usize,
    /// Watch recordings by beat rate (ascending).
    pub by_bph: Vec<Row>,
    /// Watch recordings by SNR band.
    pub by_snr: Vec<Row>,
    /// Watch recordings by sound family (in [`SoundFamily::ALL`] order, those present).
    pub by_family: Vec<Row>,
    /// Watch recordings at SNR 10 dB and up (or without noise): where the targets apply.
    pub snr_10_db_and_up: Row,
    /// Every watch recording.
    pub all: Row,
    /// Recordings without a watch, by scenario, then `all`.
    pub negatives: Vec<NegativeRow>,
    /// Audio seconds per second of analysis over every recording, on one core.
    pub x_real_time: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock seconds of the whole evaluation (synthesis included).
    pub wall_s: f64,
    /// Recordings wrong in kind (watch missed or misread, no-watch given readings).
    pub failures: Vec<CaseResult>,
}

fn pct(k: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * k as f64 / n as f64
    }
}

fn speed<'a>(rs: impl Iterator<Item = &'a CaseResult>) -> f64 {
    let (a, t) = rs.fold((0.0, 0.0), |(a, t), r| (a + r.audio_s, t + r.analysis_s));
    if t > 0.0 {
        a / t
    } else {
        0.0
    }
}

impl Report {
    /// Builds the report from per-recording results (in their order).
    pub fn from_results(
        source: String,
        seed: Option<u64>,
        results: &[CaseResult],
        threads: usize,
        wall_s: f64,
    ) -> Self {
        let mut bphs: Vec<u32> = results.iter().filter_map(|r| r.truth_bph).collect();
        bphs.sort_unstable();
        bphs.dedup();
        let mut bands: Vec<SnrBand> =
            results.iter().filter(|r| r.truth_kind == Kind::Mechanical).map(|r| r.snr_band).collect();
        bands.sort_unstable();
        bands.dedup();
        let mut scenarios: Vec<String> = Vec::new();
        let neg: Vec<&CaseResult> = results.iter().filter(|r| r.truth_kind == Kind::None).collect();
        for r in &neg {
            if !scenarios.contains(&r.scenario) {
                scenarios.push(r.scenario.clone());
            }
        }
        let neg_row = |scenario: String, rs: Vec<&CaseResult>| NegativeRow {
            scenario,
            cases: rs.len(),
            rejected_pct: pct(rs.iter().filter(|r| r.measured_kind == Kind::None).count(), rs.len()),
            x_real_time: speed(rs.iter().copied()),
        };
        let mut negatives: Vec<NegativeRow> = scenarios
            .iter()
            .map(|s| neg_row(s.clone(), neg.iter().copied().filter(|r| &r.scenario == s).collect()))
            .collect();
        if !neg.is_empty() {
            negatives.push(neg_row("all".into(), neg.clone()));
        }
        Report {
            source,
            seed,
            recordings: results.len(),
            by_bph: bphs
                .iter()
                .map(|&b| Row::of(b.to_string(), results.iter().filter(|r| r.truth_bph == Some(b))))
                .collect(),
            by_snr: bands
                .iter()
                .map(|&b| Row::of(b.label().into(), results.iter().filter(|r| r.snr_band == b)))
                .collect(),
            by_family: SoundFamily::ALL
                .iter()
                .filter(|&&fam| results.iter().any(|r| r.family == Some(fam)))
                .map(|&fam| Row::of(fam.name().into(), results.iter().filter(|r| r.family == Some(fam))))
                .collect(),
            snr_10_db_and_up: Row::of(
                ">=10 dB".into(),
                results.iter().filter(|r| r.snr_band >= SnrBand::Db10To20),
            ),
            all: Row::of("all".into(), results.iter()),
            negatives,
            x_real_time: speed(results.iter()),
            threads,
            wall_s,
            failures: results.iter().filter(|r| r.is_failure()).cloned().collect(),
        }
    }
}
