//! The canonical serialisation a record is hashed and signed in, and small hashing helpers.
//!
//! # Canonical form (schema v1)
//!
//! A record is first turned into a JSON value by serde (field order of the Rust structs does not
//! matter), then written as UTF-8 JSON with:
//!
//! * no whitespace at all between tokens;
//! * object members sorted by key, comparing the keys' UTF-8 bytes;
//! * strings written as `serde_json` writes them: `"` and `\` escaped with a backslash, control
//!   characters below U+0020 as `\n`, `\t`, `\r`, `\b`, `\f` or `\u00XX` (lower-case hex), every
//!   other character (including non-ASCII) as its raw UTF-8 bytes;
//! * integers in plain decimal; other numbers in the shortest decimal form that parses back to
//!   the same IEEE 754 double (serde_json's `ryu` formatting, e.g. `0.1`, `-3.0`, `1e-7`),
//!   never rounded to a fixed number of digits. Non-finite numbers cannot be represented: serde
//!   turns them into `null` before this writer sees them (the pipeline never produces them).
//! * `null` for an absent optional field: every v1 field is always present, so the shape of a
//!   record is fixed and an omitted field cannot be confused with a removed one. The one
//!   exception is `branch`, added later: absent when no branch was named, so that records
//!   written before branches existed keep their bytes and their hashes.
//!
//! Reading a record back (`serde_json` with the `float_roundtrip` feature) gives the very same
//! doubles, so writing it again gives the same bytes: a record whose canonical bytes differ from
//! the bytes it was hashed with has been edited.
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::RecordError;

/// Writes `value` in the canonical form described in the module documentation.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Writing into a Vec cannot fail; numbers and strings use serde_json's own formatter.
        Value::Number(n) => serde_json::to_writer(&mut *out, n).expect("writing to a Vec"),
        Value::String(s) => serde_json::to_writer(&mut *out, s).expect("writing to a Vec"),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k).expect("writing to a Vec");
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
    }
}

/// The canonical bytes of any serialisable value.
pub fn canonical_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, RecordError> {
    let v = serde_json::to_value(value)
        .map_err(|e| RecordError::Malformed { what: "record".into(), problem: e.to_string() })?;
    let mut out = Vec::with_capacity(4096);
    write_canonical(&v, &mut out);
    Ok(out)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses lower- or upper-case hex into exactly `N` bytes.
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim().as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in s.chunks(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// True when `s` is 64 lower-case hex digits (a SHA-256 as records write it).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Lists where two JSON values differ, as paths like `rate_s_per_day.u95` with both values.
///
/// Used by verification to name every figure that a re-analysis did not reproduce. At most
/// `limit` differences are listed.
pub fn json_differences(expected: &Value, actual: &Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    diff(expected, actual, &mut String::new(), &mut out, limit);
    out
}

fn diff(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || a == b {
        return;
    }
    let here = |p: &str| if p.is_empty() { "(whole value)".to_string() } else { p.to_string() };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => diff(va, vb, path, out, limit),
                    (Some(va), None) => out.push(format!("{path}: recorded {va}, now absent")),
                    (None, Some(vb)) => out.push(format!("{path}: absent in the record, now {vb}")),
                    (None, None) => {}
                }
                path.truncate(len);
                if out.len() >= limit {
                    return;
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                diff(va, vb, path, out, limit);
                path.truncate(len);
            }
        }
        _ => out.push(format!("{}: recorded {a}, now {b}", here(path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_and_drops_whitespace() {
        let v = json!({"b": 1, "a": {"d": [1.5, null, "x\n"], "c": true}});
        let mut out = Vec::new();
        write_canonical(&v, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":{"c":true,"d":[1.5,null,"x\n"]},"b":1}"#);
    }

    #[test]
    fn floats_survive_a_text_round_trip_exactly() {
        let xs =
            [0.1, -3.0, 1e-7, 86_400.123456789, 2.0f64.sqrt(), f64::MIN_POSITIVE, 1.7976931348623157e308];
        for x in xs {
            let mut out = Vec::new();
            write_canonical(&json!(x), &mut out);
            let back: f64 = serde_json::from_slice(&out).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x}");
        }
    }

    #[test]
    fn hex_round_trips_and_rejects_bad_digits() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&b), "0001abff");
        assert_eq!(unhex::<4>("0001ABff"), Some(b));
        assert_eq!(unhex::<4>("0001abfg"), None);
        assert_eq!(unhex::<4>("0001ab"), None);
    }

    #[test]
    fn differences_name_the_path_of_each_changed_figure() {
        let a = json!({"rate_s_per_day": {"value": 1.0, "u95": 0.1}, "kind": "mechanical"});
        let b = json!({"rate_s_per_day": {"value": 1.0, "u95": 0.2}, "kind": "mechanical"});
        let d = json_differences(&a, &b, 10);
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("rate_s_per_day.u95: recorded 0.1, now 0.2"), "{d:?}");
    }
}
