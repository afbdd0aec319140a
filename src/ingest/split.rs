//! A snapshot split once into partitions of students, so that each partition reads only its
//! own rows (docs/performance.md, "Partitions of students").
//!
//! Without this, every partition would read every file whole and leave the other partitions'
//! rows: at a state's size, thirty partitions would each read two billion attendance rows.
//! Here each file is read once, by the same readers as always, and each row written to its
//! partition's file in the staging folder ([`crate::ingest::staging`]): the rows as the checks
//! get them, with the line they came from, in line order. Every check, count and reject is
//! then the same as when the export is read in one piece.
//!
//! What the reader rejects while splitting (a ragged row, bytes that are not text) is listed
//! by the first partition, as rows without a student are. attendance.csv is staged as the
//! export wrote it (its date format and codes), since its row parser reads the export's own
//! text; every other file as canonical text.

use polars::prelude::*;

use crate::config::Config;
use crate::contract::ALL_FILES;
use crate::ingest::attendance;
use crate::ingest::input::{RawFile, Snapshot};
use crate::ingest::parquet::StagedRows;
use crate::ingest::partition::Part;
use crate::ingest::staging::{owner, FileStager, Gathered, Staging};
use crate::ingest::PartWorker;
use crate::io::error::Result;

/// Splits every file of `snapshot` that names students into `parts`, in a new staging folder
/// (a file without a student_id column, such as calendar.csv, is read whole by each
/// partition). `with_outcomes`: outcomes.csv too.
pub fn stage(
    snapshot: &Snapshot,
    config: &Config,
    parts: &[Part],
    with_outcomes: bool,
) -> Result<Staging> {
    let snapshot = snapshot.clone().with_mapping(config.input.clone());
    let mut staging = Staging::new(parts, config.performance.max_memory)?;
    // The passes over attendance read school_id when the run has membership days (both
    // files, not empty), and so does the split.
    let with_school = snapshot
        .scan_optional(&crate::contract::ENROLLMENT)?
        .is_some()
        && snapshot
            .scan_optional(&crate::contract::CALENDAR)?
            .is_some();
    for spec in ALL_FILES {
        let by_student = spec.columns().any(|c| c == "student_id");
        if !by_student || (spec.name == crate::contract::OUTCOMES.name && !with_outcomes) {
            continue;
        }
        let Some(raw) = snapshot.scan_optional(spec)? else {
            continue;
        };
        let started = std::time::Instant::now();
        let stager = staging.stager(spec);
        let staged = match spec.name == crate::contract::ATTENDANCE.name {
            true => attendance::stage(&raw, with_school, stager)?,
            false => stage_frames(&raw, stager)?,
        };
        // With the memory: which file's split makes the staging stage's peak.
        log::info!(
            "staged {} in {} partitions: {:.2} s{}",
            spec.name,
            parts.len(),
            started.elapsed().as_secs_f64(),
            crate::io::progress::peak_memory_note()
        );
        staging.add(spec, staged);
    }
    log::info!(
        "staged the files in {} partitions: {} MiB in the staging folder",
        parts.len(),
        staging.bytes() >> 20
    );
    Ok(staging)
}

/// A file read in chunks as the checks get them, each part's rows gathered by partition and
/// written in pieces ([`FrameSplitter`]).
fn stage_frames(raw: &RawFile, stager: FileStager) -> Result<Vec<StagedRows>> {
    let parts = raw.read_parts(false, || FrameSplitter::new(&stager))?;
    let order = parts
        .chunks
        .iter()
        .flat_map(|(pieces, first_line)| pieces.iter().map(|&(k, p)| (k, p, *first_line)))
        .collect();
    let columns = raw.spec.columns().collect();
    stager.finish(order, parts.flags, parts.rows, columns, None)
}

/// One worker's part of a file: each chunk's rows taken by partition and gathered, and a
/// partition's rows written as a piece when [`Gathered`] says (a piece's rows, or the
/// worker's share of the memory full). Returns the pieces written, as (partition, piece), in
/// the order written: a partition's pieces are in line order.
struct FrameSplitter<'s> {
    stager: &'s FileStager<'s>,
    /// Per partition: the rows gathered, in line order.
    frames: Vec<Vec<DataFrame>>,
    gathered: Gathered,
    written: Vec<(usize, usize)>,
}

impl<'s> FrameSplitter<'s> {
    fn new(stager: &'s FileStager<'s>) -> FrameSplitter<'s> {
        let parts = stager.parts.len();
        FrameSplitter {
            stager,
            frames: vec![Vec::new(); parts],
            gathered: Gathered::new(parts, stager.gathered_bytes),
            written: Vec::new(),
        }
    }

    /// Writes partition `k`'s gathered rows as one piece.
    fn write(&mut self, k: usize) -> Result<()> {
        let mut frames = std::mem::take(&mut self.frames[k]).into_iter();
        let Some(mut piece) = frames.next() else {
            return Ok(());
        };
        for frame in frames {
            piece.vstack_mut_owned(frame)?;
        }
        self.written.push((k, self.stager.write(k, &mut piece)?));
        self.gathered.written(k);
        Ok(())
    }
}

impl PartWorker for FrameSplitter<'_> {
    type Out = Vec<(usize, usize)>;

    fn chunk(&mut self, frame: LazyFrame) -> Result<()> {
        let frame = frame.collect()?;
        if frame.height() == 0 {
            return Ok(());
        }
        let ids = frame.column("student_id")?.str()?;
        let mut rows_of: Vec<Vec<IdxSize>> = vec![Vec::new(); self.stager.parts.len()];
        for (i, id) in ids.iter().enumerate() {
            rows_of[owner(self.stager.parts, id.map(str::as_bytes))].push(i as IdxSize);
        }
        for (k, rows) in rows_of.into_iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let piece = own_text(frame.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows))?)?;
            // A text value's view is 16 bytes, beside what its text takes past 12 bytes
            // (which `estimated_size` gives, with the inline texts: an overestimate).
            let bytes = piece.height() * 16 * piece.width() + piece.estimated_size();
            self.gathered.add(k, piece.height(), bytes);
            self.frames[k].push(piece);
            while let Some(due) = self.gathered.due(k) {
                self.write(due)?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Self::Out> {
        for k in 0..self.frames.len() {
            self.write(k)?;
        }
        Ok(self.written)
    }
}

/// `frame` with its text columns' long values copied out of the buffers they share with the
/// chunk they were taken from, so that a gathered piece holds its own rows, not the chunk's.
fn own_text(frame: DataFrame) -> Result<DataFrame> {
    let height = frame.height();
    let columns = frame
        .into_columns()
        .into_iter()
        .map(|column| -> Result<Column> {
            let Ok(text) = column.str() else {
                return Ok(column);
            };
            let owned = text
                .downcast_iter()
                .map(|array| match array.total_buffer_len() {
                    0 => array.clone(),
                    _ => array.clone().gc(),
                });
            Ok(StringChunked::from_chunk_iter(column.name().clone(), owned).into_column())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DataFrame::new(height, columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_taken_from_a_chunk_holds_its_own_texts_only() {
        // Long texts (past 12 bytes) live in the chunk's buffers; a piece of two rows taken
        // from it shares them until its texts are its own.
        let titles: Vec<String> = (0..1_000)
            .map(|i| format!("Integrated Mathematics section {i:04}"))
            .collect();
        let chunk = df!(
            "student_id" => (0..1_000).map(|i| format!("S{i}")).collect::<Vec<_>>(),
            "course_title" => titles.clone(),
        )
        .unwrap();
        let rows = IdxCa::from_vec(PlSmallStr::EMPTY, vec![3, 997]);
        let taken = chunk.take(&rows).unwrap();
        let buffers = |frame: &DataFrame| -> usize {
            let text = frame.column("course_title").unwrap().str().unwrap();
            text.downcast_iter().map(|a| a.total_buffer_len()).sum()
        };
        assert!(
            buffers(&taken) > 30_000,
            "the piece shares the chunk's buffer"
        );
        let own = own_text(taken).unwrap();
        assert_eq!(buffers(&own), titles[3].len() + titles[997].len());
        let text = own.column("course_title").unwrap().str().unwrap();
        let values: Vec<_> = text.iter().flatten().collect();
        assert_eq!(values, vec![titles[3].as_str(), titles[997].as_str()]);
        let ids = own.column("student_id").unwrap().str().unwrap();
        assert_eq!(ids.iter().flatten().collect::<Vec<_>>(), vec!["S3", "S997"]);
    }
}
