//! The run manifest (manifest.json): what a run read, with which model and config, what it
//! rejected, how long each stage took and every file it wrote, each with its SHA-256 — so an
//! analyst can tell exactly which inputs produced a referral list, and verify the files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::ingest::quality::QualityReport;
use crate::io::error::{EwsError, Result};

/// Version of the manifest layout.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub ews_version: String,
    /// When the run wrote its files (UTC, RFC 3339): the one value that differs between two
    /// runs on the same inputs.
    pub created_at: String,
    pub as_of: chrono::NaiveDate,
    pub snapshot: String,
    pub model: ModelInfo,
    pub config: ConfigInfo,
    pub inputs: Vec<InputFile>,
    pub rows_rejected: u64,
    /// Seconds per stage, up to the writing of the outputs.
    pub stages: Vec<StageTime>,
    /// Every other file of the run folder (and its subfolders, as `schools/001.csv`), by name.
    pub outputs: Vec<OutputFile>,
    /// Whether the feed and changes.csv hold pseudonyms, and the key's fingerprint (never the
    /// key): runs compare only with runs of the same ids.
    pub student_ids: crate::outputs::pseudonym::StudentIds,
    /// Warnings about the run as a whole (e.g. the share of flagged students jumped).
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ModelInfo {
    pub path: String,
    pub fingerprint: String,
    pub schema_version: u32,
}

#[derive(Debug, Serialize)]
pub struct ConfigInfo {
    pub path: String,
    /// SHA-256 of the effective configuration (defaults filled in), as JSON.
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct InputFile {
    /// The contract's name of the file (`attendance.csv`).
    pub file: String,
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub rows_read: u64,
    pub rows_rejected: u64,
}

#[derive(Debug, Serialize)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct OutputFile {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What the manifest needs to know about the run, besides its folder.
pub struct RunFacts<'a> {
    pub as_of: chrono::NaiveDate,
    pub snapshot: &'a Path,
    pub model_path: &'a Path,
    pub model: &'a crate::model::ModelFile,
    pub config_path: &'a Path,
    pub config: &'a Config,
    pub quality: &'a QualityReport,
    pub stages: &'a [(&'static str, std::time::Duration)],
    /// Inputs already hashed ([`InputHashes`]); the others are hashed by [`build`].
    pub input_hashes: &'a HashMap<PathBuf, (String, u64)>,
    pub student_ids: &'a crate::outputs::pseudonym::StudentIds,
    pub warnings: &'a [String],
}

/// SHA-256 and size of input files, computed on a thread of their own while the run goes on:
/// at a million students the inputs are 5 GB, 6–8 s of hashing that the run's single-threaded
/// stages (plans, the writers) leave a core for.
pub struct InputHashes(std::thread::JoinHandle<HashMap<PathBuf, (String, u64)>>);

impl InputHashes {
    pub fn start(paths: Vec<PathBuf>) -> InputHashes {
        InputHashes(std::thread::spawn(move || {
            paths
                .into_iter()
                .filter_map(|path| {
                    let hashed = crate::io::hashing::sha256_input(&path).ok()?;
                    Some((path, hashed))
                })
                .collect()
        }))
    }

    /// The hashes computed. A file the thread could not read is left out (and [`build`]
    /// hashes it again, reporting the error if it persists).
    pub fn finish(self) -> HashMap<PathBuf, (String, u64)> {
        self.0.join().unwrap_or_default()
    }
}

/// Builds the manifest of the run folder `dir` (every file already written in it).
pub fn build(dir: &Path, facts: &RunFacts) -> Result<Manifest> {
    let mut inputs = Vec::new();
    for f in &facts.quality.files {
        let (sha256, bytes) = match facts.input_hashes.get(&f.path) {
            Some(hashed) => hashed.clone(),
            None => crate::io::hashing::sha256_input(&f.path)?,
        };
        inputs.push(InputFile {
            file: f.file.to_string(),
            path: f.path.display().to_string(),
            bytes,
            sha256,
            rows_read: f.rows_read,
            rows_rejected: f.rejected(),
        });
    }
    let mut names = crate::io::folders::files_under(dir, dir)?;
    // The run's files: not the manifest itself, nor the staging folder's marker (a file with
    // no kind, the only one a publish accepts).
    names.retain(|name| name != "manifest.json" && crate::io::folders::kind_of(name).is_some());
    names.sort();
    let mut outputs = Vec::new();
    for file in names {
        let (sha256, bytes) = crate::io::hashing::sha256_file(&dir.join(&file))?;
        outputs.push(OutputFile {
            file,
            bytes,
            sha256,
        });
    }
    Ok(Manifest {
        schema_version: MANIFEST_SCHEMA_VERSION,
        ews_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        as_of: facts.as_of,
        snapshot: facts.snapshot.display().to_string(),
        model: ModelInfo {
            path: facts.model_path.display().to_string(),
            fingerprint: facts.model.fingerprint.clone(),
            schema_version: facts.model.schema_version,
        },
        config: ConfigInfo {
            path: facts.config_path.display().to_string(),
            sha256: facts.config.sha256()?,
        },
        rows_rejected: inputs.iter().map(|i| i.rows_rejected).sum(),
        inputs,
        stages: facts
            .stages
            .iter()
            .map(|(stage, d)| StageTime {
                stage: stage.to_string(),
                seconds: (d.as_secs_f64() * 1000.0).round() / 1000.0,
            })
            .collect(),
        outputs,
        student_ids: facts.student_ids.clone(),
        warnings: facts.warnings.to_vec(),
    })
}

pub fn write(path: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| EwsError::io(path, std::io::Error::other(e)))?;
    std::fs::write(path, text + "\n").map_err(|e| EwsError::io(path, e))
}
