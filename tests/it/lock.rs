//! The nightly job's mechanics: one run at a time per output folder (an operating-system lock,
//! which a killed run's process releases by ending), a run killed at any point of its publish
//! leaves the earlier folders whole and the next run, of any date, puts them back, and a kill
//! leaves nothing behind in the temporary folder.

use crate::common;

use std::path::Path;

use common::ews;

fn score_into(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "score",
        "sample_data/current",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    ews(&args)
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn a_lock_file_left_by_a_finished_or_killed_run_does_not_stop_the_next() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join(ews::io::folders::LOCK_FILE);
    // What a run killed mid-way leaves: its id in a file nobody holds.
    std::fs::write(&path, "999999999 2026-11-23T10:00:00Z\n").unwrap();
    let result = score_into(out.path(), &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(out.path().join("2026-03-13/referrals.csv").exists());
    // The file stays (removing it would let two runs lock two files), released.
    let file = std::fs::File::open(&path).unwrap();
    file.try_lock().unwrap();
}

#[test]
fn a_lock_path_that_is_a_folder_is_refused() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir(out.path().join(ews::io::folders::LOCK_FILE)).unwrap();
    for command in ["score", "validate"] {
        let result = ews(&[
            command,
            "sample_data/current",
            "--out",
            out.path().to_str().unwrap(),
        ]);
        assert_eq!(result.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains(".ews.lock: is a folder"), "{stderr}");
    }
    assert_eq!(names(out.path()), [ews::io::folders::LOCK_FILE]);
}

#[cfg(unix)]
#[test]
fn a_run_killed_at_any_point_leaves_the_previous_outputs_intact() {
    let out = tempfile::tempdir().unwrap();
    let result = score_into(out.path(), &[]);
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
            assert!(score_into(out.path(), &[]).status.success());
        }
        assert_eq!(
            std::fs::read(run.join("referrals.csv")).unwrap(),
            before,
            "{delay_ms} ms"
        );
        for name in names(out.path()) {
            assert!(
                name == "2026-03-13"
                    || name == ews::outputs::history::HISTORY_DIR
                    || name.starts_with('.'),
                "{name}"
            );
        }
    }
    // A final run clears what the killed runs left.
    assert!(score_into(out.path(), &[]).status.success());
    assert_eq!(
        names(out.path()),
        [
            ews::io::folders::LOCK_FILE,
            "2026-03-13",
            ews::outputs::history::HISTORY_DIR
        ]
    );
}

/// A run of 2026-03-12 is replaced by a run of the same date that dies at `point` of its
/// publish (`EWS_CRASH_AT` aborts it there, as a kill would); the next night's run, of
/// 2026-03-13, must find the 2026-03-12 folder whole and compare with it.
#[cfg(unix)]
#[test]
fn a_run_killed_at_each_point_of_its_publish_is_made_whole_by_the_next_run_of_any_date() {
    let earlier = ["--as-of", "2026-03-12"];
    for (point, target_there, leftover) in [
        ("publish:staged", true, ".2026-03-12.staging-"),
        ("publish:set-aside", false, ".2026-03-12.previous-"),
        ("publish:moved-in", true, ".2026-03-12.previous-"),
    ] {
        let out = tempfile::tempdir().unwrap();
        assert!(score_into(out.path(), &earlier).status.success());
        let folder = out.path().join("2026-03-12");
        let before = std::fs::read(folder.join("referrals.csv")).unwrap();

        let killed = std::process::Command::new(env!("CARGO_BIN_EXE_ews"))
            .args([
                "score",
                "sample_data/current",
                "--as-of",
                "2026-03-12",
                "--out",
            ])
            .arg(out.path())
            .env("EWS_CRASH_AT", point)
            .current_dir(common::root())
            .output()
            .unwrap();
        assert_eq!(killed.status.code(), None, "{point}: ended by a signal");
        // The state the kill left.
        assert_eq!(folder.exists(), target_there, "{point}");
        let left = names(out.path());
        assert!(
            left.iter().any(|n| n.starts_with(leftover)),
            "{point}: {left:?}"
        );

        // The next night, another date.
        let next = score_into(out.path(), &[]);
        assert!(
            next.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&next.stderr)
        );
        assert_eq!(
            names(out.path()),
            [
                ews::io::folders::LOCK_FILE,
                "2026-03-12",
                "2026-03-13",
                ews::outputs::history::HISTORY_DIR
            ],
            "{point}"
        );
        assert_eq!(
            std::fs::read(folder.join("referrals.csv")).unwrap(),
            before,
            "{point}"
        );
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.path().join("2026-03-13/summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            summary["changes"]["previous_as_of"], "2026-03-12",
            "{point}: changes.csv compares with the restored run"
        );
    }
}

/// A Windows-1252 export is decoded as it is read: no decoded copy of the students' names,
/// birth dates or programmes is ever written to the temporary folder, so a kill leaves none.
#[cfg(unix)]
#[test]
fn a_killed_windows_1252_run_leaves_nothing_in_the_temporary_folder() {
    let temp = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = |kill_after: Option<u64>| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ews"))
            .args([
                "--config",
                "config/examples/tab-windows-1252.toml",
                "score",
                "sample_data/examples/tab-windows-1252/current",
                "--model",
                "config/model.json",
                "--out",
            ])
            .arg(out.path())
            .env("TMPDIR", temp.path())
            .current_dir(common::root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        if let Some(ms) = kill_after {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            let _ = child.kill();
        }
        child.wait().unwrap()
    };
    for ms in [5, 30, 80, 150] {
        run(Some(ms));
        assert_eq!(
            names(temp.path()),
            Vec::<String>::new(),
            "killed at {ms} ms"
        );
    }
    assert!(run(None).code().is_some_and(|c| c <= 1));
    assert_eq!(names(temp.path()), Vec::<String>::new());
}

#[test]
fn a_held_lock_stops_a_second_run_even_before_its_owner_wrote_its_id() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join(ews::io::folders::LOCK_FILE);
    // A run that has just created and locked the file, and not yet written its id in it: an
    // empty lock file is not a stale one.
    let held = std::fs::File::create(&path).unwrap();
    held.try_lock().unwrap();
    let result = score_into(out.path(), &[]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("another ews run (just starting) is writing to this folder"),
        "{stderr}"
    );
    assert!(!out.path().join("2026-03-13").exists());

    // With the owner's id and start time, the message names them.
    std::fs::write(&path, "4242 2026-11-23T10:00:00Z\n").unwrap();
    let stderr = String::from_utf8_lossy(&score_into(out.path(), &[]).stderr).to_string();
    assert!(
        stderr.contains("another ews run (process 4242, started 2026-11-23T10:00:00Z)"),
        "{stderr}"
    );
    // Released, the lock lets the next run in: tested by
    // a_lock_file_left_by_a_finished_or_killed_run_does_not_stop_the_next, with no lock held
    // in this process (a child another test forks at the moment of the release shares the
    // lock until its exec, so a run right after `drop(held)` could still find it held).
    drop(held);
}
