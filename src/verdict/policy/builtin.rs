//! The built-in policies, embedded verbatim so `policy show` prints the exact text.
use super::Policy;

const BUILTIN: [(&str, &str); 5] = [
    ("bultime-bg", include_str!("../../../policies/bultime-bg.toml")),
    ("rankine-ro", include_str!("../../../policies/rankine-ro.toml")),
    ("alltime-ru", include_str!("../../../policies/alltime-ru.toml")),
    ("timeless-ge", include_str!("../../../policies/timeless-ge.toml")),
    ("iso3159-chronometer", include_str!("../../../policies/iso3159-chronometer.toml")),
];

/// The names of the built-in policies.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// The exact TOML text of a built-in policy.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A built-in policy by name (`bultime-bg`, `rankine-ro`, `alltime-ru`, `timeless-ge`,
/// `iso3159-chronometer`). The embedded texts are validated by the test suite.
pub fn builtin(name: &str) -> Option<Policy> {
    let text = builtin_text(name)?;
    Policy::from_toml_str(text, &format!("builtin:{name}")).ok()
}
