//! The live streaming analyser against synthetic recordings with known truth: first reading,
//! agreement with the offline analysis, restarts on a change instead of averaging, the sliding
//! window, and a watch taken away.
use tickproof::live::{LiveConfig, LiveSession, Reading, RestartReason, Status};
use tickproof::measurement::{analyze_source, AnalysisConfig, Kind};
use tickproof::source::BlockSource;
use tickproof::synth::{MechanicalParams, Synth};

fn watch(rate: f64, be: f64, amp: f64, seconds: f64, seed: u64) -> MechanicalParams {
    MechanicalParams {
        bph: 28800,
        rate_s_per_day: rate,
        beat_error_ms: be,
        amplitude_deg: amp,
        duration_s: seconds,
        snr_db: Some(20.0),
        seed,
        ..Default::default()
    }
}

/// All samples of a synthetic recording.
fn samples(p: &MechanicalParams) -> Vec<f32> {
    let mut s = Synth::mechanical(p).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; 4800];
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Feeds `x` in 10 ms blocks (a sound card's period); returns every reading.
fn run(session: &mut LiveSession, x: &[f32]) -> Vec<Reading> {
    x.chunks(480).filter_map(|b| session.push(b)).collect()
}

#[test]
fn live_readings_after_10_s_agree_with_the_offline_analysis_and_the_truth() {
    let p = watch(8.0, 0.4, 250.0, 20.0, 11);
    let x = samples(&p);
    let mut s = LiveSession::new(48_000, LiveConfig::default());
    let readings = run(&mut s, &x);
    let last = readings.last().unwrap();
    assert_eq!(last.status, Status::Measuring, "{last:?}");
    assert!(readings.iter().all(|r| r.restarted.is_none()), "no restart on a steady watch");
    let off = analyze_source(Box::new(Synth::mechanical(&p).unwrap()), &AnalysisConfig::default()).unwrap();
    assert_eq!(off.kind, Kind::Mechanical);
    for r in readings.iter().filter(|r| r.elapsed_s >= 10.0) {
        assert_eq!(r.bph, Some(28800));
        let (lr, or) = (r.rate_s_per_day.unwrap(), off.rate_s_per_day.unwrap());
        assert!((lr.value - or.value).abs() <= lr.u95, "rate live {lr:?} offline {or:?}");
        let (lb, ob) = (r.beat_error_ms.unwrap(), off.beat_error_ms.unwrap());
        assert!((lb.value - ob.value).abs() <= lb.u95, "beat error live {lb:?} offline {ob:?}");
        let (la, oa) = (r.amplitude_deg.unwrap(), off.amplitude_deg.unwrap());
        assert!((la.value - oa.value).abs() <= la.u95.max(oa.u95), "amplitude live {la:?} offline {oa:?}");
    }
    let t = Synth::mechanical(&p).unwrap().truth();
    let r = last.rate_s_per_day.unwrap();
    assert!(r.covers(t.rate_s_per_day.unwrap()), "{r:?} vs {:?}", t.rate_s_per_day);
    // u95 shrinks as the window grows.
    let at = |s: f64| readings.iter().find(|r| r.elapsed_s >= s).unwrap().rate_s_per_day.unwrap().u95;
    assert!(at(19.0) < at(6.0), "u95 at 6 s {} at 19 s {}", at(6.0), at(19.0));
}

#[test]
fn first_reading_comes_within_3_s_of_ticks_arriving() {
    for (lead_s, seed) in [(0.0, 3), (3.7, 4), (5.2, 5)] {
        let mut x = vec![0.0f32; (lead_s * 48_000.0) as usize];
        x.extend(samples(&watch(-5.0, 0.2, 280.0, 8.0, seed)));
        let mut s = LiveSession::new(48_000, LiveConfig::default());
        let readings = run(&mut s, &x);
        assert!(readings.iter().filter(|r| r.elapsed_s < lead_s).all(|r| r.status == Status::Listening));
        let first = readings.iter().find(|r| r.status == Status::Measuring).expect("a reading");
        assert!(
            first.elapsed_s - lead_s <= 3.05,
            "first reading {:.2} s after the ticks",
            first.elapsed_s - lead_s
        );
        // Readings at least every second.
        for w in readings.windows(2) {
            assert!(w[1].elapsed_s - w[0].elapsed_s <= 1.0 + 1e-9);
        }
    }
}

#[test]
fn a_change_of_watch_restarts_instead_of_averaging_two_states() {
    let a = samples(&watch(12.0, 0.3, 270.0, 30.0, 21));
    let b_params = watch(-25.0, 0.8, 220.0, 30.0, 22);
    let b = samples(&b_params);
    let mut x = a;
    x.extend_from_slice(&b);
    let mut s = LiveSession::new(48_000, LiveConfig::default());
    let readings = run(&mut s, &x);
    let restart = readings
        .iter()
        .filter(|r| r.elapsed_s > 30.0)
        .find_map(|r| r.restarted.clone())
        .expect("the change is noticed");
    assert!(matches!(restart.reason, RestartReason::RateChange | RestartReason::SignalLost), "{restart:?}");
    assert!(restart.at_s < 42.0, "noticed at {:.1} s", restart.at_s);
    assert!(readings.iter().filter(|r| r.elapsed_s <= 30.0).all(|r| r.restarted.is_none()));
    let last = readings.last().unwrap();
    let truth = Synth::mechanical(&b_params).unwrap().truth().rate_s_per_day.unwrap();
    let r = last.rate_s_per_day.unwrap();
    assert!(r.covers(truth), "after the change {r:?} vs truth {truth}");
    assert!(last.window_s < 30.0, "only the second watch is behind the figures");
}

#[test]
fn a_watch_taken_away_is_noticed_within_a_few_seconds() {
    let mut x = samples(&watch(3.0, 0.2, 260.0, 15.0, 31));
    x.extend(std::iter::repeat_n(0.0f32, 48_000 * 6));
    let mut s = LiveSession::new(48_000, LiveConfig::default());
    let readings = run(&mut s, &x);
    let r = readings.iter().find(|r| r.restarted.is_some()).expect("noticed");
    assert_eq!(r.restarted.as_ref().unwrap().reason, RestartReason::SignalLost);
    assert!(r.elapsed_s <= 15.0 + 3.5, "noticed at {:.1} s", r.elapsed_s);
    let last = readings.last().unwrap();
    assert_eq!(last.status, Status::Listening);
    assert!(last.rate_s_per_day.is_none(), "no invented figures over silence");
}

#[test]
fn the_window_slides_and_the_state_stays_bounded() {
    let p = watch(6.0, 0.5, 240.0, 130.0, 41);
    let x = samples(&p);
    let cfg = LiveConfig { window_s: 40.0, ..Default::default() };
    let mut s = LiveSession::new(48_000, cfg);
    let mut max_alive = 0;
    let mut readings = vec![];
    for b in x.chunks(480) {
        if let Some(r) = s.push(b) {
            readings.push(r);
        }
        max_alive = max_alive.max(s.analysers_alive());
    }
    let slides = readings
        .iter()
        .filter(|r| r.restarted.as_ref().is_some_and(|x| x.reason == RestartReason::Window))
        .count();
    assert!(slides >= 2, "{slides} slides");
    assert!(readings.iter().all(|r| r.restarted.as_ref().is_none_or(|x| x.reason == RestartReason::Window)));
    assert!(readings.iter().all(|r| r.window_s <= 41.0));
    assert!(
        readings.iter().filter(|r| r.elapsed_s > 25.0).all(|r| r.window_s >= 19.0),
        "at least half a window"
    );
    assert!(max_alive <= 2 + tickproof::live::session::MAX_CANDIDATES);
    let truth = Synth::mechanical(&p).unwrap().truth().rate_s_per_day.unwrap();
    let hits =
        readings.iter().filter(|r| r.elapsed_s > 10.0 && r.rate_s_per_day.unwrap().covers(truth)).count();
    let n = readings.iter().filter(|r| r.elapsed_s > 10.0).count();
    assert!(hits as f64 >= 0.8 * n as f64, "{hits}/{n} readings cover the truth");
}

#[test]
fn lift_angle_changes_rescale_the_amplitude_at_once() {
    let x = samples(&watch(0.0, 0.2, 280.0, 8.0, 51));
    let mut s = LiveSession::new(48_000, LiveConfig::default());
    let r1 = run(&mut s, &x[..48_000 * 6]).pop().unwrap();
    s.set_lift_angle(26.0);
    let r2 = run(&mut s, &x[48_000 * 6..]).pop().unwrap();
    let (a1, a2) = (r1.amplitude_deg.unwrap().value, r2.amplitude_deg.unwrap().value);
    assert!((a2 / a1 - 0.5).abs() < 0.02, "{a1} -> {a2}");
    assert_eq!(r2.lift_angle_deg, 26.0);
    assert!(r2.restarted.is_none());
}

#[test]
fn noise_alone_never_gives_figures() {
    let mut rng = 12345u64;
    let x: Vec<f32> = (0..48_000 * 10)
        .map(|_| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
        })
        .collect();
    let mut s = LiveSession::new(48_000, LiveConfig::default());
    let readings = run(&mut s, &x);
    assert!(readings.len() >= 9);
    assert!(readings.iter().all(|r| r.status == Status::Listening && r.rate_s_per_day.is_none()));
}
