//! The dial log: readings of the display against a reference give the average daily rate with
//! a u95 from the reading resolution; bad logs are refused with the line named.
mod verdict_support;
use tickproof::synth::rng::Rng;
use tickproof::verdict::{builtin, judge_dial_log, DialLog, Movement, Outcome};

fn hms(t: f64) -> String {
    let s = t.rem_euclid(86_400.0).floor() as i64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// A log of a watch gaining `rate` s/day, read to the second every `every_h` hours for `days`,
/// the reference at whole minutes plus a little jitter.
fn synth_log(rng: &mut Rng, rate: f64, days: f64, every_h: f64) -> String {
    let start = 1_714_550_400.0; // 2024-05-01T08:00:00Z
    let offset0 = rng.range(-30.0, 30.0);
    let mut out = String::from("# reference_utc,watch_reading\nreference_utc,watch_reading\n");
    let mut t = 0.0;
    while t <= days * 86_400.0 + 1.0 {
        let reference = start + t + rng.range(0.0, 5.0).floor();
        let watch = reference + offset0 + rate * (reference - start) / 86_400.0;
        let secs = reference as i64 - 1_714_521_600; // seconds since 2024-05-01T00:00:00Z
        let (d, s) = (1 + secs / 86_400, secs % 86_400);
        out.push_str(&format!("2024-05-{d:02}T{}Z,{}\n", hms(s as f64), hms(watch)));
        t += every_h * 3600.0;
    }
    out
}

#[test]
fn a_dial_log_recovers_a_known_rate_within_its_u95() {
    let mut rng = Rng::new(42);
    let mut covered = 0;
    let n = 300;
    for i in 0..n {
        let rate = rng.range(-25.0, 25.0);
        let days = [1.0, 3.0, 7.0][i % 3];
        let log = DialLog::parse(&synth_log(&mut rng, rate, days, 12.0), "log.csv").unwrap();
        let r = log.rate(1.0).unwrap();
        assert!(
            (r.rate_s_per_day.value - rate).abs() < 1.0 / days,
            "{rate} over {days} d: {:?}",
            r.rate_s_per_day
        );
        if r.rate_s_per_day.covers(rate) {
            covered += 1;
        }
    }
    let cov = covered as f64 / n as f64;
    assert!(cov >= 0.93, "coverage {cov}");
}

#[test]
fn two_readings_a_week_apart_give_the_rate_to_a_fraction_of_a_second_a_day() {
    let text = "2024-05-01T09:00:00Z,09:00:03\n2024-05-08T09:00:00Z,09:01:48\n";
    let r = DialLog::parse(text, "t").unwrap().rate(1.0).unwrap();
    assert!((r.rate_s_per_day.value - 15.0).abs() < 1e-9);
    // 2 * sqrt(2) * (1/sqrt 12) / 7 days.
    assert!((r.rate_s_per_day.u95 - 2.0 * 2f64.sqrt() / 12f64.sqrt() / 7.0).abs() < 1e-9);
    assert_eq!(r.readings, 2);
    assert!((r.span_days - 7.0).abs() < 1e-12);
}

#[test]
fn a_twelve_hour_display_and_a_time_zone_do_not_change_the_rate() {
    let a =
        "2024-05-01T09:00:00Z,12:00:03\n2024-05-01T21:00:00Z,12:00:10\n2024-05-02T09:00:00+00:00,12:00:18\n";
    let r = DialLog::parse(a, "t").unwrap().rate(1.0).unwrap();
    assert!((r.rate_s_per_day.value - 15.0).abs() < 1e-9, "{:?}", r.rate_s_per_day);
}

#[test]
fn full_date_time_watch_readings_work_too() {
    let a = "2024-05-01 09:00:00,2024-05-01 09:00:00.5\n2024-05-03 09:00:00,2024-05-03 08:59:50.5\n";
    let r = DialLog::parse(a, "t").unwrap().rate(0.1).unwrap();
    assert!((r.rate_s_per_day.value + 5.0).abs() < 1e-9);
}

#[test]
fn bad_dial_logs_are_refused_with_the_line_named() {
    let cases: [(&str, &str); 7] = [
        (
            "2024-05-01T09:00:00Z,09:00:03\n2024-05-01T08:00:00Z,08:00:04\n",
            "log.csv:2: reference_utc `2024-05-01T08:00:00Z` is not later",
        ),
        (
            "2024-05-01T09:00:00Z,09:00:03\n\n2024-05-02T09:00:00Z,9h00\n",
            "log.csv:3: watch_reading `9h00`: expected HH:MM:SS",
        ),
        (
            "2024-05-01T09:00:00Z,09:00:03,x\n",
            "log.csv:1: expected `reference_utc,watch_reading`, found 3 fields",
        ),
        ("2024-02-30T09:00:00Z,09:00:03\n", "log.csv:1: reference_utc `2024-02-30T09:00:00Z`: day 01-29"),
        (
            "# c\n2024-05-01T25:00:00Z,09:00:03\n",
            "log.csv:2: reference_utc `2024-05-01T25:00:00Z`: hours 0-23",
        ),
        (
            "2024-05-01T09:00:00Z,09:00:03\n2024-05-02T09:00:00Z,2024-05-02T09:00:03\n",
            "log.csv:2: watch_reading: mixes",
        ),
        ("reference_utc,watch_reading\nfoo,bar\n", "log.csv:2: reference_utc `foo`"),
    ];
    for (text, want) in cases {
        let e = DialLog::parse(text, "log.csv").unwrap_err().to_string();
        assert!(e.starts_with(want), "{text:?}: {e}");
    }
    let long = format!("2024-05-01T09:00:00Z,{}\n", "9".repeat(300));
    assert!(DialLog::parse(&long, "log.csv")
        .unwrap_err()
        .to_string()
        .starts_with("log.csv:1: line longer than 256"));
    let one = DialLog::parse("2024-05-01T09:00:00Z,09:00:03\n", "log.csv").unwrap();
    assert_eq!(
        one.rate(1.0).unwrap_err().to_string(),
        "log.csv: a dial log needs at least 2 readings, found 1"
    );
    let quick =
        DialLog::parse("2024-05-01T09:00:00Z,09:00:03\n2024-05-01T09:00:30Z,09:00:33\n", "log.csv").unwrap();
    assert!(quick.rate(1.0).unwrap_err().to_string().contains("less than a minute"));
    assert!(one.rate(0.0).is_err() && one.rate(f64::NAN).is_err());
}

#[test]
fn an_oversized_dial_log_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let line = "2024-05-01T09:00:00Z,09:00:03\n";
    std::fs::write(&path, line.repeat((1 << 20) / line.len() + 2)).unwrap();
    let e = DialLog::from_file(&path).unwrap_err().to_string();
    assert!(e.contains("huge.csv") && e.contains("too large"), "{e}");
}

#[test]
fn scattered_readings_widen_the_u95_and_raise_a_finding() {
    let text =
        "2024-05-01T09:00:00Z,09:00:00\n2024-05-02T09:00:00Z,09:00:30\n2024-05-03T09:00:00Z,09:00:10\n\
                2024-05-04T09:00:00Z,09:00:45\n2024-05-05T09:00:00Z,09:00:20\n";
    let r = DialLog::parse(text, "t").unwrap().rate(1.0).unwrap();
    assert!(r.findings.iter().any(|f| f.code == "dial_log_scatter"));
    assert!(r.rate_s_per_day.u95 > 5.0, "{:?}", r.rate_s_per_day);
}

#[test]
fn a_quartz_dial_log_decides_what_an_uncalibrated_recorder_cannot() {
    // 3 s in 4 days = +22.5 ± 6.1 s/month read to the second: too short to decide against ±20.
    let text = "2024-05-01T09:00:00Z,09:00:00\n2024-05-05T09:00:00Z,09:00:03\n";
    let dial = DialLog::parse(text, "q.csv").unwrap().rate(1.0).unwrap();
    let v = judge_dial_log(&builtin("rankine-ro").unwrap(), Movement::Quartz, None, &dial, &[]);
    assert_eq!(v.verdict, Outcome::Inconclusive, "{:#?}", v.reasons);
    // 13 s in 14 days = +27.9 ± 1.75 s/month: a defect beyond doubt.
    let text = "2024-05-01T09:00:00Z,09:00:00\n2024-05-15T09:00:00Z,09:00:13\n";
    let dial = DialLog::parse(text, "q.csv").unwrap().rate(1.0).unwrap();
    let v = judge_dial_log(&builtin("rankine-ro").unwrap(), Movement::Quartz, None, &dial, &[]);
    assert_eq!(v.verdict, Outcome::Defect, "{:#?}", v.reasons);
    assert!(v.recorder.is_none(), "a dial log does not depend on the recorder");
    assert_eq!(serde_json::to_value(&v).unwrap()["rate_source"], "dial_log");
    let within = "2024-05-01T09:00:00Z,09:00:00\n2024-06-01T09:00:00Z,09:00:05\n";
    let dial = DialLog::parse(within, "q.csv").unwrap().rate(1.0).unwrap();
    let v = judge_dial_log(&builtin("rankine-ro").unwrap(), Movement::Quartz, None, &dial, &[]);
    assert_eq!(v.verdict, Outcome::WithinSpec);
}

#[test]
fn an_inconclusive_dial_log_says_how_many_days_more() {
    let text = "2024-05-01T09:00:00Z,09:00:00\n2024-05-05T09:00:00Z,09:00:03\n";
    let dial = DialLog::parse(text, "q.csv").unwrap().rate(1.0).unwrap();
    let v = judge_dial_log(&builtin("rankine-ro").unwrap(), Movement::Quartz, None, &dial, &[]);
    let t = v.to_decide.unwrap();
    // 6.1 s/month of u95 against 2.5 s/month of margin: about 4 * 6.1 / 2.5 = 9.8 days.
    assert!(t.contains("continue the dial log to about 9.8 days in all (now 4.0)"), "{t}");
}
