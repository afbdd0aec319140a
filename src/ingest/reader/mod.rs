//! The one reader of every delimited export file: students, attendance, grades, credits,
//! behavior and outcomes all go through it, so a malformed row is a rejected row in every file,
//! never a crash of the run and never a message holding a student's record.
//!
//! Why not polars' or the `csv` crate's reader: both stop the whole file at one ragged row or
//! one invalid UTF-8 byte, and their errors quote the offending row. Here each record is split
//! on its own and judged on its own:
//! - a record whose field count differs from the header's is a rejected row (file, line,
//!   column, reason; its text goes to rejects.csv only);
//! - a quoted value may run past a line break (RFC 4180) when the record then has the header's
//!   number of fields; when it does not, only the physical line where it started is rejected
//!   and reading resumes on the next line, so one stray quote cannot swallow the file;
//! - blank lines and delimiter-only rows (which Excel pads files with) are not records;
//! - a quoted empty field `""` is a missing value, like an empty one;
//! - line numbers are the physical lines an editor shows where the record starts.
//!
//! Text decoding (UTF-8 or Windows-1252) happens per field, after splitting, so the bytes that
//! structure the file (delimiters, quotes, line breaks: ASCII in both encodings) are found
//! without decoding. Large files are read in one byte range per core, each worker splitting its
//! own records; a file where a quoted value spans lines is read again in one range.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::io::error::{EwsError, Result};

mod split;

use split::*;
pub use split::{split, split_unquoted, Fields, Problem, Step, TextFields};

/// Bytes read at a time by a worker.
const BLOCK_BYTES: usize = 8 << 20;
/// How far a quoted value is followed past line breaks before the quote is taken for a typo.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// A physical line longer than this has no line break the reader recognises (a file with lone
/// carriage returns, or not a text file): it is rejected and skipped.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The text encoding of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

/// How a file is delimited and encoded (from the `[input]` mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
    pub encoding: Encoding,
}

impl Dialect {
    /// A field's bytes as text: `Err` with the lossy text when it is not valid UTF-8 (never
    /// for Windows-1252, where every byte is a character).
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> std::result::Result<Cow<'a, str>, String> {
        match self.encoding {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(_) => Err(String::from_utf8_lossy(bytes).into_owned()),
            },
            Encoding::Windows1252 => {
                if bytes.is_ascii() {
                    // ASCII is the same in both encodings.
                    Ok(Cow::Borrowed(
                        std::str::from_utf8(bytes).unwrap_or_default(),
                    ))
                } else {
                    Ok(encoding_rs::WINDOWS_1252
                        .decode_without_bom_handling(bytes)
                        .0)
                }
            }
        }
    }
}

/// The hint given wherever a UTF-8 export turns out not to be UTF-8.
pub const ENCODING_HINT: &str =
    "if the export is Windows-1252 (ANSI), set encoding = \"windows-1252\" in [input]";

// ---- the header ------------------------------------------------------------------------------

/// The header row of a file, and where its data starts.
#[derive(Debug, Clone)]
pub struct Header {
    /// Column names as written (byte-order mark dropped, spaces trimmed).
    pub names: Vec<String>,
    /// Byte offset of the first data line.
    pub data_start: u64,
    /// Physical lines up to and including the header (blank lines before it included).
    pub lines: u64,
}

/// Reads and splits the header row of `path`.
pub fn read_header(path: &Path, dialect: Dialect) -> Result<Header> {
    let bad = |message: String| EwsError::BadFile {
        path: path.to_path_buf(),
        message,
    };
    // An input that cannot be opened (permissions, a folder) is the user's to fix.
    let mut file = File::open(path).map_err(|e| bad(format!("cannot be opened: {e}")))?;
    let mut head = Vec::new();
    (&mut file)
        .take((MAX_RECORD_BYTES + MAX_LINE_BYTES) as u64)
        .read_to_end(&mut head)
        .map_err(|e| EwsError::io(path, e))?;
    let eof = file
        .metadata()
        .map(|m| m.len() <= head.len() as u64)
        .unwrap_or(true);
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(bad(
            "the file is UTF-16 (a UTF-16 byte-order mark); save it as UTF-8 or Windows-1252"
                .into(),
        ));
    }
    let bom = if head.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let mut offset = bom;
    let mut lines = 0u64;
    let mut fields = Fields::default();
    loop {
        let rest = &head[offset..];
        if rest.is_empty() {
            return Err(bad("the file is empty (no header row)".into()));
        }
        match split(rest, eof, dialect.delimiter, None, &mut fields) {
            Step::Blank { consumed, lines: n } => {
                offset += consumed;
                lines += n;
            }
            Step::Record {
                len,
                consumed,
                lines: n,
            } => {
                let record = &rest[..len];
                if n > 1 {
                    // A header name never holds a line break: a quote ran into the data.
                    return Err(bad(
                        "a quote in the header row runs past the end of its line; column names hold no line break"
                            .into(),
                    ));
                }
                if memchr::memchr(b'\r', record).is_some() {
                    return Err(bad(
                        "its lines end with a lone carriage return (classic Mac); save it with CRLF or LF line ends"
                            .into(),
                    ));
                }
                let mut names = Vec::with_capacity(fields.len());
                for i in 0..fields.len() {
                    let raw = fields.get(record, i).unwrap_or_default();
                    let name = dialect.decode(raw).map_err(|_| {
                        bad(format!(
                            "the header row is not valid UTF-8 ({ENCODING_HINT})"
                        ))
                    })?;
                    names.push(name.trim().to_string());
                }
                return Ok(Header {
                    names,
                    data_start: (offset + consumed) as u64,
                    lines: lines + n,
                });
            }
            Step::More | Step::TooLong | Step::Malformed { .. } => {
                return Err(bad(
                    "the header row cannot be read (an unclosed quote, or no line break in the first MBs)"
                        .into(),
                ))
            }
        }
    }
}

// ---- reading a file in parts -----------------------------------------------------------------

/// What a worker does with the records of its part. `line` counts physical lines from the
/// part's first line (0); [`read`] says where each part starts.
pub trait RecordSink: Send {
    /// A record with the header's number of fields.
    fn record(&mut self, line: u64, record: &[u8], fields: &Fields);
    /// A record that could not be split into the header's fields: `text` is its first line.
    fn malformed(&mut self, line: u64, problem: Problem, text: &[u8]);
    /// The part is read.
    fn finish(&mut self) {}
}

/// A delimited file whose header was read.
#[derive(Debug, Clone)]
pub struct DelimitedFile {
    pub path: PathBuf,
    pub dialect: Dialect,
    pub header: Header,
}

/// What a worker read of its part.
struct PartRead {
    /// Physical lines from the part's first line to its end.
    lines: u64,
    /// Whether a record spanned lines: the parts may then have been cut inside a record.
    multiline: bool,
}

#[derive(Debug, Clone, Copy)]
struct Part {
    start: u64,
    end: u64,
}

impl DelimitedFile {
    pub fn open(path: &Path, dialect: Dialect) -> Result<DelimitedFile> {
        let header = read_header(path, dialect)?;
        Ok(DelimitedFile {
            path: path.to_path_buf(),
            dialect,
            header,
        })
    }

    /// Reads every record, in up to `workers` parts side by side: one sink per part, in file
    /// order, each with the line number of its part's first line. A file in which a quoted
    /// value spans lines is read again in one part (a part's start may have been inside it).
    pub fn read<S: RecordSink>(
        &self,
        workers: usize,
        make_sink: impl Fn() -> S + Sync,
    ) -> Result<Vec<(S, u64)>> {
        if let Ok(meta) = std::fs::metadata(&self.path) {
            crate::io::progress::reading(&self.path, meta.len());
        }
        let read = |workers: usize| -> Result<Vec<(S, PartRead)>> {
            self.parts(workers)?
                .par_iter()
                .map(|&part| {
                    let mut sink = make_sink();
                    let read = self.read_part(part, &mut sink)?;
                    sink.finish();
                    Ok((sink, read))
                })
                .collect()
        };
        let mut results = read(workers.max(1))?;
        if results.len() > 1 && results.iter().any(|(_, r)| r.multiline) {
            results = read(1)?;
        }
        let mut first_line = self.header.lines + 1;
        let mut sinks = Vec::with_capacity(results.len());
        for (sink, read) in results {
            sinks.push((sink, first_line));
            first_line += read.lines;
        }
        Ok(sinks)
    }

    fn parts(&self, workers: usize) -> Result<Vec<Part>> {
        let size = std::fs::metadata(&self.path)
            .map_err(|e| EwsError::io(&self.path, e))?
            .len();
        let start = self.header.data_start.min(size);
        let data = size - start;
        let workers = workers.max(1) as u64;
        let parts: Vec<Part> = (0..workers)
            .map(|w| Part {
                start: start + data * w / workers,
                end: start + data * (w + 1) / workers,
            })
            .filter(|p| p.end > p.start)
            .collect();
        Ok(if parts.is_empty() {
            vec![Part { start, end: start }]
        } else {
            parts
        })
    }

    /// Reads the records that start in `part`.
    /// Generic over the sink, so each record's handling is compiled into the loop.
    fn read_part<S: RecordSink>(&self, part: Part, sink: &mut S) -> Result<PartRead> {
        let path = &self.path;
        let io = |e| EwsError::io(path, e);
        let delimiter = self.dialect.delimiter;
        let expected = Some(self.header.names.len());
        let mut file = File::open(path).map_err(io)?;
        let data_start = self.header.data_start;
        // A record belongs to the part its first byte is in: unless the part starts right
        // after a line break, skip to the next line.
        let mut position = part.start;
        let mut skip_line = part.start > data_start;
        if skip_line {
            position = part.start - 1;
        }
        file.seek(SeekFrom::Start(position)).map_err(io)?;
        let mut read = PartRead {
            lines: 0,
            multiline: false,
        };
        let mut fields = Fields::default();
        let mut buffer: Vec<u8> = Vec::with_capacity(BLOCK_BYTES + 4096);
        let mut eof = false;
        loop {
            // The next block after the carried-over partial record.
            let carried = buffer.len();
            buffer.resize(carried + BLOCK_BYTES, 0);
            let mut filled = carried;
            while filled < buffer.len() {
                let n = file.read(&mut buffer[filled..]).map_err(io)?;
                if n == 0 {
                    eof = true;
                    break;
                }
                filled += n;
            }
            // The part's share of the new bytes (a worker reads past its end to finish a record).
            let (from, to) = (position + carried as u64, position + filled as u64);
            crate::io::progress::advance(to.min(part.end).saturating_sub(from.max(part.start)));
            buffer.truncate(filled);
            let mut consumed = 0usize;
            if skip_line {
                match memchr::memchr(b'\n', &buffer) {
                    Some(i) => {
                        consumed = i + 1;
                        skip_line = false;
                        // The skipped line is the previous part's (or, after a long line, was
                        // counted when it was rejected).
                    }
                    None if eof => return Ok(read),
                    None => {
                        position += buffer.len() as u64;
                        buffer.clear();
                        continue;
                    }
                }
            }
            // One search per block tells whether its records may be quoted.
            let quotes = memchr::memchr(b'"', &buffer[consumed..]).is_some();
            while position + (consumed as u64) < part.end && consumed < buffer.len() {
                let rest = &buffer[consumed..];
                let step = match quotes {
                    true => split(rest, eof, delimiter, expected, &mut fields),
                    // The usual block, split inline.
                    false => split_unquoted(rest, eof, delimiter, expected, &mut fields),
                };
                match step {
                    Step::More => break,
                    Step::Record {
                        len,
                        consumed: n,
                        lines,
                    } => {
                        sink.record(read.lines, &rest[..len], &fields);
                        read.multiline |= lines > 1;
                        read.lines += lines;
                        consumed += n;
                    }
                    Step::Blank { consumed: n, lines } => {
                        read.lines += lines;
                        consumed += n;
                    }
                    Step::Malformed {
                        problem,
                        line_len,
                        consumed: n,
                        lines,
                    } => {
                        sink.malformed(read.lines, problem, strip_cr(&rest[..line_len]));
                        read.lines += lines;
                        consumed += n;
                    }
                    Step::TooLong => {
                        sink.malformed(read.lines, Problem::LineTooLong, &rest[..256]);
                        read.lines += 1;
                        consumed = buffer.len();
                        skip_line = true;
                        break;
                    }
                }
            }
            position += consumed as u64;
            buffer.drain(..consumed);
            if skip_line {
                // Skipping the rest of a line too long to hold: continue from the next block.
                buffer.clear();
                if eof {
                    return Ok(read);
                }
                continue;
            }
            if eof || position >= part.end {
                return Ok(read);
            }
        }
    }
}

// ---- rejected records ------------------------------------------------------------------------

/// A row the reader rejected (or whose value it replaced) before any rule of the file saw it.
#[derive(Debug, Clone)]
pub struct ReaderFlag {
    pub line: u64,
    /// The header's name of the column concerned (a field number past the header's last).
    pub column: String,
    /// The offending text (rejects.csv only).
    pub value: String,
    pub reason: String,
    pub replaced: bool,
}

/// The field concerned (when there is one) and the reason of a malformed record, for
/// rejects.csv; `fields` is the header's number of fields.
pub fn describe(problem: Problem, fields: usize) -> (Option<usize>, String) {
    match problem {
        Problem::FieldCount { found } if found > fields => (
            Some(fields),
            format!(
                "{found} fields where the header has {fields} (an unquoted delimiter in a value?); row rejected"
            ),
        ),
        Problem::FieldCount { found } => (
            Some(found),
            format!("{found} fields where the header has {fields}; row rejected"),
        ),
        Problem::StrayQuote { field } => (
            Some(field),
            format!(
                "stray quote: the quote that opens this value does not close at its end (it runs on past a delimiter or the end of the line), and the row then does not have the header's {fields} fields; only this line is rejected, reading resumes on the next"
            ),
        ),
        Problem::LineTooLong => (
            None,
            format!(
                "no line break within {} MB (lone carriage returns as line ends?); the line is skipped",
                MAX_LINE_BYTES >> 20
            ),
        ),
    }
}

/// At most this many characters of a malformed line go to rejects.csv.
const MAX_REJECT_TEXT: usize = 1000;

/// The text of a malformed line for rejects.csv (decoded, shortened).
pub fn reject_text(dialect: Dialect, bytes: &[u8]) -> String {
    let text = match dialect.decode(bytes) {
        Ok(text) => text.into_owned(),
        Err(lossy) => lossy,
    };
    match text.char_indices().nth(MAX_REJECT_TEXT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits a whole text into (line, fields or problem) the way a worker reads it.
    fn records(
        text: &str,
        expected: usize,
    ) -> Vec<(u64, std::result::Result<Vec<String>, Problem>)> {
        let bytes = text.as_bytes();
        let (mut at, mut line, mut out) = (0usize, 1u64, Vec::new());
        let mut fields = Fields::default();
        while at < bytes.len() {
            let rest = &bytes[at..];
            match split(rest, true, b',', Some(expected), &mut fields) {
                Step::Record {
                    len,
                    consumed,
                    lines,
                } => {
                    let values = (0..fields.len())
                        .map(|i| {
                            String::from_utf8(fields.get(&rest[..len], i).unwrap().to_vec())
                                .unwrap()
                        })
                        .collect();
                    out.push((line, Ok(values)));
                    at += consumed;
                    line += lines;
                }
                Step::Blank { consumed, lines } => {
                    at += consumed;
                    line += lines;
                }
                Step::Malformed {
                    problem,
                    consumed,
                    lines,
                    ..
                } => {
                    out.push((line, Err(problem)));
                    at += consumed;
                    line += lines;
                }
                other => panic!("{other:?}"),
            }
        }
        out
    }

    fn ok(values: &[&str]) -> std::result::Result<Vec<String>, Problem> {
        Ok(values.iter().map(|v| v.to_string()).collect())
    }

    #[test]
    fn blank_lines_and_delimiter_only_rows_are_not_records() {
        let got = records("a,b,c\n\n,,\r\n  ,\t,\n\"\",\"\",\"\"\nd,e,f\r\n,,\n\n", 3);
        assert_eq!(got, [(1, ok(&["a", "b", "c"])), (6, ok(&["d", "e", "f"]))]);
    }

    #[test]
    fn ragged_rows_are_malformed_and_reading_goes_on() {
        let got = records("a,b,c\na,b\na,b,c,d\nx,y,z", 3);
        assert_eq!(
            got,
            [
                (1, ok(&["a", "b", "c"])),
                (2, Err(Problem::FieldCount { found: 2 })),
                (3, Err(Problem::FieldCount { found: 4 })),
                (4, ok(&["x", "y", "z"])),
            ]
        );
    }

    #[test]
    fn a_quoted_line_break_is_one_record_when_the_fields_add_up() {
        let got = records("a,\"b\nc\",d\r\ne,\"f,\"\"g\"\"\",h\n", 3);
        assert_eq!(
            got,
            [
                (1, ok(&["a", "b\nc", "d"])),
                (3, ok(&["e", "f,\"g\"", "h"]))
            ]
        );
    }

    #[test]
    fn a_stray_quote_rejects_its_own_line_only() {
        // The quote in line 2 would pair with the one in line 4: read that way, lines 2–4
        // make one record of 2 fields, so line 2 alone is rejected.
        let got = records("a,b,c\n\"x,y,z\np,q,r\ns,\"t\",u\n", 3);
        assert_eq!(
            got,
            [
                (1, ok(&["a", "b", "c"])),
                (2, Err(Problem::StrayQuote { field: 0 })),
                (3, ok(&["p", "q", "r"])),
                (4, ok(&["s", "t", "u"])),
            ]
        );
        // A stray quote closed by the next quoted value on the same line.
        let got = records("a,b,c,d,e\n1,\"O'Brien,010,\"King, Jr\",10\n", 5);
        assert_eq!(
            got,
            [
                (1, ok(&["a", "b", "c", "d", "e"])),
                (2, Err(Problem::StrayQuote { field: 1 })),
            ]
        );
        // Unclosed to the end of the file.
        let got = records("a,b,c\nx,\"y,z\np,q,r\n", 3);
        assert_eq!(
            got,
            [
                (1, ok(&["a", "b", "c"])),
                (2, Err(Problem::StrayQuote { field: 1 })),
                (3, ok(&["p", "q", "r"])),
            ]
        );
    }

    #[test]
    fn quotes_inside_a_value_are_text_and_empty_quotes_are_empty() {
        let got = records("O\"Brien,\"\",x\n", 3);
        assert_eq!(got, [(1, ok(&["O\"Brien", "", "x"]))]);
    }

    #[test]
    fn incomplete_records_ask_for_more() {
        let mut fields = Fields::default();
        assert_eq!(
            split_unquoted(b"a,b", false, b',', Some(2), &mut fields),
            Step::More
        );
        assert_eq!(split(b"a,b", false, b',', Some(2), &mut fields), Step::More);
        assert_eq!(
            split(b"a,\"b\nc", false, b',', Some(2), &mut fields),
            Step::More
        );
        assert_eq!(
            split(b"a,\"b\"", false, b',', Some(2), &mut fields),
            Step::More
        );
    }

    #[test]
    fn windows_1252_decodes_every_byte_and_utf8_reports_bad_bytes() {
        let utf8 = Dialect {
            delimiter: b',',
            encoding: Encoding::Utf8,
        };
        let ansi = Dialect {
            delimiter: b',',
            encoding: Encoding::Windows1252,
        };
        assert_eq!(ansi.decode(b"Ren\xe9e").unwrap(), "Renée");
        assert_eq!(utf8.decode(b"Ren\xc3\xa9e").unwrap(), "Renée");
        assert_eq!(utf8.decode(b"Ren\xe9e").unwrap_err(), "Ren\u{fffd}e");
    }
}
