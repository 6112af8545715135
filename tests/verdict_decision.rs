//! Verdicts against every built-in policy, at and around each limit, with uncertainty on both
//! sides; findings that redirect a claim; the verdict never contradicting its interval.
mod verdict_support;
use tickproof::measurement::{Figure, Finding};
use tickproof::synth::rng::Rng;
use tickproof::verdict::{
    builtin, compare, judge, judge_with_findings, DecisionRule, ModelSpec, Movement, Outcome, Position,
    RateUnit, Side, Tolerance, Verdict,
};
use verdict_support::*;
use Outcome::*;

fn mech_verdict(policy: &str, rate: f64, u95: f64, spec: Option<&str>) -> Verdict {
    let p = builtin(policy).unwrap();
    let spec = spec.map(|s| ModelSpec::parse(s).unwrap());
    judge(&p, Movement::Mechanical, spec, &five_with_average_u95(rate, u95, 0.5))
}

fn check(policy: &str, v: &Verdict, want: Outcome, rate: f64, u95: f64) {
    assert_eq!(v.verdict, want, "{policy} {rate:+}±{u95}: {:#?}", v.reasons);
    let avg = v.average_rate_s_per_day.unwrap();
    assert!((avg.value - rate).abs() < 1e-9 && (avg.u95 - u95).abs() < 1e-9, "{avg:?}");
    assert!(v.reasons.iter().any(|r| r.starts_with("Decision rule: ")), "rule stated: {:?}", v.reasons);
}

#[test]
fn bultime_mechanical_15_s_per_day_at_and_around_each_limit() {
    let table: [(f64, f64, Outcome); 10] = [
        (14.0, 0.5, WithinSpec),
        (15.8, 0.5, Defect),
        (15.2, 0.5, Inconclusive),
        (14.8, 0.5, Inconclusive),
        (-14.0, 0.5, WithinSpec),
        (-15.8, 0.5, Defect),
        (-15.2, 0.5, Inconclusive),
        (0.0, 0.5, WithinSpec),
        (15.0, 0.1, Inconclusive),
        (40.0, 30.0, Inconclusive),
    ];
    for (rate, u, want) in table {
        let v = mech_verdict("bultime-bg", rate, u, None);
        check("bultime-bg", &v, want, rate, u);
        assert_eq!(v.rule, DecisionRule::GuardedAcceptance);
        if want == Inconclusive {
            assert!(v.to_decide.is_some(), "{rate}: an inconclusive verdict says what would decide it");
        }
    }
}

#[test]
fn simple_acceptance_lets_the_value_decide_and_says_so() {
    let p = simple("bultime-bg");
    let table: [(f64, f64, Outcome); 6] = [
        (14.0, 0.5, WithinSpec),
        (14.8, 0.5, WithinSpec),
        (15.2, 0.5, Defect),
        (15.8, 0.5, Defect),
        (-15.2, 0.5, Defect),
        (-14.8, 0.5, WithinSpec),
    ];
    for (rate, u, want) in table {
        let v = judge(&p, Movement::Mechanical, None, &five_with_average_u95(rate, u, 0.5));
        check("bultime-bg simple", &v, want, rate, u);
        assert_eq!(v.rule, DecisionRule::SimpleAcceptance);
        assert!(v.reasons.iter().any(|r| r.contains("simple acceptance")));
        let risky = (rate.abs() - 15.0).abs() < u;
        assert_eq!(v.reasons[0].contains("real risk of being wrong"), risky, "{rate}: {:?}", v.reasons);
    }
}

#[test]
fn rankine_mechanical_band_defers_to_the_model_between_its_edges() {
    let table: [(f64, f64, Option<&str>, Outcome); 13] = [
        (8.0, 0.5, None, WithinSpec),
        (-9.0, 0.5, None, WithinSpec),
        (9.8, 0.5, None, NeedsModelSpec),
        (20.0, 1.0, None, NeedsModelSpec),
        (29.8, 0.5, None, NeedsModelSpec),
        (31.0, 0.5, None, Defect),
        (-31.0, 0.5, None, Defect),
        (14.0, 0.5, Some("±15"), WithinSpec),
        (16.0, 0.5, Some("±15 s/day"), Defect),
        (15.2, 0.5, Some("-15/+15"), Inconclusive),
        // A model spec tighter than the inner edge: every model is admitted ±10.
        (8.0, 0.5, Some("±5"), WithinSpec),
        // A model spec wider than the outer edge: none may exceed ±30.
        (29.0, 0.5, Some("±40"), WithinSpec),
        (31.0, 0.5, Some("±40"), Defect),
    ];
    for (rate, u, spec, want) in table {
        let v = mech_verdict("rankine-ro", rate, u, spec);
        check("rankine-ro", &v, want, rate, u);
        if want == NeedsModelSpec {
            assert!(v.to_decide.as_deref().unwrap().contains("--model-spec"));
        }
    }
    let v = mech_verdict("rankine-ro", 8.0, 0.5, Some("±5"));
    assert!(v.reasons.iter().any(|r| r.contains("brought within the policy's band")), "{:?}", v.reasons);
    assert_eq!(v.limit.unwrap().max, 10.0);
}

fn quartz_verdict(
    policy: &str,
    rate_month: f64,
    u_month: f64,
    recorder_ppm: f64,
    spec: Option<&str>,
) -> Verdict {
    let p = builtin(policy).unwrap();
    let spec = spec.map(|s| ModelSpec::parse(s).unwrap());
    judge(&p, Movement::Quartz, spec, &[(Position::DU, quartz(rate_month, u_month, recorder_ppm, 1.0))])
}

#[test]
fn rankine_quartz_20_s_per_month_with_a_calibrated_recorder() {
    // Recorder calibrated to ±0.05 ppm = ±0.13 s/month.
    let table: [(f64, Outcome); 7] = [
        (15.0, WithinSpec),
        (-15.0, WithinSpec),
        (23.0, Defect),
        (-23.0, Defect),
        (21.0, Inconclusive),
        (19.0, Inconclusive),
        (-21.0, Inconclusive),
    ];
    for (rate, want) in table {
        let v = quartz_verdict("rankine-ro", rate, 2.0, 0.05, None);
        assert_eq!(v.verdict, want, "{rate}: {:#?}", v.reasons);
        let m = v.average_rate_s_per_month.unwrap();
        assert!((m.value - rate).abs() < 1e-9);
        let c = v.compared.clone().unwrap();
        assert_eq!(c.unit, RateUnit::SPerMonth);
        assert!((c.u95 - m.u95).abs() < 1e-9 && m.u95 > 2.0 && m.u95 < 2.01);
    }
}

#[test]
fn an_uncalibrated_quartz_measurement_cannot_show_a_defect_near_the_limit() {
    for rate in [25.0, 60.0, 200.0, -100.0, 5.0] {
        for p in [builtin("rankine-ro").unwrap(), simple("rankine-ro")] {
            let v = judge(&p, Movement::Quartz, None, &[(Position::DU, quartz(rate, 1.0, 0.0, 1.0))]);
            assert_eq!(v.verdict, Inconclusive, "{rate} {:?}: {:#?}", p.decision_rule, v.reasons);
            let rec = v.recorder.clone().unwrap();
            assert!(rec.assumed && (rec.recorder_u95_s_per_day - 8.64).abs() < 1e-9);
            assert!(v.reasons.iter().any(|r| r.contains("not calibrated") && r.contains("±100 ppm")));
            assert!(v.findings.iter().any(|f| f.code == "recorder_uncalibrated"));
            assert!(v.to_decide.as_deref().unwrap().contains("calibrate the recorder"), "{:?}", v.to_decide);
            assert!(v.to_decide.as_deref().unwrap().contains("dial log"));
        }
    }
    // Far beyond anything the recorder could explain it is a defect even uncalibrated.
    let v = quartz_verdict("rankine-ro", 400.0, 1.0, 0.0, None);
    assert_eq!(v.verdict, Defect, "{:#?}", v.reasons);
}

#[test]
fn alltime_defers_to_the_models_instructions() {
    let v = mech_verdict("alltime-ru", 5.0, 0.5, None);
    check("alltime-ru", &v, NeedsModelSpec, 5.0, 0.5);
    assert!(v.reasons[0].contains("instructions"), "{:?}", v.reasons);
    let table: [(f64, &str, Outcome); 4] = [
        (19.0, "-10/+20", WithinSpec),
        (21.0, "-10/+20", Defect),
        (-10.2, "-10/+20", Inconclusive),
        (-11.0, "-10..+20", Defect),
    ];
    for (rate, spec, want) in table {
        check("alltime-ru", &mech_verdict("alltime-ru", rate, 0.5, Some(spec)), want, rate, 0.5);
    }
    assert_eq!(quartz_verdict("alltime-ru", 10.0, 1.0, 0.05, Some("±15 s/month")).verdict, WithinSpec);
    assert_eq!(quartz_verdict("alltime-ru", 17.0, 1.0, 0.05, Some("±15 s/month")).verdict, Defect);
    assert_eq!(quartz_verdict("alltime-ru", 17.0, 1.0, 0.05, None).verdict, NeedsModelSpec);
}

#[test]
fn timeless_has_no_figure_and_a_four_second_battery_indicator() {
    assert_eq!(mech_verdict("timeless-ge", 3.0, 0.5, None).verdict, NeedsModelSpec);
    assert_eq!(mech_verdict("timeless-ge", 3.0, 0.5, Some("±10")).verdict, WithinSpec);
    let p = builtin("timeless-ge").unwrap();
    let v = judge(&p, Movement::Quartz, None, &[(Position::DU, quartz(90.0, 1.0, 0.05, 4.0))]);
    assert_eq!(v.verdict, NotADefect, "{:#?}", v.reasons);
    assert!(v.reasons[0].contains("4 s") && v.reasons[0].contains("Replace the battery"), "{:?}", v.reasons);
}

#[test]
fn iso3159_chronometer_minus_4_plus_6_at_and_around_each_limit() {
    let table: [(f64, Outcome); 8] = [
        (5.0, WithinSpec),
        (-3.0, WithinSpec),
        (6.8, Defect),
        (-5.0, Defect),
        (6.2, Inconclusive),
        (5.8, Inconclusive),
        (-4.2, Inconclusive),
        (-3.8, Inconclusive),
    ];
    for (rate, want) in table {
        check("iso3159-chronometer", &mech_verdict("iso3159-chronometer", rate, 0.5, None), want, rate, 0.5);
    }
}

#[test]
fn quartz_battery_end_of_life_is_not_a_defect() {
    for (policy, step) in [("rankine-ro", 2.0), ("rankine-ro", 4.0), ("bultime-bg", 2.0), ("alltime-ru", 5.0)]
    {
        let p = builtin(policy).unwrap();
        let v = judge(&p, Movement::Quartz, None, &[(Position::DU, quartz(300.0, 5.0, 0.05, step))]);
        assert_eq!(v.verdict, NotADefect, "{policy} {step}: {:#?}", v.reasons);
        assert!(v.findings.iter().any(|f| f.code == "battery_end_of_life"));
        assert!(v.reasons.iter().any(|r| r.contains("For information")), "{:?}", v.reasons);
    }
    // A step the terms do not name is still recognised, and the verdict says so.
    let v = judge(
        &builtin("rankine-ro").unwrap(),
        Movement::Quartz,
        None,
        &[(Position::DU, quartz(0.0, 5.0, 0.05, 5.0))],
    );
    assert_eq!(v.verdict, NotADefect);
    assert!(v.reasons[0].contains("the terms name steps of 2 or 4 s"), "{:?}", v.reasons);
    // A policy without a battery rule cannot judge the rate of a flat battery either.
    let v = judge(
        &builtin("iso3159-chronometer").unwrap(),
        Movement::Quartz,
        Some(ModelSpec::parse("±15").unwrap()),
        &[(Position::DU, quartz(300.0, 5.0, 0.05, 2.0))],
    );
    assert_eq!(v.verdict, Inconclusive, "{:#?}", v.reasons);
}

fn magnetised() -> Vec<(Position, tickproof::measurement::Measurement)> {
    let mut ps = five_with_average_u95(90.0, 2.0, 0.5);
    for (i, (_, m)) in ps.iter_mut().enumerate() {
        let r = 70.0 + 10.0 * i as f64;
        m.rate_s_per_day = Some(Figure::new(r, m.rate_s_per_day.unwrap().u95));
        m.mechanical.as_mut().unwrap().rate_spread_s_per_day = Some(25.0);
    }
    ps
}

#[test]
fn a_magnetisation_pattern_is_excluded_for_the_technician_to_confirm() {
    for policy in ["bultime-bg", "rankine-ro", "timeless-ge"] {
        let v = judge(&builtin(policy).unwrap(), Movement::Mechanical, None, &magnetised());
        assert_eq!(v.verdict, Excluded, "{policy}: {:#?}", v.reasons);
        assert!(v.reasons[0].contains("demagnetise"), "{:?}", v.reasons);
        assert!(v.reasons[0].contains("To be confirmed by the technician"));
    }
    // A policy that does not exclude magnetisation reports it beside a rate verdict.
    let v = judge(&builtin("iso3159-chronometer").unwrap(), Movement::Mechanical, None, &magnetised());
    assert_eq!(v.verdict, Defect);
    assert!(v.findings.iter().any(|f| f.code == "magnetisation"));
    // A strong but steady gain is not the pattern.
    let steady = five_with_average_u95(90.0, 2.0, 0.5);
    let v = judge(&builtin("bultime-bg").unwrap(), Movement::Mechanical, None, &steady);
    assert_eq!(v.verdict, Defect);
    assert!(!v.findings.iter().any(|f| f.code == "magnetisation"));
}

#[test]
fn a_technician_finding_the_policy_excludes_redirects_the_claim() {
    let shock = [Finding::new("shock", "dented case and a cracked crystal: the watch was dropped")];
    let ps = five_with_average_u95(40.0, 0.5, 0.5);
    let v = judge_with_findings(&builtin("bultime-bg").unwrap(), Movement::Mechanical, None, &ps, &shock);
    assert_eq!(v.verdict, Excluded);
    assert!(v.reasons[0].contains("удар"), "{:?}", v.reasons);
    let v = judge_with_findings(&builtin("timeless-ge").unwrap(), Movement::Mechanical, None, &ps, &shock);
    assert_eq!(v.verdict, NeedsModelSpec, "timeless has no shock rule");
}

#[test]
fn an_incomplete_protocol_cannot_give_a_warranty_verdict() {
    let p = builtin("bultime-bg").unwrap();
    let two: Vec<_> = five_with_average_u95(40.0, 0.5, 0.5).into_iter().take(2).collect();
    let v = judge(&p, Movement::Mechanical, None, &two);
    assert_eq!(v.verdict, Inconclusive, "{:#?}", v.reasons);
    assert!(v.findings.iter().any(|f| f.code == "protocol_incomplete" && f.message.contains("CD, CL, CU")));
    assert!(v.to_decide.unwrap().starts_with("Complete the protocol"));
    let mut short = five_with_average_u95(40.0, 0.5, 0.5);
    short[3].1.duration_s = 20.0;
    let v = judge(&p, Movement::Mechanical, None, &short);
    assert_eq!(v.verdict, Inconclusive);
    assert!(v.findings.iter().any(|f| f.message.contains("CL 20 s")), "{:?}", v.findings);
    let unstated: Vec<_> =
        five_with_average_u95(40.0, 0.5, 0.5).into_iter().map(|(_, m)| (Position::Unstated, m)).collect();
    let v = judge(&p, Movement::Mechanical, None, &unstated);
    assert_eq!(v.verdict, Inconclusive);
    assert!(v.findings.iter().any(|f| f.message.contains("--positions")));
}

#[test]
fn findings_beside_the_verdict_use_typical_service_thresholds() {
    let mut ps = five_with_average_u95(5.0, 0.5, 0.5);
    ps[0].1.amplitude_deg = Some(Figure::new(170.0, 3.0)); // DU, flat: low (< 180)
    ps[2].1.amplitude_deg = Some(Figure::new(170.0, 3.0)); // CD, hanging: fine (>= 160)
    ps[1].1.beat_error_ms = Some(Figure::new(1.4, 0.05));
    ps[4].1.quality = 0.2;
    ps[3].1.rate_s_per_day = Some(Figure::new(45.0, 0.5));
    let v = judge(&builtin("bultime-bg").unwrap(), Movement::Mechanical, None, &ps);
    let codes: Vec<&str> = v.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "low_amplitude").count(), 1, "{:?}", v.findings);
    assert!(v.findings.iter().any(|f| f.code == "low_amplitude" && f.message.starts_with("DU")));
    for c in ["high_beat_error", "poor_signal", "large_positional_spread"] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    let clean = judge(
        &builtin("bultime-bg").unwrap(),
        Movement::Mechanical,
        None,
        &five_with_average_u95(5.0, 0.5, 0.5),
    );
    assert!(clean.findings.is_empty(), "{:?}", clean.findings);
}

#[test]
fn an_inconclusive_verdict_says_how_much_longer_to_measure() {
    let v = mech_verdict("bultime-bg", 15.6, 0.8, None);
    assert_eq!(v.verdict, Inconclusive);
    let t = v.to_decide.unwrap();
    assert!(t.contains("times as long") && t.contains("instead of 60 s"), "{t}");
    // Mostly recorder: more time cannot help; a calibration is named.
    let p = builtin("bultime-bg").unwrap();
    let ps = five_with_average_u95(15.4, 0.9, 10.0); // recorder 0.864 s/day of 0.9
    let v = judge(&p, Movement::Mechanical, None, &ps);
    assert_eq!(v.verdict, Inconclusive);
    let t = v.to_decide.unwrap();
    assert!(t.contains("calibrate the recorder to better than ±"), "{t}");
}

#[test]
fn model_specs_parse_in_the_usual_forms() {
    let ok: [(&str, f64, f64, Option<RateUnit>); 7] = [
        ("±15", -15.0, 15.0, None),
        ("+-15 s/day", -15.0, 15.0, Some(RateUnit::SPerDay)),
        ("+/-20 s/month", -20.0, 20.0, Some(RateUnit::SPerMonth)),
        ("-10/+20", -10.0, 20.0, None),
        ("-4..+6 spd", -4.0, 6.0, Some(RateUnit::SPerDay)),
        ("0/+10", 0.0, 10.0, None),
        ("15", -15.0, 15.0, None),
    ];
    for (s, lo, hi, unit) in ok {
        let m = ModelSpec::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.min, m.max, m.unit), (lo, hi, unit), "{s}");
    }
    for bad in ["", "fast", "+5/+10", "-15", "nan", "±inf", "10/-10"] {
        let e = ModelSpec::parse(bad).unwrap_err();
        assert!(e.starts_with("model spec `"), "{e}");
    }
}

#[test]
fn compare_treats_an_interval_touching_the_limit_as_not_beyond_it() {
    let t = Tolerance { min: -15.0, max: 15.0, unit: RateUnit::SPerDay };
    let g = DecisionRule::GuardedAcceptance;
    assert_eq!(compare(g, &t, Figure::new(14.5, 0.5)), Side::Inside);
    assert_eq!(compare(g, &t, Figure::new(15.5, 0.5)), Side::Straddles);
    assert_eq!(compare(g, &t, Figure::new(15.5, 0.49)), Side::Outside);
    assert_eq!(compare(DecisionRule::SimpleAcceptance, &t, Figure::new(15.0, 3.0)), Side::Inside);
}

/// A verdict never contradicts its interval: under guarded acceptance `defect` means the whole
/// interval is outside the limit and `within_spec` the whole interval inside; under simple
/// acceptance the value is on the stated side. Random rates, u95s, recorders and policies.
#[test]
fn a_verdict_never_contradicts_its_interval() {
    let mut rng = Rng::new(0x7e_57_ab_1e);
    let names = ["bultime-bg", "rankine-ro", "alltime-ru", "timeless-ge", "iso3159-chronometer"];
    let mut seen = std::collections::BTreeMap::new();
    for i in 0..3000 {
        let name = names[i % names.len()];
        let p = if rng.uniform() < 0.5 { builtin(name).unwrap() } else { simple(name) };
        let quartz_case = rng.uniform() < 0.3;
        let spec = (rng.uniform() < 0.6).then(|| {
            let lo = -rng.range(1.0, 40.0);
            let hi = rng.range(1.0, 40.0);
            ModelSpec::parse(&format!("{lo}/+{hi}")).unwrap()
        });
        let recorder_ppm = if rng.uniform() < 0.2 { 0.0 } else { rng.range(0.01, 5.0) };
        let (movement, ps) = if quartz_case {
            let rate = rng.range(-80.0, 80.0);
            let u = rng.range(0.1, 15.0);
            (Movement::Quartz, vec![(Position::DU, quartz(rate, u, recorder_ppm, 1.0))])
        } else {
            let rate = rng.range(-50.0, 50.0);
            let u = rng.range(0.05, 8.0);
            (Movement::Mechanical, five_positions(rate, u, recorder_ppm))
        };
        let v = judge(&p, movement, spec, &ps);
        *seen.entry(v.verdict.name()).or_insert(0) += 1;
        let (Some(l), Some(c)) = (&v.limit, &v.compared) else {
            assert!(matches!(v.verdict, NeedsModelSpec | Inconclusive), "{:?} without a limit", v.verdict);
            continue;
        };
        let (lo, hi) = (c.value - c.u95, c.value + c.u95);
        match (v.verdict, p.decision_rule) {
            (Defect, DecisionRule::GuardedAcceptance) => assert!(hi < l.min || lo > l.max, "{c:?} {l:?}"),
            (WithinSpec, DecisionRule::GuardedAcceptance) => {
                assert!(lo >= l.min && hi <= l.max, "{c:?} {l:?}")
            }
            (Defect, DecisionRule::SimpleAcceptance) => assert!(c.value < l.min || c.value > l.max),
            (WithinSpec, DecisionRule::SimpleAcceptance) => assert!(c.value >= l.min && c.value <= l.max),
            (Inconclusive, DecisionRule::GuardedAcceptance) => {
                let outside = hi < l.min || lo > l.max;
                let inside = lo >= l.min && hi <= l.max;
                assert!(!outside && !inside, "{c:?} {l:?}")
            }
            _ => {}
        }
        if v.verdict == Defect && v.recorder.as_ref().is_some_and(|r| r.assumed) {
            assert!(hi < l.min || lo > l.max, "an uncalibrated defect must be beyond doubt");
        }
    }
    for o in ["defect", "within_spec", "inconclusive", "needs_model_spec"] {
        assert!(seen.get(o).copied().unwrap_or(0) > 50, "the sweep must exercise {o}: {seen:?}");
    }
}

#[test]
fn the_verdict_json_has_the_contract_fields() {
    let v = quartz_verdict("rankine-ro", 15.0, 2.0, 0.05, None);
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!(j["verdict"], "within_spec");
    assert_eq!(j["rule"], "guarded_acceptance");
    assert!(j["reasons"].as_array().unwrap().len() >= 2);
    assert!(j["average_rate_s_per_day"]["value"].is_f64() && j["average_rate_s_per_day"]["u95"].is_f64());
    assert!((j["average_rate_s_per_month"]["value"].as_f64().unwrap() - 15.0).abs() < 1e-9);
    assert_eq!(j["positions"][0]["position"], "DU");
    assert!(j["findings"].is_array());
    assert_eq!(j["policy"]["name"], "rankine-ro");
    assert_eq!(j["policy"]["version"], "1");
    assert_eq!(j["policy"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(j["limit"]["unit"], "s/month");
    let back: Verdict = serde_json::from_value(j).unwrap();
    assert_eq!(back, v);
    let m = mech_verdict("bultime-bg", 3.0, 0.5, None);
    let j = serde_json::to_value(&m).unwrap();
    assert!(j.get("average_rate_s_per_month").is_none(), "mechanical verdicts have no s/month");
    assert!(m.to_text().starts_with("Verdict: within_spec\n"));
}
