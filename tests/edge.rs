//! Edge cases of the inputs and the environment: each ends in a clear error or a valid run,
//! never a panic (exit code 3 would mean a bug).

mod common;

use std::path::Path;

use common::{ews, root};

fn copy_snapshot(from: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(root().join(from)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn score(snapshot: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let result = ews(&args);
    (
        result.status.code(),
        String::from_utf8_lossy(&result.stderr).to_string(),
    )
}

#[test]
fn an_empty_or_header_only_students_file_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    std::fs::write(snapshot.join("students.csv"), "").unwrap();
    let (code, stderr) = score(&snapshot, &work.path().join("out"), &[]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("students.csv: the file is empty"),
        "{stderr}"
    );

    let header = std::fs::read_to_string(root().join("sample_data/current/students.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(snapshot.join("students.csv"), header + "\n").unwrap();
    let (code, stderr) = score(&snapshot, &work.path().join("out"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("pass --as-of"), "{stderr}");
    // With a date: every other row belongs to no enrolled student, so the gate fails.
    let (code, stderr) = score(
        &snapshot,
        &work.path().join("out"),
        &["--as-of", "2026-03-13"],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("data-quality gate failed"), "{stderr}");
}

#[test]
fn a_training_set_with_one_class_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/train", &snapshot);
    let outcomes = std::fs::read_to_string(snapshot.join("outcomes.csv")).unwrap();
    let one_class: String = outcomes
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line}\n")
            } else {
                let fields: Vec<&str> = line.split(',').collect();
                format!("{},graduated_on_time,{}\n", fields[0], fields[2])
            }
        })
        .collect();
    std::fs::write(snapshot.join("outcomes.csv"), one_class).unwrap();
    let model = work.path().join("m.json");
    let result = ews(&[
        "train",
        snapshot.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("need at least 10 at-risk"), "{stderr}");
    assert!(!model.exists());
}

#[test]
fn a_truncated_model_file_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("config/model.json")).unwrap();
    let model = work.path().join("m.json");
    std::fs::write(&model, &text[..text.len() / 2]).unwrap();
    let (code, stderr) = score(
        &root().join("sample_data/current"),
        &work.path().join("out"),
        &["--model", model.to_str().unwrap()],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("not an ews model file"), "{stderr}");
}

#[test]
fn an_output_path_that_is_a_file_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("reports");
    std::fs::write(&file, "").unwrap();
    let (code, stderr) = score(&root().join("sample_data/current"), &file, &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--out must be a folder"), "{stderr}");
}

#[test]
fn a_school_with_one_student_gets_its_own_list() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    // Move the first student to a school of their own.
    let students = std::fs::read_to_string(snapshot.join("students.csv")).unwrap();
    let mut lines: Vec<String> = students.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
    fields[3] = "999".into();
    lines[1] = fields.join(",");
    std::fs::write(snapshot.join("students.csv"), lines.join("\n") + "\n").unwrap();
    let out = work.path().join("out");
    let (code, stderr) = score(&snapshot, &out, &[]);
    // Its attendance rows still name the old school: accepted (the school comes from
    // students.csv), so the run is clean or has warnings only.
    assert!(code == Some(0) || code == Some(1), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("2026-03-13/summary.json")).unwrap())
            .unwrap();
    let school = summary["schools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["school_id"] == "999")
        .unwrap();
    // One student is too few to publish: the school's and its grade's counts are suppressed.
    assert_eq!(school["suppressed"], true);
    assert!(school["students"].is_null() && school["tiers"].is_null());
    assert_eq!(school["grades"][0]["suppressed"], true);
    assert!(school["grades"][0]["tiers"].is_null());
    // The district total still counts every student.
    assert_eq!(summary["students"], 1000);
}

#[test]
fn students_without_any_records_are_scored_and_reported() {
    // Every feature of every student missing: the run still scores everyone (from the
    // grade-based features and the training means) and reports each student without
    // attendance as a warning (exit code 1).
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    for file in [
        "attendance.csv",
        "grades.csv",
        "credits.csv",
        "behavior.csv",
    ] {
        let text = std::fs::read_to_string(snapshot.join(file)).unwrap();
        let header = text.lines().next().unwrap().to_string();
        std::fs::write(snapshot.join(file), header + "\n").unwrap();
    }
    let out = work.path().join("out");
    let (code, stderr) = score(&snapshot, &out, &["--as-of", "2026-03-13"]);
    assert_eq!(code, Some(1), "{stderr}");
    let mut reader = csv::Reader::from_path(out.join("2026-03-13/referrals.csv")).unwrap();
    assert_eq!(reader.records().count(), 1000);
    let quality = std::fs::read_to_string(out.join("2026-03-13/data_quality.csv")).unwrap();
    assert!(
        quality.contains("students.csv,warning,no attendance rows this school year,1000"),
        "{quality}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_output_folder_that_cannot_be_created_is_an_environment_error() {
    // /proc refuses new folders, even to root.
    let (code, stderr) = score(
        &root().join("sample_data/current"),
        Path::new("/proc/ews-test-out"),
        &[],
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("/proc/ews-test-out"), "{stderr}");
}
