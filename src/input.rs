//! Reading the export files of one snapshot folder.
//!
//! Each file is scanned lazily by polars with every column as a string (identifiers keep their
//! leading zeros, and a bad value becomes a reportable row instead of a reader crash). The
//! header is checked first, so a missing required column fails before any data is read, with
//! the closest header that was found. Typed parsing and row checks live in [`crate::validate`].

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{EwsError, Result};

/// Name of the column that carries each row's line number in its file (the header is line 1).
pub const LINE: &str = "__line";

/// The layout of one export file of the input contract.
#[derive(Debug)]
pub struct FileSpec {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
    /// Whether a snapshot without this file is an error.
    pub required_file: bool,
}

pub const STUDENTS: FileSpec = FileSpec {
    name: "students.csv",
    required: &[
        "student_id",
        "first_name",
        "last_name",
        "school_id",
        "grade_level",
    ],
    optional: &[
        "school_name",
        "birth_date",
        "cohort_year",
        "gender",
        "race_ethnicity",
        "ell",
        "sped",
        "econ_disadvantaged",
        "counselor",
    ],
    required_file: true,
};

pub const ATTENDANCE: FileSpec = FileSpec {
    name: "attendance.csv",
    required: &["student_id", "school_id", "date", "code"],
    optional: &[],
    required_file: true,
};

pub const GRADES: FileSpec = FileSpec {
    name: "grades.csv",
    required: &[
        "student_id",
        "school_id",
        "school_year",
        "term",
        "course_id",
        "course_name",
        "subject",
        "mark",
        "mark_date",
    ],
    optional: &["percent"],
    required_file: true,
};

pub const CREDITS: FileSpec = FileSpec {
    name: "credits.csv",
    required: &[
        "student_id",
        "school_year",
        "term",
        "course_id",
        "course_name",
        "subject",
        "credits_attempted",
        "credits_earned",
        "mark",
        "completion_date",
    ],
    optional: &["credit_recovery"],
    required_file: true,
};

pub const BEHAVIOR: FileSpec = FileSpec {
    name: "behavior.csv",
    required: &["student_id", "date", "incident_type"],
    optional: &["suspension_type", "suspension_days"],
    required_file: false,
};

pub const OUTCOMES: FileSpec = FileSpec {
    name: "outcomes.csv",
    required: &["student_id", "outcome", "outcome_date"],
    optional: &[],
    required_file: true,
};

/// One snapshot folder: the files a district's SIS exported on one night.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
}

/// A scanned file: every contract column present (absent optional columns are all-null), all
/// as strings, plus [`LINE`].
pub struct RawFile {
    pub path: PathBuf,
    pub spec: &'static FileSpec,
    pub frame: LazyFrame,
}

impl Snapshot {
    pub fn open(dir: &Path) -> Result<Snapshot> {
        if !dir.is_dir() {
            return Err(EwsError::BadFile {
                path: dir.to_path_buf(),
                message: "not a snapshot folder (no such directory)".into(),
            });
        }
        Ok(Snapshot {
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self, spec: &FileSpec) -> PathBuf {
        self.dir.join(spec.name)
    }

    /// The file of `spec` in this snapshot: `<name>.csv`, or `<name>.parquet` in its place.
    /// `None` when neither exists; an error when both do (which one would be meant?).
    pub fn find(&self, spec: &FileSpec) -> Result<Option<PathBuf>> {
        let csv = self.path(spec);
        let parquet = csv.with_extension("parquet");
        match (csv.is_file(), parquet.is_file()) {
            (true, true) => Err(EwsError::BadFile {
                path: parquet,
                message: format!("both {} and this file exist; keep one", spec.name),
            }),
            (true, false) => Ok(Some(csv)),
            (false, true) => Ok(Some(parquet)),
            (false, false) => Ok(None),
        }
    }

    /// Scans a required file; a missing file is an error.
    pub fn scan(&self, spec: &'static FileSpec) -> Result<RawFile> {
        match self.find(spec)? {
            Some(path) => scan_file(&path, spec),
            None => Err(EwsError::MissingFile {
                path: self.path(spec),
            }),
        }
    }

    /// Scans an optional file; `None` when the snapshot does not have it.
    pub fn scan_optional(&self, spec: &'static FileSpec) -> Result<Option<RawFile>> {
        match self.find(spec)? {
            Some(path) => scan_file(&path, spec).map(Some),
            None => Ok(None),
        }
    }
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn scan_file(path: &Path, spec: &'static FileSpec) -> Result<RawFile> {
    if is_parquet(path) {
        scan_parquet(path, spec)
    } else {
        scan_csv(path, spec)
    }
}

/// Reads the header row of a CSV file (a UTF-8 byte-order mark is dropped).
pub fn read_header(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| EwsError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let headers = reader.headers().map_err(|e| EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!("cannot read the header row: {e}"),
    })?;
    Ok(headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}')
            } else {
                h
            };
            h.trim().to_string()
        })
        .collect())
}

/// Checks the header against the spec: every required column present, none twice.
fn check_header(path: &Path, spec: &FileSpec, header: &[String]) -> Result<()> {
    if header.iter().all(|h| h.is_empty()) {
        return Err(EwsError::BadFile {
            path: path.to_path_buf(),
            message: "the file is empty (no header row)".into(),
        });
    }
    for column in spec.required {
        if !header.iter().any(|h| h == column) {
            return Err(EwsError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                closest: closest_header(column, header),
            });
        }
    }
    for (i, h) in header.iter().enumerate() {
        if header[..i].contains(h)
            && (spec.required.contains(&h.as_str()) || spec.optional.contains(&h.as_str()))
        {
            return Err(EwsError::BadFile {
                path: path.to_path_buf(),
                message: format!("column `{h}` appears twice in the header"),
            });
        }
    }
    Ok(())
}

/// The header most similar to a missing column name, when one is plausibly a misspelling.
fn closest_header(column: &str, header: &[String]) -> Option<String> {
    header
        .iter()
        .map(|h| (strsim::normalized_levenshtein(&h.to_lowercase(), column), h))
        .filter(|(similarity, _)| *similarity >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h)| h.clone())
}

fn scan_csv(path: &Path, spec: &'static FileSpec) -> Result<RawFile> {
    let header = read_header(path)?;
    check_header(path, spec, &header)?;

    // Unnamed or repeated extra columns get placeholder names: the contract ignores them.
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let known = spec.required.contains(&h.as_str()) || spec.optional.contains(&h.as_str());
        if known && !names.contains(h) {
            names.push(h.clone());
        } else {
            names.push(format!("__extra_{i}"));
        }
    }
    let schema: Schema = names
        .iter()
        .map(|n| Field::new(n.as_str().into(), DataType::String))
        .collect();

    let path_text = path.to_string_lossy().to_string();
    let frame = LazyCsvReader::new(PlRefPath::new(path_text.as_str()))
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_row_index(Some(RowIndex {
            name: LINE.into(),
            offset: 2,
        }))
        .finish()?;

    Ok(RawFile {
        path: path.to_path_buf(),
        spec,
        frame: contract_columns(frame, spec, &names),
    })
}

/// A Parquet file with the contract's columns, of any types: each is read as text (dates as
/// ISO dates), so the same checks apply as to a CSV export. Its "line" is the row number,
/// counting from 1.
fn scan_parquet(path: &Path, spec: &'static FileSpec) -> Result<RawFile> {
    let path_text = path.to_string_lossy().to_string();
    let unreadable = |e: PolarsError| EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!("cannot read as Parquet: {e}"),
    };
    let mut frame = LazyFrame::scan_parquet(
        PlRefPath::new(path_text.as_str()),
        ScanArgsParquet::default(),
    )
    .map_err(unreadable)?;
    let schema = frame.collect_schema().map_err(unreadable)?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    check_header(path, spec, &names)?;
    let known: Vec<String> = names
        .iter()
        .filter(|n| spec.required.contains(&n.as_str()) || spec.optional.contains(&n.as_str()))
        .cloned()
        .collect();
    let frame = frame.with_row_index(LINE, Some(1)).select(
        std::iter::once(col(LINE))
            .chain(known.iter().map(|n| col(n.as_str()).cast(DataType::String)))
            .collect::<Vec<_>>(),
    );
    Ok(RawFile {
        path: path.to_path_buf(),
        spec,
        frame: contract_columns(frame, spec, &known),
    })
}

/// An error of the data engine while reading `path`: the file is malformed (ragged rows,
/// invalid UTF-8, not Parquet…). Only the first line of the engine's message is kept.
pub fn read_error(path: &Path) -> impl Fn(PolarsError) -> EwsError + '_ {
    move |e| EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!(
            "cannot be read: {}",
            e.to_string().lines().next().unwrap_or("unknown error")
        ),
    }
}

/// Selects [`LINE`] and the contract's columns of `spec`; an absent optional column becomes
/// all-null.
fn contract_columns(frame: LazyFrame, spec: &FileSpec, names: &[String]) -> LazyFrame {
    let mut columns: Vec<Expr> = vec![col(LINE)];
    for column in spec.required.iter().chain(spec.optional) {
        if names.iter().any(|n| n == column) {
            columns.push(col(*column));
        } else {
            columns.push(lit(NULL).cast(DataType::String).alias(*column));
        }
    }
    frame.select(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_header_suggests_a_misspelling_only() {
        let header = vec![
            "studentid".to_string(),
            "school".to_string(),
            "dt".to_string(),
        ];
        assert_eq!(
            closest_header("student_id", &header),
            Some("studentid".into())
        );
        assert_eq!(closest_header("code", &header), None);
    }
}
