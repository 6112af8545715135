//! A faint unlock in heavy noise: in the 2 s averages the amplitude is read on, the unlock can
//! sink under the noise and the next sound of the beat (the impulse) be read in its place,
//! every stretch agreeing on an amplitude too high. The average of every beat of the recording
//! still shows the unlock: the amplitude is read there, covers the truth, and is narrow enough to use.
mod harness;

use harness::faint::{faint_unlock_watch, AMPLITUDE_DEG, LIFT_DEG};
use harness::{analyze, lift, row};

#[test]
fn an_unlock_lost_in_the_noise_of_short_averages_is_read_on_the_average_of_every_beat() {
    for (noise, seed) in [(0.0, 1), (0.02, 2), (0.035, 3), (0.05, 4), (0.06, 5), (0.07, 6)] {
        let m = analyze(&faint_unlock_watch(20.0, noise, seed), &lift(LIFT_DEG)).unwrap();
        println!("{}", row(&format!("noise {noise}"), &Ok(m.clone())));
        if let Some(a) = m.amplitude_deg {
            assert!(
                (a.value - AMPLITUDE_DEG).abs() <= a.u95,
                "noise {noise}: {:.1} ± {:.1} deg for {AMPLITUDE_DEG}",
                a.value,
                a.u95
            );
        }
        // Up to this noise the unlock stands clear in the average of every beat, so the
        // amplitude is read there, and narrowly: the 2 s stretches alone read 298 ± 33.
        if noise <= 0.05 {
            let a = m.amplitude_deg.expect("amplitude given");
            assert!(a.u95 <= 10.0, "noise {noise}: {:.1} ± {:.1} deg is not useful", a.value, a.u95);
        }
    }
}
