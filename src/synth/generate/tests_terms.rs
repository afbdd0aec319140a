//! The SIS shapes' term marks, on the district of `tests_sis`: credits on every row, covering
//! marks posted with (or after) the marks they cover and consistent with them, and the
//! quarters the canonical shape's own draws. A whole year's marks (Q3–Y) are tested in `terms`.

use super::records::letter;
use super::tests::TestResult;
use super::tests_sis::{date, district, write, SNAPSHOTS};
use super::*;
use std::collections::BTreeMap;

/// (student, course) → term → (mark, percent, mark_date) of one grades.csv.
pub(super) type Marks = BTreeMap<(String, String), BTreeMap<String, (String, String, NaiveDate)>>;

pub(super) fn marks(rows: &[csv::StringRecord]) -> Result<Marks, Box<dyn std::error::Error>> {
    let mut marks: Marks = BTreeMap::new();
    for r in rows {
        let old = marks
            .entry((r[0].to_string(), r[4].to_string()))
            .or_default()
            .insert(
                r[3].to_string(),
                (r[7].to_string(), r[8].to_string(), date(&r[9])?),
            );
        assert!(old.is_none(), "a course's term posted twice");
    }
    Ok(marks)
}

#[test]
fn every_mark_has_its_courses_credits() -> TestResult {
    let (sis, daily) = district()?;
    for snapshot in SNAPSHOTS {
        let t = sis.parsed(snapshot, "grades.csv")?;
        assert_eq!(t.header, SIS_GRADES_HEADER);
        let mut by_course: BTreeMap<&str, &str> = BTreeMap::new();
        let mut terms: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for r in &t.rows {
            let core = ["ELA", "MATH", "SCI", "SOC"].contains(&&r[6]);
            assert_eq!(&r[10], if core { "1" } else { "0.5" }, "{:?}", r);
            let credits = by_course.entry(&r[4]).or_insert(&r[10]);
            assert_eq!(*credits, &r[10], "course {} with two credit values", &r[4]);
            *terms.entry((&r[10], &r[3])).or_default() += 1;
            match (&r[7], &r[8]) {
                ("I" | "W", p) => assert_eq!(p, ""),
                (m, p) => assert_eq!(letter(p.parse()?), m),
            }
        }
        // As of mid-March: Q1, Q2 and S1 of core courses and first-semester electives.
        let posted: Vec<(&str, &str)> = terms.keys().copied().collect();
        assert_eq!(
            posted,
            [
                ("0.5", "Q1"),
                ("0.5", "Q2"),
                ("0.5", "S1"),
                ("1", "Q1"),
                ("1", "Q2"),
                ("1", "S1")
            ]
        );
        let key = format!("{snapshot}/grades.csv");
        assert_eq!(sis.files.get(&key), daily.files.get(&key), "{key}");
    }
    Ok(())
}

#[test]
fn covering_marks_follow_the_marks_they_cover() -> TestResult {
    let (sis, _) = district()?;
    let covers: [(&str, [&str; 2]); 3] = [
        ("S1", ["Q1", "Q2"]),
        ("S2", ["Q3", "Q4"]),
        ("Y", ["S1", "S2"]),
    ];
    for snapshot in SNAPSHOTS {
        let t = sis.parsed(snapshot, "grades.csv")?;
        let (mut semesters, mut failed, mut failed_quarter, mut both) = (0, 0, 0, 0);
        for ((student, course), terms) in &marks(&t.rows)? {
            for (whole, parts) in covers {
                let Some((mark, percent, day)) = terms.get(whole) else {
                    continue;
                };
                let mut percents = Vec::new();
                let mut failed_parts = 0;
                for part in parts {
                    let covered = terms.get(part);
                    let (m, p, d) =
                        covered.ok_or(format!("{student} {course}: {whole} without {part}"))?;
                    assert!(d <= day, "{student} {course}: {part} after {whole}");
                    failed_parts += usize::from(m == "F");
                    if !p.is_empty() {
                        percents.push(p.parse::<f64>()?);
                    }
                }
                semesters += 1;
                if percent.is_empty() || percents.is_empty() {
                    continue;
                }
                let mean = percents.iter().sum::<f64>() / percents.len() as f64;
                let p: f64 = percent.parse()?;
                assert!(
                    (p - mean).abs() <= 6.0,
                    "{student} {course}: {whole} {p} covers {percents:?}"
                );
                if mark == "F" && percents.len() == 2 {
                    failed += 1;
                    failed_quarter += usize::from(failed_parts > 0);
                    both += usize::from(failed_parts == 2);
                }
            }
        }
        assert!(semesters > 5000, "{snapshot}: {semesters} semester marks");
        // A failed semester mostly has a failed quarter, not always both.
        assert!(failed > 50, "{snapshot}: {failed} failed semesters");
        let share = failed_quarter as f64 / failed as f64;
        assert!(share > 0.8, "{snapshot}: {share} with a failed quarter");
        assert!(both < failed_quarter, "{snapshot}: {both} with both failed");
    }
    Ok(())
}

#[test]
fn quarter_marks_are_the_canonical_shapes_draws() -> TestResult {
    let (sis, _) = district()?;
    let canonical = write(Shape::Canonical, "canonical-terms")?;
    for snapshot in SNAPSHOTS {
        let ours = marks(&sis.parsed(snapshot, "grades.csv")?.rows)?;
        let theirs = marks(&canonical.parsed(snapshot, "grades.csv")?.rows)?;
        let (mut same, mut electives) = (0, 0);
        for (key, terms) in &ours {
            let canonical_terms = theirs
                .get(key)
                .ok_or("a course the canonical shape lacks")?;
            for (term, mark) in terms {
                match term.as_str() {
                    // A core course's quarters, and a first-semester elective's second quarter
                    // (the canonical shape's S1 of it, on the same day).
                    "Q1" | "Q2" if canonical_terms.contains_key("Q1") => {
                        assert_eq!(canonical_terms.get(term), Some(mark), "{key:?} {term}");
                        same += 1;
                    }
                    "Q2" => {
                        assert_eq!(canonical_terms.get("S1"), Some(mark), "{key:?}");
                        electives += 1;
                    }
                    _ => {}
                }
            }
        }
        assert!(same > 10_000 && electives > 1000, "{same}, {electives}");
    }
    Ok(())
}
