//! The same inputs, config and model give byte-identical outputs whatever the thread count;
//! only the manifest's timestamp and stage durations differ.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::root;

fn run(args: &[&str], threads: &str) {
    let result = Command::new(env!("CARGO_BIN_EXE_ews"))
        .args(args)
        .current_dir(root())
        .env("POLARS_MAX_THREADS", threads)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Every file under `dir` (relative name, bytes), sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // The lock file holds the last run's process id and start time.
        if name == ews::io::folders::LOCK_FILE {
            continue;
        }
        if path.is_dir() {
            out.extend(
                files(&path)
                    .into_iter()
                    .map(|(inner, bytes)| (format!("{name}/{inner}"), bytes)),
            );
        } else {
            out.push((name, bytes(&path)));
        }
    }
    out.sort();
    out
}

/// A file's bytes; for the manifest, without the values that measure time.
fn bytes(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if path.file_name().unwrap() != "manifest.json" {
        return raw;
    }
    let mut manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    manifest["created_at"] = serde_json::Value::Null;
    for stage in manifest["stages"].as_array_mut().unwrap() {
        stage["seconds"] = serde_json::Value::Null;
    }
    manifest.to_string().into_bytes()
}

#[test]
fn score_outputs_do_not_depend_on_the_thread_count() {
    let work = tempfile::tempdir().unwrap();
    let (one, two) = (work.path().join("one"), work.path().join("two"));
    run(
        &[
            "score",
            "sample_data/current",
            "--out",
            one.to_str().unwrap(),
        ],
        "1",
    );
    run(
        &[
            "score",
            "sample_data/current",
            "--out",
            two.to_str().unwrap(),
        ],
        "2",
    );
    let (a, b) = (files(&one), files(&two));
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between 1 and 2 threads");
    }
}

#[test]
fn training_does_not_depend_on_the_thread_count() {
    let work = tempfile::tempdir().unwrap();
    let (one, two) = (work.path().join("one"), work.path().join("two"));
    for (dir, threads) in [(&one, "1"), (&two, "2")] {
        let model = dir.join("model.json");
        run(
            &[
                "train",
                "sample_data/train",
                "--out",
                model.to_str().unwrap(),
            ],
            threads,
        );
    }
    assert_eq!(files(&one), files(&two));
}
