//! The `[input]` mapping: a district's own export shape read back as the canonical layout.
//!
//! A hand-written export in a foreign shape checks each kind of mapping value by value; the
//! tiny canonical fixture, exported through both shipped example mappings and read back,
//! must give exactly the features of the canonical files.

use crate::common;

use std::path::Path;

use common::{config, date, fixture};
use ews::config::mapping::Mapping;
use ews::config::Config;
use ews::features;
use ews::ingest::checks::{self, Validated};
use ews::ingest::input::Snapshot;
use polars::prelude::*;

fn example(name: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("config/examples/{name}.toml"));
    Config::load(&path).unwrap()
}

fn load(dir: &Path, config: &Config) -> ews::Result<Validated> {
    checks::load(&Snapshot::open(dir).unwrap(), config, None, false)
}

/// A Windows-1252, pipe-delimited export with renamed files and columns, US dates, percent
/// marks, local attendance codes, subject names and Yes/No flags.
fn foreign_export(dir: &Path) {
    let write = |name: &str, text: &str| {
        let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
        assert!(!lossy);
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    write(
        "stu.txt",
        "ID|Given|Family|Bldg|Gr|DOB|LEP\n\
         0001|Ana|Muñoz|010|9|09/01/2011|Yes\n\
         0002|Ben|Smith|010|10|31/12/2009|No\n",
    );
    write(
        "att.txt",
        "ID|Bldg|Day|Code\n\
         0001|010|01/12/2026|PR\n\
         0001|010|01/13/2026|UX\n\
         0001|010|01/14/2026|ZZ\n\
         0001|010|2026-01-15|PR\n\
         0001|010|13/01/2026|PR\n\
         0002|010|01/12/2026|PR\n\
         0002|010|01/13/2026|MED\n",
    );
    write(
        "marks.txt",
        "ID|Bldg|Year|Term|Course|Title|Area|Pct|Posted\n\
         0001|010|2026|Q1|ENG9|English 9|English|92.5|10/31/2025\n\
         0001|010|2026|Q1|ALG1|Algebra I|Math|59.9|10/31/2025\n\
         0001|010|2026|Q1|ART1|Art|Fine Arts|INC|10/31/2025\n\
         0002|010|2026|Q1|ENG10|English 10|English|abc|10/31/2025\n\
         0002|010|2026|Q1|BIO|Biology|Science|60|10/31/2025\n\
         0002|010|2026|Q1|CHEM|Chemistry|Science|150|10/31/2025\n\
         0002|010|2026|Q1|PHY|Physics|Science|inf|10/31/2025\n",
    );
    write(
        "transcript.txt",
        "ID|Year|Term|Course|Title|Area|Att|Earn|Pct|Stored|CR\n\
         0002|2025|Y|ALG1|Algebra I|Math|1.0|0.0|41|06/12/2025|No\n\
         0002|2025|Y|ENG9|English 9|English|1.0|1.0|83|06/12/2025|Yes\n",
    );
}

fn foreign_mapping() -> Mapping {
    toml::from_str(
        r#"
        delimiter = "|"
        encoding = "windows-1252"
        date_format = "%m/%d/%Y"
        true_values = ["Yes"]
        false_values = ["No"]
        attendance_codes = { PR = "P", UX = "A", MED = "E" }
        subjects = { English = "ELA", Math = "MATH", Science = "SCI" }
        marks = { scale = "percent", letters = { INC = "I" } }
        [files.students]
        name = "stu.txt"
        columns = { student_id = "ID", first_name = "Given", last_name = "Family", school_id = "Bldg", grade_level = "Gr", birth_date = "DOB", ell = "LEP" }
        [files.attendance]
        name = "att.txt"
        columns = { student_id = "ID", school_id = "Bldg", date = "Day", code = "Code" }
        [files.grades]
        name = "marks.txt"
        columns = { student_id = "ID", school_id = "Bldg", school_year = "Year", term = "Term", course_id = "Course", course_name = "Title", subject = "Area", mark = "Pct", mark_date = "Posted" }
        [files.credits]
        name = "transcript.txt"
        columns = { student_id = "ID", school_year = "Year", term = "Term", course_id = "Course", course_name = "Title", subject = "Area", credits_attempted = "Att", credits_earned = "Earn", mark = "Pct", completion_date = "Stored", credit_recovery = "CR" }
        "#,
    )
    .unwrap()
}

fn strings(frame: &DataFrame, column: &str) -> Vec<Option<String>> {
    frame
        .column(column)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// (file, line, column, value, reason) of every flagged row.
fn flags(data: &Validated) -> Vec<(String, u64, String, String, String)> {
    let mut out = Vec::new();
    for frame in &data.quality.rejects {
        let text = |name: &str| strings(frame, name);
        let (file, column, value, reason) =
            (text("file"), text("column"), text("value"), text("reason"));
        let line = frame.column("line").unwrap().u64().unwrap().clone();
        for i in 0..frame.height() {
            out.push((
                file[i].clone().unwrap(),
                line.get(i).unwrap(),
                column[i].clone().unwrap(),
                value[i].clone().unwrap_or_default(),
                reason[i].clone().unwrap(),
            ));
        }
    }
    out
}

#[test]
fn a_foreign_export_reads_as_canonical_values() {
    let dir = tempfile::tempdir().unwrap();
    foreign_export(dir.path());
    let mut config = config();
    config.input = foreign_mapping();
    let data = load(dir.path(), &config).unwrap();

    // Windows-1252 decoded; US dates; Yes/No flags.
    let students = &data.students;
    assert_eq!(strings(students, "last_name")[0].as_deref(), Some("Muñoz"));
    assert_eq!(
        strings(students, "birth_date")[0].as_deref(),
        Some("2011-09-01")
    );
    assert_eq!(
        strings(students, "ell"),
        [Some("Y".into()), Some("N".into())]
    );
    // "31/12/2009" is not %m/%d/%Y: the value is left blank and reported.
    assert_eq!(strings(students, "birth_date")[1], None);

    // Attendance codes: PR → P, UX → A, MED → E; ZZ and the day-first date are rejected. An
    // ISO date is unambiguous and accepted (the latest school day).
    assert_eq!(data.as_of, date("2026-01-15"));
    let found = flags(&data);
    let has = |file: &str, line: u64, column: &str, value: &str, reason: &str| {
        assert!(
            found.iter().any(|f| f.0 == file
                && f.1 == line
                && f.2 == column
                && f.3 == value
                && f.4.starts_with(reason)),
            "no {file}:{line} {column}={value:?} {reason:?} in {found:#?}"
        );
    };
    has("attendance.csv", 4, "code", "ZZ", "unknown attendance code");
    has(
        "attendance.csv",
        6,
        "date",
        "13/01/2026",
        "unparseable date (expected %m/%d/%Y)",
    );
    has(
        "students.csv",
        3,
        "birth_date",
        "31/12/2009",
        "unparseable date (expected %m/%d/%Y)",
    );
    // Percent marks: 92.5 → A- (3.7), 59.9 → F, INC → I, 60 → D- (the cut-off is inclusive);
    // a word that is no mark is rejected with the value the export had.
    has("grades.csv", 5, "mark", "abc", "unknown mark");
    // Off the 0–100 scale, or not a finite number: not a mark.
    has("grades.csv", 7, "mark", "150", "unknown mark");
    has("grades.csv", 8, "mark", "inf", "unknown mark");
    let grades = &data.grades;
    assert_eq!(
        strings(grades, "mark"),
        ["A-", "F", "I", "D-"].map(|m| Some(m.to_string()))
    );
    assert_eq!(
        strings(grades, "subject"),
        ["ELA", "MATH", "Fine Arts", "SCI"].map(|m| Some(m.to_string()))
    );
    assert_eq!(
        strings(&data.credits, "mark"),
        [Some("F".into()), Some("B".into())]
    );
    assert_eq!(
        strings(&data.credits, "credit_recovery"),
        [Some("false".into()), Some("true".into())]
    );
    assert_eq!(
        strings(&data.credits, "completion_date")[0].as_deref(),
        Some("2025-06-12")
    );
    assert_eq!(flags(&data).len(), 6, "{:#?}", flags(&data));
}

#[test]
fn a_missing_mapped_column_names_the_export_header_and_the_contract_column() {
    let dir = tempfile::tempdir().unwrap();
    foreign_export(dir.path());
    let text = std::fs::read(dir.path().join("att.txt")).unwrap();
    let renamed = String::from_utf8(text)
        .unwrap()
        .replace("|Code\n", "|AttCode\n");
    std::fs::write(dir.path().join("att.txt"), renamed).unwrap();
    let mut config = config();
    config.input = foreign_mapping();
    let error = load(dir.path(), &config).err().unwrap().to_string();
    assert!(error.contains("att.txt"), "{error}");
    assert!(
        error.contains("required column `Code` (mapped to `code`) is missing"),
        "{error}"
    );
    assert!(error.contains("closest header found: `AttCode`"), "{error}");
}

#[test]
fn a_missing_mapped_file_names_the_mapped_file() {
    let dir = tempfile::tempdir().unwrap();
    foreign_export(dir.path());
    std::fs::remove_file(dir.path().join("marks.txt")).unwrap();
    let mut config = config();
    config.input = foreign_mapping();
    let error = load(dir.path(), &config).err().unwrap().to_string();
    assert!(
        error.contains("marks.txt: required file is missing"),
        "{error}"
    );
}

/// The fixture's features, read from `dir` with `config`.
fn features_of(dir: &Path, config: &Config) -> DataFrame {
    let data = load(dir, config).unwrap();
    features::compute(&data, config).unwrap().table
}

#[test]
fn the_example_mappings_read_back_what_they_export() {
    let canonical = tempfile::tempdir().unwrap();
    fixture(canonical.path());
    let expected = features_of(canonical.path(), &config());
    for (name, bom) in [("tab-windows-1252", false), ("semicolon-0-20", true)] {
        let mut config = config();
        config.input = example(name).input;
        let exported = tempfile::tempdir().unwrap();
        let summary = ews::synth::export::export_snapshot(
            canonical.path(),
            &config.input,
            exported.path(),
            bom,
        )
        .unwrap();
        // Every file of the fixture was written under its mapped name.
        assert_eq!(summary.rows.len(), 5, "{name}: {:?}", summary.rows);
        let got = features_of(exported.path(), &config);
        assert_eq!(got.get_column_names(), expected.get_column_names());
        for column in expected.get_column_names() {
            let (a, mut b) = (strings(&got, column), strings(&expected, column));
            if name == "tab-windows-1252" && column == "last_name" {
                // Windows-1252 has no "ễ"; the export writes "?" in its place, as Windows does.
                b[2] = Some("Nguy?n".into());
            }
            assert_eq!(a, b, "{name}: feature table column {column}");
        }
    }
}

#[test]
fn the_examples_really_are_in_a_foreign_shape() {
    let canonical = tempfile::tempdir().unwrap();
    fixture(canonical.path());
    let exported = tempfile::tempdir().unwrap();
    let input = example("tab-windows-1252").input;
    ews::synth::export::export_snapshot(canonical.path(), &input, exported.path(), false).unwrap();
    let bytes = std::fs::read(exported.path().join("Student_Demographics.txt")).unwrap();
    assert!(bytes.starts_with(b"Student_Number\tFirst_Name\tLast_Name\t"));
    // "Muñoz" in Windows-1252 (ñ = 0xF1); "Nguyễn" has no Windows-1252 form and becomes "Nguy?n".
    assert!(bytes.windows(5).any(|w| w == b"Mu\xF1oz"));
    assert!(bytes.windows(6).any(|w| w == b"Nguy?n"));
    let attendance = std::fs::read_to_string(exported.path().join("Daily_Attendance.txt")).unwrap();
    assert!(
        attendance.contains("0001\t010\t01/12/2026\tPR"),
        "{attendance}"
    );

    let exported = tempfile::tempdir().unwrap();
    let input = example("semicolon-0-20").input;
    ews::synth::export::export_snapshot(canonical.path(), &input, exported.path(), true).unwrap();
    let text = std::fs::read_to_string(exported.path().join("grades.csv")).unwrap();
    assert!(
        text.starts_with("\u{feff}StudentUniqueId;SchoolId;SchoolYear;"),
        "{text}"
    );
    // English 9, Q1: F → the middle of 0–10; Q2: D → the middle of 10.5–11.
    assert!(
        text.contains(";English 9;English Language Arts;5;50;31/10/2025"),
        "{text}"
    );
    assert!(
        text.contains(";English 9;English Language Arts;10.8;64;09/01/2026"),
        "{text}"
    );
}
