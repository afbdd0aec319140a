//! The SIS shapes' period_attendance.csv, on the district of `tests_sis`: exception rows of
//! grades 6–12 on membership days at that day's school, never on a day absent in whole,
//! periods within the day's periods, and class skippers who are there, counted and riskier.

use super::tests::TestResult;
use super::tests_sis::{calendars, date, district, grade, membership, SNAPSHOTS};
use std::collections::{BTreeMap, BTreeSet};

/// Period rows a student has at least when they skip classes (others have about 2.6).
const SKIPPER_ROWS: usize = 12;

#[test]
fn period_rows_are_exceptions_on_attended_membership_days() -> TestResult {
    let (sis, daily) = district()?;
    for snapshot in SNAPSHOTS {
        let key = format!("{snapshot}/period_attendance.csv");
        assert_eq!(sis.files.get(&key), daily.files.get(&key), "{key}");
        let members = membership(daily, snapshot)?;
        let calendars = calendars(sis, snapshot)?;
        // (student, date) → absent share of the day, from attendance.csv.
        let mut absent: BTreeMap<(String, String), f64> = BTreeMap::new();
        for r in &sis.parsed(snapshot, "attendance.csv")?.rows {
            if ["E", "A", "S"].contains(&&r[3]) {
                let share = match &r[4] {
                    "" => 1.0,
                    x => x.parse()?,
                };
                *absent
                    .entry((r[0].to_string(), r[2].to_string()))
                    .or_default() += share;
            }
        }
        let mut grades = BTreeMap::new();
        for r in &sis.parsed(snapshot, "students.csv")?.rows {
            grades.insert(r[0].to_string(), grade(&r[5])?);
        }

        let t = sis.parsed(snapshot, "period_attendance.csv")?;
        assert_eq!(
            t.header,
            ["student_id", "school_id", "date", "period", "code"]
        );
        let (mut seen, mut half_days, mut short_days, mut by_level) =
            (BTreeSet::new(), 0, 0, [0; 3]);
        for r in &t.rows {
            let day = date(&r[2])?;
            let school = members.get(&(r[0].to_string(), day));
            assert_eq!(
                school.map(String::as_str),
                Some(&r[1]),
                "{snapshot}: {} {day} at {} is not a membership day there",
                &r[0],
                &r[1]
            );
            let share = absent.get(&(r[0].to_string(), r[2].to_string()));
            assert!(
                share.is_none_or(|s| *s < 1.0),
                "{snapshot}: period rows on a day {} was absent",
                &r[0]
            );
            half_days += usize::from(share.is_some());
            let periods = match calendars[&r[1]].get(&day) {
                Some((true, p)) if p.is_empty() => 7,
                Some((true, p)) => p.parse()?,
                _ => return Err(format!("{day} is not instructional at {}", &r[1]).into()),
            };
            short_days += usize::from(periods < 7);
            let period: usize = r[3].parse()?;
            assert!(
                (1..=periods).contains(&period),
                "period {period} of {periods}"
            );
            assert!(["E", "A"].contains(&&r[4]), "code {}", &r[4]);
            assert!(seen.insert((&r[0], &r[2], &r[3])), "a period twice");
            let g = grades.get(&r[0]).ok_or("an unknown student")?;
            by_level[match g {
                ..=5 => 0,
                6..=8 => 1,
                _ => 2,
            }] += 1;
        }
        assert!(
            half_days > 0,
            "{snapshot}: a half-day absence counts as attended"
        );
        assert!(short_days > 0, "{snapshot}: no rows on an early release");
        assert_eq!(
            by_level[0], 0,
            "{snapshot}: elementary students have period rows"
        );
        assert!(by_level[1] > 0 && by_level[2] > by_level[1], "{by_level:?}");
        let codes: BTreeSet<&str> = t.rows.iter().map(|r| &r[4]).collect();
        assert_eq!(codes.len(), 2);
    }
    Ok(())
}

#[test]
fn class_skippers_are_counted_and_riskier() -> TestResult {
    let (sis, _) = district()?;
    let manifest = sis.manifest()?;
    for (i, snapshot) in SNAPSHOTS.iter().enumerate() {
        let t = sis.parsed(snapshot, "period_attendance.csv")?;
        let counts = &manifest["snapshots"][i]["sis"];
        let number = |name: &str| counts[name].as_u64().unwrap_or(0) as usize;
        assert_eq!(number("period_rows"), t.rows.len());
        let (high, middle) = (
            number("class_skippers"),
            number("middle_school_class_skippers"),
        );
        // About 8% of the 2,000 high-school students.
        assert!((100..=240).contains(&high), "{snapshot}: {high} skippers");
        assert!(middle > 0, "{snapshot}: no middle-school skippers");
        // The skippers' rows outnumber everyone else's.
        let ours = number("period_rows_of_skippers");
        assert!(number("skipped_periods") <= ours);
        assert!(ours > t.rows.len() - ours, "{ours} of {}", t.rows.len());

        let mut per_student: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &t.rows {
            *per_student.entry(&r[0]).or_default() += 1;
        }
        let heavy: BTreeSet<&str> = per_student
            .iter()
            .filter(|(_, n)| **n >= SKIPPER_ROWS)
            .map(|(id, _)| *id)
            .collect();
        let skippers = (high + middle) as f64;
        assert!(
            (heavy.len() as f64 - skippers).abs() <= 0.1 * skippers,
            "{snapshot}: {} students with {SKIPPER_ROWS}+ rows, {skippers} skippers",
            heavy.len()
        );
        // Skippers are the riskier students: more of them miss graduating on time.
        if *snapshot == "train" {
            let outcomes = sis.parsed(snapshot, "outcomes.csv")?;
            let (mut all, mut theirs) = ([0usize; 2], [0usize; 2]);
            for r in &outcomes.rows {
                let at_risk = match &r[1] {
                    "transferred_out" => continue,
                    "graduated_on_time" => 0,
                    _ => 1,
                };
                all[at_risk] += 1;
                if heavy.contains(&r[0]) {
                    theirs[at_risk] += 1;
                }
            }
            let rate = |n: [usize; 2]| n[1] as f64 / (n[0] + n[1]).max(1) as f64;
            assert!(
                rate(theirs) > rate(all) + 0.1,
                "at risk: skippers {}, all {}",
                rate(theirs),
                rate(all)
            );
        }
    }
    Ok(())
}
