//! Watches whose sounds are bursts of noise (`harness::bursts`), built outside the synthesiser:
//! no sub-event repeats sample for sample, a long drop's envelope fluctuates for milliseconds
//! after its onset, the beats jitter and the level wanders. 72 seeded recordings of 20 s over
//! 18000-36000 bph, 12-35 dB. Every bph must be right and every rate given, every figure within
//! the targets as often as they ask (rate 0.05 s/day is not asked: the beats jitter by up to 20 us, so 20 s cannot
//! tell the rate that closely), and within its u95 as often as a 95% u95 allows. A beat error or
//! an amplitude may be withheld in two of them: where the impulse is nearly as sharp as the
//! drop, the stretches of some recordings are split between the two sounds, and the figure is
//! then withheld, not guessed.
mod harness;

use harness::bursts::{recording, Watch};
use harness::{analyze, lift, row};
use tickproof::measurement::{Figure, Measurement};

const RECORDINGS: u64 = 72;

/// Every recording analysed on two threads, with its truth, a row printed per recording.
fn every_recording() -> Vec<(Watch, Measurement)> {
    let run = |seeds: Vec<u64>| -> Vec<(Watch, Measurement)> {
        seeds
            .into_iter()
            .map(|s| {
                let (audio, w) = recording(s);
                let m = analyze(&audio, &lift(w.lift_deg));
                println!("{}  truth {w:?}", row(&format!("bursts seed {s}"), &m));
                (w, m.unwrap_or_else(|e| panic!("seed {s}: {e}")))
            })
            .collect()
    };
    std::thread::scope(|sc| {
        let odd = sc.spawn(move || run((1..=RECORDINGS).filter(|s| s % 2 == 1).collect()));
        let mut all = run((1..=RECORDINGS).filter(|s| s % 2 == 0).collect());
        all.extend(odd.join().expect("worker"));
        all
    })
}

/// Of the recordings, how many give the figure, have it within `tol` of the truth, and within
/// its u95; and the largest miss in u95s.
fn tally(
    rows: &[(Watch, Measurement)],
    pick: impl Fn(&Watch, &Measurement) -> (Option<Figure>, f64),
    tol: f64,
) -> (usize, usize, usize, f64) {
    let (mut given, mut within, mut covered, mut worst) = (0, 0, 0, 0.0f64);
    for (w, m) in rows {
        let (f, truth) = pick(w, m);
        if let Some(f) = f {
            let e = (f.value - truth).abs();
            given += 1;
            within += usize::from(e <= tol);
            covered += usize::from(e <= f.u95);
            worst = worst.max(e / f.u95);
        }
    }
    (given, within, covered, worst)
}

#[test]
fn sounds_made_of_noise_bursts_read_right_and_within_their_u95() {
    let rows = every_recording();
    let n = rows.len();
    for (w, m) in &rows {
        assert_eq!(m.bph, Some(w.bph), "{w:?}: bph {:?}", m.bph);
    }
    let rate = tally(&rows, |w, m| (m.rate_s_per_day, w.rate_s_per_day), f64::INFINITY);
    let be = tally(&rows, |w, m| (m.beat_error_ms, w.beat_error_ms), 0.03);
    let amp = tally(&rows, |w, m| (m.amplitude_deg, w.amplitude_deg), 2.0);
    println!("of {n}: (given, within target, within u95, worst u95s off): rate {rate:?}, beat error {be:?}, amplitude {amp:?}");
    // An honest 95% u95 misses the truth in 3.6 of 72 on average; in 8 or more with 2% odds.
    for (name, (given, within, covered, worst)) in [("rate", rate), ("beat error", be), ("amplitude", amp)] {
        let must = if name == "rate" { n } else { n - 2 };
        assert!(given >= must, "{name} withheld in {} of {n}", n - given);
        assert!(covered + 8 >= given, "{name} within its u95 in only {covered} of {given}");
        assert!(worst < 2.5, "{name} misses the truth by {worst:.1} u95");
        if name != "rate" {
            // The target: within 0.03 ms and 2 deg in at least 95% of cases.
            assert!(within as f64 >= 0.95 * given as f64, "{name} within target in only {within} of {given}");
        }
    }
}
