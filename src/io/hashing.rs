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
