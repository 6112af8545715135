//! Building a [`Synth`]: the watch or scenario sound, its level, and the shared interference,
//! with the truth filled in.
use super::generator::{mean_power, power_and_peak, Silent};
use super::params::{Common, MechanicalParams, Negative, NegativeParams, Scenario};
use super::rng::Rng;
use super::{babble, family, mechanical, noise, scenes};
use super::{Error, Generator, Synth, Timeline, Truth, Voicing, CHUNK, MODEL_VERSION, WATCH_LEVEL};
use crate::measurement::Kind;
use crate::source::AudioInfo;

/// Seeds of the independent random streams, drawn in a fixed order from the master seed.
struct Seeds {
    main: u64,
    knocks: u64,
    babble: u64,
    hum: u64,
    dropouts: u64,
    noise: [u64; 8],
}

impl Seeds {
    fn new(seed: u64) -> Self {
        let mut r = Rng::new(seed);
        Seeds {
            main: r.next_u64(),
            knocks: r.next_u64(),
            babble: r.next_u64(),
            hum: r.next_u64(),
            dropouts: r.next_u64(),
            noise: [0; 8].map(|_| r.next_u64()),
        }
    }
}
/// How the main sound of a recording is scaled.
#[derive(Debug, Clone, Copy)]
enum Level {
    /// By a fixed gain.
    Gain(f64),
    /// To this RMS (a fixed gain when silent).
    Rms(f64, f64),
    /// So its largest sample is this.
    Peak(f64),
}

impl Synth {
    /// Any scenario.
    pub fn new(scenario: &Scenario) -> Result<Self, Error> {
        match scenario {
            Scenario::Mechanical(p) => Synth::mechanical(p),
            Scenario::None(p) => Synth::negative(p),
        }
    }

    /// A mechanical watch recording.
    pub fn mechanical(p: &MechanicalParams) -> Result<Self, Error> {
        let esc = p.validate()?;
        let common = p.common();
        let seeds = Seeds::new(p.seed);
        let tl = Timeline::new(p.sample_rate_hz, p.recorder_ppm, common.frames());
        let clock = mechanical::BeatClock::new(esc, seeds.main, p.jitter_us, p.amplitude_wobble);
        let voicing = Voicing::draw(p.family, seeds.main, p.attack_ms, p.event_gains);
        let faults = family::GeneratorFaults {
            weak: p
                .weak_stretch
                .map(|w| (tl.recorder_to_true_s(w.start_s), tl.recorder_to_true_s(w.end_s), w.level)),
            gap: p.noise_gap.map(|g| {
                let fs = p.sample_rate_hz as f64;
                ((g.start_s * fs).ceil() as u64, (g.end_s * fs).ceil() as u64)
            }),
        };
        let gen = family::WatchGenerator::new(clock.clone(), voicing.clone(), seeds.main, tl, faults, CHUNK);
        let first = {
            let mut c = clock.clone();
            loop {
                let (_, side, t, _) = c.next_beat();
                if t[0] >= 0.0 {
                    break (t[0], side);
                }
            }
        };
        let truth = Truth {
            kind: Kind::Mechanical,
            scenario: "watch".into(),
            model_version: MODEL_VERSION,
            bph: Some(p.bph),
            rate_s_per_day: Some(esc.rate_s_per_day()),
            beat_error_ms: Some(esc.beat_error_ms()),
            amplitude_deg: Some(esc.amplitude_deg),
            lift_angle_deg: Some(esc.lift_angle_deg),
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: tl.recorder_time(tl.frames()),
            frames: tl.frames(),
            channels: p.channels,
            seed: p.seed,
            jitter_us: Some(p.jitter_us),
            period_s: Some(esc.period_s),
            unlock_to_drop_ms: Some(esc.unlock_to_drop_ms()),
            amplitude_by_convention_deg: Some(esc.amplitude_by_convention_deg()),
            beat_error_offset_deg: Some(esc.offset_deg),
            tic_to_toc_ms: Some(esc.tic_to_toc_ms()),
            toc_to_tic_ms: Some(esc.toc_to_tic_ms()),
            first_unlock_s: Some(first.0),
            first_side: Some(first.1),
            signal_power: 0.0,
            noise_rms: 0.0,
            hum_hz: None,
            hum_db: None,
            knocks_per_min: 0.0,
            babble_db: None,
            dropouts_per_min: 0.0,
            metronome_bpm: None,
            sample_format: None,
            params: Scenario::Mechanical(p.clone()),
        };
        let level = if p.family.is_classic() { Level::Gain(WATCH_LEVEL) } else { Level::Peak(WATCH_LEVEL) };
        let mut s = Synth::assemble(Box::new(gen), level, &common, &seeds, truth)?;
        s.clock = Some(clock);
        s.voicing = Some(voicing);
        if let Some(c) = p.clip_level {
            s.clip_limit = c * s.main_peak;
        }
        Ok(s)
    }

    /// A recording with no watch.
    pub fn negative(p: &NegativeParams) -> Result<Self, Error> {
        p.validate()?;
        let common = p.common();
        let seeds = Seeds::new(p.seed);
        let tl = Timeline::new(p.sample_rate_hz, p.recorder_ppm, common.frames());
        let (main, rms, gain): (Box<dyn Generator>, Option<f64>, f64) = match p.scenario {
            Negative::Noise => (Box::new(noise::WhiteNoise::new(seeds.main)), Some(0.05), 1.0),
            Negative::PinkNoise => (Box::new(noise::PinkNoise::new(seeds.main)), Some(0.05), 1.0),
            Negative::Speech => (Box::new(babble::Babble::new(2, seeds.main, tl)), Some(0.05), 1.0),
            Negative::Music => (Box::new(scenes::Music::new(seeds.main, tl)), Some(0.1), 1.0),
            Negative::Silence => (Box::new(Silent), None, 1.0),
            Negative::Dither => (Box::new(noise::Dither::new(seeds.main)), None, 1.0),
            Negative::Metronome { bpm } => (Box::new(scenes::Metronome::new(bpm, seeds.main, tl)), None, 1.0),
            Negative::Knocks => {
                let per_min = if p.knocks_per_min > 0.0 { p.knocks_per_min } else { 10.0 };
                (Box::new(noise::Knocks::new(per_min, (0.3, 0.65), seeds.main, tl)), None, 1.0)
            }
        };
        let truth = Truth {
            kind: Kind::None,
            scenario: p.scenario.name().into(),
            model_version: MODEL_VERSION,
            bph: None,
            rate_s_per_day: None,
            beat_error_ms: None,
            amplitude_deg: None,
            lift_angle_deg: None,
            recorder_ppm: p.recorder_ppm,
            snr_db: p.snr_db,
            sample_rate_hz: p.sample_rate_hz,
            duration_s: tl.recorder_time(tl.frames()),
            frames: tl.frames(),
            channels: p.channels,
            seed: p.seed,
            jitter_us: None,
            period_s: None,
            unlock_to_drop_ms: None,
            amplitude_by_convention_deg: None,
            beat_error_offset_deg: None,
            tic_to_toc_ms: None,
            toc_to_tic_ms: None,
            first_unlock_s: None,
            first_side: None,
            signal_power: 0.0,
            noise_rms: 0.0,
            hum_hz: None,
            hum_db: None,
            knocks_per_min: 0.0,
            babble_db: None,
            dropouts_per_min: 0.0,
            metronome_bpm: match p.scenario {
                Negative::Metronome { bpm } => Some(bpm),
                _ => None,
            },
            sample_format: None,
            params: Scenario::None(p.clone()),
        };
        let level = rms.map_or(Level::Gain(gain), |r| Level::Rms(r, gain));
        let mut s = Synth::assemble(main, level, &common, &seeds, truth)?;
        if p.scenario == Negative::Knocks {
            s.truth.knocks_per_min = if p.knocks_per_min > 0.0 { p.knocks_per_min } else { 10.0 };
        }
        Ok(s)
    }

    /// A recording of any `main` sound (e.g. a further kind of watch) with the shared
    /// interference. `main` is scaled by `gain`, or to RMS `target_rms` when given; `truth`
    /// supplies the kind-specific fields and the level fields are filled in here.
    pub fn from_generator(
        main: Box<dyn Generator>,
        gain: f64,
        target_rms: Option<f64>,
        common: &Common,
        truth: Truth,
    ) -> Result<Self, Error> {
        common.validate()?;
        let level = target_rms.map_or(Level::Gain(gain), |r| Level::Rms(r, gain));
        Synth::assemble(main, level, common, &Seeds::new(common.seed), truth)
    }

    fn assemble(
        mut main: Box<dyn Generator>,
        level: Level,
        c: &Common,
        seeds: &Seeds,
        mut truth: Truth,
    ) -> Result<Self, Error> {
        let tl = Timeline::new(c.sample_rate_hz, c.recorder_ppm, c.frames());
        let mut scratch = vec![0.0f64; CHUNK];
        // Pre-pass: the exact mean power (and peak) of the clean reference sound, as rendered.
        let (raw_power, raw_peak) = power_and_peak(main.as_mut(), tl.frames(), &mut scratch);
        let main_gain = match level {
            Level::Gain(g) => g,
            Level::Rms(r, _) if raw_power > 0.0 => r / raw_power.sqrt(),
            Level::Rms(_, g) => g,
            Level::Peak(p) if raw_peak > 0.0 => p / raw_peak,
            Level::Peak(p) => p,
        };
        let power = raw_power * main_gain * main_gain;
        let relative = c.snr_db.is_some() || c.hum_hz.is_some() || c.babble_db.is_some();
        if relative && (power.is_nan() || power <= 0.0) {
            return Err(Error::invalid(
                "noise, hum and babble levels are relative to the sound, and it is silent",
            ));
        }
        let noise_sigma = c.snr_db.map_or(0.0, |s| (power / 10f64.powf(s / 10.0)).sqrt());
        let hum = c
            .hum_hz
            .map(|hz| (noise::Hum::new(hz, seeds.hum, tl), (power * 10f64.powf(c.hum_db / 10.0)).sqrt()));
        let babble = match c.babble_db {
            Some(db) => {
                let mut b = babble::Babble::new(3, seeds.babble, tl);
                let pb = mean_power(&mut b, tl.frames(), &mut scratch);
                let g = if pb > 0.0 { (power * 10f64.powf(db / 10.0) / pb).sqrt() } else { 0.0 };
                Some((b, g))
            }
            None => None,
        };
        let knocks = (c.knocks_per_min > 0.0)
            .then(|| noise::Knocks::new(c.knocks_per_min, (0.35, 0.6), seeds.knocks, tl));
        let dropouts =
            (c.dropouts_per_min > 0.0).then(|| noise::Dropouts::new(c.dropouts_per_min, seeds.dropouts, tl));
        let streams = if c.decorrelated_channels { c.channels as usize } else { 1 };
        let noise = (0..streams).map(|i| noise::WhiteNoise::new(seeds.noise[i])).collect();
        truth.signal_power = power;
        truth.noise_rms = noise_sigma;
        truth.hum_hz = c.hum_hz;
        truth.hum_db = c.hum_hz.map(|_| c.hum_db);
        truth.knocks_per_min = c.knocks_per_min;
        truth.babble_db = c.babble_db;
        truth.dropouts_per_min = c.dropouts_per_min;
        let info = AudioInfo {
            sample_rate_hz: c.sample_rate_hz,
            channels: c.channels,
            frames: Some(tl.frames()),
            encoding: format!("synthetic {} f32", truth.scenario),
        };
        Ok(Synth {
            info,
            timeline: tl,
            truth,
            main,
            main_gain,
            knocks,
            babble,
            hum,
            dropouts,
            noise,
            noise_sigma,
            clock: None,
            voicing: None,
            main_peak: raw_peak * main_gain,
            clip_limit: f64::INFINITY,
            scratch,
            pos: 0,
            clipped: 0,
        })
    }
}
