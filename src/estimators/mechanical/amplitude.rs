//! The amplitude from the window readings, its uncertainty, its plausibility and its check
//! against the average of every beat.
use super::*;

/// The amplitude's standard uncertainty from [`ONSET_RESOLUTION_SAMPLES`] on each of its two
/// onsets, at the unlock-to-drop time read (`amp_of` turns one into degrees).
pub(super) fn onset_u_deg(r: &SideReadings, amp_of: impl Fn(f64) -> f64) -> f64 {
    let n = r.ut.iter().map(Vec::len).sum::<usize>();
    if n == 0 {
        return 0.0;
    }
    let ut = r.ut.iter().flatten().sum::<f64>() / n as f64;
    let d = ONSET_RESOLUTION_SAMPLES;
    let u = std::f64::consts::SQRT_2 * 0.5 * (amp_of(ut - d) - amp_of(ut + d)).abs();
    if u.is_finite() {
        u
    } else {
        0.0
    }
}

/// Amplitude (mean, tic, toc) from the window readings, or why it is not given.
#[allow(clippy::type_complexity)]
pub(super) fn amplitude_of(
    r: &SideReadings,
    onset_deg: f64,
) -> (Option<Figure>, Option<Figure>, Option<Figure>, Option<String>) {
    let (Some(m), Some(a0), Some(a1)) = (trimmed(&r.amp_mean.v), trimmed(&r.amp[0].v), trimmed(&r.amp[1].v))
    else {
        let why = if r.amp_mean.v.is_empty() {
            "amplitude not measured: no drop sound found after the unlock within the physical range of amplitudes"
                .to_string()
        } else {
            format!(
                "amplitude not measured: a drop was found in only {} stretches of the recording (at least {MIN_WINDOWS} needed); record longer",
                r.amp_mean.v.len()
            )
        };
        return (None, None, None, Some(why));
    };
    if !(AMPLITUDE_RANGE_DEG.0..=AMPLITUDE_RANGE_DEG.1).contains(&m.mean) {
        return (
            None,
            None,
            None,
            Some(format!(
                "amplitude not measured: the sounds read {:.0} deg, outside what a balance swings ({:.0}..{:.0} deg); \
                 the unlock or the drop was not heard as such",
                m.mean, AMPLITUDE_RANGE_DEG.0, AMPLITUDE_RANGE_DEG.1
            )),
        );
    }
    // Both sides cross the same lift angle in the same time, so the tic and toc amplitudes
    // differ only by how well their onsets are read: half their difference is what one misread
    // onset does to the mean.
    let d = 0.5 * (a0.mean - a1.mean).abs();
    let sys = 1.96 * SIDE_DISAGREEMENT_K * d;
    // How far each figure moves between the onset rules, the same in every window.
    let fig = |t: &Trimmed, sys: f64, s: &Series| {
        Figure::new(
            t.mean,
            t.u95().hypot(sys).hypot(1.96 * s.rule_u()).hypot(1.96 * onset_deg).max(AMPLITUDE_RESOLUTION_DEG),
        )
    };
    let mean = fig(&m, sys, &r.amp_mean);
    let widest = (AMPLITUDE_RANGE_DEG.1 - AMPLITUDE_RANGE_DEG.0) / 4.0;
    if mean.u95 > widest {
        return (
            None,
            None,
            None,
            Some(format!(
                "amplitude not measured: the stretches of the recording disagree (about {:.0} +- {:.0} deg, \
                 wider than a quarter of what a balance can swing); record longer, or with the watch closer",
                mean.value, mean.u95
            )),
        );
    }
    (Some(mean), Some(fig(&a0, 2.0 * sys, &r.amp[0])), Some(fig(&a1, 2.0 * sys, &r.amp[1])), None)
}

/// The amplitude of the windows checked against the one read on the average of every beat of
/// the recording (`whole_deg`), whose unlock stands clearer of the noise: where a faint unlock
/// sinks under the noise of the windows' shorter averages, the next sound of the beat is read
/// in its place and every window agrees on the wrong figure. When the two readings differ by
/// more than the windows' u95, their difference is a systematic the u95 did not hold: it is
/// added to it, and a note says so.
pub(super) fn checked_against_whole(
    amp: Option<Figure>,
    note: Option<String>,
    whole_deg: Option<f64>,
) -> (Option<Figure>, Option<String>) {
    let (Some(a), Some(w)) = (amp, whole_deg) else { return (amp, note) };
    let diff = (w - a.value).abs();
    if !w.is_finite() || diff <= a.u95 {
        return (amp, note);
    }
    let why = format!(
        "the average of every beat reads {w:.0} deg, {diff:.0} deg from the stretches' {:.0}: the difference is in the u95",
        a.value
    );
    let note = Some(match note {
        Some(n) => format!("{n}; {why}"),
        None => why,
    });
    (Some(Figure { value: a.value, u95: a.u95 + diff }), note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(amp: &[(f64, f64)]) -> SideReadings {
        let mut r = SideReadings::default();
        for &(a0, a1) in amp {
            r.amp[0].push([a0; events::RULES]);
            r.amp[1].push([a1; events::RULES]);
            r.amp_mean.push([0.5 * (a0 + a1); events::RULES]);
        }
        r
    }

    #[test]
    fn one_misread_window_in_five_does_not_move_the_amplitude() {
        let r = readings(&[(250.0, 250.0), (251.0, 249.0), (249.0, 251.0), (250.5, 249.5), (340.0, 340.0)]);
        let (a, ..) = amplitude_of(&r, 0.0);
        let a = a.expect("measured");
        assert!((a.value - 250.0).abs() < 0.5 && a.u95 < 5.0, "{a:?}");
    }

    #[test]
    fn an_amplitude_the_windows_disagree_on_is_not_given() {
        let r = readings(&[(120.0, 120.0), (340.0, 340.0), (200.0, 200.0), (300.0, 300.0), (150.0, 150.0)]);
        let (a, tic, toc, note) = amplitude_of(&r, 0.0);
        assert!(a.is_none() && tic.is_none() && toc.is_none());
        assert!(note.unwrap().contains("disagree"));
    }

    #[test]
    fn a_whole_recording_reading_within_the_u95_leaves_the_amplitude_as_it_is() {
        let a = Some(Figure { value: 250.0, u95: 3.0 });
        assert_eq!(checked_against_whole(a, None, Some(252.0)), (a, None));
        assert_eq!(checked_against_whole(a, None, None), (a, None));
    }

    #[test]
    fn a_whole_recording_reading_beyond_the_u95_widens_it_and_says_so() {
        let a = Some(Figure { value: 285.0, u95: 6.0 });
        let (w, note) = checked_against_whole(a, Some("tic and toc".into()), Some(273.0));
        assert_eq!(w, Some(Figure { value: 285.0, u95: 18.0 }));
        let note = note.unwrap();
        assert!(note.starts_with("tic and toc; ") && note.contains("273 deg"), "{note}");
    }

    #[test]
    fn an_impossible_amplitude_is_not_given() {
        let r = readings(&[(460.0, 460.0); 5]);
        let (a, .., note) = amplitude_of(&r, 0.0);
        assert!(a.is_none() && note.unwrap().contains("outside what a balance swings"));
    }
}
