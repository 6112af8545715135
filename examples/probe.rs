//! Development probe: synthesise one recording and compare the analysis with the truth.
use tickproof::measurement::{analyze_source, AnalysisConfig, Figure, RecorderClock};
use tickproof::synth::{MechanicalParams, Synth};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let get = |i: usize, d: f64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let p = MechanicalParams {
        bph: get(1, 28800.0) as u32,
        rate_s_per_day: get(2, 5.0),
        beat_error_ms: get(3, 0.5),
        amplitude_deg: get(4, 270.0),
        snr_db: Some(get(5, 20.0)),
        seed: get(6, 1.0) as u64,
        sample_rate_hz: get(7, 48000.0) as u32,
        lift_angle_deg: get(8, 52.0),
        recorder_ppm: get(9, 0.0),
        duration_s: get(10, 20.0),
        ..MechanicalParams::default()
    };
    let s = Synth::mechanical(&p).unwrap();
    let truth = s.truth();
    let cfg = AnalysisConfig {
        lift_angle_deg: p.lift_angle_deg,
        recorder: RecorderClock {
            recorder_ppm: Figure::new(p.recorder_ppm, 0.0),
            source: "cli".into(),
            stale: false,
        },
        ..AnalysisConfig::default()
    };
    let t0 = std::time::Instant::now();
    let m = analyze_source(Box::new(s), &cfg).unwrap();
    let el = t0.elapsed();
    println!("{:?} bph {:?} in {:?}; reason {:?}", m.kind, m.bph, el, m.reason);
    let show = |n: &str, f: Option<Figure>, t: Option<f64>| {
        if let (Some(f), Some(t)) = (f, t) {
            println!(
                "{n:>12}: {:10.4} ± {:8.4}  truth {:10.4}  err {:+8.4}  {}",
                f.value,
                f.u95,
                t,
                f.value - t,
                if f.covers(t) { "ok" } else { "MISS" }
            );
        }
    };
    show("rate", m.rate_s_per_day, truth.rate_s_per_day);
    show("beat_error", m.beat_error_ms, truth.beat_error_ms);
    show("amplitude", m.amplitude_deg, truth.amplitude_deg);
    if let Some(me) = &m.mechanical {
        show("tic amp", me.tic_amplitude_deg, truth.amplitude_deg);
        show("toc amp", me.toc_amplitude_deg, truth.amplitude_deg);
        println!(
            "t_ud {:?} truth {:?}; jitter {:.4} ms; used {} rej {}; q {:.2} snr {:?}",
            me.unlock_to_drop_ms,
            truth.unlock_to_drop_ms,
            me.jitter_ms,
            me.beats_used,
            me.beats_rejected,
            m.quality,
            m.snr_db
        );
    }
}
