//! Earlier school years of a synthetic snapshot (`ews generate --history-years K`): for each
//! high-school student and each of the K school years before the snapshot's, a full year of
//! daily attendance, term marks and behavior incidents, written to the snapshot's
//! attendance.csv, grades.csv and behavior.csv after the student's rows of this year.
//!
//! Why: real exports carry last year, and last year's attendance and course failures are the
//! strongest early-year signals (the prior-year features, docs/features.md). A model trained
//! on a district without history cannot learn them.
//!
//! What a year is made of:
//! - A year the transcript has (grades 9–11 of a student now in 10–12) uses the year's risk
//!   and courses [`write_credits`](super::records::write_credits) drew: each course's term
//!   marks scatter around its transcript percent, so a course failed on the transcript has
//!   failing term marks, and the attendance and discipline of the year come from the same risk.
//! - A middle-school year (below grade 9; none below grade 6) draws its own risk
//!   `r + N(0, R_PAST_SD)` from the history stream, at the feeder middle school (the high
//!   school's id with its first character replaced by `M`: `001` → `M01`), with four core
//!   courses `M<grade><subject>` and physical education.
//! - Students who entered the district late this year (a late entry day) are new to it and
//!   have no earlier year: their prior-year features are unknown, as a new entrant's are.
//!
//! Every draw comes from the snapshot's history stream, so this year's rows are the same bytes,
//! in the same order, as without history; only the rows of earlier years are added.

use rand_chacha::ChaCha8Rng;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{ymd, Calendar, Term};
use crate::synth::generate::draws::normal;
use crate::synth::generate::latent::{COURSE_SD, HISTORY_TERM_SD, R_PAST_SD};
use crate::synth::generate::population::{School, Student};
use crate::synth::generate::records::{
    draw_percent, write_behavior_and_attendance, Daily, PastYear,
};
use crate::synth::generate::table::Table;
use crate::synth::generate::terms::{draw_mark_near, whole, MarkingPeriods};
use crate::synth::vocabulary::CORE;

/// The lowest grade an earlier year is written for.
pub(super) const HISTORY_FROM_GRADE: i32 = 6;
/// The most earlier years `--history-years` writes (a grade-12 student's grades 6–11).
pub const MAX_HISTORY_YEARS: u32 = 6;

/// The middle-school courses of an earlier year: the core subjects and physical education.
const MIDDLE_SCHOOL_CORE: [(&str, &str); 4] = [
    ("ELA", "English Language Arts"),
    ("MATH", "Mathematics"),
    ("SCI", "Science"),
    ("SOC", "Social Studies"),
];
const MIDDLE_SCHOOL_ELECTIVE: (&str, &str) = ("PE", "Physical Education");

/// One earlier school year of the snapshot: its calendar (every school day to June 12).
struct Year {
    /// How many years before the snapshot's (1 = last year).
    back: i32,
    /// The spring year that names it, as text for grades.csv.
    label: String,
    cal: Calendar,
    /// Suspension days of the student being written.
    suspended: Vec<bool>,
}

/// The earlier years of one snapshot, and the stream their draws come from.
pub(super) struct History {
    years: Vec<Year>,
    rng: ChaCha8Rng,
    marking_periods: MarkingPeriods,
    /// Students given at least one earlier year.
    pub(super) students_with_history: usize,
}

/// The snapshot's tables an earlier year is written to.
pub(super) struct HistoryTables<'t> {
    pub(super) attendance: &'t mut Table,
    pub(super) grades: &'t mut Table,
    pub(super) behavior: &'t mut Table,
}

/// A course of an earlier year: id, name, subject, the year's percent and the terms it posts.
struct YearCourse<'c> {
    id: String,
    name: String,
    subject: &'static str,
    percent: f64,
    terms: &'c [Term],
}

impl History {
    /// The `years` school years before `school_year`, drawing from `rng`.
    pub(super) fn new(
        years: u32,
        school_year: i32,
        marking_periods: MarkingPeriods,
        rng: ChaCha8Rng,
    ) -> Self {
        let years = (1..=years.min(MAX_HISTORY_YEARS) as i32)
            .map(|back| {
                let year = school_year - back;
                let cal = Calendar::new(year, ymd(year, 6, 12));
                Year {
                    back,
                    label: year.to_string(),
                    suspended: vec![false; cal.days.len()],
                    cal,
                }
            })
            .collect();
        History {
            years,
            rng,
            marking_periods,
            students_with_history: 0,
        }
    }

    /// Writes the earlier years of `s` (at `school`), most recent first; `transcript` is the
    /// student's completed high-school years as [`write_credits`](super::records::write_credits)
    /// drew them.
    pub(super) fn write(
        &mut self,
        s: &Student,
        school: &School,
        transcript: &[PastYear],
        tables: &mut HistoryTables<'_>,
    ) -> Result<(), GenerateError> {
        if s.entry > 0 {
            return Ok(());
        }
        let middle_school = format!("M{}", school.id.get(1..).unwrap_or_default());
        let mut wrote = false;
        for year in &mut self.years {
            let grade = s.grade - year.back;
            if grade < HISTORY_FROM_GRADE {
                break;
            }
            wrote = true;
            let on_transcript = transcript.iter().find(|p| p.grade == grade);
            let risk = match on_transcript {
                Some(past) => past.risk,
                None => s.r + R_PAST_SD * normal(&mut self.rng),
            };
            // Every high-school year is on the transcript; the others are middle school.
            let school_id = match on_transcript {
                Some(_) => school.id.as_str(),
                None => middle_school.as_str(),
            };
            // The year's discipline and every school day, as this year's are drawn.
            let past = Student {
                r_now: risk,
                entry: 0,
                grade,
                ..s.clone()
            };
            let mut days = Daily {
                id: &s.id,
                school: school_id,
                labels: &year.cal.labels,
                table: tables.attendance,
            };
            write_behavior_and_attendance(
                &past,
                &year.cal,
                &mut year.suspended,
                &mut self.rng,
                tables.behavior,
                &mut days,
            )?;
            let (core_terms, elective_terms) = match self.marking_periods {
                MarkingPeriods::Quarters => (&year.cal.core_terms, &year.cal.elective_terms),
                MarkingPeriods::SixWeeks => {
                    (&year.cal.six_weeks.weeks, &year.cal.six_weeks.semesters)
                }
            };
            let courses: Vec<YearCourse> = match on_transcript {
                Some(past) => past
                    .courses
                    .iter()
                    .map(|&(course, percent)| {
                        let core = CORE.iter().any(|c| c.code == course.code);
                        YearCourse {
                            id: super::records::course_id(course, grade),
                            name: course.names[(grade - 9).clamp(0, 3) as usize].to_string(),
                            subject: course.subject,
                            percent,
                            terms: if core { core_terms } else { elective_terms },
                        }
                    })
                    .collect(),
                None => {
                    let core = MIDDLE_SCHOOL_CORE.iter().map(|c| (c, &core_terms[..]));
                    let elective = std::iter::once((&MIDDLE_SCHOOL_ELECTIVE, &elective_terms[..]));
                    core.chain(elective)
                        .map(|(&(subject, name), terms)| {
                            let offset = COURSE_SD * normal(&mut self.rng);
                            YearCourse {
                                id: format!("M{grade}{subject}"),
                                name: format!("Grade {grade} {name}"),
                                subject,
                                percent: draw_percent(&mut self.rng, risk, offset),
                                terms,
                            }
                        })
                        .collect()
                }
            };
            write_marks(
                &s.id,
                school_id,
                &year.label,
                &courses,
                &mut self.rng,
                tables.grades,
            )?;
        }
        self.students_with_history += usize::from(wrote);
        Ok(())
    }
}

/// Every term mark of a completed year, in date order (course order within a day): each a
/// draw around its course's year percent ([`draw_mark_near`]).
fn write_marks(
    student_id: &str,
    school_id: &str,
    school_year: &str,
    courses: &[YearCourse],
    rng: &mut ChaCha8Rng,
    grades: &mut Table,
) -> Result<(), GenerateError> {
    let mut posted: Vec<(&Term, &YearCourse)> = courses
        .iter()
        .flat_map(|c| c.terms.iter().map(move |t| (t, c)))
        .collect();
    posted.sort_by_key(|(t, _)| t.date);
    for (term, course) in posted {
        let mark = draw_mark_near(rng, course.percent, HISTORY_TERM_SD);
        let mut digits = [0u8; 3];
        let percent = mark.percent.map_or(&[][..], |p| whole(p, &mut digits));
        grades.write([
            student_id.as_bytes(),
            school_id.as_bytes(),
            school_year.as_bytes(),
            term.name.as_bytes(),
            course.id.as_bytes(),
            course.name.as_bytes(),
            course.subject.as_bytes(),
            mark.mark.as_bytes(),
            percent,
            term.label.as_bytes(),
        ])?;
    }
    Ok(())
}
