//! Development probe: what the analysis sees in a recording, stretch by stretch.
//!
//! `cargo run --release --example templates FILE.wav [LIFT_DEG]` prints the beat-rate
//! candidates of the whole recording, then every event window (about 2 s): the tic/toc offset
//! and the unlock and drop of each side, as the beat error and amplitude are combined from them.
use tickproof::beats::acquire::RateScan;
use tickproof::measurement::{AnalysisConfig, Analyzer};
use tickproof::source;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let Some(path) = a.get(1) else {
        eprintln!("usage: templates FILE.wav [LIFT_DEG]");
        std::process::exit(2);
    };
    let lift = a.get(2).and_then(|s| s.parse().ok()).unwrap_or(52.0);
    let mut src = source::open(std::path::Path::new(path)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let fs = src.info().sample_rate_hz;
    let ch = src.info().channels as usize;
    let mut x = Vec::new();
    let mut buf = vec![0.0f32; 4096 * ch];
    loop {
        let n = src.read_frames(&mut buf).expect("readable");
        if n == 0 {
            break;
        }
        x.extend(buf[..n * ch].iter().step_by(ch));
    }
    let mut scan = RateScan::new(fs as f64);
    scan.push(&x);
    let rate = match scan.finish(None) {
        Ok(r) => r,
        Err(e) => {
            println!("no watch: {} {:?}", e.reason, e.candidates);
            return;
        }
    };
    println!("rate {} bph, beat {:.6} s; candidates {:?}", rate.bph, rate.beat_period_s(), rate.candidates);
    let head = &x[..x.len().min(12 * fs as usize)];
    let env = tickproof::beats::acquire::Envelope::of(head, fs as f64);
    let lock = tickproof::beats::acquire::acquire_among(&env, None, Some(rate.bph));
    let ms = |v: f64| v / fs as f64 * 1e3;
    if let Ok(lock) = &lock {
        println!(
            "first 12 s: first beat {:.2} ms, other side {:.2} ms after it, beat {:.3} ms",
            lock.first_tic_s * 1e3,
            lock.toc_offset_s * 1e3,
            lock.beat_period_s * 1e3
        );
        if let Ok(t) = tickproof::beats::template::build(head, fs as f64, lock, lift) {
            println!(
                "templates: lt {:.2} ms, first origin {:.2} ms, side offset {:.2} ms; unlock/drop {:.2}/{:?} and {:.2}/{:?} ms; matching {:?}",
                ms(t.lt as f64),
                ms(t.first_origin),
                ms(t.side_offset),
                ms(t.sides[0].events.unlock),
                t.sides[0].events.drop.map(ms),
                ms(t.sides[1].events.unlock),
                t.sides[1].events.drop.map(ms),
                t.matching
            );
            if std::env::var_os("TEMPLATE_DUMP").is_some() {
                for side in 0..2 {
                    let e = &t.sides[side].envelope;
                    let peak = e.iter().copied().fold(0.0f32, f32::max);
                    let step = std::env::var("DUMP_STEP")
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or((fs as usize / 4000).max(1));
                    let line: Vec<String> =
                        e.iter().step_by(step).map(|v| format!("{:.0}", 1000.0 * v / peak)).collect();
                    println!(
                        "side {side} envelope per {:.2} ms, per mille of peak: {}",
                        ms(step as f64),
                        line.join(" ")
                    );
                }
            }
        }
    }
    let mut an =
        Analyzer::with_rate(fs, AnalysisConfig { lift_angle_deg: lift, ..Default::default() }, rate.bph)
            .with_length(x.len() as u64);
    for c in x.chunks(4096) {
        an.push(c);
    }
    if std::env::var_os("BEAT_DUMP").is_some() {
        for b in an.beat_records() {
            println!("beat {:4} t {:10.6} s rho {:.3} {:?}", b.slot, b.t / fs as f64, b.rho, b.rejected);
        }
    }
    for r in an.event_readings() {
        let [e0, e1] = r.events;
        println!(
            "t {:6.2} s n {:?} c {:+7.3} ms | tic unlock {:6.2} drop {:>6} | toc unlock {:6.2} drop {:>6} ms",
            r.t0 / fs as f64,
            r.count,
            ms(r.c),
            ms(e0.unlock),
            e0.drop.map_or("-".into(), |d| format!("{:.2}", ms(d))),
            ms(e1.unlock),
            e1.drop.map_or("-".into(), |d| format!("{:.2}", ms(d))),
        );
    }
    if std::env::var_os("RULE_DUMP").is_some() {
        // The tic/toc offsets by each onset rule (a fifth, half, steepest), unlock and drop.
        for r in an.event_readings() {
            let [e0, e1] = r.events;
            let cu: Vec<String> = (0..3)
                .map(|k| format!("{:+.3}", ms(r.c + e1.unlock_rules[k] - e0.unlock_rules[k])))
                .collect();
            let cd: Vec<String> = match (e0.drop_rules, e1.drop_rules) {
                (Some(a), Some(b)) => (0..3).map(|k| format!("{:+.3}", ms(r.c + b[k] - a[k]))).collect(),
                _ => vec![],
            };
            println!(
                "rules t {:6.2} s offset by unlock {} | by drop {} ms",
                r.t0 / fs as f64,
                cu.join(" "),
                cd.join(" ")
            );
        }
    }
    let _ = an.finish();
}
