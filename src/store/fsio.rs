//! The file operations the store writes evidence with, behind a trait so tests can make any of
//! them fail (a full disk, a failing sync) and check that nothing already stored is lost.
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// The file operations used to write an evidence object.
///
/// Every implementation must either do the whole operation or return an error; the store then
/// removes its temporary file and reports the error, leaving earlier objects and records intact.
pub trait EvidenceIo: Send + Sync {
    /// Writes all of `buf` to `file`.
    fn write_all(&self, file: &mut File, buf: &[u8]) -> io::Result<()>;
    /// Flushes `file`'s data and metadata to stable storage.
    fn sync_file(&self, file: &File) -> io::Result<()>;
    /// Renames `from` to `to` (same file system: atomic).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes a directory entry change (a rename) to stable storage.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealIo;

impl EvidenceIo for RealIo {
    fn write_all(&self, file: &mut File, buf: &[u8]) -> io::Result<()> {
        file.write_all(buf)
    }
    fn sync_file(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        // On Unix a directory is opened read-only and fsynced; elsewhere this is a no-op.
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(())
        }
    }
}

/// True when an I/O error means the disk (or quota) is full.
pub fn is_disk_full(e: &io::Error) -> bool {
    // ENOSPC = 28 and EDQUOT = 122 on Linux; io::ErrorKind::StorageFull needs Rust 1.83.
    matches!(e.raw_os_error(), Some(28) | Some(122)) || e.to_string().contains("No space left")
}
