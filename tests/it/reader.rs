//! Every input file goes through the one reader: ragged rows, stray quotes, invalid UTF-8,
//! blank and delimiter-only lines, quoted empty fields, editor line numbers, headers in any
//! case, timestamps in date columns, Parquet columns of the wrong kind. Each case on the tiny
//! fixture, with the flag it must raise (or not raise), by file, line and column.

use crate::common;

use std::path::Path;

use common::{config, date, edit, fixture, flags, load_error, write, Flag};
use ews::ingest::checks::{self, Validated};
use ews::ingest::input::Snapshot;
use polars::prelude::*;

/// The flags of one file.
fn flags_of(data: &Validated, file: &str) -> Vec<Flag> {
    flags(data).into_iter().filter(|f| f.0 == file).collect()
}

fn load(dir: &Path) -> Validated {
    checks::load(
        &Snapshot::open(dir).unwrap(),
        &config(),
        Some(date("2026-01-16")),
        false,
    )
    .unwrap()
}

fn rows_read(data: &Validated, file: &str) -> u64 {
    data.quality
        .files
        .iter()
        .find(|f| f.file == file)
        .unwrap()
        .rows_read
}

fn text_bytes(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap()
}

/// Replaces the first `from` by `to` in a file's bytes.
fn edit_bytes(dir: &Path, file: &str, from: &[u8], to: &[u8]) {
    let bytes = text_bytes(dir, file);
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{file} has no {:?}", String::from_utf8_lossy(from)));
    let mut edited = bytes[..at].to_vec();
    edited.extend_from_slice(to);
    edited.extend_from_slice(&bytes[at + from.len()..]);
    std::fs::write(dir.join(file), edited).unwrap();
}

#[test]
fn ragged_rows_are_rejected_rows_in_every_file() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // One field too many (an unquoted comma in a school name), one too few, in four files.
    let students = std::fs::read_to_string(dir.path().join("students.csv")).unwrap()
        + "0005,Ed,Ross,020,Lincoln, High,11,,,M,White,N,N,N,Mr. Tanaka\n";
    write(dir.path(), "students.csv", &students);
    edit(
        dir.path(),
        "grades.csv",
        "0002,010,2026,Q1,ENG10,English 10,ELA,A-,91,2025-10-31",
        "0002,010,2026,Q1,ENG10,English 10,ELA,A-,2025-10-31",
    );
    edit(
        dir.path(),
        "credits.csv",
        "CHEM,Chemistry,SCI",
        "CHEM,Chemistry,SCI,extra",
    );
    edit(
        dir.path(),
        "behavior.csv",
        "Fighting,OSS,3",
        "Fighting,OSS,3,,",
    );
    let data = load(dir.path());
    let flag = |file: &str| {
        let found: Vec<Flag> = flags_of(&data, file)
            .into_iter()
            .filter(|f| f.5 == "row rejected")
            .collect();
        assert_eq!(found.len(), 1, "{file}: {found:#?}");
        found[0].clone()
    };
    // students.csv line 6 (0005): 15 fields for 14; the first field past the header's last.
    let f = flag("students.csv");
    assert_eq!(
        (f.1, f.2.as_str(), f.5.as_str()),
        (6, "(field 15)", "row rejected")
    );
    assert!(
        f.4.starts_with("15 fields where the header has 14"),
        "{}",
        f.4
    );
    assert!(
        f.3.contains("Lincoln, High"),
        "the line's text goes to rejects.csv: {}",
        f.3
    );
    // grades.csv line 14: 9 fields for 10, the row ends before mark_date.
    let f = flag("grades.csv");
    assert_eq!((f.1, f.2.as_str()), (14, "mark_date"));
    assert!(
        f.4.starts_with("9 fields where the header has 10"),
        "{}",
        f.4
    );
    assert_eq!(flag("credits.csv").1, 9);
    assert_eq!(flag("behavior.csv").1, 3);
    // The other rows are read.
    assert_eq!(data.students.height(), 4);
    assert_eq!(rows_read(&data, "students.csv"), 5);
    assert_eq!(data.grades.height(), 13);
}

/// The case: one stray quote opening a last name. Read on past the line break, the
/// record would not have the header's fields: only that line is rejected, and every row after
/// it is read.
#[test]
fn a_stray_quote_rejects_its_own_line_only() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    edit(
        dir.path(),
        "students.csv",
        "0002,Ben,O'Brien",
        "0002,Ben,\"O'Brien",
    );
    let data = load(dir.path());
    let found = flags_of(&data, "students.csv");
    let stray = found.iter().find(|f| f.1 == 3).unwrap();
    assert_eq!(
        (stray.2.as_str(), stray.5.as_str()),
        ("last_name", "row rejected")
    );
    assert!(stray.4.starts_with("stray quote"), "{}", stray.4);
    let ids: Vec<&str> = data
        .students
        .column("student_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids, ["0001", "0003", "0004"]);
    // A quoted line break that makes a whole record is one record, and the lines after it keep
    // the numbers an editor shows.
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    edit(
        dir.path(),
        "grades.csv",
        "0001,010,2026,Q1,ENG9,English 9,ELA,F,50",
        "0001,010,2026,Q1,ENG9,\"English\n9\",ELA,F,50",
    );
    edit(dir.path(), "grades.csv", "MATH,C+,78", "MATH,Z,78");
    let data = load(dir.path());
    let found = flags_of(&data, "grades.csv");
    assert_eq!(found.len(), 1, "{found:#?}");
    // Header 1, the English 9 record on lines 2–3, its Q2 mark 4, the Algebra Q1 mark 5.
    assert_eq!((found[0].1, found[0].2.as_str()), (5, "mark"));
    let names = data.grades.column("course_name").unwrap();
    let names = names.cast(&DataType::String).unwrap();
    assert!(names.str().unwrap().iter().any(|n| n == Some("English\n9")));
}

#[test]
fn blank_lines_and_delimiter_only_rows_are_not_records() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // CRLF line ends, a blank line and Excel's padding rows, in the middle and at the end.
    let behavior = std::fs::read_to_string(dir.path().join("behavior.csv"))
        .unwrap()
        .replace('\n', "\r\n")
        .replacen("Disruption,,0\r\n", "Disruption,,0\r\n\r\n,,,,\r\n", 1)
        + ",,,,\r\n\r\n \r\n";
    write(dir.path(), "behavior.csv", &behavior);
    let data = load(dir.path());
    assert_eq!(rows_read(&data, "behavior.csv"), 4);
    assert!(flags_of(&data, "behavior.csv").is_empty());
    assert!(!data.quality.has_warnings() || flags_of(&data, "behavior.csv").is_empty());
    // The rows after the blank lines keep their editor line numbers: line 5 (Fighting, OSS, 3
    // days on 2025-11-03 was line 3) now holds its date, read as before.
    let behavior = data.behavior.unwrap();
    assert_eq!(behavior.height(), 4);
}

#[test]
fn a_quoted_empty_field_is_a_missing_value() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // An export that quotes every field: empty optional values are "".
    edit(
        dir.path(),
        "students.csv",
        "0003,Cy,Nguyễn,020,Lincoln High,11,,,M,Asian,Y,N,Y,Mr. Tanaka",
        "\"0003\",\"Cy\",\"Nguyễn\",\"020\",\"Lincoln High\",\"11\",\"\",\"\",\"M\",\"Asian\",\"Y\",\"N\",\"Y\",\"Mr. Tanaka\"",
    );
    let data = load(dir.path());
    let students = flags_of(&data, "students.csv");
    // Only the fixture's own warning (0003 has no attendance): no "unparseable date" for "".
    assert_eq!(students.len(), 1, "{students:#?}");
    assert_eq!(students[0].4, "no attendance rows this school year");
}

#[test]
fn invalid_utf8_is_replaced_in_free_text_and_rejects_an_id() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // A Windows-1252 é in a last name; a stray byte in a student id and in a course id.
    edit_bytes(dir.path(), "students.csv", "Muñoz".as_bytes(), b"Mu\xf1oz");
    edit_bytes(dir.path(), "students.csv", b"0004,Di", b"0\xff04,Di");
    edit_bytes(dir.path(), "grades.csv", b"BIO,Biology", b"BI\xd3,Biology");
    let data = load(dir.path());
    let found = flags_of(&data, "students.csv");
    let replaced = found.iter().find(|f| f.5 == "replaced").unwrap();
    assert_eq!((replaced.1, replaced.2.as_str()), (2, "last_name"));
    assert_eq!(replaced.3, "Mu\u{fffd}oz");
    assert!(
        replaced.4.contains("encoding = \"windows-1252\""),
        "{}",
        replaced.4
    );
    let rejected = found.iter().find(|f| f.5 == "row rejected").unwrap();
    assert_eq!((rejected.1, rejected.2.as_str()), (5, "student_id"));
    assert!(rejected.4.starts_with("not valid UTF-8"), "{}", rejected.4);
    // The replaced row is kept; the rejected one is not.
    let names: Vec<String> = data
        .students
        .column("last_name")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    assert_eq!(names, ["Mu\u{fffd}oz", "O'Brien", "Nguyễn"]);
    let grades = flags_of(&data, "grades.csv");
    assert_eq!((grades[0].1, grades[0].2.as_str()), (8, "course_id"));
    // data_quality.csv counts the replaced value as its own category.
    let students = data
        .quality
        .files
        .iter()
        .find(|f| f.file == "students.csv")
        .unwrap();
    assert_eq!(
        students
            .flagged
            .iter()
            .filter(|((action, _), _)| action == "replaced")
            .map(|(_, n)| n)
            .sum::<u64>(),
        1
    );
    assert_eq!(students.rejected(), 1);
}

#[test]
fn headers_match_in_any_case_and_name_every_missing_column_at_once() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    edit(
        dir.path(),
        "attendance.csv",
        "student_id,school_id,date,code",
        " Student_ID ,SCHOOL_ID,Date, CODE",
    );
    let data = load(dir.path());
    assert_eq!(rows_read(&data, "attendance.csv"), 19);

    edit(
        dir.path(),
        "grades.csv",
        "student_id,school_id,school_year,term",
        "studentid,school_id,schoolyear,term",
    );
    let err = load_error(dir.path());
    assert!(
        err.starts_with(&format!("{}", dir.path().join("grades.csv").display())),
        "{err}"
    );
    assert!(
        err.contains("2 required columns are missing: `student_id` (closest header found: `studentid`), `school_year` (closest header found: `schoolyear`)"),
        "{err}"
    );
}

#[test]
fn a_header_in_one_field_or_not_utf8_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let text = std::fs::read_to_string(dir.path().join("behavior.csv")).unwrap();
    write(dir.path(), "behavior.csv", &text.replace(',', ";"));
    let err = load_error(dir.path());
    assert!(err.contains("set delimiter = \";\" in [input]"), "{err}");
    // No value of the file's rows in the message.
    assert!(!err.contains("Fighting") && !err.contains("0004"), "{err}");

    fixture(dir.path());
    edit_bytes(
        dir.path(),
        "behavior.csv",
        b"incident_type",
        b"incident_t\xffpe",
    );
    let err = load_error(dir.path());
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(err.contains("encoding = \"windows-1252\""), "{err}");
}

#[test]
fn timestamps_in_date_columns_are_read_as_their_date() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let plain = load(dir.path());
    // A database export writes midnight timestamps; an API writes ISO 8601 with a zone.
    for file in [
        "attendance.csv",
        "grades.csv",
        "credits.csv",
        "behavior.csv",
    ] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let stamped = text
            .replace("-12,", "-12 00:00:00,")
            .replace("-31\n", "-31T07:30:00Z\n")
            .replace("-09\n", "-09 07:30\n")
            .replace("-01,", "-01T00:00:00.000,")
            .replace("-10,", "-10 00:00,");
        assert_ne!(stamped, text, "{file}");
        write(dir.path(), file, &stamped);
    }
    let stamped = load(dir.path());
    assert_eq!(flags(&stamped), flags(&plain));
    let config = config();
    let a = ews::features::compute(&plain, &config).unwrap().table;
    let b = ews::features::compute(&stamped, &config).unwrap().table;
    assert!(a.equals_missing(&b));

    // A mapped format may hold a time of day (it was refused before).
    let mut config = common::config();
    config.input.date_format = Some("%m/%d/%Y %H:%M".into());
    assert!(config.input.check().is_ok());
}

#[test]
fn parquet_lists_and_structs_are_refused_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    std::fs::remove_file(dir.path().join("behavior.csv")).unwrap();
    let incidents = Series::new(
        "incident_type".into(),
        [Series::new("".into(), ["Fighting", "Theft"])],
    );
    let mut frame = df!(
        "student_id" => ["0004"],
        "date" => ["2025-11-03"],
        "suspension_days" => [3.0],
    )
    .unwrap();
    frame.with_column(incidents.into_column()).unwrap();
    let file = std::fs::File::create(dir.path().join("behavior.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let err =
        checks::load(&Snapshot::open(dir.path()).unwrap(), &config(), None, false).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = err.to_string();
    assert!(err.contains("behavior.parquet"), "{err}");
    assert!(err.contains("column `incident_type`"), "{err}");

    // A timestamp column is read as its date.
    let mut frame = df!(
        "student_id" => ["0004", "0004"],
        "date" => ["2025-11-03 00:00:00", "2025-12-01 00:00:00"],
        "incident_type" => ["Fighting", "Disruption"],
    )
    .unwrap()
    .lazy()
    .with_column(
        col("date")
            .str()
            .to_date(StrptimeOptions {
                format: Some("%Y-%m-%d %H:%M:%S".into()),
                ..Default::default()
            })
            .cast(DataType::Datetime(TimeUnit::Microseconds, None)),
    )
    .collect()
    .unwrap();
    let file = std::fs::File::create(dir.path().join("behavior.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let data = load(dir.path());
    assert!(flags_of(&data, "behavior.csv").is_empty());
    assert_eq!(data.behavior.unwrap().height(), 2);
}
