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
        m["checkpoints"][0]["calibration"] = serde_json::json!({"a": 1e6, "b": 1.0, "c": 0.2});
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "model MODEL: `calibration.a` of checkpoint 10-01 is 1e6: not a finite number within ±50"
        ),
        "{stderr}"
    );
    assert!(!published);
}

#[test]
fn a_coefficient_against_its_direction_is_refused() {
    // More F marks lowering risk: what an unconstrained fit of collinear features can write.
    let (code, stderr, published) = score_with(|m| {
        let f_marks = feature(m, "f_marks");
        m["coefficients"][f_marks] = serde_json::json!(-0.042);
    });
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "the coefficient of feature `f_marks` (-0.042) is against its direction `risk`"
        ),
        "{stderr}"
    );
    assert!(!published);
}

/// Trains on sample_data/train with a config of `toml`; the model file written.
fn train_with(toml: &str) -> serde_json::Value {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("ews.toml");
    std::fs::write(&config, toml).unwrap();
    let model = work.path().join("m/model.json");
    let result = ews(&[
        "--config",
        config.to_str().unwrap(),
        "train",
        "sample_data/train",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap()
}

/// (feature, coefficient, direction) of every feature of a model file.
fn signs(model: &serde_json::Value) -> Vec<(String, f64, String)> {
    let list = |key: &str| model[key].as_array().unwrap().clone();
    list("features")
        .iter()
        .zip(list("coefficients"))
        .zip(list("directions"))
        .map(|((f, c), d)| {
            (
                f.as_str().unwrap().to_string(),
                c.as_f64().unwrap(),
                d.as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn against(coefficient: f64, direction: &str) -> bool {
    (direction == "risk" && coefficient < 0.0) || (direction == "protective" && coefficient > 0.0)
}

#[test]
fn training_holds_every_coefficient_to_its_direction() {
    // Without the bounds, the sample's behavior features come out negative: collinear with
    // the attendance and marks features, they share one signal.
    let free = train_with("[model]\nhold_directions = false\n");
    assert_eq!(free["sign_constraints"]["held"], false);
    let wrong: Vec<String> = signs(&free)
        .into_iter()
        .filter(|(_, c, d)| against(*c, d))
        .map(|(f, _, _)| f)
        .collect();
    assert!(!wrong.is_empty(), "the fixture must have a sign to hold");

    let held = train_with("");
    assert_eq!(held["sign_constraints"]["held"], true);
    for (feature, coefficient, direction) in signs(&held) {
        assert!(
            !against(coefficient, &direction),
            "{feature}: {coefficient} against {direction}"
        );
    }
    // The model file names what the bounds changed: the same features, held at zero.
    let listed: Vec<String> = held["sign_constraints"]["against_direction_unconstrained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["feature"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, wrong);
    let at_zero = held["sign_constraints"]["held_at_zero"].as_array().unwrap();
    assert!(!at_zero.is_empty());
    for name in at_zero {
        let j = feature(&held, name.as_str().unwrap());
        assert_eq!(held["coefficients"][j], 0.0);
    }
}
