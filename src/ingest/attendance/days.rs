//! A student's days, counted: membership days (enrollment × calendar, or else the dates with a
//! row), and per day the absent and unexcused shares and whether the student was late.
//!
//! Full-day rows are cells of the [`DayGrid`] (one byte each; two for one day keep the more
//! severe code). Rows covering part of a day (`day_fraction` < 1) are few and kept beside, as
//! [`Partial`] rows; per student and day the absent shares (E, A, S) are summed and capped at
//! 1, the unexcused share (A) likewise, and a day with any T row is a tardy day (contract,
//! part 2). A full-day absence decides the day as absent; partial rows then only add their
//! unexcused share.

use chrono::Datelike;

use crate::contract::{PRESENT_MAX_SEVERITY, TARDY, UNEXCUSED};

use super::*;

/// An accepted row covering part of a school day.
#[derive(Debug, Clone, Copy)]
pub(super) struct Partial {
    pub(super) student: u32,
    pub(super) day: i32,
    pub(super) severity: u8,
    pub(super) fraction: f64,
    pub(super) line: u64,
}

/// Sorts partial rows by student and day, and takes out exact duplicates (same student, day,
/// code and fraction): the first is kept, the others are rejected rows.
pub(super) fn dedupe_partials(mut partial: Vec<Partial>) -> (Vec<Partial>, Vec<Rejected>) {
    partial.sort_unstable_by(|a, b| {
        (a.student, a.day, a.severity, a.line)
            .cmp(&(b.student, b.day, b.severity, b.line))
            .then(a.fraction.total_cmp(&b.fraction))
    });
    let mut kept: Vec<Partial> = Vec::with_capacity(partial.len());
    let mut rejected = Vec::new();
    for row in partial {
        let same = kept
            .iter()
            .rev()
            .take_while(|k| (k.student, k.day) == (row.student, row.day))
            .any(|k| k.severity == row.severity && k.fraction.to_bits() == row.fraction.to_bits());
        if same {
            rejected.push(Rejected {
                line: row.line,
                rule: Rule::ExactDuplicate,
                value: Some(iso(row.day)),
            });
        } else {
            kept.push(row);
        }
    }
    (kept, rejected)
}

/// Per-student counts of the school year up to the as-of date (shares of days, so a half-day
/// absence is 0.5).
pub struct StudentDays {
    /// Rows of students with at least one membership day (index into students.csv's accepted
    /// rows).
    pub student: Vec<u32>,
    pub enrolled_days: Vec<f64>,
    pub present_days: Vec<f64>,
    pub tardy_days: Vec<f64>,
    pub unexcused_days: Vec<f64>,
    pub recent_days: Vec<f64>,
    pub recent_present_days: Vec<f64>,
}

/// Running counts of one student.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    enrolled: f64,
    absent: f64,
    tardy: f64,
    unexcused: f64,
    recent: f64,
    recent_absent: f64,
}

impl Attendance {
    /// The share of `day` the student was absent: 1 for a full-day absence, else the partial
    /// rows' absent shares summed and capped at 1 (0 without a row).
    pub fn day_absent_share(&self, student: u32, day: i32) -> f64 {
        let full = self
            .grid
            .slot_of
            .get(&day)
            .map_or(0, |&slot| self.grid.cell(slot, student));
        if full != 0 && severity_of(full) > PRESENT_MAX_SEVERITY {
            return 1.0;
        }
        let from = self
            .partial
            .partition_point(|p| (p.student, p.day) < (student, day));
        self.partial[from..]
            .iter()
            .take_while(|p| (p.student, p.day) == (student, day))
            .filter(|p| p.severity > PRESENT_MAX_SEVERITY)
            .map(|p| p.fraction)
            .sum::<f64>()
            .min(1.0)
    }

    /// Each (student, day) with partial rows in `first..=last`, once, with the day's full-day
    /// cell (0 when the day has partial rows only).
    fn partial_days(&self, first: i32, last: i32) -> impl Iterator<Item = (u32, i32, Cell)> + '_ {
        let mut previous = None;
        self.partial
            .iter()
            .filter(move |p| {
                let new = previous != Some((p.student, p.day));
                previous = Some((p.student, p.day));
                new && (first..=last).contains(&p.day)
            })
            .map(|p| {
                let full = self
                    .grid
                    .slot_of
                    .get(&p.day)
                    .map_or(0, |&slot| self.grid.cell(slot, p.student));
                (p.student, p.day, full)
            })
    }

    /// In daily mode with membership days: the membership days (up to the as-of date) without
    /// any attendance row. A daily export lists every school day, so these are gaps in the
    /// export; they count as present, like the days of an exception-only export.
    pub fn member_days_without_row(&self) -> u64 {
        let Some(m) = &self.membership else {
            return 0;
        };
        let (first, as_of) = (
            self.year_start.num_days_from_ce(),
            self.as_of.num_days_from_ce(),
        );
        let members: u64 = (0..self.grid.n_students as u32)
            .map(|s| u64::from(m.days(s, first, as_of)))
            .sum();
        let mut with_row: u64 = self
            .grid
            .slots_between(self.year_start, self.as_of)
            .map(|slot| self.grid.students_on(slot))
            .sum();
        with_row += self
            .partial_days(first, as_of)
            .filter(|&(_, _, full)| full == 0)
            .count() as u64;
        members.saturating_sub(with_row)
    }

    /// Class periods scheduled per student (a row of students.csv) on the days of the school
    /// year up to the as-of date on which the student was not absent the whole day: the
    /// calendar's periods of each membership day, or `default` for each date with a row.
    pub fn attended_periods(&self, default: u8) -> Vec<f64> {
        let n = self.grid.n_students;
        let (first, as_of) = (
            self.year_start.num_days_from_ce(),
            self.as_of.num_days_from_ce(),
        );
        let mut periods = vec![0.0; n];
        match &self.membership {
            Some(m) => {
                // Every membership day's periods, less those of the days absent all day: a
                // full-day absence row, or partial rows adding up to the whole day.
                for (s, total) in periods.iter_mut().enumerate() {
                    *total = m.periods_between(s as u32, first, as_of, default) as f64;
                }
                for slot in self.grid.slots_between(self.year_start, self.as_of) {
                    let day = self.grid.dates[slot];
                    self.grid.for_each_cell(slot, |student, cell| {
                        if severity_of(cell) > PRESENT_MAX_SEVERITY {
                            periods[student] -=
                                f64::from(m.periods_on(student as u32, day, default));
                        }
                    });
                }
                for (student, day, full) in self.partial_days(first, as_of) {
                    let full_absent = full != 0 && severity_of(full) > PRESENT_MAX_SEVERITY;
                    if !full_absent && self.day_absent_share(student, day) >= 1.0 {
                        periods[student as usize] -= f64::from(m.periods_on(student, day, default));
                    }
                }
            }
            None => {
                for slot in self.grid.slots_between(self.year_start, self.as_of) {
                    let day = self.grid.dates[slot];
                    self.grid.for_each_cell(slot, |student, _| {
                        if self.day_absent_share(student as u32, day) < 1.0 {
                            periods[student] += f64::from(default);
                        }
                    });
                }
                // Days with partial rows only.
                for (student, day, full) in self.partial_days(first, as_of) {
                    if full == 0 && self.day_absent_share(student, day) < 1.0 {
                        periods[student as usize] += f64::from(default);
                    }
                }
            }
        }
        periods
    }

    /// Day counts per student from the first day of the school year to the as-of date. The
    /// recent window starts at `recent_start` (the district's), or with membership, `recent_n`
    /// instructional days back in the calendar of the student's latest school.
    pub fn student_days(&self, recent_start: NaiveDate, recent_n: usize) -> StudentDays {
        let n = self.grid.n_students;
        let (first, as_of) = (
            self.year_start.num_days_from_ce(),
            self.as_of.num_days_from_ce(),
        );
        let mut counts = vec![Counts::default(); n];
        let recent_starts: Vec<i32> = match &self.membership {
            Some(m) => (0..n as u32)
                .map(|s| m.recent_start(s, as_of, recent_n))
                .collect(),
            None => Vec::new(),
        };
        let district_recent = recent_start.num_days_from_ce();
        let recent_from = |student: usize| {
            recent_starts
                .get(student)
                .copied()
                .unwrap_or(district_recent)
        };
        if let Some(m) = &self.membership {
            for (s, c) in counts.iter_mut().enumerate() {
                c.enrolled = f64::from(m.days(s as u32, first, as_of));
                c.recent = f64::from(m.days(s as u32, recent_from(s).max(first), as_of));
            }
        }
        let by_rows = self.membership.is_none();
        for slot in self.grid.slots_between(self.year_start, self.as_of) {
            let day = self.grid.dates[slot];
            self.grid.for_each_cell(slot, |student, cell| {
                let severity = severity_of(cell);
                let absent = f64::from(u8::from(severity > PRESENT_MAX_SEVERITY));
                let recent = day >= recent_from(student);
                let c = &mut counts[student];
                if by_rows {
                    c.enrolled += 1.0;
                    c.recent += f64::from(u8::from(recent));
                }
                c.absent += absent;
                c.tardy += f64::from(u8::from(severity == TARDY));
                c.unexcused += f64::from(u8::from(severity == UNEXCUSED));
                if recent {
                    c.recent_absent += absent;
                }
            });
        }
        // Partial days, one (student, day) group at a time.
        let mut i = 0;
        while i < self.partial.len() {
            let (student, day) = (self.partial[i].student, self.partial[i].day);
            let mut end = i;
            let (mut absent_share, mut unexcused_share, mut late) = (0.0, 0.0, false);
            while end < self.partial.len()
                && (self.partial[end].student, self.partial[end].day) == (student, day)
            {
                let row = self.partial[end];
                if row.severity > PRESENT_MAX_SEVERITY {
                    absent_share += row.fraction;
                }
                if row.severity == UNEXCUSED {
                    unexcused_share += row.fraction;
                }
                late |= row.severity == TARDY;
                end += 1;
            }
            i = end;
            if day < first || day > as_of {
                continue;
            }
            let full = self
                .grid
                .slot_of
                .get(&day)
                .map_or(0, |&slot| self.grid.cell(slot, student));
            let full_severity = (full != 0).then(|| severity_of(full));
            let full_absent = full_severity.is_some_and(|s| s > PRESENT_MAX_SEVERITY);
            let full_unexcused = full_severity == Some(UNEXCUSED);
            let day_absent = if full_absent {
                1.0
            } else {
                absent_share.min(1.0)
            };
            let day_unexcused = (f64::from(u8::from(full_unexcused)) + unexcused_share).min(1.0);
            let recent = day >= recent_from(student as usize);
            let c = &mut counts[student as usize];
            if by_rows && full == 0 {
                c.enrolled += 1.0;
                c.recent += f64::from(u8::from(recent));
            }
            let added_absent = day_absent - f64::from(u8::from(full_absent));
            c.absent += added_absent;
            c.unexcused += day_unexcused - f64::from(u8::from(full_unexcused));
            if late && full_severity != Some(TARDY) {
                c.tardy += 1.0;
            }
            if recent {
                c.recent_absent += added_absent;
            }
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
        for (student, c) in counts.iter().enumerate().filter(|(_, c)| c.enrolled > 0.0) {
            days.student.push(student as u32);
            days.enrolled_days.push(c.enrolled);
            days.present_days.push(c.enrolled - c.absent);
            days.tardy_days.push(c.tardy);
            days.unexcused_days.push(c.unexcused);
            days.recent_days.push(c.recent);
            days.recent_present_days.push(c.recent - c.recent_absent);
        }
        days
    }
}
