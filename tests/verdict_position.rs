//! Positions: named on the command line or taken from a recording's side file `FILE.json`.
use tickproof::verdict::{side_file_position, Movement, Position};

#[test]
fn position_lists_parse_case_insensitively_and_name_a_bad_item() {
    assert_eq!(Position::parse_list("du, DD,cl").unwrap(), [Position::DU, Position::DD, Position::CL]);
    assert_eq!(
        Position::parse_list("DU,XY").unwrap_err(),
        "unknown position `XY` (expected DU, DD, CD, CL, CU or CR)"
    );
    assert!(Position::CD.is_vertical() && Position::DD.is_horizontal() && !Position::Unstated.is_vertical());
    assert_eq!(Movement::parse("Automatic"), Some(Movement::Mechanical));
    assert_eq!(Movement::parse("solar"), Some(Movement::Quartz));
    assert_eq!(Movement::parse("sundial"), None);
}

#[test]
fn the_side_file_position_is_used_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("take1.wav");
    assert_eq!(side_file_position(&rec).unwrap(), None, "no side file");
    let side = dir.path().join("take1.wav.json");
    std::fs::write(&side, r#"{"device": "mic", "position": "cu"}"#).unwrap();
    assert_eq!(side_file_position(&rec).unwrap(), Some(Position::CU));
    std::fs::write(&side, r#"{"device": "mic"}"#).unwrap();
    assert_eq!(side_file_position(&rec).unwrap(), None);
    std::fs::write(&side, r#"{"position": 3}"#).unwrap();
    let e = side_file_position(&rec).unwrap_err();
    assert!(e.ends_with("take1.wav.json: field `position`: expected a string such as \"DU\""), "{e}");
    std::fs::write(&side, "{not json").unwrap();
    assert!(side_file_position(&rec).unwrap_err().contains("take1.wav.json: not valid JSON"));
}
