//! Where a student is a member, day by day, in the SIS shapes: each school's own calendar (the
//! district's school days, a professional-development day off at every third school, an early
//! release a month) and each student's enrollment spans (a move between two schools of one
//! level, sometimes on one day, or a withdrawal from the district).
//!
//! Why: an exception-only export says nothing about the days a student was present; the
//! reader has to count them from the spans and the calendars, so the generator has to write
//! spans and calendars that real exports have, and attendance on exactly their membership days.

use std::ops::Range;

use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{nth_weekday, Calendar};
use crate::synth::generate::draws::chance;
use crate::synth::generate::latent::*;
use crate::synth::generate::table::Table;
use crate::synth::vocabulary::*;

/// The calendar of every school of the district (high schools first, then elementary, then
/// middle schools): the district's school days, less one professional-development day at
/// every [`PD_DAY_EVERY`]-th school.
pub(super) struct SchoolCalendars {
    /// Per school: its extra day off, if it has one.
    off: Vec<Option<NaiveDate>>,
    /// `off` as an index into the district's school days, when it is up to the as-of date.
    off_day: Vec<Option<usize>>,
    /// Per school: its early-release days up to the as-of date (indices into the district's
    /// school days), as calendar.csv lists them.
    early: Vec<Vec<usize>>,
}

/// Whether an instructional day is an early release: the first Wednesday of its month at the
/// school. Fed a school's instructional days in order.
#[derive(Default)]
struct EarlyRelease {
    released: Option<u32>,
}

impl EarlyRelease {
    fn on(&mut self, date: NaiveDate) -> bool {
        let early = date.weekday() == Weekday::Wed && self.released != Some(date.month());
        if early {
            self.released = Some(date.month());
        }
        early
    }
}

impl SchoolCalendars {
    pub(super) fn new(cal: &Calendar, schools: usize) -> Self {
        // The second Friday of October: a school day of the district in every year.
        let pd_day = nth_weekday(cal.first.year(), 10, Weekday::Fri, 2);
        let pd_index = cal.days.binary_search(&pd_day).ok();
        let has_day_off = |school: usize| school % PD_DAY_EVERY == PD_DAY_EVERY - 1;
        let off_day: Vec<Option<usize>> = (0..schools)
            .map(|g| pd_index.filter(|_| has_day_off(g)))
            .collect();
        let early = off_day
            .iter()
            .map(|off| {
                let mut release = EarlyRelease::default();
                (0..cal.days.len())
                    .filter(|&day| Some(day) != *off && release.on(cal.days[day]))
                    .collect()
            })
            .collect();
        SchoolCalendars {
            off: (0..schools)
                .map(|g| has_day_off(g).then_some(pd_day))
                .collect(),
            off_day,
            early,
        }
    }

    /// Whether school day `day` of the district is a school day at `school`.
    pub(super) fn instructional(&self, school: usize, day: usize) -> bool {
        self.off_day[school] != Some(day)
    }

    /// Class periods at `school` on district school day `day` (an instructional day there, up
    /// to the as-of date): [`EARLY_RELEASE_PERIODS`] on an early release, else
    /// [`FULL_DAY_PERIODS`] (calendar.csv leaves it blank).
    pub(super) fn periods(&self, school: usize, day: usize) -> usize {
        match self.early[school].binary_search(&day) {
            Ok(_) => EARLY_RELEASE_PERIODS as usize,
            Err(_) => FULL_DAY_PERIODS,
        }
    }

    /// The first school day of `school` on or after district school day `day` (which may be
    /// past the as-of date).
    pub(super) fn next_instructional(&self, school: usize, day: usize) -> usize {
        (day..)
            .find(|&d| self.instructional(school, d))
            .unwrap_or(day)
    }

    /// calendar.csv: every weekday of the school year for every school, `instructional` Y or
    /// N, `periods` 4 on the first school day that is a Wednesday in each month (an early
    /// release) and blank otherwise. `ids` are the schools' ids in calendar order.
    pub(super) fn write(
        &self,
        cal: &Calendar,
        ids: &[&str],
        table: &mut Table,
    ) -> Result<(), GenerateError> {
        let weekdays: Vec<(NaiveDate, String, bool)> = cal
            .first
            .iter_days()
            .take_while(|d| *d <= cal.year_end)
            .filter(|d| d.weekday().num_days_from_monday() < 5)
            .map(|d| (d, d.to_string(), cal.is_school_day(d)))
            .collect();
        let periods = EARLY_RELEASE_PERIODS.to_string();
        for (&id, off) in ids.iter().zip(&self.off) {
            let mut release = EarlyRelease::default();
            for (date, label, school_day) in &weekdays {
                let instructional = *school_day && Some(*date) != *off;
                let early = instructional && release.on(*date);
                table.write([
                    id,
                    label.as_str(),
                    if instructional { "Y" } else { "N" },
                    if early { periods.as_str() } else { "" },
                ])?;
            }
        }
        Ok(())
    }
}

/// A span of enrollment at one school, in school days of the district.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub(super) school: usize,
    /// The first day of membership.
    pub(super) from: usize,
    /// The last day enrolled, when the span ended by the as-of date.
    pub(super) to: Option<usize>,
    pub(super) exit_code: &'static str,
}

/// A student's spans of the year: one, or two for a move (the second one open).
#[derive(Debug, Clone, Copy)]
pub(super) struct Enrollment {
    pub(super) first: Span,
    pub(super) second: Option<Span>,
    /// The second span starts on the day the first one ends.
    pub(super) same_day: bool,
}

impl Enrollment {
    /// The school a student is a member of on district school day `day`, if any: inside a
    /// span (the later one on a same-day transfer's day) and a school day of its school.
    pub(super) fn school_on(&self, day: usize, calendars: &SchoolCalendars) -> Option<usize> {
        let span = match self.second {
            Some(second) if second.from <= day => second,
            _ => self.first,
        };
        let inside = span.from <= day && span.to.is_none_or(|to| day <= to);
        (inside && calendars.instructional(span.school, day)).then_some(span.school)
    }

    /// The school a record dated `date` belongs to: the latest span begun by then, or `None`
    /// after a withdrawal.
    pub(super) fn school_on_date(&self, date: NaiveDate, days: &[NaiveDate]) -> Option<usize> {
        if let Some(second) = self.second {
            if days[second.from] <= date {
                return Some(second.school);
            }
            return Some(self.first.school);
        }
        match self.first.to {
            Some(to) if days[to] < date => None,
            _ => Some(self.first.school),
        }
    }

    pub(super) fn moved(&self) -> bool {
        self.second.is_some()
    }

    pub(super) fn withdrew(&self) -> bool {
        self.second.is_none() && self.first.to.is_some()
    }

    /// The student's rows of enrollment.csv; `ids` are the schools' ids, `labels` the
    /// district's school days as ISO dates.
    pub(super) fn write(
        &self,
        student: &str,
        grade: &str,
        ids: &[&str],
        labels: &[String],
        table: &mut Table,
    ) -> Result<(), GenerateError> {
        for span in std::iter::once(&self.first).chain(&self.second) {
            table.write([
                student,
                ids[span.school],
                labels[span.from].as_str(),
                span.to.map_or("", |to| labels[to].as_str()),
                span.exit_code,
                grade,
            ])?;
        }
        Ok(())
    }
}

/// Draws a student's spans: enrolled at `school` (of the schools `level`) from district
/// school day `entry` on; a withdrawal before the as-of date when `may_withdraw`, else maybe a
/// move from another school of the level to `school`. `days` is the number of school days up
/// to the as-of date.
pub(super) fn enroll(
    school: usize,
    level: Range<usize>,
    entry: usize,
    may_withdraw: bool,
    days: usize,
    calendars: &SchoolCalendars,
    rng: &mut ChaCha8Rng,
) -> Enrollment {
    let open = |school: usize| Span {
        school,
        from: calendars.next_instructional(school, entry),
        to: None,
        exit_code: "",
    };
    let stay = Enrollment {
        first: open(school),
        second: None,
        same_day: false,
    };
    if may_withdraw && chance(rng, WITHDRAW) {
        let code = if chance(rng, WITHDRAW_DROPOUT) {
            EXIT_DROPPED_OUT
        } else {
            EXIT_TRANSFERRED_OUT
        };
        // The last day enrolled: a school day there, before the as-of date.
        let span = stay.first;
        let last = day_in(rng, span.from + 1..days.saturating_sub(1)).and_then(|d| {
            (span.from..=d)
                .rev()
                .find(|&d| calendars.instructional(school, d))
        });
        return match last {
            Some(last) => Enrollment {
                first: Span {
                    to: Some(last),
                    exit_code: code,
                    ..span
                },
                ..stay
            },
            None => stay,
        };
    }
    if level.len() < 2 || !chance(rng, MOVE) {
        return stay;
    }
    let k = level.start + rng.gen_range(0..level.len() - 1);
    let origin = if k >= school { k + 1 } else { k };
    let same_day = chance(rng, SAME_DAY_TRANSFER);
    let first = open(origin);
    let Some(exit) = day_in(rng, first.from + 1..days.saturating_sub(MOVE_MARGIN)) else {
        return stay;
    };
    // The last day at the old school is a school day there (and at the new school, for a
    // same-day transfer: that day counts at the new school).
    let last = (exit..days).find(|&d| {
        calendars.instructional(origin, d) && (!same_day || calendars.instructional(school, d))
    });
    let Some(last) = last else {
        return stay;
    };
    let from = if same_day {
        last
    } else {
        calendars.next_instructional(school, last + 1)
    };
    if from >= days {
        return stay;
    }
    Enrollment {
        first: Span {
            to: Some(last),
            exit_code: EXIT_MOVED,
            ..first
        },
        second: Some(Span {
            school,
            from,
            to: None,
            exit_code: "",
        }),
        same_day,
    }
}

/// A day drawn from `range`, if it is not empty.
fn day_in(rng: &mut ChaCha8Rng, range: Range<usize>) -> Option<usize> {
    (!range.is_empty()).then(|| rng.gen_range(range))
}
