//! Counselor files: `schools/<school_id>.csv`, one per school, with the school's
//! credit-recovery candidates only, ranked by risk, in the order a counselor reads a row: who,
//! how likely and why, then the numbers, then what to do (courses to recover, courses at risk
//! this year). Every text cell is safe to open in a spreadsheet.
//!
//! A candidate is a student at or above the referral tier (risk ≥ `tiers.medium`) or with a
//! positive credit deficit. With `recovery.seats_by_school`, the first candidates up to the
//! school's seats are `within_capacity`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;

use crate::config::Config;
use crate::error::{EwsError, Result};
use crate::output::{number, spreadsheet_safe};
use crate::recovery::Plan;
use crate::score::{in_rank_order, ScoredStudent};

/// Columns of a counselor file, in order.
pub const COLUMNS: [&str; 22] = [
    "rank",
    "last_name",
    "first_name",
    "student_id",
    "grade_level",
    "counselor",
    "risk_percent",
    "risk_tier",
    "reasons",
    "attendance_percent",
    "gpa",
    "credits_earned",
    "credits_expected",
    "credit_deficit",
    "courses_to_recover",
    "courses_at_risk",
    "change_since_last_run",
    "within_capacity",
    "credits_by_subject",
    "projected_credits",
    "projected_credit_deficit",
    "on_time_reachable",
];

/// Writes `dir/schools/<school_id>.csv` for every school with a student; returns the number
/// of candidates per school. `changes` maps student_id to its change since the last run.
pub fn write_school_files(
    dir: &Path,
    table: &DataFrame,
    scored: &[ScoredStudent],
    plans: &[Plan],
    changes: &HashMap<String, String>,
    config: &Config,
) -> Result<BTreeMap<String, usize>> {
    let schools_dir = dir.join("schools");
    std::fs::create_dir_all(&schools_dir).map_err(|e| EwsError::io(&schools_dir, e))?;
    let ranked = in_rank_order(
        table,
        scored,
        &[
            "student_id",
            "last_name",
            "first_name",
            "school_id",
            "counselor",
            "grade_level",
            "attendance_rate",
            "gpa",
            "credits_earned",
            "credit_deficit",
        ],
    )?;
    let text = |name: &str| -> Result<&StringChunked> { Ok(ranked.column(name)?.str()?) };
    let number_column = |name: &str| -> Result<&Float64Chunked> { Ok(ranked.column(name)?.f64()?) };
    let (ids, last, first, school, counselor) = (
        text("student_id")?,
        text("last_name")?,
        text("first_name")?,
        text("school_id")?,
        text("counselor")?,
    );
    let grades = ranked.column("grade_level")?.i32()?;
    let (attendance, gpa, earned, deficit) = (
        number_column("attendance_rate")?,
        number_column("gpa")?,
        number_column("credits_earned")?,
        number_column("credit_deficit")?,
    );

    // Rows per school, in rank order (scored is ranked).
    let mut rows: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (i, s) in scored.iter().enumerate() {
        let school_id = school.get(i).unwrap_or("").to_string();
        let list = rows.entry(school_id.clone()).or_default();
        if !crate::recovery::is_candidate(s.risk, deficit.get(i), config) {
            continue;
        }
        let rank = list.len() + 1;
        let within = match config.recovery.seats_by_school.get(&school_id) {
            Some(seats) => rank <= *seats,
            None => true,
        };
        let id = ids.get(i).unwrap_or("");
        let plan = &plans[s.row];
        let grade = grades.get(i);
        let cells = vec![
            rank.to_string(),
            last.get(i).unwrap_or("").to_string(),
            first.get(i).unwrap_or("").to_string(),
            id.to_string(),
            grade.map(|g| g.to_string()).unwrap_or_default(),
            counselor.get(i).unwrap_or("").to_string(),
            format!("{:.0}", s.risk * 100.0),
            s.tier.as_str().to_string(),
            s.reasons.join("; "),
            number(attendance.get(i).map(|a| a * 100.0), 0),
            number(gpa.get(i), 2),
            number(earned.get(i), 1),
            number(Some(plan.credits_expected_now), 1),
            number(Some(plan.credit_deficit_now), 1),
            plan.courses_to_recover.join("; "),
            plan.courses_at_risk.join("; "),
            changes.get(id).cloned().unwrap_or_default(),
            if within { "yes" } else { "no" }.to_string(),
            plan.credits_by_subject.clone(),
            number(Some(plan.projected_credits), 1),
            number(Some(plan.projected_deficit), 1),
            if plan.on_time_reachable { "yes" } else { "no" }.to_string(),
        ];
        list.push(cells);
    }
    let mut counts = BTreeMap::new();
    for (school_id, list) in &rows {
        // The school id names a file: keep it to safe characters.
        let name: String = school_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = schools_dir.join(format!("{name}.csv"));
        let io = |e: csv::Error| EwsError::io(&path, std::io::Error::other(e));
        let mut writer = csv::Writer::from_path(&path).map_err(io)?;
        writer.write_record(COLUMNS).map_err(io)?;
        for cells in list {
            writer
                .write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))
                .map_err(io)?;
        }
        writer.flush().map_err(|e| EwsError::io(&path, e))?;
        counts.insert(school_id.clone(), list.len());
    }
    Ok(counts)
}
