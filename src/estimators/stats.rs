//! Small statistics: Student's t quantile, the jackknife, the AR(1) variance inflation.

/// The two-sided 95% quantile of Student's t with `dof` degrees of freedom (`t_{0.975}`).
pub fn t95(dof: usize) -> f64 {
    const TABLE: [f64; 10] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];
    match dof {
        0 => f64::INFINITY,
        1..=10 => TABLE[dof - 1],
        _ => {
            // Cornish-Fisher expansion around the normal quantile; < 1e-3 off from dof 11 on.
            let z: f64 = 1.959_963_985;
            let v = dof as f64;
            z + (z.powi(3) + z) / (4.0 * v)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * v.powi(3))
        }
    }
}

/// The delete-one jackknife standard error of an estimate from its `G` replicates (each computed
/// with one group left out).
pub fn jackknife_se(replicates: &[f64]) -> f64 {
    let g = replicates.len();
    if g < 2 {
        return f64::NAN;
    }
    let mean = replicates.iter().sum::<f64>() / g as f64;
    let ss: f64 = replicates.iter().map(|r| (r - mean) * (r - mean)).sum();
    ((g as f64 - 1.0) / g as f64 * ss).sqrt()
}

/// Variance inflation of a mean or slope from residuals with lag-1 autocorrelation `rho`
/// (an AR(1) model): `(1 + rho) / (1 - rho)`, never below 1 and capped for `rho` near 1.
pub fn ar1_inflation(rho: f64) -> f64 {
    let r = rho.clamp(0.0, 0.9);
    (1.0 + r) / (1.0 - r)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn t95_matches_tables() {
        assert!((t95(1) - 12.706).abs() < 1e-3);
        assert!((t95(20) - 2.086).abs() < 2e-3);
        assert!((t95(60) - 2.000).abs() < 2e-3);
        assert!((t95(10_000) - 1.960).abs() < 1e-3);
    }
    #[test]
    fn jackknife_of_a_mean_is_its_standard_error() {
        let x = [1.0, 2.0, 4.0, 7.0, 11.0];
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let reps: Vec<f64> = (0..x.len()).map(|i| (x.iter().sum::<f64>() - x[i]) / (n - 1.0)).collect();
        assert!((jackknife_se(&reps) - sd / n.sqrt()).abs() < 1e-12);
    }
}
