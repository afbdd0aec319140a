//! The column and code mapping of a district's SIS export onto the canonical layout.
//!
//! No district exports the canonical layout to the letter. The `[input]` section of the
//! district config says how its files differ — file names, delimiter, encoding, column names,
//! date formats, attendance codes, the mark scale, subject names and boolean spellings — and
//! [`crate::ingest::input`] applies it while scanning, so the rest of the pipeline only ever sees
//! canonical values. Values the mapping does not cover pass through unchanged, so they are
//! reported by the row checks rather than silently changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The files `input.not_exported` may name: the required files whose records some exports
/// do not carry.
pub const NOT_EXPORTABLE: [&str; 2] = [crate::contract::GRADES.name, crate::contract::CREDITS.name];

impl Mapping {
    /// Whether the export has no records of `file` (`input.not_exported`).
    pub fn not_exported(&self, file: &str) -> bool {
        self.not_exported.iter().any(|f| f == file)
    }
}

/// The `[input]` section of the config. Every key is optional; the defaults are the contract.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Field delimiter: `","` (default), `"tab"`, `";"` or `"|"`.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// `"utf-8"` (default; a byte-order mark is accepted) or `"windows-1252"`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// chrono format of every date column (default `%Y-%m-%d`).
    #[serde(default)]
    pub date_format: Option<String>,
    /// Per-file settings, keyed by the canonical file stem (`students`, `attendance`, `grades`,
    /// `credits`, `behavior`, `outcomes`).
    #[serde(default)]
    pub files: BTreeMap<String, FileMapping>,
    /// Source attendance code → canonical code (`P`, `T`, `E`, `A`, `S`).
    #[serde(default)]
    pub attendance_codes: BTreeMap<String, String>,
    #[serde(default)]
    pub marks: MarkMapping,
    /// Source grade value → a contract grade value (`PK`, `TK`, `K`, `KG`, `1`–`12`), for
    /// students.csv's grade_level and enrollment.csv's entry_grade_level ("Ninth grade" = "9").
    #[serde(default)]
    pub grade_levels: BTreeMap<String, String>,
    /// Files the district's export does not have records for (`"grades.csv"`,
    /// `"credits.csv"`; e.g. an Ed-Fi export without StudentGrade or StudentTranscript): the
    /// snapshot holds them with a header only, the gate does not fail them for it, and the
    /// features they give are unknown for every student (never read as zero). Left out of the
    /// config's hash when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_exported: Vec<String>,
    /// Source subject name → canonical subject (`ELA`, `MATH`, `SCI`, `SOC`, or any other).
    #[serde(default)]
    pub subjects: BTreeMap<String, String>,
    /// Source support type → canonical type of interventions.csv (`credit_recovery`,
    /// `tutoring`, `attendance_mentor`, `counseling`, `mentoring`, or any other). Left out of
    /// the config's hash when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intervention_types: BTreeMap<String, String>,
    /// Spellings of yes (default `Y`, `Yes`, `TRUE`, `True`, `true`, `1`).
    #[serde(default)]
    pub true_values: Option<Vec<String>>,
    /// Spellings of no (default `N`, `No`, `FALSE`, `False`, `false`, `0`).
    #[serde(default)]
    pub false_values: Option<Vec<String>>,
}

/// How one file differs from the contract.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileMapping {
    /// The file's name in the snapshot folder (default: the contract's, e.g. `students.csv`).
    #[serde(default)]
    pub name: Option<String>,
    /// Date format of this file's date columns, when it differs from `input.date_format`.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Canonical column → the export's header. Two canonical columns may read one header.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// How the export writes marks (grades.csv `mark` and credits.csv `mark`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MarkMapping {
    /// `"letter"` (default: A–F with +/−), `"percent"` (0–100) or `"points"` (0 to
    /// `max_points`, e.g. the 0–20 scale); numbers are turned into letters by `cutoffs`.
    #[serde(default)]
    pub scale: Option<String>,
    /// Largest value of the `points` scale.
    #[serde(default)]
    pub max_points: Option<f64>,
    /// Letter → the lowest number that earns it, on the export's scale; below every
    /// cut-off is `F`. Default (percent): A 93, A- 90, B+ 87, B 83, B- 80, C+ 77, C 73,
    /// C- 70, D+ 67, D 63, D- 60.
    #[serde(default)]
    pub cutoffs: BTreeMap<String, f64>,
    /// Other spellings of marks → canonical marks (e.g. `"Inc" = "I"`, `"WD" = "W"`).
    #[serde(default)]
    pub letters: BTreeMap<String, String>,
}

/// The contract's default percent cut-offs, also used by the generator.
pub const DEFAULT_PERCENT_CUTOFFS: [(&str, f64); 11] = [
    ("A", 93.0),
    ("A-", 90.0),
    ("B+", 87.0),
    ("B", 83.0),
    ("B-", 80.0),
    ("C+", 77.0),
    ("C", 73.0),
    ("C-", 70.0),
    ("D+", 67.0),
    ("D", 63.0),
    ("D-", 60.0),
];

/// The mark scale of an export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarkScale {
    Letter,
    /// A number on a 0–`max` scale.
    Numeric {
        max: f64,
    },
}

impl Mapping {
    /// The delimiter byte, or an error text naming the bad value.
    pub fn delimiter_byte(&self) -> Result<u8, String> {
        match self.delimiter.as_deref().unwrap_or(",") {
            "," | "comma" => Ok(b','),
            "tab" | "\t" => Ok(b'\t'),
            ";" | "semicolon" => Ok(b';'),
            "|" | "pipe" => Ok(b'|'),
            other => Err(format!(
                "input.delimiter = {other:?}: expected \",\", \"tab\", \";\" or \"|\""
            )),
        }
    }

    /// Whether files are Windows-1252 (else UTF-8).
    pub fn is_windows_1252(&self) -> Result<bool, String> {
        match self
            .encoding
            .as_deref()
            .unwrap_or("utf-8")
            .to_ascii_lowercase()
            .as_str()
        {
            "utf-8" | "utf8" => Ok(false),
            "windows-1252" | "cp1252" | "latin1" | "iso-8859-1" => Ok(true),
            other => Err(format!(
                "input.encoding = {other:?}: expected \"utf-8\" or \"windows-1252\""
            )),
        }
    }

    pub fn file(&self, stem: &str) -> Option<&FileMapping> {
        self.files.get(stem)
    }

    /// The export's name of a contract file: the mapping's `name`, else the contract's.
    pub fn file_name<'a>(&'a self, spec: &'a crate::contract::FileSpec) -> &'a str {
        self.file(spec.stem())
            .and_then(|f| f.name.as_deref())
            .unwrap_or(spec.name)
    }

    /// The date format of a file's date columns.
    pub fn date_format(&self, stem: &str) -> &str {
        self.file(stem)
            .and_then(|f| f.date_format.as_deref())
            .or(self.date_format.as_deref())
            .unwrap_or(crate::contract::DATE_FORMAT)
    }

    pub fn true_values(&self) -> Vec<String> {
        self.true_values.clone().unwrap_or_else(|| {
            ["Y", "Yes", "YES", "yes", "TRUE", "True", "true", "1"]
                .map(String::from)
                .to_vec()
        })
    }

    pub fn false_values(&self) -> Vec<String> {
        self.false_values.clone().unwrap_or_else(|| {
            ["N", "No", "NO", "no", "FALSE", "False", "false", "0"]
                .map(String::from)
                .to_vec()
        })
    }

    pub fn mark_scale(&self) -> Result<MarkScale, String> {
        match self.marks.scale.as_deref().unwrap_or("letter") {
            "letter" => Ok(MarkScale::Letter),
            "percent" => Ok(MarkScale::Numeric { max: 100.0 }),
            "points" => match self.marks.max_points {
                Some(max) if max > 0.0 => Ok(MarkScale::Numeric { max }),
                _ => Err("input.marks.scale = \"points\" needs input.marks.max_points > 0".into()),
            },
            other => Err(format!(
                "input.marks.scale = {other:?}: expected \"letter\", \"percent\" or \"points\""
            )),
        }
    }

    /// Letter cut-offs on the export's scale, highest first. Without explicit cut-offs, the
    /// default percent cut-offs are scaled to the export's scale (e.g. ×0.2 for 0–20).
    pub fn cutoffs(&self) -> Vec<(String, f64)> {
        let mut cutoffs: Vec<(String, f64)> = if self.marks.cutoffs.is_empty() {
            let scale = match self.mark_scale() {
                Ok(MarkScale::Numeric { max }) => max / 100.0,
                _ => 1.0,
            };
            DEFAULT_PERCENT_CUTOFFS
                .iter()
                .map(|(l, c)| (l.to_string(), c * scale))
                .collect()
        } else {
            self.marks
                .cutoffs
                .iter()
                .map(|(l, c)| (l.clone(), *c))
                .collect()
        };
        cutoffs.sort_by(|a, b| b.1.total_cmp(&a.1));
        cutoffs
    }

    /// Checks the mapping once, before anything is read; the error names the key.
    pub fn check(&self) -> Result<(), String> {
        self.delimiter_byte()?;
        self.is_windows_1252()?;
        self.mark_scale()?;
        let stems: Vec<&str> = crate::contract::ALL_FILES
            .iter()
            .map(|s| s.stem())
            .collect();
        for (stem, file) in &self.files {
            if !stems.contains(&stem.as_str()) {
                return Err(format!(
                    "input.files.{stem}: unknown file; expected one of {}",
                    stems.join(", ")
                ));
            }
            if let Some(format) = &file.date_format {
                check_date_format(&format!("input.files.{stem}.date_format"), format)?;
            }
        }
        if let Some(format) = &self.date_format {
            check_date_format("input.date_format", format)?;
        }
        for file in &self.not_exported {
            if !NOT_EXPORTABLE.contains(&file.as_str()) {
                return Err(format!(
                    "input.not_exported: {file:?} is not a file that may be missing from an export; expected {}",
                    NOT_EXPORTABLE.join(" or ")
                ));
            }
        }
        for (source, grade) in &self.grade_levels {
            if crate::contract::grade_number(grade).is_none() {
                return Err(format!(
                    "input.grade_levels.{source:?} = {grade:?}: expected PK, TK, K, KG or 1 to 12"
                ));
            }
        }
        for (source, code) in &self.attendance_codes {
            if !crate::contract::ATTENDANCE_CODES.contains(&code.as_str()) {
                return Err(format!(
                    "input.attendance_codes.{source:?} = {code:?}: expected one of P T E A S"
                ));
            }
        }
        Ok(())
    }
}

/// A date format must print and re-read a date: catches typos such as `%m/%y%`. A format with
/// a time of day is accepted (a timestamp is read as its date).
fn check_date_format(key: &str, format: &str) -> Result<(), String> {
    if crate::io::dates::check_format(format) {
        Ok(())
    } else {
        Err(format!(
            "{key} = {format:?}: not a chrono date format with a year, month and day"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_exported_names_only_grades_or_credits_and_stays_out_of_the_hash_when_empty() {
        let mut mapping = Mapping::default();
        assert!(!mapping.not_exported("grades.csv"));
        mapping.not_exported = vec!["credits.csv".into()];
        assert!(mapping.check().is_ok());
        assert!(mapping.not_exported("credits.csv") && !mapping.not_exported("grades.csv"));
        mapping.not_exported = vec!["attendance.csv".into()];
        let error = mapping.check().err().unwrap_or_default();
        assert!(
            error.contains("input.not_exported: \"attendance.csv\""),
            "{error}"
        );
        assert!(error.contains("grades.csv or credits.csv"), "{error}");
        let json = serde_json::to_string(&Mapping::default()).unwrap_or_default();
        assert!(!json.contains("not_exported"), "{json}");
    }

    #[test]
    fn defaults_are_the_contract() {
        let mapping = Mapping::default();
        assert_eq!(mapping.delimiter_byte(), Ok(b','));
        assert_eq!(mapping.is_windows_1252(), Ok(false));
        assert_eq!(mapping.date_format("students"), "%Y-%m-%d");
        assert_eq!(mapping.mark_scale(), Ok(MarkScale::Letter));
        assert_eq!(mapping.cutoffs()[0], ("A".to_string(), 93.0));
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mapping = Mapping {
            delimiter: Some("::".into()),
            ..Mapping::default()
        };
        assert!(mapping.check().unwrap_err().contains("input.delimiter"));
        let mapping = Mapping {
            date_format: Some("%m/%y".into()),
            ..Mapping::default()
        };
        assert!(mapping.check().unwrap_err().contains("input.date_format"));
        let mut mapping = Mapping::default();
        mapping.attendance_codes.insert("UX".into(), "U".into());
        assert!(mapping.check().unwrap_err().contains("attendance_codes"));
    }
}
