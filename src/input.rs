//! Reading the export files of one snapshot folder.
//!
//! Each file is scanned lazily by polars with every column as a string (identifiers keep their
//! leading zeros, and a bad value becomes a reportable row instead of a reader crash). The
//! header is checked first, so a missing required column fails before any data is read, with
//! the closest header that was found. Typed parsing and row checks live in [`crate::validate`].

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{EwsError, Result};
use crate::mapping::{Mapping, MarkScale};

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

/// Every file of the contract, in contract order.
pub const ALL_FILES: [&FileSpec; 6] = [
    &STUDENTS,
    &ATTENDANCE,
    &GRADES,
    &CREDITS,
    &BEHAVIOR,
    &OUTCOMES,
];

/// Columns holding dates, in any file.
pub const DATE_COLUMNS: [&str; 5] = [
    "birth_date",
    "date",
    "mark_date",
    "completion_date",
    "outcome_date",
];
/// Columns holding yes/no flags, in any file.
pub const BOOLEAN_COLUMNS: [&str; 4] = ["ell", "sped", "econ_disadvantaged", "credit_recovery"];

impl FileSpec {
    /// The file's stem (`students` for students.csv), the key of its mapping.
    pub fn stem(&self) -> &'static str {
        self.name.strip_suffix(".csv").unwrap_or(self.name)
    }
}

/// One snapshot folder: the files a district's SIS exported on one night, and how its export
/// differs from the canonical layout.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub mapping: Mapping,
    /// UTF-8 copies of Windows-1252 files: the lazy scans read them, so they live as long as
    /// the snapshot (and its clones) and are deleted with it.
    transcoded: Arc<std::sync::Mutex<Vec<tempfile::TempPath>>>,
}

/// A scanned file: every contract column present under its canonical name with canonical
/// values (absent optional columns are all-null), all as strings, plus [`LINE`].
pub struct RawFile {
    pub path: PathBuf,
    pub spec: &'static FileSpec,
    pub frame: LazyFrame,
    /// Where each contract column is in a CSV file, for readers that parse it themselves
    /// ([`crate::attendance`]); `None` for Parquet.
    pub csv: Option<CsvLayout>,
    /// The same file in row batches, for Parquet.
    pub parquet: Option<ParquetBatches>,
}

/// The physical layout of a CSV export file, after its header was checked.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    /// The file to read: the export, or its UTF-8 copy when the mapping says Windows-1252.
    pub readable: PathBuf,
    pub delimiter: u8,
    /// The contract columns present in the header, with their field index.
    pub columns: Vec<(&'static str, usize)>,
    /// The export's date format for this file (chrono syntax).
    pub date_format: String,
}

impl CsvLayout {
    /// Field index of a contract column.
    pub fn index(&self, canonical: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|(c, _)| *c == canonical)
            .map(|(_, i)| *i)
    }
}

impl Snapshot {
    /// A snapshot folder in the canonical layout.
    pub fn open(dir: &Path) -> Result<Snapshot> {
        if !dir.is_dir() {
            return Err(EwsError::BadFile {
                path: dir.to_path_buf(),
                message: "not a snapshot folder (no such directory)".into(),
            });
        }
        Ok(Snapshot {
            dir: dir.to_path_buf(),
            mapping: Mapping::default(),
            transcoded: Arc::default(),
        })
    }

    /// The same folder read through a district's mapping.
    pub fn with_mapping(self, mapping: Mapping) -> Snapshot {
        Snapshot { mapping, ..self }
    }

    /// Where the file of `spec` is expected (the mapping may rename it).
    pub fn path(&self, spec: &FileSpec) -> PathBuf {
        let name = self
            .mapping
            .file(spec.stem())
            .and_then(|f| f.name.as_deref())
            .unwrap_or(spec.name);
        self.dir.join(name)
    }

    /// The file of `spec` in this snapshot, or a `.parquet` file of the same stem in its place.
    /// `None` when neither exists; an error when both do (which one would be meant?).
    pub fn find(&self, spec: &FileSpec) -> Result<Option<PathBuf>> {
        let named = self.path(spec);
        if is_parquet(&named) {
            return Ok(named.is_file().then_some(named));
        }
        let parquet = named.with_extension("parquet");
        match (named.is_file(), parquet.is_file()) {
            (true, true) => Err(EwsError::BadFile {
                path: parquet,
                message: format!(
                    "both {} and this file exist; keep one",
                    named
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
            }),
            (true, false) => Ok(Some(named)),
            (false, true) => Ok(Some(parquet)),
            (false, false) => Ok(None),
        }
    }

    /// Scans a required file; a missing file is an error.
    pub fn scan(&self, spec: &'static FileSpec) -> Result<RawFile> {
        match self.find(spec)? {
            Some(path) => self.scan_file(&path, spec),
            None => Err(EwsError::MissingFile {
                path: self.path(spec),
            }),
        }
    }

    /// Scans an optional file; `None` when the snapshot does not have it.
    pub fn scan_optional(&self, spec: &'static FileSpec) -> Result<Option<RawFile>> {
        match self.find(spec)? {
            Some(path) => self.scan_file(&path, spec).map(Some),
            None => Ok(None),
        }
    }

    fn scan_file(&self, path: &Path, spec: &'static FileSpec) -> Result<RawFile> {
        if is_parquet(path) {
            scan_parquet(path, spec, &self.mapping)
        } else {
            let transcoded = if self.mapping.is_windows_1252().map_err(config_error)? {
                let copy = transcode_windows_1252(path)?;
                let readable = copy.to_path_buf();
                match self.transcoded.lock() {
                    Ok(mut copies) => copies.push(copy),
                    Err(poisoned) => poisoned.into_inner().push(copy),
                }
                Some(readable)
            } else {
                None
            };
            scan_csv(path, transcoded.as_deref(), spec, &self.mapping)
        }
    }
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn config_error(message: String) -> EwsError {
    EwsError::Config {
        path: "[input]".into(),
        message,
    }
}

/// Reads the header row of a CSV file (a UTF-8 byte-order mark is dropped).
pub fn read_header(path: &Path, delimiter: u8) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| EwsError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
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

/// The export's header of each contract column of `spec` (renamed by the mapping).
fn source_columns(spec: &FileSpec, mapping: &Mapping) -> Vec<(&'static str, String)> {
    let renames = mapping.file(spec.stem()).map(|f| &f.columns);
    spec.required
        .iter()
        .chain(spec.optional)
        .map(|c| {
            let source = renames.and_then(|r| r.get(*c)).cloned();
            (*c, source.unwrap_or_else(|| c.to_string()))
        })
        .collect()
}

/// Checks the header against the spec: every required column present, none twice.
fn check_header(path: &Path, spec: &FileSpec, header: &[String], mapping: &Mapping) -> Result<()> {
    if header.iter().all(|h| h.is_empty()) {
        return Err(EwsError::BadFile {
            path: path.to_path_buf(),
            message: "the file is empty (no header row)".into(),
        });
    }
    let sources = source_columns(spec, mapping);
    for (canonical, source) in &sources {
        if spec.required.contains(canonical) && !header.iter().any(|h| h == source) {
            return Err(EwsError::MissingColumn {
                path: path.to_path_buf(),
                column: source.clone(),
                canonical: (source != canonical).then(|| canonical.to_string()),
                closest: closest_header(source, header),
            });
        }
    }
    for (i, h) in header.iter().enumerate() {
        if header[..i].contains(h) && sources.iter().any(|(_, s)| s == h) {
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
        .map(|h| {
            (
                strsim::normalized_levenshtein(&h.to_lowercase(), &column.to_lowercase()),
                h,
            )
        })
        .filter(|(similarity, _)| *similarity >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h)| h.clone())
}

/// Copies a Windows-1252 file to a temporary UTF-8 file, streaming.
fn transcode_windows_1252(path: &Path) -> Result<tempfile::TempPath> {
    use std::io::{Read, Write};
    let io = |e: std::io::Error| EwsError::io(path, e);
    let mut input = std::fs::File::open(path).map_err(io)?;
    let output = tempfile::NamedTempFile::new().map_err(io)?;
    let mut writer = std::io::BufWriter::new(output.as_file());
    let mut decoder = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    let mut buffer = vec![0u8; 1 << 16];
    let mut text = String::with_capacity(3 << 16);
    loop {
        let n = input.read(&mut buffer).map_err(io)?;
        text.clear();
        let (_, _, _) = decoder.decode_to_string(&buffer[..n], &mut text, n == 0);
        writer.write_all(text.as_bytes()).map_err(io)?;
        if n == 0 {
            break;
        }
    }
    writer.flush().map_err(io)?;
    drop(writer);
    Ok(output.into_temp_path())
}

/// Scans the CSV file `path`, reading its UTF-8 copy `transcoded` when there is one.
fn scan_csv(
    path: &Path,
    transcoded: Option<&Path>,
    spec: &'static FileSpec,
    mapping: &Mapping,
) -> Result<RawFile> {
    let delimiter = mapping.delimiter_byte().map_err(config_error)?;
    let readable = transcoded.unwrap_or(path);
    let header = read_header(readable, delimiter)?;
    check_header(path, spec, &header, mapping)?;

    // Unnamed or repeated extra columns get placeholder names: the contract ignores them.
    let sources = source_columns(spec, mapping);
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let known = sources.iter().any(|(_, s)| s == h);
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

    let path_text = readable.to_string_lossy().to_string();
    let frame = LazyCsvReader::new(PlRefPath::new(path_text.as_str()))
        .with_has_header(true)
        .with_separator(delimiter)
        .with_schema(Some(Arc::new(schema)))
        .with_row_index(Some(RowIndex {
            name: LINE.into(),
            offset: 2,
        }))
        .finish()?;

    let columns = sources
        .iter()
        .filter_map(|(canonical, source)| {
            names
                .iter()
                .position(|n| n == source)
                .map(|i| (*canonical, i))
        })
        .collect();
    let csv = CsvLayout {
        readable: readable.to_path_buf(),
        delimiter,
        columns,
        date_format: mapping.date_format(spec.stem()).to_string(),
    };
    Ok(RawFile {
        path: path.to_path_buf(),
        spec,
        frame: contract_columns(frame, spec, &names, mapping)?,
        csv: Some(csv),
        parquet: None,
    })
}

/// A Parquet file with the contract's columns, of any types: each is read as text (dates as
/// ISO dates, empty strings as missing), so the same checks apply as to a CSV export. Its
/// "line" is the row number, counting from 1.
fn scan_parquet(path: &Path, spec: &'static FileSpec, mapping: &Mapping) -> Result<RawFile> {
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
    check_header(path, spec, &names, mapping)?;
    let sources = source_columns(spec, mapping);
    let known: Vec<String> = names
        .iter()
        .filter(|n| sources.iter().any(|(_, s)| s == *n))
        .cloned()
        .collect();
    let batches = ParquetBatches {
        path: path.to_path_buf(),
        spec,
        known,
        mapping: mapping.clone(),
    };
    let frame = batches.contract(frame.with_row_index(LINE, Some(1)))?;
    Ok(RawFile {
        path: path.to_path_buf(),
        spec,
        frame,
        csv: None,
        parquet: Some(batches),
    })
}

/// A Parquet export file read in row batches (for [`crate::attendance`], which aggregates as
/// it reads): each batch is read on its own, only its row groups decoded.
pub struct ParquetBatches {
    path: PathBuf,
    spec: &'static FileSpec,
    /// The contract's columns present in the file, under the export's names.
    known: Vec<String>,
    mapping: Mapping,
}

impl ParquetBatches {
    /// `frame` (with [`LINE`]) as text columns under the contract's names, mapping applied.
    fn contract(&self, frame: LazyFrame) -> Result<LazyFrame> {
        // An empty string is a missing value, as an empty field of a CSV file is.
        let as_text = |name: &str| {
            let text = col(name).cast(DataType::String);
            when(text.clone().eq(lit("")))
                .then(lit(NULL).cast(DataType::String))
                .otherwise(text)
                .alias(name)
        };
        let frame = frame.select(
            std::iter::once(col(LINE))
                .chain(self.known.iter().map(|n| as_text(n.as_str())))
                .collect::<Vec<_>>(),
        );
        contract_columns(frame, self.spec, &self.known, &self.mapping)
    }

    /// Rows in each row group of the file, in file order (from its metadata).
    pub fn row_groups(&self) -> Result<Vec<usize>> {
        let file = std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e))?;
        let mut reader = ParquetReader::new(file);
        let metadata = reader.get_metadata().map_err(read_error(&self.path))?;
        Ok(metadata.row_groups.iter().map(|g| g.num_rows()).collect())
    }

    /// Rows `offset..offset + len` (fewer at the end of the file), as [`RawFile::frame`] has them.
    pub fn batch(&self, offset: usize, len: usize) -> Result<DataFrame> {
        let file = std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e))?;
        let raw = ParquetReader::new(file)
            .with_columns(Some(self.known.clone()))
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(read_error(&self.path))?;
        let lines = (0..raw.height() as u64)
            .map(|i| offset as u64 + 1 + i)
            .collect::<Vec<u64>>();
        let frame = raw
            .lazy()
            .with_column(lit(Series::new(LINE.into(), lines)).alias(LINE));
        Ok(self.contract(frame)?.collect()?)
    }
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

/// `value` replaced by the canonical value of each (source, canonical) pair; other values pass
/// through unchanged, to be reported by the row checks.
fn recode<'a>(value: Expr, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Expr {
    pairs.fold(value.clone(), |others, (source, canonical)| {
        when(value.clone().eq(lit(source)))
            .then(lit(canonical))
            .otherwise(others)
    })
}

/// A date in the export's format rewritten as ISO; unparseable values pass through.
fn iso_date(value: Expr, format: &str) -> Expr {
    if format == crate::validate::DATE_FORMAT {
        return value;
    }
    let parsed = value.clone().str().to_date(StrptimeOptions {
        format: Some(format.into()),
        strict: false,
        exact: true,
        cache: true,
    });
    when(parsed.clone().is_not_null())
        .then(parsed.dt().to_string(crate::validate::DATE_FORMAT))
        .otherwise(value)
}

/// A mark on the export's scale as a canonical mark.
fn canonical_mark(value: Expr, mapping: &Mapping) -> Result<Expr> {
    let letters = recode(
        value.clone(),
        mapping
            .marks
            .letters
            .iter()
            .map(|(s, c)| (s.as_str(), c.as_str())),
    );
    Ok(match mapping.mark_scale().map_err(config_error)? {
        MarkScale::Letter => letters,
        MarkScale::Numeric { max } => {
            let number = value.cast(DataType::Float64);
            // Only a finite number on the scale is a mark; "inf" or 150% stays as written and
            // is rejected as an unknown mark.
            let on_scale = number
                .clone()
                .is_finite()
                .and(number.clone().gt_eq(lit(0.0)))
                .and(number.clone().lt_eq(lit(max)));
            let by_cutoff =
                mapping
                    .cutoffs()
                    .into_iter()
                    .rev()
                    .fold(lit("F"), |lower, (letter, cutoff)| {
                        when(number.clone().gt_eq(lit(cutoff)))
                            .then(lit(letter))
                            .otherwise(lower)
                    });
            when(on_scale.fill_null(lit(false)))
                .then(by_cutoff)
                .otherwise(letters)
        }
    })
}

/// Selects [`LINE`] and the contract's columns of `spec` under their canonical names, with the
/// mapping's codes, dates, marks, subjects and flags turned canonical; an absent optional
/// column becomes all-null.
fn contract_columns(
    frame: LazyFrame,
    spec: &FileSpec,
    names: &[String],
    mapping: &Mapping,
) -> Result<LazyFrame> {
    let date_format = mapping.date_format(spec.stem());
    let (yes, no) = (mapping.true_values(), mapping.false_values());
    let mut columns: Vec<Expr> = vec![col(LINE)];
    for (canonical, source) in source_columns(spec, mapping) {
        if !names.contains(&source) {
            columns.push(lit(NULL).cast(DataType::String).alias(canonical));
            continue;
        }
        let value = col(source.as_str());
        let value = if DATE_COLUMNS.contains(&canonical) {
            iso_date(value, date_format)
        } else if BOOLEAN_COLUMNS.contains(&canonical) {
            let flags = yes
                .iter()
                .map(|y| (y.as_str(), "Y"))
                .chain(no.iter().map(|n| (n.as_str(), "N")));
            recode(value, flags)
        } else if canonical == "code" {
            recode(
                value,
                mapping
                    .attendance_codes
                    .iter()
                    .map(|(s, c)| (s.as_str(), c.as_str())),
            )
        } else if canonical == "subject" {
            recode(
                value,
                mapping
                    .subjects
                    .iter()
                    .map(|(s, c)| (s.as_str(), c.as_str())),
            )
        } else if canonical == "mark" {
            canonical_mark(value, mapping)?
        } else {
            value
        };
        columns.push(value.alias(canonical));
    }
    Ok(frame.select(columns))
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
