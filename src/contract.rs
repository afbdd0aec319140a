//! The input contract (docs/input-contract.md), the one place its values are spelled: the
//! date format, the attendance codes, the outcome values and the reasons a row is rejected
//! for. Every layer may use it; it uses nothing of ews.

/// Dates in the canonical layout (ISO 8601): the contract's format, and the one every output
/// writes.
pub const DATE_FORMAT: &str = "%Y-%m-%d";

/// Canonical attendance codes, from least to most severe (the rank decides which of two rows
/// for one student and day is kept).
pub const ATTENDANCE_CODES: [&str; 5] = ["P", "T", "E", "A", "S"];

/// The outcome values of outcomes.csv.
pub const OUTCOMES: [&str; 5] = [
    "graduated_on_time",
    "graduated_late",
    "dropped_out",
    "still_enrolled",
    "transferred_out",
];

/// Reason of a row without a required value.
pub const MISSING_REASON: &str = "missing value (the column is required)";
/// Reason of a row of a student who is not in students.csv.
pub const NOT_ENROLLED_REASON: &str = "student not in students.csv";

/// Reason of a row whose date does not parse in the export's `format`.
pub fn bad_date_reason(format: &str) -> String {
    format!("unparseable date (expected {format})")
}

/// Whether a value is empty or white space only (Unicode white space, as `str::trim`).
pub fn is_blank(value: &str) -> bool {
    match value.as_bytes().first() {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() => false,
        Some(_) => value.trim().is_empty(),
    }
}
