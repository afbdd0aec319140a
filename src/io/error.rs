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

    #[error("{path}: {}", missing_columns_message(.missing, .hint))]
    MissingColumns {
        path: PathBuf,
        missing: Vec<MissingColumn>,
        /// Why the header might not match (another delimiter, no header row).
        hint: Option<String>,
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

    // Only the kind of the engine's error: its message may quote a value of the data.
    #[error("data engine error ({}); a bug in ews, please report it", engine_error_kind(.0))]
    Polars(#[from] polars::error::PolarsError),

    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// A required column the header lacks.
#[derive(Debug, Clone)]
pub struct MissingColumn {
    /// The header the file should have (the mapping's name for the contract column).
    pub column: String,
    /// The contract's name of the column, when the mapping renames it.
    pub canonical: Option<String>,
    pub closest: Option<String>,
}

impl std::fmt::Display for MissingColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`", self.column)?;
        if let Some(name) = &self.canonical {
            write!(f, " (mapped to `{name}`)")?;
        }
        if let Some(header) = &self.closest {
            write!(f, " (closest header found: `{header}`)")?;
        }
        Ok(())
    }
}

/// "required column `x` is missing (closest header found: `y`)", or every missing column in
/// one message.
fn missing_columns_message(missing: &[MissingColumn], hint: &Option<String>) -> String {
    let mut message = match missing {
        [one] => {
            let mut text = format!("required column `{}`", one.column);
            if let Some(name) = &one.canonical {
                text += &format!(" (mapped to `{name}`)");
            }
            text += " is missing";
            if let Some(header) = &one.closest {
                text += &format!(" (closest header found: `{header}`)");
            }
            text
        }
        _ => format!(
            "{} required columns are missing: {}",
            missing.len(),
            missing
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if let Some(hint) = hint {
        message += &format!("; {hint}");
    }
    message
}

/// The kind of a polars error, without its message (which may hold a value of a row).
fn engine_error_kind(error: &polars::error::PolarsError) -> String {
    use polars::error::PolarsError::*;
    match error {
        IO { error, .. } => format!("input/output: {error}"),
        Context { error, .. } | ExprContext { error, .. } => engine_error_kind(error),
        AssertionError(_) => "assertion".into(),
        ColumnNotFound(_) => "column not found".into(),
        ComputeError(_) => "compute".into(),
        Duplicate(_) => "duplicate".into(),
        InvalidOperation(_) => "invalid operation".into(),
        NoData(_) => "no data".into(),
        OutOfBounds(_) => "out of bounds".into(),
        SchemaFieldNotFound(_) | SchemaMismatch(_) | StructFieldNotFound(_) => "schema".into(),
        ShapeMismatch(_) => "shape mismatch".into(),
        StringCacheMismatch(_) => "string cache".into(),
        _ => "other".into(),
    }
}

impl EwsError {
    /// Bad input is the user's to fix (exit 2); anything else is ours (exit 3).
    pub fn exit_code(&self) -> u8 {
        match self {
            EwsError::MissingFile { .. }
            | EwsError::MissingColumns { .. }
            | EwsError::BadFile { .. }
            | EwsError::Config { .. }
            | EwsError::Model { .. }
            | EwsError::QualityGate { .. }
            | EwsError::Locked { .. }
            | EwsError::Training(_) => EXIT_BAD_INPUT,
            EwsError::Generate(
                GenerateError::CanonicalLayoutOnly(_)
                | GenerateError::CsvOnly(_)
                | GenerateError::TooManyHistoryYears(_)
                | GenerateError::TooFewStudents(_)
                | GenerateError::TooManyStudents(_),
            ) => EXIT_BAD_INPUT,
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

/// Why [`crate::synth::generate::generate`] failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// Creating a folder or writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CSV writer failed on a file.
    #[error("cannot write {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    /// Too few students for two schools and four grades.
    #[error("--students must be at least 20, got {0}")]
    TooFewStudents(usize),
    /// More students than the largest statewide systems; the K–8 ids of the SIS shapes would
    /// need more than their 8-digit blocks.
    #[error("--students must be at most 10000000, got {0}")]
    TooManyStudents(usize),
    /// A SIS shape asked for with an export mapping or a byte-order mark: its enrollment.csv,
    /// calendar.csv, `day_fraction` and snapshot.toml have no mapped form.
    #[error(
        "--shape {0} is written in the canonical layout only: use a config without an [input] \
         mapping and no --bom, or --shape canonical"
    )]
    CanonicalLayoutOnly(&'static str),
    /// `--format parquet` with an export mapping or a byte-order mark, which shape CSV files.
    #[error(
        "--format {0} is written in the canonical layout only: an [input] mapping and --bom \
         describe CSV files; use a config without an [input] mapping and no --bom, or --format csv"
    )]
    CsvOnly(&'static str),
    /// More earlier years than a grade-12 student has from grade 6.
    #[error("--history-years must be at most 6 (grades 6-11 of a grade-12 student), got {0}")]
    TooManyHistoryYears(u32),
}
