//! Partitions of students (`performance.max_memory`): a run forced into many partitions by a
//! tiny memory cap writes every output the same bytes as the run in one piece, on a daily
//! export with bad rows of every kind spread over the partitions, on an exception-only
//! export, and on a snapshot with outcomes (the backtest's calibration and equity rates).

use std::path::{Path, PathBuf};

use crate::common::{self, root};

/// `config` with its line `line` replaced by `by`, written into `dir` under `name`.
fn config_replacing(config: &Path, dir: &Path, line: &str, by: &str, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    assert!(text.contains(line), "{} sets {line}", config.display());
    let path = dir.join(name);
    std::fs::write(&path, text.replace(line, by)).unwrap();
    path
}

/// The repository's config with `max_memory` set to `cap`.
fn config_with_cap(dir: &Path, cap: &str) -> PathBuf {
    config_replacing(
        &root().join("config/ews.toml"),
        dir,
        "max_memory = \"2GiB\"",
        &format!("max_memory = \"{cap}\""),
        &format!("ews-{cap}.toml"),
    )
}

/// A config of the repository without `[performance]`, with one of `max_memory = cap`.
fn example_config_with_cap(dir: &Path, config: &str, cap: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join(config)).unwrap();
    assert!(!text.contains("[performance]"));
    let path = dir.join(format!("example-{cap}.toml"));
    std::fs::write(
        &path,
        format!("{text}\n[performance]\nmax_memory = \"{cap}\"\n"),
    )
    .unwrap();
    path
}

/// Runs `ews --config <config> -v <command> <snapshot> <args…>`, which must exit 0 or 1;
/// returns the exit code and stderr (the log).
fn ews_v(config: &Path, command: &str, snapshot: &Path, args: &[&str]) -> (i32, String) {
    let mut all = vec![
        "--config",
        config.to_str().unwrap(),
        "-v",
        command,
        snapshot.to_str().unwrap(),
    ];
    all.extend(args);
    let result = common::ews(&all);
    let stderr = String::from_utf8_lossy(&result.stderr).to_string();
    let code = result.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "ews {command} {}: {stderr}",
        snapshot.display()
    );
    (code, stderr)
}

/// Scores `snapshot` with `config` into `out`; returns stderr.
fn score(config: &Path, snapshot: &Path, out: &Path) -> String {
    let model = root().join("config/model.json");
    let args = [
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    ews_v(config, "score", snapshot, &args).1
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names = ews::io::folders::files_under(dir, dir).unwrap();
    names.sort();
    names
}

/// The manifest without what differs by construction: its time, the config file's path and
/// hash, and the stages (a partitioned run has a stage of its own).
fn manifest_without_run_details(path: &Path) -> serde_json::Value {
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for key in ["created_at", "config", "stages"] {
        assert!(manifest.get(key).is_some(), "manifest.json has `{key}`");
        manifest[key] = serde_json::Value::Null;
    }
    manifest
}

/// Scores `snapshot` in one piece and with a memory `cap` small enough to partition it; every
/// output must be the same. Returns the work folder and the partitioned run's folder.
fn partitioned_run_writes_the_same_outputs(
    snapshot: &Path,
    cap: &str,
) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let capped = config_with_cap(work.path(), cap);
    let run = same_outputs(
        snapshot,
        &root().join("config/ews.toml"),
        &capped,
        work.path(),
    );
    (work, run)
}

/// Scores `snapshot` with `config` (in one piece) and `capped` (in partitions) under `work`;
/// every output must be the same. Returns the partitioned run's folder.
fn same_outputs(snapshot: &Path, config: &Path, capped: &Path, work: &Path) -> PathBuf {
    let whole = work.join("whole");
    let parts = work.join("parts");
    let log_whole = score(config, snapshot, &whole);
    let log_parts = score(capped, snapshot, &parts);
    assert!(
        !log_whole.contains("partitions of students"),
        "the default cap reads the sample in one piece: {log_whole}"
    );
    // The samples' 0.8–10.8 MB of input under a 0.5 or 1 MiB cap, a quarter of it left for
    // the rows beside what the students keep: 7 to 42 partitions.
    let count: usize = log_parts
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("MiB of input: ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no partition count logged: {log_parts}"));
    assert!(count >= 2, "{count} partitions");
    let reads = reads_logged(&log_parts);
    assert!(reads >= count, "{reads} reads of {count} partitions");
    assert!(log_parts.contains(&format!("partition {reads} of {reads}")));

    let names = files(&whole);
    assert_eq!(names, files(&parts), "the same output files");
    assert!(names.iter().any(|n| n.ends_with("referrals.csv")));
    let mut differ = Vec::new();
    for name in &names {
        let (a, b) = (whole.join(name), parts.join(name));
        let same = match name.ends_with("manifest.json") {
            true => manifest_without_run_details(&a) == manifest_without_run_details(&b),
            false => {
                name.ends_with(".ews.lock")
                    || std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap()
            }
        };
        if !same {
            differ.push(name.clone());
        }
    }
    assert!(
        differ.is_empty(),
        "outputs differ with {count} partitions: {differ:?}"
    );
    std::fs::read_dir(&parts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && !p.ends_with("history"))
        .unwrap()
}

/// The reads of a partitioned run's partitions, as its log says ("read in N turns").
fn reads_logged(log: &str) -> usize {
    log.lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("read in ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no reads logged: {log}"))
}

/// Asserts each of `files` has the same bytes under `whole` and `parts`; returns their bytes.
fn same_files(whole: &Path, parts: &Path, files: &[&str]) -> Vec<Vec<u8>> {
    files
        .iter()
        .map(|file| {
            let a = std::fs::read(whole.join(file)).unwrap();
            assert!(
                a == std::fs::read(parts.join(file)).unwrap(),
                "{file} differs in partitions"
            );
            a
        })
        .collect()
}

/// sample_data/current with bad rows appended to every file, for students at the start, in
/// the middle and at the end of the id order, and rows without an id: each must be rejected
/// (or warned about) once, by the partition of its student.
fn messy_snapshot(dir: &Path) {
    common::copy_snapshot("sample_data/current", dir);
    let append = |file: &str, lines: &[&[u8]]| {
        let path = dir.join(file);
        let mut bytes = std::fs::read(&path).unwrap();
        for line in lines {
            bytes.extend_from_slice(line);
            bytes.push(b'\n');
        }
        std::fs::write(&path, bytes).unwrap();
    };
    append(
        "students.csv",
        &[
            // A duplicate id, a missing one, a ragged row, an unknown grade.
            b"00104391,Dup,Row,003,Roosevelt High School,12,2008-07-25,2026,M,White,Y,N,N,Mr. Haddad",
            b",No,Id,001,Lincoln High School,11,2008-01-01,2027,F,White,N,N,N,Ms. Rivera",
            b"00103497,Ragged,Row,001",
            b"00999002,Bad,Grade,001,Lincoln High School,XX,2008-01-01,2027,F,White,N,N,N,Ms. Rivera",
            // No attendance row (a warning), a birth date typo (a value ignored), a student
            // outside the scope, and a value that is not UTF-8 (replaced, the row kept).
            b"00999004,No,Attendance,001,Lincoln High School,9,2010-02-02,2029,M,Asian,N,N,N,Ms. Rivera",
            b"00101748,Birth,Typo,001,Lincoln High School,10,2091-01-01,2028,F,White,N,N,N,Ms. Rivera",
            b"00105250,Kid,Middle,001,Lincoln High School,7,2013-01-01,2032,F,White,N,N,N,Ms. Rivera",
            b"00103498,Ren\xe9,Bytes,001,Lincoln High School,10,2009-01-01,2028,F,White,N,N,N,Ms. Rivera",
        ],
    );
    append(
        "attendance.csv",
        &[
            b"00999999,001,2025-09-02,A",
            b"00104391,003,2025-13-45,A",
            b"00101747,001,2025-09-03,Q",
            b"00104391,003,2025-08-18,P",
            b"00105249,001,2019-09-03,A",
            b",001,2025-09-02,A",
            b"00101747,001",
            b"00105250,001,2025-09-02,A",
            b"00101748,001,2025-09-02,A",
            b"00103498,001,2025-09-02,P",
            b"00100001,001,2025-09-02,P",
            b"00103496,001,2025-09-04,\xff",
        ],
    );
    append(
        "grades.csv",
        &[
            b"00999999,001,2026,Q1,01012,English,ELA,A,100,2025-10-31",
            b"00105249,001,2026,Q1,01012,English,ELA,ZZ,100,2025-10-31",
            b"00101747,001,2026",
            b",001,2026,Q1,01012,English,ELA,A,100,2025-10-31",
            b"00105250,001,2026,Q1,01012,English,ELA,A,100,2025-10-31",
            // Bytes that are not text in a mark: rejected by the partition of its student.
            b"00103496,001,2026,Q1,01012,English,ELA,\xff,100,2025-10-31",
        ],
    );
    append(
        "credits.csv",
        &[
            b"00999999,2023,Y,01009,English 9,ELA,1.0,1.0,A-,2023-06-12,N",
            b"00103496,2023,Y,01009,English 9,ELA,one,1.0,A-,2023-06-12,N",
            b"00100002,2023",
        ],
    );
    append(
        "behavior.csv",
        &[
            b"00101747,2026-02-31,Harassment,,0",
            b"00999998,2026-02-20,Harassment,,0",
        ],
    );
}

#[test]
fn a_daily_export_with_bad_rows_scores_the_same_in_partitions() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("messy");
    messy_snapshot(&snapshot);
    let (_work, run) = partitioned_run_writes_the_same_outputs(&snapshot, "1MiB");
    // Every bad row is listed once, by the partition of its student (rows without an id, and
    // those the reader rejects, by the first), in file and line order.
    let rejects = common::csv_rows(&run.join("rejects.csv"));
    let keys: Vec<(String, u64)> = rejects
        .iter()
        .map(|r| (r["file"].clone(), r["line"].parse().unwrap()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|(file, line)| {
        let order = [
            "students.csv",
            "attendance.csv",
            "grades.csv",
            "credits.csv",
            "behavior.csv",
        ];
        (order.iter().position(|f| f == file).unwrap(), *line)
    });
    assert_eq!(keys, sorted, "rejects.csv in file and line order");
    let count = |file: &str| keys.iter().filter(|(f, _)| f == file).count();
    // students.csv: 4 rejected, 1 without attendance, 1 birth date, 1 replaced value (the
    // student outside the scope is counted, not listed).
    assert_eq!(count("students.csv"), 7, "{rejects:?}");
    // attendance.csv: all but the row outside the scope and the rows of the two students
    // kept with a value blanked or replaced.
    assert_eq!(count("attendance.csv"), 9, "{rejects:?}");
    assert_eq!(count("grades.csv"), 5);
    assert_eq!(count("credits.csv"), 3);
    assert_eq!(count("behavior.csv"), 2);
    let reasons = |file: &str, reason: &str| {
        rejects
            .iter()
            .filter(|r| r["file"] == file && r["reason"].starts_with(reason))
            .count()
    };
    assert_eq!(reasons("attendance.csv", "duplicate student-day"), 1);
    assert_eq!(reasons("attendance.csv", "missing value"), 1);
    assert_eq!(reasons("students.csv", "no attendance rows"), 1);
}

#[test]
fn a_mapped_windows_1252_export_scores_the_same_in_partitions() {
    // Tab-separated, Windows-1252, renamed columns and codes: the partitions read the ids
    // as the checks do, decoded.
    let work = tempfile::tempdir().unwrap();
    let config = "config/examples/tab-windows-1252.toml";
    let capped = example_config_with_cap(work.path(), config, "1MiB");
    let snapshot = root().join("sample_data/examples/tab-windows-1252/current");
    same_outputs(&snapshot, &root().join(config), &capped, work.path());
}

#[test]
fn an_exception_only_export_scores_the_same_in_partitions() {
    // 0.8 MB of input: read in partitions under half a MiB (7 of them, a quarter of the cap
    // left for the rows beside what its 450 students keep).
    partitioned_run_writes_the_same_outputs(&root().join("sample_data/sis/current"), "512KiB");
}

#[test]
fn a_calendar_with_bad_rows_is_checked_once_for_every_partition() {
    // calendar.csv names no student: the first partition checks and counts it, the others
    // take its checked rows. Its bad rows are listed once, its rows counted once, and every
    // output is the same as in one piece.
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("sis");
    common::copy_snapshot("sample_data/sis/current", &snapshot);
    let path = snapshot.join("calendar.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let rows = text.lines().count() - 1;
    text.push_str("001,2025-13-45,Y,\n002,2025-09-02,maybe,\n");
    std::fs::write(&path, text).unwrap();
    let (_work, run) = partitioned_run_writes_the_same_outputs(&snapshot, "512KiB");
    let rejects = common::csv_rows(&run.join("rejects.csv"));
    let lines: Vec<&str> = rejects
        .iter()
        .filter(|r| r["file"] == "calendar.csv")
        .map(|r| r["line"].as_str())
        .collect();
    let (bad_date, bad_flag) = ((rows + 2).to_string(), (rows + 3).to_string());
    assert_eq!(
        lines,
        vec![bad_date.as_str(), bad_flag.as_str()],
        "{rejects:?}"
    );
    let quality = common::csv_rows(&run.join("data_quality.csv"));
    let read = quality
        .iter()
        .find(|r| r["file"] == "calendar.csv" && r["category"] == "read")
        .unwrap_or_else(|| panic!("{quality:?}"));
    assert_eq!(read["rows"], (rows + 2).to_string());
}

#[test]
fn a_snapshot_with_outcomes_scores_the_same_in_partitions() {
    partitioned_run_writes_the_same_outputs(&root().join("sample_data/train"), "1MiB");
}

/// `ews train` on sample_data/train with `config`, into `out`; returns stderr.
fn train(config: &Path, out: &Path) -> String {
    let model = out.join("model.json");
    let snapshot = root().join("sample_data/train");
    ews_v(
        config,
        "train",
        &snapshot,
        &["--out", model.to_str().unwrap()],
    )
    .1
}

#[test]
fn training_in_partitions_gives_the_same_model_and_card() {
    let work = tempfile::tempdir().unwrap();
    let (whole, parts) = (work.path().join("whole"), work.path().join("parts"));
    train(&root().join("config/ews.toml"), &whole);
    let log = train(&config_with_cap(work.path(), "1MiB"), &parts);
    // The snapshot and each earlier checkpoint are read in partitions, from the files split
    // once.
    let reads = log.matches("42 partitions of students").count();
    assert!(reads >= 2, "{log}");
    assert_eq!(log.matches("staged attendance.csv in").count(), 1, "{log}");
    same_files(&whole, &parts, &["model.json", "model_card.md"]);
}

/// `config` with `model.max_training_students` set to `max`, written into `dir`.
fn with_max_training_students(config: &Path, dir: &Path, max: usize) -> PathBuf {
    let name = config.file_name().unwrap().to_string_lossy();
    config_replacing(
        config,
        dir,
        "max_training_students = 1000000",
        &format!("max_training_students = {max}"),
        &format!("sample-{max}-{name}"),
    )
}

fn model_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("model.json")).unwrap()).unwrap()
}

#[test]
fn a_sample_of_the_students_trains_the_same_model_in_partitions() {
    let work = tempfile::tempdir().unwrap();
    let (all, whole, parts) = (
        work.path().join("all"),
        work.path().join("whole"),
        work.path().join("parts"),
    );
    train(&root().join("config/ews.toml"), &all);
    let sampled = with_max_training_students(&root().join("config/ews.toml"), work.path(), 300);
    let log = train(&sampled, &whole);
    assert!(log.contains("training on a sample of 300 of the "), "{log}");
    let capped =
        with_max_training_students(&config_with_cap(work.path(), "1MiB"), work.path(), 300);
    let log = train(&capped, &parts);
    // Read in many partitions, fewer than the 42 without a sample: what the 300 students
    // keep leaves the rows more room.
    assert!(reads_logged(&log) > 4, "{log}");
    assert!(
        log.contains("kept for the 300 students of training's sample (of 1000)"),
        "{log}"
    );
    same_files(&whole, &parts, &["model.json", "model_card.md"]);

    let (all, sampled) = (model_json(&all)["training"].clone(), model_json(&whole));
    let training = &sampled["training"];
    // Every labelled student, without the sample.
    assert!(all.get("sample").is_none(), "{all}");
    assert!(all["labelled"].as_u64().unwrap() > 300, "{all}");
    // The snapshot's counts are kept; the fit's are the sample's.
    for count in [
        "students",
        "labelled",
        "excluded_transferred",
        "excluded_no_outcome",
    ] {
        assert_eq!(training[count], all[count], "{count}");
    }
    assert_eq!(training["sample"], 300);
    assert_eq!(sampled["hyperparameters"]["max_training_students"], 300);
    assert!(training["positives"].as_u64().unwrap() < all["positives"].as_u64().unwrap());
    // A 25% stratified holdout of the 300.
    let holdout = training["holdout_students"].as_u64().unwrap();
    assert!((70..=80).contains(&holdout), "{training}");
    // Each earlier checkpoint has at most the sample's 300 students.
    let rows = training["rows"].as_u64().unwrap();
    let checkpoints = sampled["checkpoints"].as_array().unwrap();
    assert!(checkpoints.len() >= 2, "{sampled}");
    assert!(
        rows <= 300 * checkpoints.len() as u64 && rows > 300,
        "{training}"
    );
    let card = std::fs::read_to_string(whole.join("model_card.md")).unwrap();
    assert!(
        card.contains("trained on a sample of 300 of them"),
        "{card}"
    );
}

#[test]
fn validating_in_partitions_reports_the_same_rows() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("messy");
    messy_snapshot(&snapshot);
    let capped = config_with_cap(work.path(), "1MiB");
    let validate = |config: &Path, out: &str| {
        let out = work.path().join(out);
        let (code, stderr) = ews_v(
            config,
            "validate",
            &snapshot,
            &["--out", out.to_str().unwrap()],
        );
        // Rows were rejected, below the gate: a warning.
        assert_eq!(code, 1, "{stderr}");
        (out.join("2026-03-13.validation"), stderr)
    };
    let (whole, _) = validate(&root().join("config/ews.toml"), "whole");
    let (parts, log) = validate(&capped, "parts");
    let reads = reads_logged(&log);
    assert!(
        log.contains(&format!("partition {reads} of {reads}")),
        "{log}"
    );
    for file in same_files(&whole, &parts, &["data_quality.csv", "rejects.csv"]) {
        assert!(file.len() > 200, "the file lists the bad rows");
    }
}

#[test]
fn evaluating_in_partitions_gives_the_same_metrics() {
    let work = tempfile::tempdir().unwrap();
    let capped = config_with_cap(work.path(), "1MiB");
    let snapshot = root().join("sample_data/train");
    let model = root().join("config/model.json");
    let evaluate = |config: &Path, out: &str| {
        let out = work.path().join(out);
        let args = [
            "--model",
            model.to_str().unwrap(),
            "--checkpoints",
            "--out",
            out.to_str().unwrap(),
        ];
        let log = ews_v(config, "evaluate", &snapshot, &args).1;
        (out, log)
    };
    let (whole, _) = evaluate(&root().join("config/ews.toml"), "whole");
    let (parts, log) = evaluate(&capped, "parts");
    // The as-of date and each earlier checkpoint, in partitions.
    let reads = reads_logged(&log);
    let last = format!("partition {reads} of {reads}");
    assert!(log.matches(&last).count() >= 2, "{log}");
    same_files(&whole, &parts, &["metrics.json", "evaluation.md"]);
}

/// The staging folder of a partitioned run (its files split by partition) is made in TMPDIR
/// and removed when the run ends, whether it published or failed its gate; a killed run's
/// folder is removed by the next run; nothing else in TMPDIR is touched.
#[test]
fn the_staging_folder_is_removed_after_the_run() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::fs::write(tmp.join("not-ews.txt"), "someone else's file").unwrap();
    // What a killed run left (a process id above Linux's largest, marked as ews's own), and
    // a folder of the same name without the mark: only the first is removed.
    let killed = tmp.join("ews-partitions-999999999-abc123");
    std::fs::create_dir(&killed).unwrap();
    std::fs::write(killed.join(".ews-staging"), "").unwrap();
    std::fs::write(killed.join("attendance-0.parquet"), "rows").unwrap();
    std::fs::create_dir(tmp.join("ews-partitions-999999999-unmarked")).unwrap();
    let capped = config_with_cap(work.path(), "1MiB");
    let model = root().join("config/model.json");
    let run = |snapshot: &Path, out: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ews"))
            .args(["--config", capped.to_str().unwrap(), "-v", "score"])
            .arg(snapshot)
            .args(["--model", model.to_str().unwrap(), "--out"])
            .arg(out)
            .env("TMPDIR", &tmp)
            .current_dir(root())
            .output()
            .unwrap()
    };
    // The staging folder while the run writes it (the last mode seen before it is removed):
    // private to the run's user.
    let watch = {
        let tmp = tmp.clone();
        std::thread::spawn(move || {
            use std::os::unix::fs::PermissionsExt;
            let started = std::time::Instant::now();
            let mut last = None;
            while started.elapsed() < std::time::Duration::from_secs(60) {
                let staging = std::fs::read_dir(&tmp).unwrap().flatten().find(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    name.starts_with("ews-partitions-") && !name.contains("999999999")
                });
                match staging.and_then(|e| e.metadata().ok()) {
                    Some(meta) => last = Some(meta.permissions().mode() & 0o777),
                    None if last.is_some() => break,
                    None => {}
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            last
        })
    };
    let left = || {
        let mut names: Vec<String> = std::fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    };

    let published = run(
        &root().join("sample_data/current"),
        &work.path().join("out"),
    );
    let log = String::from_utf8_lossy(&published.stderr);
    assert_eq!(published.status.code(), Some(0), "{log}");
    assert!(log.contains("staged attendance.csv in"), "{log}");
    assert!(log.contains("removed the staging folder of a run that was killed"));
    assert_eq!(
        watch.join().unwrap(),
        Some(0o700),
        "the staging folder's mode"
    );
    let expected = ["ews-partitions-999999999-unmarked", "not-ews.txt"];
    assert_eq!(left(), expected);

    // A third of grades.csv's rows without a student: the gate fails after the staging.
    let failing = work.path().join("failing");
    common::copy_snapshot("sample_data/current", &failing);
    let grades = std::fs::read_to_string(failing.join("grades.csv")).unwrap();
    let rows = grades.lines().count() / 3;
    let mut bad = grades.clone();
    for _ in 0..rows {
        bad.push_str(",003,2026,Q1,01012,English,ELA,A,100,2025-10-31\n");
    }
    std::fs::write(failing.join("grades.csv"), bad).unwrap();
    let failed = run(&failing, &work.path().join("out-failed"));
    let log = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{log}");
    assert!(log.contains("staged grades.csv in"), "{log}");
    assert_eq!(left(), expected);
}
