//! The counselor workbook, `schools/<school>.xlsx`: the same rows as the school's three CSV
//! files, for counselors who open them in Excel, where a CSV loses leading zeros (`00102158`
//! becomes `102158`) and explains none of its columns. Four sheets: the recovery candidates,
//! the prevention list, the unserved list, and one that says what every column means. Ids and every other text
//! are string cells (never formulas, never numbers), numbers are numbers, risk a percentage;
//! each list has a frozen header, filters and widths that fit, and three columns in which
//! counselors record their decisions (`decision_status`, `decision_date`, `decision_reason`:
//! the latest decision known to the run, else empty), read back by a later run
//! (`ews score --decisions`, [`crate::ingest::decisions`]) as referral_status.csv's `status`,
//! `date` and `reason`.

use rust_xlsxwriter::{
    DataValidation, DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError,
};

/// The sheets of a workbook, in order: the two lists ([`crate::contract::WORKBOOK_LISTS`]),
/// then the columns' meanings.
pub const SHEETS: [&str; 4] = [
    crate::contract::WORKBOOK_LISTS[0],
    crate::contract::WORKBOOK_LISTS[1],
    crate::contract::WORKBOOK_LISTS[2],
    "Columns",
];

/// Columns the workbook adds to both lists for counselors' decisions: the decision known to
/// the run (referral_status.csv or an earlier returned workbook), else empty.
pub use crate::contract::DECISION_COLUMNS;

/// The header of the "Columns" sheet.
pub const MEANING_COLUMNS: [&str; 3] = ["sheet", "column", "meaning"];

/// Excel's limit on the characters of a cell; a longer text is cut (with `…`) rather than
/// refused, so no input can stop a run.
const MAX_CELL_CHARS: usize = 32_767;

/// Widths (in characters) a column may take: at least the header's, at most this.
const MAX_WIDTH: usize = 60;

/// What a column holds, and so how its cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// A string cell: ids, names, lists. Never a number, never a formula.
    Text,
    /// A number (written as the CSV's figure).
    Number,
    /// The CSV's whole percent (`55`), written as the fraction 0.55 shown as `55%`.
    Percent,
}

/// How each counselor column is written in the workbook.
pub fn cell_kind(column: &str) -> CellKind {
    match column {
        "risk_percent" | "risk_percent_30_school_days_ago" | "risk_percent_90_school_days_ago" => {
            CellKind::Percent
        }
        "rank"
        | "grade_level"
        | "attendance_percent"
        | "gpa"
        | "credits_earned"
        | "credits_expected_now"
        | "credit_deficit_now"
        | "projected_credits"
        | "projected_credit_deficit"
        | "credits_needed"
        | "school_days_since_first_flagged"
        | "school_days_needing_attention" => CellKind::Number,
        _ => CellKind::Text,
    }
}

/// What each column means, in plain words, for the "Columns" sheet (docs/output-schema.md
/// says the same at more length).
pub fn meaning(column: &str) -> &'static str {
    match column {
        "rank" => "Order of the list. Recovery candidates: who gets a recovery seat first (the closest graduation year, then the most credits short in required subjects, then the most credits to recover, then the highest risk). Prevention: highest risk first.",
        "last_name" | "first_name" => "The student's name, from the student information system.",
        "student_id" => "The student's id, exactly as in the student information system (leading zeros kept).",
        "grade_level" => "The student's grade.",
        "counselor" => "The student's counselor.",
        "risk_percent" => "Estimated chance of not graduating on time, from the district's model.",
        "risk_tier" => "high, medium or low, by the district's risk thresholds.",
        "reasons" => "The three things that raise this student's risk the most, in plain words.",
        "attendance_percent" => "Share of this school year's school days attended.",
        "gpa" => "Grade point average of this school year's marks.",
        "credits_earned" => "Credits on the transcript.",
        "credits_expected_now" => "Credits a student of this grade is expected to have by now (courses whose term has ended count).",
        "credit_deficit_now" => "Credits short of what is expected by now (0 when on pace).",
        "subjects_behind" => "Required subjects with fewer credits than expected by the start of the grade: earned/expected.",
        "courses_to_recover" => "Failed courses in required subjects not yet recovered, in the order to recover them.",
        "elective_failures" => "Failed electives not yet recovered: they count only toward the total credits.",
        "courses_made_up" => "Failed courses whose subject credit a credit-recovery course in the same subject already made up.",
        "courses_at_risk" => "This year's courses with a D or F, or a mark that has fallen a grade or more.",
        "change_since_last_run" => "What changed since the previous run (new candidate, tier up, …), if anything.",
        "within_capacity" => "yes when the student is given a recovery seat (see recovery_seats when the district lists its recovery courses); no when the seats ran out first.",
        "recovery_seats" => "The recovery courses or sessions the student is given a place in, and what each recovers.",
        "credits_by_subject" => "Credits earned against those required, per required subject, then electives.",
        "projected_credits" => "Credits expected by graduation at a normal load: earned, plus this year's courses not failing, plus a normal year for each year left.",
        "projected_credit_deficit" => "Credits still missing at graduation at that pace.",
        "on_time_reachable" => "yes when on-time graduation is reachable at a normal load.",
        "credits_needed" => "Credits still needed to graduate, after those earned and in progress.",
        "subjects_needed" => "Credits still needed in each required subject.",
        "reachable_with_recovery" => "yes when on-time graduation is reachable with a full schedule plus the recovery courses left.",
        "recover_by" => "Required subjects the regular schedule left cannot make up, and the first recovery term that can.",
        "risk_percent_30_school_days_ago" => "The risk 30 school days ago (from the run history), if ews ran then.",
        "risk_percent_90_school_days_ago" => "The risk 90 school days ago (from the run history), if ews ran then.",
        "school_days_since_first_flagged" => "School days since the student entered the medium or high tier (this time, from the run history).",
        "credit_recovery_candidate" => "yes when the student has something to recover (a failed course, credits short).",
        "needing_attention_since" => "The first night (in the run history) of this stretch at medium or high risk or with something to recover.",
        "school_days_needing_attention" => "School days since then, with no current support, no planned one and no decision this school year.",
        "current_supports" => "Supports the student gets now (from the district's interventions records): active ones with their start, those completed in the last 30 days with their end.",
        "decision_status" => "The latest decision known about the student (reviewed, contacted, enrolled, declined or not_appropriate), else empty. Fill in or change it: a later run reads it back (ews score --decisions).",
        "decision_date" => "The date of that decision (YYYY-MM-DD); fill it in with the status.",
        "decision_reason" => "Why (optional). It is personal data: it stays with the student's record.",
        _ => "",
    }
}

/// One list of a workbook: its columns and rows.
pub type List<'a> = (&'a [&'a str], &'a [Vec<String>]);

/// The workbook of one school, as bytes: `lists` are the columns and rows of its CSV files, in
/// the order of [`crate::contract::WORKBOOK_LISTS`] (recovery candidates, prevention, unserved;
/// cells as the CSV writer gets them, before spreadsheet escaping: a workbook's string cells are
/// never formulas).
///
/// The same rows on the same `as_of` date give the same bytes: the workbook's creation date is
/// the run's as-of date, never the clock (the zip's dates are fixed by rust_xlsxwriter).
pub fn school_workbook(lists: [List; 3], as_of: chrono::NaiveDate) -> Result<Vec<u8>, XlsxError> {
    use chrono::Datelike;
    let mut workbook = Workbook::new();
    // The fastest deflate: compression was most of a workbook's time at the default level,
    // for files a few percent larger (docs/performance.md).
    workbook.set_zip_compression_level(1);
    let created = ExcelDateTime::from_ymd(
        u16::try_from(as_of.year()).unwrap_or(1900),
        as_of.month() as u8,
        as_of.day() as u8,
    )?;
    workbook.set_properties(
        &DocProperties::new()
            .set_author("ews")
            .set_creation_datetime(&created),
    );
    let header = Format::new().set_bold().set_background_color("#F2F2F2");
    let lists: Vec<(&str, List)> = crate::contract::WORKBOOK_LISTS
        .into_iter()
        .zip(lists)
        .collect();
    for &(name, (columns, rows)) in &lists {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        write_list(sheet, columns, rows, &header)?;
    }
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEETS[3])?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for &(name, (columns, _)) in &lists {
        for column in with_decision_columns(columns) {
            rows.push(vec![
                name.to_string(),
                column.to_string(),
                meaning(column).to_string(),
            ]);
        }
    }
    write_table(sheet, &MEANING_COLUMNS, &rows, &header, |_| CellKind::Text)?;
    workbook.save_to_buffer()
}

/// One list: its columns, then the decision columns it lacks (the row's cells beyond the
/// columns fill them: the decision's reason), with the statuses to pick from.
fn write_list(
    sheet: &mut Worksheet,
    columns: &[&str],
    rows: &[Vec<String>],
    header: &Format,
) -> Result<(), XlsxError> {
    let all = with_decision_columns(columns);
    write_table(sheet, &all, rows, header, cell_kind)?;
    let last_row = rows.len().max(1) as u32;
    let status = all
        .iter()
        .position(|c| *c == DECISION_COLUMNS[0])
        .unwrap_or(all.len() - DECISION_COLUMNS.len());
    let statuses = DataValidation::new()
        .allow_list_strings(&crate::contract::DECISION_STATUSES)?
        .set_input_title("Decision")?
        .set_input_message("reviewed, contacted, enrolled, declined or not_appropriate")?;
    sheet.add_data_validation(1, status as u16, last_row, status as u16, &statuses)?;
    let date = Format::new().set_num_format("yyyy-mm-dd");
    sheet.set_column_format(status as u16 + 1, &date)?;
    Ok(())
}

/// A list's columns in the workbook: its CSV columns, then the decision columns they lack.
pub fn with_decision_columns<'a>(columns: &[&'a str]) -> Vec<&'a str> {
    let mut all = columns.to_vec();
    all.extend(DECISION_COLUMNS.iter().filter(|c| !columns.contains(c)));
    all
}

/// A sheet of `columns` and `rows`: a bold, frozen header with filters, each cell by its
/// column's kind, widths that fit the longest cell (within [`MAX_WIDTH`]).
fn write_table(
    sheet: &mut Worksheet,
    columns: &[&str],
    rows: &[Vec<String>],
    header: &Format,
    kind_of: impl Fn(&str) -> CellKind,
) -> Result<(), XlsxError> {
    let percent = Format::new().set_num_format("0%");
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for (c, column) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *column, header)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        let row = r as u32 + 1;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            if cell.is_empty() {
                continue;
            }
            let kind = columns.get(c).map(|name| kind_of(name));
            match (kind, cell.parse::<f64>().ok().filter(|v| v.is_finite())) {
                (Some(CellKind::Number), Some(value)) => {
                    sheet.write_number(row, col, value)?;
                }
                (Some(CellKind::Percent), Some(value)) => {
                    sheet.write_number_with_format(row, col, value / 100.0, &percent)?;
                }
                // Text, and a figure that is not a number (never from ews): as written.
                _ => {
                    sheet.write_string(row, col, cut(cell))?;
                }
            }
            if let Some(width) = widths.get_mut(c) {
                *width = (*width).max(cell.chars().count().min(MAX_WIDTH));
            }
        }
    }
    for (c, width) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, (*width + 2) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_col = columns.len().saturating_sub(1) as u16;
    sheet.autofilter(0, 0, rows.len().max(1) as u32, last_col)?;
    Ok(())
}

/// A text within Excel's cell limit: cut at a character boundary, with `…`.
fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CELL_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_beyond_excels_limit_is_cut_not_refused() {
        let long = "é".repeat(MAX_CELL_CHARS + 10);
        let cut = cut(&long);
        assert_eq!(cut.chars().count(), MAX_CELL_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(super::cut("00102158"), "00102158");
    }
}
