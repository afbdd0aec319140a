//! referrals.csv: every scored student in rank order, with the score, tier, ranks, the three
//! reasons and every feature, for counselors in a spreadsheet (columns in README.md and
//! docs/output-schema.md). Every text cell is safe to open in a spreadsheet.

use std::path::Path;

use polars::prelude::*;

use crate::features::FEATURES;
use crate::io::error::{EwsError, Result};
use crate::io::text::{push_fixed_decimals, push_number, spreadsheet_safe};
use crate::model::score::ScoredStudent;

/// Columns of referrals.csv, in order (documented in README.md).
pub fn columns() -> Vec<&'static str> {
    let mut columns = vec![
        "student_id",
        "last_name",
        "first_name",
        "school_id",
        "grade_level",
        "risk_score",
        "risk_tier",
        "rank_in_school",
        "rank_in_district",
        "reason_1",
        "reason_2",
        "reason_3",
    ];
    columns.extend(features_in_order().map(|f| f.name));
    columns.extend(["school_name", "counselor"]);
    columns.extend(features_appended().map(|f| f.name));
    columns.push("current_supports");
    columns
}

/// The features of the list's first layout, in table order.
fn features_in_order() -> impl Iterator<Item = &'static crate::features::FeatureDef> {
    FEATURES.iter().filter(|f| !f.appended_to_feed)
}

/// The features added since, written after the last columns so the layout only grows at its
/// end (as in the feed).
fn features_appended() -> impl Iterator<Item = &'static crate::features::FeatureDef> {
    FEATURES.iter().filter(|f| f.appended_to_feed)
}

/// The students whose table rows [`write`] gathers at once.
const RANK_BLOCK: usize = 1 << 16;

/// Writes the ranked referral list: every scored student, in rank order, with their current
/// supports (interventions.csv), after a UTF-8 byte-order mark when `bom` (`output.csv_bom`).
///
/// The table's rows are gathered in rank order ([`crate::model::score::in_rank_order`]),
/// [`RANK_BLOCK`] students at a time, and every cell goes through one reused record.
pub fn write(
    path: &Path,
    table: &DataFrame,
    scored: &[ScoredStudent],
    supports: &crate::features::supports::Supports,
    bom: bool,
) -> Result<()> {
    let io = |e: csv::Error| EwsError::io(path, std::io::Error::other(e));
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| EwsError::io(path, e))?);
    if bom {
        std::io::Write::write_all(&mut file, crate::io::text::UTF8_BOM)
            .map_err(|e| EwsError::io(path, e))?;
    }
    let mut writer = csv::Writer::from_writer(file);
    writer.write_record(columns()).map_err(io)?;

    let mut needed = vec![
        "student_id",
        "last_name",
        "first_name",
        "school_id",
        "school_name",
        "counselor",
        "grade_level",
    ];
    needed.extend(FEATURES.iter().map(|f| f.name));
    fn safe(column: &StringChunked, row: usize) -> std::borrow::Cow<'_, str> {
        spreadsheet_safe(column.get(row).unwrap_or(""))
    }
    let mut record = csv::StringRecord::new();
    let mut cell = String::new();
    // A block of students at a time: the table's rows gathered for the whole district were
    // 0.4 GB at a million students, held while the counselor files gathered theirs.
    for block in scored.chunks(RANK_BLOCK) {
        let ranked = crate::model::score::in_rank_order(table, block, &needed)?;
        let text = |name: &str| -> Result<&StringChunked> { Ok(ranked.column(name)?.str()?) };
        let (ids, last, first, school, school_name, counselor) = (
            text("student_id")?,
            text("last_name")?,
            text("first_name")?,
            text("school_id")?,
            text("school_name")?,
            text("counselor")?,
        );
        let grade = ranked.column("grade_level")?.i32()?;
        let feature_columns =
            |defs: &mut dyn Iterator<Item = &'static crate::features::FeatureDef>| {
                defs.map(|f| ranked.column(f.name).and_then(|c| c.f64()))
                    .collect::<PolarsResult<Vec<&Float64Chunked>>>()
            };
        let features = feature_columns(&mut features_in_order())?;
        let appended = feature_columns(&mut features_appended())?;

        for (i, student) in block.iter().enumerate() {
            record.clear();
            record.push_field(&safe(ids, i));
            record.push_field(&safe(last, i));
            record.push_field(&safe(first, i));
            record.push_field(&safe(school, i));
            cell.clear();
            if let Some(g) = grade.get(i) {
                cell.push_str(&g.to_string());
            }
            record.push_field(&cell);
            cell.clear();
            push_fixed_decimals(&mut cell, student.risk, crate::model::score::RISK_DECIMALS);
            record.push_field(&cell);
            record.push_field(student.tier.as_str());
            record.push_field(&student.rank_in_school.to_string());
            record.push_field(&student.rank_in_district.to_string());
            for k in 0..3 {
                record.push_field(student.reasons.get(k).map_or("", |r| &**r));
            }
            for column in &features {
                cell.clear();
                push_number(&mut cell, column.get(i), 4);
                record.push_field(&cell);
            }
            record.push_field(&safe(school_name, i));
            record.push_field(&safe(counselor, i));
            for column in &appended {
                cell.clear();
                push_number(&mut cell, column.get(i), 4);
                record.push_field(&cell);
            }
            record.push_field(&spreadsheet_safe(supports.current_of(student.row)));
            writer.write_record(&record).map_err(io)?;
        }
    }
    writer.flush().map_err(|e| EwsError::io(path, e))?;
    Ok(())
}
