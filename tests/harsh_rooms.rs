//! Harsh rooms, built outside the synthesiser: the dry `classic` watch is rendered, then
//! convolved here with a room impulse response of this test's own making (the direct sound, 2-8
//! early reflections 0.3-8 ms late at 0.3-0.9 of its level, and a diffuse tail decaying
//! exponentially, RT60 0.1-0.5 s), and a little white noise is added. An early reflection of the
//! drop can be a sharper attack than the drop itself; the amplitude must then not be printed
//! with a u95 that misses the truth. Per room: the beat rate right, the rate within its u95,
//! and the beat error and amplitude either withheld or within theirs.
mod harness;

use harness::{analyze, fig, lift, render, Audio};
use realfft::RealFftPlanner;
use tickproof::measurement::Measurement;
use tickproof::synth::rng::Rng;
use tickproof::synth::{MechanicalParams, Truth};

const FS: u32 = 48_000;
const ROOMS: u64 = 22;
const SECONDS: f64 = 20.0;
/// White noise added after the room, dB below the reverberant watch's mean power.
const SNR_DB: f64 = 35.0;

/// A room impulse response drawn from `rng`: the direct sound (1 at lag 0), 2-8 reflections at
/// 0.3-8 ms with gains 0.3-0.9 (either sign), and a Gaussian tail from the first reflection on,
/// decaying by 60 dB in RT60 (0.1-0.5 s), starting at 0.05-0.2 of the direct sound.
fn room(rng: &mut Rng) -> (Vec<f64>, String) {
    let rt60_s = 0.1 + 0.4 * rng.uniform();
    let n = (rt60_s * FS as f64) as usize;
    let mut h = vec![0.0; n];
    h[0] = 1.0;
    let taps = 2 + (rng.uniform() * 7.0) as usize;
    let mut first = n;
    let mut desc = Vec::new();
    for _ in 0..taps.min(8) {
        let lag_ms = 0.3 + 7.7 * rng.uniform();
        let gain = (0.3 + 0.6 * rng.uniform()) * if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        let lag = (lag_ms * 1e-3 * FS as f64).round() as usize;
        h[lag] += gain;
        first = first.min(lag);
        desc.push(format!("{lag_ms:.1}ms{gain:+.1}"));
    }
    let tail = 0.05 + 0.15 * rng.uniform();
    let decay = (1e-3f64).ln() / (rt60_s * FS as f64);
    for (i, v) in h.iter_mut().enumerate().skip(first) {
        *v += tail * rng.gauss() * (decay * (i - first) as f64).exp();
    }
    (h, format!("rt60 {rt60_s:.2}s {}", desc.join(" ")))
}

/// `x` convolved with `h` (linear, by one FFT), cut to the length of `x`.
fn convolve(x: &[f32], h: &[f64]) -> Vec<f64> {
    let n = (x.len() + h.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let spectrum = |v: &mut Vec<f64>| {
        let mut s = fwd.make_output_vec();
        fwd.process(v, &mut s).expect("fft");
        s
    };
    let mut a: Vec<f64> = x.iter().map(|&v| v as f64).chain(std::iter::repeat(0.0)).take(n).collect();
    let mut b: Vec<f64> = h.iter().copied().chain(std::iter::repeat(0.0)).take(n).collect();
    let (sa, sb) = (spectrum(&mut a), spectrum(&mut b));
    let mut prod: Vec<_> = sa.iter().zip(&sb).map(|(p, q)| p * q / n as f64).collect();
    let mut out = inv.make_output_vec();
    inv.process(&mut prod, &mut out).expect("ifft");
    out.truncate(x.len());
    out
}

/// Room `k`: a dry classic watch (its own bph, amplitude, lift, rate and beat error) heard in
/// its own room, with noise, scaled to peak 0.5; with the watch's truth and the room's recipe.
fn recording(k: u64) -> (Audio, Truth, String) {
    let mut rng = Rng::new(0x5eed_0000 + k);
    let bph = [18_000, 21_600, 28_800][(k % 3) as usize];
    let p = MechanicalParams {
        bph,
        amplitude_deg: 200.0 + 100.0 * rng.uniform(),
        lift_angle_deg: 44.0 + 12.0 * rng.uniform(),
        rate_s_per_day: 30.0 * (rng.uniform() - 0.5),
        beat_error_ms: 0.8 * rng.uniform(),
        duration_s: SECONDS,
        sample_rate_hz: FS,
        seed: 100 + k,
        ..MechanicalParams::default()
    };
    let (dry, truth) = render(&p);
    let (h, desc) = room(&mut rng);
    let mut wet = convolve(&dry.samples, &h);
    let power = wet.iter().map(|v| v * v).sum::<f64>() / wet.len() as f64;
    let sd = (power / 10f64.powf(SNR_DB / 10.0)).sqrt();
    wet.iter_mut().for_each(|v| *v += sd * rng.gauss());
    let peak = wet.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let audio = Audio::mono(wet.iter().map(|v| (0.5 * v / peak) as f32).collect(), FS);
    (audio, truth, format!("{bph} A{:.0} L{:.0} {desc}", p.amplitude_deg, p.lift_angle_deg))
}

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
