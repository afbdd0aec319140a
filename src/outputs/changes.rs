//! Changes since the last run: who became a credit-recovery candidate, who moved between
//! tiers, who is no longer at risk and who left the district, compared with the student feed
//! (students.parquet) of an earlier run.
//!
//! A candidate is a student of the feed with `credit_recovery_candidate` (see
//! [`crate::outputs::recovery::is_candidate`]). Each student with a change gets one row, under the
//! first category that applies: left the district, new candidate, no longer a candidate, tier
//! up, tier down.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::Serialize;

use crate::io::error::{EwsError, Result};
use crate::outputs::pseudonym::StudentIds;

/// The change categories, in order of precedence.
pub const CATEGORIES: [&str; 5] = [
    "left_the_district",
    "new_candidate",
    "no_longer_candidate",
    "tier_up",
    "tier_down",
];

/// The columns of changes.csv, in order.
pub const COLUMNS: [&str; 11] = [
    "student_id",
    "first_name",
    "last_name",
    "school_id",
    "grade_level",
    "change",
    "previous_tier",
    "current_tier",
    "previous_risk",
    "current_risk",
    "previous_as_of",
];

/// Counts per category, for the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangeCounts {
    pub previous_run: String,
    pub previous_as_of: NaiveDate,
    pub left_the_district: usize,
    pub new_candidate: usize,
    pub no_longer_candidate: usize,
    pub tier_up: usize,
    pub tier_down: usize,
}

/// Earlier run folders in `out`, newest first: folders named by a date before `as_of` that
/// hold a student feed.
pub fn earlier_runs(out: &Path, as_of: NaiveDate) -> Vec<(NaiveDate, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let mut runs: Vec<(NaiveDate, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let date = NaiveDate::parse_from_str(&name, crate::contract::DATE_FORMAT).ok()?;
            (date < as_of && e.path().join("students.parquet").is_file()).then(|| (date, e.path()))
        })
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.0));
    runs
}

/// The most recent earlier run folder in `out` written with student ids that compare with
/// `ids` (the same mode and key); runs skipped for their ids are logged.
pub fn previous_run(out: &Path, as_of: NaiveDate, ids: &StudentIds) -> Option<PathBuf> {
    for (_, dir) in earlier_runs(out, as_of) {
        let theirs = run_ids(&dir);
        if ids.comparable(&theirs) {
            return Some(dir);
        }
        log::warn!(
            "{}: not compared for changes.csv: written with {}, this run with {}",
            dir.display(),
            theirs.describe(),
            ids.describe()
        );
    }
    None
}

/// The share of students at medium or high risk in the most recent earlier run in `out` of
/// the same school year (`same_year` of its as-of date) scored with the model of
/// `model_fingerprint`, with that run's as-of date.
pub fn previous_flagged_share(
    out: &Path,
    as_of: NaiveDate,
    same_year: impl Fn(NaiveDate) -> bool,
    model_fingerprint: &str,
) -> Option<(NaiveDate, f64)> {
    let read = |path: PathBuf| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
    };
    earlier_runs(out, as_of)
        .into_iter()
        .filter(|(date, _)| same_year(*date))
        .find_map(|(date, dir)| {
            let manifest = read(dir.join("manifest.json"))?;
            if manifest.get("model")?.get("fingerprint")?.as_str()? != model_fingerprint {
                return None;
            }
            let summary = read(dir.join("summary.json"))?;
            let students = summary.get("students")?.as_f64()?;
            let tiers = summary.get("tiers")?;
            let flagged = tiers.get("high")?.as_f64()? + tiers.get("medium")?.as_f64()?;
            (students > 0.0).then_some((date, flagged / students))
        })
}

/// How an earlier run wrote its student ids: from its manifest, or for a run of an ews that
/// did not record it, from its feed (names removed: pseudonyms under an unknown key).
pub fn run_ids(dir: &Path) -> StudentIds {
    let recorded = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|manifest| serde_json::from_value(manifest.get("student_ids")?.clone()).ok());
    if let Some(ids) = recorded {
        return ids;
    }
    let named = std::fs::File::open(dir.join("students.parquet"))
        .ok()
        .and_then(|file| {
            ParquetReader::new(file)
                .with_columns(Some(vec!["first_name".into()]))
                .finish()
                .ok()
        })
        .and_then(|feed| {
            let names = feed.column("first_name").ok()?.clone();
            Some(names.null_count() < names.len() || names.is_empty())
        })
        .unwrap_or(false);
    StudentIds {
        pseudonymized: !named,
        key_fingerprint: None,
    }
}

/// The frame the comparison needs from a feed: id, names, school, grade, tier, risk,
/// candidate and whether a counselor's decision holds the student off the new candidates
/// (false in a feed written before the column), each but the id with `suffix` added to its
/// name.
fn comparable(feed: LazyFrame, suffix: &str, has_hold: bool) -> LazyFrame {
    let named = |expr: Expr, name: &str| expr.alias(format!("{name}{suffix}"));
    let hold = match has_hold {
        true => col("decision_in_force").fill_null(lit(false)),
        false => lit(false),
    };
    feed.select([
        named(hold, "held"),
        col("student_id"),
        named(col("first_name"), "first_name"),
        named(col("last_name"), "last_name"),
        named(col("school_id"), "school_id"),
        named(col("grade_level"), "grade_level"),
        named(col("risk_tier"), "risk_tier"),
        named(col("risk_score"), "risk_score"),
        named(col("credit_recovery_candidate"), "candidate"),
    ])
}

/// Tier as a number (low 0, medium 1, high 2) for "up" and "down".
fn tier_level(column: &str) -> Expr {
    when(col(column).eq(lit("high")))
        .then(lit(2))
        .when(col(column).eq(lit("medium")))
        .then(lit(1))
        .otherwise(lit(0))
}

/// Compares the current feed with the feed of `previous` (a run folder); the rows of
/// changes.csv, ranked by category then student_id, and the counts.
///
/// The two runs must have written the same student ids (`ids`): a plain run is never compared
/// with a pseudonymised one, nor pseudonyms under one key with another's.
pub fn compare(
    current: &DataFrame,
    previous: &Path,
    ids: &StudentIds,
) -> Result<(DataFrame, ChangeCounts)> {
    let theirs = run_ids(previous);
    if !ids.comparable(&theirs) {
        return Err(EwsError::BadFile {
            path: previous.to_path_buf(),
            message: format!(
                "cannot be compared: written with {}, this run with {}",
                theirs.describe(),
                ids.describe()
            ),
        });
    }
    let path = previous.join("students.parquet");
    let unreadable = |e: PolarsError| EwsError::BadFile {
        path: path.clone(),
        message: format!("the previous run's feed cannot be compared: {e}"),
    };
    let file = std::fs::File::open(&path).map_err(|e| EwsError::io(&path, e))?;
    let before = ParquetReader::new(file).finish().map_err(unreadable)?;
    let version = before
        .column("schema_version")
        .ok()
        .and_then(|c| c.i32().ok().and_then(|v| v.get(0)));
    if version != Some(crate::io::folders::FEED_SCHEMA_VERSION as i32) {
        return Err(EwsError::BadFile {
            path,
            message: format!(
                "feed schema version {version:?}, expected {}; pass --previous with a run of this ews version",
                crate::io::folders::FEED_SCHEMA_VERSION
            ),
        });
    }
    let previous_as_of = before
        .column("as_of")?
        .date()?
        .as_date_iter()
        .next()
        .flatten()
        .unwrap_or_default();

    let has_hold = |frame: &DataFrame| frame.column("decision_in_force").is_ok();
    let now = comparable(current.clone().lazy(), "", has_hold(current));
    let then = comparable(before.clone().lazy(), "_before", has_hold(&before));
    let joined = now.join(
        then,
        [col("student_id")],
        [col("student_id")],
        JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
    );
    let is_now = col("risk_tier").is_not_null();
    let was = col("risk_tier_before").is_not_null();
    let candidate = col("candidate").fill_null(lit(false));
    let candidate_before = col("candidate_before").fill_null(lit(false));
    // A candidate a not_appropriate or declined decision holds off is no new candidate; one
    // whose decision stopped holding since (the risk rose, or the days passed) is.
    let held = col("held").fill_null(lit(false));
    let held_before = col("held_before").fill_null(lit(false));
    let change = when(was.clone().and(is_now.clone().not()))
        .then(lit(CATEGORIES[0]))
        .when(
            candidate
                .clone()
                .and(candidate_before.clone().not().or(held_before))
                .and(held.not()),
        )
        .then(lit(CATEGORIES[1]))
        .when(candidate_before.and(candidate.not()).and(is_now.clone()))
        .then(lit(CATEGORIES[2]))
        .when(
            was.clone()
                .and(tier_level("risk_tier").gt(tier_level("risk_tier_before"))),
        )
        .then(lit(CATEGORIES[3]))
        .when(was.and(tier_level("risk_tier").lt(tier_level("risk_tier_before"))))
        .then(lit(CATEGORIES[4]))
        .otherwise(lit(NULL).cast(DataType::String));
    let order =
        CATEGORIES
            .iter()
            .enumerate()
            .fold(lit(NULL).cast(DataType::Int32), |others, (i, c)| {
                when(col("change").eq(lit(*c)))
                    .then(lit(i as i32))
                    .otherwise(others)
            });
    let either = |name: &str| {
        col(name)
            .fill_null(col(format!("{name}_before").as_str()))
            .alias(name)
    };
    // A pseudonymised changes.csv holds no name, whatever the feeds hold.
    let name = |name: &str| match ids.pseudonymized {
        true => lit(NULL).cast(DataType::String).alias(name),
        false => either(name),
    };
    let rows = joined
        .with_column(change.alias("change"))
        .filter(col("change").is_not_null())
        .with_column(order.alias("__order"))
        .sort(["__order", "student_id"], Default::default())
        .select([
            col("student_id"),
            name("first_name"),
            name("last_name"),
            either("school_id"),
            either("grade_level"),
            col("change"),
            col("risk_tier_before").alias("previous_tier"),
            col("risk_tier").alias("current_tier"),
            col("risk_score_before").alias("previous_risk"),
            col("risk_score").alias("current_risk"),
            lit(previous_as_of.to_string()).alias("previous_as_of"),
        ])
        .collect()?;
    let changes = rows.column("change")?.str()?;
    let count = |c: &str| changes.iter().filter(|v| *v == Some(c)).count();
    let counts = ChangeCounts {
        previous_run: previous.display().to_string(),
        previous_as_of,
        left_the_district: count(CATEGORIES[0]),
        new_candidate: count(CATEGORIES[1]),
        no_longer_candidate: count(CATEGORIES[2]),
        tier_up: count(CATEGORIES[3]),
        tier_down: count(CATEGORIES[4]),
    };
    Ok((rows, counts))
}

/// student_id → change, from the rows of changes.csv.
pub fn by_student(rows: &DataFrame) -> Result<std::collections::HashMap<String, String>> {
    let ids = rows.column("student_id")?.str()?;
    let changes = rows.column("change")?.str()?;
    Ok(ids
        .iter()
        .zip(changes.iter())
        .filter_map(|(id, change)| Some((id?.to_string(), change?.to_string())))
        .collect())
}

/// Writes changes.csv (formula-like text neutralised).
pub fn write_csv(path: &Path, rows: &DataFrame) -> Result<()> {
    crate::io::text::write_safe_csv(path, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feed with the columns the comparison reads.
    fn feed(rows: &[(&str, &str, f64, bool, f64)], as_of: &str) -> DataFrame {
        let ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let n = rows.len();
        let frame = DataFrame::new_infer_height(vec![
            Column::new(
                "schema_version".into(),
                vec![crate::io::folders::FEED_SCHEMA_VERSION as i32; n],
            ),
            Column::new("student_id".into(), ids.clone()),
            Column::new("first_name".into(), ids.clone()),
            Column::new("last_name".into(), vec!["X"; n]),
            Column::new("school_id".into(), vec!["001"; n]),
            Column::new("grade_level".into(), vec![10i32; n]),
            Column::new(
                "risk_tier".into(),
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            ),
            Column::new(
                "risk_score".into(),
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
            Column::new(
                "credit_recovery_candidate".into(),
                rows.iter().map(|r| r.3 || r.4 > 0.0).collect::<Vec<_>>(),
            ),
            Column::new("as_of".into(), vec![as_of; n]),
        ])
        .unwrap();
        frame
            .lazy()
            .with_column(col("as_of").str().to_date(StrptimeOptions::default()))
            .collect()
            .unwrap()
    }

    /// `feed` with `decision_in_force` for each row, in order.
    fn with_holds(frame: DataFrame, holds: &[bool]) -> DataFrame {
        let mut frame = frame;
        frame
            .with_column(Column::new("decision_in_force".into(), holds.to_vec()))
            .unwrap();
        frame
    }

    /// The change of each student between two feeds.
    fn changes_between(previous: &DataFrame, current: &DataFrame) -> Vec<(String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let mut file = std::fs::File::create(dir.path().join("students.parquet")).unwrap();
        ParquetWriter::new(&mut file)
            .finish(&mut previous.clone())
            .unwrap();
        let (rows, _) = compare(current, dir.path(), &StudentIds::of(None)).unwrap();
        let ids = rows.column("student_id").unwrap().str().unwrap().clone();
        let changes = rows.column("change").unwrap().str().unwrap().clone();
        ids.iter()
            .zip(changes.iter())
            .map(|(id, change)| (id.unwrap().to_string(), change.unwrap().to_string()))
            .collect()
    }

    #[test]
    fn a_held_decision_keeps_a_candidate_from_being_new_until_it_stops_holding() {
        // P and Q become candidates; a not_appropriate decision holds P.
        let night1 = feed(
            &[
                ("P", "low", 0.20, false, 0.0),
                ("Q", "low", 0.20, false, 0.0),
            ],
            "2026-03-02",
        );
        let night2 = with_holds(
            feed(
                &[
                    ("P", "low", 0.22, false, 1.0),
                    ("Q", "low", 0.22, false, 1.0),
                ],
                "2026-03-03",
            ),
            &[true, false],
        );
        let pair = |id: &str, change: &str| (id.to_string(), change.to_string());
        assert_eq!(
            changes_between(&night1, &night2),
            [pair("Q", "new_candidate")]
        );
        // Still held: nothing to report.
        let night3 = with_holds(
            feed(
                &[
                    ("P", "low", 0.24, false, 1.0),
                    ("Q", "low", 0.22, false, 1.0),
                ],
                "2026-03-04",
            ),
            &[true, false],
        );
        assert!(changes_between(&night2, &night3).is_empty());
        // The risk rose past the reopening margin: the decision stops holding, and P is a new
        // candidate again, though a candidate the night before too.
        let night4 = with_holds(
            feed(
                &[
                    ("P", "medium", 0.33, false, 1.0),
                    ("Q", "low", 0.22, false, 1.0),
                ],
                "2026-03-05",
            ),
            &[false, false],
        );
        assert_eq!(
            changes_between(&night3, &night4),
            [pair("P", "new_candidate")]
        );
    }

    #[test]
    fn movements_by_hand() {
        let previous = feed(
            &[
                ("A", "low", 0.2, false, 0.0),
                ("B", "high", 0.6, true, 0.0),
                ("C", "medium", 0.3, true, 0.0),
                ("D", "high", 0.7, true, 0.0),
                ("E", "medium", 0.3, true, 0.0),
                ("F", "low", 0.1, false, 0.0),
                ("H", "low", 0.1, false, 1.0),
            ],
            "2026-02-13",
        );
        let current = feed(
            &[
                ("A", "medium", 0.3, true, 0.0), // new candidate (and tier up)
                ("B", "low", 0.1, false, 0.0),   // no longer a candidate
                ("C", "high", 0.6, true, 0.0),   // tier up
                ("D", "medium", 0.4, true, 0.0), // tier down
                ("F", "low", 0.12, false, 0.0),  // unchanged
                ("G", "low", 0.1, false, 2.0),   // new student with a credit deficit
                ("H", "low", 0.1, false, 1.0),   // still a candidate by deficit
            ],
            "2026-03-13",
        );
        let dir = tempfile::tempdir().unwrap();
        let mut file = std::fs::File::create(dir.path().join("students.parquet")).unwrap();
        ParquetWriter::new(&mut file)
            .finish(&mut previous.clone())
            .unwrap();
        let (rows, counts) = compare(&current, dir.path(), &StudentIds::of(None)).unwrap();
        let pairs: Vec<(String, String)> = rows
            .column("student_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .zip(rows.column("change").unwrap().str().unwrap().iter())
            .map(|(id, change)| (id.unwrap().to_string(), change.unwrap().to_string()))
            .collect();
        let expected = [
            ("E", "left_the_district"),
            ("A", "new_candidate"),
            ("G", "new_candidate"),
            ("B", "no_longer_candidate"),
            ("C", "tier_up"),
            ("D", "tier_down"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(pairs, expected);
        assert_eq!(
            (
                counts.left_the_district,
                counts.new_candidate,
                counts.no_longer_candidate,
                counts.tier_up,
                counts.tier_down
            ),
            (1, 2, 1, 1, 1)
        );
        assert_eq!(counts.previous_as_of.to_string(), "2026-02-13");
        // The student who left keeps the name of the previous run.
        let first = rows.column("first_name").unwrap().str().unwrap().get(0);
        assert_eq!(first, Some("E"));
    }

    #[test]
    fn the_most_recent_earlier_run_is_found() {
        let out = tempfile::tempdir().unwrap();
        let key = b"0123456789abcdef";
        let runs = [
            ("2026-02-13", StudentIds::of(None)),
            ("2026-02-20", StudentIds::of(Some(key))),
            ("2026-03-01", StudentIds::of(None)),
            ("2026-03-06", StudentIds::of(Some(b"another key, 16+"))),
            ("2026-03-13", StudentIds::of(None)),
            ("notes", StudentIds::of(None)),
        ];
        for (name, ids) in &runs {
            let dir = out.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("students.parquet"), "").unwrap();
            let manifest = serde_json::json!({ "student_ids": ids });
            std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
        }
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 13).unwrap();
        let plain = StudentIds::of(None);
        assert_eq!(
            previous_run(out.path(), as_of, &plain),
            Some(out.path().join("2026-03-01"))
        );
        // A pseudonymised run compares with the latest run under its own key only.
        assert_eq!(
            previous_run(out.path(), as_of, &StudentIds::of(Some(key))),
            Some(out.path().join("2026-02-20"))
        );
        assert_eq!(
            previous_run(
                out.path(),
                as_of,
                &StudentIds::of(Some(b"a third key 16 b"))
            ),
            None
        );
        let first = NaiveDate::from_ymd_opt(2026, 2, 13).unwrap();
        assert_eq!(previous_run(out.path(), first, &plain), None);
    }
}
