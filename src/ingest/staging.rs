//! The staging folder of a partitioned run: a snapshot's files split by partition of students
//! ([`crate::ingest::split`] writes them), one Parquet file per file and partition, written in
//! pieces, and read by each partition as any Parquet file is
//! ([`crate::ingest::parquet::StagedRows`]).
//!
//! The folder is made in the system's temporary folder (`TMPDIR`), readable by the run's user
//! only, and removed when the run ends (its files are ews's own). A run killed by a signal
//! cannot remove it: the next partitioned run removes the staging folders of runs that are no
//! longer running (named with their process id, and marked as ews's own), and nothing else.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use polars::prelude::*;

use crate::contract::FileSpec;
use crate::ingest::membership::SchoolCalendars;
use crate::ingest::parquet::StagedRows;
use crate::ingest::partition::{self, Part};
use crate::ingest::reader::ReaderFlag;
use crate::ingest::LINE;
use crate::io::error::{EwsError, Result};

/// Rows a worker gathers for one partition before writing them as a piece.
pub(crate) const PIECE_ROWS: usize = 1 << 16;

/// The share of `performance.max_memory` that the split's workers may hold in rows gathered
/// and not yet written, all together: one part in this many.
const GATHERED_SHARE: u64 = 8;

/// A staging folder's name: this, the process id of its run, `-` and random characters.
const PREFIX: &str = "ews-partitions-";
/// The file that marks a staging folder as written by ews.
const MARKER: &str = ".ews-staging";

/// A snapshot's files split by partition of students, in a staging folder removed when this
/// is dropped.
#[derive(Debug)]
pub struct Staging {
    dir: tempfile::TempDir,
    /// The partitions the files were split into (each row to the one of its student).
    pub parts: Vec<Part>,
    /// The reads of the run, in id order: each partition once, or in turns when its staged
    /// files hold more rows than a read may ([`Staging::refine`]).
    pub reads: Vec<Read>,
    /// Bytes of rows each of the split's workers may gather before writing ([`Gathered`]).
    gathered_bytes: usize,
    /// Per staged file (by its contract name), the rows of each partition.
    files: BTreeMap<&'static str, Vec<StagedRows>>,
    /// calendar.csv, checked: a file without students, the same for every partition. The
    /// first partition to read it checks it; the others take this copy. (Checked again by
    /// each, it grew with the district twice over: more schools' days, read by more
    /// partitions. At 6M exception-only, 1.65 s a partition, twice, of 136 partitions.)
    pub(crate) calendars: std::sync::OnceLock<SchoolCalendars>,
}

impl Staging {
    /// An empty staging folder in `TMPDIR` for `parts`, split by workers that together
    /// gather a [`GATHERED_SHARE`] of `max_memory` at most.
    pub(crate) fn new(parts: &[Part], max_memory: u64) -> Result<Staging> {
        let temp = std::env::temp_dir();
        remove_killed_runs(&temp);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(&temp)
            .map_err(|e| EwsError::io(&temp, e))?;
        // The run's user only, before any file is in it.
        crate::io::folders::set_file_mode(dir.path(), 0o700)?;
        let marker = dir.path().join(MARKER);
        std::fs::write(&marker, "the staging folder of an ews run\n")
            .map_err(|e| EwsError::io(&marker, e))?;
        crate::io::folders::set_file_mode(&marker, 0o600)?;
        log::info!("staging folder: {}", dir.path().display());
        let workers = rayon::current_num_threads().max(1) as u64;
        Ok(Staging {
            dir,
            parts: parts.to_vec(),
            reads: parts
                .iter()
                .enumerate()
                .map(|(file, part)| Read {
                    part: part.clone(),
                    file,
                    in_turns: false,
                })
                .collect(),
            gathered_bytes: (max_memory / GATHERED_SHARE / workers) as usize,
            files: BTreeMap::new(),
            calendars: std::sync::OnceLock::new(),
        })
    }

    /// Writers of the file of `spec`, one file per partition.
    pub(crate) fn stager(&self, spec: &FileSpec) -> FileStager<'_> {
        FileStager::new(self.dir.path(), spec, &self.parts, self.gathered_bytes)
    }

    /// Records the file of `spec` as staged.
    pub(crate) fn add(&mut self, spec: &'static FileSpec, rows: Vec<StagedRows>) {
        self.files.insert(spec.name, rows);
    }

    /// Partition `part`'s rows of the file of `spec`, when it was staged.
    pub fn rows(&self, spec: &FileSpec, part: usize) -> Option<&StagedRows> {
        self.files.get(spec.name)?.get(part)
    }

    /// What read `read` ([`Staging::reads`]) reads of the file of `spec`, when it was staged:
    /// its partition's rows, kept to its students when the partition is read in turns. What
    /// the reader rejected while splitting is the district's first read's only.
    pub fn read_rows(&self, spec: &FileSpec, read: usize) -> Option<StagedRows> {
        let read = self.reads.get(read)?;
        let mut rows = self.rows(spec, read.file)?.clone();
        if read.in_turns {
            rows.only = Some(read.part.clone());
            if !read.part.is_first() {
                rows.flags.clear();
                rows.rejected = 0;
            }
        }
        Some(rows)
    }

    /// The peak of reading partition `part`, from its staged files' bytes
    /// ([`partition::staged_peak`]).
    fn part_peak(&self, part: usize) -> f64 {
        self.files
            .iter()
            .filter_map(|(name, parts)| Some((name, parts.get(part)?)))
            .filter_map(|(name, rows)| Some((name, std::fs::metadata(&rows.path).ok()?.len())))
            .map(|(name, bytes)| partition::staged_peak(name, bytes))
            .sum()
    }

    /// Sizes the reads from what the split wrote: a partition whose staged files hold more
    /// rows than `room` bytes ([`partition::staged_peak`]) is read in turns, each keeping a
    /// range of its students' rows. The partitions are cut by numbers of students, before
    /// any row is read, and students do not all have as many rows: in an export of K–12
    /// students with K–8 ids after the high school's, a third of the partitions held K–8
    /// students only, and the others every course mark (docs/performance.md).
    pub(crate) fn refine(&mut self, room: f64) -> Result<()> {
        let mut reads = Vec::new();
        for (k, part) in self.parts.iter().enumerate() {
            let turns = partition::reads_needed(self.part_peak(k), room);
            let narrowed = match (turns > 1, self.rows(&crate::contract::STUDENTS, k)) {
                (true, Some(students)) => {
                    let ids = staged_ids(&students.path)?;
                    part.narrowed(ids.iter().flatten().map(str::as_bytes), turns)
                }
                _ => vec![part.clone()],
            };
            let in_turns = narrowed.len() > 1;
            reads.extend(narrowed.into_iter().map(|part| Read {
                part,
                file: k,
                in_turns,
            }));
        }
        let count = reads.len();
        self.reads = reads
            .into_iter()
            .enumerate()
            .map(|(index, read)| Read {
                part: read.part.numbered(index, count),
                ..read
            })
            .collect();
        Ok(())
    }

    /// The rows of students.csv staged, in all partitions: at least as many as the students
    /// the partitions read, for what is kept per student to be allocated once.
    pub fn students(&self) -> usize {
        self.files
            .get(crate::contract::STUDENTS.name)
            .map_or(0, |parts| {
                parts
                    .iter()
                    .flat_map(|rows| &rows.pieces)
                    .map(|&(_, rows, _)| rows)
                    .sum()
            })
    }

    /// Bytes written to the staging folder.
    pub fn bytes(&self) -> u64 {
        std::fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// One read of the run: the students of `part`, from the staged files of partition `file`.
#[derive(Debug, Clone)]
pub struct Read {
    pub part: Part,
    pub file: usize,
    /// Whether the partition is read in turns (its rows filtered to `part`'s students).
    pub in_turns: bool,
}

/// The student_id column of a staged students file.
fn staged_ids(path: &Path) -> Result<StringChunked> {
    let file = File::open(path).map_err(|e| EwsError::io(path, e))?;
    let frame = ParquetReader::new(file)
        .with_columns(Some(vec!["student_id".into()]))
        .finish()
        .map_err(crate::ingest::parquet::read_error(path))?;
    Ok(frame.column("student_id")?.str()?.clone())
}

/// Removes the staging folders in `temp` that killed runs left: named by [`PREFIX`] with the
/// id of a process that is no longer running, with ews's [`MARKER`] inside. A folder that
/// cannot be removed is left, with a warning: this run does not need it gone.
fn remove_killed_runs(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if pid == std::process::id() || is_running(pid) || !path.join(MARKER).is_file() {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => log::warn!(
                "{}: removed the staging folder of a run that was killed (process {pid})",
                path.display()
            ),
            Err(e) => log::warn!(
                "{}: a killed run's staging folder left: {e}",
                path.display()
            ),
        }
    }
}

/// Whether process `pid` is running (Linux: /proc; elsewhere every process is taken to be,
/// so that no folder is removed).
fn is_running(pid: u32) -> bool {
    match cfg!(target_os = "linux") {
        true => Path::new("/proc").join(pid.to_string()).exists(),
        false => true,
    }
}

/// The partition of a row naming `id`: the one whose range holds it, the first for a missing
/// or blank id (as [`Part::owns`] says, found by bisection).
pub fn owner(parts: &[Part], id: Option<&[u8]>) -> usize {
    match id.filter(|id| !id.trim_ascii().is_empty()) {
        None => 0,
        Some(id) => parts
            .partition_point(|p| p.upper().is_some_and(|upper| upper <= id))
            .min(parts.len().saturating_sub(1)),
    }
}

/// The per-partition files of one staged file.
pub(crate) struct FileStager<'a> {
    pub(crate) parts: &'a [Part],
    /// Bytes of rows each worker may gather before writing ([`Gathered`]).
    pub(crate) gathered_bytes: usize,
    writers: Vec<Mutex<PartWriter>>,
}

/// What one worker of the split has gathered for each partition and not written yet, and
/// which partition it writes next.
///
/// A partition is written when it has a piece's rows ([`PIECE_ROWS`]); and while all the rows
/// gathered pass the worker's bytes, the partition with the most is. Rows sorted by student
/// fill one partition at a time and are written in whole pieces; rows in date order fill
/// every partition at once, and the pieces are as large as the memory allows: the largest
/// partition holds more than the average, so a piece is more than the bytes over the number
/// of partitions (about twice that once the writes take turns, as the tests below show).
/// Either way the worker holds about its bytes at most,
/// however many partitions there are. (Before, each partition gathered a whole piece, and
/// the split's memory grew with the partitions: 1.6 GB for 136 of them at a million students.)
pub(crate) struct Gathered {
    rows: Vec<usize>,
    bytes: Vec<usize>,
    total: usize,
    budget: usize,
}

impl Gathered {
    pub(crate) fn new(parts: usize, budget: usize) -> Gathered {
        Gathered {
            rows: vec![0; parts],
            bytes: vec![0; parts],
            total: 0,
            budget,
        }
    }

    /// `rows` rows of `bytes` gathered for partition `k`.
    pub(crate) fn add(&mut self, k: usize, rows: usize, bytes: usize) {
        self.rows[k] += rows;
        self.bytes[k] += bytes;
        self.total += bytes;
    }

    /// The partition to write now, after rows were gathered for `k`: `k` when it has a
    /// piece's rows; else, when the rows gathered pass the budget, the partition with the
    /// most bytes (the first of equals); else none.
    pub(crate) fn due(&self, k: usize) -> Option<usize> {
        if self.rows[k] >= PIECE_ROWS {
            return Some(k);
        }
        if self.total <= self.budget {
            return None;
        }
        let mut largest = None;
        for (j, &bytes) in self.bytes.iter().enumerate() {
            if self.rows[j] > 0 && largest.is_none_or(|(_, most)| bytes > most) {
                largest = Some((j, bytes));
            }
        }
        largest.map(|(j, _)| j)
    }

    /// Partition `k`'s rows were written.
    pub(crate) fn written(&mut self, k: usize) {
        self.total -= self.bytes[k];
        self.rows[k] = 0;
        self.bytes[k] = 0;
    }
}

/// One partition's staged file, written piece by piece.
struct PartWriter {
    path: PathBuf,
    writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
    rows: usize,
    /// (first row, rows) of each piece, in the order written.
    pieces: Vec<(usize, usize)>,
}

impl<'a> FileStager<'a> {
    fn new(
        dir: &Path,
        spec: &FileSpec,
        parts: &'a [Part],
        gathered_bytes: usize,
    ) -> FileStager<'a> {
        let writers = (0..parts.len())
            .map(|k| {
                Mutex::new(PartWriter {
                    path: dir.join(format!("{}-{k}.parquet", spec.stem())),
                    writer: None,
                    rows: 0,
                    pieces: Vec::new(),
                })
            })
            .collect();
        FileStager {
            parts,
            gathered_bytes,
            writers,
        }
    }

    /// Writes `piece` to partition `k`'s file; returns its number there.
    pub(crate) fn write(&self, k: usize, piece: &mut DataFrame) -> Result<usize> {
        piece.rechunk_mut();
        let mut part = self.writers[k]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let path = part.path.clone();
        if part.writer.is_none() {
            let file = File::create(&path).map_err(|e| EwsError::io(&path, e))?;
            crate::io::folders::set_file_mode(&path, 0o600)?;
            // Encoded on this thread: a writer that waited for rayon's workers while holding
            // the lock could be handed another piece for this file by one of them, and wait
            // for its own lock.
            let writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .with_statistics(StatisticsOptions::empty())
                .set_parallel(false)
                .batched(piece.schema())
                .map_err(staging_error(&path))?;
            part.writer = Some(writer);
        }
        if let Some(writer) = &mut part.writer {
            writer.write_batch(piece).map_err(staging_error(&path))?;
        }
        let first = part.rows;
        part.pieces.push((first, piece.height()));
        part.rows += piece.height();
        Ok(part.pieces.len() - 1)
    }

    /// Closes the files; `order` has every piece written, as (partition, piece, line offset),
    /// in the export's line order. `rows`: rows the reader read (those it rejected, not
    /// staged, are the first partition's with `flags`).
    pub(crate) fn finish(
        self,
        order: Vec<(usize, usize, u64)>,
        flags: Vec<ReaderFlag>,
        rows: u64,
        columns: Vec<&'static str>,
        raw_date_format: Option<String>,
    ) -> Result<Vec<StagedRows>> {
        let mut staged = Vec::with_capacity(self.writers.len());
        let mut staged_rows = 0;
        for writer in self.writers {
            let part = writer
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(writer) = &part.writer {
                writer.finish().map_err(staging_error(&part.path))?;
            }
            staged_rows += part.rows as u64;
            staged.push((part.path, part.pieces));
        }
        let mut result: Vec<StagedRows> = staged
            .iter()
            .map(|(path, _)| StagedRows {
                path: path.clone(),
                columns: columns.clone(),
                pieces: Vec::new(),
                flags: Vec::new(),
                rejected: 0,
                raw_date_format: raw_date_format.clone(),
                only: None,
            })
            .collect();
        for (k, piece, shift) in order {
            let (first, rows) = staged[k].1[piece];
            result[k].pieces.push((first, rows, shift));
        }
        if let Some(first) = result.first_mut() {
            first.flags = flags;
            first.rejected = rows.saturating_sub(staged_rows);
        }
        Ok(result)
    }
}

/// A staged file that cannot be written is an I/O failure of the run (exit 3), as a full disk
/// is for the outputs; the message says which folder (`TMPDIR`) it was.
fn staging_error(path: &Path) -> impl Fn(PolarsError) -> EwsError + '_ {
    move |e| {
        let cause = e.to_string();
        let cause = cause.lines().next().unwrap_or("unknown error");
        EwsError::io(
            path,
            std::io::Error::other(format!(
                "cannot write a partition's rows in the staging folder (TMPDIR): {cause}"
            )),
        )
    }
}

/// A staged piece of `rows` rows from columns of text under `names`, with [`LINE`] first.
pub(crate) fn piece_frame(
    lines: Vec<u64>,
    columns: Vec<(&'static str, StringChunked)>,
) -> Result<DataFrame> {
    let height = lines.len();
    let mut all = vec![Column::new(LINE.into(), lines)];
    all.extend(
        columns
            .into_iter()
            .map(|(name, values)| values.with_name(name.into()).into_column()),
    );
    Ok(DataFrame::new(height, all)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_the_partition_that_owns_the_id() {
        let ids: Vec<String> = (0..500).map(|i| format!("S{:05}", i * 7 % 1000)).collect();
        let parts = Part::split(ids.iter().map(|s| s.as_bytes()), 7);
        let probes = ids.iter().map(|s| Some(s.as_bytes())).chain([
            None,
            Some(&b""[..]),
            Some(&b"  "[..]),
            Some(&b"A"[..]),
            Some(&b"Z"[..]),
        ]);
        for id in probes {
            let k = owner(&parts, id);
            assert!(parts[k].owns(id), "{id:?} given to {k}");
            assert_eq!(parts.iter().filter(|p| p.owns(id)).count(), 1);
        }
        assert_eq!(owner(&[Part::whole()], Some(b"S1")), 0);
    }

    /// Rows given to `gathered` one at a time for the partitions of `rows_to`, each of
    /// `bytes`, writing what it says is due; returns (partition, rows) of each write, and the
    /// most bytes held after a row's writes.
    fn gather(
        gathered: &mut Gathered,
        rows_to: impl Iterator<Item = usize>,
        bytes: usize,
    ) -> (Vec<(usize, usize)>, usize) {
        let (mut writes, mut held) = (Vec::new(), 0);
        for k in rows_to {
            gathered.add(k, 1, bytes);
            while let Some(due) = gathered.due(k) {
                writes.push((due, gathered.rows[due]));
                gathered.written(due);
            }
            held = held.max(gathered.total);
        }
        (writes, held)
    }

    #[test]
    fn rows_sorted_by_student_are_written_in_whole_pieces() {
        // Two partitions' rows one after the other, well within the budget: a piece each time
        // a partition has a piece's rows, nothing else until the end.
        let mut gathered = Gathered::new(2, usize::MAX);
        let rows = std::iter::repeat_n(0, PIECE_ROWS * 2 + 5).chain(std::iter::repeat_n(1, 7));
        let (writes, _) = gather(&mut gathered, rows, 10);
        assert_eq!(writes, vec![(0, PIECE_ROWS), (0, PIECE_ROWS)]);
        assert_eq!((gathered.rows[0], gathered.rows[1]), (5, 7));
        assert_eq!(gathered.total, 12 * 10);
    }

    #[test]
    fn rows_of_every_partition_at_once_are_written_the_largest_first_within_the_budget() {
        // Rows in date order: every one of 10 partitions fills at once, 100 bytes a row, and
        // 5,000 bytes allowed. Whenever a row passes the budget, the partition holding most
        // is written (the first of equals), and no more than the budget is held after it.
        let mut gathered = Gathered::new(10, 5_000);
        let rows = (0..1_000).map(|i| i % 10);
        let (writes, held) = gather(&mut gathered, rows, 100);
        assert!(held <= 5_000, "held {held} bytes");
        // The 51st row passes 5,000 bytes with the partitions holding 6, 5, 5, ... rows: the
        // first is written. Six rows later the second holds 6, the others 5 or 0.
        assert_eq!(writes[..2], [(0, 6), (1, 6)]);
        // The largest holds more than the average, which is more than the budget over the
        // partitions: a piece is at least 6 rows here, however the rows come.
        assert!(writes.iter().all(|&(_, rows)| rows >= 6), "{writes:?}");
        // In rotation.
        let order: Vec<usize> = writes.iter().take(10).map(|w| w.0).collect();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
        let written: usize = writes.iter().map(|w| w.1).sum();
        assert_eq!(written + gathered.rows.iter().sum::<usize>(), 1_000);
        assert_eq!(gathered.total, gathered.rows.iter().sum::<usize>() * 100);
    }

    /// A staged students file at `path`: LINE, student_id and a name of `name_bytes` bytes of
    /// hex that zstd cannot shrink, one row per id (None: a row without an id).
    fn staged_students(path: &Path, ids: &[Option<&str>], name_bytes: usize) -> StagedRows {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut name = || -> String {
            (0..name_bytes)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    char::from_digit((state % 16) as u32, 16).unwrap_or('0')
                })
                .collect()
        };
        let lines: Vec<u64> = (0..ids.len() as u64).map(|i| 2 + i).collect();
        let names: Vec<String> = ids.iter().map(|_| name()).collect();
        let mut frame = piece_frame(
            lines,
            vec![
                ("student_id", ids.iter().copied().collect()),
                (
                    "first_name",
                    names.iter().map(|n| Some(n.as_str())).collect(),
                ),
            ],
        )
        .unwrap();
        let file = File::create(path).unwrap();
        ParquetWriter::new(file).finish(&mut frame).unwrap();
        StagedRows {
            path: path.to_path_buf(),
            columns: vec!["student_id", "first_name"],
            pieces: vec![(0, ids.len(), 0)],
            flags: Vec::new(),
            rejected: 0,
            raw_date_format: None,
            only: None,
        }
    }

    #[test]
    fn a_partition_with_more_staged_rows_than_a_read_may_hold_is_read_in_turns() {
        let ids: Vec<String> = (0..20).map(|i| format!("S{i:02}")).collect();
        let parts = Part::split(ids.iter().map(|s| s.as_bytes()), 2);
        let mut staging = Staging::new(&parts, 1 << 30).unwrap();
        let dir = staging.dir.path().to_path_buf();
        // The first partition holds long rows (and a row without an id, and what the reader
        // rejected while splitting); the second short ones.
        let mut first: Vec<Option<&str>> = ids[..10].iter().map(|s| Some(s.as_str())).collect();
        first.insert(3, None);
        let mut heavy = staged_students(&dir.join("a.parquet"), &first, 4_000);
        heavy.flags = vec![ReaderFlag {
            line: 99,
            column: "student_id".into(),
            value: String::new(),
            reason: "a ragged row".into(),
            replaced: false,
        }];
        heavy.rejected = 1;
        let second: Vec<Option<&str>> = ids[10..].iter().map(|s| Some(s.as_str())).collect();
        let light = staged_students(&dir.join("b.parquet"), &second, 10);
        staging.add(&crate::contract::STUDENTS, vec![heavy, light]);
        let (heavy, light) = (staging.part_peak(0), staging.part_peak(1));
        assert!(heavy > 10.0 * light, "{heavy} {light}");
        // Room for a little more than half the first partition's rows: two reads of it, one
        // of the second.
        let room = heavy * 0.6;
        staging.refine(room).unwrap();
        let reads: Vec<(usize, bool, String)> = staging
            .reads
            .iter()
            .map(|r| (r.file, r.in_turns, r.part.to_string()))
            .collect();
        assert_eq!(
            reads,
            [
                (0, true, "partition 1 of 3".to_string()),
                (0, true, "partition 2 of 3".to_string()),
                (1, false, "partition 3 of 3".to_string()),
            ]
        );
        // Each read keeps its students' rows, under their own lines; the row without an id,
        // the reader's rejects and flags are the first read's only.
        let read = |k: usize| {
            let rows = staging.read_rows(&crate::contract::STUDENTS, k).unwrap();
            let flags = (rows.flags.len(), rows.rejected);
            let batches =
                crate::ingest::parquet::ParquetBatches::staged(&crate::contract::STUDENTS, rows);
            let frame = batches.batch(0, 11).unwrap();
            let ids: Vec<Option<String>> = frame
                .column("student_id")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|id| id.map(str::to_string))
                .collect();
            let lines: Vec<u64> = frame
                .column(LINE)
                .unwrap()
                .u64()
                .unwrap()
                .into_no_null_iter()
                .collect();
            (ids, lines, flags)
        };
        let id = |s: &str| Some(s.to_string());
        let (ids0, lines0, flags0) = read(0);
        assert_eq!(
            ids0,
            [id("S00"), id("S01"), id("S02"), None, id("S03"), id("S04")]
        );
        assert_eq!(lines0, [2, 3, 4, 5, 6, 7]);
        assert_eq!(flags0, (1, 1));
        let (ids1, lines1, flags1) = read(1);
        assert_eq!(
            ids1,
            [id("S05"), id("S06"), id("S07"), id("S08"), id("S09")]
        );
        assert_eq!(lines1, [8, 9, 10, 11, 12]);
        assert_eq!(flags1, (0, 0));
        let (ids2, _, _) = read(2);
        assert_eq!(ids2.len(), 10, "the second partition in one read");
    }
}
