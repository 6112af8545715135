//! Development sweep: random parameters over the ranges, errors and u95 coverage.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tickproof::measurement::{analyze_source, AnalysisConfig, Figure, Kind, RecorderClock};
use tickproof::synth::rng::Rng;
use tickproof::synth::{MechanicalParams, Synth};

const BPH: [u32; 11] = [12000, 14400, 17280, 18000, 19800, 21600, 25200, 28800, 36000, 43200, 72000];

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let snr_lo: f64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let next = AtomicUsize::new(0);
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let mut r = Rng::new(1000 + i as u64);
                let mut p = MechanicalParams::default();
                p.bph = BPH[(r.uniform() * 11.0) as usize];
                p.rate_s_per_day = r.range(-300.0, 300.0);
                p.beat_error_ms = r.range(0.0, 5.0f64.min(0.04 * 3600e3 / p.bph as f64));
                p.amplitude_deg = r.range(140.0, 330.0);
                p.lift_angle_deg = r.range(40.0, 60.0);
                p.snr_db = Some(r.range(snr_lo, 40.0));
                p.sample_rate_hz = [44100, 48000, 96000][(r.uniform() * 3.0) as usize];
                p.recorder_ppm = r.range(-100.0, 100.0);
                p.seed = 5000 + i as u64;
                let s = Synth::mechanical(&p).unwrap();
                let t = s.truth();
                let cfg = AnalysisConfig {
                    lift_angle_deg: p.lift_angle_deg,
                    recorder: RecorderClock {
                        recorder_ppm: Figure::new(p.recorder_ppm, 0.0),
                        source: "truth".into(),
                        stale: false,
                    },
                    ..AnalysisConfig::default()
                };
                let m = analyze_source(Box::new(s), &cfg).unwrap();
                rows.lock().unwrap().push((i, p.clone(), t, m));
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|r| r.0);
    let (mut cov, mut tot, mut bad) = ([0usize; 3], [0usize; 3], 0usize);
    let mut maxerr = [0.0f64; 3];
    for (i, p, t, m) in &rows {
        if m.kind != Kind::Mechanical || m.bph != Some(p.bph) {
            bad += 1;
            println!(
                "#{i} bph {} snr {:.1} fs {} -> {:?} {:?} {:?}",
                p.bph,
                p.snr_db.unwrap(),
                p.sample_rate_hz,
                m.kind,
                m.bph,
                m.reason
            );
            continue;
        }
        let figs = [
            (m.rate_s_per_day, t.rate_s_per_day),
            (m.beat_error_ms, t.beat_error_ms),
            (m.amplitude_deg, t.amplitude_deg),
        ];
        let mut line = format!(
            "#{i:3} {:5} snr {:4.1} fs {:5} A {:5.1} L {:4.1} be {:5.3}:",
            p.bph,
            p.snr_db.unwrap(),
            p.sample_rate_hz,
            p.amplitude_deg,
            p.lift_angle_deg,
            p.beat_error_ms
        );
        for (j, (f, tr)) in figs.iter().enumerate() {
            if let (Some(f), Some(tr)) = (f, tr) {
                tot[j] += 1;
                let e = f.value - tr;
                maxerr[j] = maxerr[j].max(e.abs());
                if f.covers(*tr) {
                    cov[j] += 1;
                }
                line += &format!(" {:+9.4}/{:7.4}{}", e, f.u95, if f.covers(*tr) { " " } else { "*" });
            } else {
                line += " (none)";
            }
        }
        if let (Some(me), Some(tu)) = (&m.mechanical, t.unlock_to_drop_ms) {
            if let Some(u) = me.unlock_to_drop_ms {
                line += &format!("  tud err tic {:+.4} toc {:+.4} ms", u[0] - tu, u[1] - tu);
            }
        }
        println!("{line}");
    }
    println!("failed {bad}/{n}");
    for (j, name) in ["rate", "beat error", "amplitude"].iter().enumerate() {
        println!(
            "{name:>10}: coverage {}/{} = {:.1}%, max |err| {:.4}",
            cov[j],
            tot[j],
            100.0 * cov[j] as f64 / tot[j].max(1) as f64,
            maxerr[j]
        );
    }
}
