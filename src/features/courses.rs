//! This school year's courses per student, from the term marks: where each (student, course)
//! has its first and its latest mark. Features count the courses a freshman is on pace to
//! pass; plans list the courses in progress and the ones at risk.
//!
//! One pass over the marks. At a million students that is ten million marks and four million
//! courses; polars' group_by on the two text keys, picking a mark by date in each group, took
//! about 18 s of a 2-core run there (docs/performance.md).

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::io::error::Result;

/// The courses of a frame of term marks (columns student_id, course_id, mark_date), in
/// the order of their first mark in the frame. Each course is a row index into that frame.
#[derive(Debug, Clone, Default)]
pub struct CourseMarks {
    /// Row of the course's first mark: the earliest mark_date (the first in the file on a tie).
    first: Vec<IdxSize>,
    /// Row of the course's latest mark: the latest mark_date (the first in the file on a tie).
    latest: Vec<IdxSize>,
}

impl CourseMarks {
    /// Groups `marks` by student and course. Marks without a student, course or date (which
    /// validation rejects) belong to no course.
    pub fn of(marks: &DataFrame) -> Result<CourseMarks> {
        let ids = crate::ingest::columns::texts(marks.column("student_id")?)?;
        let course_ids = crate::ingest::columns::texts(marks.column("course_id")?)?;
        let dates = marks.column("mark_date")?.date()?.physical();

        let mut courses = CourseMarks::default();
        let mut dates_of: Vec<(i32, i32)> = Vec::new();
        let mut course_of: Vec<&str> = Vec::new();
        // A student's marks usually come together: the courses of the student at hand are kept
        // aside and searched in a short list; the map (student → courses) is touched once per
        // run of a student's rows, not once per mark. At a million students a map lookup per
        // mark (10M of them, into a 4M-entry map) spent 8 s waiting on memory.
        let mut by_student: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
        let mut student: Option<&str> = None;
        let mut student_courses: Vec<usize> = Vec::new();
        let rows = ids.zip(course_ids).zip(dates.iter());
        for (row, ((id, course), date)) in rows.enumerate() {
            let (Some(id), Some(course), Some(date)) = (id, course, date) else {
                continue;
            };
            if student != Some(id) {
                if let Some(previous) = student {
                    by_student.insert(previous, std::mem::take(&mut student_courses));
                }
                student_courses = by_student.remove(id).unwrap_or_default();
                student = Some(id);
            }
            let row = row as IdxSize;
            let known = student_courses
                .iter()
                .copied()
                .find(|&k| course_of[k] == course);
            let Some(k) = known else {
                student_courses.push(courses.latest.len());
                course_of.push(course);
                courses.first.push(row);
                courses.latest.push(row);
                dates_of.push((date, date));
                continue;
            };
            let (first_date, latest_date) = &mut dates_of[k];
            if date < *first_date {
                *first_date = date;
                courses.first[k] = row;
            }
            if date > *latest_date {
                *latest_date = date;
                courses.latest[k] = row;
            }
        }
        Ok(courses)
    }

    pub fn len(&self) -> usize {
        self.latest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    /// The first mark of each course: rows of `marks`, in course order.
    pub fn first_marks(&self, marks: &DataFrame) -> Result<DataFrame> {
        Ok(marks.take(&IdxCa::from_vec("first".into(), self.first.clone()))?)
    }

    /// The latest mark of each course: rows of `marks`, in course order.
    pub fn latest_marks(&self, marks: &DataFrame) -> Result<DataFrame> {
        Ok(marks.take(&IdxCa::from_vec("latest".into(), self.latest.clone()))?)
    }

    /// Each course's length, credit and state on `as_of`, from its latest mark in `marks`
    /// (columns course_id, course_term, credits, term, points). A course's length is its
    /// `course_term`, else `[courses]` in the config, else the year (`Y`): a mark's term never
    /// ends a course.
    pub fn credits(
        &self,
        marks: &DataFrame,
        config: &Config,
        school_year: i32,
        as_of: NaiveDate,
    ) -> Result<CourseCredits> {
        let latest = self.latest_marks(marks)?;
        let course_ids = crate::ingest::columns::texts(latest.column("course_id")?)?;
        let lengths = crate::ingest::columns::texts(latest.column("course_term")?)?;
        let terms = crate::ingest::columns::texts(latest.column("term")?)?;
        let credits = latest.column("credits")?.f64()?;
        let points = latest.column("points")?.f64()?;
        let mut out = CourseCredits::default();
        // The end date of each term, looked up once.
        let mut ends: FxHashMap<&str, Option<NaiveDate>> = FxHashMap::default();
        let rows = course_ids
            .zip(lengths)
            .zip(terms)
            .zip(credits.iter())
            .zip(points.iter());
        for ((((course, length), term), credit), points) in rows {
            let length = length
                .filter(|l| !l.is_empty())
                .or_else(|| {
                    course
                        .and_then(|c| config.courses.get(c))
                        .map(String::as_str)
                })
                .unwrap_or(YEAR);
            let end = *ends.entry(length).or_insert_with(|| {
                config
                    .term_end(length)
                    .or_else(|| config.term_end(YEAR))
                    .map(|day| config.in_school_year(day, school_year))
            });
            out.credit
                .push(credit.unwrap_or_else(|| share_of_year(length)));
            out.ended.push(end.is_some_and(|end| end <= as_of));
            out.passed
                .push(term == Some(length) && points.is_some_and(|p| p > 0.0));
        }
        Ok(out)
    }
}

/// The year-long term of the contract's table.
pub const YEAR: &str = "Y";

/// The credit of a course of a contract term when grades.csv gives none: its share of a
/// year-long course's one credit (a semester half, a trimester a third, a quarter a fourth, a
/// six-week period a sixth); a district's own term counts as a year (give grades.csv's
/// `credits` for such courses).
pub fn share_of_year(term: &str) -> f64 {
    let family = term.trim_end_matches(|c: char| c.is_ascii_digit());
    match family {
        "S" => 0.5,
        "T" => 1.0 / 3.0,
        "Q" => 0.25,
        "W" => 1.0 / 6.0,
        _ => 1.0,
    }
}

/// This year's courses (in [`CourseMarks`] order) on the as-of date.
#[derive(Debug, Clone, Default)]
pub struct CourseCredits {
    /// The credit each course is worth: grades.csv's `credits` on its latest mark, else
    /// [`share_of_year`] of its length.
    pub credit: Vec<f64>,
    /// Whether the course's own term has ended by the as-of date: its credit is expected.
    pub ended: Vec<bool>,
    /// Whether its latest mark is its final mark (given in the course's own term) and a pass.
    pub passed: Vec<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks() -> DataFrame {
        let date = |d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
                .num_days() as i32
        };
        df!(
            "student_id" => ["1", "1", "2", "1", "1", "2", "1"],
            "course_id" => ["ALG", "BIO", "ALG", "ALG", "BIO", "ALG", "ALG"],
            "term" => [Some("Q1"), Some("S1"), Some("S1"), Some("Q2"), Some("S2"), None, Some("Q3")],
            "mark" => ["C", "B", "A", "D", "F", "B", "F"],
            "mark_date" => [
                date("2025-10-31"),
                date("2026-01-23"),
                date("2026-01-23"),
                date("2026-01-23"),
                date("2025-10-31"),
                date("2026-01-23"),
                date("2026-01-23"),
            ],
        )
        .unwrap()
        .lazy()
        .with_column(col("mark_date").cast(DataType::Date))
        .collect()
        .unwrap()
    }

    fn column(frame: &DataFrame, name: &str) -> Vec<String> {
        frame
            .column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn first_and_latest_marks_by_date_first_in_file_on_a_tie() {
        let marks = marks();
        let courses = CourseMarks::of(&marks).unwrap();
        // Courses in order of their first mark: 1/ALG, 1/BIO, 2/ALG.
        assert_eq!(courses.len(), 3);
        let latest = courses.latest_marks(&marks).unwrap();
        let first = courses.first_marks(&marks).unwrap();
        assert_eq!(column(&latest, "student_id"), ["1", "1", "2"]);
        assert_eq!(column(&latest, "course_id"), ["ALG", "BIO", "ALG"]);
        // 1/ALG: Q1 C (Oct), then D and F both in January: the D comes first in the file.
        // 1/BIO: the S1 B is dated after the S2 F. 2/ALG: A and B on the same day.
        assert_eq!(column(&latest, "mark"), ["D", "B", "A"]);
        assert_eq!(column(&first, "mark"), ["C", "F", "A"]);
    }
}
