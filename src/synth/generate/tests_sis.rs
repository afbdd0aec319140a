//! The SIS shapes' tests, on one 2,000-student district written in both: determinism, `sis` as
//! `sis-daily` without its P rows, attendance exactly on membership days, partial days, and the
//! high-school students drawn as in the canonical shape. The spans, calendars and cohorts are
//! tested in `tests_enrollment`.

use super::tests::{files_under, Parsed, Scratch, TestResult};
use super::*;
use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::sync::OnceLock;

pub(super) const STUDENTS: usize = 2000;
const SEED: u64 = 5;

/// One shape of the district: what generate returned, and every file's bytes.
pub(super) struct Written {
    summary: GenerateSummary,
    pub(super) files: BTreeMap<String, Vec<u8>>,
}

impl Written {
    pub(super) fn parsed(&self, snapshot: &str, file: &str) -> Result<Parsed, Box<dyn Error>> {
        let bytes = self
            .files
            .get(&format!("{snapshot}/{file}"))
            .ok_or(format!("{snapshot}/{file} was not written"))?;
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header = reader.headers()?.iter().map(str::to_string).collect();
        let rows = reader.records().collect::<Result<Vec<_>, _>>()?;
        Ok(Parsed { header, rows })
    }

    fn lines(&self, snapshot: &str, file: &str) -> Vec<&[u8]> {
        let bytes = self.files.get(&format!("{snapshot}/{file}"));
        bytes.map_or(Vec::new(), |b| b.split(|c| *c == b'\n').collect())
    }

    pub(super) fn manifest(&self) -> Result<serde_json::Value, Box<dyn Error>> {
        let bytes = self
            .files
            .get("generator.json")
            .ok_or("no generator.json")?;
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The as-of date of a snapshot written (a test of one not written fails on 1970-01-01).
    pub(super) fn as_of(&self, snapshot: &str) -> NaiveDate {
        let written = match snapshot {
            "train" => &self.summary.train,
            _ => &self.summary.current,
        };
        written.as_ref().map(|s| s.as_of).unwrap_or_default()
    }
}

pub(super) fn write(shape: Shape, name: &str) -> Result<Written, Box<dyn Error>> {
    write_with(shape, MarkingPeriods::Quarters, name)
}

/// The district in `shape` with `marking_periods`.
pub(super) fn write_with(
    shape: Shape,
    marking_periods: MarkingPeriods,
    name: &str,
) -> Result<Written, Box<dyn Error>> {
    let scratch = Scratch::new(name);
    let summary = generate(&GenerateOptions {
        students: STUDENTS,
        seed: SEED,
        out: scratch.0.clone(),
        shape,
        marking_periods,
        history_years: 0,
        format: Default::default(),
        snapshots: Default::default(),
    })?;
    let files = files_under(&scratch.0)?;
    Ok(Written { summary, files })
}

/// The district in `sis` and in `sis-daily`.
pub(super) fn district() -> Result<&'static (Written, Written), String> {
    static DISTRICT: OnceLock<Result<(Written, Written), String>> = OnceLock::new();
    DISTRICT
        .get_or_init(|| {
            let sis = write(Shape::Sis, "sis").map_err(|e| e.to_string())?;
            let daily = write(Shape::SisDaily, "sis-daily").map_err(|e| e.to_string())?;
            Ok((sis, daily))
        })
        .as_ref()
        .map_err(Clone::clone)
}

pub(super) const SNAPSHOTS: [&str; 2] = ["train", "current"];

pub(super) fn date(text: &str) -> Result<NaiveDate, Box<dyn Error>> {
    Ok(text.parse()?)
}

/// A grade label as a number: PK -1, KG 0, `01`–`12`.
pub(super) fn grade(label: &str) -> Result<i32, Box<dyn Error>> {
    Ok(match label {
        "PK" => -1,
        "KG" => 0,
        _ if label.len() == 2 => label.parse()?,
        _ => return Err(format!("grade level {label:?}").into()),
    })
}

/// One span of enrollment.csv.
#[derive(Debug, Clone)]
pub(super) struct Span {
    pub(super) school: String,
    pub(super) entry: NaiveDate,
    pub(super) exit: Option<NaiveDate>,
    pub(super) code: String,
}

/// Student id → spans, in entry order.
pub(super) fn spans(
    w: &Written,
    snapshot: &str,
) -> Result<BTreeMap<String, Vec<Span>>, Box<dyn Error>> {
    let t = w.parsed(snapshot, "enrollment.csv")?;
    let mut spans: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for r in &t.rows {
        let exit = match &r[3] {
            "" => None,
            d => Some(date(d)?),
        };
        spans.entry(r[0].to_string()).or_default().push(Span {
            school: r[1].to_string(),
            entry: date(&r[2])?,
            exit,
            code: r[4].to_string(),
        });
    }
    for list in spans.values_mut() {
        list.sort_by_key(|s| s.entry);
    }
    Ok(spans)
}

/// School id → its rows of calendar.csv: date → (instructional, periods).
pub(super) type Calendars = BTreeMap<String, BTreeMap<NaiveDate, (bool, String)>>;

pub(super) fn calendars(w: &Written, snapshot: &str) -> Result<Calendars, Box<dyn Error>> {
    let t = w.parsed(snapshot, "calendar.csv")?;
    let mut calendars: Calendars = BTreeMap::new();
    for r in &t.rows {
        let day = (r[2] == *"Y", r[3].to_string());
        let old = calendars
            .entry(r[0].to_string())
            .or_default()
            .insert(date(&r[1])?, day);
        assert!(old.is_none(), "{snapshot}: a school lists a date twice");
    }
    Ok(calendars)
}

/// (student, date) → school of every membership day up to the as-of date, counted from the
/// spans and the calendars as the contract says (a same-day transfer's day at the later span).
pub(super) fn membership(
    w: &Written,
    snapshot: &str,
) -> Result<BTreeMap<(String, NaiveDate), String>, Box<dyn Error>> {
    let (spans, calendars, as_of) = (
        spans(w, snapshot)?,
        calendars(w, snapshot)?,
        w.as_of(snapshot),
    );
    let mut days = BTreeMap::new();
    for (student, list) in &spans {
        for span in list {
            let calendar = calendars
                .get(&span.school)
                .ok_or("span at a school without calendar")?;
            let last = span.exit.map_or(as_of, |exit| exit.min(as_of));
            if span.entry > last {
                continue;
            }
            for (day, _) in calendar.range(span.entry..=last).filter(|(_, d)| d.0) {
                days.insert((student.clone(), *day), span.school.clone());
            }
        }
    }
    Ok(days)
}

#[test]
fn sis_shapes_are_deterministic_and_sis_is_sis_daily_without_p_rows() -> TestResult {
    let (sis, daily) = district()?;
    let again = write(Shape::Sis, "sis-again")?;
    assert_eq!(again.files, sis.files, "two runs of --shape sis differ");
    let other = write(Shape::SisDaily, "sis-daily-seed")?;
    assert_eq!(
        other.files, daily.files,
        "two runs of --shape sis-daily differ"
    );

    let names = |w: &Written| w.files.keys().cloned().collect::<Vec<_>>();
    let mut expected = names(daily);
    expected.extend(SNAPSHOTS.map(|s| format!("{s}/snapshot.toml")));
    expected.sort();
    assert_eq!(names(sis), expected, "sis adds snapshot.toml, nothing else");
    for (name, bytes) in &daily.files {
        if name.ends_with("attendance.csv") || name == "generator.json" {
            continue;
        }
        assert!(
            sis.files.get(name) == Some(bytes),
            "{name} differs between the shapes"
        );
    }
    for snapshot in SNAPSHOTS {
        let toml = sis.files.get(&format!("{snapshot}/snapshot.toml"));
        let text = "# Written by ews generate: attendance.csv lists exceptions only.\n\
                    [attendance]\nmode = \"exceptions\"\n";
        assert_eq!(toml.map(Vec::as_slice), Some(text.as_bytes()));

        // The same rows in the same order, less the P rows.
        let without_p: Vec<&[u8]> = daily
            .lines(snapshot, "attendance.csv")
            .into_iter()
            .filter(|line| line.split(|c| *c == b',').nth(3) != Some(b"P"))
            .collect();
        assert_eq!(
            sis.lines(snapshot, "attendance.csv"),
            without_p,
            "{snapshot}"
        );
        let p_rows = daily.lines(snapshot, "attendance.csv").len() - without_p.len();
        assert!(
            p_rows > without_p.len(),
            "{snapshot}: most days are plain presence"
        );
    }
    let (a, b) = (sis.manifest()?, daily.manifest()?);
    assert_eq!(a["shape"], "sis");
    assert_eq!(b["shape"], "sis-daily");
    assert_eq!(a["snapshots"][1]["sis"], b["snapshots"][1]["sis"]);
    Ok(())
}

#[test]
fn new_files_have_the_contracts_headers() -> TestResult {
    let (sis, daily) = district()?;
    for w in [sis, daily] {
        for snapshot in SNAPSHOTS {
            for (file, header) in [
                (
                    "enrollment.csv",
                    "student_id,school_id,entry_date,exit_date,exit_code,entry_grade_level",
                ),
                ("calendar.csv", "school_id,date,instructional,periods"),
                (
                    "attendance.csv",
                    "student_id,school_id,date,code,day_fraction",
                ),
                (
                    "grades.csv",
                    "student_id,school_id,school_year,term,course_id,course_name,subject,mark,\
                     percent,mark_date,credits",
                ),
                (
                    "period_attendance.csv",
                    "student_id,school_id,date,period,code",
                ),
            ] {
                assert_eq!(
                    w.lines(snapshot, file)[0],
                    header.as_bytes(),
                    "{snapshot}/{file}"
                );
            }
            // The files both layouts have keep the canonical header; grades.csv adds the
            // contract's optional `credits`.
            assert_eq!(w.parsed(snapshot, "students.csv")?.header, STUDENTS_HEADER);
            assert_eq!(SIS_GRADES_HEADER[..GRADES_HEADER.len()], GRADES_HEADER);
            assert!(crate::contract::GRADES.optional.contains(&"credits"));
        }
    }
    Ok(())
}

#[test]
fn attendance_is_exactly_on_membership_days() -> TestResult {
    let (sis, daily) = district()?;
    for snapshot in SNAPSHOTS {
        let members = membership(daily, snapshot)?;
        for (w, every_day) in [(sis, false), (daily, true)] {
            let t = w.parsed(snapshot, "attendance.csv")?;
            let mut seen = BTreeSet::new();
            for r in &t.rows {
                let key = (r[0].to_string(), date(&r[2])?);
                let school = members.get(&key);
                assert_eq!(
                    school.map(String::as_str),
                    Some(&r[1]),
                    "{snapshot}: {key:?} at {} is not a membership day there",
                    &r[1]
                );
                assert!(["P", "T", "E", "A", "S"].contains(&&r[3]), "code {}", &r[3]);
                assert!(
                    every_day || &r[3] != "P",
                    "a P row in exception-only attendance"
                );
                seen.insert(key);
            }
            if every_day {
                let missing = members.keys().filter(|k| !seen.contains(*k)).count();
                assert_eq!(missing, 0, "{snapshot}: membership days without a row");
            }
        }
    }
    Ok(())
}

#[test]
fn partial_days_are_half_or_split_and_counted() -> TestResult {
    let (sis, daily) = district()?;
    for w in [sis, daily] {
        let manifest = w.manifest()?;
        for (i, snapshot) in SNAPSHOTS.iter().enumerate() {
            let t = w.parsed(snapshot, "attendance.csv")?;
            let mut days: BTreeMap<(&str, &str), Vec<(&str, &str)>> = BTreeMap::new();
            for r in &t.rows {
                days.entry((&r[0], &r[2])).or_default().push((&r[3], &r[4]));
            }
            let (mut half, mut split) = (0, 0);
            for rows in days.values() {
                match rows.as_slice() {
                    [(_, "")] => {}
                    [("A" | "E", "0.5")] => half += 1,
                    [("A", "0.5"), ("E", "0.5")] => split += 1,
                    other => return Err(format!("{snapshot}: a day of {other:?}").into()),
                }
            }
            let counts = &manifest["snapshots"][i]["sis"];
            assert!(
                half > 0 && split > 0,
                "{snapshot}: {half} half, {split} split days"
            );
            assert_eq!(counts["half_days"], half);
            assert_eq!(counts["split_days"], split);
            // About 10% and 1% of absence days.
            let absent = days
                .values()
                .filter(|r| r.iter().any(|(c, _)| ["A", "E"].contains(c)));
            let share = half as f64 / absent.count() as f64;
            assert!(
                (0.07..0.13).contains(&share),
                "{snapshot}: half-day share {share}"
            );
        }
    }
    Ok(())
}

#[test]
fn high_school_students_draw_what_the_canonical_shape_draws() -> TestResult {
    let (_, daily) = district()?;
    let canonical = write(Shape::Canonical, "canonical-beside")?;
    for snapshot in SNAPSHOTS {
        for file in ["credits.csv", "outcomes.csv"] {
            let key = format!("{snapshot}/{file}");
            assert_eq!(canonical.files.get(&key), daily.files.get(&key), "{key}");
        }
        let (a, b) = (
            canonical.parsed(snapshot, "students.csv")?,
            daily.parsed(snapshot, "students.csv")?,
        );
        for (x, y) in a.rows.iter().zip(&b.rows) {
            assert_eq!((&x[0], &x[1], &x[3], &x[6]), (&y[0], &y[1], &y[3], &y[6]));
            assert_eq!(format!("{:0>2}", &x[5]), &y[5]);
        }
    }
    assert!(!canonical.files.contains_key("current/enrollment.csv"));
    assert!(!String::from_utf8_lossy(&canonical.files["generator.json"]).contains("sis"));
    Ok(())
}
