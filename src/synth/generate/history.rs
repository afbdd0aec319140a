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
//! - In the SIS shapes ([`SisPlace`], from [`super::sis`]) a year is also a span in enrollment.csv over the whole
//!   year at the school (a middle school of the district below grade 9), every school's
//!   calendar of the year is in calendar.csv, attendance is written on membership days
//!   (exceptions only in `sis`), and every course posts its marking periods with the marks
//!   covering them (S1, S2, Y) and `credits`. K–8 students get no earlier year (not scored).
//!
//! Every draw comes from the snapshot's history stream, so this year's rows are the same bytes,
//! in the same order, as without history; only the rows of earlier years are added.

use chrono::NaiveDate;
use rand_chacha::ChaCha8Rng;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{ymd, Calendar, Term};
use crate::synth::generate::draws::normal;
use crate::synth::generate::enrollment::{Enrollment, SchoolCalendars, Span};
use crate::synth::generate::latent::{COURSE_SD, HISTORY_TERM_SD, R_PAST_SD};
use crate::synth::generate::population::{School, Student};
use crate::synth::generate::records::{
    draw_percent, write_behavior_and_attendance, Daily, Day, DaySink, PastYear,
};
use crate::synth::generate::sis::{Membership, SisPlace};
use crate::synth::generate::table::Table;
use crate::synth::generate::terms::{cover, draw_mark_near, whole, Mark, MarkingPeriods};
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
    /// Every school's calendar of the year (the SIS shapes).
    calendars: Option<SchoolCalendars>,
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
    /// The `years` school years before `school_year`, drawing from `rng`; `schools` is the
    /// number of schools whose calendars the SIS shapes write (`None` in the canonical shape).
    pub(super) fn new(
        years: u32,
        school_year: i32,
        marking_periods: MarkingPeriods,
        schools: Option<usize>,
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
                    calendars: schools.map(|n| SchoolCalendars::new(&cal, n)),
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

    /// The earlier years' rows of calendar.csv (the SIS shapes), oldest first; `ids` are every
    /// school's ids in the calendars' order.
    pub(super) fn write_calendars(
        &self,
        ids: &[&str],
        calendar: &mut Table,
    ) -> Result<(), GenerateError> {
        for year in self.years.iter().rev() {
            if let Some(calendars) = &year.calendars {
                calendars.write(&year.cal, ids, calendar)?;
            }
        }
        Ok(())
    }

    /// Writes the earlier years of `s` (at `school`), most recent first; `transcript` is the
    /// student's completed high-school years as [`write_credits`](super::records::write_credits)
    /// drew them. `sis` places them in a SIS shape.
    pub(super) fn write(
        &mut self,
        s: &Student,
        school: &School,
        transcript: &[PastYear],
        tables: &mut HistoryTables<'_>,
        mut sis: Option<SisPlace<'_>>,
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
            // The year's discipline and every school day, as this year's are drawn.
            let past = Student {
                r_now: risk,
                entry: 0,
                grade,
                ..s.clone()
            };
            // Every high-school year is on the transcript; the others are middle school. In a
            // SIS shape, the year is a span there.
            let enrollment;
            let (school_id, mut days) = match (&mut sis, year.calendars.as_ref()) {
                (Some(place), Some(calendars)) => {
                    let index = match on_transcript {
                        Some(_) => place.high_school,
                        None if place.middle_schools.is_empty() => place.high_school,
                        None => {
                            let middle = &place.middle_schools;
                            middle.start + place.high_school % middle.len()
                        }
                    };
                    enrollment = whole_year(index, year.cal.days.len(), calendars);
                    let label = super::sis::grade_label(grade);
                    let (ids, labels) = (place.ids, &year.cal.labels);
                    enrollment.write(&s.id, label, ids, labels, place.enrollment)?;
                    let days = Membership::of(
                        &s.id,
                        &enrollment,
                        calendars,
                        ids,
                        labels,
                        tables.attendance,
                        place.exceptions,
                    );
                    (ids[index], YearDays::Membership(days))
                }
                _ => {
                    let school_id = match on_transcript {
                        Some(_) => school.id.as_str(),
                        None => middle_school.as_str(),
                    };
                    let days = Daily {
                        id: &s.id,
                        school: school_id,
                        labels: &year.cal.labels,
                        table: tables.attendance,
                    };
                    (school_id, YearDays::Daily(days))
                }
            };
            write_behavior_and_attendance(
                &past,
                &year.cal,
                &mut year.suspended,
                &mut self.rng,
                tables.behavior,
                &mut days,
            )?;
            let (core_terms, elective_terms, covering) = year.terms(self.marking_periods);
            // The SIS shapes post every course of an earlier year by its marking periods and
            // the marks covering them (S1, S2, Y); the canonical shape's electives by semester.
            let elective_terms = match sis {
                Some(_) => core_terms,
                None => elective_terms,
            };
            let courses = match on_transcript {
                Some(past) => transcript_courses(past, grade, core_terms, elective_terms),
                None => {
                    let terms = (core_terms, elective_terms);
                    middle_school_courses(grade, risk, terms, &mut self.rng)
                }
            };
            let row = YearRow {
                student_id: &s.id,
                school_id,
                school_year: &year.label,
            };
            let covering = sis.is_some().then_some(covering);
            write_marks(&row, &courses, covering, &mut self.rng, tables.grades)?;
        }
        self.students_with_history += usize::from(wrote);
        Ok(())
    }
}

impl Year {
    /// The year's marking periods of core courses and of electives, and the marks covering them
    /// (S1, S2, Y).
    fn terms(&self, marking_periods: MarkingPeriods) -> (&[Term], &[Term], [&Term; 3]) {
        let cal = &self.cal;
        match marking_periods {
            MarkingPeriods::Quarters => (
                &cal.core_terms,
                &cal.elective_terms,
                [
                    &cal.elective_terms[0],
                    &cal.elective_terms[1],
                    &cal.year_term,
                ],
            ),
            MarkingPeriods::SixWeeks => {
                let weeks = &cal.six_weeks;
                let covering = [&weeks.semesters[0], &weeks.semesters[1], &weeks.year];
                (&weeks.weeks, &weeks.semesters, covering)
            }
        }
    }
}

/// A high-school year's courses as the transcript drew them, each at its year percent.
fn transcript_courses<'c>(
    past: &PastYear,
    grade: i32,
    core_terms: &'c [Term],
    elective_terms: &'c [Term],
) -> Vec<YearCourse<'c>> {
    past.courses
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
        .collect()
}

/// A middle-school year's courses (the core subjects and physical education), each at a
/// percent drawn from the year's `risk`.
fn middle_school_courses<'c>(
    grade: i32,
    risk: f64,
    (core_terms, elective_terms): (&'c [Term], &'c [Term]),
    rng: &mut ChaCha8Rng,
) -> Vec<YearCourse<'c>> {
    let core = MIDDLE_SCHOOL_CORE.iter().map(|c| (c, core_terms));
    let elective = std::iter::once((&MIDDLE_SCHOOL_ELECTIVE, elective_terms));
    core.chain(elective)
        .map(|(&(subject, name), terms)| {
            let offset = COURSE_SD * normal(rng);
            YearCourse {
                id: format!("M{grade}{subject}"),
                name: format!("Grade {grade} {name}"),
                subject,
                percent: draw_percent(rng, risk, offset),
                terms,
            }
        })
        .collect()
}

/// Where an earlier year's days go: every school day (canonical), or membership days (SIS).
enum YearDays<'a> {
    Daily(Daily<'a>),
    Membership(Membership<'a>),
}

impl DaySink for YearDays<'_> {
    fn member(&self, day: usize) -> bool {
        match self {
            YearDays::Daily(days) => days.member(day),
            YearDays::Membership(days) => days.member(day),
        }
    }

    fn day(&mut self, day: usize, what: Day) -> Result<(), GenerateError> {
        match self {
            YearDays::Daily(days) => days.day(day, what),
            YearDays::Membership(days) => days.day(day, what),
        }
    }
}

/// A span over the whole of an earlier year at `school`: its first school day there to its
/// last, closed (the student went on to the next grade).
fn whole_year(school: usize, days: usize, calendars: &SchoolCalendars) -> Enrollment {
    let last = (0..days)
        .rev()
        .find(|&d| calendars.instructional(school, d))
        .unwrap_or(0);
    Enrollment {
        first: Span {
            school,
            from: calendars.next_instructional(school, 0),
            to: Some(last),
            exit_code: "",
        },
        second: None,
        same_day: false,
    }
}

/// The columns every grades.csv row of a student's earlier year shares.
struct YearRow<'a> {
    student_id: &'a str,
    school_id: &'a str,
    school_year: &'a str,
}

/// Every term mark of a completed year, in date order (course order, then term order within a
/// day): each a draw around its course's year percent ([`draw_mark_near`]). With `covering`
/// (S1, S2 and Y: the SIS shapes), each course also gets the marks covering its terms (S1 the
/// terms up to S1's day, S2 the others, Y both semesters; [`cover`]) and a `credits` column.
fn write_marks(
    row: &YearRow,
    courses: &[YearCourse],
    covering: Option<[&Term; 3]>,
    rng: &mut ChaCha8Rng,
    grades: &mut Table,
) -> Result<(), GenerateError> {
    // The term marks are drawn in date order (course order within a day), then the marks
    // covering them course by course. (date, course, order within the course, term, mark):
    let mut slots: Vec<(&Term, usize, usize)> = courses
        .iter()
        .enumerate()
        .flat_map(|(c, course)| course.terms.iter().enumerate().map(move |(o, t)| (t, c, o)))
        .collect();
    slots.sort_by_key(|(t, _, _)| t.date);
    let mut posted: Vec<(NaiveDate, usize, usize, &Term, Mark)> = slots
        .into_iter()
        .map(|(t, c, o)| {
            let mark = draw_mark_near(rng, courses[c].percent, HISTORY_TERM_SD);
            (t.date, c, o, t, mark)
        })
        .collect();
    if let Some([s1, s2, y]) = covering {
        for (c, course) in courses.iter().enumerate() {
            let of_course = |second: bool| -> Vec<Option<Mark>> {
                let mut marks: Vec<(usize, Mark)> = posted
                    .iter()
                    .filter(|p| p.1 == c && (p.0 > s1.date) == second)
                    .map(|p| (p.2, p.4))
                    .collect();
                marks.sort_by_key(|(o, _)| *o);
                marks.into_iter().map(|(_, m)| Some(m)).collect()
            };
            let (first, second) = (of_course(false), of_course(true));
            let (first, second) = (cover(rng, &first), cover(rng, &second));
            let year = cover(rng, &[Some(first), Some(second)]);
            let n = course.terms.len();
            posted.extend(
                [(s1, first, n), (s2, second, n + 1), (y, year, n + 2)]
                    .map(|(t, m, order)| (t.date, c, order, t, m)),
            );
        }
    }
    posted.sort_by_key(|&(date, course, order, _, _)| (date, course, order));
    let credits = covering.map(|_| "1");
    for (_, c, _, term, mark) in posted {
        let course = &courses[c];
        let mut digits = [0u8; 3];
        let percent = mark.percent.map_or(&[][..], |p| whole(p, &mut digits));
        let values: [&[u8]; 10] = [
            row.student_id.as_bytes(),
            row.school_id.as_bytes(),
            row.school_year.as_bytes(),
            term.name.as_bytes(),
            course.id.as_bytes(),
            course.name.as_bytes(),
            course.subject.as_bytes(),
            mark.mark.as_bytes(),
            percent,
            term.label.as_bytes(),
        ];
        match credits {
            None => grades.write(values)?,
            Some(credits) => grades.write(values.into_iter().chain([credits.as_bytes()]))?,
        }
    }
    Ok(())
}
