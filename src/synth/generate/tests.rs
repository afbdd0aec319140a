//! The generator's tests: determinism, the shapes of the files, and the rates the latent
//! model is tuned to.

use super::*;
use super::{calendar::ymd, records::letter};
use chrono::Datelike;
use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::path::Path;
use std::sync::OnceLock;

pub(super) type TestResult = Result<(), Box<dyn Error>>;

/// A scratch folder under the system temp dir, removed on drop.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    pub(super) fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("ews-generate-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A parsed CSV file.
pub(super) struct Parsed {
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<csv::StringRecord>,
}

impl Parsed {
    pub(super) fn read(path: &Path) -> Result<Self, Box<dyn Error>> {
        let mut reader = csv::Reader::from_path(path)?;
        let header = reader.headers()?.iter().map(str::to_string).collect();
        let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
        Ok(Parsed { header, rows })
    }

    pub(super) fn col(&self, name: &str) -> Result<usize, String> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no column {name}"))
    }

    /// The values of one column, in row order.
    pub(super) fn values(&self, name: &str) -> Result<Vec<&str>, String> {
        let i = self.col(name)?;
        Ok(self.rows.iter().map(|r| r.get(i).unwrap_or("")).collect())
    }
}

const FIXTURE_STUDENTS: usize = 300;

/// One generated district (300 students, seed 42), parsed into memory; the folder is
/// deleted right after reading.
struct Fixture {
    summary: GenerateSummary,
    tables: BTreeMap<String, Parsed>,
}

impl Fixture {
    fn table(&self, snapshot: &str, file: &str) -> Result<&Parsed, String> {
        self.tables
            .get(&format!("{snapshot}/{file}"))
            .ok_or_else(|| format!("{snapshot}/{file} was not written"))
    }
}

fn fixture() -> Result<&'static Fixture, String> {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let scratch = Scratch::new("fixture");
            let options = GenerateOptions {
                students: FIXTURE_STUDENTS,
                seed: 42,
                out: scratch.0.clone(),
                shape: Shape::Canonical,
                marking_periods: MarkingPeriods::Quarters,
                history_years: 0,
                format: Default::default(),
                snapshots: Default::default(),
            };
            let summary = generate(&options).map_err(|e| e.to_string())?;
            let mut tables = BTreeMap::new();
            for snapshot in summary.written() {
                for (file, _) in &snapshot.rows {
                    let name = snapshot.dir.file_name().unwrap_or_default();
                    let key = format!("{}/{file}", name.to_string_lossy());
                    let table =
                        Parsed::read(&snapshot.dir.join(file)).map_err(|e| e.to_string())?;
                    tables.insert(key, table);
                }
            }
            Ok(Fixture { summary, tables })
        })
        .as_ref()
        .map_err(Clone::clone)
}

pub(super) fn files_under(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, Box<dyn Error>> {
    let mut files = BTreeMap::new();
    for sub in ["", "train", "current"] {
        if !dir.join(sub).is_dir() {
            continue;
        }
        for entry in fs::read_dir(dir.join(sub))? {
            let path = entry?.path();
            if path.is_file() {
                let name = path.strip_prefix(dir)?.to_string_lossy().into_owned();
                files.insert(name, fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() -> TestResult {
    let (a, b, c) = (
        Scratch::new("det-a"),
        Scratch::new("det-b"),
        Scratch::new("det-c"),
    );
    let run = |out: &Scratch, seed| {
        generate(&GenerateOptions {
            students: 150,
            seed,
            out: out.0.clone(),
            shape: Shape::Canonical,
            marking_periods: MarkingPeriods::Quarters,
            history_years: 0,
            format: Default::default(),
            snapshots: Default::default(),
        })
    };
    run(&a, 7)?;
    run(&b, 7)?;
    run(&c, 8)?;
    let (fa, fb, fc) = (files_under(&a.0)?, files_under(&b.0)?, files_under(&c.0)?);
    assert_eq!(
        fa.len(),
        12,
        "11 CSV files and generator.json: {:?}",
        fa.keys()
    );
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            fb.get(name) == Some(bytes),
            "{name} differs between two runs"
        );
    }
    for name in [
        "train/students.csv",
        "train/attendance.csv",
        "current/grades.csv",
    ] {
        assert_ne!(fa.get(name), fc.get(name), "{name} ignores the seed");
    }
    Ok(())
}

#[test]
fn a_snapshot_written_alone_is_the_same_bytes_as_with_the_other() -> TestResult {
    let (both, current, train) = (
        Scratch::new("alone-both"),
        Scratch::new("alone-current"),
        Scratch::new("alone-train"),
    );
    let run = |out: &Scratch, snapshots| {
        generate(&GenerateOptions {
            students: 150,
            seed: 7,
            out: out.0.clone(),
            shape: Shape::Sis,
            marking_periods: MarkingPeriods::Quarters,
            history_years: 1,
            format: Default::default(),
            snapshots,
        })
    };
    let summary = run(&both, Snapshots::Both)?;
    assert_eq!(summary.written().count(), 2);
    let all = files_under(&both.0)?;
    for (out, snapshots, name) in [
        (&current, Snapshots::Current, "current"),
        (&train, Snapshots::Train, "train"),
    ] {
        let summary = run(out, snapshots)?;
        let written: Vec<&Path> = summary.written().map(|s| s.dir.as_path()).collect();
        assert_eq!(written, [out.0.join(name).as_path()]);
        let alone = files_under(&out.0)?;
        let expected: Vec<&String> = all
            .keys()
            .filter(|file| file.starts_with(&format!("{name}/")))
            .collect();
        assert!(expected.len() >= 8, "{expected:?}");
        let mut files: Vec<&String> = alone.keys().collect();
        files.retain(|file| *file != "generator.json");
        assert_eq!(files, expected, "{name} alone writes its own files only");
        for file in expected {
            assert!(alone.get(file) == all.get(file), "{file} differs");
        }
        // generator.json describes the snapshot written, and that one only.
        let manifest: serde_json::Value =
            serde_json::from_slice(alone.get("generator.json").ok_or("no generator.json")?)?;
        let listed: Vec<&str> = manifest["snapshots"]
            .as_array()
            .ok_or("no snapshots")?
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert_eq!(listed, [name]);
    }
    Ok(())
}

#[test]
fn percents_are_written_as_format_writes_them() {
    let mut digits = [0u8; 3];
    for n in 0..=100 {
        let p = f64::from(n);
        let text = super::terms::whole(p, &mut digits);
        assert_eq!(text, format!("{p:.0}").as_bytes());
    }
}

#[test]
fn too_few_students_is_an_error() {
    let scratch = Scratch::new("too-few");
    let result = generate(&GenerateOptions {
        students: 19,
        seed: 1,
        out: scratch.0.clone(),
        shape: Shape::Canonical,
        marking_periods: MarkingPeriods::Quarters,
        history_years: 0,
        format: Default::default(),
        snapshots: Default::default(),
    });
    assert!(matches!(result, Err(GenerateError::TooFewStudents(19))));
    assert!(!scratch.0.exists(), "nothing is written on a bad option");
}

#[test]
fn calendar_skips_weekends_and_holidays() {
    let cal = Calendar::new(2026, ymd(2026, 3, 13));
    assert_eq!(cal.days.first(), Some(&ymd(2025, 8, 18)));
    assert_eq!(cal.days.last(), Some(&ymd(2026, 3, 13)));
    assert!((120..=135).contains(&cal.days.len()), "{}", cal.days.len());
    for holiday in [
        ymd(2025, 9, 1),
        ymd(2025, 11, 27),
        ymd(2025, 11, 28),
        ymd(2025, 12, 22),
        ymd(2026, 1, 2),
        ymd(2026, 1, 19),
        ymd(2026, 3, 2),
        ymd(2026, 3, 6),
    ] {
        assert!(!cal.days.contains(&holiday), "{holiday} is a holiday");
    }
    assert!(cal
        .days
        .iter()
        .all(|d| d.weekday().num_days_from_monday() < 5));
    let posted: Vec<_> = cal.core_terms.iter().map(|t| (t.name, t.date)).collect();
    assert_eq!(posted[0], ("Q1", ymd(2025, 10, 31)));
    assert_eq!(posted[1], ("Q2", ymd(2026, 1, 16)));
    assert!(posted[2].1 > cal.as_of, "Q3 is posted after the as-of date");

    let train = Calendar::new(2022, ymd(2022, 3, 15));
    assert_eq!(train.days.first(), Some(&ymd(2021, 8, 23)));
    assert!(
        (120..=135).contains(&train.days.len()),
        "{}",
        train.days.len()
    );
    assert!(train.elapsed.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn files_and_headers_follow_the_contract() -> TestResult {
    let f = fixture()?;
    let headers: [(&str, &[&str]); 6] = [
        ("students.csv", &STUDENTS_HEADER),
        ("attendance.csv", &ATTENDANCE_HEADER),
        ("grades.csv", &GRADES_HEADER),
        ("credits.csv", &CREDITS_HEADER),
        ("behavior.csv", &BEHAVIOR_HEADER),
        ("outcomes.csv", &OUTCOMES_HEADER),
    ];
    // The headers spell the contract's columns again, in the generator's order: they must be
    // the same columns.
    for (file, header) in &headers {
        let spec = crate::contract::ALL_FILES
            .iter()
            .find(|s| s.name == *file)
            .ok_or("not a contract file")?;
        // Every required column, and only the contract's columns (its optional ones, such as
        // attendance's day_fraction, only where the generator has something to say).
        for column in spec.required {
            assert!(header.contains(column), "{file}: {column} is not written");
        }
        for column in header.iter() {
            assert!(
                spec.columns().any(|c| c == *column),
                "{file}: {column} is not a contract column"
            );
        }
        let optional_written = header.iter().filter(|c| spec.optional.contains(c)).count();
        assert_eq!(
            optional_written + spec.required.len(),
            header.len(),
            "{file}: a column is written twice"
        );
    }
    for (snapshot, summary) in [
        (
            "train",
            f.summary.train.as_ref().ok_or("no train/ written")?,
        ),
        (
            "current",
            f.summary.current.as_ref().ok_or("no current/ written")?,
        ),
    ] {
        assert_eq!(summary.students, FIXTURE_STUDENTS);
        let written: Vec<&str> = summary.rows.iter().map(|(n, _)| n.as_str()).collect();
        let expected = if snapshot == "train" { 6 } else { 5 };
        assert_eq!(
            written,
            headers[..expected].iter().map(|h| h.0).collect::<Vec<_>>()
        );
        for (file, rows) in &summary.rows {
            let table = f.table(snapshot, file)?;
            let header = headers.iter().find(|h| h.0 == file).map(|h| h.1);
            assert_eq!(
                Some(table.header.iter().map(String::as_str).collect::<Vec<_>>()),
                header.map(<[&str]>::to_vec)
            );
            assert_eq!(table.rows.len(), *rows, "{snapshot}/{file}");
        }
    }
    assert!(!f
        .summary
        .current
        .as_ref()
        .ok_or("no current/ written")?
        .dir
        .join("outcomes.csv")
        .exists());

    // Quoting round-trips: a comma in a school name, a double quote in a course name.
    let schools = f.table("current", "students.csv")?.values("school_name")?;
    assert!(schools.contains(&"Dr. Martin Luther King, Jr. High School"));
    let mut courses = BTreeSet::new();
    for snapshot in ["train", "current"] {
        for file in ["grades.csv", "credits.csv"] {
            courses.extend(f.table(snapshot, file)?.values("course_name")?);
        }
    }
    assert!(courses.contains("English 12, British Literature"));
    assert!(courses.contains("Theatre Arts \"Stagecraft\""));
    Ok(())
}

#[test]
fn student_ids_are_eight_digits_unique_and_disjoint() -> TestResult {
    let f = fixture()?;
    let mut seen = BTreeSet::new();
    for snapshot in ["train", "current"] {
        let ids = f.table(snapshot, "students.csv")?.values("student_id")?;
        for id in &ids {
            assert!(id.len() == 8 && id.starts_with('0'), "bad id {id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "bad id {id}");
            assert!(seen.insert(id.to_string()), "duplicate id {id}");
        }
        assert!(
            ids.windows(2).any(|w| w[0] > w[1]),
            "ids are just the row order"
        );
        for file in [
            "attendance.csv",
            "grades.csv",
            "credits.csv",
            "behavior.csv",
        ] {
            let known: BTreeSet<&str> = ids.iter().copied().collect();
            let used = f.table(snapshot, file)?.values("student_id")?;
            assert!(
                used.iter().all(|id| known.contains(id)),
                "{snapshot}/{file}"
            );
        }
    }
    Ok(())
}

/// Rows come grouped by student, in students.csv order, then by date (strictly
/// increasing when `strict`).
fn assert_student_then_date(
    f: &Fixture,
    snapshot: &str,
    file: &str,
    date_column: &str,
    strict: bool,
) -> TestResult {
    let order: BTreeMap<&str, usize> = f
        .table(snapshot, "students.csv")?
        .values("student_id")?
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    let table = f.table(snapshot, file)?;
    let ids = table.values("student_id")?;
    let dates = table.values(date_column)?;
    for (i, pair) in ids.windows(2).enumerate() {
        let (a, b) = (order.get(pair[0]), order.get(pair[1]));
        assert!(
            a.is_some() && b.is_some(),
            "{snapshot}/{file}: unknown student"
        );
        assert!(
            a <= b,
            "{snapshot}/{file} line {}: students out of order",
            i + 3
        );
        if a == b {
            let (d0, d1) = (dates[i], dates[i + 1]);
            let ok = if strict { d0 < d1 } else { d0 <= d1 };
            assert!(ok, "{snapshot}/{file} line {}: dates out of order", i + 3);
        }
    }
    Ok(())
}

#[test]
fn rows_are_ordered_by_student_then_date() -> TestResult {
    let f = fixture()?;
    for snapshot in ["train", "current"] {
        assert_student_then_date(f, snapshot, "attendance.csv", "date", true)?;
        assert_student_then_date(f, snapshot, "grades.csv", "mark_date", false)?;
        assert_student_then_date(f, snapshot, "credits.csv", "completion_date", false)?;
        assert_student_then_date(f, snapshot, "behavior.csv", "date", false)?;
    }
    assert_student_then_date(f, "train", "outcomes.csv", "outcome_date", true)
}

#[test]
fn attendance_is_on_school_weekdays_up_to_as_of() -> TestResult {
    let f = fixture()?;
    for (snapshot, summary) in [
        (
            "train",
            f.summary.train.as_ref().ok_or("no train/ written")?,
        ),
        (
            "current",
            f.summary.current.as_ref().ok_or("no current/ written")?,
        ),
    ] {
        let table = f.table(snapshot, "attendance.csv")?;
        let first_day = Calendar::new(TRAIN.school_year, summary.as_of)
            .days
            .first()
            .copied();
        for (date, code) in table.values("date")?.iter().zip(table.values("code")?) {
            let day: NaiveDate = date.parse()?;
            assert!(
                day.weekday().num_days_from_monday() < 5,
                "{day} is a weekend"
            );
            assert!(day <= summary.as_of, "{day} is after {}", summary.as_of);
            assert!(["P", "T", "E", "A", "S"].contains(&code), "code {code}");
            if snapshot == "train" {
                assert!(Some(day) >= first_day, "{day} is before the first day");
            }
        }
        let codes: BTreeSet<&str> = table.values("code")?.into_iter().collect();
        assert_eq!(codes.len(), 5, "{snapshot}: every code occurs: {codes:?}");
    }
    Ok(())
}

#[test]
fn grades_are_posted_by_as_of_and_match_their_percent() -> TestResult {
    let f = fixture()?;
    for (snapshot, summary) in [
        (
            "train",
            f.summary.train.as_ref().ok_or("no train/ written")?,
        ),
        (
            "current",
            f.summary.current.as_ref().ok_or("no current/ written")?,
        ),
    ] {
        let table = f.table(snapshot, "grades.csv")?;
        let (mark, percent, date, term, course_id) = (
            table.col("mark")?,
            table.col("percent")?,
            table.col("mark_date")?,
            table.col("term")?,
            table.col("course_id")?,
        );
        for row in &table.rows {
            let posted: NaiveDate = row.get(date).unwrap_or("").parse()?;
            assert!(posted <= summary.as_of);
            assert!(["Q1", "Q2", "S1"].contains(&row.get(term).unwrap_or("")));
            let id = row.get(course_id).unwrap_or("");
            assert!(
                id.len() == 5 && id.bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
            match (row.get(mark).unwrap_or(""), row.get(percent).unwrap_or("")) {
                ("I" | "W", p) => assert_eq!(p, ""),
                (m, p) => assert_eq!(letter(p.parse()?), m),
            }
        }
    }
    Ok(())
}

#[test]
fn credits_are_consistent_and_grade_9_has_none() -> TestResult {
    let f = fixture()?;
    for (snapshot, plan) in [("train", &TRAIN), ("current", &CURRENT)] {
        let students = f.table(snapshot, "students.csv")?;
        let (sid, grade) = (students.col("student_id")?, students.col("grade_level")?);
        let ninth: BTreeSet<&str> = students
            .rows
            .iter()
            .filter(|r| r.get(grade) == Some("9"))
            .filter_map(|r| r.get(sid))
            .collect();
        assert!(!ninth.is_empty());
        let table = f.table(snapshot, "credits.csv")?;
        let (id, year, recovery, course) = (
            table.col("student_id")?,
            table.col("school_year")?,
            table.col("credit_recovery")?,
            table.col("course_id")?,
        );
        let (attempted, earned) = (
            table.col("credits_attempted")?,
            table.col("credits_earned")?,
        );
        let mut recovered = 0;
        for row in &table.rows {
            assert!(
                !ninth.contains(row.get(id).unwrap_or("")),
                "grade 9 with credits"
            );
            let a: f64 = row.get(attempted).unwrap_or("").parse()?;
            let e: f64 = row.get(earned).unwrap_or("").parse()?;
            assert!(0.0 <= e && e <= a, "earned {e} > attempted {a}");
            let y: i32 = row.get(year).unwrap_or("").parse()?;
            assert!(y < plan.school_year, "credits only for completed years");
            if row.get(recovery) == Some("Y") {
                recovered += 1;
                assert!(row.get(course).unwrap_or("").starts_with('9'));
            }
        }
        assert!(recovered > 0, "{snapshot}: no credit recovery rows");
    }
    Ok(())
}

#[test]
fn behavior_suspensions_follow_incident_types() -> TestResult {
    let f = fixture()?;
    let table = f.table("current", "behavior.csv")?;
    assert!(!table.rows.is_empty());
    let (kind, suspension, days) = (
        table.col("incident_type")?,
        table.col("suspension_type")?,
        table.col("suspension_days")?,
    );
    for row in &table.rows {
        let n: u32 = row.get(days).unwrap_or("").parse()?;
        match row.get(suspension).unwrap_or("") {
            "OSS" => {
                assert!(["Fighting", "Weapon", "Substance"].contains(&row.get(kind).unwrap_or("")));
                assert!((1..=5).contains(&n));
            }
            "ISS" => assert_eq!(n, 1),
            other => assert_eq!((other, n), ("", 0)),
        }
    }
    Ok(())
}

/// Label per train student: Some(true) at risk, Some(false) on time, None transferred.
fn train_labels(table: &Parsed) -> Result<BTreeMap<&str, Option<bool>>, Box<dyn Error>> {
    let (id, outcome) = (table.col("student_id")?, table.col("outcome")?);
    let mut labels = BTreeMap::new();
    for row in &table.rows {
        let label = match row.get(outcome).unwrap_or("") {
            "graduated_on_time" => Some(false),
            "graduated_late" | "dropped_out" | "still_enrolled" => Some(true),
            "transferred_out" => None,
            other => return Err(format!("unknown outcome {other}").into()),
        };
        labels.insert(row.get(id).unwrap_or(""), label);
    }
    Ok(labels)
}

#[test]
fn train_label_rate_is_near_the_target() -> TestResult {
    let scratch = Scratch::new("labels");
    let summary = generate(&GenerateOptions {
        students: 1000,
        seed: 42,
        out: scratch.0.clone(),
        shape: Shape::Canonical,
        marking_periods: MarkingPeriods::Quarters,
        history_years: 0,
        format: Default::default(),
        snapshots: Default::default(),
    })?;
    let outcomes = Parsed::read(
        &summary
            .train
            .as_ref()
            .ok_or("no train/ written")?
            .dir
            .join("outcomes.csv"),
    )?;
    let labels = train_labels(&outcomes)?;
    assert_eq!(labels.len(), 1000);
    let known: Vec<bool> = labels.values().filter_map(|l| *l).collect();
    let rate = known.iter().filter(|l| **l).count() as f64 / known.len() as f64;
    assert!((0.12..=0.28).contains(&rate), "label rate {rate}");
    let transferred = labels.values().filter(|l| l.is_none()).count();
    assert!(
        (20..=90).contains(&transferred),
        "{transferred} transferred"
    );
    Ok(())
}

#[test]
fn at_risk_students_attend_less() -> TestResult {
    let f = fixture()?;
    let labels = train_labels(f.table("train", "outcomes.csv")?)?;
    let table = f.table("train", "attendance.csv")?;
    let (id, code) = (table.col("student_id")?, table.col("code")?);
    // (days present, days enrolled) per label.
    let mut totals = [(0usize, 0usize); 2];
    for row in &table.rows {
        if let Some(Some(label)) = labels.get(row.get(id).unwrap_or("")) {
            let total = &mut totals[usize::from(*label)];
            total.1 += 1;
            if matches!(row.get(code), Some("P" | "T")) {
                total.0 += 1;
            }
        }
    }
    let rate = |(present, days): (usize, usize)| present as f64 / days.max(1) as f64;
    let (on_time, at_risk) = (rate(totals[0]), rate(totals[1]));
    assert!(
        at_risk + 0.03 < on_time,
        "attendance {at_risk} vs {on_time}"
    );
    Ok(())
}
