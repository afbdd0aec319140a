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
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::mapping::Mapping;
use crate::contract::{FileSpec, DATE_COLUMNS};
use crate::ingest::header::*;
use crate::ingest::parquet::*;
use crate::ingest::reader::{self, Dialect, Encoding, Fields, Problem, ReaderFlag};
use crate::ingest::recode::config_error;
use crate::ingest::recode::*;
use crate::ingest::staging::Staging;
pub use crate::ingest::{ChunkProcessor, Chunked, CHUNK_ROWS, LINE};
use crate::ingest::{EachChunk, PartWorker};
use crate::io::dates;
use crate::io::error::{EwsError, Result};

/// One snapshot folder: the files a district's SIS exported on one night, and how its export
/// differs from the canonical layout.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub mapping: Mapping,
    /// The folder of counselor workbooks returned with decisions (`ews score --decisions`),
    /// read beside the snapshot's referral_status.csv.
    pub returned_workbooks: Option<PathBuf>,
    /// The snapshot split by partition of students, and the partition this reads: its files
    /// are read from the staging folder ([`crate::ingest::staging`]).
    staged: Option<(Arc<Staging>, usize)>,
    /// The snapshot's files as split for its partitions, with whether outcomes.csv was: kept
    /// for every reading of the snapshot in the run (`ews train` reads it at each checkpoint),
    /// shared by its clones.
    staging: KeptStaging,
}

/// A snapshot's staging, once split: the partitions asked for, whether it has outcomes.csv,
/// and the staging folder.
type KeptStaging = Arc<Mutex<Option<(usize, bool, Arc<Staging>)>>>;

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
            returned_workbooks: None,
            staged: None,
            staging: Arc::default(),
        })
    }

    /// The same snapshot as read `read` of `staging` ([`Staging::reads`]) reads it: each
    /// staged file holds only that partition's rows, kept to the read's students when the
    /// partition is read in turns (the files not staged are read from the folder).
    pub fn in_partition(&self, staging: &Arc<Staging>, read: usize) -> Snapshot {
        Snapshot {
            staged: Some((staging.clone(), read)),
            ..self.clone()
        }
    }

    /// The staging folder this partition's files are read from (None: read in one piece).
    pub fn staging(&self) -> Option<&Arc<Staging>> {
        self.staged.as_ref().map(|(staging, _)| staging)
    }

    /// The same folder read through a district's mapping.
    pub fn with_mapping(self, mapping: Mapping) -> Snapshot {
        Snapshot { mapping, ..self }
    }

    pub fn with_returned_workbooks(self, dir: Option<PathBuf>) -> Snapshot {
        Snapshot {
            returned_workbooks: dir,
            ..self
        }
    }

    /// The attendance mode the snapshot declares in its snapshot.toml (written by importers),
    /// which wins over the config; `None` without the file.
    pub fn declared_mode(&self) -> Result<Option<crate::contract::AttendanceMode>> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Declared {
            #[serde(default)]
            attendance: Option<DeclaredAttendance>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct DeclaredAttendance {
            mode: crate::contract::AttendanceMode,
        }
        let path = self.dir.join(crate::contract::SNAPSHOT_TOML);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| EwsError::io(&path, e))?;
        let declared: Declared = toml::from_str(&text).map_err(|e| EwsError::BadFile {
            path: path.clone(),
            message: format!(
                "{}; expected `[attendance]` with `mode = \"daily\"` or `mode = \"exceptions\"`",
                e.message()
            ),
        })?;
        Ok(declared.attendance.map(|a| a.mode))
    }

    /// The snapshot's files split into `count` partitions (with outcomes.csv when
    /// `with_outcomes`): by `split` the first time, then as split then, for as long as the
    /// snapshot is held.
    pub fn staged_once(
        &self,
        count: usize,
        with_outcomes: bool,
        split: impl FnOnce() -> Result<Staging>,
    ) -> Result<Arc<Staging>> {
        let mut kept = self
            .staging
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((asked, outcomes, staging)) = &*kept {
            if *asked == count && (*outcomes || !with_outcomes) {
                return Ok(staging.clone());
            }
        }
        let staging = Arc::new(split()?);
        *kept = Some((count, with_outcomes, staging.clone()));
        Ok(staging)
    }

    /// Where the file of `spec` is expected (the mapping may rename it).
    pub fn path(&self, spec: &FileSpec) -> PathBuf {
        self.dir.join(self.mapping.file_name(spec))
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
        let staged = self
            .staged
            .as_ref()
            .and_then(|(staging, read)| staging.read_rows(spec, *read));
        if let Some(rows) = staged {
            // The header was checked when the file was staged; the values are as the checks
            // get them, so no mapping applies again.
            return Ok(RawFile {
                path: path.to_path_buf(),
                spec,
                source: Source::Parquet(Box::new(ParquetBatches::staged(spec, rows))),
                mapping: Mapping::default(),
            });
        }
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

pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
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

impl RawFile {
    /// Reads the file in chunks of [`CHUNK_ROWS`] rows, one worker per core, calling `process`
    /// on each chunk as it is read; with `whole`, the file is one chunk (for checks across all
    /// of a file's rows, such as duplicate ids).
    pub fn read_chunks<T: Send>(
        &self,
        whole: bool,
        process: ChunkProcessor<'_, T>,
    ) -> Result<Chunked<T>> {
        let parts = self.read_parts(whole, || EachChunk {
            process,
            results: Vec::new(),
        })?;
        let mut chunked = Chunked {
            chunks: parts
                .chunks
                .into_iter()
                .flat_map(|(results, first_line)| results.into_iter().map(move |t| (t, first_line)))
                .collect(),
            rows: parts.rows,
            flags: parts.flags,
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

    /// Reads the file in parts, one worker per core (one part with `whole`), each part's chunks
    /// of [`CHUNK_ROWS`] rows (one chunk with `whole`) handed in line order to its own
    /// [`PartWorker`] from `make`; returns what each worker made of its part, in file order.
    pub fn read_parts<W: PartWorker>(
        &self,
        whole: bool,
        make: impl Fn() -> W + Sync,
    ) -> Result<Chunked<W::Out>> {
        match &self.source {
            Source::Csv(layout) => self.read_csv_parts(layout, whole, make),
            Source::Parquet(batches) => batches.read_parts(whole, make),
        }
    }

    fn read_csv_parts<W: PartWorker>(
        &self,
        layout: &CsvLayout,
        whole: bool,
        make: impl Fn() -> W + Sync,
    ) -> Result<Chunked<W::Out>> {
        let table = TableLayout::new(layout, self.spec, &self.mapping);
        let (workers, chunk_rows) = match whole {
            true => (1, usize::MAX),
            false => (rayon::current_num_threads(), CHUNK_ROWS),
        };
        let sinks = layout.file.read(workers, || TableSink {
            table: &table,
            worker: Some(make()),
            out: None,
            chunk_rows,
            lines: Vec::new(),
            builders: table.builders(),
            date_cache: FxHashMap::default(),
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
            chunked.chunks.extend(sink.out.map(|out| (out, first_line)));
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

/// One worker's part of a CSV file, turned into chunks handed to its [`PartWorker`] as they
/// fill.
struct TableSink<'a, W: PartWorker> {
    table: &'a TableLayout<'a>,
    /// Until the part is read; then what it made of the part, in `out`.
    worker: Option<W>,
    out: Option<W::Out>,
    chunk_rows: usize,
    lines: Vec<u64>,
    builders: Vec<StringChunkedBuilder>,
    /// Dates written otherwise than ISO, by text: an export has few distinct dates.
    date_cache: FxHashMap<String, Option<String>>,
    flags: Vec<ReaderFlag>,
    rows: u64,
    error: Option<EwsError>,
}

impl<W: PartWorker> TableSink<'_, W> {
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
        let Some(worker) = &mut self.worker else {
            return;
        };
        let result = DataFrame::new(height, columns)
            .map_err(EwsError::from)
            .and_then(|frame| contract_values(frame.lazy(), self.table.spec, self.table.mapping))
            .and_then(|frame| worker.chunk(frame));
        if let Err(e) = result {
            self.error = Some(e);
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

impl<W: PartWorker> reader::RecordSink for TableSink<'_, W> {
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
        if self.error.is_some() {
            return;
        }
        match self.worker.take().map(PartWorker::finish) {
            Some(Ok(out)) => self.out = Some(out),
            Some(Err(e)) => self.error = Some(e),
            None => {}
        }
    }
}

/// `frame` (with [`LINE`] and the spec's columns as canonical-named text, empty values
/// missing) with the mapping's codes, marks, subjects and flags turned canonical. Values the
/// mapping does not cover pass through unchanged, to be reported by the row checks.
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
