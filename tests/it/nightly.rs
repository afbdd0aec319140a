//! What a scheduler and a shell do to a run: start it from any folder, pipe its summary into
//! `head`, show or hide its progress.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::root;

fn ews_in(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ews"));
    command.current_dir(dir);
    command
}

#[test]
fn a_closed_stdout_ends_the_summary_quietly_and_the_run_keeps_its_exit_code() {
    let out = tempfile::tempdir().unwrap();
    let mut child = ews_in(&root())
        .args(["score", "sample_data/current", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `ews score … | head -0`: the reader is gone before the summary is printed.
    drop(child.stdout.take());
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert!(out.path().join("2026-03-13/referrals.csv").exists());
}

#[test]
fn progress_is_shown_on_request_and_never_in_a_piped_log_by_default() {
    let run = |progress: Option<&str>| {
        let out = tempfile::tempdir().unwrap();
        let mut command = ews_in(&root());
        if let Some(when) = progress {
            command.args(["--progress", when]);
        }
        let result = command
            .args(["score", "sample_data/current", "--out"])
            .arg(out.path())
            .output()
            .unwrap();
        assert_eq!(result.status.code(), Some(0));
        String::from_utf8_lossy(&result.stderr).to_string()
    };
    // stderr is a pipe here, as in a cron job: nothing but the log (empty at the default
    // level on the clean sample).
    assert_eq!(run(None), "");
    assert_eq!(run(Some("never")), "");
    let shown = run(Some("always"));
    for stage in [
        "read+validate",
        "attendance.csv",
        "features",
        "plans",
        "write",
    ] {
        assert!(shown.contains(stage), "{stage}: {shown:?}");
    }
    // Stage and file names only: no value of a row (the first student's name).
    let students =
        std::fs::read_to_string(root().join("sample_data/current/students.csv")).unwrap();
    let first = students.lines().nth(1).unwrap();
    let last_name = first.split(',').nth(2).unwrap();
    assert!(!shown.contains(last_name), "{last_name}");
}

#[test]
fn a_run_from_any_folder_finds_the_model_beside_its_config() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("reports");
    // Absolute config and snapshot, as in the README's cron line; no --model.
    let result = ews_in(elsewhere.path())
        .arg("--config")
        .arg(root().join("config/ews.toml"))
        .arg("score")
        .arg(root().join("sample_data/current"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("2026-03-13/manifest.json")).unwrap())
            .unwrap();
    let model = manifest["model"]["path"].as_str().unwrap_or_default();
    assert!(model.ends_with("config/model.json"), "{manifest:#}");

    // A district's own layout: the config names its model relative to itself.
    let district = elsewhere.path().join("district");
    std::fs::create_dir_all(district.join("etc/models")).unwrap();
    std::fs::copy(
        root().join("config/model.json"),
        district.join("etc/models/2026.json"),
    )
    .unwrap();
    std::fs::write(
        district.join("etc/ews.toml"),
        "[model]\nfile = \"models/2026.json\"\n",
    )
    .unwrap();
    let result = ews_in(&district)
        .args(["--config", "etc/ews.toml", "score"])
        .arg(root().join("sample_data/current"))
        .args(["--out", "reports"])
        .output()
        .unwrap();
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(district.join("reports/2026-03-13/referrals.csv").exists());

    // No config and no model where the defaults look: a message that says where to put one.
    let result = ews_in(elsewhere.path())
        .arg("score")
        .arg(root().join("sample_data/current"))
        .args(["--out", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("--model"), "{stderr}");
    assert!(stderr.contains("[model] file"), "{stderr}");
}
