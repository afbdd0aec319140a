//! Row and file checks: typed parsing of each export file, rejected rows with file, line,
//! column and reason, and the data that passes on to the features.
//!
//! Each file is parsed by polars expressions (no Rust value per row). Beside every parse is a
//! [`Rule`]: the condition under which a row is unusable (`Reject`) or one of its optional
//! values is (`IgnoreValue`: the row is kept, the value left blank). The first failing rule of
//! a row names it in rejects.csv. Attendance, the largest file, has its own one-pass reader
//! ([`crate::ingest::attendance`]) that applies the same rules.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::Config;
use crate::contract::{AttendanceMode, DATE_FORMAT};
use crate::ingest::attendance::{self, Attendance};
use crate::ingest::enrollment::{
    cohorts_from_enrollment, enrollment_in_scope, outcomes_from_enrollment,
    school_and_grade_from_enrollment,
};
use crate::ingest::input::{RawFile, Snapshot, LINE};
use crate::ingest::membership::{Membership, SchoolCalendars};
use crate::ingest::partition::{DistrictDays, Part};
use crate::ingest::quality::{flag_columns, Action, FileQuality, QualityReport};
use crate::ingest::staging::Staging;
use crate::io::error::EwsError;
use crate::io::error::Result;

use crate::ingest::columns::*;
use crate::ingest::rules::*;
/// Column with the index of a row's first failing rule (null when it passed them all).
const RULE: &str = "__rule";
/// Column flagging rows that a rule rejects (rules that only blank a value keep the row).
const REJECTED: &str = "__rejected";

/// A snapshot whose files passed the row checks, with the quality report of what did not.
#[derive(Debug)]
pub struct Validated {
    pub as_of: NaiveDate,
    pub school_year: i32,
    /// Accepted students.csv rows, typed.
    pub students: DataFrame,
    /// Accepted attendance, aggregated per enrolled student (a row of `students`) and date.
    pub attendance: Attendance,
    pub grades: DataFrame,
    pub credits: DataFrame,
    pub behavior: Option<DataFrame>,
    /// Known outcomes: outcomes.csv, or else (with `[outcomes.exit_codes]`) the students' last
    /// enrollment spans, where `graduated` and `other` stand for exits the label rule decides.
    pub outcomes: Option<DataFrame>,
    /// Accepted enrollment.csv rows, typed, when the snapshot has the file.
    pub enrollment: Option<DataFrame>,
    /// Class periods missed and scheduled per student, when the snapshot has
    /// period_attendance.csv.
    pub period_absence: Option<crate::ingest::periods::PeriodAbsence>,
    /// Accepted interventions.csv rows, typed, when the snapshot has the file.
    pub interventions: Option<DataFrame>,
    /// Counselors' decisions: referral_status.csv's accepted rows and the returned counselor
    /// workbooks' ([`crate::ingest::decisions`]), typed, with their `source`; none without
    /// either.
    pub decisions: Option<DataFrame>,
    pub quality: QualityReport,
}

/// Reads and checks every file of a snapshot. Fails only on what makes the snapshot unusable
/// as a whole (a missing file or column, an unreadable file); bad rows go to the report, and
/// files that are empty where they cannot be go to the report as gate failures.
pub fn load(
    snapshot: &Snapshot,
    config: &Config,
    as_of: Option<NaiveDate>,
    with_outcomes: bool,
) -> Result<Validated> {
    let (mut data, district) =
        load_part(snapshot, config, as_of, with_outcomes, &Part::whole(), None)?;
    district.report(&mut data.quality, config);
    Ok(data)
}

/// A snapshot's files, scanned (every required file and column checked before any data is
/// read), and the attendance mode.
struct Scanned {
    students: RawFile,
    attendance: RawFile,
    grades: RawFile,
    credits: RawFile,
    behavior: Option<RawFile>,
    enrollment: Option<RawFile>,
    calendar: Option<RawFile>,
    periods: Option<RawFile>,
    interventions: Option<RawFile>,
    status: Option<RawFile>,
    outcomes: Option<RawFile>,
    outcomes_from_exits: bool,
    mode: AttendanceMode,
    /// The staging folder of a partition's reading, with what its partitions share.
    staging: Option<Arc<Staging>>,
}

fn scan(snapshot: &Snapshot, config: &Config, with_outcomes: bool) -> Result<Scanned> {
    let raw_students = snapshot.scan(&crate::contract::STUDENTS)?;
    let raw_attendance = snapshot.scan(&crate::contract::ATTENDANCE)?;
    let raw_grades = snapshot.scan(&crate::contract::GRADES)?;
    let raw_credits = snapshot.scan(&crate::contract::CREDITS)?;
    let raw_behavior = snapshot.scan_optional(&crate::contract::BEHAVIOR)?;
    let raw_enrollment = snapshot.scan_optional(&crate::contract::ENROLLMENT)?;
    let raw_calendar = snapshot.scan_optional(&crate::contract::CALENDAR)?;
    let raw_periods = snapshot.scan_optional(&crate::contract::PERIOD_ATTENDANCE)?;
    let raw_interventions = snapshot.scan_optional(&crate::contract::INTERVENTIONS)?;
    let raw_status = snapshot.scan_optional(&crate::contract::REFERRAL_STATUS)?;
    let mode = snapshot.declared_mode()?.unwrap_or(config.attendance.mode);
    if mode == AttendanceMode::Exceptions {
        for (raw, spec) in [
            (&raw_enrollment, &crate::contract::ENROLLMENT),
            (&raw_calendar, &crate::contract::CALENDAR),
        ] {
            if raw.is_none() {
                return Err(EwsError::BadFile {
                    path: snapshot.path(spec),
                    message: "required when attendance lists exceptions only (attendance.mode = \"exceptions\"): membership days come from enrollment.csv and calendar.csv".into(),
                });
            }
        }
    }
    let raw_outcomes = if with_outcomes {
        snapshot.scan_optional(&crate::contract::OUTCOMES)?
    } else {
        None
    };
    // Without outcomes.csv, training reads the outcomes of enrollment exits, when the config
    // says what the exit codes mean.
    let outcomes_from_exits = with_outcomes
        && raw_outcomes.is_none()
        && raw_enrollment.is_some()
        && !config.outcomes.exit_codes.is_empty();
    if with_outcomes && raw_outcomes.is_none() && !outcomes_from_exits {
        return Err(EwsError::MissingFile {
            path: snapshot.path(&crate::contract::OUTCOMES),
        });
    }
    Ok(Scanned {
        students: raw_students,
        attendance: raw_attendance,
        grades: raw_grades,
        credits: raw_credits,
        behavior: raw_behavior,
        enrollment: raw_enrollment,
        calendar: raw_calendar,
        periods: raw_periods,
        interventions: raw_interventions,
        status: raw_status,
        outcomes: raw_outcomes,
        outcomes_from_exits,
        mode,
        staging: snapshot.staging().cloned(),
    })
}

/// A partition's students, checked: those in scope (with school, grade and cohort from
/// enrollment.csv when it has them), their index, their enrollment rows and membership days.
struct CheckedStudents {
    students: DataFrame,
    enrollment: Option<DataFrame>,
    enrolled: attendance::StudentIndex,
    membership: Option<Membership>,
}

fn checked_students(
    raw: &Scanned,
    config: &Config,
    as_of: Option<NaiveDate>,
    part: &Part,
    quality: &mut QualityReport,
) -> Result<CheckedStudents> {
    let mut students = check_file(
        &raw.students,
        Prepare::FirstLine,
        part,
        students_rules(config, raw.enrollment.is_some()),
        students_typed(),
        quality,
    )?;
    // enrollment.csv is checked against every accepted student: the grades it may supply
    // decide who is in scope.
    let enrollment = match &raw.enrollment {
        Some(file) => {
            let everyone = attendance::StudentIndex::new(students.column("student_id")?.str()?);
            let enrollment = check_file(
                file,
                Prepare::Enrollment(&everyone),
                part,
                enrollment_rules(config),
                enrollment_typed(),
                quality,
            )?;
            students = school_and_grade_from_enrollment(students, &enrollment, as_of, quality)?;
            students = cohorts_from_enrollment(students, &enrollment, config)?;
            Some(enrollment)
        }
        None => None,
    };
    let (students, out_of_scope) = split_scope(students, config)?;
    if let Some(quality) = quality
        .files
        .iter_mut()
        .find(|f| f.file == crate::contract::STUDENTS.name)
    {
        quality.out_of_scope = out_of_scope.height() as u64;
    }
    // Students in scope by id, hashed once for every file; those out of scope beside them.
    let enrolled = attendance::StudentIndex::new(students.column("student_id")?.str()?)
        .with_out_of_scope(out_of_scope.column("student_id")?.str()?.iter().flatten());
    let enrollment = match enrollment {
        Some(enrollment) => Some(enrollment_in_scope(enrollment, &enrolled, quality)?),
        None => None,
    };
    let membership = match (&raw.calendar, &enrollment) {
        (Some(calendar), Some(enrollment)) => Some(membership(
            calendar,
            raw.staging.as_deref(),
            enrollment,
            &enrolled,
            part,
            config,
            quality,
        )?),
        _ => None,
    };
    Ok(CheckedStudents {
        students,
        enrollment,
        enrolled,
        membership,
    })
}

/// The partitions of the snapshot's students, cut from students.csv's ids ([`Part::split`]):
/// `count` of the number of ids many.
pub fn partitions(
    snapshot: &Snapshot,
    config: &Config,
    count: impl FnOnce(usize) -> usize,
) -> Result<Vec<Part>> {
    let snapshot = snapshot.clone().with_mapping(config.input.clone());
    let raw = snapshot.scan(&crate::contract::STUDENTS)?;
    let ids = |chunk: LazyFrame| -> Result<DataFrame> {
        Ok(chunk.select([col("student_id")]).collect()?)
    };
    let chunked = raw.read_chunks(false, &ids)?;
    // Cut from the chunks' own texts: a copy of each id would double what a state's ids take.
    let columns = chunked
        .chunks
        .iter()
        .map(|(frame, _)| Ok(frame.column("student_id")?.str()?))
        .collect::<Result<Vec<_>>>()?;
    let ids: usize = columns.iter().map(|c| c.len() - c.null_count()).sum();
    let count = count(ids);
    let all = columns.iter().flat_map(|c| c.iter().flatten());
    Ok(Part::split(all.map(str::as_bytes), count))
}

/// The district's attendance counts, summed over the partitions of `staging`
/// ([`DistrictDays::add`]), each read from its staged files, with the
/// as-of date every partition reads with: `as_of`, or else the contract's default from the
/// sums (none when they give none).
pub fn district_days(
    snapshot: &Snapshot,
    config: &Config,
    as_of: Option<NaiveDate>,
    staging: &std::sync::Arc<Staging>,
) -> Result<DistrictDays> {
    let snapshot = &snapshot.clone().with_mapping(config.input.clone());
    let mut district = DistrictDays::default();
    let mode = snapshot.declared_mode()?.unwrap_or(config.attendance.mode);
    for (k, read) in staging.reads.iter().enumerate() {
        let part = &read.part;
        let raw = scan(&snapshot.in_partition(staging, k), config, false)?;
        let mut quality = QualityReport::default();
        let students = checked_students(&raw, config, as_of, part, &mut quality)?;
        district.add(attendance::district_days(
            &raw.attendance,
            &students.enrolled,
            students.membership.as_ref(),
            config,
        )?);
    }
    district.as_of = as_of.or(district.default_as_of(mode, config));
    Ok(district)
}

/// Reads and checks the rows of one partition's students ([`Part`]; [`Part::whole`]: every
/// student) with the district's attendance counts (`district`, for a partition). Returns the
/// checked data and what the district-wide checks need of it ([`DistrictChecks`]).
pub fn load_part(
    snapshot: &Snapshot,
    config: &Config,
    as_of: Option<NaiveDate>,
    with_outcomes: bool,
    part: &Part,
    district: Option<&DistrictDays>,
) -> Result<(Validated, DistrictChecks)> {
    let snapshot = &snapshot.clone().with_mapping(config.input.clone());
    let raw = scan(snapshot, config, with_outcomes)?;
    let mut quality = QualityReport::default();
    if raw.behavior.is_none() && part.is_first() {
        log::warn!(
            "{}: absent (optional; a file with no byte counts as absent): behavior_incidents and suspension_days are unknown for every student",
            snapshot.path(&crate::contract::BEHAVIOR).display()
        );
    }
    if raw.behavior.is_none() {
        quality.absent.push(crate::contract::BEHAVIOR.name);
    }
    let CheckedStudents {
        students,
        enrollment,
        enrolled,
        membership,
    } = checked_students(&raw, config, as_of, part, &mut quality)?;

    let started = std::time::Instant::now();
    let (attendance, attendance_quality, attendance_rejects) = attendance::read(
        &raw.attendance,
        &enrolled,
        as_of,
        membership,
        raw.mode,
        config,
        district,
    )?;
    log_read(crate::contract::ATTENDANCE.name, started);
    attendance_mode_checks(&attendance, &raw.attendance, raw.calendar.is_some())?;
    let (as_of, school_year) = (attendance.as_of, attendance.school_year);
    let year_end = attendance.year_end;
    quality.push(attendance_quality, attendance_rejects);
    stale_export_warning(&attendance, config, &mut quality);
    no_attendance_warnings(&students, &attendance, &mut quality)?;
    let period_absence = match &raw.periods {
        Some(raw) => {
            let periods = check_file(
                raw,
                Prepare::Enrollment(&enrolled),
                part,
                period_rules(config, year_end),
                period_typed(),
                &mut quality,
            )?;
            Some(crate::ingest::periods::period_absence(
                &periods,
                &enrolled,
                &attendance,
                config,
                &mut quality,
            )?)
        }
        None => None,
    };
    let students = implausible_birth_dates(students, as_of, &mut quality)?;

    let grades = check_file(
        &raw.grades,
        Prepare::Enrollment(&enrolled),
        part,
        grades_rules(config, year_end),
        grades_typed(config),
        &mut quality,
    )?;
    let credits = check_file(
        &raw.credits,
        Prepare::Enrollment(&enrolled),
        part,
        credits_rules(config, year_end),
        credits_typed(),
        &mut quality,
    )?;
    let behavior = match &raw.behavior {
        Some(raw) => Some(check_file(
            raw,
            Prepare::Enrollment(&enrolled),
            part,
            behavior_rules(config, year_end),
            behavior_typed(),
            &mut quality,
        )?),
        None => None,
    };
    let outcomes = match (&raw.outcomes, &enrollment) {
        (Some(raw), _) => Some(check_file(
            raw,
            Prepare::EnrollmentAndFirstLine(&enrolled),
            part,
            outcomes_rules(config),
            outcomes_typed(),
            &mut quality,
        )?),
        (None, Some(enrollment)) if raw.outcomes_from_exits => Some(outcomes_from_enrollment(
            enrollment,
            as_of,
            config,
            &mut quality,
        )?),
        _ => None,
    };
    let interventions = match &raw.interventions {
        Some(raw) => Some(check_file(
            raw,
            Prepare::Enrollment(&enrolled),
            part,
            interventions_rules(config),
            interventions_typed(),
            &mut quality,
        )?),
        None => None,
    };
    let mut decisions = Vec::new();
    if let Some(raw) = &raw.status {
        let rows = check_file(
            raw,
            Prepare::Enrollment(&enrolled),
            part,
            referral_status_rules(config),
            referral_status_typed(),
            &mut quality,
        )?;
        decisions.push(crate::ingest::decisions::with_source(
            rows,
            crate::ingest::decisions::Source::ReferralStatus,
        )?);
    }
    if let Some(dir) = &snapshot.returned_workbooks {
        decisions.push(crate::ingest::decisions::read_workbooks(
            dir,
            &enrolled,
            part,
            &mut quality,
        )?);
    }
    let decisions = crate::ingest::decisions::union(decisions)?;
    let district = DistrictChecks {
        upper_grades: upper_grades(&students)?,
        daily_gaps: daily_gaps(&attendance),
        no_school_day: attendance.school_days(config).is_empty(),
        as_of,
        school_year,
    };

    Ok((
        Validated {
            as_of,
            school_year,
            students,
            attendance,
            grades,
            credits,
            behavior,
            outcomes,
            enrollment,
            period_absence,
            interventions,
            decisions,
            quality,
        },
        district,
    ))
}

/// The accepted students in `scope.grades`, and the ids of the others.
fn split_scope(students: DataFrame, config: &Config) -> Result<(DataFrame, DataFrame)> {
    let scope = config.scope_grades();
    let in_scope: BooleanChunked = students
        .column("grade_level")?
        .i32()?
        .iter()
        .map(|g| Some(g.is_some_and(|g| scope.contains(&g))))
        .collect();
    let out = students.select(["student_id"])?.filter(&!&in_scope)?;
    if out.height() == 0 {
        return Ok((students, out));
    }
    Ok((students.filter(&in_scope)?, out))
}

/// Checks calendar.csv and builds the students' membership days from it and the checked
/// enrollment rows; rejected rows go to the report. In a partitioned run the first partition
/// to read calendar.csv checks it for all of them (`staging`); the first partition of the
/// district checks it again for the report, which counts its rows.
fn membership(
    raw_calendar: &RawFile,
    staging: Option<&Staging>,
    enrollment: &DataFrame,
    enrolled: &attendance::StudentIndex,
    part: &Part,
    config: &Config,
    quality: &mut QualityReport,
) -> Result<Membership> {
    let shared = staging
        .and_then(|s| s.calendars.get())
        .filter(|_| !part.is_first());
    let calendars = match shared {
        Some(calendars) => calendars.clone(),
        None => {
            let calendar = check_file(
                raw_calendar,
                Prepare::Nothing,
                part,
                calendar_rules(config),
                calendar_typed(),
                quality,
            )?;
            let calendars = SchoolCalendars::from_frame(&calendar)?;
            if let Some(staging) = staging {
                // Every partition's check gives the same rows: the first stored is kept.
                let _ = staging.calendars.set(calendars.clone());
            }
            calendars
        }
    };
    let (membership, span_rejects) = Membership::build(enrollment, enrolled, calendars, config)?;
    if !span_rejects.is_empty() {
        let rejects = crate::ingest::quality::rejected_frame(
            crate::contract::ENROLLMENT.name,
            &span_rejects,
        )?;
        quality.add_rejects(crate::contract::ENROLLMENT.name, rejects);
    }
    Ok(membership)
}

/// A daily-mode run on an export that has a calendar and no P row at all is reading an
/// exception-only export as daily: every absence would be a membership day of its own.
fn attendance_mode_checks(
    attendance: &Attendance,
    raw: &RawFile,
    has_calendar: bool,
) -> Result<()> {
    if attendance.mode == AttendanceMode::Daily
        && has_calendar
        && attendance.present_rows == 0
        && attendance.latest_row.is_some()
    {
        return Err(EwsError::BadFile {
            path: raw.path.clone(),
            message: "no row is coded P (present) while the snapshot has calendar.csv: the export looks exception-only; set attendance.mode = \"exceptions\" in the config, or declare it in the snapshot's snapshot.toml".into(),
        });
    }
    Ok(())
}

/// In exception mode every unlisted membership day is a day present, so an as-of date well
/// after the latest row (a stale export) would inflate attendance: a warning (exit 1).
fn stale_export_warning(attendance: &Attendance, config: &Config, quality: &mut QualityReport) {
    if attendance.mode != AttendanceMode::Exceptions {
        return;
    }
    let days = attendance.days_without_events();
    if days > config.attendance.max_days_without_events {
        quality.add_problem(
            crate::contract::ATTENDANCE.name,
            false,
            format!(
                "the as-of date {} is {days} instructional days after the latest attendance row ({}); in exception mode every unlisted day counts as present, so a stale export inflates attendance (attendance.max_days_without_events = {})",
                attendance.as_of,
                attendance
                    .latest_row
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                config.attendance.max_days_without_events
            ),
        );
    }
}

/// A daily export with enrollment and calendar should list every membership day: the
/// membership days it leaves out (they count as present), when it has both.
fn daily_gaps(attendance: &Attendance) -> Option<u64> {
    if attendance.mode != AttendanceMode::Daily || attendance.membership().is_none() {
        return None;
    }
    Some(attendance.member_days_without_row())
}

/// Students in grades 10–12 (who must have a transcript).
fn upper_grades(students: &DataFrame) -> Result<usize> {
    Ok(students
        .column("grade_level")?
        .i32()?
        .iter()
        .flatten()
        .filter(|g| (10..=12).contains(g))
        .count())
}

/// What the checks of the district as a whole need of each partition, summed: they run once
/// every partition is read ([`DistrictChecks::report`]).
#[derive(Debug, Clone, Default)]
pub struct DistrictChecks {
    /// Students in grades 10–12.
    pub upper_grades: usize,
    /// Membership days without a row in a daily export with enrollment and calendar.
    pub daily_gaps: Option<u64>,
    /// No school day in the school year up to the as-of date.
    pub no_school_day: bool,
    pub as_of: NaiveDate,
    pub school_year: i32,
}

impl DistrictChecks {
    /// Adds a partition's.
    pub fn add(&mut self, part: &DistrictChecks) {
        self.upper_grades += part.upper_grades;
        self.daily_gaps = match (self.daily_gaps, part.daily_gaps) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        // The same in every partition: they come from the district's counts and as-of date.
        self.no_school_day = part.no_school_day;
        self.as_of = part.as_of;
        self.school_year = part.school_year;
    }

    /// Adds the district's problems to the report: membership days a daily export leaves
    /// out (a warning), and files empty where they cannot be (gate failures).
    pub fn report(&self, quality: &mut QualityReport, config: &Config) {
        if let Some(gaps) = self.daily_gaps.filter(|&gaps| gaps > 0) {
            quality.add_problem(
                crate::contract::ATTENDANCE.name,
                false,
                format!(
                    "{gaps} membership days (enrollment.csv × calendar.csv) have no row in this daily export; they count as present (set attendance.mode = \"exceptions\" if the export lists exceptions only)"
                ),
            );
        }
        implausible_feeds(self, config, quality);
    }
}

/// Files that are empty where they cannot be right fail the gate; other empty files are
/// warnings. An as-of date with no school day in its school year fails it too.
fn implausible_feeds(district: &DistrictChecks, config: &Config, quality: &mut QualityReport) {
    let (as_of, upper_grades) = (district.as_of, district.upper_grades);
    let empty: Vec<&'static str> = quality
        .files
        .iter()
        .filter(|f| f.rows_read == 0)
        .map(|f| f.file)
        .collect();
    let first_term_end = config.in_school_year(
        config.quality.first_term_end(),
        config.school_year_of(as_of),
    );
    for file in crate::config::mapping::NOT_EXPORTABLE {
        let Some(read) = quality.files.iter().find(|f| f.file == file) else {
            continue;
        };
        if !config.input.not_exported(file) {
            continue;
        }
        if read.rows_read > 0 {
            let rows = read.rows_read;
            quality.add_problem(
                file,
                true,
                format!("listed in input.not_exported, yet the file has {rows} rows: remove it from the list (or the rows)"),
            );
        } else {
            quality.not_exported.push(file);
        }
    }
    for file in empty {
        if config.input.not_exported(file) {
            continue;
        }
        let failure = if file == crate::contract::STUDENTS.name {
            Some("the file has no rows: no student to score".to_string())
        } else if file == crate::contract::ATTENDANCE.name {
            Some(
                "the file has no rows, and daily attendance lists every student's school days"
                    .to_string(),
            )
        } else if file == crate::contract::CREDITS.name && upper_grades > 0 {
            Some(format!(
                "the transcript has no rows while {upper_grades} students in grades 10–12 are scored: every one of them would look credits behind"
            ))
        } else if file == crate::contract::GRADES.name && as_of > first_term_end {
            Some(format!(
                "the file has no marks while the as-of date {as_of} is after the end of the first grading period ({first_term_end}; quality.first_term_end)"
            ))
        } else {
            None
        };
        match failure {
            Some(reason) => quality.add_problem(file, true, reason),
            None => quality.add_problem(file, false, "the file has no rows".to_string()),
        }
    }
    if district.no_school_day {
        quality.add_problem(
            crate::contract::ATTENDANCE.name,
            true,
            format!(
                "no school day in school year {} up to the as-of date {as_of} (no date before it has attendance rows for {:.0}% of the students): is the as-of date before the first day of school, or the export of another year?",
                district.school_year,
                config.attendance.school_day_min_share * 100.0
            ),
        );
    }
}

/// Logs how long a file took to read and check, and the memory now and at its peak so far.
fn log_read(file: &str, started: std::time::Instant) {
    let seconds = started.elapsed().as_secs_f64();
    log::info!(
        "{file}: {seconds:.2} s{}",
        crate::io::progress::peak_memory_note()
    );
}

/// The first failing rule of each row, as an index into `rules`.
fn first_failing_rule(rules: &[Rule]) -> Expr {
    rules
        .iter()
        .enumerate()
        .rev()
        .fold(lit(NULL).cast(DataType::Int32), |later, (i, rule)| {
            when(rule.failed.clone().fill_null(lit(false)))
                .then(lit(i as i32))
                .otherwise(later)
        })
}

/// An expression choosing, per rejected row, a value by its rule index.
fn by_rule<T>(rules: &[Rule], value: impl Fn(&Rule) -> T) -> Expr
where
    T: Into<Expr>,
{
    rules
        .iter()
        .enumerate()
        .fold(lit(NULL).cast(DataType::String), |others, (i, rule)| {
            when(col(RULE).eq(lit(i as i32)))
                .then(value(rule).into())
                .otherwise(others)
        })
}

/// The rejects.csv rows of a file: every row that failed a rule.
fn rejects(file: &'static str, annotated: LazyFrame, rules: &[Rule]) -> LazyFrame {
    annotated.filter(col(RULE).is_not_null()).select([
        lit(file).alias("file"),
        col(LINE).cast(DataType::UInt64).alias("line"),
        by_rule(rules, |r| lit(r.column)).alias("column"),
        by_rule(rules, |r| col(r.column).cast(DataType::String)).alias("value"),
        by_rule(rules, |r| lit(r.reason.as_str())).alias("reason"),
        by_rule(rules, |r| lit(r.action.as_str())).alias("action"),
    ])
}

/// What a file's rows are checked against besides their own values.
enum Prepare<'a> {
    /// The file's own values only.
    Nothing,
    /// Each row's student in students.csv ([`ENROLLED`]).
    Enrollment(&'a attendance::StudentIndex),
    /// The first line of each row's student_id in the file (`__first_line`): the file is read
    /// as one chunk.
    FirstLine,
    EnrollmentAndFirstLine(&'a attendance::StudentIndex),
}

/// Checks a file: returns the typed accepted rows, and adds its rejects to `quality`.
///
/// The file is read in chunks ([`RawFile::read_chunks`]), one worker per core, and each chunk is
/// checked and typed as soon as it is read, so the file's text is never all in memory (at a
/// million students grades.csv is 10M rows of ten text columns): only the typed, accepted rows
/// are kept, and the rejected ones listed.
fn check_file(
    raw: &RawFile,
    prepare: Prepare,
    part: &Part,
    rules: Vec<Rule>,
    typed: Vec<Expr>,
    quality: &mut QualityReport,
) -> Result<DataFrame> {
    let file = raw.spec.name;
    let started = std::time::Instant::now();
    let rejected_row = rules
        .iter()
        .filter(|r| r.action == Action::Reject)
        .map(|r| r.failed.clone().fill_null(lit(false)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let rule = first_failing_rule(&rules).alias(RULE);
    // The checks and the typed columns in one evaluation; the rejected rows are listed in a
    // second one, which only a chunk with such rows pays for.
    let mut checked_columns = vec![col(LINE), rule.clone(), rejected_row.alias(REJECTED)];
    checked_columns.extend(typed);
    let (enrolled, first_line) = match prepare {
        Prepare::Nothing => (None, false),
        Prepare::Enrollment(e) => (Some(e), false),
        Prepare::FirstLine => (None, true),
        Prepare::EnrollmentAndFirstLine(e) => (Some(e), true),
    };
    // A partition's staged files hold its own students' rows; a file without students
    // (calendar.csv) is read whole by each, and counted by the first.
    let by_student = raw.spec.columns().any(|c| c == "student_id");
    let counted = part.is_first() || by_student;
    let process = |chunk: LazyFrame| -> Result<(DataFrame, DataFrame, u64)> {
        let mut chunk = chunk.collect()?;
        let mut skipped = 0;
        if let Some(enrolled) = enrolled {
            (chunk, skipped) = with_enrollment(chunk, enrolled)?;
        }
        if first_line {
            chunk = with_first_line(chunk.lazy()).collect()?;
        }
        let checked = chunk
            .clone()
            .lazy()
            .select(checked_columns.clone())
            .collect()?;
        if checked.column(RULE)?.null_count() == checked.height() {
            return Ok((
                checked.drop_many([RULE, REJECTED]),
                DataFrame::empty(),
                skipped,
            ));
        }
        let listed = rejects(file, chunk.lazy().with_column(rule.clone()), &rules).collect()?;
        let keep = !checked.column(REJECTED)?.bool()?;
        let accepted = checked.drop_many([RULE, REJECTED]).filter(&keep)?;
        Ok((accepted, listed, skipped))
    };
    let chunked = raw.read_chunks(first_line, &process)?;
    let mut accepted: Option<DataFrame> = None;
    let mut listed = Vec::new();
    let mut out_of_scope = 0;
    for ((rows, rejects, skipped), first) in chunked.chunks {
        out_of_scope += skipped;
        let rows = shift_lines(rows, LINE, first)?;
        match &mut accepted {
            None => accepted = Some(rows),
            Some(all) => {
                all.vstack_mut(&rows)?;
            }
        }
        if rejects.height() > 0 {
            listed.push(shift_lines(rejects, "line", first)?);
        }
    }
    // The reader hands over at least one chunk, an empty one for a file without rows.
    let mut accepted =
        accepted.ok_or_else(|| PolarsError::NoData(format!("{file}: no chunk was read").into()))?;
    accepted.rechunk_mut_par();
    if !chunked.flags.is_empty() {
        listed.push(crate::ingest::quality::reader_rejects(
            file,
            &chunked.flags,
        )?);
    }
    let listed = match listed.len() {
        0 => DataFrame::empty(),
        1 => listed.remove(0),
        _ => {
            let mut all = listed.remove(0);
            for part in &listed {
                all.vstack_mut(part)?;
            }
            all.sort(
                ["line"],
                SortMultipleOptions::default().with_maintain_order(true),
            )?
        }
    };
    log_read(file, started);
    if counted {
        let mut file_quality = FileQuality::new(file, raw.path.clone(), chunked.rows);
        file_quality.out_of_scope = out_of_scope;
        quality.push(file_quality, listed);
    }
    Ok(accepted)
}

/// `frame` with `by` added to its line numbers.
fn shift_lines(frame: DataFrame, column: &str, by: u64) -> Result<DataFrame> {
    if by == 0 {
        return Ok(frame);
    }
    Ok(frame
        .lazy()
        .with_column((col(column).cast(DataType::UInt64) + lit(by)).alias(column))
        .collect()?)
}

/// Adds [`ENROLLED`] (true, or null for students not in students.csv), and leaves out the rows
/// of students outside the scope (returned as a count). A lookup in the index built once from
/// students.csv: a polars membership test would hash every enrolled id again for each chunk
/// (40 times a million ids for a million-student grades.csv).
fn with_enrollment(
    mut chunk: DataFrame,
    enrolled: &attendance::StudentIndex,
) -> Result<(DataFrame, u64)> {
    let ids = chunk.column("student_id")?.str()?;
    let flags: BooleanChunked = ids
        .iter()
        .map(|id| id.filter(|id| enrolled.contains(id)).map(|_| true))
        .collect();
    if enrolled.out_of_scope.is_empty() {
        chunk.with_column(flags.with_name(ENROLLED.into()).into_column())?;
        return Ok((chunk, 0));
    }
    let in_scope: BooleanChunked = ids
        .iter()
        .map(|id| Some(!id.is_some_and(|id| enrolled.is_out_of_scope(id.as_bytes()))))
        .collect();
    let skipped = in_scope.len() - in_scope.sum().unwrap_or(0) as usize;
    chunk.with_column(flags.with_name(ENROLLED.into()).into_column())?;
    if skipped > 0 {
        chunk = chunk.filter(&in_scope)?;
    }
    Ok((chunk, skipped as u64))
}

/// Adds `__first_line`: the first line of the row's student_id in the file.
fn with_first_line(frame: LazyFrame) -> LazyFrame {
    let first = frame
        .clone()
        .group_by([col("student_id")])
        .agg([col(LINE).min().alias("__first_line")]);
    frame.join(
        first,
        [col("student_id")],
        [col("student_id")],
        JoinArgs {
            maintain_order: MaintainOrderJoin::Left,
            ..JoinArgs::new(JoinType::Left)
        },
    )
}

/// Students with no attendance row at all this school year are listed as warnings.
fn no_attendance_warnings(
    students: &DataFrame,
    attendance: &Attendance,
    quality: &mut QualityReport,
) -> Result<()> {
    let without: BooleanChunked = attendance
        .has_days_this_year()
        .into_iter()
        .map(|has| !has)
        .collect();
    let missing = students
        .filter(&without)?
        .lazy()
        .select(flag_columns(
            crate::contract::STUDENTS.name,
            lit("student_id"),
            col("student_id"),
            lit("no attendance rows this school year"),
            Action::Warn,
        ))
        .collect()?;
    quality.add_rejects(crate::contract::STUDENTS.name, missing);
    Ok(())
}

/// Youngest plausible age of a student on the as-of date; a later birth date is a typo (a
/// year such as 2091) and is left blank rather than trusted.
const MIN_PLAUSIBLE_AGE_YEARS: u32 = 5;

/// Reports and blanks birth dates that make a student younger than
/// [`MIN_PLAUSIBLE_AGE_YEARS`] on the as-of date (known only once attendance is read).
fn implausible_birth_dates(
    students: DataFrame,
    as_of: NaiveDate,
    quality: &mut QualityReport,
) -> Result<DataFrame> {
    let latest = as_of
        .checked_sub_months(chrono::Months::new(12 * MIN_PLAUSIBLE_AGE_YEARS))
        .unwrap_or(as_of);
    let implausible = col("birth_date")
        .gt(date_literal(latest))
        .fill_null(lit(false));
    let flagged = students
        .clone()
        .lazy()
        .filter(implausible.clone())
        .select(flag_columns(
            crate::contract::STUDENTS.name,
            lit("birth_date"),
            col("birth_date").dt().to_string(DATE_FORMAT),
            lit(format!(
                "implausible date (the student would be under {MIN_PLAUSIBLE_AGE_YEARS} on the as-of date); left blank"
            )),
            Action::IgnoreValue,
        ))
        .collect()?;
    if flagged.height() == 0 {
        return Ok(students);
    }
    quality.add_rejects(crate::contract::STUDENTS.name, flagged);
    Ok(students
        .lazy()
        .with_column(
            when(implausible)
                .then(lit(NULL).cast(DataType::Date))
                .otherwise(col("birth_date"))
                .alias("birth_date"),
        )
        .collect()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::is_blank;

    #[test]
    fn blank_is_empty_or_white_space_only() {
        for blank in [
            "",
            " ",
            "   ",
            "\t",
            " \r\n",
            "\u{a0}",
            "\u{3000}",
            "\u{2003} \t",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for value in ["0", "a", " 1", "1 ", "\t_", "é", "\u{a0}x", "-", "'"] {
            assert!(!is_blank(value), "{value:?}");
        }
    }

    #[test]
    fn the_missing_rule_flags_null_and_white_space_only_values() {
        let frame = df!("id" => [Some("001"), None, Some(" "), Some("\t "), Some(" 7 ")]).unwrap();
        let flags = frame
            .lazy()
            .select([missing("id").failed])
            .collect()
            .unwrap();
        let flags: Vec<Option<bool>> = flags.column("id").unwrap().bool().unwrap().iter().collect();
        assert_eq!(
            flags,
            [Some(false), Some(true), Some(true), Some(true), Some(false)]
        );
    }
}
