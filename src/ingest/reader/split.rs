//! Splitting one record into its fields: quoted values (which may span lines), a stray
//! quote, a ragged row, a blank or delimiter-only line, each judged on its own. The fast path
//! for a block without quotes is split inline.

use super::*;

/// The fields of one record: spans into the record's bytes, or into an unquoted copy when the
/// record has quotes.
#[derive(Debug, Default)]
pub struct Fields {
    pub(super) spans: Vec<(usize, usize)>,
    pub(super) unquoted: Vec<u8>,
    pub(super) quoted: bool,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i` of `record` (the bytes the split was made on); `None` past the last field.
    #[inline]
    pub fn get<'a>(&'a self, record: &'a [u8], i: usize) -> Option<&'a [u8]> {
        let &(start, end) = self.spans.get(i)?;
        let source = if self.quoted { &self.unquoted } else { record };
        source.get(start..end)
    }

    /// Field `i`, `None` when empty or absent (an empty field is a missing value).
    #[inline]
    pub fn value<'a>(&'a self, record: &'a [u8], i: usize) -> Option<&'a [u8]> {
        self.get(record, i).filter(|v| !v.is_empty())
    }

    /// The fields as text, when the whole record is: one UTF-8 check of the record (a delimiter
    /// is ASCII, so it never splits a character) instead of one per field. `None` when some
    /// bytes are not text (the caller then decodes field by field).
    #[inline]
    pub fn text<'a>(&'a self, record: &'a [u8], dialect: Dialect) -> Option<TextFields<'a>> {
        let source = if self.quoted {
            &self.unquoted[..]
        } else {
            record
        };
        let text = match dialect.encoding {
            Encoding::Utf8 => std::str::from_utf8(source).ok()?,
            // Other bytes than ASCII are characters to decode.
            Encoding::Windows1252 if source.is_ascii() => std::str::from_utf8(source).ok()?,
            Encoding::Windows1252 => return None,
        };
        Some(TextFields {
            text,
            spans: &self.spans,
        })
    }

    fn clear(&mut self, quoted: bool) {
        self.spans.clear();
        self.unquoted.clear();
        self.quoted = quoted;
    }

    /// Whether every field is empty or spaces: a blank line, or a delimiter-only row.
    fn all_blank(&self, record: &[u8]) -> bool {
        (0..self.len()).all(|i| {
            self.get(record, i)
                .is_none_or(|f| f.iter().all(|b| b.is_ascii_whitespace()))
        })
    }
}

/// The fields of a record that is all text ([`Fields::text`]).
pub struct TextFields<'a> {
    pub(super) text: &'a str,
    pub(super) spans: &'a [(usize, usize)],
}

impl<'a> TextFields<'a> {
    /// Field `i`, `None` when empty or absent.
    #[inline]
    pub fn value(&self, i: usize) -> Option<&'a str> {
        let &(start, end) = self.spans.get(i)?;
        self.text.get(start..end).filter(|v| !v.is_empty())
    }
}

/// Why a record could not be split into the header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The record has another number of fields than the header.
    FieldCount { found: usize },
    /// The quote that opens field `field` does not close at the end of its value (it runs on
    /// past a delimiter or the end of the line), and the record then does not have the
    /// header's number of fields: a stray quote.
    StrayQuote { field: usize },
    /// No line break within [`MAX_LINE_BYTES`].
    LineTooLong,
}

/// One step of the reader through a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// The record at the start of the buffer is not complete and more of the file follows.
    More,
    /// A record with the expected fields (now in [`Fields`]): `len` bytes of the buffer are
    /// the record, `consumed` bytes (with its line break) are done, over `lines` lines.
    Record {
        len: usize,
        consumed: usize,
        lines: u64,
    },
    /// A blank line or a delimiter-only row: not a record.
    Blank { consumed: usize, lines: u64 },
    /// A malformed record: `line_len` bytes of its first line, `consumed` bytes done (the
    /// first line only, when a quote ran on), over `lines` lines.
    Malformed {
        problem: Problem,
        line_len: usize,
        consumed: usize,
        lines: u64,
    },
    /// A line longer than [`MAX_LINE_BYTES`]: the caller skips to the next line break.
    TooLong,
}

/// Splits the record at the start of `rest` (`eof`: nothing of the file follows `rest`), which
/// may hold quotes. `expected` is the header's number of fields (`None` for the header itself).
/// A reader splits a block without any quote with [`split_unquoted`] instead.
pub fn split(
    rest: &[u8],
    eof: bool,
    delimiter: u8,
    expected: Option<usize>,
    fields: &mut Fields,
) -> Step {
    let newline = memchr::memchr(b'\n', rest);
    let line_len = match newline {
        Some(i) => i,
        None if eof => rest.len(),
        None if rest.len() > MAX_LINE_BYTES => return Step::TooLong,
        None => return Step::More,
    };
    let line_consumed = newline.map_or(rest.len(), |i| i + 1);
    if memchr::memchr(b'"', &rest[..line_len]).is_none() {
        return split_unquoted(rest, eof, delimiter, expected, fields);
    }
    match split_quoted(rest, eof, delimiter, fields) {
        Quoted::More => Step::More,
        Quoted::Unclosed { field } => Step::Malformed {
            problem: Problem::StrayQuote { field },
            line_len,
            consumed: line_consumed,
            lines: 1,
        },
        Quoted::Done {
            end,
            newlines,
            suspect,
        } => {
            let consumed = if end < rest.len() { end + 1 } else { end };
            let record_len = strip_cr(&rest[..end]).len();
            let stray = |field| Step::Malformed {
                problem: Problem::StrayQuote { field },
                line_len,
                consumed: line_consumed,
                lines: 1,
            };
            match (expected, suspect) {
                // A quote closed inside a value or past a line break, and the fields do not
                // add up: the quote is the likely culprit, and only its line is rejected.
                (Some(n), Some(field)) if fields.len() != n => return stray(field),
                _ => {}
            }
            if newlines == 0 {
                return judge(
                    fields,
                    &rest[..record_len],
                    expected,
                    record_len,
                    consumed,
                    1,
                    line_len,
                );
            }
            // A quoted value ran past a line break and the fields add up: one record.
            Step::Record {
                len: record_len,
                consumed,
                lines: newlines + 1,
            }
        }
    }
}

pub(super) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A record on one line without quotes.
#[inline(always)]
pub(super) fn judge(
    fields: &Fields,
    record: &[u8],
    expected: Option<usize>,
    len: usize,
    consumed: usize,
    lines: u64,
    line_len: usize,
) -> Step {
    // A blank record has an empty first field: checking that first keeps the usual row cheap.
    let first_empty = fields
        .get(record, 0)
        .is_none_or(|f| f.first().is_none_or(u8::is_ascii_whitespace));
    if first_empty && fields.all_blank(record) {
        return Step::Blank { consumed, lines };
    }
    match expected {
        Some(n) if fields.len() != n => Step::Malformed {
            problem: Problem::FieldCount {
                found: fields.len(),
            },
            line_len,
            consumed,
            lines,
        },
        _ => Step::Record {
            len,
            consumed,
            lines,
        },
    }
}

/// Splits a record whose line holds no quote: its line break found by a vectorised search, its
/// delimiters by a pass over the line's bytes (lines are short). Inlined into the readers'
/// loops: it runs once per row of a 180-million-row file.
#[inline(always)]
pub fn split_unquoted(
    rest: &[u8],
    eof: bool,
    delimiter: u8,
    expected: Option<usize>,
    fields: &mut Fields,
) -> Step {
    fields.clear(false);
    let mut start = 0;
    let newline = memchr::memchr(b'\n', rest);
    for (i, &b) in rest[..newline.unwrap_or(rest.len())].iter().enumerate() {
        if b == delimiter {
            fields.spans.push((start, i));
            start = i + 1;
        }
    }
    let line_len = match newline {
        Some(i) => i,
        None if eof => rest.len(),
        None if rest.len() > MAX_LINE_BYTES => return Step::TooLong,
        None => return Step::More,
    };
    let end = match rest[..line_len].last() {
        Some(b'\r') if line_len > start => line_len - 1,
        _ => line_len,
    };
    fields.spans.push((start, end));
    let consumed = newline.map_or(rest.len(), |i| i + 1);
    judge(fields, &rest[..end], expected, end, consumed, 1, line_len)
}

pub(super) enum Quoted {
    More,
    Unclosed {
        field: usize,
    },
    /// The record ends at `end` (a line break outside quotes, or the end of the file).
    /// `suspect`: the field of a quoted value that ran past a line break, or else of one whose
    /// closing quote was followed by more text (a stray quote, if the fields do not add up).
    Done {
        end: usize,
        newlines: u64,
        suspect: Option<usize>,
    },
}

/// RFC 4180: a field that starts with a quote runs to the next lone quote (`""` is a quote);
/// delimiters and line breaks inside are text. A quote elsewhere in a field is kept as text.
pub(super) fn split_quoted(rest: &[u8], eof: bool, delimiter: u8, fields: &mut Fields) -> Quoted {
    fields.clear(true);
    let limit = rest.len().min(MAX_RECORD_BYTES);
    let (mut i, mut field_start, mut newlines) = (0usize, 0usize, 0u64);
    let (mut in_quotes, mut at_field_start) = (false, true);
    // The field of the open quote; of the first quoted value with a line break; of the first
    // closing quote followed by more text.
    let mut quote_field = 0usize;
    let (mut multiline_field, mut closed_early_field) = (None, None);
    loop {
        if i >= limit {
            // The end of what may be looked at: the cap, or the end of the buffer.
            if limit < rest.len() || (!eof && rest.len() >= MAX_RECORD_BYTES) {
                return Quoted::Unclosed { field: quote_field };
            }
            if !eof {
                return Quoted::More;
            }
            if in_quotes {
                return Quoted::Unclosed { field: quote_field };
            }
            let end = strip_cr(&fields.unquoted[field_start..]).len() + field_start;
            fields.spans.push((field_start, end));
            return Quoted::Done {
                end: rest.len(),
                newlines,
                suspect: multiline_field.or(closed_early_field),
            };
        }
        if in_quotes {
            // Copy up to the next quote in one go.
            match memchr::memchr(b'"', &rest[i..limit]) {
                None => {
                    let text = &rest[i..limit];
                    let breaks = memchr::memchr_iter(b'\n', text).count() as u64;
                    if breaks > 0 {
                        multiline_field.get_or_insert(quote_field);
                    }
                    newlines += breaks;
                    fields.unquoted.extend_from_slice(text);
                    i = limit;
                }
                Some(k) => {
                    let text = &rest[i..i + k];
                    let breaks = memchr::memchr_iter(b'\n', text).count() as u64;
                    if breaks > 0 {
                        multiline_field.get_or_insert(quote_field);
                    }
                    newlines += breaks;
                    fields.unquoted.extend_from_slice(text);
                    i += k;
                    match rest.get(i + 1) {
                        Some(b'"') => {
                            fields.unquoted.push(b'"');
                            i += 2;
                        }
                        None if !eof && i + 1 < MAX_RECORD_BYTES => return Quoted::More,
                        next => {
                            in_quotes = false;
                            i += 1;
                            if next.is_some_and(|&b| b != delimiter && b != b'\n' && b != b'\r') {
                                closed_early_field.get_or_insert(quote_field);
                            }
                        }
                    }
                }
            }
            continue;
        }
        let b = rest[i];
        if b == b'"' && at_field_start {
            in_quotes = true;
            at_field_start = false;
            quote_field = fields.spans.len();
        } else if b == delimiter {
            fields.spans.push((field_start, fields.unquoted.len()));
            field_start = fields.unquoted.len();
            at_field_start = true;
        } else if b == b'\n' {
            let end = strip_cr(&fields.unquoted[field_start..]).len() + field_start;
            fields.spans.push((field_start, end));
            return Quoted::Done {
                end: i,
                newlines,
                suspect: multiline_field.or(closed_early_field),
            };
        } else {
            fields.unquoted.push(b);
            at_field_start = false;
        }
        i += 1;
    }
}
