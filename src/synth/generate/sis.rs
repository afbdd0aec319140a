//! The SIS shapes of `ews generate` (`--shape sis`, `--shape sis-daily`): the same district
//! written the way real Student Information System exports are, with K–8 students beside the
//! high schools, zero-padded grade levels, enrollment spans (moves, same-day transfers,
//! withdrawals), each school's calendar, attendance on membership days only, with half
//! and split days in `day_fraction`, class-period absences (module `periods`), and term marks
//! with the semester and year marks that cover them and the courses' credits (module `terms`).
//!
//! Why: the reader's part-2 rules (membership days, exception-only attendance, out-of-scope
//! grades, cohorts fixed at grade-9 entry) need data that has them, deterministically. The two
//! shapes draw the same numbers and decide every day the same way; only writing differs:
//! `sis` leaves the plain-present rows out and says so in snapshot.toml, `sis-daily` keeps them.

use std::path::Path;

use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::Calendar;
use crate::synth::generate::draws::chance;
use crate::synth::generate::enrollment::{enroll, Enrollment, SchoolCalendars};
use crate::synth::generate::latent::*;
use crate::synth::generate::periods::{PeriodAttendance, PeriodCounts, StudentPeriods};
use crate::synth::generate::population::{School, Student};
use crate::synth::generate::records::{draw_days, write_student, Day, DaySink, Part};
use crate::synth::generate::table::{FileFormat, Table};
use crate::synth::generate::terms::{write_grades, MarkingPeriods, Posting};
use crate::synth::generate::younger::{make_k8_students, Younger};
use crate::synth::vocabulary::*;

/// The shape of the files `ews generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Shape {
    /// Grades 9–12 with a row for every school day: students, attendance, grades, credits,
    /// behavior (and outcomes).
    #[default]
    Canonical,
    /// A real SIS export: K–12 students, enrollment.csv, calendar.csv, exception-only
    /// attendance (no rows for plain presence), declared in snapshot.toml,
    /// period_attendance.csv, and quarter, semester and year marks with credits in grades.csv.
    Sis,
    /// As `sis`, with an attendance row for every membership day.
    SisDaily,
}

impl Shape {
    /// The name on the command line and in generator.json.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Canonical => "canonical",
            Shape::Sis => "sis",
            Shape::SisDaily => "sis-daily",
        }
    }

    /// `sis` or `sis-daily`.
    pub fn is_sis(self) -> bool {
        self != Shape::Canonical
    }
}

/// A file written and its data rows.
pub(super) type FileRows = (String, usize);

/// What generator.json records of a snapshot in a SIS shape.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(super) struct SisCounts {
    pub(super) k8_students: usize,
    /// Students with two spans (span 1 ends with `T1`).
    pub(super) movers: usize,
    /// Movers whose second span starts on the first one's exit date.
    pub(super) same_day_transfers: usize,
    /// High-school students whose only span ends with `T2` or `DO`.
    pub(super) withdrawals: usize,
    /// Retained students whose cohort year is one earlier than their grade says.
    pub(super) retained_in_high_school: usize,
    /// Membership days with one absence row of `day_fraction` 0.5.
    pub(super) half_days: usize,
    /// Membership days with two rows, A 0.5 and E 0.5.
    pub(super) split_days: usize,
    /// period_attendance.csv.
    #[serde(flatten)]
    pub(super) periods: PeriodCounts,
}

/// One snapshot being written in a SIS shape: the schools' calendars, the K–8 students, the
/// files only these shapes have, and the side streams their draws come from (the high-school
/// students' own stream draws exactly what the canonical shape draws).
pub(super) struct SisSnapshot<'a> {
    exceptions: bool,
    high: &'a [School],
    younger: &'a Younger,
    /// Every school's id, high schools first (the calendars' order).
    ids: Vec<&'a str>,
    calendars: SchoolCalendars,
    enrollment: Table,
    calendar: Table,
    /// Moves, withdrawals and cohorts of the high-school students.
    side: ChaCha8Rng,
    /// The K–8 students and their days.
    k8_rng: ChaCha8Rng,
    /// The high-school students' covering marks (and six-week marks).
    marks: ChaCha8Rng,
    marking_periods: MarkingPeriods,
    periods: PeriodAttendance,
    k8: Vec<Student>,
    may_withdraw: bool,
    /// The counts of every file but period_attendance.csv (its own).
    counts: SisCounts,
}

/// Where a SIS snapshot's parts come from.
pub(super) struct SisPlan<'a> {
    pub(super) shape: Shape,
    pub(super) format: FileFormat,
    pub(super) marking_periods: MarkingPeriods,
    pub(super) high: &'a [School],
    pub(super) younger: &'a Younger,
    pub(super) school_year: i32,
    /// The K–8 students' id block (base, span).
    pub(super) k8_ids: (usize, usize),
    pub(super) k8_students: usize,
    pub(super) may_withdraw: bool,
    pub(super) side: ChaCha8Rng,
    pub(super) k8_rng: ChaCha8Rng,
    pub(super) marks: ChaCha8Rng,
    pub(super) periods: ChaCha8Rng,
}

impl<'a> SisSnapshot<'a> {
    /// Makes the K–8 students and writes calendar.csv (whole), snapshot.toml (for `sis`) and
    /// the headers of enrollment.csv and period_attendance.csv into `dir`.
    pub(super) fn start(
        plan: SisPlan<'a>,
        cal: &Calendar,
        dir: &Path,
    ) -> Result<Self, GenerateError> {
        let SisPlan {
            shape,
            format,
            marking_periods,
            high,
            younger,
            school_year,
            k8_ids,
            k8_students,
            may_withdraw,
            side,
            mut k8_rng,
            marks,
            periods,
        } = plan;
        let ids: Vec<&str> = high
            .iter()
            .chain(&younger.schools)
            .map(|s| s.id.as_str())
            .collect();
        let calendars = SchoolCalendars::new(cal, ids.len());
        let enrollment = Table::create(dir, "enrollment.csv", &ENROLLMENT_HEADER, format)?;
        let mut calendar = Table::create(dir, "calendar.csv", &CALENDAR_HEADER, format)?;
        calendars.write(cal, &ids, &mut calendar)?;
        let periods = PeriodAttendance::create(dir, periods, format)?;
        if shape == Shape::Sis {
            let path = dir.join("snapshot.toml");
            std::fs::write(&path, SNAPSHOT_TOML)
                .map_err(|source| GenerateError::Io { path, source })?;
        }
        let k8 = make_k8_students(school_year, k8_ids, cal, younger, k8_students, &mut k8_rng);
        Ok(SisSnapshot {
            exceptions: shape == Shape::Sis,
            high,
            younger,
            ids,
            calendars,
            enrollment,
            calendar,
            side,
            k8_rng,
            marks,
            marking_periods,
            periods,
            counts: SisCounts {
                k8_students: k8.len(),
                ..SisCounts::default()
            },
            k8,
            may_withdraw,
        })
    }

    /// A high-school student's spans (written to enrollment.csv) and cohort year as written
    /// (one year earlier for a retention in high school). Draws only from the side stream.
    pub(super) fn enroll_high_school(
        &mut self,
        s: &Student,
        cal: &Calendar,
    ) -> Result<(Enrollment, i32), GenerateError> {
        let mut cohort = s.cohort;
        if s.retained && s.grade >= 10 && chance(&mut self.side, RETAINED_IN_HIGH_SCHOOL) {
            cohort -= 1;
            self.counts.retained_in_high_school += 1;
        }
        let enrollment = enroll(
            s.school,
            0..self.high.len(),
            s.entry,
            self.may_withdraw,
            cal.days.len(),
            &self.calendars,
            &mut self.side,
        );
        self.record(s, &enrollment, cal)?;
        Ok((enrollment, cohort))
    }

    /// Counts a student's spans and writes them.
    fn record(
        &mut self,
        s: &Student,
        enrollment: &Enrollment,
        cal: &Calendar,
    ) -> Result<(), GenerateError> {
        self.counts.movers += usize::from(enrollment.moved());
        self.counts.same_day_transfers += usize::from(enrollment.same_day);
        self.counts.withdrawals += usize::from(enrollment.withdrew());
        enrollment.write(
            &s.id,
            grade_label(s.grade),
            &self.ids,
            &cal.labels,
            &mut self.enrollment,
        )
    }

    /// Where a student's drawn days go: attendance rows on membership days only, and their
    /// class periods. Draws whether the student skips classes from the period stream.
    pub(super) fn membership<'b>(
        &'b mut self,
        s: &'b Student,
        enrollment: &'b Enrollment,
        cal: &'b Calendar,
        table: &'b mut Table,
    ) -> Membership<'b> {
        let (calendars, ids) = (&self.calendars, &self.ids);
        Membership {
            periods: self.periods.student(s),
            counts: Some(&mut self.counts),
            ..Membership::of(
                &s.id,
                enrollment,
                calendars,
                ids,
                &cal.labels,
                table,
                self.exceptions,
            )
        }
    }

    /// Where a high-school student's earlier years go (module `history`).
    pub(super) fn history_place(&mut self, s: &Student) -> SisPlace<'_> {
        SisPlace {
            ids: &self.ids,
            high_school: s.school,
            middle_schools: self.high.len() + self.younger.elementary..self.ids.len(),
            enrollment: &mut self.enrollment,
            exceptions: self.exceptions,
        }
    }

    /// Every school's id (the calendars' order) and calendar.csv, for the earlier years'
    /// calendars (module `history`).
    pub(super) fn calendar_parts(&mut self) -> (&[&'a str], &mut Table) {
        (&self.ids, &mut self.calendar)
    }

    /// What generator.json records of the snapshot, so far.
    pub(super) fn counts(&self) -> SisCounts {
        SisCounts {
            periods: self.periods.counts,
            ..self.counts
        }
    }

    /// A high-school student's marks of the year ([`write_grades`] with the marks that cover
    /// others, from the marks stream, and credits), each with the school of the span its date
    /// falls in and none after a withdrawal.
    pub(super) fn write_grades(
        &mut self,
        s: &Student,
        enrollment: &Enrollment,
        cal: &Calendar,
        school_year: &str,
        rng: &mut ChaCha8Rng,
        grades: &mut Table,
    ) -> Result<(), GenerateError> {
        let ids = &self.ids;
        let school_on = |date| enrollment.school_on_date(date, &cal.days).map(|i| ids[i]);
        let marks = &mut self.marks;
        let posting = match self.marking_periods {
            MarkingPeriods::Quarters => Posting::Quarters(marks),
            MarkingPeriods::SixWeeks => Posting::SixWeeks {
                marks,
                credits: true,
            },
        };
        write_grades(s, school_on, cal, school_year, rng, posting, grades)
    }

    /// The K–8 students: their rows of students.csv, enrollment.csv and attendance.csv, and
    /// the middle-school students' of period_attendance.csv (no marks, transcript or
    /// discipline), after the high-school students'.
    pub(super) fn write_younger(
        &mut self,
        cal: &Calendar,
        suspended: &mut [bool],
        students: &mut Table,
        attendance: &mut Table,
    ) -> Result<(), GenerateError> {
        suspended.fill(false);
        let (high, elementary) = (self.high.len(), self.younger.elementary);
        let all = self.ids.len();
        let k8 = std::mem::take(&mut self.k8);
        for s in &k8 {
            let school = high + s.school;
            let level = if s.school < elementary {
                high..high + elementary
            } else {
                high + elementary..all
            };
            let enrollment = enroll(
                school,
                level,
                s.entry,
                false,
                cal.days.len(),
                &self.calendars,
                &mut self.k8_rng,
            );
            let cohort = match s.cohort_blank {
                true => String::new(),
                false => s.cohort.to_string(),
            };
            let grade = grade_label(s.grade);
            write_student(students, s, &self.younger.schools[s.school], grade, &cohort)?;
            self.record(s, &enrollment, cal)?;
            let (calendars, ids, labels) = (&self.calendars, &self.ids, &cal.labels);
            let mut sink = Membership {
                periods: self.periods.student(s),
                counts: Some(&mut self.counts),
                ..Membership::of(
                    &s.id,
                    &enrollment,
                    calendars,
                    ids,
                    labels,
                    attendance,
                    self.exceptions,
                )
            };
            draw_days(s, cal, suspended, &mut self.k8_rng, &mut sink)?;
        }
        Ok(())
    }

    /// Ends enrollment.csv and calendar.csv, and then period_attendance.csv: (file, rows) of
    /// each.
    pub(super) fn finish(self) -> Result<([FileRows; 2], FileRows), GenerateError> {
        let days = [self.enrollment.finish()?, self.calendar.finish()?];
        Ok((days, self.periods.finish()?))
    }
}

/// Where a student's earlier years go in a SIS shape: a span per year in enrollment.csv, at
/// the high school or (below grade 9) at a middle school, and attendance on its membership days.
pub(super) struct SisPlace<'t> {
    /// Every school's id, in the calendars' order (high schools first).
    pub(super) ids: &'t [&'t str],
    /// The student's high school (an index into `ids`).
    pub(super) high_school: usize,
    /// The middle schools (indices into `ids`).
    pub(super) middle_schools: std::ops::Range<usize>,
    pub(super) enrollment: &'t mut Table,
    /// Exception-only attendance (`sis`), or a row per membership day (`sis-daily`).
    pub(super) exceptions: bool,
}

/// grade_level as the SIS shapes write it: `PK`, `KG`, `01` … `12`.
pub(super) fn grade_label(grade: i32) -> &'static str {
    usize::try_from(grade + 1)
        .ok()
        .and_then(|i| GRADE_LABELS.get(i))
        .copied()
        .unwrap_or("")
}

/// Writes a student's drawn days on their membership days, at the school of that day's span:
/// every day in `sis-daily`, all but plain presence in `sis`. A half day is one row (A or E,
/// 0.5), a split day two (A 0.5, E 0.5). The student's class periods of the day, in both.
pub(super) struct Membership<'a> {
    id: &'a str,
    enrollment: &'a Enrollment,
    calendars: &'a SchoolCalendars,
    ids: &'a [&'a str],
    labels: &'a [String],
    table: &'a mut Table,
    exceptions: bool,
    /// Grades 6–12.
    periods: Option<StudentPeriods<'a>>,
    /// This year's partial days are counted for generator.json; an earlier year's are not.
    counts: Option<&'a mut SisCounts>,
}

impl<'a> Membership<'a> {
    /// A student's days by `enrollment` and `calendars`, without class periods and not counted
    /// (an earlier year's, module `history`; this year's add both).
    pub(super) fn of(
        id: &'a str,
        enrollment: &'a Enrollment,
        calendars: &'a SchoolCalendars,
        ids: &'a [&'a str],
        labels: &'a [String],
        table: &'a mut Table,
        exceptions: bool,
    ) -> Self {
        Membership {
            id,
            enrollment,
            calendars,
            ids,
            labels,
            table,
            exceptions,
            periods: None,
            counts: None,
        }
    }
}

impl DaySink for Membership<'_> {
    fn member(&self, day: usize) -> bool {
        self.enrollment.school_on(day, self.calendars).is_some()
    }

    fn day(&mut self, day: usize, what: Day) -> Result<(), GenerateError> {
        const HALF: &str = "0.5";
        let Some(school) = self.enrollment.school_on(day, self.calendars) else {
            return Ok(());
        };
        let (id, school_id, date) = (self.id, self.ids[school], self.labels[day].as_str());
        if let Some(periods) = self.periods.as_mut() {
            let count = self.calendars.periods(school, day);
            periods.day([id, school_id, date], count, what)?;
        }
        match what {
            Day::Present if self.exceptions => Ok(()),
            Day::Excused(Part::Split) | Day::Unexcused(Part::Split) => {
                if let Some(counts) = self.counts.as_mut() {
                    counts.split_days += 1;
                }
                self.table.write([id, school_id, date, "A", HALF])?;
                self.table.write([id, school_id, date, "E", HALF])
            }
            Day::Excused(Part::Half) | Day::Unexcused(Part::Half) => {
                if let Some(counts) = self.counts.as_mut() {
                    counts.half_days += 1;
                }
                self.table.write([id, school_id, date, what.code(), HALF])
            }
            _ => self.table.write([id, school_id, date, what.code(), ""]),
        }
    }
}
