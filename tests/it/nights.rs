//! Twenty consecutive school nights on the generated sample district: the as-of date moves a
//! school day at a time (attendance and marks grow), one `ews score` a night into one `--out`.
//! Tiers stay stable (the share of students whose published tier moves in a night, against the
//! tier by the thresholds alone), the history holds students × nights rows, changes.csv
//! reports only confirmed moves, and a rerun of a night changes nothing.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

/// The last `n` school days of the sample up to its as-of date (2026-03-13): the dates of its
/// attendance rows.
fn last_school_days(n: usize) -> Vec<String> {
    let mut reader =
        csv::Reader::from_path(common::root().join("sample_data/current/attendance.csv")).unwrap();
    let date = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "date")
        .unwrap();
    let mut days: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[date].to_string())
        .filter(|d| d.as_str() <= "2026-03-13")
        .collect();
    days.sort();
    days.dedup();
    days[days.len() - n..].to_vec()
}

fn score(out: &Path, as_of: &str) {
    let result = common::ews(&[
        "score",
        "sample_data/current",
        "--as-of",
        as_of,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        matches!(result.status.code(), Some(0) | Some(1)),
        "{as_of}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// A night of the history: student_id → (raw tier, published tier).
fn night(path: &Path) -> BTreeMap<String, (String, String)> {
    let frame = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let column = |name: &str| -> Vec<String> {
        frame
            .column(name)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect()
    };
    let (ids, raw, tier) = (column("student_id"), column("raw_tier"), column("tier"));
    (0..ids.len())
        .map(|i| (ids[i].clone(), (raw[i].clone(), tier[i].clone())))
        .collect()
}

#[test]
fn twenty_school_nights_keep_tiers_stable_and_the_history_whole() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let days = last_school_days(20);
    for day in &days {
        score(&out, day);
    }
    let folder = out.join("history/plain");
    let partition = |day: &str| folder.join(format!("as_of={day}/part-0.parquet"));
    let nights: Vec<BTreeMap<String, (String, String)>> =
        days.iter().map(|d| night(&partition(d))).collect();
    // History rows = students × nights.
    let students = nights[0].len();
    assert_eq!(students, 1000);
    assert_eq!(
        nights.iter().map(BTreeMap::len).sum::<usize>(),
        students * 20
    );

    // The share of students whose tier moves each night, by the thresholds alone and as
    // published (stable tiers).
    let mut shares = Vec::new();
    for k in 1..nights.len() {
        let moved = |pick: fn(&(String, String)) -> &String| {
            nights[k]
                .iter()
                .filter(|(id, now)| {
                    nights[k - 1]
                        .get(*id)
                        .is_some_and(|then| pick(then) != pick(now))
                })
                .count() as f64
                / students as f64
        };
        shares.push((moved(|t| &t.0), moved(|t| &t.1)));
    }
    let mean = |f: fn(&(f64, f64)) -> f64| shares.iter().map(f).sum::<f64>() / shares.len() as f64;
    eprintln!(
        "tier moves per night over {} nights: without hysteresis mean {:.2}% (max {:.2}%), with it mean {:.2}% (max {:.2}%)",
        shares.len(),
        100.0 * mean(|s| s.0),
        100.0 * shares.iter().map(|s| s.0).fold(0.0, f64::max),
        100.0 * mean(|s| s.1),
        100.0 * shares.iter().map(|s| s.1).fold(0.0, f64::max),
    );
    for (k, (raw, stable)) in shares.iter().enumerate() {
        assert!(
            *stable < 0.02,
            "night {}: {:.2}% of tiers moved",
            k + 2,
            100.0 * stable
        );
        // A move confirmed after its five school days can land on a quiet night: a night's
        // published moves may then exceed its raw ones, never by much.
        assert!(
            stable <= raw || *stable < 0.01,
            "night {}: {stable} > {raw}",
            k + 2
        );
    }
    assert!(mean(|s| s.1) < mean(|s| s.0), "{shares:?}");

    // changes.csv reports only confirmed moves: the published tiers of the two nights.
    for k in 1..days.len() {
        let path = out.join(&days[k]).join("changes.csv");
        let mut reader = csv::Reader::from_path(&path).unwrap();
        for row in reader.deserialize::<BTreeMap<String, String>>() {
            let row = row.unwrap();
            if !row["change"].starts_with("tier_") {
                continue;
            }
            let id = &row["student_id"];
            assert_eq!(row["previous_tier"], nights[k - 1][id].1, "{}", days[k]);
            assert_eq!(row["current_tier"], nights[k][id].1, "{}", days[k]);
        }
    }

    // A rerun of the last night replaces its own night with the same bytes, and no other.
    let bytes = |path: &Path| std::fs::read(path).unwrap();
    let last = days.last().unwrap();
    let before: Vec<Vec<u8>> = days.iter().map(|d| bytes(&partition(d))).collect();
    let referrals = bytes(&out.join(last).join("referrals.csv"));
    score(&out, last);
    let after: Vec<Vec<u8>> = days.iter().map(|d| bytes(&partition(d))).collect();
    assert!(before == after, "a rerun changed the history");
    assert_eq!(bytes(&out.join(last).join("referrals.csv")), referrals);
    let partitions = std::fs::read_dir(&folder).unwrap().count();
    assert_eq!(partitions, 20);
}

#[test]
fn a_file_where_the_history_goes_is_bad_input_and_left_alone() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("history"), "mine").unwrap();
    let result = common::ews(&[
        "score",
        "sample_data/current",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("history") && stderr.contains("not a folder"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("history")).unwrap(),
        "mine"
    );
    assert!(!out.join("2026-03-13").exists());
}
