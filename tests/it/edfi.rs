//! `ews import edfi`: the hand-written Ed-Fi 5.2 fixtures of tests/fixtures/edfi (each record
//! described in its README) imported file by file against rows written here by hand; the
//! report of what was rejected, unmapped, skipped and missing; malformed XML; the config's
//! descriptor table; and the Ed-Fi Grand Bend sample end to end when ../shared holds it.

use std::path::{Path, PathBuf};

use crate::common::{ews, root, write};

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/edfi")
}

/// Imports `xml` into `<work>/snapshot`; (exit code, stdout, stderr, snapshot folder).
fn import(work: &Path, xml: &Path, config: Option<&str>) -> (i32, String, String, PathBuf) {
    let out = work.join("snapshot");
    let mut args = vec![];
    let config_path = work.join("ews.toml");
    if let Some(toml) = config {
        std::fs::write(&config_path, toml).unwrap();
        args.extend(["--config", config_path.to_str().unwrap()]);
    }
    args.extend([
        "import",
        "edfi",
        xml.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let output = ews(&args);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
        out,
    )
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A copy of the fixtures, to break one of them.
fn fixture_copy(work: &Path) -> PathBuf {
    let dir = work.join("xml");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "xml") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

#[test]
fn the_fixture_interchanges_round_trip_file_by_file() {
    let work = tempfile::tempdir().unwrap();
    let (code, stdout, stderr, out) = import(work.path(), &fixtures(), None);
    // Records were rejected and descriptors left unmapped: a warning, not a failure.
    assert_eq!(code, 1, "{stdout}\n{stderr}");

    // Student.xml, with StudentEducationOrganizationAssociation's demographics (100001:
    // Hispanic, Limited English, economically disadvantaged; 100003: White, a disability,
    // NotLimited) and 100001's ClassOfSchoolYear 2028-2029. School and grade are blank: ews
    // fills them from enrollment.csv.
    assert_eq!(
        read(&out, "students.csv"),
        "student_id,first_name,last_name,school_id,grade_level,school_name,birth_date,cohort_year,gender,race_ethnicity,ell,sped,econ_disadvantaged,counselor,pathway\n\
         100001,Ana,Lopez,,,,2010-03-04,2029,F,Hispanic or Latino,Y,N,Y,,\n\
         100002,Ben,Okafor,,,,2009-05-06,,,,,,,,\n\
         100003,Chloé,Martin,,,,2008-01-02,,M,White,N,Y,N,,\n\
         100004,Dev,Patel,,,,2012-07-08,,,,,,,,\n\
         100005,Eve,Stone,,,,2009-11-30,,,,,,,,\n"
    );
    // StudentSchoolAssociation: 100009 (not in Student.xml) rejected; 100003's prior span
    // with an Ungraded level keeps its dates, its grade blank (unmapped).
    assert_eq!(
        read(&out, "enrollment.csv"),
        "student_id,school_id,entry_date,exit_date,exit_code,entry_grade_level\n\
         100001,900001001,2025-08-18,,,9\n\
         100002,900001001,2025-08-18,2025-09-05,Transferred,10\n\
         100003,900001001,2025-08-18,,,11\n\
         100004,900001002,2025-08-18,,,7\n\
         100003,900001001,2025-06-01,2025-06-15,,\n"
    );
    // The high school's CalendarDates list one instructional day: its days are the sessions'
    // weekdays minus 09-01 (Holiday) and 01-12 (Teacher only day). The middle school's list 4
    // of 5: its session's weekdays minus 08-22 (Weather day).
    let mut calendar = String::from("school_id,date,instructional,periods\n");
    let hs_fall = [
        "08-18", "08-19", "08-20", "08-21", "08-22", "08-25", "08-26", "08-27", "08-28", "08-29",
    ];
    for day in hs_fall {
        calendar += &format!("900001001,2025-{day},Y,\n");
    }
    calendar += "900001001,2025-09-01,N,\n";
    for day in ["02", "03", "04", "05", "08", "09", "10", "11", "12"] {
        calendar += &format!("900001001,2025-09-{day},Y,\n");
    }
    for day in ["05", "06", "07", "08", "09"] {
        calendar += &format!("900001001,2026-01-{day},Y,\n");
    }
    calendar += "900001001,2026-01-12,N,\n";
    for day in ["13", "14", "15", "16"] {
        calendar += &format!("900001001,2026-01-{day},Y,\n");
    }
    for day in ["18", "19", "20", "21"] {
        calendar += &format!("900001002,2025-08-{day},Y,\n");
    }
    calendar += "900001002,2025-08-22,N,\n";
    assert_eq!(read(&out, "calendar.csv"), calendar);
    // Events a, b (half a day), c, e, f (In Attendance), i; d (Partial: unmapped), g (student
    // 100009) and h (school 900001999) rejected.
    assert_eq!(
        read(&out, "attendance.csv"),
        "student_id,school_id,date,code,day_fraction\n\
         100001,900001001,2025-08-20,E,\n\
         100001,900001001,2025-08-21,A,0.5\n\
         100001,900001001,2025-08-25,T,\n\
         100002,900001001,2025-08-19,A,\n\
         100003,900001001,2025-09-10,P,\n\
         100004,900001002,2025-08-20,E,\n"
    );
    // Section events: the class period's name when the event names one, else the section.
    assert_eq!(
        read(&out, "period_attendance.csv"),
        "student_id,school_id,date,period,code\n\
         100001,900001001,2025-08-22,2nd Period,A\n\
         100003,900001001,2025-08-26,S-BIO-01,E\n"
    );
    // Grades a, b (First Six Weeks → W1, dated by its EndDate), c (a current grade, dated by
    // CurrentGradeAsOfDate), e (a Semester grade in the Fall Semester → S1, dated by its
    // grading period); d (a progress report) is not a term mark. Courses through the offering.
    assert_eq!(
        read(&out, "grades.csv"),
        "student_id,school_id,school_year,term,course_id,course_name,subject,mark,mark_date,percent,credits,course_term\n\
         100001,900001001,2026,W1,ALG-1,Algebra I,MATH,F,2025-08-29,55,,\n\
         100001,900001001,2026,W1,ENG-1,English I,ELA,C,2025-08-29,75,,\n\
         100003,900001001,2026,W2,BIO-1,Biology,SCI,B,2025-09-08,85,,\n\
         100003,900001001,2026,S1,BIO-1,Biology,SCI,B+,2025-09-12,88,,\n"
    );
    // Transcript: 2024-2025 has no session in the calendar interchange (completion on the
    // school year's last day, June 30); the Fall Semester 2025 ends 2025-09-12. The credit
    // recovery method marks c; d's title comes from the course catalog.
    assert_eq!(
        read(&out, "credits.csv"),
        "student_id,school_year,term,course_id,course_name,subject,credits_attempted,credits_earned,mark,completion_date,credit_recovery,course_term,recovers_course_id\n\
         100003,2025,Y,ENG-1,English I,ELA,1,1,A,2025-06-30,N,,\n\
         100003,2025,Y,ALG-1,Algebra I,MATH,1,0,F,2025-06-30,N,,\n\
         100003,2026,S1,ALG-1,Algebra I (credit recovery),MATH,1,1,C,2025-09-12,Y,,\n\
         100001,2026,S1,ART-1,Art I,Fine and Performing Arts,0.5,0.5,B,2025-09-12,N,,\n"
    );
    // Incident 1 for 100002 with action A1 (ISS, 2 days); action A2 (OSS, 3 days) names no
    // incident: a row of its own on its date; 100009's association rejected.
    assert_eq!(
        read(&out, "behavior.csv"),
        "student_id,date,incident_type,suspension_type,suspension_days\n\
         100002,2025-09-02,School Code of Conduct,ISS,2\n\
         100003,2025-09-09,Out of School Suspension,OSS,3\n"
    );
    assert_eq!(
        read(&out, "interventions.csv"),
        "student_id,intervention_type,start_date,status,course_id,end_date,credits_recovered\n\
         100001,instruction,2025-08-25,active,,,\n\
         100003,curriculum,2025-08-18,completed,,2025-09-12,\n"
    );
    assert_eq!(
        read(&out, "snapshot.toml")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["[attendance]", "mode = \"exceptions\""]
    );
}

#[test]
fn the_report_counts_what_was_rejected_unmapped_skipped_and_missing() {
    let work = tempfile::tempdir().unwrap();
    let (_, stdout, _, out) = import(work.path(), &fixtures(), None);
    let report = read(&out, "import_report.csv");
    for row in [
        "written,attendance.csv,6,",
        "written,import_rejects.csv,6,",
        "rejected,attendance.csv: student not in the Student interchange,1,",
        "rejected,attendance.csv: school not in the EducationOrganization interchange,1,",
        "rejected,enrollment.csv: student not in the Student interchange,1,",
        "unmapped descriptor,AttendanceEventCategoryDescriptor#Partial,1,",
        "unmapped descriptor,GradeLevelDescriptor#Ungraded,1,",
        "skipped element,InterchangeStudentDiscipline/StaffDisciplineIncidentAssociation,1,",
        "skipped element,InterchangeMasterSchedule/Section,3,",
        "calendar,900001002 2025-2026 Fall Semester (2025-2026),4,",
        "note,students without an enrollment span,1,",
        "note,grades not read: GradeType Progress Report,1,",
    ] {
        assert!(report.contains(row), "{row} not in\n{report}");
    }
    assert!(
        report.contains("TotalInstructionalDays 5: difference -1"),
        "{report}"
    );
    // Nothing is missing from the fixtures.
    assert!(!report.contains("\nmissing,"), "{report}");
    // The summary says the same, without a student's value.
    assert!(
        stdout.contains("AttendanceEventCategoryDescriptor#Partial"),
        "{stdout}"
    );
    for id in ["100001", "100009", "Ana", "Lopez"] {
        assert!(!stdout.contains(id), "the summary holds {id}: {stdout}");
    }
    // Each rejected record names its file and the line its element starts on.
    let rejects = read(&out, "import_rejects.csv");
    let xml = read(&fixtures(), "StudentAttendance.xml");
    let lines: Vec<&str> = xml.lines().collect();
    let mut seen = 0;
    for row in rejects
        .lines()
        .filter(|r| r.starts_with("StudentAttendance.xml,"))
    {
        let fields: Vec<&str> = row.split(',').collect();
        let line: usize = fields[1].parse().unwrap();
        assert_eq!(
            lines[line - 1].trim(),
            "<StudentSchoolAttendanceEvent>",
            "{row}"
        );
        let element: String = lines[line - 1..].iter().take(30).copied().collect();
        let value = fields[fields.len() - 1];
        assert!(
            element.contains(value),
            "{row}: the element does not hold {value}"
        );
        seen += 1;
    }
    assert_eq!(seen, 3, "{rejects}");
    // Modes: the student-level files are the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("attendance.csv"), 0o600);
        assert_eq!(mode("import_rejects.csv"), 0o600);
        assert_eq!(mode("import_report.csv"), 0o640);
    }
}

#[test]
fn malformed_xml_is_exit_2_naming_file_and_line_and_publishes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let xml = fixture_copy(work.path());
    let text = read(&xml, "StudentAttendance.xml");
    // Line 35 holds event b's EventDate; its end tag broken.
    assert!(text
        .lines()
        .nth(34)
        .unwrap()
        .contains("<EventDate>2025-08-21</EventDate>"));
    std::fs::write(
        xml.join("StudentAttendance.xml"),
        text.replacen("2025-08-21</EventDate>", "2025-08-21</EventDat>", 1),
    )
    .unwrap();
    let (code, _, stderr, out) = import(work.path(), &xml, None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("StudentAttendance.xml: line 35: malformed XML: an end tag does not match"),
        "{stderr}"
    );
    assert!(!stderr.contains("2025-08-21"), "{stderr}");
    assert!(!out.exists(), "nothing is published");
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("snapshot"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A file cut short, and a file that is not XML at all.
    std::fs::write(xml.join("StudentAttendance.xml"), &text[..text.len() / 2]).unwrap();
    let (code, _, stderr, _) = import(work.path(), &xml, None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("StudentAttendance.xml: line "), "{stderr}");
    std::fs::write(
        xml.join("StudentAttendance.xml"),
        "student_id,date\n100001,2025-08-20\n",
    )
    .unwrap();
    let (code, _, stderr, _) = import(work.path(), &xml, None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("StudentAttendance.xml: line 1: text before the root element"),
        "{stderr}"
    );
    assert!(!stderr.contains("100001"), "{stderr}");
}

#[test]
fn unknown_elements_are_counted_and_skipped_never_an_error() {
    let work = tempfile::tempdir().unwrap();
    let xml = fixture_copy(work.path());
    let text = read(&xml, "Student.xml");
    // A record the importer does not know, and an unknown child inside a Student.
    let text = text.replacen(
        "\t<Student>",
        "\t<FutureRecord><Anything>1</Anything></FutureRecord>\n\t<Student>\n\t\t<Nickname>x</Nickname>",
        1,
    );
    std::fs::write(xml.join("Student.xml"), text).unwrap();
    // A file of an interchange the importer does not read.
    write(&xml, "Gradebook.xml", "<?xml version=\"1.0\"?>\n<InterchangeStudentGradebook xmlns=\"http://ed-fi.org/5.2.0\"/>\n");
    let (code, _, stderr, out) = import(work.path(), &xml, None);
    assert_eq!(code, 1, "{stderr}");
    let report = read(&out, "import_report.csv");
    assert!(
        report.contains("skipped element,InterchangeStudent/FutureRecord,1,"),
        "{report}"
    );
    assert!(
        report.contains("file,Gradebook.xml,0,not an interchange the importer reads: skipped"),
        "{report}"
    );
    let students = read(&out, "students.csv");
    assert_eq!(students.lines().count(), 6, "{students}");
    assert!(students.contains("100001,Ana,Lopez,"), "{students}");
}

#[test]
fn the_config_extends_the_descriptor_table_and_is_checked() {
    let work = tempfile::tempdir().unwrap();
    let toml = "[edfi.descriptors.AttendanceEventCategoryDescriptor]\n\"Partial\" = \"A\"\n\
                [edfi.descriptors.GradeLevelDescriptor]\n\"Ungraded\" = \"12\"\n";
    let (_, _, stderr, out) = import(work.path(), &fixtures(), Some(toml));
    let attendance = read(&out, "attendance.csv");
    assert!(
        attendance.contains("100001,900001001,2025-09-03,A,0.25\n"),
        "{attendance}{stderr}"
    );
    assert!(read(&out, "enrollment.csv").contains("100003,900001001,2025-06-01,2025-06-15,,12\n"));
    assert!(!read(&out, "import_report.csv").contains("unmapped descriptor"));

    let bad = tempfile::tempdir().unwrap();
    let toml = "[edfi.descriptors.AttendanceEventCategoryDescriptor]\n\"Partial\" = \"half\"\n";
    let (code, _, stderr, out) = import(bad.path(), &fixtures(), Some(toml));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr
            .contains("edfi.descriptors.AttendanceEventCategoryDescriptor.\"Partial\" = \"half\""),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn a_second_import_replaces_its_own_snapshot_but_never_a_file_it_did_not_write() {
    let work = tempfile::tempdir().unwrap();
    let (code, ..) = import(work.path(), &fixtures(), None);
    assert_eq!(code, 1);
    let (code, _, stderr, out) = import(work.path(), &fixtures(), None);
    assert_eq!(code, 1, "{stderr}");
    // A file added by hand (the Grand Bend step) stops the next import.
    write(&out, "notes.txt", "mine");
    let (code, _, stderr, _) = import(work.path(), &fixtures(), None);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("ews did not write"), "{stderr}");
    assert_eq!(read(&out, "notes.txt"), "mine");
}

/// The Ed-Fi Grand Bend sample of ../shared (not part of this repository): it imports without
/// a hand step, reporting what it lacks; with an enrollment.csv added, it validates and scores
/// (its grades and transcript declared not exported), and three students' attendance rates are
/// those counted by hand from StudentSchoolAttendance.xml.
#[test]
fn grand_bend_imports_and_with_enrollment_added_validates_and_scores() {
    let sample = root().join("../shared/external/edfi-grand-bend");
    if !sample.join("Student.xml").is_file() {
        eprintln!("skipped: {} not found", sample.display());
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let (code, stdout, stderr, out) = import(work.path(), &sample, None);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report = read(&out, "import_report.csv");
    for row in [
        "written,students.csv,960,",
        "written,attendance.csv,1916,",
        "written,period_attendance.csv,66,",
        "written,behavior.csv,21,",
        "missing,enrollment.csv,0,no StudentSchoolAssociation",
        "missing,grades.csv,0,\"no Grade in the interchanges",
        "missing,credits.csv,0,\"no CourseTranscript in the interchanges",
        "input.not_exported",
        "unmapped descriptor,AttendanceEventCategoryDescriptor#Partial,1,",
        "calendar,255901001 2021-2022 Fall Semester (2021-2022),85,",
        "calendar,255901001 2021-2022 Spring Semester (2021-2022),104,",
        "file,StudentGradebook.xml,0,not an interchange the importer reads: skipped",
    ] {
        assert!(report.contains(row), "{row} not in\n{report}");
    }
    assert!(!out.join("enrollment.csv").exists());

    // The hand step: one span per student for the school year, at the school of the
    // student's events (the high school for the others), in a grade of that school.
    let attendance = read(&out, "attendance.csv");
    let mut school_of = std::collections::HashMap::new();
    for row in attendance.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        school_of
            .entry(fields[0].to_string())
            .or_insert(fields[1].to_string());
    }
    let mut enrollment =
        String::from("student_id,school_id,entry_date,exit_date,exit_code,entry_grade_level\n");
    let mut high_school = 0;
    for row in read(&out, "students.csv").lines().skip(1) {
        let id = row.split(',').next().unwrap();
        let school = school_of.get(id).map_or("255901001", String::as_str);
        let grade = match school {
            "255901001" => "10",
            "255901044" => "7",
            _ => "3",
        };
        high_school += usize::from(school == "255901001");
        enrollment += &format!("{id},{school},2021-08-23,,,{grade}\n");
    }
    // Not the importer's: the copy the test scores holds it.
    let snapshot = work.path().join("grand-bend");
    std::fs::create_dir_all(&snapshot).unwrap();
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, snapshot.join(path.file_name().unwrap())).unwrap();
    }
    write(&snapshot, "enrollment.csv", &enrollment);
    let config = work.path().join("grand-bend.toml");
    std::fs::write(
        &config,
        "[input]\nnot_exported = [\"grades.csv\", \"credits.csv\"]\n",
    )
    .unwrap();
    let reports = work.path().join("reports");
    let (snapshot, config, reports) = (
        snapshot.to_str().unwrap(),
        config.to_str().unwrap(),
        reports.to_str().unwrap(),
    );
    let as_of = ["--as-of", "2022-05-27"];
    let validate = ews(&[
        &["--config", config, "validate", snapshot, "--out", reports][..],
        &as_of,
    ]
    .concat());
    let text = String::from_utf8_lossy(&validate.stdout).to_string();
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    assert!(text.contains("not exported (input.not_exported)"), "{text}");
    // Without the declaration, the gate refuses: no marks, no transcript.
    let refused = ews(&[&["validate", snapshot, "--out", reports][..], &as_of].concat());
    assert_eq!(refused.status.code(), Some(2));

    let score = ews(&[
        &["--config", config, "score", snapshot, "--out", reports][..],
        &as_of,
    ]
    .concat());
    // Scored and published, with a warning (exit 1): the export ends in late May, 73 days
    // from the nearest checkpoint the shipped model was trained at (its training snapshot
    // ends in March, so its May checkpoint was skipped).
    let stderr = String::from_utf8_lossy(&score.stderr);
    assert_eq!(score.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the as-of date 2022-05-27 is 73 days from the nearest checkpoint the model was trained at (10-01, 12-15, 03-15; more than 45)"),
        "{stderr}"
    );
    let mut referrals =
        csv::Reader::from_path(Path::new(reports).join("2022-05-27/referrals.csv")).unwrap();
    let header = referrals.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = referrals.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), high_school);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rate_of = |id: &str| -> f64 {
        let row = rows.iter().find(|r| &r[0] == id).unwrap();
        row[column("attendance_rate")].parse().unwrap()
    };
    // Counted by hand in StudentSchoolAttendance.xml: every event of these students is a
    // whole-day absence on a school day. 189 membership days: the weekdays of the two
    // sessions (85 + 104) from the entry date on.
    for (id, absences) in [("605638", 20.0), ("604940", 20.0), ("605245", 19.0)] {
        let expected = (189.0 - absences) / 189.0;
        assert!(
            (rate_of(id) - expected).abs() < 1e-4,
            "{id}: {} vs {expected}",
            rate_of(id)
        );
    }
    // Marks and credits are unknown, never zero.
    for row in &rows {
        assert_eq!(
            (&row[column("gpa")], &row[column("credit_deficit_now")]),
            ("", ""),
            "{row:?}"
        );
    }
}

/// `input.not_exported`: a snapshot whose export has no marks or transcript (an Ed-Fi import
/// without StudentGrade or StudentTranscript) holds the files with a header only; declared, the
/// gate passes and the features those files give are unknown (never zero), the others as
/// before; a declared file that has rows fails the gate.
#[test]
fn files_declared_not_exported_pass_the_gate_with_their_features_unknown() {
    use crate::common::{config, date, features_of, fixture, load};
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let full = features_of(dir.path(), &config());
    for file in ["grades.csv", "credits.csv"] {
        let text = read(dir.path(), file);
        write(
            dir.path(),
            file,
            &format!("{}\n", text.lines().next().unwrap()),
        );
    }
    // As of 2026-01-16, after the first grading period, with students in grades 10–12.
    let as_of = Some(date("2026-01-16"));
    let undeclared = load(dir.path(), &config(), as_of).quality.gate(&config());
    // (The fixture's attendance.csv fails on its rejected rows, whatever the declaration.)
    let files: Vec<&str> = undeclared
        .iter()
        .map(|f| f.file)
        .filter(|f| *f != "attendance.csv")
        .collect();
    assert_eq!(files, ["grades.csv", "credits.csv"]);

    let mut declared = config();
    declared.input.not_exported = vec!["grades.csv".into(), "credits.csv".into()];
    let data = load(dir.path(), &declared, as_of);
    let failing: Vec<&str> = data
        .quality
        .gate(&declared)
        .iter()
        .map(|f| f.file)
        .collect();
    assert_eq!(failing, ["attendance.csv"]);
    assert_eq!(data.quality.not_exported, ["grades.csv", "credits.csv"]);
    let values = features_of(dir.path(), &declared);
    for (id, features) in &values {
        for name in [
            "f_marks",
            "core_f_marks",
            "gpa",
            "credits_earned",
            "credit_deficit_start_of_grade",
            "credit_deficit_now",
            "unrecovered_failed_courses",
            "freshman_on_track",
        ] {
            assert_eq!(features[name], None, "{id} {name}");
        }
        for name in ["attendance_rate", "behavior_incidents", "over_age"] {
            assert_eq!(features[name], full[id][name], "{id} {name}");
        }
    }
    // Only the transcript missing: marks as before, credits unknown.
    fixture(dir.path());
    write(
        dir.path(),
        "credits.csv",
        &format!(
            "{}\n",
            read(dir.path(), "credits.csv").lines().next().unwrap()
        ),
    );
    declared.input.not_exported = vec!["credits.csv".into()];
    let values = features_of(dir.path(), &declared);
    assert_eq!(values["0001"]["gpa"], full["0001"]["gpa"]);
    assert_eq!(values["0001"]["credit_deficit_start_of_grade"], None);
    assert_eq!(values["0001"]["credit_deficit_now"], None);
    // Declared, yet with rows: the declaration is wrong, and the gate says so.
    fixture(dir.path());
    let data = load(dir.path(), &declared, as_of);
    let failures: Vec<String> = data
        .quality
        .gate(&declared)
        .iter()
        .filter(|f| f.file == "credits.csv")
        .map(|f| f.reason.clone())
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("listed in input.not_exported, yet the file has"),
        "{}",
        failures[0]
    );
}
