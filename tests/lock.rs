//! One run at a time per output folder: a live lock stops a second run, a stale one (its
//! process gone, e.g. a killed run) is taken over, and a finished run leaves no lock.

mod common;

use common::ews;

fn score_into(out: &std::path::Path) -> std::process::Output {
    ews(&[
        "score",
        "sample_data/current",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn a_live_lock_stops_a_second_run() {
    let out = tempfile::tempdir().unwrap();
    let lock = out.path().join(ews::output::LOCK_FILE);
    // This test process is alive: its id in the lock stands for a run in progress.
    std::fs::write(
        &lock,
        format!("{} 2026-11-23T10:00:00Z\n", std::process::id()),
    )
    .unwrap();
    let result = score_into(out.path());
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(&format!("another ews run (process {}", std::process::id())),
        "{stderr}"
    );
    assert!(lock.exists(), "the other run's lock is left alone");
    assert!(!out.path().join("2026-03-13").exists());
}

#[test]
fn a_stale_lock_is_taken_over_and_a_finished_run_leaves_none() {
    let out = tempfile::tempdir().unwrap();
    let lock = out.path().join(ews::output::LOCK_FILE);
    // The id of a process that has exited.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(&lock, format!("{dead} 2026-11-23T10:00:00Z\n")).unwrap();
    let result = score_into(out.path());
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("taking over a stale lock"), "{stderr}");
    assert!(out.path().join("2026-03-13/referrals.csv").exists());
    assert!(!lock.exists());
}
