//! Writes a canonical snapshot in the shape of a district's export: the inverse of a
//! [`Mapping`].
//!
//! `ews generate` uses it to make synthetic exports that look like a real SIS's (renamed files
//! and columns, another delimiter and encoding, local date formats, local codes and mark
//! scales), so every mapping we ship is tested end to end on data that went through the
//! mapping's inverse. Files are streamed record by record; nothing is held in memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::NaiveDate;

use crate::config::mapping::{Mapping, MarkScale};
use crate::contract::FileSpec;
use crate::contract::DATE_FORMAT;
use crate::io::error::{EwsError, Result};

/// What one export wrote.
#[derive(Debug, Default)]
pub struct ExportSummary {
    /// (file name, data rows) per file written.
    pub rows: Vec<(String, usize)>,
    /// Values with characters the target encoding cannot hold, written with `?` in their place
    /// (as Windows does).
    pub lossy_values: usize,
}

/// Exports every file of the canonical snapshot `from` into `to` in the shape of `mapping`;
/// with `bom`, UTF-8 files start with a byte-order mark (as Excel's "CSV UTF-8" writes them).
pub fn export_snapshot(
    from: &Path,
    mapping: &Mapping,
    to: &Path,
    bom: bool,
) -> Result<ExportSummary> {
    let config_error = |message: String| EwsError::Config {
        path: "[input]".into(),
        message,
    };
    mapping.check().map_err(config_error)?;
    let windows_1252 = mapping.is_windows_1252().map_err(config_error)?;
    let delimiter = mapping.delimiter_byte().map_err(config_error)?;
    let marks = MarkWriter::new(mapping).map_err(config_error)?;
    std::fs::create_dir_all(to).map_err(|e| EwsError::io(to, e))?;

    let mut summary = ExportSummary::default();
    for spec in crate::contract::ALL_FILES {
        let source = from.join(spec.name);
        if !source.is_file() {
            continue;
        }
        let path = to.join(mapping.file_name(spec));
        let mut file = FileExport {
            spec,
            mapping,
            marks: &marks,
            windows_1252,
            lossy_values: 0,
        };
        let rows = file.write(&source, &path, delimiter, bom && !windows_1252)?;
        summary.lossy_values += file.lossy_values;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        summary.rows.push((name, rows));
    }
    Ok(summary)
}

/// The export of one file.
struct FileExport<'a> {
    spec: &'static FileSpec,
    mapping: &'a Mapping,
    marks: &'a MarkWriter,
    windows_1252: bool,
    lossy_values: usize,
}

/// How one canonical column is written.
enum Column {
    AsIs,
    Date(String),
    Flag {
        yes: String,
        no: String,
    },
    /// Canonical value → the export's spellings; a value with several is written with each in
    /// turn, so every spelling of the mapping appears in the export.
    Code(Vec<(String, Vec<String>)>),
    Mark,
}

impl FileExport<'_> {
    fn write(&mut self, source: &Path, target: &Path, delimiter: u8, bom: bool) -> Result<usize> {
        let csv_error = |path: &Path| {
            let path = path.to_path_buf();
            move |e: csv::Error| EwsError::BadFile {
                path: path.clone(),
                message: e.to_string(),
            }
        };
        let mut reader = csv::Reader::from_path(source).map_err(csv_error(source))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(csv_error(source))?
            .iter()
            .map(str::to_string)
            .collect();

        // The export's header; a source column read by two canonical columns is written once.
        let renames = self.mapping.file(self.spec.stem()).map(|f| &f.columns);
        let mut kept: Vec<(usize, Column)> = Vec::new();
        let mut out_header: Vec<String> = Vec::new();
        for (i, canonical) in header.iter().enumerate() {
            let name = renames
                .and_then(|r| r.get(canonical))
                .cloned()
                .unwrap_or_else(|| canonical.clone());
            if out_header.contains(&name) {
                continue;
            }
            out_header.push(name);
            kept.push((i, self.column(canonical)));
        }

        let file = File::create(target).map_err(|e| EwsError::io(target, e))?;
        let mut file = BufWriter::with_capacity(1 << 16, file);
        if bom {
            file.write_all(crate::io::text::UTF8_BOM)
                .map_err(|e| EwsError::io(target, e))?;
        }
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(file);
        let encoded: Vec<Vec<u8>> = out_header.iter().map(|h| self.encode(h)).collect();
        writer.write_record(&encoded).map_err(csv_error(target))?;

        let percent = header.iter().position(|h| h == "percent");
        let mut record = csv::StringRecord::new();
        let mut fields: Vec<Vec<u8>> = Vec::with_capacity(kept.len());
        let mut rows = 0usize;
        while reader.read_record(&mut record).map_err(csv_error(source))? {
            fields.clear();
            for (i, column) in &kept {
                let value = record.get(*i).unwrap_or("");
                let text = match column {
                    Column::AsIs => value.to_string(),
                    Column::Date(format) => match NaiveDate::parse_from_str(value, DATE_FORMAT) {
                        Ok(date) => date.format(format).to_string(),
                        Err(_) => value.to_string(),
                    },
                    Column::Flag { yes, no } => match value {
                        "Y" => yes.clone(),
                        "N" => no.clone(),
                        other => other.to_string(),
                    },
                    Column::Code(spellings) => {
                        match spellings.iter().find(|(canonical, _)| canonical == value) {
                            Some((_, sources)) => sources[rows % sources.len()].clone(),
                            None => value.to_string(),
                        }
                    }
                    Column::Mark => {
                        let percent = percent.and_then(|p| record.get(p));
                        self.marks.write(value, percent)
                    }
                };
                fields.push(self.encode(&text));
            }
            writer.write_record(&fields).map_err(csv_error(target))?;
            rows += 1;
        }
        let file = writer
            .into_inner()
            .map_err(|e| EwsError::io(target, e.into_error()))?;
        file.into_inner()
            .map_err(|e| EwsError::io(target, e.into_error()))?
            .sync_all()
            .map_err(|e| EwsError::io(target, e))?;
        Ok(rows)
    }

    fn column(&self, canonical: &str) -> Column {
        let mapping = self.mapping;
        if crate::contract::DATE_COLUMNS.contains(&canonical) {
            Column::Date(mapping.date_format(self.spec.stem()).to_string())
        } else if crate::contract::BOOLEAN_COLUMNS.contains(&canonical) {
            let first = |values: Vec<String>, default: &str| {
                values
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| default.to_string())
            };
            Column::Flag {
                yes: first(mapping.true_values(), "Y"),
                no: first(mapping.false_values(), "N"),
            }
        } else if canonical == "code" {
            Column::Code(invert(&mapping.attendance_codes))
        } else if canonical == "subject" {
            Column::Code(invert(&mapping.subjects))
        } else if canonical == "mark" {
            Column::Mark
        } else {
            Column::AsIs
        }
    }

    /// The bytes of a value in the export's encoding.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        if !self.windows_1252 {
            return text.as_bytes().to_vec();
        }
        let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
        if !lossy {
            return bytes.into_owned();
        }
        self.lossy_values += 1;
        let mut out = Vec::with_capacity(text.len());
        for ch in text.chars() {
            let mut buffer = [0u8; 4];
            let (bytes, _, lossy) = encoding_rs::WINDOWS_1252.encode(ch.encode_utf8(&mut buffer));
            if lossy {
                out.push(b'?');
            } else {
                out.extend_from_slice(&bytes);
            }
        }
        out
    }
}

/// Source → canonical pairs as canonical → sources.
fn invert(pairs: &std::collections::BTreeMap<String, String>) -> Vec<(String, Vec<String>)> {
    let mut inverse: Vec<(String, Vec<String>)> = Vec::new();
    for (source, canonical) in pairs {
        match inverse.iter_mut().find(|(c, _)| c == canonical) {
            Some((_, sources)) => sources.push(source.clone()),
            None => inverse.push((canonical.clone(), vec![source.clone()])),
        }
    }
    inverse
}

/// Writes canonical marks on the export's scale.
struct MarkWriter {
    scale: MarkScale,
    /// (letter, lowest number, highest number) per letter of the cut-offs, and F.
    bands: Vec<(String, f64, f64)>,
    /// Canonical mark → the export's spelling (`I` → `INC`).
    spellings: Vec<(String, Vec<String>)>,
}

impl MarkWriter {
    fn new(mapping: &Mapping) -> std::result::Result<MarkWriter, String> {
        let scale = mapping.mark_scale()?;
        let mut bands = Vec::new();
        if let MarkScale::Numeric { max } = scale {
            let mut upper = max;
            for (letter, cutoff) in mapping.cutoffs() {
                bands.push((letter, cutoff, upper));
                upper = cutoff;
            }
            bands.push(("F".to_string(), 0.0, upper));
        }
        Ok(MarkWriter {
            scale,
            bands,
            spellings: invert(&mapping.marks.letters),
        })
    }

    /// A mark on the export's scale: the student's percent when the export is in percent and
    /// it falls in the mark's band, otherwise the middle of the band, so reading it back gives
    /// the same letter. A `+` mark above every band (`A+`) is written as its letter's band.
    fn write(&self, mark: &str, percent: Option<&str>) -> String {
        let ascii = mark.replace('\u{2212}', "-");
        let mark = ascii.as_str();
        if let Some((_, sources)) = self.spellings.iter().find(|(c, _)| c == mark) {
            return sources[0].clone();
        }
        let MarkScale::Numeric { max } = self.scale else {
            return mark.to_string();
        };
        let band = self
            .bands
            .iter()
            .find(|(letter, _, _)| letter == mark)
            .or_else(|| {
                let base = mark.trim_end_matches(['+', '-']);
                self.bands.iter().find(|(letter, _, _)| letter == base)
            });
        let Some((_, low, high)) = band else {
            return mark.to_string();
        };
        if max == 100.0 {
            if let Some(p) = percent.and_then(|p| p.parse::<f64>().ok()) {
                if p >= *low && (p < *high || (p == max && *high == max)) {
                    return p.to_string();
                }
            }
        }
        let middle = ((low + high) / 2.0 * 10.0).round() / 10.0;
        middle.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(toml_text: &str) -> Mapping {
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn marks_on_a_points_scale_fall_in_their_band() {
        let mapping = mapping("marks = { scale = \"points\", max_points = 20.0 }");
        let marks = MarkWriter::new(&mapping).unwrap_or_else(|e| panic!("{e}"));
        // Default cut-offs ×0.2: A 18.6–20, D- 12–12.6, F 0–12.
        assert_eq!(marks.write("A", None), "19.3");
        assert_eq!(marks.write("D-", None), "12.3");
        assert_eq!(marks.write("F", None), "6");
        assert_eq!(marks.write("A+", None), "19.3");
        assert_eq!(marks.write("B\u{2212}", None), marks.write("B-", None));
        assert_eq!(marks.write("I", None), "I");
    }

    #[test]
    fn percent_marks_keep_the_students_percent_when_it_agrees() {
        let mapping = mapping("marks = { scale = \"percent\", letters = { INC = \"I\" } }");
        let marks = MarkWriter::new(&mapping).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(marks.write("B", Some("85")), "85");
        // 95 is an A, not a B: the middle of the B band instead.
        assert_eq!(marks.write("B", Some("95")), "85");
        assert_eq!(marks.write("A", Some("100")), "100");
        assert_eq!(marks.write("I", Some("")), "INC");
    }

    #[test]
    fn codes_rotate_through_their_spellings() {
        let mapping = mapping("attendance_codes = { UX = \"A\", TRU = \"A\", PR = \"P\" }");
        let inverse = invert(&mapping.attendance_codes);
        assert_eq!(
            inverse,
            vec![
                ("P".to_string(), vec!["PR".to_string()]),
                ("A".to_string(), vec!["TRU".to_string(), "UX".to_string()]),
            ]
        );
    }
}
