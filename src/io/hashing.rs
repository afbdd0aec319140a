//! SHA-256 of files and bytes, for the manifest's inputs and outputs, the model's fingerprint
//! and the counselor files' names: streamed, so a file of gigabytes is never held in memory.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::io::error::{EwsError, Result};

/// Feeds a file into `hasher`, streaming; returns its size.
pub fn hash_file_into(hasher: &mut Sha256, path: &Path) -> Result<u64> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| EwsError::io(path, e))?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| EwsError::io(path, e))?;
        if n == 0 {
            return Ok(bytes);
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 and size of a file.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let bytes = hash_file_into(&mut hasher, path)?;
    Ok((hex(&hasher.finalize()), bytes))
}

/// SHA-256 and size of an input: a file ([`sha256_file`]), or a folder of inputs (the returned
/// counselor workbooks): the SHA-256 of each of its files' name and SHA-256, in name order, and
/// their total size.
pub fn sha256_input(path: &Path) -> Result<(String, u64)> {
    if !path.is_dir() {
        return sha256_file(path);
    }
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)
        .map_err(|e| EwsError::io(path, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    let mut total = 0;
    for file in files {
        let (sha256, bytes) = sha256_file(&file)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(sha256.as_bytes());
        total += bytes;
    }
    Ok((hex(&hasher.finalize()), total))
}
