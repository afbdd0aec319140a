//! One attendance row parsed and checked: the student looked up among the enrolled, the date
//! in the export's format, the code through the mapping, and the row rules with their
//! reasons for rejects.csv.

use chrono::{Datelike, NaiveDate};
use rustc_hash::FxHashMap;

use crate::contract::{ATTENDANCE_CODES, DATE_FORMAT};
use crate::ingest::membership::{Membership, NotMember};

use super::*;

/// Why a row was rejected, in the order the rules are applied (the first failing one is
/// reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Rule {
    MissingId,
    BadDate,
    UnknownCode,
    NotEnrolled,
    BadFraction,
    NoSpan,
    OutsideSpans,
    OtherSchool,
    NotInstructional,
    OutsideYear,
    Duplicate,
    ExactDuplicate,
}

impl Rule {
    /// Every rule, in the enum's order (the index of a rule's reason).
    pub(super) const ALL: [Rule; 12] = [
        Rule::MissingId,
        Rule::BadDate,
        Rule::UnknownCode,
        Rule::NotEnrolled,
        Rule::BadFraction,
        Rule::NoSpan,
        Rule::OutsideSpans,
        Rule::OtherSchool,
        Rule::NotInstructional,
        Rule::OutsideYear,
        Rule::Duplicate,
        Rule::ExactDuplicate,
    ];
}

/// A rejected row, as found by a worker (its line is counted from the worker's first line
/// until [`fix_lines`]).
#[derive(Debug, Clone)]
pub(super) struct Rejected {
    pub(super) line: u64,
    pub(super) rule: Rule,
    pub(super) value: Option<String>,
}

/// What a row says once parsed.
pub(super) enum Row {
    Accepted {
        student: u32,
        day: i32,
        severity: u8,
        /// The share of the school day the row covers (`day_fraction`; 1 when blank).
        fraction: f64,
    },
    /// A row of a student outside `scope.grades`: skipped and counted, not rejected.
    OutOfScope,
    Rejected(Rule, Option<String>),
}

/// Turns the fields of a row into an accepted student-day or a rejection, with the district's
/// date format and attendance codes, and (when enrollment.csv and calendar.csv are given) the
/// students' membership days.
pub(super) struct RowParser<'a> {
    pub(super) students: &'a StudentIndex,
    pub(super) membership: Option<&'a Membership>,
    /// The previous row's school and its calendar index.
    pub(super) last_school: (Vec<u8>, Option<u32>),
    /// The mapping's date format, when it is not the contract's ISO dates.
    pub(super) date_format: Option<&'a str>,
    pub(super) date_cache: FxHashMap<Vec<u8>, Option<i32>>,
    /// ISO dates by year-month-day key, direct-mapped (see [`RowParser::iso`]).
    pub(super) iso_cache: Vec<(u32, Option<i32>)>,
    /// Severity rank of each code as written in the export (after the mapping).
    pub(super) codes: FxHashMap<Vec<u8>, u8>,
    /// The same for one-byte codes, by byte ([`NO_CODE`] when unknown): the usual case.
    pub(super) one_byte_codes: [u8; 256],
    /// The previous row's student, since exports are usually sorted by student.
    pub(super) last_student: (Vec<u8>, Option<u32>),
}

impl<'a> RowParser<'a> {
    pub(super) fn new(
        students: &'a StudentIndex,
        date_format: &'a str,
        mapped_codes: &std::collections::BTreeMap<String, String>,
    ) -> RowParser<'a> {
        let mut codes: FxHashMap<Vec<u8>, u8> = ATTENDANCE_CODES
            .iter()
            .enumerate()
            .filter(|(_, c)| !mapped_codes.contains_key(**c))
            .map(|(rank, c)| (c.as_bytes().to_vec(), rank as u8))
            .collect();
        for (source, canonical) in mapped_codes {
            if let Some(rank) = ATTENDANCE_CODES.iter().position(|c| c == canonical) {
                codes.insert(source.as_bytes().to_vec(), rank as u8);
            }
        }
        let mut one_byte_codes = [NO_CODE; 256];
        for (code, &rank) in &codes {
            if let [byte] = code[..] {
                one_byte_codes[byte as usize] = rank;
            }
        }
        RowParser {
            students,
            membership: None,
            last_school: (Vec::new(), None),
            date_format: (date_format != DATE_FORMAT).then_some(date_format),
            date_cache: FxHashMap::default(),
            iso_cache: vec![(u32::MAX, None); ISO_CACHE],
            codes,
            one_byte_codes,
            last_student: (Vec::new(), None),
        }
    }

    /// A parser for another worker (the caches are per worker).
    pub(super) fn clone_fresh(&self) -> Self {
        RowParser {
            students: self.students,
            membership: self.membership,
            last_school: (Vec::new(), None),
            date_format: self.date_format,
            date_cache: FxHashMap::default(),
            iso_cache: vec![(u32::MAX, None); ISO_CACHE],
            codes: self.codes.clone(),
            one_byte_codes: self.one_byte_codes,
            last_student: (Vec::new(), None),
        }
    }

    /// Membership days decide which rows are accepted.
    pub(super) fn with_membership(mut self, membership: Option<&'a Membership>) -> Self {
        self.membership = membership;
        self
    }

    pub(super) fn parse(&mut self, [id, date, code, school, fraction]: Fields5) -> Row {
        let Some(id) = id.filter(|id| !blank(id)) else {
            return Row::Rejected(Rule::MissingId, id.map(text));
        };
        let Some(day) = date.and_then(|d| self.day(d)) else {
            return Row::Rejected(Rule::BadDate, date.map(text));
        };
        let Some(severity) = code.and_then(|c| self.code(c)) else {
            return Row::Rejected(Rule::UnknownCode, code.map(text));
        };
        if self.last_student.0 != id {
            self.last_student = (id.to_vec(), self.students.ids.get(id).copied());
        }
        let Some(student) = self.last_student.1 else {
            if self.students.is_out_of_scope(id) {
                return Row::OutOfScope;
            }
            return Row::Rejected(Rule::NotEnrolled, Some(text(id)));
        };
        let fraction = match fraction.filter(|f| !blank(f)) {
            None => 1.0,
            Some(value) => match day_fraction(value) {
                Some(f) => f,
                None => return Row::Rejected(Rule::BadFraction, Some(text(value))),
            },
        };
        if let Some(membership) = self.membership {
            let school = school.unwrap_or_default();
            if self.last_school.0 != school {
                self.last_school = (school.to_vec(), membership.calendars.school(school));
            }
            let rule = match membership.check(student, day, self.last_school.1) {
                Ok(()) => None,
                Err(NotMember::NoSpan) => Some((Rule::NoSpan, id)),
                Err(NotMember::OutsideSpans) => {
                    Some((Rule::OutsideSpans, date.unwrap_or_default()))
                }
                Err(NotMember::OtherSchool) => Some((Rule::OtherSchool, school)),
                Err(NotMember::NotInstructional) => {
                    Some((Rule::NotInstructional, date.unwrap_or_default()))
                }
            };
            if let Some((rule, value)) = rule {
                return Row::Rejected(rule, Some(text(value)));
            }
        }
        Row::Accepted {
            student,
            day,
            severity,
            fraction,
        }
    }

    pub(super) fn code(&self, value: &[u8]) -> Option<u8> {
        match value {
            [byte] => Some(self.one_byte_codes[*byte as usize]).filter(|&r| r != NO_CODE),
            _ => self.codes.get(value).copied(),
        }
    }

    /// [`iso_day`] through a cache: an attendance file has a few hundred distinct dates, and
    /// the calendar arithmetic costs more than the digits.
    pub(super) fn iso(&mut self, value: &[u8]) -> Option<i32> {
        let key = match value {
            [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1]
                if value
                    .iter()
                    .enumerate()
                    .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit()) =>
            {
                let n = |b: &u8| (b - b'0') as u32;
                ((n(y0) * 1000 + n(y1) * 100 + n(y2) * 10 + n(y3)) * 100 + n(m0) * 10 + n(m1)) * 100
                    + n(d0) * 10
                    + n(d1)
            }
            _ => return iso_day(value),
        };
        // Month and day pick the entry (distinct for every day of a school year), the year's
        // parity separates two adjacent years.
        let entry = (key / 10_000 % 2) as usize * 512 + (key / 100 % 100 * 32 + key % 100) as usize;
        let cached = &mut self.iso_cache[entry % ISO_CACHE];
        if cached.0 != key {
            *cached = (key, iso_day(value));
        }
        cached.1
    }

    pub(super) fn day(&mut self, value: &[u8]) -> Option<i32> {
        if self.date_format.is_none() && value.len() == 10 {
            return self.iso(value);
        }
        if let Some(&day) = self.date_cache.get(value) {
            return day;
        }
        // Other shapes (a mapped format, a timestamp, an unpadded ISO date) by the one date
        // parser of every file, through a cache that a file of garbage cannot grow forever.
        let format = self.date_format.unwrap_or(DATE_FORMAT);
        let day = std::str::from_utf8(value)
            .ok()
            .and_then(|v| crate::io::dates::parse(v, format))
            .map(|d| d.num_days_from_ce());
        if self.date_cache.len() >= MAX_DATE_CACHE {
            self.date_cache.clear();
        }
        self.date_cache.insert(value.to_vec(), day);
        day
    }
}

/// The fields of an attendance row: student_id, date, code, school_id and day_fraction (the
/// last two only when they are read).
pub(super) type Fields5<'r> = [Option<&'r [u8]>; 5];

/// A `day_fraction` value: a number greater than 0 and at most 1.
pub(super) fn day_fraction(value: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let fraction: f64 = text.parse().ok()?;
    (fraction > 0.0 && fraction <= 1.0).then_some(fraction)
}

/// Distinct non-ISO date texts a parser remembers.
pub(super) const MAX_DATE_CACHE: usize = 100_000;

/// A Parquet value as the CSV reader would give it: empty is missing.
pub(super) fn non_empty(value: Option<&str>) -> Option<&[u8]> {
    value.filter(|v| !v.is_empty()).map(str::as_bytes)
}

/// Marks a byte that is not a one-byte attendance code.
pub(super) const NO_CODE: u8 = u8::MAX;
/// Entries of the ISO date cache.
pub(super) const ISO_CACHE: usize = 1024;

/// Whether a field is white space only, as the other files' `missing` rule has it (one that
/// starts with a letter or digit, nearly every one, is decided by that byte).
pub(super) fn blank(value: &[u8]) -> bool {
    value.first().is_none_or(|b| !b.is_ascii_alphanumeric())
        && std::str::from_utf8(value).is_ok_and(crate::contract::is_blank)
}

pub(super) fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// An ISO date as days from the common era, accepting exactly what the other files' parse
/// accepts (chrono's `%Y-%m-%d`: `2026-1-5`, a leading space or sign; tested against it): the
/// usual `YYYY-M-D` shapes by hand, anything else by chrono.
pub(super) fn iso_day(value: &[u8]) -> Option<i32> {
    pub(super) fn number(digits: &[u8], widths: std::ops::RangeInclusive<usize>) -> Option<u32> {
        if !widths.contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(digits.iter().fold(0, |n, d| n * 10 + (d - b'0') as u32))
    }
    let mut parts = value.split(|&b| b == b'-');
    let fast = (|| {
        let year = number(parts.next()?, 4..=4)?;
        let month = number(parts.next()?, 1..=2)?;
        let day = number(parts.next()?, 1..=2)?;
        parts.next().is_none().then_some((year, month, day))
    })();
    match fast {
        Some((year, month, day)) => {
            NaiveDate::from_ymd_opt(year as i32, month, day).map(|d| d.num_days_from_ce())
        }
        None => std::str::from_utf8(value)
            .ok()
            .and_then(|v| crate::io::dates::parse(v, DATE_FORMAT))
            .map(|d| d.num_days_from_ce()),
    }
}

/// Reasons of rejected rows, as in the other files' rules.
pub(super) fn reason(
    rule: Rule,
    date_format: &str,
    year: (NaiveDate, NaiveDate),
) -> (&'static str, String) {
    match rule {
        Rule::MissingId => ("student_id", crate::contract::MISSING_REASON.to_string()),
        Rule::BadDate => ("date", crate::contract::bad_date_reason(date_format)),
        Rule::UnknownCode => (
            "code",
            format!(
                "unknown attendance code (expected one of {})",
                ATTENDANCE_CODES.join(" ")
            ),
        ),
        Rule::NotEnrolled => ("student_id", crate::contract::NOT_ENROLLED_REASON.into()),
        Rule::BadFraction => (
            "day_fraction",
            "expected a number greater than 0 and at most 1 (the share of the school day)".into(),
        ),
        Rule::NoSpan => not_member(NotMember::NoSpan),
        Rule::OutsideSpans => not_member(NotMember::OutsideSpans),
        Rule::OtherSchool => not_member(NotMember::OtherSchool),
        Rule::NotInstructional => not_member(NotMember::NotInstructional),
        Rule::OutsideYear => (
            "date",
            format!(
                "date outside the school years read (`history.years`: {} to {})",
                year.0, year.1
            ),
        ),
        Rule::Duplicate => (
            "date",
            "duplicate student-day (the row with the most severe code is kept)".into(),
        ),
        Rule::ExactDuplicate => (
            "date",
            "exact duplicate of an earlier row (counted once)".into(),
        ),
    }
}
fn not_member(why: NotMember) -> (&'static str, String) {
    (why.column(), why.reason().into())
}

/// Of the rows of each repeated student-day, all but the first with the most severe code.
pub(super) fn duplicates(mut repeated: Vec<(u32, i32, u8, u64)>) -> Vec<Rejected> {
    repeated.sort_unstable_by_key(|&(student, day, severity, line)| {
        (student, day, std::cmp::Reverse(severity), line)
    });
    let mut out = Vec::new();
    for (i, &(student, day, _, line)) in repeated.iter().enumerate() {
        let first = i == 0 || (repeated[i - 1].0, repeated[i - 1].1) != (student, day);
        if !first {
            out.push(Rejected {
                line,
                rule: Rule::Duplicate,
                value: Some(iso(day)),
            });
        }
    }
    out
}
