//! The sound families and faults: each sounds as its docs say, on the escapement's exact beats.
use tickproof::source::BlockSource;
use tickproof::synth::{
    BeatEvent, MechanicalParams, Scenario, SoundFamily, Span, Synth, WeakStretch, WATCH_LEVEL,
};

/// Reads a whole synth into memory in blocks of `block` frames.
fn read_all(s: &mut Synth, block: usize) -> Vec<f32> {
    let ch = s.info().channels as usize;
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; block * ch];
    loop {
        let n = s.read_frames(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n * ch]);
    }
    out
}

fn watch(family: SoundFamily) -> MechanicalParams {
    MechanicalParams {
        bph: 18000,
        rate_s_per_day: 6.0,
        beat_error_ms: 0.6,
        amplitude_deg: 260.0,
        duration_s: 4.0,
        seed: 41,
        family,
        ..MechanicalParams::default()
    }
}

fn render(p: &MechanicalParams) -> (Synth, Vec<f32>) {
    let mut s = Synth::mechanical(p).unwrap();
    let x = read_all(&mut s, 4096);
    (s, x)
}

/// Sample index of a recorder time, rounded up (the first sample at or after it).
fn idx(t_rec_s: f64, fs: u32) -> usize {
    (t_rec_s * fs as f64).ceil() as usize
}

fn peak(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |p, v| p.max(v.abs() as f64))
}

/// Largest |sample| of the recorder-time window `[a, b)`.
fn window_peak(x: &[f32], fs: u32, a: f64, b: f64) -> f64 {
    let (i, j) = (idx(a, fs).min(x.len()), idx(b, fs).min(x.len()));
    peak(&x[i..j])
}

fn whole_beats(s: &Synth) -> Vec<BeatEvent> {
    let end = s.truth().duration_s - 0.05;
    s.beat_events(usize::MAX).into_iter().filter(|b| b.drop_rec_s + 0.01 < end).collect()
}

#[test]
fn every_family_renders_rewinds_to_the_same_samples_and_keeps_the_escapements_beats() {
    let (classic, _) = render(&watch(SoundFamily::Classic));
    for family in SoundFamily::ALL {
        let p = watch(family);
        let mut s = Synth::mechanical(&p).unwrap();
        let a = read_all(&mut s, 4096);
        s.rewind().unwrap();
        let b = read_all(&mut s, 333);
        assert!(a == b, "{family}: rewinding or another block size changed the samples");
        assert!(peak(&a) > 0.05, "{family} is silent");
        // Timing truth is the escapement's, whatever the family.
        assert_eq!(s.beat_events(usize::MAX), classic.beat_events(usize::MAX), "{family}");
        let (t, c) = (s.truth(), classic.truth());
        assert_eq!(
            (t.rate_s_per_day, t.beat_error_ms, t.amplitude_by_convention_deg, t.unlock_to_drop_ms),
            (c.rate_s_per_day, c.beat_error_ms, c.amplitude_by_convention_deg, c.unlock_to_drop_ms),
            "{family}"
        );
        assert_eq!(s.voicing().unwrap().family, family);
        if family != SoundFamily::Classic {
            // The clean sound of every other family peaks at exactly the watch level.
            assert!((peak(&a) - WATCH_LEVEL).abs() < 1e-6, "{family}: peak {}", peak(&a));
        }
        // Where nothing rings on between beats (not the contact microphone's case), the beat
        // starts at its unlock to the sample: silence just before, sound from it on.
        if family != SoundFamily::Contact {
            for beat in whole_beats(&s).iter().skip(1) {
                let n = idx(beat.unlock_rec_s, 48_000);
                assert_eq!(a[n - 1], 0.0, "{family}: sound before the unlock at {}", beat.unlock_rec_s);
                assert!(
                    a[n..n + 8].iter().any(|v| *v != 0.0),
                    "{family}: no unlock at {}",
                    beat.unlock_rec_s
                );
            }
        }
        // Its truth records the family and parses back to the same recipe.
        let json = s.truth().to_json();
        assert_eq!(json.contains("\"family\""), family != SoundFamily::Classic, "{family}");
        let back: tickproof::synth::Truth = serde_json::from_str(&json).unwrap();
        assert_eq!(back.params, Scenario::Mechanical(p));
    }
}

/// Largest normalised cross-correlation of two equally long windows over lags of +-`lags`.
fn best_correlation(a: &[f32], b: &[f32], lags: usize) -> f64 {
    let n = a.len() - 2 * lags;
    let x = &a[lags..lags + n];
    let ex: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum();
    (0..=2 * lags)
        .map(|l| {
            let y = &b[l..l + n];
            let ey: f64 = y.iter().map(|v| (*v as f64).powi(2)).sum();
            let xy: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
            xy / (ex * ey).sqrt()
        })
        .fold(f64::MIN, f64::max)
}

/// Correlations of successive tics (same side), each window from its unlock to 2 ms after its
/// drop, at 192 kHz so a whole-sample alignment is within 5 us.
fn tic_correlations(family: SoundFamily) -> Vec<f64> {
    let fs = 192_000;
    let p = MechanicalParams { sample_rate_hz: fs, amplitude_wobble: 0.0, ..watch(family) };
    let (s, x) = render(&p);
    let beats = whole_beats(&s);
    let len = idx(beats[0].drop_rec_s - beats[0].unlock_rec_s + 2e-3, fs);
    let win = |b: &BeatEvent| {
        let i = idx(b.unlock_rec_s, fs) - 4;
        x[i..i + len + 8].to_vec()
    };
    let tics: Vec<&BeatEvent> = beats.iter().step_by(2).collect();
    tics.windows(2).map(|w| best_correlation(&win(w[0]), &win(w[1]), 4)).collect()
}

#[test]
fn resonant_beats_differ_from_one_another_while_classic_ones_repeat() {
    let classic = tic_correlations(SoundFamily::Classic);
    let resonant = tic_correlations(SoundFamily::Resonant);
    assert!(resonant.len() >= 6);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(classic.iter().all(|c| *c > 0.99), "classic {classic:?}");
    assert!(resonant.iter().all(|c| *c < 0.97), "resonant {resonant:?}");
    assert!(mean(&resonant) < 0.8, "resonant {resonant:?}");
}

#[test]
fn unlock_loud_beats_are_louder_at_the_unlock_than_at_the_drop() {
    for seed in [41, 7] {
        let p = MechanicalParams { seed, ..watch(SoundFamily::UnlockLoud) };
        let (s, x) = render(&p);
        let v = s.voicing().unwrap();
        assert!(v.event_gains[0] > v.event_gains[2] && v.secondary.is_some());
        for b in whole_beats(&s) {
            let unlock = window_peak(&x, 48_000, b.unlock_rec_s, b.impulse_rec_s);
            let drop = window_peak(&x, 48_000, b.drop_rec_s, b.drop_rec_s + 2e-3);
            assert!(unlock > 1.1 * drop, "seed {seed} beat {}: unlock {unlock} drop {drop}", b.index);
        }
        // The classic watch of the same recipe is the other way round.
        let (c, y) = render(&MechanicalParams { family: SoundFamily::Classic, ..p });
        let b = &whole_beats(&c)[1];
        assert!(
            window_peak(&y, 48_000, b.unlock_rec_s, b.impulse_rec_s)
                < window_peak(&y, 48_000, b.drop_rec_s, b.drop_rec_s + 2e-3)
        );
    }
}

#[test]
fn echo_puts_copies_of_the_sound_at_each_echo_delay() {
    let (dry_s, dry) = render(&watch(SoundFamily::Classic));
    let (s, wet) = render(&watch(SoundFamily::Echo));
    let taps = &s.voicing().unwrap().echo;
    assert!((3..=6).contains(&taps.len()));
    // wet = k (dry + sum g_i dry(n - d_i)): its correlation with the dry sound at lag d_i,
    // over that at lag 0, is g_i (up to the dry sound's own small correlations at that lag).
    let xcorr = |lag: usize| -> f64 {
        dry[..dry.len() - lag].iter().zip(&wet[lag..]).map(|(a, b)| *a as f64 * *b as f64).sum()
    };
    let r0 = xcorr(0);
    for tap in taps {
        assert!((2.0..=40.0).contains(&tap.delay_ms));
        let lag = (tap.delay_ms * 48.0).round() as usize;
        let ratio = xcorr(lag) / r0;
        assert!((ratio - tap.gain).abs() < 0.03 + 0.2 * tap.gain, "tap {tap:?}: {ratio}");
        assert!(tap.gain > 0.02, "{tap:?}");
    }
    // The classic sound has no energy 6-45 ms after a drop; the echo has.
    for b in whole_beats(&dry_s).iter().take(6) {
        let (a, z) = (b.drop_rec_s + 6e-3, b.drop_rec_s + 45e-3);
        assert_eq!(window_peak(&dry, 48_000, a, z), 0.0);
        assert!(window_peak(&wet, 48_000, a, z) > 0.02 * WATCH_LEVEL, "beat {}", b.index);
    }
}

#[test]
fn contact_microphone_rings_on_long_after_each_drop() {
    let (s, x) = render(&watch(SoundFamily::Contact));
    let (c, y) = render(&watch(SoundFamily::Classic));
    let response = s.voicing().unwrap().contact.unwrap();
    assert!((3.0..=15.0).contains(&response.ring_decay_ms) && (1000.0..=4000.0).contains(&response.band_hz));
    for (b, bc) in whole_beats(&s).iter().zip(whole_beats(&c)).take(8) {
        let (a, z) = (b.drop_rec_s + 3e-3, b.drop_rec_s + 8e-3);
        let tail = window_peak(&x, 48_000, a, z) / window_peak(&x, 48_000, b.unlock_rec_s, z);
        let classic_tail = window_peak(&y, 48_000, a, z) / window_peak(&y, 48_000, bc.unlock_rec_s, z);
        assert!(tail > 0.1, "beat {}: contact tail {tail}", b.index);
        assert!(classic_tail < 0.02, "beat {}: classic tail {classic_tail}", bc.index);
    }
}

#[test]
fn clipping_bounds_the_peak_of_the_whole_recording() {
    for family in [SoundFamily::Classic, SoundFamily::Contact] {
        let base = MechanicalParams { snr_db: Some(20.0), knocks_per_min: 30.0, ..watch(family) };
        let (free_s, free) = render(&base);
        let (s, x) = render(&MechanicalParams { clip_level: Some(0.4), ..base.clone() });
        let limit = 0.4 * s.clean_peak();
        assert_eq!(s.clean_peak(), free_s.clean_peak());
        assert!(peak(&free) > limit * 1.5, "{family}: nothing to clip");
        assert!(peak(&x) <= limit as f32 as f64 * (1.0 + 1e-6), "{family}: {} > {limit}", peak(&x));
        let at_limit = x.iter().filter(|v| (v.abs() as f64 - limit).abs() < 1e-6).count();
        assert!(at_limit > 100, "{family}: {at_limit} samples at the limit");
        // Below the limit, nothing changes.
        let same = x.iter().zip(&free).filter(|(a, b)| (b.abs() as f64) < limit * 0.999 && a != b).count();
        assert_eq!(same, 0, "{family}");
    }
}

#[test]
fn a_weak_stretch_keeps_only_a_weak_unlock_of_each_beat() {
    let weak = WeakStretch { start_s: 1.0, end_s: 2.5, level: 0.1 };
    for family in SoundFamily::ALL {
        let p = MechanicalParams { weak_stretch: Some(weak), ..watch(family) };
        let (s, x) = render(&p);
        let (_, normal) = render(&watch(family));
        let fs = 48_000;
        let mut inside = 0;
        for b in whole_beats(&s) {
            let drop = window_peak(&x, fs, b.drop_rec_s, b.drop_rec_s + 1e-3);
            let unlock = window_peak(&x, fs, b.unlock_rec_s, b.unlock_rec_s + 0.5e-3);
            let normal_drop = window_peak(&normal, fs, b.drop_rec_s, b.drop_rec_s + 1e-3);
            if b.unlock_rec_s >= weak.start_s + 0.05 && b.drop_rec_s < weak.end_s {
                inside += 1;
                assert!(unlock > 0.0, "{family}: no pulse at {}", b.unlock_rec_s);
                assert!(
                    drop < 0.15 * normal_drop,
                    "{family}: a drop at {} ({drop} vs {normal_drop})",
                    b.drop_rec_s
                );
                if !matches!(family, SoundFamily::Contact | SoundFamily::Echo) {
                    assert_eq!(drop, 0.0, "{family}: a drop at {}", b.drop_rec_s);
                }
            } else if b.unlock_rec_s >= weak.end_s + 0.1 || b.drop_rec_s + 0.1 < weak.start_s {
                // The same sound (the level is set by the peak, which the stretch may hold).
                let same = (drop - normal_drop).abs() <= 1e-4 * normal_drop;
                assert!(same, "{family}: outside the stretch at {}: {drop} vs {normal_drop}", b.drop_rec_s);
            }
        }
        assert!(inside >= 5, "{family}: {inside} beats in the stretch");
    }
}

#[test]
fn a_noise_gap_leaves_only_the_noise() {
    let gap = Span { start_s: 1.2, end_s: 2.1 };
    let fs = 48_000;
    for family in SoundFamily::ALL {
        let p = MechanicalParams { noise_gap: Some(gap), ..watch(family) };
        let (_, clean) = render(&p);
        let (i, j) = (idx(gap.start_s, fs), idx(gap.end_s, fs));
        assert!(clean[i..j].iter().all(|v| *v == 0.0), "{family}: the watch is heard in the gap");
        assert!(peak(&clean[j..j + fs as usize / 4]) > 0.05, "{family}: no watch after the gap");
        // With noise: the gap holds the noise at its own level, and nothing else.
        let (s, noisy) = render(&MechanicalParams { snr_db: Some(20.0), ..p });
        let sigma = s.truth().noise_rms;
        let var = noisy[i..j].iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / (j - i) as f64;
        assert!((var.sqrt() / sigma - 1.0).abs() < 0.02, "{family}: {} vs {sigma}", var.sqrt());
    }
}

#[test]
fn faults_out_of_range_are_refused_naming_the_flag() {
    let base = watch(SoundFamily::Resonant);
    for (p, flag) in [
        (MechanicalParams { clip_level: Some(0.05), ..base.clone() }, "--clip"),
        (MechanicalParams { clip_level: Some(f64::NAN), ..base.clone() }, "--clip"),
        (
            MechanicalParams {
                weak_stretch: Some(WeakStretch { start_s: 2.0, end_s: 1.0, level: 0.1 }),
                ..base.clone()
            },
            "--weak-stretch",
        ),
        (
            MechanicalParams {
                weak_stretch: Some(WeakStretch { start_s: 1.0, end_s: 5.0, level: 0.1 }),
                ..base.clone()
            },
            "--weak-stretch",
        ),
        (
            MechanicalParams {
                weak_stretch: Some(WeakStretch { start_s: 1.0, end_s: 2.0, level: 1.5 }),
                ..base.clone()
            },
            "--weak-stretch level",
        ),
        (
            MechanicalParams { noise_gap: Some(Span { start_s: -1.0, end_s: 1.0 }), ..base.clone() },
            "--noise-gap",
        ),
    ] {
        let e = Synth::mechanical(&p).unwrap_err().to_string();
        assert!(e.starts_with(flag) && !e.contains('\n'), "{flag}: {e}");
    }
}

#[test]
fn truth_files_without_a_family_are_classic_and_unknown_fields_are_refused() {
    let json = serde_json::to_value(MechanicalParams::default()).unwrap();
    for key in ["family", "clip_level", "weak_stretch", "noise_gap"] {
        assert!(json.get(key).is_none(), "{key} written for a classic recording without faults");
    }
    let back: MechanicalParams = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.family, SoundFamily::Classic);
    let mut bad = json;
    bad["weak_stretch"] = serde_json::json!({"start_s": 1.0, "end_s": 2.0, "level": 0.1, "extra": 1});
    assert!(serde_json::from_value::<MechanicalParams>(bad).is_err());
    let p = MechanicalParams {
        family: SoundFamily::UnlockLoud,
        clip_level: Some(0.5),
        noise_gap: Some(Span { start_s: 1.0, end_s: 2.0 }),
        ..MechanicalParams::default()
    };
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["family"], "unlock-loud");
    assert_eq!(v["noise_gap"]["end_s"], 2.0);
    assert_eq!(serde_json::from_value::<MechanicalParams>(v).unwrap(), p);
}
