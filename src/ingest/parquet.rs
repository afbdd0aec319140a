//! Parquet export files, read in row batches: the column types checked (lists, structs and
//! times refused, timestamps read as dates), every value turned into the text the row checks
//! expect, and the batches split into contiguous parts, one per worker.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::mapping::Mapping;
use crate::contract::{FileSpec, DATE_COLUMNS};
use crate::ingest::partition::Part;
use crate::io::dates;
use crate::io::error::{EwsError, Result};

use polars::io::parquet::metadata::FileMetadataRef;

use crate::ingest::header::*;
use crate::ingest::reader::ReaderFlag;
use crate::ingest::recode::*;
use crate::ingest::{Chunked, PartWorker, CHUNK_ROWS, LINE};

/// A Parquet export file, read in row batches: each batch is read on its own, only its row
/// groups decoded, and turned into the same text columns a CSV file gives. Its "line" is the
/// row number, counting from 1.
pub struct ParquetBatches {
    path: PathBuf,
    spec: &'static FileSpec,
    /// The contract's columns present in the file: (canonical name, the file's name).
    known: Vec<(&'static str, String)>,
    mapping: Mapping,
    /// One partition's rows of a file split into the staging area, read as they were staged.
    staged: Option<Box<StagedRows>>,
    /// The line offset of each staged piece, by its first row.
    shifts: FxHashMap<usize, u64>,
    /// The file's footer, read once: each batch is read on its own, and a staged partition's
    /// file has a row group per piece. Read again for each piece, the footer made a
    /// partition's reading grow with the square of its pieces (5.9 s for a partition's grades
    /// with 136 partitions at 6M, 1.7 s with 22 at 1M, about as many rows).
    metadata: std::sync::OnceLock<FileMetadataRef>,
}

/// One partition's rows of a file split once into the staging area
/// ([`crate::ingest::staging`]): a Parquet file of [`LINE`] and text columns, written in
/// pieces.
#[derive(Debug, Clone)]
pub struct StagedRows {
    pub path: PathBuf,
    /// The staged columns, under the contract's names.
    pub columns: Vec<&'static str>,
    /// The pieces in line order: (first row in the staged file, rows, the number to add to
    /// their [`LINE`] values for the export's line numbers).
    pub pieces: Vec<(usize, usize, u64)>,
    /// What the reader rejected or replaced while splitting (the first partition's).
    pub flags: Vec<ReaderFlag>,
    /// Rows the reader rejected, not staged but read (the first partition's).
    pub rejected: u64,
    /// Attendance staged as the export wrote it (its date format and codes, for the row
    /// parser); None: canonical values, as every chunk processor gets them.
    pub raw_date_format: Option<String>,
    /// When the partition is read in turns ([`crate::ingest::staging::Staging::refine`]),
    /// the range of students this read keeps; the others' rows are another read's.
    pub only: Option<Part>,
}

impl ParquetBatches {
    pub(crate) fn open(
        path: &Path,
        spec: &'static FileSpec,
        mapping: &Mapping,
    ) -> Result<ParquetBatches> {
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
            staged: None,
            shifts: FxHashMap::default(),
            metadata: std::sync::OnceLock::new(),
        })
    }

    /// A partition's rows of a staged file (written by ews, so not checked again).
    pub(crate) fn staged(spec: &'static FileSpec, rows: StagedRows) -> ParquetBatches {
        ParquetBatches {
            path: rows.path.clone(),
            spec,
            known: rows.columns.iter().map(|&c| (c, c.to_string())).collect(),
            mapping: Mapping::default(),
            shifts: rows
                .pieces
                .iter()
                .map(|&(o, _, shift)| (o, shift))
                .collect(),
            staged: Some(Box::new(rows)),
            metadata: std::sync::OnceLock::new(),
        }
    }

    /// A reader of `file` (this file, opened) with the footer read once for every batch.
    fn reader(&self, file: std::fs::File) -> Result<ParquetReader<std::fs::File>> {
        let mut reader = ParquetReader::new(file);
        match self.metadata.get() {
            Some(metadata) => reader.set_metadata(metadata.clone()),
            None => {
                let metadata = reader.get_metadata().map_err(read_error(&self.path))?;
                // Two workers may both read it first: either copy is the file's footer.
                let _ = self.metadata.set(metadata.clone());
            }
        }
        Ok(reader)
    }

    /// The staged attendance's date format when its values are as the export wrote them.
    pub fn raw_date_format(&self) -> Option<&str> {
        self.staged.as_ref()?.raw_date_format.as_deref()
    }

    /// What the reader rejected or replaced while the file was split (a staged partition's).
    pub fn reader_flags(&self) -> Vec<ReaderFlag> {
        self.staged
            .as_ref()
            .map(|s| s.flags.clone())
            .unwrap_or_default()
    }

    /// Batches `(offset, rows)` to read in file order: about `target` rows on row-group
    /// boundaries ([`row_group_batches`]), or a staged partition's pieces in line order.
    pub fn batches(&self, target: usize) -> Result<Vec<(usize, usize)>> {
        match &self.staged {
            Some(staged) => Ok(staged.pieces.iter().map(|&(o, n, _)| (o, n)).collect()),
            None => Ok(row_group_batches(&self.row_groups()?, target)),
        }
    }

    /// Rows in each row group of the file, in file order (from its metadata).
    pub fn row_groups(&self) -> Result<Vec<usize>> {
        let file = std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e))?;
        let mut reader = self.reader(file)?;
        let metadata = reader.get_metadata().map_err(read_error(&self.path))?;
        Ok(metadata.row_groups.iter().map(|g| g.num_rows()).collect())
    }

    /// Rows `offset..offset + len` (fewer at the end of the file) as a chunk: [`LINE`] (the
    /// row number from 1) and the contract's columns as canonical text. A staged piece is
    /// read as it was staged.
    pub fn batch(&self, offset: usize, len: usize) -> Result<DataFrame> {
        let file = std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e))?;
        if let Some(staged) = &self.staged {
            return self.piece(staged, file, offset, len);
        }
        let raw = self
            .reader(file)?
            .with_columns(Some(self.known.iter().map(|(_, n)| n.clone()).collect()))
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(read_error(&self.path))?;
        let lines: UInt64Chunked = (0..raw.height() as u64)
            .map(|i| Some(offset as u64 + 1 + i))
            .collect();
        let lines = lines.with_name(LINE.into());
        let height = raw.height();
        let mut columns = vec![lines.into_column()];
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

    /// A staged piece, rows `offset..offset + len` of the staged file, with the export's
    /// line numbers.
    fn piece(
        &self,
        staged: &StagedRows,
        file: std::fs::File,
        offset: usize,
        len: usize,
    ) -> Result<DataFrame> {
        let mut frame = self
            .reader(file)?
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(read_error(&staged.path))?;
        let shift = self.shifts.get(&offset).copied().unwrap_or(0);
        if shift > 0 {
            let lines = frame.column(LINE)?.u64()? + shift;
            frame.with_column(lines.with_name(LINE.into()).into_column())?;
        }
        match &staged.only {
            Some(part) => {
                let owned: BooleanChunked = frame
                    .column("student_id")?
                    .str()?
                    .iter()
                    .map(|id| Some(part.owns(id.map(str::as_bytes))))
                    .collect();
                Ok(frame.filter(&owned)?)
            }
            None => Ok(frame),
        }
    }

    /// The file's rows in parts, as [`crate::ingest::input::RawFile::read_parts`] says; a row's
    /// line is its row number from 1 (a staged file's rows: their export's line).
    pub(crate) fn read_parts<W: PartWorker>(
        &self,
        whole: bool,
        make: impl Fn() -> W + Sync,
    ) -> Result<Chunked<W::Out>> {
        let batches = self.batches(CHUNK_ROWS)?;
        let staged = self.staged.as_deref();
        if let (true, Some(staged)) = (whole, staged) {
            // A staged partition's pieces are not contiguous in its file: read one by one.
            let file = || std::fs::File::open(&self.path).map_err(|e| EwsError::io(&self.path, e));
            let mut all: Option<DataFrame> = None;
            for &(offset, len) in &batches {
                let piece = self.piece(staged, file()?, offset, len)?;
                match &mut all {
                    None => all = Some(piece),
                    Some(all) => all.vstack_mut_owned(piece).map(|_| ())?,
                }
            }
            let mut worker = make();
            let read = all.as_ref().map_or(0, DataFrame::height);
            if let Some(all) = all {
                worker.chunk(all.lazy())?;
            }
            return Ok(Chunked {
                chunks: vec![(worker.finish()?, 0)],
                rows: read as u64 + staged.rejected,
                flags: staged.flags.clone(),
            });
        }
        let parts = match whole {
            true => vec![vec![(0, batches.iter().map(|b| b.1).sum())]],
            false => contiguous_parts(&batches, rayon::current_num_threads()),
        };
        // The rows read: a staged read in turns keeps only its students' rows of each piece.
        let outs: Vec<(W::Out, usize)> = parts
            .par_iter()
            .map(|range| {
                let mut worker = make();
                let mut read = 0;
                for &(offset, len) in range {
                    let batch = self.batch(offset, len)?;
                    read += batch.height();
                    worker.chunk(batch.lazy())?;
                }
                Ok((worker.finish()?, read))
            })
            .collect::<Result<_>>()?;
        let read: usize = outs.iter().map(|(_, read)| read).sum();
        Ok(Chunked {
            chunks: outs.into_iter().map(|(out, _)| (out, 0)).collect(),
            rows: read as u64 + staged.map_or(0, |s| s.rejected),
            flags: self.reader_flags(),
        })
    }
}

/// Parquet column types a contract column can be read from; anything else (a list, a struct, a
/// time of day) is not what the export meant, and the run stops naming the column.
pub fn check_parquet_type(
    path: &Path,
    canonical: &str,
    name: &str,
    dtype: &DataType,
) -> Result<()> {
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
pub fn parquet_text(path: &Path, name: &str, column: &Column) -> Result<StringChunked> {
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
pub fn is_canonical_date(value: &[u8], format: &str) -> bool {
    format == crate::contract::DATE_FORMAT && dates::is_iso_shaped(value)
}

/// Date cells rewritten as ISO dates where they are written otherwise (see [`dates`]).
pub fn canonical_dates(text: &StringChunked, format: &str) -> Result<StringChunked> {
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
