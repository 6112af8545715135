use super::matching::refine_peak;
use super::*;

/// The Newton refinement must agree with a brute-force evaluation of the interpolated
/// correlation (naive reference for the fast path).
#[test]
fn refined_peak_matches_naive_interpolation() {
    let n = 256;
    let mut planner = RealFftPlanner::<f64>::new();
    let r2c = planner.plan_fft_forward(n);
    let pulse = |t: f64| if t < 0.0 { 0.0 } else { (-t / 6.0).exp() * (0.9 * t).sin() * (1.0 - (-t).exp()) };
    let shift = 3.37;
    let mut a: Vec<f64> = (0..n).map(|k| pulse(k as f64 - 60.0)).collect();
    let mut b: Vec<f64> = (0..n).map(|k| pulse(k as f64 - 60.0 - shift)).collect();
    let mut fa = r2c.make_output_vec();
    let mut fb = r2c.make_output_vec();
    r2c.process(&mut a, &mut fa).unwrap();
    r2c.process(&mut b, &mut fb).unwrap();
    let cross: Vec<Complex<f64>> = fb.iter().zip(&fa).map(|(x, y)| x * y.conj()).collect();
    let (t, v) = refine_peak(&cross, n, 3.0);
    // Naive: the same band-limited interpolation summed bin by bin on a fine grid.
    let naive = |tau: f64| -> f64 {
        let mut r = cross[0].re + cross[n / 2].re * (std::f64::consts::PI * tau).cos();
        for (k, c) in cross.iter().enumerate().take(n / 2).skip(1) {
            let w = 2.0 * std::f64::consts::PI * k as f64 / n as f64;
            r += 2.0 * (c.re * (w * tau).cos() - c.im * (w * tau).sin());
        }
        r / n as f64
    };
    let (mut bt, mut bv) = (0.0, f64::NEG_INFINITY);
    for i in 0..20_001 {
        let tau = 2.5 + i as f64 * 1e-4;
        let r = naive(tau);
        if r > bv {
            bt = tau;
            bv = r;
        }
    }
    assert!((t - bt).abs() < 2e-4, "Newton {t}, grid {bt}");
    assert!((v - bv).abs() < 1e-9 * bv.abs());
    assert!((t - shift).abs() < 0.01, "refined lag {t}, true {shift}");
}

#[test]
fn median_of_even_and_odd_lengths() {
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
}

#[test]
fn normal_equations_solve_a_line() {
    let mut ne = Normal::new(2);
    for i in 0..10 {
        ne.add(&[1.0, i as f64, 0.0, 0.0], 2.0 + 0.5 * i as f64);
    }
    let (b, _) = ne.solve().unwrap();
    assert!((b[0] - 2.0).abs() < 1e-12 && (b[1] - 0.5).abs() < 1e-12);
}
