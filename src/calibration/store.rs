//! Where profiles live: one TOML file per device under the per-user configuration directory.
//!
//! `$TICKPROOF_CONFIG_DIR/calibration/` when that variable is set (tests, portable installs),
//! otherwise the platform's configuration directory (`$XDG_CONFIG_HOME/tickproof/calibration/`
//! or `~/.config/tickproof/calibration/` on Linux). Writes are atomic: the profile is written to
//! a temporary file in the same directory, synced, and then linked into place (which fails
//! rather than replace an existing profile) or, with `force`, renamed over it. A crash leaves
//! either the old profile or the new one, never half of one.
use super::error::CalibrationError;
use super::profile::{DeviceName, Profile, MAX_PROFILE_BYTES};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The environment variable that overrides the configuration directory.
pub const CONFIG_DIR_ENV: &str = "TICKPROOF_CONFIG_DIR";

/// A directory of calibration profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileStore {
    dir: PathBuf,
}

/// One entry of [`ProfileStore::list`]: a file and what reading it gave.
#[derive(Debug)]
pub struct ListedProfile {
    /// The profile file.
    pub path: PathBuf,
    /// The profile, or why it cannot be used (a bad file does not hide the others).
    pub profile: Result<Profile, CalibrationError>,
}

impl ProfileStore {
    /// A store in `dir` (profiles are the `*.toml` files directly in it).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ProfileStore { dir: dir.into() }
    }

    /// The per-user store: `$TICKPROOF_CONFIG_DIR/calibration` or the platform's configuration
    /// directory + `tickproof/calibration`.
    pub fn open_default() -> Result<Self, CalibrationError> {
        if let Some(d) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(ProfileStore::new(PathBuf::from(d).join("calibration")));
        }
        let dirs =
            directories::ProjectDirs::from("", "", "tickproof").ok_or(CalibrationError::NoConfigDir)?;
        Ok(ProfileStore::new(dirs.config_dir().join("calibration")))
    }

    /// The directory holding the profiles.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a device's profile (whether or not it exists).
    pub fn path_for(&self, device: &DeviceName) -> PathBuf {
        self.dir.join(format!("{}.toml", device.slug()))
    }

    /// Reads and validates the device's profile.
    pub fn load(&self, device: &DeviceName) -> Result<Profile, CalibrationError> {
        let path = self.path_for(device);
        if !path.exists() {
            return Err(CalibrationError::NotFound { device: device.to_string(), path });
        }
        let p = read_profile(&path)?;
        if p.device != device.as_str() {
            return Err(CalibrationError::OtherDevice { device: device.to_string(), owner: p.device, path });
        }
        Ok(p)
    }

    /// Saves a profile atomically and returns its path. Without `force`, an existing profile
    /// for the same device (or one whose name maps to the same file) is left untouched and
    /// [`CalibrationError::Exists`] is returned.
    pub fn save(&self, profile: &Profile, force: bool) -> Result<PathBuf, CalibrationError> {
        let device = DeviceName::parse(&profile.device)?;
        let path = self.path_for(&device);
        profile.validate(&path)?;
        let text = profile.to_toml();
        // Read back what will be written: a profile that could not be loaded is never saved.
        Profile::from_toml(&text, &path)?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| CalibrationError::io(&self.dir, "create directory", e))?;
        let tmp = self.dir.join(format!(
            ".{}.toml.tmp-{}-{}",
            device.slug(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(CalibrationError::io(&tmp, "write", e));
        }
        let placed = if force {
            std::fs::rename(&tmp, &path).map_err(|e| CalibrationError::io(&path, "replace", e))
        } else {
            // A hard link fails when the target exists: no check-then-write race.
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(CalibrationError::Exists { device: device.to_string(), path: path.clone() })
                }
                Err(_) if !path.exists() => {
                    // File systems without hard links: rename, having just checked.
                    std::fs::rename(&tmp, &path).map_err(|e| CalibrationError::io(&path, "write", e))
                }
                Err(_) => Err(CalibrationError::Exists { device: device.to_string(), path: path.clone() }),
            }
        };
        let _ = std::fs::remove_file(&tmp);
        placed?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(path)
    }

    /// Every `*.toml` profile in the store, sorted by file name; an absent directory is an empty
    /// store.
    pub fn list(&self) -> Result<Vec<ListedProfile>, CalibrationError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CalibrationError::io(&self.dir, "list", e)),
        };
        let mut paths: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "toml")
                    && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        Ok(paths.into_iter().map(|path| ListedProfile { profile: read_profile(&path), path }).collect())
    }

    /// Removes the device's profile and returns the path it had.
    pub fn remove(&self, device: &DeviceName) -> Result<PathBuf, CalibrationError> {
        let path = self.path_for(device);
        // Only this device's own profile: not another device's whose name maps to the same
        // file. (A file that does not read is still removed when its name is this device's.)
        match read_profile(&path) {
            Ok(p) if p.device != device.as_str() => {
                return Err(CalibrationError::OtherDevice {
                    device: device.to_string(),
                    owner: p.device,
                    path,
                })
            }
            _ => {}
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(CalibrationError::NotFound { device: device.to_string(), path })
            }
            Err(e) => Err(CalibrationError::io(&path, "remove", e)),
        }
    }
}

/// Reads and validates one profile file: at most [`MAX_PROFILE_BYTES`], UTF-8, and its
/// `device` must map to the file's name.
pub fn read_profile(path: &Path) -> Result<Profile, CalibrationError> {
    let f = std::fs::File::open(path).map_err(|e| CalibrationError::io(path, "read", e))?;
    let mut bytes = Vec::new();
    f.take(MAX_PROFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CalibrationError::io(path, "read", e))?;
    if bytes.len() as u64 > MAX_PROFILE_BYTES {
        return Err(CalibrationError::bad_profile(
            path,
            None,
            None,
            format!("larger than {} bytes; not a profile", MAX_PROFILE_BYTES),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| CalibrationError::bad_profile(path, None, None, "not UTF-8 text"))?;
    let p = Profile::from_toml(&text, path)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let slug = DeviceName::parse(&p.device)?.slug();
    if slug != stem {
        return Err(CalibrationError::bad_profile(
            path,
            Some("device"),
            None,
            format!("device {:?} belongs in {}.toml, not in this file", p.device, slug),
        ));
    }
    Ok(p)
}
