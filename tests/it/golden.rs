//! Golden outputs: a small generated district trained and scored, and one mapped example
//! scored, compared file by file with the expected outputs committed under tests/golden/.
//! Every output is compared byte for byte, except the manifest's creation time and stage
//! durations, and the temporary work folder's path in the text files.
//!
//! A change that alters an output updates the expected files on purpose, in the same commit,
//! and says why in its message:
//!
//! ```sh
//! EWS_UPDATE_GOLDEN=1 cargo test --release golden
//! git diff --stat tests/golden
//! ```

use std::path::{Path, PathBuf};

use crate::common::{self, root};

const UPDATE: &str = "EWS_UPDATE_GOLDEN";

fn ews_ok(args: &[&str]) {
    let result = common::ews(args);
    assert!(
        result.status.code().is_some_and(|c| c <= 1),
        "ews {args:?}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Every file under `dir`, as sorted paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut names = ews::io::folders::files_under(dir, dir).unwrap();
    names.sort();
    names
}

/// The bytes compared for a file: in a text file the temporary work folder's path reads
/// `<work>`, and the manifest goes without what measures time.
fn comparable(path: &Path, work: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    // Binary files, compared byte for byte (the workbook's dates are the as-of date's).
    if path
        .extension()
        .is_some_and(|e| e == "parquet" || e == "xlsx")
    {
        return raw;
    }
    let text = String::from_utf8(raw)
        .unwrap()
        .replace(&work.display().to_string(), "<work>");
    if path.file_name().unwrap() != "manifest.json" {
        return text.into_bytes();
    }
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["created_at"] = serde_json::Value::Null;
    for stage in manifest["stages"].as_array_mut().unwrap() {
        stage["seconds"] = serde_json::Value::Null;
    }
    // An output that names the work folder (summary.json's previous run) has a hash of its
    // own that depends on it; the file itself is compared, with the path replaced.
    let run = path.parent().unwrap();
    let work_path = work.display().to_string();
    for output in manifest["outputs"].as_array_mut().unwrap() {
        let file = run.join(output["file"].as_str().unwrap());
        if String::from_utf8_lossy(&std::fs::read(file).unwrap()).contains(&work_path) {
            output["bytes"] = serde_json::Value::Null;
            output["sha256"] = serde_json::Value::Null;
        }
    }
    (serde_json::to_string_pretty(&manifest).unwrap() + "\n").into_bytes()
}

/// Compares the outputs `(name, path)` with tests/golden/<case>/<name>, or rewrites the expected
/// files with EWS_UPDATE_GOLDEN=1.
fn check(case: &str, outputs: &[(String, PathBuf)], work: &Path) {
    let expected_dir = root().join("tests/golden").join(case);
    if std::env::var_os(UPDATE).is_some() {
        let _ = std::fs::remove_dir_all(&expected_dir);
        for (name, path) in outputs {
            let to = expected_dir.join(name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(&to, comparable(path, work)).unwrap();
        }
        return;
    }
    let mut expected_names = files(&expected_dir);
    let mut names: Vec<String> = outputs.iter().map(|(n, _)| n.clone()).collect();
    expected_names.sort();
    names.sort();
    assert_eq!(
        names, expected_names,
        "{case}: the set of output files changed ({UPDATE}=1 to update on purpose)"
    );
    let mut differ = Vec::new();
    for (name, path) in outputs {
        let expected = std::fs::read(expected_dir.join(name)).unwrap();
        if comparable(path, work) != expected {
            differ.push(name.clone());
        }
    }
    assert!(
        differ.is_empty(),
        "{case}: outputs differ from tests/golden/{case}: {differ:?} (diff them; {UPDATE}=1 cargo test --release golden updates them on purpose)"
    );
}

/// The files of a run folder, named `<prefix>/<file>`.
fn run_outputs(run: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    files(run)
        .into_iter()
        .map(|f| (format!("{prefix}/{f}"), run.join(&f)))
        .collect()
}

#[test]
fn a_generated_district_trains_and_scores_to_the_committed_outputs() {
    let work = tempfile::tempdir().unwrap();
    let w = |p: &str| work.path().join(p).display().to_string();
    ews_ok(&[
        "generate",
        "--students",
        "200",
        "--seed",
        "5",
        "--out",
        &w("district"),
    ]);
    ews_ok(&[
        "train",
        &w("district/train"),
        "--out",
        &w("model/model.json"),
    ]);
    // A week earlier first, so changes.csv has something to say.
    for as_of in ["2026-03-06", "2026-03-13"] {
        ews_ok(&[
            "score",
            &w("district/current"),
            "--model",
            &w("model/model.json"),
            "--as-of",
            as_of,
            "--out",
            &w("reports"),
        ]);
    }
    let mut outputs = vec![
        (
            "model.json".to_string(),
            work.path().join("model/model.json"),
        ),
        (
            "model_card.md".to_string(),
            work.path().join("model/model_card.md"),
        ),
    ];
    outputs.extend(run_outputs(
        &work.path().join("reports/2026-03-13"),
        "2026-03-13",
    ));
    check("generated", &outputs, work.path());
}

#[test]
fn a_mapped_export_scores_to_the_committed_outputs() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("reports");
    ews_ok(&[
        "--config",
        "config/examples/semicolon-0-20.toml",
        "score",
        "sample_data/examples/semicolon-0-20/current",
        "--model",
        "config/model.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let outputs = run_outputs(&out.join("2026-03-13"), "2026-03-13");
    check("semicolon-0-20", &outputs, work.path());
}
