//! Six-week marking periods (`--marking-periods six-weeks`) on the district of `tests_sis`, in
//! the `sis` shape and in the canonical one: the posting days, determinism, nothing but
//! grades.csv (and generator.json) differing from the quarters' district, every covering mark
//! after the six-week marks it covers, and the quarters' output still the committed sample
//! data's, byte for byte.

use super::calendar::ymd;
use super::records::letter;
use super::tests::{files_under, Scratch, TestResult};
use super::tests_sis::{write_with, Written, SNAPSHOTS};
use super::tests_terms::marks;
use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// The district of `tests_sis` with six-week marks: in `sis`, and in the canonical shape.
fn six_weeks() -> Result<&'static (Written, Written), String> {
    static DISTRICT: OnceLock<Result<(Written, Written), String>> = OnceLock::new();
    DISTRICT
        .get_or_init(|| {
            let weeks = MarkingPeriods::SixWeeks;
            let sis = write_with(Shape::Sis, weeks, "weeks-sis").map_err(|e| e.to_string())?;
            let canonical = write_with(Shape::Canonical, weeks, "weeks-canonical")
                .map_err(|e| e.to_string())?;
            Ok((sis, canonical))
        })
        .as_ref()
        .map_err(Clone::clone)
}

const CORE_SUBJECTS: [&str; 4] = ["ELA", "MATH", "SCI", "SOC"];

#[test]
fn six_week_marks_split_each_semester_in_three_on_school_days() {
    let days = [
        (
            2026,
            ymd(2026, 3, 13),
            [
                "2025-10-07",
                "2025-11-26",
                "2026-01-16",
                // March 6 is in the spring break.
                "2026-02-27",
                "2026-04-24",
                "2026-06-12",
            ],
        ),
        (
            2022,
            ymd(2022, 3, 15),
            [
                // October 10 is a Sunday, November 26 the day after Thanksgiving.
                "2021-10-08",
                "2021-11-24",
                "2022-01-14",
                "2022-03-04",
                "2022-04-22",
                // June 12 is a Sunday.
                "2022-06-10",
            ],
        ),
    ];
    for (year, as_of, expected) in days {
        let cal = Calendar::new(year, as_of);
        let weeks = &cal.six_weeks;
        let names: Vec<&str> = weeks.weeks.iter().map(|t| t.name).collect();
        assert_eq!(names, ["W1", "W2", "W3", "W4", "W5", "W6"]);
        let labels: Vec<&str> = weeks.weeks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, expected, "{year}");
        assert!(weeks.weeks.iter().all(|t| cal.is_school_day(t.date)));
        // S1 on W3's day, the quarters' Q2 day; S2 and Y on W6's, the year's last school day.
        let (w3, w6) = (&weeks.weeks[2], &weeks.weeks[5]);
        assert_eq!(
            (weeks.semesters[0].name, weeks.semesters[0].date),
            ("S1", w3.date)
        );
        assert_eq!(w3.date, cal.core_terms[1].date);
        assert_eq!(
            (weeks.semesters[1].name, weeks.semesters[1].date),
            ("S2", w6.date)
        );
        assert_eq!((weeks.year.name, weeks.year.date), ("Y", w6.date));
        assert!(w6.date <= cal.year_end);
        let after = w6.date.succ_opt().unwrap_or(w6.date);
        assert!(!after
            .iter_days()
            .take_while(|d| *d <= cal.year_end)
            .any(|d| cal.is_school_day(d)));
    }
}

#[test]
fn six_weeks_are_deterministic_and_change_nothing_but_grades() -> TestResult {
    let (sis, canonical) = six_weeks()?;
    for (shape, weeks, name) in [
        (Shape::Sis, sis, "sis"),
        (Shape::Canonical, canonical, "canonical"),
    ] {
        let again = write_with(
            shape,
            MarkingPeriods::SixWeeks,
            &format!("weeks-{name}-again"),
        )?;
        assert_eq!(
            weeks.files.keys().collect::<Vec<_>>(),
            again.files.keys().collect::<Vec<_>>()
        );
        for (file, bytes) in &weeks.files {
            assert!(
                again.files.get(file) == Some(bytes),
                "{name}: {file} differs"
            );
        }
        // The quarters' district: the same files, the same bytes but grades.csv's.
        let quarters = write_with(
            shape,
            MarkingPeriods::Quarters,
            &format!("weeks-{name}-quarters"),
        )?;
        assert_eq!(
            weeks.files.keys().collect::<Vec<_>>(),
            quarters.files.keys().collect::<Vec<_>>()
        );
        for (file, bytes) in &weeks.files {
            let same = quarters.files.get(file) == Some(bytes);
            let grades = file.ends_with("grades.csv") || file == "generator.json";
            assert_eq!(same, !grades, "{name}: {file}");
        }
        let manifest = weeks.manifest()?;
        assert_eq!(manifest["marking_periods"], "six-weeks", "{name}");
        assert!(quarters.manifest()?.get("marking_periods").is_none());
        for snapshot in SNAPSHOTS {
            let t = weeks.parsed(snapshot, "grades.csv")?;
            let header = match shape {
                Shape::Canonical => &GRADES_HEADER[..],
                _ => &SIS_GRADES_HEADER[..],
            };
            assert_eq!(t.header, header, "{name}");
            // As of mid-March: W1–W3 and S1 of core courses and first-semester electives, W4
            // of core courses and second-semester electives.
            let terms: BTreeSet<&str> = t.rows.iter().map(|r| &r[3]).collect();
            assert_eq!(
                terms,
                BTreeSet::from(["S1", "W1", "W2", "W3", "W4"]),
                "{name}"
            );
            // W3 is the quarters' own draw of that day in the canonical shape: a core course's
            // Q2, an elective's S1. (The SIS shape's marks are the canonical shape's, below.)
            if shape != Shape::Canonical {
                continue;
            }
            let ours = marks(&t.rows)?;
            let theirs = marks(&quarters.parsed(snapshot, "grades.csv")?.rows)?;
            let mut reused = 0;
            for (key, terms) in &ours {
                let Some(w3) = terms.get("W3") else { continue };
                let quarter_terms = theirs.get(key).ok_or("a course the quarters lack")?;
                let same_day = quarter_terms.get("Q2").or(quarter_terms.get("S1"));
                assert_eq!(same_day, Some(w3), "{name} {key:?}");
                reused += 1;
            }
            assert!(reused > 5000, "{name} {snapshot}: {reused}");
        }
    }
    Ok(())
}

#[test]
fn every_semester_mark_follows_its_six_week_marks() -> TestResult {
    let (sis, canonical) = six_weeks()?;
    for (weeks, name) in [(sis, "sis"), (canonical, "canonical")] {
        for snapshot in SNAPSHOTS {
            let t = weeks.parsed(snapshot, "grades.csv")?;
            let subject: BTreeMap<&str, &str> = t.rows.iter().map(|r| (&r[4], &r[6])).collect();
            let (mut semesters, mut failed, mut with_failed_part) = (0, 0, 0);
            for ((student, course), terms) in &marks(&t.rows)? {
                let core = subject
                    .get(course.as_str())
                    .is_some_and(|s| CORE_SUBJECTS.contains(s));
                let names: Vec<&str> = terms.keys().map(String::as_str).collect();
                // Every mark posted by the as-of date: the canonical shape has no withdrawals.
                if name == "canonical" {
                    let expected: &[&[&str]] = match core {
                        true => &[&["S1", "W1", "W2", "W3", "W4"]],
                        false => &[&["S1", "W1", "W2", "W3"], &["W4"]],
                    };
                    assert!(
                        expected.contains(&names.as_slice()),
                        "{student} {course}: {names:?}"
                    );
                }
                for (mark, percent, _) in terms.values() {
                    match (mark.as_str(), percent.as_str()) {
                        ("I" | "W", p) => assert_eq!(p, ""),
                        (m, p) => assert_eq!(letter(p.parse()?), m),
                    }
                }
                let Some((mark, percent, day)) = terms.get("S1") else {
                    continue;
                };
                semesters += 1;
                let mut percents = Vec::new();
                let mut failed_parts = 0;
                for part in ["W1", "W2", "W3"] {
                    let (m, p, d) = terms
                        .get(part)
                        .ok_or(format!("{name}: {student} {course}: S1 without {part}"))?;
                    assert!(d <= day, "{name}: {student} {course}: {part} after S1");
                    failed_parts += usize::from(m == "F");
                    if !p.is_empty() {
                        percents.push(p.parse::<f64>()?);
                    }
                }
                assert_eq!(terms.get("W3").map(|w| w.2), Some(*day), "S1 on W3's day");
                if percent.is_empty() || percents.is_empty() {
                    continue;
                }
                let mean = percents.iter().sum::<f64>() / percents.len() as f64;
                let p: f64 = percent.parse()?;
                assert!(
                    (p - mean).abs() <= 6.0,
                    "{name}: {student} {course}: S1 {p} covers {percents:?}"
                );
                if mark == "F" && percents.len() == 3 {
                    failed += 1;
                    with_failed_part += usize::from(failed_parts > 0);
                }
            }
            assert!(
                semesters > 5000,
                "{name} {snapshot}: {semesters} semester marks"
            );
            assert!(failed > 50, "{name} {snapshot}: {failed} failed semesters");
            let share = with_failed_part as f64 / failed as f64;
            assert!(share > 0.8, "{name} {snapshot}: {share} with a failed part");
        }
    }
    // The shape changes where a mark is written, not the mark: every mark of `sis` is the
    // canonical shape's.
    for snapshot in SNAPSHOTS {
        let ours = marks(&sis.parsed(snapshot, "grades.csv")?.rows)?;
        let theirs = marks(&canonical.parsed(snapshot, "grades.csv")?.rows)?;
        for (key, terms) in &ours {
            for (term, mark) in terms {
                let canonical_mark = theirs.get(key).and_then(|t| t.get(term));
                assert_eq!(canonical_mark, Some(mark), "{key:?} {term}");
            }
        }
    }
    Ok(())
}

/// The quarters (the default) write what the generator wrote before six-week marks existed:
/// the committed `sample_data/` (1,000 students, seed 2026, one earlier year) and
/// `sample_data/sis/` (300 students, seed 7, `sis`), byte for byte.
#[test]
fn quarters_write_the_committed_sample_data() -> TestResult {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for (students, seed, shape, history_years, committed) in [
        (1000, 2026, Shape::Canonical, 1, root.clone()),
        (300, 7, Shape::Sis, 0, root.join("sis")),
    ] {
        let scratch = Scratch::new(&format!("weeks-committed-{}", shape.name()));
        generate(&GenerateOptions {
            students,
            seed,
            out: scratch.0.clone(),
            shape,
            marking_periods: MarkingPeriods::default(),
            history_years,
            format: Default::default(),
            snapshots: Default::default(),
        })?;
        let (made, shipped) = (files_under(&scratch.0)?, files_under(&committed)?);
        assert_eq!(
            made.keys().collect::<Vec<_>>(),
            shipped.keys().collect::<Vec<_>>()
        );
        for (file, bytes) in &made {
            assert!(
                shipped.get(file) == Some(bytes),
                "{}: {file} differs",
                shape.name()
            );
        }
    }
    Ok(())
}
