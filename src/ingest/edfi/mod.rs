//! `ews import edfi`: Ed-Fi interchange XML (Data Standard 4 and 5) to a canonical snapshot in
//! exception mode.
//!
//! Every `*.xml` file of the folder is read as a stream of records ([`xml`]); what a file
//! holds is known from its root element (`InterchangeStudentAttendance`, …), not its name. The
//! reference data (schools, courses, offerings, sessions, grading periods, calendars) is read
//! first ([`catalog`]), then the students and their enrollment ([`people`]), then the events
//! ([`events`]: attendance; [`marks`]: grades and transcripts; [`discipline`]: behavior and
//! interventions), each record written as a CSV row as it is read, so an interchange of any
//! size takes the memory of its reference data and one set of student ids.
//!
//! Nothing is guessed ("report, never invent"): a file the interchanges did not hold is not
//! written (grades.csv and credits.csv, which every snapshot has, are written with a header
//! only) and is listed as missing; descriptor code values map through a table
//! ([`descriptors`]) and an unknown one is counted, never interpreted; a reference to a
//! student or school the interchanges do not hold rejects the record. What was written,
//! rejected, missing, unmapped and skipped goes to the summary and to `import_report.csv`
//! ([`report`]); the rejected records with their values to `import_rejects.csv`.

pub mod catalog;
pub mod descriptors;
pub mod discipline;
pub mod events;
pub mod marks;
pub mod people;
pub mod report;
pub mod xml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashSet;

use crate::contract::{self, FileSpec};
use crate::io::error::{EwsError, Result};
use descriptors::Descriptors;
use report::{Output, Reject, Rejects, Report, Section};
use xml::{Interchange, Record};

/// The interchanges the importer reads, by root element, in the order they are read: the
/// reference data before the records that point to it.
pub const INTERCHANGES: [&str; 10] = [
    "InterchangeEducationOrganization",
    "InterchangeMasterSchedule",
    "InterchangeEducationOrgCalendar",
    "InterchangeStudent",
    "InterchangeStudentEnrollment",
    "InterchangeStudentAttendance",
    "InterchangeStudentGrade",
    "InterchangeStudentTranscript",
    "InterchangeStudentDiscipline",
    "InterchangeStudentIntervention",
];

/// The snapshot's files and the Ed-Fi elements each is made from: a file none of whose
/// elements the interchanges held is missing.
pub const SOURCES: [(&FileSpec, &[&str]); 9] = [
    (&contract::STUDENTS, &["Student"]),
    (&contract::ENROLLMENT, &["StudentSchoolAssociation"]),
    (&contract::CALENDAR, &["Session", "CalendarDate"]),
    (&contract::ATTENDANCE, &["StudentSchoolAttendanceEvent"]),
    (
        &contract::PERIOD_ATTENDANCE,
        &["StudentSectionAttendanceEvent"],
    ),
    (&contract::GRADES, &["Grade"]),
    (&contract::CREDITS, &["CourseTranscript"]),
    (
        &contract::BEHAVIOR,
        &[
            "DisciplineAction",
            "StudentDisciplineIncidentBehaviorAssociation",
        ],
    ),
    (
        &contract::INTERVENTIONS,
        &["StudentInterventionAssociation"],
    ),
];

/// Reference data whose absence leaves values blank or unchecked, with what it means.
const REFERENCE_SOURCES: [(&str, &str); 5] = [
    (
        "School",
        "schools not checked: records are not rejected for an unknown school",
    ),
    (
        "Course",
        "course titles and subjects only where a transcript row carries them",
    ),
    (
        "CourseOffering",
        "grades' course_id is the section's LocalCourseCode, not the course code",
    ),
    (
        "GradingPeriod",
        "a grade without a current-grade date has no mark_date and is rejected",
    ),
    (
        "StudentEducationOrganizationAssociation",
        "students' gender, race_ethnicity, ell, sped and econ_disadvantaged left blank",
    ),
];

/// What an import needs besides the folder.
pub struct ImportOptions<'a> {
    /// `[edfi.descriptors]` of the config.
    pub descriptors: &'a BTreeMap<String, BTreeMap<String, String>>,
    /// First day of the school year (`MM-DD`), for a transcript row whose session is unknown.
    pub school_year_start: crate::config::MonthDay,
}

/// What an import wrote: the report's counts.
pub struct Imported {
    pub report: Report,
    /// Interchange files read, and XML files skipped (not an interchange the importer reads).
    pub files_read: usize,
    pub files_skipped: usize,
}

/// The state of one import: the tables, the counts, and the files being written.
pub struct Import<'a> {
    pub dir: &'a Path,
    pub options: &'a ImportOptions<'a>,
    pub descriptors: Descriptors,
    pub report: Report,
    pub rejects: Rejects,
    pub catalog: catalog::Catalog,
    /// Every StudentUniqueId of the Student interchange; `None` without one (references to
    /// students are then not checked).
    pub students: Option<FxHashSet<String>>,
    pub people: people::People,
    /// Elements seen, by name (to tell a missing source from an empty one).
    pub seen: FxHashSet<String>,
    outputs: BTreeMap<&'static str, Output>,
}

impl<'a> Import<'a> {
    /// The contract file `spec` (created, with the contract's columns as its header, on
    /// first use).
    pub fn output(&mut self, spec: &'static crate::contract::FileSpec) -> Result<&mut Output> {
        let name = spec.name;
        if !self.outputs.contains_key(name) {
            let created = Output::for_spec(self.dir, spec)?;
            self.outputs.insert(name, created);
        }
        self.outputs.get_mut(name).ok_or_else(|| {
            EwsError::io(
                self.dir.join(name),
                std::io::Error::other("output not created"),
            )
        })
    }

    /// Rejects a record: written to import_rejects.csv and counted.
    pub fn reject(
        &mut self,
        file: &Path,
        record: &Record,
        output: &str,
        reason: &str,
        student_id: &str,
        value: &str,
    ) -> Result<()> {
        self.rejects.reject(
            &mut self.report,
            Reject {
                file,
                line: record.line,
                element: &record.name,
                output,
                reason,
                student_id,
                value,
            },
        )
    }

    /// Whether a student id is known (always, without a Student interchange).
    pub fn knows_student(&self, id: &str) -> bool {
        self.students.as_ref().is_none_or(|s| s.contains(id))
    }

    /// Checks a record's student and school references; on a miss the record is rejected and
    /// `false` returned.
    pub fn check_references(
        &mut self,
        file: &Path,
        record: &Record,
        output: &str,
        student_id: Option<&str>,
        school_id: Option<&str>,
    ) -> Result<bool> {
        let student = student_id.unwrap_or_default();
        let Some(student_id) = student_id else {
            self.reject(file, record, output, "no StudentUniqueId", "", "")?;
            return Ok(false);
        };
        if !self.knows_student(student_id) {
            self.reject(file, record, output, STUDENT_NOT_FOUND, student, student_id)?;
            return Ok(false);
        }
        if let Some(school) = school_id {
            if !self.catalog.knows_school(school) {
                self.reject(file, record, output, SCHOOL_NOT_FOUND, student, school)?;
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Reads every record of an interchange file in turn: `read` handles the records it knows
/// (returning `true`), and each one it does not is counted as a skipped element. The names
/// of the records handled are marked as seen (a source that was there, however empty). Returns
/// the number of records.
pub fn each_record(
    import: &mut Import,
    path: &Path,
    mut read: impl FnMut(&mut Import, &Record) -> Result<bool>,
) -> Result<u64> {
    let mut interchange = Interchange::open(path)?;
    let mut record = Record::default();
    let mut records = 0;
    while interchange.next(&mut record)? {
        records += 1;
        if read(import, &record)? {
            if !import.seen.contains(&record.name) {
                import.seen.insert(record.name.clone());
            }
        } else {
            let element = format!("{}/{}", interchange.root, record.name);
            import.report.add(Section::Skipped, element, 1, "");
        }
    }
    Ok(records)
}

/// Reason of a record whose student is not in the Student interchange.
pub const STUDENT_NOT_FOUND: &str = "student not in the Student interchange";
/// Reason of a record whose school is not in the EducationOrganization interchange.
pub const SCHOOL_NOT_FOUND: &str = "school not in the EducationOrganization interchange";

/// The snapshot.toml an import writes: attendance lists exceptions only.
pub const SNAPSHOT_TOML: &str = "# Written by ews import edfi: Ed-Fi attendance events are exceptions; every other\n# membership day (enrollment.csv × calendar.csv) is a day present.\n[attendance]\nmode = \"exceptions\"\n";

/// Imports every interchange file of `xml_dir` into `out` (an empty folder: the staging
/// folder of the command).
pub fn import(xml_dir: &Path, out: &Path, options: &ImportOptions) -> Result<Imported> {
    let files = interchange_files(xml_dir)?;
    let mut import = Import {
        dir: out,
        options,
        descriptors: Descriptors::new(options.descriptors),
        report: Report::default(),
        rejects: Rejects::create(out)?,
        catalog: catalog::Catalog::default(),
        students: None,
        people: people::People::default(),
        seen: FxHashSet::default(),
        outputs: BTreeMap::new(),
    };
    let mut read = 0;
    let mut skipped = 0;
    for (path, root) in &files {
        if !INTERCHANGES.contains(&root.as_str()) {
            import.report.add(
                Section::File,
                file_name(path),
                0,
                "not an interchange the importer reads: skipped",
            );
            skipped += 1;
        }
    }
    for interchange in INTERCHANGES {
        for (path, _) in files.iter().filter(|(_, root)| root == interchange) {
            read += 1;
            let records = match interchange {
                "InterchangeEducationOrganization"
                | "InterchangeMasterSchedule"
                | "InterchangeEducationOrgCalendar" => catalog::read(&mut import, path)?,
                "InterchangeStudent" => people::read_student_ids(&mut import, path)?,
                "InterchangeStudentEnrollment" => people::read_enrollment(&mut import, path)?,
                "InterchangeStudentAttendance" => events::read(&mut import, path)?,
                "InterchangeStudentGrade" | "InterchangeStudentTranscript" => {
                    marks::read(&mut import, path)?
                }
                _ => discipline::read(&mut import, path)?,
            };
            import
                .report
                .add(Section::File, file_name(path), records, interchange);
        }
        match interchange {
            "InterchangeEducationOrgCalendar" => catalog::write_calendar(&mut import)?,
            "InterchangeStudentEnrollment" => {
                let students: Vec<&PathBuf> = files
                    .iter()
                    .filter(|(_, root)| root == "InterchangeStudent")
                    .map(|(p, _)| p)
                    .collect();
                for path in students {
                    people::write_students(&mut import, path)?;
                }
            }
            _ => {}
        }
    }
    finish(import, out).map(|report| Imported {
        report,
        files_read: read,
        files_skipped: skipped,
    })
}

/// Closes the files, writes what is missing into the report, and the report itself.
fn finish(mut import: Import, out: &Path) -> Result<Report> {
    for (spec, sources) in SOURCES {
        let file = spec.name;
        if import.outputs.contains_key(file) {
            continue;
        }
        let elements = sources.join(" or ");
        // The files every snapshot has and an export may lack (input.not_exported).
        let required = crate::config::mapping::NOT_EXPORTABLE.contains(&file);
        let note = if required {
            format!("no {elements} in the interchanges: written with a header only (every snapshot has the file); list it in the config's input.not_exported, and ews reads its features as unknown")
        } else {
            format!("no {elements} in the interchanges: not written")
        };
        import.report.add(Section::Missing, file, 0, &note);
        if required {
            import.output(spec)?;
        }
    }
    for (element, consequence) in REFERENCE_SOURCES {
        if !import.seen.contains(element) {
            import.report.add(
                Section::Missing,
                element,
                0,
                &format!("no {element}: {consequence}"),
            );
        }
    }
    let outputs = std::mem::take(&mut import.outputs);
    for (name, output) in outputs {
        let rows = output.finish()?;
        import.report.add(Section::Written, name, rows, "");
    }
    let unmapped = std::mem::take(&mut import.descriptors.unmapped);
    for ((descriptor, code), count) in unmapped {
        import.report.add(
            Section::Unmapped,
            format!("{descriptor}#{code}"),
            count,
            &format!("map it in the config: [edfi.descriptors.{descriptor}]"),
        );
    }
    let path = out.join(crate::contract::SNAPSHOT_TOML);
    std::fs::write(&path, SNAPSHOT_TOML).map_err(|e| EwsError::io(&path, e))?;
    let rejected = import.rejects.finish()?;
    import
        .report
        .add(Section::Written, report::REJECTS_FILE, rejected, "");
    import.report.write(out)?;
    Ok(import.report)
}

/// The `*.xml` files of the folder (sorted by name), each with its root element. A folder
/// without any is an error (exit 2).
fn interchange_files(dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| EwsError::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| EwsError::io(dir, e))?.path();
        let is_xml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
        if is_xml && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(EwsError::BadFile {
            path: dir.to_path_buf(),
            message: "no .xml file: expected Ed-Fi interchange files (Student.xml, StudentAttendance.xml, …)".into(),
        });
    }
    paths
        .into_iter()
        .map(|path| {
            let root = Interchange::open(&path)?.root;
            Ok((path, root))
        })
        .collect()
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// An `xs:date` in the contract's format: the time zone an `xs:date` may carry (`Z`,
/// `-05:00`) dropped; `None` when it is not a date.
pub fn xs_date(value: &str) -> Option<chrono::NaiveDate> {
    let value = value.trim();
    let (date, zone) = value.split_at(value.len().min(10));
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && zone.as_bytes()[3] == b':');
    if !zone_ok {
        return None;
    }
    // YYYY-MM-DD by hand: chrono's format parser is a tenth of an import's time.
    let b = date.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

/// A date value for a CSV cell: the date in the contract's format when it is one, else the
/// value as written (for ews's checks to reject with its reason).
pub fn date_cell(value: Option<&str>) -> String {
    match value {
        // Already the contract's form (a plain xs:date): no reformatting.
        Some(v) if v.len() == 10 && xs_date(v).is_some() => v.to_string(),
        Some(v) => xs_date(v).map_or_else(
            || v.to_string(),
            |d| d.format(crate::contract::DATE_FORMAT).to_string(),
        ),
        None => String::new(),
    }
}

/// The year a school year ends in, from Ed-Fi's `SchoolYearType` (`2021-2022` → 2022) or a
/// bare year.
pub fn school_year_end(value: &str) -> Option<i32> {
    let value = value.trim();
    match value.split_once('-') {
        Some((_, end)) => end.trim().parse().ok(),
        None => value.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xs_dates_and_school_years_read_as_the_contract_writes_them() {
        let d = |s: &str| xs_date(s).map(|d| d.to_string());
        assert_eq!(d("2021-08-31").as_deref(), Some("2021-08-31"));
        assert_eq!(d("2021-08-31Z").as_deref(), Some("2021-08-31"));
        assert_eq!(d("2021-08-31-05:00").as_deref(), Some("2021-08-31"));
        assert_eq!(d("2021-08-31T10:00"), None);
        assert_eq!(d("08/31/2021"), None);
        assert_eq!(date_cell(Some("2021-08-31+01:00")), "2021-08-31");
        assert_eq!(date_cell(Some("31.08.2021")), "31.08.2021");
        assert_eq!(school_year_end("2021-2022"), Some(2022));
        assert_eq!(school_year_end("2029"), Some(2029));
        assert_eq!(school_year_end("next"), None);
    }
}
