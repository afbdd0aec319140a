//! The dashboard feed on sample_data: students.parquet / students.csv with the documented
//! columns and types, summary.json counts, and formula neutralisation in every CSV.

use crate::common;

use std::path::Path;

use common::{ews, root, score, score_sample_with_config};
use polars::prelude::*;

#[test]
fn the_student_feed_has_the_documented_columns_and_types() {
    let out = tempfile::tempdir().unwrap();
    score(&root().join("sample_data/current"), out.path());
    let run = out.path().join("2026-03-13");
    let file = std::fs::File::open(run.join("students.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    assert_eq!(frame.height(), 1000);
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ews::outputs::feed::columns());
    let dtype = |name: &str| frame.column(name).unwrap().dtype().clone();
    assert_eq!(dtype("schema_version"), DataType::Int32);
    assert_eq!(dtype("as_of"), DataType::Date);
    assert_eq!(dtype("student_id"), DataType::String);
    assert_eq!(dtype("grade_level"), DataType::Int32);
    assert_eq!(dtype("attendance_rate"), DataType::Float64);
    assert_eq!(dtype("risk_score"), DataType::Float64);
    assert_eq!(dtype("rank_in_district"), DataType::UInt32);
    assert_eq!(dtype("flagged_at_risk"), DataType::Boolean);
    // Sorted by student_id; ranks are a permutation of 1..=n.
    let ids: Vec<&str> = frame
        .column("student_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let mut ranks: Vec<u32> = frame
        .column("rank_in_district")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=1000).collect::<Vec<u32>>());

    // students.csv: the same rows and columns.
    let mut reader = csv::Reader::from_path(run.join("students.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, names);
    assert_eq!(reader.records().count(), 1000);

    // summary.json adds up: tiers per grade → school → district.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["schema_version"], 3);
    assert_eq!(summary["students"], 1000);
    let tiers =
        |v: &serde_json::Value| ["high", "medium", "low"].map(|t| v["tiers"][t].as_u64().unwrap());
    let mut district = [0u64; 3];
    for school in summary["schools"].as_array().unwrap() {
        let mut by_grade = [0u64; 3];
        for grade in school["grades"].as_array().unwrap() {
            assert_eq!(
                grade["suppressed"], false,
                "sample grades have 10+ students"
            );
            let t = tiers(grade);
            assert_eq!(grade["students"].as_u64().unwrap(), t.iter().sum::<u64>());
            for k in 0..3 {
                by_grade[k] += t[k];
            }
        }
        assert_eq!(by_grade, tiers(school));
        for k in 0..3 {
            district[k] += by_grade[k];
        }
    }
    assert_eq!(district, tiers(&summary));
    // Flagged at risk = the published tier is medium or high.
    let flagged = frame
        .column("flagged_at_risk")
        .unwrap()
        .bool()
        .unwrap()
        .sum()
        .unwrap() as u64;
    assert_eq!(flagged, district[0] + district[1]);
}

#[test]
fn a_formula_in_a_name_is_neutralised_in_every_csv_and_kept_in_parquet() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snap");
    std::fs::create_dir(&snapshot).unwrap();
    for entry in std::fs::read_dir(root().join("sample_data/current")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), snapshot.join(entry.file_name())).unwrap();
    }
    // The district's highest-risk student (a credit-recovery candidate) gets a formula as
    // last name (quoted: it holds quotes and a comma).
    let first_run = work.path().join("first");
    score(&snapshot, &first_run);
    let mut reader = csv::Reader::from_path(first_run.join("2026-03-13/referrals.csv")).unwrap();
    let top = reader.records().next().unwrap().unwrap()[0].to_string();
    let students = std::fs::read_to_string(snapshot.join("students.csv")).unwrap();
    let mut lines: Vec<String> = students.lines().map(String::from).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(&format!("{top},")))
        .unwrap();
    let fields: Vec<&str> = lines[at].splitn(4, ',').collect();
    let id = fields[0].to_string();
    lines[at] = format!(
        "{},{},\"=HYPERLINK(\"\"x\"\",\"\"y\"\")\",{}",
        fields[0], fields[1], fields[3]
    );
    std::fs::write(snapshot.join("students.csv"), lines.join("\n") + "\n").unwrap();
    let out = work.path().join("out");
    score(&snapshot, &out);
    let run = out.join("2026-03-13");
    let school = {
        let mut reader = csv::Reader::from_path(run.join("referrals.csv")).unwrap();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[0], id.as_str());
        row[3].to_string()
    };
    let counselor_file = format!("schools/{school}.csv");
    for file in ["students.csv", "referrals.csv", counselor_file.as_str()] {
        let mut reader = csv::Reader::from_path(run.join(file)).unwrap();
        let header = reader.headers().unwrap().clone();
        let last = header.iter().position(|h| h == "last_name").unwrap();
        let id_column = header.iter().position(|h| h == "student_id").unwrap();
        let row = reader
            .records()
            .map(|r| r.unwrap())
            .find(|r| r[id_column] == id)
            .unwrap();
        assert_eq!(&row[last], "'=HYPERLINK(\"x\",\"y\")", "{file}");
    }
    let file = std::fs::File::open(run.join("students.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    let names = frame.column("last_name").unwrap().str().unwrap().clone();
    assert!(names.iter().any(|n| n == Some("=HYPERLINK(\"x\",\"y\")")));
}

#[test]
fn a_second_run_lists_the_changes_since_the_first() {
    let out = tempfile::tempdir().unwrap();
    let snapshot = root().join("sample_data/current");
    let run = |as_of: &str| {
        let result = ews(&[
            "score",
            snapshot.to_str().unwrap(),
            "--as-of",
            as_of,
            "--out",
            out.path().to_str().unwrap(),
        ]);
        assert!(result.status.success());
        String::from_utf8_lossy(&result.stdout).to_string()
    };
    let first = run("2026-02-13");
    assert!(first.contains("no earlier run"), "{first}");
    let first_changes = std::fs::read_to_string(out.path().join("2026-02-13/changes.csv")).unwrap();
    assert_eq!(first_changes.lines().count(), 1, "header only");

    let second = run("2026-03-13");
    assert!(second.contains("changes since 2026-02-13"), "{second}");
    let dir = out.path().join("2026-03-13");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let mut reader = csv::Reader::from_path(dir.join("changes.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let change = header.iter().position(|h| h == "change").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(!rows.is_empty());
    for category in ews::outputs::changes::CATEGORIES {
        let n = rows.iter().filter(|r| &r[change] == category).count() as u64;
        assert_eq!(summary["changes"][category].as_u64(), Some(n), "{category}");
    }
    // A tier move agrees with the tiers of both runs' feeds.
    let (previous, current) = (
        header.iter().position(|h| h == "previous_tier").unwrap(),
        header.iter().position(|h| h == "current_tier").unwrap(),
    );
    let level = |t: &str| {
        ["low", "medium", "high"]
            .iter()
            .position(|x| *x == t)
            .unwrap()
    };
    for r in rows.iter().filter(|r| &r[change] == "tier_up") {
        assert!(level(&r[current]) > level(&r[previous]));
    }
    for r in rows.iter().filter(|r| &r[change] == "tier_down") {
        assert!(level(&r[current]) < level(&r[previous]));
    }
}

#[test]
fn the_manifest_names_every_input_and_output_with_its_hash() {
    use sha2::{Digest, Sha256};
    let sha = |path: &Path| -> String {
        Sha256::digest(std::fs::read(path).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let out = tempfile::tempdir().unwrap();
    score(&root().join("sample_data/current"), out.path());
    let run = out.path().join("2026-03-13");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["as_of"], "2026-03-13");
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("config/model.json")).unwrap()).unwrap();
    assert_eq!(manifest["model"]["fingerprint"], model["fingerprint"]);

    let inputs = manifest["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 5);
    for input in inputs {
        let path = root().join(input["path"].as_str().unwrap());
        assert_eq!(input["sha256"].as_str().unwrap(), sha(&path));
        assert!(input["rows_read"].as_u64().unwrap() > 0);
    }
    let mut listed: Vec<String> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let file = o["file"].as_str().unwrap();
            assert_eq!(
                o["sha256"].as_str().unwrap(),
                sha(&run.join(file)),
                "{file}"
            );
            file.to_string()
        })
        .collect();
    listed.push("manifest.json".into());
    listed.sort();
    let mut present: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&run).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap() {
                let inner = inner.unwrap().file_name().to_string_lossy().to_string();
                present.push(format!("{name}/{inner}"));
            }
        } else {
            present.push(name);
        }
    }
    present.sort();
    assert!(present.iter().any(|p| p.starts_with("schools/")));
    // Every file but the manifest and the marker of what ews wrote (which lists them all).
    let marker = std::fs::read_to_string(run.join(ews::io::folders::WRITTEN_MARKER)).unwrap();
    present.retain(|p| p != ews::io::folders::WRITTEN_MARKER);
    assert_eq!(listed, present);
    for file in &present {
        assert!(
            marker.lines().any(|l| l == file),
            "{file} not in the marker"
        );
    }
    let stages: Vec<&str> = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "read+validate",
            "features",
            "plans",
            "score",
            "follow-up",
            "equity",
            "changes"
        ]
    );
}

/// Reads a CSV file: its header and rows as maps.
fn rows_of(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn counselor_files_split_candidates_with_something_to_recover_from_prevention() {
    let out = tempfile::tempdir().unwrap();
    score(&root().join("sample_data/current"), out.path());
    let run = out.path().join("2026-03-13");
    // The feed says who is which, per school.
    let feed = rows_of(&run.join("students.csv"));
    let mut candidates: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut prevention: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in &feed {
        let school = row["school_id"].clone();
        candidates.entry(school.clone()).or_default();
        prevention.entry(school.clone()).or_default();
        assert!(
            !(row["credit_recovery_candidate"] == "true" && row["prevention_candidate"] == "true"),
            "{row:?}"
        );
        if row["credit_recovery_candidate"] == "true" {
            candidates
                .get_mut(&school)
                .unwrap()
                .push(row["student_id"].clone());
        }
        if row["prevention_candidate"] == "true" {
            prevention
                .get_mut(&school)
                .unwrap()
                .push(row["student_id"].clone());
        }
    }
    let mut nothing_to_recover = 0;
    for (school, ids) in &candidates {
        let path = run.join(format!("schools/{school}.csv"));
        let header: Vec<String> = csv::Reader::from_path(&path)
            .unwrap()
            .headers()
            .unwrap()
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(header, ews::outputs::counselor::COLUMNS);
        let rows = rows_of(&path);
        let mut got: Vec<String> = rows.iter().map(|r| r["student_id"].clone()).collect();
        got.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(got, want, "school {school}");
        let grade = |r: &std::collections::BTreeMap<String, String>| {
            r["grade_level"].parse::<i32>().unwrap()
        };
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row["rank"].parse::<usize>().unwrap(), i + 1);
            assert_eq!(row["within_capacity"], "yes", "no seat limit configured");
            let something = !row["courses_to_recover"].is_empty()
                || row["credit_deficit_now"]
                    .parse::<f64>()
                    .is_ok_and(|d| d > 0.0)
                || !row["subjects_behind"].is_empty();
            nothing_to_recover += usize::from(!something);
            // Seats go by graduation urgency: the highest grade (closest cohort) first.
            if i > 0 {
                assert!(
                    grade(&rows[i - 1]) >= grade(row),
                    "school {school}: {row:?}"
                );
            }
        }
        let path = run.join(format!("prevention/{school}.csv"));
        let rows = rows_of(&path);
        let mut got: Vec<String> = rows.iter().map(|r| r["student_id"].clone()).collect();
        got.sort();
        assert_eq!(&got, &prevention[school], "school {school}");
        // By risk, highest first; every one at the referral tier.
        let risks: Vec<f64> = rows
            .iter()
            .map(|r| r["risk_percent"].parse().unwrap())
            .collect();
        assert!(
            risks.windows(2).all(|w| w[0] >= w[1]),
            "school {school}: {risks:?}"
        );
        assert!(risks.iter().all(|r| *r >= 25.0), "{risks:?}");
    }
    assert_eq!(nothing_to_recover, 0);
    assert!(prevention.values().map(Vec::len).sum::<usize>() > 0);
}

#[test]
fn seats_mark_who_fits_this_term() {
    let (_work, out) = score_sample_with_config("[recovery.seats_by_school]\n\"001\" = 5\n");
    let rows = rows_of(&out.join("2026-03-13/schools/001.csv"));
    let within: Vec<&str> = rows.iter().map(|r| r["within_capacity"].as_str()).collect();
    assert!(within.len() > 5);
    assert!(within[..5].iter().all(|w| *w == "yes"));
    assert!(within[5..].iter().all(|w| *w == "no"));
    // The seats go to the seniors first (the closest cohort).
    assert!(
        rows[..5].iter().all(|r| r["grade_level"] == "12"),
        "{:?}",
        &rows[..5]
    );
    // The equity audit reports each group's share of candidates given a seat: school 001
    // seats 5 of its candidates, the other schools all of theirs.
    let equity = rows_of(&out.join("2026-03-13/equity.csv"));
    let rates: Vec<f64> = equity
        .iter()
        .filter(|r| r["suppressed"] == "false" && !r["seat_rate"].is_empty())
        .map(|r| r["seat_rate"].parse().unwrap())
        .collect();
    assert!(rates.len() > 5, "{rates:?}");
    assert!(rates.iter().all(|r| (0.0..=1.0).contains(r)), "{rates:?}");
    assert!(rates.iter().any(|r| *r < 1.0), "{rates:?}");
}

/// `[recovery.seats]` on the sample (as of 2026-03-13, S1 over): an Algebra I course for all
/// schools, an ELA lab at school 001, a summer school. Seats are places in them.
#[test]
fn recovery_seats_are_places_in_the_offerings() {
    let (_work, out) = score_sample_with_config(
        "[recovery.seats.\"Algebra I online\"]\ncourse_id = \"02009\"\nsession = \"S2\"\nseats = 4\n\
         [recovery.seats.\"English lab\"]\nschool_id = \"001\"\nsubject = \"ELA\"\nseats = 3\n\
         [recovery.seats.\"Summer school\"]\nsession = \"summer\"\nseats = 10\n\
         [recovery.seats.\"Fall lab\"]\nsession = \"S1\"\nseats = 10\n",
    );
    let mut given: std::collections::BTreeMap<String, usize> = Default::default();
    for school in ["001", "002", "003"] {
        let rows = rows_of(&out.join(format!("2026-03-13/schools/{school}.csv")));
        for row in &rows {
            let places = &row["recovery_seats"];
            // Seated exactly when given a place.
            assert_eq!(
                row["within_capacity"] == "yes",
                !places.is_empty(),
                "{row:?}"
            );
            for place in places.split("; ").filter(|p| !p.is_empty()) {
                let (name, what) = place.split_once(": ").unwrap();
                *given.entry(name.to_string()).or_default() += 1;
                match name {
                    // Only Algebra I (02009) itself, never another MATH course.
                    "Algebra I online (S2 2026)" => {
                        assert!(what.starts_with("02009 "), "{place}")
                    }
                    "English lab (S2 2026)" => {
                        assert_eq!(school, "001");
                        assert!(
                            row["courses_to_recover"].contains(what)
                                && row["courses_to_recover"].contains(&format!("{what} (ELA"))
                                || what == "ELA credit",
                            "{place}"
                        );
                    }
                    "Summer school (summer 2026)" => {}
                    _ => panic!("{place}: no such open offering"),
                }
            }
            // One course a session (slots_per_term = summer_slots = 1).
            assert!(places.matches("(S2 2026)").count() <= 1, "{places}");
            assert!(places.matches("(summer 2026)").count() <= 1, "{places}");
        }
    }
    // Every open offering is full: the sample has more candidates than seats.
    assert_eq!(given["Algebra I online (S2 2026)"], 4);
    assert_eq!(given["English lab (S2 2026)"], 3);
    assert_eq!(given["Summer school (summer 2026)"], 10);
    // summary.json: their use, and the fall lab (S1 ended) gave none.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("2026-03-13/summary.json")).unwrap(),
    )
    .unwrap();
    let uses = summary["recovery_seats"].as_array().unwrap();
    let by_name = |name: &str| uses.iter().find(|u| u["name"] == name).unwrap();
    assert_eq!(by_name("Fall lab")["ended"], true);
    assert_eq!(by_name("Fall lab")["given"], 0);
    assert_eq!(by_name("Summer school")["given"], 10);
    assert_eq!(by_name("English lab")["school_id"], "001");
    assert!(by_name("Summer school")["wanting"].as_u64().unwrap() > 0);
}

#[test]
fn the_report_is_one_offline_page_with_its_charts() {
    let out = tempfile::tempdir().unwrap();
    score(&root().join("sample_data/current"), out.path());
    let page = std::fs::read_to_string(out.path().join("2026-03-13/report.html")).unwrap();
    for section in [
        "Tiers by school",
        "Risk distribution",
        "Most common reasons",
        "Changes since the last run",
        "Data quality",
        "Equity snapshot",
    ] {
        assert!(page.contains(section), "{section}");
    }
    assert_eq!(page.matches("<svg").count(), 3);
    // Self-contained: no script, no stylesheet or image from anywhere.
    for forbidden in ["<script", "<link", "src=", "url("] {
        assert!(!page.contains(forbidden), "{forbidden}");
    }
    assert!(page.contains("Dr. Martin Luther King, Jr. High School"));
}

#[test]
fn a_snapshot_with_known_outcomes_gets_the_calibration_plot() {
    let out = tempfile::tempdir().unwrap();
    score(&root().join("sample_data/train"), out.path());
    let run = out.path().join("2022-03-15");
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("<h2>Calibration</h2>"));
    assert_eq!(page.matches("<svg").count(), 4);
    // Outcome-based equity rates are filled for unsuppressed groups.
    let mut reader = csv::Reader::from_path(run.join("equity.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let precision = header.iter().position(|h| h == "precision").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(rows
        .iter()
        .filter(|r| &r[3] == "false")
        .all(|r| !r[precision].is_empty()));
    // Without outcomes (current snapshot) there is no calibration section.
    let out = tempfile::tempdir().unwrap();
    score(&root().join("sample_data/current"), out.path());
    let page = std::fs::read_to_string(out.path().join("2026-03-13/report.html")).unwrap();
    assert!(!page.contains("<h2>Calibration</h2>"));
}

#[cfg(unix)]
#[test]
fn every_file_gets_the_mode_of_its_kind_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    // umask 000 (a scheduler's default on some systems): nothing may come out world-writable
    // or world-readable.
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec \"{}\" score sample_data/current --out \"{}\"",
            env!("CARGO_BIN_EXE_ews"),
            out.path().join("reports").display()
        ))
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let reports = out.path().join("reports");
    let run = reports.join("2026-03-13");
    let mut student_level = 0;
    for file in ews::io::folders::files_under(&run, &run).unwrap() {
        let kind = ews::io::folders::kind_of(&file).unwrap_or_else(|| panic!("{file} has no kind"));
        let expected = match kind {
            ews::io::folders::FileKind::StudentLevel => {
                student_level += 1;
                0o600
            }
            ews::io::folders::FileKind::Aggregate => 0o640,
        };
        assert_eq!(mode(&run.join(&file)), expected, "{file}");
    }
    // referrals, students.csv/.parquet, changes, rejects and one file per school.
    assert!(student_level > 5, "{student_level}");
    for name in ews::io::folders::student_level_files() {
        assert_eq!(mode(&run.join(name)), 0o600, "{name}");
    }
    assert_eq!(mode(&run.join("summary.json")), 0o640);
    assert_eq!(mode(&run.join("report.html")), 0o640);
    // Folders: the owner and the group, the output folder ews made included.
    assert_eq!(mode(&run), 0o750);
    assert_eq!(mode(&run.join("schools")), 0o750);
    assert_eq!(mode(&reports), 0o750);
    assert_eq!(mode(&reports.join(ews::io::folders::LOCK_FILE)), 0o640);

    // Configured modes; under umask 077 the folder is not opened up to others either.
    let (_work, out) = score_sample_with_config(
        "[privacy]\nstudent_file_mode = \"0640\"\naggregate_file_mode = \"0644\"\n",
    );
    assert_eq!(mode(&out.join("2026-03-13/referrals.csv")), 0o640);
    assert_eq!(mode(&out.join("2026-03-13/summary.json")), 0o644);
}

#[test]
fn modes_that_let_others_write_are_refused() {
    for mode in ["0777", "0666", "0620", "0602", "888", "rw-------"] {
        for key in ["student_file_mode", "aggregate_file_mode"] {
            let work = tempfile::tempdir().unwrap();
            let config = work.path().join("ews.toml");
            std::fs::write(&config, format!("[privacy]\n{key} = \"{mode}\"\n")).unwrap();
            let out = work.path().join("out");
            let result = ews(&[
                "score",
                "sample_data/current",
                "--config",
                config.to_str().unwrap(),
                "--model",
                "config/model.json",
                "--out",
                out.to_str().unwrap(),
            ]);
            assert_eq!(result.status.code(), Some(2), "{key} = {mode}");
            let stderr = String::from_utf8_lossy(&result.stderr);
            assert!(stderr.contains(&format!("privacy.{key}")), "{stderr}");
            assert!(!out.exists(), "nothing is written");
        }
    }
}

#[test]
fn pseudonymized_feeds_hold_keyed_hashes_and_no_names() {
    let run = |out: &Path, key: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ews"));
        command
            .args(["score", "sample_data/current", "--pseudonymize", "--out"])
            .arg(out)
            .current_dir(root());
        match key {
            Some(key) => command.env(ews::outputs::pseudonym::KEY_VARIABLE, key),
            None => command.env_remove(ews::outputs::pseudonym::KEY_VARIABLE),
        };
        command.output().unwrap()
    };
    let work = tempfile::tempdir().unwrap();
    // Without a key: refused before anything is written.
    let refused = run(&work.path().join("none"), None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("EWS_PSEUDONYM_KEY"));
    assert!(!work.path().join("none/2026-03-13").exists());

    let key = "a district secret of enough bytes";
    let (one, two) = (work.path().join("one"), work.path().join("two"));
    for out in [&one, &two] {
        let result = run(out, Some(key));
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        // The key never reaches the output.
        assert!(!String::from_utf8_lossy(&result.stdout).contains(key));
        assert!(!String::from_utf8_lossy(&result.stderr).contains(key));
    }
    let feed = |dir: &Path| {
        let file = std::fs::File::open(dir.join("2026-03-13/students.parquet")).unwrap();
        ParquetReader::new(file).finish().unwrap()
    };
    let frame = feed(&one);
    let ids = frame.column("student_id").unwrap().str().unwrap().clone();
    let expected = ews::outputs::pseudonym::pseudonym(key.as_bytes(), "00100002");
    assert!(ids.iter().any(|id| id == Some(expected.as_str())));
    assert!(ids
        .iter()
        .all(|id| id.is_some_and(|id| id.len() == 32 && !id.starts_with("001"))));
    // No names, and no demographics: with school and grade they would single students out.
    for name in ["first_name", "last_name"]
        .into_iter()
        .chain(ews::model::equity::ATTRIBUTES)
    {
        assert_eq!(
            frame.column(name).unwrap().null_count(),
            frame.height(),
            "{name}"
        );
    }
    // The columns stay (a dashboard's schema does not depend on the flag), and so do the
    // school and grade the dashboards group by.
    let layout: Vec<&str> = frame
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(layout, ews::outputs::feed::columns(), "the feed's layout");
    assert_eq!(frame.column("school_id").unwrap().null_count(), 0);
    let csv_feed = std::fs::read_to_string(one.join("2026-03-13/students.csv")).unwrap();
    let row = csv_feed.lines().nth(1).unwrap();
    let header: Vec<&str> = csv_feed.lines().next().unwrap().split(',').collect();
    let cells: Vec<&str> = row.split(',').collect();
    let race = header.iter().position(|h| *h == "race_ethnicity").unwrap();
    assert_eq!(cells[race], "");
    // The aggregates keep serving equity dashboards.
    let summary = std::fs::read_to_string(one.join("2026-03-13/equity.csv")).unwrap();
    assert!(summary.contains("race_ethnicity"));
    // The same key gives the same pseudonyms every night.
    assert!(feed(&two).column("student_id").unwrap() == frame.column("student_id").unwrap());
    // Counselor files keep real ids and names.
    let counselor = std::fs::read_to_string(one.join("2026-03-13/schools/001.csv")).unwrap();
    assert!(counselor.lines().nth(1).unwrap().contains(",001"));
    // Every file the registry marks as pseudonymized holds no real student id.
    let students =
        std::fs::read_to_string(root().join("sample_data/current/students.csv")).unwrap();
    let real_ids: std::collections::HashSet<&str> = students
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .collect();
    assert!(real_ids.len() > 100);
    let mut checked = Vec::new();
    for name in ews::io::folders::pseudonymized_files() {
        let path = one.join("2026-03-13").join(name);
        let ids: Vec<String> = if name.ends_with(".parquet") {
            let file = std::fs::File::open(&path).unwrap();
            let frame = ParquetReader::new(file).finish().unwrap();
            let ids = frame.column("student_id").unwrap().str().unwrap().clone();
            ids.iter().flatten().map(str::to_string).collect()
        } else if path.exists() {
            let text = std::fs::read_to_string(&path).unwrap();
            text.lines()
                .skip(1)
                .flat_map(|line| line.split(',').map(str::to_string).collect::<Vec<_>>())
                .collect()
        } else {
            continue;
        };
        assert!(
            ids.iter().all(|cell| !real_ids.contains(cell.as_str())),
            "{name} holds a real student id"
        );
        checked.push(name);
    }
    assert!(checked.contains(&"students.csv") && checked.contains(&"students.parquet"));
    // The counselor's list is not pseudonymized, and the registry says so.
    let referrals = std::fs::read_to_string(one.join("2026-03-13/referrals.csv")).unwrap();
    let first_id = referrals.lines().nth(1).unwrap().split(',').next().unwrap();
    assert!(real_ids.contains(first_id));
    assert!(!ews::io::folders::pseudonymized_files().any(|name| name == "referrals.csv"));
}

#[test]
fn a_district_may_keep_demographics_in_the_pseudonymized_feed() {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("ews.toml");
    std::fs::write(&config, "[privacy]\nfeed_demographics = true\n").unwrap();
    let out = work.path().join("out");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_ews"))
        .args(["--config", config.to_str().unwrap()])
        .args(["score", "sample_data/current", "--pseudonymize", "--out"])
        .arg(&out)
        .env(
            ews::outputs::pseudonym::KEY_VARIABLE,
            "a district secret of enough bytes",
        )
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let file = std::fs::File::open(out.join("2026-03-13/students.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    for name in ews::model::equity::ATTRIBUTES {
        assert_eq!(frame.column(name).unwrap().null_count(), 0, "{name}");
    }
    assert_eq!(
        frame.column("last_name").unwrap().null_count(),
        frame.height()
    );
}
