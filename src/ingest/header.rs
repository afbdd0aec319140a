//! An export file's header against the contract: every required column found whatever its
//! case and surrounding spaces (renamed by the mapping), every missing one named in one
//! message with the closest header found, and hints when the header was read with the wrong
//! delimiter, runs into the first row, or is missing.

use std::path::Path;

use crate::config::mapping::Mapping;
use crate::contract::FileSpec;
use crate::io::error::{EwsError, MissingColumn, Result};

/// The export's header of each contract column of `spec` (renamed by the mapping).
pub(crate) fn source_columns(spec: &FileSpec, mapping: &Mapping) -> Vec<(&'static str, String)> {
    let renames = mapping.file(spec.stem()).map(|f| &f.columns);
    spec.columns()
        .map(|c| {
            let source = renames.and_then(|r| r.get(c)).cloned();
            (c, source.unwrap_or_else(|| c.to_string()))
        })
        .collect()
}

/// Whether a header cell names `column`: case does not matter, nor surrounding spaces.
pub(crate) fn same_name(header: &str, column: &str) -> bool {
    header.trim().to_lowercase() == column.trim().to_lowercase()
}

/// Finds the contract columns of `spec` in a header: every required column present, none twice.
/// Returns each present contract column with its position.
pub(crate) fn match_header(
    path: &Path,
    spec: &FileSpec,
    header: &[String],
    mapping: &Mapping,
) -> Result<Vec<(&'static str, usize)>> {
    let bad = |message: String| EwsError::BadFile {
        path: path.to_path_buf(),
        message,
    };
    if header.iter().all(|h| h.is_empty()) {
        return Err(bad("the file is empty (no header row)".into()));
    }
    let sources = source_columns(spec, mapping);
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (canonical, source) in &sources {
        let positions: Vec<usize> = (0..header.len())
            .filter(|&i| same_name(&header[i], source))
            .collect();
        match positions[..] {
            [] if spec.required.contains(canonical) => missing.push((*canonical, source.clone())),
            [] => {}
            [i] => found.push((*canonical, i)),
            _ => {
                return Err(bad(format!(
                    "column `{source}` appears {} times in the header",
                    positions.len()
                )))
            }
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    // A header without any contract column is probably no header (a data row: no suggestion
    // may quote it) or one split with the wrong delimiter or encoding; a header that ran into
    // the next line holds that line's values from the cell where it ran on.
    let no_known_column = found.is_empty();
    let fused = runs_on(&missing, header);
    let names = match &fused {
        Some((at, _)) => &header[..*at],
        None if no_known_column => &header[..0],
        None => header,
    };
    let hint = delimiter_hint(header, mapping)
        .or_else(|| fused.as_ref().map(|(_, hint)| hint.clone()))
        .or_else(|| no_known_column.then(no_header_hint));
    Err(EwsError::MissingColumns {
        path: path.to_path_buf(),
        missing: missing
            .into_iter()
            .map(|(canonical, source)| MissingColumn {
                closest: closest_header(&source, names),
                canonical: (source != canonical).then(|| canonical.to_string()),
                column: source,
            })
            .collect(),
        hint,
    })
}

/// A header of one field holding another delimiter than the config's.
pub(crate) fn delimiter_hint(header: &[String], mapping: &Mapping) -> Option<String> {
    let delimiter = mapping.delimiter_byte().unwrap_or(b',');
    let [only] = header else {
        return None;
    };
    let (d, setting) = [
        (b';', "\";\""),
        (b'\t', "\"tab\""),
        (b'|', "\"|\""),
        (b',', "\",\""),
    ]
    .into_iter()
    .find(|(d, _)| *d != delimiter && only.as_bytes().contains(d))?;
    let shown = if d == b'\t' {
        "tab".to_string()
    } else {
        format!("`{}`", d as char)
    };
    Some(format!(
        "the header is one field holding {shown}: set delimiter = {setting} in [input]"
    ))
}

pub(crate) fn no_header_hint() -> String {
    "none of the file's columns is one the contract names: is the header row missing, or the file's delimiter or encoding another than the config's [input]?".to_string()
}

/// The header most similar to a missing column name, when one is plausibly a misspelling.
pub(crate) fn closest_header(column: &str, header: &[String]) -> Option<String> {
    header
        .iter()
        .map(|h| {
            (
                strsim::normalized_levenshtein(&h.to_lowercase(), &column.to_lowercase()),
                h,
            )
        })
        .filter(|(similarity, _)| *similarity >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h)| h.clone())
}

/// Where the header row ran into the next line: the first cell that begins with a missing
/// column's name and runs on (`outcome_date0001`, its line break lost). That cell and the
/// cells after it are the next row's values, which no message may quote.
pub(crate) fn runs_on(
    missing: &[(&'static str, String)],
    header: &[String],
) -> Option<(usize, String)> {
    header.iter().enumerate().find_map(|(i, cell)| {
        let cell = cell.to_lowercase();
        missing.iter().find_map(|(_, source)| {
            let name = source.to_lowercase();
            (cell.len() > name.len() && cell.starts_with(&name)).then(|| {
                (
                    i,
                    format!(
                        "a header cell begins with `{source}` and runs on: is the line break after the header row missing?"
                    ),
                )
            })
        })
    })
}
