//! Rooms built outside the synthesiser: the dry `classic` watch convolved with a room impulse
//! response of this harness's own making (the direct sound, 2-8 early reflections up to 8 ms
//! late, and a diffuse tail decaying exponentially, RT60 0.1-0.5 s), with a little white noise.
//! Two kinds of room (see [`Room`]): harsh ones, whose reflections are as loud as the direct
//! sound whatever their delay, and rooms heard from a microphone near the watch, whose
//! reflections lose level with the distance they travel. Shared by `tests/harsh_rooms.rs` and
//! the `examples/rooms.rs` probe.
use super::{render, Audio};
use realfft::RealFftPlanner;
use tickproof::synth::rng::Rng;
use tickproof::synth::{MechanicalParams, Truth};

pub const FS: u32 = 48_000;
pub const ROOMS: u64 = 22;
pub const SECONDS: f64 = 20.0;
/// White noise added after the room, dB below the reverberant watch's mean power.
pub const SNR_DB: f64 = 35.0;

/// Speed of sound, m/s.
const SOUND_M_PER_S: f64 = 343.0;

/// How a room's reflections are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Room {
    /// Reflections at 0.3-8 ms with gains 0.3-0.9 whatever their delay: the sum of the
    /// reflections can be louder than the direct sound, a stress case beyond any real setup.
    Harsh,
    /// A microphone 3-30 cm from the watch: a reflection whose path is longer by `c * lag`
    /// arrives at `R * d / (d + c * lag)` of the direct sound (spherical spreading), with a
    /// surface's reflection coefficient `R` of 0.5-0.95; lags 0.1-8 ms.
    NearMicrophone,
}

/// A room impulse response drawn from `rng`: the direct sound (1 at lag 0), 2-8 reflections
/// (either sign) drawn as `kind` says, and a Gaussian tail from the first reflection on,
/// decaying by 60 dB in RT60 (0.1-0.5 s), starting at 0.05-0.2 of the direct sound for a harsh
/// room and at a third of that near the microphone.
pub fn room(rng: &mut Rng, kind: Room) -> (Vec<f64>, String) {
    let rt60_s = 0.1 + 0.4 * rng.uniform();
    let n = (rt60_s * FS as f64) as usize;
    let mut h = vec![0.0; n];
    h[0] = 1.0;
    let taps = 2 + (rng.uniform() * 7.0) as usize;
    let mut first = n;
    let mut desc = Vec::new();
    let distance_m = match kind {
        Room::Harsh => None,
        Room::NearMicrophone => Some(0.03 + 0.27 * rng.uniform()),
    };
    if let Some(d) = distance_m {
        desc.push(format!("mic {:.0} cm", 100.0 * d));
    }
    for _ in 0..taps.min(8) {
        let (lag_ms, gain) = match distance_m {
            None => (0.3 + 7.7 * rng.uniform(), 0.3 + 0.6 * rng.uniform()),
            Some(d) => {
                let lag_ms = 0.1 + 7.9 * rng.uniform();
                let spread = d / (d + SOUND_M_PER_S * lag_ms * 1e-3);
                (lag_ms, (0.5 + 0.45 * rng.uniform()) * spread)
            }
        };
        let gain = gain * if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        let lag = (lag_ms * 1e-3 * FS as f64).round() as usize;
        h[lag] += gain;
        first = first.min(lag);
        desc.push(format!("{lag_ms:.1}ms{gain:+.2}"));
    }
    let tail = (0.05 + 0.15 * rng.uniform()) * if kind == Room::Harsh { 1.0 } else { 1.0 / 3.0 };
    let decay = (1e-3f64).ln() / (rt60_s * FS as f64);
    for (i, v) in h.iter_mut().enumerate().skip(first) {
        *v += tail * rng.gauss() * (decay * (i - first) as f64).exp();
    }
    (h, format!("rt60 {rt60_s:.2}s {}", desc.join(" ")))
}

/// `x` convolved with `h` (linear, by one FFT), cut to the length of `x`.
pub fn convolve(x: &[f32], h: &[f64]) -> Vec<f64> {
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

/// Room `k` of `kind`: a dry classic watch (its own bph, amplitude, lift, rate and beat error)
/// heard in its own room, with noise, scaled to peak 0.5; with the watch's truth and the room's
/// recipe. The watch of room `k` is the same for either kind.
pub fn recording(k: u64, kind: Room) -> (Audio, Truth, String) {
    recording_in(k, kind, true)
}

/// Room `k`'s recording as [`recording`] gives it (`in_room`), or the same watch dry: the
/// same noise added, no room.
pub fn recording_in(k: u64, kind: Room, in_room: bool) -> (Audio, Truth, String) {
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
    let (mut h, desc) = room(&mut rng, kind);
    if !in_room {
        h = vec![1.0];
    }
    let mut wet = convolve(&dry.samples, &h);
    let power = wet.iter().map(|v| v * v).sum::<f64>() / wet.len() as f64;
    let sd = (power / 10f64.powf(SNR_DB / 10.0)).sqrt();
    wet.iter_mut().for_each(|v| *v += sd * rng.gauss());
    let peak = wet.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let audio = Audio::mono(wet.iter().map(|v| (0.5 * v / peak) as f32).collect(), FS);
    (audio, truth, format!("{bph} A{:.0} L{:.0} {desc}", p.amplitude_deg, p.lift_angle_deg))
}
