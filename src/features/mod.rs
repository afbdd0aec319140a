//! Risk features per enrolled student, as of a date.
//!
//! Every feature is defined once here as polars expressions over one file, and documented
//! once in docs/features.md. Attendance, the largest file, arrives already aggregated per
//! student and day ([`crate::ingest::attendance`]) and is counted per student here. Records dated
//! after the as-of date are ignored and counted, so a model trained on a past snapshot never
//! sees its future.

pub mod courses;
pub mod supports;
pub mod table;

pub use table::{
    feature, model_input, model_inputs, Direction, Family, FeatureDef, ModelInput, Unit, FEATURES,
    SCHOOL_YEAR_FRACTION,
};

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::config::Config;
use crate::contract::CORE_SUBJECTS;
use crate::features::courses::CourseMarks;
use crate::ingest::attendance::StudentDays;
use crate::ingest::checks::Validated;
use crate::ingest::input::LINE;
use crate::io::error::Result;

/// The feature table of one snapshot.
#[derive(Debug)]
pub struct FeatureRun {
    pub as_of: NaiveDate,
    pub school_year: i32,
    /// District school days in the school year up to the as-of date.
    pub school_days: usize,
    /// Those days, in order: the calendar follow-up counts in (`tiers.confirm_school_days`,
    /// `loop.unserved_school_days`, trends).
    pub calendar: Vec<NaiveDate>,
    /// One row per enrolled student, sorted by student_id: the students.csv columns, the
    /// derived cohort_year, and every feature of [`FEATURES`] (Float64, null when unknown).
    pub table: DataFrame,
    pub ignored: Vec<crate::ingest::quality::IgnoredRows>,
    /// The course records behind the recovery plans.
    pub courses: CourseRecords,
    /// Each student's diploma pathway (students.csv `pathway`), by table row: for the
    /// graduation requirements of the plans, never a feature.
    pub pathways: Vec<Option<String>>,
    /// Supports given and counselors' decisions, by table row: never features.
    pub supports: supports::Supports,
}

impl FeatureRun {
    /// What training reads of a run: the student ids, every feature and the time of year, and
    /// the columns `beside` (the equity audit's groups, at the snapshot's own date), without
    /// the course records, supports and the other student columns (an earlier checkpoint's run
    /// is kept while the next is computed: at a million students the rest is gigabytes).
    pub fn for_training(self, beside: &[&str]) -> Result<FeatureRun> {
        let mut columns = vec!["student_id", SCHOOL_YEAR_FRACTION];
        columns.extend(FEATURES.iter().map(|f| f.name));
        columns.extend(beside);
        Ok(FeatureRun {
            table: self.table.select(columns)?,
            courses: CourseRecords::default(),
            pathways: Vec::new(),
            supports: supports::Supports::default(),
            ..self
        })
    }
}

impl FeatureRun {
    /// Appends the run of the next partition of students ([`crate::ingest::partition`]),
    /// whose ids all sort after this one's: the table stays sorted by student_id, and what is
    /// kept by table row moves down by this table's height. Course records are not appended:
    /// each partition's recovery plans are made before the next is read.
    pub fn append(&mut self, next: FeatureRun) -> Result<()> {
        let rows = self.table.height();
        self.table.vstack_mut(&next.table)?;
        self.pathways.extend(next.pathways);
        self.supports.append(next.supports, rows);
        for row in next.ignored {
            match self
                .ignored
                .iter_mut()
                .find(|known| (known.file, known.reason) == (row.file, row.reason))
            {
                Some(known) => known.rows += row.rows,
                None => self.ignored.push(row),
            }
        }
        self.courses = CourseRecords::default();
        Ok(())
    }

    /// Keeps the table rows marked in `keep` (one mark per row), with what is kept by table
    /// row (pathways, supports) moved to the rows' new places: training's sample of students
    /// ([`crate::model::sample`]). The course records are keyed by student id and left as
    /// they are.
    pub fn keep_rows(&mut self, keep: &[bool]) -> Result<()> {
        let mask = BooleanChunked::from_slice("keep".into(), keep);
        self.table = self.table.filter(&mask)?;
        let mut new_row = vec![None; keep.len()];
        let mut next = 0;
        for (row, kept) in keep.iter().enumerate() {
            if *kept {
                new_row[row] = Some(next);
                next += 1;
            }
        }
        if !self.pathways.is_empty() {
            keep_marked(&mut self.pathways, keep);
        }
        self.supports = std::mem::take(&mut self.supports).keep_rows(&new_row);
        Ok(())
    }
}

/// Keeps the items of `items` whose mark in `keep` is true (one mark per item, in order): what
/// is kept by table row, narrowed as [`FeatureRun::keep_rows`] narrows the table.
pub fn keep_marked<T>(items: &mut Vec<T>, keep: &[bool]) {
    let mut marks = keep.iter();
    items.retain(|_| marks.next().copied().unwrap_or(false));
}

/// The course records the recovery plans read. At a million students they are about a
/// gigabyte, so `ews score` drops them once the plans are made (`std::mem::take`).
#[derive(Debug, Default)]
pub struct CourseRecords {
    /// The transcript (credits.csv) up to the as-of date.
    pub transcript: DataFrame,
    /// The transcript's failed courses not yet recovered ([`open_failures`]).
    pub open_failures: DataFrame,
    /// This school year's term marks posted by the as-of date, for the courses at risk.
    pub marks_this_year: DataFrame,
    /// The courses of `marks_this_year`, with their first and latest marks.
    pub courses_this_year: CourseMarks,
    /// Their credits, and whether each has ended and been passed by the as-of date.
    pub course_credits: courses::CourseCredits,
}

/// Computes the feature table from a validated snapshot, as of its as-of date.
pub fn compute(data: &Validated, config: &Config) -> Result<FeatureRun> {
    let mut ignored = Vec::new();
    let (as_of, school_year) = (data.as_of, data.school_year);
    let year_start = config.school_year_first_day(school_year);

    // Attendance: the student-days of this school year up to the as-of date.
    push(
        &mut ignored,
        crate::contract::ATTENDANCE.name,
        "dated after the as-of date",
        data.attendance.rows_after_as_of(),
    );
    let calendar = data.attendance.school_days(config);
    let recent_start = recent_window_start(&calendar, config.attendance.recent_school_days);
    let attendance_features = attendance_features(
        data.attendance
            .student_days(recent_start, config.attendance.recent_school_days),
        data.period_absence.as_ref(),
        &data.students,
        config,
    )?;

    // Grades: this school year's term marks posted by the as-of date.
    let (grades, after, _) = split_window(data.grades.clone(), "mark_date", NaiveDate::MIN, as_of)?;
    push(
        &mut ignored,
        crate::contract::GRADES.name,
        "posted after the as-of date",
        after,
    );
    let (marks_this_year, earlier) = keep_rows(&grades, col("school_year").eq(lit(school_year)))?;
    // The prior year's marks, when `history.years` reads it: prior-year features.
    let (prior_year_marks, _) = keep_rows(
        &grades,
        col("school_year")
            .eq(lit(school_year - 1))
            .and(lit(config.history.years > 0)),
    )?;
    push(
        &mut ignored,
        crate::contract::GRADES.name,
        "mark of an earlier school year than `history.years` reads (not a feature)",
        earlier - prior_year_marks.height() as u64,
    );
    let (marks_this_year, superseded) = supersede(marks_this_year, config)?;
    push(
        &mut ignored,
        crate::contract::GRADES.name,
        "superseded by the posted mark of a term that covers it ([terms])",
        superseded,
    );
    // Weighted only when the export has credits: the plain mean otherwise, to the last bit.
    let weighted = marks_this_year.column("credits")?.null_count() < marks_this_year.height();
    let mark_features = mark_features(marks_this_year.clone().lazy(), weighted)?;
    let courses_this_year = CourseMarks::of(&marks_this_year)?;
    let on_pace = courses_on_pace(
        courses_this_year.latest_marks(&marks_this_year.select(["student_id", "mark"])?)?,
    );

    // Credits: the transcript up to the as-of date.
    let (credits, after, _) = split_window(
        data.credits.clone(),
        "completion_date",
        NaiveDate::MIN,
        as_of,
    )?;
    push(
        &mut ignored,
        crate::contract::CREDITS.name,
        "completed after the as-of date",
        after,
    );
    // Credits of completed recovery courses the transcript does not have yet.
    let (credits, course_names, added) =
        supports::with_recovered_credits(credits, data.interventions.as_ref(), as_of, config)?;
    if added > 0 {
        log::info!(
            "{}: {added} completed credit-recovery courses counted toward credits until the transcript has them",
            crate::contract::INTERVENTIONS.name
        );
    }
    let course_credits = courses_this_year.credits(&marks_this_year, config, school_year, as_of)?;
    let progress = credit_progress(
        &marks_this_year,
        &courses_this_year,
        &course_credits,
        &credits,
        school_year,
    )?;
    let open_failures = open_failures(&credits, config)?;
    let credit_features = credit_features(&credits, &open_failures)?;

    // Behavior (optional file): this school year's incidents up to the as-of date.
    let behavior_features = match &data.behavior {
        Some(behavior) => {
            // Incidents of the prior year read (`history.years`) are prior-year features.
            let history_start = config.history.first_day(config, school_year);
            let (_, _, before) = split_window(behavior.clone(), "date", history_start, as_of)?;
            let (behavior, after, _) = split_window(behavior.clone(), "date", year_start, as_of)?;
            push(
                &mut ignored,
                crate::contract::BEHAVIOR.name,
                "dated after the as-of date",
                after,
            );
            push(
                &mut ignored,
                crate::contract::BEHAVIOR.name,
                "dated before the school years `history.years` reads (not a feature)",
                before,
            );
            Some(behavior_features(behavior)?)
        }
        None => None,
    };

    let prior = prior_year_features(data, prior_year_marks, &credits, config, &mut ignored)?;

    let table = assemble(
        data.students.clone(),
        StudentFeatureFrames {
            attendance: attendance_features,
            marks: mark_features,
            credits: credit_features,
            behavior: behavior_features,
            prior,
            on_pace,
            progress,
        },
        &credits,
        config,
        school_year,
    )?;
    let mut table = unknown_when_not_exported(table, config)?;
    table.with_column(Column::new_scalar(
        table::SCHOOL_YEAR_FRACTION.into(),
        Scalar::from(school_year_fraction(as_of, year_start)),
        table.height(),
    ))?;
    // One chunk per column: the output stages read students by row (in risk order), which
    // is a search through the chunks otherwise.
    table.rechunk_mut_par();
    let pathways = pathways_by_row(&table, &data.students)?;
    let supports = supports::supports(
        &table,
        data.interventions.as_ref(),
        data.decisions.as_ref(),
        &course_names,
        (year_start, as_of),
        &mut ignored,
    )?;
    Ok(FeatureRun {
        as_of,
        school_year,
        school_days: calendar.len(),
        calendar,
        table,
        ignored,
        courses: CourseRecords {
            transcript: credits,
            open_failures,
            marks_this_year,
            courses_this_year,
            course_credits,
        },
        pathways,
        supports,
    })
}

/// The students' pathways (students.csv `pathway`, blank: none) in the table's row order.
fn pathways_by_row(table: &DataFrame, students: &DataFrame) -> Result<Vec<Option<String>>> {
    let ids = crate::ingest::columns::texts(students.column("student_id")?)?;
    let values = crate::ingest::columns::texts(students.column("pathway")?)?;
    let of: FxHashMap<&str, &str> = ids
        .zip(values)
        .filter_map(|(id, p)| Some((id?, p.map(str::trim).filter(|p| !p.is_empty())?)))
        .collect();
    Ok(crate::ingest::columns::texts(table.column("student_id")?)?
        .map(|id| id.and_then(|id| of.get(id)).map(|p| p.to_string()))
        .collect())
}

/// Per student: the credits of this year's courses whose own term has ended (expected by
/// now), and of those passed whose credit the transcript does not have yet (transcripts lag
/// the final marks). One pass over the courses, another over this year's transcript rows.
fn credit_progress(
    marks: &DataFrame,
    courses: &CourseMarks,
    credits_of: &courses::CourseCredits,
    transcript: &DataFrame,
    school_year: i32,
) -> Result<LazyFrame> {
    use crate::ingest::columns::texts;
    let years = transcript.column("school_year")?.i32()?;
    let on_transcript: rustc_hash::FxHashSet<(&str, &str)> =
        texts(transcript.column("student_id")?)?
            .zip(texts(transcript.column("course_id")?)?)
            .zip(years.iter())
            .filter_map(|((id, course), year)| {
                (year == Some(school_year)).then_some((id?, course?))
            })
            .collect();
    let latest = courses.latest_marks(&marks.select(["student_id", "course_id"])?)?;
    let mut sums: FxHashMap<&str, (f64, f64)> = FxHashMap::default();
    let rows = texts(latest.column("student_id")?)?.zip(texts(latest.column("course_id")?)?);
    for (k, (id, course)) in rows.enumerate() {
        let (Some(id), Some(course)) = (id, course) else {
            continue;
        };
        if !credits_of.ended[k] {
            continue;
        }
        let credit = credits_of.credit[k];
        let sum = sums.entry(id).or_default();
        sum.0 += credit;
        if credits_of.passed[k] && !on_transcript.contains(&(id, course)) {
            sum.1 += credit;
        }
    }
    let (mut ids, mut ended, mut pending) = (Vec::new(), Vec::new(), Vec::new());
    for (id, (e, p)) in sums {
        ids.push(id);
        ended.push(e);
        pending.push(p);
    }
    Ok(df!(
        "student_id" => ids,
        "credits_ended_this_year" => ended,
        "credits_passed_pending" => pending,
    )?
    .lazy())
}

/// The features of a file the export does not carry (`input.not_exported`) are unknown for
/// every student: missing, never zero (a student without a transcript is not 24 credits
/// behind). Marks give the Marks family, the transcript the Credits family, and on-track in
/// grade 9 needs both.
fn unknown_when_not_exported(table: DataFrame, config: &Config) -> Result<DataFrame> {
    let grades = config.input.not_exported(crate::contract::GRADES.name);
    let credits = config.input.not_exported(crate::contract::CREDITS.name);
    let unknown: Vec<Expr> = FEATURES
        .iter()
        .filter(|f| match f.family {
            Family::Marks => grades,
            Family::Credits => credits,
            _ => f.name == "freshman_on_track" && (grades || credits),
        })
        .map(|f| lit(NULL).cast(DataType::Float64).alias(f.name))
        .collect();
    if unknown.is_empty() {
        return Ok(table);
    }
    Ok(table.lazy().with_columns(unknown).collect()?)
}

fn push(
    ignored: &mut Vec<crate::ingest::quality::IgnoredRows>,
    file: &'static str,
    reason: &'static str,
    rows: u64,
) {
    if rows > 0 {
        ignored.push(crate::ingest::quality::IgnoredRows { file, reason, rows });
    }
}

/// Keeps the rows dated from `first` to `last`; counts those after and before.
fn split_window(
    frame: DataFrame,
    date_column: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<(DataFrame, u64, u64)> {
    let (first, last) = (
        crate::ingest::columns::date_literal(first),
        crate::ingest::columns::date_literal(last),
    );
    let counts = frame
        .clone()
        .lazy()
        .select([
            col(date_column).gt(last.clone()).sum().alias("after"),
            col(date_column).lt(first.clone()).sum().alias("before"),
        ])
        .collect()?;
    let count = |name: &str| -> Result<u64> {
        let total = counts.column(name)?.cast(&DataType::UInt64)?;
        Ok(total.u64()?.get(0).unwrap_or(0))
    };
    let (after, before) = (count("after")?, count("before")?);
    let window = col(date_column)
        .gt_eq(first)
        .and(col(date_column).lt_eq(last));
    let (kept, _) = keep_rows(&frame, window)?;
    Ok((kept, after, before))
}

/// The rows of `frame` where `keep` holds, and how many were left out. The frame itself (not
/// a copy) when all are kept, as they usually are: at a million students grades and credits
/// are a gigabyte each.
fn keep_rows(frame: &DataFrame, keep: Expr) -> Result<(DataFrame, u64)> {
    let mask = frame
        .clone()
        .lazy()
        .select([keep.fill_null(lit(false)).alias("keep")])
        .collect()?;
    let mask = mask.column("keep")?.bool()?.clone();
    let left_out = (mask.len() - mask.sum().unwrap_or(0) as usize) as u64;
    if left_out == 0 {
        Ok((frame.clone(), 0))
    } else {
        Ok((frame.filter(&mask)?, left_out))
    }
}

/// First day of the window of the last `n` school days (the first school day when fewer).
fn recent_window_start(calendar: &[NaiveDate], n: usize) -> NaiveDate {
    calendar
        .len()
        .checked_sub(n)
        .and_then(|i| calendar.get(i))
        .or(calendar.first())
        .copied()
        .unwrap_or(NaiveDate::MIN)
}

/// Attendance rates per student from their day counts of this school year.
fn attendance_features(
    days: StudentDays,
    periods: Option<&crate::ingest::periods::PeriodAbsence>,
    students: &DataFrame,
    config: &Config,
) -> Result<LazyFrame> {
    // Class periods missed ÷ scheduled on the days attended: unknown without the file, or
    // without a day attended.
    let period_rate: Vec<Option<f64>> = days
        .student
        .iter()
        .map(|&s| {
            let p = periods?;
            let scheduled = p.scheduled[s as usize];
            (scheduled > 0.0).then(|| p.missed[s as usize] / scheduled)
        })
        .collect();
    let rows: IdxCa = days
        .student
        .iter()
        .map(|&s| s as IdxSize)
        .collect_ca("".into());
    let student_id = students.column("student_id")?.take(&rows)?;
    let count = |name: &str, values: Vec<f64>| Column::new(name.into(), values);
    let counts = DataFrame::new_infer_height(vec![
        student_id,
        count("enrolled_days", days.enrolled_days),
        count("present_days", days.present_days),
        count("tardy_days", days.tardy_days),
        count("unexcused_days", days.unexcused_days),
        count("recent_days", days.recent_days),
        count("recent_present_days", days.recent_present_days),
        Column::new("class_period_absence_rate".into(), period_rate),
    ])?;
    let rate = |numerator: &str, denominator: &str| {
        col(numerator).cast(DataType::Float64) / col(denominator).cast(DataType::Float64)
    };
    Ok(counts.lazy().select([
        col("student_id"),
        rate("present_days", "enrolled_days").alias("attendance_rate"),
        rate("unexcused_days", "enrolled_days").alias("unexcused_absence_rate"),
        when(col("recent_days").gt(lit(0)))
            .then(rate("recent_present_days", "recent_days"))
            .otherwise(rate("present_days", "enrolled_days"))
            .alias("recent_attendance_rate"),
        // Not chronically absent before `attendance.chronic_min_days` membership days: too
        // few days to call a habit.
        (lit(1.0) - rate("present_days", "enrolled_days"))
            .gt_eq(lit(config.attendance.chronic_absence_threshold - 1e-12))
            .and(
                col("enrolled_days")
                    .cast(DataType::Float64)
                    .gt_eq(lit(f64::from(config.attendance.chronic_min_days))),
            )
            .cast(DataType::Float64)
            .alias("chronic_absence"),
        rate("tardy_days", "enrolled_days").alias("tardy_rate"),
        col("class_period_absence_rate"),
    ]))
}

fn is_core(subject: Expr) -> Expr {
    CORE_SUBJECTS
        .iter()
        .map(|s| subject.clone().eq(lit(*s)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false))
}

/// A failed term mark in semester units: a year mark is two semesters, a trimester two thirds
/// of one, a quarter half of one, a six-week period a third.
fn semester_weight(term: Expr) -> Expr {
    let starts = |prefix: &str| {
        term.clone()
            .cast(DataType::String)
            .str()
            .starts_with(lit(prefix.to_string()))
    };
    when(term.clone().eq(lit("Y")))
        .then(lit(2.0))
        .when(starts("Q"))
        .then(lit(0.5))
        .when(starts("T"))
        .then(lit(2.0 / 3.0))
        .when(starts("W"))
        .then(lit(1.0 / 3.0))
        .otherwise(lit(1.0))
}

/// This year's marks without those superseded: a posted mark of a term supersedes, in the same
/// course, the marks of the terms it covers (`[terms]`, through chains), so one failed semester
/// posted with its two quarters counts once. Returns the marks kept and how many were not.
///
/// Two passes over the marks in Rust, with the terms as bits: per (student, course) the terms
/// its posted marks cover, then each mark kept unless its term is among them. (A polars join of
/// the marks with the (covering, covered) pairs doubled the run's peak memory at 100,000
/// students.)
fn supersede(marks: DataFrame, config: &Config) -> Result<(DataFrame, u64)> {
    let pairs = config.covered_terms();
    if pairs.is_empty() || marks.height() == 0 {
        return Ok((marks, 0));
    }
    let terms: Vec<String> = config.term_table().into_keys().collect();
    let bit_of: FxHashMap<&str, u32> = terms
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    // What a mark of each term covers, as bits of `terms` (the config allows 128 terms).
    let mut covers: FxHashMap<&str, u128> = FxHashMap::default();
    for (covering, covered) in &pairs {
        if let Some(&bit) = bit_of.get(covered.as_str()) {
            *covers.entry(covering.as_str()).or_insert(0) |= 1u128 << bit;
        }
    }
    // The three columns as fresh iterators for each pass (collecting them would hold three
    // pointers per mark: 0.75 GB at a million students).
    let rows = || -> Result<_> {
        let text = |name: &str| crate::ingest::columns::texts(marks.column(name)?);
        Ok(text("student_id")?
            .zip(text("course_id")?)
            .zip(text("term")?))
    };
    let mut covered: FxHashMap<(&str, &str), u128> = FxHashMap::default();
    for ((student, course), term) in rows()? {
        if let (Some(student), Some(course), Some(mask)) =
            (student, course, term.and_then(|t| covers.get(t)))
        {
            *covered.entry((student, course)).or_insert(0) |= mask;
        }
    }
    let keep: BooleanChunked = rows()?
        .map(|((student, course), term)| {
            let superseded = match (student, course, term.and_then(|t| bit_of.get(t))) {
                (Some(student), Some(course), Some(&bit)) => covered
                    .get(&(student, course))
                    .is_some_and(|mask| mask & (1u128 << bit) != 0),
                _ => false,
            };
            Some(!superseded)
        })
        .collect();
    let dropped = (keep.len() - keep.sum().unwrap_or(0) as usize) as u64;
    if dropped == 0 {
        return Ok((marks, 0));
    }
    Ok((marks.filter(&keep)?, dropped))
}

/// F marks and GPA from this school year's term marks (those not superseded). GPA is weighted
/// by the marks' `credits` where the export has them (a blank counts as 1).
fn mark_features(this_year: LazyFrame, weighted: bool) -> Result<LazyFrame> {
    let f = col("mark").eq(lit("F"));
    let gpa = if weighted {
        let weight = col("credits").fill_null(lit(1.0));
        let graded = col("points").is_not_null();
        let total = when(graded).then(weight.clone()).otherwise(lit(0.0)).sum();
        // Marks of courses worth no credit only: no GPA, as with no letter mark.
        when(total.clone().gt(lit(0.0)))
            .then((col("points") * weight).sum() / total)
            .otherwise(lit(NULL).cast(DataType::Float64))
    } else {
        col("points").mean()
    };
    Ok(this_year.group_by([col("student_id")]).agg([
        f.clone().sum().cast(DataType::Float64).alias("f_marks"),
        f.clone()
            .and(is_core(col("subject")))
            .sum()
            .cast(DataType::Float64)
            .alias("core_f_marks"),
        gpa.alias("gpa"),
        // For the in-progress freshman on-track indicator:
        when(f.and(is_core(col("subject"))))
            .then(semester_weight(col("term")))
            .otherwise(lit(0.0))
            .sum()
            .alias("core_semester_fs_this_year"),
    ]))
}

/// Credits earned, and failed transcript courses not yet recovered.
fn credit_features(credits: &DataFrame, open_failures: &DataFrame) -> Result<LazyFrame> {
    let earned = credits
        .clone()
        .lazy()
        .group_by([col("student_id")])
        .agg([col("credits_earned").sum().alias("credits_earned")]);
    let unrecovered = unrecovered_failures(open_failures)?;
    Ok(earned.join(
        unrecovered.lazy(),
        [col("student_id")],
        [col("student_id")],
        JoinArgs::new(JoinType::Left),
    ))
}

/// Counts, per student, the failed courses not yet recovered (from [`open_failures`]; a
/// failure whose subject credit a recovery course made up counts as recovered).
fn unrecovered_failures(open_failures: &DataFrame) -> Result<DataFrame> {
    Ok(open_failures
        .clone()
        .lazy()
        .filter(col("subject_made_up").not())
        .group_by([col("student_id")])
        .agg([len()
            .cast(DataType::Float64)
            .alias("unrecovered_failed_courses")])
        .collect()?)
}

/// The failed transcript courses (earned < attempted, not themselves credit-recovery rows)
/// that no later pass recovers. A failure is recovered by a later pass of the same course, of
/// a course `[recovery.course_equivalents]` counts for it, or of a credit-recovery course whose
/// `recovers_course_id` names it (or an equivalent). A passed credit-recovery course that
/// names no course it recovers, and is no failed course retaken, makes up its subject's credit
/// instead: the earliest open failure of that subject is kept, with `subject_made_up` (each
/// such course makes up one). Columns: student_id, school_year, course_id, course_name,
/// subject, credits_attempted, credits_earned, completion_date, subject_made_up; sorted by
/// student_id, subject, completion_date.
pub fn open_failures(credits: &DataFrame, config: &Config) -> Result<DataFrame> {
    let failed = col("credits_earned").lt(col("credits_attempted"));
    let key = |column: &str| course_key(col(column), config);
    let failures = credits
        .clone()
        .lazy()
        .filter(failed.clone().and(col("credit_recovery").not()))
        .select([
            col(LINE),
            col("student_id"),
            col("school_year"),
            col("course_id"),
            col("course_name"),
            col("subject"),
            col("credits_attempted"),
            col("credits_earned"),
            col("completion_date"),
            key("course_id").alias("__key"),
        ]);
    let passes = credits
        .clone()
        .lazy()
        .filter(failed.not().and(col("credits_attempted").gt(lit(0.0))));
    // Each pass recovers its own course; a credit-recovery pass also the course it names.
    let recovering = concat(
        [
            passes.clone().select([
                col("student_id"),
                key("course_id").alias("__key"),
                col("completion_date").alias("pass_date"),
            ]),
            passes
                .clone()
                .filter(col("recovers_course_id").is_not_null())
                .select([
                    col("student_id"),
                    key("recovers_course_id").alias("__key"),
                    col("completion_date").alias("pass_date"),
                ]),
        ],
        UnionArgs::default(),
    )?;
    let by_course = || [col("student_id"), col("__key")];
    let retaken = failures
        .clone()
        .join(
            recovering,
            by_course(),
            by_course(),
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("pass_date").gt(col("completion_date")))
        .select([col(LINE)])
        .unique(None, UniqueKeepStrategy::Any);
    let open = failures
        .clone()
        .anti_join(retaken, col(LINE), col(LINE))
        .sort(
            ["student_id", "subject", "completion_date"],
            Default::default(),
        )
        .collect()?;
    // Subject-level recoveries: passed credit-recovery courses that name no course and are
    // no failed course of the student retaken.
    let recoveries = passes
        .filter(col("credit_recovery").and(col("recovers_course_id").is_null()))
        .with_column(key("course_id").alias("__key"))
        .join(
            failures.select([col("student_id"), col("__key")]),
            by_course(),
            by_course(),
            JoinArgs::new(JoinType::Anti),
        )
        .select([col("student_id"), col("subject"), col("completion_date")])
        .sort(
            ["student_id", "subject", "completion_date"],
            Default::default(),
        )
        .collect()?;

    // Merge the two sorted lists per (student, subject). Failed courses are few; this is a
    // Rust loop over failures, not over transcript or attendance rows.
    let mut recovery_dates: FxHashMap<(&str, &str), Vec<NaiveDate>> = FxHashMap::default();
    let r_ids = crate::ingest::columns::texts(recoveries.column("student_id")?)?;
    let r_subjects = crate::ingest::columns::texts(recoveries.column("subject")?)?;
    let r_dates = recoveries.column("completion_date")?.date()?;
    for ((id, subject), date) in r_ids.zip(r_subjects).zip(r_dates.as_date_iter()) {
        if let (Some(id), Some(subject), Some(date)) = (id, subject, date) {
            recovery_dates.entry((id, subject)).or_default().push(date);
        }
    }
    let f_ids = crate::ingest::columns::texts(open.column("student_id")?)?;
    let f_subjects = crate::ingest::columns::texts(open.column("subject")?)?;
    let f_dates = open.column("completion_date")?.date()?;
    let mut made_up: Vec<bool> = Vec::with_capacity(open.height());
    let mut used: FxHashMap<(&str, &str), usize> = FxHashMap::default();
    for ((id, subject), date) in f_ids.zip(f_subjects).zip(f_dates.as_date_iter()) {
        let (Some(id), Some(subject), Some(date)) = (id, subject, date) else {
            made_up.push(false);
            continue;
        };
        let next = used.entry((id, subject)).or_insert(0);
        let available = recovery_dates
            .get(&(id, subject))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // The first unused subject recovery completed after this failure makes it up.
        while *next < available.len() && available[*next] <= date {
            *next += 1;
        }
        if *next < available.len() {
            *next += 1;
            made_up.push(true);
        } else {
            made_up.push(false);
        }
    }
    let mut open = open.drop(LINE)?.drop("__key")?;
    open.with_column(Column::new("subject_made_up".into(), made_up))?;
    Ok(open)
}

/// A course id as the recovery matching sees it: the first course of its
/// `[recovery.course_equivalents]` group (a key and the ids it lists count for each other).
/// Coded as the course files' ids are: without equivalences the column itself, so the joins
/// hash codes, not text.
fn course_key(course: Expr, config: &Config) -> Expr {
    if config.recovery.course_equivalents.is_empty() {
        return course;
    }
    let course = course.cast(DataType::String);
    let mut key = course.clone();
    for (first, others) in &config.recovery.course_equivalents {
        for other in others {
            key = when(course.clone().eq(lit(other.as_str())))
                .then(lit(first.as_str()))
                .otherwise(key);
        }
    }
    crate::ingest::columns::coded(key)
}

/// Incidents and suspension days in this school year.
/// The prior-year features (docs/features.md), one row per student of students.csv: the
/// school year before the as-of date's, when `history.years` reads it. Its attendance rate
/// ([`crate::ingest::attendance::Attendance::prior_year_rates`]), its `marks` (grades.csv rows
/// of that `school_year`, superseded as this year's are), its behavior incidents (dated in
/// that year) and the credits its transcript rows earned. Unknown (null) without such records:
/// a student with no prior-year mark has no prior GPA nor F-mark count; behavior counts are
/// unknown without behavior.csv, or for a student with no prior-year incident and no
/// prior-year attendance rate, mark or transcript row.
fn prior_year_features(
    data: &Validated,
    marks: DataFrame,
    transcript: &DataFrame,
    config: &Config,
    ignored: &mut Vec<crate::ingest::quality::IgnoredRows>,
) -> Result<LazyFrame> {
    let prior_year = data.school_year - 1;
    let reads = config.history.years > 0;
    let rates = data
        .attendance
        .prior_year_rates(config, config.attendance.chronic_min_days);
    let students = DataFrame::new_infer_height(vec![
        data.students
            .column("student_id")?
            .cast(&DataType::String)?,
        Column::new("prior_attendance_rate".into(), rates),
    ])?;
    let (marks, superseded) = supersede(marks, config)?;
    push(
        ignored,
        crate::contract::GRADES.name,
        "prior year: superseded by the posted mark of a term that covers it ([terms])",
        superseded,
    );
    let weighted = marks.column("credits")?.null_count() < marks.height();
    let marks = mark_features(marks.lazy(), weighted)?.select([
        col("student_id").cast(DataType::String),
        col("f_marks").alias("prior_f_marks"),
        col("core_f_marks").alias("prior_core_f_marks"),
        col("gpa").alias("prior_gpa"),
    ]);
    // Credits earned in the prior year: its transcript rows (none: unknown, as for a grade-9
    // student whose grade-8 year gave no high-school credit, or a new entrant).
    let (year_rows, _) = keep_rows(
        transcript,
        col("school_year").eq(lit(prior_year)).and(lit(reads)),
    )?;
    let earned = year_rows
        .lazy()
        .group_by([col("student_id").cast(DataType::String)])
        .agg([col("credits_earned")
            .sum()
            .cast(DataType::Float64)
            .alias("prior_credits_earned")]);
    let left = || JoinArgs::new(JoinType::Left);
    let mut frame = students
        .lazy()
        .join(marks, [col("student_id")], [col("student_id")], left())
        .join(earned, [col("student_id")], [col("student_id")], left());
    frame = match (&data.behavior, reads) {
        (Some(behavior), true) => {
            let first = config.school_year_first_day(prior_year);
            let last = config.school_year_first_day(data.school_year) - chrono::Days::new(1);
            let (incidents, _, _) = split_window(behavior.clone(), "date", first, last)?;
            let counts = behavior_features(incidents)?.select([
                col("student_id").cast(DataType::String),
                col("behavior_incidents").alias("prior_behavior_incidents"),
                col("suspension_days").alias("prior_suspension_days"),
            ]);
            frame.join(
                counts,
                [col("student_id")],
                [col("student_id")],
                JoinArgs::new(JoinType::Left),
            )
        }
        _ => frame.with_columns([
            lit(NULL)
                .cast(DataType::Float64)
                .alias("prior_behavior_incidents"),
            lit(NULL)
                .cast(DataType::Float64)
                .alias("prior_suspension_days"),
        ]),
    };
    // A student without a prior-year incident has 0, when the year is on record for them (a
    // prior-year attendance rate, mark or transcript row); with none, there is no evidence of the year at
    // all (a new entrant, a first year of records), so no count either.
    let no_record = col("prior_attendance_rate")
        .is_null()
        .and(col("prior_gpa").is_null())
        .and(col("prior_credits_earned").is_null());
    let behavior_known = data.behavior.is_some() && reads;
    let unless_no_record = |name: &str| {
        when(col(name).is_not_null())
            .then(col(name).cast(DataType::Float64))
            .when(no_record.clone().not().and(lit(behavior_known)))
            .then(lit(0.0))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias(name)
    };
    Ok(frame.select([
        col("student_id"),
        col("prior_attendance_rate"),
        col("prior_gpa"),
        col("prior_f_marks").cast(DataType::Float64),
        col("prior_core_f_marks").cast(DataType::Float64),
        unless_no_record("prior_behavior_incidents"),
        unless_no_record("prior_suspension_days"),
        col("prior_credits_earned"),
    ]))
}

fn behavior_features(behavior: DataFrame) -> Result<LazyFrame> {
    Ok(behavior.lazy().group_by([col("student_id")]).agg([
        len().cast(DataType::Float64).alias("behavior_incidents"),
        col("suspension_days").sum().alias("suspension_days"),
    ]))
}

struct StudentFeatureFrames {
    attendance: LazyFrame,
    marks: LazyFrame,
    credits: LazyFrame,
    behavior: Option<LazyFrame>,
    /// [`prior_year_features`]: one row per student, text ids.
    prior: LazyFrame,
    on_pace: LazyFrame,
    /// [`credit_progress`]: credits of ended courses and of passed ones not yet on the
    /// transcript.
    progress: LazyFrame,
}

/// The freshman on-track indicator for students past grade 9, from their grade-9 transcript.
fn freshman_year_record(
    credits: &DataFrame,
    students: &DataFrame,
    school_year: i32,
) -> Result<LazyFrame> {
    let freshman_year = lit(school_year) - (col("grade_level") - lit(9));
    let failed_core = col("credits_earned")
        .lt(col("credits_attempted"))
        .and(is_core(col("subject")));
    Ok(credits
        .clone()
        .lazy()
        .join(
            students.clone().lazy().select([
                crate::ingest::columns::coded(col("student_id")),
                col("grade_level"),
            ]),
            [col("student_id")],
            [col("student_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("grade_level")
                .gt(lit(9))
                .and(col("school_year").eq(freshman_year)),
        )
        .group_by([col("student_id")])
        .agg([
            col("credits_earned").sum().alias("freshman_credits"),
            when(failed_core)
                .then(semester_weight(col("term")))
                .otherwise(lit(0.0))
                .sum()
                .alias("freshman_core_semester_fs"),
        ]))
}

/// Courses a grade-9 student is on pace to pass this year: courses whose latest posted mark is
/// neither F nor W (each counted as one full-year credit).
fn courses_on_pace(latest_marks: DataFrame) -> LazyFrame {
    latest_marks
        .lazy()
        .group_by([col("student_id")])
        .agg([col("mark")
            .neq(lit("F"))
            .and(col("mark").neq(lit("W")))
            .sum()
            .cast(DataType::Float64)
            .alias("courses_on_pace")])
}

fn assemble(
    students: DataFrame,
    frames: StudentFeatureFrames,
    credits: &DataFrame,
    config: &Config,
    school_year: i32,
) -> Result<DataFrame> {
    let left = || JoinArgs::new(JoinType::Left);
    let by = || [col("student_id")];
    // Joined by coded ids, as the course files have them (crate::ingest::columns::coded): the joins hash
    // 4-byte codes, not text. The table gets its text ids back before it is sorted.
    let coded_ids =
        |frame: LazyFrame| frame.with_column(crate::ingest::columns::coded(col("student_id")));
    let freshman = freshman_year_record(credits, &students, school_year)?;

    let mut table = coded_ids(students.clone().lazy())
        .join(coded_ids(frames.attendance), by(), by(), left())
        .join(frames.marks, by(), by(), left())
        .join(frames.credits, by(), by(), left())
        .join(freshman, by(), by(), left())
        .join(frames.on_pace, by(), by(), left())
        .join(coded_ids(frames.progress), by(), by(), left())
        .join(coded_ids(frames.prior), by(), by(), left());
    table = match frames.behavior {
        Some(behavior) => table.join(coded_ids(behavior), by(), by(), left()),
        None => table.with_columns([
            lit(0.0).alias("behavior_incidents"),
            lit(0.0).alias("suspension_days"),
        ]),
    };

    let expected = expected_credits_expr(config);
    let cutoff = config.age_cutoff().in_year(school_year - 1);
    let age = lit(cutoff.year())
        - col("birth_date").dt().year()
        - when(
            (col("birth_date").dt().month().cast(DataType::Int32) * lit(100)
                + col("birth_date").dt().day().cast(DataType::Int32))
            .gt(lit((cutoff.month() * 100 + cutoff.day()) as i32)),
        )
        .then(lit(1))
        .otherwise(lit(0));
    let min_credits = config.credits.on_track_min_credits;
    let max_fs = config.credits.on_track_max_core_semester_fs;
    let on_track = |credits: Expr, fs: Expr| {
        credits
            .gt_eq(lit(min_credits))
            .and(fs.lt_eq(lit(max_fs)))
            .cast(DataType::Float64)
    };
    let zero = |name: &str| col(name).fill_null(lit(0.0)).alias(name);

    let table = table
        .with_columns([
            zero("f_marks"),
            zero("core_f_marks"),
            zero("credits_earned"),
            zero("unrecovered_failed_courses"),
            zero("behavior_incidents"),
            zero("suspension_days"),
            col("cohort_year")
                .fill_null(lit(school_year) + lit(12) - col("grade_level"))
                .alias("cohort_year"),
        ])
        .with_columns([
            when(expected.clone().gt(col("credits_earned")))
                .then(expected.clone() - col("credits_earned"))
                .otherwise(lit(0.0))
                .alias("credit_deficit_start_of_grade"),
            (expected.clone() + col("credits_ended_this_year").fill_null(lit(0.0)))
                .alias("credits_expected_now"),
            (col("credits_earned") + col("credits_passed_pending").fill_null(lit(0.0)))
                .alias("credits_earned_now"),
            // In grade 9, unknown until a mark is posted this year: no mark is no evidence of
            // being off track.
            when(
                col("grade_level")
                    .eq(lit(9))
                    .and(col("courses_on_pace").is_not_null()),
            )
            .then(on_track(
                col("courses_on_pace"),
                col("core_semester_fs_this_year").fill_null(lit(0.0)),
            ))
            .when(col("grade_level").eq(lit(9)))
            .then(lit(NULL).cast(DataType::Float64))
            .when(
                col("grade_level")
                    .gt(lit(9))
                    .and(col("freshman_credits").is_not_null()),
            )
            .then(on_track(
                col("freshman_credits"),
                col("freshman_core_semester_fs"),
            ))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("freshman_on_track"),
            age.gt(lit(14) + col("grade_level") - lit(9))
                .cast(DataType::Float64)
                .alias("over_age"),
        ])
        .with_column(
            when(col("credits_expected_now").gt(col("credits_earned_now")))
                .then(col("credits_expected_now") - col("credits_earned_now"))
                .otherwise(lit(0.0))
                .alias("credit_deficit_now"),
        );

    let mut columns: Vec<Expr> = STUDENT_COLUMNS
        .into_iter()
        .map(|name| match name {
            "student_id" => col(name).cast(DataType::String),
            _ => col(name),
        })
        .collect();
    columns.extend(FEATURES.iter().map(|f| col(f.name).cast(DataType::Float64)));
    columns.extend(CREDIT_PROGRESS_COLUMNS.map(col));
    Ok(table
        .select(columns)
        .sort(["student_id"], Default::default())
        .collect()?)
}

/// How far into its school year the as-of date is: days since the year's first day ÷ 365
/// (October 1 is 0.25 with the default July 1 start, March 15 0.70). The model's time-of-year
/// input ([`table::SCHOOL_YEAR_FRACTION`]): the same record means something else in October
/// than in March.
pub fn school_year_fraction(as_of: NaiveDate, year_start: NaiveDate) -> f64 {
    (as_of - year_start).num_days() as f64 / 365.0
}

/// Columns of the feature table after the features, for the recovery plans: the credits
/// expected of the student by the as-of date (by the start of the grade, plus this year's
/// courses whose own term has ended) and the credits earned (the transcript, plus this year's
/// courses passed whose credit the transcript does not have yet). `credit_deficit_now` is
/// the first less the second, at least 0.
pub const CREDIT_PROGRESS_COLUMNS: [&str; 2] = ["credits_expected_now", "credits_earned_now"];

/// The students.csv columns of the feature table, before the features, in order.
pub const STUDENT_COLUMNS: [&str; 13] = [
    "student_id",
    "first_name",
    "last_name",
    "school_id",
    "school_name",
    "grade_level",
    "cohort_year",
    "counselor",
    "gender",
    "race_ethnicity",
    "ell",
    "sped",
    "econ_disadvantaged",
];

/// Credits expected by the start of the student's grade, from the config.
fn expected_credits_expr(config: &Config) -> Expr {
    let mut expr = lit(0.0);
    for grade in 6..=12 {
        expr = when(col("grade_level").eq(lit(grade)))
            .then(lit(config.expected_credits(grade)))
            .otherwise(expr);
    }
    expr
}

/// Feature values of one student as a map, for tests and reason texts.
pub fn values_of(table: &DataFrame, row: usize) -> Result<BTreeMap<&'static str, Option<f64>>> {
    let mut values = BTreeMap::new();
    for f in &FEATURES {
        values.insert(f.name, table.column(f.name)?.f64()?.get(row));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_recent_window_starts_n_school_days_back_or_on_the_first_day() {
        let calendar = [day("2026-03-09"), day("2026-03-10"), day("2026-03-12")];
        assert_eq!(recent_window_start(&calendar, 2), day("2026-03-10"));
        assert_eq!(recent_window_start(&calendar, 3), day("2026-03-09"));
        assert_eq!(recent_window_start(&calendar, 20), day("2026-03-09"));
        assert_eq!(recent_window_start(&[], 20), NaiveDate::MIN);
    }

    #[test]
    fn rows_outside_the_school_year_are_left_out_and_counted_on_each_side() {
        let dates = [
            day("2025-06-30"),
            day("2025-07-01"),
            day("2026-03-13"),
            day("2026-03-14"),
            day("2026-04-01"),
        ];
        let frame = df!("mark_date" => &dates).unwrap();
        let (kept, after, before) =
            split_window(frame, "mark_date", day("2025-07-01"), day("2026-03-13")).unwrap();
        assert_eq!((kept.height(), after, before), (2, 2, 1));
    }

    #[test]
    fn a_failed_mark_weighs_in_semesters() {
        let frame = df!("term" => ["Y", "S1", "Q3", "T2", "W3"]).unwrap();
        let weights = frame
            .lazy()
            .select([semester_weight(col("term")).alias("weight")])
            .collect()
            .unwrap();
        let weights = weights.column("weight").unwrap().f64().unwrap();
        let weights: Vec<Option<f64>> = (0..weights.len()).map(|i| weights.get(i)).collect();
        assert_eq!(
            weights,
            [
                Some(2.0),
                Some(1.0),
                Some(0.5),
                Some(2.0 / 3.0),
                Some(1.0 / 3.0)
            ]
        );
    }
}
