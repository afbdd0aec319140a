//! What a district must be able to trust of every run, tried on sample_data as a nightly job
//! and an attacker would: ews never deletes what it did not write, no message holds a value of
//! a student's row, a pseudonymised feed never meets real ids, and a feed that is empty where
//! it cannot be (or that moved the referral list by half) does not pass silently.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{copy_snapshot, ews, root};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let result = ews(args);
    (
        result.status.code(),
        text(&result.stdout),
        text(&result.stderr),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Replaces the header-only version of a file of `snapshot`.
fn header_only(snapshot: &Path, file: &str) {
    let text = std::fs::read_to_string(snapshot.join(file)).unwrap();
    let header = text.lines().next().unwrap().to_string();
    std::fs::write(snapshot.join(file), header + "\n").unwrap();
}

// ---- nothing deleted -----------------------------------------------------------------------

#[test]
fn evaluate_never_replaces_a_folder_it_did_not_write() {
    let work = tempfile::tempdir().unwrap();
    let reports = work.path().join("reports");
    let (code, _, stderr) = run(&["score", "sample_data/current", "--out", path(&reports)]);
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::write(reports.join("notes.txt"), "the counselors' notes").unwrap();

    // The case: evaluate --out into the folder of the nightly runs.
    let (code, _, stderr) = run(&["evaluate", "sample_data/train", "--out", path(&reports)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("nothing in it was touched"), "{stderr}");
    assert!(stderr.contains("was not written by ews"), "{stderr}");
    assert!(reports.join("2026-03-13/referrals.csv").is_file());
    assert_eq!(
        std::fs::read_to_string(reports.join("notes.txt")).unwrap(),
        "the counselors' notes"
    );
    assert!(!reports.join("metrics.json").exists());

    // A new folder, then the same folder again: an earlier evaluation is replaced.
    let evaluation = work.path().join("evaluation");
    for _ in 0..2 {
        let (code, _, stderr) = run(&["evaluate", "sample_data/train", "--out", path(&evaluation)]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(evaluation.join("metrics.json").is_file());
        assert!(evaluation.join(ews::io::folders::WRITTEN_MARKER).is_file());
    }
    // An empty folder is fine too.
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, stderr) = run(&["evaluate", "sample_data/train", "--out", path(&empty)]);
    assert_eq!(code, Some(0), "{stderr}");

    // An earlier evaluation to which the user added a file is left alone.
    std::fs::write(evaluation.join("my analysis.xlsx"), "mine").unwrap();
    let (code, _, stderr) = run(&["evaluate", "sample_data/train", "--out", path(&evaluation)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("my analysis.xlsx"), "{stderr}");
    assert!(evaluation.join("my analysis.xlsx").is_file());
    assert!(evaluation.join("metrics.json").is_file());
    // --out naming a file is refused, the file untouched.
    let file = work.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (code, _, _) = run(&["evaluate", "sample_data/train", "--out", path(&file)]);
    assert_eq!(code, Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

// ---- nothing leaked ------------------------------------------------------------------------

/// Every student's id, names and birth date in a students.csv.
fn personal_values(students: &Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(students).unwrap();
    let header = reader.headers().unwrap().clone();
    let wanted: Vec<usize> = ["student_id", "first_name", "last_name", "birth_date"]
        .iter()
        .map(|c| header.iter().position(|h| h == *c).unwrap())
        .collect();
    let mut values = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        for &i in &wanted {
            values.push(record[i].to_string());
        }
    }
    values
}

/// The values of `values` that occur in `output` as a whole word.
fn leaked<'a>(values: &'a [String], output: &str) -> Vec<&'a str> {
    let word = |c: char| c.is_alphanumeric() || c == '-' || c == '\'';
    let tokens: std::collections::HashSet<&str> = output.split(|c: char| !word(c)).collect();
    values
        .iter()
        .filter(|v| v.len() >= 3 && tokens.contains(v.as_str()))
        .map(String::as_str)
        .collect()
}

#[test]
fn a_stray_quote_in_a_name_is_a_rejected_row_and_no_message_holds_a_record() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    let students = snapshot.join("students.csv");
    // Words a clean run prints anyway (an equity group "White" is also somebody's last name)
    // are no test of a leak.
    let (_, clean_out, clean_err) = run(&[
        "score",
        path(&snapshot),
        "--out",
        path(&work.path().join("clean")),
    ]);
    let printed = clean_out + &clean_err;
    let secrets: Vec<String> = personal_values(&students)
        .into_iter()
        .filter(|v| leaked(std::slice::from_ref(v), &printed).is_empty())
        .collect();
    assert!(
        secrets.len() > 3000,
        "ids, names and birth dates: {}",
        secrets.len()
    );
    // One stray leading quote in one last name (line 101).
    let text = std::fs::read_to_string(&students).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[100].split(',').map(String::from).collect();
    fields[2] = format!("\"{}", fields[2]);
    lines[100] = fields.join(",");
    std::fs::write(&students, lines.join("\n") + "\n").unwrap();

    let out = work.path().join("out");
    for args in [
        vec!["score", path(&snapshot), "--out", path(&out)],
        vec!["-q", "score", path(&snapshot), "--out", path(&out)],
        vec!["-vv", "validate", path(&snapshot), "--out", path(&out)],
    ] {
        let (code, stdout, stderr) = run(&args);
        // One student of 1,000 rejected: below the gate, a run with warnings.
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        let both = stdout + &stderr;
        assert_eq!(leaked(&secrets, &both), Vec::<&str>::new(), "{args:?}");
    }
    let rejects = std::fs::read_to_string(out.join("2026-03-13/rejects.csv")).unwrap();
    assert!(
        rejects.contains("students.csv,101,last_name,"),
        "the row is in rejects.csv with its line and column:\n{rejects}"
    );
}

// ---- pseudonyms never meet real ids --------------------------------------------------------

fn score_as(out: &Path, as_of: &str, key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ews"));
    command
        .args(["score", "sample_data/current", "--as-of", as_of, "--out"])
        .arg(out)
        .current_dir(root());
    match key {
        Some(key) => command
            .arg("--pseudonymize")
            .env(ews::outputs::pseudonym::KEY_VARIABLE, key),
        None => command.env_remove(ews::outputs::pseudonym::KEY_VARIABLE),
    };
    let output = command.output().unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        text(&output.stderr)
    );
    output
}

fn summary_changes(run: &Path) -> serde_json::Value {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    summary["changes"].clone()
}

#[test]
fn pseudonymized_runs_compare_only_with_runs_of_the_same_key() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let secrets = personal_values(&root().join("sample_data/current/students.csv"));
    let (key, other_key) = (
        "a district secret of enough bytes",
        "the rotated key, also long",
    );

    // The case: a plain run, then a pseudonymised one into the same folder.
    score_as(&out, "2026-03-06", None);
    let result = score_as(&out, "2026-03-09", Some(key));
    let run = out.join("2026-03-09");
    let changes = std::fs::read_to_string(run.join("changes.csv")).unwrap();
    assert_eq!(leaked(&secrets, &changes), Vec::<&str>::new());
    assert_eq!(changes.lines().count(), 1, "header only: {changes}");
    assert!(summary_changes(&run).is_null());
    assert!(text(&result.stderr).contains("not compared"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["student_ids"]["pseudonymized"], true);
    let fingerprint = manifest["student_ids"]["key_fingerprint"].as_str().unwrap();
    assert_eq!(
        fingerprint,
        ews::outputs::pseudonym::key_fingerprint(key.as_bytes())
    );
    assert!(!text(&std::fs::read(run.join("manifest.json")).unwrap()).contains(key));

    // The same key the next night: compared with the pseudonymised run, not the plain one.
    score_as(&out, "2026-03-13", Some(key));
    let run = out.join("2026-03-13");
    assert_eq!(
        summary_changes(&run)["previous_as_of"].as_str(),
        Some("2026-03-09")
    );
    let changes = std::fs::read_to_string(run.join("changes.csv")).unwrap();
    assert_eq!(leaked(&secrets, &changes), Vec::<&str>::new());
    let mut reader = csv::Reader::from_path(run.join("changes.csv")).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        assert_eq!(record[0].len(), 32, "a pseudonym: {record:?}");
        assert!(
            record[1].is_empty() && record[2].is_empty(),
            "no names: {record:?}"
        );
    }

    // A rotated key: no earlier run compares.
    score_as(&out, "2026-03-13", Some(other_key));
    assert!(summary_changes(&out.join("2026-03-13")).is_null());
    // And --previous naming a run of other ids is refused.
    let output = Command::new(env!("CARGO_BIN_EXE_ews"))
        .args(["score", "sample_data/current", "--out"])
        .arg(&out)
        .arg("--previous")
        .arg(out.join("2026-03-06"))
        .arg("--pseudonymize")
        .env(ews::outputs::pseudonym::KEY_VARIABLE, key)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

// ---- empty or implausible feeds ------------------------------------------------------------

fn snapshot_copy(work: &Path) -> PathBuf {
    let snapshot = work.join("snap");
    copy_snapshot("sample_data/current", &snapshot);
    snapshot
}

#[test]
fn a_required_file_empty_where_it_cannot_be_fails_the_gate() {
    for (file, reason) in [
        ("credits.csv", "the transcript has no rows while"),
        (
            "grades.csv",
            "the file has no marks while the as-of date 2026-03-13",
        ),
        (
            "attendance.csv",
            "the file has no rows, and daily attendance",
        ),
    ] {
        let work = tempfile::tempdir().unwrap();
        let snapshot = snapshot_copy(work.path());
        header_only(&snapshot, file);
        let out = work.path().join("out");
        let (code, _, stderr) = run(&[
            "score",
            path(&snapshot),
            "--out",
            path(&out),
            "--as-of",
            "2026-03-13",
        ]);
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!("{file}: {reason}")),
            "{file}: {stderr}"
        );
        assert!(!out.join("2026-03-13").exists(), "nothing published");
        let quality = std::fs::read_to_string(out.join("2026-03-13.failed/data_quality.csv"));
        assert!(quality.unwrap().contains(&format!("{file},gate failure,")));
    }
}

#[test]
fn an_optional_file_empty_or_absent_and_other_empty_files() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = snapshot_copy(work.path());
    // behavior.csv absent and behavior.csv of 0 bytes: the same run.
    let outputs: Vec<(Option<i32>, String, String)> = [false, true]
        .into_iter()
        .map(|zero_bytes| {
            let behavior = snapshot.join("behavior.csv");
            let _ = std::fs::remove_file(&behavior);
            if zero_bytes {
                std::fs::write(&behavior, "").unwrap();
            }
            let out = work.path().join(format!("out-{zero_bytes}"));
            let (code, _, stderr) = run(&["score", path(&snapshot), "--out", path(&out)]);
            let quality = std::fs::read_to_string(out.join("2026-03-13/data_quality.csv")).unwrap();
            (code, stderr, quality)
        })
        .collect();
    assert_eq!(outputs[0].0, outputs[1].0);
    assert_eq!(outputs[0].2, outputs[1].2);
    assert_eq!(outputs[0].0, Some(0), "{}", outputs[0].1);
    for (_, stderr, quality) in &outputs {
        assert!(
            stderr.contains("behavior.csv: absent (optional"),
            "{stderr}"
        );
        assert!(quality.contains("behavior.csv,absent,"), "{quality}");
    }

    // A header-only behavior.csv: read, no rows, a warning (exit 1).
    std::fs::copy(
        root().join("sample_data/current/behavior.csv"),
        snapshot.join("behavior.csv"),
    )
    .unwrap();
    header_only(&snapshot, "behavior.csv");
    let out = work.path().join("out-header");
    let (code, _, stderr) = run(&["score", path(&snapshot), "--out", path(&out)]);
    assert_eq!(code, Some(1), "{stderr}");
    let quality = std::fs::read_to_string(out.join("2026-03-13/data_quality.csv")).unwrap();
    assert!(
        quality.contains("behavior.csv,warning,the file has no rows,0"),
        "{quality}"
    );

    // An empty transcript is only a warning where no student in grades 10–12 is scored.
    let mut config = common::config();
    config.quality.first_term_end = "04-01".into();
    // The fixture rejects 3 of its 19 attendance rows on purpose.
    config.quality.max_rejected_share = 0.5;
    let dir = tempfile::tempdir().unwrap();
    common::fixture(dir.path());
    header_only(dir.path(), "grades.csv");
    let data = ews::ingest::checks::load(
        &ews::ingest::input::Snapshot::open(dir.path()).unwrap(),
        &config,
        Some(common::date("2026-01-16")),
        false,
    )
    .unwrap();
    // Before the end of the first grading period an empty grades.csv is plausible.
    assert!(data.quality.gate(&config).is_empty());
    assert!(data.quality.has_warnings());
}

#[test]
fn an_as_of_date_without_a_school_day_fails_the_gate() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let (code, _, stderr) = run(&[
        "score",
        "sample_data/current",
        "--out",
        path(&out),
        "--as-of",
        "2025-07-02",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no school day in school year 2026"),
        "{stderr}"
    );
    assert!(!out.join("2025-07-02").exists());
}

#[test]
fn a_jump_in_the_share_of_flagged_students_is_published_with_a_warning() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let score = |as_of: &str| {
        run(&[
            "score",
            "sample_data/current",
            "--out",
            path(&out),
            "--as-of",
            as_of,
        ])
    };
    let (code, _, stderr) = score("2026-03-06");
    assert_eq!(code, Some(0), "{stderr}");
    // A week on, the same district: no warning.
    let (code, _, stderr) = score("2026-03-12");
    assert_eq!(code, Some(0), "{stderr}");
    // As if the earlier run had flagged almost no one (a broken export then, or now).
    let summary_path = out.join("2026-03-12/summary.json");
    let mut summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    let students = summary["students"].as_u64().unwrap();
    summary["tiers"] = serde_json::json!({"high": 0, "medium": 10, "low": students - 10});
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    let (code, stdout, stderr) = score("2026-03-13");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "share of students at medium or high risk moved from 1.0% (run of 2026-03-12)"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("warning: the share"), "{stdout}");
    assert!(out.join("2026-03-13/referrals.csv").is_file(), "published");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("2026-03-13/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["warnings"].as_array().unwrap().len(), 1);
}
