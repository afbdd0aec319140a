//! Supports given (interventions.csv) and counselors' decisions (referral_status.csv, returned
//! workbooks), read as of the date: hand-computed on the tiny fixture (as of 2026-01-16), and
//! through every output on the sample.

use crate::common;
use common::csv_rows as rows;

use std::collections::BTreeMap;
use std::path::Path;

use common::{config, date, fixture, load, write};
use ews::features;
use ews::outputs::recovery::{plans, NeedKind};

const INTERVENTIONS_HEADER: &str =
    "student_id,intervention_type,course_id,start_date,end_date,status,credits_recovered\n";

/// The fixture with `interventions` (rows after the header) and, when given, extra credits.csv
/// rows; its feature run as of 2026-01-16.
fn run_with(interventions: &str, extra_credits: &str) -> features::FeatureRun {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    write(
        dir.path(),
        "interventions.csv",
        &format!("{INTERVENTIONS_HEADER}{interventions}"),
    );
    if !extra_credits.is_empty() {
        let text = std::fs::read_to_string(dir.path().join("credits.csv")).unwrap();
        write(dir.path(), "credits.csv", &format!("{text}{extra_credits}"));
    }
    let config = config();
    features::compute(
        &load(dir.path(), &config, Some(date("2026-01-16"))),
        &config,
    )
    .unwrap()
}

/// A feature of student 0003 (row 2 of the fixture's table).
fn of_0003(run: &features::FeatureRun, name: &str) -> f64 {
    common::by_student(run)["0003"][name].unwrap()
}

#[test]
fn a_completed_recovery_course_counts_once() {
    // 0003 earned 7 credits (ENG9, HIS9, ART1, PE1 in 2024; ENG10, ALG1, HIS10 in 2025) and
    // failed BIO (SCI) in 2024, never recovered.
    let base = run_with("", "");
    assert_eq!(of_0003(&base, "credits_earned"), 7.0);
    assert_eq!(of_0003(&base, "unrecovered_failed_courses"), 1.0);

    // A credit-recovery course for BIO, completed on 2025-12-19 with 1 credit; the transcript
    // does not have it yet: it counts (8 credits), and BIO is recovered.
    let completed = "0003,credit_recovery,BIO,2025-09-01,2025-12-19,completed,1\n";
    let counted = run_with(completed, "");
    assert_eq!(of_0003(&counted, "credits_earned"), 8.0);
    assert_eq!(of_0003(&counted, "unrecovered_failed_courses"), 0.0);
    let config = config();
    let plan = &plans(&counted, &config).unwrap()[2];
    assert!(plan.courses_to_recover.is_empty(), "{plan:?}");
    assert!(plan.credits_by_subject.contains("SCI 1/3"), "{plan:?}");

    // Once the transcript has it, it counts once: by a passed row of the course itself...
    let retaken = "0003,2026,S1,BIO,Biology,SCI,1.0,1.0,C,2025-12-19,N\n";
    assert_eq!(
        of_0003(&run_with(completed, retaken), "credits_earned"),
        8.0
    );
    // ... or by a credit-recovery row of the same subject completed after the course began.
    let recovery_row = "0003,2026,S1,CRSCI,CR Science,SCI,1.0,1.0,C,2025-12-19,Y\n";
    let once = run_with(completed, recovery_row);
    assert_eq!(of_0003(&once, "credits_earned"), 8.0);
    assert_eq!(of_0003(&once, "unrecovered_failed_courses"), 0.0);
    // A credit-recovery row completed before the course began is another course: both count.
    let earlier_row = "0003,2025,Y,CRSCI,CR Science,SCI,1.0,1.0,C,2025-08-01,Y\n";
    assert_eq!(
        of_0003(&run_with(completed, earlier_row), "credits_earned"),
        9.0
    );
    // Completed after the as-of date: still in progress on it, no credit yet.
    let later = "0003,credit_recovery,BIO,2025-09-01,2026-01-30,completed,1\n";
    let in_progress = run_with(later, "");
    assert_eq!(of_0003(&in_progress, "credits_earned"), 7.0);
    assert_eq!(
        in_progress.supports.current_of(2),
        "credit_recovery: Biology (active since 2025-09-01)"
    );
}

#[test]
fn an_active_recovery_course_marks_its_failure_as_being_recovered() {
    let run = run_with("0003,credit_recovery,BIO,2026-01-05,,active,\n", "");
    let config = config();
    let plan = &plans(&run, &config).unwrap()[2];
    assert_eq!(
        plan.courses_to_recover,
        ["BIO Biology (SCI, 1 cr, 2024; being recovered since 2026-01-05)"]
    );
    // Still to recover, but no seat is sought for it.
    assert_eq!(plan.credits_to_recover, 1.0);
    assert!(
        plan.needs
            .iter()
            .all(|n| n.kind != NeedKind::RequiredCourse),
        "{:?}",
        plan.needs
    );
    assert_eq!(
        run.supports.current_of(2),
        "credit_recovery: Biology (active since 2026-01-05)"
    );
    // Without the support, BIO is a need.
    let plain = &plans(&run_with("", ""), &config).unwrap()[2];
    assert!(plain
        .needs
        .iter()
        .any(|n| n.kind == NeedKind::RequiredCourse && n.course_id.as_deref() == Some("BIO")));
}

#[test]
fn supports_are_read_as_of_the_date() {
    let run = run_with(
        "0001,tutoring,,2025-10-01,,active,\n\
         0001,mentoring,,2025-09-01,2025-12-20,completed,\n\
         0002,tutoring,,2025-09-01,2025-12-01,completed,\n\
         0002,counseling,,2026-01-10,,planned,\n\
         0004,attendance_mentor,,2026-02-01,,active,\n\
         0004,tutoring,,2025-09-01,2025-10-01,withdrawn,\n",
        "",
    );
    // Active, and completed 27 days before the as-of date (within 30): current, by start.
    assert_eq!(
        run.supports.current_of(0),
        "mentoring (completed 2025-12-20); tutoring (active since 2025-10-01)"
    );
    // Completed 46 days before: not current. Planned: a decision, not a support.
    assert_eq!(run.supports.current_of(1), "");
    assert!(run.supports.planned.contains(&1));
    // Starting after the as-of date: ignored and counted; withdrawn: not current.
    assert_eq!(run.supports.current_of(3), "");
    let ignored: Vec<_> = run
        .ignored
        .iter()
        .filter(|i| i.file == "interventions.csv")
        .map(|i| (i.reason, i.rows))
        .collect();
    assert_eq!(ignored, [("starting after the as-of date", 1)]);
}

#[test]
fn bad_support_and_decision_rows_are_rejected_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    write(
        dir.path(),
        "interventions.csv",
        &format!(
            "{INTERVENTIONS_HEADER}\
             0001,tutoring,,2025-10-01,,ongoing,\n\
             0001,,,2025-10-01,,active,\n\
             0002,tutoring,,2025-10-01,,completed,\n\
             0002,tutoring,,2025-10-01,2025-09-01,withdrawn,\n\
             0003,credit_recovery,BIO,2025-09-01,2025-12-19,completed,lots\n\
             0777,tutoring,,2025-10-01,,active,\n"
        ),
    );
    write(
        dir.path(),
        "referral_status.csv",
        "student_id,status,date,reason,by\n\
         0001,maybe,2026-01-10,,\n\
         0002,reviewed,10/01/2026,,\n\
         0003,contacted,2026-01-12,\"Called home, spoke to aunt\",Ms. Rivera\n",
    );
    let config = config();
    let data = load(dir.path(), &config, Some(date("2026-01-16")));
    let rejects: Vec<(String, u64, String, String)> = data
        .quality
        .rejects
        .iter()
        .flat_map(|frame| {
            let text = |name: &str| -> Vec<String> {
                let column = frame
                    .column(name)
                    .unwrap()
                    .cast(&polars::prelude::DataType::String)
                    .unwrap();
                column
                    .str()
                    .unwrap()
                    .iter()
                    .map(|v| v.unwrap_or("").to_string())
                    .collect()
            };
            let (files, lines, columns, actions) =
                (text("file"), text("line"), text("column"), text("action"));
            (0..files.len())
                .map(|i| {
                    (
                        files[i].clone(),
                        lines[i].parse().unwrap(),
                        columns[i].clone(),
                        actions[i].clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .filter(|r| r.0 == "interventions.csv" || r.0 == "referral_status.csv")
        .collect();
    let row = |file: &str, line: u64, column: &str, action: &str| {
        (
            file.to_string(),
            line,
            column.to_string(),
            action.to_string(),
        )
    };
    assert_eq!(
        rejects,
        [
            row("interventions.csv", 2, "status", "row rejected"),
            row("interventions.csv", 3, "intervention_type", "row rejected"),
            row("interventions.csv", 4, "end_date", "row rejected"),
            row("interventions.csv", 5, "end_date", "row rejected"),
            row("interventions.csv", 6, "credits_recovered", "value ignored"),
            row("interventions.csv", 7, "student_id", "row rejected"),
            row("referral_status.csv", 2, "status", "row rejected"),
            row("referral_status.csv", 3, "date", "row rejected"),
        ]
    );
    // The accepted decision, with its free-text reason kept for the counselor files.
    let run = features::compute(&data, &config).unwrap();
    let decision = &run.supports.decisions[&2];
    assert_eq!(
        (decision.status.as_str(), decision.date),
        ("contacted", date("2026-01-12"))
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some("Called home, spoke to aunt")
    );
}

#[test]
fn the_latest_decision_on_or_before_the_as_of_date_counts() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    write(
        dir.path(),
        "referral_status.csv",
        "student_id,status,date,reason,by\n\
         0001,declined,2026-01-14,,\n\
         0001,reviewed,2026-01-10,,\n\
         0001,enrolled,2026-01-20,,\n",
    );
    let config = config();
    let run = features::compute(
        &load(dir.path(), &config, Some(date("2026-01-16"))),
        &config,
    )
    .unwrap();
    let decision = &run.supports.decisions[&0];
    assert_eq!(
        (decision.status.as_str(), decision.date),
        ("declined", date("2026-01-14"))
    );
    let ignored: Vec<_> = run
        .ignored
        .iter()
        .filter(|i| i.file == "referral_status.csv")
        .map(|i| (i.reason, i.rows))
        .collect();
    assert_eq!(ignored, [("dated after the as-of date", 1)]);
}

/// Runs `ews score` with `extra` arguments (and the pseudonym key, when given); exit code and
/// stderr. It must not fail.
fn score(snapshot: &Path, out: &Path, extra: &[&str], key: Option<&str>) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ews"));
    command
        .arg("score")
        .arg(snapshot)
        .arg("--out")
        .arg(out)
        .args(extra)
        .current_dir(common::root());
    if let Some(key) = key {
        command.env(ews::outputs::pseudonym::KEY_VARIABLE, key);
    }
    let result = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr).to_string();
    assert!(
        matches!(result.status.code(), Some(0) | Some(1)),
        "{stderr}"
    );
    stderr
}

/// Every counselor-file row of a run (recovery candidates of every school).
fn candidates(run: &Path) -> Vec<BTreeMap<String, String>> {
    let mut all = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(run.join("schools"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    for file in files {
        all.extend(rows(&file));
    }
    all
}

/// Every file of a run folder, as text (lossy), with its path.
fn every_text(dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            texts.extend(every_text(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            texts.push((path, String::from_utf8_lossy(&bytes).to_string()));
        }
    }
    texts
}

const SECRET: &str = "Mother asked us not to call; see file 7";

#[test]
fn supports_and_decisions_reach_every_output_and_reasons_stay_with_the_student() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    common::copy_snapshot("sample_data/current", &snapshot);
    let before = work.path().join("before");
    score(&snapshot, &before, &[], None);
    let listed = candidates(&before.join("2026-03-13"));
    // A: the first candidate with a failed course to recover; B: another candidate.
    let a = listed
        .iter()
        .find(|r| !r["courses_to_recover"].is_empty())
        .expect("a candidate with a failed course");
    let b = listed
        .iter()
        .find(|r| r["student_id"] != a["student_id"])
        .unwrap();
    let (a_id, b_id) = (a["student_id"].clone(), b["student_id"].clone());
    let course = a["courses_to_recover"]
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    write(
        &snapshot,
        "interventions.csv",
        &format!(
            "{INTERVENTIONS_HEADER}\
             {a_id},credit_recovery,{course},2026-02-02,,active,\n\
             {b_id},tutoring,,2026-01-05,,active,\n"
        ),
    );
    write(
        &snapshot,
        "referral_status.csv",
        &format!(
            "student_id,status,date,reason,by\n\
             {a_id},reviewed,2026-03-01,,Ms. Vega\n\
             {b_id},not_appropriate,2026-03-02,\"{SECRET}\",Ms. Vega\n"
        ),
    );
    let out = work.path().join("out");
    let stderr = score(&snapshot, &out, &[], None);
    let run = out.join("2026-03-13");

    // referrals.csv: the current supports.
    let referrals = rows(&run.join("referrals.csv"));
    let referral = |id: &str| referrals.iter().find(|r| r["student_id"] == id).unwrap();
    let a_support = &referral(&a_id)["current_supports"];
    assert!(
        a_support.starts_with("credit_recovery: ")
            && a_support.ends_with("(active since 2026-02-02)"),
        "{a_support}"
    );
    assert_eq!(
        referral(&b_id)["current_supports"],
        "tutoring (active since 2026-01-05)"
    );
    // The counselor file: the failure being recovered, the decisions and their dates.
    let listed = candidates(&run);
    let row = |id: &str| {
        listed
            .iter()
            .find(|r| r["student_id"] == id)
            .unwrap()
            .clone()
    };
    let (a_row, b_row) = (row(&a_id), row(&b_id));
    assert!(
        a_row["courses_to_recover"].contains("; being recovered since 2026-02-02)"),
        "{}",
        a_row["courses_to_recover"]
    );
    assert_eq!(a_row["current_supports"], *a_support);
    assert_eq!(
        (
            a_row["decision_status"].as_str(),
            a_row["decision_date"].as_str()
        ),
        ("reviewed", "2026-03-01")
    );
    assert_eq!(
        (
            b_row["decision_status"].as_str(),
            b_row["decision_date"].as_str()
        ),
        ("not_appropriate", "2026-03-02")
    );
    // The reason is not in the CSVs; the plain feed and the workbook hold it.
    assert!(!b_row.values().any(|v| v.contains(SECRET)));
    let feed = rows(&run.join("students.csv"));
    let fed = feed.iter().find(|r| r["student_id"] == b_id).unwrap();
    assert_eq!(fed["decision_reason"], SECRET);
    assert_eq!(fed["decision_status"], "not_appropriate");
    let mut holding: Vec<String> = every_text(&run)
        .into_iter()
        .filter(|(_, text)| text.contains(SECRET))
        .map(|(path, _)| path.strip_prefix(&run).unwrap().display().to_string())
        .collect();
    holding.sort();
    // No log, report, summary, manifest or rejects file holds it (the workbook is compressed).
    assert_eq!(
        holding,
        ["students.csv", "students.parquet"],
        "only the feed holds it as text"
    );
    assert!(!stderr.contains(SECRET) && !stderr.contains("Mother"));
    let (sheet, cells) = workbook_rows(&run, &b_id);
    assert_eq!(
        (
            cells["decision_status"].as_str(),
            cells["decision_date"].as_str(),
            cells["decision_reason"].as_str()
        ),
        ("not_appropriate", "2026-03-02", SECRET),
        "{sheet}"
    );

    // summary.json counts them; one course in progress at A's school is a small count.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let follow = &summary["follow_up"];
    assert_eq!(follow["with_current_support"], 2);
    assert_eq!(follow["with_decision"], 2);
    assert_eq!(follow["decision_in_force"], 1, "B's not_appropriate");
    let a_school = referral(&a_id)["school_id"].clone();
    let school = follow["schools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["school_id"] == a_school.as_str())
        .unwrap();
    assert_eq!(school["suppressed"], true);
    assert!(school["recovery_courses_started"].is_null());

    // Pseudonymized, the feed drops it (and the Parquet feed has no trace of it either).
    let hidden = work.path().join("hidden");
    score(
        &snapshot,
        &hidden,
        &["--pseudonymize"],
        Some("a district secret of enough bytes"),
    );
    let hidden_run = hidden.join("2026-03-13");
    let feed = rows(&hidden_run.join("students.csv"));
    assert!(feed.iter().all(|r| r["decision_reason"].is_empty()));
    assert_eq!(
        feed.iter()
            .filter(|r| r["decision_status"] == "not_appropriate")
            .count(),
        1
    );
    let parquet = std::fs::read(hidden_run.join("students.parquet")).unwrap();
    assert!(!parquet
        .windows(SECRET.len())
        .any(|w| w == SECRET.as_bytes()));
}

/// The row of `student_id` in the run's workbooks: its sheet and cells by column.
fn workbook_rows(run: &Path, student_id: &str) -> (String, BTreeMap<String, String>) {
    use calamine::{open_workbook, Reader, Xlsx};
    for entry in std::fs::read_dir(run.join("schools")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "xlsx") {
            continue;
        }
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        for sheet in ews::contract::WORKBOOK_LISTS {
            let range = book.worksheet_range(sheet).unwrap();
            let mut rows = range.rows();
            let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
            for row in rows {
                let cells: BTreeMap<String, String> = header
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|c| c.to_string()))
                    .collect();
                if cells["student_id"] == student_id {
                    return (sheet.to_string(), cells);
                }
            }
        }
    }
    panic!("{student_id} is in no workbook");
}

#[test]
fn returned_workbooks_are_read_back_and_the_later_decision_wins() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    common::copy_snapshot("sample_data/current", &snapshot);
    let first = work.path().join("first");
    score(&snapshot, &first, &[], None);
    let listed = candidates(&first.join("2026-03-13"));
    let ids: Vec<String> = listed
        .iter()
        .take(3)
        .map(|r| r["student_id"].clone())
        .collect();
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    // The SIS knows A was contacted on 03-02 and B declined on 03-10.
    write(
        &snapshot,
        "referral_status.csv",
        &format!(
            "student_id,status,date,reason,by\n\
             {a},contacted,2026-03-02,,\n\
             {b},declined,2026-03-10,,\n"
        ),
    );
    // A counselor returns a workbook: A enrolled on 03-05 (an Excel date: later, so it wins),
    // B reviewed on 03-01 (earlier than the SIS's: the SIS wins), C with an unknown status, a
    // row with a date and no status, and a student of no school.
    let returned = work.path().join("returned");
    std::fs::create_dir_all(&returned).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(ews::contract::WORKBOOK_LISTS[0]).unwrap();
    let header = [
        "rank",
        "student_id",
        "decision_status",
        "decision_date",
        "decision_reason",
    ];
    for (k, name) in header.iter().enumerate() {
        sheet.write_string(0, k as u16, *name).unwrap();
    }
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let excel_date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 5).unwrap();
    sheet.write_string(1, 1, a).unwrap();
    sheet.write_string(1, 2, "enrolled").unwrap();
    sheet
        .write_datetime_with_format(1, 3, &excel_date, &date_format)
        .unwrap();
    sheet.write_string(2, 1, b).unwrap();
    sheet.write_string(2, 2, "reviewed").unwrap();
    sheet.write_string(2, 3, "2026-03-01").unwrap();
    sheet.write_string(3, 1, c).unwrap();
    sheet.write_string(3, 2, "thinking about it").unwrap();
    sheet.write_string(3, 3, "2026-03-01").unwrap();
    sheet.write_string(4, 1, c).unwrap();
    sheet.write_string(4, 3, "2026-03-01").unwrap();
    sheet.write_string(5, 1, "NOT-A-STUDENT").unwrap();
    sheet.write_string(5, 2, "reviewed").unwrap();
    sheet.write_string(5, 3, "2026-03-01").unwrap();
    // A row with no decision is no decision.
    sheet.write_string(6, 1, c).unwrap();
    book.save(returned.join("001.xlsx")).unwrap();
    // Excel's lock file beside it is not a workbook.
    std::fs::write(returned.join("~$001.xlsx"), b"lock").unwrap();

    // A folder that is not there is bad input (exit 2), and nothing is published.
    let missing = work.path().join("not-returned");
    let refused = common::ews(&[
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        work.path().join("refused").to_str().unwrap(),
        "--decisions",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not-returned") && stderr.contains("--decisions"),
        "{stderr}"
    );
    assert!(!work.path().join("refused/2026-03-13").exists());

    let out = work.path().join("out");
    score(
        &snapshot,
        &out,
        &["--decisions", returned.to_str().unwrap()],
        None,
    );
    let run = out.join("2026-03-13");
    let listed = candidates(&run);
    let decision = |id: &str| {
        let row = listed.iter().find(|r| r["student_id"] == id).unwrap();
        (row["decision_status"].clone(), row["decision_date"].clone())
    };
    assert_eq!(decision(a), ("enrolled".into(), "2026-03-05".into()));
    // Enrolled, with no support in interventions.csv (the snapshot has none): counted.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["follow_up"]["enrolled_without_support"], 1);
    assert_eq!(decision(b), ("declined".into(), "2026-03-10".into()));
    assert_eq!(decision(c), (String::new(), String::new()));
    // The bad rows, by workbook, sheet, row and column; the values only in rejects.csv.
    let rejects: Vec<(String, String, String)> = rows(&run.join("rejects.csv"))
        .into_iter()
        .filter(|r| r["file"].starts_with("001.xlsx"))
        .map(|r| (r["file"].clone(), r["line"].clone(), r["column"].clone()))
        .collect();
    let file = "001.xlsx (Recovery candidates)".to_string();
    assert_eq!(
        rejects,
        [
            (file.clone(), "4".into(), "decision_status".into()),
            (file.clone(), "5".into(), "decision_status".into()),
            (file, "6".into(), "student_id".into()),
        ]
    );
    let quality = rows(&run.join("data_quality.csv"));
    // Rows per category, summed over reasons.
    let count = |category: &str| -> u64 {
        quality
            .iter()
            .filter(|r| r["file"] == "returned workbooks" && r["category"] == category)
            .map(|r| r["rows"].parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(count("read"), 5);
    assert_eq!(count("row rejected"), 3);

    // Rejected decisions are warnings (the run above published, exit 1), unless the district
    // gates them.
    let config = work.path().join("gated.toml");
    std::fs::write(
        &config,
        "[quality.max_rejected_share_by_file]\n\"returned workbooks\" = 0.5\n",
    )
    .unwrap();
    let gated = common::ews(&[
        "--config",
        config.to_str().unwrap(),
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        work.path().join("gated").to_str().unwrap(),
        "--decisions",
        returned.to_str().unwrap(),
    ]);
    assert_eq!(gated.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&gated.stderr);
    assert!(
        stderr.contains("returned workbooks: 3 of 5 rows rejected"),
        "{stderr}"
    );
    assert!(!stderr.contains("thinking about it"), "{stderr}");
}

#[test]
fn evaluate_reports_outcomes_by_support_received_as_descriptive() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("train");
    common::copy_snapshot("sample_data/train", &snapshot);
    // Tutoring for the first 40 students of students.csv, mentoring for the next 3 (a group
    // too small to show), both during the snapshot's school year (as of 2022-03-15).
    let text = std::fs::read_to_string(snapshot.join("students.csv")).unwrap();
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.trim_start_matches('\u{feff}').split(',').next().unwrap())
        .collect();
    let mut rows = String::from(INTERVENTIONS_HEADER);
    for (k, id) in ids.iter().take(43).enumerate() {
        let kind = if k < 40 { "tutoring" } else { "mentoring" };
        rows.push_str(&format!("{id},{kind},,2021-10-01,,active,\n"));
    }
    write(&snapshot, "interventions.csv", &rows);
    let out = work.path().join("eval");
    let result = common::ews(&[
        "evaluate",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        matches!(result.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let outcomes = &metrics["outcomes_by_support"];
    assert!(outcomes["note"].as_str().unwrap().contains("not causal"));
    let group = |name: &str| {
        outcomes["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == name)
            .unwrap()
            .clone()
    };
    let (served, not_served) = (group("served"), group("not served"));
    // Every labelled student is served or not.
    assert_eq!(
        served["students"].as_u64().unwrap() + not_served["students"].as_u64().unwrap(),
        metrics["labelled"].as_u64().unwrap()
    );
    assert!(served["students"].as_u64().unwrap() <= 43);
    for g in [&served, &not_served] {
        let rate = g["outcome_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rate));
    }
    // Three students: too few to show.
    let mentoring = group("mentoring");
    assert!(mentoring["students"].is_null() && mentoring["outcome_rate"].is_null());
    assert_eq!(mentoring["suppressed"], true);
    let report = std::fs::read_to_string(out.join("evaluation.md")).unwrap();
    assert!(report.contains("## Outcomes by support received (descriptive, not causal)"));
}
