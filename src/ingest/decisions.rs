//! Counselors' decisions, read back: referral_status.csv (from the SIS, checked by its row
//! rules like every export file) and the counselor workbooks counselors return
//! (`ews score --decisions DIR`), whose decision columns the workbook leaves room for.
//!
//! A returned workbook is a file a person edited: a row may hold a status the contract does not
//! know, a date Excel stored as a number, or a reason without a status. Every such row is a
//! rejected row of "returned workbooks" (rejects.csv names the workbook and sheet, the row and
//! the column); a row with no decision entered is no decision, never a reject. Both sources
//! give one frame: student_id, status, date, reason, by, source.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use chrono::NaiveDate;
use polars::prelude::*;

use crate::contract::{DECISION_COLUMNS, DECISION_STATUSES, WORKBOOK_LISTS};
use crate::ingest::partition::Part;
use crate::ingest::quality::{FileQuality, QualityReport, Rejected};
use crate::ingest::student_index::StudentIndex;
use crate::io::error::{EwsError, Result};

pub use crate::contract::RETURNED_WORKBOOKS;

/// Where a decision was read from: on the same date, a returned workbook (the counselor's own
/// entry) wins over referral_status.csv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    ReferralStatus,
    Workbook,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::ReferralStatus => crate::contract::REFERRAL_STATUS.name,
            Source::Workbook => "workbook",
        }
    }
}

/// Name of the column with a decision's [`Source`] (its `as_str`).
pub const SOURCE: &str = "source";

/// referral_status.csv's checked rows with their source.
pub fn with_source(rows: DataFrame, source: Source) -> Result<DataFrame> {
    Ok(rows
        .lazy()
        .select([
            col("student_id").cast(DataType::String),
            col("status").cast(DataType::String),
            col("date"),
            col("reason").cast(DataType::String),
            col("by").cast(DataType::String),
            lit(source.as_str()).alias(SOURCE),
        ])
        .collect()?)
}

/// Every source's decisions as one frame; `None` when there is no source.
pub fn union(frames: Vec<DataFrame>) -> Result<Option<DataFrame>> {
    let mut frames = frames.into_iter();
    let Some(mut all) = frames.next() else {
        return Ok(None);
    };
    for frame in frames {
        all.vstack_mut(&frame)?;
    }
    Ok(Some(all))
}

/// The decisions of every workbook (`*.xlsx`) in `dir`, checked; rejected rows go to
/// `quality` under [`RETURNED_WORKBOOKS`]. An unreadable workbook fails the run (exit 2),
/// naming it; a list without the decision columns is a warning. Only the rows of `part`'s
/// students are read (every partition reads the folder).
pub fn read_workbooks(
    dir: &Path,
    enrolled: &StudentIndex,
    part: &Part,
    quality: &mut QualityReport,
) -> Result<DataFrame> {
    // A folder the user named: not there, or not readable, is bad input (exit 2).
    let unreadable = |message: String| EwsError::BadFile {
        path: dir.to_path_buf(),
        message,
    };
    if !dir.is_dir() {
        return Err(unreadable(
            "no such folder of returned workbooks (--decisions)".into(),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        unreadable(format!(
            "the folder of returned workbooks cannot be read: {e}"
        ))
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| {
                unreadable(format!(
                    "the folder of returned workbooks cannot be read: {e}"
                ))
            })?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Excel's lock files (`~$S01.xlsx`) are not workbooks.
        if path.is_file() && name.ends_with(".xlsx") && !name.starts_with("~$") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut read = Decisions::default();
    let mut rejects: Vec<DataFrame> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for path in &paths {
        read_workbook(path, enrolled, part, &mut read, &mut rejects, &mut problems)?;
    }
    let mut file = FileQuality::new(RETURNED_WORKBOOKS, dir.to_path_buf(), read.rows_read);
    file.out_of_scope = read.out_of_scope;
    quality.push(file, DataFrame::empty());
    for frame in rejects {
        quality.add_rejects(RETURNED_WORKBOOKS, frame);
    }
    for problem in problems {
        quality.add_problem(RETURNED_WORKBOOKS, false, problem);
    }
    if paths.is_empty() {
        quality.add_problem(
            RETURNED_WORKBOOKS,
            false,
            "no workbook (*.xlsx) in the --decisions folder".to_string(),
        );
    }
    log::info!(
        "{}: {} workbooks, {} decisions",
        dir.display(),
        paths.len(),
        read.ids.len()
    );
    let n = read.dates.len();
    Ok(df!(
        "student_id" => read.ids,
        "status" => read.statuses,
        "date" => read.dates,
        "reason" => read.reasons,
        "by" => vec![None::<String>; n],
        SOURCE => vec![Source::Workbook.as_str(); n],
    )?)
}

/// The accepted decisions of the workbooks read so far, column by column.
#[derive(Default)]
struct Decisions {
    ids: Vec<String>,
    statuses: Vec<String>,
    dates: Vec<NaiveDate>,
    reasons: Vec<Option<String>>,
    rows_read: u64,
    out_of_scope: u64,
}

fn read_workbook(
    path: &Path,
    enrolled: &StudentIndex,
    part: &Part,
    read: &mut Decisions,
    rejects: &mut Vec<DataFrame>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let unreadable = |e: &dyn std::fmt::Display| EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!("not a readable workbook (.xlsx): {e}"),
    };
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| unreadable(&e))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    for sheet in WORKBOOK_LISTS {
        if !workbook.sheet_names().iter().any(|s| s == sheet) {
            continue;
        }
        let range = workbook
            .worksheet_range(sheet)
            .map_err(|e| unreadable(&e))?;
        let mut rows = range.rows();
        let Some(header) = rows.next() else {
            continue;
        };
        let position = |name: &str| header.iter().position(|c| text(c).as_deref() == Some(name));
        let (Some(id_at), Some(status_at)) =
            (position("student_id"), position(DECISION_COLUMNS[0]))
        else {
            problems.push(format!(
                "{name}, sheet {sheet}: no student_id or {} column in the first row; no decision read from it",
                DECISION_COLUMNS[0]
            ));
            continue;
        };
        let date_at = position(DECISION_COLUMNS[1]);
        let reason_at = position(DECISION_COLUMNS[2]);
        let mut rejected: Vec<Rejected> = Vec::new();
        // The header is the sheet's first row; a cell's line is its row number in Excel.
        let first_line = range.start().map(|(r, _)| r as u64 + 1).unwrap_or(1);
        for (k, row) in rows.enumerate() {
            let line = first_line + 1 + k as u64;
            let cell = |at: Option<usize>| at.and_then(|a| row.get(a)).and_then(text);
            let (id, status) = (cell(Some(id_at)), cell(Some(status_at)));
            let (date_cell, reason) = (date_at.and_then(|a| row.get(a)), cell(reason_at));
            let date_text = date_at.and_then(|a| row.get(a)).and_then(text);
            // Every row names a student; only one with a decision cell filled is read.
            if status.is_none() && date_text.is_none() && reason.is_none() {
                continue;
            }
            // Another partition's student: read there.
            if !part.owns(id.as_deref().map(str::as_bytes)) {
                continue;
            }
            read.rows_read += 1;
            let mut reject = |column: &'static str, value: Option<String>, reason: String| {
                rejected.push(Rejected {
                    line,
                    column,
                    value: value.unwrap_or_default(),
                    reason,
                })
            };
            let Some(status) = status else {
                if date_text.is_some() || reason.is_some() {
                    reject(
                        DECISION_COLUMNS[0],
                        None,
                        "a decision date or reason without a decision_status".into(),
                    );
                }
                continue;
            };
            let Some(id) = id else {
                reject("student_id", None, crate::contract::MISSING_REASON.into());
                continue;
            };
            if !DECISION_STATUSES.contains(&status.as_str()) {
                reject(
                    DECISION_COLUMNS[0],
                    Some(status),
                    format!(
                        "unknown decision status (expected one of {})",
                        DECISION_STATUSES.join(", ")
                    ),
                );
                continue;
            }
            let Some(date) = date_cell.and_then(excel_date) else {
                reject(
                    DECISION_COLUMNS[1],
                    date_text,
                    "missing or unreadable decision date (expected a date, YYYY-MM-DD)".into(),
                );
                continue;
            };
            if enrolled.is_out_of_scope(id.as_bytes()) {
                read.out_of_scope += 1;
                continue;
            }
            if !enrolled.contains(&id) {
                reject(
                    "student_id",
                    Some(id),
                    crate::contract::NOT_ENROLLED_REASON.into(),
                );
                continue;
            }
            read.ids.push(id);
            read.statuses.push(status);
            read.dates.push(date);
            read.reasons.push(reason);
        }
        if !rejected.is_empty() {
            let file = format!("{name} ({sheet})");
            rejects.push(crate::ingest::quality::rejected_frame(&file, &rejected)?);
        }
    }
    Ok(())
}

/// A cell as trimmed text (`None` when empty). A whole number is written without a
/// fraction: an id typed into a number cell (`102158`) reads as the text `102158`.
fn text(cell: &Data) -> Option<String> {
    let value = match cell {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_f64().to_string(),
    };
    (!value.is_empty()).then_some(value)
}

/// A decision date: an Excel date (or a number Excel stores for one), or text in the
/// contract's format (YYYY-MM-DD).
fn excel_date(cell: &Data) -> Option<NaiveDate> {
    let serial = match cell {
        Data::DateTime(d) => d.as_f64(),
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        Data::String(s) | Data::DateTimeIso(s) => {
            let s = s.trim();
            let day = s.get(..10).unwrap_or(s);
            return NaiveDate::parse_from_str(day, crate::contract::DATE_FORMAT).ok();
        }
        _ => return None,
    };
    // Excel's day 1 is 1900-01-01, counted from 1899-12-30 for its 1900 leap-year bug; beyond
    // 9999-12-31 is no date.
    if !(1.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(serial as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_dates_read_as_stored_or_typed() {
        // 46000 is 2025-12-09 in Excel's 1900 system.
        let day = NaiveDate::from_ymd_opt(2025, 12, 9);
        assert_eq!(excel_date(&Data::Float(46000.0)), day);
        assert_eq!(excel_date(&Data::Int(46000)), day);
        assert_eq!(excel_date(&Data::String("2025-12-09".into())), day);
        assert_eq!(excel_date(&Data::String("2025-12-09T00:00:00".into())), day);
        assert_eq!(excel_date(&Data::String("12/09/2025".into())), None);
        assert_eq!(excel_date(&Data::Float(-3.0)), None);
        assert_eq!(excel_date(&Data::Empty), None);
    }

    #[test]
    fn ids_typed_as_numbers_read_without_a_fraction() {
        assert_eq!(text(&Data::Float(102158.0)).as_deref(), Some("102158"));
        assert_eq!(
            text(&Data::String("  00102158 ".into())).as_deref(),
            Some("00102158")
        );
        assert_eq!(text(&Data::String("   ".into())), None);
        assert_eq!(text(&Data::Empty), None);
    }
}
