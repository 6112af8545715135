//! Metamorphic tests: the same watch must read the same however its recording is trimmed,
//! scaled, inverted, padded or interrupted, on the real recording in ../shared/recordings and on
//! seeded synthetic recordings; and real beats re-timed onto an exact grid must read the grid's
//! rate with the watch's own beat error and amplitude.
//!
//! The Rust counterpart of ../shared/tools/invariance.py, with one difference: a variant is
//! compared with the original recording's figures within their combined u95 (hypot of the two),
//! not with the median of the variants within a fixed slack; and a variant's beat error and
//! amplitude u95 may be at most twice the original's, so a variant cannot agree by giving up.
mod harness;

use harness::{analyze, fig, lift, read_wav, render, row, shared_recording, Audio};
use tickproof::measurement::{AnalysisConfig, Figure, Kind, Measurement};
use tickproof::synth::rng::Rng;
use tickproof::synth::{MechanicalParams, SoundFamily};

const SEIKO: &str = "seiko-7s26-21600bph-laptop-mic-40s.wav";
const SEIKO_LIFT_DEG: f64 = 53.0;

// ---------------------------------------------------------------------------------------------
// Variants (the list, written once for the real and the synthetic recordings)
// ---------------------------------------------------------------------------------------------

/// Start trims, seconds; each is used when at least [`MIN_LEFT_S`] remain.
const TRIMS_S: [f64; 10] = [0.0, 0.03, 0.07, 0.2, 0.5, 1.0, 2.0, 3.5, 5.0, 10.0];
const MIN_LEFT_S: f64 = 12.0;
/// The halves are used when the recording is at least this long.
const MIN_HALVES_S: f64 = 30.0;
/// Seed of the noise that fills the gap.
const GAP_SEED: u64 = 3;

/// One modified copy of a recording.
struct Variant {
    name: String,
    audio: Audio,
    /// The first or second half: an independent stretch of the watch, not the same beats.
    half: bool,
}

/// The first `seconds` removed.
fn trim(a: &Audio, seconds: f64) -> Audio {
    let start = a.frames_in(seconds).min(a.frames()) * a.channels as usize;
    Audio { samples: a.samples[start..].to_vec(), ..*a }
}

/// A sample as a 16-bit file would hold it: rounded to 1/32768 and clipped to the 16-bit range.
fn to_16_bit(x: f32) -> f32 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) / 32768.0
}

/// Every sample times `k`, written as a 16-bit file would be (rounded and clipped).
fn gain_16_bit(a: &Audio, k: f32) -> Audio {
    Audio { samples: a.samples.iter().map(|&x| to_16_bit(x * k)).collect(), ..*a }
}

/// Polarity inverted.
fn invert(a: &Audio) -> Audio {
    Audio { samples: a.samples.iter().map(|&x| -x).collect(), ..*a }
}

/// `seconds` of digital zero in front.
fn lead_silence(a: &Audio, seconds: f64) -> Audio {
    let mut samples = vec![0f32; a.frames_in(seconds) * a.channels as usize];
    samples.extend_from_slice(&a.samples);
    Audio { samples, ..*a }
}

/// RMS of all samples.
fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// The middle `seconds` replaced by white Gaussian noise at half the recording's RMS (seeded).
fn noise_gap(a: &Audio, seconds: f64, seed: u64) -> Audio {
    let ch = a.channels as usize;
    let len = a.frames_in(seconds).min(a.frames());
    let start = (a.frames() - len) / 2;
    let sd = 0.5 * rms(&a.samples);
    let mut rng = Rng::new(seed);
    let mut samples = a.samples.clone();
    for s in &mut samples[start * ch..(start + len) * ch] {
        *s = (sd * rng.gauss()) as f32;
    }
    Audio { samples, ..*a }
}

/// The first (`second == false`) or the second half, split at the middle frame.
fn half(a: &Audio, second: bool) -> Audio {
    let mid = a.frames() / 2 * a.channels as usize;
    let samples = if second { a.samples[mid..].to_vec() } else { a.samples[..mid].to_vec() };
    Audio { samples, ..*a }
}

/// The variants of `a`, in a fixed order; the first ("trim0s") is `a` itself.
fn variants(a: &Audio) -> Vec<Variant> {
    let v = |name: String, audio: Audio| Variant { name, audio, half: false };
    let mut out: Vec<Variant> = TRIMS_S
        .iter()
        .filter(|&&s| a.duration_s() - s >= MIN_LEFT_S)
        .map(|&s| v(format!("trim{s}s"), trim(a, s)))
        .collect();
    out.push(v("gain0.1".into(), gain_16_bit(a, 0.1)));
    out.push(v("gain4".into(), gain_16_bit(a, 4.0)));
    out.push(v("inverted".into(), invert(a)));
    out.push(v("lead_silence1s".into(), lead_silence(a, 1.0)));
    out.push(v("noise_gap2s".into(), noise_gap(a, 2.0, GAP_SEED)));
    if a.duration_s() >= MIN_HALVES_S {
        out.push(Variant { name: "first_half".into(), audio: half(a, false), half: true });
        out.push(Variant { name: "second_half".into(), audio: half(a, true), half: true });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Agreement
// ---------------------------------------------------------------------------------------------

/// What a variant is allowed on top of the combined u95.
#[derive(Debug, Clone, Copy)]
struct Slack {
    /// Least rate tolerance, s/day, for every variant but the halves.
    rate: f64,
    /// Least rate tolerance, s/day, for the halves (a real watch's rate wanders between them).
    halves_rate: f64,
    /// A variant's beat error u95 may be up to twice the original's, or up to this, ms.
    beat_error_width_ms: f64,
    /// A variant's amplitude u95 may be up to twice the original's, or up to this, deg.
    amplitude_width_deg: f64,
}

/// Synthetic recordings: the model's rate is constant, so the halves get no extra slack.
const SYNTH_SLACK: Slack =
    Slack { rate: 0.05, halves_rate: 0.05, beat_error_width_ms: 0.03, amplitude_width_deg: 2.0 };
/// The real watch: its rate wanders by a couple of s/day between 10 s windows.
const REAL_SLACK: Slack =
    Slack { rate: 0.0, halves_rate: 2.5, beat_error_width_ms: 0.0, amplitude_width_deg: 0.0 };

/// Beat error and amplitude u95 scale as 1/sqrt(duration): a variant keeps at least half the
/// original's beats, so an honest u95 grows by sqrt(2) at most. Twice as wide means the variant
/// agrees only because it stopped measuring (the u95 must not buy agreement).
const MAX_WIDENING: f64 = 2.0;

/// `f` and `f0` agree within their combined 95% uncertainty, or within `floor`.
fn within(f: Figure, f0: Figure, floor: f64) -> bool {
    (f.value - f0.value).abs() <= f.u95.hypot(f0.u95).max(floor)
}

/// Why the variant's reading disagrees with the original's, or `None` when it agrees.
fn disagreement(
    v: &Variant,
    m: &Result<Measurement, String>,
    m0: &Measurement,
    slack: Slack,
) -> Option<String> {
    let m = match m {
        Err(e) => return Some(format!("error: {e}")),
        Ok(m) => m,
    };
    if m.kind != Kind::Mechanical {
        return Some(format!("kind {:?}", m.kind));
    }
    if m.bph != m0.bph {
        return Some(format!("bph {:?} != {:?}", m.bph, m0.bph));
    }
    let rate_floor = if v.half { slack.halves_rate } else { slack.rate };
    // (name, variant, original, agreement floor, u95 width floor or None when not bounded)
    let figs = [
        ("rate", m.rate_s_per_day, m0.rate_s_per_day, rate_floor, None),
        ("beat error", m.beat_error_ms, m0.beat_error_ms, 0.0, Some(slack.beat_error_width_ms)),
        ("amplitude", m.amplitude_deg, m0.amplitude_deg, 0.0, Some(slack.amplitude_width_deg)),
    ];
    let mut bad = Vec::new();
    for (name, f, f0, floor, width) in figs {
        let (f, f0) = match (f, f0) {
            (Some(f), Some(f0)) => (f, f0),
            (None, _) => {
                bad.push(format!("{name} missing"));
                continue;
            }
            (_, None) => {
                bad.push(format!("{name} missing in the original"));
                continue;
            }
        };
        if !within(f, f0, floor) {
            let tol = f.u95.hypot(f0.u95).max(floor);
            bad.push(format!("{name} differs by {:.3} > {tol:.3}", f.value - f0.value));
        }
        if let Some(w) = width {
            let max = (MAX_WIDENING * f0.u95).max(w);
            if f.u95 > max {
                bad.push(format!("{name} u95 {:.3} wider than {max:.3} (original {:.3})", f.u95, f0.u95));
            }
        }
    }
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// Analyses every variant of `a`, prints the table, and returns the original's reading and the
/// failures (name and why). The original itself must be a watch.
fn check_variants(label: &str, a: &Audio, cfg: &AnalysisConfig, slack: Slack) -> (Measurement, Vec<String>) {
    let m0 = analyze(a, cfg).unwrap_or_else(|e| panic!("{label}: {e}"));
    let mut table =
        format!("{label}: {:.1} s at {} Hz\n  {}\n", a.duration_s(), a.fs, row("original", &Ok(m0.clone())));
    let mut failures = Vec::new();
    for v in variants(a) {
        let m = analyze(&v.audio, cfg);
        let why = disagreement(&v, &m, &m0, slack);
        let verdict = why.as_deref().map_or("ok".into(), |w| format!("FAIL {w}"));
        table += &format!("  {} {verdict}\n", row(&v.name, &m));
        if let Some(w) = why {
            failures.push(format!("{label} {}: {w}", v.name));
        }
    }
    print!("{table}");
    (m0, failures)
}

// ---------------------------------------------------------------------------------------------
// The harness checks itself
// ---------------------------------------------------------------------------------------------

/// A 16-bit-exact ramp, 1 kHz sample rate, `n` samples.
fn ramp(n: usize) -> Audio {
    Audio::mono((0..n).map(|i| to_16_bit((i as f32 / n as f32) - 0.5)).collect(), 1000)
}

#[test]
fn variants_do_what_their_names_say() {
    let a = ramp(40_000); // 40 s
    let t = trim(&a, 1.0);
    assert_eq!(t.frames(), 39_000);
    assert_eq!(t.samples[0], a.samples[1000]);
    assert_eq!(trim(&a, 0.0), a);

    let g = gain_16_bit(&a, 0.1);
    for (&y, &x) in g.samples.iter().zip(&a.samples) {
        assert!((y - 0.1 * x).abs() <= 0.5 / 32768.0 + 1e-7, "{x} -> {y}");
        assert_eq!(y, to_16_bit(y), "not on the 16-bit grid");
    }
    let g = gain_16_bit(&a, 4.0);
    assert_eq!(g.samples[0], -1.0, "clipped low at full scale");
    assert_eq!(*g.samples.last().unwrap(), 32767.0 / 32768.0, "clipped high at the 16-bit limit");
    assert_eq!(g.samples[20_000], to_16_bit(4.0 * a.samples[20_000]), "unclipped in the middle");

    let i = invert(&a);
    assert!(i.samples.iter().zip(&a.samples).all(|(y, x)| *y == -*x));

    let s = lead_silence(&a, 1.0);
    assert_eq!(s.frames(), 41_000);
    assert!(s.samples[..1000].iter().all(|&x| x == 0.0));
    assert_eq!(&s.samples[1000..], &a.samples[..]);

    let n = noise_gap(&a, 2.0, GAP_SEED);
    assert_eq!(n.frames(), a.frames());
    assert_eq!(&n.samples[..19_000], &a.samples[..19_000], "untouched before the gap");
    assert_eq!(&n.samples[21_000..], &a.samples[21_000..], "untouched after the gap");
    let r = rms(&n.samples[19_000..21_000]) / rms(&a.samples);
    assert!((r - 0.5).abs() < 0.05, "gap RMS is {r} of the recording's");
    assert_eq!(noise_gap(&a, 2.0, GAP_SEED), n, "the gap's noise is seeded");

    let (h1, h2) = (half(&a, false), half(&a, true));
    assert_eq!([h1.samples, h2.samples].concat(), a.samples);

    let names: Vec<String> = variants(&a).into_iter().map(|v| v.name).collect();
    assert_eq!(
        names,
        [
            "trim0s",
            "trim0.03s",
            "trim0.07s",
            "trim0.2s",
            "trim0.5s",
            "trim1s",
            "trim2s",
            "trim3.5s",
            "trim5s",
            "trim10s",
            "gain0.1",
            "gain4",
            "inverted",
            "lead_silence1s",
            "noise_gap2s",
            "first_half",
            "second_half"
        ]
    );
    // 20 s: trims leave at least 12 s, and no halves.
    let names: Vec<String> = variants(&ramp(20_000)).into_iter().map(|v| v.name).collect();
    assert_eq!(names.first().map(String::as_str), Some("trim0s"));
    assert!(names.contains(&"trim5s".to_string()) && !names.contains(&"trim10s".to_string()));
    assert!(!names.iter().any(|n| n.ends_with("_half")));
}

#[test]
fn agreement_uses_the_combined_u95() {
    let f0 = Figure::new(1.0, 0.3);
    assert!(within(Figure::new(1.49, 0.4), f0, 0.0)); // hypot = 0.5
    assert!(!within(Figure::new(1.51, 0.4), f0, 0.0));
    assert!(within(Figure::new(1.51, 0.4), f0, 0.6));

    // On a real analysis: itself agrees; a shifted or a ballooned figure does not.
    let p = &base_cases()[2];
    let m0 = analyze(&render(p).0, &lift(p.lift_angle_deg)).unwrap();
    let v = Variant { name: "self".into(), audio: Audio::mono(vec![], 1), half: false };
    assert_eq!(disagreement(&v, &Ok(m0.clone()), &m0, SYNTH_SLACK), None);
    let mut m = m0.clone();
    let be0 = m0.beat_error_ms.unwrap();
    m.beat_error_ms = Some(Figure::new(be0.value + 3.0 * be0.u95.max(0.03), be0.u95));
    assert!(disagreement(&v, &Ok(m.clone()), &m0, SYNTH_SLACK).unwrap().contains("beat error differs"));
    m.beat_error_ms = Some(Figure::new(be0.value, 3.0 * be0.u95.max(0.03)));
    assert!(disagreement(&v, &Ok(m.clone()), &m0, SYNTH_SLACK).unwrap().contains("u95"));
    m.amplitude_deg = None;
    assert!(disagreement(&v, &Ok(m), &m0, SYNTH_SLACK).unwrap().contains("amplitude missing"));
}

// ---------------------------------------------------------------------------------------------
// The real recording
// ---------------------------------------------------------------------------------------------

fn seiko() -> Option<Audio> {
    shared_recording(SEIKO).map(|p| read_wav(&p))
}

/// Two independent timegraphers read about +4.5..+5 s/day, under 1 ms and 230-240 deg.
#[test]
fn real_seiko_reads_what_two_timegraphers_read() {
    let Some(a) = seiko() else { return };
    let m = analyze(&a, &lift(SEIKO_LIFT_DEG));
    println!("{}", row("seiko", &m));
    let m = m.unwrap();
    assert_eq!((m.kind, m.bph), (Kind::Mechanical, Some(21600)), "{:?}", m.reason);
    let r = m.rate_s_per_day.unwrap();
    assert!(r.lo() <= 5.0 && r.hi() >= 4.5 && r.u95 < 1.0, "rate {r:?}");
    let be = m.beat_error_ms.expect("beat error");
    assert!(be.value < 1.0 && be.u95 < 0.9, "beat error {be:?}");
    let amp = m.amplitude_deg.expect("amplitude");
    assert!((225.0..=245.0).contains(&amp.value) && amp.u95 < 31.0, "amplitude {amp:?}");
}

#[test]
fn real_seiko_reads_the_same_in_every_variant() {
    let Some(a) = seiko() else { return };
    let (_, failures) = check_variants("seiko", &a, &lift(SEIKO_LIFT_DEG), REAL_SLACK);
    assert!(failures.is_empty(), "{} variants disagree:\n{}", failures.len(), failures.join("\n"));
}

/// `a` through a fast automatic gain control, as phone and laptop microphones have: the gain
/// follows the envelope (2 ms attack, 60 ms release) towards a fixed level, up to 8x, so the loud
/// drop is held down and the quiet between the beats (its noise, the faint unlock) is raised.
fn agc(a: &Audio) -> Audio {
    let fs = a.fs as f32;
    let (att, rel) = ((-1.0 / (0.002 * fs)).exp(), (-1.0 / (0.06 * fs)).exp());
    let peak = a.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let target = 0.18 * peak;
    let mut e = 0.0f32;
    let out = a
        .samples
        .iter()
        .map(|&v| {
            let c = if v.abs() > e { att } else { rel };
            e = c * e + (1.0 - c) * v.abs();
            to_16_bit(v * (target / e.max(target / 8.0)).min(8.0))
        })
        .collect();
    Audio::mono(out, a.fs)
}

#[test]
fn a_real_recording_through_an_automatic_gain_control_reads_the_same() {
    let Some(a) = seiko() else { return };
    let cfg = lift(SEIKO_LIFT_DEG);
    let m0 = analyze(&a, &cfg).unwrap();
    let m = analyze(&agc(&a), &cfg).unwrap();
    println!("{}\n{}", row("seiko", &Ok(m0.clone())), row("seiko, agc", &Ok(m.clone())));
    assert_eq!(m.bph, Some(21600), "{:?}", m.reason);
    for (name, f, f0) in [
        ("rate", m.rate_s_per_day, m0.rate_s_per_day),
        ("beat error", m.beat_error_ms, m0.beat_error_ms),
        ("amplitude", m.amplitude_deg, m0.amplitude_deg),
    ] {
        let (f, f0) = (f.unwrap_or_else(|| panic!("{name} withheld")), f0.expect(name));
        assert!(within(f, f0, 0.0), "{name}: {f:?} through the AGC, {f0:?} without");
    }
}

/// `a` played in a reverberant room: the direct sound plus 600 reflections at random delays over
/// 150 ms, their gains decaying by e every 30 ms, carrying about 8 dB more energy than the direct
/// sound. Every sound of a beat rings on for tens of milliseconds, the drop's tail over most of
/// the beat's frame.
fn reverberant(a: &Audio, seed: u64) -> Audio {
    let fs = a.fs as f64;
    let mut rng = Rng::new(seed);
    let taps: Vec<(usize, f32)> = (0..600)
        .map(|_| {
            let d = 1 + (rng.uniform() * 0.15 * fs) as usize;
            (d, (0.35 * rng.gauss() * (-(d as f64) / (0.03 * fs)).exp()) as f32)
        })
        .collect();
    let x = &a.samples;
    let mut y = x.clone();
    for &(d, g) in &taps {
        for (o, &v) in y[d..].iter_mut().zip(x) {
            *o += g * v;
        }
    }
    let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    Audio::mono(y.iter().map(|v| to_16_bit(0.6 * v / peak)).collect(), a.fs)
}

/// Rooms in which the Seiko is read, one per seed of [`reverberant`].
const ROOMS: u64 = 8;

#[test]
fn a_real_recording_in_reverberant_rooms_reads_the_same() {
    let Some(a) = seiko() else { return };
    let cfg = lift(SEIKO_LIFT_DEG);
    let m0 = analyze(&a, &cfg).unwrap();
    println!("{}", row("seiko", &Ok(m0.clone())));
    // Per figure: rooms where it was given, and where it was given and agrees with the dry one.
    let mut tally = [(0u64, 0u64); 3];
    for seed in 1..=ROOMS {
        let m = analyze(&reverberant(&a, seed), &cfg).unwrap();
        println!("{}", row(&format!("room {seed}"), &Ok(m.clone())));
        if let Some(x) = &m.mechanical {
            for note in [&x.beat_error_note, &x.amplitude_note].into_iter().flatten() {
                println!("    {note}");
            }
        }
        assert_eq!(m.bph, Some(21600), "room {seed}: {:?}", m.reason);
        let figures = [
            (m.rate_s_per_day, m0.rate_s_per_day),
            (m.beat_error_ms, m0.beat_error_ms),
            (m.amplitude_deg, m0.amplitude_deg),
        ];
        for ((f, f0), t) in figures.into_iter().zip(tally.iter_mut()) {
            if let (Some(f), Some(f0)) = (f, f0) {
                t.0 += 1;
                t.1 += u64::from(within(f, f0, 0.0));
                assert!(
                    (f.value - f0.value).abs() <= 2.0 * f.u95.hypot(f0.u95),
                    "room {seed}: {f:?} is more than twice the u95s from the dry {f0:?}"
                );
            }
        }
    }
    let [rate, be, amp] = tally;
    assert_eq!(rate, (ROOMS, ROOMS), "rate (given, agreeing)");
    // Where the reverberation hides which sound is the unlock and which the drop, the beat
    // error and the amplitude are withheld with the reason (README, "Limits": a strongly
    // reverberant room): the beat error in at most two rooms; the amplitude where the 2 s
    // stretches and the average of every beat read it too far apart to say, in at most half.
    // Where given, they agree with the dry reading within both u95s, but for at most one room
    // each (eight rooms of two honest 95% u95s miss at least once with odds of up to a third)
    // and never by twice that.
    assert!(2 * amp.0 >= ROOMS && amp.1 + 1 >= amp.0, "amplitude (given, agreeing): {amp:?} of {ROOMS}");
    assert!(be.0 + 2 >= ROOMS && be.1 + 1 >= be.0, "beat error (given, agreeing): {be:?} of {ROOMS}");
}

// ---------------------------------------------------------------------------------------------
// Synthetic recordings
// ---------------------------------------------------------------------------------------------

/// A sound family applied to a base case.
type Family = fn(MechanicalParams) -> MechanicalParams;

/// The synthesiser's sound families to sweep; every base case is rendered in each.
///
/// The sound families of the synthesiser (`tickproof::synth::SoundFamily`) that the analysis
/// reads to its targets, one line each.
const FAMILIES: &[(&str, Family)] = &[
    ("classic", |p| p),
    ("resonant", |p| MechanicalParams { family: SoundFamily::Resonant, ..p }),
    ("unlock-loud", |p| MechanicalParams { family: SoundFamily::UnlockLoud, ..p }),
    ("echo", |p| MechanicalParams { family: SoundFamily::Echo, ..p }),
];

/// The family it does not yet read to its targets (the known gap of issue 10): through the
/// contact microphone (28800 bph, seed 13) the tic's unlock begins with a faint lobe, under 3%
/// of the drop, and is read at the louder rise 0.12 ms after it; every onset rule agrees there,
/// so the beat error (0.38 ms, truth 0.30) carries a u95 of 0.05 ms that does not cover it.
const FAMILIES_NOT_YET: &[(&str, Family)] =
    &[("contact", |p| MechanicalParams { family: SoundFamily::Contact, ..p })];

/// Base cases: fixed seeds, 20-40 s, SNR 15-25 dB, three beat rates.
fn base_cases() -> Vec<MechanicalParams> {
    let base = MechanicalParams::default();
    vec![
        MechanicalParams {
            bph: 18000,
            rate_s_per_day: 6.5,
            beat_error_ms: 0.6,
            amplitude_deg: 250.0,
            lift_angle_deg: 52.0,
            snr_db: Some(20.0),
            sample_rate_hz: 48_000,
            duration_s: 32.0,
            seed: 11,
            ..base.clone()
        },
        MechanicalParams {
            bph: 21600,
            rate_s_per_day: -12.0,
            beat_error_ms: 1.2,
            amplitude_deg: 220.0,
            lift_angle_deg: 53.0,
            snr_db: Some(15.0),
            sample_rate_hz: 44_100,
            duration_s: 40.0,
            seed: 12,
            ..base.clone()
        },
        MechanicalParams {
            bph: 28800,
            rate_s_per_day: 2.0,
            beat_error_ms: 0.3,
            amplitude_deg: 290.0,
            lift_angle_deg: 50.0,
            snr_db: Some(25.0),
            sample_rate_hz: 48_000,
            duration_s: 20.0,
            seed: 13,
            ..base
        },
    ]
}

/// Every base case in every family, named.
fn synthetic_cases() -> Vec<(String, MechanicalParams)> {
    cases_of(FAMILIES)
}

fn cases_of(families: &[(&'static str, Family)]) -> Vec<(String, MechanicalParams)> {
    families
        .iter()
        .flat_map(|&(family, with)| {
            base_cases().into_iter().map(move |p| (format!("{family}-{}bph-seed{}", p.bph, p.seed), with(p)))
        })
        .collect()
}

/// Why the reading is off the truth, or `None`: bph exact, rate within 0.05 s/day, beat error
/// within max(0.03 ms, u95), amplitude within max(2 deg, u95).
fn off_truth(m: &Measurement, t: &tickproof::synth::Truth) -> Option<String> {
    if m.kind != Kind::Mechanical || m.bph != t.bph {
        return Some(format!("read {:?} {:?}, truth {:?}", m.kind, m.bph, t.bph));
    }
    let checks = [
        ("rate", m.rate_s_per_day, t.rate_s_per_day, 0.05, false),
        ("beat error", m.beat_error_ms, t.beat_error_ms, 0.03, true),
        ("amplitude", m.amplitude_deg, t.amplitude_deg, 2.0, true),
    ];
    let bad: Vec<String> = checks
        .iter()
        .filter_map(|&(name, f, truth, tol, or_u95)| {
            let (f, truth) = (f?, truth.expect("truth has every figure"));
            let tol = if or_u95 { f.u95.max(tol) } else { tol };
            ((f.value - truth).abs() > tol)
                .then(|| format!("{name} {:.3} vs truth {truth:.3} (tol {tol:.3})", f.value))
        })
        .chain(checks.iter().filter(|c| c.1.is_none()).map(|c| format!("{} missing", c.0)))
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}

#[test]
fn synthetic_recordings_read_the_truth_and_the_same_in_every_variant() {
    assert_families_hold(synthetic_cases());
}

#[test]
#[ignore = "known gap: the contact family (see FAMILIES_NOT_YET)"]
fn contact_microphone_recordings_read_the_truth_and_the_same_in_every_variant() {
    assert_families_hold(cases_of(FAMILIES_NOT_YET));
}

fn assert_families_hold(cases: Vec<(String, MechanicalParams)>) {
    let mut failures = Vec::new();
    for (name, p) in cases {
        let (a, truth) = render(&p);
        let cfg = lift(p.lift_angle_deg);
        let (m0, bad) = check_variants(&name, &a, &cfg, SYNTH_SLACK);
        println!(
            "  truth: rate {:.3} be {:.3} amp {:.1}",
            truth.rate_s_per_day.unwrap(),
            truth.beat_error_ms.unwrap(),
            truth.amplitude_deg.unwrap()
        );
        if let Some(w) = off_truth(&m0, &truth) {
            println!("  original FAIL {w}");
            failures.push(format!("{name} original: {w}"));
        }
        failures.extend(bad);
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Real beats on an exact grid
// ---------------------------------------------------------------------------------------------
//
// The truth of a re-timed recording: cut the real recording into chunks one measured beat
// period P_m long, starting at a phase s0 that falls in the quiet between beats, and lay chunk k
// down at round(k P_e) for a chosen exact period P_e. Beat k sits at the same offset inside its
// chunk as it did in the original (the cut is never inside a beat's sound), so:
//  - the alternation of tic and toc offsets is the watch's: the beat error is unchanged;
//  - each beat's sound is untouched: unlock-to-drop, hence the amplitude, are unchanged;
//  - the beat times are k P_e + (the original's residuals about a line of slope P_m). Those
//    residuals have no slope of their own when P_m is the original's fitted period, so the
//    rate is the one P_e implies, (P_nominal / P_e - 1) 86400, with the watch's own wander.
// Rounding to whole samples adds at most one sample (23 us at 44.1 kHz) of timing noise, the
// same for tic and toc; it moves neither the beat error nor the rate measurably.

/// Energy of `a` folded at `period` frames: the phase (frames from the start) half a period
/// after the loudest 4 ms, i.e. as far from every beat's sound as a cut can be.
fn quiet_phase(a: &Audio, period: f64) -> f64 {
    let bin = a.fs as f64 / 1000.0; // 1 ms bins
    let nb = (period / bin).floor() as usize;
    let mut e = vec![0f64; nb];
    for (i, &x) in a.samples.iter().enumerate() {
        let b = ((i as f64 % period) / bin) as usize;
        e[b.min(nb - 1)] += x as f64 * x as f64;
    }
    let smooth = |b: usize| (0..4).map(|j| e[(b + j) % nb]).sum::<f64>();
    let loudest = (0..nb).max_by(|&i, &j| smooth(i).total_cmp(&smooth(j))).unwrap();
    ((loudest as f64 + 2.0) * bin + 0.5 * period) % period
}

/// `a` cut into chunks of `p_src` frames from frame `s0` on, chunk k laid down at
/// round(k p_dst). Each output chunk is filled from its source chunk's start, so the output is
/// continuous except for a sample repeated or dropped where the two grids slip past each other.
fn retime(a: &Audio, s0: f64, p_src: f64, p_dst: f64) -> Audio {
    assert_eq!(a.channels, 1, "mono only");
    let chunks = ((a.frames() as f64 - s0 - 1.0) / p_src).floor() as usize;
    let mut out = Vec::with_capacity((chunks as f64 * p_dst) as usize + 1);
    for k in 0..chunks {
        let src = (s0 + k as f64 * p_src).round() as usize;
        let len = ((k + 1) as f64 * p_dst).round() as usize - (k as f64 * p_dst).round() as usize;
        let end = (src + len).min(a.samples.len());
        out.extend_from_slice(&a.samples[src..end]);
    }
    Audio::mono(out, a.fs)
}

#[test]
fn retime_lays_chunks_on_the_grid() {
    let a = ramp(10_000);
    assert_eq!(retime(&a, 0.0, 1000.0, 1000.0).samples, a.samples[..9000], "same grid: unchanged");
    let r = retime(&a, 0.0, 1000.0, 1001.0);
    assert_eq!(r.frames(), 9 * 1001);
    for k in 0..9 {
        assert_eq!(r.samples[k * 1001], a.samples[k * 1000], "chunk {k} starts where it was cut");
        assert_eq!(r.samples[k * 1001 + 999], a.samples[k * 1000 + 999], "chunk {k} is whole");
    }
    let r = retime(&a, 250.0, 1000.0, 999.5);
    assert_eq!(r.samples[0], a.samples[250]);
    assert_eq!(r.samples[(4.0f64 * 999.5).round() as usize], a.samples[4250]);

    // Clicks at 100 + 1000 k: the quiet phase is half a period away, at about 600.
    let mut clicks = vec![0f32; 20_000];
    for k in 0..20 {
        for j in 0..5 {
            clicks[100 + 1000 * k + j] = 0.5;
        }
    }
    let q = quiet_phase(&Audio::mono(clicks, 1000), 1000.0);
    assert!((q - 600.0).abs() <= 100.0, "quiet phase {q}");
}

#[test]
fn real_beats_on_an_exact_grid_read_the_grid_rate() {
    let Some(a) = seiko() else { return };
    let cfg = lift(SEIKO_LIFT_DEG);
    let m0 = analyze(&a, &cfg).unwrap();
    println!("{}", row("seiko", &Ok(m0.clone())));
    assert_eq!(m0.bph, Some(21600), "{:?}", m0.reason);
    let nominal = a.fs as f64 * 3600.0 / 21600.0;
    let r0 = m0.rate_s_per_day.unwrap().value;
    let p_m = nominal / (1.0 + r0 / 86400.0);
    let s0 = quiet_phase(&a, p_m);
    println!("measured period {p_m:.4} frames, cut at phase {s0:.0}");
    let mut failures = Vec::new();
    for rate in [0.0, 12.0, -20.0] {
        let p_e = nominal / (1.0 + rate / 86400.0);
        let m = analyze(&retime(&a, s0, p_m, p_e), &cfg);
        let name = format!("grid rate {rate:+}");
        let mut why = Vec::new();
        match &m {
            Err(e) => why.push(format!("error {e}")),
            Ok(m) => {
                if m.kind != Kind::Mechanical || m.bph != Some(21600) {
                    why.push(format!("read {:?} {:?}", m.kind, m.bph));
                }
                match m.rate_s_per_day {
                    Some(r) if (r.value - rate).abs() <= 0.5 => {}
                    r => why.push(format!("rate {} not within 0.5 of {rate}", fig(r))),
                }
                match m.beat_error_ms {
                    Some(be) if be.value < 1.0 && within(be, m0.beat_error_ms.unwrap(), 0.0) => {}
                    be => why.push(format!("beat error {} vs original {}", fig(be), fig(m0.beat_error_ms))),
                }
                match (m.amplitude_deg, m0.amplitude_deg) {
                    (Some(x), Some(x0)) if within(x, x0, 0.0) => {}
                    (x, x0) => why.push(format!("amplitude {} vs original {}", fig(x), fig(x0))),
                }
            }
        }
        let why = why.join("; ");
        println!("  {} {}", row(&name, &m), if why.is_empty() { "ok" } else { &why });
        if !why.is_empty() {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn real_beats_on_an_exact_grid_read_the_same_in_every_variant() {
    let Some(a) = seiko() else { return };
    let cfg = lift(SEIKO_LIFT_DEG);
    let m0 = analyze(&a, &cfg).unwrap();
    let nominal = a.fs as f64 * 3600.0 / 21600.0;
    let p_m = nominal / (1.0 + m0.rate_s_per_day.unwrap().value / 86400.0);
    let grid = retime(&a, quiet_phase(&a, p_m), p_m, nominal);
    let (_, failures) = check_variants("seiko on a grid", &grid, &cfg, REAL_SLACK);
    assert!(failures.is_empty(), "{} variants disagree:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// A recording cut, or a watch whose sound changes: the analysis starts a new segment
// ---------------------------------------------------------------------------------------------

/// `a` with `cut_s` seconds removed at `at_s`: every beat after the cut moves against the ones
/// before it, by a fraction of a beat (half a beat swaps tic and toc).
fn cut(a: &Audio, at_s: f64, cut_s: f64) -> Audio {
    let (i, j) = (a.frames_in(at_s), a.frames_in(at_s + cut_s));
    Audio::mono([&a.samples[..i], &a.samples[j..]].concat(), a.fs)
}

fn assert_both_sides_of_the_change_are_used(label: &str, a: &Audio, cfg: &AnalysisConfig, m0: &Measurement) {
    let m = analyze(a, cfg).expect("analysable");
    println!("{}", row(label, &Ok(m.clone())));
    assert_eq!(m.bph, m0.bph, "{label}");
    // Beats from before and after the change: far more than one side alone.
    assert!(
        m.beats_used as f64 > 0.75 * m0.beats_used as f64,
        "{label}: {} beats vs {}",
        m.beats_used,
        m0.beats_used
    );
    for (name, f, f0) in
        [("beat error", m.beat_error_ms, m0.beat_error_ms), ("amplitude", m.amplitude_deg, m0.amplitude_deg)]
    {
        let (f, f0) = (f.expect(name), f0.expect(name));
        assert!((f.value - f0.value).abs() <= f.u95.hypot(f0.u95), "{label}: {name} {f:?} vs {f0:?}");
    }
}

#[test]
fn a_real_recording_cut_in_the_middle_is_read_on_both_sides_of_the_cut() {
    let Some(a) = seiko() else { return };
    let cfg = lift(SEIKO_LIFT_DEG);
    let m0 = analyze(&a, &cfg).expect("analysable");
    // A fifth of a beat, and half a beat (tic and toc swap at the cut).
    for cut_s in [0.033, 0.0833] {
        assert_both_sides_of_the_change_are_used(
            &format!("seiko cut {cut_s} s"),
            &cut(&a, 20.0, cut_s),
            &cfg,
            &m0,
        );
    }
}

#[test]
fn a_watch_whose_sound_changes_halfway_is_read_throughout() {
    // The same watch heard two ways (moved on the microphone): the beat line goes on, the sound
    // does not.
    let p = MechanicalParams {
        bph: 28800,
        rate_s_per_day: 4.0,
        beat_error_ms: 0.4,
        amplitude_deg: 260.0,
        snr_db: Some(25.0),
        duration_s: 40.0,
        seed: 5,
        ..MechanicalParams::default()
    };
    let (a, truth) = render(&p);
    let (b, _) = render(&MechanicalParams { family: SoundFamily::Resonant, seed: 6, ..p.clone() });
    let half = a.frames_in(20.0);
    let mixed = Audio::mono([&a.samples[..half], &b.samples[half..]].concat(), a.fs);
    let cfg = lift(p.lift_angle_deg);
    let m = analyze(&mixed, &cfg).expect("analysable");
    println!("{}", row("sound changes at 20 s", &Ok(m.clone())));
    assert!(m.beats_used as f64 > 0.75 * (40.0 * 8.0), "{} beats used", m.beats_used);
    assert!(off_truth(&m, &truth).is_none(), "{:?}", off_truth(&m, &truth));
}

/// `a` after `seconds` of white noise at half its RMS (the microphone on before the watch).
fn lead_noise(a: &Audio, seconds: f64, seed: u64) -> Audio {
    let sd = 0.5 * rms(&a.samples);
    let mut rng = Rng::new(seed);
    let mut samples: Vec<f32> = (0..a.frames_in(seconds)).map(|_| (sd * rng.gauss()) as f32).collect();
    samples.extend_from_slice(&a.samples);
    Audio::mono(samples, a.fs)
}

/// `a` with `seconds` of digital silence inserted at `at_s` (a long dropout).
fn silence_at(a: &Audio, at_s: f64, seconds: f64) -> Audio {
    let i = a.frames_in(at_s);
    let samples = [&a.samples[..i], &vec![0.0; a.frames_in(seconds)][..], &a.samples[i..]].concat();
    Audio::mono(samples, a.fs)
}

#[test]
fn a_real_recording_after_30_s_of_noise_or_around_15_s_of_silence_reads_the_same() {
    let Some(a) = seiko() else { return };
    let cfg = lift(SEIKO_LIFT_DEG);
    let m0 = analyze(&a, &cfg).expect("analysable");
    for (label, v) in
        [("30 s of noise first", lead_noise(&a, 30.0, 9)), ("15 s of silence", silence_at(&a, 20.0, 15.0))]
    {
        assert_both_sides_of_the_change_are_used(label, &v, &cfg, &m0);
        let m = analyze(&v, &cfg).expect("analysable");
        let (r, r0) = (m.rate_s_per_day.unwrap(), m0.rate_s_per_day.unwrap());
        assert!((r.value - r0.value).abs() <= r.u95.hypot(r0.u95).max(0.5), "{label}: rate {r:?} vs {r0:?}");
    }
}
