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
use crate::ingest::staging::{FileStager, Staging};
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
    let mut staging = Staging::new(parts)?;
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

/// A file read in chunks as the checks get them, each chunk's rows written to their
/// partitions.
fn stage_frames(raw: &RawFile, stager: FileStager) -> Result<Vec<StagedRows>> {
    let split = |chunk: LazyFrame| -> Result<Vec<(usize, usize)>> {
        let frame = chunk.collect()?;
        stager.split(&frame)
    };
    let chunked = raw.read_chunks(false, &split)?;
    let order = chunked
        .chunks
        .iter()
        .flat_map(|(pieces, first_line)| pieces.iter().map(|&(k, p)| (k, p, *first_line)))
        .collect();
    let columns = raw.spec.columns().collect();
    stager.finish(order, chunked.flags, chunked.rows, columns, None)
}
