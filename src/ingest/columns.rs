//! Typed columns: the polars expressions that parse an export's text cells into dates, whole
//! numbers, numbers, marks and yes/no flags, and the school year of a date. The row checks
//! and the features use them, so a cell is parsed the same way everywhere.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::Config;
use crate::contract::DATE_FORMAT;
use crate::io::error::Result;

/// `column` parsed as an ISO date (null where it is not one).
pub fn date(column: &str) -> Expr {
    col(column).str().to_date(StrptimeOptions {
        format: Some(DATE_FORMAT.into()),
        strict: false,
        exact: true,
        cache: true,
    })
}

/// Repetitive text (student and course ids, course names, subjects, terms, marks) stored as
/// codes into polars' global string cache: 4 bytes a row instead of a 16-byte string view plus
/// the text. At a million students grades and credits are 20M rows: coding their text halves
/// their memory, and their group-bys and joins by student hash numbers instead of text
/// (docs/performance.md). Comparisons with string literals work as on text; read the values
/// with [`texts`].
pub fn coded(expr: Expr) -> Expr {
    expr.cast(DataType::from_categories(Categories::global()))
}

/// A date as a polars literal to compare date columns with. Polars' own literal for a
/// `NaiveDate` goes through nanoseconds since 1970 and panics outside 1677–2262, which one
/// mistyped year in an export leaves; a polars date is days since 1970 and holds any date.
pub fn date_literal(date: NaiveDate) -> Expr {
    lit(date.to_epoch_days()).cast(DataType::Date)
}

/// The values of a text column, stored as strings or [`coded`].
pub fn texts(column: &Column) -> Result<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match column.dtype() {
        DataType::Categorical(..) => Box::new(column.cat32()?.iter_str()),
        _ => Box::new(column.str()?.iter()),
    })
}

/// A grade value (`PK`, `TK`, `K`, `KG`, `1`–`12`, `01`–`12`, after the mapping) as its grade
/// number ([`crate::contract::grade_number`]: -1 for pre-K, 0 for K); null otherwise.
pub(crate) fn grade(column: &str) -> Expr {
    col(column).map(
        |values| {
            let grades: Int32Chunked = values
                .str()?
                .iter()
                .map(|v| v.and_then(crate::contract::grade_number))
                .collect();
            Ok(grades.with_name(values.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int32)),
    )
}

pub(crate) fn int(column: &str) -> Expr {
    col(column).cast(DataType::Int32)
}

/// A finite number, or null: "NaN", "inf" and overflowing values such as "1e400" are not
/// numbers a district meant, so they are reported like any unparseable value.
pub(crate) fn number(column: &str) -> Expr {
    let value = col(column).cast(DataType::Float64);
    when(value.clone().is_finite())
        .then(value)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// A mark as written in the export, without surrounding spaces.
pub(crate) fn mark(column: &str) -> Expr {
    col(column)
        .str()
        .strip_chars(lit(NULL).cast(DataType::String))
}

/// Y/N flag as a boolean (null when blank or anything else).
pub(crate) fn yes_no(column: &str) -> Expr {
    when(col(column).eq(lit("Y")))
        .then(lit(true))
        .when(col(column).eq(lit("N")))
        .then(lit(false))
        .otherwise(lit(NULL).cast(DataType::Boolean))
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
