//! Output files: the referral list, and the atomic writes that guarantee a failed run never
//! leaves a half-written file behind.
//!
//! A run's files are written into a hidden staging folder beside the final one and moved into
//! place with one rename when all of them are complete; a single file (the model) is written
//! to a temporary name and renamed.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{EwsError, Result};
use crate::features::FEATURES;
use crate::score::ScoredStudent;

/// Columns of referrals.csv, in order (documented in README.md).
pub fn referral_columns() -> Vec<&'static str> {
    let mut columns = vec![
        "student_id",
        "last_name",
        "first_name",
        "school_id",
        "grade_level",
        "risk_score",
        "risk_tier",
        "rank_in_school",
        "rank_in_district",
        "reason_1",
        "reason_2",
        "reason_3",
    ];
    columns.extend(FEATURES.iter().map(|f| f.name));
    columns.extend(["school_name", "counselor"]);
    columns
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| EwsError::io(&dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        EwsError::io(path, e)
    })
}

/// A run's output folder under construction: files go to a staging folder that replaces
/// `<out>/<name>` only on [`RunFolder::publish`]. Dropped unpublished, it is removed.
pub struct RunFolder {
    staging: PathBuf,
    target: PathBuf,
    published: bool,
}

impl RunFolder {
    pub fn create(out: &Path, name: &str) -> Result<RunFolder> {
        // Refused before anything is written when the folder holds what ews did not write.
        check_replaceable(&out.join(name))?;
        std::fs::create_dir_all(out).map_err(|e| EwsError::io(out, e))?;
        recover_killed_runs(out, name)?;
        let staging = out.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| EwsError::io(&staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| EwsError::io(&staging, e))?;
        // Owner-only while files are written, so no student-level file is ever readable by
        // others before its permissions are set; opened up on protect_student_files.
        set_mode(&staging, 0o700)?;
        Ok(RunFolder {
            staging,
            target: out.join(name),
            published: false,
        })
    }

    /// Path of a file inside the staging folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.staging.join(name)
    }

    /// The staging folder itself, for writers that take a folder.
    pub fn target_staging(&self) -> &Path {
        &self.staging
    }

    /// Moves the complete staging folder into place, replacing an earlier run of the same name
    /// (only when that folder holds nothing but what ews wrote there: [`check_replaceable`]).
    pub fn publish(mut self) -> Result<PathBuf> {
        write_marker(&self.staging)?;
        // Checked again: the folder may have changed while the run worked.
        check_replaceable(&self.target)?;
        let previous = self.target.with_file_name(format!(
            ".{}.previous-{}",
            self.target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let had_previous = self.target.exists();
        if had_previous {
            std::fs::rename(&self.target, &previous).map_err(|e| EwsError::io(&self.target, e))?;
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if had_previous {
                let _ = std::fs::rename(&previous, &self.target);
            }
            return Err(EwsError::io(&self.target, e));
        }
        if had_previous {
            std::fs::remove_dir_all(&previous).map_err(|e| EwsError::io(&previous, e))?;
        }
        self.published = true;
        Ok(self.target.clone())
    }
}

/// The file that marks a folder as written by ews (a run, a validation, a failed gate's report,
/// an evaluation): it lists every file ews wrote there, the only ones a later command may
/// replace. No command of ews deletes what it did not write.
pub const WRITTEN_MARKER: &str = ".ews-written";

/// Whether `target` may be replaced by a new folder of ews: it is absent, an empty folder, or
/// a folder holding nothing but the files ews wrote there (listed in its [`WRITTEN_MARKER`],
/// or, for a run of an ews that wrote no marker, in its manifest.json). Anything else is an
/// error (exit 2), and nothing in the folder is touched.
pub fn check_replaceable(target: &Path) -> Result<()> {
    let refuse = |message: String| EwsError::BadFile {
        path: target.to_path_buf(),
        message,
    };
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return Ok(());
    };
    if !meta.is_dir() {
        return Err(refuse(
            "is a file, where ews writes a folder of its own; nothing was touched".into(),
        ));
    }
    let entries = files_under(target, target)?;
    if entries.is_empty() {
        return Ok(());
    }
    let Some(written) = written_files(target) else {
        return Err(refuse(format!(
            "the folder holds {} files and was not written by ews (no {WRITTEN_MARKER}); nothing in it was touched: move them, or give --out another folder",
            entries.len()
        )));
    };
    let others: Vec<&String> = entries
        .iter()
        .filter(|e| e.as_str() != WRITTEN_MARKER && !written.contains(e))
        .collect();
    if let Some(first) = others.first() {
        return Err(refuse(format!(
            "the folder holds {} files ews did not write there (e.g. `{first}`); nothing in it was touched: move them, or give --out another folder",
            others.len()
        )));
    }
    Ok(())
}

/// The files ews wrote in a folder: its [`WRITTEN_MARKER`], else, for a folder of an ews that
/// wrote no marker, a run's manifest outputs and the manifest itself, or the two reports of a
/// `<as-of>.validation` or `<as-of>.failed` folder.
fn written_files(dir: &Path) -> Option<Vec<String>> {
    if let Ok(listed) = std::fs::read_to_string(dir.join(WRITTEN_MARKER)) {
        return Some(
            listed
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(String::from)
                .collect(),
        );
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if name.ends_with(".validation") || name.ends_with(".failed") {
        return Some(vec!["data_quality.csv".into(), "rejects.csv".into()]);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).ok()?).ok()?;
    let mut files: Vec<String> = manifest
        .get("outputs")?
        .as_array()?
        .iter()
        .filter_map(|o| Some(o.get("file")?.as_str()?.to_string()))
        .collect();
    files.push("manifest.json".into());
    Some(files)
}

/// Writes the [`WRITTEN_MARKER`] of a folder under construction: every file in it.
fn write_marker(dir: &Path) -> Result<()> {
    let mut names = files_under(dir, dir)?;
    names.sort();
    let text = format!(
        "# written by ews: a later run may replace this folder only while it holds these files and nothing else\n{}\n",
        names.join("\n")
    );
    let path = dir.join(WRITTEN_MARKER);
    std::fs::write(&path, text).map_err(|e| EwsError::io(&path, e))?;
    // File names only, no student's data: readable as the folder is.
    set_mode(&path, 0o644)
}

/// The files under `dir`, as paths relative to `root` with `/` separators.
pub fn files_under(root: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| EwsError::io(dir, e))? {
        let path = entry.map_err(|e| EwsError::io(dir, e))?.path();
        if path.is_dir() {
            files.extend(files_under(root, &path)?);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect();
            files.push(parts.join("/"));
        }
    }
    Ok(files)
}

/// Cleans up after runs of `name` that were killed: a staging folder of a process that is gone
/// is removed, and a previous run folder set aside by a publish that was cut off is put back
/// when the new one never took its place.
fn recover_killed_runs(out: &Path, name: &str) -> Result<()> {
    let target = out.join(name);
    for entry in std::fs::read_dir(out).map_err(|e| EwsError::io(out, e))? {
        let path = entry.map_err(|e| EwsError::io(out, e))?.path();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        for kind in ["staging", "previous"] {
            let Some(pid) = file_name
                .strip_prefix(&format!(".{name}.{kind}-"))
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == std::process::id() || process_alive(pid) {
                continue;
            }
            if kind == "previous" && !target.exists() {
                log::warn!(
                    "{}: restoring the run folder a killed run set aside",
                    target.display()
                );
                std::fs::rename(&path, &target).map_err(|e| EwsError::io(&path, e))?;
            } else {
                log::warn!("{}: removing what a killed run left", path.display());
                std::fs::remove_dir_all(&path).map_err(|e| EwsError::io(&path, e))?;
            }
        }
    }
    Ok(())
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// A lock on an output folder: one run at a time writes into it. The lock file holds the
/// owner's process id; a lock whose process is gone (a run that was killed) is taken over.
/// Released (the file removed) when dropped.
pub struct OutputLock {
    path: PathBuf,
}

/// Name of the lock file in an output folder.
pub const LOCK_FILE: &str = ".ews.lock";

impl OutputLock {
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        if out.exists() && !out.is_dir() {
            return Err(EwsError::BadFile {
                path: out.to_path_buf(),
                message: "--out must be a folder, and this is a file".into(),
            });
        }
        std::fs::create_dir_all(out).map_err(|e| EwsError::io(out, e))?;
        let path = out.join(LOCK_FILE);
        let me = std::process::id();
        let content = format!(
            "{me} {}\n",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(content.as_bytes())
                        .map_err(|e| EwsError::io(&path, e))?;
                    return Ok(OutputLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(&path).unwrap_or_default();
                    let owner = held
                        .split_whitespace()
                        .next()
                        .and_then(|p| p.parse::<u32>().ok());
                    match owner {
                        Some(pid) if process_alive(pid) => {
                            return Err(EwsError::Locked {
                                path,
                                message: format!(
                                    "another ews run (process {pid}, started {}) is writing to this folder; wait for it to finish",
                                    held.split_whitespace().nth(1).unwrap_or("at an unknown time")
                                ),
                            });
                        }
                        _ => {
                            log::warn!(
                                "{}: taking over a stale lock (its process {} is gone)",
                                path.display(),
                                owner.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
                            );
                            std::fs::remove_file(&path).map_err(|e| EwsError::io(&path, e))?;
                        }
                    }
                }
                Err(e) => return Err(EwsError::io(&path, e)),
            }
        }
        Err(EwsError::Locked {
            path,
            message: "the lock was taken by another run while this one took over a stale lock"
                .into(),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let mine = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|held| held.split_whitespace().next().map(str::to_string))
            == Some(std::process::id().to_string());
        if mine {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether a process with this id runs on this machine (Linux: /proc; elsewhere assumed, so a
/// lock is never taken from a live run).
fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The files of a run folder with one row per student (personal data).
pub const STUDENT_LEVEL_FILES: [&str; 5] = [
    "referrals.csv",
    "students.csv",
    "students.parquet",
    "changes.csv",
    "rejects.csv",
];

/// Gives the student-level files of a run folder (and `schools/*.csv`) the configured
/// permissions, before the folder is published. A no-op where Unix permissions do not exist.
pub fn protect_student_files(dir: &Path, config: &crate::config::Config) -> Result<()> {
    let Some(mode) = config.privacy.student_file_mode() else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = STUDENT_LEVEL_FILES.iter().map(|f| dir.join(f)).collect();
    let schools = dir.join("schools");
    if schools.is_dir() {
        for entry in std::fs::read_dir(&schools).map_err(|e| EwsError::io(&schools, e))? {
            files.push(entry.map_err(|e| EwsError::io(&schools, e))?.path());
        }
    }
    for path in files.iter().filter(|p| p.is_file()) {
        set_mode(path, mode)?;
    }
    if schools.is_dir() {
        set_mode(&schools, 0o755)?;
    }
    set_mode(dir, 0o755)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| EwsError::io(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Neutralises text a spreadsheet would run as a formula (CSV injection): a cell starting with
/// `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// [`spreadsheet_safe`] applied to every text column of a frame, for CSV files written by
/// polars.
pub fn spreadsheet_safe_frame(frame: &DataFrame) -> Result<DataFrame> {
    let text_columns: Vec<Expr> = frame
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| {
            let name = c.name().as_str();
            let risky = ["=", "+", "-", "@", "\t", "\r"]
                .into_iter()
                .map(|start| col(name).str().starts_with(lit(start)))
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false))
                .fill_null(lit(false));
            when(risky)
                .then(lit("'") + col(name))
                .otherwise(col(name))
                .alias(name)
        })
        .collect();
    Ok(frame.clone().lazy().with_columns(text_columns).collect()?)
}

/// Writes `frame` as a CSV file with a header, text made [`spreadsheet_safe`]. A failed write
/// (a full disk) names the file and the system's error, as the other writers' errors do.
pub fn write_safe_csv(path: &Path, frame: &DataFrame) -> Result<()> {
    let mut safe = spreadsheet_safe_frame(frame)?;
    let mut file = std::fs::File::create(path).map_err(|e| EwsError::io(path, e))?;
    CsvWriter::new(&mut file)
        .include_header(true)
        .finish(&mut safe)
        .map_err(|e| match e {
            PolarsError::IO { error, .. } => {
                EwsError::io(path, std::io::Error::new(error.kind(), error.to_string()))
            }
            other => other.into(),
        })
}

/// A number with at most `decimals` decimals and no trailing zeros; empty when missing.
pub(crate) fn number(value: Option<f64>, decimals: usize) -> String {
    let mut text = String::new();
    push_number(&mut text, value, decimals);
    text
}

/// Appends [`number`]`(value, decimals)` to `out`, which writers reuse from cell to cell.
pub(crate) fn push_number(out: &mut String, value: Option<f64>, decimals: usize) {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return;
    };
    let start = out.len();
    push_fixed_decimals(out, v, decimals);
    // "1.0000" → "1", "0.8100" → "0.81": shorter cells, same value.
    if out[start..].contains('.') {
        let kept = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(kept);
    }
}

/// Appends `format!("{v:.decimals$}")`, without the exact-decimal machinery when the
/// rounding is clear: a feed writes millions of numbers. `v × 10^decimals` is off by at most
/// an ulp, so unless it lies within a hair of a rounding tie, rounding it gives the same digits.
pub(crate) fn push_fixed_decimals(out: &mut String, v: f64, decimals: usize) {
    use std::fmt::Write as _;
    let scale = 10f64.powi(decimals as i32);
    let scaled = v.abs() * scale;
    let rounded = scaled.round();
    // Writing to a String cannot fail.
    if !v.is_finite()
        || decimals > 9
        || scaled >= 1e15
        || ((scaled - scaled.floor()) - 0.5).abs() < 1e-6
    {
        let _ = write!(out, "{v:.decimals$}");
        return;
    }
    let units = rounded as u64;
    let power = 10u64.pow(decimals as u32);
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let _ = if decimals == 0 {
        write!(out, "{sign}{units}")
    } else {
        write!(
            out,
            "{sign}{}.{:0decimals$}",
            units / power,
            units % power,
            decimals = decimals
        )
    };
}

/// Writes the ranked referral list: every scored student, in rank order.
///
/// The table's rows are gathered in rank order first ([`crate::score::in_rank_order`]), and
/// every cell goes through one reused record.
pub fn write_referrals(path: &Path, table: &DataFrame, scored: &[ScoredStudent]) -> Result<()> {
    let io = |e: csv::Error| EwsError::io(path, std::io::Error::other(e));
    let mut writer = csv::Writer::from_path(path).map_err(io)?;
    writer.write_record(referral_columns()).map_err(io)?;

    let mut needed = vec![
        "student_id",
        "last_name",
        "first_name",
        "school_id",
        "school_name",
        "counselor",
        "grade_level",
    ];
    needed.extend(FEATURES.iter().map(|f| f.name));
    let ranked = crate::score::in_rank_order(table, scored, &needed)?;
    let text = |name: &str| -> Result<&StringChunked> { Ok(ranked.column(name)?.str()?) };
    let (ids, last, first, school, school_name, counselor) = (
        text("student_id")?,
        text("last_name")?,
        text("first_name")?,
        text("school_id")?,
        text("school_name")?,
        text("counselor")?,
    );
    let grade = ranked.column("grade_level")?.i32()?;
    let features: Vec<&Float64Chunked> = FEATURES
        .iter()
        .map(|f| ranked.column(f.name).and_then(|c| c.f64()))
        .collect::<PolarsResult<_>>()?;

    fn safe(column: &StringChunked, row: usize) -> std::borrow::Cow<'_, str> {
        spreadsheet_safe(column.get(row).unwrap_or(""))
    }
    let mut record = csv::StringRecord::new();
    let mut cell = String::new();
    for (i, student) in scored.iter().enumerate() {
        record.clear();
        record.push_field(&safe(ids, i));
        record.push_field(&safe(last, i));
        record.push_field(&safe(first, i));
        record.push_field(&safe(school, i));
        cell.clear();
        if let Some(g) = grade.get(i) {
            cell.push_str(&g.to_string());
        }
        record.push_field(&cell);
        cell.clear();
        push_fixed_decimals(&mut cell, student.risk, crate::score::RISK_DECIMALS);
        record.push_field(&cell);
        record.push_field(student.tier.as_str());
        record.push_field(&student.rank_in_school.to_string());
        record.push_field(&student.rank_in_district.to_string());
        for k in 0..3 {
            record.push_field(student.reasons.get(k).map(String::as_str).unwrap_or(""));
        }
        for column in &features {
            cell.clear();
            push_number(&mut cell, column.get(i), 4);
            record.push_field(&cell);
        }
        record.push_field(&safe(school_name, i));
        record.push_field(&safe(counselor, i));
        writer.write_record(&record).map_err(io)?;
    }
    writer.flush().map_err(|e| EwsError::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_decimals(v: f64, decimals: usize) -> String {
        let mut text = String::new();
        push_fixed_decimals(&mut text, v, decimals);
        text
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("-1"), "'-1");
        assert_eq!(spreadsheet_safe("Muñoz"), "Muñoz");
    }

    #[test]
    fn fixed_decimals_match_the_formatter() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.5,
            0.125,
            2.5,
            -1.23456,
            0.00005,
            1e-9,
            123456.789,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
        ];
        let mut x = 0.123_456_789_f64;
        for _ in 0..20_000 {
            x = (x * 9301.0 + 0.49297).fract();
            values.push(x);
            values.push(x * 100.0 - 50.0);
            values.push((x * 1000.0).round() / 1000.0 + 0.00005);
        }
        for v in values {
            for decimals in 0..=6 {
                assert_eq!(
                    fixed_decimals(v, decimals),
                    format!("{v:.decimals$}"),
                    "{v}"
                );
            }
        }
    }

    #[test]
    fn numbers_are_written_short() {
        assert_eq!(number(Some(0.81), 4), "0.81");
        assert_eq!(number(Some(1.0), 4), "1");
        assert_eq!(number(None, 4), "");
    }

    #[test]
    fn unpublished_run_folder_leaves_nothing_and_publish_replaces() {
        let dir = tempfile::tempdir().unwrap();
        {
            let run = RunFolder::create(dir.path(), "2026-03-13").unwrap();
            std::fs::write(run.file("a.csv"), "x").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // An earlier run of ews is replaced.
        let run = RunFolder::create(dir.path(), "2026-03-13").unwrap();
        std::fs::write(run.file("old.csv"), "old").unwrap();
        run.publish().unwrap();
        let run = RunFolder::create(dir.path(), "2026-03-13").unwrap();
        std::fs::write(run.file("a.csv"), "new").unwrap();
        let target = run.publish().unwrap();
        assert!(target.join("a.csv").exists());
        assert!(!target.join("old.csv").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let marker = std::fs::read_to_string(target.join(WRITTEN_MARKER)).unwrap();
        assert!(marker.lines().any(|l| l == "a.csv"));
    }

    #[test]
    fn a_folder_with_a_file_ews_did_not_write_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFolder::create(dir.path(), "2026-03-13").unwrap();
        std::fs::create_dir(run.file("schools")).unwrap();
        std::fs::write(run.file("schools/001.csv"), "x").unwrap();
        let target = run.publish().unwrap();
        // A counselor's notes added to the run folder: the next run of that date is refused.
        std::fs::write(target.join("schools/notes.txt"), "mine").unwrap();
        let err = RunFolder::create(dir.path(), "2026-03-13").err().unwrap();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("schools/notes.txt"), "{err}");
        assert_eq!(
            std::fs::read_to_string(target.join("schools/notes.txt")).unwrap(),
            "mine"
        );
        // A folder of a name ews would use, made by someone else.
        std::fs::create_dir(dir.path().join("2026-03-14")).unwrap();
        std::fs::write(dir.path().join("2026-03-14/plan.docx"), "x").unwrap();
        assert!(RunFolder::create(dir.path(), "2026-03-14").is_err());
        // An empty one is fine.
        std::fs::create_dir(dir.path().join("2026-03-15")).unwrap();
        RunFolder::create(dir.path(), "2026-03-15")
            .unwrap()
            .publish()
            .unwrap();
    }
}
