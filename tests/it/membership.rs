//! Membership from enrollment × calendar and exception-only attendance (contract, part 2), on a
//! tiny snapshot whose values were computed by hand (see the comments).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{assert_close, config, date, features_of, fixture, flags, load, write};
use ews::config::ExitDate;
use ews::features;

/// The common fixture's students, grades and credits, with exception-only attendance:
///
/// calendar (Mon 2026-01-12 … Fri 01-16): school 010 all five days; school 020 the same but
/// Thu 01-15 is not instructional.
/// - 0001 at 010 from 01-12: 01-13 A 0.5 (a half day), 01-14 A 0.5 + E 0.5 (a split day),
///   01-15 T, and an exact duplicate of the half day (counted once).
/// - 0002 at 010 from 01-12 to 01-14, then at 020 from 01-14 (a same-day transfer): 01-16 E
///   at 020; a row at 010 on 01-14 is rejected (the day belongs to 020).
/// - 0003 at 020 from 01-12, no row at all.
/// - 0004 at 020 from 01-12, exit_date 01-14: 01-13 A; a row on 01-16 is rejected.
fn exceptions(dir: &Path) {
    fixture(dir);
    write(
        dir,
        "calendar.csv",
        "school_id,date,instructional,periods\n\
         010,2026-01-12,Y,\n010,2026-01-13,Y,\n010,2026-01-14,Y,4\n010,2026-01-15,Y,\n010,2026-01-16,Y,\n\
         020,2026-01-12,Y,\n020,2026-01-13,Y,\n020,2026-01-14,Y,\n020,2026-01-15,N,\n020,2026-01-16,Y,\n",
    );
    write(
        dir,
        "enrollment.csv",
        "student_id,school_id,entry_date,exit_date,exit_code,entry_grade_level\n\
         0001,010,2026-01-12,,,09\n\
         0002,010,2026-01-12,2026-01-14,T1,10\n\
         0002,020,2026-01-14,,,10\n\
         0003,020,2026-01-12,,,11\n\
         0004,020,2026-01-12,2026-01-14,T2,12\n",
    );
    write(
        dir,
        "attendance.csv",
        "student_id,school_id,date,code,day_fraction\n\
         0001,010,2026-01-13,A,0.5\n\
         0001,010,2026-01-14,A,0.5\n\
         0001,010,2026-01-14,E,.5\n\
         0001,010,2026-01-15,T,\n\
         0001,010,2026-01-13,A,0.5\n\
         0002,010,2026-01-14,A,\n\
         0002,020,2026-01-16,E,1\n\
         0004,020,2026-01-13,A,\n\
         0004,020,2026-01-16,A,\n",
    );
    write(
        dir,
        "snapshot.toml",
        "# exception-only export\n[attendance]\nmode = \"exceptions\"\n",
    );
}

#[test]
fn half_days_split_days_transfers_and_members_without_events() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    let v = features_of(dir.path(), &config());
    // 0001: 5 membership days; absent 0.5 (01-13) + 1.0 (01-14, A 0.5 + E 0.5) = 1.5.
    assert_close(&v, "0001", "attendance_rate", 3.5 / 5.0);
    // Unexcused: 0.5 + 0.5 of A.
    assert_close(&v, "0001", "unexcused_absence_rate", 1.0 / 5.0);
    assert_close(&v, "0001", "tardy_rate", 1.0 / 5.0);
    // 30% absent, but 5 membership days are too few to call it chronic (10 needed).
    assert_close(&v, "0001", "chronic_absence", 0.0);
    // The last 3 instructional days of 010 (01-14 … 01-16): absent 1.0 → 2/3.
    assert_close(&v, "0001", "recent_attendance_rate", 2.0 / 3.0);
    // 0002: 010 on 01-12, 01-13; 020 on 01-14, 01-16 (01-15 closed) = 4 days, absent 01-16.
    assert_close(&v, "0002", "attendance_rate", 3.0 / 4.0);
    assert_close(&v, "0002", "unexcused_absence_rate", 0.0);
    // Recent: 020's last 3 instructional days are 01-13, 01-14, 01-16: members on all three
    // (01-13 at 010), absent on one.
    assert_close(&v, "0002", "recent_attendance_rate", 2.0 / 3.0);
    // 0003: a member with no row attended every day.
    assert_close(&v, "0003", "attendance_rate", 1.0);
    assert_close(&v, "0003", "chronic_absence", 0.0);
    assert_close(&v, "0003", "recent_attendance_rate", 1.0);
    // 0004: 01-12 … 01-14 (exit_date is the last day enrolled), absent 01-13.
    assert_close(&v, "0004", "attendance_rate", 2.0 / 3.0);

    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let attendance: Vec<(u64, String, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "attendance.csv")
        .map(|f| (f.1, f.2, f.4))
        .collect();
    assert_eq!(attendance.len(), 3, "{attendance:#?}");
    assert_eq!(attendance[0].0, 6);
    assert!(attendance[0].2.contains("exact duplicate"));
    assert_eq!(
        (attendance[1].0, attendance[1].1.as_str()),
        (7, "school_id")
    );
    assert!(attendance[1].2.contains("another school"));
    assert_eq!((attendance[2].0, attendance[2].1.as_str()), (10, "date"));
    assert!(attendance[2]
        .2
        .contains("outside the student's enrollment spans"));
}

#[test]
fn exit_date_as_the_day_after() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    let mut config = config();
    config.enrollment.exit_date = ExitDate::DayAfter;
    let v = features_of(dir.path(), &config);
    // 0004 leaves after 01-13: members 01-12 and 01-13, absent 01-13.
    assert_close(&v, "0004", "attendance_rate", 0.5);
    // 0002's first span now ends 01-13, the second begins 01-14: no shared day, same days.
    assert_close(&v, "0002", "attendance_rate", 3.0 / 4.0);
}

#[test]
fn daily_rows_with_fractions_count_the_same_shares() {
    // Part-1 daily attendance with day_fraction and no enrollment: membership is the dates
    // with a row, a half day is half absent.
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    write(
        dir.path(),
        "attendance.csv",
        "student_id,school_id,date,code,day_fraction\n\
         0001,010,2026-01-12,P,\n\
         0001,010,2026-01-13,E,0.5\n\
         0001,010,2026-01-14,A,0.5\n\
         0001,010,2026-01-14,E,0.5\n\
         0001,010,2026-01-15,P,\n\
         0002,010,2026-01-12,P,\n\
         0002,010,2026-01-13,P,\n\
         0002,010,2026-01-14,P,\n\
         0002,010,2026-01-15,P,x\n",
    );
    let v = features_of(dir.path(), &config());
    // 4 dates with rows; absent 0.5 + 1.0.
    assert_close(&v, "0001", "attendance_rate", 2.5 / 4.0);
    assert_close(&v, "0001", "unexcused_absence_rate", 0.5 / 4.0);
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let bad: Vec<_> = flags(&data)
        .into_iter()
        .filter(|f| f.2 == "day_fraction")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].1, 10);
}

#[test]
fn an_exception_only_export_needs_its_calendar_and_is_not_read_as_daily() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    std::fs::remove_file(dir.path().join("calendar.csv")).unwrap();
    let err = common::load_error(dir.path());
    assert!(
        err.contains("calendar.csv") && err.contains("exceptions"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    std::fs::remove_file(dir.path().join("snapshot.toml")).unwrap();
    let err = common::load_error(dir.path());
    assert!(
        err.contains("no row is coded P") && err.contains("attendance.mode"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    write(
        dir.path(),
        "snapshot.toml",
        "[attendance]\nmode = \"sometimes\"\n",
    );
    let err = common::load_error(dir.path());
    assert!(err.contains("snapshot.toml"), "{err}");
    assert!(!err.contains("sometimes\""), "{err}");
}

#[test]
fn a_stale_exception_export_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    let mut config = config();
    config.attendance.max_days_without_events = 1;
    // The latest row is 01-16 (0004's rejected row is not accepted; 0002's E is): no gap.
    let data = load(dir.path(), &config, Some(date("2026-01-16")));
    let problems = |data: &ews::ingest::checks::Validated| -> Vec<String> {
        data.quality
            .files
            .iter()
            .filter(|f| f.file == "attendance.csv")
            .flat_map(|f| f.problems.iter().map(|p| p.reason.clone()))
            .collect()
    };
    assert!(problems(&data).is_empty(), "{:?}", problems(&data));
    // Without the rows after 01-13, 01-14 … 01-16 are three instructional days without events.
    write(
        dir.path(),
        "attendance.csv",
        "student_id,school_id,date,code,day_fraction\n0001,010,2026-01-13,A,0.5\n",
    );
    let data = load(dir.path(), &config, Some(date("2026-01-16")));
    let found = problems(&data);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("3 instructional days"), "{}", found[0]);
    assert!(data.quality.has_warnings());
    // The default as-of in exception mode is the latest date of any row.
    let data = load(dir.path(), &config, None);
    assert_eq!(data.as_of, date("2026-01-13"));
}

#[test]
fn bad_spans_are_rejected_rows() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    write(
        dir.path(),
        "enrollment.csv",
        "student_id,school_id,entry_date,exit_date,exit_code,entry_grade_level\n\
         0001,010,2026-01-12,,,09\n\
         0001,020,2026-01-13,,,09\n\
         0002,777,2026-01-12,,,10\n\
         0003,020,2026-01-14,2026-01-12,,11\n\
         0004,020,2026-01-12,,,12\n",
    );
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let enrollment: Vec<(u64, String, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "enrollment.csv")
        .map(|f| (f.1, f.2, f.4))
        .collect();
    let lines: Vec<(u64, &str)> = enrollment.iter().map(|f| (f.0, f.1.as_str())).collect();
    assert!(lines.contains(&(3, "entry_date")), "{enrollment:#?}");
    assert!(lines.contains(&(4, "school_id")), "{enrollment:#?}");
    assert!(lines.contains(&(5, "exit_date")), "{enrollment:#?}");
    // rejects.csv holds the rejected values: the overlapping entry date, the unknown school.
    let values: Vec<(u64, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "enrollment.csv" && (f.1 == 3 || f.1 == 4))
        .map(|f| (f.1, f.3))
        .collect();
    assert!(
        values.contains(&(3, "2026-01-13".to_string())),
        "{values:?}"
    );
    assert!(values.contains(&(4, "777".to_string())), "{values:?}");
    // Their students have no span left: their attendance rows are rejected with the reason.
    let no_span = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "attendance.csv" && f.4.contains("no enrollment span"))
        .count();
    assert_eq!(no_span, 2, "0002's two rows");
}

#[test]
fn a_retained_student_keeps_the_cohort_of_the_grade_9_entry() {
    // 0002 (grade 10; its cohort_year blanked below) entered grade 9 in
    // August 2023 (school year 2024) and repeated it: cohort 2024 + 3 = 2027, where today's
    // grade would say 2026 + 12 − 10 = 2028.
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    common::edit(
        dir.path(),
        "students.csv",
        "0002,Ben,O'Brien,010,\"King, Jr. High\",10,2009-08-15,2028,",
        "0002,Ben,O'Brien,010,\"King, Jr. High\",10,2009-08-15,,",
    );
    common::edit(
        dir.path(),
        "enrollment.csv",
        "0002,010,2026-01-12,2026-01-14,T1,10\n",
        "0002,010,2023-08-21,2024-06-10,,09\n\
         0002,010,2024-08-20,2025-06-10,,09\n\
         0002,010,2026-01-12,2026-01-14,T1,10\n",
    );
    let config = config();
    let data = load(dir.path(), &config, Some(date("2026-01-16")));
    let run = features::compute(&data, &config).unwrap();
    let ids = run.table.column("student_id").unwrap().str().unwrap();
    let cohorts = run.table.column("cohort_year").unwrap().i32().unwrap();
    let cohort: BTreeMap<&str, i32> = ids
        .iter()
        .zip(cohorts.iter())
        .map(|(id, c)| (id.unwrap(), c.unwrap()))
        .collect();
    assert_eq!(cohort["0002"], 2027);
    // Without a grade-9 span the grade decides, as in part 1: 0003 is in grade 11.
    assert_eq!(cohort["0003"], 2027);
    // A cohort_year in students.csv wins: 0004's 2026.
    assert_eq!(cohort["0004"], 2026);
}

#[test]
fn outcomes_come_from_enrollment_exits_when_there_is_no_outcomes_file() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    // 0001 still enrolled; 0002 moved (T1 = other... its last span is open); 0003 dropped out;
    // 0004 graduated mid-year, within its cohort year 2026: on time.
    write(
        dir.path(),
        "enrollment.csv",
        "student_id,school_id,entry_date,exit_date,exit_code,entry_grade_level\n\
         0001,010,2026-01-12,,,09\n\
         0002,010,2026-01-12,2026-01-14,T1,10\n\
         0002,020,2026-01-14,,,10\n\
         0003,020,2026-01-12,2026-01-15,DO,11\n\
         0004,020,2026-01-12,2026-01-14,GR,12\n",
    );
    let mut config = config();
    for (code, outcome) in [("T1", "other"), ("DO", "dropped_out"), ("GR", "graduated")] {
        config
            .outcomes
            .exit_codes
            .insert(code.into(), outcome.into());
    }
    let snapshot = ews::ingest::input::Snapshot::open(dir.path()).unwrap();
    let data =
        ews::ingest::checks::load(&snapshot, &config, Some(date("2026-01-16")), true).unwrap();
    let run = features::compute(&data, &config).unwrap();
    let labels = ews::model::labels(&run, data.outcomes.as_ref().unwrap(), &config).unwrap();
    let ids = run.table.column("student_id").unwrap().str().unwrap();
    let by_id: BTreeMap<&str, Option<bool>> = ids
        .iter()
        .map(|id| id.unwrap())
        .zip(labels.labels.iter().copied())
        .collect();
    assert_eq!(by_id["0003"], Some(true), "dropped out");
    assert_eq!(by_id["0004"], Some(false), "graduated on time");
    // Still enrolled before the end of their cohort year: not yet known.
    assert_eq!(by_id["0001"], None);
    assert_eq!(by_id["0002"], None);
    assert_eq!(labels.excluded_not_yet_known, 2);

    // An exit code the config does not list: no outcome, and a warning row naming the line.
    config.outcomes.exit_codes.remove("DO");
    let data =
        ews::ingest::checks::load(&snapshot, &config, Some(date("2026-01-16")), true).unwrap();
    let warned: Vec<(u64, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "enrollment.csv" && f.2 == "exit_code")
        .map(|f| (f.1, f.5))
        .collect();
    assert_eq!(warned, [(5, "warning".to_string())]);

    // Without exit codes in the config, training needs outcomes.csv.
    config.outcomes.exit_codes.clear();
    let err = ews::ingest::checks::load(&snapshot, &config, Some(date("2026-01-16")), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("outcomes.csv"), "{err}");
}

#[test]
fn school_and_grade_come_from_enrollment_when_blank() {
    // 0003's school and grade are blank in students.csv: its span (020, entered in grade 11)
    // gives them. 0001's grade is blank and it has no span: rejected, with its line.
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    common::edit(
        dir.path(),
        "students.csv",
        "0003,Cy,Nguyễn,020,Lincoln High,11,",
        "0003,Cy,Nguyễn,,Lincoln High,,",
    );
    common::edit(
        dir.path(),
        "students.csv",
        "0001,Ana,Muñoz,010,\"King, Jr. High\",9,",
        "0001,Ana,Muñoz,010,\"King, Jr. High\", ,",
    );
    common::edit(
        dir.path(),
        "enrollment.csv",
        "0001,010,2026-01-12,,,09\n",
        "",
    );
    common::edit(
        dir.path(),
        "attendance.csv",
        "0001,010,2026-01-13,A,0.5\n",
        "",
    );
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let ids = data.students.column("student_id").unwrap().str().unwrap();
    let row = ids.iter().position(|id| id == Some("0003")).unwrap();
    assert_eq!(
        data.students
            .column("school_id")
            .unwrap()
            .str()
            .unwrap()
            .get(row),
        Some("020")
    );
    assert_eq!(
        data.students
            .column("grade_level")
            .unwrap()
            .i32()
            .unwrap()
            .get(row),
        Some(11)
    );
    assert!(!ids.iter().any(|id| id == Some("0001")));
    let rejected: Vec<(u64, String, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "students.csv" && f.5 == "row rejected")
        .map(|f| (f.1, f.2, f.4))
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!((rejected[0].0, rejected[0].1.as_str()), (2, "grade_level"));
    assert!(rejected[0].2.contains("no enrollment span"));
    // 0003 is scored with its features; without enrollment.csv the blanks are rejected.
    let v = features_of(dir.path(), &config());
    assert_close(&v, "0003", "attendance_rate", 1.0);
    std::fs::remove_file(dir.path().join("enrollment.csv")).unwrap();
    std::fs::remove_file(dir.path().join("calendar.csv")).unwrap();
    std::fs::remove_file(dir.path().join("snapshot.toml")).unwrap();
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let missing = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "students.csv" && f.4.starts_with("missing value"))
        .count();
    assert_eq!(missing, 2);
}

#[test]
fn class_periods_missed_on_days_in_school() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    write(
        dir.path(),
        "period_attendance.csv",
        "student_id,school_id,date,period,code\n\
         0003,020,2026-01-12,1,P\n\
         0003,020,2026-01-13,3,A\n\
         0003,020,2026-01-13,4,A\n\
         0003,020,2026-01-13,5,A\n\
         0001,010,2026-01-15,2,E\n\
         0001,010,2026-01-15,2,E\n\
         0001,010,2026-01-14,1,A\n\
         0004,020,2026-01-16,1,A\n",
    );
    let v = features_of(dir.path(), &config());
    // 0003 was in school all four membership days (020: 7 periods a day): absent from periods
    // 3–5 on 01-13, present in homeroom: 3 / 28. The daily rate does not move.
    assert_close(&v, "0003", "class_period_absence_rate", 3.0 / 28.0);
    assert_close(&v, "0003", "attendance_rate", 1.0);
    // 0001: 01-14 was absent all day (A 0.5 + E 0.5), so its periods are not scheduled and its
    // period row is ignored; 01-12, 01-13 (a half day), 01-15, 01-16 at 7 periods; the
    // repeated row counts once: 1 / 28.
    assert_close(&v, "0001", "class_period_absence_rate", 1.0 / 28.0);
    // A file with no row for 0002: no period missed.
    assert_close(&v, "0002", "class_period_absence_rate", 0.0);
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let rejected: Vec<(u64, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "period_attendance.csv")
        .map(|f| (f.1, f.2))
        .collect();
    assert_eq!(rejected, [(9, "date".to_string())], "0004 had left");
    // Without the file the feature is unknown, never 0.
    std::fs::remove_file(dir.path().join("period_attendance.csv")).unwrap();
    let v = features_of(dir.path(), &config());
    assert_eq!(v["0003"]["class_period_absence_rate"], None);
}

#[test]
fn a_daily_export_with_gaps_in_its_membership_days_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    std::fs::remove_file(dir.path().join("snapshot.toml")).unwrap();
    // Daily rows for every membership day except three of 0003's (01-13, 01-14, 01-16).
    write(
        dir.path(),
        "attendance.csv",
        "student_id,school_id,date,code\n\
         0001,010,2026-01-12,P\n0001,010,2026-01-13,P\n0001,010,2026-01-14,P\n\
         0001,010,2026-01-15,A\n0001,010,2026-01-16,P\n\
         0002,010,2026-01-12,P\n0002,010,2026-01-13,P\n0002,020,2026-01-14,P\n\
         0002,020,2026-01-16,P\n\
         0003,020,2026-01-12,P\n\
         0004,020,2026-01-12,P\n0004,020,2026-01-13,A\n0004,020,2026-01-14,P\n",
    );
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let warnings: Vec<String> = data
        .quality
        .files
        .iter()
        .filter(|f| f.file == "attendance.csv")
        .flat_map(|f| f.problems.iter().map(|p| p.reason.clone()))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("3 membership days"),
        "{}",
        warnings[0]
    );
    let v = features_of(dir.path(), &config());
    assert_close(&v, "0003", "attendance_rate", 1.0);
    assert_close(&v, "0001", "attendance_rate", 0.8);
}

#[test]
fn prior_year_attendance_of_an_exception_export_counts_membership_days() {
    // 2024-25 in the same exception-only export: school 020 open Mon 2025-03-03 … Fri 03-14
    // (ten days), 0003 enrolled there all along, absent (A) on two of them: 8 / 10. 0001 has
    // no span that year: unknown.
    let dir = tempfile::tempdir().unwrap();
    exceptions(dir.path());
    let days = ["03", "04", "05", "06", "07", "10", "11", "12", "13", "14"];
    let mut calendar = std::fs::read_to_string(dir.path().join("calendar.csv")).unwrap();
    for day in days {
        calendar.push_str(&format!("020,2025-03-{day},Y,\n"));
    }
    write(dir.path(), "calendar.csv", &calendar);
    let mut enrollment = std::fs::read_to_string(dir.path().join("enrollment.csv")).unwrap();
    enrollment.push_str("0003,020,2024-09-01,2025-06-13,P1,10\n");
    write(dir.path(), "enrollment.csv", &enrollment);
    let mut attendance = std::fs::read_to_string(dir.path().join("attendance.csv")).unwrap();
    attendance.push_str("0003,020,2025-03-04,A,\n0003,020,2025-03-11,A,\n");
    write(dir.path(), "attendance.csv", &attendance);
    let v = features_of(dir.path(), &config());
    assert_close(&v, "0003", "prior_attendance_rate", 0.8);
    assert_eq!(v["0001"]["prior_attendance_rate"], None);
    // This year's figures of 0003 are those of the export without 2024-25.
    let plain = tempfile::tempdir().unwrap();
    exceptions(plain.path());
    let without = features_of(plain.path(), &config());
    assert_eq!(
        v["0003"]["attendance_rate"],
        without["0003"]["attendance_rate"]
    );
    assert_eq!(without["0003"]["prior_attendance_rate"], None);
}
