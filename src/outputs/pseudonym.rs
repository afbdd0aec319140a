//! Pseudonymised dashboard feeds (`ews score --pseudonymize`): student ids replaced by a keyed
//! hash (HMAC-SHA-256, RFC 2104) and names removed, so a dashboard can follow a student from
//! night to night without holding who the student is. The key comes from the environment
//! variable [`KEY_VARIABLE`], never from the command line (which other users of the machine can
//! see) and is never logged; the same key gives the same pseudonyms every night.

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::io::error::{EwsError, Result};

/// The environment variable holding the key.
pub const KEY_VARIABLE: &str = "EWS_PSEUDONYM_KEY";

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// HMAC-SHA-256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block_key.map(|k| k ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

/// The key from the environment, checked.
pub fn key_from_env() -> Result<Vec<u8>> {
    let missing = |message: String| EwsError::Config {
        path: KEY_VARIABLE.into(),
        message,
    };
    let key = std::env::var(KEY_VARIABLE).map_err(|_| {
        missing(format!(
            "--pseudonymize needs a key in the environment variable {KEY_VARIABLE}"
        ))
    })?;
    if key.len() < MIN_KEY_BYTES {
        return Err(missing(format!(
            "the key must have at least {MIN_KEY_BYTES} bytes"
        )));
    }
    Ok(key.into_bytes())
}

/// How a run wrote student ids in its feed and changes.csv: as they are, or as pseudonyms
/// under one key. Runs compare (changes.csv) only with runs of the same ids: a plain run's ids
/// must never meet a pseudonymised feed, nor pseudonyms of another key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentIds {
    pub pseudonymized: bool,
    /// [`key_fingerprint`] of the key (never the key); null for plain ids, and for an earlier
    /// run whose key is unknown.
    pub key_fingerprint: Option<String>,
}

impl StudentIds {
    pub fn of(key: Option<&[u8]>) -> StudentIds {
        StudentIds {
            pseudonymized: key.is_some(),
            key_fingerprint: key.map(key_fingerprint),
        }
    }

    /// Whether a run with these ids may be compared with one with `other`: both plain, or both
    /// pseudonymised under the same known key.
    pub fn comparable(&self, other: &StudentIds) -> bool {
        match (self.pseudonymized, other.pseudonymized) {
            (false, false) => true,
            (true, true) => {
                self.key_fingerprint.is_some() && self.key_fingerprint == other.key_fingerprint
            }
            _ => false,
        }
    }

    pub fn describe(&self) -> String {
        match (&self.pseudonymized, &self.key_fingerprint) {
            (false, _) => "plain student ids".into(),
            (true, Some(f)) => format!("pseudonyms under the key with fingerprint {f}"),
            (true, None) => "pseudonyms under an unknown key".into(),
        }
    }
}

/// A fingerprint of the key, to tell keys apart without holding the key or anything that
/// would make pseudonyms: the first 8 bytes of the HMAC of a fixed label under the key, as hex.
pub fn key_fingerprint(key: &[u8]) -> String {
    hmac_sha256(key, b"ews pseudonym key fingerprint v1")[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The pseudonym of a student id: the first 16 bytes of its HMAC, as hex.
pub fn pseudonym(key: &[u8], student_id: &str) -> String {
    hmac_sha256(key, student_id.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The feed with pseudonyms for student ids, no names, and, unless `keep_demographics`, no
/// demographic values ([`crate::model::equity::ATTRIBUTES`]: gender, race_ethnicity, ell, sped,
/// econ_disadvantaged). The columns stay, empty, so the feed's layout does not depend on the
/// config. With school and grade, the demographics single out a fifth of the sample's students
/// (README, "Data protection"); the aggregates of summary.json keep serving equity dashboards.
pub fn pseudonymize(feed: &DataFrame, key: &[u8], keep_demographics: bool) -> Result<DataFrame> {
    let ids: Vec<Option<String>> = feed
        .column("student_id")?
        .str()?
        .iter()
        .map(|id| id.map(|id| pseudonym(key, id)))
        .collect();
    // Names, and counselors' free-text reasons (student-level data).
    let mut blanked = vec!["first_name", "last_name", "decision_reason"];
    if !keep_demographics {
        blanked.extend(crate::model::equity::ATTRIBUTES);
    }
    Ok(feed
        .clone()
        .lazy()
        .with_columns(
            blanked
                .iter()
                .map(|n| lit(NULL).cast(DataType::String).alias(*n))
                .chain(std::iter::once(
                    lit(Series::new("student_id".into(), ids)).alias("student_id"),
                ))
                .collect::<Vec<_>>(),
        )
        .sort(["student_id"], Default::default())
        .collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn only_runs_with_the_same_ids_compare() {
        let (a, b) = (b"0123456789abcdef", b"fedcba9876543210");
        let plain = StudentIds::of(None);
        let under_a = StudentIds::of(Some(a));
        assert!(plain.comparable(&plain));
        assert!(under_a.comparable(&StudentIds::of(Some(a))));
        assert!(!plain.comparable(&under_a) && !under_a.comparable(&plain));
        assert!(!under_a.comparable(&StudentIds::of(Some(b))));
        let unknown = StudentIds {
            pseudonymized: true,
            key_fingerprint: None,
        };
        assert!(!unknown.comparable(&unknown));
        // The fingerprint is not a pseudonym and not the key.
        let fingerprint = key_fingerprint(a);
        assert_eq!(fingerprint.len(), 16);
        assert!(!pseudonym(a, "0001").starts_with(&fingerprint));
    }

    #[test]
    fn pseudonyms_depend_on_the_key() {
        let (a, b) = (b"0123456789abcdef", b"fedcba9876543210");
        assert_eq!(pseudonym(a, "0001"), pseudonym(a, "0001"));
        assert_ne!(pseudonym(a, "0001"), pseudonym(b, "0001"));
        assert_ne!(pseudonym(a, "0001"), pseudonym(a, "0002"));
        assert_eq!(pseudonym(a, "0001").len(), 32);
    }
}
