//! The shop's configuration: who signs the reports and what a claim defaults to.
//!
//! One TOML file, `shop.toml`, in the configuration directory (`$TICKPROOF_CONFIG_DIR`, else the
//! platform's, e.g. `~/.config/tickproof/` on Linux):
//!
//! ```toml
//! name = "Watch Repair Ltd"
//! address = "1 Main Street\nSofia"
//! logo = "/home/shop/logo.svg"      # PNG, JPEG or SVG, at most 1 MiB, for the report's letterhead
//! default_policy = "bultime-bg"     # `claim new` without --policy
//! default_device = "bench mic"      # `listen` and `claim measure --live` without --device
//! technician = "B. Petrov"          # `claim new` without --technician
//! trusted_keys = ["3f1c…"]            # Ed25519 public keys (hex) whose signatures the shop trusts
//! ```
//!
//! `trusted_keys` anchors signatures outside the store: `claim verify` holds every store's
//! keyring and signatures to them (see [`crate::store::trust`]), and a key listed here may join
//! a store's keyring when it first signs there.
//!
//! Every field is optional. The file is read only up to [`MAX_SHOP_BYTES`]; a file that is too
//! large, not TOML, has an unknown key, or names a policy, device or logo that cannot be used is
//! an error naming the file and the field, never a silent default. Writes are atomic (a
//! temporary file renamed into place).
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The largest shop file read, bytes.
pub const MAX_SHOP_BYTES: u64 = 64 * 1024;
/// The largest logo embedded in a report, bytes.
pub const MAX_LOGO_BYTES: u64 = 1024 * 1024;
/// The file name in the configuration directory.
pub const SHOP_FILE: &str = "shop.toml";

/// The shop's configuration (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    /// The shop's name, at the head of every report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The shop's postal address (lines separated by newlines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A logo for the report's letterhead: a PNG, JPEG or SVG file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<PathBuf>,
    /// The policy a claim is judged by when `claim new` names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_policy: Option<String>,
    /// The input device recorded from (and whose calibration applies) when none is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_device: Option<String>,
    /// The technician named on a claim when `claim new` names none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technician: Option<String>,
    /// Ed25519 public keys (64 hex digits each) whose signatures the shop trusts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_keys: Vec<String>,
}

/// Most trusted keys in a shop file.
pub const MAX_TRUSTED_KEYS: usize = 16;

/// The shop as the report's letterhead shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Letterhead {
    /// The shop's name.
    pub name: Option<String>,
    /// The address, lines separated by newlines.
    pub address: Option<String>,
    /// The logo's media type (`image/png`, `image/jpeg`, `image/svg+xml`) and bytes.
    pub logo: Option<(String, Vec<u8>)>,
}

/// Errors of the shop configuration.
///
/// Recoverability: all are the user's to fix (exit 2), except [`Io`](ShopError::Io) on write,
/// which leaves the old file as it was.
#[derive(Debug)]
#[non_exhaustive]
pub enum ShopError {
    /// No configuration directory on this system: set `TICKPROOF_CONFIG_DIR`.
    NoConfigDir,
    /// The file, or a field of it, cannot be used.
    Bad {
        /// The file.
        path: PathBuf,
        /// The field, when one is at fault.
        field: Option<String>,
        /// What is wrong.
        problem: String,
    },
    /// Reading or writing failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

impl fmt::Display for ShopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShopError::NoConfigDir => write!(f, "no configuration directory here: set TICKPROOF_CONFIG_DIR"),
            ShopError::Bad { path, field: Some(k), problem } => {
                write!(f, "{}: {k}: {problem}", path.display())
            }
            ShopError::Bad { path, field: None, problem } => write!(f, "{}: {problem}", path.display()),
            ShopError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for ShopError {}

/// The shop file's path: `$TICKPROOF_CONFIG_DIR/shop.toml`, else the platform's configuration
/// directory + `tickproof/shop.toml`.
pub fn shop_path() -> Result<PathBuf, ShopError> {
    if let Some(d) = std::env::var_os(crate::calibration::store::CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join(SHOP_FILE));
    }
    let dirs = directories::ProjectDirs::from("", "", "tickproof").ok_or(ShopError::NoConfigDir)?;
    Ok(dirs.config_dir().join(SHOP_FILE))
}

/// Reads at most `max` bytes of `path`; more is an error naming the limit.
fn read_bounded(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, ShopError> {
    let io = |error| ShopError::Io { path: path.to_path_buf(), error };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(ShopError::Bad {
            path: path.to_path_buf(),
            field: None,
            problem: format!("larger than {} KiB: not a {what}", max / 1024),
        });
    }
    Ok(bytes)
}

impl Shop {
    /// Loads the shop file at the default path; no file is an empty configuration.
    pub fn load_default() -> Result<Shop, ShopError> {
        Shop::load(&shop_path()?)
    }

    /// Loads and validates a shop file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Shop, ShopError> {
        if !path.exists() {
            return Ok(Shop::default());
        }
        let bytes = read_bounded(path, MAX_SHOP_BYTES, "shop file")?;
        Shop::from_bytes(&bytes, path)
    }

    /// Parses and validates the bytes of a shop file (`path` names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Shop, ShopError> {
        let bad = |problem: String| ShopError::Bad { path: path.to_path_buf(), field: None, problem };
        if bytes.len() as u64 > MAX_SHOP_BYTES {
            return Err(bad(format!("larger than {} KiB: not a shop file", MAX_SHOP_BYTES / 1024)));
        }
        let bytes = bytes.to_vec();
        let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
        let shop: Shop = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
        shop.validate(path)?;
        Ok(shop)
    }

    /// Checks every field: short single-line texts, a policy that loads, a valid device name, a
    /// logo file that exists, is an image and is small enough.
    pub fn validate(&self, path: &Path) -> Result<(), ShopError> {
        let bad = |field: &str, problem: String| ShopError::Bad {
            path: path.to_path_buf(),
            field: Some(field.to_string()),
            problem,
        };
        let text = |field: &str, v: &Option<String>, max: usize, lines: bool| -> Result<(), ShopError> {
            let Some(v) = v else { return Ok(()) };
            if v.trim().is_empty() || v.chars().count() > max {
                return Err(bad(field, format!("must be 1..{max} characters")));
            }
            if v.chars().any(|c| c.is_control() && !(lines && c == '\n')) {
                return Err(bad(field, "holds control characters".into()));
            }
            Ok(())
        };
        text("name", &self.name, 120, false)?;
        text("address", &self.address, 400, true)?;
        text("technician", &self.technician, 120, false)?;
        text("default_policy", &self.default_policy, 400, false)?;
        if let Some(p) = &self.default_policy {
            crate::verdict::Policy::load(p).map_err(|e| bad("default_policy", e.to_string()))?;
        }
        if self.trusted_keys.len() > MAX_TRUSTED_KEYS {
            return Err(bad("trusted_keys", format!("at most {MAX_TRUSTED_KEYS} keys")));
        }
        for k in &self.trusted_keys {
            if crate::record::canonical::unhex::<32>(k).is_none() {
                let shown: String = k.chars().take(80).collect();
                return Err(bad(
                    "trusted_keys",
                    format!("{shown:?} is not 64 hex digits of an Ed25519 public key"),
                ));
            }
        }
        if let Some(d) = &self.default_device {
            crate::calibration::DeviceName::parse(d).map_err(|e| bad("default_device", e.to_string()))?;
        }
        if let Some(l) = &self.logo {
            logo_media_type(l)
                .ok_or_else(|| bad("logo", format!("{}: not a .png, .jpg or .svg file", l.display())))?;
            let len = std::fs::metadata(l).map_err(|e| bad("logo", format!("{}: {e}", l.display())))?.len();
            if len > MAX_LOGO_BYTES {
                return Err(bad("logo", format!("{}: larger than 1 MiB", l.display())));
            }
        }
        Ok(())
    }

    /// Writes the file atomically after validating it (nothing is written when invalid).
    pub fn save(&self, path: &Path) -> Result<(), ShopError> {
        self.validate(path)?;
        let io = |error| ShopError::Io { path: path.to_path_buf(), error };
        let text = toml::to_string(self).map_err(|e| ShopError::Bad {
            path: path.to_path_buf(),
            field: None,
            problem: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!(".{SHOP_FILE}.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(e));
        }
        Ok(())
    }

    /// The letterhead for a report, with the logo's bytes read (bounded).
    pub fn letterhead(&self) -> Result<Letterhead, ShopError> {
        let logo = match &self.logo {
            None => None,
            Some(l) => {
                let media = logo_media_type(l).unwrap_or("application/octet-stream");
                Some((media.to_string(), read_bounded(l, MAX_LOGO_BYTES, "logo")?))
            }
        };
        Ok(Letterhead { name: self.name.clone(), address: self.address.clone(), logo })
    }
}

/// The media type of a logo file by its extension, when it is one the report can show.
fn logo_media_type(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "svg" => Some("image/svg+xml"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_round_trips_and_bad_fields_are_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(SHOP_FILE);
        assert_eq!(Shop::load(&p).unwrap(), Shop::default());
        let s = Shop {
            name: Some("Watch Repair Ltd".into()),
            address: Some("1 Main Street\nSofia".into()),
            default_policy: Some("bultime-bg".into()),
            ..Shop::default()
        };
        s.save(&p).unwrap();
        assert_eq!(Shop::load(&p).unwrap(), s);
        let bad = Shop { default_policy: Some("bultme-bg".into()), ..s.clone() };
        let e = bad.save(&p).unwrap_err().to_string();
        assert!(e.contains("default_policy") && e.contains("bultime-bg"), "{e}");
        assert_eq!(Shop::load(&p).unwrap(), s, "nothing written");
        let bad = Shop { trusted_keys: vec!["zz".into()], ..s.clone() };
        let e = bad.save(&p).unwrap_err().to_string();
        assert!(e.contains("trusted_keys") && e.contains("64 hex digits"), "{e}");
        let good = Shop { trusted_keys: vec!["ab".repeat(32)], ..s.clone() };
        good.save(&p).unwrap();
        assert_eq!(Shop::load(&p).unwrap(), good);
        std::fs::write(&p, "nmae = \"x\"\n").unwrap();
        assert!(Shop::load(&p).unwrap_err().to_string().contains("nmae"));
        std::fs::write(&p, vec![b'#'; MAX_SHOP_BYTES as usize + 1]).unwrap();
        assert!(Shop::load(&p).unwrap_err().to_string().contains("larger than"));
    }
}
