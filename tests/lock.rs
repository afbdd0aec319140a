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

#[cfg(unix)]
#[test]
fn a_run_killed_at_any_point_leaves_the_previous_outputs_intact() {
    let out = tempfile::tempdir().unwrap();
    let result = score_into(out.path());
    assert!(result.status.success());
    let run = out.path().join("2026-03-13");
    let before = std::fs::read(run.join("referrals.csv")).unwrap();
    for delay_ms in [0u64, 20, 60, 120, 200, 280, 350] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ews"))
            .args(["score", "sample_data/current", "--out"])
            .arg(out.path())
            .current_dir(common::root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        // Whatever the moment, the run folder is complete: the old one or the new one (the
        // same inputs give the same bytes). Anything half-written is hidden, and the next run
        // clears it up.
        if !run.exists() {
            // Killed between setting the old folder aside and moving the new one in: the
            // next run puts it back before it starts.
            assert!(score_into(out.path()).status.success());
        }
        assert_eq!(
            std::fs::read(run.join("referrals.csv")).unwrap(),
            before,
            "{delay_ms} ms"
        );
        for entry in std::fs::read_dir(out.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            assert!(name == "2026-03-13" || name.starts_with('.'), "{name}");
        }
    }
    // A final run clears what the killed runs left and releases the lock.
    assert!(score_into(out.path()).status.success());
    let left: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, ["2026-03-13"]);
}
