//! Evidence in the registry: content-addressed by SHA-256, written in chunks of [`CHUNK_BYTES`]
//! within one transaction (a recording never sits whole in memory; an interrupted upload leaves
//! nothing), and read back chunk by chunk.
use postgres::Client;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::io::{self, Read};
use std::path::Path;

use super::{pg_error, PgStore};
use crate::record::canonical::hex;
use crate::store::{StoreError, StoredObject};

/// Size of one stored chunk of evidence.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Fills `buf` from `r` as far as it goes; the count read (less than `buf.len()` only at the end).
fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl PgStore {
    /// Streams `reader` into the registry as one evidence object (see the module notes).
    pub(super) fn put_chunks(&self, reader: &mut dyn Read, label: &Path) -> Result<StoredObject, StoreError> {
        let limit = self.opts.limits.max_evidence_bytes;
        let pg = |e| pg_error(&self.location, e);
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(pg)?;
        let upload: i64 = tx.query_one("SELECT nextval('evidence_upload')", &[]).map_err(pg)?.get(0);
        let (mut hasher, mut size, mut n) = (Sha256::new(), 0u64, 0i32);
        let mut buf = vec![0u8; CHUNK_BYTES];
        loop {
            let k = fill(reader, &mut buf)
                .map_err(|e| StoreError::Io { path: label.to_path_buf(), source: e })?;
            if k == 0 {
                break;
            }
            size += k as u64;
            if size > limit {
                return Err(StoreError::TooLarge { path: label.to_path_buf(), limit });
            }
            hasher.update(&buf[..k]);
            tx.execute(
                "INSERT INTO evidence_chunk (upload, n, bytes) VALUES ($1, $2, $3)",
                &[&upload, &n, &&buf[..k]],
            )
            .map_err(pg)?;
            n += 1;
        }
        let sha256 = hex(&hasher.finalize());
        if let Some(stored) = stored_size(&mut tx, &sha256).map_err(pg)? {
            drop(tx); // rolls the duplicate chunks back
            return same_size(&sha256, stored, size);
        }
        tx.execute(
            "INSERT INTO evidence (sha256, size_bytes, upload, chunks) VALUES ($1, $2, $3, $4)",
            &[&sha256, &(size as i64), &upload, &n],
        )
        .map_err(pg)?;
        match tx.commit() {
            Ok(()) => Ok(StoredObject { sha256, size_bytes: size }),
            // Another writer stored the same content meanwhile: that object stands.
            Err(e) => match stored_size(&mut *client, &sha256) {
                Ok(Some(stored)) => same_size(&sha256, stored, size),
                _ => Err(pg(e)),
            },
        }
    }

    /// A reader of a stored object's content, one chunk in memory at a time.
    pub(crate) fn chunk_reader(&self, sha256: &str) -> Result<ChunkReader<'_>, StoreError> {
        let pg = |e| pg_error(&self.location, e);
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT upload, chunks, size_bytes FROM evidence WHERE sha256 = $1", &[&sha256])
            .map_err(pg)?
            .ok_or_else(|| StoreError::NotFound { what: format!("evidence object {sha256}") })?;
        Ok(ChunkReader {
            client: &self.client,
            upload: row.get(0),
            chunks: row.get(1),
            next: 0,
            buf: Vec::new(),
            pos: 0,
            size: row.get::<_, i64>(2) as u64,
            sha256: sha256.to_string(),
        })
    }
}

fn stored_size(c: &mut impl postgres::GenericClient, sha256: &str) -> Result<Option<u64>, postgres::Error> {
    Ok(c.query_opt("SELECT size_bytes FROM evidence WHERE sha256 = $1", &[&sha256])?
        .map(|r| r.get::<_, i64>(0) as u64))
}

fn same_size(sha256: &str, stored: u64, size: u64) -> Result<StoredObject, StoreError> {
    if stored != size {
        return Err(StoreError::Corrupt {
            what: format!("evidence object {sha256}"),
            problem: format!("holds {stored} bytes, its content has {size}"),
        });
    }
    Ok(StoredObject { sha256: sha256.to_string(), size_bytes: size })
}

/// Reads an evidence object chunk by chunk (see [`PgStore::chunk_reader`]).
pub(crate) struct ChunkReader<'a> {
    client: &'a RefCell<Client>,
    upload: i64,
    chunks: i32,
    next: i32,
    buf: Vec<u8>,
    pos: usize,
    /// The size the evidence row records.
    pub size: u64,
    sha256: String,
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.next == self.chunks {
                return Ok(0);
            }
            let row = self
                .client
                .borrow_mut()
                .query_opt(
                    "SELECT bytes FROM evidence_chunk WHERE upload = $1 AND n = $2",
                    &[&self.upload, &self.next],
                )
                .map_err(|e| io::Error::other(super::conn::message(&e)))?
                .ok_or_else(|| {
                    io::Error::other(format!(
                        "evidence object {}: chunk {} is missing",
                        self.sha256, self.next
                    ))
                })?;
            self.buf = row.get(0);
            self.pos = 0;
            self.next += 1;
        }
        let k = out.len().min(self.buf.len() - self.pos);
        out[..k].copy_from_slice(&self.buf[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}
