//! Checkpoints: the dates of the school year a model is trained at, and how far a scoring date
//! is from them.
//!
//! One model scores every night of the year, but a record means something else in October
//! (five weeks of attendance, no marks yet) than in March. So `ews train` builds its rows at
//! several dates of the training year (`model.checkpoints`): every student once per checkpoint,
//! with the features as of that date, plus the time of year as an input. A checkpoint after the
//! training snapshot's as-of date cannot be built from it (its records stop there), nor one
//! before the year's first school day; both are skipped and recorded in the model file. The
//! snapshot's own as-of date is always a checkpoint: the latest the data can give.

use chrono::{Datelike, NaiveDate};

use crate::config::{Config, MonthDay};
use crate::features::FeatureRun;
use crate::model::SkippedCheckpoint;

/// A scoring date more than this many days from every checkpoint of its model gets a warning
/// (exit 1): the model has not seen records of that time of year.
pub const MAX_DAYS_FROM_A_CHECKPOINT: i64 = 45;

/// A date's month-day as `MM-DD`.
pub fn month_day(date: NaiveDate) -> String {
    format!("{:02}-{:02}", date.month(), date.day())
}

/// The `checkpoints` (label, month-day: the config's, or a model's) of `run`'s school year
/// that come before its as-of date, as (label, date), in date order; and those skipped, with
/// the reason. The snapshot's as-of date itself is not in the list (the caller adds it, last);
/// a checkpoint on it is that one.
pub fn plan(
    checkpoints: &[(String, MonthDay)],
    config: &Config,
    run: &FeatureRun,
) -> (Vec<(String, NaiveDate)>, Vec<SkippedCheckpoint>) {
    plan_dates(
        checkpoints,
        config,
        run.as_of,
        run.school_year,
        run.calendar.first().copied(),
    )
}

/// [`plan`] for a snapshot as of `as_of`, in `school_year`, whose first school day is
/// `first_school_day` (none: no school day yet).
pub fn plan_dates(
    checkpoints: &[(String, MonthDay)],
    config: &Config,
    as_of: NaiveDate,
    school_year: i32,
    first_school_day: Option<NaiveDate>,
) -> (Vec<(String, NaiveDate)>, Vec<SkippedCheckpoint>) {
    let mut used = Vec::new();
    let mut skipped = Vec::new();
    for (text, day) in checkpoints {
        let date = config.in_school_year(*day, school_year);
        let skip = |reason: String| SkippedCheckpoint {
            checkpoint: text.clone(),
            reason,
        };
        if date > as_of {
            skipped.push(skip(format!(
                "{date} is after the snapshot's as-of date {as_of}"
            )));
        } else if first_school_day.is_none_or(|first| date < first) {
            skipped.push(skip(format!(
                "{date} is before the school year's first school day{}",
                first_school_day
                    .map(|d| format!(" {d}"))
                    .unwrap_or_default()
            )));
        } else if date < as_of && !used.iter().any(|(_, d)| *d == date) {
            used.push((text.clone(), date));
        }
    }
    used.sort_by_key(|(_, date)| *date);
    (used, skipped)
}

/// Days from `date` to the nearest of `checkpoints` (month-days of `date`'s school year).
pub fn days_from_nearest(
    config: &Config,
    date: NaiveDate,
    checkpoints: &[MonthDay],
) -> Option<i64> {
    let school_year = config.school_year_of(date);
    checkpoints
        .iter()
        .map(|day| {
            (config.in_school_year(*day, school_year) - date)
                .num_days()
                .abs()
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn checkpoints_after_the_as_of_date_or_before_school_starts_are_skipped() {
        let mut config = Config::default();
        config.model.checkpoints = ["08-01", "10-01", "12-15", "03-13", "03-15", "05-15"]
            .map(String::from)
            .to_vec();
        // A snapshot as of Friday 2026-03-13 whose year began on 2025-08-20.
        let (used, skipped) = plan_dates(
            &config.model.checkpoints(),
            &config,
            day("2026-03-13"),
            2026,
            Some(day("2025-08-20")),
        );
        assert_eq!(
            used,
            [
                ("10-01".to_string(), day("2025-10-01")),
                ("12-15".to_string(), day("2025-12-15"))
            ]
        );
        // 03-13 is the as-of date itself: the caller's last checkpoint, not listed twice.
        let reasons: Vec<(&str, &str)> = skipped
            .iter()
            .map(|s| (s.checkpoint.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    "08-01",
                    "2025-08-01 is before the school year's first school day 2025-08-20"
                ),
                (
                    "03-15",
                    "2026-03-15 is after the snapshot's as-of date 2026-03-13"
                ),
                (
                    "05-15",
                    "2026-05-15 is after the snapshot's as-of date 2026-03-13"
                ),
            ]
        );
    }

    #[test]
    fn the_distance_to_the_nearest_checkpoint_is_within_the_school_year() {
        let config = Config::default();
        let checkpoints = ["10-01", "12-15", "03-15"].map(|t| MonthDay::parse(t).unwrap());
        assert_eq!(
            days_from_nearest(&config, day("2026-03-13"), &checkpoints),
            Some(2)
        );
        // Mid-May: 61 days after March 15.
        assert_eq!(
            days_from_nearest(&config, day("2026-05-15"), &checkpoints),
            Some(61)
        );
        // 2026-08-20 is in the school year that starts on 2026-07-01: 42 days to October 1.
        assert_eq!(
            days_from_nearest(&config, day("2026-08-20"), &checkpoints),
            Some(42)
        );
        assert_eq!(days_from_nearest(&config, day("2026-08-20"), &[]), None);
        assert_eq!(month_day(day("2026-03-05")), "03-05");
    }
}
