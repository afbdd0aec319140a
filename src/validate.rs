//! Typed parsing of each export file, and the row checks that guard it.
//!
//! A file is turned into typed columns by polars expressions (no Rust value per row). Each
//! parse has a [`Check`] beside it: the condition under which a row's raw value is unusable.
//! On the normal path the checks cost one boolean column, [`PROBLEM`]; only when a problem
//! shows up is the file scanned again to name the first offending line, column and value.

use polars::prelude::*;

use crate::config::Config;
use crate::error::{EwsError, Result};
use crate::input::{RawFile, LINE};

/// Boolean column: the row failed at least one check.
pub const PROBLEM: &str = "__problem";

/// Format of dates in the canonical layout.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Canonical attendance codes, from least to most severe (the rank decides which of two rows
/// for one student and day is kept).
pub const ATTENDANCE_CODES: [&str; 5] = ["P", "T", "E", "A", "S"];

/// One row check: `failed` is true where the raw value of `column` cannot be used.
pub struct Check {
    pub column: &'static str,
    pub expected: String,
    pub failed: Expr,
}

/// A file parsed into typed columns, with [`LINE`] and [`PROBLEM`], and the checks behind it.
pub struct Parsed {
    pub raw: RawFile,
    pub checks: Vec<Check>,
    pub typed: LazyFrame,
}

impl Parsed {
    fn new(raw: RawFile, checks: Vec<Check>, typed_columns: Vec<Expr>) -> Parsed {
        let any_failed = checks
            .iter()
            .map(|c| c.failed.clone().fill_null(lit(false)))
            .reduce(|a, b| a.or(b))
            .unwrap_or(lit(false));
        let mut columns = vec![col(LINE), any_failed.alias(PROBLEM)];
        columns.extend(typed_columns);
        let typed = raw.frame.clone().select(columns);
        Parsed { raw, checks, typed }
    }

    /// Collects the typed frame of a small file, failing on its first bad row.
    pub fn collect_checked(self) -> Result<DataFrame> {
        let frame = self.typed.clone().collect()?;
        let problems = frame.column(PROBLEM)?.bool()?.sum().unwrap_or(0);
        if problems > 0 {
            return Err(self.first_failure()?);
        }
        Ok(frame.drop(PROBLEM)?)
    }

    /// Scans the raw file for the earliest row that fails a check, and describes it.
    pub fn first_failure(&self) -> Result<EwsError> {
        let mut first: Option<(u64, &Check, String)> = None;
        for check in &self.checks {
            let hit = self
                .raw
                .frame
                .clone()
                .filter(check.failed.clone().fill_null(lit(false)))
                .select([col(LINE), col(check.column)])
                .limit(1)
                .collect()?;
            if hit.height() == 0 {
                continue;
            }
            let line = hit
                .column(LINE)?
                .cast(&DataType::UInt64)?
                .u64()?
                .get(0)
                .unwrap_or(0);
            let value = hit.column(check.column)?.str()?.get(0).map(str::to_string);
            let found = match value {
                Some(v) => format!("found {v:?}"),
                None => "the value is empty".to_string(),
            };
            if first.as_ref().is_none_or(|(l, _, _)| line < *l) {
                first = Some((line, check, found));
            }
        }
        Ok(match first {
            Some((line, check, found)) => EwsError::BadValue {
                path: self.raw.path.clone(),
                line,
                column: check.column.to_string(),
                found,
                expected: check.expected.clone(),
            },
            None => EwsError::BadFile {
                path: self.raw.path.clone(),
                message: "a row failed a check that could not be located on a second read".into(),
            },
        })
    }
}

/// `column` parsed as an ISO date (null where it is not one).
pub fn date(column: &str) -> Expr {
    col(column).str().to_date(StrptimeOptions {
        format: Some(DATE_FORMAT.into()),
        strict: false,
        exact: true,
        cache: true,
    })
}

fn int(column: &str) -> Expr {
    col(column).cast(DataType::Int32)
}

fn number(column: &str) -> Expr {
    col(column).cast(DataType::Float64)
}

/// A mark as written in the export, without surrounding spaces.
fn mark(column: &str) -> Expr {
    col(column)
        .str()
        .strip_chars(lit(NULL).cast(DataType::String))
}

/// Y/N flag as a boolean (null when blank or anything else).
fn yes_no(column: &str) -> Expr {
    when(col(column).eq(lit("Y")))
        .then(lit(true))
        .when(col(column).eq(lit("N")))
        .then(lit(false))
        .otherwise(lit(NULL).cast(DataType::Boolean))
}

fn required_text(column: &'static str) -> Check {
    Check {
        column,
        expected: "a value (the column is required)".into(),
        failed: col(column).is_null(),
    }
}

/// `parsed` is null although the raw value is present: the value is malformed.
fn malformed(column: &'static str, parsed: Expr, expected: &str) -> Check {
    Check {
        column,
        expected: expected.to_string(),
        failed: col(column).is_not_null().and(parsed.is_null()),
    }
}

fn required_date(column: &'static str) -> Check {
    Check {
        column,
        expected: format!("a date as {DATE_FORMAT}"),
        failed: date(column).is_null(),
    }
}

fn non_negative(column: &'static str) -> Check {
    Check {
        column,
        expected: "a number ≥ 0".into(),
        failed: number(column).is_null().or(number(column).lt(lit(0.0))),
    }
}

/// GPA points of a canonical mark per the config's scale; null for `I`, `W` and unknown marks.
pub fn mark_points(config: &Config, column: &str) -> Expr {
    config.gpa_scale.iter().fold(
        lit(NULL).cast(DataType::Float64),
        |others, (letter, points)| {
            // The contract accepts U+2212 as the minus sign of a mark.
            let unicode_minus = letter.replace('-', "\u{2212}");
            when(
                col(column)
                    .eq(lit(letter.as_str()))
                    .or(col(column).eq(lit(unicode_minus.as_str()))),
            )
            .then(lit(*points))
            .otherwise(others)
        },
    )
}

fn known_mark(config: &Config, column: &str) -> Expr {
    mark_points(config, column)
        .is_not_null()
        .or(col(column).eq(lit("I")))
        .or(col(column).eq(lit("W")))
}

fn mark_check(config: &Config, column: &'static str) -> Check {
    let scale: Vec<&str> = config.gpa_scale.keys().map(String::as_str).collect();
    Check {
        column,
        expected: format!("a mark: one of {}, I or W", scale.join(" ")),
        failed: col(column)
            .is_null()
            .or(known_mark(config, column).not().fill_null(lit(true))),
    }
}

/// Severity rank of an attendance code (index in [`ATTENDANCE_CODES`]); null when unknown.
pub fn attendance_severity(column: &str) -> Expr {
    let c = || col(column);
    when(c().eq(lit("P")))
        .then(lit(0i32))
        .when(c().eq(lit("T")))
        .then(lit(1i32))
        .when(c().eq(lit("E")))
        .then(lit(2i32))
        .when(c().eq(lit("A")))
        .then(lit(3i32))
        .when(c().eq(lit("S")))
        .then(lit(4i32))
        .otherwise(lit(NULL).cast(DataType::Int32))
}

pub fn students(raw: RawFile) -> Parsed {
    let checks = vec![
        required_text("student_id"),
        required_text("first_name"),
        required_text("last_name"),
        required_text("school_id"),
        Check {
            column: "grade_level",
            expected: "a whole number from 6 to 12".into(),
            failed: int("grade_level")
                .is_null()
                .or(int("grade_level").lt(lit(6)))
                .or(int("grade_level").gt(lit(12))),
        },
        malformed(
            "birth_date",
            date("birth_date"),
            "a date as %Y-%m-%d or blank",
        ),
        malformed(
            "cohort_year",
            int("cohort_year"),
            "a year such as 2027, or blank",
        ),
    ];
    let typed = vec![
        col("student_id"),
        col("first_name"),
        col("last_name"),
        col("school_id"),
        col("school_name"),
        int("grade_level").alias("grade_level"),
        date("birth_date").alias("birth_date"),
        int("cohort_year").alias("cohort_year"),
        col("gender"),
        col("race_ethnicity"),
        col("ell"),
        col("sped"),
        col("econ_disadvantaged"),
        col("counselor"),
    ];
    Parsed::new(raw, checks, typed)
}

pub fn attendance(raw: RawFile) -> Parsed {
    let checks = vec![
        required_text("student_id"),
        required_date("date"),
        Check {
            column: "code",
            expected: format!("an attendance code: one of {}", ATTENDANCE_CODES.join(" ")),
            failed: attendance_severity("code").is_null(),
        },
    ];
    let typed = vec![
        col("student_id"),
        date("date").alias("date"),
        attendance_severity("code").alias("severity"),
    ];
    Parsed::new(raw, checks, typed)
}

/// Checks shared by the two course files (grades.csv and credits.csv).
fn course_checks() -> Vec<Check> {
    vec![
        required_text("student_id"),
        Check {
            column: "school_year",
            expected: "a year such as 2026".into(),
            failed: int("school_year").is_null(),
        },
        required_text("course_id"),
        required_text("subject"),
    ]
}

pub fn grades(raw: RawFile, config: &Config) -> Parsed {
    let mut checks = course_checks();
    checks.extend([
        mark_check(config, "mark"),
        required_date("mark_date"),
        malformed(
            "percent",
            number("percent"),
            "a number from 0 to 100, or blank",
        ),
    ]);
    let typed = vec![
        col("student_id"),
        col("school_id"),
        int("school_year").alias("school_year"),
        col("term"),
        col("course_id"),
        col("course_name"),
        col("subject"),
        mark("mark").alias("mark"),
        mark_points(config, "mark").alias("points"),
        date("mark_date").alias("mark_date"),
    ];
    // The mark is normalised before the scale lookup.
    let raw = RawFile {
        frame: raw.frame.with_column(mark("mark").alias("mark")),
        ..raw
    };
    Parsed::new(raw, checks, typed)
}

pub fn credits(raw: RawFile, config: &Config) -> Parsed {
    let mut checks = course_checks();
    checks.extend([
        non_negative("credits_attempted"),
        non_negative("credits_earned"),
        Check {
            column: "credits_earned",
            expected: "credits_earned ≤ credits_attempted".into(),
            failed: number("credits_earned").gt(number("credits_attempted")),
        },
        mark_check(config, "mark"),
        required_date("completion_date"),
        malformed(
            "credit_recovery",
            yes_no("credit_recovery"),
            "Y, N or blank",
        ),
    ]);
    let typed = vec![
        col("student_id"),
        int("school_year").alias("school_year"),
        col("term"),
        col("course_id"),
        col("course_name"),
        col("subject"),
        number("credits_attempted").alias("credits_attempted"),
        number("credits_earned").alias("credits_earned"),
        mark("mark").alias("mark"),
        date("completion_date").alias("completion_date"),
        yes_no("credit_recovery")
            .fill_null(lit(false))
            .alias("credit_recovery"),
    ];
    let raw = RawFile {
        frame: raw.frame.with_column(mark("mark").alias("mark")),
        ..raw
    };
    Parsed::new(raw, checks, typed)
}

pub fn behavior(raw: RawFile) -> Parsed {
    let checks = vec![
        required_text("student_id"),
        required_date("date"),
        malformed(
            "suspension_days",
            number("suspension_days"),
            "a number ≥ 0, or blank",
        ),
        Check {
            column: "suspension_days",
            expected: "a number ≥ 0, or blank".into(),
            failed: number("suspension_days").lt(lit(0.0)),
        },
    ];
    let typed = vec![
        col("student_id"),
        date("date").alias("date"),
        col("incident_type"),
        col("suspension_type"),
        number("suspension_days")
            .fill_null(lit(0.0))
            .alias("suspension_days"),
    ];
    Parsed::new(raw, checks, typed)
}

/// The outcome values of the contract.
pub const OUTCOMES: [&str; 5] = [
    "graduated_on_time",
    "graduated_late",
    "dropped_out",
    "still_enrolled",
    "transferred_out",
];

pub fn outcomes(raw: RawFile) -> Parsed {
    let known = OUTCOMES
        .iter()
        .map(|o| col("outcome").eq(lit(*o)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let checks = vec![
        required_text("student_id"),
        Check {
            column: "outcome",
            expected: format!("one of {}", OUTCOMES.join(", ")),
            failed: known.not().fill_null(lit(true)),
        },
        required_date("outcome_date"),
    ];
    let typed = vec![
        col("student_id"),
        col("outcome"),
        date("outcome_date").alias("outcome_date"),
    ];
    Parsed::new(raw, checks, typed)
}
