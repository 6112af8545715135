//! Development sweep of the quartz analysis: for every quartz sound family, at 60 s and 250 s,
//! a handful of seeds (a random rate, a known recorder error, SNR 20 dB; half without
//! inhibition, half with one: 10 s of 12 ppm at 60 s, 60 s of 25 ppm at 250 s). Prints, per
//! family and length, the RMS and largest rate error, the median and largest u95, the share of
//! u95 that cover the truth and the timing the click timer chose. For reports, not a test.
//!
//! `cargo run --release --example quartz_sweep [seeds per family] [durations, e.g. 60,250]`
use tickproof::beats::clicks::time_clicks;
use tickproof::estimators::quartz::{analyse_train, QuartzConfig};
use tickproof::measurement::{Figure, RecorderClock};
use tickproof::synth::quartz::{QuartzParams, QuartzSynth};
use tickproof::synth::rng::Rng;
use tickproof::synth::SoundFamily;

/// One analysed recording: the rate error and u95 (s/month), or `None` when no rate came out.
struct Row {
    err_u95: Option<(f64, f64)>,
    timing: &'static str,
}

fn params(family: SoundFamily, duration_s: f64, seed: u64) -> QuartzParams {
    let mut r = Rng::new(9000 + seed);
    let inhibition = (seed % 2 == 1).then_some(if duration_s < 100.0 { (10, 12.0) } else { (60, 25.0) });
    QuartzParams {
        duration_s,
        rate_s_per_month: r.range(-40.0, 40.0),
        recorder_ppm: r.range(-50.0, 50.0),
        inhibition_period_s: inhibition.map(|i| i.0),
        inhibition_ppm: inhibition.map_or(0.0, |i| i.1),
        snr_db: 20.0,
        seed: 100 + seed,
        family,
        ..QuartzParams::default()
    }
}

fn run(p: &QuartzParams) -> Row {
    let mut s = QuartzSynth::new(p).expect("valid sweep parameters");
    let truth = s.truth().rate_s_per_month;
    let rec = RecorderClock {
        recorder_ppm: Figure::new(p.recorder_ppm, 0.0),
        source: "truth".into(),
        stale: false,
    };
    let cfg = QuartzConfig::default();
    let train = time_clicks(&mut s, 0, &cfg.clicks).expect("a synthetic recording reads");
    let out = analyse_train(&train, &rec, &cfg);
    let rate = out.quartz.and_then(|q| q.rate_s_per_month);
    Row { err_u95: rate.map(|f| (f.value - truth, f.u95)), timing: train.timing.name() }
}

fn summary(rows: &[Row]) -> String {
    let got: Vec<(f64, f64)> = rows.iter().filter_map(|r| r.err_u95).collect();
    if got.is_empty() {
        return format!("no rate in {} recordings", rows.len());
    }
    let n = got.len() as f64;
    let rms = (got.iter().map(|g| g.0 * g.0).sum::<f64>() / n).sqrt();
    let max_err = got.iter().fold(0.0f64, |m, g| m.max(g.0.abs()));
    let mut u: Vec<f64> = got.iter().map(|g| g.1).collect();
    u.sort_by(f64::total_cmp);
    let cover = got.iter().filter(|g| g.0.abs() <= g.1).count();
    let mut timings: Vec<&str> = rows.iter().map(|r| r.timing).collect();
    timings.sort_unstable();
    timings.dedup();
    format!(
        "err rms {rms:6.3} max {max_err:6.3}  u95 median {:6.3} max {:6.3}  covered {cover}/{}  no rate {}  timing {}",
        u[u.len() / 2],
        u[u.len() - 1],
        got.len(),
        rows.len() - got.len(),
        timings.join("+")
    )
}

fn main() {
    let seeds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(6);
    let durations: Vec<f64> = std::env::args()
        .nth(2)
        .map(|s| s.split(',').filter_map(|d| d.parse().ok()).collect())
        .unwrap_or_else(|| vec![60.0, 250.0]);
    println!("rate error and u95 in s/month; {seeds} seeds per family and length, SNR 20 dB");
    for &d in &durations {
        for family in SoundFamily::ALL {
            let rows: Vec<Row> = (0..seeds).map(|k| run(&params(family, d, k))).collect();
            println!("{d:5.0} s  {:<12} {}", family.name(), summary(&rows));
        }
    }
}
