//! One file of a synthetic snapshot being written, with the rows it holds: CSV, or Parquet
//! (`--format parquet`) for districts whose CSV would not fit the disk.
//!
//! A Parquet file is written in row groups of [`ROWS_PER_GROUP`] rows, each buffered as text
//! columns and written when full, so memory stays flat whatever the file's size. Every column
//! is text, as in the CSV (ews reads a Parquet export's values as the text the CSV would
//! hold); a blank value is a null.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::io::error::GenerateError;

/// The format of a generated snapshot's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FileFormat {
    /// RFC 4180 CSV, UTF-8.
    #[default]
    Csv,
    /// Parquet, every column text, zstd-compressed, in row groups of about a million rows.
    Parquet,
}

impl FileFormat {
    /// The name on the command line and in generator.json.
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Parquet => "parquet",
        }
    }
}

/// Rows per Parquet row group.
pub(super) const ROWS_PER_GROUP: usize = 1 << 20;

/// One file being written.
pub(super) struct Table {
    /// The file's name (`attendance.csv`, or `attendance.parquet`).
    pub(super) name: String,
    pub(super) path: PathBuf,
    sink: Sink,
    pub(super) rows: usize,
}

enum Sink {
    Csv(Box<csv::Writer<File>>),
    Parquet(Box<ParquetSink>),
}

/// A Parquet file: the rows of the row group being filled, as text columns.
struct ParquetSink {
    header: Vec<PlSmallStr>,
    columns: Vec<StringChunkedBuilder>,
    buffered: usize,
    /// Rows per row group ([`ROWS_PER_GROUP`]; fewer in tests).
    group_rows: usize,
    writer: polars::io::parquet::write::BatchedWriter<File>,
}

impl ParquetSink {
    fn builders(header: &[PlSmallStr]) -> Vec<StringChunkedBuilder> {
        header
            .iter()
            .map(|name| StringChunkedBuilder::new(name.clone(), ROWS_PER_GROUP))
            .collect()
    }

    /// Writes the buffered rows as a row group.
    fn flush(&mut self) -> PolarsResult<()> {
        if self.buffered == 0 {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.columns, Self::builders(&self.header));
        let columns: Vec<Column> = full
            .into_iter()
            .map(|b| b.finish().into_series().into_column())
            .collect();
        let frame = DataFrame::new(self.buffered, columns)?;
        self.buffered = 0;
        self.writer.write_batch(&frame)
    }
}

impl Table {
    /// Creates `name` (a `.csv` name; `.parquet` in that format) in `dir` with `header`.
    pub(super) fn create(
        dir: &Path,
        name: &'static str,
        header: &[&str],
        format: FileFormat,
    ) -> Result<Self, GenerateError> {
        let name = match format {
            FileFormat::Csv => name.to_string(),
            FileFormat::Parquet => format!("{}.parquet", name.trim_end_matches(".csv")),
        };
        let path = dir.join(&name);
        let file = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let sink = match format {
            FileFormat::Csv => Sink::Csv(Box::new(
                csv::WriterBuilder::new()
                    .buffer_capacity(1 << 16)
                    .from_writer(file),
            )),
            FileFormat::Parquet => {
                let header: Vec<PlSmallStr> = header.iter().map(|h| (*h).into()).collect();
                let schema = Schema::from_iter(
                    header
                        .iter()
                        .map(|name| Field::new(name.clone(), DataType::String)),
                );
                let writer = ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(|e| parquet_error(&path, e))?;
                Sink::Parquet(Box::new(ParquetSink {
                    columns: ParquetSink::builders(&header),
                    header,
                    buffered: 0,
                    group_rows: ROWS_PER_GROUP,
                    writer,
                }))
            }
        };
        let mut table = Table {
            name,
            path,
            sink,
            rows: 0,
        };
        if let Sink::Csv(_) = table.sink {
            table.write(header)?;
        }
        table.rows = 0;
        Ok(table)
    }

    pub(super) fn write<I, T>(&mut self, record: I) -> Result<(), GenerateError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.rows += 1;
        match &mut self.sink {
            Sink::Csv(writer) => writer
                .write_record(record)
                .map_err(|source| GenerateError::Csv {
                    path: self.path.clone(),
                    source,
                }),
            Sink::Parquet(sink) => {
                for (builder, value) in sink.columns.iter_mut().zip(record) {
                    // A blank value is a null; the generator writes UTF-8 only.
                    match value.as_ref() {
                        b"" => builder.append_null(),
                        bytes => builder.append_value(String::from_utf8_lossy(bytes)),
                    }
                }
                sink.buffered += 1;
                if sink.buffered >= sink.group_rows {
                    sink.flush().map_err(|e| parquet_error(&self.path, e))?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn finish(self) -> Result<(String, usize), GenerateError> {
        match self.sink {
            Sink::Csv(mut writer) => writer.flush().map_err(|source| GenerateError::Io {
                path: self.path.clone(),
                source,
            })?,
            Sink::Parquet(mut sink) => {
                sink.flush()
                    .and_then(|()| sink.writer.finish().map(|_| ()))
                    .map_err(|e| parquet_error(&self.path, e))?;
            }
        }
        Ok((self.name, self.rows))
    }
}

fn parquet_error(path: &Path, error: PolarsError) -> GenerateError {
    GenerateError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_rows_round_trip_across_row_groups_with_blanks_as_nulls() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let header = ["student_id", "last_name", "birth_date"];
        let mut table = Table::create(dir.path(), "students.csv", &header, FileFormat::Parquet)
            .map_err(|e| e.to_string())?;
        if let Sink::Parquet(sink) = &mut table.sink {
            sink.group_rows = 3;
        }
        let rows: Vec<[String; 3]> = (0..7)
            .map(|i| {
                let birth = if i % 3 == 0 {
                    String::new()
                } else {
                    format!("2010-01-0{i}")
                };
                [format!("{i:08}"), format!("Nguyễn, \"{i}\""), birth]
            })
            .collect();
        for row in &rows {
            table.write(row).map_err(|e| e.to_string())?;
        }
        assert_eq!(table.name, "students.parquet");
        assert_eq!(table.finish().map_err(|e| e.to_string())?.1, 7);
        let file = File::open(dir.path().join("students.parquet")).map_err(|e| e.to_string())?;
        let frame = ParquetReader::new(file)
            .finish()
            .map_err(|e| e.to_string())?;
        assert_eq!(frame.height(), 7);
        for (j, name) in header.iter().enumerate() {
            let column = frame.column(name).map_err(|e| e.to_string())?;
            let values = column.str().map_err(|e| e.to_string())?;
            for (i, row) in rows.iter().enumerate() {
                let expected = Some(row[j].as_str()).filter(|v| !v.is_empty());
                assert_eq!(values.get(i), expected, "row {i}, {name}");
            }
        }
        Ok(())
    }
}
