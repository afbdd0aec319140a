//! Every rejection reason on the tiny fixture: file, line, column, value, reason and action.

use crate::common;

use common::{config, date, edit, fixture, flags, load_error, write, Flag};
use ews::ingest::checks::{self, Validated};
use ews::ingest::input::Snapshot;
use polars::prelude::*;

fn assert_flag(
    flags: &[Flag],
    file: &str,
    line: u64,
    column: &str,
    value: &str,
    reason: &str,
    action: &str,
) {
    assert!(
        flags.iter().any(|f| f.0 == file
            && f.1 == line
            && f.2 == column
            && f.3 == value
            && f.4.starts_with(reason)
            && f.5 == action),
        "no flag {file}:{line} {column}={value:?} {reason:?} ({action}) in\n{flags:#?}"
    );
}

fn load(dir: &std::path::Path, with_outcomes: bool) -> Validated {
    checks::load(
        &Snapshot::open(dir).unwrap(),
        &config(),
        Some(date("2026-01-16")),
        with_outcomes,
    )
    .unwrap()
}

/// The accepted student-days of a snapshot, sorted by student and date.
fn sorted_days(data: &Validated) -> DataFrame {
    data.attendance
        .student_day_frame(&data.students)
        .unwrap()
        .lazy()
        .sort(["student_id", "date"], Default::default())
        .collect()
        .unwrap()
}

/// The severity ranks of student-days, in order.
fn severities(days: &DataFrame) -> Vec<i32> {
    days.column("severity")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .flatten()
        .collect()
}

#[test]
fn the_fixture_flags_exactly_its_planted_rows() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let data = load(dir.path(), false);
    let flags = flags(&data);
    let rejected = "row rejected";
    assert_flag(
        &flags,
        "attendance.csv",
        2,
        "date",
        "2024-06-30",
        "date outside the school year",
        rejected,
    );
    // Jan 14 of 0001 has P (line 5) and A (line 6): A is more severe and kept.
    assert_flag(
        &flags,
        "attendance.csv",
        5,
        "date",
        "2026-01-14",
        "duplicate student-day",
        rejected,
    );
    assert_flag(
        &flags,
        "attendance.csv",
        20,
        "student_id",
        "9999",
        "student not in students.csv",
        rejected,
    );
    assert_flag(
        &flags,
        "students.csv",
        4,
        "student_id",
        "0003",
        "no attendance rows",
        "warning",
    );
    assert_eq!(flags.len(), 4, "{flags:#?}");

    let attendance = data
        .quality
        .files
        .iter()
        .find(|f| f.file == "attendance.csv")
        .unwrap();
    assert_eq!(
        (
            attendance.rows_read,
            attendance.rejected(),
            attendance.accepted()
        ),
        (19, 3, 16)
    );
    // 3 of 19 rows is above the default 1% limit; a district may allow more for one file.
    let mut config = config();
    assert_eq!(data.quality.gate(&config).len(), 1);
    config
        .quality
        .max_rejected_share_by_file
        .insert("attendance.csv".into(), 0.2);
    assert!(data.quality.gate(&config).is_empty());
    // The kept duplicate carries the severe code.
    let kept = data
        .attendance
        .student_day_frame(&data.students)
        .unwrap()
        .lazy()
        .filter(
            col("student_id")
                .eq(lit("0001"))
                .and(col("date").eq(lit(date("2026-01-14")))),
        )
        .collect()
        .unwrap();
    assert_eq!(
        kept.column("severity").unwrap().i32().unwrap().get(0),
        Some(3)
    );
    assert_eq!(kept.column("rows").unwrap().u64().unwrap().get(0), Some(2));
}

#[test]
fn every_rejection_reason_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let append = |file: &str, rows: &str| {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        write(dir.path(), file, &(text + rows));
    };
    // students.csv lines 6–11.
    append(
        "students.csv",
        ",Eve,Doe,010,X,10,,,F,White,N,N,N,\n\
         0001,Ana,Copy,010,X,9,,,F,White,N,N,N,\n\
         0007,Gil,Roe,010,X,13,,,M,White,N,N,N,\n\
         0008,Hal,Poe,010,X,10,2010-13-01,20x8,M,White,N,N,N,\n\
         0009,,Moe,010,X,10,,,M,White,N,N,N,\n\
         0010,Ivy,Loe,010,X,10,2091-07-31,,F,White,N,N,N,\n",
    );
    // attendance.csv lines 21–24.
    append(
        "attendance.csv",
        "0002,010,2026-01-32,P\n0002,010,2026-01-09,X\n,010,2026-01-12,P\n0002,010,2027-01-12,P\n",
    );
    // grades.csv lines 16–21.
    append(
        "grades.csv",
        "0002,010,2026,Q1,SCI10,Chemistry,SCI,E,50,2025-10-31\n\
         0002,010,2026,Q1,SOC10,History,SOC,B,85,10/31/2025\n\
         0002,010,2026,Q1,ART2,Art,ART,B,85,2024-10-31\n\
         0002,010,20x6,Q1,PE2,PE,PE,B,85,2025-10-31\n\
         7777,010,2026,Q1,PE2,PE,PE,B,85,2025-10-31\n\
         0002,010,2026,Q1,MUS2,Music,MUS,B,abc,2025-10-31\n",
    );
    // credits.csv lines 19–26.
    append(
        "credits.csv",
        "0003,2025,Y,ART2,Art,ART,1.0,2.0,A,2025-06-12,N\n\
         0003,2025,Y,PE2,PE,PE,-1,0,F,2025-06-12,N\n\
         0003,2025,Y,MUS2,Music,MUS,1.0,1.0,A,2025-13-12,N\n\
         0003,2027,Y,WL2,Spanish,WL,1.0,1.0,A,2027-06-12,N\n\
         0003,2025,Y,CTE2,Shop,CTE,1.0,1.0,A,2025-06-12,maybe\n\
         0003,2025,Y,CTE3,Shop,CTE,1.0,1.0,Z,2025-06-12,N\n\
         0003,2025,Y,CTE4,Shop,CTE,inf,1.0,A,2025-06-12,N\n\
         0003,2025,Y,CTE5,Shop,CTE,1.0,NaN,A,2025-06-12,N\n",
    );
    // behavior.csv lines 6–10.
    append(
        "behavior.csv",
        "0004,2025-11-31,Fighting,OSS,1\n7777,2025-11-03,Fighting,OSS,1\n0004,2025-11-04,Disruption,ISS,-1\n0004,2027-01-05,Theft,,0\n0004,2025-11-05,Disruption,ISS,inf\n",
    );
    write(
        dir.path(),
        "outcomes.csv",
        "student_id,outcome,outcome_date\n\
         0001,graduated_on_time,2029-08-31\n\
         0001,dropped_out,2029-08-31\n\
         0002,graduated,2028-08-31\n\
         0003,still_enrolled,someday\n\
         7777,dropped_out,2028-08-31\n\
         ,dropped_out,2028-08-31\n",
    );

    let flags = flags(&load(dir.path(), true));
    let (rejected, ignored) = ("row rejected", "value ignored");
    assert_flag(
        &flags,
        "students.csv",
        6,
        "student_id",
        "",
        "missing value",
        rejected,
    );
    assert_flag(
        &flags,
        "students.csv",
        7,
        "student_id",
        "0001",
        "duplicate student_id",
        rejected,
    );
    assert_flag(
        &flags,
        "students.csv",
        8,
        "grade_level",
        "13",
        "unknown grade level",
        rejected,
    );
    assert_flag(
        &flags,
        "students.csv",
        9,
        "birth_date",
        "2010-13-01",
        "unparseable date",
        ignored,
    );
    // A year typo: the student would not be born yet.
    assert_flag(
        &flags,
        "students.csv",
        11,
        "birth_date",
        "2091-07-31",
        "implausible date (the student would be under 5 on the as-of date)",
        ignored,
    );
    assert_flag(
        &flags,
        "students.csv",
        10,
        "first_name",
        "",
        "missing value",
        rejected,
    );

    assert_flag(
        &flags,
        "attendance.csv",
        21,
        "date",
        "2026-01-32",
        "unparseable date",
        rejected,
    );
    assert_flag(
        &flags,
        "attendance.csv",
        22,
        "code",
        "X",
        "unknown attendance code",
        rejected,
    );
    assert_flag(
        &flags,
        "attendance.csv",
        23,
        "student_id",
        "",
        "missing value",
        rejected,
    );
    assert_flag(
        &flags,
        "attendance.csv",
        24,
        "date",
        "2027-01-12",
        "date outside the school year",
        rejected,
    );

    assert_flag(
        &flags,
        "grades.csv",
        16,
        "mark",
        "E",
        "unknown mark",
        rejected,
    );
    assert_flag(
        &flags,
        "grades.csv",
        17,
        "mark_date",
        "10/31/2025",
        "unparseable date",
        rejected,
    );
    assert_flag(
        &flags,
        "grades.csv",
        18,
        "mark_date",
        "2024-10-31",
        "date outside the school year named",
        rejected,
    );
    assert_flag(
        &flags,
        "grades.csv",
        19,
        "school_year",
        "20x6",
        "unparseable school_year",
        rejected,
    );
    assert_flag(
        &flags,
        "grades.csv",
        20,
        "student_id",
        "7777",
        "student not in students.csv",
        rejected,
    );
    assert_flag(
        &flags,
        "grades.csv",
        21,
        "percent",
        "abc",
        "unparseable number",
        ignored,
    );

    assert_flag(
        &flags,
        "credits.csv",
        19,
        "credits_earned",
        "2.0",
        "credits_earned greater than",
        rejected,
    );
    assert_flag(
        &flags,
        "credits.csv",
        20,
        "credits_attempted",
        "-1",
        "unparseable or negative",
        rejected,
    );
    assert_flag(
        &flags,
        "credits.csv",
        21,
        "completion_date",
        "2025-13-12",
        "unparseable date",
        rejected,
    );
    assert_flag(
        &flags,
        "credits.csv",
        22,
        "completion_date",
        "2027-06-12",
        "date after the school year",
        rejected,
    );
    assert_flag(
        &flags,
        "credits.csv",
        23,
        "credit_recovery",
        "maybe",
        "expected Y or N",
        ignored,
    );
    assert_flag(
        &flags,
        "credits.csv",
        24,
        "mark",
        "Z",
        "unknown mark",
        rejected,
    );
    assert_flag(
        &flags,
        "behavior.csv",
        10,
        "suspension_days",
        "inf",
        "unparseable or negative number; counted as 0",
        ignored,
    );
    // Not finite numbers: infinite credits attempted, NaN credits earned.
    assert_flag(
        &flags,
        "credits.csv",
        25,
        "credits_attempted",
        "inf",
        "unparseable or negative number",
        rejected,
    );
    assert_flag(
        &flags,
        "credits.csv",
        26,
        "credits_earned",
        "NaN",
        "unparseable or negative number",
        rejected,
    );

    assert_flag(
        &flags,
        "behavior.csv",
        6,
        "date",
        "2025-11-31",
        "unparseable date",
        rejected,
    );
    assert_flag(
        &flags,
        "behavior.csv",
        7,
        "student_id",
        "7777",
        "student not in students.csv",
        rejected,
    );
    assert_flag(
        &flags,
        "behavior.csv",
        8,
        "suspension_days",
        "-1",
        "unparseable or negative",
        ignored,
    );
    assert_flag(
        &flags,
        "behavior.csv",
        9,
        "date",
        "2027-01-05",
        "date after the school year",
        rejected,
    );

    assert_flag(
        &flags,
        "outcomes.csv",
        3,
        "student_id",
        "0001",
        "second outcome",
        rejected,
    );
    assert_flag(
        &flags,
        "outcomes.csv",
        4,
        "outcome",
        "graduated",
        "unknown outcome",
        rejected,
    );
    assert_flag(
        &flags,
        "outcomes.csv",
        5,
        "outcome_date",
        "someday",
        "unparseable date",
        rejected,
    );
    assert_flag(
        &flags,
        "outcomes.csv",
        6,
        "student_id",
        "7777",
        "student not in students.csv",
        rejected,
    );
    assert_flag(
        &flags,
        "outcomes.csv",
        7,
        "student_id",
        "",
        "missing value",
        rejected,
    );
}

#[test]
fn rejected_rows_do_not_reach_the_features() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // An unknown code on a new day of 0004 and a bad date on a new row of 0002.
    edit(
        dir.path(),
        "attendance.csv",
        "9999,020,2026-01-12,P\n",
        "0004,020,2026-01-09,Q\n0002,010,09.01.2026,A\n",
    );
    let data = load(dir.path(), false);
    let days_of = |id: &str| {
        data.attendance
            .student_day_frame(&data.students)
            .unwrap()
            .lazy()
            .filter(col("student_id").eq(lit(id)))
            .collect()
            .unwrap()
            .height()
    };
    assert_eq!(days_of("0004"), 5);
    assert_eq!(days_of("0002"), 5);
    let flags = flags(&data);
    assert_flag(
        &flags,
        "attendance.csv",
        20,
        "code",
        "Q",
        "unknown attendance code",
        "row rejected",
    );
    assert_flag(
        &flags,
        "attendance.csv",
        21,
        "date",
        "09.01.2026",
        "unparseable date",
        "row rejected",
    );
}

#[test]
fn missing_column_names_the_file_and_the_closest_header() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    edit(dir.path(), "credits.csv", "credits_earned", "credit_earned");
    let err = load_error(dir.path());
    assert!(
        err.contains("credits.csv: required column `credits_earned` is missing"),
        "{err}"
    );
    assert!(
        err.contains("closest header found: `credit_earned`"),
        "{err}"
    );
}

#[test]
fn missing_required_file_is_an_error_and_behavior_is_optional() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    std::fs::remove_file(dir.path().join("behavior.csv")).unwrap();
    assert!(load(dir.path(), false).behavior.is_none());
    std::fs::remove_file(dir.path().join("grades.csv")).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("grades.csv: required file is missing"),
        "{err}"
    );
}

#[test]
fn parquet_files_are_read_like_csv_with_typed_columns() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let from_csv = load(dir.path(), false);

    // attendance as Parquet with a real Date column (what a large district would export).
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(dir.path().join("attendance.csv")))
        .unwrap()
        .finish()
        .unwrap()
        .lazy()
        .with_column(col("date").str().to_date(StrptimeOptions {
            format: Some("%Y-%m-%d".into()),
            ..Default::default()
        }))
        .collect()
        .unwrap();
    assert_eq!(frame.column("date").unwrap().dtype(), &DataType::Date);
    let file = std::fs::File::create(dir.path().join("attendance.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();

    // Both present is ambiguous.
    let err = load_error(dir.path());
    assert!(
        err.contains("both attendance.csv and this file exist"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("attendance.csv")).unwrap();
    let from_parquet = load(dir.path(), false);
    assert!(sorted_days(&from_parquet).equals_missing(&sorted_days(&from_csv)));
    // Line numbers of a Parquet file are row numbers from 1: the CSV's line 2 is row 1.
    let flags = flags(&from_parquet);
    assert_flag(
        &flags,
        "attendance.csv",
        1,
        "date",
        "2024-06-30",
        "date outside the school year",
        "row rejected",
    );
    assert_flag(
        &flags,
        "attendance.csv",
        19,
        "student_id",
        "9999",
        "student not in students.csv",
        "row rejected",
    );
}

/// attendance.csv's parallel reader: CRLF endings, a blank line, quoted fields (one with a
/// delimiter, one with a line break) and the editor's line numbers the other files use.
#[test]
fn attendance_reader_handles_quotes_line_breaks_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    write(
        dir.path(),
        "attendance.csv",
        "student_id,school_id,date,code\r\n\
         \"0001\",\"010\",2026-01-12,\"P\"\r\n\
         \r\n\
         0001,\"0,10\",2026-01-13,T\r\n\
         0001,010,2026-01-14,\"A\nB\"\r\n\
         0002,010,2026-01-12,Q\r\n\
         0002,010,2026-1-13,P\r\n",
    );
    let data = load(dir.path(), false);
    let flags: Vec<Flag> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "attendance.csv")
        .collect();
    // Lines as an editor shows them: header 1, 0001 P 2, a blank line 3 (no record), 0001 T 4,
    // the record with the quoted break on lines 5–6, 0002 Q 7, 0002 P 8.
    assert_eq!(flags.len(), 2, "{flags:?}");
    assert_flag(
        &flags,
        "attendance.csv",
        5,
        "code",
        "A\nB",
        "unknown attendance code",
        "row rejected",
    );
    assert_flag(
        &flags,
        "attendance.csv",
        7,
        "code",
        "Q",
        "unknown attendance code",
        "row rejected",
    );
    let days = sorted_days(&data);
    let ids: Vec<&str> = days
        .column("student_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids, ["0001", "0001", "0002"]);
    // P, T (rank 1), and the unpadded 2026-1-13 P.
    assert_eq!(severities(&days), [0, 1, 0]);
}

/// A mapped attendance.parquet is mapped once: codes that map onto other source codes (`A`
/// means excused here, `U` unexcused) and a day-first date format must not be applied twice.
#[test]
fn mapped_parquet_attendance_is_mapped_once() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    std::fs::remove_file(dir.path().join("attendance.csv")).unwrap();
    let mut frame = df!(
        "student_id" => ["0001", "0001", "0002"],
        "school_id" => ["010", "010", "010"],
        "date" => ["2026-12-01", "2026-13-01", "2026-12-01"],
        "code" => ["U", "A", "P"],
    )
    .unwrap();
    let file = std::fs::File::create(dir.path().join("attendance.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let mut config = config();
    config.input.attendance_codes = [("U", "A"), ("A", "E")]
        .map(|(s, c)| (s.into(), c.into()))
        .into();
    config
        .input
        .files
        .entry("attendance".into())
        .or_default()
        .date_format = Some("%Y-%d-%m".into());
    let data = checks::load(
        &Snapshot::open(dir.path()).unwrap(),
        &config,
        Some(date("2026-01-16")),
        false,
    )
    .unwrap();
    let days = sorted_days(&data);
    let dates: Vec<String> = days
        .column("date")
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    assert_eq!(dates, ["2026-01-12", "2026-01-13", "2026-01-12"]);
    // U → A (unexcused, rank 3); A → E (excused, rank 2); P.
    assert_eq!(severities(&days), [3, 2, 0]);
}
