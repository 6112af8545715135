//! Development view of the averaged tic/toc envelopes of a recording (text plot).
use tickproof::beats::{acquire, template};
use tickproof::source::{self, channel::MonoBlocks};

fn main() {
    let path = std::env::args().nth(1).expect("file");
    let lift: f64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(52.0);
    let src = source::open(std::path::Path::new(&path)).unwrap();
    let fs = src.info().sample_rate_hz as f64;
    let mut mb = MonoBlocks::new(src, 0, 4096);
    let mut x = vec![];
    while let Some(b) = mb.next_block().unwrap() {
        x.extend_from_slice(b);
        if x.len() as f64 > 12.0 * fs {
            break;
        }
    }
    let env = acquire::Envelope::of(&x, fs);
    let lock = acquire::acquire(&env, None).unwrap();
    println!("lock {:?} p {:.5}", lock.bph, lock.beat_period_s);
    folded(&x, fs, lock.first_tic_s, lock.beat_period_s, lock.toc_offset_s);
    let t = template::build(&x, fs, &lock, lift).unwrap();
    println!(
        "lt {} n {} search {} t_range {:?} side_offset {:.1}",
        t.lt, t.n, t.search, t.t_range, t.side_offset
    );
    for s in 0..2 {
        let e = &t.sides[s].events;
        println!("side {s}: unlock {:.1} drop {:?} (samples)", e.unlock, e.drop);
        let w = &t.sides[s].waveform;
        let step = (w.len() / 60).max(1);
        let mx = w.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        for (i, c) in w.chunks(step).enumerate() {
            let m = c.iter().fold(0.0f32, |a, v| a.max(v.abs())) / mx;
            println!("{:6.2} ms {}", (i * step) as f64 / fs * 1000.0, "#".repeat((m * 60.0) as usize));
        }
    }
}

/// Coarse folded envelope around the beats (no sub-sample alignment), for a wide view.
#[allow(dead_code)]
pub fn folded(x: &[f32], fs: f64, first: f64, period: f64, side_off: f64) {
    use tickproof::conditioning::biquad::HighPass4;
    let mut hp = HighPass4::new(1500.0, fs);
    let y: Vec<f32> = x.iter().map(|&v| hp.process(v).abs()).collect();
    let half = (0.03 * fs) as i64;
    for s in 0..2 {
        let mut acc = vec![0.0f64; (2 * half) as usize];
        let mut k = 0;
        loop {
            let c = ((first + s as f64 * side_off + k as f64 * 2.0 * period) * fs) as i64;
            if c + half >= y.len() as i64 {
                break;
            }
            if c - half >= 0 {
                for i in 0..2 * half {
                    acc[i as usize] += y[(c - half + i) as usize] as f64;
                }
            }
            k += 1;
        }
        let step = (acc.len() / 60).max(1);
        let mx = acc.chunks(step).map(|c| c.iter().sum::<f64>()).fold(0.0, f64::max);
        println!("side {s} folded around envelope peak:");
        for (i, c) in acc.chunks(step).enumerate() {
            let m = c.iter().sum::<f64>() / mx;
            println!(
                "{:+7.2} ms {}",
                ((i * step) as f64 - half as f64) / fs * 1000.0,
                "#".repeat((m * 60.0) as usize)
            );
        }
    }
}
