//! Earlier school years (`--history-years`): this year's rows unchanged, earlier years where
//! the grades and the transcript put them, none for late entrants, and refusals.

use super::tests::{files_under, Parsed, Scratch, TestResult};
use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::Path;

const STUDENTS: usize = 400;
const SEED: u64 = 11;

fn write(history_years: u32, name: &str) -> Result<(Scratch, GenerateSummary), Box<dyn Error>> {
    write_shape(Shape::Canonical, history_years, name)
}

fn write_shape(
    shape: Shape,
    history_years: u32,
    name: &str,
) -> Result<(Scratch, GenerateSummary), Box<dyn Error>> {
    let scratch = Scratch::new(name);
    let summary = generate(&GenerateOptions {
        students: STUDENTS,
        seed: SEED,
        out: scratch.0.clone(),
        shape,
        marking_periods: MarkingPeriods::Quarters,
        history_years,
        format: Default::default(),
        snapshots: Default::default(),
    })?;
    Ok((scratch, summary))
}

fn lines(path: &Path) -> Result<Vec<String>, Box<dyn Error>> {
    Ok(fs::read_to_string(path)?
        .lines()
        .map(str::to_string)
        .collect())
}

/// The school year of the current snapshot's as-of date.
fn current_school_year(summary: &GenerateSummary) -> Result<i32, Box<dyn Error>> {
    let current = summary.current.as_ref().ok_or("no current/ written")?;
    school_year_of(&current.as_of.to_string())
}

/// The school year (spring year) a date falls in: July 1 starts the next one.
fn school_year_of(date: &str) -> Result<i32, Box<dyn Error>> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")?;
    use chrono::Datelike;
    Ok(date.year() + i32::from(date.month() >= 7))
}

#[test]
fn this_years_rows_are_unchanged_and_earlier_years_are_added() -> TestResult {
    let (without, _) = write(0, "history-0")?;
    let (with, summary) = write(1, "history-1")?;
    for snapshot in ["train", "current"] {
        let year = match snapshot {
            "train" => summary.train.as_ref().ok_or("no train/ written")?.as_of,
            _ => summary.current.as_ref().ok_or("no current/ written")?.as_of,
        };
        let this_year = school_year_of(&year.to_string())?;
        // Files without earlier years are the same bytes.
        for file in ["students.csv", "credits.csv"] {
            let (a, b) = (without.0.join(snapshot), with.0.join(snapshot));
            assert_eq!(fs::read(a.join(file))?, fs::read(b.join(file))?, "{file}");
        }
        // The others: this year's rows are the rows written without history, in their order,
        // and every other row is of the year before.
        for (file, date_column) in [
            ("attendance.csv", 2),
            ("grades.csv", 9),
            ("behavior.csv", 1),
        ] {
            let plain = lines(&without.0.join(snapshot).join(file))?;
            let rows = lines(&with.0.join(snapshot).join(file))?;
            let mut this = vec![];
            let mut earlier = 0;
            for (i, line) in rows.iter().enumerate() {
                if i == 0 {
                    this.push(line.clone());
                    continue;
                }
                let record = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(line.as_bytes())
                    .records()
                    .next()
                    .ok_or("empty line")??;
                let year = school_year_of(&record[date_column])?;
                if year == this_year {
                    this.push(line.clone());
                } else {
                    assert_eq!(year, this_year - 1, "{snapshot}/{file} line {}", i + 1);
                    if file == "grades.csv" {
                        assert_eq!(record[2].parse::<i32>()?, this_year - 1);
                    }
                    earlier += 1;
                }
            }
            assert_eq!(this, plain, "{snapshot}/{file}: this year's rows");
            assert!(earlier > 0, "{snapshot}/{file} has no earlier year");
        }
    }
    // Deterministic.
    let (again, _) = write(1, "history-1-again")?;
    assert!(files_under(&again.0)? == files_under(&with.0)?);
    Ok(())
}

#[test]
fn earlier_years_follow_the_grades_the_transcript_and_new_entrants() -> TestResult {
    let (with, summary) = write(1, "history-follow")?;
    let dir = with.0.join("current");
    let students = Parsed::read(&dir.join("students.csv"))?;
    let attendance = Parsed::read(&dir.join("attendance.csv"))?;
    let grades = Parsed::read(&dir.join("grades.csv"))?;
    let credits = Parsed::read(&dir.join("credits.csv"))?;
    let prior = current_school_year(&summary)? - 1;
    let prior_text = prior.to_string();

    let grade: BTreeMap<&str, (i32, &str)> = students
        .rows
        .iter()
        .map(|r| Ok((&r[0], (r[5].parse::<i32>()?, &r[3]))))
        .collect::<Result<_, Box<dyn Error>>>()?;
    // Late entrants have no row on this year's first school day.
    let first_day = attendance
        .values("date")?
        .into_iter()
        .filter(|d| school_year_of(d).ok() == Some(prior + 1))
        .min()
        .ok_or("no attendance")?
        .to_string();
    let present_on_first_day: BTreeSet<&str> = attendance
        .rows
        .iter()
        .filter(|r| r[2] == *first_day)
        .map(|r| r.get(0).unwrap_or(""))
        .collect();
    let earlier_schools: BTreeMap<&str, BTreeSet<&str>> = attendance
        .rows
        .iter()
        .filter(|r| school_year_of(&r[2]).ok() == Some(prior))
        .fold(BTreeMap::new(), |mut m, r| {
            m.entry(r.get(0).unwrap_or(""))
                .or_insert_with(BTreeSet::new)
                .insert(r.get(1).unwrap_or(""));
            m
        });
    let mut late = 0;
    for (id, (grade, school)) in &grade {
        let schools = earlier_schools.get(id);
        if !present_on_first_day.contains(id) {
            late += 1;
            assert!(schools.is_none(), "a new entrant has no earlier year");
            continue;
        }
        let expected = if *grade == 9 {
            format!("M{}", &school[1..])
        } else {
            school.to_string()
        };
        let schools = schools.ok_or("a continuing student has an earlier year")?;
        assert_eq!(schools, &BTreeSet::from([expected.as_str()]));
    }
    assert!(late > 0 && late < STUDENTS / 5, "{late} late entrants");

    // The earlier year's courses: grade 8 at the middle school, else the transcript's courses.
    let mut term_marks: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for r in grades.rows.iter().filter(|r| r[2] == *prior_text) {
        term_marks.entry((&r[0], &r[4])).or_default().push(&r[7]);
    }
    let mut transcript: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for r in credits
        .rows
        .iter()
        .filter(|r| r[1] == *prior_text && &r[10] == "N")
    {
        transcript.entry(&r[0]).or_default().insert(&r[3], &r[8]);
    }
    let (mut failed, mut failed_with_f_term) = (0, 0);
    for (id, (grade, _)) in grade
        .iter()
        .filter(|(id, _)| present_on_first_day.contains(*id))
    {
        let courses: BTreeSet<&str> = term_marks
            .keys()
            .filter(|(s, _)| s == id)
            .map(|(_, c)| *c)
            .collect();
        if *grade == 9 {
            let expected = ["M8ELA", "M8MATH", "M8PE", "M8SCI", "M8SOC"];
            assert_eq!(courses, BTreeSet::from(expected), "{id}");
            continue;
        }
        let year = transcript.get(id).ok_or("a transcript year")?;
        assert_eq!(courses, year.keys().copied().collect(), "{id}");
        for (course, mark) in year {
            let terms = &term_marks[&(*id, *course)];
            assert!(terms.len() == 4 || terms.len() == 2, "{terms:?}");
            if *mark == "F" {
                failed += 1;
                failed_with_f_term += usize::from(terms.contains(&"F"));
            }
            if *mark == "A" {
                assert!(!terms.contains(&"F"), "an A year has no F term: {terms:?}");
            }
        }
    }
    assert!(failed >= 20, "{failed} failed courses");
    assert!(
        failed_with_f_term * 10 >= failed * 9,
        "{failed_with_f_term} of {failed} failed courses have a failed term"
    );
    Ok(())
}

#[test]
fn more_years_reach_down_to_grade_6_and_no_lower() -> TestResult {
    let (with, summary) = write(6, "history-6")?;
    let grades = Parsed::read(&with.0.join("current").join("grades.csv"))?;
    let this_year = current_school_year(&summary)?;
    let middle: BTreeSet<String> = grades
        .rows
        .iter()
        .filter(|r| r[4].starts_with('M'))
        .map(|r| {
            format!(
                "{}:{}",
                this_year - r[2].parse::<i32>().unwrap_or(0),
                &r[4][..2]
            )
        })
        .collect();
    // A grade-9 student's grades 8, 7 and 6 are 1, 2 and 3 years back; grade 12's grade 6 is 6.
    for expected in ["1:M8", "2:M7", "3:M6", "4:M6", "6:M6", "3:M7"] {
        assert!(middle.contains(expected), "{expected} in {middle:?}");
    }
    assert!(!middle.iter().any(|m| m.ends_with("M5")), "{middle:?}");
    Ok(())
}

#[test]
fn more_than_six_years_are_refused() -> TestResult {
    for shape in [Shape::Canonical, Shape::Sis] {
        let result = write_shape(shape, 7, "history-refused");
        let Some(error) = result.err() else {
            return Err(format!("{} with 7 years was not refused", shape.name()).into());
        };
        let Ok(error) = error.downcast::<GenerateError>() else {
            return Err("not a generator error".into());
        };
        let error = crate::io::error::EwsError::from(*error);
        assert_eq!(error.exit_code(), crate::io::error::EXIT_BAD_INPUT);
    }
    Ok(())
}

#[test]
fn sis_history_has_calendars_whole_year_spans_membership_days_and_covering_marks() -> TestResult {
    let (scratch, summary) = write_shape(Shape::Sis, 1, "history-sis")?;
    let dir = scratch.0.join("current");
    let prior = current_school_year(&summary)? - 1;
    let in_prior = |date: &str| school_year_of(date).ok() == Some(prior);
    // Calendars: every school has the earlier year's weekdays.
    let calendar = Parsed::read(&dir.join("calendar.csv"))?;
    let mut instructional: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut weekdays: BTreeMap<&str, usize> = BTreeMap::new();
    for r in calendar.rows.iter().filter(|r| in_prior(&r[1])) {
        *weekdays.entry(&r[0]).or_default() += 1;
        if &r[2] == "Y" {
            instructional.entry(&r[0]).or_default().insert(&r[1]);
        }
    }
    let schools: BTreeSet<&str> = calendar.rows.iter().map(|r| &r[0]).collect();
    assert_eq!(weekdays.keys().copied().collect::<BTreeSet<_>>(), schools);
    assert!(weekdays
        .values()
        .all(|&n| n == weekdays.values().copied().max().unwrap_or(0)));
    // Spans: one closed span per student with an earlier year, over the school's whole year.
    let enrollment = Parsed::read(&dir.join("enrollment.csv"))?;
    let students = Parsed::read(&dir.join("students.csv"))?;
    let grade: BTreeMap<&str, &str> = students.rows.iter().map(|r| (&r[0], &r[5])).collect();
    let mut spans: BTreeMap<&str, (&str, &str, &str)> = BTreeMap::new();
    for r in enrollment.rows.iter().filter(|r| in_prior(&r[2])) {
        assert!(
            spans.insert(&r[0], (&r[1], &r[2], &r[3])).is_none(),
            "one span a year"
        );
        let days = &instructional[&r[1]];
        assert_eq!(Some(&&r[2]), days.first(), "from the school's first day");
        assert_eq!(Some(&&r[3]), days.last(), "to its last");
        let g = grade[&r[0]];
        assert_eq!(&r[5], format!("{:02}", g.parse::<i32>()? - 1).as_str());
    }
    assert!(spans.len() > STUDENTS * 8 / 10, "{} spans", spans.len());
    let high_schools: BTreeSet<&str> = students
        .rows
        .iter()
        .filter(|r| r[5].parse::<i32>().is_ok_and(|g| g >= 9))
        .map(|r| &r[3])
        .collect();
    for (id, (school, _, _)) in &spans {
        // Grade 9's year before is at a middle school, the others' at a high school.
        let at_high_school = high_schools.contains(school);
        assert_eq!(at_high_school, grade[id] != "09", "{id} at {school}");
    }
    // Attendance: exceptions only, each on a membership day of the student's span.
    let attendance = Parsed::read(&dir.join("attendance.csv"))?;
    let mut rows = 0;
    for r in attendance.rows.iter().filter(|r| in_prior(&r[2])) {
        rows += 1;
        assert_ne!(&r[3], "P");
        let (school, _, _) = spans.get(&r[0]).ok_or("a row without a span")?;
        assert_eq!(&r[1], *school);
        assert!(
            instructional[school].contains(&r[2]),
            "on a school day there"
        );
    }
    assert!(rows > 1000, "{rows} earlier-year exceptions");
    // Marks: the marking periods, the marks covering them and the credits column.
    let grades = Parsed::read(&dir.join("grades.csv"))?;
    let mut terms: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    let prior_text = prior.to_string();
    for r in grades.rows.iter().filter(|r| r[2] == *prior_text) {
        assert_eq!(&r[10], "1");
        terms.entry((&r[0], &r[4])).or_default().push(&r[3]);
    }
    assert!(!terms.is_empty());
    for (course, posted) in &terms {
        assert_eq!(
            posted,
            &["Q1", "Q2", "S1", "Q3", "Q4", "S2", "Y"],
            "{course:?}"
        );
    }
    Ok(())
}
