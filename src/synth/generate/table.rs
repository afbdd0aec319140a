//! One CSV file of a synthetic snapshot being written, with the rows it holds.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::io::error::GenerateError;

/// One CSV file being written.
pub(super) struct Table {
    pub(super) name: &'static str,
    pub(super) path: PathBuf,
    pub(super) writer: csv::Writer<File>,
    pub(super) rows: usize,
}

impl Table {
    pub(super) fn create(
        dir: &Path,
        name: &'static str,
        header: &[&str],
    ) -> Result<Self, GenerateError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(file);
        let mut table = Table {
            name,
            path,
            writer,
            rows: 0,
        };
        table.write(header)?;
        table.rows = 0;
        Ok(table)
    }

    pub(super) fn write<I, T>(&mut self, record: I) -> Result<(), GenerateError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.rows += 1;
        self.writer
            .write_record(record)
            .map_err(|source| GenerateError::Csv {
                path: self.path.clone(),
                source,
            })
    }

    pub(super) fn finish(mut self) -> Result<(String, usize), GenerateError> {
        self.writer.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok((self.name.to_string(), self.rows))
    }
}
