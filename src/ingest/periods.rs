//! Class-period attendance (period_attendance.csv, contract part 2): the periods a student
//! missed (`E` or `A`) on days they came to school. Only those rows matter (present periods
//! add nothing the calendar does not know), so a full export and an exception-only one give
//! the same counts; the periods scheduled come from the calendar, or
//! `attendance.periods_per_day` for each date with an attendance row. It never changes the
//! daily rates.

use chrono::Datelike;
use polars::prelude::*;

use crate::config::Config;
use crate::contract::ATTENDANCE_CODES;
use crate::ingest::attendance::Attendance;
use crate::ingest::input::LINE;
use crate::ingest::membership::NotMember;
use crate::ingest::quality::{rejects_frame, Action, IgnoredRows, QualityReport, RejectRow};
use crate::ingest::student_index::StudentIndex;
use crate::io::error::Result;

/// Per student (a row of students.csv): periods missed on days attended, and periods scheduled
/// on those days.
#[derive(Debug, Clone)]
pub struct PeriodAbsence {
    pub missed: Vec<f64>,
    pub scheduled: Vec<f64>,
}

/// Counts the missed periods of the accepted period_attendance.csv rows (`student_id`,
/// `school_id`, `date`, `period`, `code`, canonical codes) and the periods scheduled. Rows on a
/// day that is not a membership day are rejected (as in attendance.csv); rows on a day the
/// student was absent the whole day, or after the as-of date, are counted as ignored; a
/// student-day-period listed twice counts once.
pub fn period_absence(
    periods: &DataFrame,
    students: &StudentIndex,
    attendance: &Attendance,
    config: &Config,
    quality: &mut QualityReport,
) -> Result<PeriodAbsence> {
    let file = crate::contract::PERIOD_ATTENDANCE.name;
    let ids = periods.column("student_id")?.str()?;
    let schools = periods.column("school_id")?.str()?;
    let dates = periods.column("date")?.date()?;
    let numbers = periods.column("period")?.str()?;
    let codes = periods.column("code")?.str()?;
    let lines = periods.column(LINE)?.cast(&DataType::UInt64)?;
    let lines = lines.u64()?;
    let missed_codes = [ATTENDANCE_CODES[2], ATTENDANCE_CODES[3]];
    let (first, as_of) = (
        attendance.year_start.num_days_from_ce(),
        attendance.as_of.num_days_from_ce(),
    );
    let mut rejected: Vec<(u64, &'static str, Option<String>, &'static str)> = Vec::new();
    let (mut absent_all_day, mut after) = (0u64, 0u64);
    let mut missed: Vec<(u32, i32, &str)> = Vec::new();
    let rows = ids
        .iter()
        .zip(schools.iter())
        .zip(dates.as_date_iter())
        .zip(numbers.iter())
        .zip(codes.iter())
        .zip(lines.iter());
    for (((((id, school), date), period), code), line) in rows {
        let (Some(id), Some(date), Some(period), Some(code)) = (id, date, period, code) else {
            continue;
        };
        if !missed_codes.contains(&code) {
            continue;
        }
        let Some(student) = students.get(id.as_bytes()) else {
            continue;
        };
        let day = date.num_days_from_ce();
        if day > as_of {
            after += 1;
            continue;
        }
        if day < first {
            continue;
        }
        if let Some(membership) = attendance.membership() {
            let school_index = school.and_then(|s| membership.calendars.school(s.as_bytes()));
            if let Err(why) = membership.check(student, day, school_index) {
                let value = match why {
                    NotMember::NoSpan => id.to_string(),
                    NotMember::OtherSchool => school.unwrap_or_default().to_string(),
                    NotMember::OutsideSpans | NotMember::NotInstructional => {
                        date.format(crate::contract::DATE_FORMAT).to_string()
                    }
                };
                rejected.push((line.unwrap_or(0), why.column(), Some(value), why.reason()));
                continue;
            }
        }
        if attendance.day_absent_share(student, day) >= 1.0 {
            absent_all_day += 1;
            continue;
        }
        missed.push((student, day, period));
    }
    missed.sort_unstable();
    missed.dedup();
    let mut absence = PeriodAbsence {
        missed: vec![0.0; students.len()],
        scheduled: attendance.attended_periods(config.attendance.periods_per_day),
    };
    for (student, _, _) in &missed {
        absence.missed[*student as usize] += 1.0;
    }
    if !rejected.is_empty() {
        let frame = rejects_frame(
            file,
            rejected
                .iter()
                .map(|(line, column, value, reason)| RejectRow {
                    line: *line,
                    column,
                    value: value.as_deref(),
                    reason,
                    action: Action::Reject,
                }),
        )?;
        quality.add_rejects(file, frame);
    }
    let ignored = [
        IgnoredRows {
            file,
            reason: "missed period on a day the student was absent the whole day (the daily rates count it)",
            rows: absent_all_day,
        },
        IgnoredRows {
            file,
            reason: "dated after the as-of date",
            rows: after,
        },
    ];
    let ignored: Vec<IgnoredRows> = ignored.into_iter().filter(|i| i.rows > 0).collect();
    quality.add_ignored(&ignored);
    Ok(absence)
}
