//! The run history, `<out>/history/`: each night's student rows (risk, tiers, candidate,
//! supports, and the follow-up state the next night carries on: [`crate::outputs::follow_up`]),
//! one Parquet partition per as-of date, so a night costs one partition and never a rewrite of
//! the others.
//!
//! Layout (Hive-style, what Spark, DataFusion or DuckDB read as a table partitioned by as_of):
//! `<out>/history/<ids>/as_of=YYYY-MM-DD/part-0.parquet`, where `<ids>` is `plain`, or
//! `key-<fingerprint>` for pseudonymized runs (the key's fingerprint, never the key), so a plain
//! run and a pseudonymized one, or two keys, never share a history. A partition is written
//! through a temporary file and a rename, with the student-level file mode; a rerun of the same
//! as-of date replaces its partition. Partitions older than `history.retain_days` are deleted
//! (data minimisation); nothing else in the folder is ever touched.
//!
//! The history has its own schema version ([`SCHEMA_VERSION`], a column of every row); a column
//! added later reads as null in older partitions ([`read`]).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::io::error::{EwsError, Result};
use crate::outputs::pseudonym::StudentIds;

/// The history's folder in `--out`.
pub const HISTORY_DIR: &str = "history";
/// The file of a partition.
pub const PARTITION_FILE: &str = "part-0.parquet";
/// Version of the history's layout: raised when a column is renamed, removed or changes type.
pub const SCHEMA_VERSION: i32 = 1;

/// The columns of a history row and their types, in order.
pub fn columns() -> Vec<(&'static str, DataType)> {
    vec![
        ("schema_version", DataType::Int32),
        ("as_of", DataType::Date),
        ("student_id", DataType::String),
        ("school_id", DataType::String),
        ("risk", DataType::Float64),
        ("raw_tier", DataType::String),
        ("tier", DataType::String),
        ("tier_pending", DataType::String),
        ("tier_pending_since", DataType::Date),
        ("candidate", DataType::Boolean),
        ("flagged_since", DataType::Date),
        ("attention_since", DataType::Date),
        ("current_supports", DataType::String),
        ("decision_status", DataType::String),
        ("decision_date", DataType::Date),
        ("decision_risk", DataType::Float64),
        ("unserved", DataType::Boolean),
    ]
}

/// The history folder of runs with these student ids.
pub fn folder(out: &Path, ids: &StudentIds) -> PathBuf {
    let name = match (&ids.pseudonymized, &ids.key_fingerprint) {
        (true, Some(fingerprint)) => format!("key-{fingerprint}"),
        _ => "plain".to_string(),
    };
    out.join(HISTORY_DIR).join(name)
}

/// The partition folder name of an as-of date.
fn partition_name(as_of: NaiveDate) -> String {
    format!("as_of={as_of}")
}

/// The partitions of a history folder, by as-of date (oldest first); none when the folder does
/// not exist. A folder that exists and cannot be listed is an error (exit 2).
pub fn partitions(folder: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    // Checked before any work: a file where the history goes is the user's, never replaced.
    for dir in [folder.parent(), Some(folder)].into_iter().flatten() {
        not_a_file(dir)?;
    }
    if !folder.exists() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(folder).map_err(|e| unreadable(folder, e))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(folder, e))?;
        let name = entry.file_name();
        let Some(date) = name
            .to_str()
            .and_then(|n| n.strip_prefix("as_of="))
            .and_then(|d| NaiveDate::parse_from_str(d, crate::contract::DATE_FORMAT).ok())
        else {
            continue;
        };
        let file = entry.path().join(PARTITION_FILE);
        if file.is_file() {
            found.push((date, file));
        }
    }
    found.sort();
    Ok(found)
}

/// Bad input (exit 2) when `path` exists and is not a folder.
fn not_a_file(path: &Path) -> Result<()> {
    if path.exists() && !path.is_dir() {
        return Err(EwsError::BadFile {
            path: path.to_path_buf(),
            message: "not a folder: the run history goes here; move the file away".into(),
        });
    }
    Ok(())
}

fn unreadable(path: &Path, e: std::io::Error) -> EwsError {
    EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!("the run history cannot be read: {e}"),
    }
}

/// The latest partition dated before `as_of` (a rerun of `as_of` reads the night before it).
pub fn previous(
    partitions: &[(NaiveDate, PathBuf)],
    as_of: NaiveDate,
) -> Option<&(NaiveDate, PathBuf)> {
    partitions.iter().rev().find(|(date, _)| *date < as_of)
}

/// The latest partition dated on or before `date`, and no more than `tolerance_days` before it.
pub fn at_or_before(
    partitions: &[(NaiveDate, PathBuf)],
    date: NaiveDate,
    tolerance_days: i64,
) -> Option<&(NaiveDate, PathBuf)> {
    partitions
        .iter()
        .rev()
        .find(|(d, _)| *d <= date)
        .filter(|(d, _)| (date - *d).num_days() <= tolerance_days)
}

/// Reads `wanted` columns of a partition; a column the partition lacks (added to the history
/// later) reads as null. A partition that cannot be read is `None`, with a warning: one bad
/// night never stops a run.
pub fn read(path: &Path, wanted: &[&str]) -> Option<DataFrame> {
    let read = || -> Result<DataFrame> {
        let file = std::fs::File::open(path).map_err(|e| EwsError::io(path, e))?;
        let frame = ParquetReader::new(file).finish()?;
        let types = columns();
        let mut out = Vec::new();
        for name in wanted {
            let dtype = types
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())
                .unwrap_or(DataType::String);
            out.push(match frame.column(name) {
                Ok(column) => column.cast(&dtype)?,
                Err(_) => Column::full_null((*name).into(), frame.height(), &dtype),
            });
        }
        Ok(DataFrame::new_infer_height(out)?)
    };
    match read() {
        Ok(frame) => Some(frame),
        Err(e) => {
            log::warn!(
                "{}: a night of the run history cannot be read, and is left out: {e}",
                path.display()
            );
            None
        }
    }
}

/// Writes the partition of `as_of` (replacing a rerun's), rows sorted by student_id: the same
/// rows give the same bytes. Folders get [`crate::io::folders::FOLDER_MODE`], the file `mode`.
pub fn write(folder: &Path, as_of: NaiveDate, frame: &mut DataFrame, mode: u32) -> Result<PathBuf> {
    let partition = folder.join(partition_name(as_of));
    not_a_file(&partition)?;
    for dir in [
        folder.parent().unwrap_or(folder).to_path_buf(),
        folder.to_path_buf(),
        partition.clone(),
    ] {
        std::fs::create_dir_all(&dir).map_err(|e| EwsError::io(&dir, e))?;
        crate::io::folders::chmod(&dir, crate::io::folders::FOLDER_MODE)
            .map_err(|e| EwsError::io(&dir, e))?;
    }
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_statistics(StatisticsOptions::empty())
        .finish(frame)?;
    let path = partition.join(PARTITION_FILE);
    crate::io::text::write_atomically(&path, &bytes, mode)?;
    Ok(path)
}

/// Deletes the partitions dated more than `retain_days` before `as_of` (their file, then their
/// folder when nothing else is in it); the number deleted.
pub fn purge(folder: &Path, as_of: NaiveDate, retain_days: u32) -> Result<usize> {
    let mut deleted = 0;
    for (date, file) in partitions(folder)? {
        if (as_of - date).num_days() <= i64::from(retain_days) {
            continue;
        }
        std::fs::remove_file(&file).map_err(|e| EwsError::io(&file, e))?;
        if let Some(dir) = file.parent() {
            // Only an empty folder goes: a file ews did not write stays, and so does its folder.
            let _ = std::fs::remove_dir(dir);
        }
        deleted += 1;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn frame(ids: &[&str], risk: &[f64]) -> DataFrame {
        df!("schema_version" => vec![SCHEMA_VERSION; ids.len()], "student_id" => ids, "risk" => risk)
            .unwrap()
    }

    #[test]
    fn partitions_are_found_replaced_read_with_later_columns_as_null_and_purged() {
        let out = tempfile::tempdir().unwrap();
        let folder = folder(out.path(), &StudentIds::of(None));
        assert!(partitions(&folder).unwrap().is_empty());
        for (date, risk) in [
            ("2026-01-05", 0.1),
            ("2026-01-06", 0.2),
            ("2026-03-01", 0.3),
        ] {
            write(
                &folder,
                day(date),
                &mut frame(&["a", "b"], &[risk, risk]),
                0o600,
            )
            .unwrap();
        }
        // A rerun replaces its night.
        write(
            &folder,
            day("2026-01-06"),
            &mut frame(&["a"], &[0.25]),
            0o600,
        )
        .unwrap();
        // Something ews did not write, beside the partitions.
        std::fs::write(folder.join("notes.txt"), "keep").unwrap();
        let found = partitions(&folder).unwrap();
        let dates: Vec<NaiveDate> = found.iter().map(|(d, _)| *d).collect();
        assert_eq!(
            dates,
            [day("2026-01-05"), day("2026-01-06"), day("2026-03-01")]
        );
        assert_eq!(
            previous(&found, day("2026-03-01")).unwrap().0,
            day("2026-01-06")
        );
        assert_eq!(
            at_or_before(&found, day("2026-01-10"), 7).unwrap().0,
            day("2026-01-06")
        );
        assert!(at_or_before(&found, day("2026-02-10"), 7).is_none());
        let night = read(&found[1].1, &["student_id", "risk", "tier"]).unwrap();
        assert_eq!(night.height(), 1);
        assert_eq!(
            night.column("risk").unwrap().f64().unwrap().get(0),
            Some(0.25)
        );
        assert_eq!(night.column("tier").unwrap().null_count(), 1);
        // Older than 40 days before 2026-03-01: the two January nights go, nothing else.
        assert_eq!(purge(&folder, day("2026-03-01"), 40).unwrap(), 2);
        assert_eq!(partitions(&folder).unwrap().len(), 1);
        assert!(folder.join("notes.txt").exists());
        // Pseudonymized runs keep a history of their own, per key.
        let key = StudentIds::of(Some(b"one key of enough bytes".as_slice()));
        assert_ne!(super::folder(out.path(), &key), folder);
    }
}
