//! The district's values turned into the contract's: attendance codes, marks on another scale,
//! subject names and yes/no spellings, recoded through the mapping's tables.

use polars::prelude::*;

use crate::config::mapping::{Mapping, MarkScale};
use crate::contract::{FileSpec, BOOLEAN_COLUMNS};
use crate::ingest::LINE;
use crate::io::error::{EwsError, Result};

pub(crate) fn contract_values(
    frame: LazyFrame,
    spec: &FileSpec,
    mapping: &Mapping,
) -> Result<LazyFrame> {
    let (yes, no) = (mapping.true_values(), mapping.false_values());
    let mut columns: Vec<Expr> = vec![col(LINE)];
    for canonical in spec.columns() {
        let value = col(canonical);
        let value = if BOOLEAN_COLUMNS.contains(&canonical) {
            let flags = yes
                .iter()
                .map(|y| (y.as_str(), "Y"))
                .chain(no.iter().map(|n| (n.as_str(), "N")));
            recode(value, flags)
        } else if canonical == "code" {
            recode_map(value, &mapping.attendance_codes)
        } else if canonical == "grade_level" || canonical == "entry_grade_level" {
            recode_map(value, &mapping.grade_levels)
        } else if canonical == "subject" {
            recode_map(value, &mapping.subjects)
        } else if canonical == "intervention_type" {
            recode_map(value, &mapping.intervention_types)
        } else if canonical == "mark" {
            canonical_mark(value, mapping)?
        } else {
            value
        };
        columns.push(value.alias(canonical));
    }
    Ok(frame.select(columns))
}

/// `value` replaced by the canonical value of each (source, canonical) pair; other values pass
/// through unchanged, to be reported by the row checks.
pub(crate) fn recode<'a>(value: Expr, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Expr {
    pairs.fold(value.clone(), |others, (source, canonical)| {
        when(value.clone().eq(lit(source)))
            .then(lit(canonical))
            .otherwise(others)
    })
}

/// [`recode`] by a mapping table (source value → canonical value).
pub(crate) fn recode_map(value: Expr, table: &std::collections::BTreeMap<String, String>) -> Expr {
    recode(value, table.iter().map(|(s, c)| (s.as_str(), c.as_str())))
}

/// A mark on the export's scale as a canonical mark.
pub(crate) fn canonical_mark(value: Expr, mapping: &Mapping) -> Result<Expr> {
    let letters = recode_map(value.clone(), &mapping.marks.letters);
    Ok(match mapping.mark_scale().map_err(config_error)? {
        MarkScale::Letter => letters,
        MarkScale::Numeric { max } => {
            let number = value.cast(DataType::Float64);
            // Only a finite number on the scale is a mark; "inf" or 150% stays as written and
            // is rejected as an unknown mark.
            let on_scale = number
                .clone()
                .is_finite()
                .and(number.clone().gt_eq(lit(0.0)))
                .and(number.clone().lt_eq(lit(max)));
            let by_cutoff =
                mapping
                    .cutoffs()
                    .into_iter()
                    .rev()
                    .fold(lit("F"), |lower, (letter, cutoff)| {
                        when(number.clone().gt_eq(lit(cutoff)))
                            .then(lit(letter))
                            .otherwise(lower)
                    });
            when(on_scale.fill_null(lit(false)))
                .then(by_cutoff)
                .otherwise(letters)
        }
    })
}

/// An error of the config's `[input]` mapping.
pub(crate) fn config_error(message: String) -> EwsError {
    EwsError::Config {
        path: "[input]".into(),
        message,
    }
}
