//! Attendance events: StudentSchoolAttendanceEvent → attendance.csv and
//! StudentSectionAttendanceEvent → period_attendance.csv, one row per event as it is read.
//!
//! Ed-Fi records exceptions (a day present has no event), so the snapshot is in exception
//! mode. The category maps through AttendanceEventCategoryDescriptor (In Attendance P, Tardy
//! T, Excused Absence E, Unexcused Absence A; anything else is unmapped and the event
//! rejected), and `EventDuration` ("1/2 day = 0.5") is the row's `day_fraction`. A section
//! event's period is its ClassPeriodName when the event names one, else the section's
//! identifier: Ed-Fi takes section attendance by section.

use std::path::Path;

use super::xml::Record;
use super::{date_cell, each_record, Import};
use crate::io::error::Result;

const STUDENT_ID: &str = "StudentReference/StudentIdentity/StudentUniqueId";
const CATEGORY: &str = "AttendanceEvent/AttendanceEventCategory";
const DATE: &str = "AttendanceEvent/EventDate";

/// Reason of an event whose category the descriptor table does not map.
pub const UNMAPPED_CATEGORY: &str =
    "attendance event category not mapped (see the report's unmapped descriptors)";

pub fn read(import: &mut Import, path: &Path) -> Result<u64> {
    each_record(import, path, |import, record| {
        match record.name.as_str() {
            "StudentSchoolAttendanceEvent" => school_event(import, path, record)?,
            "StudentSectionAttendanceEvent" => section_event(import, path, record)?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

/// The event's code, or `None` with the event rejected.
fn code(
    import: &mut Import,
    path: &Path,
    record: &Record,
    output: &str,
    student: &str,
) -> Result<Option<String>> {
    let Some(category) = record.get(CATEGORY) else {
        import.reject(
            path,
            record,
            output,
            "no AttendanceEventCategory",
            student,
            "",
        )?;
        return Ok(None);
    };
    match import
        .descriptors
        .map("AttendanceEventCategoryDescriptor", category)
    {
        Some(code) => Ok(Some(code)),
        None => {
            let value = super::descriptors::code_value(category).to_string();
            import.reject(path, record, output, UNMAPPED_CATEGORY, student, &value)?;
            Ok(None)
        }
    }
}

fn school_event(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let output = crate::contract::ATTENDANCE.name;
    import.output(&crate::contract::ATTENDANCE)?;
    let student = record.get(STUDENT_ID);
    let school = record.get("SchoolReference/SchoolIdentity/SchoolId");
    if !import.check_references(path, record, output, student, school)? {
        return Ok(());
    }
    let student = student.unwrap_or_default();
    let Some(school) = school else {
        return import.reject(path, record, output, "no SchoolId", student, "");
    };
    let Some(code) = code(import, path, record, output, student)? else {
        return Ok(());
    };
    // A whole day is the contract's blank day_fraction.
    let fraction = record
        .get("AttendanceEvent/EventDuration")
        .filter(|d| d.parse::<f64>() != Ok(1.0))
        .unwrap_or_default();
    let date = date_cell(record.get(DATE));
    import.output(&crate::contract::ATTENDANCE)?.record(&[
        ("student_id", student),
        ("school_id", school),
        ("date", &date),
        ("code", &code),
        ("day_fraction", fraction),
    ])
}

fn section_event(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let output = crate::contract::PERIOD_ATTENDANCE.name;
    import.output(&crate::contract::PERIOD_ATTENDANCE)?;
    let student = record.get(STUDENT_ID);
    let section = "SectionReference/SectionIdentity";
    let school = record.get(&format!(
        "{section}/CourseOfferingReference/CourseOfferingIdentity/SchoolReference/SchoolIdentity/SchoolId"
    ));
    if !import.check_references(path, record, output, student, school)? {
        return Ok(());
    }
    let student = student.unwrap_or_default();
    let Some(school) = school else {
        return import.reject(
            path,
            record,
            output,
            "no SchoolId in the SectionReference",
            student,
            "",
        );
    };
    let period = record
        .get("ClassPeriodReference/ClassPeriodIdentity/ClassPeriodName")
        .or_else(|| record.get(&format!("{section}/SectionIdentifier")))
        .map(String::from);
    let Some(period) = period else {
        return import.reject(
            path,
            record,
            output,
            "no SectionIdentifier or ClassPeriodName",
            student,
            "",
        );
    };
    let Some(code) = code(import, path, record, output, student)? else {
        return Ok(());
    };
    let date = date_cell(record.get(DATE));
    import
        .output(&crate::contract::PERIOD_ATTENDANCE)?
        .record(&[
            ("student_id", student),
            ("school_id", school),
            ("date", &date),
            ("period", &period),
            ("code", &code),
        ])
}
