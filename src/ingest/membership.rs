//! Membership (contract part 2): the days a student belongs to a school, from enrollment.csv's
//! spans and calendar.csv's instructional days. A membership day is an instructional day of
//! the span's school within the span; a span ending on the day the next begins (a same-day
//! transfer) gives that day to the later school. In exception mode every membership day
//! without an attendance row is a day present, so membership is the denominator of every
//! attendance rate.
//!
//! Spans are few (one or two per student), so they are Rust values, checked in one pass after
//! sorting; attendance rows are never materialised here, only looked up against the spans.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::{Config, ExitDate};
use crate::ingest::quality::Rejected;
use crate::ingest::student_index::StudentIndex;
use crate::ingest::LINE;
use crate::io::error::Result;

/// Instructional days per school, from calendar.csv.
#[derive(Debug, Default, Clone)]
pub struct SchoolCalendars {
    index: FxHashMap<Box<[u8]>, u32>,
    /// Sorted instructional days (days from the common era) of each school.
    days: Vec<Vec<i32>>,
    /// Class periods of each of those days (0: the config's `attendance.periods_per_day`).
    periods: Vec<Vec<u8>>,
    /// Per school, running sums over its days of (periods the calendar gives, days it leaves
    /// blank): `sums[i]` covers the days before day `i`, so a range is two lookups.
    period_sums: Vec<Vec<(u64, u32)>>,
}

impl SchoolCalendars {
    /// The calendars of the accepted calendar.csv rows (`school_id`, `date`, `instructional`).
    pub fn from_frame(calendar: &DataFrame) -> Result<SchoolCalendars> {
        let schools = calendar.column("school_id")?.str()?;
        let dates = calendar.column("date")?.date()?;
        let instructional = calendar.column("instructional")?.bool()?;
        let periods = match calendar.column("periods") {
            Ok(periods) => periods.cast(&DataType::Int32)?,
            Err(_) => Column::full_null("periods".into(), calendar.height(), &DataType::Int32),
        };
        let periods = periods.i32()?;
        let mut calendars = SchoolCalendars::default();
        let mut days_of: Vec<Vec<(i32, u8)>> = Vec::new();
        for (((school, date), yes), periods) in schools
            .iter()
            .zip(dates.physical().iter())
            .zip(instructional.iter())
            .zip(periods.iter())
        {
            let Some(school) = school else { continue };
            // A school listed only with non-instructional days still has a calendar.
            let at = calendars.intern(school.as_bytes()) as usize;
            days_of.resize_with(calendars.days.len(), Vec::new);
            if let (Some(date), Some(true)) = (date, yes) {
                let periods = periods.map_or(0, |p| p.clamp(1, 255) as u8);
                days_of[at].push((date + UNIX_EPOCH_DAYS_FROM_CE, periods));
            }
        }
        for (at, mut days) in days_of.into_iter().enumerate() {
            days.sort_unstable();
            days.dedup_by_key(|(day, _)| *day);
            calendars.days[at] = days.iter().map(|(day, _)| *day).collect();
            calendars.periods[at] = days.iter().map(|(_, p)| *p).collect();
            let mut sums = Vec::with_capacity(days.len() + 1);
            let (mut given, mut blank) = (0u64, 0u32);
            sums.push((given, blank));
            for (_, p) in &days {
                match p {
                    0 => blank += 1,
                    p => given += u64::from(*p),
                }
                sums.push((given, blank));
            }
            calendars.period_sums[at] = sums;
        }
        Ok(calendars)
    }

    fn intern(&mut self, school: &[u8]) -> u32 {
        if let Some(&at) = self.index.get(school) {
            return at;
        }
        let at = self.days.len() as u32;
        self.index.insert(Box::from(school), at);
        self.days.push(Vec::new());
        self.periods.push(Vec::new());
        self.period_sums.push(vec![(0, 0)]);
        at
    }

    /// The index of a school with calendar rows.
    pub fn school(&self, school: &[u8]) -> Option<u32> {
        self.index.get(school).copied()
    }

    /// Instructional days of `school` in `first..=last`.
    fn count(&self, school: u32, first: i32, last: i32) -> u32 {
        let days = &self.days[school as usize];
        if first > last {
            return 0;
        }
        (days.partition_point(|&d| d <= last) - days.partition_point(|&d| d < first)) as u32
    }

    /// The class periods of `school` over its instructional days in `first..=last`.
    fn period_total(&self, school: u32, first: i32, last: i32, default: u8) -> u64 {
        if first > last {
            return 0;
        }
        let days = &self.days[school as usize];
        let from = days.partition_point(|&d| d < first);
        let to = days.partition_point(|&d| d <= last).max(from);
        let sums = &self.period_sums[school as usize];
        let (given, blank) = (sums[to].0 - sums[from].0, sums[to].1 - sums[from].1);
        given + u64::from(blank) * u64::from(default)
    }

    /// The class periods of `school` on `day` (an instructional day), `default` when blank.
    fn periods_on(&self, school: u32, day: i32, default: u8) -> u8 {
        match self.days[school as usize].binary_search(&day) {
            Ok(i) => match self.periods[school as usize][i] {
                0 => default,
                p => p,
            },
            Err(_) => 0,
        }
    }

    fn is_instructional(&self, school: u32, day: i32) -> bool {
        self.days[school as usize].binary_search(&day).is_ok()
    }

    /// The first of the last `n` instructional days of `school` up to `as_of` (its first
    /// instructional day when there are fewer).
    fn recent_start(&self, school: u32, as_of: i32, n: usize) -> i32 {
        let days = &self.days[school as usize];
        let end = days.partition_point(|&d| d <= as_of);
        days.get(end.saturating_sub(n.max(1)))
            .copied()
            .unwrap_or(i32::MAX)
    }

    /// The days that are instructional in at least one school, in `first..=last`.
    pub fn district_days(&self, first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
        let (first, last) = (first.num_days_from_ce(), last.num_days_from_ce());
        let mut all: Vec<i32> = self
            .days
            .iter()
            .flat_map(|days| {
                let from = days.partition_point(|&d| d < first);
                let to = days.partition_point(|&d| d <= last);
                days[from..to.max(from)].iter().copied()
            })
            .collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter()
            .filter_map(NaiveDate::from_num_days_from_ce_opt)
            .collect()
    }
}

/// Days from the common era of 1970-01-01 (polars' dates count from there).
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// One enrollment span: the student belongs to `school` from `first` to `last` (days from the
/// common era, inclusive; `i32::MAX` while still enrolled).
#[derive(Debug, Clone, Copy)]
struct Span {
    school: u32,
    first: i32,
    last: i32,
}

/// Why an attendance row's day is not a membership day of its student at its school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMember {
    NoSpan,
    OutsideSpans,
    OtherSchool,
    NotInstructional,
}

impl NotMember {
    /// The column a rejected row names (attendance.csv and period_attendance.csv alike).
    pub fn column(self) -> &'static str {
        match self {
            NotMember::NoSpan => "student_id",
            NotMember::OtherSchool => "school_id",
            NotMember::OutsideSpans | NotMember::NotInstructional => "date",
        }
    }

    /// The reason rejects.csv gives.
    pub fn reason(self) -> &'static str {
        match self {
            NotMember::NoSpan => crate::contract::NO_SPAN_REASON,
            NotMember::OutsideSpans => crate::contract::OUTSIDE_SPANS_REASON,
            NotMember::OtherSchool => crate::contract::OTHER_SCHOOL_REASON,
            NotMember::NotInstructional => crate::contract::NOT_INSTRUCTIONAL_REASON,
        }
    }
}

/// Every student's spans, checked, with the schools' calendars.
#[derive(Debug)]
pub struct Membership {
    pub calendars: SchoolCalendars,
    /// Spans of student `s`: `spans[offsets[s]..offsets[s + 1]]`, by first day.
    offsets: Vec<u32>,
    spans: Vec<Span>,
}

impl Membership {
    /// The spans of the accepted enrollment.csv rows, each checked against the calendars and
    /// the student's other spans. Returns the rows rejected here.
    pub fn build(
        enrollment: &DataFrame,
        students: &StudentIndex,
        calendars: SchoolCalendars,
        config: &Config,
    ) -> Result<(Membership, Vec<Rejected>)> {
        let ids = enrollment.column("student_id")?.str()?;
        let schools = enrollment.column("school_id")?.str()?;
        let entries = enrollment.column("entry_date")?.date()?;
        let exits = enrollment.column("exit_date")?.date()?;
        let lines = enrollment.column(LINE)?.cast(&DataType::UInt64)?;
        let lines = lines.u64()?;
        let exit_shift = match config.enrollment.exit_date {
            ExitDate::LastDay => 0,
            ExitDate::DayAfter => 1,
        };
        let mut rejects = Vec::new();
        // (student, span, line)
        let mut all: Vec<(u32, Span, u64)> = Vec::with_capacity(enrollment.height());
        let rows = ids
            .iter()
            .zip(schools.iter())
            .zip(entries.physical().iter())
            .zip(exits.physical().iter())
            .zip(lines.iter());
        for ((((id, school), entry), exit), line) in rows {
            let line = line.unwrap_or(0);
            let (Some(student), Some(school), Some(entry)) =
                (id.and_then(|id| students.get(id.as_bytes())), school, entry)
            else {
                continue;
            };
            let Some(school) = calendars.school(school.as_bytes()) else {
                rejects.push(Rejected {
                    line,
                    column: "school_id",
                    value: school.to_string(),
                    reason: "no calendar rows for this school (calendar.csv)".into(),
                });
                continue;
            };
            let first = entry + UNIX_EPOCH_DAYS_FROM_CE;
            let last = exit.map_or(i32::MAX, |exit| exit + UNIX_EPOCH_DAYS_FROM_CE - exit_shift);
            all.push((
                student,
                Span {
                    school,
                    first,
                    last,
                },
                line,
            ));
        }
        all.sort_unstable_by_key(|&(student, span, line)| (student, span.first, line));

        let mut offsets = vec![0u32; students.len() + 1];
        let mut spans: Vec<Span> = Vec::with_capacity(all.len());
        // The line of the student's latest kept span, for the overlap's reason.
        let mut kept_line = 0u64;
        let mut previous_student = None;
        for (student, span, line) in all {
            let same_student = previous_student == Some(student);
            if same_student {
                let previous = spans.last_mut().filter(|_| same_student);
                if let Some(previous) = previous {
                    if span.first == previous.last && span.first > previous.first {
                        // A same-day transfer: the day belongs to the later span.
                        previous.last = span.first - 1;
                    } else if span.first <= previous.last {
                        let entry = NaiveDate::from_num_days_from_ce_opt(span.first)
                            .map(|d| d.format(crate::contract::DATE_FORMAT).to_string())
                            .unwrap_or_default();
                        rejects.push(Rejected {
                            line,
                            column: "entry_date",
                            value: entry,
                            reason: format!(
                                "overlaps the student's enrollment span on line {kept_line} (only a span ending on the day the next begins may touch it)"
                            ),
                        });
                        continue;
                    }
                }
            }
            previous_student = Some(student);
            kept_line = line;
            spans.push(span);
            offsets[student as usize + 1] = spans.len() as u32;
        }
        // Students without spans take the end of the student before them.
        for s in 1..offsets.len() {
            offsets[s] = offsets[s].max(offsets[s - 1]);
        }
        Ok((
            Membership {
                calendars,
                offsets,
                spans,
            },
            rejects,
        ))
    }

    fn spans_of(&self, student: u32) -> &[Span] {
        let s = student as usize;
        match (self.offsets.get(s), self.offsets.get(s + 1)) {
            (Some(&from), Some(&to)) => &self.spans[from as usize..to as usize],
            _ => &[],
        }
    }

    /// Whether `day` is a membership day of `student` at `school` (None: a school without
    /// calendar rows).
    pub fn check(&self, student: u32, day: i32, school: Option<u32>) -> Result<(), NotMember> {
        let spans = self.spans_of(student);
        if spans.is_empty() {
            return Err(NotMember::NoSpan);
        }
        let span = spans
            .iter()
            .find(|s| s.first <= day && day <= s.last)
            .ok_or(NotMember::OutsideSpans)?;
        if school != Some(span.school) {
            return Err(NotMember::OtherSchool);
        }
        if !self.calendars.is_instructional(span.school, day) {
            return Err(NotMember::NotInstructional);
        }
        Ok(())
    }

    /// Membership days of `student` in `first..=last`.
    pub fn days(&self, student: u32, first: i32, last: i32) -> u32 {
        self.spans_of(student)
            .iter()
            .map(|s| {
                self.calendars
                    .count(s.school, s.first.max(first), s.last.min(last))
            })
            .sum()
    }

    /// The class periods of `student`'s membership days in `first..=last`.
    pub fn periods_between(&self, student: u32, first: i32, last: i32, default: u8) -> u64 {
        self.spans_of(student)
            .iter()
            .map(|s| {
                self.calendars
                    .period_total(s.school, s.first.max(first), s.last.min(last), default)
            })
            .sum()
    }

    /// The class periods of `student` on `day`: those of the school of the span holding it (0
    /// when it is not a membership day).
    pub fn periods_on(&self, student: u32, day: i32, default: u8) -> u8 {
        self.spans_of(student)
            .iter()
            .find(|s| s.first <= day && day <= s.last)
            .map_or(0, |s| self.calendars.periods_on(s.school, day, default))
    }

    /// The first day of `student`'s recent window: the last `n` instructional days up to
    /// `as_of` of the school of their latest span begun by then.
    pub fn recent_start(&self, student: u32, as_of: i32, n: usize) -> i32 {
        self.spans_of(student)
            .iter()
            .rev()
            .find(|s| s.first <= as_of)
            .map_or(i32::MAX, |s| {
                self.calendars.recent_start(s.school, as_of, n)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn ce(text: &str) -> i32 {
        day(text).num_days_from_ce()
    }

    /// Two schools: 001 open Mon 2025-09-01 … Fri 09-05 (Wed 09-03 not instructional), 002 open
    /// 09-01 … 09-05.
    fn calendars() -> SchoolCalendars {
        let dates = [
            "2025-09-01",
            "2025-09-02",
            "2025-09-03",
            "2025-09-04",
            "2025-09-05",
        ];
        let mut schools = Vec::new();
        let mut days = Vec::new();
        let mut yes = Vec::new();
        for school in ["001", "002"] {
            for d in dates {
                schools.push(school);
                days.push(day(d));
                yes.push(!(school == "001" && d == "2025-09-03"));
            }
        }
        let frame = df!("school_id" => schools, "date" => days, "instructional" => yes).unwrap();
        SchoolCalendars::from_frame(&frame).unwrap()
    }

    fn membership(
        rows: &[(&str, &str, &str, Option<&str>)],
        config: &Config,
    ) -> (Membership, Vec<Rejected>) {
        let ids = StringChunked::from_slice("id".into(), &["s1", "s2"]);
        let students = StudentIndex::new(&ids);
        let frame = df!(
            LINE => (2..rows.len() as u64 + 2).collect::<Vec<_>>(),
            "student_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "school_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "entry_date" => rows.iter().map(|r| day(r.2)).collect::<Vec<_>>(),
            "exit_date" => rows.iter().map(|r| r.3.map(day)).collect::<Vec<_>>(),
        )
        .unwrap();
        Membership::build(&frame, &students, calendars(), config).unwrap()
    }

    #[test]
    fn membership_days_are_instructional_days_of_the_span_school() {
        let config = Config::default();
        let (m, rejects) = membership(&[("s1", "001", "2025-09-02", None)], &config);
        assert!(rejects.is_empty());
        // 09-02, 09-04, 09-05 (09-03 is not instructional at 001, 09-01 before entry).
        assert_eq!(m.days(0, ce("2025-07-01"), ce("2026-06-30")), 3);
        assert_eq!(
            m.check(0, ce("2025-09-03"), Some(0)),
            Err(NotMember::NotInstructional)
        );
        assert_eq!(
            m.check(0, ce("2025-09-01"), Some(0)),
            Err(NotMember::OutsideSpans)
        );
        assert_eq!(
            m.check(0, ce("2025-09-04"), Some(1)),
            Err(NotMember::OtherSchool)
        );
        assert_eq!(m.check(0, ce("2025-09-04"), Some(0)), Ok(()));
        assert_eq!(
            m.check(1, ce("2025-09-04"), Some(0)),
            Err(NotMember::NoSpan)
        );
        assert_eq!(m.days(1, ce("2025-07-01"), ce("2026-06-30")), 0);
    }

    #[test]
    fn a_same_day_transfer_counts_the_day_once_at_the_later_school() {
        let config = Config::default();
        let (m, rejects) = membership(
            &[
                ("s1", "001", "2025-09-01", Some("2025-09-04")),
                ("s1", "002", "2025-09-04", None),
            ],
            &config,
        );
        assert!(rejects.is_empty());
        // 001: 09-01, 09-02 (09-03 closed); 002: 09-04, 09-05.
        assert_eq!(m.days(0, ce("2025-07-01"), ce("2026-06-30")), 4);
        assert_eq!(
            m.check(0, ce("2025-09-04"), Some(0)),
            Err(NotMember::OtherSchool)
        );
        assert_eq!(m.check(0, ce("2025-09-04"), Some(1)), Ok(()));
        // The recent window follows the latest school's calendar: its last 2 days.
        assert_eq!(m.recent_start(0, ce("2025-09-05"), 2), ce("2025-09-04"));
    }

    #[test]
    fn exit_date_as_the_day_after_ends_the_span_the_day_before() {
        let config = Config {
            enrollment: crate::config::EnrollmentConfig {
                exit_date: ExitDate::DayAfter,
            },
            ..Config::default()
        };
        let (m, rejects) = membership(&[("s1", "002", "2025-09-01", Some("2025-09-04"))], &config);
        assert!(rejects.is_empty());
        // 09-01, 09-02, 09-03: 09-04 is the first day not enrolled.
        assert_eq!(m.days(0, ce("2025-07-01"), ce("2026-06-30")), 3);
        assert_eq!(
            m.check(0, ce("2025-09-04"), Some(1)),
            Err(NotMember::OutsideSpans)
        );
    }

    #[test]
    fn overlapping_spans_and_schools_without_a_calendar_are_rejected() {
        let config = Config::default();
        let (m, rejects) = membership(
            &[
                ("s1", "001", "2025-09-01", None),
                ("s1", "002", "2025-09-03", None),
                ("s2", "009", "2025-09-01", None),
            ],
            &config,
        );
        let found: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.column)).collect();
        assert_eq!(found, [(4, "school_id"), (3, "entry_date")]);
        assert!(
            rejects[1].reason.contains("line 2"),
            "{}",
            rejects[1].reason
        );
        assert_eq!(m.days(0, ce("2025-07-01"), ce("2026-06-30")), 4);
        assert_eq!(m.days(1, ce("2025-07-01"), ce("2026-06-30")), 0);
    }
}
