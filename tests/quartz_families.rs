//! The quartz synthesiser's sound families, faults and step-timing jitter: each sounds as the
//! docs of `synth::quartz` say, while the steps stay where the timing model puts them.
use std::process::Command;
use tickproof::source::BlockSource;
use tickproof::synth::quartz::{QuartzParams, QuartzSynth, QuartzTruth, SynthStep};
use tickproof::synth::{SoundFamily, Span, WeakStretch};

fn read_all(s: &mut QuartzSynth, block: usize) -> Vec<f32> {
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; block];
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// A short recording with almost no noise (so the sound itself can be inspected).
fn quiet(family: SoundFamily) -> QuartzParams {
    QuartzParams {
        sample_rate_hz: 48_000,
        duration_s: 8.0,
        rate_s_per_month: 9.0,
        inhibition_period_s: Some(10),
        inhibition_ppm: 12.0,
        snr_db: 150.0,
        recorder_ppm: 20.0,
        seed: 23,
        family,
        ..QuartzParams::default()
    }
}

fn render(p: &QuartzParams) -> (QuartzSynth, Vec<f32>) {
    let mut s = QuartzSynth::new(p).unwrap();
    let x = read_all(&mut s, 4096);
    (s, x)
}

fn peak(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |p, v| p.max(v.abs() as f64))
}

/// The samples from `a_ms` to `b_ms` after a step's onset.
fn after<'a>(x: &'a [f32], st: &SynthStep, fs: f64, a_ms: f64, b_ms: f64) -> &'a [f32] {
    let i = (st.t_recorder_s * fs + a_ms * 1e-3 * fs).ceil() as usize;
    let j = (st.t_recorder_s * fs + b_ms * 1e-3 * fs).ceil() as usize;
    &x[i.min(x.len())..j.min(x.len())]
}

/// The truth with the family left out, to compare truths across families.
fn without_family(mut t: QuartzTruth) -> QuartzTruth {
    t.family = SoundFamily::Classic;
    t
}

#[test]
fn every_quartz_family_renders_deterministically_and_rewinds_to_the_same_samples() {
    for family in SoundFamily::ALL {
        let p = QuartzParams { snr_db: 20.0, ..quiet(family) };
        let (mut s, a) = render(&p);
        s.rewind().unwrap();
        let b = read_all(&mut s, 333);
        assert!(a == b, "{family}: rewinding or another block size changed the samples");
        let (_, c) = render(&p);
        assert!(a == c, "{family}: the same params gave other samples");
        assert_eq!(a.len(), 8 * 48_000);
        assert!(peak(&a) > 0.1, "{family} is silent");
        if !family.is_classic() {
            // Every family but classic is scaled to a clean peak of exactly the motor's level.
            assert!((s.clean_peak() - p.motor.level).abs() < 1e-12, "{family}: {}", s.clean_peak());
        }
    }
}

#[test]
fn classic_quartz_samples_are_those_of_the_model_before_the_families() {
    // FNV-1a of the 16-bit samples `tickproof synth --kind quartz` wrote for these params
    // before the families existed (--duration-s 25 --step-interval-s 4 --recorder-ppm 30
    // --seed 7 --snr-db 12; 48 kHz, no inhibition).
    let p = QuartzParams {
        sample_rate_hz: 48_000,
        duration_s: 25.0,
        inhibition_period_s: None,
        step_interval_s: 4,
        recorder_ppm: 30.0,
        seed: 7,
        snr_db: 12.0,
        ..QuartzParams::default()
    };
    let (_, x) = render(&p);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in &x {
        for b in ((v.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    assert_eq!(h, CLASSIC_HASH, "classic quartz samples changed: {h:#x}");
}

const CLASSIC_HASH: u64 = 0x15fa_5fdf_466b_875d;

#[test]
fn a_family_changes_the_sound_but_not_the_step_times_or_the_truth() {
    let (classic, xc) = render(&quiet(SoundFamily::Classic));
    assert!(classic.steps().len() >= 7);
    for family in SoundFamily::ALL.into_iter().filter(|f| !f.is_classic()) {
        let (s, x) = render(&quiet(family));
        assert_eq!(s.steps(), classic.steps(), "{family}: the steps moved");
        assert_eq!(without_family(s.truth()), without_family(classic.truth()), "{family}");
        assert_eq!(s.truth().family, family);
        assert!(x != xc, "{family} sounds like classic");
    }
}

#[test]
fn resonant_steps_are_never_alike_sample_for_sample_while_classic_ones_are() {
    let fs = 48_000.0;
    // Normalised correlation of the first 3 ms of two even steps, aligned on their onsets to the
    // nearest sample (the sub-sample offset left costs at most ~1% at these frequencies).
    let corr = |x: &[f32], s: &QuartzSynth| {
        let even: Vec<&SynthStep> = s.steps().iter().filter(|st| st.class == 0).collect();
        let (a, b) = (after(x, even[0], fs, 0.0, 3.0), after(x, even[1], fs, 0.0, 3.0));
        let dot: f64 = a.iter().zip(b).map(|(u, v)| *u as f64 * *v as f64).sum();
        let na: f64 = a.iter().map(|u| (*u as f64).powi(2)).sum();
        let nb: f64 = b.iter().map(|u| (*u as f64).powi(2)).sum();
        dot / (na * nb).sqrt()
    };
    let (c, xc) = render(&quiet(SoundFamily::Classic));
    let (r, xr) = render(&quiet(SoundFamily::Resonant));
    let (cc, cr) = (corr(&xc, &c), corr(&xr, &r));
    assert!(cc > 0.95, "classic steps differ: {cc}");
    assert!(cr < 0.9, "resonant steps are alike: {cr}");
}

#[test]
fn double_click_family_follows_each_step_with_a_weaker_click_0_2_to_0_8_ms_later() {
    let s = QuartzSynth::new(&quiet(SoundFamily::UnlockLoud)).unwrap();
    let c = s.voicing().and_then(|v| v.secondary).expect("unlock-loud has secondary clicks");
    for (d, g) in [(c.after_unlock_ms, c.unlock_gain), (c.after_drop_ms, c.drop_gain)] {
        assert!((0.2..=0.8).contains(&d) && (0.25..=0.45).contains(&g), "{d} ms, gain {g}");
    }
    for family in [SoundFamily::Resonant, SoundFamily::Contact, SoundFamily::Echo] {
        let s = QuartzSynth::new(&quiet(family)).unwrap();
        assert!(s.voicing().unwrap().secondary.is_none(), "{family}");
    }
    // The second click is heard. Until its first tap (2 ms or later) the echo family is the dry
    // motor sound, so an even double-click step is that sound scaled until the delay, and not
    // after it.
    let fs = 48_000.0;
    let (d, x) = render(&quiet(SoundFamily::UnlockLoud));
    let (_, dry) = render(&quiet(SoundFamily::Echo));
    let st = d.steps().iter().find(|st| st.class == 0).unwrap();
    let (a, b) = (after(&x, st, fs, 0.0, 1.8), after(&dry, st, fs, 0.0, 1.8));
    let split = ((c.after_unlock_ms * 1e-3 + st.t_recorder_s) * fs).ceil() as usize
        - (st.t_recorder_s * fs).ceil() as usize;
    let k = a[..split].iter().zip(b).map(|(u, v)| *u as f64 * *v as f64).sum::<f64>()
        / b[..split].iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
    let misfit = |r: std::ops::Range<usize>| {
        r.map(|i| (a[i] as f64 - k * b[i] as f64).abs()).fold(0.0, f64::max) / peak(a)
    };
    let (before, later) = (misfit(0..split), misfit(split + 2..a.len()));
    assert!(before < 1e-4 && later > 0.05, "before the second click {before}, after {later}");
    assert!(QuartzSynth::new(&quiet(SoundFamily::Classic)).unwrap().voicing().is_none());
}

#[test]
fn contact_family_rings_on_long_after_a_classic_click_has_died() {
    let fs = 48_000.0;
    let tail = |family| {
        let (s, x) = render(&quiet(family));
        let st = &s.steps()[2];
        peak(after(&x, st, fs, 6.0, 9.0)) / peak(after(&x, st, fs, 0.0, 3.0))
    };
    let (classic, contact) = (tail(SoundFamily::Classic), tail(SoundFamily::Contact));
    assert!(classic < 0.01, "classic tail {classic}");
    assert!(contact > 10.0 * classic && contact > 0.02, "contact tail {contact} vs classic {classic}");
}

#[test]
fn echo_family_puts_delayed_copies_of_each_step_after_it() {
    let fs = 48_000.0;
    let p = quiet(SoundFamily::Echo);
    let (s, x) = render(&p);
    let taps = &s.voicing().unwrap().echo;
    assert!((3..=6).contains(&taps.len()));
    let last = taps.last().unwrap();
    assert!(last.delay_ms > 11.0, "this seed's last echo ({} ms) would fall inside the click", last.delay_ms);
    let (_, xc) = render(&quiet(SoundFamily::Classic));
    let st = &s.steps()[3];
    // After a classic click (10 ms) there is silence; the echo's last tap is heard there.
    let w = (last.delay_ms, last.delay_ms + 1.5);
    assert!(peak(after(&xc, st, fs, w.0, w.1)) < 1e-5);
    let heard = peak(after(&x, st, fs, w.0, w.1)) / peak(after(&x, st, fs, 0.0, 2.0));
    assert!(heard > 0.3 * last.gain, "echo at {} ms heard at {heard} (gain {})", last.delay_ms, last.gain);
}

#[test]
fn clipping_caps_every_sample_at_the_clip_level_of_the_clean_peak_in_every_family() {
    for family in SoundFamily::ALL {
        let p = QuartzParams { snr_db: 25.0, clip_level: Some(0.5), ..quiet(family) };
        let (s, x) = render(&p);
        let lim = 0.5 * s.clean_peak();
        let at_limit = x.iter().filter(|v| (v.abs() as f64 - lim).abs() < 1e-6).count();
        assert!(peak(&x) <= lim + 1e-6, "{family}: {} above {lim}", peak(&x));
        assert!(at_limit >= 7, "{family}: only {at_limit} samples clipped");
        let (_, unclipped) = render(&QuartzParams { clip_level: None, ..p.clone() });
        assert!(peak(&unclipped) > 1.5 * lim, "{family}");
        assert_eq!(s.truth().clip_level, Some(0.5));
    }
}

#[test]
fn a_weak_stretch_softens_its_steps_and_a_noise_gap_silences_the_watch_in_every_family() {
    let fs = 48_000.0;
    for family in SoundFamily::ALL {
        let weak = WeakStretch { start_s: 2.0, end_s: 4.0, level: 0.2 };
        let gap = Span { start_s: 5.0, end_s: 6.5 };
        let p = QuartzParams { weak_stretch: Some(weak), noise_gap: Some(gap), ..quiet(family) };
        let (s, x) = render(&p);
        let (plain, xp) = render(&quiet(family));
        assert_eq!(s.steps().len(), plain.steps().len(), "{family}: steps were dropped");
        for (st, sp) in s.steps().iter().zip(plain.steps()) {
            assert_eq!(st.t_true_s, sp.t_true_s);
            let inside = st.t_recorder_s >= weak.start_s && st.t_recorder_s < weak.end_s;
            let want = if inside { 0.2 } else { 1.0 };
            assert!((st.level / sp.level - want).abs() < 1e-12, "{family}");
        }
        let gap_samples = &x[(gap.start_s * fs) as usize..(gap.end_s * fs) as usize];
        assert!(peak(gap_samples) < 1e-5, "{family}: the watch is heard in the gap");
        assert!(peak(&xp[(gap.start_s * fs) as usize..(gap.end_s * fs) as usize]) > 0.05);
        let (t, pt) = (s.truth(), plain.truth());
        assert_eq!((t.weak_stretch, t.noise_gap), (Some(weak), Some(gap)));
        assert_eq!(
            (t.steps, t.rate_s_per_month, t.first_inhibition_s),
            (pt.steps, pt.rate_s_per_month, pt.first_inhibition_s)
        );
    }
}

#[test]
fn jitter_of_80_us_scatters_the_truths_step_times_by_about_80_us_around_the_model() {
    let base =
        QuartzParams { duration_s: 600.0, sample_rate_hz: 22_050, snr_db: 20.0, ..QuartzParams::default() };
    let exact = QuartzSynth::new(&base).unwrap();
    let p = QuartzParams { jitter_us: 80.0, ..base.clone() };
    let s = QuartzSynth::new(&p).unwrap();
    assert!(exact.steps().iter().all(|st| st.jitter_s == 0.0));
    assert_eq!(s.steps().len(), exact.steps().len());
    let mut dev = Vec::new();
    for (st, ex) in s.steps().iter().zip(exact.steps()) {
        // The offset is in the step's time, and is all that moved.
        assert!((st.t_true_s - ex.t_true_s - st.jitter_s).abs() < 1e-12);
        assert!((st.t_recorder_s - st.t_true_s * (1.0 + p.recorder_ppm * 1e-6)).abs() < 1e-12);
        assert_eq!((st.class, st.level), (ex.class, ex.level));
        dev.push(st.jitter_s * 1e6);
    }
    let n = dev.len() as f64;
    let mean = dev.iter().sum::<f64>() / n;
    let rms = (dev.iter().map(|d| d * d).sum::<f64>() / n).sqrt();
    assert!(mean.abs() < 4.0 * 80.0 / n.sqrt(), "mean offset {mean} us");
    assert!((rms - 80.0).abs() < 8.0, "rms {rms} us");
    let t = s.truth();
    assert_eq!(t.jitter_us, 80.0);
    assert!((t.jitter_realised_rms_us - rms).abs() < 1e-9);
    assert_eq!(exact.truth().jitter_realised_rms_us, 0.0);
    // The rate is the model's whatever the jitter.
    assert_eq!(t.rate_s_per_month, exact.truth().rate_s_per_month);
}

#[test]
fn jitter_works_with_every_family_and_keeps_the_steps_whatever_the_family() {
    let p = |family| QuartzParams { jitter_us: 150.0, ..quiet(family) };
    let (c, _) = render(&p(SoundFamily::Classic));
    for family in SoundFamily::ALL {
        let (s, x) = render(&p(family));
        assert_eq!(s.steps(), c.steps(), "{family}");
        assert!(peak(&x) > 0.1, "{family}");
    }
}

#[test]
fn an_older_quartz_truth_or_params_json_without_the_families_still_parses_as_classic() {
    let s = QuartzSynth::new(&QuartzParams { jitter_us: 5.0, ..quiet(SoundFamily::Echo) }).unwrap();
    let mut truth = serde_json::to_value(s.truth()).unwrap();
    let mut params = serde_json::to_value(quiet(SoundFamily::Echo)).unwrap();
    for k in ["family", "jitter_us", "jitter_realised_rms_us", "clip_level", "weak_stretch", "noise_gap"] {
        assert!(truth.get(k).is_some(), "the truth has no {k}");
        truth.as_object_mut().unwrap().remove(k);
        params.as_object_mut().unwrap().remove(k);
    }
    let t: QuartzTruth = serde_json::from_value(truth).unwrap();
    assert_eq!((t.family, t.jitter_us, t.clip_level), (SoundFamily::Classic, 0.0, None));
    let q: QuartzParams = serde_json::from_value(params).unwrap();
    assert_eq!(q, quiet(SoundFamily::Classic));
    assert_eq!(serde_json::to_value(s.truth()).unwrap()["family"], "echo");
}

#[test]
fn bad_quartz_fault_and_jitter_settings_are_refused_naming_the_flag() {
    let base = quiet(SoundFamily::Resonant);
    for (p, flag) in [
        (QuartzParams { clip_level: Some(0.05), ..base.clone() }, "--clip"),
        (QuartzParams { clip_level: Some(f64::NAN), ..base.clone() }, "--clip"),
        (QuartzParams { jitter_us: -1.0, ..base.clone() }, "--jitter-us"),
        (QuartzParams { jitter_us: 5000.0, ..base.clone() }, "--jitter-us"),
        (
            QuartzParams {
                weak_stretch: Some(WeakStretch { start_s: 1.0, end_s: 9.0, level: 0.1 }),
                ..base.clone()
            },
            "--weak-stretch",
        ),
        (
            QuartzParams {
                weak_stretch: Some(WeakStretch { start_s: 1.0, end_s: 2.0, level: 2.0 }),
                ..base.clone()
            },
            "--weak-stretch level",
        ),
        (QuartzParams { noise_gap: Some(Span { start_s: 3.0, end_s: 2.0 }), ..base.clone() }, "--noise-gap"),
    ] {
        let e = QuartzSynth::new(&p).err().expect(flag).to_string();
        assert!(e.contains(flag) && !e.contains('\n'), "{flag}: {e}");
    }
}

fn tickproof() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickproof"))
}

#[test]
fn synth_kind_quartz_writes_every_family_with_its_faults_and_jitter_into_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    for family in ["classic", "resonant", "unlock-loud", "contact", "echo"] {
        let out = dir.path().join(format!("q-{family}.wav"));
        let st = tickproof()
            .arg("synth")
            .arg(&out)
            .args(["--kind", "quartz", "--family", family, "--duration-s", "4", "--clip", "0.6"])
            .args(["--weak-stretch", "1,2,0.1", "--noise-gap", "2.5,3", "--jitter-us", "40"])
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(0), "{family}: {}", String::from_utf8_lossy(&st.stderr));
        assert!(String::from_utf8_lossy(&st.stdout).contains(&format!("{family} sound")));
        let t: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("q-{family}.truth.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(t["kind"], "quartz");
        assert_eq!(t["family"], family);
        assert_eq!(t["clip_level"], 0.6);
        assert_eq!(t["jitter_us"], 40.0);
        assert!(t["jitter_realised_rms_us"].as_f64().unwrap() > 0.0);
        assert_eq!(t["weak_stretch"], serde_json::json!({"start_s": 1.0, "end_s": 2.0, "level": 0.1}));
        assert_eq!(t["noise_gap"], serde_json::json!({"start_s": 2.5, "end_s": 3.0}));
        assert_eq!(hound::WavReader::open(&out).unwrap().duration(), 4 * 48_000);
    }
    // A bad fault is still refused in one line naming the file, and nothing is written.
    let out = dir.path().join("bad.wav");
    let st = tickproof().arg("synth").arg(&out).args(["--kind", "quartz", "--clip", "3"]).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(err.contains("bad.wav") && err.contains("--clip") && err.trim().lines().count() == 1, "{err}");
    assert!(!out.exists());
}

/// The issue-11 target for every family: 60 s, no inhibition, SNR 20 dB, recorder known: a
/// rate with u95 <= 2 s/month that covers the truth. Steps whose waveform changes from step to
/// step (resonant) are timed by a fit with a free phase per resonance (`beats::clicks::partials`).
#[test]
fn quartz_analysis_gives_a_rate_within_2_s_per_month_for_every_family() {
    let dir = tempfile::tempdir().unwrap();
    for family in ["classic", "resonant", "unlock-loud", "contact", "echo"] {
        let out = dir.path().join(format!("a-{family}.wav"));
        let st = tickproof()
            .arg("synth")
            .arg(&out)
            .args(["--kind", "quartz", "--family", family, "--duration-s", "60"])
            .args(["--rate-s-per-month", "12", "--snr-db", "20", "--seed", "5"])
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(0));
        let st = tickproof()
            .arg("analyze")
            .arg(&out)
            .args(["--kind", "quartz", "--recorder-ppm", "0", "--json"])
            .output()
            .unwrap();
        assert_eq!(st.status.code(), Some(0), "{family}");
        let j: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
        let r = &j["rate_s_per_month"];
        let (v, u) = (r["value"].as_f64().unwrap(), r["u95"].as_f64().unwrap());
        assert!(u <= 2.0 && (v - 12.0).abs() <= u, "{family}: {v} +- {u} s/month");
    }
}
