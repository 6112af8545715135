//! Development probe: every case of the synthetic sweep, one line each, worst first by a chosen
//! figure. `cargo run --release --example sweepcases [rate|be|amp] [FAMILY]`;
//! `sweepcases write CASE OUT.wav` writes one case's recording (32-bit float) and its truth.
use tickproof::evaluate::{run_case, sweep_cases, SweepConfig};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let by = a.get(1).map(String::as_str).unwrap_or("be");
    if by == "write" {
        let (name, out) = (&a[2], &a[3]);
        let case = sweep_cases(&SweepConfig::full()).into_iter().find(|c| &c.name == name).expect("case");
        let mut s = tickproof::synth::Synth::new(&case.scenario).expect("synthesises");
        let f = std::io::BufWriter::new(std::fs::File::create(out).expect("writable"));
        tickproof::synth::write_wav(&mut s, tickproof::synth::SampleFormat::F32, f).expect("written");
        std::fs::write(format!("{out}.truth.json"), s.truth().to_json()).expect("written");
        return;
    }
    let family = a.get(2).cloned();
    let cases: Vec<_> =
        sweep_cases(&SweepConfig::full()).into_iter().filter(|c| c.name.starts_with("watch")).collect();
    let mut rows: Vec<_> = std::thread::scope(|s| {
        let half = cases.len() / 2;
        let (x, y) = cases.split_at(half);
        let h = s.spawn(move || x.iter().map(run_case).collect::<Vec<_>>());
        let mut r: Vec<_> = y.iter().map(run_case).collect();
        r.extend(h.join().expect("worker"));
        r
    });
    rows.retain(|r| family.as_ref().is_none_or(|f| r.family.map(|x| x.name()) == Some(f.as_str())));
    let key = |r: &tickproof::evaluate::CaseResult| {
        let f = match by {
            "rate" => r.rate_s_per_day,
            "amp" => r.amplitude_deg,
            _ => r.beat_error_ms,
        };
        f.map_or(f64::INFINITY, |f| f.value.abs() / f.u95.max(1e-12))
    };
    // Median u95 per family at SNR >= 20 dB (the usefulness target: 0.05 ms, 2 deg).
    for fam in tickproof::synth::SoundFamily::ALL {
        let med = |pick: &dyn Fn(&tickproof::evaluate::CaseResult) -> Option<f64>| {
            let mut v: Vec<f64> = rows
                .iter()
                .filter(|r| r.family == Some(fam) && r.snr_band.label().starts_with("20"))
                .filter_map(pick)
                .collect();
            v.sort_by(|a, b| a.total_cmp(b));
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        // At SNR >= 10 dB: the share within the targets (0.05 s/day, 0.03 ms, 2 deg).
        let good: Vec<_> = rows
            .iter()
            .filter(|r| {
                r.family == Some(fam)
                    && (r.snr_band.label().starts_with("10") || r.snr_band.label().starts_with("20"))
            })
            .collect();
        let share = |ok: &dyn Fn(&tickproof::evaluate::CaseResult) -> bool| {
            100.0 * good.iter().filter(|r| ok(r)).count() as f64 / good.len().max(1) as f64
        };
        println!(
            "{:12} median u95 at >= 20 dB: rate {:.4} s/day, beat error {:.4} ms, amplitude {:.2} deg; \
             at >= 10 dB within target: rate {:.0}%, beat error {:.0}%, amplitude {:.0}%",
            fam.name(),
            med(&|r| r.rate_s_per_day.map(|f| f.u95)),
            med(&|r| r.beat_error_ms.map(|f| f.u95)),
            med(&|r| r.amplitude_deg.map(|f| f.u95)),
            share(&|r| r.rate_s_per_day.is_some_and(|f| f.value.abs() <= 0.05)),
            share(&|r| r.beat_error_ms.is_some_and(|f| f.value.abs() <= 0.03)),
            share(&|r| r.amplitude_deg.is_some_and(|f| f.value.abs() <= 2.0)),
        );
    }
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)));
    let shown = if std::env::var_os("ALL").is_some() { rows.len() } else { 25 };
    for r in rows.iter().take(shown) {
        let f = |x: Option<tickproof::measurement::Figure>| {
            x.map_or("-".to_string(), |x| format!("{:+.4}±{:.4}", x.value, x.u95))
        };
        println!(
            "{:32} {:12} rate {:18} be {:18} amp {:18} {}",
            r.name,
            r.family.map_or("-", |x| x.name()),
            f(r.rate_s_per_day),
            f(r.beat_error_ms),
            f(r.amplitude_deg),
            r.reason.as_deref().unwrap_or("")
        );
    }
}
