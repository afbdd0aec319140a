//! The synthetic district's school calendar: school days with breaks, and the marking periods
//! of year-long and semester courses with the days their marks are posted.

use chrono::{Datelike, Days, NaiveDate, Weekday};

pub(super) struct Calendar {
    pub(super) as_of: NaiveDate,
    /// The first day of the school year.
    pub(super) first: NaiveDate,
    /// The last day of the school year (June 12).
    pub(super) year_end: NaiveDate,
    /// The district's breaks and holidays, first and last day of each.
    pub(super) breaks: [(NaiveDate, NaiveDate); 5],
    /// School days from the first day up to and including the as-of date.
    pub(super) days: Vec<NaiveDate>,
    /// `days` as ISO strings.
    pub(super) labels: Vec<String>,
    /// Fraction of the school year (first day .. June 12) elapsed on each school day.
    pub(super) elapsed: Vec<f64>,
    /// Marking periods of the year-long core courses.
    pub(super) core_terms: Vec<Term>,
    /// Marking periods of the semester electives (in the canonical shape; the SIS shapes
    /// post S1 and S2 as the marks covering the quarters).
    pub(super) elective_terms: Vec<Term>,
    /// The year mark of the SIS shapes, posted on the last day.
    pub(super) year_term: Term,
    /// The six-week marking periods (`--marking-periods six-weeks`).
    pub(super) six_weeks: SixWeeks,
}

/// The six-week marking periods and the marks covering them: W1–W3 spread over the first
/// semester (the first school day .. the quarters' Q2 day), W4–W6 over the second (the day
/// after .. June 12), each semester in three equal spans of calendar days, each mark posted on
/// the last school day on or before its span's end; S1 on W3's day, S2 and Y on W6's (the
/// last school day of the year).
pub(super) struct SixWeeks {
    /// W1–W6.
    pub(super) weeks: Vec<Term>,
    /// S1 and S2.
    pub(super) semesters: Vec<Term>,
    /// Y.
    pub(super) year: Term,
}

/// A marking period and the day its marks are posted.
pub(super) struct Term {
    pub(super) name: &'static str,
    pub(super) date: NaiveDate,
    /// `date` as ISO.
    pub(super) label: String,
}

impl Calendar {
    pub(super) fn new(school_year: i32, as_of: NaiveDate) -> Self {
        let fall = school_year - 1;
        let aug20 = ymd(fall, 8, 20);
        let from_monday = u64::from(aug20.weekday().num_days_from_monday());
        let first = if from_monday <= 3 {
            aug20 - Days::new(from_monday)
        } else {
            aug20 + Days::new(7 - from_monday)
        };
        let year_end = ymd(school_year, 6, 12);
        let labor_day = nth_weekday(fall, 9, Weekday::Mon, 1);
        let thanksgiving = nth_weekday(fall, 11, Weekday::Thu, 4);
        let mlk_day = nth_weekday(school_year, 1, Weekday::Mon, 3);
        let spring_break = nth_weekday(school_year, 3, Weekday::Mon, 1);
        let breaks = [
            (labor_day, labor_day),
            (thanksgiving, thanksgiving + Days::new(1)),
            (ymd(fall, 12, 22), ymd(school_year, 1, 2)),
            (mlk_day, mlk_day),
            (spring_break, spring_break + Days::new(4)),
        ];
        let span = (year_end - first).num_days().max(1) as f64;
        let days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= as_of)
            .filter(|d| is_school_day(&breaks, *d))
            .collect();
        let elapsed = days
            .iter()
            .map(|d| ((*d - first).num_days() as f64 / span).clamp(0.0, 1.0))
            .collect();
        let labels = days.iter().map(NaiveDate::to_string).collect();

        let q1 = last_weekday(fall, 10, Weekday::Fri);
        let q2 = mlk_day - Days::new(3);
        let q3 = nth_weekday(school_year, 4, Weekday::Mon, 1) + Days::new(4);
        let term = |name, date: NaiveDate| Term {
            name,
            date,
            label: date.to_string(),
        };
        let school_day = |date| last_school_day(&breaks, date);
        let weeks: Vec<NaiveDate> = [(first, q2), (q2 + Days::new(1), year_end)]
            .into_iter()
            .flat_map(|(from, to)| {
                let span = (to - from).num_days().max(0) as u64;
                (1..=3).map(move |k| school_day(from + Days::new(span * k / 3)))
            })
            .collect();
        let six_weeks = SixWeeks {
            weeks: ["W1", "W2", "W3", "W4", "W5", "W6"]
                .into_iter()
                .zip(&weeks)
                .map(|(name, date)| term(name, *date))
                .collect(),
            semesters: vec![term("S1", weeks[2]), term("S2", weeks[5])],
            year: term("Y", weeks[5]),
        };
        Calendar {
            as_of,
            first,
            year_end,
            breaks,
            days,
            labels,
            elapsed,
            core_terms: vec![
                term("Q1", q1),
                term("Q2", q2),
                term("Q3", q3),
                term("Q4", year_end),
            ],
            elective_terms: vec![term("S1", q2), term("S2", year_end)],
            year_term: term("Y", year_end),
            six_weeks,
        }
    }

    /// A weekday outside the breaks (any date, also after the as-of date).
    pub(super) fn is_school_day(&self, date: NaiveDate) -> bool {
        is_school_day(&self.breaks, date)
    }
}

fn is_school_day(breaks: &[(NaiveDate, NaiveDate)], date: NaiveDate) -> bool {
    date.weekday().num_days_from_monday() < 5
        && !breaks.iter().any(|(a, b)| *a <= date && date <= *b)
}

/// The last school day on or before `date` (no break is longer than two weeks).
fn last_school_day(breaks: &[(NaiveDate, NaiveDate)], date: NaiveDate) -> NaiveDate {
    (0..31)
        .map(|back| date - Days::new(back))
        .find(|d| is_school_day(breaks, *d))
        .unwrap_or(date)
}

/// A calendar date. Only called with real month/day pairs (no Feb 29, no day 31 of a
/// 30-day month) for years near the snapshot years, where chrono cannot fail; the fallback
/// is unreachable.
pub(super) fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The `n`-th (1-based) `weekday` of a month.
pub(super) fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u64) -> NaiveDate {
    let first = ymd(year, month, 1);
    let offset = (7 + u64::from(weekday.num_days_from_monday())
        - u64::from(first.weekday().num_days_from_monday()))
        % 7;
    first + Days::new(offset + 7 * (n - 1))
}

/// The last `weekday` of a 31-day month.
pub(super) fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let last = ymd(year, month, 31);
    let back = (7 + u64::from(last.weekday().num_days_from_monday())
        - u64::from(weekday.num_days_from_monday()))
        % 7;
    last - Days::new(back)
}
