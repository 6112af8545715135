//! Policies as data: the built-ins parse, are shown verbatim with a stable hash, and bad policy
//! files are refused with the file, line and field named.
use tickproof::verdict::{
    builtin, builtin_names, builtin_text, AccuracyTerm, DecisionRule, Policy, RateUnit,
};

#[test]
fn every_builtin_policy_parses_and_carries_its_own_name() {
    let names = builtin_names();
    assert_eq!(names, ["bultime-bg", "rankine-ro", "alltime-ru", "timeless-ge", "iso3159-chronometer"]);
    for name in names {
        let text = builtin_text(name).unwrap();
        let p = Policy::from_toml_str(text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.name, name);
        assert_eq!(p.text, text, "policy show must print the exact text");
        assert_eq!(p.sha256.len(), 64);
        assert_eq!(p.decision_rule, DecisionRule::GuardedAcceptance);
        assert!(!p.version.is_empty() && !p.source.is_empty());
        assert!(builtin(name).is_some());
    }
    assert!(builtin("no-such-policy").is_none());
}

#[test]
fn builtin_numbers_are_the_ones_in_the_warranty_terms() {
    let b = builtin("bultime-bg").unwrap();
    assert!(matches!(b.mechanical.unwrap().term,
        AccuracyTerm::Tolerance(t) if t.min == -15.0 && t.max == 15.0 && t.unit == RateUnit::SPerDay));
    let r = builtin("rankine-ro").unwrap();
    assert!(matches!(r.mechanical.clone().unwrap().term,
        AccuracyTerm::Band { inner, outer } if inner.max == 10.0 && outer.max == 30.0 && inner.min == -10.0));
    assert!(matches!(r.quartz.clone().unwrap().term,
        AccuracyTerm::Tolerance(t) if t.max == 20.0 && t.unit == RateUnit::SPerMonth));
    assert_eq!(r.finding_rule("battery_end_of_life").unwrap().step_interval_s, [2, 4]);
    let a = builtin("alltime-ru").unwrap();
    assert_eq!(a.mechanical.unwrap().term, AccuracyTerm::ModelSpecOnly);
    assert_eq!(a.quartz.unwrap().term, AccuracyTerm::ModelSpecOnly);
    let t = builtin("timeless-ge").unwrap();
    assert_eq!(t.finding_rule("battery_end_of_life").unwrap().step_interval_s, [4]);
    let iso = builtin("iso3159-chronometer").unwrap();
    assert!(
        matches!(iso.mechanical.unwrap().term, AccuracyTerm::Tolerance(t) if t.min == -4.0 && t.max == 6.0)
    );
}

#[test]
fn the_hash_is_the_sha256_of_the_exact_text() {
    let p = Policy::from_toml_str(builtin_text("bultime-bg").unwrap(), "x").unwrap();
    assert_eq!(p.sha256, tickproof::verdict::policy::sha256_hex(&p.text));
    // Known vector: SHA-256 of "abc".
    assert_eq!(
        tickproof::verdict::policy::sha256_hex("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let edited = p.text.replace("plus_minus = 15.0", "plus_minus = 16.0");
    assert_ne!(Policy::from_toml_str(&edited, "x").unwrap().sha256, p.sha256);
}

const GOOD: &str = r#"[policy]
name = "shop"
version = "2"
title = "A shop"
source = "the shop's terms"

[mechanical]
term = "tolerance"
unit = "s/day"
plus_minus = 20.0
clause = "20 seconds a day"

[protocol]
positions = ["DU", "DD", "CD"]
settling_s = 10
seconds_per_position = 30
state_of_wind = "fully_wound"
"#;

fn error_of(text: &str) -> String {
    Policy::from_toml_str(text, "shop.toml").unwrap_err().to_string()
}

#[test]
fn a_minimal_policy_parses_with_defaults() {
    let p = Policy::from_toml_str(GOOD, "shop.toml").unwrap();
    assert!(p.quartz.is_none());
    assert_eq!(p.uncalibrated_recorder_u95_ppm, 100.0);
    assert_eq!(p.protocol.positions.len(), 3);
}

#[test]
fn an_unknown_field_is_named_with_its_line() {
    let e = error_of(&GOOD.replace("plus_minus = 20.0", "plus_minus = 20.0\ntolerence = 3"));
    assert!(e.starts_with("shop.toml:11: field `mechanical.tolerence`: unknown field `tolerence`"), "{e}");
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    let e = error_of(&GOOD.replace("plus_minus = 20.0", "plus_minus = \"twenty\""));
    assert!(e.starts_with("shop.toml:10: field `mechanical.plus_minus`: invalid type: string"), "{e}");
}

#[test]
fn a_missing_field_is_named() {
    let e = error_of(&GOOD.replace("version = \"2\"\n", ""));
    assert!(e.contains("field `policy.version`: missing field `version`"), "{e}");
    assert!(e.starts_with("shop.toml:1:"), "{e}");
}

#[test]
fn a_bad_enum_value_is_named_with_its_line() {
    let e = error_of(&GOOD.replace("state_of_wind = \"fully_wound\"", "state_of_wind = \"half\""));
    assert!(e.starts_with("shop.toml:17: field `protocol.state_of_wind`: unknown variant `half`"), "{e}");
}

#[test]
fn semantic_errors_name_the_line_and_field() {
    let cases: [(&str, &str, &str); 7] = [
        (
            "plus_minus = 20.0",
            "plus_minus = -20.0",
            "shop.toml:10: field `mechanical.plus_minus`: must be a number above 0",
        ),
        (
            "plus_minus = 20.0",
            "min = 3.0\nmax = 6.0",
            "shop.toml:10: field `mechanical.min`: must be below 0",
        ),
        (
            "plus_minus = 20.0",
            "plus_minus = 20.0\ninner_plus_minus = 4.0",
            "shop.toml:11: field `mechanical.inner_plus_minus`: does not belong to this `term`",
        ),
        (
            "term = \"tolerance\"",
            "term = \"band\"",
            "shop.toml:10: field `mechanical.plus_minus`: does not belong to this `term`",
        ),
        (
            "positions = [\"DU\", \"DD\", \"CD\"]",
            "positions = [\"DU\", \"DD\"]",
            "shop.toml:14: field `protocol.positions`: must list 3, 5 or 6 positions, not 2",
        ),
        (
            "positions = [\"DU\", \"DD\", \"CD\"]",
            "positions = [\"DU\", \"XX\", \"CD\"]",
            "shop.toml:14: field `protocol.positions`: unknown position `XX`",
        ),
        (
            "name = \"shop\"",
            "name = \"Shop Policy\"",
            "shop.toml:2: field `policy.name`: must be 1-64 lowercase",
        ),
    ];
    for (from, to, want) in cases {
        let e = error_of(&GOOD.replace(from, to));
        assert!(e.starts_with(want), "{to}: got {e}");
    }
}

#[test]
fn a_band_needs_its_outer_edge_beyond_the_inner() {
    let text = GOOD.replace(
        "term = \"tolerance\"\nunit = \"s/day\"\nplus_minus = 20.0",
        "term = \"band\"\nunit = \"s/day\"\ninner_plus_minus = 30.0\nouter_plus_minus = 10.0",
    );
    let e = error_of(&text);
    assert_eq!(
        e,
        "shop.toml:11: field `mechanical.outer_plus_minus`: must be larger than inner_plus_minus (30)"
    );
}

#[test]
fn a_toml_syntax_error_names_the_line() {
    let e = error_of(&GOOD.replace("title = \"A shop\"", "title = \"A shop"));
    assert!(e.starts_with("shop.toml:4: field `policy.title`:"), "{e}");
}

#[test]
fn an_oversized_policy_file_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    let mut text = GOOD.to_string();
    while text.len() <= 64 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, &text).unwrap();
    let e = Policy::from_toml_file(&path).unwrap_err().to_string();
    assert!(e.contains("big.toml") && e.contains("more than the 65536 allowed"), "{e}");
}

#[test]
fn too_many_finding_rules_are_refused() {
    let mut text = GOOD.to_string();
    for i in 0..33 {
        text.push_str(&format!("\n[[finding]]\ncode = \"c{i}\"\noutcome = \"excluded\"\nclause = \"x\"\n"));
    }
    let e = error_of(&text);
    assert!(e.contains("field `finding`: more than 32 finding rules"), "{e}");
}

#[test]
fn a_policy_file_loads_by_path_and_an_unknown_name_lists_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.toml");
    std::fs::write(&path, GOOD).unwrap();
    assert_eq!(Policy::load(path.to_str().unwrap()).unwrap().name, "shop");
    assert_eq!(Policy::load("rankine-ro").unwrap().name, "rankine-ro");
    let e = Policy::load("nowhere-policy").unwrap_err().to_string();
    assert!(
        e.starts_with("nowhere-policy: no built-in policy or file of that name (built-in: bultime-bg,"),
        "{e}"
    );
}
