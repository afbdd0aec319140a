//! The SIS shapes' enrollment, on the district of `tests_sis`: spans that never overlap but on
//! a same-day transfer, every kind of event present and counted, nothing after a withdrawal,
//! K–8 students with attendance only, cohorts fixed at grade-9 entry, and school calendars
//! that cover the year and differ between schools.

use super::tests::TestResult;
use super::tests_sis::{calendars, date, district, grade, spans, SNAPSHOTS, STUDENTS};
use super::*;
use chrono::{Datelike, Weekday};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn spans_never_overlap_but_on_a_same_day_transfer() -> TestResult {
    let (sis, _) = district()?;
    let manifest = sis.manifest()?;
    for (i, snapshot) in SNAPSHOTS.iter().enumerate() {
        let (spans, calendars) = (spans(sis, snapshot)?, calendars(sis, snapshot)?);
        let students = sis.parsed(snapshot, "students.csv")?;
        let level = |g: i32| match g {
            ..=5 => 0,
            6..=8 => 1,
            _ => 2,
        };
        // School id → level, from the students enrolled there now.
        let mut levels = BTreeMap::new();
        let mut grades = BTreeMap::new();
        for r in &students.rows {
            let g = grade(&r[5])?;
            levels.insert(r[3].to_string(), level(g));
            grades.insert(r[0].to_string(), g);
        }
        assert_eq!(spans.len(), students.rows.len(), "every student has a span");
        let as_of = sis.as_of(snapshot);
        let (mut movers, mut same_day, mut withdrawals) = (0, 0, 0);
        for (student, list) in &spans {
            let g = grades.get(student).ok_or("span of an unknown student")?;
            for span in list {
                assert!(span
                    .exit
                    .is_none_or(|exit| span.entry <= exit && exit <= as_of));
                let instructional = calendars[&span.school].get(&span.entry).map(|d| d.0);
                assert_eq!(instructional, Some(true), "{student} enters on a day off");
            }
            match list.as_slice() {
                [only] if only.exit.is_none() => assert_eq!(only.code, ""),
                [only] => {
                    assert!(["T2", "DO"].contains(&only.code.as_str()));
                    assert!(*g >= 9 && *snapshot == "current" && only.exit < Some(as_of));
                    withdrawals += 1;
                }
                [a, b] => {
                    movers += 1;
                    assert_eq!((a.code.as_str(), b.exit, b.code.as_str()), ("T1", None, ""));
                    assert_ne!(a.school, b.school);
                    assert_eq!(levels.get(&a.school), levels.get(&b.school), "{student}");
                    let exit = a.exit.ok_or("a first span without exit")?;
                    if exit == b.entry {
                        same_day += 1;
                    } else {
                        // Span 2 starts on the next school day of the new school.
                        let next = calendars[&b.school]
                            .range(exit.succ_opt().ok_or("date")?..)
                            .find(|(_, d)| d.0)
                            .map(|(day, _)| *day);
                        assert_eq!(next, Some(b.entry), "{student}");
                    }
                }
                other => return Err(format!("{student}: {} spans", other.len()).into()),
            }
        }
        let counts = &manifest["snapshots"][i]["sis"];
        assert_eq!(counts["movers"], movers);
        assert_eq!(counts["same_day_transfers"], same_day);
        assert_eq!(counts["withdrawals"], withdrawals);
        let k8 = grades.values().filter(|g| **g < 9).count();
        assert_eq!(counts["k8_students"], k8);
        assert_eq!(k8, STUDENTS / 2);
        // About 3% of 3,000 students move, a third of them on one day; about 2% of the
        // current snapshot's 2,000 high-school students withdraw.
        assert!((50..=140).contains(&movers), "{snapshot}: {movers} movers");
        assert!(
            same_day > 0 && same_day < movers,
            "{snapshot}: {same_day} same-day"
        );
        match *snapshot {
            "current" => assert!(
                (15..=70).contains(&withdrawals),
                "{withdrawals} withdrawals"
            ),
            _ => assert_eq!(withdrawals, 0),
        }
    }
    Ok(())
}

#[test]
fn nothing_follows_a_withdrawal_and_k8_students_have_only_attendance() -> TestResult {
    let (sis, _) = district()?;
    for snapshot in SNAPSHOTS {
        let spans = spans(sis, snapshot)?;
        let students = sis.parsed(snapshot, "students.csv")?;
        let mut k8 = BTreeSet::new();
        for r in &students.rows {
            if grade(&r[5])? < 9 {
                k8.insert(r[0].to_string());
            }
        }
        let ended = |id: &str| match spans.get(id).map(Vec::as_slice) {
            Some([only]) => only.exit,
            _ => None,
        };
        for (file, column) in [
            ("attendance.csv", "date"),
            ("behavior.csv", "date"),
            ("grades.csv", "mark_date"),
            ("credits.csv", "completion_date"),
            ("outcomes.csv", "outcome_date"),
        ] {
            if snapshot == "current" && file == "outcomes.csv" {
                continue;
            }
            let t = sis.parsed(snapshot, file)?;
            let (id, day) = (t.col("student_id")?, t.col(column)?);
            let mut k8_rows = 0;
            for r in &t.rows {
                k8_rows += usize::from(k8.contains(&r[id]));
                if file != "credits.csv" && file != "outcomes.csv" {
                    if let Some(exit) = ended(&r[id]) {
                        assert!(
                            date(&r[day])? <= exit,
                            "{snapshot}/{file}: a row after withdrawal"
                        );
                    }
                }
            }
            match file {
                "attendance.csv" => assert!(k8_rows > 0),
                _ => assert_eq!(k8_rows, 0, "{snapshot}/{file} has K–8 rows"),
            }
        }
        // A mark is written with the school of the span it falls in.
        let grades = sis.parsed(snapshot, "grades.csv")?;
        for r in &grades.rows {
            let schools: Vec<&str> = spans[&r[0]].iter().map(|s| s.school.as_str()).collect();
            assert!(
                schools.contains(&&r[1]),
                "a mark at a school the student never attended"
            );
        }
    }
    Ok(())
}

#[test]
fn cohorts_are_fixed_at_grade_9_entry() -> TestResult {
    let (sis, _) = district()?;
    let manifest = sis.manifest()?;
    for (i, (snapshot, plan)) in [("train", &TRAIN), ("current", &CURRENT)]
        .into_iter()
        .enumerate()
    {
        let students = sis.parsed(snapshot, "students.csv")?;
        let mut labels = BTreeSet::new();
        let mut earlier = 0;
        for r in &students.rows {
            labels.insert(r[5].to_string());
            let g = grade(&r[5])?;
            assert!(!r[3].is_empty(), "school_id blank");
            let Ok(cohort) = r[7].parse::<i32>() else {
                continue;
            };
            let by_grade = plan.school_year + 12 - g;
            if cohort == by_grade {
                continue;
            }
            // Retained in high school: one year earlier, and a year older than the grade.
            assert_eq!(
                (cohort, g >= 10),
                (by_grade - 1, true),
                "{snapshot}: {}",
                &r[0]
            );
            earlier += 1;
            if let Ok(birth) = date(&r[6]) {
                let sep1 = ymd(plan.school_year - 1, 9, 1);
                let before = (sep1.month(), sep1.day()) < (birth.month(), birth.day());
                let age = sep1.year() - birth.year() - i32::from(before);
                assert_eq!(
                    age,
                    14 + (g - 9) + 1,
                    "{snapshot}: {} is not over age",
                    &r[0]
                );
            }
        }
        let counted = manifest["snapshots"][i]["sis"]["retained_in_high_school"]
            .as_u64()
            .ok_or("no count")?;
        assert!(
            earlier > 0 && earlier as u64 <= counted,
            "{earlier} of {counted}"
        );
        let expected: BTreeSet<String> = GRADE_LABELS.iter().map(|g| g.to_string()).collect();
        assert_eq!(
            labels, expected,
            "{snapshot}: every grade level, zero-padded"
        );
    }
    Ok(())
}

#[test]
fn calendars_cover_the_year_and_differ_between_schools() -> TestResult {
    let (sis, _) = district()?;
    for snapshot in SNAPSHOTS {
        let calendars = calendars(sis, snapshot)?;
        let ids: BTreeSet<&str> = calendars.keys().map(String::as_str).collect();
        let students = sis.parsed(snapshot, "students.csv")?;
        for school in students.values("school_id")? {
            assert!(ids.contains(school), "no calendar for school {school}");
        }
        assert!(ids.contains("001") && ids.contains("101"));
        let mut off_in_october = BTreeSet::new();
        for (school, days) in &calendars {
            // Every weekday from the first day through June 12, also after the as-of date.
            let first = *days.keys().next().ok_or("empty calendar")?;
            let weekdays: Vec<NaiveDate> = first
                .iter_days()
                .take_while(|d| *d <= ymd(first.year() + 1, 6, 12))
                .filter(|d| d.weekday().num_days_from_monday() < 5)
                .collect();
            let listed: Vec<NaiveDate> = days.keys().copied().collect();
            assert_eq!(listed, weekdays, "{school}: every weekday, no weekend");
            assert!(first.month() == 8 && first.weekday() == Weekday::Mon);
            let mut months = BTreeMap::new();
            for (day, (instructional, periods)) in days {
                if !periods.is_empty() {
                    assert_eq!((periods.as_str(), *instructional), ("4", true));
                    assert_eq!(day.weekday(), Weekday::Wed);
                    *months.entry(day.month()).or_insert(0) += 1;
                }
                if !instructional && day.month() == 10 {
                    off_in_october.insert(school.as_str());
                }
            }
            assert_eq!(months.len(), 11, "{school}: one early release a month");
            assert!(months.values().all(|n| *n == 1));
            let christmas = days.get(&ymd(first.year(), 12, 24)).map(|d| d.0);
            assert!(christmas != Some(true));
        }
        assert!(!off_in_october.is_empty() && off_in_october.len() < ids.len());
    }
    Ok(())
}
