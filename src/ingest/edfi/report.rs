//! What an import wrote, rejected, skipped and did not find: the counts of the import's
//! summary and of `import_report.csv` (aggregate: files, elements, descriptor code values,
//! schools and sessions, never a student's value), the rejected records of
//! `import_rejects.csv` (student-level: the values that were wrong, with file and line), and
//! the CSV files of the snapshot as they are written.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::io::error::{EwsError, Result};

pub use crate::contract::{IMPORT_REJECTS as REJECTS_FILE, IMPORT_REPORT as REPORT_FILE};

/// One CSV file of the snapshot being written, with its header, and its rows counted.
pub struct Output {
    pub name: &'static str,
    writer: csv::Writer<BufWriter<File>>,
    path: PathBuf,
    pub rows: u64,
    /// The header's columns, for [`Output::record`].
    columns: Vec<&'static str>,
    /// One row's cells, reused.
    cells: Vec<String>,
}

impl Output {
    pub fn create(dir: &Path, name: &'static str, header: &[&str]) -> Result<Output> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| EwsError::io(&path, e))?;
        let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        writer
            .write_record(header)
            .map_err(|e| csv_error(&path, e))?;
        Ok(Output {
            name,
            writer,
            path,
            rows: 0,
            columns: Vec::new(),
            cells: Vec::new(),
        })
    }

    /// A file of the contract, with every column of its spec (required, then optional) as
    /// the header: the contract spells the columns, the importer only fills them.
    pub fn for_spec(dir: &Path, spec: &'static crate::contract::FileSpec) -> Result<Output> {
        let columns: Vec<&'static str> = spec.columns().collect();
        let mut out = Output::create(dir, spec.name, &columns)?;
        out.cells = vec![String::new(); columns.len()];
        out.columns = columns;
        Ok(out)
    }

    /// Writes a row of a contract file by column name; a column not given is blank. A name
    /// the spec does not have is a bug of ews (exit 3).
    pub fn record(&mut self, values: &[(&str, &str)]) -> Result<()> {
        for cell in &mut self.cells {
            cell.clear();
        }
        for (name, value) in values {
            let Some(i) = self.columns.iter().position(|c| c == name) else {
                return Err(EwsError::io(
                    &self.path,
                    std::io::Error::other("the importer wrote a column its contract file does not have (a bug in ews)"),
                ));
            };
            self.cells[i].push_str(value);
        }
        self.rows += 1;
        self.writer
            .write_record(&self.cells)
            .map_err(|e| csv_error(&self.path, e))
    }

    pub fn row(&mut self, fields: &[&str]) -> Result<()> {
        self.rows += 1;
        self.writer
            .write_record(fields)
            .map_err(|e| csv_error(&self.path, e))
    }

    pub fn finish(mut self) -> Result<u64> {
        self.writer
            .flush()
            .map_err(|e| EwsError::io(&self.path, e))?;
        Ok(self.rows)
    }
}

fn csv_error(path: &Path, error: csv::Error) -> EwsError {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => EwsError::io(path, e),
        _ => EwsError::io(path, std::io::Error::other("CSV writer failed")),
    }
}

/// The import's counts, by section of `import_report.csv`.
#[derive(Debug, Default)]
pub struct Report {
    /// (section, item) → (count, note).
    entries: BTreeMap<(u8, String), (u64, String)>,
}

/// How the note of a session whose days come from its CalendarDates starts.
pub const AS_DECLARED: &str = "from CalendarDate:";

/// Sections of the report, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Section {
    /// An XML file read: its records, and the interchange it holds.
    File = 0,
    /// A snapshot file written: its rows.
    Written,
    /// What the interchanges did not hold.
    Missing,
    /// Records rejected, by output file and reason (the records are in import_rejects.csv).
    Rejected,
    /// Descriptor code values neither the built-in table nor the config maps.
    Unmapped,
    /// Elements the importer does not read, counted and skipped.
    Skipped,
    /// How each school's calendar was made.
    Calendar,
    /// Other counts (students without an enrollment, values taken from a rule…).
    Note,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::File => "file",
            Section::Written => "written",
            Section::Missing => "missing",
            Section::Rejected => "rejected",
            Section::Unmapped => "unmapped descriptor",
            Section::Skipped => "skipped element",
            Section::Calendar => "calendar",
            Section::Note => "note",
        }
    }

    const ALL: [Section; 8] = [
        Section::File,
        Section::Written,
        Section::Missing,
        Section::Rejected,
        Section::Unmapped,
        Section::Skipped,
        Section::Calendar,
        Section::Note,
    ];
}

impl Report {
    /// Adds `count` to an item (created with `note` the first time).
    pub fn add(&mut self, section: Section, item: impl Into<String>, count: u64, note: &str) {
        let entry = self
            .entries
            .entry((section as u8, item.into()))
            .or_insert_with(|| (0, note.to_string()));
        entry.0 += count;
    }

    /// The entries of a section: (item, count, note).
    pub fn section(&self, section: Section) -> impl Iterator<Item = (&str, u64, &str)> {
        self.entries
            .range((section as u8, String::new())..(section as u8 + 1, String::new()))
            .map(|((_, item), (count, note))| (item.as_str(), *count, note.as_str()))
    }

    /// The count of one item (0 when absent).
    pub fn count(&self, section: Section, item: &str) -> u64 {
        self.entries
            .get(&(section as u8, item.to_string()))
            .map_or(0, |(count, _)| *count)
    }

    /// Whether anything was rejected, missing or unmapped: the import's warnings (exit 1).
    pub fn has_warnings(&self) -> bool {
        [Section::Missing, Section::Rejected, Section::Unmapped]
            .iter()
            .any(|s| self.section(*s).next().is_some())
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let mut out = Output::create(dir, REPORT_FILE, &["section", "item", "count", "note"])?;
        for section in Section::ALL {
            for (item, count, note) in self.section(section) {
                out.row(&[section.name(), item, &count.to_string(), note])?;
            }
        }
        out.finish()?;
        Ok(())
    }

    /// The summary's lines, one per entry, in report order; of the sessions whose days the
    /// CalendarDates list as TotalInstructionalDays says, only their number (a district has
    /// hundreds; the report lists each).
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for section in Section::ALL {
            let mut as_declared = 0;
            for (item, count, note) in self.section(section) {
                if section == Section::Calendar && note.starts_with(AS_DECLARED) {
                    as_declared += 1;
                    continue;
                }
                let mut line = format!("{:<20} {item:<48} {count:>10}", section.name());
                if !note.is_empty() {
                    line += &format!("  {note}");
                }
                lines.push(line);
            }
            if as_declared > 0 {
                lines.push(format!(
                    "{:<20} {as_declared} sessions' days as their CalendarDates list them (each in {REPORT_FILE})",
                    section.name()
                ));
            }
        }
        lines
    }
}

/// The rejected records of an import (student-level data: the values that were wrong).
pub struct Rejects {
    out: Output,
}

/// One rejected record.
pub struct Reject<'a> {
    pub file: &'a Path,
    pub line: u64,
    pub element: &'a str,
    /// The snapshot file the record would have gone to.
    pub output: &'a str,
    pub reason: &'a str,
    pub student_id: &'a str,
    /// The value that was wrong (an unknown id, an unmapped code value).
    pub value: &'a str,
}

impl Rejects {
    pub fn create(dir: &Path) -> Result<Rejects> {
        let out = Output::create(
            dir,
            REJECTS_FILE,
            &[
                "file",
                "line",
                "element",
                "output",
                "reason",
                "student_id",
                "value",
            ],
        )?;
        Ok(Rejects { out })
    }

    /// Writes the record and counts it in the report under its output file and reason.
    pub fn reject(&mut self, report: &mut Report, reject: Reject) -> Result<()> {
        let file = super::file_name(reject.file);
        self.out.row(&[
            &file,
            &reject.line.to_string(),
            reject.element,
            reject.output,
            reject.reason,
            reject.student_id,
            reject.value,
        ])?;
        report.add(
            Section::Rejected,
            format!("{}: {}", reject.output, reject.reason),
            1,
            "",
        );
        Ok(())
    }

    pub fn finish(self) -> Result<u64> {
        self.out.finish()
    }
}
