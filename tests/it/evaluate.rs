//! The backtest: rule-based indicators and metrics on the tiny fixture, computed by hand, and
//! `ews evaluate` / the score run's equity audit on sample_data.

use crate::common;

use common::{config, ews, run};
use ews::model::evaluate::{evaluate, indicators};
use ews::model::Labels;

#[test]
fn indicators_match_hand_computation() {
    // As of 2026-01-16. Off-track: 0001, 0002 and 0003 have freshman_on_track 0; 0004's is
    // unknown (not flagged). ABC: 0001 attended 60%, 0002 80% (< 90%); 0003 has no
    // attendance, no suspension and no core F this year; 0004 has 4 suspension days.
    let run = run(&config(), None);
    let flags = indicators(&run.table).unwrap();
    assert_eq!(flags[0].0, "freshman_off_track");
    assert_eq!(flags[0].1, [1.0, 1.0, 1.0, 0.0]);
    assert_eq!(flags[1].0, "abc_any_flag");
    assert_eq!(flags[1].1, [1.0, 1.0, 0.0, 1.0]);
}

#[test]
fn evaluation_by_hand_on_three_labelled_students() {
    let mut config = config();
    config.equity.min_group_size = 1;
    let run = run(&config, None);
    // 0001 at risk, 0002 not, 0003 at risk, 0004 unknown (left out).
    let labels = Labels {
        labels: vec![Some(true), Some(false), Some(true), None],
        excluded_transferred: 0,
        excluded_not_yet_known: 0,
        excluded_no_outcome: 1,
        excluded_other_exit: 0,
        outcomes_not_enrolled: 0,
        sampled_from: None,
    };
    let probabilities = [0.9, 0.2, 0.6, 0.5];
    let e = evaluate(&run, &probabilities, &labels, &config).unwrap();
    assert_eq!((e.labelled, e.model.positives), (3, 2));
    // Both at-risk students score above the one who is not.
    assert_eq!(e.model.auc_roc, 1.0);
    // Brier: (0.1² + 0.2² + 0.4²) / 3.
    assert!((e.model.brier_score.unwrap() - 0.21 / 3.0).abs() < 1e-12);
    // ABC on 0001, 0002, 0003 = 1, 1, 0: pairs (0001, 0002) tie = ½, (0003, 0002) = 0 → ¼.
    let abc = &e.indicators[1];
    assert_eq!(abc.auc_roc, 0.25);
    assert_eq!(abc.flagged, Some(2));
    assert!(abc.brier_score.is_none());
    // Off-track flags all three: AUC ½; top 5% = 1 student: expected precision 2/3.
    let off_track = &e.indicators[0];
    assert_eq!(off_track.auc_roc, 0.5);
    assert!((off_track.precision_at(0.05) - 2.0 / 3.0).abs() < 1e-12);
    // Calibration: 0.2 (−) in bin 2, 0.6 (+) in bin 6, 0.9 (+) in bin 9.
    assert_eq!(e.calibration[2].students, 1);
    assert_eq!(e.calibration[2].observed_rate, 0.0);
    assert_eq!(e.calibration[9].observed_rate, 1.0);
    // Equity, flagged at risk ≥ 0.25: M = 0002 (0.2, not at risk), 0003 (0.6, at risk).
    let m = e
        .equity
        .iter()
        .find(|g| g.attribute == "gender" && g.group == "M")
        .unwrap();
    assert_eq!(m.students, Some(2));
    assert_eq!(m.rates.selection_rate, Some(0.5));
    assert_eq!(m.rates.precision, Some(1.0));
    assert_eq!(m.rates.false_negative_rate, Some(0.0));
    assert_eq!(m.rates.base_rate, Some(0.5));
}

#[test]
fn evaluate_writes_metrics_and_the_equity_audit() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("eval");
    let result = ews(&[
        "evaluate",
        "sample_data/train",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for needle in [
        "freshman_off_track",
        "abc_any_flag",
        "calibration",
        "equity audit",
    ] {
        assert!(stdout.contains(needle), "{needle} not in {stdout}");
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    for key in ["auc_roc", "average_precision", "brier_score", "log_loss"] {
        assert!(metrics["model"][key].is_f64(), "{key}");
    }
    assert_eq!(metrics["model"]["at_top"].as_array().unwrap().len(), 3);
    assert_eq!(metrics["calibration"].as_array().unwrap().len(), 10);
    // The layout: the evaluated date's results at the top level, each indicator with its name
    // and AUC; anything per group under its own key.
    assert!(metrics["expected_calibration_error"].is_f64());
    let indicators = metrics["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), 2);
    for indicator in indicators {
        assert!(indicator["name"].is_string() && indicator["auc_roc"].is_f64());
    }
    // Suppression: a group under 10 students publishes neither its size nor its rates.
    let equity = metrics["equity"].as_array().unwrap();
    let suppressed: Vec<_> = equity.iter().filter(|g| g["suppressed"] == true).collect();
    assert!(!suppressed.is_empty());
    for g in &suppressed {
        assert!(g["students"].is_null() && g["rates"]["selection_rate"].is_null());
    }
    let report = std::fs::read_to_string(dir.join("evaluation.md")).unwrap();
    assert!(report.contains("## Equity audit") && report.contains("< 10"));
    assert!(dir.join("equity.csv").is_file());
}

#[test]
fn every_score_run_writes_the_equity_audit() {
    let out = tempfile::tempdir().unwrap();
    let result = ews(&[
        "score",
        "sample_data/current",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(result.status.success());
    assert!(String::from_utf8_lossy(&result.stdout).contains("equity audit"));
    let mut reader = csv::Reader::from_path(out.path().join("2026-03-13/equity.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let first: Vec<&str> = header.iter().take(4).collect();
    assert_eq!(first, ["attribute", "group", "students", "suppressed"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let attributes: std::collections::BTreeSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(attributes.len(), 5);
    // No outcomes yet: selection rates only.
    let selection = header.iter().position(|h| h == "selection_rate").unwrap();
    let precision = header.iter().position(|h| h == "precision").unwrap();
    for row in rows.iter().filter(|r| &r[3] == "false") {
        assert!(!row[selection].is_empty() && row[precision].is_empty());
    }
}

#[test]
fn training_at_checkpoints_and_backtests_at_each() {
    // The sample's training snapshot is as of 2022-03-15: the shipped config's checkpoints
    // 10-01 and 12-15 come before it, 03-15 is it, 05-15 is after it.
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("m/model.json");
    let train = ews(&[
        "train",
        "sample_data/train",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(train.status.code(), Some(0));
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    let dates: Vec<&str> = file["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["as_of"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2021-10-01", "2021-12-15", "2022-03-15"]);
    assert_eq!(file["skipped_checkpoints"][0]["checkpoint"], "05-15");
    // Every labelled student once per checkpoint (all 946 are enrolled at each date).
    let rows: Vec<u64> = file["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["training_rows"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [946, 946, 946]);
    assert_eq!(file["training"]["rows"], 946 * 3);
    assert_eq!(file["training"]["labelled"], 946);
    let card = std::fs::read_to_string(model.with_file_name("model_card.md")).unwrap();
    assert!(card.contains(
        "Skipped checkpoint 05-15: 2022-05-15 is after the snapshot's as-of date 2022-03-15."
    ));

    let dir = work.path().join("eval");
    let result = ews(&[
        "evaluate",
        "sample_data/train",
        "--model",
        model.to_str().unwrap(),
        "--checkpoints",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(result.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("backtests at the model's checkpoints:"),
        "{stdout}"
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    let evaluated = metrics["checkpoints"]["evaluated"].as_array().unwrap();
    let at: Vec<&str> = evaluated
        .iter()
        .map(|c| c["as_of"].as_str().unwrap())
        .collect();
    assert_eq!(at, ["2021-10-01", "2021-12-15", "2022-03-15"]);
    // The last is the evaluated date: the top level's figures.
    assert_eq!(evaluated[2]["auc_roc"], metrics["model"]["auc_roc"]);
    for c in evaluated {
        let auc = c["auc_roc"].as_f64().unwrap();
        assert!(auc > 0.7 && auc < 1.0, "{c}");
        assert!(
            c["expected_calibration_error"].as_f64().unwrap() < 0.2,
            "{c}"
        );
        assert_eq!(c["indicators"].as_array().unwrap().len(), 2);
    }
    // Earlier in the year, fewer records: October ranks less well than March.
    assert!(evaluated[0]["auc_roc"].as_f64().unwrap() < evaluated[2]["auc_roc"].as_f64().unwrap());
    let report = std::fs::read_to_string(dir.join("evaluation.md")).unwrap();
    assert!(report.contains("## Backtests at the model's checkpoints"));
}
