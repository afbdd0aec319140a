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
use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::contract::{ATTENDANCE_CODES, DATE_FORMAT};
use crate::ingest::input::{
    contiguous_parts, row_group_batches, CsvLayout, ParquetBatches, RawFile, Source, LINE,
};
use crate::ingest::quality::{Action, FileQuality, RejectRow};
use crate::ingest::reader::{Encoding, Fields, Problem, ReaderFlag, RecordSink};
use crate::io::error::{EwsError, Result};

/// Severity ranks of [`ATTENDANCE_CODES`] that count as present (P, T).
pub const PRESENT_MAX_SEVERITY: u8 = 1;
pub const TARDY: u8 = 1;
pub const UNEXCUSED: u8 = 3;

/// Rows per batch of a Parquet file.
const PARQUET_BATCH_ROWS: usize = 1 << 20;

// ---- the grid ----------------------------------------------------------------------------

/// A cell of the grid: the most severe code's rank + 1 in the low 3 bits (0: no row), the
/// number of rows that named this student and date (saturating at 31) in the high 5.
type Cell = u8;
const SEVERITY_BITS: u8 = 0b111;
const ONE_ROW: u8 = 1 << 3;

fn merge_cells(a: Cell, b: Cell) -> Cell {
    if a == 0 || b == 0 {
        return a | b;
    }
    let severity = (a & SEVERITY_BITS).max(b & SEVERITY_BITS);
    let rows = ((a >> 3) + (b >> 3)).min(31);
    severity | (rows << 3)
}

fn rows_in(cell: Cell) -> u8 {
    cell >> 3
}

/// Severity rank (index in [`ATTENDANCE_CODES`]) of a non-empty cell.
fn severity_of(cell: Cell) -> u8 {
    (cell & SEVERITY_BITS).saturating_sub(1)
}

/// The cells of one date. Dates with few rows (typos such as 2096-03-13, a make-up day) stay a
/// list; a date becomes dense, one byte per student, once it has enough rows to pay for it.
#[derive(Debug, Clone)]
enum DayColumn {
    Sparse(Vec<(u32, Cell)>),
    Dense(Vec<Cell>),
}

/// Attendance aggregated to (student, date): one [`Cell`] each.
#[derive(Debug, Clone)]
pub struct DayGrid {
    n_students: usize,
    /// Days from the common era (chrono's `num_days_from_ce`) of each column.
    dates: Vec<i32>,
    slot_of: FxHashMap<i32, usize>,
    /// Recently used (day, slot) pairs by day modulo its length: a school year's days never
    /// collide, so the hash map is asked once per date and worker.
    slot_cache: Vec<(i32, usize)>,
    columns: Vec<DayColumn>,
    /// Accepted rows per column (exact, unlike the cells' saturating counts).
    rows: Vec<u64>,
}

const SLOT_CACHE: usize = 512;

impl DayGrid {
    fn new(n_students: usize) -> DayGrid {
        DayGrid {
            n_students,
            dates: Vec::new(),
            slot_of: FxHashMap::default(),
            slot_cache: vec![(i32::MIN, 0); SLOT_CACHE],
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn dense_threshold(&self) -> usize {
        (self.n_students / 16).max(64)
    }

    fn slot(&mut self, day: i32) -> usize {
        let cached = &mut self.slot_cache[day.rem_euclid(SLOT_CACHE as i32) as usize];
        if cached.0 == day {
            return cached.1;
        }
        let slot = match self.slot_of.get(&day) {
            Some(&slot) => slot,
            None => {
                let slot = self.dates.len();
                self.dates.push(day);
                self.slot_of.insert(day, slot);
                self.columns.push(DayColumn::Sparse(Vec::new()));
                self.rows.push(0);
                slot
            }
        };
        *cached = (day, slot);
        slot
    }

    fn add(&mut self, student: u32, day: i32, severity: u8) {
        let slot = self.slot(day);
        self.add_cell(slot, student, (severity + 1) | ONE_ROW);
        self.rows[slot] += 1;
    }

    fn add_cell(&mut self, slot: usize, student: u32, cell: Cell) {
        let threshold = self.dense_threshold();
        let n_students = self.n_students;
        let column = &mut self.columns[slot];
        match column {
            DayColumn::Dense(cells) => {
                if let Some(c) = cells.get_mut(student as usize) {
                    *c = merge_cells(*c, cell);
                }
            }
            DayColumn::Sparse(entries) => {
                entries.push((student, cell));
                if entries.len() > threshold {
                    let mut cells = vec![0; n_students];
                    for &(s, c) in entries.iter() {
                        if let Some(slot_cell) = cells.get_mut(s as usize) {
                            *slot_cell = merge_cells(*slot_cell, c);
                        }
                    }
                    *column = DayColumn::Dense(cells);
                }
            }
        }
    }

    /// Adds the cells and row counts of `other` (another worker's part of the file).
    fn merge(mut self, other: DayGrid) -> DayGrid {
        for ((day, column), rows) in other.dates.into_iter().zip(other.columns).zip(other.rows) {
            let slot = self.slot(day);
            self.rows[slot] += rows;
            match (&mut self.columns[slot], column) {
                (DayColumn::Dense(mine), DayColumn::Dense(theirs)) => {
                    for (a, b) in mine.iter_mut().zip(theirs) {
                        *a = merge_cells(*a, b);
                    }
                }
                (DayColumn::Sparse(mine), DayColumn::Dense(theirs)) => {
                    let entries = std::mem::take(mine);
                    self.columns[slot] = DayColumn::Dense(theirs);
                    for (s, c) in entries {
                        self.add_cell(slot, s, c);
                    }
                }
                (_, DayColumn::Sparse(theirs)) => {
                    for (s, c) in theirs {
                        self.add_cell(slot, s, c);
                    }
                }
            }
        }
        self
    }

    /// Sorts the columns by date and merges repeated students of sparse columns.
    fn finish(mut self) -> DayGrid {
        let mut order: Vec<usize> = (0..self.dates.len()).collect();
        order.sort_by_key(|&i| self.dates[i]);
        let mut columns: Vec<Option<DayColumn>> = self.columns.into_iter().map(Some).collect();
        self.columns = order
            .iter()
            .filter_map(|&i| columns[i].take())
            .map(|column| match column {
                DayColumn::Sparse(mut entries) => {
                    entries.sort_unstable_by_key(|&(s, _)| s);
                    let mut merged: Vec<(u32, Cell)> = Vec::with_capacity(entries.len());
                    for (s, c) in entries {
                        match merged.last_mut() {
                            Some((last, cell)) if *last == s => *cell = merge_cells(*cell, c),
                            _ => merged.push((s, c)),
                        }
                    }
                    DayColumn::Sparse(merged)
                }
                dense => dense,
            })
            .collect();
        self.dates = order.iter().map(|&i| self.dates[i]).collect();
        self.rows = order.iter().map(|&i| self.rows[i]).collect();
        self.slot_of = self
            .dates
            .iter()
            .enumerate()
            .map(|(slot, &day)| (day, slot))
            .collect();
        self.slot_cache = vec![(i32::MIN, 0); SLOT_CACHE];
        self
    }

    fn cell(&self, slot: usize, student: u32) -> Cell {
        match &self.columns[slot] {
            DayColumn::Dense(cells) => cells.get(student as usize).copied().unwrap_or(0),
            DayColumn::Sparse(entries) => entries
                .binary_search_by_key(&student, |&(s, _)| s)
                .map(|i| entries[i].1)
                .unwrap_or(0),
        }
    }

    /// Calls `f(student, cell)` for every non-empty cell of a column.
    fn for_each_cell(&self, slot: usize, mut f: impl FnMut(usize, Cell)) {
        match &self.columns[slot] {
            DayColumn::Dense(cells) => {
                for (student, &cell) in cells.iter().enumerate() {
                    if cell != 0 {
                        f(student, cell);
                    }
                }
            }
            DayColumn::Sparse(entries) => {
                for &(student, cell) in entries {
                    f(student as usize, cell);
                }
            }
        }
    }

    /// Students with a row on the column's date.
    fn students_on(&self, slot: usize) -> u64 {
        match &self.columns[slot] {
            DayColumn::Dense(cells) => cells.iter().filter(|&&c| c != 0).count() as u64,
            DayColumn::Sparse(entries) => entries.len() as u64,
        }
    }

    fn date(&self, slot: usize) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.dates[slot]).unwrap_or(NaiveDate::MIN)
    }

    /// Slots whose date is in `first..=last`.
    fn slots_between(&self, first: NaiveDate, last: NaiveDate) -> std::ops::Range<usize> {
        let (first, last) = (first.num_days_from_ce(), last.num_days_from_ce());
        let start = self.dates.partition_point(|&d| d < first);
        let end = self.dates.partition_point(|&d| d <= last);
        start..end.max(start)
    }
}

// ---- parsing one row ---------------------------------------------------------------------

/// Why a row was rejected, in the order the rules are applied (the first failing one is
/// reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    MissingId,
    BadDate,
    UnknownCode,
    NotEnrolled,
    OutsideYear,
    Duplicate,
}

/// A rejected row, as found by a worker (its line is counted from the worker's first line
/// until [`fix_lines`]).
#[derive(Debug, Clone)]
struct Rejected {
    line: u64,
    rule: Rule,
    value: Option<String>,
}

/// What a row says once parsed.
enum Row {
    Accepted {
        student: u32,
        day: i32,
        severity: u8,
    },
    Rejected(Rule, Option<String>),
}

/// Enrolled students by id: the grid's row index is the position in students.csv's accepted
/// rows.
pub struct StudentIndex {
    ids: FxHashMap<Box<[u8]>, u32>,
    len: usize,
}

impl StudentIndex {
    /// Whether `id` is a student of students.csv.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id.as_bytes())
    }

    pub fn new(student_ids: &StringChunked) -> StudentIndex {
        let ids = student_ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| id.map(|id| (Box::from(id.as_bytes()), i as u32)))
            .collect();
        StudentIndex {
            ids,
            len: student_ids.len(),
        }
    }
}

/// Turns the three fields of a row into an accepted student-day or a rejection, with the
/// district's date format and attendance codes.
struct RowParser<'a> {
    students: &'a StudentIndex,
    /// The mapping's date format, when it is not the contract's ISO dates.
    date_format: Option<&'a str>,
    date_cache: FxHashMap<Vec<u8>, Option<i32>>,
    /// ISO dates by year-month-day key, direct-mapped (see [`RowParser::iso`]).
    iso_cache: Vec<(u32, Option<i32>)>,
    /// Severity rank of each code as written in the export (after the mapping).
    codes: FxHashMap<Vec<u8>, u8>,
    /// The same for one-byte codes, by byte ([`NO_CODE`] when unknown): the usual case.
    one_byte_codes: [u8; 256],
    /// The previous row's student, since exports are usually sorted by student.
    last_student: (Vec<u8>, Option<u32>),
}

impl<'a> RowParser<'a> {
    fn new(
        students: &'a StudentIndex,
        date_format: &'a str,
        mapped_codes: &std::collections::BTreeMap<String, String>,
    ) -> RowParser<'a> {
        let mut codes: FxHashMap<Vec<u8>, u8> = ATTENDANCE_CODES
            .iter()
            .enumerate()
            .filter(|(_, c)| !mapped_codes.contains_key(**c))
            .map(|(rank, c)| (c.as_bytes().to_vec(), rank as u8))
            .collect();
        for (source, canonical) in mapped_codes {
            if let Some(rank) = ATTENDANCE_CODES.iter().position(|c| c == canonical) {
                codes.insert(source.as_bytes().to_vec(), rank as u8);
            }
        }
        let mut one_byte_codes = [NO_CODE; 256];
        for (code, &rank) in &codes {
            if let [byte] = code[..] {
                one_byte_codes[byte as usize] = rank;
            }
        }
        RowParser {
            students,
            date_format: (date_format != DATE_FORMAT).then_some(date_format),
            date_cache: FxHashMap::default(),
            iso_cache: vec![(u32::MAX, None); ISO_CACHE],
            codes,
            one_byte_codes,
            last_student: (Vec::new(), None),
        }
    }

    /// A parser for another worker (the caches are per worker).
    fn clone_fresh(&self) -> Self {
        RowParser {
            students: self.students,
            date_format: self.date_format,
            date_cache: FxHashMap::default(),
            iso_cache: vec![(u32::MAX, None); ISO_CACHE],
            codes: self.codes.clone(),
            one_byte_codes: self.one_byte_codes,
            last_student: (Vec::new(), None),
        }
    }

    fn parse(&mut self, id: Option<&[u8]>, date: Option<&[u8]>, code: Option<&[u8]>) -> Row {
        let Some(id) = id.filter(|id| !blank(id)) else {
            return Row::Rejected(Rule::MissingId, id.map(text));
        };
        let Some(day) = date.and_then(|d| self.day(d)) else {
            return Row::Rejected(Rule::BadDate, date.map(text));
        };
        let Some(severity) = code.and_then(|c| self.code(c)) else {
            return Row::Rejected(Rule::UnknownCode, code.map(text));
        };
        if self.last_student.0 != id {
            self.last_student = (id.to_vec(), self.students.ids.get(id).copied());
        }
        match self.last_student.1 {
            Some(student) => Row::Accepted {
                student,
                day,
                severity,
            },
            None => Row::Rejected(Rule::NotEnrolled, Some(text(id))),
        }
    }

    fn code(&self, value: &[u8]) -> Option<u8> {
        match value {
            [byte] => Some(self.one_byte_codes[*byte as usize]).filter(|&r| r != NO_CODE),
            _ => self.codes.get(value).copied(),
        }
    }

    /// [`iso_day`] through a cache: an attendance file has a few hundred distinct dates, and
    /// the calendar arithmetic costs more than the digits.
    fn iso(&mut self, value: &[u8]) -> Option<i32> {
        let key = match value {
            [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]
                if value
                    .iter()
                    .enumerate()
                    .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit()) =>
            {
                let n = |b: &u8| (b - b'0') as u32;
                ((n(y0) * 1000 + n(y1) * 100 + n(y2) * 10 + n(y3)) * 100 + n(m0) * 10 + n(m1)) * 100
                    + n(d0) * 10
                    + n(d1)
            }
            _ => return iso_day(value),
        };
        // Month and day pick the entry (distinct for every day of a school year), the year's
        // parity separates two adjacent years.
        let entry = (key / 10_000 % 2) as usize * 512 + (key / 100 % 100 * 32 + key % 100) as usize;
        let cached = &mut self.iso_cache[entry % ISO_CACHE];
        if cached.0 != key {
            *cached = (key, iso_day(value));
        }
        cached.1
    }

    fn day(&mut self, value: &[u8]) -> Option<i32> {
        if self.date_format.is_none() && value.len() == 10 {
            return self.iso(value);
        }
        if let Some(&day) = self.date_cache.get(value) {
            return day;
        }
        // Other shapes (a mapped format, a timestamp, an unpadded ISO date) by the one date
        // parser of every file, through a cache that a file of garbage cannot grow forever.
        let format = self.date_format.unwrap_or(DATE_FORMAT);
        let day = std::str::from_utf8(value)
            .ok()
            .and_then(|v| crate::io::dates::parse(v, format))
            .map(|d| d.num_days_from_ce());
        if self.date_cache.len() >= MAX_DATE_CACHE {
            self.date_cache.clear();
        }
        self.date_cache.insert(value.to_vec(), day);
        day
    }
}

/// Distinct non-ISO date texts a parser remembers.
const MAX_DATE_CACHE: usize = 100_000;

/// A Parquet value as the CSV reader would give it: empty is missing.
fn non_empty(value: Option<&str>) -> Option<&[u8]> {
    value.filter(|v| !v.is_empty()).map(str::as_bytes)
}

/// Marks a byte that is not a one-byte attendance code.
const NO_CODE: u8 = u8::MAX;
/// Entries of the ISO date cache.
const ISO_CACHE: usize = 1024;

/// Whether a field is white space only, as the other files' `missing` rule has it (one that
/// starts with a letter or digit, nearly every one, is decided by that byte).
fn blank(value: &[u8]) -> bool {
    value.first().is_none_or(|b| !b.is_ascii_alphanumeric())
        && std::str::from_utf8(value).is_ok_and(crate::contract::is_blank)
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// An ISO date as days from the common era, accepting exactly what the other files' parse
/// accepts (chrono's `%Y-%m-%d`: `2026-1-5`, a leading space or sign; tested against it): the
/// usual `YYYY-M-D` shapes by hand, anything else by chrono.
fn iso_day(value: &[u8]) -> Option<i32> {
    fn number(digits: &[u8], widths: std::ops::RangeInclusive<usize>) -> Option<u32> {
        if !widths.contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(digits.iter().fold(0, |n, d| n * 10 + (d - b'0') as u32))
    }
    let mut parts = value.split(|&b| b == b'-');
    let fast = (|| {
        let year = number(parts.next()?, 4..=4)?;
        let month = number(parts.next()?, 1..=2)?;
        let day = number(parts.next()?, 1..=2)?;
        parts.next().is_none().then_some((year, month, day))
    })();
    match fast {
        Some((year, month, day)) => {
            NaiveDate::from_ymd_opt(year as i32, month, day).map(|d| d.num_days_from_ce())
        }
        None => std::str::from_utf8(value)
            .ok()
            .and_then(|v| crate::io::dates::parse(v, DATE_FORMAT))
            .map(|d| d.num_days_from_ce()),
    }
}

// ---- reading a CSV file in parallel parts ------------------------------------------------

/// What one pass does with each row: `line` counts from the part's first line (CSV) or is the
/// row's line (Parquet).
trait RowSink: Send {
    fn row(&mut self, parser: &mut RowParser, line: u64, fields: [Option<&[u8]>; 3]);
}

/// A pass's sink behind the shared reader: the three fields attendance needs, decoded where
/// the export is Windows-1252, and the reader's rejects kept beside.
struct CsvRows<'p, S> {
    sink: S,
    parser: RowParser<'p>,
    layout: &'p CsvLayout,
    /// Field indexes of student_id, date and code.
    wanted: [usize; 3],
    /// Rows the reader rejected (malformed, or bytes that are not text), by part line.
    flags: Vec<ReaderFlag>,
}

impl<S: RowSink> RecordSink for CsvRows<'_, S> {
    fn record(&mut self, line: u64, record: &[u8], fields: &Fields) {
        // Spelled out: an array `map` here costs measurably on 180M rows.
        let [id, date, code] = self.wanted;
        let values = [
            fields.value(record, id),
            fields.value(record, date),
            fields.value(record, code),
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
                let bad = (0..3).find(|&k| values[k].is_some_and(|v| dialect.decode(v).is_err()));
                match bad {
                    Some(k) => {
                        let bytes = values[k].unwrap_or_default();
                        let flag = self.layout.not_text(line, self.wanted[k], bytes, false);
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
    rejected: Vec<Rejected>,
    rows: u64,
}

impl RowSink for Aggregate {
    fn row(&mut self, parser: &mut RowParser, line: u64, [id, date, code]: [Option<&[u8]>; 3]) {
        self.rows += 1;
        match parser.parse(id, date, code) {
            Row::Accepted {
                student,
                day,
                severity,
            } => self.grid.add(student, day, severity),
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
    fn row(&mut self, parser: &mut RowParser, line: u64, [id, date, code]: [Option<&[u8]>; 3]) {
        let Row::Accepted {
            student,
            day,
            severity,
        } = parser.parse(id, date, code)
        else {
            return;
        };
        if day < self.year.0 || day > self.year.1 {
            self.outside.push(Rejected {
                line,
                rule: Rule::OutsideYear,
                value: Some(iso(day)),
            });
        } else if day <= self.as_of {
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
    make_sink: impl Fn() -> S + Sync,
    fix: impl Fn(&mut S, u64),
) -> Result<Pass<S>> {
    let layout = match &raw.source {
        Source::Csv(layout) => layout,
        Source::Parquet(batches) => {
            return Ok(Pass {
                sinks: parquet_pass(batches, parser, make_sink)?,
                flags: Vec::new(),
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
    let parts = layout.file.read(rayon::current_num_threads(), || CsvRows {
        sink: make_sink(),
        parser: parser.clone_fresh(),
        layout,
        wanted,
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
    let parts = contiguous_parts(
        &row_group_batches(&batches.row_groups()?, PARQUET_BATCH_ROWS),
        workers,
    );
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
                let lines = batch.column(LINE)?.cast(&DataType::UInt64)?;
                let lines = lines.u64()?;
                let ids = batch.column("student_id")?.str()?;
                let dates = batch.column("date")?.str()?;
                let codes = batch.column("code")?.str()?;
                for (((line, id), date), code) in lines
                    .iter()
                    .zip(ids.iter())
                    .zip(dates.iter())
                    .zip(codes.iter())
                {
                    sink.row(
                        &mut parser,
                        line.unwrap_or(0),
                        [non_empty(id), non_empty(date), non_empty(code)],
                    );
                }
            }
            Ok(sink)
        })
        .collect()
}

// ---- the result --------------------------------------------------------------------------

/// Attendance of a snapshot, aggregated per enrolled student and date.
#[derive(Debug)]
pub struct Attendance {
    pub as_of: NaiveDate,
    pub school_year: i32,
    pub year_start: NaiveDate,
    pub year_end: NaiveDate,
    grid: DayGrid,
}

/// Reasons of rejected rows, as in the other files' rules.
fn reason(rule: Rule, date_format: &str, year: (NaiveDate, NaiveDate)) -> (&'static str, String) {
    match rule {
        Rule::MissingId => ("student_id", crate::contract::MISSING_REASON.to_string()),
        Rule::BadDate => ("date", crate::contract::bad_date_reason(date_format)),
        Rule::UnknownCode => (
            "code",
            format!(
                "unknown attendance code (expected one of {})",
                ATTENDANCE_CODES.join(" ")
            ),
        ),
        Rule::NotEnrolled => ("student_id", crate::contract::NOT_ENROLLED_REASON.into()),
        Rule::OutsideYear => (
            "date",
            format!("date outside the school year ({} to {})", year.0, year.1),
        ),
        Rule::Duplicate => (
            "date",
            "duplicate student-day (the row with the most severe code is kept)".into(),
        ),
    }
}

/// Reads and aggregates attendance.csv (or .parquet) of a snapshot, through the mapping
/// `config.input`. `students` are the accepted students.csv rows; the as-of date is `as_of` or
/// else the contract's default. Returns the attendance, the file's row counts and its rejected
/// rows (sorted by line).
pub fn read(
    raw: &RawFile,
    index: &StudentIndex,
    as_of: Option<NaiveDate>,
    config: &Config,
) -> Result<(Attendance, FileQuality, DataFrame)> {
    // A CSV file is parsed here from the export's own text, so the mapping's date format and
    // codes apply here; Parquet batches come through the input module's scan, which has
    // already made them canonical.
    let no_codes = std::collections::BTreeMap::new();
    let parser = match &raw.source {
        Source::Csv(layout) => {
            RowParser::new(index, &layout.date_format, &config.input.attendance_codes)
        }
        Source::Parquet(_) => RowParser::new(index, DATE_FORMAT, &no_codes),
    };
    // Rejected dates name the export's format, as in the other files.
    let date_format = config.input.date_format(raw.spec.stem());
    let fix = |sink: &mut Aggregate, first: u64| {
        for r in &mut sink.rejected {
            r.line += first;
        }
    };
    let first = run_pass(
        raw,
        &parser,
        || Aggregate {
            grid: DayGrid::new(index.len),
            rejected: Vec::new(),
            rows: 0,
        },
        fix,
    )?;
    // Rows the reader rejected are rows read too.
    let rows_read: u64 = first.sinks.iter().map(|s| s.rows).sum::<u64>() + first.flags.len() as u64;
    let reader_flags = first.flags;
    let mut rejected = Vec::new();
    let mut grid = DayGrid::new(index.len);
    for sink in first.sinks {
        rejected.extend(sink.rejected);
        grid = grid.merge(sink.grid);
    }
    let grid = grid.finish();

    let as_of = match as_of {
        Some(date) => date,
        None => default_as_of(&grid, index.len, config).ok_or_else(|| EwsError::BadFile {
            path: raw.path.clone(),
            message: format!(
                "no date has attendance rows for {:.0}% of the enrolled students, so the as-of date cannot be inferred; pass --as-of",
                config.attendance.school_day_min_share * 100.0
            ),
        })?,
    };
    let school_year = config.school_year_of(as_of);
    let year_start = config.school_year_first_day(school_year);
    let year_end = config.school_year_first_day(school_year + 1) - chrono::Days::new(1);
    let in_year = grid.slots_between(year_start, year_end);
    let outside_rows: u64 =
        grid.rows.iter().sum::<u64>() - grid.rows[in_year.clone()].iter().sum::<u64>();
    let counted = grid.slots_between(year_start, as_of);
    let duplicate_rows: u64 = counted
        .clone()
        .map(|slot| grid.rows[slot] - grid.students_on(slot))
        .sum();

    if outside_rows + duplicate_rows > 0 {
        let late = run_pass(
            raw,
            &parser,
            || ListLate {
                grid: &grid,
                year: (year_start.num_days_from_ce(), year_end.num_days_from_ce()),
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
        (year_start, year_end),
    )?;
    if !reader_flags.is_empty() {
        rejects = crate::ingest::quality::reader_rejects(raw.spec.name, &reader_flags)?
            .vstack(&rejects)?
            .sort(
                ["line"],
                SortMultipleOptions::default().with_maintain_order(true),
            )?;
    }
    let quality = FileQuality::new(raw.spec.name, raw.path.clone(), rows_read);
    let attendance = Attendance {
        as_of,
        school_year,
        year_start,
        year_end,
        grid,
    };
    Ok((attendance, quality, rejects))
}

/// Of the rows of each repeated student-day, all but the first with the most severe code.
fn duplicates(mut repeated: Vec<(u32, i32, u8, u64)>) -> Vec<Rejected> {
    repeated.sort_unstable_by_key(|&(student, day, severity, line)| {
        (student, day, std::cmp::Reverse(severity), line)
    });
    let mut out = Vec::new();
    for (i, &(student, day, _, line)) in repeated.iter().enumerate() {
        let first = i == 0 || (repeated[i - 1].0, repeated[i - 1].1) != (student, day);
        if !first {
            out.push(Rejected {
                line,
                rule: Rule::Duplicate,
                value: Some(iso(day)),
            });
        }
    }
    out
}

fn rejects_frame(
    rejected: &[Rejected],
    file: &'static str,
    date_format: &str,
    year: (NaiveDate, NaiveDate),
) -> Result<DataFrame> {
    let reasons: Vec<(&str, String)> = [
        Rule::MissingId,
        Rule::BadDate,
        Rule::UnknownCode,
        Rule::NotEnrolled,
        Rule::OutsideYear,
        Rule::Duplicate,
    ]
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

/// Dates with rows for at least the configured share of `n_students`, among `slots`.
fn school_day_slots(
    grid: &DayGrid,
    slots: std::ops::Range<usize>,
    n_students: usize,
    config: &Config,
) -> Vec<usize> {
    let min_students = (config.attendance.school_day_min_share * n_students as f64)
        .ceil()
        .max(1.0);
    slots
        .filter(|&slot| grid.students_on(slot) as f64 >= min_students)
        .collect()
}

/// The contract's default as-of date: the latest school day of the whole file.
fn default_as_of(grid: &DayGrid, n_students: usize, config: &Config) -> Option<NaiveDate> {
    school_day_slots(grid, 0..grid.dates.len(), n_students, config)
        .last()
        .map(|&slot| grid.date(slot))
}

/// Per-student day counts of the school year up to the as-of date.
pub struct StudentDays {
    /// Rows of students with at least one day (index into students.csv's accepted rows).
    pub student: Vec<u32>,
    pub enrolled_days: Vec<u32>,
    pub present_days: Vec<u32>,
    pub tardy_days: Vec<u32>,
    pub unexcused_days: Vec<u32>,
    pub recent_days: Vec<u32>,
    pub recent_present_days: Vec<u32>,
}

impl Attendance {
    /// District school days from the first day of the school year to the as-of date.
    pub fn school_days(&self, config: &Config) -> Vec<NaiveDate> {
        let slots = self.grid.slots_between(self.year_start, self.as_of);
        school_day_slots(&self.grid, slots, self.grid.n_students, config)
            .into_iter()
            .map(|slot| self.grid.date(slot))
            .collect()
    }

    /// Accepted rows of the school year dated after the as-of date (ignored, counted).
    pub fn rows_after_as_of(&self) -> u64 {
        let after = self.as_of.succ_opt().unwrap_or(self.as_of);
        self.grid
            .slots_between(after, self.year_end)
            .map(|slot| self.grid.rows[slot])
            .sum()
    }

    /// Whether each student has any row in the school year (after the as-of date included).
    pub fn has_days_this_year(&self) -> Vec<bool> {
        let mut has = vec![false; self.grid.n_students];
        for slot in self.grid.slots_between(self.year_start, self.year_end) {
            self.grid
                .for_each_cell(slot, |student, _| has[student] = true);
        }
        has
    }

    /// Day counts per student from the first day of the school year to the as-of date; days
    /// from `recent_start` on are also counted as recent.
    pub fn student_days(&self, recent_start: NaiveDate) -> StudentDays {
        let n = self.grid.n_students;
        let mut counts = vec![[0u32; 6]; n];
        let recent_start = recent_start.num_days_from_ce();
        for slot in self.grid.slots_between(self.year_start, self.as_of) {
            let recent = self.grid.dates[slot] >= recent_start;
            self.grid.for_each_cell(slot, |student, cell| {
                let severity = severity_of(cell);
                let present = severity <= PRESENT_MAX_SEVERITY;
                let c = &mut counts[student];
                c[0] += 1;
                c[1] += present as u32;
                c[2] += (severity == TARDY) as u32;
                c[3] += (severity == UNEXCUSED) as u32;
                c[4] += recent as u32;
                c[5] += (recent && present) as u32;
            });
        }
        let mut days = StudentDays {
            student: Vec::new(),
            enrolled_days: Vec::new(),
            present_days: Vec::new(),
            tardy_days: Vec::new(),
            unexcused_days: Vec::new(),
            recent_days: Vec::new(),
            recent_present_days: Vec::new(),
        };
        for (student, c) in counts.iter().enumerate().filter(|(_, c)| c[0] > 0) {
            days.student.push(student as u32);
            days.enrolled_days.push(c[0]);
            days.present_days.push(c[1]);
            days.tardy_days.push(c[2]);
            days.unexcused_days.push(c[3]);
            days.recent_days.push(c[4]);
            days.recent_present_days.push(c[5]);
        }
        days
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
                .select([crate::ingest::checks::date("d").alias("d")])
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
