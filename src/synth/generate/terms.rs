//! This year's term marks of a student (grades.csv), in every shape and with either marking
//! periods (`--marking-periods`, [`MarkingPeriods`]).
//!
//! With quarters (the default), the canonical shape posts Q1–Q4 marks of the year-long core
//! courses and S1/S2 marks of the electives. The SIS shapes post what real SIS post, the
//! grading-period marks and the marks that cover them, each row with the course's credits:
//!
//! - Year-long core courses (credits 1): Q1; Q2 and the semester mark S1 on one day; Q3; Q4,
//!   S2 and the year mark Y on the last day.
//! - Semester electives (credits 0.5), a student's electives alternating between the semesters
//!   from a drawn one: Q1, then Q2 and S1 on one day (a first-semester elective), or Q3, then
//!   Q4 and S2 on the last day.
//!
//! The quarter marks are the canonical shape's draws: a core course's Q1–Q4 are its canonical
//! marks, an elective's second quarter is its canonical mark of that semester (posted on the
//! same day) and its first quarter is drawn alike; its canonical mark of the other semester is
//! drawn and not written. A covering mark's percent is the mean of the percents it covers (a
//! semester's quarters, the year's semesters) plus N(0, [`COVER_NOISE_SD`]) cut at
//! ±[`COVER_NOISE_MAX`], rounded, clamped to 0–100 and lettered like the others, so a failed
//! semester typically has a failed quarter, though not always both; it is `I` or `W` at the
//! rate of every mark ([`INCOMPLETE`]), and so is a covering mark whose covered marks all are.
//! Every draw of the SIS shapes' own comes from the snapshot's marks stream, after the
//! student's own stream has drawn what the canonical shape draws.
//!
//! With six-week marking periods, every shape (the canonical one too) posts six-week marks and
//! the marks that cover them (posting days in [`SixWeeks`]):
//!
//! - Year-long core courses: W1, W2, W3 and S1 on W3's day; W4, W5, W6, and S2 and Y on W6's
//!   day (the last school day).
//! - Semester electives, alternating between the semesters as above: the semester's three
//!   six-week marks and its semester mark on the third's day.
//!
//! A six-week mark posted on the day a canonical mark is (W3: a core course's Q2, an elective's
//! S1; W6: Q4, S2, or the school day before them when June 12 is not one) is that canonical
//! draw, when the canonical shape drew it; every other six-week mark is drawn alike from the
//! marks stream, and the covering marks as with quarters (S1 from W1–W3, S2 from W4–W6, Y from
//! S1 and S2). The student's own stream draws what it draws with quarters, so the other files
//! do not change; the canonical shape writes the rows without `credits`, the SIS shapes with.

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{Calendar, SixWeeks, Term};
use crate::synth::generate::draws::{chance, normal};
use crate::synth::generate::latent::*;
use crate::synth::generate::population::Student;
use crate::synth::generate::records::{course_id, draw_percent, letter, pick_electives};
use crate::synth::generate::table::Table;
use crate::synth::vocabulary::{Course, CORE, ELECTIVES};

/// The marking periods whose marks `ews generate` posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MarkingPeriods {
    /// Quarters Q1–Q4 (and, in the SIS shapes, the semester and year marks covering them).
    #[default]
    Quarters,
    /// Six-week periods W1–W6 with the semester and year marks covering them, in every shape.
    SixWeeks,
}

impl MarkingPeriods {
    /// The name on the command line and in generator.json.
    pub fn name(self) -> &'static str {
        match self {
            MarkingPeriods::Quarters => "quarters",
            MarkingPeriods::SixWeeks => "six-weeks",
        }
    }
}

/// How a student's drawn marks are posted.
pub(super) enum Posting<'r> {
    /// The canonical shape's quarters: the draws themselves, without credits.
    Canonical,
    /// Quarters and the marks covering them, with credits (the SIS shapes), drawing from the
    /// snapshot's marks stream.
    Quarters(&'r mut ChaCha8Rng),
    /// Six-week marks and the marks covering them (every shape), drawing from the snapshot's
    /// marks stream; with credits in the SIS shapes.
    SixWeeks {
        marks: &'r mut ChaCha8Rng,
        credits: bool,
    },
}

/// A drawn term mark: a letter with its percent, or `I`/`W` without one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Mark {
    pub(super) mark: &'static str,
    pub(super) percent: Option<f64>,
}

impl Mark {
    pub(super) fn percent(percent: f64) -> Mark {
        Mark {
            mark: letter(percent),
            percent: Some(percent),
        }
    }
}

/// A term mark: `I` or `W` at the rate [`INCOMPLETE`], else a percent from [`draw_percent`].
pub(super) fn draw_mark(rng: &mut ChaCha8Rng, risk: f64, course_offset: f64) -> Mark {
    incomplete_or(rng, |rng| draw_percent(rng, risk, course_offset))
}

/// A term mark of a completed year whose year percent is known: `I`/`W` at the rate
/// [`INCOMPLETE`], else `percent + N(0, sd)`, clamped to 0..=100 and rounded.
pub(super) fn draw_mark_near(rng: &mut ChaCha8Rng, percent: f64, sd: f64) -> Mark {
    incomplete_or(rng, |rng| {
        (percent + sd * normal(rng)).clamp(0.0, 100.0).round()
    })
}

/// `I` or `W` at the rate [`INCOMPLETE`], else the percent `draw` draws, with its letter.
fn incomplete_or(rng: &mut ChaCha8Rng, draw: impl FnOnce(&mut ChaCha8Rng) -> f64) -> Mark {
    if chance(rng, INCOMPLETE) {
        let mark = if chance(rng, 0.5) { "I" } else { "W" };
        Mark {
            mark,
            percent: None,
        }
    } else {
        Mark::percent(draw(rng))
    }
}

/// A course a student takes this year: the course, the student's offset in it, and the terms
/// the canonical shape posts marks for.
pub(super) type Taken<'c> = (&'c Course, f64, &'c [Term]);

/// This year's posted marks; `school_on` gives the school a mark posted on a date is written
/// with, or `None` to leave it out (after a withdrawal). The draws from `rng` do not depend on
/// it, nor on the shape or the marking periods: `posting` makes the same draws quarter marks
/// and the marks that cover them ([`covering_marks`], with a `credits` column), or six-week
/// marks and the marks that cover them ([`six_week_marks`]).
pub(super) fn write_grades<'a>(
    s: &Student,
    school_on: impl Fn(NaiveDate) -> Option<&'a str>,
    cal: &Calendar,
    school_year: &str,
    rng: &mut ChaCha8Rng,
    posting: Posting<'_>,
    grades: &mut Table,
) -> Result<(), GenerateError> {
    let electives = pick_electives(rng);
    // (course, this student's course offset, its terms), core courses first.
    let courses: Vec<Taken> = CORE
        .iter()
        .map(|c| (c, &cal.core_terms[..]))
        .chain(
            electives
                .iter()
                .map(|&i| (&ELECTIVES[i], &cal.elective_terms[..])),
        )
        .map(|(c, terms)| (c, COURSE_SD * normal(rng), terms))
        .collect();
    // Posted marks in date order (stable: course order within a date).
    let mut posted: Vec<(&Term, usize)> = courses
        .iter()
        .enumerate()
        .flat_map(|(i, (_, _, terms))| terms.iter().map(move |t| (t, i)))
        .filter(|(t, _)| t.date <= cal.as_of)
        .collect();
    posted.sort_by_key(|(t, _)| t.date);
    let drawn = posted
        .into_iter()
        .map(|(term, i)| (term, i, draw_mark(rng, s.r_now, courses[i].1)));
    let mut rows = GradeRows {
        s,
        school_year,
        courses: &courses,
        ids: courses.iter().map(|c| course_id(c.0, s.grade)).collect(),
        grades,
    };
    let (marks, credits) = match posting {
        Posting::Canonical => {
            for (term, i, mark) in drawn {
                if let Some(school) = school_on(term.date) {
                    rows.write(school, term, i, mark, None)?;
                }
            }
            return Ok(());
        }
        Posting::Quarters(marks_rng) => {
            let drawn: Vec<(&Term, usize, Mark)> = drawn.collect();
            (covering_marks(s, cal, &courses, &drawn, marks_rng), true)
        }
        Posting::SixWeeks { marks, credits } => {
            let drawn: Vec<(&Term, usize, Mark)> = drawn.collect();
            (six_week_marks(s, cal, &courses, &drawn, marks), credits)
        }
    };
    for m in marks {
        if let Some(school) = school_on(m.term.date) {
            let credits = credits.then_some(m.credits);
            rows.write(school, m.term, m.course, m.mark, credits)?;
        }
    }
    Ok(())
}

/// Writes a student's rows of grades.csv.
struct GradeRows<'a> {
    s: &'a Student,
    school_year: &'a str,
    courses: &'a [Taken<'a>],
    /// The courses' ids.
    ids: Vec<String>,
    grades: &'a mut Table,
}

impl GradeRows<'_> {
    /// One row of course `course`; `credits` is the SIS shapes' extra column.
    fn write(
        &mut self,
        school: &str,
        term: &Term,
        course: usize,
        mark: Mark,
        credits: Option<&str>,
    ) -> Result<(), GenerateError> {
        let s = self.s;
        let taken = self.courses[course].0;
        let mut digits = [0u8; 3];
        let percent = mark.percent.map_or(&[][..], |p| whole(p, &mut digits));
        let row: [&[u8]; 10] = [
            s.id.as_bytes(),
            school.as_bytes(),
            self.school_year.as_bytes(),
            term.name.as_bytes(),
            self.ids[course].as_bytes(),
            taken.names[(s.grade - 9) as usize].as_bytes(),
            taken.subject.as_bytes(),
            mark.mark.as_bytes(),
            percent,
            term.label.as_bytes(),
        ];
        match credits {
            None => self.grades.write(row),
            Some(credits) => self
                .grades
                .write(row.into_iter().chain([credits.as_bytes()])),
        }
    }
}

/// A percent (a whole number 0–100) as text in `digits`: what `format!("{p:.0}")` writes,
/// without allocating.
pub(super) fn whole(percent: f64, digits: &mut [u8; 3]) -> &[u8] {
    let n = percent.clamp(0.0, 100.0).round() as u8;
    let (hundreds, tens, ones) = (n / 100, n / 10 % 10, n % 10);
    *digits = [b'0' + hundreds, b'0' + tens, b'0' + ones];
    let from = match n {
        100.. => 0,
        10..=99 => 1,
        _ => 2,
    };
    &digits[from..]
}

/// One posted mark of the SIS shapes, or of six-week marking periods.
#[derive(Clone, Copy)]
pub(super) struct SisMark<'c> {
    /// Index into the student's courses.
    pub(super) course: usize,
    pub(super) term: &'c Term,
    pub(super) mark: Mark,
    /// grades.csv `credits` (written in the SIS shapes).
    pub(super) credits: &'static str,
}

/// A student's posted marks in the SIS shapes, in date order (course order, then term order
/// within a day). `courses` are the student's courses (core first), `drawn` the canonical
/// shape's posted marks of them as (term, course index, mark).
pub(super) fn covering_marks<'c>(
    s: &Student,
    cal: &'c Calendar,
    courses: &[Taken],
    drawn: &[(&Term, usize, Mark)],
    rng: &mut ChaCha8Rng,
) -> Vec<SisMark<'c>> {
    let posted = |term: &Term| term.date <= cal.as_of;
    let canonical = |course: usize, term: &str| {
        drawn
            .iter()
            .find(|(t, c, _)| *c == course && t.name == term)
            .map(|(_, _, mark)| *mark)
    };
    let quarters = &cal.core_terms;
    let semesters = &cal.elective_terms;
    let first_semester = rng.gen_range(0..2usize);
    let mut marks = Vec::with_capacity(4 * 7 + 3 * 3);
    for (i, (_, offset, _)) in courses.iter().enumerate() {
        let mut post = |term: &'c Term, mark: Option<Mark>, credits| {
            if let Some(mark) = mark {
                marks.push(SisMark {
                    course: i,
                    term,
                    mark,
                    credits,
                });
            }
        };
        if i < CORE.len() {
            let q = quarters
                .iter()
                .map(|t| canonical(i, t.name))
                .collect::<Vec<_>>();
            let s1 = posted(&semesters[0]).then(|| cover(rng, &[q[0], q[1]]));
            let s2 = posted(&semesters[1]).then(|| cover(rng, &[q[2], q[3]]));
            let y = posted(&cal.year_term).then(|| cover(rng, &[s1, s2]));
            for (term, mark) in [
                (&quarters[0], q[0]),
                (&quarters[1], q[1]),
                (&semesters[0], s1),
                (&quarters[2], q[2]),
                (&quarters[3], q[3]),
                (&semesters[1], s2),
                (&cal.year_term, y),
            ] {
                post(term, mark, CORE_CREDITS);
            }
        } else {
            let k = (first_semester + i - CORE.len()) % 2;
            let (first, second, semester) = (&quarters[2 * k], &quarters[2 * k + 1], &semesters[k]);
            let a = posted(first).then(|| draw_mark(rng, s.r_now, *offset));
            // Posted on the semester's day, as the canonical semester mark.
            let b = canonical(i, semester.name);
            let whole = posted(semester).then(|| cover(rng, &[a, b]));
            for (term, mark) in [(first, a), (second, b), (semester, whole)] {
                post(term, mark, ELECTIVE_CREDITS);
            }
        }
    }
    marks.sort_by_key(|m| m.term.date);
    marks
}

/// A student's posted marks with six-week marking periods, in date order (course order, then
/// term order within a day), as [`covering_marks`] gives quarters: `drawn` are the canonical
/// shape's posted marks, W3 and W6 reuse those posted on their day, every other mark is drawn
/// from `rng` (the snapshot's marks stream).
pub(super) fn six_week_marks<'c>(
    s: &Student,
    cal: &'c Calendar,
    courses: &[Taken],
    drawn: &[(&Term, usize, Mark)],
    rng: &mut ChaCha8Rng,
) -> Vec<SisMark<'c>> {
    let posted = |term: &Term| term.date <= cal.as_of;
    let canonical = |course: usize, term: &str| {
        drawn
            .iter()
            .find(|(t, c, _)| *c == course && t.name == term)
            .map(|(_, _, mark)| *mark)
    };
    let SixWeeks {
        weeks,
        semesters,
        year,
    } = &cal.six_weeks;
    let first_semester = rng.gen_range(0..2usize);
    let mut marks = Vec::with_capacity(4 * 9 + 3 * 4);
    for (i, (_, offset, _)) in courses.iter().enumerate() {
        // Semester `k`'s three six-week marks, those posted: the third is the canonical mark
        // `last` of its day (of June 12 when W6 is the school day before) when the canonical
        // shape drew it, the others are drawn anew.
        let semester = |rng: &mut ChaCha8Rng, k: usize, last: &str| {
            let mut three = [None; 3];
            for (j, mark) in three.iter_mut().enumerate() {
                let reused = (j == 2).then(|| canonical(i, last)).flatten();
                *mark = posted(&weeks[3 * k + j])
                    .then(|| reused.unwrap_or_else(|| draw_mark(rng, s.r_now, *offset)));
            }
            three
        };
        let mut list: Vec<(&'c Term, Option<Mark>)> = Vec::with_capacity(9);
        let credits = if i < CORE.len() {
            let w = semester(rng, 0, "Q2");
            let s1 = posted(&semesters[0]).then(|| cover(rng, &w));
            let w2 = semester(rng, 1, "Q4");
            let s2 = posted(&semesters[1]).then(|| cover(rng, &w2));
            let y = posted(year).then(|| cover(rng, &[s1, s2]));
            list.extend(weeks[..3].iter().zip(w));
            list.push((&semesters[0], s1));
            list.extend(weeks[3..].iter().zip(w2));
            list.extend([(&semesters[1], s2), (year, y)]);
            CORE_CREDITS
        } else {
            let k = (first_semester + i - CORE.len()) % 2;
            let w = semester(rng, k, semesters[k].name);
            let whole = posted(&semesters[k]).then(|| cover(rng, &w));
            list.extend(weeks[3 * k..3 * k + 3].iter().zip(w));
            list.push((&semesters[k], whole));
            ELECTIVE_CREDITS
        };
        for (term, mark) in list {
            if let Some(mark) = mark {
                marks.push(SisMark {
                    course: i,
                    term,
                    mark,
                    credits,
                });
            }
        }
    }
    marks.sort_by_key(|m| m.term.date);
    marks
}

/// The mark covering `covered` (those posted): the mean of their percents plus the cut noise,
/// or `I`/`W`.
pub(super) fn cover(rng: &mut ChaCha8Rng, covered: &[Option<Mark>]) -> Mark {
    let noise = (COVER_NOISE_SD * normal(rng)).clamp(-COVER_NOISE_MAX, COVER_NOISE_MAX);
    if chance(rng, INCOMPLETE) {
        let mark = if chance(rng, 0.5) { "I" } else { "W" };
        return Mark {
            mark,
            percent: None,
        };
    }
    let percents = covered.iter().flatten().filter_map(|m| m.percent);
    let (sum, n) = percents.fold((0.0, 0.0), |(sum, n), p| (sum + p, n + 1.0));
    if n == 0.0 {
        // Nothing to average: the covered marks' own I or W.
        let mark = covered.iter().flatten().last().map_or("I", |m| m.mark);
        return Mark {
            mark,
            percent: None,
        };
    }
    Mark::percent((sum / n + noise).clamp(0.0, 100.0).round())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::generate::calendar::ymd;
    use rand::SeedableRng;

    fn student(r_now: f64) -> Student {
        Student {
            id: "00000001".into(),
            first: "",
            last: "",
            school: 0,
            grade: 10,
            birth: None,
            cohort: 2028,
            cohort_blank: false,
            gender: "F",
            race: "",
            ell: false,
            sped: false,
            econ: false,
            counselor: "",
            r: r_now,
            p: 0.0,
            r_now,
            entry: 0,
            retained: false,
        }
    }

    /// Every mark of a full year (as of after the last day), for many students.
    #[test]
    fn a_full_year_posts_every_term_and_covering_marks_follow_their_parts() {
        let cal = Calendar::new(2026, ymd(2026, 6, 30));
        assert_eq!(cal.core_terms[1].date, cal.elective_terms[0].date);
        assert_eq!(cal.core_terms[3].date, cal.elective_terms[1].date);
        assert_eq!(cal.year_term.date, cal.year_end);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut marks_rng = ChaCha8Rng::seed_from_u64(4);
        let (mut failed_semesters, mut with_failed_quarter, mut both_failed) = (0, 0, 0);
        let mut elective_semesters = [0; 2];
        for n in 0..3000 {
            let s = student(f64::from(n % 7) - 3.0);
            let courses: Vec<Taken> = CORE
                .iter()
                .map(|c| (c, &cal.core_terms[..]))
                .chain([0, 2, 4].map(|e| (&ELECTIVES[e], &cal.elective_terms[..])))
                .map(|(c, terms)| (c, COURSE_SD * normal(&mut rng), terms))
                .collect();
            let mut drawn = Vec::new();
            for (i, (_, offset, terms)) in courses.iter().enumerate() {
                for t in terms.iter() {
                    drawn.push((t, i, draw_mark(&mut rng, s.r_now, *offset)));
                }
            }
            let marks = covering_marks(&s, &cal, &courses, &drawn, &mut marks_rng);
            assert!(marks.windows(2).all(|w| w[0].term.date <= w[1].term.date));
            for (i, _) in courses.iter().enumerate() {
                let of: Vec<&SisMark> = marks.iter().filter(|m| m.course == i).collect();
                let terms: Vec<&str> = of.iter().map(|m| m.term.name).collect();
                let credits = if i < CORE.len() { "1" } else { "0.5" };
                assert!(of.iter().all(|m| m.credits == credits));
                let find = |name: &str| of.iter().find(|m| m.term.name == name).map(|m| m.mark);
                let covers: &[(&str, [&str; 2])] = match terms.as_slice() {
                    ["Q1", "Q2", "S1", "Q3", "Q4", "S2", "Y"] if i < CORE.len() => &[
                        ("S1", ["Q1", "Q2"]),
                        ("S2", ["Q3", "Q4"]),
                        ("Y", ["S1", "S2"]),
                    ],
                    ["Q1", "Q2", "S1"] if i >= CORE.len() => {
                        elective_semesters[0] += 1;
                        &[("S1", ["Q1", "Q2"])]
                    }
                    ["Q3", "Q4", "S2"] if i >= CORE.len() => {
                        elective_semesters[1] += 1;
                        &[("S2", ["Q3", "Q4"])]
                    }
                    other => panic!("course {i}: terms {other:?}"),
                };
                for (whole, parts) in covers {
                    let whole = find(whole).unwrap_or_else(|| panic!("{whole}"));
                    let parts = parts.map(|p| find(p).unwrap_or_else(|| panic!("{p}")));
                    let percents: Vec<f64> = parts.iter().filter_map(|m| m.percent).collect();
                    let Some(p) = whole.percent else {
                        assert!(["I", "W"].contains(&whole.mark));
                        continue;
                    };
                    assert_eq!(letter(p), whole.mark);
                    assert_eq!(p, p.round());
                    let mean = percents.iter().sum::<f64>() / percents.len() as f64;
                    assert!((p - mean).abs() <= 5.5, "{p} covers {percents:?}");
                    if whole.mark == "F" && percents.len() == 2 {
                        failed_semesters += 1;
                        let failed = parts.iter().filter(|m| m.mark == "F").count();
                        with_failed_quarter += usize::from(failed > 0);
                        both_failed += usize::from(failed == 2);
                    }
                }
            }
        }
        // Electives alternate: three per student, both semesters about as often.
        let [first, second] = elective_semesters;
        assert_eq!(first + second, 9000);
        assert!((4000..5000).contains(&first), "{first} first-semester");
        // A failed covering mark: mostly a failed part, not always both.
        assert!(failed_semesters > 500, "{failed_semesters}");
        let share = with_failed_quarter as f64 / failed_semesters as f64;
        assert!(
            share > 0.8,
            "{share} of failed covering marks have a failed part"
        );
        assert!(both_failed < with_failed_quarter, "{both_failed}");
    }

    /// A covering term and the terms it covers.
    type Covers<'a> = (&'a str, &'a [&'a str]);

    /// Every six-week mark of a full year (as of after the last day), for many students.
    #[test]
    fn a_full_year_of_six_week_marks_reuses_the_canonical_draws_of_their_day() {
        let cal = Calendar::new(2026, ymd(2026, 6, 30));
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut marks_rng = ChaCha8Rng::seed_from_u64(6);
        let mut elective_semesters = [0; 2];
        for n in 0..2000 {
            let s = student(f64::from(n % 7) - 3.0);
            let courses: Vec<Taken> = CORE
                .iter()
                .map(|c| (c, &cal.core_terms[..]))
                .chain([1, 2, 4].map(|e| (&ELECTIVES[e], &cal.elective_terms[..])))
                .map(|(c, terms)| (c, COURSE_SD * normal(&mut rng), terms))
                .collect();
            let mut drawn = Vec::new();
            for (i, (_, offset, terms)) in courses.iter().enumerate() {
                for t in terms.iter() {
                    drawn.push((t, i, draw_mark(&mut rng, s.r_now, *offset)));
                }
            }
            let canonical = |i: usize, term: &str| {
                drawn
                    .iter()
                    .find(|(t, c, _)| *c == i && t.name == term)
                    .map(|d| d.2)
            };
            let marks = six_week_marks(&s, &cal, &courses, &drawn, &mut marks_rng);
            assert!(marks.windows(2).all(|w| w[0].term.date <= w[1].term.date));
            for i in 0..courses.len() {
                let of: Vec<&SisMark> = marks.iter().filter(|m| m.course == i).collect();
                let terms: Vec<&str> = of.iter().map(|m| m.term.name).collect();
                let find = |name: &str| of.iter().find(|m| m.term.name == name).map(|m| m.mark);
                let core = i < CORE.len();
                assert!(of
                    .iter()
                    .all(|m| m.credits == if core { "1" } else { "0.5" }));
                let (covers, reused): (&[Covers], &[(&str, &str)]) = match terms.as_slice() {
                    ["W1", "W2", "W3", "S1", "W4", "W5", "W6", "S2", "Y"] if core => (
                        &[
                            ("S1", &["W1", "W2", "W3"]),
                            ("S2", &["W4", "W5", "W6"]),
                            ("Y", &["S1", "S2"]),
                        ],
                        &[("W3", "Q2"), ("W6", "Q4")],
                    ),
                    ["W1", "W2", "W3", "S1"] if !core => {
                        elective_semesters[0] += 1;
                        (&[("S1", &["W1", "W2", "W3"])], &[("W3", "S1")])
                    }
                    ["W4", "W5", "W6", "S2"] if !core => {
                        elective_semesters[1] += 1;
                        (&[("S2", &["W4", "W5", "W6"])], &[("W6", "S2")])
                    }
                    other => panic!("course {i}: terms {other:?}"),
                };
                for (week, of_canonical) in reused {
                    assert_eq!(find(week), canonical(i, of_canonical), "{week}");
                }
                for (whole, parts) in covers {
                    let whole_term = of.iter().find(|m| m.term.name == *whole);
                    let whole_term = whole_term.unwrap_or_else(|| panic!("{whole}"));
                    let parts: Vec<&SisMark> = parts
                        .iter()
                        .map(|p| of.iter().find(|m| m.term.name == *p).copied())
                        .map(|m| m.unwrap_or_else(|| panic!("{whole} without a part")))
                        .collect();
                    assert!(parts.iter().all(|p| p.term.date <= whole_term.term.date));
                    let percents: Vec<f64> = parts.iter().filter_map(|m| m.mark.percent).collect();
                    let Some(p) = whole_term.mark.percent else {
                        assert!(["I", "W"].contains(&whole_term.mark.mark));
                        continue;
                    };
                    assert_eq!(letter(p), whole_term.mark.mark);
                    let mean = percents.iter().sum::<f64>() / percents.len() as f64;
                    assert!((p - mean).abs() <= 5.5, "{p} covers {percents:?}");
                }
            }
        }
        let [first, second] = elective_semesters;
        assert_eq!(first + second, 6000);
        assert!((2600..3400).contains(&first), "{first} first-semester");
    }

    #[test]
    fn a_covering_mark_of_nothing_but_incompletes_is_incomplete() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let w = Mark {
            mark: "W",
            percent: None,
        };
        for _ in 0..200 {
            let mark = cover(&mut rng, &[Some(w), None]);
            assert!(mark.percent.is_none() && ["I", "W"].contains(&mark.mark));
        }
        let mean = cover(
            &mut ChaCha8Rng::seed_from_u64(2),
            &[Some(w), Some(Mark::percent(71.0))],
        );
        assert!(mean.percent.is_none_or(|p| (p - 71.0).abs() <= 5.0));
    }
}
