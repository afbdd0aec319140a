//! What enrollment.csv gives besides membership days (contract, part 2): a student's school
//! and grade where students.csv leaves them blank, the cohort of the grade-9 entry, the rows of
//! students in scope, and outcomes from withdrawal codes for training.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::{school_year_of_column, Config};
use crate::ingest::columns::date_literal;
use crate::ingest::input::LINE;
use crate::ingest::quality::{flag_columns, Action, QualityReport};
use crate::ingest::rules::blank;
use crate::ingest::student_index::StudentIndex;
use crate::io::error::Result;

/// school_id and grade_level where students.csv leaves them blank, from the student's latest
/// enrollment span (on or before the as-of date when it is given); a student for whom neither
/// gives them is a rejected row.
pub(crate) fn school_and_grade_from_enrollment(
    students: DataFrame,
    enrollment: &DataFrame,
    as_of: Option<NaiveDate>,
    quality: &mut QualityReport,
) -> Result<DataFrame> {
    let unknown = || blank("school_id").or(col("grade_level").is_null());
    let count = students
        .clone()
        .lazy()
        .select([unknown().sum().cast(DataType::UInt64).alias("n")])
        .collect()?;
    if count.column("n")?.u64()?.get(0).unwrap_or(0) == 0 {
        return Ok(students);
    }
    let mut spans = enrollment.clone().lazy();
    if let Some(as_of) = as_of {
        spans = spans.filter(col("entry_date").lt_eq(date_literal(as_of)));
    }
    let latest = spans
        .sort(["student_id", "entry_date", LINE], Default::default())
        .group_by_stable([col("student_id")])
        .agg([
            col("school_id").last().alias("__span_school"),
            col("entry_grade_level").last().alias("__span_grade"),
        ]);
    let filled = students
        .lazy()
        .join(
            latest,
            [col("student_id")],
            [col("student_id")],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .with_columns([
            when(blank("school_id"))
                .then(col("__span_school"))
                .otherwise(col("school_id"))
                .alias("school_id"),
            col("grade_level")
                .fill_null(col("__span_grade"))
                .alias("grade_level"),
        ])
        .drop(by_name(["__span_school", "__span_grade"], true, false))
        .collect()?;
    let rejects = filled
        .clone()
        .lazy()
        .filter(unknown())
        .select(flag_columns(
            crate::contract::STUDENTS.name,
            when(blank("school_id"))
                .then(lit("school_id"))
                .otherwise(lit("grade_level")),
            lit(NULL).cast(DataType::String),
            lit("missing value (blank, and no enrollment span of the student gives it)"),
            Action::Reject,
        ))
        .collect()?;
    quality.add_rejects(crate::contract::STUDENTS.name, rejects);
    Ok(filled.lazy().filter(unknown().not()).collect()?)
}

/// The enrollment rows of students in scope: rows of students outside it are skipped and
/// counted; rows of students whose students.csv row was rejected (after enrollment filled
/// what it could) are rejected like any other file's.
pub(crate) fn enrollment_in_scope(
    enrollment: DataFrame,
    enrolled: &StudentIndex,
    quality: &mut QualityReport,
) -> Result<DataFrame> {
    let ids = enrollment.column("student_id")?.str()?;
    let out: BooleanChunked = ids
        .iter()
        .map(|id| Some(id.is_some_and(|id| enrolled.is_out_of_scope(id.as_bytes()))))
        .collect();
    let unknown: BooleanChunked = ids
        .iter()
        .zip(out.iter())
        .map(|(id, out)| Some(out != Some(true) && !id.is_some_and(|id| enrolled.contains(id))))
        .collect();
    let skipped = out.sum().unwrap_or(0) as u64;
    let rejected = enrollment
        .filter(&unknown)?
        .lazy()
        .select(flag_columns(
            crate::contract::ENROLLMENT.name,
            lit("student_id"),
            col("student_id"),
            lit(crate::contract::NOT_ENROLLED_REASON),
            Action::Reject,
        ))
        .collect()?;
    if let Some(file) = quality
        .files
        .iter_mut()
        .find(|f| f.file == crate::contract::ENROLLMENT.name)
    {
        file.out_of_scope = skipped;
    }
    quality.add_rejects(crate::contract::ENROLLMENT.name, rejected);
    let keep = !&(&out | &unknown);
    Ok(enrollment.filter(&keep)?)
}

/// students.csv's cohort_year where it is blank, from enrollment.csv: the school year of the
/// student's first span entered in grade 9, plus 3 (contract, part 2), so a retained student
/// keeps the cohort. Students without such a span keep a blank (derived from the grade later).
pub(crate) fn cohorts_from_enrollment(
    students: DataFrame,
    enrollment: &DataFrame,
    config: &Config,
) -> Result<DataFrame> {
    let entered_grade_9 = enrollment
        .clone()
        .lazy()
        .filter(col("entry_grade_level").eq(lit(9)))
        .group_by([col("student_id")])
        .agg([col("entry_date").min().alias("__grade_9_entry")])
        .select([
            col("student_id"),
            (school_year_of_column(col("__grade_9_entry"), config) + lit(3))
                .cast(DataType::Int32)
                .alias("__enrollment_cohort"),
        ]);
    Ok(students
        .lazy()
        .join(
            entered_grade_9,
            [col("student_id")],
            [col("student_id")],
            JoinArgs {
                maintain_order: MaintainOrderJoin::Left,
                ..JoinArgs::new(JoinType::Left)
            },
        )
        .with_column(
            col("cohort_year")
                .fill_null(col("__enrollment_cohort"))
                .alias("cohort_year"),
        )
        .drop(by_name(["__enrollment_cohort"], true, false))
        .collect()?)
}

/// Outcomes from the students' last enrollment span (by entry date), through
/// `[outcomes.exit_codes]`: a span still open is `still_enrolled` as of the as-of date; an exit
/// is its code's outcome on its exit date (`graduated` and `other` decided by the label rule).
/// An exit whose code the config does not list gives no outcome, with a warning row.
pub(crate) fn outcomes_from_enrollment(
    enrollment: &DataFrame,
    as_of: NaiveDate,
    config: &Config,
    quality: &mut QualityReport,
) -> Result<DataFrame> {
    let codes = &config.outcomes.exit_codes;
    let outcome = codes.iter().fold(
        lit(NULL).cast(DataType::String),
        |others, (code, outcome)| {
            when(col("exit_code").eq(lit(code.as_str())))
                .then(lit(outcome.as_str()))
                .otherwise(others)
        },
    );
    let last = enrollment
        .clone()
        .lazy()
        .sort(["student_id", "entry_date", LINE], Default::default())
        .group_by_stable([col("student_id")])
        .agg([col("*").last()])
        .with_column(
            when(col("exit_date").is_null())
                .then(lit("still_enrolled"))
                .otherwise(outcome)
                .alias("outcome"),
        )
        .collect()?;
    let unknown = last
        .clone()
        .lazy()
        .filter(col("outcome").is_null())
        .select(flag_columns(
            crate::contract::ENROLLMENT.name,
            lit("exit_code"),
            col("exit_code"),
            lit("exit code not in [outcomes.exit_codes]: the student has no outcome for training"),
            Action::Warn,
        ))
        .collect()?;
    quality.add_rejects(crate::contract::ENROLLMENT.name, unknown);
    Ok(last
        .lazy()
        .filter(col("outcome").is_not_null())
        .select([
            col("student_id"),
            col("outcome"),
            when(col("exit_date").is_null())
                .then(date_literal(as_of))
                .otherwise(col("exit_date"))
                .alias("outcome_date"),
        ])
        .collect()?)
}
