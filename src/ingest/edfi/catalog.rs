//! The reference data of an Ed-Fi district, read before the records that point to it: schools
//! and courses (EducationOrganization), course offerings (MasterSchedule), and sessions,
//! grading periods and calendars (EducationOrgCalendar), and calendar.csv made from them.
//!
//! A school's instructional days come from its CalendarDates where they list a session's
//! days; where they list fewer than the session's TotalInstructionalDays (Grand Bend lists
//! two dates for a year), the session's days are its weekdays from BeginDate to EndDate minus
//! the dates a CalendarDate marks non-instructional, and the difference to
//! TotalInstructionalDays is reported for each session, never hidden.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};
use rustc_hash::FxHashMap;

use super::report::Section;
use super::xml::Record;
use super::{each_record, xs_date, Import};
use crate::io::error::Result;

/// A course of the course catalog.
#[derive(Debug, Clone, Default)]
pub struct Course {
    pub title: Option<String>,
    /// The contract's subject (or the descriptor's code value).
    pub subject: Option<String>,
}

/// A session (a semester, a trimester, a year) of one school.
#[derive(Debug, Clone)]
pub struct Session {
    pub school: String,
    pub name: String,
    pub school_year: String,
    pub begin: NaiveDate,
    pub end: NaiveDate,
    /// The contract's term of the session's TermDescriptor (`S1`, `Y`…), when mapped.
    pub term: Option<String>,
    pub total_days: Option<i64>,
}

/// A grading period of one school.
#[derive(Debug, Clone)]
pub struct GradingPeriod {
    pub term: Option<String>,
    pub school_year: String,
    pub end: NaiveDate,
}

/// The reference data read so far.
#[derive(Debug, Default)]
pub struct Catalog {
    /// School id → name; `None` until a School is read (school references are then not
    /// checked).
    pub schools: Option<FxHashMap<String, String>>,
    /// Course code → course.
    pub courses: FxHashMap<String, Course>,
    /// Offering key ([`offering_key`]) → (course code, local title).
    pub offerings: FxHashMap<String, (String, Option<String>)>,
    pub sessions: Vec<Session>,
    /// Grading period key ([`grading_period_key`]) or `#id` → grading period.
    pub grading_periods: FxHashMap<String, GradingPeriod>,
    /// Calendar `#id` or identity key → school id (a CalendarDate may point to its calendar
    /// by id).
    calendars: FxHashMap<String, String>,
    /// School id → date → instructional (a date any calendar of the school marks
    /// instructional is instructional).
    calendar_dates: BTreeMap<String, BTreeMap<NaiveDate, bool>>,
}

impl Catalog {
    pub fn knows_school(&self, id: &str) -> bool {
        self.schools.as_ref().is_none_or(|s| s.contains_key(id))
    }

    /// The session of a school, year and (contract) term.
    pub fn session_by_term(&self, school: &str, school_year: &str, term: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| {
            s.school == school && s.school_year == school_year && s.term.as_deref() == Some(term)
        })
    }

    /// The session of a school, year and name.
    pub fn session_by_name(&self, school: &str, school_year: &str, name: &str) -> Option<&Session> {
        self.sessions
            .iter()
            .find(|s| s.school == school && s.school_year == school_year && s.name == name)
    }
}

/// Key of a course offering: school, local course code, session name and school year.
pub fn offering_key(school: &str, local_code: &str, session: &str, year: &str) -> String {
    format!("{school}\u{1f}{local_code}\u{1f}{session}\u{1f}{year}")
}

/// Key of a grading period: school, descriptor code value (any case), name and school year.
pub fn grading_period_key(school: &str, descriptor: &str, name: &str, year: &str) -> String {
    format!(
        "{school}\u{1f}{}\u{1f}{name}\u{1f}{year}",
        super::descriptors::code_value(descriptor).to_lowercase()
    )
}

const SCHOOL_ID: &str = "SchoolReference/SchoolIdentity/SchoolId";

/// Reads one reference-data interchange; returns its records.
pub fn read(import: &mut Import, path: &Path) -> Result<u64> {
    each_record(import, path, |import, record| {
        match record.name.as_str() {
            "School" => {
                let Some(id) = record.get("SchoolId") else {
                    import.reject(path, record, "(schools)", "no SchoolId", "", "")?;
                    return Ok(true);
                };
                let name = record
                    .get("NameOfInstitution")
                    .unwrap_or_default()
                    .to_string();
                import
                    .catalog
                    .schools
                    .get_or_insert_with(FxHashMap::default)
                    .insert(id.to_string(), name);
            }
            "Course" => {
                let Some(code) = record.get("CourseCode") else {
                    import.reject(path, record, "(courses)", "no CourseCode", "", "")?;
                    return Ok(true);
                };
                let subject = record.get("AcademicSubject").map(|s| {
                    import
                        .descriptors
                        .map_or_code("AcademicSubjectDescriptor", s)
                });
                let course = Course {
                    title: record.get("CourseTitle").map(String::from),
                    subject,
                };
                import.catalog.courses.insert(code.to_string(), course);
            }
            "CourseOffering" => {
                let (Some(local), Some(school), Some(course)) = (
                    record.get("LocalCourseCode"),
                    record.get(SCHOOL_ID),
                    record.get("CourseReference/CourseIdentity/CourseCode"),
                ) else {
                    import.reject(
                        path,
                        record,
                        "(course offerings)",
                        "no LocalCourseCode, SchoolId or CourseCode",
                        "",
                        "",
                    )?;
                    return Ok(true);
                };
                let session = record
                    .get("SessionReference/SessionIdentity/SessionName")
                    .unwrap_or_default();
                let year = record
                    .get("SessionReference/SessionIdentity/SchoolYear")
                    .unwrap_or_default();
                let key = offering_key(school, local, session, year);
                let title = record.get("LocalCourseTitle").map(String::from);
                import
                    .catalog
                    .offerings
                    .insert(key, (course.to_string(), title));
            }
            "Session" => read_session(import, path, record)?,
            "GradingPeriod" => read_grading_period(import, path, record)?,
            "Calendar" => {
                let (Some(code), Some(school)) =
                    (record.get("CalendarCode"), record.get(SCHOOL_ID))
                else {
                    import.reject(
                        path,
                        record,
                        "calendar.csv",
                        "no CalendarCode or SchoolId",
                        "",
                        "",
                    )?;
                    return Ok(true);
                };
                let year = record.get("SchoolYear").unwrap_or_default();
                let calendars = &mut import.catalog.calendars;
                calendars.insert(
                    format!("{code}\u{1f}{school}\u{1f}{year}"),
                    school.to_string(),
                );
                if let Some(id) = record.get("@id") {
                    calendars.insert(format!("#{id}"), school.to_string());
                }
            }
            "CalendarDate" => read_calendar_date(import, path, record)?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

fn read_session(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let dates = (
        record.get("BeginDate").and_then(xs_date),
        record.get("EndDate").and_then(xs_date),
    );
    let (Some(school), Some(name), Some(year), (Some(begin), Some(end))) = (
        record.get(SCHOOL_ID),
        record.get("SessionName"),
        record.get("SchoolYear"),
        dates,
    ) else {
        return import.reject(
            path,
            record,
            "calendar.csv",
            "session without SchoolId, SessionName, SchoolYear, or a BeginDate and EndDate that are dates",
            "",
            "",
        );
    };
    let term = record
        .get("Term")
        .and_then(|t| import.descriptors.map("TermDescriptor", t));
    let session = Session {
        school: school.to_string(),
        name: name.to_string(),
        school_year: year.to_string(),
        begin,
        end,
        term,
        total_days: record
            .get("TotalInstructionalDays")
            .and_then(|t| t.parse().ok()),
    };
    import.catalog.sessions.push(session);
    Ok(())
}

fn read_grading_period(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let (Some(school), Some(descriptor), Some(name), Some(year), Some(end)) = (
        record.get(SCHOOL_ID),
        record.get("GradingPeriod"),
        record.get("GradingPeriodName"),
        record.get("SchoolYear"),
        record.get("EndDate").and_then(xs_date),
    ) else {
        return import.reject(
            path,
            record,
            "grades.csv",
            "grading period without SchoolId, GradingPeriod, GradingPeriodName, SchoolYear or an EndDate that is a date",
            "",
            "",
        );
    };
    let period = GradingPeriod {
        term: import
            .descriptors
            .map("GradingPeriodDescriptor", descriptor),
        school_year: year.to_string(),
        end,
    };
    if let Some(id) = record.get("@id") {
        import
            .catalog
            .grading_periods
            .insert(format!("#{id}"), period.clone());
    }
    import
        .catalog
        .grading_periods
        .insert(grading_period_key(school, descriptor, name, year), period);
    Ok(())
}

fn read_calendar_date(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let school = record
        .get("CalendarReference/CalendarIdentity/SchoolReference/SchoolIdentity/SchoolId")
        .map(String::from)
        .or_else(|| {
            let id = record.get("CalendarReference/@ref")?;
            import.catalog.calendars.get(&format!("#{id}")).cloned()
        });
    let Some(school) = school else {
        return import.reject(
            path,
            record,
            "calendar.csv",
            "calendar date whose calendar (and so school) is not known",
            "",
            "",
        );
    };
    let Some(date) = record.get("Date").and_then(xs_date) else {
        return import.reject(
            path,
            record,
            "calendar.csv",
            "calendar date without a Date that is a date",
            "",
            "",
        );
    };
    let mut instructional = None;
    for event in record.all("CalendarEvent") {
        if let Some(value) = import.descriptors.map("CalendarEventDescriptor", event) {
            instructional = Some(instructional.unwrap_or(false) || value == "Y");
        }
    }
    let Some(instructional) = instructional else {
        return import.reject(
            path,
            record,
            "calendar.csv",
            "no CalendarEvent mapped to instructional or not (see the report's unmapped descriptors)",
            "",
            &date.to_string(),
        );
    };
    let day = import
        .catalog
        .calendar_dates
        .entry(school)
        .or_default()
        .entry(date)
        .or_insert(false);
    *day |= instructional;
    Ok(())
}

/// Writes calendar.csv: each school's instructional days (from its sessions and calendar
/// dates) and the dates marked non-instructional, with a report line per session.
pub fn write_calendar(import: &mut Import) -> Result<()> {
    let mut schools: BTreeSet<String> = import.catalog.calendar_dates.keys().cloned().collect();
    schools.extend(import.catalog.sessions.iter().map(|s| s.school.clone()));
    if schools.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<(String, NaiveDate, bool)> = Vec::new();
    let mut notes: Vec<(String, u64, String)> = Vec::new();
    for school in &schools {
        let listed = import
            .catalog
            .calendar_dates
            .get(school)
            .cloned()
            .unwrap_or_default();
        let mut days: BTreeMap<NaiveDate, bool> = listed.clone();
        let mut sessions: Vec<&Session> = import
            .catalog
            .sessions
            .iter()
            .filter(|s| &s.school == school)
            .collect();
        sessions.sort_by_key(|s| (s.begin, s.name.clone()));
        for session in sessions {
            let listed_days = listed
                .range(session.begin..=session.end)
                .filter(|(_, instructional)| **instructional)
                .count() as i64;
            let complete = match session.total_days {
                Some(total) => listed_days >= total,
                None => listed_days > 0,
            };
            let item = format!("{school} {} ({})", session.name, session.school_year);
            if complete {
                let note = format!(
                    "{} {listed_days} instructional days; TotalInstructionalDays {}",
                    super::report::AS_DECLARED,
                    session
                        .total_days
                        .map_or("not given".into(), |t| t.to_string())
                );
                notes.push((item, listed_days as u64, note));
                continue;
            }
            let mut derived = 0i64;
            let mut date = session.begin;
            while date <= session.end {
                let weekday = !matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
                match listed.get(&date) {
                    Some(true) => derived += 1,
                    Some(false) => {}
                    None if weekday => {
                        days.insert(date, true);
                        derived += 1;
                    }
                    None => {}
                }
                date = match date.succ_opt() {
                    Some(next) => next,
                    None => break,
                };
            }
            let excluded = listed
                .range(session.begin..=session.end)
                .filter(|(_, i)| !**i)
                .count();
            let difference = match session.total_days {
                Some(total) => format!(
                    "TotalInstructionalDays {total}: difference {:+}",
                    derived - total
                ),
                None => "TotalInstructionalDays not given".into(),
            };
            let note = format!(
                "derived: CalendarDate lists {listed_days} of its instructional days, so they are the weekdays {}…{} minus {excluded} non-instructional CalendarDates ({difference})",
                session.begin, session.end
            );
            notes.push((item, derived as u64, note));
        }
        rows.extend(days.into_iter().map(|(d, i)| (school.clone(), d, i)));
    }
    for (item, count, note) in notes {
        import.report.add(Section::Calendar, item, count, &note);
    }
    let out = import.output(&crate::contract::CALENDAR)?;
    for (school, date, instructional) in rows {
        out.record(&[
            ("school_id", &school),
            ("date", &date.to_string()),
            ("instructional", if instructional { "Y" } else { "N" }),
        ])?;
    }
    Ok(())
}
