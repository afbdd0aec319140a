//! The day grid of attendance: one byte per enrolled student and date, holding the most
//! severe code seen and how many rows said so, so memory is bounded by students × dates,
//! never by rows.

use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashMap;

/// A cell of the grid: the most severe code's rank + 1 in the low 3 bits (0: no row), the
/// number of rows that named this student and date (saturating at 31) in the high 5.
pub(super) type Cell = u8;
pub(super) const SEVERITY_BITS: u8 = 0b111;
pub(super) const ONE_ROW: u8 = 1 << 3;

pub(super) fn merge_cells(a: Cell, b: Cell) -> Cell {
    if a == 0 || b == 0 {
        return a | b;
    }
    let severity = (a & SEVERITY_BITS).max(b & SEVERITY_BITS);
    let rows = ((a >> 3) + (b >> 3)).min(31);
    severity | (rows << 3)
}

pub(super) fn rows_in(cell: Cell) -> u8 {
    cell >> 3
}

/// Severity rank (index in [`ATTENDANCE_CODES`]) of a non-empty cell.
pub(super) fn severity_of(cell: Cell) -> u8 {
    (cell & SEVERITY_BITS).saturating_sub(1)
}

/// The cells of one date. Dates with few rows (typos such as 2096-03-13, a make-up day) stay a
/// list; a date becomes dense, one byte per student, once it has enough rows to pay for it.
#[derive(Debug, Clone)]
pub(super) enum DayColumn {
    Sparse(Vec<(u32, Cell)>),
    Dense(Vec<Cell>),
}

/// Attendance aggregated to (student, date): one [`Cell`] each.
#[derive(Debug, Clone)]
pub struct DayGrid {
    pub(super) n_students: usize,
    /// Days from the common era (chrono's `num_days_from_ce`) of each column.
    pub(super) dates: Vec<i32>,
    pub(super) slot_of: FxHashMap<i32, usize>,
    /// Recently used (day, slot) pairs by day modulo its length: a school year's days never
    /// collide, so the hash map is asked once per date and worker.
    pub(super) slot_cache: Vec<(i32, usize)>,
    pub(super) columns: Vec<DayColumn>,
    /// Accepted rows per column (exact, unlike the cells' saturating counts).
    pub(super) rows: Vec<u64>,
}

pub(super) const SLOT_CACHE: usize = 512;

impl DayGrid {
    pub(super) fn new(n_students: usize) -> DayGrid {
        DayGrid {
            n_students,
            dates: Vec::new(),
            slot_of: FxHashMap::default(),
            slot_cache: vec![(i32::MIN, 0); SLOT_CACHE],
            columns: Vec::new(),
            rows: Vec::new(),
        }
    }

    pub(super) fn dense_threshold(&self) -> usize {
        (self.n_students / 16).max(64)
    }

    pub(super) fn slot(&mut self, day: i32) -> usize {
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

    pub(super) fn add(&mut self, student: u32, day: i32, severity: u8) {
        let slot = self.slot(day);
        self.add_cell(slot, student, (severity + 1) | ONE_ROW);
        self.rows[slot] += 1;
    }

    pub(super) fn add_cell(&mut self, slot: usize, student: u32, cell: Cell) {
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
    pub(super) fn merge(mut self, other: DayGrid) -> DayGrid {
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
    pub(super) fn finish(mut self) -> DayGrid {
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

    pub(super) fn cell(&self, slot: usize, student: u32) -> Cell {
        match &self.columns[slot] {
            DayColumn::Dense(cells) => cells.get(student as usize).copied().unwrap_or(0),
            DayColumn::Sparse(entries) => entries
                .binary_search_by_key(&student, |&(s, _)| s)
                .map(|i| entries[i].1)
                .unwrap_or(0),
        }
    }

    /// Calls `f(student, cell)` for every non-empty cell of a column.
    pub(super) fn for_each_cell(&self, slot: usize, mut f: impl FnMut(usize, Cell)) {
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
    pub(super) fn students_on(&self, slot: usize) -> u64 {
        match &self.columns[slot] {
            DayColumn::Dense(cells) => cells.iter().filter(|&&c| c != 0).count() as u64,
            DayColumn::Sparse(entries) => entries.len() as u64,
        }
    }

    pub(super) fn date(&self, slot: usize) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.dates[slot]).unwrap_or(NaiveDate::MIN)
    }

    /// Slots whose date is in `first..=last`.
    pub(super) fn slots_between(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> std::ops::Range<usize> {
        let (first, last) = (first.num_days_from_ce(), last.num_days_from_ce());
        let start = self.dates.partition_point(|&d| d < first);
        let end = self.dates.partition_point(|&d| d <= last);
        start..end.max(start)
    }
}
