//! A student's records of one snapshot, drawn from the latent model: discipline and daily
//! attendance, past years' transcript with credit recovery, and (in the training snapshot)
//! the graduation outcome. This year's term marks are in `terms`.
//!
//! Every day is drawn whatever the shape; a [`DaySink`] decides what is written (the
//! canonical shape every day, the SIS shapes membership days only), so the shapes share draws.

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{ymd, Calendar};
use crate::synth::generate::draws::{chance, normal, pick_by, poisson, sigmoid, two_uniforms};
use crate::synth::generate::latent::*;
use crate::synth::generate::population::{School, Student};
use crate::synth::generate::table::Table;
use crate::synth::vocabulary::*;

/// What one school day of a student was, as drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Day {
    Present,
    Tardy,
    Excused(Part),
    Unexcused(Part),
    Suspended,
}

/// How much of an absence day was missed (the canonical shape writes every absence whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Full,
    /// Absent half the day, present the other half.
    Half,
    /// Half the day unexcused, half excused.
    Split,
}

impl Day {
    /// The canonical attendance code of the day.
    pub(super) fn code(self) -> &'static str {
        match self {
            Day::Present => "P",
            Day::Tardy => "T",
            Day::Excused(_) => "E",
            Day::Unexcused(_) => "A",
            Day::Suspended => "S",
        }
    }
}

/// Where a student's drawn days go: the shape decides which days are written and how.
pub(super) trait DaySink {
    /// Whether the student is a member of a school on school day `day` (an incident is
    /// written only then).
    fn member(&self, day: usize) -> bool;
    /// Writes (or leaves out) school day `day`.
    fn day(&mut self, day: usize, what: Day) -> Result<(), GenerateError>;
}

/// The canonical shape: one row per school day from the entry day on, at the student's school.
pub(super) struct Daily<'a> {
    pub(super) id: &'a str,
    pub(super) school: &'a str,
    pub(super) labels: &'a [String],
    pub(super) table: &'a mut Table,
}

impl DaySink for Daily<'_> {
    fn member(&self, _: usize) -> bool {
        true
    }

    fn day(&mut self, day: usize, what: Day) -> Result<(), GenerateError> {
        self.table
            .write([self.id, self.school, &self.labels[day], what.code()])
    }
}

pub(super) fn write_behavior_and_attendance(
    s: &Student,
    cal: &Calendar,
    suspended: &mut [bool],
    rng: &mut ChaCha8Rng,
    behavior: &mut Table,
    attendance: &mut impl DaySink,
) -> Result<(), GenerateError> {
    let n_days = cal.days.len();
    suspended.fill(false);
    if s.entry < n_days {
        let count = poisson(rng, (INCIDENTS.0 + INCIDENTS.1 * s.r_now).exp());
        let mut days: Vec<usize> = (0..count).map(|_| rng.gen_range(s.entry..n_days)).collect();
        days.sort_unstable();
        for day in days {
            let (kind, _, serious) = INCIDENT_TYPES[pick_by(rng, &INCIDENT_TYPES, |i| i.1)];
            let (suspension, length) = if serious {
                ("OSS", rng.gen_range(1..=5usize))
            } else if chance(rng, P_ISS) {
                ("ISS", 1)
            } else {
                ("", 0)
            };
            if suspension == "OSS" {
                for flag in suspended.iter_mut().skip(day + 1).take(length) {
                    *flag = true;
                }
            }
            if attendance.member(day) {
                behavior.write([
                    s.id.as_str(),
                    &cal.labels[day],
                    kind,
                    suspension,
                    &length.to_string(),
                ])?;
            }
        }
    }
    draw_days(s, cal, suspended, rng, attendance)
}

/// Draws every school day of `s` from the entry day up to the as-of date, in order, and hands
/// each to `sink`: the draws are the same whatever the sink writes.
pub(super) fn draw_days(
    s: &Student,
    cal: &Calendar,
    suspended: &[bool],
    rng: &mut ChaCha8Rng,
    sink: &mut impl DaySink,
) -> Result<(), GenerateError> {
    let unexcused = sigmoid(UNEXCUSED.0 + UNEXCUSED.1 * s.r_now);
    let tardy = sigmoid(TARDY.0 + TARDY.1 * s.r_now);
    let days = suspended.iter().zip(&cal.elapsed).enumerate();
    for (day, (&suspended, &elapsed)) in days.skip(s.entry) {
        let what = if suspended {
            Day::Suspended
        } else {
            let absent =
                sigmoid(ABSENCE.0 + ABSENCE.1 * s.r_now + ABSENCE_DRIFT * s.r_now * elapsed);
            // One 64-bit draw per day: the two halves decide absent/present and then the kind;
            // where in the absent range the first half fell says whether it was a partial day.
            let (u, v) = two_uniforms(rng);
            if u < absent {
                let part = match u / absent {
                    x if x < SPLIT_DAY => Part::Split,
                    x if x < SPLIT_DAY + HALF_DAY => Part::Half,
                    _ => Part::Full,
                };
                if v < unexcused {
                    Day::Unexcused(part)
                } else {
                    Day::Excused(part)
                }
            } else if v < tardy {
                Day::Tardy
            } else {
                Day::Present
            }
        };
        sink.day(day, what)?;
    }
    Ok(())
}

/// One row of students.csv; the shape decides how the grade and the cohort are written.
pub(super) fn write_student(
    students: &mut Table,
    s: &Student,
    school: &School,
    grade: &str,
    cohort: &str,
) -> Result<(), GenerateError> {
    let yes_no = |b: bool| if b { "Y" } else { "N" };
    let birth = s.birth.map(|b| b.to_string()).unwrap_or_default();
    students.write([
        s.id.as_str(),
        s.first,
        s.last,
        &school.id,
        &school.name,
        grade,
        &birth,
        cohort,
        s.gender,
        s.race,
        yes_no(s.ell),
        yes_no(s.sped),
        yes_no(s.econ),
        s.counselor,
    ])
}

/// A term percent: 82 - 10 r + N(0, 7) + the course offset, clamped to 0..=100 and rounded.
pub(super) fn draw_percent(rng: &mut ChaCha8Rng, risk: f64, course_offset: f64) -> f64 {
    (PERCENT_MEAN + PERCENT_SLOPE * risk + PERCENT_NOISE_SD * normal(rng) + course_offset)
        .clamp(0.0, 100.0)
        .round()
}

pub(super) struct CreditRow {
    pub(super) school_year: i32,
    pub(super) term: &'static str,
    pub(super) course_id: String,
    pub(super) course_name: String,
    pub(super) subject: &'static str,
    pub(super) earned: bool,
    pub(super) mark: &'static str,
    pub(super) completed: NaiveDate,
    pub(super) recovery: bool,
}

/// A completed high-school year of a student's transcript, as drawn: what `history` writes
/// that year's attendance and term marks from, so they agree with the transcript.
pub(super) struct PastYear {
    pub(super) grade: i32,
    /// That year's risk, `r + N(0, R_PAST_SD)`.
    pub(super) risk: f64,
    /// The year's courses, core first, each with its year percent.
    pub(super) courses: Vec<(&'static Course, f64)>,
}

/// Writes the transcript of the student's completed high-school years and returns those
/// years as drawn.
pub(super) fn write_credits(
    s: &Student,
    school_year: i32,
    rng: &mut ChaCha8Rng,
    credits: &mut Table,
) -> Result<Vec<PastYear>, GenerateError> {
    if s.grade <= 9 {
        return Ok(Vec::new());
    }
    let mut years: Vec<PastYear> = Vec::new();
    let mut rows: Vec<CreditRow> = Vec::new();
    // (year index, core course index) of each failed core course.
    let mut failures: Vec<(usize, usize)> = Vec::new();
    let past_years: Vec<(i32, i32)> = (9..s.grade)
        .map(|g| (g, school_year - (s.grade - g)))
        .collect();
    for (index, &(grade, year)) in past_years.iter().enumerate() {
        let r_past = s.r + R_PAST_SD * normal(rng);
        let mut year_courses = Vec::new();
        let electives = pick_electives(rng);
        let courses = CORE
            .iter()
            .enumerate()
            .map(|(i, c)| (Some(i), c))
            .chain(electives.iter().map(|&i| (None, &ELECTIVES[i])));
        for (core, course) in courses {
            let offset = COURSE_SD * normal(rng);
            let percent = draw_percent(rng, r_past, offset);
            let mark = letter(percent);
            year_courses.push((course, percent));
            if mark == "F" {
                if let Some(c) = core {
                    failures.push((index, c));
                }
            }
            rows.push(CreditRow {
                school_year: year,
                term: "Y",
                course_id: course_id(course, grade),
                course_name: course.names[(grade - 9) as usize].to_string(),
                subject: course.subject,
                earned: mark != "F",
                mark,
                completed: ymd(year, 6, 12),
                recovery: false,
            });
        }
        years.push(PastYear {
            grade,
            risk: r_past,
            courses: year_courses,
        });
    }
    for (index, core) in failures {
        let later = index + 1..past_years.len();
        if later.is_empty() || !chance(rng, CR_RETAKE) {
            continue;
        }
        let (_, year) = past_years[rng.gen_range(later)];
        let (grade, _) = past_years[index];
        let course = &CORE[core];
        let original = course_id(course, grade);
        let passed = chance(rng, CR_PASS);
        let mark = if passed {
            letter((72.0 + 5.0 * normal(rng)).clamp(60.0, 100.0).round())
        } else {
            "F"
        };
        rows.push(CreditRow {
            school_year: year,
            term: "S1",
            course_id: format!("9{}", &original[original.len() - 4..]),
            course_name: format!("CR {}", course.names[(grade - 9) as usize]),
            subject: course.subject,
            earned: passed,
            mark,
            completed: ymd(year, 1, 20),
            recovery: true,
        });
    }
    rows.sort_by_key(|r| r.completed);
    for row in rows {
        credits.write([
            s.id.as_str(),
            &row.school_year.to_string(),
            row.term,
            &row.course_id,
            &row.course_name,
            row.subject,
            "1.0",
            if row.earned { "1.0" } else { "0.0" },
            row.mark,
            &row.completed.to_string(),
            if row.recovery { "Y" } else { "N" },
        ])?;
    }
    Ok(years)
}

pub(super) fn write_outcome(
    s: &Student,
    as_of: NaiveDate,
    rng: &mut ChaCha8Rng,
    outcomes: &mut Table,
) -> Result<(), GenerateError> {
    let at_risk = chance(rng, s.p);
    let transferred = chance(rng, TRANSFER);
    let cohort_end = ymd(s.cohort, 8, 31);
    let (outcome, date) = if transferred {
        let date = (as_of + Days::new(rng.gen_range(14..=730))).min(ymd(s.cohort, 8, 30));
        ("transferred_out", date)
    } else if at_risk {
        let u: f64 = rng.gen();
        let outcome = if u < 0.40 {
            "dropped_out"
        } else if u < 0.75 {
            "graduated_late"
        } else {
            "still_enrolled"
        };
        (outcome, cohort_end)
    } else {
        ("graduated_on_time", cohort_end)
    };
    outcomes.write([s.id.as_str(), outcome, &date.to_string()])
}

/// 2 or 3 distinct electives, in list order.
pub(super) fn pick_electives(rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..ELECTIVES.len()).collect();
    all.shuffle(rng);
    all.truncate(rng.gen_range(2..=3));
    all.sort_unstable();
    all
}

pub(super) fn course_id(course: &Course, grade: i32) -> String {
    format!("{:05}", i64::from(course.code) * 1000 + i64::from(grade))
}

pub(super) fn letter(percent: f64) -> &'static str {
    pub(super) const SCALE: [(f64, &str); 11] = [
        (93.0, "A"),
        (90.0, "A-"),
        (87.0, "B+"),
        (83.0, "B"),
        (80.0, "B-"),
        (77.0, "C+"),
        (73.0, "C"),
        (70.0, "C-"),
        (67.0, "D+"),
        (63.0, "D"),
        (60.0, "D-"),
    ];
    SCALE
        .iter()
        .find(|(cut, _)| percent >= *cut)
        .map_or("F", |(_, mark)| mark)
}
