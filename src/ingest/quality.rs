//! The data-quality report and gate.
//!
//! Every row that is read is accounted for: accepted, rejected (with file, line, column, value
//! and reason in rejects.csv), accepted with a value left blank, or ignored because it is not
//! a feature as of the date (e.g. dated after the as-of date). The gate refuses to publish a
//! referral list when too large a share of a file was rejected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::ingest::LINE;
use crate::io::error::{EwsError, Result};

/// Rows of an input file that were read but not used, by reason (never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IgnoredRows {
    pub file: &'static str,
    pub reason: &'static str,
    pub rows: u64,
}

/// What happened to a row that failed a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Action {
    /// The row is not used.
    Reject,
    /// The row is used, the value is left blank.
    IgnoreValue,
    /// Nothing is dropped; worth a look (e.g. a student without attendance).
    Warn,
    /// The row is used; a free-text value had bytes that are not text, replaced by U+FFFD.
    Replace,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Reject => "row rejected",
            Action::IgnoreValue => "value ignored",
            Action::Warn => "warning",
            Action::Replace => "replaced",
        }
    }
}

/// Row counts of one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileQuality {
    pub file: &'static str,
    pub path: PathBuf,
    pub rows_read: u64,
    /// Rows per (action, reason), from rejects.csv.
    pub flagged: BTreeMap<(String, String), u64>,
    /// Valid rows that are not features as of the date, per reason.
    pub ignored: BTreeMap<String, u64>,
    /// What is wrong with the file as a whole (no rows where rows are needed…).
    pub problems: Vec<FileProblem>,
    /// Rows of students outside `scope.grades`: skipped, never rejected, never in the gate.
    pub out_of_scope: u64,
}

/// A problem of a whole file: one that fails the gate, or a warning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileProblem {
    pub fails_gate: bool,
    pub reason: String,
}

impl FileQuality {
    /// Adds the same file's counts of another partition; a problem of the whole file is
    /// kept once.
    pub fn add(&mut self, other: FileQuality) {
        self.rows_read += other.rows_read;
        for (key, rows) in other.flagged {
            *self.flagged.entry(key).or_insert(0) += rows;
        }
        for (reason, rows) in other.ignored {
            *self.ignored.entry(reason).or_insert(0) += rows;
        }
        for problem in other.problems {
            if !self.problems.contains(&problem) {
                self.problems.push(problem);
            }
        }
        self.out_of_scope += other.out_of_scope;
    }

    pub fn new(file: &'static str, path: PathBuf, rows_read: u64) -> FileQuality {
        FileQuality {
            file,
            path,
            rows_read,
            flagged: BTreeMap::new(),
            ignored: BTreeMap::new(),
            problems: Vec::new(),
            out_of_scope: 0,
        }
    }

    fn count(&self, action: Action) -> u64 {
        self.flagged
            .iter()
            .filter(|((a, _), _)| a == action.as_str())
            .map(|(_, n)| n)
            .sum()
    }

    pub fn rejected(&self) -> u64 {
        self.count(Action::Reject)
    }

    pub fn accepted(&self) -> u64 {
        self.rows_read
            .saturating_sub(self.rejected())
            .saturating_sub(self.out_of_scope)
    }

    /// The share of the rows in scope that were rejected.
    pub fn rejected_share(&self) -> f64 {
        let in_scope = self.rows_read.saturating_sub(self.out_of_scope);
        if in_scope == 0 {
            0.0
        } else {
            self.rejected() as f64 / in_scope as f64
        }
    }
}

/// The columns of flagged rows (rejects.csv's layout) selected from a checked frame of `file`:
/// the line, and the column, value and reason as expressions.
pub(crate) fn flag_columns(
    file: &'static str,
    column: Expr,
    value: Expr,
    reason: Expr,
    action: Action,
) -> Vec<Expr> {
    vec![
        lit(file).alias("file"),
        col(LINE).cast(DataType::UInt64).alias("line"),
        column.alias("column"),
        value.alias("value"),
        reason.alias("reason"),
        lit(action.as_str()).alias("action"),
    ]
}

/// Column of a file's place in the report while rejects.csv is sorted.
const FILE_RANK: &str = "__file_rank";

/// The data-quality report of a run.
#[derive(Debug, Default)]
pub struct QualityReport {
    pub files: Vec<FileQuality>,
    /// rejects.csv: file, line, column, value, reason, action.
    pub rejects: Vec<DataFrame>,
    /// Optional files the snapshot does not have (or has with no byte at all).
    pub absent: Vec<&'static str>,
    /// Files the export does not carry (`input.not_exported`), present with a header only.
    pub not_exported: Vec<&'static str>,
}

/// data_quality.csv's reason for a file the export does not carry.
pub const NOT_EXPORTED_REASON: &str =
    "input.not_exported: the export has no such records; the features from the file are unknown for every student, never read as zero";

/// One row of rejects.csv, borrowed from whichever check found it.
pub struct RejectRow<'a> {
    pub line: u64,
    pub column: &'a str,
    pub value: Option<&'a str>,
    pub reason: &'a str,
    pub action: Action,
}

/// A row rejected after the row rules (an enrollment span, a returned workbook's row): its
/// line, column, value (for rejects.csv only) and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub line: u64,
    pub column: &'static str,
    pub value: String,
    pub reason: String,
}

/// rejects.csv rows of [`Rejected`] rows of one file (`row rejected`).
pub fn rejected_frame(file: &str, rows: &[Rejected]) -> Result<DataFrame> {
    rejects_frame(
        file,
        rows.iter().map(|r| RejectRow {
            line: r.line,
            column: r.column,
            value: Some(&r.value),
            reason: &r.reason,
            action: Action::Reject,
        }),
    )
}

/// rejects.csv rows of one file as a frame: file, line, column, value, reason, action.
pub fn rejects_frame<'a>(
    file: &str,
    rows: impl ExactSizeIterator<Item = RejectRow<'a>>,
) -> Result<DataFrame> {
    let n = rows.len();
    let (mut lines, mut columns, mut values, mut reasons, mut actions) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for row in rows {
        lines.push(row.line);
        columns.push(row.column);
        values.push(row.value);
        reasons.push(row.reason);
        actions.push(row.action.as_str());
    }
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("file".into(), vec![file; n]),
            Column::new("line".into(), lines),
            Column::new("column".into(), columns),
            Column::new("value".into(), values),
            Column::new("reason".into(), reasons),
            Column::new("action".into(), actions),
        ],
    )?)
}

/// rejects.csv rows of what the reader itself flagged: malformed rows (rejected) and free-text
/// values whose invalid bytes were replaced. A file with bytes that are not UTF-8 also gets one
/// warning in the run log, with the hint to say it is Windows-1252.
pub fn reader_rejects(
    file: &str,
    flags: &[crate::ingest::reader::ReaderFlag],
) -> Result<DataFrame> {
    let not_text = flags
        .iter()
        .filter(|f| f.reason.contains(crate::ingest::reader::ENCODING_HINT))
        .count();
    if not_text > 0 {
        log::warn!(
            "{file}: {not_text} values are not valid UTF-8 (see rejects.csv); {}",
            crate::ingest::reader::ENCODING_HINT
        );
    }
    rejects_frame(
        file,
        flags.iter().map(|f| RejectRow {
            line: f.line,
            column: &f.column,
            value: Some(&f.value),
            reason: &f.reason,
            action: match f.replaced {
                true => Action::Replace,
                false => Action::Reject,
            },
        }),
    )
}

/// An empty frame with the columns of rejects.csv.
pub fn empty_rejects() -> DataFrame {
    let text = |name: &str| Column::new_empty(name.into(), &DataType::String);
    DataFrame::new_infer_height(vec![
        text("file"),
        Column::new_empty("line".into(), &DataType::UInt64),
        text("column"),
        text("value"),
        text("reason"),
        text("action"),
    ])
    .unwrap_or_default()
}

/// Why the gate failed for one file.
#[derive(Debug, Clone, Serialize)]
pub struct GateFailure {
    pub file: &'static str,
    pub reason: String,
}

impl std::fmt::Display for GateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.reason)
    }
}

impl QualityReport {
    /// Adds a file's counts and its rejects.
    pub fn push(&mut self, file: FileQuality, rejects: DataFrame) {
        self.files.push(file);
        let name = self.files.last().map(|f| f.file).unwrap_or_default();
        self.add_rejects(name, rejects);
    }

    /// Adds the report of the next partition of students ([`crate::ingest::partition`]):
    /// counts are summed, problems of the whole file kept once, rejects listed (rejects.csv
    /// is sorted by file and line when written).
    pub fn merge(&mut self, part: QualityReport) {
        for file in part.files {
            match self.files.iter_mut().find(|f| f.file == file.file) {
                Some(known) => known.add(file),
                None => self.files.push(file),
            }
        }
        self.rejects.extend(part.rejects);
        for file in part.absent {
            if !self.absent.contains(&file) {
                self.absent.push(file);
            }
        }
        for file in part.not_exported {
            if !self.not_exported.contains(&file) {
                self.not_exported.push(file);
            }
        }
    }

    /// Adds rejects (or warnings) of a file already in the report.
    pub fn add_rejects(&mut self, file: &str, rejects: DataFrame) {
        if let Some(quality) = self.files.iter_mut().find(|f| f.file == file) {
            if let (Ok(actions), Ok(reasons)) = (rejects.column("action"), rejects.column("reason"))
            {
                if let (Ok(actions), Ok(reasons)) = (actions.str(), reasons.str()) {
                    for (action, reason) in actions.iter().zip(reasons.iter()) {
                        let key = (
                            action.unwrap_or("").to_string(),
                            reason.unwrap_or("").to_string(),
                        );
                        *quality.flagged.entry(key).or_insert(0) += 1;
                    }
                }
            }
        }
        if rejects.height() > 0 {
            self.rejects.push(rejects);
        }
    }

    /// Adds the rows the features left out (after the as-of date, other school years).
    pub fn add_ignored(&mut self, ignored: &[IgnoredRows]) {
        for row in ignored {
            if let Some(quality) = self.files.iter_mut().find(|f| f.file == row.file) {
                *quality.ignored.entry(row.reason.to_string()).or_insert(0) += row.rows;
            }
        }
    }

    /// Adds a problem of a whole file already in the report.
    pub fn add_problem(&mut self, file: &str, fails_gate: bool, reason: String) {
        if let Some(quality) = self.files.iter_mut().find(|f| f.file == file) {
            quality.problems.push(FileProblem { fails_gate, reason });
        }
    }

    /// Files whose rejected share is above the configured limit, and files with a problem
    /// that fails the gate (an empty file where rows are needed).
    pub fn gate(&self, config: &Config) -> Vec<GateFailure> {
        let mut failures = Vec::new();
        for f in &self.files {
            let limit = config.quality.max_rejected_share(f.file);
            if f.rejected_share() > limit {
                failures.push(GateFailure {
                    file: f.file,
                    reason: format!(
                        "{} of {} rows rejected ({:.2}%, limit {:.2}%)",
                        f.rejected(),
                        f.rows_read,
                        100.0 * f.rejected_share(),
                        100.0 * limit
                    ),
                });
            }
            for problem in f.problems.iter().filter(|p| p.fails_gate) {
                failures.push(GateFailure {
                    file: f.file,
                    reason: problem.reason.clone(),
                });
            }
        }
        failures
    }

    /// Whether anything was rejected, replaced, left blank or flagged (exit code 1 when the
    /// gate passes).
    pub fn has_warnings(&self) -> bool {
        self.files
            .iter()
            .any(|f| !f.flagged.is_empty() || !f.problems.is_empty())
    }

    /// data_quality.csv: one row per file and category (read, accepted, rejected, value
    /// ignored, warning, ignored), with the reason for the last four.
    pub fn write_summary_csv(&self, path: &Path) -> Result<()> {
        let io = |e: csv::Error| EwsError::io(path, std::io::Error::other(e));
        let mut writer = csv::Writer::from_path(path).map_err(io)?;
        writer
            .write_record(["file", "category", "reason", "rows"])
            .map_err(io)?;
        for f in &self.files {
            writer
                .write_record([f.file, "read", "", &f.rows_read.to_string()])
                .map_err(io)?;
            writer
                .write_record([f.file, "accepted", "", &f.accepted().to_string()])
                .map_err(io)?;
            if f.out_of_scope > 0 {
                writer
                    .write_record([
                        f.file,
                        "out of scope",
                        "student outside scope.grades (skipped, not rejected)",
                        &f.out_of_scope.to_string(),
                    ])
                    .map_err(io)?;
            }
            for ((action, reason), rows) in &f.flagged {
                writer
                    .write_record([f.file, action, reason, &rows.to_string()])
                    .map_err(io)?;
            }
            for (reason, rows) in &f.ignored {
                writer
                    .write_record([f.file, "ignored", reason, &rows.to_string()])
                    .map_err(io)?;
            }
            for problem in &f.problems {
                let category = match problem.fails_gate {
                    true => "gate failure",
                    false => "warning",
                };
                writer
                    .write_record([f.file, category, &problem.reason, "0"])
                    .map_err(io)?;
            }
        }
        for file in &self.absent {
            writer
                .write_record([file, "absent", "optional file not in the snapshot", "0"])
                .map_err(io)?;
        }
        for file in &self.not_exported {
            writer
                .write_record([file, "not exported", NOT_EXPORTED_REASON, "0"])
                .map_err(io)?;
        }
        writer.flush().map_err(|e| EwsError::io(path, e))
    }

    /// rejects.csv: every flagged row, by file and line.
    pub fn write_rejects_csv(&self, path: &Path) -> Result<()> {
        let mut all = empty_rejects();
        for part in &self.rejects {
            all.vstack_mut(part)?;
        }
        let all = self.in_file_order(all)?;
        // The offending values come from the export: neutralise formulas for spreadsheets.
        crate::io::text::write_safe_csv(path, &all)
    }

    /// rejects.csv's order: by file, in the order they were read (files that are not the
    /// export's, the returned workbooks' sheets, after them by name), then by line; rows of
    /// one line in the order they were found. The order does not depend on how the students
    /// were partitioned.
    fn in_file_order(&self, all: DataFrame) -> Result<DataFrame> {
        let files = all.column("file")?.str()?;
        let mut others: Vec<&str> = files
            .iter()
            .flatten()
            .filter(|name| !self.files.iter().any(|f| f.file == *name))
            .collect();
        others.sort_unstable();
        others.dedup();
        let rank: UInt32Chunked = files
            .iter()
            .map(|name| {
                let name = name.unwrap_or_default();
                let rank = match self.files.iter().position(|f| f.file == name) {
                    Some(k) => k,
                    None => self.files.len() + others.binary_search(&name).unwrap_or(0),
                };
                Some(rank as u32)
            })
            .collect();
        let mut all = all;
        all.with_column(rank.with_name(FILE_RANK.into()).into_column())?;
        let sorted = all.sort(
            [FILE_RANK, "line"],
            SortMultipleOptions::default()
                .with_maintain_order(true)
                .with_nulls_last(true),
        )?;
        Ok(sorted.drop(FILE_RANK)?)
    }

    /// Writes data_quality.csv and rejects.csv into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        self.write_summary_csv(&dir.join("data_quality.csv"))?;
        self.write_rejects_csv(&dir.join("rejects.csv"))
    }

    /// The lines of the run summary about data quality.
    pub fn summary_lines(&self, config: &Config) -> Vec<String> {
        let mut lines = Vec::new();
        // The contract's longest file name sets the column.
        let width = crate::contract::ALL_FILES
            .iter()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(15);
        for f in &self.files {
            let rejected = f.rejected();
            lines.push(format!(
                "  {:<width$} {:>10} rows read, {:>8} rejected ({:.2}%, limit {:.2}%)",
                f.file,
                f.rows_read,
                rejected,
                100.0 * f.rejected_share(),
                100.0 * config.quality.max_rejected_share(f.file)
            ));
            if f.out_of_scope > 0 {
                lines.push(format!(
                    "      {:>9} out of scope: students outside scope.grades (skipped)",
                    f.out_of_scope
                ));
            }
            for ((action, reason), rows) in &f.flagged {
                lines.push(format!("      {rows:>9} {action}: {reason}"));
            }
            for (reason, rows) in &f.ignored {
                lines.push(format!("      {rows:>9} ignored: {reason}"));
            }
            for problem in &f.problems {
                let kind = match problem.fails_gate {
                    true => "fails the gate",
                    false => "warning",
                };
                lines.push(format!("      {kind}: {}", problem.reason));
            }
        }
        for file in &self.absent {
            lines.push(format!("  {file:<width$} absent (optional)"));
        }
        for file in &self.not_exported {
            lines.push(format!("  {file:<width$} not exported (input.not_exported): the features from it are unknown"));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rejects frame of `n` rows of one action and reason.
    fn flagged(n: usize, action: Action, reason: &str) -> DataFrame {
        df!(
            "action" => vec![action.as_str(); n],
            "reason" => vec![reason; n],
        )
        .unwrap()
    }

    fn report(rows: u64, rejected: usize) -> QualityReport {
        let mut report = QualityReport::default();
        report.push(
            FileQuality::new("grades.csv", PathBuf::from("grades.csv"), rows),
            flagged(rejected, Action::Reject, "unknown mark"),
        );
        report
    }

    #[test]
    fn the_gate_fails_above_the_share_of_rejected_rows_and_not_at_it() {
        let config = Config::default();
        // Default limit 1%: 10 of 1,000 rows is at the limit, 11 above it.
        assert!(report(1000, 10).gate(&config).is_empty());
        let failures = report(1000, 11).gate(&config);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].file, "grades.csv");
        assert_eq!(
            failures[0].reason,
            "11 of 1000 rows rejected (1.10%, limit 1.00%)"
        );
        // A file without rows has no share to fail on.
        assert!(report(0, 0).gate(&config).is_empty());
    }

    #[test]
    fn only_rejected_rows_count_against_the_gate_and_every_flag_is_a_warning() {
        let config = Config::default();
        let mut quality = report(100, 1);
        quality.add_rejects(
            "grades.csv",
            flagged(30, Action::IgnoreValue, "bad percent"),
        );
        quality.add_rejects("grades.csv", flagged(5, Action::Replace, "invalid UTF-8"));
        let file = &quality.files[0];
        assert_eq!((file.rejected(), file.accepted()), (1, 99));
        assert!(quality.gate(&config).is_empty());
        assert!(quality.has_warnings());
        assert!(!report(100, 0).has_warnings());
    }

    #[test]
    fn a_problem_of_a_whole_file_fails_the_gate_only_when_it_says_so() {
        let config = Config::default();
        let mut quality = report(0, 0);
        quality.add_problem("grades.csv", false, "no rows".into());
        assert!(quality.gate(&config).is_empty());
        assert!(quality.has_warnings());
        quality.add_problem("grades.csv", true, "no rows after the first term".into());
        let failures = quality.gate(&config);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].reason, "no rows after the first term");
    }

    #[test]
    fn ignored_rows_are_counted_per_file_and_reason() {
        let mut quality = report(10, 0);
        quality.add_ignored(&[
            IgnoredRows {
                file: "grades.csv",
                reason: "after the as-of date",
                rows: 3,
            },
            IgnoredRows {
                file: "grades.csv",
                reason: "after the as-of date",
                rows: 2,
            },
            IgnoredRows {
                file: "credits.csv",
                reason: "not in the report",
                rows: 9,
            },
        ]);
        assert_eq!(quality.files[0].ignored["after the as-of date"], 5);
        assert_eq!(quality.files[0].ignored.len(), 1);
    }
}
