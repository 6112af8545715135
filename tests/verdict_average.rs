//! The average daily rate over positions: the recorder clock's uncertainty is common to every
//! position and must not average down; differences between positions cancel it.
mod verdict_support;
use tickproof::measurement::Figure;
use tickproof::synth::rng::Rng;
use tickproof::verdict::{average, Position};
use verdict_support::*;

#[test]
fn the_recorder_part_of_the_u95_does_not_average_down() {
    // Five positions, random u95 1.0 s/day each, recorder calibrated to ±10 ppm (0.864 s/day).
    let ps = five_positions(3.0, 1.0, 10.0);
    let a = average(&ps, 100.0).unwrap();
    let want = (5.0 * 1.0 / 25.0 + 0.864f64.powi(2)).sqrt();
    assert!((a.rate_s_per_day.u95 - want).abs() < 1e-12, "{} vs {want}", a.rate_s_per_day.u95);
    assert!((a.recorder_u95_s_per_day - 0.864).abs() < 1e-12);
    assert!((a.random_u95_s_per_day - 1.0 / 5f64.sqrt()).abs() < 1e-12);
    // Treating the positions as independent would claim far less.
    let naive = (5.0 * (1.0 + 0.864f64.powi(2))).sqrt() / 5.0;
    assert!(a.rate_s_per_day.u95 > 1.5 * naive);
    assert!(!a.recorder_assumed);
}

#[test]
fn an_uncalibrated_recorder_is_assumed_at_the_policy_figure() {
    let ps = five_positions(3.0, 0.2, 0.0);
    let a = average(&ps, 100.0).unwrap();
    assert!(a.recorder_assumed);
    assert!((a.recorder_u95_s_per_day - 8.64).abs() < 1e-12);
    assert!(a.rate_s_per_day.u95 > 8.64);
}

#[test]
fn the_u95_of_the_average_covers_the_truth_about_95_percent_of_the_time() {
    // Monte Carlo: a common recorder error for all positions, independent noise per position.
    let mut rng = Rng::new(20_240_501);
    let (r95, c95) = (1.2, 1.5); // per-position random u95, recorder u95 (s/day)
    let ppm = c95 / 0.0864;
    let trials = 4000;
    let (mut hit, mut naive_hit) = (0, 0);
    for _ in 0..trials {
        let truth = rng.range(-20.0, 20.0);
        let recorder_err = rng.gauss() * c95 / 1.96;
        let ps: Vec<_> = five_positions(0.0, r95, ppm)
            .into_iter()
            .map(|(p, mut m)| {
                let v = truth + recorder_err + rng.gauss() * r95 / 1.96;
                m.rate_s_per_day = Some(Figure::new(v, m.rate_s_per_day.unwrap().u95));
                (p, m)
            })
            .collect();
        let a = average(&ps, 100.0).unwrap();
        if a.rate_s_per_day.covers(truth) {
            hit += 1;
        }
        let naive = ps.iter().map(|(_, m)| m.rate_s_per_day.unwrap().u95.powi(2)).sum::<f64>().sqrt() / 5.0;
        if (a.rate_s_per_day.value - truth).abs() <= naive {
            naive_hit += 1;
        }
    }
    let cov = hit as f64 / trials as f64;
    let naive_cov = naive_hit as f64 / trials as f64;
    assert!((0.93..=0.97).contains(&cov), "coverage {cov}");
    assert!(naive_cov < 0.85, "the independent-positions formula under-covers: {naive_cov}");
}

#[test]
fn positional_differences_cancel_the_recorder_and_drop_flat_to_hanging_is_measured() {
    let rates = [
        (Position::DU, 2.0, 290.0),
        (Position::DD, 4.0, 286.0),
        (Position::CD, -6.0, 250.0),
        (Position::CL, -2.0, 254.0),
        (Position::CU, 0.0, 258.0),
    ];
    let ps: Vec<_> = rates
        .iter()
        .map(|&(p, r, amp)| {
            let mut m = mech(r, 1.0, 20.0, 60.0);
            m.amplitude_deg = Some(Figure::new(amp, 4.0));
            m.beat_error_ms = Some(Figure::new(if p == Position::CD { 0.9 } else { 0.2 }, 0.05));
            (p, m)
        })
        .collect();
    let a = average(&ps, 100.0).unwrap();
    assert!((a.rate_s_per_day.value - (-0.4)).abs() < 1e-12);
    let d = a.positional_spread_s_per_day.unwrap();
    assert!((d.value - 10.0).abs() < 1e-12 && (d.u95 - 2f64.sqrt()).abs() < 1e-9, "{d:?}");
    let vh = a.vertical_horizontal_difference_s_per_day.unwrap();
    assert!((vh.value - (-8.0 / 3.0 - 3.0)).abs() < 1e-12, "{vh:?}");
    assert!((vh.u95 - (3.0f64.sqrt() / 3.0).hypot(2f64.sqrt() / 2.0)).abs() < 1e-9);
    let drop = a.amplitude_drop_flat_to_hanging_deg.unwrap();
    assert!((drop.value - 34.0).abs() < 1e-12, "{drop:?}");
    assert_eq!(a.max_beat_error_ms.unwrap().value, 0.9);
    assert_eq!(a.positions_used, 5);
}

#[test]
fn positions_without_a_rate_are_left_out_and_none_gives_no_average() {
    let mut ps = five_positions(5.0, 1.0, 1.0);
    ps[0].1.rate_s_per_day = None;
    assert_eq!(average(&ps, 100.0).unwrap().positions_used, 4);
    for (_, m) in &mut ps {
        m.rate_s_per_day = None;
    }
    assert!(average(&ps, 100.0).is_none());
}
