//! `tickproof synth OUT.wav`: write a recording with known truth and `OUT.truth.json` beside it.
use super::{ExitCode, Failure};
use crate::synth::{
    self, MechanicalParams, Negative, NegativeParams, SampleFormat, Scenario, SoundFamily, Span, Synth,
    WeakStretch,
};
use std::path::{Path, PathBuf};

/// What to synthesise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// A mechanical watch (escapement model).
    Mechanical,
    /// A quartz watch's stepper motor (rate in s/month, inhibition, end of life).
    Quartz,
    /// White noise, no watch.
    Noise,
    /// Pink noise, no watch.
    PinkNoise,
    /// Speech-like babble, no watch.
    Speech,
    /// Chords in a rhythm, no watch.
    Music,
    /// Digital zero.
    Silence,
    /// Near-zero dither.
    Dither,
    /// A click train at --metronome-bpm.
    Metronome,
    /// Knocks alone.
    Knocks,
}

/// How a watch's beats sound (the families of `synth::family`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FamilyArg {
    /// The original model: one fixed sound per movement, the drop loudest.
    Classic,
    /// Damped resonances with new phases and jittered partials at every beat.
    Resonant,
    /// The unlock loudest, with a close secondary click after the unlock and the drop (quartz:
    /// a double click, a weaker click 0.2-0.8 ms after each step).
    UnlockLoud,
    /// A contact microphone: band-limited (1-4 kHz) with a long case ringing (3-15 ms).
    Contact,
    /// Room echo: 3-6 delayed, attenuated copies of the sound (2-40 ms).
    Echo,
}

impl FamilyArg {
    /// The library's family.
    pub fn family(self) -> SoundFamily {
        match self {
            FamilyArg::Classic => SoundFamily::Classic,
            FamilyArg::Resonant => SoundFamily::Resonant,
            FamilyArg::UnlockLoud => SoundFamily::UnlockLoud,
            FamilyArg::Contact => SoundFamily::Contact,
            FamilyArg::Echo => SoundFamily::Echo,
        }
    }
}

/// Sample encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// 8-bit unsigned PCM.
    U8,
    /// 16-bit PCM.
    I16,
    /// 24-bit PCM.
    I24,
    /// 32-bit PCM.
    I32,
    /// 32-bit float.
    F32,
}

/// Raw arguments of `synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The WAV file to write (the truth goes to the same name with `.truth.json`).
    pub out: PathBuf,
    /// What the recording holds.
    #[arg(long, value_enum, default_value = "mechanical")]
    pub kind: KindArg,
    /// Beats per hour (3600..72000).
    #[arg(long, default_value_t = 28800)]
    pub bph: u32,
    /// Rate, s/day (+ = gains).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub rate_s_per_day: f64,
    /// Quartz rate, s/month (+ = gains; --kind quartz).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub rate_s_per_month: f64,
    /// Quartz inhibition period, seconds (--kind quartz; omit for none).
    #[arg(long)]
    pub inhibition_period_s: Option<u32>,
    /// Quartz inhibition correction, ppm of the oscillator (--kind quartz).
    #[arg(long, default_value_t = 10.0)]
    pub inhibition_ppm: f64,
    /// Seconds between hand steps: 1 normal, 2/4/5 at battery end of life (--kind quartz).
    #[arg(long, default_value_t = 1)]
    pub step_interval_s: u32,
    /// Beat error, ms.
    #[arg(long, default_value_t = 0.0)]
    pub beat_error_ms: f64,
    /// Balance amplitude, degrees.
    #[arg(long, default_value_t = 270.0)]
    pub amplitude_deg: f64,
    /// Lift angle, degrees.
    #[arg(long, default_value_t = 52.0)]
    pub lift_angle_deg: f64,
    /// Fraction of the lift angle from unlock to impulse.
    #[arg(long, default_value_t = 0.15)]
    pub impulse_fraction: f64,
    /// RMS beat-to-beat timing jitter, microseconds (quartz: step to step, zero-mean Gaussian,
    /// the offsets in the truth).
    #[arg(long, default_value_t = 0.0)]
    pub jitter_us: f64,
    /// RMS beat-to-beat loudness variation (relative).
    #[arg(long, default_value_t = 0.03)]
    pub amplitude_wobble: f64,
    /// White-noise SNR in dB (mean power of the clean signal over the noise power); none if absent.
    #[arg(long, allow_negative_numbers = true)]
    pub snr_db: Option<f64>,
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    pub sample_rate_hz: u32,
    /// Length, seconds (default 20 for a watch, 10 otherwise).
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// Recorder clock error, ppm (+ = fast).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub recorder_ppm: f64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Mains hum fundamental, Hz (50 or 60); none if absent.
    #[arg(long)]
    pub hum_hz: Option<f64>,
    /// Hum power relative to the signal, dB.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub hum_db: f64,
    /// Knocks a minute.
    #[arg(long, default_value_t = 0.0)]
    pub knocks_per_min: f64,
    /// Speech babble power relative to the signal, dB; none if absent.
    #[arg(long, allow_negative_numbers = true)]
    pub babble_db: Option<f64>,
    /// Dropouts (silenced spans) a minute.
    #[arg(long, default_value_t = 0.0)]
    pub dropouts_per_min: f64,
    /// How the watch's beats sound (--kind mechanical or quartz).
    #[arg(long, value_enum, default_value = "classic")]
    pub family: FamilyArg,
    /// Fault: clip the recording hard at LEVEL times the clean watch's peak (0.1..1).
    #[arg(long, value_name = "LEVEL", allow_negative_numbers = true)]
    pub clip: Option<f64>,
    /// Fault: from START to END seconds only a weak unlock-like pulse of each beat remains, at
    /// LEVEL (0..1) times the loudest sub-event (e.g. 5,9,0.1).
    #[arg(long, value_name = "START,END,LEVEL", allow_hyphen_values = true)]
    pub weak_stretch: Option<String>,
    /// Fault: from START to END seconds the watch is not heard, noise only (e.g. 12,14).
    #[arg(long, value_name = "START,END", allow_hyphen_values = true)]
    pub noise_gap: Option<String>,
    /// Metronome clicks a minute (--kind metronome).
    #[arg(long, default_value_t = 100.0)]
    pub metronome_bpm: f64,
    /// Channels (the same ticks in each).
    #[arg(long, default_value_t = 1)]
    pub channels: u16,
    /// Independent noise in each channel.
    #[arg(long)]
    pub decorrelated: bool,
    /// Sample encoding.
    #[arg(long, value_enum, default_value = "i16")]
    pub format: FormatArg,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
    /// Print the truth as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The truth file beside a recording: `NAME.wav` -> `NAME.truth.json`.
pub fn truth_path(out: &Path) -> PathBuf {
    out.with_extension("truth.json")
}

/// Parses `N` comma-separated numbers of a flag's value, or says in one line what it wants.
fn numbers<const N: usize>(flag: &str, form: &str, text: &str) -> Result<[f64; N], String> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let bad = || format!("{flag} {text:?} is not {form} (numbers separated by commas)");
    if parts.len() != N {
        return Err(bad());
    }
    let mut out = [0.0; N];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse::<f64>().map_err(|_| bad())?;
    }
    Ok(out)
}

impl Args {
    /// The fault stretches: (weak stretch, noise gap), or a one-line reason.
    pub fn stretches(&self) -> Result<(Option<WeakStretch>, Option<Span>), String> {
        let weak = match &self.weak_stretch {
            Some(t) => {
                let [start_s, end_s, level] = numbers::<3>("--weak-stretch", "START,END,LEVEL", t)?;
                Some(WeakStretch { start_s, end_s, level })
            }
            None => None,
        };
        let gap = match &self.noise_gap {
            Some(t) => {
                let [start_s, end_s] = numbers::<2>("--noise-gap", "START,END", t)?;
                Some(Span { start_s, end_s })
            }
            None => None,
        };
        Ok((weak, gap))
    }

    /// Resolves the raw arguments into a scenario (the fault stretches must parse: see
    /// [`Args::stretches`]; unparsable ones are left out here).
    pub fn scenario(&self) -> Scenario {
        let negative = |scenario: Negative| {
            Scenario::None(NegativeParams {
                scenario,
                sample_rate_hz: self.sample_rate_hz,
                duration_s: self.duration_s.unwrap_or(10.0),
                recorder_ppm: self.recorder_ppm,
                seed: self.seed,
                channels: self.channels,
                decorrelated_channels: self.decorrelated,
                snr_db: self.snr_db,
                hum_hz: self.hum_hz,
                hum_db: self.hum_db,
                knocks_per_min: self.knocks_per_min,
                babble_db: self.babble_db,
                dropouts_per_min: self.dropouts_per_min,
            })
        };
        match self.kind {
            KindArg::Mechanical => Scenario::Mechanical(MechanicalParams {
                bph: self.bph,
                rate_s_per_day: self.rate_s_per_day,
                beat_error_ms: self.beat_error_ms,
                amplitude_deg: self.amplitude_deg,
                lift_angle_deg: self.lift_angle_deg,
                impulse_fraction: self.impulse_fraction,
                jitter_us: self.jitter_us,
                amplitude_wobble: self.amplitude_wobble,
                sample_rate_hz: self.sample_rate_hz,
                duration_s: self.duration_s.unwrap_or(20.0),
                recorder_ppm: self.recorder_ppm,
                seed: self.seed,
                channels: self.channels,
                decorrelated_channels: self.decorrelated,
                snr_db: self.snr_db,
                hum_hz: self.hum_hz,
                hum_db: self.hum_db,
                knocks_per_min: self.knocks_per_min,
                babble_db: self.babble_db,
                dropouts_per_min: self.dropouts_per_min,
                family: self.family.family(),
                clip_level: self.clip,
                weak_stretch: self.stretches().ok().and_then(|s| s.0),
                noise_gap: self.stretches().ok().and_then(|s| s.1),
                ..MechanicalParams::default()
            }),
            KindArg::Noise => negative(Negative::Noise),
            KindArg::PinkNoise => negative(Negative::PinkNoise),
            KindArg::Speech => negative(Negative::Speech),
            KindArg::Music => negative(Negative::Music),
            KindArg::Silence => negative(Negative::Silence),
            KindArg::Dither => negative(Negative::Dither),
            KindArg::Metronome => negative(Negative::Metronome { bpm: self.metronome_bpm }),
            KindArg::Knocks => negative(Negative::Knocks),
            KindArg::Quartz => unreachable!("quartz is written by write_quartz"),
        }
    }

    fn sample_format(&self) -> SampleFormat {
        match self.format {
            FormatArg::U8 => SampleFormat::U8,
            FormatArg::I16 => SampleFormat::I16,
            FormatArg::I24 => SampleFormat::I24,
            FormatArg::I32 => SampleFormat::I32,
            FormatArg::F32 => SampleFormat::F32,
        }
    }
}

/// Renders `scenario` as WAV bytes in `format` and its truth JSON text, all in memory.
pub fn render(scenario: &Scenario, format: SampleFormat) -> Result<(Vec<u8>, String), synth::Error> {
    let mut s = Synth::new(scenario)?;
    let mut truth = s.truth();
    truth.sample_format = Some(format);
    let mut cur = std::io::Cursor::new(Vec::new());
    synth::write_wav(&mut s, format, &mut cur).map_err(|e| synth::Error::invalid(e.to_string()))?;
    Ok((cur.into_inner(), truth.to_json()))
}

/// A temporary name in the same folder as `dest`.
fn temp_beside(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Moves `tmp` to `dest`, refusing to replace an existing `dest` unless `force`.
fn place(tmp: &Path, dest: &Path, force: bool) -> std::io::Result<()> {
    if force {
        return std::fs::rename(tmp, dest);
    }
    // A hard link fails if `dest` exists: no window in which another file could be replaced.
    match std::fs::hard_link(tmp, dest) {
        Ok(()) => std::fs::remove_file(tmp),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if !dest.exists() => std::fs::rename(tmp, dest),
        Err(e) => Err(e),
    }
}

/// Writes a recording (by `write_audio` into a path) and its truth text through temporaries
/// beside them, then moves both into place: nothing half-written is left behind, and a
/// recording never stands without its truth file.
fn write_pair(
    out: &Path,
    truth_out: &Path,
    force: bool,
    write_audio: impl FnOnce(&Path) -> Result<(), String>,
    truth: &str,
) -> Result<(), Failure> {
    let tmp_wav = temp_beside(out);
    let tmp_truth = temp_beside(truth_out);
    let cleanup = || {
        let _ = std::fs::remove_file(&tmp_wav);
        let _ = std::fs::remove_file(&tmp_truth);
    };
    let storage = |p: &Path, e: &dyn std::fmt::Display| {
        cleanup();
        Failure::new(ExitCode::Storage, format!("{}: cannot write: {e}", p.display()))
    };
    write_audio(&tmp_wav).map_err(|e| storage(out, &e))?;
    std::fs::write(&tmp_truth, truth).map_err(|e| storage(truth_out, &e))?;
    for (tmp, dest) in [(&tmp_wav, out), (&tmp_truth, truth_out)] {
        if let Err(e) = place(tmp, dest, force) {
            cleanup();
            if dest == truth_out {
                let _ = std::fs::remove_file(out);
            }
            let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
                ExitCode::Usage
            } else {
                ExitCode::Storage
            };
            return Err(Failure::new(code, format!("{}: cannot write: {e}", dest.display())));
        }
    }
    Ok(())
}

/// Runs `synth`.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let out = args.out.clone();
    let truth_out = truth_path(&out);
    let shown = out.display().to_string();
    if out.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()) != Some("wav".into()) {
        return Err(Failure::usage(format!("{shown}: the output must end in .wav")));
    }
    if !args.force {
        for p in [&out, &truth_out] {
            if p.exists() {
                return Err(Failure::usage(format!(
                    "{}: already exists (use --force to replace it)",
                    p.display()
                )));
            }
        }
    }
    let watch_only = args.family != FamilyArg::Classic
        || args.clip.is_some()
        || args.weak_stretch.is_some()
        || args.noise_gap.is_some();
    if watch_only && !matches!(args.kind, KindArg::Mechanical | KindArg::Quartz) {
        return Err(Failure::usage(format!(
            "{shown}: --family, --clip, --weak-stretch and --noise-gap need --kind mechanical or quartz"
        )));
    }
    args.stretches().map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    if matches!(args.kind, KindArg::Quartz) {
        return write_quartz(&args, &out, &truth_out);
    }
    let scenario = args.scenario();
    let format = args.sample_format();
    let mut s = Synth::new(&scenario).map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let mut truth = s.truth();
    truth.sample_format = Some(format);
    write_pair(
        &out,
        &truth_out,
        args.force,
        |tmp| {
            let f = std::fs::File::create(tmp).map_err(|e| e.to_string())?;
            synth::write_wav(&mut s, format, std::io::BufWriter::new(f))
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
        &truth.to_json(),
    )?;
    if args.json {
        print_truth(&truth)?;
    } else {
        let clipped = s.clipped_samples();
        let what = match (truth.bph, truth.rate_s_per_day, truth.beat_error_ms, truth.amplitude_deg) {
            (Some(b), Some(r), Some(be), Some(a)) => {
                let family = match &truth.params {
                    Scenario::Mechanical(p) => p.family,
                    _ => SoundFamily::Classic,
                };
                format!(
                    "mechanical {b} bph, rate {r:+.3} s/day, beat error {be:.3} ms, amplitude {a:.1} deg, {family} sound"
                )
            }
            _ => format!("no watch ({})", truth.scenario),
        };
        crate::outln!(
            "wrote {shown} ({what}, {:.1} s at {} Hz, {}{}) and {}",
            truth.duration_s,
            truth.sample_rate_hz,
            format.name(),
            if clipped > 0 { format!(", {clipped} samples clipped") } else { String::new() },
            truth_out.display()
        );
    }
    Ok(ExitCode::Ok)
}

/// `synth --json`: the truth written beside the recording, naming its schema
/// (`schema/synth.v1.json`; the truth file itself carries no `schema` field).
fn print_truth(truth: &impl serde::Serialize) -> Result<(), Failure> {
    let v = super::schema::tagged(super::schema::SYNTH, truth)?;
    let text = serde_json::to_string_pretty(&v)
        .map_err(|e| Failure::new(ExitCode::Internal, format!("cannot write JSON: {e}")))?;
    crate::outln!("{text}");
    Ok(())
}

/// `synth --kind quartz`: the stepper-motor model of [`synth::quartz`], written the same way
/// (temporary files, then moved into place; never replacing without `--force`).
fn write_quartz(args: &Args, out: &Path, truth_out: &Path) -> Result<ExitCode, Failure> {
    use crate::source::BlockSource;
    use synth::quartz::{QuartzParams, QuartzSynth};
    let shown = out.display().to_string();
    let (weak_stretch, noise_gap) = args.stretches().map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let p = QuartzParams {
        sample_rate_hz: args.sample_rate_hz,
        duration_s: args.duration_s.unwrap_or(130.0),
        rate_s_per_month: args.rate_s_per_month,
        inhibition_period_s: args.inhibition_period_s,
        inhibition_ppm: args.inhibition_ppm,
        step_interval_s: args.step_interval_s,
        snr_db: args.snr_db.unwrap_or(30.0),
        recorder_ppm: args.recorder_ppm,
        seed: args.seed,
        family: args.family.family(),
        jitter_us: args.jitter_us,
        clip_level: args.clip,
        weak_stretch,
        noise_gap,
        ..QuartzParams::default()
    };
    let mut q = QuartzSynth::new(&p).map_err(|e| Failure::usage(format!("{shown}: {e}")))?;
    let quartz_truth = q.truth();
    let truth = serde_json::to_string_pretty(&quartz_truth).expect("truth serialises") + "\n";
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: args.sample_rate_hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    write_pair(
        out,
        truth_out,
        args.force,
        |tmp| {
            let mut w = hound::WavWriter::create(tmp, spec).map_err(|e| e.to_string())?;
            let mut buf = vec![0.0f32; 4096];
            loop {
                let n = q.read_frames(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                for &v in &buf[..n] {
                    w.write_sample((v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                        .map_err(|e| e.to_string())?;
                }
            }
            w.finalize().map_err(|e| e.to_string())
        },
        &truth,
    )?;
    if args.json {
        print_truth(&quartz_truth)?;
    } else {
        let clipped = q.clipped_samples();
        crate::outln!(
            "wrote {shown} (quartz, {:+.2} s/month, steps every {} s, {} sound{}) and {}",
            p.rate_s_per_month,
            p.step_interval_s,
            p.family,
            if clipped > 0 { format!(", {clipped} samples clipped") } else { String::new() },
            truth_out.display()
        );
    }
    Ok(ExitCode::Ok)
}
