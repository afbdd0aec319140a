//! A model file whose numbers no training gives (a coefficient of 1e300, a standard deviation of
//! 1e-300, an intercept of -1e308) would score every student 0 or 1: scoring refuses it with
//! exit code 2, naming the file, the field and the feature, and publishes nothing.

use crate::common;

use common::ews;

/// Scores sample_data/current with config/model.json changed by `edit`; (exit code, stderr,
/// whether a run folder was published).
fn score_with(edit: impl FnOnce(&mut serde_json::Value)) -> (Option<i32>, String, bool) {
    let work = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("config/model.json")).unwrap();
    let mut model: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut model);
    let path = work.path().join("model.json");
    std::fs::write(&path, serde_json::to_string_pretty(&model).unwrap()).unwrap();
    let out = work.path().join("out");
    let result = ews(&[
        "score",
        "sample_data/current",
        "--model",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr).to_string();
    let stderr = stderr.replace(path.to_str().unwrap(), "MODEL");
    (
        result.status.code(),
        stderr,
        out.join("2026-03-13").exists(),
    )
}

/// Index of a feature in the model file.
fn feature(model: &serde_json::Value, name: &str) -> usize {
    model["features"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f == name)
        .unwrap()
}

#[test]
fn the_shipped_model_unchanged_scores() {
    let (code, stderr, published) = score_with(|_| {});
    assert_eq!(code, Some(0), "{stderr}");
    assert!(published);
}

#[test]
fn a_huge_coefficient_is_refused() {
    let (code, stderr, published) = score_with(|m| {
        let gpa = feature(m, "gpa");
        m["coefficients"][gpa] = serde_json::json!(1e300);
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "model MODEL: `coefficients` of feature `gpa` is 1e300: not a finite number within ±50"
        ),
        "{stderr}"
    );
    assert!(!published);
}

#[test]
fn a_tiny_standard_deviation_is_refused() {
    let (code, stderr, published) = score_with(|m| {
        let tardy = feature(m, "tardy_rate");
        m["std_devs"][tardy] = serde_json::json!(1e-300);
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "model MODEL: `std_devs` of feature `tardy_rate` is 1e-300: not a finite number above 1e-9"
        ),
        "{stderr}"
    );
    assert!(!published);
}

#[test]
fn a_huge_intercept_is_refused() {
    let (code, stderr, published) = score_with(|m| {
        m["intercept"] = serde_json::json!(-1e308);
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("model MODEL: `intercept` is -1e308: not a finite number within ±50"),
        "{stderr}"
    );
    assert!(!published);
}

#[test]
fn an_implausible_calibration_is_refused() {
    let (code, stderr, published) = score_with(|m| {
        m["calibration"] = serde_json::json!({"slope": 1e6, "intercept": 0.2});
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("model MODEL: `calibration.slope` is 1e6: not a finite number within ±50"),
        "{stderr}"
    );
    assert!(!published);
}
