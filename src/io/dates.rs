//! Dates as exports write them, read in one place for every file.
//!
//! The contract's dates are ISO (`2026-01-14`); a district's mapping may name another chrono
//! format. Real exports also write a date column as a timestamp (`2025-08-18 00:00:00` from a
//! database, `2025-08-18T07:30:00Z` from an API): the date part is the date, and a time after
//! it is dropped. Every reader of a date cell (the CSV and Parquet readers, attendance's own
//! parser) goes through [`parse`], so a cell means the same date in every file.

use chrono::{NaiveDate, NaiveDateTime};

use crate::contract::DATE_FORMAT;

/// The date of a cell written in `format` (chrono syntax, date or date-and-time), else in the
/// contract's ISO format; a time of day after the date is ignored. `None` when it is no date.
pub fn parse(text: &str, format: &str) -> Option<NaiveDate> {
    parse_whole(text, format).or_else(|| {
        let (date, time) = split_time(text)?;
        parse_whole(date, format).filter(|_| looks_like_time(time))
    })
}

/// `text` as an ISO date, when it is a date written otherwise (`None` when it already is ISO
/// or is no date: the reader then keeps the cell as written, for the row checks to report).
pub fn canonical(text: &str, format: &str) -> Option<String> {
    if format == DATE_FORMAT && is_iso_shaped(text.as_bytes()) {
        return None;
    }
    parse(text, format).map(|d| d.format(DATE_FORMAT).to_string())
}

/// `YYYY-MM-DD` with digits: the canonical shape, which the row checks parse themselves.
pub fn is_iso_shaped(value: &[u8]) -> bool {
    value.len() == 10
        && value.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

fn parse_whole(text: &str, format: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, format)
        .ok()
        .or_else(|| {
            // A format with a time of day needs one in the text.
            NaiveDateTime::parse_from_str(text, format)
                .ok()
                .map(|t| t.date())
        })
        .or_else(|| {
            (format != DATE_FORMAT)
                .then(|| NaiveDate::parse_from_str(text, DATE_FORMAT).ok())
                .flatten()
        })
}

/// A cell split at the first `T` or space after its first 6 characters: (date, time).
fn split_time(text: &str) -> Option<(&str, &str)> {
    let at = text
        .char_indices()
        .skip(6)
        .find(|(_, c)| *c == 'T' || *c == ' ')?
        .0;
    Some((&text[..at], text[at + 1..].trim_start()))
}

/// `7:30`, `07:30:00`, `07:30:00.000`, with an optional `Z`, offset or AM/PM.
fn looks_like_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let hour_digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    (1..=2).contains(&hour_digits)
        && bytes.get(hour_digits) == Some(&b':')
        && bytes
            .get(hour_digits + 1..hour_digits + 3)
            .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
        && text[hour_digits + 3..]
            .chars()
            .all(|c| c.is_ascii_digit() || ":.+-Z AMPamp".contains(c))
}

/// Whether `format` reads and prints a full date: catches typos such as `%m/%y` before any file
/// is read. A format with a time of day is accepted (its time is ignored).
pub fn check_format(format: &str) -> bool {
    use std::fmt::Write;
    let Some(probe) = NaiveDate::from_ymd_opt(2026, 3, 13).and_then(|d| d.and_hms_opt(7, 45, 9))
    else {
        return false;
    };
    let mut text = String::new();
    if write!(text, "{}", probe.format(format)).is_err() {
        return false;
    }
    NaiveDate::parse_from_str(&text, format).ok() == Some(probe.date())
        || NaiveDateTime::parse_from_str(&text, format)
            .ok()
            .map(|t| t.date())
            == Some(probe.date())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn timestamps_are_read_as_their_date() {
        for text in [
            "2025-08-18",
            "2025-08-18 00:00:00",
            "2025-08-18T07:30:00",
            "2025-08-18T07:30:00Z",
            "2025-08-18T07:30:00.123+02:00",
            "2025-08-18 7:30",
        ] {
            assert_eq!(parse(text, DATE_FORMAT), day(2025, 8, 18), "{text}");
        }
        for text in [
            "2025-08-18 tomorrow",
            "2025-08-18T",
            "2025-08-18 99",
            "18/08/2025",
        ] {
            assert_eq!(parse(text, DATE_FORMAT), None, "{text}");
        }
    }

    #[test]
    fn a_mapped_format_with_or_without_a_time() {
        assert_eq!(parse("08/18/2025", "%m/%d/%Y"), day(2025, 8, 18));
        assert_eq!(parse("08/18/2025 12:00 AM", "%m/%d/%Y"), day(2025, 8, 18));
        assert_eq!(
            parse("08/18/2025 07:30", "%m/%d/%Y %H:%M"),
            day(2025, 8, 18)
        );
        // The contract's ISO dates are read whatever the mapping says.
        assert_eq!(parse("2025-08-18", "%m/%d/%Y"), day(2025, 8, 18));
        assert_eq!(
            canonical("08/18/2025", "%m/%d/%Y").as_deref(),
            Some("2025-08-18")
        );
        assert_eq!(canonical("2025-08-18", DATE_FORMAT), None);
        assert_eq!(
            canonical("2025-8-18", DATE_FORMAT).as_deref(),
            Some("2025-08-18")
        );
        assert_eq!(canonical("x", DATE_FORMAT), None);
    }

    #[test]
    fn formats_are_checked() {
        assert!(check_format("%Y-%m-%d"));
        assert!(check_format("%m/%d/%Y"));
        assert!(check_format("%Y-%m-%d %H:%M:%S"));
        assert!(check_format("%m/%d/%Y %I:%M %p"));
        assert!(!check_format("%m/%y"));
        assert!(!check_format("%H:%M"));
    }
}
