//! Rooms built outside the synthesiser: the dry `classic` watch is rendered, then convolved
//! with a room impulse response of the harness's own making (`harness::rooms`: the direct
//! sound, 2-8 early reflections up to 8 ms late, a diffuse tail decaying exponentially, RT60
//! 0.1-0.5 s), and a little white noise is added.
//!
//! * Heard from a microphone 3-30 cm from the watch, a reflection loses level with the distance
//!   it travels. Every figure must then be read as on a dry recording: the beat rate right, the
//!   rate always within its u95, the beat error and amplitude within theirs as often as a 95%
//!   u95 allows, and never far outside.
//! * In a harsh room the reflections are as loud as the direct sound whatever their delay, and
//!   an early reflection of the drop can be a sharper attack than the drop itself; the beat
//!   error and amplitude must then be withheld or within their u95 (ignored: fails today).
mod harness;

use harness::rooms::{recording, Room, ROOMS};
use harness::{analyze, fig, lift};
use tickproof::measurement::{Figure, Measurement};
use tickproof::synth::Truth;

/// A figure whose u95 misses the truth: its name and by how many u95 it is off.
struct Miss {
    figure: &'static str,
    u95s_off: f64,
    text: String,
}

impl Miss {
    /// A figure wrong or absent outright (a wrong bph, a withheld rate, a failed analysis).
    fn outright(figure: &'static str, text: String) -> Self {
        Miss { figure, u95s_off: f64::INFINITY, text }
    }
}

/// What the analysis `m` of a watch whose truth is `t` gets wrong: a wrong bph or a withheld
/// rate (as an infinite miss), and every figure whose u95 misses the truth.
fn misses(m: &Measurement, t: &Truth) -> Vec<Miss> {
    let mut bad = Vec::new();
    if m.bph != t.bph {
        bad.push(Miss::outright("bph", format!("bph {:?} for {:?}", m.bph, t.bph)));
    }
    let mut check = |figure: &'static str, f: Option<Figure>, truth: Option<f64>, must: bool| match (f, truth)
    {
        (Some(f), Some(x)) if (f.value - x).abs() > f.u95 => bad.push(Miss {
            figure,
            u95s_off: (f.value - x).abs() / f.u95,
            text: format!("{figure} {:.3}±{:.3} misses {x:.3}", f.value, f.u95),
        }),
        (None, _) if must => bad.push(Miss::outright(figure, format!("{figure} withheld"))),
        _ => {}
    };
    check("rate", m.rate_s_per_day, t.rate_s_per_day, true);
    check("beat error", m.beat_error_ms, t.beat_error_ms, false);
    check("amplitude", m.amplitude_deg, t.amplitude_by_convention_deg.or(t.amplitude_deg), false);
    bad
}

/// Every room of `kind` analysed (two threads), a line printed per room: per room its misses,
/// and in how many rooms the amplitude was withheld.
fn run_rooms(kind: Room) -> (Vec<(u64, Vec<Miss>)>, usize) {
    let rooms: Vec<u64> = (0..ROOMS).collect();
    let run = |k: &u64| {
        let (audio, truth, desc) = recording(*k, kind);
        let m = analyze(&audio, &lift(truth.lift_angle_deg.expect("watch")));
        (*k, truth, desc, m)
    };
    let mut results: Vec<_> = std::thread::scope(|s| {
        let (a, b) = rooms.split_at(rooms.len() / 2);
        let h = s.spawn(move || a.iter().map(run).collect::<Vec<_>>());
        let mut r: Vec<_> = b.iter().map(run).collect();
        r.extend(h.join().expect("worker"));
        r
    });
    results.sort_by_key(|x| x.0);
    let mut withheld = 0;
    let mut out = Vec::new();
    for (k, truth, desc, m) in &results {
        let amp_truth = truth.amplitude_by_convention_deg.or(truth.amplitude_deg).unwrap_or(f64::NAN);
        let bad = match m {
            Err(e) => {
                println!("room {k:2} ERROR {e}");
                vec![Miss::outright("analysis", e.clone())]
            }
            Ok(m) => {
                let bad = misses(m, truth);
                withheld += usize::from(m.amplitude_deg.is_none());
                let mut status = if bad.is_empty() {
                    "ok".to_string()
                } else {
                    bad.iter().map(|b| b.text.as_str()).collect::<Vec<_>>().join("; ")
                };
                if let Some(note) = m.mechanical.as_ref().and_then(|x| x.amplitude_note.as_ref()) {
                    status = format!("{status} ({})", note.chars().take(60).collect::<String>());
                }
                println!(
                    "room {k:2} rate {:>16} be {:>14} amp {:>16} truth {amp_truth:5.1}  {status}  [{desc}]",
                    fig(m.rate_s_per_day),
                    fig(m.beat_error_ms),
                    fig(m.amplitude_deg),
                );
                bad
            }
        };
        out.push((*k, bad));
    }
    let failing = out.iter().filter(|(_, b)| !b.is_empty()).count();
    println!("{kind:?}: {failing} of {ROOMS} rooms miss a figure; amplitude withheld in {withheld}");
    (out, withheld)
}

#[test]
#[ignore = "8 of 22 rooms fail today (6 amplitudes misread with a narrow u95, 2 beat errors, 1 rate by 0.001 s/day): where the reflections together are as loud as the drop, the loudest attack after the unlock is a reflection (see README, limits)"]
fn harsh_rooms_never_print_a_figure_whose_u95_misses_the_truth() {
    let (rooms, withheld) = run_rooms(Room::Harsh);
    let failed: Vec<u64> = rooms.iter().filter(|(_, b)| !b.is_empty()).map(|(k, _)| *k).collect();
    assert!(failed.is_empty(), "rooms {failed:?} fail (table above)");
    assert!(withheld <= ROOMS as usize / 2, "the amplitude is withheld in {withheld} of {ROOMS} rooms");
}

/// A 95% u95 misses in 1.1 of 22 rooms on average, and in 3 or fewer with 98% probability
/// (binomial); one that covered only 70% would pass with 7% probability, 60% with under 1%.
const MOST_MISSES_PER_FIGURE: usize = 3;

/// A miss further out than this many u95 is not the tail of an honest u95 (a normal error
/// lies beyond twice its 95% bound once in 10,000) but a misread.
const MOST_U95S_OFF: f64 = 2.0;

#[test]
fn rooms_heard_from_a_microphone_near_the_watch_read_every_figure_within_its_u95() {
    let (rooms, withheld) = run_rooms(Room::NearMicrophone);
    let all: Vec<(u64, &Miss)> = rooms.iter().flat_map(|(k, b)| b.iter().map(move |m| (*k, m))).collect();
    let gross: Vec<_> =
        all.iter().filter(|(_, m)| m.u95s_off > MOST_U95S_OFF).map(|(k, m)| (k, &m.text)).collect();
    assert!(gross.is_empty(), "misreads (table above): {gross:?}");
    for figure in ["rate", "beat error", "amplitude"] {
        let n = all.iter().filter(|(_, m)| m.figure == figure).count();
        assert!(n <= MOST_MISSES_PER_FIGURE, "the {figure}'s u95 misses in {n} of {ROOMS} rooms");
    }
    assert_eq!(all.iter().filter(|(_, m)| m.figure == "rate").count(), 0, "a rate misses its u95");
    assert!(withheld <= ROOMS as usize / 4, "the amplitude is withheld in {withheld} of {ROOMS} rooms");
}
