//! One district, three export shapes (contract, part 2): a 10,000-student generated district
//! (K–12, students moving schools mid-year with same-day transfers, withdrawals, half and
//! split days) exported daily with enrollment and calendar, daily alone, and exception-only.
//! Every shape must give the same features (to 1e-12) and the same referral list.

use crate::common::{ews, root};

use std::path::Path;

/// The cells of a CSV file, by row.
fn cells(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Asserts two feeds hold the same students with the same values (numbers to 1e-12), except
/// the columns in `except`.
fn assert_same_feed(a: &Path, b: &Path, what: &str, except: &[&str]) {
    let (header_a, rows_a) = cells(a);
    let (header_b, rows_b) = cells(b);
    assert_eq!(header_a, header_b, "{what}");
    assert_eq!(rows_a.len(), rows_b.len(), "{what}: students");
    for (row_a, row_b) in rows_a.iter().zip(&rows_b) {
        for ((column, x), y) in header_a.iter().zip(row_a).zip(row_b) {
            if except.contains(&column.as_str()) {
                continue;
            }
            let same = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => (x - y).abs() <= 1e-12,
                _ => x == y,
            };
            assert!(same, "{what}: student {}, {column}: {x} vs {y}", row_a[2]);
        }
    }
}

fn score(snapshot: &Path, out: &Path) {
    let config = root().join("config/ews.toml");
    let model = root().join("config/model.json");
    let result = ews(&[
        "--config",
        config.to_str().unwrap(),
        "score",
        snapshot.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--progress",
        "never",
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn daily_and_exception_only_exports_of_one_district_score_the_same() {
    let work = tempfile::tempdir().unwrap();
    let generate = |shape: &str| {
        let out = work.path().join(shape);
        let result = ews(&[
            "generate",
            "--students",
            "10000",
            "--seed",
            "11",
            "--shape",
            shape,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        out.join("current")
    };
    let exceptions = generate("sis");
    let daily = generate("sis-daily");
    // The daily export without enrollment and calendar: membership is the dates with a row.
    let plain = work.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    for entry in std::fs::read_dir(&daily).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name != "enrollment.csv" && name != "calendar.csv" {
            std::fs::copy(&path, plain.join(&name)).unwrap();
        }
    }
    // The district is what the test claims: movers, same-day transfers, K–8 students, an
    // exception-only attendance file with half days.
    let (_, spans) = cells(&exceptions.join("enrollment.csv"));
    let movers = spans.iter().filter(|s| s[4] == "T1").count();
    let same_day = spans
        .iter()
        .filter(|s| s[4] == "T1" && spans.iter().any(|t| t[0] == s[0] && t[2] == s[3]))
        .count();
    assert!(
        movers > 100 && same_day > 20,
        "{movers} movers, {same_day} same-day"
    );
    let (_, events) = cells(&exceptions.join("attendance.csv"));
    assert!(events.iter().all(|e| e[3] != "P"));
    assert!(events.iter().filter(|e| e[4] == "0.5").count() > 1000);

    for (name, snapshot) in [
        ("sis", &exceptions),
        ("sis-daily", &daily),
        ("plain", &plain),
    ] {
        score(snapshot, &work.path().join(format!("out-{name}")));
    }
    let run = |name: &str, file: &str| {
        work.path()
            .join(format!("out-{name}"))
            .join("2026-03-13")
            .join(file)
    };
    // Without calendar.csv the periods of a day are attendance.periods_per_day (7), also on
    // the calendar's early-release days (4): the class-period rate differs there, by design.
    for (other, except) in [
        ("sis-daily", &[][..]),
        ("plain", &["class_period_absence_rate"][..]),
    ] {
        assert_same_feed(
            &run("sis", "students.csv"),
            &run(other, "students.csv"),
            &format!("exception-only vs {other}"),
            except,
        );
        if except.is_empty() {
            assert_eq!(
                std::fs::read(run("sis", "referrals.csv")).unwrap(),
                std::fs::read(run(other, "referrals.csv")).unwrap(),
                "referrals.csv: exception-only vs {other}"
            );
        }
    }
    // The class-period rate is known, and some students skip classes on days in school.
    let (header, rows) = cells(&run("sis", "students.csv"));
    let period = header
        .iter()
        .position(|h| h == "class_period_absence_rate")
        .unwrap();
    assert!(rows.iter().all(|r| !r[period].is_empty()));
    assert!(rows
        .iter()
        .any(|r| r[period].parse::<f64>().unwrap() > 0.02));
    // Members with no event at all are present every day, never missing.
    let (header, rows) = cells(&run("sis", "students.csv"));
    let rate = header.iter().position(|h| h == "attendance_rate").unwrap();
    assert!(rows.iter().all(|r| !r[rate].is_empty()));
    assert!(rows.iter().any(|r| r[rate].parse::<f64>() == Ok(1.0)));
}

#[test]
fn the_sis_sample_is_the_generator_s_and_scores() {
    // sample_data/sis is `ews generate --students 300 --seed 7 --shape sis`, byte for byte.
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("sis");
    let result = ews(&[
        "generate",
        "--students",
        "300",
        "--seed",
        "7",
        "--shape",
        "sis",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success());
    let shipped = root().join("sample_data/sis");
    for snapshot in ["train", "current"] {
        let mut names: Vec<String> = std::fs::read_dir(out.join(snapshot))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert!(names.contains(&"snapshot.toml".to_string()));
        for name in names {
            assert_eq!(
                std::fs::read(out.join(snapshot).join(&name)).unwrap(),
                std::fs::read(shipped.join(snapshot).join(&name)).unwrap(),
                "sample_data/sis/{snapshot}/{name}"
            );
        }
    }
    // Scored from its own snapshot.toml (exception mode), the K–8 students out of scope.
    let scored = work.path().join("out");
    score(&shipped.join("current"), &scored);
    let quality = std::fs::read_to_string(scored.join("2026-03-13/data_quality.csv")).unwrap();
    assert!(quality.contains("students.csv,out of scope,"), "{quality}");
    assert!(
        quality.contains("attendance.csv,out of scope,"),
        "{quality}"
    );
    assert!(!quality.contains("row rejected"), "{quality}");
}

/// Every file under `dir`, by path relative to it.
fn files_in(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn a_parquet_district_scores_as_its_csv_twin() {
    // `generate --format parquet` writes the same district as CSV does (here with a year of
    // history, whose exception-only attendance needs its calendars and spans): scored, every output
    // is the same but for the input file names (data_quality.csv, the manifest's inputs).
    let work = tempfile::tempdir().unwrap();
    for shape in ["canonical", "sis"] {
        let mut runs = Vec::new();
        for format in ["csv", "parquet"] {
            let district = work.path().join(format!("{shape}-{format}"));
            let result = ews(&[
                "generate",
                "--students",
                "200",
                "--seed",
                "5",
                "--shape",
                shape,
                "--history-years",
                "1",
                "--format",
                format,
                "--out",
                district.to_str().unwrap(),
            ]);
            assert!(result.status.success(), "{shape} {format}");
            let inputs = files_in(&district.join("current"));
            let extension = format!(".{format}");
            assert!(inputs.keys().any(|f| f.ends_with(&extension)));
            let out = work.path().join(format!("{shape}-{format}-out"));
            score(&district.join("current"), &out);
            runs.push(files_in(&out));
        }
        let (csv, parquet) = (&runs[0], &runs[1]);
        assert_eq!(
            csv.keys().collect::<Vec<_>>(),
            parquet.keys().collect::<Vec<_>>()
        );
        assert!(csv.len() > 10, "{shape}: {} files", csv.len());
        for (name, bytes) in csv {
            // The manifest names and hashes the inputs; the lock file holds the run's process.
            if name.ends_with("manifest.json") || name == ews::io::folders::LOCK_FILE {
                continue;
            }
            let other = &parquet[name];
            let renamed = String::from_utf8_lossy(other).replace(".parquet", ".csv");
            assert!(
                bytes == other || String::from_utf8_lossy(bytes) == renamed,
                "{shape}: {name} differs"
            );
        }
    }
}
