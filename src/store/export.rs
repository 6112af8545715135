//! Exporting a claim (a folder or a tar archive) and reading one back for verification.
//!
//! ```text
//! <ID>/record.json            the latest revision (sealed: record, sha256, signature), pretty
//! <ID>/revisions/r0001.json   every revision, oldest first
//! <ID>/chain.json             the store's chain (seq, sha256, prev_sha256) at export time
//! <ID>/keyring.json           the chain's keyring, when it is signed
//! <ID>/receipts/r0001.json    the head receipt issued with each revision
//! <ID>/audio/DU.wav ...       every evidence file of the latest revision, under its name
//! <ID>/plots/*.svg|png
//! <ID>/report.html
//! ```
//!
//! An export is written beside its destination under a temporary name and renamed into place at
//! the end; an existing destination is never overwritten.
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use super::{ChainLink, ClaimStore, StoreError};
use crate::record::{validate_evidence_name, ClaimId, Keyring, Receipt, SealedRecord};

/// Writes the export of claim `id` to `out`: a tar archive when `out` ends in `.tar`, else a
/// folder. Returns the path written.
pub fn export_claim(store: &dyn ClaimStore, id: &ClaimId, out: &Path) -> Result<PathBuf, StoreError> {
    if out.exists() {
        return Err(StoreError::Io {
            path: out.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::AlreadyExists,
                "already exists; an export never overwrites",
            ),
        });
    }
    let revisions = store.claim_revisions(id)?;
    let latest = revisions.last().expect("revisions() is never empty").clone();
    let chain = store.links_for(id)?;
    let mut files: Vec<(String, Source)> = vec![
        ("record.json".into(), Source::Bytes(latest.to_json_pretty().into_bytes())),
        ("chain.json".into(), Source::Bytes(serde_json::to_vec_pretty(&chain).expect("chain serialises"))),
    ];
    for r in &revisions {
        files.push((
            format!("revisions/r{:04}.json", r.record.revision),
            Source::Bytes(r.to_json_pretty().into_bytes()),
        ));
        if let Some(rc) = store.receipt_for(id, r.record.revision)? {
            files.push((
                format!("receipts/r{:04}.json", r.record.revision),
                Source::Bytes(rc.to_json().into_bytes()),
            ));
        }
    }
    if let Some(ring) = store.keyring_for(id)? {
        files.push(("keyring.json".into(), Source::Bytes(ring.to_json().into_bytes())));
    }
    // Registry evidence comes as temporary local copies, kept until the export is written.
    let mut local = Vec::new();
    for e in &latest.record.evidence {
        validate_evidence_name(&e.name)?;
        store
            .check_evidence(e)
            .map_err(|p| StoreError::Corrupt { what: format!("claim {id}"), problem: p })?;
        let file = store.evidence_file(&e.sha256)?;
        files.push((e.name.clone(), Source::File(file.path().to_path_buf())));
        local.push(file);
    }
    let is_tar = out.extension().is_some_and(|x| x.eq_ignore_ascii_case("tar"));
    let tmp = temp_sibling(out);
    let result = if is_tar { write_tar(&tmp, id, &files) } else { write_folder(&tmp, &files) };
    let result = result.and_then(|_| {
        if is_tar {
            // hard_link fails when `out` appeared meanwhile: never overwrite.
            fs::hard_link(&tmp, out).and_then(|_| fs::remove_file(&tmp))
        } else {
            fs::rename(&tmp, out)
        }
        .map_err(|e| StoreError::Io { path: out.to_path_buf(), source: e })
    });
    if result.is_err() {
        let _ = if is_tar { fs::remove_file(&tmp) } else { fs::remove_dir_all(&tmp) };
    }
    // A full disk is named at the destination asked for, not the temporary name or the
    // store's object being copied.
    let result = result.map_err(|e| match e {
        StoreError::Io { source, .. } if super::is_disk_full(&source) => {
            StoreError::Full { path: out.to_path_buf() }
        }
        e => e,
    });
    result.map(|_| out.to_path_buf())
}

enum Source {
    Bytes(Vec<u8>),
    File(PathBuf),
}

fn temp_sibling(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    out.with_file_name(format!(".{name}.part-{}", std::process::id()))
}

fn write_folder(dir: &Path, files: &[(String, Source)]) -> Result<(), StoreError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| StoreError::Io { path: p, source: e }
    };
    fs::create_dir(dir).map_err(io(dir))?;
    for (name, src) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        match src {
            Source::Bytes(b) => {
                let mut f = File::create(&path).map_err(io(&path))?;
                f.write_all(b).and_then(|_| f.sync_all()).map_err(io(&path))?;
            }
            Source::File(from) => {
                fs::copy(from, &path).map_err(io(from))?;
                File::open(&path).and_then(|f| f.sync_all()).map_err(io(&path))?;
                let mut perm = fs::metadata(&path).map_err(io(&path))?.permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perm.set_readonly(false);
                fs::set_permissions(&path, perm).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

fn write_tar(path: &Path, id: &ClaimId, files: &[(String, Source)]) -> Result<(), StoreError> {
    let io = |e| StoreError::Io { path: path.to_path_buf(), source: e };
    let f = fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(io)?;
    let mut b = tar::Builder::new(f);
    for (name, src) in files {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_mtime(0); // content, not host metadata: the same claim exports to the same bytes
        let entry = format!("{id}/{name}");
        match src {
            Source::Bytes(bytes) => {
                h.set_size(bytes.len() as u64);
                h.set_cksum();
                b.append_data(&mut h, &entry, bytes.as_slice()).map_err(io)?;
            }
            Source::File(from) => {
                let file = File::open(from).map_err(|e| StoreError::Io { path: from.clone(), source: e })?;
                h.set_size(file.metadata().map_err(io)?.len());
                h.set_cksum();
                b.append_data(&mut h, &entry, file).map_err(io)?;
            }
        }
    }
    let f = b.into_inner().map_err(io)?;
    f.sync_all().map_err(io)
}

/// An exported claim opened for verification: a folder, or a tar archive unpacked (with bounds
/// checks) into a private temporary folder removed on drop.
#[derive(Debug)]
pub struct Exported {
    root: PathBuf,
    temp: Option<PathBuf>,
    /// The latest revision (`record.json`).
    pub record: SealedRecord,
    /// Every revision (`revisions/`), oldest first.
    pub revisions: Vec<SealedRecord>,
    /// The store's chain at export time (`chain.json`).
    pub chain: Vec<ChainLink>,
    /// The chain's keyring (`keyring.json`; `None` when absent, `Err` when it does not read).
    pub keyring: Result<Option<Keyring>, String>,
    /// The receipts (`receipts/`) that the export holds, oldest first.
    pub receipts: Vec<Receipt>,
}

impl Drop for Exported {
    fn drop(&mut self) {
        if let Some(t) = &self.temp {
            let _ = fs::remove_dir_all(t);
        }
    }
}

impl Exported {
    /// Opens an export folder or `.tar` archive, bounded by `limits`.
    pub fn open(path: &Path, limits: super::Limits) -> Result<Exported, StoreError> {
        let meta = fs::metadata(path).map_err(|e| StoreError::Io { path: path.to_path_buf(), source: e })?;
        if meta.is_dir() {
            return Exported::read(path.to_path_buf(), None);
        }
        if meta.len() > limits.max_archive_bytes {
            return Err(StoreError::TooLarge { path: path.to_path_buf(), limit: limits.max_archive_bytes });
        }
        let temp = std::env::temp_dir().join(format!(
            "tickproof-verify-{}-{}",
            std::process::id(),
            crate::record::time::UtcTime::now().unix_s
        ));
        let unpacked = unpack(path, &temp, limits);
        match unpacked {
            // A record that does not read removes the unpacked copy too: no evidence is left
            // behind in the temporary folder.
            Ok(root) => Exported::read(root, Some(temp.clone())).inspect_err(|_| {
                let _ = fs::remove_dir_all(&temp);
            }),
            Err(e) => {
                let _ = fs::remove_dir_all(&temp);
                Err(e)
            }
        }
    }

    fn read(root: PathBuf, temp: Option<PathBuf>) -> Result<Exported, StoreError> {
        let read = |name: &str| -> Result<Vec<u8>, StoreError> {
            let p = root.join(name);
            let f = File::open(&p).map_err(|e| StoreError::Io { path: p.clone(), source: e })?;
            let mut buf = Vec::new();
            f.take(16 << 20)
                .read_to_end(&mut buf)
                .map_err(|e| StoreError::Io { path: p.clone(), source: e })?;
            Ok(buf)
        };
        let corrupt = |what: &str, e: String| StoreError::Corrupt { what: what.to_string(), problem: e };
        let record = SealedRecord::from_json(&read("record.json")?)
            .map_err(|e| corrupt("record.json", e.to_string()))?;
        // Revisions count from 1 (found by fuzzing: a record.json of revision 0 read as an
        // export holding no revision at all).
        if record.record.revision == 0 {
            return Err(corrupt("record.json", "revision 0: revisions count from 1".into()));
        }
        let chain: Vec<ChainLink> =
            serde_json::from_slice(&read("chain.json")?).map_err(|e| corrupt("chain.json", e.to_string()))?;
        let missing = |e: &StoreError| matches!(e, StoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound);
        let keyring = match read("keyring.json") {
            Ok(b) => Keyring::from_json(&b).map(Some).map_err(|e| e.to_string()),
            Err(e) if missing(&e) => Ok(None),
            Err(e) => Err(e.to_string()),
        };
        let mut receipts = Vec::new();
        for rev in 1..=record.record.revision {
            let name = format!("receipts/r{rev:04}.json");
            match read(&name) {
                Ok(b) => receipts.push(Receipt::from_json(&b).map_err(|e| corrupt(&name, e.to_string()))?),
                Err(e) if missing(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let mut revisions = Vec::new();
        for rev in 1..=record.record.revision {
            let name = format!("revisions/r{rev:04}.json");
            match read(&name) {
                Ok(b) => {
                    revisions.push(SealedRecord::from_json(&b).map_err(|e| corrupt(&name, e.to_string()))?)
                }
                Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                    return Err(corrupt(&name, "missing from the export (a revision was deleted)".into()))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Exported { root, temp, record, revisions, chain, keyring, receipts })
    }

    /// The path of an evidence file in the export (name already validated by the record).
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// Unpacks a tar archive into `dest` after checking every entry: regular files only, paths
/// relative under one top folder named by a valid claim id, names that the record layer accepts,
/// at most `max_archive_entries` entries and `max_archive_bytes` in all. Returns the top folder.
fn unpack(archive: &Path, dest: &Path, limits: super::Limits) -> Result<PathBuf, StoreError> {
    let bad = |problem: String| StoreError::Corrupt { what: archive.display().to_string(), problem };
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| StoreError::Io { path: p, source: e }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().mode(0o700).create(dest).map_err(io(dest))?;
    }
    #[cfg(not(unix))]
    fs::create_dir(dest).map_err(io(dest))?;
    let f = File::open(archive).map_err(io(archive))?;
    let mut ar = tar::Archive::new(f);
    let mut top: Option<String> = None;
    let mut total = 0u64;
    let mut count = 0usize;
    for entry in ar.entries().map_err(io(archive))? {
        let mut entry = entry.map_err(io(archive))?;
        count += 1;
        if count > limits.max_archive_entries {
            return Err(bad(format!("more than {} entries", limits.max_archive_entries)));
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(bad("holds an entry that is not a regular file (link or device)".into()));
        }
        let path = entry.path().map_err(io(archive))?.into_owned();
        let parts: Vec<String> = path
            .components()
            .map(|c| match c {
                Component::Normal(s) => Ok(s.to_string_lossy().into_owned()),
                _ => Err(bad(format!("unsafe entry name {}", path.display()))),
            })
            .collect::<Result<_, _>>()?;
        if parts.len() < 2 {
            return Err(bad(format!("entry {} is not inside a claim folder", path.display())));
        }
        ClaimId::parse(&parts[0]).map_err(|e| bad(e.to_string()))?;
        match &top {
            None => top = Some(parts[0].clone()),
            Some(t) if *t != parts[0] => return Err(bad("holds more than one claim".into())),
            Some(_) => {}
        }
        let rel = parts[1..].join("/");
        validate_evidence_name(&rel).map_err(|e| bad(e.to_string()))?;
        let size = entry.header().size().map_err(io(archive))?;
        total += size;
        if total > limits.max_archive_bytes {
            return Err(bad(format!("unpacks to more than {} bytes", limits.max_archive_bytes)));
        }
        let out = dest.join(&parts[0]).join(&rel);
        fs::create_dir_all(out.parent().expect("has parent")).map_err(io(&out))?;
        let mut w = fs::OpenOptions::new().write(true).create_new(true).open(&out).map_err(io(&out))?;
        let copied = io::copy(&mut (&mut entry).take(size), &mut w).map_err(io(&out))?;
        if copied != size {
            return Err(bad(format!("entry {rel} is truncated")));
        }
    }
    let top = top.ok_or_else(|| bad("is empty".into()))?;
    Ok(dest.join(top))
}
