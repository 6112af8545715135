//! Harsh rooms, built outside the synthesiser: the dry `classic` watch is rendered, then
//! convolved here with a room impulse response of this test's own making (the direct sound, 2-8
//! early reflections 0.3-8 ms late at 0.3-0.9 of its level, and a diffuse tail decaying
//! exponentially, RT60 0.1-0.5 s), and a little white noise is added. An early reflection of the
//! drop can be a sharper attack than the drop itself; the amplitude must then not be printed
//! with a u95 that misses the truth. Per room: the beat rate right, the rate within its u95,
//! and the beat error and amplitude either withheld or within theirs.
mod harness;

use harness::rooms::{recording, ROOMS};
use harness::{analyze, fig, lift};
use tickproof::measurement::Measurement;
use tickproof::synth::Truth;

/// What is wrong with the analysis `m` of a watch whose truth is `t` (empty when nothing is).
fn faults(m: &Measurement, t: &Truth) -> Vec<String> {
    let mut bad = Vec::new();
    if m.bph != t.bph {
        bad.push(format!("bph {:?} for {:?}", m.bph, t.bph));
    }
    let covers =
        |name: &str, f: Option<tickproof::measurement::Figure>, truth: Option<f64>, must: bool| match (
            f, truth,
        ) {
            (Some(f), Some(x)) if (f.value - x).abs() > f.u95 => {
                Some(format!("{name} {:.3}±{:.3} misses {x:.3}", f.value, f.u95))
            }
            (None, _) if must => Some(format!("{name} withheld")),
            _ => None,
        };
    let amp_truth = t.amplitude_by_convention_deg.or(t.amplitude_deg);
    bad.extend(covers("rate", m.rate_s_per_day, t.rate_s_per_day, true));
    bad.extend(covers("beat error", m.beat_error_ms, t.beat_error_ms, false));
    bad.extend(covers("amplitude", m.amplitude_deg, amp_truth, false));
    bad
}

#[test]
#[ignore = "8 of 22 rooms fail today (6 amplitudes misread with a narrow u95, 2 beat errors, 1 rate by 0.001 s/day); the echo test on branch rooms-echo-wip fixes the amplitudes but regresses the Seiko recording"]
fn harsh_rooms_never_print_a_figure_whose_u95_misses_the_truth() {
    let rooms: Vec<u64> = (0..ROOMS).collect();
    let run = |k: &u64| {
        let (audio, truth, desc) = recording(*k);
        let m = analyze(&audio, &lift(truth.lift_angle_deg.expect("watch")));
        (*k, truth, desc, m)
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let (a, b) = rooms.split_at(rooms.len() / 2);
        let h = s.spawn(move || a.iter().map(run).collect::<Vec<_>>());
        let mut r: Vec<_> = b.iter().map(run).collect();
        r.extend(h.join().expect("worker"));
        r.sort_by_key(|x| x.0);
        r
    });
    let mut failed = Vec::new();
    let mut withheld = 0;
    for (k, truth, desc, m) in &results {
        let amp_truth = truth.amplitude_by_convention_deg.or(truth.amplitude_deg).unwrap_or(f64::NAN);
        let line = match m {
            Err(e) => format!("room {k:2} ERROR {e}"),
            Ok(m) => {
                let bad = faults(m, truth);
                withheld += usize::from(m.amplitude_deg.is_none());
                let mut status = if bad.is_empty() { "ok".to_string() } else { bad.join("; ") };
                if let Some(note) = m.mechanical.as_ref().and_then(|x| x.amplitude_note.as_ref()) {
                    status = format!("{status} ({})", note.chars().take(60).collect::<String>());
                }
                format!(
                    "room {k:2} rate {:>16} be {:>14} amp {:>16} truth {amp_truth:5.1}  {status}  [{desc}]",
                    fig(m.rate_s_per_day),
                    fig(m.beat_error_ms),
                    fig(m.amplitude_deg),
                )
            }
        };
        println!("{line}");
        if m.as_ref().map_or(true, |m| !faults(m, truth).is_empty()) {
            failed.push(*k);
        }
    }
    println!("{} of {ROOMS} rooms fail; amplitude withheld in {withheld}", failed.len());
    assert!(failed.is_empty(), "rooms {failed:?} fail (table above)");
    assert!(withheld <= ROOMS as usize / 2, "the amplitude is withheld in {withheld} of {ROOMS} rooms");
}
