//! Class-period attendance of the SIS shapes (period_attendance.csv): exception rows only
//! (`E` or `A`, never `P`), for students of grades 6–12 (middle and high schools take period
//! attendance, elementary schools do not), on their membership days at that day's school,
//! never on a day they were absent the whole day (a full-day `E`, `A` or `S`, or a split day
//! of `A` 0.5 and `E` 0.5); a half-day absence counts as attended. Periods are `1`…`N`, N the
//! periods of that school and day in calendar.csv.
//!
//! Two sources of rows: class skippers (P = sigmoid([`SKIPPER`]) of `r_now`) miss 1 to
//! [`SKIP_PERIODS`] consecutive periods, `A`, on a share [`SKIP_DAY`] of the days they attend;
//! on every other attended day each period is absent with probability [`PERIOD_ABSENCE`],
//! `E` or `A`. Why: the class-period absence rate should carry signal (skippers are the
//! higher-risk students) without changing the daily rates.
//!
//! One draw a day decides almost every day (no absent period); the draws come from the
//! snapshot's own period stream, so every other file keeps its bytes, and `sis` and
//! `sis-daily` write the same rows.

use std::path::Path;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::io::error::GenerateError;
use crate::synth::generate::draws::{chance, sigmoid};
use crate::synth::generate::latent::*;
use crate::synth::generate::population::Student;
use crate::synth::generate::records::{Day, Part};
use crate::synth::generate::table::{FileFormat, Table};
use crate::synth::vocabulary::PERIOD_ATTENDANCE_HEADER;

/// The period numbers as written.
const PERIOD_LABELS: [&str; FULL_DAY_PERIODS] = ["1", "2", "3", "4", "5", "6", "7"];

/// What generator.json records of period_attendance.csv.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(super) struct PeriodCounts {
    /// Rows of period_attendance.csv.
    pub(super) period_rows: usize,
    /// High-school students who skip classes.
    pub(super) class_skippers: usize,
    /// Middle-school students who skip classes.
    pub(super) middle_school_class_skippers: usize,
    /// Rows of skipped classes (skippers' `A` runs).
    pub(super) skipped_periods: usize,
    /// Rows of the skippers (skipped classes and other absences).
    pub(super) period_rows_of_skippers: usize,
}

/// period_attendance.csv being written, with the stream its draws come from.
pub(super) struct PeriodAttendance {
    table: Table,
    rng: ChaCha8Rng,
    pub(super) counts: PeriodCounts,
    /// P(some period among the first `j` is absent), j = 0..=[`FULL_DAY_PERIODS`]: where the
    /// day's one uniform falls says which period is the first absent one, if any.
    first_absent: [f64; FULL_DAY_PERIODS + 1],
}

/// One student's period attendance: where rows go and whether the student skips classes.
pub(super) struct StudentPeriods<'a> {
    attendance: &'a mut PeriodAttendance,
    skipper: bool,
}

impl PeriodAttendance {
    pub(super) fn create(
        dir: &Path,
        rng: ChaCha8Rng,
        format: FileFormat,
    ) -> Result<Self, GenerateError> {
        let header = &PERIOD_ATTENDANCE_HEADER;
        let table = Table::create(dir, "period_attendance.csv", header, format)?;
        let mut first_absent = [0.0; FULL_DAY_PERIODS + 1];
        for (j, p) in first_absent.iter_mut().enumerate() {
            *p = 1.0 - (1.0 - PERIOD_ABSENCE).powi(j as i32);
        }
        Ok(PeriodAttendance {
            table,
            rng,
            counts: PeriodCounts::default(),
            first_absent,
        })
    }

    /// A student's period attendance, when their grade takes it: draws whether they skip
    /// classes (and counts the skippers).
    pub(super) fn student(&mut self, s: &Student) -> Option<StudentPeriods<'_>> {
        if s.grade < PERIOD_GRADES_FROM {
            return None;
        }
        let skipper = chance(&mut self.rng, sigmoid(SKIPPER.0 + SKIPPER.1 * s.r_now));
        if skipper && s.grade >= 9 {
            self.counts.class_skippers += 1;
        } else if skipper {
            self.counts.middle_school_class_skippers += 1;
        }
        Some(StudentPeriods {
            attendance: self,
            skipper,
        })
    }

    pub(super) fn finish(self) -> Result<(String, usize), GenerateError> {
        self.table.finish()
    }
}

impl StudentPeriods<'_> {
    /// The rows of one membership day of the student drawn as `what`; `row` is the student's
    /// id, the day's school and the date, `periods` that school's class periods that day.
    pub(super) fn day(
        &mut self,
        row: [&str; 3],
        periods: usize,
        what: Day,
    ) -> Result<(), GenerateError> {
        if matches!(
            what,
            Day::Suspended
                | Day::Excused(Part::Full | Part::Split)
                | Day::Unexcused(Part::Full | Part::Split)
        ) {
            return Ok(());
        }
        let periods = periods.min(FULL_DAY_PERIODS);
        let [id, school, date] = row;
        let pa = &mut *self.attendance;
        let mut u: f64 = pa.rng.gen();
        let written = pa.table.rows;
        if self.skipper {
            if u < SKIP_DAY {
                let length = pa.rng.gen_range(1..=SKIP_PERIODS.min(periods));
                let start = pa.rng.gen_range(0..=periods - length);
                for label in &PERIOD_LABELS[start..start + length] {
                    pa.table.write([id, school, date, label, "A"])?;
                }
                pa.counts.skipped_periods += length;
                pa.counts.period_rows_of_skippers += length;
                pa.counts.period_rows += length;
                return Ok(());
            }
            // Uniform again on the rest of the range.
            u = (u - SKIP_DAY) / (1.0 - SKIP_DAY);
        }
        // The first absent period j has P(j <= k) = first_absent[k]; the later ones are drawn
        // one by one.
        let Some(first) = (1..=periods).find(|&j| u < pa.first_absent[j]) else {
            return Ok(());
        };
        for (j, label) in PERIOD_LABELS
            .iter()
            .enumerate()
            .take(periods)
            .skip(first - 1)
        {
            if j + 1 > first && !chance(&mut pa.rng, PERIOD_ABSENCE) {
                continue;
            }
            let code = if chance(&mut pa.rng, PERIOD_EXCUSED) {
                "E"
            } else {
                "A"
            };
            pa.table.write([id, school, date, label, code])?;
        }
        let rows = pa.table.rows - written;
        pa.counts.period_rows += rows;
        if self.skipper {
            pa.counts.period_rows_of_skippers += rows;
        }
        Ok(())
    }
}
