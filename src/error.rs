//! The library's typed errors.
//!
//! Every error about input names the file, and where it can, the line, the column and what was
//! expected, so an analyst can fix the export without reading code. `main.rs` maps
//! [`EwsError::exit_code`] to the process exit status.

use std::path::PathBuf;

/// Exit status for a run that succeeded but rejected rows below the gate.
pub const EXIT_WARNINGS: u8 = 1;
/// Exit status for bad input, bad usage or a failed check of the data.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status for a bug or an environment failure (disk full, …).
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum EwsError {
    #[error("{path}: required file is missing")]
    MissingFile { path: PathBuf },

    #[error("{path}: required column `{column}`{} is missing{}", mapped_hint(.canonical), closest_hint(.closest))]
    MissingColumn {
        path: PathBuf,
        /// The header the file should have (the mapping's name for the contract column).
        column: String,
        /// The contract's name of the column, when the mapping renames it.
        canonical: Option<String>,
        closest: Option<String>,
    },

    #[error("{path}, line {line}, column `{column}`: {found}; expected {expected}")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: String,
        found: String,
        expected: String,
    },

    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },

    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },

    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },

    #[error("data-quality gate failed, nothing published ({report}):\n  {}", .failures.join("\n  "))]
    QualityGate {
        failures: Vec<String>,
        report: String,
    },

    #[error("{path}: {message}")]
    Locked { path: PathBuf, message: String },

    #[error("cannot train: {0}")]
    Training(String),

    // The cause follows in the error chain (main prints it after a colon).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("data engine: {0}")]
    Polars(#[from] polars::error::PolarsError),

    #[error(transparent)]
    Generate(#[from] crate::generate::GenerateError),
}

fn mapped_hint(canonical: &Option<String>) -> String {
    match canonical {
        Some(name) => format!(" (mapped to `{name}`)"),
        None => String::new(),
    }
}

fn closest_hint(closest: &Option<String>) -> String {
    match closest {
        Some(header) => format!(" (closest header found: `{header}`)"),
        None => String::new(),
    }
}

impl EwsError {
    /// Bad input is the user's to fix (exit 2); anything else is ours (exit 3).
    pub fn exit_code(&self) -> u8 {
        match self {
            EwsError::MissingFile { .. }
            | EwsError::MissingColumn { .. }
            | EwsError::BadValue { .. }
            | EwsError::BadFile { .. }
            | EwsError::Config { .. }
            | EwsError::Model { .. }
            | EwsError::QualityGate { .. }
            | EwsError::Locked { .. }
            | EwsError::Training(_) => EXIT_BAD_INPUT,
            EwsError::Io { .. } | EwsError::Polars(_) | EwsError::Generate(_) => EXIT_INTERNAL,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EwsError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = EwsError> = std::result::Result<T, E>;
