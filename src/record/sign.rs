//! Service-centre keys: Ed25519 signatures over a record's canonical bytes.
//!
//! A key file is two lines of text, `tickproof-ed25519-secret-v1` and the 32-byte secret seed
//! in hex. It is created with mode 0600 (in a 0700 folder when the folder is new) and never
//! overwritten; loading refuses a key file that group or others can read. The public key is
//! written beside it (`<key>.pub`, one line of hex) to hand to whoever verifies.
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::canonical::{hex, sha256_hex, unhex};
use super::RecordError;

const SECRET_HEADER: &str = "tickproof-ed25519-secret-v1";

/// A service-centre signing key.
pub struct ServiceKey {
    key: SigningKey,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        write!(f, "ServiceKey({})", self.key_id())
    }
}

impl ServiceKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<ServiceKey, RecordError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| RecordError::Key {
            path: PathBuf::new(),
            problem: format!("the operating system's random source failed: {e}"),
        })?;
        Ok(ServiceKey::from_seed(seed))
    }

    /// The key with this 32-byte secret seed (tests use fixed seeds).
    pub fn from_seed(seed: [u8; 32]) -> ServiceKey {
        ServiceKey { key: SigningKey::from_bytes(&seed) }
    }

    /// Creates a new key file at `path` (and `path.pub`). Fails with
    /// [`RecordError::KeyExists`] when either exists: a key is never overwritten.
    pub fn create_file(path: &Path) -> Result<ServiceKey, RecordError> {
        let pub_path = public_key_path(path);
        for p in [path, pub_path.as_path()] {
            if p.exists() {
                return Err(RecordError::KeyExists { path: p.to_path_buf() });
            }
        }
        let key = ServiceKey::generate()?;
        let io = |e: std::io::Error| RecordError::Io { path: path.to_path_buf(), source: e };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            create_private_dir(dir).map_err(io)?;
        }
        let mut f = open_new_private(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                RecordError::KeyExists { path: path.to_path_buf() }
            } else {
                io(e)
            }
        })?;
        let text = format!("{SECRET_HEADER}\n{}\n", hex(&key.key.to_bytes()));
        f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(io)?;
        let mut pf = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&pub_path)
            .map_err(|e| RecordError::Io { path: pub_path.clone(), source: e })?;
        pf.write_all(format!("{}\n", key.public_key_hex()).as_bytes())
            .and_then(|_| pf.sync_all())
            .map_err(|e| RecordError::Io { path: pub_path.clone(), source: e })?;
        Ok(key)
    }

    /// Loads a key file, refusing one that group or others may read.
    pub fn load(path: &Path) -> Result<ServiceKey, RecordError> {
        let bad = |problem: &str| RecordError::Key { path: path.to_path_buf(), problem: problem.to_string() };
        let meta = fs::metadata(path).map_err(|e| RecordError::Io { path: path.to_path_buf(), source: e })?;
        if meta.len() > 4096 {
            return Err(bad("is not a tickproof key file (too large)"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(bad("may be read by other users: make it private with chmod 600"));
            }
        }
        let text =
            fs::read_to_string(path).map_err(|e| RecordError::Io { path: path.to_path_buf(), source: e })?;
        let mut lines = text.lines();
        if lines.next() != Some(SECRET_HEADER) {
            return Err(bad("is not a tickproof key file (first line)"));
        }
        let seed = lines.next().and_then(unhex::<32>).ok_or_else(|| bad("has a damaged secret key line"))?;
        Ok(ServiceKey::from_seed(seed))
    }

    /// The public key, hex.
    pub fn public_key_hex(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    /// A short fingerprint of the public key (first 16 hex digits of its SHA-256).
    pub fn key_id(&self) -> String {
        key_id(self.key.verifying_key().as_bytes())
    }

    /// Signs `message` (a record's canonical bytes).
    pub fn sign(&self, message: &[u8]) -> RecordSignature {
        let sig = self.key.sign(message);
        RecordSignature {
            algorithm: "ed25519".into(),
            key_id: self.key_id(),
            public_key: self.public_key_hex(),
            signature: hex(&sig.to_bytes()),
        }
    }
}

/// The fingerprint of a public key: first 16 hex digits of its SHA-256.
pub fn key_id(public_key: &[u8; 32]) -> String {
    sha256_hex(public_key)[..16].to_string()
}

/// Where the public key of the key at `path` is written: `path` with `.pub` appended.
pub fn public_key_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// The default key file: `<per-user config dir>/tickproof/keys/service-centre.key`.
pub fn default_key_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "tickproof")
        .map(|d| d.config_dir().join("keys/service-centre.key"))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

fn open_new_private(path: &Path) -> std::io::Result<fs::File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// A signature over a record's canonical bytes, as stored beside the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSignature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// Fingerprint of the public key ([`key_id`]).
    pub key_id: String,
    /// The signer's public key, hex (32 bytes).
    pub public_key: String,
    /// The signature, hex (64 bytes).
    pub signature: String,
}

impl RecordSignature {
    /// Checks the signature over `message`; `Err` says what is wrong in plain words.
    pub fn verify(&self, message: &[u8]) -> Result<(), String> {
        if self.algorithm != "ed25519" {
            return Err(format!("unknown signature algorithm '{}'", self.algorithm));
        }
        // Hex is written in lower case; any other spelling of the same bytes is an edit.
        let lower = |h: &str| !h.bytes().any(|b| b.is_ascii_uppercase());
        if !lower(&self.public_key) || !lower(&self.signature) {
            return Err("not as it was written (upper-case hex: edited)".into());
        }
        let pk = unhex::<32>(&self.public_key).ok_or("damaged public key")?;
        if key_id(&pk) != self.key_id {
            return Err("the key id does not match the public key".into());
        }
        let vk = VerifyingKey::from_bytes(&pk).map_err(|_| "invalid public key".to_string())?;
        let sig = unhex::<64>(&self.signature).ok_or("damaged signature")?;
        vk.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&sig))
            .map_err(|_| "the signature does not match the record".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_message_does_not() {
        let k = ServiceKey::from_seed([7; 32]);
        let s = k.sign(b"record bytes");
        assert!(s.verify(b"record bytes").is_ok());
        assert!(s.verify(b"record bytez").is_err());
        let mut other = s.clone();
        other.public_key = ServiceKey::from_seed([8; 32]).public_key_hex();
        assert!(other.verify(b"record bytes").is_err());
        let mut upper = s.clone();
        upper.public_key = upper.public_key.to_ascii_uppercase();
        assert!(upper.verify(b"record bytes").is_err(), "the same key spelt otherwise is an edit");
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/k.key");
        let k = ServiceKey::create_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let before = fs::read(&path).unwrap();
        assert!(matches!(ServiceKey::create_file(&path), Err(RecordError::KeyExists { .. })));
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(ServiceKey::load(&path).unwrap().public_key_hex(), k.public_key_hex());
        let pubtext = fs::read_to_string(public_key_path(&path)).unwrap();
        assert_eq!(pubtext.trim(), k.public_key_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(ServiceKey::load(&path), Err(RecordError::Key { .. })));
        }
    }
}
