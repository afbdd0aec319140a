//! Students and their enrollment: the Student interchange's ids (read first, to check every
//! later reference), StudentSchoolAssociation → enrollment.csv, the demographics of
//! StudentEducationOrganizationAssociation, and students.csv written in a second pass over
//! the Student interchange once those are known.
//!
//! students.csv leaves `school_id`, `grade_level` and `school_name` blank: ews fills the school
//! and grade from each student's latest enrollment span (docs/input-contract.md, part 2),
//! which is what Ed-Fi records, rather than the importer choosing a span.

use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};

use super::report::Section;
use super::xml::{Interchange, Record};
use super::{date_cell, each_record, school_year_end, xs_date, Import};
use crate::io::error::Result;

/// What the enrollment interchange says about each student, for students.csv.
#[derive(Debug, Default)]
pub struct People {
    /// Student → (entry date of the association, cohort year) of the latest association with
    /// a ClassOfSchoolYear.
    cohorts: FxHashMap<String, (chrono::NaiveDate, i32)>,
    demographics: FxHashMap<String, Demographics>,
    /// Students with at least one enrollment row written.
    enrolled: FxHashSet<String>,
}

/// The demographic columns of students.csv, from StudentEducationOrganizationAssociation.
#[derive(Debug, Default, Clone)]
struct Demographics {
    gender: String,
    race_ethnicity: String,
    ell: String,
    sped: String,
    econ_disadvantaged: String,
}

const STUDENT_ID: &str = "StudentReference/StudentIdentity/StudentUniqueId";
const SCHOOL_ID: &str = "SchoolReference/SchoolIdentity/SchoolId";

/// First pass over a Student interchange: the ids, so that every later record can be checked.
pub fn read_student_ids(import: &mut Import, path: &Path) -> Result<u64> {
    import.students.get_or_insert_with(FxHashSet::default);
    each_record(import, path, |import, record| {
        if record.name != "Student" {
            return Ok(false);
        }
        if let (Some(ids), Some(id)) = (import.students.as_mut(), record.get("StudentUniqueId")) {
            ids.insert(id.to_string());
        }
        Ok(true)
    })
}

/// The enrollment interchange: spans to enrollment.csv, demographics and cohorts kept for
/// students.csv.
pub fn read_enrollment(import: &mut Import, path: &Path) -> Result<u64> {
    each_record(import, path, |import, record| {
        match record.name.as_str() {
            "StudentSchoolAssociation" => enrollment_row(import, path, record)?,
            "StudentEducationOrganizationAssociation" => demographics(import, path, record)?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

fn enrollment_row(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let output = crate::contract::ENROLLMENT.name;
    import.output(&crate::contract::ENROLLMENT)?;
    let student = record.get(STUDENT_ID);
    let school = record.get(SCHOOL_ID);
    if !import.check_references(path, record, output, student, school)? {
        return Ok(());
    }
    let student = student.unwrap_or_default();
    let Some(school) = school else {
        return import.reject(path, record, output, "no SchoolId", student, "");
    };
    let grade = record
        .get("EntryGradeLevel")
        .and_then(|g| import.descriptors.map("GradeLevelDescriptor", g))
        .unwrap_or_default();
    let exit_code = record
        .get("ExitWithdrawType")
        .map(|e| {
            import
                .descriptors
                .map_or_code("ExitWithdrawTypeDescriptor", e)
        })
        .unwrap_or_default();
    let entry = record.get("EntryDate");
    if let (Some(entry), Some(class)) = (
        entry.and_then(xs_date),
        record.get("ClassOfSchoolYear").and_then(school_year_end),
    ) {
        let cohort = import
            .people
            .cohorts
            .entry(student.to_string())
            .or_insert((entry, class));
        if entry >= cohort.0 {
            *cohort = (entry, class);
        }
    }
    import.people.enrolled.insert(student.to_string());
    let exit_date = date_cell(record.get("ExitWithdrawDate"));
    import.output(&crate::contract::ENROLLMENT)?.record(&[
        ("student_id", student),
        ("school_id", school),
        ("entry_date", &date_cell(entry)),
        ("exit_date", &exit_date),
        ("exit_code", &exit_code),
        ("entry_grade_level", &grade),
    ])
}

fn demographics(import: &mut Import, path: &Path, record: &Record) -> Result<()> {
    let student = record.get(STUDENT_ID);
    if !import.check_references(path, record, crate::contract::STUDENTS.name, student, None)? {
        return Ok(());
    }
    let student = student.unwrap_or_default().to_string();
    let d = &mut import.descriptors;
    let gender = record
        .get("Sex")
        .map(|s| d.map_or_code("SexDescriptor", s))
        .unwrap_or_default();
    let races: Vec<String> = record
        .all("Race")
        .map(|r| d.map_or_code("RaceDescriptor", r))
        .collect();
    let race_ethnicity = if record.get("HispanicLatinoEthnicity") == Some("true") {
        "Hispanic or Latino".to_string()
    } else {
        match races.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            _ => "Two or more races".to_string(),
        }
    };
    let ell = record
        .get("LimitedEnglishProficiency")
        .and_then(|l| d.map("LimitedEnglishProficiencyDescriptor", l))
        .unwrap_or_default();
    // Lists: a student the association does not list as having a disability or the
    // characteristic does not have it.
    let sped = if record.has("Disability") { "Y" } else { "N" };
    let econ = record
        .all("StudentCharacteristic/StudentCharacteristic")
        .any(|c| {
            d.lookup("StudentCharacteristicDescriptor", c).as_deref() == Some("econ_disadvantaged")
        });
    let found = Demographics {
        gender,
        race_ethnicity,
        ell,
        sped: sped.into(),
        econ_disadvantaged: if econ { "Y" } else { "N" }.into(),
    };
    // A student with associations to several organizations: the first value of each column.
    let known = import.people.demographics.entry(student).or_default();
    for (have, new) in [
        (&mut known.gender, found.gender),
        (&mut known.race_ethnicity, found.race_ethnicity),
        (&mut known.ell, found.ell),
        (&mut known.sped, found.sped),
        (&mut known.econ_disadvantaged, found.econ_disadvantaged),
    ] {
        if have.is_empty() {
            *have = new;
        }
    }
    Ok(())
}

/// Second pass over a Student interchange: students.csv, with the enrollment interchange's
/// cohorts and demographics.
pub fn write_students(import: &mut Import, path: &Path) -> Result<()> {
    let output = crate::contract::STUDENTS.name;
    import.output(&crate::contract::STUDENTS)?;
    let mut interchange = Interchange::open(path)?;
    let mut record = Record::default();
    let mut without_enrollment = 0;
    let enrollment_read = import.seen.contains("StudentSchoolAssociation");
    while interchange.next(&mut record)? {
        if record.name != "Student" {
            continue;
        }
        let Some(id) = record.get("StudentUniqueId") else {
            import.reject(path, &record, output, "no StudentUniqueId", "", "")?;
            continue;
        };
        if enrollment_read && !import.people.enrolled.contains(id) {
            without_enrollment += 1;
        }
        let cohort = import
            .people
            .cohorts
            .get(id)
            .map(|(_, year)| year.to_string())
            .unwrap_or_default();
        let d = import
            .people
            .demographics
            .get(id)
            .cloned()
            .unwrap_or_default();
        // school_id, school_name and grade_level blank: ews fills them from enrollment.csv.
        import.output(&crate::contract::STUDENTS)?.record(&[
            ("student_id", id),
            (
                "first_name",
                record.get("Name/FirstName").unwrap_or_default(),
            ),
            (
                "last_name",
                record.get("Name/LastSurname").unwrap_or_default(),
            ),
            ("birth_date", &date_cell(record.get("BirthData/BirthDate"))),
            ("cohort_year", &cohort),
            ("gender", &d.gender),
            ("race_ethnicity", &d.race_ethnicity),
            ("ell", &d.ell),
            ("sped", &d.sped),
            ("econ_disadvantaged", &d.econ_disadvantaged),
        ])?;
    }
    if without_enrollment > 0 {
        import.report.add(
            Section::Note,
            "students without an enrollment span",
            without_enrollment,
            "no StudentSchoolAssociation: ews cannot give them a school, grade or membership days",
        );
    }
    Ok(())
}
