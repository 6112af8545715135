//! The bundled fixtures are exactly what the synthesiser makes from their truth files.
use std::path::Path;
use tickproof::cli::synth::render;
use tickproof::measurement::Kind;
use tickproof::synth::{SampleFormat, Scenario, SoundFamily, Truth, MODEL_VERSION};

const EXPECTED: [&str; 9] = [
    "mech-21600bph-rate+8.0-be0.40ms-amp250-snr20dB-48k-20s",
    "mech-28800bph-rate-12.5-be1.20ms-amp300-snr15dB-hum50-knocks6-44.1k-20s",
    "mech-18000bph-rate+5.0-be0.80ms-amp280-snr22dB-resonant-48k-20s",
    "mech-25200bph-rate-3.0-be0.30ms-amp260-snr20dB-contact-44.1k-20s",
    "mech-36000bph-rate+15.0-be0.50ms-amp240-snr25dB-echo-44.1k-20s",
    "mech-19800bph-rate-7.5-be1.00ms-amp290-snr23dB-unlock-loud-44.1k-20s",
    "none-speech-48k-10s",
    "none-noise-48k-10s",
    "none-metronome-100bpm-48k-10s",
];

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn truth(name: &str) -> Truth {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.truth.json"))).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}.truth.json: {e}"))
}

#[test]
fn fixtures_regenerate_byte_identically() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".truth.json"))
        else {
            continue;
        };
        let t = truth(name);
        assert_eq!(t.model_version, MODEL_VERSION, "{name}: made by another model version");
        let (wav, json) = render(&t.params, t.sample_format.expect("format recorded")).unwrap();
        let on_disk = std::fs::read(fixtures().join(format!("{name}.wav"))).unwrap();
        assert!(wav == on_disk, "{name}.wav differs from what the synthesiser makes now");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(json, text, "{name}.truth.json differs");
        seen += 1;
    }
    assert!(seen >= EXPECTED.len());
}

#[test]
fn fixture_names_state_their_content() {
    for name in EXPECTED {
        let t = truth(name);
        assert_eq!(t.sample_format, Some(SampleFormat::I16));
        assert_eq!(t.channels, 1);
        let khz = if t.sample_rate_hz == 44_100 {
            "44.1k".to_string()
        } else {
            format!("{}k", t.sample_rate_hz / 1000)
        };
        assert!(name.contains(&format!("-{khz}-{}s", t.duration_s)), "{name}");
        match t.kind {
            Kind::Mechanical => {
                let want = format!(
                    "mech-{}bph-rate{:+.1}-be{:.2}ms-amp{}-snr{}dB",
                    t.bph.unwrap(),
                    t.rate_s_per_day.unwrap(),
                    t.beat_error_ms.unwrap(),
                    t.amplitude_deg.unwrap(),
                    t.snr_db.unwrap()
                );
                assert!(name.starts_with(&want), "{name} vs {want}");
                assert_eq!(t.lift_angle_deg, Some(52.0));
                // A family other than classic is named just before the sample rate.
                let Scenario::Mechanical(p) = &t.params else { panic!("{name}: not a watch recipe") };
                let named = SoundFamily::ALL.iter().find(|f| name.contains(&format!("-{}-{khz}", f.name())));
                assert_eq!(named.copied().unwrap_or(SoundFamily::Classic), p.family, "{name}");
            }
            _ => assert!(name.starts_with(&format!("none-{}", t.scenario)), "{name}"),
        }
    }
    // The demo recording is exactly the one the Makefile names.
    let demo = truth(EXPECTED[0]);
    assert_eq!((demo.bph, demo.sample_rate_hz, demo.duration_s), (Some(21600), 48_000, 20.0));
    assert!((demo.rate_s_per_day.unwrap() - 8.0).abs() < 1e-9);
    assert!((demo.beat_error_ms.unwrap() - 0.4).abs() < 1e-12);
    assert_eq!((demo.amplitude_deg, demo.snr_db), (Some(250.0), Some(20.0)));
}

#[test]
fn fixtures_stay_small() {
    let total: u64 =
        std::fs::read_dir(fixtures()).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    // Four 20 s watch recordings, one per new sound family, joined the original five.
    assert!(total < 16 << 20, "fixtures take {total} bytes");
}
