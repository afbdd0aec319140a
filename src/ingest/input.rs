//! Reading the export files of one snapshot folder.
//!
//! Every CSV file goes through the one reader of [`crate::ingest::reader`], which never stops a file
//! at a malformed row; a Parquet file is read in row batches. Either way a file reaches the
//! row checks ([`crate::ingest::checks`]) as chunks of text columns under the contract's names, with
//! the district's mapping applied and each row's line, so identifiers keep their leading zeros
//! and a bad value becomes a reportable row instead of a reader crash. The header is checked
//! first, so a missing required column fails before any data is read, naming every missing
//! column with the closest header found.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::mapping::{Mapping, MarkScale};
use crate::contract::{FileSpec, BOOLEAN_COLUMNS, DATE_COLUMNS};
use crate::ingest::reader::{self, Dialect, Encoding, Fields, Problem, ReaderFlag};
use crate::io::dates;
use crate::io::error::{EwsError, MissingColumn, Result};

/// Name of the column that carries each row's line number in its file (the header is line 1;
/// a Parquet file's rows count from 1).
pub const LINE: &str = "__line";

/// Rows per chunk handed to the row checks: enough for polars to work in bulk, few enough that
/// a worker's chunk of text stays small (a million-student grades.csv has 10M rows).
pub const CHUNK_ROWS: usize = 1 << 18;

/// One snapshot folder: the files a district's SIS exported on one night, and how its export
/// differs from the canonical layout.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub mapping: Mapping,
}

/// A file of a snapshot whose header was checked, ready to be read.
pub struct RawFile {
    pub path: PathBuf,
    pub spec: &'static FileSpec,
    pub source: Source,
    mapping: Mapping,
}

/// Where a file's rows come from.
pub enum Source {
    Csv(CsvLayout),
    Parquet(Box<ParquetBatches>),
}

/// A delimited export file, after its header was checked.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    pub file: reader::DelimitedFile,
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

    /// The name rejects.csv gives field `i`: the contract's, else the export's header, else
    /// its number (a field past the header's last).
    pub fn column_name(&self, i: usize) -> String {
        match self.columns.iter().find(|(_, f)| *f == i) {
            Some((c, _)) => c.to_string(),
            None => self
                .file
                .header
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("(field {})", i + 1)),
        }
    }

    /// The rejects.csv row of a record the reader could not split (`text`: its first line).
    pub fn malformed(&self, line: u64, problem: Problem, text: &[u8]) -> ReaderFlag {
        let (field, reason) = reader::describe(problem, self.file.header.names.len());
        ReaderFlag {
            line,
            column: field.map(|i| self.column_name(i)).unwrap_or_default(),
            value: reader::reject_text(self.file.dialect, text),
            reason,
            replaced: false,
        }
    }

    /// The rejects.csv row of field `i`'s bytes that are not text: the row rejected, or (in
    /// free text) the value replaced and the row kept.
    pub fn not_text(&self, line: u64, i: usize, bytes: &[u8], replaced: bool) -> ReaderFlag {
        ReaderFlag {
            line,
            column: self.column_name(i),
            value: String::from_utf8_lossy(bytes).into_owned(),
            reason: match replaced {
                true => replaced_reason(),
                false => invalid_utf8_reason(),
            },
            replaced,
        }
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

    /// Opens a required file; a missing file is an error.
    pub fn scan(&self, spec: &'static FileSpec) -> Result<RawFile> {
        match self.find(spec)? {
            Some(path) => self.scan_file(&path, spec),
            None => Err(EwsError::MissingFile {
                path: self.path(spec),
            }),
        }
    }

    /// Opens an optional file; `None` when the snapshot does not have it, or has it with no
    /// byte at all (an export job that wrote nothing): the two are the same to the run.
    pub fn scan_optional(&self, spec: &'static FileSpec) -> Result<Option<RawFile>> {
        match self.find(spec)? {
            Some(path) if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) => {
                self.scan_file(&path, spec).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn scan_file(&self, path: &Path, spec: &'static FileSpec) -> Result<RawFile> {
        let source = if is_parquet(path) {
            Source::Parquet(Box::new(ParquetBatches::open(path, spec, &self.mapping)?))
        } else {
            Source::Csv(scan_csv(path, spec, &self.mapping)?)
        };
        Ok(RawFile {
            path: path.to_path_buf(),
            spec,
            source,
            mapping: self.mapping.clone(),
        })
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

/// The delimiter and encoding of the export.
pub fn dialect(mapping: &Mapping) -> Result<Dialect> {
    Ok(Dialect {
        delimiter: mapping.delimiter_byte().map_err(config_error)?,
        encoding: if mapping.is_windows_1252().map_err(config_error)? {
            Encoding::Windows1252
        } else {
            Encoding::Utf8
        },
    })
}

/// The export's header of each contract column of `spec` (renamed by the mapping).
fn source_columns(spec: &FileSpec, mapping: &Mapping) -> Vec<(&'static str, String)> {
    let renames = mapping.file(spec.stem()).map(|f| &f.columns);
    spec.columns()
        .map(|c| {
            let source = renames.and_then(|r| r.get(c)).cloned();
            (c, source.unwrap_or_else(|| c.to_string()))
        })
        .collect()
}

/// Whether a header cell names `column`: case does not matter, nor surrounding spaces.
fn same_name(header: &str, column: &str) -> bool {
    header.trim().to_lowercase() == column.trim().to_lowercase()
}

/// Finds the contract columns of `spec` in a header: every required column present, none twice.
/// Returns each present contract column with its position.
fn match_header(
    path: &Path,
    spec: &FileSpec,
    header: &[String],
    mapping: &Mapping,
) -> Result<Vec<(&'static str, usize)>> {
    let bad = |message: String| EwsError::BadFile {
        path: path.to_path_buf(),
        message,
    };
    if header.iter().all(|h| h.is_empty()) {
        return Err(bad("the file is empty (no header row)".into()));
    }
    let sources = source_columns(spec, mapping);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (canonical, source) in &sources {
        let positions: Vec<usize> = (0..header.len())
            .filter(|&i| same_name(&header[i], source))
            .collect();
        match positions[..] {
            [] if spec.required.contains(canonical) => missing.push((*canonical, source.clone())),
            [] => {}
            [i] => found.push((*canonical, i)),
            _ => {
                return Err(bad(format!(
                    "column `{source}` appears {} times in the header",
                    positions.len()
                )))
            }
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    // A header without any contract column is probably no header (a data row: no suggestion
    // may quote it) or one split with the wrong delimiter or encoding; a header that ran into
    // the next line holds that line's values from the cell where it ran on.
    let no_known_column = found.is_empty();
    let fused = runs_on(&missing, header);
    let names = match &fused {
        Some((at, _)) => &header[..*at],
        None if no_known_column => &header[..0],
        None => header,
    };
    let hint = delimiter_hint(header, mapping)
        .or_else(|| fused.as_ref().map(|(_, hint)| hint.clone()))
        .or_else(|| no_known_column.then(no_header_hint));
    Err(EwsError::MissingColumns {
        path: path.to_path_buf(),
        missing: missing
            .into_iter()
            .map(|(canonical, source)| MissingColumn {
                closest: closest_header(&source, names),
                canonical: (source != canonical).then(|| canonical.to_string()),
                column: source,
            })
            .collect(),
        hint,
    })
}

/// A header of one field holding another delimiter than the config's.
fn delimiter_hint(header: &[String], mapping: &Mapping) -> Option<String> {
    let delimiter = mapping.delimiter_byte().unwrap_or(b',');
    let [only] = header else {
        return None;
    };
    let (d, setting) = [
        (b';', "\";\""),
        (b'\t', "\"tab\""),
        (b'|', "\"|\""),
        (b',', "\",\""),
    ]
    .into_iter()
    .find(|(d, _)| *d != delimiter && only.as_bytes().contains(d))?;
    let shown = if d == b'\t' {
        "tab".to_string()
    } else {
        format!("`{}`", d as char)
    };
    Some(format!(
        "the header is one field holding {shown}: set delimiter = {setting} in [input]"
    ))
}

fn no_header_hint() -> String {
    "none of the file's columns is one the contract names: is the header row missing, or the file's delimiter or encoding another than the config's [input]?".to_string()
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

/// Where the header row ran into the next line: the first cell that begins with a missing
/// column's name and runs on (`outcome_date0001`, its line break lost). That cell and the
/// cells after it are the next row's values, which no message may quote.
fn runs_on(missing: &[(&'static str, String)], header: &[String]) -> Option<(usize, String)> {
    header.iter().enumerate().find_map(|(i, cell)| {
        let cell = cell.to_lowercase();
        missing.iter().find_map(|(_, source)| {
            let name = source.to_lowercase();
            (cell.len() > name.len() && cell.starts_with(&name)).then(|| {
                (
                    i,
                    format!(
                        "a header cell begins with `{source}` and runs on: is the line break after the header row missing?"
                    ),
                )
            })
        })
    })
}

fn scan_csv(path: &Path, spec: &'static FileSpec, mapping: &Mapping) -> Result<CsvLayout> {
    let file = reader::DelimitedFile::open(path, dialect(mapping)?)?;
    let columns = match_header(path, spec, &file.header.names, mapping)?;
    Ok(CsvLayout {
        file,
        columns,
        date_format: mapping.date_format(spec.stem()).to_string(),
    })
}

// ---- reading a file in chunks ------------------------------------------------------------------

/// A file read chunk by chunk.
pub struct Chunked<T> {
    /// What `process` made of each chunk, in file order, with the number to add to the chunk's
    /// [`LINE`] values for the file's line numbers.
    pub chunks: Vec<(T, u64)>,
    /// Records read, blank lines excepted (rows the reader rejected included).
    pub rows: u64,
    /// Rows the reader rejected, and values it replaced, by line.
    pub flags: Vec<ReaderFlag>,
}

/// What a chunk processor gets: [`LINE`] (u64) and every contract column of the file as text
/// under its canonical name (absent optional columns all-null), canonical values.
pub type ChunkProcessor<'a, T> = &'a (dyn Fn(LazyFrame) -> Result<T> + Sync);

impl RawFile {
    /// Reads the file in chunks of [`CHUNK_ROWS`] rows, one worker per core, calling `process`
    /// on each chunk as it is read; with `whole`, the file is one chunk (for checks across all
    /// of a file's rows, such as duplicate ids).
    pub fn read_chunks<T: Send>(
        &self,
        whole: bool,
        process: ChunkProcessor<'_, T>,
    ) -> Result<Chunked<T>> {
        let mut chunked = match &self.source {
            Source::Csv(layout) => self.read_csv_chunks(layout, whole, process)?,
            Source::Parquet(batches) => batches.read_chunks(whole, process)?,
        };
        if chunked.chunks.is_empty() {
            // A file without rows is one empty chunk: its processed form has the columns and
            // types of any other.
            let mut columns = vec![Column::new_empty(LINE.into(), &DataType::UInt64)];
            columns.extend(
                self.spec
                    .columns()
                    .map(|c| Column::new_empty(c.into(), &DataType::String)),
            );
            let empty = DataFrame::new(0, columns)?;
            let frame = contract_values(empty.lazy(), self.spec, &self.mapping)?;
            chunked.chunks.push((process(frame)?, 0));
        }
        Ok(chunked)
    }

    fn read_csv_chunks<T: Send>(
        &self,
        layout: &CsvLayout,
        whole: bool,
        process: ChunkProcessor<'_, T>,
    ) -> Result<Chunked<T>> {
        let table = TableLayout::new(layout, self.spec, &self.mapping);
        let (workers, chunk_rows) = match whole {
            true => (1, usize::MAX),
            false => (rayon::current_num_threads(), CHUNK_ROWS),
        };
        let sinks = layout.file.read(workers, || TableSink {
            table: &table,
            process,
            chunk_rows,
            lines: Vec::new(),
            builders: table.builders(),
            date_cache: FxHashMap::default(),
            results: Vec::new(),
            flags: Vec::new(),
            rows: 0,
            error: None,
        })?;
        let mut chunked = Chunked {
            chunks: Vec::new(),
            rows: 0,
            flags: Vec::new(),
        };
        for (sink, first_line) in sinks {
            if let Some(error) = sink.error {
                return Err(error);
            }
            chunked.rows += sink.rows;
            chunked
                .chunks
                .extend(sink.results.into_iter().map(|t| (t, first_line)));
            chunked
                .flags
                .extend(sink.flags.into_iter().map(|f| ReaderFlag {
                    line: f.line + first_line,
                    ..f
                }));
        }
        Ok(chunked)
    }
}

/// What a CSV table sink needs to know of the file.
struct TableLayout<'a> {
    layout: &'a CsvLayout,
    spec: &'static FileSpec,
    mapping: &'a Mapping,
    dialect: Dialect,
    /// Per contract column of the spec, in spec order: its field index, if present.
    fields: Vec<Option<usize>>,
    free_text: Vec<bool>,
    is_date: Vec<bool>,
    date_format: &'a str,
}

impl<'a> TableLayout<'a> {
    fn new(layout: &'a CsvLayout, spec: &'static FileSpec, mapping: &'a Mapping) -> Self {
        TableLayout {
            layout,
            spec,
            mapping,
            dialect: layout.file.dialect,
            fields: spec.columns().map(|c| layout.index(c)).collect(),
            free_text: spec
                .columns()
                .map(|c| spec.free_text.contains(&c))
                .collect(),
            is_date: spec.columns().map(|c| DATE_COLUMNS.contains(&c)).collect(),
            date_format: &layout.date_format,
        }
    }

    fn builders(&self) -> Vec<StringChunkedBuilder> {
        self.spec
            .columns()
            .map(|c| StringChunkedBuilder::new(c.into(), 1024))
            .collect()
    }
}

/// Distinct non-ISO date texts a worker remembers.
const MAX_DATE_CACHE: usize = 100_000;

/// One worker's part of a CSV file, turned into chunks and processed as they fill.
struct TableSink<'a, T> {
    table: &'a TableLayout<'a>,
    process: ChunkProcessor<'a, T>,
    chunk_rows: usize,
    lines: Vec<u64>,
    builders: Vec<StringChunkedBuilder>,
    /// Dates written otherwise than ISO, by text: an export has few distinct dates.
    date_cache: FxHashMap<String, Option<String>>,
    results: Vec<T>,
    flags: Vec<ReaderFlag>,
    rows: u64,
    error: Option<EwsError>,
}

impl<T: Send> TableSink<'_, T> {
    /// A value of column `k` into its builder: a date written otherwise than ISO as an ISO
    /// date (see [`dates`]), else as it is.
    fn append(&mut self, k: usize, text: &str) {
        let table = self.table;
        if !table.is_date[k] || is_canonical_date(text.as_bytes(), table.date_format) {
            self.builders[k].append_value(text);
            return;
        }
        // A file of garbage must not grow the cache forever.
        if self.date_cache.len() >= MAX_DATE_CACHE && !self.date_cache.contains_key(text) {
            self.date_cache.clear();
        }
        let iso = self
            .date_cache
            .entry(text.to_string())
            .or_insert_with(|| dates::canonical(text, table.date_format));
        match iso {
            Some(iso) => self.builders[k].append_value(iso.as_str()),
            None => self.builders[k].append_value(text),
        }
    }

    /// A row with bytes that are not text: in an id, date, code or number the row cannot be
    /// trusted and is rejected; in free text they are replaced (U+FFFD) and the row kept.
    fn decode_record(&mut self, line: u64, record: &[u8], fields: &Fields) {
        let table = self.table;
        for (k, index) in table.fields.iter().enumerate() {
            let Some(value) = index.and_then(|i| fields.value(record, i)) else {
                continue;
            };
            if !table.free_text[k] && table.dialect.decode(value).is_err() {
                let field = index.unwrap_or_default();
                self.flags
                    .push(table.layout.not_text(line, field, value, false));
                return;
            }
        }
        self.lines.push(line);
        for (k, index) in table.fields.iter().enumerate() {
            let Some(value) = index.and_then(|i| fields.value(record, i)) else {
                self.builders[k].append_null();
                continue;
            };
            match table.dialect.decode(value) {
                Ok(text) => self.append(k, &text),
                Err(lossy) => {
                    self.append(k, &lossy);
                    let field = index.unwrap_or_default();
                    self.flags
                        .push(table.layout.not_text(line, field, value, true));
                }
            }
        }
    }

    fn flush(&mut self) {
        if self.lines.is_empty() || self.error.is_some() {
            return;
        }
        let fresh = self.table.builders();
        let builders = std::mem::replace(&mut self.builders, fresh);
        let lines = std::mem::take(&mut self.lines);
        let height = lines.len();
        let mut columns = vec![Column::new(LINE.into(), lines)];
        columns.extend(builders.into_iter().map(|b| b.finish().into_column()));
        let result = DataFrame::new(height, columns)
            .map_err(EwsError::from)
            .and_then(|frame| contract_values(frame.lazy(), self.table.spec, self.table.mapping))
            .and_then(|frame| (self.process)(frame));
        match result {
            Ok(t) => self.results.push(t),
            Err(e) => self.error = Some(e),
        }
    }
}

/// Reason of a row rejected for bytes that are not UTF-8 in an id, date, code or number.
pub fn invalid_utf8_reason() -> String {
    format!(
        "not valid UTF-8 text ({}); row rejected",
        reader::ENCODING_HINT
    )
}

/// Reason of a free-text value whose invalid UTF-8 was replaced.
pub fn replaced_reason() -> String {
    format!(
        "invalid UTF-8 replaced by U+FFFD, the row is kept ({})",
        reader::ENCODING_HINT
    )
}

impl<T: Send> reader::RecordSink for TableSink<'_, T> {
    fn record(&mut self, line: u64, record: &[u8], fields: &Fields) {
        self.rows += 1;
        let table = self.table;
        if let Some(text) = fields.text(record, table.dialect) {
            // The usual row: all text, each field a slice of it.
            self.lines.push(line);
            for (k, index) in table.fields.iter().enumerate() {
                match index.and_then(|i| text.value(i)) {
                    Some(value) => self.append(k, value),
                    None => self.builders[k].append_null(),
                }
            }
        } else {
            self.decode_record(line, record, fields);
        }
        if self.lines.len() >= self.chunk_rows {
            self.flush();
        }
    }

    fn malformed(&mut self, line: u64, problem: Problem, text: &[u8]) {
        self.rows += 1;
        self.flags
            .push(self.table.layout.malformed(line, problem, text));
    }

    fn finish(&mut self) {
        self.flush();
    }
}

/// `frame` (with [`LINE`] and the spec's columns as canonical-named text, empty values
/// missing) with the mapping's codes, marks, subjects and flags turned canonical. Values the
/// mapping does not cover pass through unchanged, to be reported by the row checks.
fn contract_values(frame: LazyFrame, spec: &FileSpec, mapping: &Mapping) -> Result<LazyFrame> {
    let (yes, no) = (mapping.true_values(), mapping.false_values());
    let mut columns: Vec<Expr> = vec![col(LINE)];
    for canonical in spec.columns() {
        let value = col(canonical);
        let value = if BOOLEAN_COLUMNS.contains(&canonical) {
            let flags = yes
                .iter()
                .map(|y| (y.as_str(), "Y"))
                .chain(no.iter().map(|n| (n.as_str(), "N")));
            recode(value, flags)
        } else if canonical == "code" {
            recode_map(value, &mapping.attendance_codes)
        } else if canonical == "subject" {
            recode_map(value, &mapping.subjects)
        } else if canonical == "mark" {
            canonical_mark(value, mapping)?
        } else {
            value
        };
        columns.push(value.alias(canonical));
    }
    Ok(frame.select(columns))
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

/// [`recode`] by a mapping table (source value → canonical value).
fn recode_map(value: Expr, table: &std::collections::BTreeMap<String, String>) -> Expr {
    recode(value, table.iter().map(|(s, c)| (s.as_str(), c.as_str())))
}

/// A mark on the export's scale as a canonical mark.
fn canonical_mark(value: Expr, mapping: &Mapping) -> Result<Expr> {
    let letters = recode_map(value.clone(), &mapping.marks.letters);
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

// ---- Parquet ---------------------------------------------------------------------------------

/// A Parquet export file, read in row batches: each batch is read on its own, only its row
/// groups decoded, and turned into the same text columns a CSV file gives. Its "line" is the
/// row number, counting from 1.
pub struct ParquetBatches {
    path: PathBuf,
    spec: &'static FileSpec,
    /// The contract's columns present in the file: (canonical name, the file's name).
    known: Vec<(&'static str, String)>,
    mapping: Mapping,
}

impl ParquetBatches {
    fn open(path: &Path, spec: &'static FileSpec, mapping: &Mapping) -> Result<ParquetBatches> {
        let file = std::fs::File::open(path).map_err(|e| EwsError::BadFile {
            path: path.to_path_buf(),
            message: format!("cannot be opened: {e}"),
        })?;
        let schema = ParquetReader::new(file)
            .schema()
            .map_err(|e| EwsError::BadFile {
                path: path.to_path_buf(),
                message: format!(
                    "cannot be read as Parquet: {}",
                    e.to_string().lines().next().unwrap_or("unknown error")
                ),
            })?;
        let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        let columns = match_header(path, spec, &names, mapping)?;
        let mut known = Vec::new();
        for (canonical, i) in columns {
            let name = &names[i];
            let dtype = schema
                .get(name.as_str())
                .map(DataType::from_arrow_field)
                .unwrap_or(DataType::Null);
            check_parquet_type(path, canonical, name, &dtype)?;
            known.push((canonical, name.clone()));
        }
        Ok(ParquetBatches {
            path: path.to_path_buf(),
            spec,
            known,
            mapping: mapping.clone(),
        })
    }

    /// Rows in each row group of the file, in file order (from its metadata).
    pub fn row_groups(&self) -> Result<Vec<usize>> {
        let file = std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e))?;
        let mut reader = ParquetReader::new(file);
        let metadata = reader.get_metadata().map_err(read_error(&self.path))?;
        Ok(metadata.row_groups.iter().map(|g| g.num_rows()).collect())
    }

    /// Rows `offset..offset + len` (fewer at the end of the file) as a chunk: [`LINE`] (the
    /// row number from 1) and the contract's columns as canonical text.
    pub fn batch(&self, offset: usize, len: usize) -> Result<DataFrame> {
        let file = std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e))?;
        let raw = ParquetReader::new(file)
            .with_columns(Some(self.known.iter().map(|(_, n)| n.clone()).collect()))
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(read_error(&self.path))?;
        let height = raw.height();
        let lines: Vec<u64> = (0..height as u64).map(|i| offset as u64 + 1 + i).collect();
        let mut columns = vec![Column::new(LINE.into(), lines)];
        let date_format = self.mapping.date_format(self.spec.stem());
        for canonical in self.spec.columns() {
            let text = match self.known.iter().find(|(c, _)| *c == canonical) {
                Some((_, name)) => {
                    let column = raw.column(name.as_str())?;
                    let text = parquet_text(&self.path, name, column)?;
                    if DATE_COLUMNS.contains(&canonical) {
                        canonical_dates(&text, date_format)?
                    } else {
                        text
                    }
                }
                None => StringChunked::full_null(canonical.into(), height),
            };
            columns.push(text.with_name(canonical.into()).into_column());
        }
        let frame = DataFrame::new(height, columns)?;
        Ok(contract_values(frame.lazy(), self.spec, &self.mapping)?.collect()?)
    }

    fn read_chunks<T: Send>(
        &self,
        whole: bool,
        process: ChunkProcessor<'_, T>,
    ) -> Result<Chunked<T>> {
        let groups = self.row_groups()?;
        let rows: usize = groups.iter().sum();
        let parts = match whole {
            true => vec![vec![(0, rows)]],
            false => contiguous_parts(
                &row_group_batches(&groups, CHUNK_ROWS),
                rayon::current_num_threads(),
            ),
        };
        let chunks: Vec<Vec<T>> = parts
            .par_iter()
            .map(|part| {
                part.iter()
                    .map(|&(offset, len)| process(self.batch(offset, len)?.lazy()))
                    .collect::<Result<Vec<T>>>()
            })
            .collect::<Result<_>>()?;
        Ok(Chunked {
            chunks: chunks.into_iter().flatten().map(|t| (t, 0)).collect(),
            rows: rows as u64,
            flags: Vec::new(),
        })
    }
}

/// Parquet column types a contract column can be read from; anything else (a list, a struct, a
/// time of day) is not what the export meant, and the run stops naming the column.
fn check_parquet_type(path: &Path, canonical: &str, name: &str, dtype: &DataType) -> Result<()> {
    let readable = match dtype {
        DataType::Date | DataType::Datetime(..) => DATE_COLUMNS.contains(&canonical),
        DataType::String
        | DataType::Binary
        | DataType::Boolean
        | DataType::Null
        | DataType::Categorical(..)
        | DataType::Enum(..) => true,
        other => other.is_primitive_numeric() || other.is_decimal(),
    };
    if readable {
        return Ok(());
    }
    Err(EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!(
            "column `{name}` has type {dtype}, which cannot be read as {canonical} (expected text, a number{})",
            if DATE_COLUMNS.contains(&canonical) { " or a date" } else { "" }
        ),
    })
}

/// A Parquet column as text: dates as ISO dates (a timestamp as its date), numbers as written.
fn parquet_text(path: &Path, name: &str, column: &Column) -> Result<StringChunked> {
    let series = column.as_materialized_series();
    let cast = match series.dtype() {
        DataType::Datetime(..) => series
            .cast(&DataType::Date)
            .and_then(|s| s.cast(&DataType::String)),
        _ => series.cast(&DataType::String),
    };
    let unreadable = || EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!("column `{name}` cannot be read as text (bytes that are not UTF-8?)"),
    };
    let text = cast.map_err(|_| unreadable())?;
    if text.null_count() > series.null_count() {
        return Err(unreadable());
    }
    let text = text.str()?;
    if !text.iter().any(|v| v == Some("")) {
        return Ok(text.clone());
    }
    // An empty string is a missing value, as an empty CSV field is.
    Ok(text
        .iter()
        .map(|v| v.filter(|v| !v.is_empty()))
        .collect::<StringChunked>()
        .with_name(text.name().clone()))
}

/// Whether a date cell can go to the row checks as it is: an ISO-shaped date where the
/// export's format is ISO (the checks parse it). With another format every cell is parsed.
fn is_canonical_date(value: &[u8], format: &str) -> bool {
    format == crate::contract::DATE_FORMAT && dates::is_iso_shaped(value)
}

/// Date cells rewritten as ISO dates where they are written otherwise (see [`dates`]).
fn canonical_dates(text: &StringChunked, format: &str) -> Result<StringChunked> {
    if text
        .iter()
        .all(|v| v.is_none_or(|v| is_canonical_date(v.as_bytes(), format)))
    {
        return Ok(text.clone());
    }
    let mut cache: FxHashMap<&str, Option<String>> = FxHashMap::default();
    let mut builder = StringChunkedBuilder::new(text.name().clone(), text.len());
    for value in text.iter() {
        match value {
            None => builder.append_null(),
            Some(v) if is_canonical_date(v.as_bytes(), format) => builder.append_value(v),
            Some(v) => match cache
                .entry(v)
                .or_insert_with(|| dates::canonical(v, format))
            {
                Some(iso) => builder.append_value(iso.as_str()),
                None => builder.append_value(v),
            },
        }
    }
    Ok(builder.finish())
}

/// An error of the data engine while reading `path`: the file is malformed (not Parquet…).
/// Only the first line of the engine's message is kept.
pub fn read_error(path: &Path) -> impl Fn(PolarsError) -> EwsError + '_ {
    move |e| EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!(
            "cannot be read: {}",
            e.to_string().lines().next().unwrap_or("unknown error")
        ),
    }
}

/// Batches `(offset, rows)` of about `target` rows that begin and end on row-group boundaries:
/// a Parquet reader decodes whole row groups, so a batch across a boundary would decode both
/// groups (and the next batch one of them again). Small groups are read together; a group
/// larger than `target` is read in slices.
pub fn row_group_batches(groups: &[usize], target: usize) -> Vec<(usize, usize)> {
    let target = target.max(1);
    let mut batches = Vec::new();
    let (mut start, mut len, mut offset) = (0, 0, 0);
    for &rows in groups {
        if len > 0 && (len + rows > target || rows > target) {
            batches.push((start, len));
            len = 0;
        }
        if rows > target {
            batches.extend(
                (0..rows)
                    .step_by(target)
                    .map(|s| (offset + s, target.min(rows - s))),
            );
        } else if rows > 0 {
            if len == 0 {
                start = offset;
            }
            len += rows;
        }
        offset += rows;
    }
    if len > 0 {
        batches.push((start, len));
    }
    batches
}

/// Splits `batches` into at most `parts` runs of consecutive batches with about as many rows
/// each, in file order.
pub fn contiguous_parts(batches: &[(usize, usize)], parts: usize) -> Vec<Vec<(usize, usize)>> {
    let total: usize = batches.iter().map(|b| b.1).sum();
    let mut split: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut before = 0;
    let mut current = usize::MAX;
    for &batch in batches {
        // The part of the batch's first row.
        let part = before * parts.max(1) / total.max(1);
        if part != current {
            split.push(Vec::new());
            current = part;
        }
        if let Some(last) = split.last_mut() {
            last.push(batch);
        }
        before += batch.1;
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::*;

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
        // A header that ran into the next row: the cell where it ran on, and the next row's
        // values after it, are never quoted.
        let header: Vec<String> = ["student_id", "outcome", "outcome_date0001", "graduated"]
            .map(String::from)
            .to_vec();
        let err = match_header(Path::new("o.csv"), &OUTCOMES, &header, &Mapping::default())
            .unwrap_err()
            .to_string();
        assert!(!err.contains("0001") && !err.contains("graduated"), "{err}");
        assert!(err.contains("line break after the header row"), "{err}");
    }

    #[test]
    fn headers_match_whatever_their_case_and_spaces() {
        let header: Vec<String> = [" Student_ID ", "SCHOOL_ID", "Date", "code "]
            .map(String::from)
            .to_vec();
        let found = match_header(
            Path::new("a.csv"),
            &ATTENDANCE,
            &header,
            &Mapping::default(),
        )
        .unwrap();
        assert_eq!(
            found,
            [
                ("student_id", 0),
                ("school_id", 1),
                ("date", 2),
                ("code", 3)
            ]
        );
    }

    #[test]
    fn every_missing_column_is_named_at_once() {
        let header: Vec<String> = ["student_id", "schol_id", "dat"].map(String::from).to_vec();
        let err = match_header(
            Path::new("a.csv"),
            &ATTENDANCE,
            &header,
            &Mapping::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("`school_id` (closest header found: `schol_id`)"),
            "{err}"
        );
        assert!(
            err.contains("`date` (closest header found: `dat`)"),
            "{err}"
        );
        assert!(err.contains("`code`"), "{err}");
    }

    #[test]
    fn a_header_in_one_field_gets_the_delimiter_hint() {
        let error = |header: &str| {
            match_header(
                Path::new("a.csv"),
                &ATTENDANCE,
                &[header.to_string()],
                &Mapping::default(),
            )
            .unwrap_err()
            .to_string()
        };
        let err = error("student_id;school_id;date;code");
        assert!(err.contains("set delimiter = \";\" in [input]"), "{err}");
        let err = error("student_id\tschool_id\tdate\tcode");
        assert!(err.contains("set delimiter = \"tab\""), "{err}");
    }

    #[test]
    fn parquet_batches_follow_row_groups() {
        // Groups as pyarrow wrote the benchmark's copy: a short group between full ones.
        let m = 1 << 20;
        assert_eq!(
            row_group_batches(&[m, m, 483_956, m], m),
            [(0, m), (m, m), (2 * m, 483_956), (2 * m + 483_956, m)]
        );
        // Small groups are read together; a large group in slices; empty groups skipped.
        assert_eq!(
            row_group_batches(&[100, 0, 100, 100, 600, 50], 250),
            [
                (0, 200),
                (200, 100),
                (300, 250),
                (550, 250),
                (800, 100),
                (900, 50)
            ]
        );
        assert!(row_group_batches(&[], 250).is_empty());

        let batches = [(0, 100), (100, 100), (200, 100), (300, 300)];
        assert_eq!(
            contiguous_parts(&batches, 2),
            [vec![(0, 100), (100, 100), (200, 100)], vec![(300, 300)]]
        );
        assert_eq!(contiguous_parts(&batches, 1), [batches.to_vec()]);
        assert!(contiguous_parts(&[], 2).is_empty());
    }
}
