//! The school year's calendar arithmetic: a month-day such as `07-01`, which school year a date
//! belongs to (named by the calendar year it ends in), and where a month-day of a school year
//! falls. [`Config::school_year_of`] works on one date and [`school_year_of_column`] on a
//! polars column; they stand side by side so that the two can never disagree (a test checks).

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::config::Config;

/// A month and day, such as the first day of the school year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl MonthDay {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (m, d) = text.split_once('-')?;
        let md = MonthDay {
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        // 2000 is a leap year, so Feb 29 is accepted as a month-day.
        NaiveDate::from_ymd_opt(2000, md.month, md.day).map(|_| md)
    }

    /// This month-day in `year` (Feb 29 falls back to Feb 28 in common years).
    pub fn in_year(self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
            .or_else(|| NaiveDate::from_ymd_opt(year, self.month, self.day - 1))
            .unwrap_or(NaiveDate::MIN)
    }
}

impl Config {
    pub fn school_year_start(&self) -> MonthDay {
        MonthDay::parse(&self.school_year_start).unwrap_or(MonthDay { month: 7, day: 1 })
    }

    pub fn age_cutoff(&self) -> MonthDay {
        MonthDay::parse(&self.age_cutoff).unwrap_or(MonthDay { month: 9, day: 1 })
    }

    /// The school year (named by the calendar year it ends in) that contains `date`.
    pub fn school_year_of(&self, date: NaiveDate) -> i32 {
        let start = self.school_year_start().in_year(date.year());
        if date >= start {
            date.year() + 1
        } else {
            date.year()
        }
    }

    /// The date of `day` within school year `school_year` (e.g. 11-15 of 2026 is 2025-11-15).
    pub fn in_school_year(&self, day: MonthDay, school_year: i32) -> NaiveDate {
        let first = self.school_year_first_day(school_year);
        let date = day.in_year(school_year - 1);
        if date < first {
            day.in_year(school_year)
        } else {
            date
        }
    }

    /// First day of school year `school_year`.
    pub fn school_year_first_day(&self, school_year: i32) -> NaiveDate {
        self.school_year_start().in_year(school_year - 1)
    }
}

/// The school year (named by the year it ends in) of a date expression: the column form of
/// [`Config::school_year_of`].
pub fn school_year_of_column(date: Expr, config: &Config) -> Expr {
    let start = config.school_year_start();
    let month_day = date.clone().dt().month().cast(DataType::Int32) * lit(100)
        + date.clone().dt().day().cast(DataType::Int32);
    let year = date.dt().year();
    when(month_day.gt_eq(lit((start.month * 100 + start.day) as i32)))
        .then(year.clone() + lit(1))
        .otherwise(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_year_is_named_by_the_year_it_ends_in() {
        let config = Config::default();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(config.school_year_of(d("2026-03-13")), 2026);
        assert_eq!(config.school_year_of(d("2025-07-01")), 2026);
        assert_eq!(config.school_year_of(d("2025-06-30")), 2025);
        assert_eq!(config.school_year_first_day(2026), d("2025-07-01"));
    }

    #[test]
    fn the_column_and_the_scalar_agree() {
        let config = Config {
            school_year_start: "08-15".into(),
            ..Config::default()
        };
        let dates: Vec<NaiveDate> = [
            "2024-02-29",
            "2025-08-14",
            "2025-08-15",
            "2025-12-31",
            "2026-01-01",
            "2026-08-16",
        ]
        .iter()
        .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
        .collect();
        let frame = df!("date" => &dates).unwrap();
        let years = frame
            .lazy()
            .select([school_year_of_column(col("date"), &config).alias("year")])
            .collect()
            .unwrap();
        let years = years.column("year").unwrap().i32().unwrap();
        let column: Vec<Option<i32>> = (0..years.len()).map(|i| years.get(i)).collect();
        let scalar: Vec<Option<i32>> = dates
            .iter()
            .map(|d| Some(config.school_year_of(*d)))
            .collect();
        assert_eq!(column, scalar);
        assert_eq!(scalar, [2024, 2025, 2026, 2026, 2026, 2027].map(Some));
    }
}
