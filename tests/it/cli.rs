//! Runs the real binary on sample_data and on broken copies of it.

use crate::common;

use std::path::Path;

use common::{ews, root};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader.records().map(|r| r.unwrap()).collect();
    (header, rows)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn score_writes_the_ranked_referral_list_for_every_student() {
    let out = tempfile::tempdir().unwrap();
    let result = ews(&[
        "score",
        "sample_data/current",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(result.status.success(), "stderr: {}", text(&result.stderr));
    let stdout = text(&result.stdout);
    assert!(
        stdout.contains("scored") && stdout.contains("tiers: high"),
        "{stdout}"
    );

    let (header, rows) = read_csv(&out.path().join("2026-03-13/referrals.csv"));
    assert_eq!(
        header[..12],
        [
            "student_id",
            "last_name",
            "first_name",
            "school_id",
            "grade_level",
            "risk_score",
            "risk_tier",
            "rank_in_school",
            "rank_in_district",
            "reason_1",
            "reason_2",
            "reason_3"
        ]
    );
    for feature in [
        "attendance_rate",
        "gpa",
        "credit_deficit_start_of_grade",
        "credit_deficit_now",
        "freshman_on_track",
        "over_age",
    ] {
        assert!(header.iter().any(|h| h == feature), "missing {feature}");
    }
    let (_, students) = read_csv(&root().join("sample_data/current/students.csv"));
    assert_eq!(rows.len(), students.len());

    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, risk, tier, district, school, school_rank, attendance) = (
        col("student_id"),
        col("risk_score"),
        col("risk_tier"),
        col("rank_in_district"),
        col("school_id"),
        col("rank_in_school"),
        col("attendance_rate"),
    );
    let mut per_school: std::collections::HashMap<String, usize> = Default::default();
    for (i, row) in rows.iter().enumerate() {
        let r: f64 = row[risk].parse().unwrap();
        assert!((0.0..=1.0).contains(&r));
        assert_eq!(row[district].parse::<usize>().unwrap(), i + 1);
        let expected_tier = if r >= 0.5 {
            "high"
        } else if r >= 0.25 {
            "medium"
        } else {
            "low"
        };
        assert_eq!(&row[tier], expected_tier);
        let n = per_school.entry(row[school].to_string()).or_default();
        *n += 1;
        assert_eq!(row[school_rank].parse::<usize>().unwrap(), *n);
        assert!(
            row[id].len() == 8 && row[id].starts_with('0'),
            "id {}",
            &row[id]
        );
        if !row[attendance].is_empty() {
            assert!((0.0..=1.0).contains(&row[attendance].parse::<f64>().unwrap()));
        }
        if i > 0 {
            let previous = &rows[i - 1];
            let p: f64 = previous[risk].parse().unwrap();
            assert!(
                p > r || (p == r && previous[id] < row[id]),
                "order at row {i}"
            );
        }
    }
    // The top of the list has reasons; high-risk students exist in a realistic district.
    assert!(!rows[0][col("reason_1")].is_empty());
    assert!(rows.iter().any(|r| &r[tier] == "high"));
    // The sample carries last year (`generate --history-years 1`): every student but the late
    // entrants of this year (new to the district, about 5%) has last year's attendance rate
    // and GPA, both or neither.
    let (prior_rate, prior_gpa) = (col("prior_attendance_rate"), col("prior_gpa"));
    let with_history = rows.iter().filter(|r| !r[prior_rate].is_empty()).count();
    let share = with_history as f64 / rows.len() as f64;
    assert!((0.9..0.99).contains(&share), "{share}");
    for row in &rows {
        assert_eq!(row[prior_rate].is_empty(), row[prior_gpa].is_empty());
    }
}

#[test]
fn train_reproduces_the_shipped_model() {
    let out = tempfile::tempdir().unwrap();
    let model_path = out.path().join("m.json");
    let result = ews(&[
        "train",
        "sample_data/train",
        "--out",
        model_path.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "stderr: {}", text(&result.stderr));
    let stdout = text(&result.stdout);
    assert!(stdout.contains("AUC-ROC"), "{stdout}");

    let trained: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model_path).unwrap()).unwrap();
    let shipped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("config/model.json")).unwrap())
            .unwrap();
    for key in [
        "schema_version",
        "features",
        "coefficients",
        "intercept",
        "means",
        "std_devs",
        "calibration",
        "hyperparameters",
        "cross_validation",
        "fingerprint",
    ] {
        assert_eq!(
            trained[key], shipped[key],
            "{key} differs from config/model.json"
        );
    }
    let auc = trained["holdout"]["auc_roc"].as_f64().unwrap();
    assert!(auc >= 0.75, "held-out AUC {auc}");
    // The grid is reported and the chosen penalty is one of it.
    let chosen = &trained["hyperparameters"]["l2_penalty"];
    let grid = trained["cross_validation"].as_array().unwrap();
    assert_eq!(grid.len(), 5);
    assert!(grid.iter().any(|p| &p["l2_penalty"] == chosen));
    // The model card is written beside the model, the same as the shipped one.
    let card = std::fs::read_to_string(out.path().join("model_card.md")).unwrap();
    assert_eq!(
        card,
        std::fs::read_to_string(root().join("config/model_card.md")).unwrap()
    );
    for section in [
        "## Intended use",
        "## Training data",
        "## Metrics and baselines",
        "## Calibration",
        "## Equity audit",
        "## Limitations",
    ] {
        assert!(card.contains(section), "{section}");
    }
}

#[test]
fn scoring_refuses_a_model_of_another_schema_or_feature_set() {
    let out = tempfile::tempdir().unwrap();
    let shipped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("config/model.json")).unwrap())
            .unwrap();
    let cases = [
        ("schema_version", serde_json::json!(1), "schema version 1"),
        (
            "features",
            serde_json::json!(["gpa"]),
            "are not the model features of this ews version",
        ),
    ];
    for (key, value, message) in cases {
        let mut model = shipped.clone();
        model[key] = value;
        let path = out.path().join("model.json");
        std::fs::write(&path, model.to_string()).unwrap();
        let result = ews(&[
            "score",
            "sample_data/current",
            "--model",
            path.to_str().unwrap(),
            "--out",
            out.path().join("r").to_str().unwrap(),
        ]);
        assert_eq!(result.status.code(), Some(2));
        let stderr = text(&result.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[test]
fn missing_column_fails_with_exit_2_and_keeps_earlier_outputs() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    copy_dir(&root().join("sample_data/current"), &snapshot);
    let out = work.path().join("reports");
    let earlier = out.join("2026-03-13");
    std::fs::create_dir_all(&earlier).unwrap();
    std::fs::write(earlier.join("referrals.csv"), "last night's list\n").unwrap();

    let attendance = std::fs::read_to_string(snapshot.join("attendance.csv")).unwrap();
    let without_code: String = attendance
        .lines()
        .map(|line| {
            line.rsplit_once(',')
                .map(|(head, _)| head)
                .unwrap_or(line)
                .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(snapshot.join("attendance.csv"), without_code).unwrap();

    let result = ews(&[
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2026-03-13",
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = text(&result.stderr);
    assert!(
        stderr.contains("attendance.csv: required column `code` is missing"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(earlier.join("referrals.csv")).unwrap(),
        "last night's list\n"
    );
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name != ews::io::folders::LOCK_FILE)
        .collect();
    assert_eq!(left, ["2026-03-13"], "no staging folder left behind");
}

#[test]
fn bad_usage_and_missing_model_exit_2() {
    let result = ews(&["score", "sample_data/current", "--as-of", "13/03/2026"]);
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("YYYY-MM-DD"));

    // The generator's own refusals are the user's to fix (exit 2), not a bug (3).
    let out = tempfile::tempdir().unwrap();
    let to = out.path().join("district");
    for (args, message) in [
        (&["--students", "5"][..], "at least 20"),
        (
            &["--students", "50", "--history-years", "7"][..],
            "at most 6",
        ),
        (
            &["--students", "50", "--format", "parquet", "--bom"][..],
            "--format parquet is written in the canonical layout only",
        ),
    ] {
        let mut all = vec!["generate", "--out", to.to_str().unwrap()];
        all.extend(args);
        let result = ews(&all);
        assert_eq!(result.status.code(), Some(2), "{args:?}");
        assert!(text(&result.stderr).contains(message), "{args:?}");
        assert!(!to.exists(), "{args:?}: nothing written");
    }

    let result = ews(&[
        "score",
        "sample_data/current",
        "--model",
        "no/such/model.json",
    ]);
    assert_eq!(result.status.code(), Some(2));
    assert!(text(&result.stderr).contains("no/such/model.json"));
}

#[test]
fn dirty_rows_below_the_gate_exit_1_and_are_reported() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    std::fs::create_dir(&snapshot).unwrap();
    common::fixture(&snapshot);
    let config = work.path().join("ews.toml");
    // The fixture rejects 3 of 19 attendance rows (16%): allowed here, so the run goes on.
    std::fs::write(
        &config,
        "[quality.max_rejected_share_by_file]\n\"attendance.csv\" = 0.2\n",
    )
    .unwrap();
    let out = work.path().join("reports");
    let args = [
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2026-01-16",
        "--config",
        config.to_str().unwrap(),
    ];
    let result = ews(&args);
    assert_eq!(
        result.status.code(),
        Some(1),
        "stderr: {}",
        text(&result.stderr)
    );
    let stdout = text(&result.stdout);
    assert!(stdout.contains("3 rejected"), "{stdout}");
    let run = out.join("2026-01-16");
    let (_, referrals) = read_csv(&run.join("referrals.csv"));
    assert_eq!(referrals.len(), 4);
    let (header, rejects) = read_csv(&run.join("rejects.csv"));
    assert_eq!(
        header,
        ["file", "line", "column", "value", "reason", "action"]
    );
    assert_eq!(rejects.len(), 4);
    // In file order (students.csv before attendance.csv), then by line.
    let at: Vec<(String, u64)> = rejects
        .iter()
        .map(|r| (r[0].to_string(), r[1].parse().unwrap()))
        .collect();
    let mut sorted = at.clone();
    sorted.sort_by_key(|(file, line)| (file != "students.csv", *line));
    assert_eq!(at, sorted);
    assert_eq!(at.iter().filter(|(f, _)| f == "attendance.csv").count(), 3);
    assert!(at.contains(&("attendance.csv".to_string(), 2)), "{at:?}");
    let (_, quality) = read_csv(&run.join("data_quality.csv"));
    assert!(quality
        .iter()
        .any(|r| &r[0] == "attendance.csv" && &r[1] == "row rejected" && &r[3] == "1"));

    // With the default 1% limit the gate fails: exit 2, the report is published beside the
    // runs, and the earlier referral list of that date stays as it was.
    let default_config = work.path().join("default.toml");
    std::fs::write(&default_config, "").unwrap();
    let before = std::fs::read(run.join("referrals.csv")).unwrap();
    let mut args = args.to_vec();
    let last = args.len() - 1;
    args[last] = default_config.to_str().unwrap();
    let result = ews(&args);
    assert_eq!(result.status.code(), Some(2));
    let stderr = text(&result.stderr);
    assert!(
        stderr.contains("data-quality gate failed")
            && stderr.contains("attendance.csv: 3 of 19 rows rejected"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(run.join("referrals.csv")).unwrap(), before);
    let failed = out.join("2026-01-16.failed");
    assert!(failed.join("rejects.csv").exists() && failed.join("data_quality.csv").exists());
    assert!(!failed.join("referrals.csv").exists());
}

#[test]
fn validate_writes_the_report_without_scoring() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("reports");
    let result = ews(&[
        "validate",
        "sample_data/train",
        "--with-outcomes",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "stderr: {}",
        text(&result.stderr)
    );
    let folder = out.join("2022-03-15.validation");
    let (_, quality) = read_csv(&folder.join("data_quality.csv"));
    assert!(quality
        .iter()
        .any(|r| &r[0] == "outcomes.csv" && &r[1] == "read"));
    let (_, rejects) = read_csv(&folder.join("rejects.csv"));
    assert!(rejects.is_empty());
    assert!(!folder.join("referrals.csv").exists());
}
