//! Grade values and the grade scope (contract, part 2): a K–12 students.csv where only grades
//! 9–12 are scored, the others skipped and counted in every file, never rejected.

use crate::common;

use common::{config, date, fixture, flags, load, write};
use ews::config::GradeValue;

/// The fixture plus four students outside grades 9–12 (kindergarten, grade 7, pre-K) and one
/// with a grade written as a word, each with rows in attendance.csv and grades.csv; and a
/// student in grade 13.
fn k12(dir: &std::path::Path) {
    fixture(dir);
    let students = std::fs::read_to_string(dir.join("students.csv")).unwrap();
    write(
        dir,
        "students.csv",
        &format!(
            "{students}\
             0101,Eli,Kim,030,Oak Elementary,KG,,,M,Asian,N,N,N,\n\
             0102,Fay,Lee,030,Oak Elementary,07,,,F,White,N,N,N,\n\
             0103,Gus,Ray,030,Oak Elementary, pk ,,,M,White,N,N,N,\n\
             0104,Hal,Fox,010,\"King, Jr. High\",Ninth grade,,,M,White,N,N,N,\n\
             0105,Ida,Roe,010,\"King, Jr. High\",13,,,F,White,N,N,N,\n"
        ),
    );
    let attendance = std::fs::read_to_string(dir.join("attendance.csv")).unwrap();
    let mut extra = String::new();
    for id in ["0101", "0102", "0103"] {
        for day in 12..=16 {
            extra.push_str(&format!("{id},030,2026-01-{day},A\n"));
        }
    }
    extra.push_str("0104,010,2026-01-12,P\n");
    write(dir, "attendance.csv", &format!("{attendance}{extra}"));
    let grades = std::fs::read_to_string(dir.join("grades.csv")).unwrap();
    write(
        dir,
        "grades.csv",
        &format!("{grades}0102,030,2026,Q1,MATH7,Math 7,MATH,F,40,2025-10-31\n"),
    );
}

#[test]
fn students_outside_the_scope_are_skipped_and_counted_not_rejected() {
    let dir = tempfile::tempdir().unwrap();
    k12(dir.path());
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let ids: Vec<&str> = data
        .students
        .column("student_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids, ["0001", "0002", "0003", "0004"]);
    let file = |name: &str| data.quality.files.iter().find(|f| f.file == name).unwrap();
    // KG, 07 and pk are out of scope; "Ninth grade" (unmapped) and 13 are rejected.
    assert_eq!(file("students.csv").out_of_scope, 3);
    assert_eq!(file("students.csv").rejected(), 2);
    assert_eq!(file("attendance.csv").out_of_scope, 15);
    assert_eq!(file("grades.csv").out_of_scope, 1);
    let students_flags: Vec<(u64, String, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "students.csv" && f.5 == "row rejected")
        .map(|f| (f.1, f.2, f.4))
        .collect();
    assert_eq!(students_flags.len(), 2, "{students_flags:#?}");
    assert!(students_flags
        .iter()
        .all(|f| f.1 == "grade_level" && f.2.contains("unknown grade level")));
    // No row of an out-of-scope student is rejected in any file; 0104's is (not enrolled).
    let attendance_rejects: Vec<u64> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "attendance.csv")
        .map(|f| f.1)
        .collect();
    assert!(attendance_rejects
        .iter()
        .all(|&line| line < 21 || line == 36));
    // The gate's share counts the rows in scope only: 35 read, 15 out of scope.
    let attendance = file("attendance.csv");
    assert_eq!(attendance.rows_read, 35);
    assert_eq!(
        attendance.rejected_share(),
        attendance.rejected() as f64 / 20.0
    );
}

#[test]
fn grade_words_are_mapped_and_the_scope_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    k12(dir.path());
    let mut config = config();
    config
        .input
        .grade_levels
        .insert("Ninth grade".into(), "9".into());
    config.scope.grades = (7..=12).map(GradeValue::Number).collect();
    let data = load(dir.path(), &config, Some(date("2026-01-16")));
    let grades: Vec<(String, i32)> = (0..data.students.height())
        .map(|row| {
            (
                data.students
                    .column("student_id")
                    .unwrap()
                    .str()
                    .unwrap()
                    .get(row)
                    .unwrap()
                    .to_string(),
                data.students
                    .column("grade_level")
                    .unwrap()
                    .i32()
                    .unwrap()
                    .get(row)
                    .unwrap(),
            )
        })
        .collect();
    assert!(grades.contains(&("0102".into(), 7)), "{grades:?}");
    assert!(grades.contains(&("0104".into(), 9)), "{grades:?}");
    assert!(!grades.iter().any(|(id, _)| id == "0101" || id == "0103"));

    // A scope that is not a grade, or a mapping to something that is not one, is refused.
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("ews.toml");
    write(
        work.path(),
        "ews.toml",
        "[scope]\ngrades = [\"K\", \"Grade 1\"]\n",
    );
    let err = ews::config::Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("scope.grades"), "{err}");
    write(
        work.path(),
        "ews.toml",
        "[input.grade_levels]\n\"Ninth grade\" = \"Nine\"\n",
    );
    let err = ews::config::Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("input.grade_levels"), "{err}");
}

#[test]
fn the_data_quality_file_shows_the_rows_out_of_scope() {
    let dir = tempfile::tempdir().unwrap();
    k12(dir.path());
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let out = tempfile::tempdir().unwrap();
    data.quality.write(out.path()).unwrap();
    let text = std::fs::read_to_string(out.path().join("data_quality.csv")).unwrap();
    assert!(
        text.contains(
            "students.csv,out of scope,\"student outside scope.grades (skipped, not rejected)\",3"
        ),
        "{text}"
    );
    assert!(text.contains("attendance.csv,out of scope,"), "{text}");
}
