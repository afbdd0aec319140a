//! Writing text that others open: files written whole or not at all (a temporary name and a
//! rename), CSV cells a spreadsheet cannot run as formulas, and numbers written short and the
//! same on every machine. Every writer of ews uses these, so each is defined once.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::io::error::{EwsError, Result};

/// The UTF-8 byte-order mark, as Excel's "CSV UTF-8" starts a file: without it, Excel on
/// Windows reads a CSV in the machine's code page ("RenÃ©e" for "Renée").
pub const UTF8_BOM: &[u8] = "\u{feff}".as_bytes();

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, with
/// permissions `mode`.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| EwsError::io(&dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        crate::io::folders::chmod(&temp, mode)?;
        std::fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        EwsError::io(path, e)
    })
}

/// Neutralises text a spreadsheet would run as a formula (CSV injection): a cell starting with
/// `=`, `+`, `-`, `@`, tab or carriage return gets a leading apostrophe.
pub fn spreadsheet_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// [`spreadsheet_safe`] applied to every text column of a frame, for CSV files written by
/// polars.
pub fn spreadsheet_safe_frame(frame: &DataFrame) -> Result<DataFrame> {
    let text_columns: Vec<Expr> = frame
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| {
            let name = c.name().as_str();
            let risky = ["=", "+", "-", "@", "\t", "\r"]
                .into_iter()
                .map(|start| col(name).str().starts_with(lit(start)))
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false))
                .fill_null(lit(false));
            when(risky)
                .then(lit("'") + col(name))
                .otherwise(col(name))
                .alias(name)
        })
        .collect();
    Ok(frame.clone().lazy().with_columns(text_columns).collect()?)
}

/// Writes `frame` as a CSV file with a header, text made [`spreadsheet_safe`]. A failed write
/// (a full disk) names the file and the system's error, as the other writers' errors do.
///
/// [`SAFE_CSV_BLOCK`] rows at a time: the safe copy of a million students' text columns was
/// hundreds of MB, held beside the frame.
pub fn write_safe_csv(path: &Path, frame: &DataFrame) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| EwsError::io(path, e))?;
    let mut offset = 0;
    loop {
        let mut safe = spreadsheet_safe_frame(&frame.slice(offset as i64, SAFE_CSV_BLOCK))?;
        CsvWriter::new(&mut file)
            .include_header(offset == 0)
            .finish(&mut safe)
            .map_err(|e| match e {
                PolarsError::IO { error, .. } => {
                    EwsError::io(path, std::io::Error::new(error.kind(), error.to_string()))
                }
                other => other.into(),
            })?;
        offset += SAFE_CSV_BLOCK;
        if offset >= frame.height() {
            return Ok(());
        }
    }
}

/// The rows [`write_safe_csv`] makes safe and writes at once.
const SAFE_CSV_BLOCK: usize = 1 << 16;

/// A number with at most `decimals` decimals and no trailing zeros; empty when missing.
pub(crate) fn number(value: Option<f64>, decimals: usize) -> String {
    let mut text = String::new();
    push_number(&mut text, value, decimals);
    text
}

/// Appends [`number`]`(value, decimals)` to `out`, which writers reuse from cell to cell.
pub(crate) fn push_number(out: &mut String, value: Option<f64>, decimals: usize) {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return;
    };
    let start = out.len();
    push_fixed_decimals(out, v, decimals);
    // "1.0000" → "1", "0.8100" → "0.81": shorter cells, same value.
    if out[start..].contains('.') {
        let kept = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(kept);
    }
}

/// A metric (AUC, precision, a calibration error) with three decimals, `n/a` when undefined,
/// as the evaluation and the model card print them.
pub fn metric(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "n/a".into()
    }
}

/// A number as counselors read it: whole numbers without ".0", others with one decimal
/// (credits 2.5, a count 3).
pub fn short_number(n: f64) -> String {
    let mut text = String::new();
    push_short_number(&mut text, n);
    text
}

/// Appends [`short_number`]`(n)` to `out`, for writers that build millions of cells.
pub fn push_short_number(out: &mut String, n: f64) {
    let decimals = if n.fract().abs() < 1e-9 { 0 } else { 1 };
    push_fixed_decimals(out, n, decimals);
}

/// Appends `format!("{v:.decimals$}")`, without the exact-decimal machinery when the
/// rounding is clear: a feed writes millions of numbers. `v × 10^decimals` is off by at most
/// an ulp, so unless it lies within a hair of a rounding tie, rounding it gives the same digits.
pub(crate) fn push_fixed_decimals(out: &mut String, v: f64, decimals: usize) {
    use std::fmt::Write as _;
    let scale = 10f64.powi(decimals as i32);
    let scaled = v.abs() * scale;
    let rounded = scaled.round();
    // Writing to a String cannot fail.
    if !v.is_finite()
        || decimals > 9
        || scaled >= 1e15
        || ((scaled - scaled.floor()) - 0.5).abs() < 1e-6
    {
        let _ = write!(out, "{v:.decimals$}");
        return;
    }
    let units = rounded as u64;
    let power = 10u64.pow(decimals as u32);
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let _ = if decimals == 0 {
        write!(out, "{sign}{units}")
    } else {
        write!(
            out,
            "{sign}{}.{:0decimals$}",
            units / power,
            units % power,
            decimals = decimals
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_decimals(v: f64, decimals: usize) -> String {
        let mut text = String::new();
        push_fixed_decimals(&mut text, v, decimals);
        text
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("-1"), "'-1");
        assert_eq!(spreadsheet_safe("Muñoz"), "Muñoz");
    }

    #[test]
    fn fixed_decimals_match_the_formatter() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.5,
            0.125,
            2.5,
            -1.23456,
            0.00005,
            1e-9,
            123456.789,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
        ];
        let mut x = 0.123_456_789_f64;
        for _ in 0..20_000 {
            x = (x * 9301.0 + 0.49297).fract();
            values.push(x);
            values.push(x * 100.0 - 50.0);
            values.push((x * 1000.0).round() / 1000.0 + 0.00005);
        }
        for v in values {
            for decimals in 0..=6 {
                assert_eq!(
                    fixed_decimals(v, decimals),
                    format!("{v:.decimals$}"),
                    "{v}"
                );
            }
        }
    }

    #[test]
    fn numbers_are_written_short() {
        assert_eq!(number(Some(0.81), 4), "0.81");
        assert_eq!(number(Some(1.0), 4), "1");
        assert_eq!(number(None, 4), "");
    }
}
