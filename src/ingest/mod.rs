//! A snapshot's export files, from bytes to checked data: the one reader of every CSV input
//! ([`reader`]), snapshots and chunked reading ([`input`]) with the header matched
//! ([`header`]) and the mapping's values recoded ([`recode`]), Parquet files ([`parquet`]),
//! the loader that checks every file ([`checks`]) by its row rules ([`rules`]) on typed
//! columns ([`columns`]), students by id ([`student_index`]), membership days from enrollment
//! spans and school calendars ([`membership`]), what else enrollment.csv gives (school, grade,
//! cohort, outcomes from exits: [`enrollment`]), attendance read in one pass into a day grid per student
//! ([`attendance`]), the data-quality report and gate ([`quality`]), and a district too large
//! for the memory cap read in partitions of students ([`partition`]) from its files split once
//! by partition ([`split`]) into the staging folder ([`staging`]). What they share: the line column, the chunk size and the chunk
//! types below.

use polars::prelude::LazyFrame;

use crate::ingest::reader::ReaderFlag;
use crate::io::error::Result;

pub mod attendance;
pub mod checks;
pub mod columns;
pub mod decisions;
pub mod edfi;
pub mod enrollment;
pub mod header;
pub mod input;
pub mod membership;
pub mod parquet;
pub mod partition;
pub mod periods;
pub mod quality;
pub mod reader;
pub mod recode;
pub mod rules;
pub mod split;
pub mod staging;
pub mod student_index;

/// Name of the column that carries each row's line number in its file (the header is line 1;
/// a Parquet file's rows count from 1).
pub const LINE: &str = "__line";

/// Rows per chunk handed to the row checks: enough for polars to work in bulk, few enough that
/// a worker's chunk of text stays small (a million-student grades.csv has 10M rows).
pub const CHUNK_ROWS: usize = 1 << 18;

/// A file read chunk by chunk.
pub struct Chunked<T> {
    /// What `process` made of each chunk (or a [`PartWorker`] of each part), in file order,
    /// with the number to add to its [`LINE`] values for the file's line numbers.
    pub chunks: Vec<(T, u64)>,
    /// Records read, blank lines excepted (rows the reader rejected included).
    pub rows: u64,
    /// Rows the reader rejected, and values it replaced, by line.
    pub flags: Vec<ReaderFlag>,
}

/// What a chunk processor gets: [`LINE`] (u64) and every contract column of the file as text
/// under its canonical name (absent optional columns all-null), canonical values.
pub type ChunkProcessor<'a, T> = &'a (dyn Fn(LazyFrame) -> Result<T> + Sync);

/// What one worker makes of its part of a file (a contiguous range of lines), its chunks
/// handed over one after the other in line order: a [`ChunkProcessor`] for work that carries
/// over from one chunk to the next. The split into partitions gathers each partition's rows
/// across chunks, to write them in pieces of a useful size.
pub trait PartWorker: Send {
    type Out: Send;
    /// The next chunk, as a [`ChunkProcessor`] gets it; its [`LINE`] values count from the
    /// part's first line, as every chunk of the part does.
    fn chunk(&mut self, frame: LazyFrame) -> Result<()>;
    /// The part is read: what the worker made of it.
    fn finish(self) -> Result<Self::Out>;
}

/// A [`ChunkProcessor`] as a [`PartWorker`]: what it made of each chunk, in order.
pub(crate) struct EachChunk<'a, T> {
    pub process: ChunkProcessor<'a, T>,
    pub results: Vec<T>,
}

impl<T: Send> PartWorker for EachChunk<'_, T> {
    type Out = Vec<T>;

    fn chunk(&mut self, frame: LazyFrame) -> Result<()> {
        self.results.push((self.process)(frame)?);
        Ok(())
    }

    fn finish(self) -> Result<Vec<T>> {
        Ok(self.results)
    }
}
