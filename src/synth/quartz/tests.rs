use super::*;

fn mean_interval_over_periods(steps: &[SynthStep], per: usize) -> f64 {
    let k = (steps.len() - 1) / per * per;
    (steps[k].t_true_s - steps[0].t_true_s) / k as f64
}

#[test]
fn whole_inhibition_periods_give_exactly_the_requested_rate() {
    for (rate, per, ppm) in [(12.0, 10u32, 7.0), (-40.0, 60, 30.0), (0.0, 20, 1.0)] {
        let p = QuartzParams {
            duration_s: 250.0,
            rate_s_per_month: rate,
            inhibition_period_s: Some(per),
            inhibition_ppm: ppm,
            snr_db: 40.0,
            ..Default::default()
        };
        let s = QuartzSynth::new(&p).unwrap();
        let mean = mean_interval_over_periods(s.steps(), per as usize);
        let got = (1.0 / mean - 1.0) * SECONDS_PER_MONTH;
        assert!((got - rate).abs() < 1e-6, "rate {got} for {rate}");
    }
}

#[test]
fn rewind_replays_the_same_samples() {
    let p = QuartzParams { duration_s: 3.0, sample_rate_hz: 22_050, ..Default::default() };
    let mut s = QuartzSynth::new(&p).unwrap();
    let mut a = vec![0.0f32; 70_000];
    let mut b = vec![0.0f32; 70_000];
    let na = s.read_frames(&mut a).unwrap();
    s.rewind().unwrap();
    let nb = s.read_frames(&mut b).unwrap();
    assert_eq!(na, nb);
    assert_eq!(a, b);
}

#[test]
fn end_of_life_steps_come_in_bursts() {
    let p = QuartzParams { duration_s: 21.0, step_interval_s: 4, ..Default::default() };
    let s = QuartzSynth::new(&p).unwrap();
    let st = s.steps();
    assert!(st.len() >= 16);
    let gaps: Vec<f64> = st.windows(2).map(|w| w[1].t_true_s - w[0].t_true_s).collect();
    assert!(gaps.iter().filter(|&&g| (g - 0.04).abs() < 1e-3).count() >= 12);
    assert!(gaps.iter().all(|&g| (g - 0.04).abs() < 1e-3 || (g - 3.88).abs() < 1e-3));
}
