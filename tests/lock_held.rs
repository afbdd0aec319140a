//! A held lock stops a second run. Alone in its test binary: the lock is held by this test
//! process, and a child spawned by another test at the moment it is released would share it
//! until its exec, so the run after the release could still find it held.

mod common;

use std::path::Path;

use common::ews;

fn score_into(out: &Path) -> std::process::Output {
    ews(&[
        "score",
        "sample_data/current",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn a_held_lock_stops_a_second_run_even_before_its_owner_wrote_its_id() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join(ews::output::LOCK_FILE);
    // A run that has just created and locked the file, and not yet written its id in it: an
    // empty lock file is not a stale one.
    let held = std::fs::File::create(&path).unwrap();
    held.try_lock().unwrap();
    let result = score_into(out.path());
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("another ews run (just starting) is writing to this folder"),
        "{stderr}"
    );
    assert!(!out.path().join("2026-03-13").exists());

    // With the owner's id and start time, the message names them.
    std::fs::write(&path, "4242 2026-11-23T10:00:00Z\n").unwrap();
    let stderr = String::from_utf8_lossy(&score_into(out.path()).stderr).to_string();
    assert!(
        stderr.contains("another ews run (process 4242, started 2026-11-23T10:00:00Z)"),
        "{stderr}"
    );
    drop(held);
    assert!(score_into(out.path()).status.success());
}
