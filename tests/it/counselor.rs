//! Counselor files named from school ids: ids that a file name cannot hold as they are (`A/B`,
//! `École`, 300 characters) still give one file per school, so no candidate is silently left out
//! of them; and a row with a blank school_id (or another required value of spaces only) is a
//! rejected row, not a school named " ".

use crate::common;
use common::csv_rows as rows;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{copy_snapshot, ews};

/// Runs `ews score` on `snapshot` into `out`; the exit code and stderr.
fn score(snapshot: &Path, out: &Path) -> (Option<i32>, String) {
    let result = ews(&[
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (
        result.status.code(),
        String::from_utf8_lossy(&result.stderr).to_string(),
    )
}

/// Rewrites the `school_id` (4th column) of students.csv: data row `i` gets `school(i, id)`.
fn set_schools(snapshot: &Path, mut school: impl FnMut(usize, &str) -> String) {
    let mut reader = csv::Reader::from_path(snapshot.join("students.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[3], "school_id");
    let mut writer = csv::Writer::from_path(snapshot.join("students.csv.new")).unwrap();
    writer.write_record(&header).unwrap();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        let mut fields: Vec<String> = record.iter().map(String::from).collect();
        fields[3] = school(i, &fields[0]);
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    std::fs::rename(
        snapshot.join("students.csv.new"),
        snapshot.join("students.csv"),
    )
    .unwrap();
}

#[test]
fn school_ids_that_sanitise_alike_or_are_too_long_each_get_their_own_counselor_file() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    copy_snapshot("sample_data/current", &snapshot);
    let long = "L".repeat(300);
    let ids = ["A/B", "A_B", "A.B", "École", "_cole", long.as_str()];
    // Before: the first five all wrote schools/A_B.csv or schools/_cole.csv (overwriting each
    // other), and the long id failed the run (file name too long, exit 3).
    set_schools(&snapshot, |i, _| ids[i % ids.len()].to_string());
    let out = work.path().join("out");
    let (code, stderr) = score(&snapshot, &out);
    assert!(matches!(code, Some(0) | Some(1)), "{code:?} {stderr}");
    let run = out.join("2026-03-13");

    // The candidates by school, from the feed: students with something to recover
    // (`credit_recovery_candidate`, docs/output-schema.md).
    let referrals = rows(&run.join("students.csv"));
    assert_eq!(referrals.len(), 1000);
    let mut school_of: BTreeMap<String, String> = BTreeMap::new();
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for row in &referrals {
        let id = row["student_id"].clone();
        school_of.insert(id.clone(), row["school_id"].clone());
        if row["credit_recovery_candidate"] == "true" {
            expected.insert(id);
        }
    }
    assert!(expected.len() > 100, "{}", expected.len());

    // One file per school, named as school_file_names says.
    let names = ews::outputs::counselor::school_file_names(ids.iter().copied());
    let files: BTreeSet<String> = std::fs::read_dir(run.join("schools"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // Each school's CSV and, beside it, its workbook of the same name.
    let expected_files: BTreeSet<String> = names
        .values()
        .flat_map(|csv| [csv.clone(), ews::outputs::counselor::workbook_name(csv)])
        .collect();
    assert_eq!(files, expected_files);
    assert_eq!(files.len(), 12);
    // SHA-256 of `A/B`, first 8 hex digits (`printf %s 'A/B' | sha256sum`).
    assert!(files.contains("A_B-998d3ed8.csv"), "{files:?}");
    let folded: BTreeSet<String> = files.iter().map(|f| f.to_ascii_lowercase()).collect();
    assert_eq!(folded.len(), 12, "distinct also ignoring case: {files:?}");
    assert!(files.iter().all(|f| f.len() <= 64 + 1 + 8 + 5), "{files:?}");

    // Together the files hold exactly the candidates, each once, each file one school's.
    let mut found: Vec<String> = Vec::new();
    for (school, name) in &names {
        let listed = rows(&run.join("schools").join(name));
        for row in &listed {
            assert_eq!(&school_of[&row["student_id"]], school, "{name}");
        }
        found.extend(listed.into_iter().map(|r| r["student_id"].clone()));
    }
    let found_set: BTreeSet<String> = found.iter().cloned().collect();
    assert_eq!(found.len(), found_set.len(), "a student listed twice");
    assert_eq!(found_set, expected);
}

#[test]
fn a_blank_school_id_is_a_rejected_row() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    copy_snapshot("sample_data/current", &snapshot);
    // The first student's school_id is spaces, the second's a tab, the third's empty.
    let mut blanked = Vec::new();
    set_schools(&snapshot, |i, id| match i {
        0..=2 => {
            blanked.push(id.to_string());
            ["   ", "\t", ""][i].to_string()
        }
        _ => "001".to_string(),
    });
    let out = work.path().join("out");
    let (code, stderr) = score(&snapshot, &out);
    assert_eq!(code, Some(1), "rows rejected below the gate: {stderr}");
    let run = out.join("2026-03-13");
    let rejected: Vec<BTreeMap<String, String>> = rows(&run.join("rejects.csv"))
        .into_iter()
        .filter(|r| r["file"] == "students.csv" && r["action"] == "row rejected")
        .collect();
    let lines: Vec<(&str, &str, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r["line"].as_str(),
                r["column"].as_str(),
                r["reason"].as_str(),
            )
        })
        .collect();
    // Data rows 0–2 are lines 2–4 (line 1 is the header).
    let reason = ews::contract::MISSING_REASON;
    assert_eq!(
        lines,
        [
            ("2", "school_id", reason),
            ("3", "school_id", reason),
            ("4", "school_id", reason),
        ]
    );
    // Not scored, so in no counselor file and in no school of the summary.
    let referrals = rows(&run.join("referrals.csv"));
    assert_eq!(referrals.len(), 997);
    assert!(referrals
        .iter()
        .all(|r| !blanked.contains(&r["student_id"])));
    assert!(referrals.iter().all(|r| r["school_id"] == "001"));
    let files: BTreeSet<String> = std::fs::read_dir(run.join("schools"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, BTreeSet::from(["001.csv".into(), "001.xlsx".into()]));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["students"], 997);
    assert_eq!(summary["schools"].as_array().unwrap().len(), 1);
}

#[test]
fn a_required_value_of_white_space_only_is_missing_in_every_file() {
    let dir = tempfile::tempdir().unwrap();
    common::fixture(dir.path());
    // students.csv line 4 (0003): a student_id of one space; line 5 (0004): a last_name of
    // one space.
    common::edit(dir.path(), "students.csv", "0003,Cy,", " ,Cy,");
    common::edit(dir.path(), "students.csv", "0004,Di,Smith,", "0004,Di, ,");
    // grades.csv line 14 (0002's first mark): a course_id of two spaces.
    common::edit(
        dir.path(),
        "grades.csv",
        "0002,010,2026,Q1,ENG10,",
        "0002,010,2026,Q1,  ,",
    );
    // attendance.csv line 14 (0002 on Jan 16): a student_id of a tab.
    common::edit(
        dir.path(),
        "attendance.csv",
        "0002,010,2026-01-16,S",
        "\t,010,2026-01-16,S",
    );
    let data = common::load(dir.path(), &common::config(), None);
    let flags = common::flags(&data);
    let missing = ews::contract::MISSING_REASON.to_string();
    let flag = |file: &str, line: u64, column: &str, value: &str| {
        (
            file.to_string(),
            line,
            column.to_string(),
            value.to_string(),
            missing.clone(),
            "row rejected".to_string(),
        )
    };
    for expected in [
        flag("students.csv", 4, "student_id", " "),
        flag("students.csv", 5, "last_name", " "),
        flag("grades.csv", 14, "course_id", "  "),
        flag("attendance.csv", 14, "student_id", "\t"),
    ] {
        assert!(flags.contains(&expected), "{expected:?} not in {flags:#?}");
    }
    // Only 0001 and 0002 are enrolled; 0002's other mark (ENG10 Q2) is kept.
    let ids: Vec<&str> = data
        .students
        .column("student_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids, ["0001", "0002"]);
    let courses = ews::ingest::columns::texts(data.grades.column("course_id").unwrap())
        .unwrap()
        .flatten()
        .filter(|c| c.trim().is_empty())
        .count();
    assert_eq!(courses, 0);
}

/// The counselor workbook beside each school's CSVs, read back with calamine: the sheets and
/// columns docs/output-schema.md documents, ids as text with their leading zeros, risk as a
/// percentage, no formula anywhere; the same rows as the CSVs; student-level mode. The CSVs
/// people open start with a byte-order mark, the dashboard feed does not.
#[test]
fn the_workbook_keeps_ids_as_text_and_explains_every_column() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    use ews::outputs::counselor::{COLUMNS, PREVENTION_COLUMNS, UNSERVED_COLUMNS};
    use ews::outputs::workbook::{DECISION_COLUMNS, MEANING_COLUMNS, SHEETS};
    let (_work, out) = common::score_sample_with_config("");
    let run = out.join("2026-03-13");
    let docs = std::fs::read_to_string(common::root().join("docs/output-schema.md")).unwrap();
    let mut leading_zeros = 0;
    for school in ["001", "002", "003"] {
        let path = run.join(format!("schools/{school}.xlsx"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), SHEETS);
        for sheet in SHEETS {
            assert!(
                docs.contains(&format!("| {sheet} |")),
                "{sheet} not documented"
            );
            // No cell holds a formula.
            let formulas = book.worksheet_formula(sheet).unwrap();
            assert!(
                formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                "{sheet}"
            );
        }
        for (sheet, columns, csv) in [
            (SHEETS[0], &COLUMNS[..], format!("schools/{school}.csv")),
            (
                SHEETS[1],
                &PREVENTION_COLUMNS[..],
                format!("prevention/{school}.csv"),
            ),
            (
                SHEETS[2],
                &UNSERVED_COLUMNS[..],
                format!("unserved/{school}.csv"),
            ),
        ] {
            let range = book.worksheet_range(sheet).unwrap();
            let rows: Vec<&[Data]> = range.rows().collect();
            let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
            // The CSV's columns, then the decision columns it lacks (the reason).
            let expected: Vec<&str> = columns
                .iter()
                .chain(DECISION_COLUMNS.iter().filter(|c| !columns.contains(c)))
                .copied()
                .collect();
            assert_eq!(expected.last(), Some(&"decision_reason"));
            assert_eq!(header, expected, "{sheet}");
            for column in &expected {
                assert!(
                    docs.contains(column),
                    "{column} not in docs/output-schema.md"
                );
            }
            for column in &DECISION_COLUMNS {
                assert!(
                    docs.contains(&format!("`{column}`")),
                    "{column} not documented"
                );
            }
            // The same rows as the CSV, cell by cell.
            let bytes = std::fs::read(run.join(&csv)).unwrap();
            assert!(
                bytes.starts_with("\u{feff}".as_bytes()),
                "{csv}: no byte-order mark"
            );
            let mut reader = csv::Reader::from_reader(&bytes[..]);
            let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
            assert_eq!(rows.len() - 1, records.len(), "{sheet}");
            let at = |name: &str| columns.iter().position(|c| *c == name).unwrap();
            for (cells, record) in rows[1..].iter().zip(&records) {
                let id = &record[at("student_id")];
                assert_eq!(cells[at("student_id")], Data::String(id.to_string()));
                leading_zeros += usize::from(id.starts_with('0'));
                assert_eq!(
                    cells[at("last_name")],
                    Data::String(record[at("last_name")].to_string())
                );
                let risk: f64 = record[at("risk_percent")].parse().unwrap();
                assert_eq!(cells[at("risk_percent")], Data::Float(risk / 100.0));
                let grade: f64 = record[at("grade_level")].parse().unwrap();
                assert_eq!(cells[at("grade_level")], Data::Float(grade));
                // Without decisions in the snapshot, the decision columns are empty (a row
                // may end before them).
                for k in [at("decision_status"), at("decision_date"), columns.len()] {
                    assert!(cells.get(k).is_none_or(|c| *c == Data::Empty), "{sheet}");
                }
            }
        }
        // Every column of both lists is explained.
        let range = book.worksheet_range(SHEETS[3]).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
        assert_eq!(header, MEANING_COLUMNS);
        // Each list's columns, and the decision reason the CSVs lack.
        assert_eq!(
            rows.len() - 1,
            COLUMNS.len() + PREVENTION_COLUMNS.len() + UNSERVED_COLUMNS.len() + 3
        );
        assert!(rows[1..].iter().all(|r| !r[2].to_string().is_empty()));
    }
    assert!(leading_zeros > 0, "the sample's ids start with 0");
    // referrals.csv has the mark too; the dashboard feed never.
    let referrals = std::fs::read(run.join("referrals.csv")).unwrap();
    assert!(referrals.starts_with("\u{feff}student_id,".as_bytes()));
    let feed = std::fs::read(run.join("students.csv")).unwrap();
    assert!(feed.starts_with(b"schema_version,"));

    // Without the mark when the config says so.
    let (_work, out) = common::score_sample_with_config("[output]\ncsv_bom = false\n");
    let referrals = std::fs::read(out.join("2026-03-13/referrals.csv")).unwrap();
    assert!(referrals.starts_with(b"student_id,"));
    let list = std::fs::read(out.join("2026-03-13/schools/001.csv")).unwrap();
    assert!(list.starts_with(b"rank,"));
}

/// A text that a spreadsheet would run as a formula stays text in the workbook, unchanged (the
/// CSV neutralises it with an apostrophe; a string cell needs none), and an id stays a string.
#[test]
fn a_formula_like_text_is_a_string_cell_in_the_workbook() {
    use calamine::{Data, Reader, Xlsx};
    use ews::outputs::counselor::{COLUMNS, PREVENTION_COLUMNS, UNSERVED_COLUMNS};
    let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    let row_again = || {
        let mut row: Vec<String> = COLUMNS.iter().map(|_| String::new()).collect();
        row[at("rank")] = "1".into();
        row[at("student_id")] = "00102158".into();
        row[at("last_name")] = "=HYPERLINK(\"http://x\",\"y\")".into();
        row[at("risk_percent")] = "55".into();
        row
    };
    let row = row_again();
    let prevention: Vec<String> = PREVENTION_COLUMNS
        .iter()
        .map(|_| "+1".to_string())
        .collect();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 3, 13).unwrap();
    let none: Vec<Vec<String>> = Vec::new();
    let bytes = ews::outputs::workbook::school_workbook(
        [
            (&COLUMNS, &[row]),
            (&PREVENTION_COLUMNS, &[prevention]),
            (&UNSERVED_COLUMNS, &none),
        ],
        as_of,
    )
    .unwrap();
    // The same rows on the same day: the same bytes.
    let again = ews::outputs::workbook::school_workbook(
        [
            (&COLUMNS, &[row_again()]),
            (
                &PREVENTION_COLUMNS,
                &[PREVENTION_COLUMNS
                    .iter()
                    .map(|_| "+1".to_string())
                    .collect()],
            ),
            (&UNSERVED_COLUMNS, &none),
        ],
        as_of,
    )
    .unwrap();
    assert_eq!(bytes, again);
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Recovery candidates").unwrap();
    let cells: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(cells[1][at("student_id")], Data::String("00102158".into()));
    assert_eq!(
        cells[1][at("last_name")],
        Data::String("=HYPERLINK(\"http://x\",\"y\")".into())
    );
    assert_eq!(cells[1][at("risk_percent")], Data::Float(0.55));
    let prevention = book.worksheet_range("Prevention").unwrap();
    // "+1" in a text column stays that text (a CSV cell gets an apostrophe before it).
    let last_name = PREVENTION_COLUMNS
        .iter()
        .position(|c| *c == "last_name")
        .unwrap();
    assert_eq!(
        prevention.rows().nth(1).unwrap()[last_name],
        Data::String("+1".into())
    );
    for name in ["Recovery candidates", "Prevention", "Columns"] {
        let formulas = book.worksheet_formula(name).unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "{name}"
        );
    }
}

/// Every column of the counselor files has a plain-words meaning for the workbook's Columns
/// sheet, and a cell kind (ids are text).
#[test]
fn every_counselor_column_has_a_meaning_and_a_kind() {
    use ews::outputs::counselor::{COLUMNS, PREVENTION_COLUMNS, UNSERVED_COLUMNS};
    use ews::outputs::workbook::{cell_kind, meaning, CellKind, DECISION_COLUMNS};
    for column in COLUMNS
        .iter()
        .chain(&PREVENTION_COLUMNS)
        .chain(&UNSERVED_COLUMNS)
        .chain(&DECISION_COLUMNS)
    {
        assert!(!meaning(column).is_empty(), "{column} has no meaning");
    }
    assert_eq!(cell_kind("student_id"), CellKind::Text);
    assert_eq!(cell_kind("risk_percent"), CellKind::Percent);
    assert_eq!(cell_kind("gpa"), CellKind::Number);
}
