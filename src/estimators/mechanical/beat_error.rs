//! The beat error from the window readings: unlock- and drop-based offsets combined, with the
//! systematic parts of its uncertainty.
use super::*;

/// Beat error from the window readings, or why it is not given.
pub(super) fn beat_error_of(
    r: &SideReadings,
    ms: impl Fn(f64) -> f64,
    floor_ms: f64,
    beat_period_ms: f64,
) -> (Option<Figure>, Option<String>) {
    let (Some(cu), cd) = (trimmed(&r.cu.v), trimmed(&r.cd.v)) else {
        return (
            None,
            Some(format!(
                "beat error not measured: fewer than {MIN_WINDOWS} stretches of steady beats to read it from; record longer"
            )),
        );
    };
    // In the escapement the unlocks and the drops alternate alike, so both read the same offset,
    // from different sounds: they are combined by their precision (the drop, louder, usually
    // counts more), and half their difference is a systematic part of the uncertainty that the
    // window-to-window scatter does not show. So is how far the offsets move between the onset
    // rules, weighted alike.
    // The weights count both: an offset read alike by every rule counts more than one that moves
    // with the rule, however steady each is from window to window.
    let (ru, rd) = (r.cu.rule_u(), r.cd.rule_u());
    let (c, rule_u) = match cd {
        Some(cd) => {
            let w = |t: &Trimmed, ru: f64| 1.0 / (t.se.powi(2) + ru.powi(2)).max(1e-18);
            let (wu, wd) = (w(&cu, ru), w(&cd, rd));
            let c = Trimmed {
                mean: (wu * cu.mean + wd * cd.mean) / (wu + wd),
                se: (wu * cu.se).hypot(wd * cd.se) / (wu + wd),
                dof: cu.dof.min(cd.dof),
            };
            (c, (wu * ru + wd * rd) / (wu + wd))
        }
        None => (cu, ru),
    };
    let disagree = cd.map_or(0.0, |d| ms((cu.mean - d.mean).abs()));
    if disagree > MAX_EVENT_DISAGREEMENT_MS {
        return (
            None,
            Some(format!(
                "beat error not measured: the unlocks and the drops give offsets {disagree:.2} ms apart \
                 (an escapement keeps them within {MAX_EVENT_DISAGREEMENT_MS} ms), so the beat's sounds are not read consistently"
            )),
        );
    }
    let value = ms(c.mean.abs());
    if value > 0.45 * beat_period_ms {
        return (
            None,
            Some(format!("beat error not measured: the tic and toc read {value:.1} ms apart from even, more than a beat allows")),
        );
    }
    let u = ms(c.u95())
        .hypot(1.96 * EVENT_DISAGREEMENT_K * 0.5 * disagree)
        .hypot(1.96 * ms(rule_u))
        .max(floor_ms);
    (Some(Figure::new(value, u)), None)
}
