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
