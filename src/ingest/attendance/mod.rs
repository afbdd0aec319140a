//! Attendance, by far the largest file (one row per student and school day: 14 million rows
//! for 100,000 students, 180 million for a million), read in one streaming pass that
//! aggregates as it reads.
//!
//! Why not a polars scan and group-by: the scan materialises every row as strings before the
//! group-by can reduce them, and the reduced student-day table is still as long as the file
//! (benches/README.md and docs/performance.md have the measurements). Here the file is split
//! into one byte range per core; each worker parses its lines straight into a [`DayGrid`] of
//! one byte per enrolled student and date (the most severe code and how many rows said so),
//! so memory is bounded by students × dates, never by rows. Parquet files are read in row
//! batches into the same grid.
//!
//! Rows failing a row rule (missing id, bad date, unknown code, unknown student) are listed
//! with their line as they are met. Whether a row is a duplicate or outside the school year
//! is known only once every row and the as-of date are: a second pass lists those rows, run
//! only when there are any.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;

use crate::config::Config;
use crate::contract::AttendanceMode;
use crate::contract::DATE_FORMAT;
use crate::ingest::input::{CsvLayout, RawFile, Source, LINE};
use crate::ingest::membership::Membership;
use crate::ingest::parquet::StagedRows;
use crate::ingest::parquet::{contiguous_parts, ParquetBatches};
use crate::ingest::partition::DistrictDays;
use crate::ingest::quality::{Action, FileQuality, RejectRow};
use crate::ingest::reader::{Encoding, Fields, Problem, ReaderFlag, RecordSink};
use crate::ingest::staging::{owner, piece_frame, FileStager, Gathered};
use crate::io::error::{EwsError, Result};

mod days;
mod grid;
mod rows;

use days::*;
use grid::*;
use rows::*;

pub use days::StudentDays;

pub use crate::ingest::student_index::StudentIndex;
pub use grid::DayGrid;

/// Rows per batch of a Parquet file.
const PARQUET_BATCH_ROWS: usize = 1 << 20;

// ---- reading a CSV file in parallel parts ------------------------------------------------

/// What one pass does with each row: `line` counts from the part's first line (CSV) or is the
/// row's line (Parquet).
trait RowSink: Send {
    fn row(&mut self, parser: &mut RowParser, line: u64, fields: Fields5);
}

/// A pass's sink behind the shared reader: the three fields attendance needs, decoded where
/// the export is Windows-1252, and the reader's rejects kept beside.
struct CsvRows<'p, S> {
    sink: S,
    parser: RowParser<'p>,
    layout: &'p CsvLayout,
    /// Field indexes of student_id, date and code.
    wanted: [usize; 3],
    /// Field indexes of school_id (read only to check membership) and day_fraction (when the
    /// file has it).
    extra: [Option<usize>; 2],
    /// Rows the reader rejected (malformed, or bytes that are not text), by part line.
    flags: Vec<ReaderFlag>,
}

impl<S: RowSink> RecordSink for CsvRows<'_, S> {
    fn record(&mut self, line: u64, record: &[u8], fields: &Fields) {
        // Spelled out: an array `map` here costs measurably on 180M rows.
        let [id, date, code] = self.wanted;
        let [school, fraction] = self.extra;
        let values = [
            fields.value(record, id),
            fields.value(record, date),
            fields.value(record, code),
            school.and_then(|i| fields.value(record, i)),
            fraction.and_then(|i| fields.value(record, i)),
        ];
        if record.is_ascii() {
            // The usual row: ASCII is text in both encodings.
            self.sink.row(&mut self.parser, line, values);
            return;
        }
        let dialect = self.layout.file.dialect;
        match dialect.encoding {
            Encoding::Utf8 => {
                // Bytes that are not text in an id, date or code: the row is rejected.
                let bad = (0..5).find(|&k| values[k].is_some_and(|v| dialect.decode(v).is_err()));
                match bad {
                    Some(k) => {
                        let bytes = values[k].unwrap_or_default();
                        let column = match k {
                            0..=2 => self.wanted[k],
                            _ => self.extra[k - 3].unwrap_or_default(),
                        };
                        let flag = self.layout.not_text(line, column, bytes, false);
                        self.flags.push(flag);
                    }
                    None => self.sink.row(&mut self.parser, line, values),
                }
            }
            Encoding::Windows1252 => {
                // The rare non-ASCII id, date or code: decoded, as the other files' are.
                let decoded = values.map(|v| v.and_then(|v| dialect.decode(v).ok()));
                let bytes = decoded.each_ref().map(|v| v.as_deref().map(str::as_bytes));
                self.sink.row(&mut self.parser, line, bytes);
            }
        }
    }

    fn malformed(&mut self, line: u64, problem: Problem, text: &[u8]) {
        self.flags.push(self.layout.malformed(line, problem, text));
    }
}

// ---- the passes --------------------------------------------------------------------------

/// First pass: every accepted row into the grid, every rejected row listed.
struct Aggregate {
    grid: DayGrid,
    /// Accepted rows covering part of a day.
    partial: Vec<Partial>,
    rejected: Vec<Rejected>,
    rows: u64,
    /// Accepted rows coded P.
    present_rows: u64,
    /// Rows of students outside the scope.
    out_of_scope: u64,
}

impl RowSink for Aggregate {
    fn row(&mut self, parser: &mut RowParser, line: u64, fields: Fields5) {
        self.rows += 1;
        match parser.parse(fields) {
            Row::Accepted {
                student,
                day,
                severity,
                fraction,
            } if fraction < 1.0 => self.partial.push(Partial {
                student,
                day,
                severity,
                fraction,
                line,
            }),
            Row::Accepted {
                student,
                day,
                severity,
                ..
            } => {
                self.present_rows += u64::from(severity == 0);
                self.grid.add(student, day, severity);
            }
            Row::OutOfScope => self.out_of_scope += 1,
            Row::Rejected(rule, value) => self.rejected.push(Rejected { line, rule, value }),
        }
    }
}

/// Second pass: rows outside the school year, and the rows of student-days seen more than once
/// up to the as-of date (resolved once all are known).
struct ListLate<'g> {
    grid: &'g DayGrid,
    /// Days from the common era of the school year's first and last day, and the as-of date.
    year: (i32, i32),
    as_of: i32,
    outside: Vec<Rejected>,
    /// (student, day, severity, line) of rows of repeated student-days.
    repeated: Vec<(u32, i32, u8, u64)>,
}

impl RowSink for ListLate<'_> {
    fn row(&mut self, parser: &mut RowParser, line: u64, fields: Fields5) {
        let Row::Accepted {
            student,
            day,
            severity,
            fraction,
        } = parser.parse(fields)
        else {
            return;
        };
        if day < self.year.0 || day > self.year.1 {
            self.outside.push(Rejected {
                line,
                rule: Rule::OutsideYear,
                value: Some(iso(day)),
            });
        } else if day <= self.as_of && fraction >= 1.0 {
            let slot = self.grid.slot_of.get(&day).copied();
            if slot.is_some_and(|slot| rows_in(self.grid.cell(slot, student)) > 1) {
                self.repeated.push((student, day, severity, line));
            }
        }
    }
}

fn iso(day: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(day)
        .map(|d| d.format(DATE_FORMAT).to_string())
        .unwrap_or_default()
}

/// A pass's sinks, in file order, with the rows the reader rejected (absolute lines).
struct Pass<S> {
    sinks: Vec<S>,
    flags: Vec<ReaderFlag>,
}

/// Runs a pass over the whole file: one sink per part, then each part's line numbers made
/// absolute by `fix(sink, first line of the part)`.
fn run_pass<S: RowSink>(
    raw: &RawFile,
    parser: &RowParser,
    with_school: bool,
    make_sink: impl Fn() -> S + Sync,
    fix: impl Fn(&mut S, u64),
) -> Result<Pass<S>> {
    let layout = match &raw.source {
        Source::Csv(layout) => layout,
        Source::Parquet(batches) => {
            return Ok(Pass {
                sinks: parquet_pass(batches, parser, make_sink)?,
                flags: batches.reader_flags(),
            })
        }
    };
    let index = |c: &str| {
        layout.index(c).ok_or_else(|| EwsError::BadFile {
            path: raw.path.clone(),
            message: format!("no `{c}` column"),
        })
    };
    let wanted = [index("student_id")?, index("date")?, index("code")?];
    let school = match with_school {
        true => Some(index("school_id")?),
        false => None,
    };
    let extra = [school, layout.index("day_fraction")];
    let parts = layout.file.read(rayon::current_num_threads(), || CsvRows {
        sink: make_sink(),
        parser: parser.clone_fresh(),
        layout,
        wanted,
        extra,
        flags: Vec::new(),
    })?;
    let mut pass = Pass {
        sinks: Vec::with_capacity(parts.len()),
        flags: Vec::new(),
    };
    for (mut rows, first_line) in parts {
        fix(&mut rows.sink, first_line);
        pass.sinks.push(rows.sink);
        pass.flags
            .extend(rows.flags.into_iter().map(|f| ReaderFlag {
                line: f.line + first_line,
                ..f
            }));
    }
    Ok(pass)
}

/// A Parquet file, read in row batches through the input module (which applies the mapping);
/// a row's line is its row number from 1. Like a CSV file's parts, the rows are split into one
/// contiguous range per core, each read batch by batch into its own sink; returns the sinks in
/// file order.
fn parquet_pass<S: RowSink>(
    batches: &ParquetBatches,
    parser: &RowParser,
    make_sink: impl Fn() -> S + Sync,
) -> Result<Vec<S>> {
    let workers = rayon::current_num_threads().max(1);
    let parts = contiguous_parts(&batches.batches(PARQUET_BATCH_ROWS)?, workers);
    if parts.is_empty() {
        return Ok(vec![make_sink()]);
    }
    parts
        .par_iter()
        .map(|part| {
            let mut parser = parser.clone_fresh();
            let mut sink = make_sink();
            for &(offset, len) in part {
                let batch = batches.batch(offset, len)?;
                // Each column as one array read by position: iterating chunked columns
                // together cost a fifth of the pass.
                let lines = batch.column(LINE)?.cast(&DataType::UInt64)?;
                let lines = lines.u64()?.rechunk();
                let required = |name: &str| -> Result<StringChunked> {
                    Ok(batch.column(name)?.str()?.rechunk().into_owned())
                };
                let (ids, dates) = (required("student_id")?, required("date")?);
                let (codes, schools) = (required("code")?, required("school_id")?);
                let fractions = match batch.column("day_fraction") {
                    Ok(column) => Some(column.str()?.rechunk().into_owned()),
                    Err(_) => None,
                };
                // A rechunked column has one array; none only when the batch is empty.
                let (Some(lines), Some(ids), Some(dates), Some(codes), Some(schools)) = (
                    lines.downcast_iter().next(),
                    ids.downcast_iter().next(),
                    dates.downcast_iter().next(),
                    codes.downcast_iter().next(),
                    schools.downcast_iter().next(),
                ) else {
                    continue;
                };
                let fractions = fractions.as_ref().and_then(|f| f.downcast_iter().next());
                for i in 0..lines.len() {
                    sink.row(
                        &mut parser,
                        lines.get(i).unwrap_or(0),
                        [
                            non_empty(ids.get(i)),
                            non_empty(dates.get(i)),
                            non_empty(codes.get(i)),
                            non_empty(schools.get(i)),
                            fractions.and_then(|f| non_empty(f.get(i))),
                        ],
                    );
                }
            }
            Ok(sink)
        })
        .collect()
}

// ---- staging: the file split by partition of students ------------------------------------

/// The values of an attendance row the row parser reads, as they are staged.
const STAGED_COLUMNS: [&str; 5] = ["student_id", "date", "code", "school_id", "day_fraction"];

/// Splits attendance into the partitions of `stager` ([`crate::ingest::staging`]), in one
/// pass by the same reader as always: the values the row parser reads, as the export wrote
/// them (a CSV file: its date format and codes) or canonical (Parquet). `with_school`: the
/// school_id is read (the run has membership days), as the passes read it.
pub(crate) fn stage(
    raw: &RawFile,
    with_school: bool,
    stager: FileStager,
) -> Result<Vec<StagedRows>> {
    let nobody = StudentIndex::new(&StringChunked::from_iter(std::iter::empty::<Option<&str>>()));
    let no_codes = std::collections::BTreeMap::new();
    let parser = RowParser::new(&nobody, DATE_FORMAT, &no_codes);
    let pass = run_pass(
        raw,
        &parser,
        with_school,
        || Splitter::new(&stager),
        |sink, first| sink.first_line = first,
    )?;
    let Pass { sinks, flags } = pass;
    let mut rows = flags.len() as u64;
    let mut order = Vec::new();
    for mut sink in sinks {
        for k in 0..sink.pending.len() {
            sink.flush(k);
        }
        if let Some(e) = sink.error {
            return Err(e);
        }
        rows += sink.rows;
        order.extend(sink.written.iter().map(|&(k, p)| (k, p, sink.first_line)));
    }
    let raw_date_format = match &raw.source {
        Source::Csv(layout) => Some(layout.date_format.clone()),
        Source::Parquet(_) => None,
    };
    stager.finish(order, flags, rows, STAGED_COLUMNS.to_vec(), raw_date_format)
}

/// A pass's sink that gathers each row for its partition and writes the partition's rows as
/// a piece when [`Gathered`] says (a piece's rows, or the worker's share of the memory full).
struct Splitter<'s> {
    stager: &'s FileStager<'s>,
    /// Per partition: the lines (from the part's first line) and values gathered.
    pending: Vec<(Vec<u64>, [StringChunkedBuilder; 5])>,
    gathered: Gathered,
    /// (partition, piece) of each piece written, in the order written.
    written: Vec<(usize, usize)>,
    rows: u64,
    first_line: u64,
    error: Option<EwsError>,
}

impl<'s> Splitter<'s> {
    fn new(stager: &'s FileStager<'s>) -> Splitter<'s> {
        Splitter {
            stager,
            pending: (0..stager.parts.len()).map(|_| Self::empty()).collect(),
            gathered: Gathered::new(stager.parts.len(), stager.gathered_bytes),
            written: Vec::new(),
            rows: 0,
            first_line: 0,
            error: None,
        }
    }

    fn empty() -> (Vec<u64>, [StringChunkedBuilder; 5]) {
        (
            Vec::new(),
            STAGED_COLUMNS.map(|c| StringChunkedBuilder::new(c.into(), 1024)),
        )
    }

    fn flush(&mut self, k: usize) {
        // Written, or dropped after an error: either way no longer gathered.
        self.gathered.written(k);
        if self.pending[k].0.is_empty() {
            return;
        }
        let (lines, builders) = std::mem::replace(&mut self.pending[k], Self::empty());
        if self.error.is_some() {
            return;
        }
        let columns = STAGED_COLUMNS
            .into_iter()
            .zip(builders.map(|b| b.finish()))
            .collect();
        let written = piece_frame(lines, columns).and_then(|mut f| self.stager.write(k, &mut f));
        match written {
            Ok(piece) => self.written.push((k, piece)),
            Err(e) => self.error = Some(e),
        }
    }
}

impl RowSink for Splitter<'_> {
    fn row(&mut self, _parser: &mut RowParser, line: u64, fields: Fields5) {
        self.rows += 1;
        let k = owner(self.stager.parts, fields[0]);
        let (lines, builders) = &mut self.pending[k];
        lines.push(line);
        // The line, and a view of 16 bytes per value with the text past 12 bytes.
        let mut bytes = 8 + 16 * STAGED_COLUMNS.len();
        for (builder, value) in builders.iter_mut().zip(fields) {
            match value {
                Some(value) => {
                    if value.len() > 12 {
                        bytes += value.len();
                    }
                    builder.append_value(String::from_utf8_lossy(value))
                }
                None => builder.append_null(),
            }
        }
        self.gathered.add(k, 1, bytes);
        while let Some(due) = self.gathered.due(k) {
            self.flush(due);
        }
    }
}

// ---- the prior year ----------------------------------------------------------------------

impl Attendance {
    /// Each student's (a row of students.csv) attendance rate in the school year before the
    /// as-of date's: 1 − days with a full-day absence code (`E`, `A`, `S`) ÷ the student's
    /// days of that year. The days are the membership days (enrollment × calendar) when the
    /// snapshot has them for that year, as this year's are; else, in a daily export, the days
    /// with a row.
    /// An exception-only export without that year's calendar and spans cannot tell, and a
    /// student with fewer than `min_days` days is unknown too (`None`).
    pub fn prior_year_rates(&self, config: &Config, min_days: u32) -> Vec<Option<f64>> {
        let n = self.grid.n_students;
        if config.history.years == 0
            || (self.mode != AttendanceMode::Daily && self.membership.is_none())
        {
            return vec![None; n];
        }
        let first = config.school_year_first_day(self.school_year - 1);
        let last = self.year_start - chrono::Days::new(1);
        let (mut days, mut absent) = (vec![0u32; n], vec![0u32; n]);
        for slot in self.grid.slots_between(first, last) {
            self.grid.for_each_cell(slot, |student, cell| {
                days[student] += 1;
                if grid::severity_of(cell) > crate::contract::PRESENT_MAX_SEVERITY {
                    absent[student] += 1;
                }
            });
        }
        if let Some(m) = &self.membership {
            let (first, last) = (first.num_days_from_ce(), last.num_days_from_ce());
            let daily = self.mode == AttendanceMode::Daily;
            for (student, total) in days.iter_mut().enumerate() {
                let members = m.days(student as u32, first, last);
                // A daily export whose calendar or spans do not reach back that year still
                // lists its days: its rows count then.
                if members > 0 || !daily {
                    *total = members;
                }
            }
        }
        days.iter()
            .zip(&absent)
            .map(|(&d, &a)| {
                (d >= min_days.max(1)).then(|| (1.0 - f64::from(a) / f64::from(d)).max(0.0))
            })
            .collect()
    }
}

// ---- the result --------------------------------------------------------------------------

/// Attendance of a snapshot, aggregated per enrolled student and date.
#[derive(Debug)]
pub struct Attendance {
    pub as_of: NaiveDate,
    pub school_year: i32,
    pub year_start: NaiveDate,
    pub year_end: NaiveDate,
    pub mode: AttendanceMode,
    /// Accepted rows coded P (a daily export has them; an exception-only one has none).
    pub present_rows: u64,
    /// The latest date of an accepted row.
    pub latest_row: Option<NaiveDate>,
    grid: DayGrid,
    /// Accepted rows covering part of a day, in the school year, by student and day.
    partial: Vec<Partial>,
    /// Membership days from enrollment.csv and calendar.csv, when the snapshot has both.
    membership: Option<Membership>,
    /// The students' counts, or the whole district's for a partition: the school days.
    counts: DistrictDays,
}

/// The row parser of a snapshot's attendance: a CSV file is parsed here from the export's own
/// text, so the mapping's date format and codes apply here; Parquet batches come through the
/// input module's scan, which has already made them canonical.
fn parser<'a>(
    raw: &'a RawFile,
    index: &'a StudentIndex,
    membership: Option<&'a Membership>,
    no_codes: &'a std::collections::BTreeMap<String, String>,
    config: &'a Config,
) -> RowParser<'a> {
    match &raw.source {
        Source::Csv(layout) => {
            RowParser::new(index, &layout.date_format, &config.input.attendance_codes)
        }
        // Staged from a CSV file: the export's own text, as above.
        Source::Parquet(batches) => match batches.raw_date_format() {
            Some(format) => RowParser::new(index, format, &config.input.attendance_codes),
            None => RowParser::new(index, DATE_FORMAT, no_codes),
        },
    }
    .with_membership(membership)
}

/// What the first pass over the file found.
struct FirstPass {
    grid: DayGrid,
    partial: Vec<Partial>,
    rejected: Vec<Rejected>,
    /// Rows read (those the reader rejected included).
    rows_read: u64,
    reader_flags: Vec<ReaderFlag>,
    out_of_scope: u64,
    /// The counts the school days and the default as-of date are made of.
    counts: DistrictDays,
}

/// The first pass: every accepted row into the grid, every rejected row listed.
fn first_pass(raw: &RawFile, parser: &RowParser, index: &StudentIndex) -> Result<FirstPass> {
    let fix = |sink: &mut Aggregate, first: u64| {
        for r in &mut sink.rejected {
            r.line += first;
        }
        for p in &mut sink.partial {
            p.line += first;
        }
    };
    let first = run_pass(
        raw,
        parser,
        parser.membership.is_some(),
        || Aggregate {
            grid: DayGrid::new(index.len),
            partial: Vec::new(),
            rejected: Vec::new(),
            rows: 0,
            present_rows: 0,
            out_of_scope: 0,
        },
        fix,
    )?;
    // A staged partition has the reader's flags when it is the first
    // ([`crate::ingest::staging`]).
    let reader_flags = first.flags;
    // Rows the reader rejected are rows read too.
    let rows_read: u64 =
        first.sinks.iter().map(|s| s.rows).sum::<u64>() + reader_flags.len() as u64;
    let mut rejected = Vec::new();
    let mut grid = DayGrid::new(index.len);
    let (mut partial, mut present_rows, mut out_of_scope) = (Vec::new(), 0, 0);
    for sink in first.sinks {
        out_of_scope += sink.out_of_scope;
        rejected.extend(sink.rejected);
        partial.extend(sink.partial);
        present_rows += sink.present_rows;
        grid = grid.merge(sink.grid);
    }
    let grid = grid.finish();
    let latest_row = grid
        .dates
        .last()
        .copied()
        .into_iter()
        .chain(partial.iter().map(|p| p.day))
        .max()
        .and_then(NaiveDate::from_num_days_from_ce_opt);
    let counts = DistrictDays {
        students: index.len,
        students_on: (0..grid.dates.len())
            .filter_map(|slot| {
                let date = NaiveDate::from_num_days_from_ce_opt(grid.dates[slot])?;
                Some((date, grid.students_on(slot)))
            })
            .collect(),
        latest_row,
        present_rows,
        as_of: None,
    };
    Ok(FirstPass {
        grid,
        partial,
        rejected,
        rows_read,
        reader_flags,
        out_of_scope,
        counts,
    })
}

/// The attendance facts of the students of `index` (a partition's) that the district's
/// school days and default as-of date are made of ([`DistrictDays`]): one pass, nothing
/// listed.
pub fn district_days(
    raw: &RawFile,
    index: &StudentIndex,
    membership: Option<&Membership>,
    config: &Config,
) -> Result<DistrictDays> {
    let no_codes = std::collections::BTreeMap::new();
    let parser = parser(raw, index, membership, &no_codes, config);
    Ok(first_pass(raw, &parser, index)?.counts)
}

/// Reads and aggregates attendance.csv (or .parquet) of a snapshot, through the mapping
/// `config.input`. `students` are the accepted students.csv rows; the as-of date is `as_of` or
/// else the contract's default. Returns the attendance, the file's row counts and its rejected
/// rows (sorted by line). The school days and the default as-of date come from the students'
/// counts: the file's own, or for a partition the district's (`district`, with its as-of
/// date).
pub fn read(
    raw: &RawFile,
    index: &StudentIndex,
    as_of: Option<NaiveDate>,
    membership: Option<Membership>,
    mode: AttendanceMode,
    config: &Config,
    district: Option<&DistrictDays>,
) -> Result<(Attendance, FileQuality, DataFrame)> {
    let no_codes = std::collections::BTreeMap::new();
    let parser = parser(raw, index, membership.as_ref(), &no_codes, config);
    // Rejected dates name the export's format, as in the other files.
    let date_format = config.input.date_format(raw.spec.stem());
    let FirstPass {
        grid,
        mut partial,
        mut rejected,
        rows_read,
        reader_flags,
        out_of_scope,
        counts,
    } = first_pass(raw, &parser, index)?;
    let counts = district.cloned().unwrap_or(counts);
    let (latest_row, present_rows) = (counts.latest_row, counts.present_rows);
    let inferred = || {
        match mode {
        AttendanceMode::Exceptions => "no accepted attendance row, so the as-of date cannot be inferred; pass --as-of".to_string(),
        AttendanceMode::Daily => format!(
            "no date has attendance rows for {:.0}% of the enrolled students, so the as-of date cannot be inferred; pass --as-of",
            config.attendance.school_day_min_share * 100.0
        ),
    }
    };
    let as_of = match as_of.or(counts.as_of) {
        Some(date) => date,
        None => counts
            .default_as_of(mode, config)
            .ok_or_else(|| EwsError::BadFile {
                path: raw.path.clone(),
                message: inferred(),
            })?,
    };
    let school_year = config.school_year_of(as_of);
    let year_start = config.school_year_first_day(school_year);
    let year_end = config.school_year_first_day(school_year + 1) - chrono::Days::new(1);
    // Rows of the earlier years read (`history.years`) are accepted: the prior-year features.
    let history_start = config.history.first_day(config, school_year);
    let in_year = grid.slots_between(history_start, year_end);
    let outside_rows: u64 =
        grid.rows.iter().sum::<u64>() - grid.rows[in_year.clone()].iter().sum::<u64>();
    let in_year_day =
        |day: i32| (year_start.num_days_from_ce()..=year_end.num_days_from_ce()).contains(&day);
    let outside_partial = partial.iter().filter(|p| !in_year_day(p.day)).count() as u64;
    // Partial rows outside the year are listed by the second pass; exact duplicates of the
    // others here.
    partial.retain(|p| in_year_day(p.day));
    let (partial, exact_duplicates) = dedupe_partials(partial);
    rejected.extend(exact_duplicates);
    let counted = grid.slots_between(year_start, as_of);
    let duplicate_rows: u64 = counted
        .clone()
        .map(|slot| grid.rows[slot] - grid.students_on(slot))
        .sum();

    if outside_rows + outside_partial + duplicate_rows > 0 {
        let late = run_pass(
            raw,
            &parser,
            parser.membership.is_some(),
            || ListLate {
                grid: &grid,
                year: (
                    history_start.num_days_from_ce(),
                    year_end.num_days_from_ce(),
                ),
                as_of: as_of.num_days_from_ce(),
                outside: Vec::new(),
                repeated: Vec::new(),
            },
            |sink, first| {
                for r in &mut sink.outside {
                    r.line += first;
                }
                for r in &mut sink.repeated {
                    r.3 += first;
                }
            },
        )?;
        let mut repeated = Vec::new();
        for sink in late.sinks {
            rejected.extend(sink.outside);
            repeated.extend(sink.repeated);
        }
        rejected.extend(duplicates(repeated));
    }

    rejected.sort_by_key(|r| r.line);
    let mut rejects = rejects_frame(
        &rejected,
        raw.spec.name,
        date_format,
        (history_start, year_end),
    )?;
    if !reader_flags.is_empty() {
        rejects = crate::ingest::quality::reader_rejects(raw.spec.name, &reader_flags)?
            .vstack(&rejects)?
            .sort(
                ["line"],
                SortMultipleOptions::default().with_maintain_order(true),
            )?;
    }
    let mut quality = FileQuality::new(raw.spec.name, raw.path.clone(), rows_read);
    quality.out_of_scope = out_of_scope;
    let attendance = Attendance {
        as_of,
        school_year,
        year_start,
        year_end,
        mode,
        present_rows,
        latest_row,
        grid,
        partial,
        membership,
        counts,
    };
    Ok((attendance, quality, rejects))
}

fn rejects_frame(
    rejected: &[Rejected],
    file: &'static str,
    date_format: &str,
    year: (NaiveDate, NaiveDate),
) -> Result<DataFrame> {
    let reasons: Vec<(&str, String)> = Rule::ALL
        .into_iter()
        .map(|rule| reason(rule, date_format, year))
        .collect();
    crate::ingest::quality::rejects_frame(
        file,
        rejected.iter().map(|r| {
            let (column, reason) = &reasons[r.rule as usize];
            RejectRow {
                line: r.line,
                column,
                value: r.value.as_deref(),
                reason,
                action: Action::Reject,
            }
        }),
    )
}

impl Attendance {
    /// District school days from the first day of the school year to the as-of date.
    pub fn school_days(&self, config: &Config) -> Vec<NaiveDate> {
        if let Some(m) = &self.membership {
            return m.calendars.district_days(self.year_start, self.as_of);
        }
        self.counts.school_days(self.year_start, self.as_of, config)
    }

    /// Accepted rows of the school year dated after the as-of date (ignored, counted).
    pub fn rows_after_as_of(&self) -> u64 {
        let after = self.as_of.succ_opt().unwrap_or(self.as_of);
        let partial_after = self
            .partial
            .iter()
            .filter(|p| p.day > self.as_of.num_days_from_ce())
            .count() as u64;
        self.grid
            .slots_between(after, self.year_end)
            .map(|slot| self.grid.rows[slot])
            .sum::<u64>()
            + partial_after
    }

    /// The membership days, when enrollment.csv and calendar.csv give them.
    pub fn membership(&self) -> Option<&Membership> {
        self.membership.as_ref()
    }

    /// Instructional days of the district after the latest attendance row, up to the as-of
    /// date (exception mode: each counts as present for every member).
    pub fn days_without_events(&self) -> usize {
        let Some(latest) = self.latest_row else {
            return 0;
        };
        match (&self.membership, latest.succ_opt()) {
            (Some(m), Some(next)) if next <= self.as_of => {
                m.calendars.district_days(next, self.as_of).len()
            }
            _ => 0,
        }
    }

    /// Whether each student has any row in the school year (after the as-of date included).
    pub fn has_days_this_year(&self) -> Vec<bool> {
        if let Some(m) = &self.membership {
            let (first, last) = (
                self.year_start.num_days_from_ce(),
                self.year_end.num_days_from_ce(),
            );
            return (0..self.grid.n_students as u32)
                .map(|s| m.days(s, first, last) > 0)
                .collect();
        }
        let mut has = vec![false; self.grid.n_students];
        for p in &self.partial {
            has[p.student as usize] = true;
        }
        for slot in self.grid.slots_between(self.year_start, self.year_end) {
            self.grid
                .for_each_cell(slot, |student, _| has[student] = true);
        }
        has
    }

    /// The student-days of the school year as a frame (`student_id` from `students`, the
    /// accepted students.csv rows; `date`; `severity` rank; `rows` in the file, saturating at
    /// 31): for tests and inspection, not the pipeline.
    pub fn student_day_frame(&self, students: &DataFrame) -> Result<DataFrame> {
        let (mut student, mut date, mut severity, mut rows) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for slot in self.grid.slots_between(self.year_start, self.year_end) {
            let day = self.grid.date(slot);
            self.grid.for_each_cell(slot, |s, cell| {
                student.push(s as u32);
                date.push(day);
                severity.push(severity_of(cell) as i32);
                rows.push(rows_in(cell) as u64);
            });
        }
        let n = student.len();
        let rows_of: IdxCa = student.iter().map(|&s| s as IdxSize).collect_ca("".into());
        Ok(DataFrame::new(
            n,
            vec![
                students.column("student_id")?.take(&rows_of)?,
                Column::new("date".into(), date),
                Column::new("severity".into(), severity),
                Column::new("rows".into(), rows),
            ],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_by_hand_and_other_shapes_rejected() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(|d| d.num_days_from_ce());
        assert_eq!(iso_day(b"2026-01-14"), day(2026, 1, 14));
        assert_eq!(iso_day(b"2024-02-29"), day(2024, 2, 29));
        assert_eq!(iso_day(b"2026-1-5"), day(2026, 1, 5));
        for bad in [
            &b"2026-02-30"[..],
            b"2026-01-14 ",
            b"01/14/2026",
            b"2026-13-01",
            b"20260114",
            b"",
        ] {
            assert_eq!(iso_day(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    /// The reader's dates against the way the other files read theirs: the chunk reader's
    /// rewrite to ISO ([`crate::io::dates::canonical`]), then the row checks' polars parse.
    #[test]
    fn dates_parse_as_in_the_other_files() {
        let values = [
            "2026-01-14",
            "2026-1-5",
            "2026-01-5",
            "2024-02-29",
            "2025-02-29",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "26-01-14",
            "02026-01-14",
            "2026-001-14",
            "2026/01/14",
            "01/14/2026",
            "1/5/2026",
            "14.01.2026",
            "2026-01-14 ",
            " 2026-01-14",
            "2026-01-14T00:00",
            "2026-01-14 07:30:00",
            "01/14/2026 07:30",
            "20260114",
            "",
            "x",
            "2026--14",
            "+2026-01-14",
            "2096-03-13",
            "0001-01-01",
            "9999-12-31",
        ];
        let students = StudentIndex::new(&StringChunked::from_slice("id".into(), &["1"]));
        for format in [DATE_FORMAT, "%m/%d/%Y", "%d.%m.%Y"] {
            let rewritten: Vec<String> = values
                .iter()
                .map(|v| crate::io::dates::canonical(v, format).unwrap_or_else(|| v.to_string()))
                .collect();
            let frame = df!("d" => rewritten).unwrap();
            let expected: Vec<Option<i32>> = frame
                .lazy()
                .select([crate::ingest::columns::date("d").alias("d")])
                .collect()
                .unwrap()
                .column("d")
                .unwrap()
                .date()
                .unwrap()
                .as_date_iter()
                .map(|d| d.map(|d| d.num_days_from_ce()))
                .collect();
            let mut parser = RowParser::new(&students, format, &Default::default());
            let ours: Vec<Option<i32>> = values.iter().map(|v| parser.day(v.as_bytes())).collect();
            let differ: Vec<String> = values
                .iter()
                .zip(&ours)
                .zip(&expected)
                .filter(|((_, a), b)| a != b)
                .map(|((v, a), b)| format!("{v:?}: attendance {a:?}, other files {b:?}"))
                .collect();
            assert!(differ.is_empty(), "{format}: {differ:#?}");
        }
        // Timestamps are read as their date.
        let mut parser = RowParser::new(&students, DATE_FORMAT, &Default::default());
        assert_eq!(
            parser.day(b"2026-01-14T07:30:00"),
            parser.day(b"2026-01-14")
        );
    }

    #[test]
    fn cells_keep_the_most_severe_code_and_count_rows() {
        let p = 1 | ONE_ROW; // P
        let a = 4 | ONE_ROW; // A
        let both = merge_cells(p, a);
        assert_eq!((severity_of(both), rows_in(both)), (3, 2));
        assert_eq!(merge_cells(0, p), p);
        let mut many = p;
        for _ in 0..40 {
            many = merge_cells(many, p);
        }
        assert_eq!(rows_in(many), 31);
    }

    #[test]
    fn sparse_dates_become_dense_and_merge() {
        let mut grid = DayGrid::new(100);
        for s in 0..70 {
            grid.add(s, 10, 0);
        }
        grid.add(3, 11, 4);
        assert!(matches!(grid.columns[0], DayColumn::Dense(_)));
        assert!(matches!(grid.columns[1], DayColumn::Sparse(_)));
        let mut other = DayGrid::new(100);
        other.add(3, 10, 3);
        other.add(3, 11, 0);
        other.add(5, 9, 1);
        let grid = grid.merge(other).finish();
        assert_eq!(grid.dates, vec![9, 10, 11]);
        assert_eq!(grid.rows, vec![1, 71, 2]);
        assert_eq!(grid.students_on(1), 70);
        assert_eq!(severity_of(grid.cell(1, 3)), 3);
        assert_eq!(rows_in(grid.cell(2, 3)), 2);
        assert_eq!(severity_of(grid.cell(2, 3)), 4);
        assert_eq!(grid.cell(0, 4), 0);
    }

    #[test]
    fn duplicates_keep_the_first_most_severe_row() {
        // Student 1, day 5: lines 10 (P), 11 (A), 12 (A): line 11 is kept.
        let rejected = duplicates(vec![
            (1, 5, 0, 10),
            (1, 5, 3, 12),
            (1, 5, 3, 11),
            (2, 5, 0, 3),
        ]);
        let mut lines: Vec<u64> = rejected.iter().map(|r| r.line).collect();
        lines.sort_unstable();
        assert_eq!(lines, vec![10, 12]);
    }
}
