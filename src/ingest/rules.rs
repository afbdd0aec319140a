//! The row rules of each export file: when a row is unusable (rejected) or one of its
//! optional values is (left blank), with the reason rejects.csv gives, and the typed columns
//! that pass on to the features. docs/input-contract.md lists them.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::{school_year_of_column, Config};
use crate::contract::{
    bad_date_reason, is_blank, MISSING_REASON, NOT_ENROLLED_REASON, OUTCOME_VALUES,
};
use crate::ingest::input::LINE;
use crate::ingest::quality::Action;

use crate::ingest::columns::*;

/// Column flagging enrolled students after a join with students.csv.
pub(crate) const ENROLLED: &str = "__enrolled";

/// One row check.
pub struct Rule {
    pub column: &'static str,
    pub reason: String,
    pub action: Action,
    /// True where the row fails; null counts as passing.
    pub failed: Expr,
}

impl Rule {
    pub(crate) fn reject(column: &'static str, reason: impl Into<String>, failed: Expr) -> Rule {
        Rule {
            column,
            reason: reason.into(),
            action: Action::Reject,
            failed,
        }
    }

    pub(crate) fn ignore_value(
        column: &'static str,
        reason: impl Into<String>,
        failed: Expr,
    ) -> Rule {
        Rule {
            column,
            reason: reason.into(),
            action: Action::IgnoreValue,
            failed,
        }
    }
}

/// A required value that is absent: an empty field (the reader gives it as null) or one of
/// whitespace only, which no export means as an id, a name or a course.
pub(crate) fn missing(column: &'static str) -> Rule {
    Rule::reject(column, MISSING_REASON, blank(column))
}

/// True where a text column is null or white space only. A pass over the values in Rust: a
/// value is decided by its first byte unless that is not a letter or digit, where polars'
/// `strip_chars` would copy every value (measured at 100k students: +25% on the checks of
/// grades.csv and credits.csv).
pub(crate) fn blank(column: &str) -> Expr {
    col(column).map(
        |values| {
            let flags: BooleanChunked = values
                .str()?
                .iter()
                .map(|v| Some(v.is_none_or(is_blank)))
                .collect();
            Ok(flags.with_name(values.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// `format` is the export's date format (the mapping's, else the contract's ISO dates).
pub(crate) fn bad_date(column: &'static str, format: &str) -> Rule {
    Rule::reject(column, bad_date_reason(format), date(column).is_null())
}

/// A present value that does not parse.
pub(crate) fn malformed(column: &'static str, parsed: Expr, reason: &str) -> Rule {
    Rule::ignore_value(
        column,
        reason,
        col(column).is_not_null().and(parsed.is_null()),
    )
}

pub(crate) fn not_enrolled() -> Rule {
    Rule::reject("student_id", NOT_ENROLLED_REASON, col(ENROLLED).is_null())
}

pub(crate) fn after_school_year(column: &'static str, year_end: NaiveDate) -> Rule {
    Rule::reject(
        column,
        format!("date after the school year of the as-of date (ends {year_end})"),
        date(column).gt(date_literal(year_end)),
    )
}

pub(crate) fn unknown_mark(config: &Config, column: &'static str) -> Rule {
    let known = mark_points(config, column)
        .is_not_null()
        .or(col(column).eq(lit("I")))
        .or(col(column).eq(lit("W")));
    let scale: Vec<&str> = config.gpa_scale.keys().map(String::as_str).collect();
    Rule::reject(
        column,
        format!("unknown mark (expected one of {}, I or W)", scale.join(" ")),
        known.not().fill_null(lit(true)),
    )
}

/// `blanks_from_enrollment`: the snapshot has enrollment.csv, which may supply a blank
/// school_id or grade_level (a student it gives neither is rejected after).
pub(crate) fn students_rules(config: &Config, blanks_from_enrollment: bool) -> Vec<Rule> {
    let birth_date_reason = format!(
        "unparseable date (expected {}); left blank",
        config.input.date_format("students")
    );
    let mut rules = vec![
        missing("student_id"),
        Rule::reject(
            "student_id",
            "duplicate student_id (the first row is kept)",
            col(LINE).neq(col("__first_line")),
        ),
        missing("first_name"),
        missing("last_name"),
    ];
    if !blanks_from_enrollment {
        rules.extend([missing("school_id"), missing("grade_level")]);
    }
    rules.extend([
        Rule::reject(
            "grade_level",
            crate::contract::UNKNOWN_GRADE_REASON,
            blank("grade_level")
                .not()
                .and(grade("grade_level").is_null()),
        ),
        malformed("birth_date", date("birth_date"), &birth_date_reason),
        malformed(
            "cohort_year",
            int("cohort_year"),
            "unparseable year; left blank",
        ),
    ]);
    rules
}

pub(crate) fn students_typed() -> Vec<Expr> {
    vec![
        col("student_id"),
        col("first_name"),
        col("last_name"),
        col("school_id"),
        col("school_name"),
        grade("grade_level").alias("grade_level"),
        date("birth_date").alias("birth_date"),
        int("cohort_year").alias("cohort_year"),
        col("gender"),
        col("race_ethnicity"),
        col("ell"),
        col("sped"),
        col("econ_disadvantaged"),
        col("counselor"),
        col("pathway"),
    ]
}

/// Rules shared by the two course files (grades.csv and credits.csv).
pub(crate) fn course_rules() -> Vec<Rule> {
    vec![
        missing("student_id"),
        Rule::reject(
            "school_year",
            "unparseable school_year (expected a year such as 2026)",
            int("school_year").is_null(),
        ),
        missing("course_id"),
        missing("subject"),
    ]
}

pub(crate) fn grades_rules(config: &Config, year_end: NaiveDate) -> Vec<Rule> {
    let terms: Vec<String> = config.term_table().into_keys().collect();
    let known_term = terms
        .iter()
        .map(|t| col("term").eq(lit(t.as_str())))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let credits = number("credits");
    let mut rules = course_rules();
    rules.extend([
        missing("term"),
        Rule::reject(
            "term",
            crate::contract::UNKNOWN_TERM_REASON,
            known_term.not().fill_null(lit(true)),
        ),
        Rule::ignore_value(
            "credits",
            "unparseable or negative number; counted as 1",
            col("credits")
                .is_not_null()
                .and(credits.clone().is_null().or(credits.lt(lit(0.0)))),
        ),
        unknown_mark(config, "mark"),
        bad_date("mark_date", config.input.date_format("grades")),
        not_enrolled(),
        Rule::reject(
            "mark_date",
            "date outside the school year named in school_year",
            school_year_of_column(date("mark_date"), config).neq(int("school_year")),
        ),
        after_school_year("mark_date", year_end),
        malformed(
            "percent",
            number("percent"),
            "unparseable number; left blank",
        ),
    ]);
    rules
}

/// The typed grades. The file's school_id is left out: features and plans take a student's
/// school from students.csv.
pub(crate) fn grades_typed(config: &Config) -> Vec<Expr> {
    vec![
        coded(col("student_id")),
        int("school_year").alias("school_year"),
        coded(col("term")),
        coded(col("course_id")),
        coded(col("course_name")),
        coded(col("subject")),
        coded(mark("mark")).alias("mark"),
        mark_points(config, "mark").alias("points"),
        coded(col("course_term")),
        date("mark_date").alias("mark_date"),
        when(number("credits").gt_eq(lit(0.0)))
            .then(number("credits"))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("credits"),
    ]
}

pub(crate) fn credits_rules(config: &Config, year_end: NaiveDate) -> Vec<Rule> {
    let negative_or_bad = |c: &'static str| number(c).is_null().or(number(c).lt(lit(0.0)));
    let mut rules = course_rules();
    rules.extend([
        Rule::reject(
            "credits_attempted",
            "unparseable or negative number (expected a number ≥ 0)",
            negative_or_bad("credits_attempted"),
        ),
        Rule::reject(
            "credits_earned",
            "unparseable or negative number (expected a number ≥ 0)",
            negative_or_bad("credits_earned"),
        ),
        Rule::reject(
            "credits_earned",
            "credits_earned greater than credits_attempted",
            number("credits_earned").gt(number("credits_attempted")),
        ),
        unknown_mark(config, "mark"),
        bad_date("completion_date", config.input.date_format("credits")),
        not_enrolled(),
        after_school_year("completion_date", year_end),
        malformed(
            "credit_recovery",
            yes_no("credit_recovery"),
            "expected Y or N; left blank",
        ),
    ]);
    rules
}

pub(crate) fn credits_typed() -> Vec<Expr> {
    vec![
        coded(col("student_id")),
        int("school_year").alias("school_year"),
        coded(col("term")),
        coded(col("course_id")),
        coded(col("course_name")),
        coded(col("subject")),
        number("credits_attempted").alias("credits_attempted"),
        number("credits_earned").alias("credits_earned"),
        coded(mark("mark")).alias("mark"),
        date("completion_date").alias("completion_date"),
        yes_no("credit_recovery")
            .fill_null(lit(false))
            .alias("credit_recovery"),
        coded(col("recovers_course_id")),
    ]
}

pub(crate) fn behavior_rules(config: &Config, year_end: NaiveDate) -> Vec<Rule> {
    vec![
        missing("student_id"),
        bad_date("date", config.input.date_format("behavior")),
        not_enrolled(),
        after_school_year("date", year_end),
        Rule::ignore_value(
            "suspension_days",
            "unparseable or negative number; counted as 0",
            col("suspension_days").is_not_null().and(
                number("suspension_days")
                    .is_null()
                    .or(number("suspension_days").lt(lit(0.0))),
            ),
        ),
    ]
}

pub(crate) fn behavior_typed() -> Vec<Expr> {
    let days = number("suspension_days");
    vec![
        col("student_id"),
        date("date").alias("date"),
        col("incident_type"),
        col("suspension_type"),
        when(days.clone().gt_eq(lit(0.0)))
            .then(days)
            .otherwise(lit(0.0))
            .alias("suspension_days"),
    ]
}

pub(crate) fn outcomes_rules(config: &Config) -> Vec<Rule> {
    let known = OUTCOME_VALUES
        .iter()
        .map(|o| col("outcome").eq(lit(*o)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    vec![
        missing("student_id"),
        Rule::reject(
            "outcome",
            format!(
                "unknown outcome (expected one of {})",
                OUTCOME_VALUES.join(", ")
            ),
            known.not().fill_null(lit(true)),
        ),
        bad_date("outcome_date", config.input.date_format("outcomes")),
        not_enrolled(),
        Rule::reject(
            "student_id",
            "second outcome for the student (the first row is kept)",
            col(LINE).neq(col("__first_line")),
        ),
    ]
}

pub(crate) fn outcomes_typed() -> Vec<Expr> {
    vec![
        col("student_id"),
        col("outcome"),
        date("outcome_date").alias("outcome_date"),
    ]
}

pub(crate) fn period_rules(config: &Config, year_end: NaiveDate) -> Vec<Rule> {
    let known = crate::contract::ATTENDANCE_CODES
        .iter()
        .map(|c| col("code").eq(lit(*c)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    vec![
        missing("student_id"),
        bad_date("date", config.input.date_format("period_attendance")),
        missing("period"),
        Rule::reject(
            "code",
            format!(
                "unknown attendance code (expected one of {})",
                crate::contract::ATTENDANCE_CODES.join(" ")
            ),
            known.not().fill_null(lit(true)),
        ),
        not_enrolled(),
        after_school_year("date", year_end),
    ]
}

pub(crate) fn period_typed() -> Vec<Expr> {
    vec![
        col("student_id"),
        col("school_id"),
        date("date").alias("date"),
        col("period"),
        col("code"),
    ]
}

pub(crate) fn calendar_rules(config: &Config) -> Vec<Rule> {
    let periods = int("periods");
    vec![
        missing("school_id"),
        bad_date("date", config.input.date_format("calendar")),
        Rule::reject(
            "instructional",
            "expected Y or N",
            yes_no("instructional").is_null(),
        ),
        Rule::ignore_value(
            "periods",
            "expected a whole number ≥ 1; the default is used",
            col("periods")
                .is_not_null()
                .and(periods.clone().is_null().or(periods.lt(lit(1)))),
        ),
    ]
}

pub(crate) fn calendar_typed() -> Vec<Expr> {
    let periods = int("periods");
    vec![
        col("school_id"),
        date("date").alias("date"),
        yes_no("instructional").alias("instructional"),
        when(periods.clone().gt_eq(lit(1)))
            .then(periods)
            .otherwise(lit(NULL).cast(DataType::Int32))
            .alias("periods"),
    ]
}

pub(crate) fn enrollment_rules(config: &Config) -> Vec<Rule> {
    let format = config.input.date_format("enrollment");
    vec![
        missing("student_id"),
        missing("school_id"),
        bad_date("entry_date", format),
        Rule::reject(
            "exit_date",
            bad_date_reason(format),
            col("exit_date")
                .is_not_null()
                .and(date("exit_date").is_null()),
        ),
        not_enrolled(),
        Rule::reject(
            "exit_date",
            "exit_date before entry_date",
            date("exit_date").lt(date("entry_date")),
        ),
        Rule::reject(
            "entry_grade_level",
            crate::contract::UNKNOWN_GRADE_REASON,
            blank("entry_grade_level")
                .not()
                .and(grade("entry_grade_level").is_null()),
        ),
    ]
}

pub(crate) fn enrollment_typed() -> Vec<Expr> {
    vec![
        col("student_id"),
        col("school_id"),
        date("entry_date").alias("entry_date"),
        date("exit_date").alias("exit_date"),
        col("exit_code"),
        grade("entry_grade_level").alias("entry_grade_level"),
    ]
}

/// A value that must be one of `allowed`, else the row is rejected.
fn one_of(column: &'static str, allowed: &[&str], what: &str) -> Rule {
    let known = allowed
        .iter()
        .map(|v| col(column).eq(lit(*v)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    Rule::reject(
        column,
        format!("unknown {what} (expected one of {})", allowed.join(", ")),
        known.not().fill_null(lit(true)),
    )
}

/// interventions.csv: a support needs its student, type, start and status; a completed
/// support its end date (its credits count from then); credits recovered are a number ≥ 0.
pub(crate) fn interventions_rules(config: &Config) -> Vec<Rule> {
    let format = config.input.date_format("interventions");
    let credits = number("credits_recovered");
    vec![
        missing("student_id"),
        missing("intervention_type"),
        bad_date("start_date", format),
        one_of(
            "status",
            &crate::contract::INTERVENTION_STATUSES,
            "support status",
        ),
        Rule::reject(
            "end_date",
            bad_date_reason(format),
            col("end_date")
                .is_not_null()
                .and(date("end_date").is_null()),
        ),
        Rule::reject(
            "end_date",
            "end_date before start_date",
            date("end_date").lt(date("start_date")),
        ),
        Rule::reject(
            "end_date",
            "a completed support without its end_date (expected the date it ended)",
            col("status")
                .eq(lit("completed"))
                .and(col("end_date").is_null()),
        ),
        not_enrolled(),
        Rule::ignore_value(
            "credits_recovered",
            "unparseable or negative number (expected a number ≥ 0); left blank",
            col("credits_recovered")
                .is_not_null()
                .and(credits.clone().is_null().or(credits.lt(lit(0.0)))),
        ),
    ]
}

pub(crate) fn interventions_typed() -> Vec<Expr> {
    let credits = number("credits_recovered");
    vec![
        col("student_id"),
        col("intervention_type").str().strip_chars(lit(NULL)),
        col("course_id").str().strip_chars(lit(NULL)),
        date("start_date").alias("start_date"),
        date("end_date").alias("end_date"),
        col("status"),
        when(credits.clone().gt_eq(lit(0.0)))
            .then(credits)
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("credits_recovered"),
    ]
}

/// referral_status.csv: a decision needs its student, a known status and its date.
pub(crate) fn referral_status_rules(config: &Config) -> Vec<Rule> {
    vec![
        missing("student_id"),
        one_of(
            "status",
            &crate::contract::DECISION_STATUSES,
            "decision status",
        ),
        bad_date("date", config.input.date_format("referral_status")),
        not_enrolled(),
    ]
}

pub(crate) fn referral_status_typed() -> Vec<Expr> {
    vec![
        col("student_id"),
        col("status"),
        date("date").alias("date"),
        col("reason"),
        col("by"),
    ]
}
