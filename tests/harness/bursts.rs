//! A watch whose sounds are bursts of noise, built outside the synthesiser and unlike any of its
//! families: each sub-event of a beat (unlock, impulse, drop) is white noise band-passed to a
//! band drawn per movement, under an envelope that rises over 30-150 us and decays
//! exponentially (the drop for 0.4-6 ms), with new noise at every beat. Nothing repeats sample
//! for sample, and the envelope of a long burst fluctuates for milliseconds after its onset,
//! so its sharpest attack can come anywhere in it. The beats also jitter (up to 20 us RMS) and
//! the level wanders by ±25% over 5-15 s, and the whole is heard in white noise at 12-35 dB.
//! The truth is the escapement's: onsets exact to the sub-sample (the envelope is evaluated at
//! the onset's true time), the rate the mean over the beats.
use super::Audio;
use std::f64::consts::PI;
use tickproof::synth::rng::Rng;

/// Sample rate, Hz.
pub const FS: u32 = 48_000;
/// Length of every recording, seconds.
pub const SECONDS: f64 = 20.0;

/// What one recording is, drawn from its seed.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    pub bph: u32,
    pub rate_s_per_day: f64,
    pub beat_error_ms: f64,
    pub amplitude_deg: f64,
    pub lift_deg: f64,
    pub snr_db: f64,
    /// Decay time of the drop's burst, ms.
    pub drop_tau_ms: f64,
}

/// A band-pass biquad (the RBJ cookbook's, 0 dB peak gain), direct form I.
struct BandPass {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl BandPass {
    fn new(lo_hz: f64, hi_hz: f64) -> Self {
        let f0 = (lo_hz * hi_hz).sqrt();
        let w0 = 2.0 * PI * f0 / FS as f64;
        let alpha = w0.sin() / (2.0 * f0 / (hi_hz - lo_hz));
        let a0 = 1.0 + alpha;
        BandPass {
            b: [alpha / a0, 0.0, -alpha / a0],
            a: [-2.0 * w0.cos() / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn process(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// One sub-event's sound: its band, its envelope's decay (seconds) and its level.
struct Voice {
    band: BandPass,
    tau_s: f64,
    level: f64,
}

impl Voice {
    /// Adds a burst whose envelope starts at `t0` seconds (to the sub-sample) to `x`, scaled
    /// by `gain`; its noise is drawn from `rng`.
    fn burst(&mut self, x: &mut [f64], t0: f64, gain: f64, rng: &mut Rng) {
        let attack_s = rng.range(30e-6, 150e-6);
        let len = (8.0 * self.tau_s * FS as f64) as usize;
        let i0 = (t0 * FS as f64).ceil() as usize;
        self.band.x = [0.0; 2];
        self.band.y = [0.0; 2];
        for (k, v) in x.iter_mut().enumerate().skip(i0).take(len) {
            let t = k as f64 / FS as f64 - t0;
            let env = (t / attack_s).min(1.0) * (-t / self.tau_s).exp();
            *v += self.level * gain * env * self.band.process(rng.gauss());
        }
    }
}

/// The recording of seed `seed` and what it is.
pub fn recording(seed: u64) -> (Audio, Watch) {
    let mut rng = Rng::new(0xB0B5 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let bphs = [18_000, 19_800, 21_600, 25_200, 28_800, 36_000];
    let bph = bphs[(rng.uniform() * bphs.len() as f64) as usize % bphs.len()];
    let w = Watch {
        bph,
        rate_s_per_day: rng.range(-40.0, 40.0),
        beat_error_ms: if rng.uniform() < 0.5 { rng.range(0.0, 0.3) } else { rng.range(0.3, 3.0) },
        amplitude_deg: rng.range(170.0, 310.0),
        lift_deg: rng.range(48.0, 54.0),
        snr_db: rng.range(12.0, 35.0),
        drop_tau_ms: rng.range(0.4, 6.0),
    };
    let band = |rng: &mut Rng| BandPass::new(rng.range(1_500.0, 4_000.0), rng.range(5_000.0, 12_000.0));
    let tau_u = rng.range(0.2e-3, 0.8e-3);
    let mut unlock = Voice { band: band(&mut rng), tau_s: tau_u, level: rng.range(0.2, 1.0) };
    let mut impulse = Voice { band: band(&mut rng), tau_s: tau_u, level: rng.range(0.2, 0.7) };
    let mut drop = Voice { band: band(&mut rng), tau_s: w.drop_tau_ms * 1e-3, level: 1.0 };
    let impulse_at = rng.range(0.25, 0.6);
    let jitter_s = rng.range(0.0, 20e-6);
    let (wander_s, wander_phase) = (rng.range(5.0, 15.0), rng.range(0.0, 2.0 * PI));
    let t_osc = 7200.0 / bph as f64;
    let t_ud = t_osc / PI * (w.lift_deg / (2.0 * w.amplitude_deg)).asin();
    let beat_s = 3600.0 / bph as f64 / (1.0 + w.rate_s_per_day / 86_400.0);
    let n = (SECONDS * FS as f64) as usize;
    let mut x = vec![0.0f64; n];
    let t_first = rng.range(0.01, 0.2);
    let mut k = 0u64;
    loop {
        let t =
            t_first + k as f64 * beat_s + (k % 2) as f64 * w.beat_error_ms * 1e-3 + jitter_s * rng.gauss();
        if t + 0.03 > SECONDS {
            break;
        }
        let gain = (1.0 + 0.25 * (2.0 * PI * t / wander_s + wander_phase).sin()) * rng.range(0.8, 1.2);
        unlock.burst(&mut x, t, gain * rng.range(0.85, 1.15), &mut rng);
        impulse.burst(&mut x, t + impulse_at * t_ud, gain * rng.range(0.85, 1.15), &mut rng);
        drop.burst(&mut x, t + t_ud, gain * rng.range(0.85, 1.15), &mut rng);
        k += 1;
    }
    let power = x.iter().map(|v| v * v).sum::<f64>() / n as f64;
    let sigma = (power / 10f64.powf(w.snr_db / 10.0)).sqrt();
    x.iter_mut().for_each(|v| *v += sigma * rng.gauss());
    let peak = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    (Audio::mono(x.iter().map(|v| (0.5 * v / peak) as f32).collect(), FS), w)
}
