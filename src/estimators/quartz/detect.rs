//! Automatic kind detection: does a recording sound like a quartz motor?

use super::model::*;
use super::*;

/// Cheap check for automatic kind detection: times clicks in the first 30 s of one channel and
/// scores how much of what was heard is a motor stepping at whole seconds (1 s, or 2/4/5 s
/// bursts). `Some(confidence in 0.5..=1)` for a quartz watch, `None` otherwise (noise, speech,
/// music, a mechanical watch ticking several times a second). Rewinds the source afterwards.
pub fn looks_like_quartz(src: &mut dyn BlockSource, channel: u16) -> Result<Option<f64>, Error> {
    let cfg = ClickConfig { max_duration_s: Some(30.0), ..ClickConfig::default() };
    let train = clicks::time_clicks(src, channel, &cfg)?;
    src.rewind()?;
    Ok(quartz_score(&train))
}

/// The score of [`looks_like_quartz`] for a click train already timed.
pub fn quartz_score(train: &ClickTrain) -> Option<f64> {
    let mv = movements(train);
    let (s, burst) = step_interval(&mv)?;
    if !(1..=5).contains(&s) || mv.len() < 4 {
        return None;
    }
    // A burst holds as many steps as the interval has seconds.
    if burst != s as usize && !(s == 1 && burst == 1) {
        return None;
    }
    let mut n = Vec::with_capacity(mv.len());
    let mut acc = 0i64;
    for i in 0..mv.len() {
        if i > 0 {
            acc += s * ((mv[i].t_s - mv[i - 1].t_s) / s as f64).round().max(0.0) as i64;
        }
        n.push(acc);
    }
    let t: Vec<f64> = mv.iter().map(|v| v.t_s).collect();
    let cls: Vec<u8> = mv.iter().map(|v| v.class).collect();
    let mut used = Vec::new();
    let fit = fit_steps(&n, &t, &cls, &mut used)?;
    if fit.residual_rms_s > 0.003 || (fit.period_s.value - 1.0).abs() > 0.01 {
        return None;
    }
    let span = (n[mv.len() - 1] - n[0]) / s + 1;
    let coverage = fit.n_used as f64 / span.max(1) as f64;
    let clicks_on_grid: usize = (0..mv.len()).filter(|&i| used[i]).map(|i| mv[i].clicks).sum();
    let purity = clicks_on_grid as f64 / (train.clicks.len() as f64 + train.rejected as f64 * 0.5).max(1.0);
    let score = (coverage.min(1.0) * purity.min(1.0)).sqrt();
    (score >= 0.5 && fit.n_used >= 4).then_some(score)
}
