//! Following students up from night to night, on the run history
//! ([`crate::outputs::history`]): stable tiers, trends, counselors' decisions that hold, and
//! the unserved list.
//!
//! Each night reads only what it needs, whatever the length of the history: the night before
//! (which carries the state: the published tier and a pending move, since when a student has
//! been flagged and needing attention, the risk when a decision was made), the nights 30 and 90
//! school days back (trends), and, for a decision first seen tonight, the night it was made on.
//!
//! - **Stable tiers.** A student's tier moves at once when the risk is past the threshold by
//!   more than `tiers.hysteresis` (to the tier of the risk shifted back by it); a move within
//!   the margin waits until the raw tier has stayed there for `tiers.confirm_school_days`
//!   school days, counted from the night before it was first seen there (nightly runs: the
//!   fifth night in a row confirms it; after a gap of a week, the first night does). The
//!   first night a student is seen, the tier is the raw one.
//! - **Decisions that hold.** A `not_appropriate` or `declined` decision holds (no new candidate
//!   in changes.csv, not unserved) until the risk has risen by `loop.reopen_risk_increase`
//!   since the decision (the risk of the night it was made on, else of the first night that
//!   knew it), or `loop.reopen_after_school_days` school days have passed.
//! - **Unserved.** Needing attention (at medium or high risk, or with something to recover)
//!   for more than `loop.unserved_school_days` school days, with no current support, no
//!   planned one, and no decision this school year (one that has stopped holding does not
//!   count).
//!
//! School days are the district's (the run's calendar of school days up to the as-of date).

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::features::FeatureRun;
use crate::ingest::columns::texts;
use crate::io::error::Result;
use crate::model::score::{ScoredStudent, Tier};
use crate::outputs::history;
use crate::outputs::recovery::{is_candidate, Plan};

/// Trends look back this many school days.
pub const TREND_SCHOOL_DAYS: [usize; 2] = [30, 90];
/// A night of the history stands for a date up to this many calendar days after it.
const NIGHT_TOLERANCE_DAYS: i64 = 7;
/// Decision statuses that hold a student off the new candidates and the unserved list.
pub const HOLDING_STATUSES: [&str; 2] = ["not_appropriate", "declined"];

/// The follow-up state of every student of the feature table, by row.
#[derive(Debug, Default)]
pub struct FollowUp {
    /// The tier by the thresholds alone, before [`stable tiers`](self).
    pub raw_tier: Vec<Tier>,
    /// A move of the raw tier not yet confirmed, and the night before it was first seen.
    pub pending: Vec<Option<(Tier, NaiveDate)>>,
    /// Risk on the nights [`TREND_SCHOOL_DAYS`] school days back (null: no such night).
    pub risk_back: [Vec<Option<f64>>; 2],
    /// Since when the student has been at medium or high risk without a break, and the school
    /// days since.
    pub flagged_since: Vec<Option<NaiveDate>>,
    pub days_flagged: Vec<Option<usize>>,
    /// Since when the student has needed attention (flagged, or a credit-recovery candidate).
    pub attention_since: Vec<Option<NaiveDate>>,
    /// The risk when the student's latest decision was made.
    pub decision_risk: Vec<Option<f64>>,
    /// A `not_appropriate` or `declined` decision still holds.
    pub decision_holds: Vec<bool>,
    /// On the unserved list, and the school days needing attention.
    pub unserved: Vec<bool>,
    pub days_needing: Vec<usize>,
    /// Nights of the history read (the night before, trend nights, decision nights).
    pub nights_read: usize,
}

/// The previous night's state of a student.
struct Before {
    tier: Option<Tier>,
    pending: Option<(Tier, NaiveDate)>,
    flagged_since: Option<NaiveDate>,
    attention_since: Option<NaiveDate>,
    decision: Option<(String, NaiveDate)>,
    decision_risk: Option<f64>,
}

/// School days of `calendar` after `since`, up to and including `as_of`.
pub fn school_days_between(calendar: &[NaiveDate], since: NaiveDate, as_of: NaiveDate) -> usize {
    calendar
        .iter()
        .filter(|d| **d > since && **d <= as_of)
        .count()
}

/// The tier the risk moves a student to from `stable`, with the hysteresis margin: the tier of
/// the risk shifted back toward `stable` by `margin` (never past `stable`).
pub fn tier_with_margin(risk: f64, stable: Tier, raw: Tier, margin: f64, config: &Config) -> Tier {
    // Tier orders High < Medium < Low: a "greater" tier is a lower risk.
    if raw < stable {
        Tier::of(risk - margin, config).min(stable)
    } else if raw > stable {
        Tier::of(risk + margin, config).max(stable)
    } else {
        stable
    }
}

/// The follow-up of tonight's run: reads the history in `folder`, sets every scored student's
/// tier to the stable one, and returns the state by table row.
pub fn follow_up(
    run: &FeatureRun,
    scored: &mut [ScoredStudent],
    plans: &[Plan],
    history_ids: &[String],
    folder: &Path,
    config: &Config,
) -> Result<FollowUp> {
    let n = run.table.height();
    let as_of = run.as_of;
    let calendar = &run.calendar;
    let mut nights = Nights::of(folder, history_ids)?;
    let mut follow = FollowUp {
        raw_tier: vec![Tier::Low; n],
        pending: vec![None; n],
        risk_back: [vec![None; n], vec![None; n]],
        flagged_since: vec![None; n],
        days_flagged: vec![None; n],
        attention_since: vec![None; n],
        decision_risk: vec![None; n],
        decision_holds: vec![false; n],
        unserved: vec![false; n],
        days_needing: vec![0; n],
        nights_read: 0,
    };
    let mut risk = vec![f64::NAN; n];
    for s in scored.iter() {
        risk[s.row] = s.risk;
        follow.raw_tier[s.row] = s.tier;
    }

    // The night before: the state carried on.
    let mut before: Vec<Option<Before>> = (0..n).map(|_| None).collect();
    let previous = history::previous(&nights.partitions, as_of).cloned();
    let previous_night = previous.as_ref().map(|(date, _)| *date);
    if let Some((_, path)) = &previous {
        let wanted = [
            "student_id",
            "tier",
            "tier_pending",
            "tier_pending_since",
            "flagged_since",
            "attention_since",
            "decision_status",
            "decision_date",
            "decision_risk",
        ];
        if let Some(night) = nights.read(path, &wanted) {
            let rows = nights.rows_of(&night)?;
            let text = |name: &str| -> Result<Vec<Option<&str>>> {
                Ok(texts(night.column(name)?)?.collect())
            };
            let date = |name: &str| -> Result<Vec<Option<NaiveDate>>> {
                Ok(night.column(name)?.date()?.as_date_iter().collect())
            };
            let (tiers, pending, statuses) = (
                text("tier")?,
                text("tier_pending")?,
                text("decision_status")?,
            );
            let (pending_since, flagged, attention, decided) = (
                date("tier_pending_since")?,
                date("flagged_since")?,
                date("attention_since")?,
                date("decision_date")?,
            );
            let decision_risk = night.column("decision_risk")?.f64()?;
            for (k, row) in rows.into_iter().enumerate() {
                let Some(row) = row else {
                    continue;
                };
                before[row] = Some(Before {
                    tier: tiers[k].and_then(Tier::named),
                    pending: pending[k].and_then(Tier::named).zip(pending_since[k]),
                    flagged_since: flagged[k],
                    attention_since: attention[k],
                    decision: statuses[k].map(str::to_string).zip(decided[k]),
                    decision_risk: decision_risk.get(k),
                });
            }
        }
    }

    // Trends: the risk 30 and 90 school days back.
    for (t, back) in TREND_SCHOOL_DAYS.iter().enumerate() {
        let Some(&date) = calendar
            .len()
            .checked_sub(back + 1)
            .and_then(|i| calendar.get(i))
        else {
            continue;
        };
        if let Some(path) = nights.at_or_before(date) {
            if let Some(risks) = nights.risks(&path)? {
                follow.risk_back[t] = risks;
            }
        }
    }

    // Stable tiers.
    let margin = config.tiers.hysteresis;
    let confirm = config.tiers.confirm_school_days.max(1);
    for s in scored.iter_mut() {
        let row = s.row;
        let raw = s.tier;
        let Some(stable) = before[row].as_ref().and_then(|b| b.tier) else {
            continue;
        };
        let moved = tier_with_margin(s.risk, stable, raw, margin, config);
        if moved == raw {
            s.tier = raw;
            continue;
        }
        // The raw tier has been there since the night before it was first seen there (it
        // may have moved on any school day after that night): its school days after it.
        let since = match before[row].as_ref().and_then(|b| b.pending) {
            Some((tier, since)) if tier == raw => since,
            _ => previous_night.unwrap_or(as_of),
        };
        if school_days_between(calendar, since, as_of) >= confirm {
            s.tier = raw;
        } else {
            s.tier = moved;
            follow.pending[row] = Some((raw, since));
        }
    }

    // Decisions first seen tonight: the risk of the night they were made on, each night read
    // once whatever the number of decisions made on or before it.
    let mut decision_nights: std::collections::BTreeMap<std::path::PathBuf, Vec<usize>> =
        Default::default();
    for (&row, decision) in &run.supports.decisions {
        let known = before[row].as_ref().and_then(|b| {
            let (status, date) = b.decision.as_ref()?;
            (*status == decision.status && *date == decision.date).then_some(b.decision_risk)?
        });
        match known {
            Some(risk) => follow.decision_risk[row] = Some(risk),
            None => {
                // Made tonight, or on a night the history does not hold: tonight's risk.
                let night = (decision.date < as_of)
                    .then(|| nights.at_or_before(decision.date))
                    .flatten();
                match night {
                    Some(path) => decision_nights.entry(path).or_default().push(row),
                    None => follow.decision_risk[row] = Some(risk[row]).filter(|r| r.is_finite()),
                }
            }
        }
    }
    for (path, rows) in decision_nights {
        let risks = nights.risks(&path)?;
        for row in rows {
            let then = risks.as_ref().and_then(|r| r[row]);
            follow.decision_risk[row] = then.or(Some(risk[row])).filter(|r| r.is_finite());
        }
    }
    follow.nights_read = nights.read;

    let year_start = config.school_year_first_day(run.school_year);
    for s in scored.iter() {
        let row = s.row;
        let flagged = s.tier != Tier::Low;
        let attention = flagged || is_candidate(&plans[row]);
        let carried = |f: fn(&Before) -> Option<NaiveDate>| before[row].as_ref().and_then(f);
        if flagged {
            let since = carried(|b| b.flagged_since).unwrap_or(as_of);
            follow.flagged_since[row] = Some(since);
            follow.days_flagged[row] = Some(school_days_between(calendar, since, as_of));
        }
        if attention {
            let since = carried(|b| b.attention_since).unwrap_or(as_of);
            follow.attention_since[row] = Some(since);
            follow.days_needing[row] = school_days_between(calendar, since, as_of);
        }
        let decision = run.supports.decisions.get(&row);
        let holds = decision.is_some_and(|d| {
            HOLDING_STATUSES.contains(&d.status.as_str())
                && school_days_between(calendar, d.date, as_of)
                    < config.follow_up.reopen_after_school_days
                && follow.decision_risk[row].is_none_or(|then| {
                    s.risk < then + config.follow_up.reopen_risk_increase - 1e-12
                })
        });
        follow.decision_holds[row] = holds;
        let acted = decision.is_some_and(|d| {
            d.date >= year_start && (holds || !HOLDING_STATUSES.contains(&d.status.as_str()))
        });
        let supported =
            run.supports.current.contains_key(&row) || run.supports.planned.contains(&row);
        follow.unserved[row] = attention
            && follow.days_needing[row] > config.follow_up.unserved_school_days
            && !supported
            && !acted;
    }
    Ok(follow)
}

/// The nights of the history a run reads, and its students by the id the history writes.
struct Nights<'a> {
    partitions: Vec<(NaiveDate, std::path::PathBuf)>,
    /// Table row by history id, built once for every night read.
    row_of: FxHashMap<&'a str, usize>,
    /// Nights read (the night before, trend nights, decision nights).
    read: usize,
}

impl<'a> Nights<'a> {
    fn of(folder: &Path, history_ids: &'a [String]) -> Result<Nights<'a>> {
        Ok(Nights {
            partitions: history::partitions(folder)?,
            row_of: history_ids
                .iter()
                .enumerate()
                .map(|(row, id)| (id.as_str(), row))
                .collect(),
            read: 0,
        })
    }

    /// The night standing for `date`: the latest on or before it, within a week.
    fn at_or_before(&self, date: NaiveDate) -> Option<std::path::PathBuf> {
        history::at_or_before(&self.partitions, date, NIGHT_TOLERANCE_DAYS)
            .map(|(_, path)| path.clone())
    }

    /// `wanted` columns of a night ([`history::read`]), counted.
    fn read(&mut self, path: &Path, wanted: &[&str]) -> Option<DataFrame> {
        let night = history::read(path, wanted)?;
        self.read += 1;
        Some(night)
    }

    /// The table row of each row of a night.
    fn rows_of(&self, night: &DataFrame) -> Result<Vec<Option<usize>>> {
        Ok(texts(night.column("student_id")?)?
            .map(|id| id.and_then(|id| self.row_of.get(id).copied()))
            .collect())
    }

    /// Each student's risk on a night, by table row; `None` when it cannot be read.
    fn risks(&mut self, path: &Path) -> Result<Option<Vec<Option<f64>>>> {
        let Some(night) = self.read(path, &["student_id", "risk"]) else {
            return Ok(None);
        };
        let mut risks = vec![None; self.row_of.len()];
        let values = night.column("risk")?.f64()?;
        for (k, row) in self.rows_of(&night)?.into_iter().enumerate() {
            if let Some(row) = row {
                risks[row] = values.get(k);
            }
        }
        Ok(Some(risks))
    }
}

/// Tonight's history rows: one per scored student, by table row order of `history_ids`.
pub fn history_frame(
    run: &FeatureRun,
    scored: &[ScoredStudent],
    plans: &[Plan],
    follow: &FollowUp,
    history_ids: &[String],
) -> Result<DataFrame> {
    let n = scored.len();
    let schools = run.table.column("school_id")?.str()?;
    let by = |f: &dyn Fn(&ScoredStudent) -> Option<String>| -> Vec<Option<String>> {
        scored.iter().map(f).collect()
    };
    let decision = |s: &ScoredStudent| run.supports.decisions.get(&s.row);
    let frame = df!(
        "schema_version" => vec![history::SCHEMA_VERSION; n],
        "as_of" => vec![run.as_of; n],
        "student_id" => by(&|s| Some(history_ids[s.row].clone())),
        "school_id" => by(&|s| schools.get(s.row).map(str::to_string)),
        "risk" => scored.iter().map(|s| s.risk).collect::<Vec<f64>>(),
        "raw_tier" => by(&|s| Some(follow.raw_tier[s.row].as_str().to_string())),
        "tier" => by(&|s| Some(s.tier.as_str().to_string())),
        "tier_pending" => by(&|s| follow.pending[s.row].map(|(t, _)| t.as_str().to_string())),
        "tier_pending_since" => scored.iter().map(|s| follow.pending[s.row].map(|(_, d)| d)).collect::<Vec<_>>(),
        "candidate" => scored.iter().map(|s| is_candidate(&plans[s.row])).collect::<Vec<bool>>(),
        "flagged_since" => scored.iter().map(|s| follow.flagged_since[s.row]).collect::<Vec<_>>(),
        "attention_since" => scored.iter().map(|s| follow.attention_since[s.row]).collect::<Vec<_>>(),
        "current_supports" => by(&|s| run.supports.current.get(&s.row).cloned()),
        "decision_status" => by(&|s| decision(s).map(|d| d.status.clone())),
        "decision_date" => scored.iter().map(|s| decision(s).map(|d| d.date)).collect::<Vec<_>>(),
        "decision_risk" => scored.iter().map(|s| follow.decision_risk[s.row]).collect::<Vec<_>>(),
        "unserved" => scored.iter().map(|s| follow.unserved[s.row]).collect::<Vec<bool>>(),
    )?;
    Ok(frame.sort(["student_id"], SortMultipleOptions::default())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tier_moves_at_once_only_beyond_the_margin() {
        let config = Config::default(); // medium 0.25, high 0.50
                                        // (risk, stable tier, raw tier, the tier it moves to at once with a margin of 0.03)
        let cases = [
            // Up from low: 0.27 is within the margin of 0.25, 0.29 beyond it.
            (0.27, Tier::Low, Tier::Medium, Tier::Low),
            (0.29, Tier::Low, Tier::Medium, Tier::Medium),
            // From low to high: past 0.25 by far, within the margin of 0.50: medium at once.
            (0.51, Tier::Low, Tier::High, Tier::Medium),
            (0.54, Tier::Low, Tier::High, Tier::High),
            // Down from high: 0.48 within the margin, 0.46 beyond.
            (0.48, Tier::High, Tier::Medium, Tier::High),
            (0.46, Tier::High, Tier::Medium, Tier::Medium),
            (0.10, Tier::High, Tier::Low, Tier::Low),
        ];
        for (risk, stable, raw, moved) in cases {
            assert_eq!(
                tier_with_margin(risk, stable, raw, 0.03, &config),
                moved,
                "{risk} from {stable:?}"
            );
        }
    }

    #[test]
    fn school_days_are_counted_after_the_start_up_to_the_date() {
        let d = |day: u32| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        let calendar = [d(2), d(3), d(4), d(5), d(6), d(9)];
        assert_eq!(school_days_between(&calendar, d(2), d(9)), 5);
        assert_eq!(school_days_between(&calendar, d(7), d(9)), 1);
        assert_eq!(school_days_between(&calendar, d(9), d(9)), 0);
    }
}
