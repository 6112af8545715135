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

/// The amplitude figures, why they are not given, and the unlock-to-drop time per side
/// (samples) they were read from.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Amplitudes {
    /// Mean of the two sides.
    pub(super) mean: Option<Figure>,
    /// Tic (side 0) and toc.
    pub(super) sides: [Option<Figure>; 2],
    /// Why a figure is not given, or what was done to it.
    pub(super) note: Option<String>,
    /// Unlock-to-drop time per side, samples.
    pub(super) ut: Option<[f64; 2]>,
}

impl Amplitudes {
    fn withheld(why: String) -> Self {
        Amplitudes { note: Some(why), ..Amplitudes::default() }
    }
}

/// Why an amplitude reading `mean` cannot be printed: outside what a balance swings, or so
/// unsure that it says nothing.
fn implausible(mean: &Figure) -> Option<String> {
    if !(AMPLITUDE_RANGE_DEG.0..=AMPLITUDE_RANGE_DEG.1).contains(&mean.value) {
        return Some(format!(
            "amplitude not measured: the sounds read {:.0} deg, outside what a balance swings ({:.0}..{:.0} deg); \
             the unlock or the drop was not heard as such",
            mean.value, AMPLITUDE_RANGE_DEG.0, AMPLITUDE_RANGE_DEG.1
        ));
    }
    let widest = (AMPLITUDE_RANGE_DEG.1 - AMPLITUDE_RANGE_DEG.0) / 4.0;
    (mean.u95 > widest).then(|| {
        format!(
            "amplitude not measured: the readings disagree (about {:.0} +- {:.0} deg, \
             wider than a quarter of what a balance can swing); record longer, or with the watch closer",
            mean.value, mean.u95
        )
    })
}

/// Amplitude (mean, tic, toc) from the window readings, or why it is not given.
pub(super) fn amplitude_of(r: &SideReadings, onset_deg: f64) -> Amplitudes {
    let (Some(m), Some(a0), Some(a1)) = (trimmed(&r.amp_mean.v), trimmed(&r.amp[0].v), trimmed(&r.amp[1].v))
    else {
        return Amplitudes::withheld(if r.amp_mean.v.is_empty() {
            "amplitude not measured: no drop sound found after the unlock within the physical range of amplitudes"
                .to_string()
        } else {
            format!(
                "amplitude not measured: a drop was found in only {} stretches of the recording (at least {MIN_WINDOWS} needed); record longer",
                r.amp_mean.v.len()
            )
        });
    };
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
    if let Some(why) = implausible(&mean) {
        return Amplitudes::withheld(why);
    }
    let ut = match (trimmed(&r.ut[0]), trimmed(&r.ut[1])) {
        (Some(a), Some(b)) => Some([a.mean, b.mean]),
        _ => None,
    };
    Amplitudes {
        mean: Some(mean),
        sides: [Some(fig(&a0, 2.0 * sys, &r.amp[0])), Some(fig(&a1, 2.0 * sys, &r.amp[1]))],
        note: None,
        ut,
    }
}

/// The amplitude of the windows reconciled with the one read on the average of every beat of
/// the recording (`whole_deg`: its value; `whole`: its figures, where its jackknife could be
/// made), whose unlock stands clearer of the noise. Where a faint unlock sinks under the noise
/// of the windows' shorter averages, the next sound of the beat is read in its place and every
/// window agrees on the wrong figure.
///
/// * The two agree within their u95s: the windows' reading stands.
/// * They do not: the average of every beat is given, with a u95 no narrower than the
///   windows' (see the body), and a note says why.
/// * Without a jackknife of the average, a difference beyond the windows' u95 is added to it.
pub(super) fn reconciled_with_whole(
    windows: Amplitudes,
    whole_deg: Option<f64>,
    whole: Option<&WholeAmplitude>,
) -> Amplitudes {
    let (Some(a), Some(w)) = (windows.mean, whole_deg) else { return windows };
    let diff = (w - a.value).abs();
    let add = |note: &Option<String>, why: String| {
        Some(match note {
            Some(n) => format!("{n}; {why}"),
            None => why,
        })
    };
    match whole {
        Some(h) if diff > a.u95.hypot(h.figures[0].u95) => {
            // The jackknife holds what the noise of the beats does to the average's reading, not
            // how the sub-sample reading of an onset moves from one stretch to the next, which
            // the windows' scatter holds: the figure is no surer than the windows' reading.
            let floor =
                |f: Figure, w: Option<Figure>| Figure { u95: f.u95.max(w.map_or(0.0, |w| w.u95)), ..f };
            let mean = floor(h.figures[0], Some(a));
            let [tic, toc] = [floor(h.figures[1], windows.sides[0]), floor(h.figures[2], windows.sides[1])];
            if let Some(why) = implausible(&mean) {
                return Amplitudes::withheld(why);
            }
            let why = format!(
                "amplitude read on the average of every beat ({:.1} +- {:.1} deg): the 2 s stretches read \
                 {:.1} +- {:.1} deg, beyond both u95s, their shorter averages losing a sound of the beat in the noise",
                mean.value, mean.u95, a.value, a.u95
            );
            Amplitudes {
                mean: Some(mean),
                sides: [Some(tic), Some(toc)],
                note: add(&windows.note, why),
                ut: Some(h.ut),
            }
        }
        None if w.is_finite() && diff > a.u95 => {
            let mean = Figure { value: a.value, u95: a.u95 + diff };
            if implausible(&mean).is_some() {
                return Amplitudes::withheld(format!(
                    "amplitude not measured: the 2 s stretches read {:.0} +- {:.0} deg and the average of every beat \
                     {w:.0} deg, too far apart to say (a u95 of {:.0} deg is wider than a quarter of what a balance \
                     can swing); record with the watch closer",
                    a.value, a.u95, mean.u95
                ));
            }
            let why = format!(
                "the average of every beat reads {w:.0} deg, {diff:.0} deg from the stretches' {:.0}: the difference is in the u95",
                a.value
            );
            Amplitudes { mean: Some(mean), note: add(&windows.note, why), ..windows }
        }
        _ => windows,
    }
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
        let a = amplitude_of(&r, 0.0).mean.expect("measured");
        assert!((a.value - 250.0).abs() < 0.5 && a.u95 < 5.0, "{a:?}");
    }

    #[test]
    fn an_amplitude_the_windows_disagree_on_is_not_given() {
        let r = readings(&[(120.0, 120.0), (340.0, 340.0), (200.0, 200.0), (300.0, 300.0), (150.0, 150.0)]);
        let a = amplitude_of(&r, 0.0);
        assert!(a.mean.is_none() && a.sides == [None, None]);
        assert!(a.note.unwrap().contains("disagree"));
    }

    fn windows(value: f64, u95: f64, note: Option<&str>) -> Amplitudes {
        let f = Some(Figure { value, u95 });
        Amplitudes { mean: f, sides: [f, f], note: note.map(str::to_string), ut: Some([300.0, 300.0]) }
    }

    fn whole(value: f64, u95: f64) -> WholeAmplitude {
        WholeAmplitude { figures: [Figure { value, u95 }; 3], ut: [330.0, 331.0] }
    }

    #[test]
    fn a_whole_recording_reading_within_the_u95s_leaves_the_amplitude_as_it_is() {
        let w = windows(250.0, 3.0, None);
        assert_eq!(reconciled_with_whole(w.clone(), Some(252.0), None), w);
        assert_eq!(reconciled_with_whole(w.clone(), None, None), w);
        assert_eq!(reconciled_with_whole(w.clone(), Some(254.0), Some(&whole(254.0, 4.0))), w);
        assert_eq!(
            reconciled_with_whole(w.clone(), Some(251.0), Some(&whole(251.0, 0.5))),
            w,
            "even a narrower one"
        );
    }

    #[test]
    fn a_whole_recording_reading_beyond_the_u95s_is_given_no_narrower_than_the_windows_and_says_so() {
        let r = reconciled_with_whole(
            windows(285.0, 6.0, Some("tic and toc")),
            Some(271.0),
            Some(&whole(271.0, 3.0)),
        );
        assert_eq!(r.mean, Some(Figure { value: 271.0, u95: 6.0 }), "no narrower than the windows'");
        assert_eq!(r.ut, Some([330.0, 331.0]), "the times the figure was read from");
        let note = r.note.unwrap();
        assert!(note.starts_with("tic and toc; ") && note.contains("285.0 +- 6.0"), "{note}");
        let r = reconciled_with_whole(windows(285.0, 6.0, None), Some(271.0), Some(&whole(271.0, 7.0)));
        assert_eq!(r.mean, Some(Figure { value: 271.0, u95: 7.0 }));
    }

    #[test]
    fn without_a_jackknife_a_whole_recording_reading_beyond_the_u95_widens_it() {
        let r = reconciled_with_whole(windows(285.0, 6.0, None), Some(273.0), None);
        assert_eq!(r.mean, Some(Figure { value: 285.0, u95: 18.0 }));
        assert!(r.note.unwrap().contains("273 deg"));
    }

    #[test]
    fn a_whole_recording_reading_that_widens_the_u95_past_a_quarter_of_the_swing_withholds_it() {
        let r = reconciled_with_whole(windows(238.0, 11.0, None), Some(342.0), None);
        assert!(r.mean.is_none() && r.sides == [None, None], "{r:?}");
        let note = r.note.unwrap();
        assert!(note.contains("238 +- 11") && note.contains("342 deg") && note.contains("115"), "{note}");
    }

    #[test]
    fn an_implausible_whole_recording_reading_withholds_the_amplitude() {
        let r = reconciled_with_whole(windows(285.0, 6.0, None), Some(420.0), Some(&whole(420.0, 3.0)));
        assert!(r.mean.is_none() && r.note.unwrap().contains("outside what a balance swings"));
    }

    #[test]
    fn an_impossible_amplitude_is_not_given() {
        let r = readings(&[(460.0, 460.0); 5]);
        let a = amplitude_of(&r, 0.0);
        assert!(a.mean.is_none() && a.note.unwrap().contains("outside what a balance swings"));
    }
}
