//! Marks: StudentGrade's Grade → grades.csv and StudentTranscript's CourseTranscript →
//! credits.csv.
//!
//! A grade's term is its grading period's (GradingPeriodDescriptor: `First Six Weeks` → `W1`)
//! for a `Grading Period` grade, its session's semester (`S1`, `S2`) for a `Semester` grade,
//! `Y` for a `Final` grade; other grade types (progress reports, exams) are not term marks and
//! are counted and skipped. Its `mark_date` is the CurrentGradeAsOfDate of a current grade,
//! else its grading period's EndDate. Its course is the course of its section's offering
//! (MasterSchedule); the title and subject come from the course catalog.
//!
//! A transcript row's term is its academic record's TermDescriptor; its completion date is
//! the EndDate of that session of the school, or, for a session the calendar interchange does
//! not hold (earlier years), the last day of its school year, counted in the report.

use std::path::Path;

use super::catalog::{grading_period_key, offering_key};
use super::report::Section;
use super::xml::Record;
use super::{each_record, school_year_end, Import};
use crate::io::error::Result;

pub fn read(import: &mut Import, path: &Path) -> Result<u64> {
    each_record(import, path, |import, record| {
        match record.name.as_str() {
            "Grade" => grade(import, path, record)?,
            "CourseTranscript" => transcript(import, path, record)?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

const SSA: &str = "StudentSectionAssociationReference/StudentSectionAssociationIdentity";

fn grade(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let output = crate::contract::GRADES.name;
    import.output(&crate::contract::GRADES)?;
    let offering = format!(
        "{SSA}/SectionReference/SectionIdentity/CourseOfferingReference/CourseOfferingIdentity"
    );
    let student = record.get(&format!(
        "{SSA}/StudentReference/StudentIdentity/StudentUniqueId"
    ));
    let school = record.get(&format!(
        "{offering}/SchoolReference/SchoolIdentity/SchoolId"
    ));
    if !import.check_references(path, record, output, student, school)? {
        return Ok(());
    }
    let student = student.unwrap_or_default();
    let (Some(school), Some(local)) = (school, record.get(&format!("{offering}/LocalCourseCode")))
    else {
        return import.reject(
            path,
            record,
            output,
            "no SchoolId or LocalCourseCode in the section reference",
            student,
            "",
        );
    };
    let session_name = record
        .get(&format!(
            "{offering}/SessionReference/SessionIdentity/SessionName"
        ))
        .unwrap_or_default();
    let session_year = record
        .get(&format!(
            "{offering}/SessionReference/SessionIdentity/SchoolYear"
        ))
        .unwrap_or_default();
    // The grade type: a term mark, or not one (counted and skipped).
    let grade_type = record.get("GradeType").unwrap_or_default();
    let Some(kind) = import.descriptors.lookup("GradeTypeDescriptor", grade_type) else {
        import.report.add(
            Section::Note,
            format!("grades not read: GradeType {}", super::descriptors::code_value(grade_type)),
            1,
            "not a term mark (map it in [edfi.descriptors.GradeTypeDescriptor] to grading_period, semester or final)",
        );
        return Ok(());
    };
    // The grading period: by identity, or by id.
    let gp = "GradingPeriodReference/GradingPeriodIdentity";
    let period = match (
        record.get(&format!("{gp}/SchoolReference/SchoolIdentity/SchoolId")),
        record.get(&format!("{gp}/GradingPeriod")),
        record.get(&format!("{gp}/GradingPeriodName")),
        record.get(&format!("{gp}/SchoolYear")),
    ) {
        (Some(s), Some(d), Some(n), Some(y)) => import
            .catalog
            .grading_periods
            .get(&grading_period_key(s, d, n, y)),
        _ => record
            .get("GradingPeriodReference/@ref")
            .and_then(|id| import.catalog.grading_periods.get(&format!("#{id}"))),
    }
    .cloned();
    let year = record
        .get(&format!("{gp}/SchoolYear"))
        .or(period.as_ref().map(|p| p.school_year.as_str()))
        .or(Some(session_year).filter(|y| !y.is_empty()))
        .and_then(school_year_end);
    let term = match kind.as_str() {
        "final" => Some("Y".to_string()),
        "semester" => import
            .catalog
            .session_by_name(school, session_year, session_name)
            .and_then(|s| s.term.clone())
            .filter(|t| t == "S1" || t == "S2"),
        _ => period.as_ref().and_then(|p| p.term.clone()),
    };
    let Some(term) = term else {
        let reason = match kind.as_str() {
            "semester" => "semester grade whose session is not a semester (Fall or Spring Semester) of the calendar interchange",
            _ => "grading period not in the EducationOrgCalendar interchange, or its descriptor not mapped to a term",
        };
        return import.reject(path, record, output, reason, student, "");
    };
    let current = record.get("CurrentGradeIndicator") == Some("true");
    let mark_date = if current {
        record.get("CurrentGradeAsOfDate").and_then(super::xs_date)
    } else {
        None
    }
    .or(period.as_ref().map(|p| p.end));
    let Some(mark_date) = mark_date else {
        return import.reject(
            path,
            record,
            output,
            "no mark date: the grading period is not in the EducationOrgCalendar interchange and the grade has no CurrentGradeAsOfDate",
            student,
            "",
        );
    };
    let Some(year) = year else {
        return import.reject(path, record, output, "no SchoolYear", student, "");
    };
    let key = offering_key(school, local, session_name, session_year);
    let (course_id, local_title) = match import.catalog.offerings.get(&key) {
        Some((code, title)) => (code.clone(), title.clone()),
        None => {
            if import.seen.contains("CourseOffering") {
                import.report.add(
                    Section::Note,
                    "grades whose offering is not in MasterSchedule",
                    1,
                    "course_id is the section's LocalCourseCode",
                );
            }
            (local.to_string(), None)
        }
    };
    let course = import
        .catalog
        .courses
        .get(&course_id)
        .cloned()
        .unwrap_or_default();
    let course_name = course.title.or(local_title).unwrap_or_default();
    let mark = record
        .get("LetterGradeEarned")
        .or(record.get("NumericGradeEarned"))
        .unwrap_or_default();
    import.output(&crate::contract::GRADES)?.record(&[
        ("student_id", student),
        ("school_id", school),
        ("school_year", &year.to_string()),
        ("term", &term),
        ("course_id", &course_id),
        ("course_name", &course_name),
        ("subject", course.subject.as_deref().unwrap_or_default()),
        ("mark", mark),
        (
            "percent",
            record.get("NumericGradeEarned").unwrap_or_default(),
        ),
        ("mark_date", &mark_date.to_string()),
    ])
}

fn transcript(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let output = crate::contract::CREDITS.name;
    import.output(&crate::contract::CREDITS)?;
    let sar = "StudentAcademicRecordReference/StudentAcademicRecordIdentity";
    let student = record.get(&format!(
        "{sar}/StudentReference/StudentIdentity/StudentUniqueId"
    ));
    if !import.check_references(path, record, output, student, None)? {
        return Ok(());
    }
    let student = student.unwrap_or_default();
    let organization = record
        .get(&format!("{sar}/EducationOrganizationReference/EducationOrganizationIdentity/EducationOrganizationId"))
        .unwrap_or_default();
    let (Some(year_text), Some(term_value), Some(course_id)) = (
        record.get(&format!("{sar}/SchoolYear")),
        record.get(&format!("{sar}/Term")),
        record.get("CourseReference/CourseIdentity/CourseCode"),
    ) else {
        return import.reject(
            path,
            record,
            output,
            "no SchoolYear, Term or CourseCode",
            student,
            "",
        );
    };
    let Some(year) = school_year_end(year_text) else {
        return import.reject(
            path,
            record,
            output,
            "SchoolYear is not a school year",
            student,
            year_text,
        );
    };
    let Some(term) = import.descriptors.map("TermDescriptor", term_value) else {
        let value = super::descriptors::code_value(term_value).to_string();
        return import.reject(
            path,
            record,
            output,
            "term descriptor not mapped (see the report's unmapped descriptors)",
            student,
            &value,
        );
    };
    let completion = match import
        .catalog
        .session_by_term(organization, year_text, &term)
    {
        Some(session) => session.end,
        None => {
            import.report.add(
                Section::Note,
                "credits whose session is not in the calendar interchange",
                1,
                "completion_date is the last day of the school year (the day before school_year_start)",
            );
            import
                .options
                .school_year_start
                .in_year(year)
                .pred_opt()
                .unwrap_or(chrono::NaiveDate::MIN)
        }
    };
    let course = import
        .catalog
        .courses
        .get(course_id)
        .cloned()
        .unwrap_or_default();
    let title = record
        .get("CourseTitle")
        .map(String::from)
        .or(course.title)
        .unwrap_or_default();
    let subject = record
        .get("AcademicSubject")
        .map(|s| {
            import
                .descriptors
                .map_or_code("AcademicSubjectDescriptor", s)
        })
        .or(course.subject)
        .unwrap_or_default();
    let recovery = record
        .get("MethodCreditEarned")
        .and_then(|m| import.descriptors.lookup("MethodCreditEarnedDescriptor", m))
        .filter(|v| v == "Y")
        .map_or("N", |_| "Y");
    let mark = record
        .get("FinalLetterGradeEarned")
        .or(record.get("FinalNumericGradeEarned"))
        .unwrap_or_default();
    import.output(&crate::contract::CREDITS)?.record(&[
        ("student_id", student),
        ("school_year", &year.to_string()),
        ("term", &term),
        ("course_id", course_id),
        ("course_name", &title),
        ("subject", &subject),
        (
            "credits_attempted",
            record.get("AttemptedCredits/Credits").unwrap_or_default(),
        ),
        (
            "credits_earned",
            record.get("EarnedCredits/Credits").unwrap_or_default(),
        ),
        ("mark", mark),
        ("completion_date", &completion.to_string()),
        ("credit_recovery", recovery),
    ])
}
