//! The dashboard feed: every scored student with every feature, the score, tier, ranks and
//! flags (students.parquet and students.csv), and counts per school × grade × tier
//! (summary.json). Dashboards read these files unattended, so their layout is a contract:
//! docs/output-schema.md documents every column, and [`crate::io::folders::FEED_SCHEMA_VERSION`] is written into
//! every file and raised whenever a column is renamed, removed or changes type (adding a
//! column at the end does not raise it).

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::features::FEATURES;
use crate::io::error::{EwsError, Result};
use crate::model::score::{ScoredStudent, Tier};

/// The columns before the student columns and features, in order.
pub const LEADING_COLUMNS: [&str; 2] = ["schema_version", "as_of"];

/// The columns after the features, in order.
pub const TRAILING_COLUMNS: [&str; 19] = [
    "risk_score",
    "risk_tier",
    "rank_in_school",
    "rank_in_district",
    "flagged_at_risk",
    "freshman_off_track",
    "abc_any_flag",
    "reason_1",
    "reason_2",
    "reason_3",
    "credit_recovery_candidate",
    "prevention_candidate",
    "credits_expected_now",
    "credits_to_recover",
    "projected_credits",
    "projected_credit_deficit",
    "on_time_reachable",
    "credits_needed",
    "reachable_with_recovery",
];

/// Every column of the student feed, in order: [`LEADING_COLUMNS`], the student columns of
/// the feature table, the features of schema 1, [`TRAILING_COLUMNS`], then the features added
/// since (so the layout only grows at its end).
pub fn columns() -> Vec<&'static str> {
    let mut columns: Vec<&str> = LEADING_COLUMNS.to_vec();
    columns.extend(crate::features::STUDENT_COLUMNS);
    columns.extend(
        FEATURES
            .iter()
            .filter(|f| !f.appended_to_feed)
            .map(|f| f.name),
    );
    columns.extend(TRAILING_COLUMNS);
    columns.extend(
        FEATURES
            .iter()
            .filter(|f| f.appended_to_feed)
            .map(|f| f.name),
    );
    columns.extend(LOOP_COLUMNS);
    columns
}

/// The columns of what the district does for a student (supports, counselors' decisions) and
/// of the follow-up from night to night ([`crate::outputs::follow_up`]), after everything else.
/// `decision_reason` is free text: empty in a pseudonymized feed.
pub const LOOP_COLUMNS: [&str; 11] = [
    "current_supports",
    "decision_status",
    "decision_date",
    "decision_reason",
    "decision_in_force",
    "unserved",
    "school_days_needing_attention",
    "risk_30_school_days_ago",
    "risk_90_school_days_ago",
    "school_days_since_first_flagged",
    "tier_pending",
];

/// The student feed: one row per student, sorted by student_id, columns as [`columns`].
pub fn student_frame(
    table: &DataFrame,
    scored: &[ScoredStudent],
    plans: &[crate::outputs::recovery::Plan],
    supports: &crate::features::supports::Supports,
    follow: &crate::outputs::follow_up::FollowUp,
    as_of: chrono::NaiveDate,
) -> Result<DataFrame> {
    let n = table.height();
    let mut risk = vec![f64::NAN; n];
    let mut tier = vec![""; n];
    let mut stable = vec![crate::model::score::Tier::Low; n];
    let mut rank_in_school = vec![0u32; n];
    let mut rank_in_district = vec![0u32; n];
    let mut reasons: [Vec<Option<&str>>; 3] = std::array::from_fn(|_| vec![None; n]);
    for s in scored {
        risk[s.row] = s.risk;
        tier[s.row] = s.tier.as_str();
        stable[s.row] = s.tier;
        rank_in_school[s.row] = s.rank_in_school as u32;
        rank_in_district[s.row] = s.rank_in_district as u32;
        for (k, reason) in s.reasons.iter().take(3).enumerate() {
            reasons[k][s.row] = Some(&**reason);
        }
    }
    let indicators = crate::model::evaluate::indicators(table)?;
    let flag = |name: &str, values: &[f64]| {
        Column::new(
            name.into(),
            values.iter().map(|v| *v > 0.0).collect::<Vec<bool>>(),
        )
    };
    let [reason_1, reason_2, reason_3] = reasons;
    let scores = DataFrame::new_infer_height(vec![
        Column::new("risk_score".into(), risk.clone()),
        Column::new("risk_tier".into(), tier),
        Column::new("rank_in_school".into(), rank_in_school),
        Column::new("rank_in_district".into(), rank_in_district),
        Column::new(
            "flagged_at_risk".into(),
            stable
                .iter()
                .map(|t| *t != crate::model::score::Tier::Low)
                .collect::<Vec<bool>>(),
        ),
        flag("freshman_off_track", &indicators[0].1),
        flag("abc_any_flag", &indicators[1].1),
        Column::new("reason_1".into(), reason_1),
        Column::new("reason_2".into(), reason_2),
        Column::new("reason_3".into(), reason_3),
    ])?;
    let plan_columns = DataFrame::new_infer_height(vec![
        Column::new(
            "credit_recovery_candidate".into(),
            plans
                .iter()
                .map(crate::outputs::recovery::is_candidate)
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "prevention_candidate".into(),
            (0..n)
                .map(|r| crate::outputs::recovery::is_prevention(stable[r], &plans[r]))
                .collect::<Vec<bool>>(),
        ),
        // credits_expected_now comes from the feature table (features::CREDIT_PROGRESS_COLUMNS).
        Column::new(
            "credits_to_recover".into(),
            plans
                .iter()
                .map(|p| p.credits_to_recover)
                .collect::<Vec<f64>>(),
        ),
        Column::new(
            "projected_credits".into(),
            plans
                .iter()
                .map(|p| p.projected_credits)
                .collect::<Vec<f64>>(),
        ),
        Column::new(
            "projected_credit_deficit".into(),
            plans
                .iter()
                .map(|p| p.projected_deficit)
                .collect::<Vec<f64>>(),
        ),
        Column::new(
            "on_time_reachable".into(),
            plans
                .iter()
                .map(|p| p.on_time_reachable)
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "credits_needed".into(),
            plans.iter().map(|p| p.credits_needed).collect::<Vec<f64>>(),
        ),
        Column::new(
            "reachable_with_recovery".into(),
            plans
                .iter()
                .map(|p| p.reachable_with_recovery)
                .collect::<Vec<bool>>(),
        ),
    ])?;
    let decision = |row: usize| supports.decisions.get(&row);
    let loop_columns = DataFrame::new_infer_height(vec![
        Column::new(
            "current_supports".into(),
            (0..n)
                .map(|r| supports.current.get(&r).cloned())
                .collect::<Vec<Option<String>>>(),
        ),
        Column::new(
            "decision_status".into(),
            (0..n)
                .map(|r| decision(r).map(|d| d.status.clone()))
                .collect::<Vec<Option<String>>>(),
        ),
        Column::new(
            "decision_date".into(),
            (0..n)
                .map(|r| decision(r).map(|d| d.date))
                .collect::<Vec<Option<chrono::NaiveDate>>>(),
        ),
        Column::new(
            "decision_reason".into(),
            (0..n)
                .map(|r| decision(r).and_then(|d| d.reason.clone()))
                .collect::<Vec<Option<String>>>(),
        ),
        Column::new("decision_in_force".into(), follow.decision_holds.clone()),
        Column::new("unserved".into(), follow.unserved.clone()),
        Column::new(
            "school_days_needing_attention".into(),
            (0..n)
                .map(|r| follow.attention_since[r].map(|_| follow.days_needing[r] as u32))
                .collect::<Vec<Option<u32>>>(),
        ),
        Column::new(
            "risk_30_school_days_ago".into(),
            follow.risk_back[0].clone(),
        ),
        Column::new(
            "risk_90_school_days_ago".into(),
            follow.risk_back[1].clone(),
        ),
        Column::new(
            "school_days_since_first_flagged".into(),
            follow
                .days_flagged
                .iter()
                .map(|d| d.map(|d| d as u32))
                .collect::<Vec<Option<u32>>>(),
        ),
        Column::new(
            "tier_pending".into(),
            follow
                .pending
                .iter()
                .map(|p| p.map(|(t, _)| t.as_str()))
                .collect::<Vec<Option<&str>>>(),
        ),
    ])?;
    let scores = scores
        .hstack(plan_columns.columns())?
        .hstack(loop_columns.columns())?;
    // The feature table is sorted by student_id already: sorting it again gathered every
    // column into a copy (the feed's whole frame, held while it was written).
    let in_id_order = sorted_by_id(table)?;
    let frame = table
        .hstack(scores.columns())?
        .lazy()
        .with_columns([
            lit(crate::io::folders::FEED_SCHEMA_VERSION as i32)
                .cast(DataType::Int32)
                .alias("schema_version"),
            lit(as_of.to_string())
                .str()
                .to_date(StrptimeOptions {
                    format: Some(crate::contract::DATE_FORMAT.into()),
                    ..Default::default()
                })
                .alias("as_of"),
        ])
        .select(columns().into_iter().map(col).collect::<Vec<_>>());
    let frame = match in_id_order {
        true => frame,
        false => frame.sort(["student_id"], Default::default()),
    };
    Ok(frame.collect()?)
}

/// Whether the table's rows are in student_id order (nulls first), as the feed lists them.
fn sorted_by_id(table: &DataFrame) -> Result<bool> {
    let mut previous: Option<&str> = None;
    Ok(table.column("student_id")?.str()?.iter().all(|id| {
        let in_order = previous <= id;
        previous = id;
        in_order
    }))
}

/// Writes students.parquet (typed) and students.csv (the same columns; text cells a
/// spreadsheet would run as a formula get a leading apostrophe).
pub fn write_students(dir: &Path, frame: &DataFrame) -> Result<()> {
    // The two files side by side: each writer mostly keeps one core busy.
    let (parquet, csv) = rayon::join(
        || -> Result<()> {
            // Encoded in memory (35 MB at a million students), then written: polars reports a
            // failed write inside its Parquet writer as a malformed file, not as the disk's
            // error.
            let parquet = dir.join("students.parquet");
            let mut bytes = Vec::new();
            ParquetWriter::new(&mut bytes).finish(&mut frame.clone())?;
            std::fs::write(&parquet, bytes).map_err(|e| EwsError::io(&parquet, e))
        },
        || crate::io::text::write_safe_csv(&dir.join("students.csv"), frame),
    );
    parquet.and(csv)
}

/// summary.json: counts per school × grade × tier.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub as_of: chrono::NaiveDate,
    pub students: usize,
    pub tiers: TierCounts,
    pub schools: Vec<SchoolSummary>,
    /// Changes since the previous run (null when there is none to compare with).
    pub changes: Option<crate::outputs::changes::ChangeCounts>,
    /// Whether the feed's student ids are pseudonyms, and under which key (its fingerprint).
    pub student_ids: Option<crate::outputs::pseudonym::StudentIds>,
    /// The use of each `[recovery.seats]` offering (absent without them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovery_seats: Vec<SeatSummary>,
    /// Supports, decisions and the unserved list ([`follow_up_summary`]).
    pub follow_up: Option<FollowUpSummary>,
}

/// summary.json's follow-up counts: students with a current support, with a counselor's
/// decision, held off by one (`not_appropriate` or `declined`), and on the unserved list, in
/// all and by school ([`SchoolFollowUp`]).
#[derive(Debug, Serialize)]
pub struct FollowUpSummary {
    /// Whether the snapshot has interventions.csv: without it, supports and recovery courses
    /// are unknown (null), never zero.
    pub supports_known: bool,
    pub with_current_support: usize,
    pub with_decision: usize,
    pub decision_in_force: usize,
    pub unserved: usize,
    /// Students a counselor marked `enrolled` with no support in interventions.csv this school
    /// year (given or planned): the enrolment the support records do not show yet.
    pub enrolled_without_support: usize,
    /// Nights of the run history read (0 on a first run).
    pub history_nights_read: usize,
    pub schools: Vec<SchoolFollowUp>,
}

/// One school's follow-up in summary.json: its students needing attention (medium or high
/// tier, or something to recover), those of them with a current support (served) and on the
/// unserved list, and this school year's credit-recovery courses (interventions.csv) started,
/// completed and the credits recovered. A count of 1 to `equity.min_group_size` − 1 is null,
/// with `"suppressed": true`, and so is a share built on one.
#[derive(Debug, Serialize)]
pub struct SchoolFollowUp {
    pub school_id: String,
    pub needing_attention: Option<usize>,
    pub served: Option<usize>,
    /// served ÷ needing_attention.
    pub served_share: Option<f64>,
    pub unserved: Option<usize>,
    pub recovery_courses_started: Option<usize>,
    pub recovery_courses_completed: Option<usize>,
    /// completed ÷ started.
    pub recovery_completion: Option<f64>,
    /// `credits_recovered` of the completed courses (null with their count).
    pub credits_recovered: Option<f64>,
    pub suppressed: bool,
}

/// The [`FollowUpSummary`] of a run.
pub fn follow_up_summary(
    table: &DataFrame,
    supports: &crate::features::supports::Supports,
    follow: &crate::outputs::follow_up::FollowUp,
    min_cell: usize,
) -> Result<FollowUpSummary> {
    #[derive(Default)]
    struct Counts {
        needing: usize,
        served: usize,
        unserved: usize,
        started: usize,
        completed: usize,
        credits: f64,
    }
    let schools = table.column("school_id")?.str()?;
    let mut by_school: std::collections::BTreeMap<String, Counts> = Default::default();
    for (row, school) in schools.iter().enumerate() {
        let counts = by_school
            .entry(school.unwrap_or("").to_string())
            .or_default();
        if follow.attention_since[row].is_some() {
            counts.needing += 1;
            counts.served += usize::from(supports.current.contains_key(&row));
        }
        counts.unserved += usize::from(follow.unserved[row]);
        if let Some(courses) = supports.recovery.get(&row) {
            counts.started += courses.started;
            counts.completed += courses.completed;
            counts.credits += courses.credits_recovered;
        }
    }
    let shown = |n: usize| (n == 0 || n >= min_cell).then_some(n);
    let known = supports.interventions_read;
    // Counts of supports: unknown without interventions.csv.
    let supported = |n: usize| if known { shown(n) } else { None };
    let share = |part: Option<usize>, whole: Option<usize>| match (part, whole) {
        (Some(part), Some(whole)) if whole > 0 => Some(part as f64 / whole as f64),
        _ => None,
    };
    let schools = by_school
        .into_iter()
        .map(|(school_id, c)| {
            let (needing, served, unserved) =
                (shown(c.needing), supported(c.served), shown(c.unserved));
            let (started, completed) = (supported(c.started), supported(c.completed));
            SchoolFollowUp {
                school_id,
                needing_attention: needing,
                served,
                served_share: share(served, needing),
                unserved,
                recovery_courses_started: started,
                recovery_courses_completed: completed,
                recovery_completion: share(completed, started),
                credits_recovered: completed.map(|_| c.credits),
                suppressed: [c.needing, c.served, c.unserved, c.started, c.completed]
                    .iter()
                    .any(|&n| n > 0 && n < min_cell),
            }
        })
        .collect();
    Ok(FollowUpSummary {
        supports_known: known,
        with_current_support: supports.current.len(),
        with_decision: supports.decisions.len(),
        decision_in_force: follow.decision_holds.iter().filter(|h| **h).count(),
        unserved: follow.unserved.iter().filter(|u| **u).count(),
        enrolled_without_support: supports
            .decisions
            .iter()
            .filter(|(row, d)| {
                d.status == "enrolled"
                    && !supports.received.contains_key(row)
                    && !supports.planned.contains(row)
            })
            .count(),
        history_nights_read: follow.nights_read,
        schools,
    })
}

/// One `[recovery.seats]` offering in summary.json: its seats, and the candidates given one
/// and wanting one, suppressed (null) when fewer than `equity.min_group_size` but not none.
#[derive(Debug, Serialize)]
pub struct SeatSummary {
    pub name: String,
    /// Its school; null for all schools.
    pub school_id: Option<String>,
    /// "S2 2026", "summer 2026".
    pub session: String,
    /// Whether its session ended before the as-of date (none of its seats given).
    pub ended: bool,
    pub seats: usize,
    pub given: Option<usize>,
    pub wanting: Option<usize>,
    pub suppressed: bool,
}

/// summary.json's [`SeatSummary`] of a run's offerings.
pub fn seat_summary(
    offerings: &[crate::outputs::recovery::OfferingUse],
    min_cell: usize,
) -> Vec<SeatSummary> {
    let small = |n: usize| n > 0 && n < min_cell;
    offerings
        .iter()
        .map(|o| SeatSummary {
            name: o.name.clone(),
            school_id: o.school_id.clone(),
            session: o.session.clone(),
            ended: o.ended,
            seats: o.seats,
            given: (!small(o.given)).then_some(o.given),
            wanting: (!small(o.wanting)).then_some(o.wanting),
            suppressed: small(o.given) || small(o.wanting),
        })
        .collect()
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct TierCounts {
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl TierCounts {
    fn add(&mut self, tier: Tier) {
        match tier {
            Tier::High => self.high += 1,
            Tier::Medium => self.medium += 1,
            Tier::Low => self.low += 1,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SchoolSummary {
    pub school_id: String,
    pub school_name: Option<String>,
    /// Null, with the tiers, for a school with fewer students than `equity.min_group_size`.
    pub students: Option<usize>,
    pub tiers: Option<TierCounts>,
    pub suppressed: bool,
    pub grades: Vec<GradeSummary>,
}

#[derive(Debug, Serialize)]
pub struct GradeSummary {
    pub grade_level: i32,
    /// Null, with the tiers, when fewer students than `equity.min_group_size`: a count of a
    /// handful of students in a published aggregate can identify them.
    pub students: Option<usize>,
    pub tiers: Option<TierCounts>,
    pub suppressed: bool,
}

/// Counts of the scored students per school, grade and tier (schools by id, grades ascending).
pub fn summary(
    table: &DataFrame,
    scored: &[ScoredStudent],
    as_of: chrono::NaiveDate,
    min_cell: usize,
) -> Result<Summary> {
    let school_ids = table.column("school_id")?.str()?;
    let school_names = table.column("school_name")?.str()?;
    let grades = table.column("grade_level")?.i32()?;
    let mut tiers = TierCounts::default();
    let mut schools: BTreeMap<String, (Option<String>, BTreeMap<i32, TierCounts>)> =
        BTreeMap::new();
    for s in scored {
        tiers.add(s.tier);
        let school = school_ids.get(s.row).unwrap_or("").to_string();
        let entry = schools
            .entry(school)
            .or_insert_with(|| (school_names.get(s.row).map(str::to_string), BTreeMap::new()));
        entry
            .1
            .entry(grades.get(s.row).unwrap_or(0))
            .or_default()
            .add(s.tier);
    }
    let total = |t: &TierCounts| t.high + t.medium + t.low;
    Ok(Summary {
        schema_version: crate::io::folders::FEED_SCHEMA_VERSION,
        as_of,
        students: scored.len(),
        tiers,
        changes: None,
        student_ids: None,
        recovery_seats: Vec::new(),
        follow_up: None,
        schools: schools
            .into_iter()
            .map(|(school_id, (school_name, grades))| {
                let mut school_tiers = TierCounts::default();
                for t in grades.values() {
                    school_tiers.high += t.high;
                    school_tiers.medium += t.medium;
                    school_tiers.low += t.low;
                }
                SchoolSummary {
                    school_id,
                    school_name,
                    students: (total(&school_tiers) >= min_cell).then_some(total(&school_tiers)),
                    suppressed: total(&school_tiers) < min_cell,
                    tiers: (total(&school_tiers) >= min_cell).then_some(school_tiers),
                    grades: grades
                        .into_iter()
                        .map(|(grade_level, tiers)| {
                            let students = total(&tiers);
                            let suppressed = students < min_cell;
                            GradeSummary {
                                grade_level,
                                students: (!suppressed).then_some(students),
                                tiers: (!suppressed).then_some(tiers),
                                suppressed,
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
    })
}

pub fn write_summary(path: &Path, summary: &Summary) -> Result<()> {
    let text = serde_json::to_string_pretty(summary)
        .map_err(|e| EwsError::io(path, std::io::Error::other(e)))?;
    std::fs::write(path, text + "\n").map_err(|e| EwsError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(row: usize, tier: Tier) -> ScoredStudent {
        ScoredStudent {
            row,
            risk: 0.5,
            tier,
            rank_in_district: row + 1,
            rank_in_school: 1,
            reasons: Vec::new(),
            reason_features: Vec::new(),
        }
    }

    #[test]
    fn the_layout_names_each_column_once_with_the_version_first() {
        let columns = columns();
        let unique: std::collections::BTreeSet<&str> = columns.iter().copied().collect();
        assert_eq!(unique.len(), columns.len(), "a column is named twice");
        assert_eq!(&columns[..2], ["schema_version", "as_of"]);
        // The features added since schema 1, then the supports and decisions, come last.
        assert_eq!(&columns[columns.len() - LOOP_COLUMNS.len()..], LOOP_COLUMNS);
        let trailing = columns
            .iter()
            .position(|c| *c == "reachable_with_recovery")
            .unwrap();
        assert!(columns[trailing + 1..columns.len() - LOOP_COLUMNS.len()]
            .iter()
            .all(|c| crate::features::feature(c).is_some_and(|f| f.appended_to_feed)));
        assert!(columns.contains(&"student_id") && columns.contains(&"attendance_rate"));
    }

    #[test]
    fn the_summary_counts_tiers_per_school_and_grade_and_suppresses_small_cells() {
        // School 001: three grade-9 students (2 high, 1 low) and one grade-10 (medium);
        // school 002: one grade-9 student (high). Cells under 2 students are suppressed.
        let table = df!(
            "school_id" => ["001", "001", "001", "001", "002"],
            "school_name" => ["North", "North", "North", "North", "South"],
            "grade_level" => [9i32, 9, 9, 10, 9],
        )
        .unwrap();
        let tiers = [Tier::High, Tier::Low, Tier::High, Tier::Medium, Tier::High];
        let scored: Vec<ScoredStudent> = tiers
            .iter()
            .enumerate()
            .map(|(row, tier)| scored(row, *tier))
            .collect();
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 3, 13).unwrap();
        let summary = summary(&table, &scored, as_of, 2).unwrap();
        assert_eq!(summary.students, 5);
        assert_eq!(
            (summary.tiers.high, summary.tiers.medium, summary.tiers.low),
            (3, 1, 1)
        );
        let north = &summary.schools[0];
        assert_eq!(north.school_id, "001");
        assert_eq!(north.students, Some(4));
        let north_tiers = north.tiers.as_ref().unwrap();
        assert_eq!(
            (north_tiers.high, north_tiers.medium, north_tiers.low),
            (2, 1, 1)
        );
        let grade_9 = &north.grades[0];
        assert_eq!((grade_9.grade_level, grade_9.students), (9, Some(3)));
        assert!(!grade_9.suppressed);
        let grade_10 = &north.grades[1];
        assert_eq!((grade_10.grade_level, grade_10.students), (10, None));
        assert!(grade_10.suppressed && grade_10.tiers.is_none());
        let south = &summary.schools[1];
        assert!(south.suppressed && south.students.is_none() && south.tiers.is_none());
        // The district's totals are never suppressed: they count everyone.
        assert_eq!(
            summary.schema_version,
            crate::io::folders::FEED_SCHEMA_VERSION
        );
    }
}
