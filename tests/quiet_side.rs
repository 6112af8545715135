//! A watch whose toc the microphone hears much quieter than its tic (a contact pickup on one
//! side of the case, a watch lying on its crown): the same watch, the same reading.
//!
//! Every toc of a synthetic recording, from a third of a beat before its unlock to two thirds
//! after, is turned down by 10 or 20 dB, for each sound family at 28800 and 36000 bph. Before,
//! the timer judged every beat against the median of both sides, so a toc 10 dB under its tic
//! was a "quiet" beat and the beat error and amplitude were withheld; a toc 14-20 dB under was
//! read as half the beat rate, with a beat error of 0.000 ms and the amplitude of a wrong period.
mod harness;

use harness::{analyze, fig, lift, read_source, Audio};
use tickproof::measurement::Measurement;
use tickproof::synth::{MechanicalParams, Side, SoundFamily, Synth};

const LIFT_DEG: f64 = 52.0;

/// The recording of `p`, and the same with every toc `db` quieter.
fn recording(p: &MechanicalParams, db: f64) -> Audio {
    let mut s = Synth::mechanical(p).expect("valid parameters");
    let beats = s.beat_events(usize::MAX);
    let mut a = read_source(&mut s);
    let period_s = 3600.0 / p.bph as f64;
    let g = 10f32.powf(-db as f32 / 20.0);
    for b in beats.iter().filter(|b| b.side == Side::Toc) {
        let at = |t: f64| ((t * a.fs as f64).max(0.0) as usize).min(a.samples.len());
        let (from, to) = (at(b.unlock_rec_s - period_s / 3.0), at(b.unlock_rec_s + 2.0 * period_s / 3.0));
        a.samples[from..to].iter_mut().for_each(|v| *v *= g);
    }
    a
}

fn read(a: &Audio) -> Measurement {
    analyze(a, &lift(LIFT_DEG)).expect("a watch")
}

/// Within the two readings' combined u95.
fn agrees(a: Option<tickproof::measurement::Figure>, b: Option<tickproof::measurement::Figure>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if (a.value - b.value).abs() <= a.u95.hypot(b.u95))
}

#[test]
fn a_toc_10_or_20_db_under_its_tic_reads_as_the_watch_does_with_both_alike() {
    let families = [
        SoundFamily::Classic,
        SoundFamily::Resonant,
        SoundFamily::UnlockLoud,
        SoundFamily::Contact,
        SoundFamily::Echo,
    ];
    let mut failures = vec![];
    for (k, family) in families.into_iter().enumerate() {
        for bph in [28800, 36000] {
            let p = MechanicalParams {
                bph,
                family,
                beat_error_ms: 0.2 + 0.1 * k as f64,
                amplitude_deg: 260.0,
                lift_angle_deg: LIFT_DEG,
                snr_db: Some(30.0),
                duration_s: 20.0,
                seed: 40 + k as u64,
                ..MechanicalParams::default()
            };
            let even = read(&recording(&p, 0.0));
            for db in [10.0, 20.0] {
                let quiet = read(&recording(&p, db));
                let line = format!(
                    "{family:?} {bph} toc -{db} dB: bph {:?}, beat error {} (both alike {}), amplitude {} ({})",
                    quiet.bph,
                    fig(quiet.beat_error_ms),
                    fig(even.beat_error_ms),
                    fig(quiet.amplitude_deg),
                    fig(even.amplitude_deg)
                );
                eprintln!("{line}");
                let ok = quiet.bph == Some(bph)
                    && agrees(quiet.beat_error_ms, even.beat_error_ms)
                    && agrees(quiet.amplitude_deg, even.amplitude_deg);
                if !ok {
                    failures.push(line);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
