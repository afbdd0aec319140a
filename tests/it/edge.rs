//! Edge cases of the inputs and the environment: each ends in a clear error or a valid run,
//! never a panic (exit code 3 would mean a bug).

use crate::common;

use std::path::Path;

use common::{copy_snapshot, ews, root};

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
    // Ten students with no attendance, mark, credit or incident at all: the run still scores
    // them (from the grade-based features and the training means) and reports each student
    // without attendance as a warning (exit code 1). (Files with no row at all are another
    // matter: tests/safety.rs.)
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    let students = std::fs::read_to_string(snapshot.join("students.csv")).unwrap();
    let unseen: Vec<String> = students
        .lines()
        .skip(1)
        .take(10)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    for file in [
        "attendance.csv",
        "grades.csv",
        "credits.csv",
        "behavior.csv",
    ] {
        let text = std::fs::read_to_string(snapshot.join(file)).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !unseen.iter().any(|id| l.starts_with(&format!("{id},"))))
            .collect();
        std::fs::write(snapshot.join(file), kept.join("\n") + "\n").unwrap();
    }
    let out = work.path().join("out");
    let (code, stderr) = score(&snapshot, &out, &["--as-of", "2026-03-13"]);
    assert_eq!(code, Some(1), "{stderr}");
    let mut reader = csv::Reader::from_path(out.join("2026-03-13/referrals.csv")).unwrap();
    assert_eq!(reader.records().count(), 1000);
    let quality = std::fs::read_to_string(out.join("2026-03-13/data_quality.csv")).unwrap();
    assert!(
        quality.contains("students.csv,warning,no attendance rows this school year,10"),
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

/// Unmounts a test filesystem when dropped.
#[cfg(target_os = "linux")]
struct Mounted(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_and_keeps_the_previous_run() {
    // A 1.2 MB filesystem holds one run (about 0.8 MB) but not a second beside it.
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("small");
    std::fs::create_dir(&mount_point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1200k", "tmpfs"])
        .arg(&mount_point)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a small tmpfs here (needs root)");
        return;
    }
    let _guard = Mounted(mount_point.clone());
    let out = mount_point.join("out");
    let sample = root().join("sample_data/current");
    let (code, stderr) = score(&sample, &out, &[]);
    assert!(code == Some(0), "the first run fits: {stderr}");
    let before = std::fs::read(out.join("2026-03-13/referrals.csv")).unwrap();

    let (code, stderr) = score(&sample, &out, &[]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(
        std::fs::read(out.join("2026-03-13/referrals.csv")).unwrap(),
        before
    );
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    // The lock file stays, released (tests/lock.rs).
    assert_eq!(
        left,
        [
            ews::io::folders::LOCK_FILE,
            "2026-03-13",
            ews::outputs::history::HISTORY_DIR
        ],
        "no staging folder left behind"
    );
}

#[test]
fn a_district_with_no_student_at_risk_is_a_valid_run() {
    // Thresholds no probability reaches: every student is in the low tier.
    let (_work, out) = common::score_sample_with_config("[tiers]\nhigh = 1.0\nmedium = 1.0\n");
    let run = out.join("2026-03-13");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["tiers"]["low"], 1000);
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("No student is at medium or high risk."));
    // Nobody is flagged at risk: selection rates are 0, ratios undefined, nothing flagged.
    let equity = std::fs::read_to_string(run.join("equity.csv")).unwrap();
    let header: Vec<&str> = equity.lines().next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|c| *c == name).unwrap();
    for line in equity.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[3] == "false" {
            assert_eq!(cells[at("selection_rate")], "0.0000", "{line}");
            assert_eq!(cells[at("selection_rate_ratio")], "", "{line}");
            assert_eq!(cells[at("selection_rate_ratio_low")], "", "{line}");
            assert_eq!(cells[at("flagged")], "", "{line}");
        }
    }
}

#[test]
fn the_run_log_names_no_student() {
    // A rejected row of a known student: reported in rejects.csv, never on stdout or stderr.
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    let students = std::fs::read_to_string(snapshot.join("students.csv")).unwrap();
    let first: Vec<String> = students
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    let (id, first_name, last_name) = (&first[0], &first[1], &first[2]);
    let attendance = std::fs::read_to_string(snapshot.join("attendance.csv")).unwrap();
    std::fs::write(
        snapshot.join("attendance.csv"),
        attendance + &format!("{id},{},2026-03-02,ZZ\n", first[3]),
    )
    .unwrap();
    let out = work.path().join("out");
    let result = ews(&[
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let rejects = std::fs::read_to_string(out.join("2026-03-13/rejects.csv")).unwrap();
    assert!(rejects.contains("ZZ"), "{rejects}");
    for stream in [&result.stdout, &result.stderr] {
        let text = String::from_utf8_lossy(stream);
        // (A last name alone can be an ordinary word, "White" is also a race value.)
        for personal in [
            id.clone(),
            first_name.clone(),
            format!("{first_name} {last_name}"),
            format!("{last_name}, {first_name}"),
        ] {
            assert!(!text.contains(personal.as_str()), "{personal} in {text}");
        }
    }
}
