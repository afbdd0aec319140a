//! Ed-Fi interchange files read as a stream of records: each element under the interchange's
//! root (a `Student`, a `StudentSchoolAttendanceEvent`, …) becomes one [`Record`] of its leaf
//! values by path, read with quick-xml and dropped before the next is read, so a file of any
//! size takes the memory of one record. Each record knows the line it starts on, for the
//! import's rejects; malformed XML is an error naming the file and the line, and never quotes
//! the file's text (it holds student data).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::io::error::{EwsError, Result};

/// One element under an interchange's root: its name, the line it starts on, and its leaf
/// values by `/`-separated path of local names below it (`StudentReference/StudentIdentity/
/// StudentUniqueId`). An attribute is a leaf named `@name` (`@id` on the record itself,
/// `DisciplineIncidentReference/@ref` on a reference by id). A path may repeat (`Race`).
#[derive(Debug, Default)]
pub struct Record {
    pub name: String,
    pub line: u64,
    fields: Vec<(String, String)>,
    used: usize,
}

impl Record {
    /// The first value at `path`, trimmed; `None` when absent or blank.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields[..self.used]
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every non-blank value at `path`, trimmed, in document order.
    pub fn all<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields[..self.used]
            .iter()
            .filter(move |(p, _)| p == path)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Whether any value lies at or below `prefix` (an element that is present, if empty).
    pub fn has(&self, prefix: &str) -> bool {
        self.fields[..self.used]
            .iter()
            .any(|(p, _)| p == prefix || p.strip_prefix(prefix).is_some_and(|r| r.starts_with('/')))
    }

    fn clear(&mut self) {
        self.name.clear();
        self.used = 0;
    }

    /// A new leaf (reusing the strings of an earlier record).
    fn push(&mut self, path: &str, value: &str) {
        if self.used == self.fields.len() {
            self.fields.push((String::new(), String::new()));
        }
        let (p, v) = &mut self.fields[self.used];
        p.clear();
        p.push_str(path);
        v.clear();
        v.push_str(value);
        self.used += 1;
    }

    /// Appends text to the last leaf (text split by an entity reference).
    fn append(&mut self, text: &str) {
        if let Some((_, v)) = self.fields[..self.used].last_mut() {
            v.push_str(text);
        }
    }

    #[cfg(test)]
    pub fn from_pairs(name: &str, pairs: &[(&str, &str)]) -> Record {
        let mut record = Record {
            name: name.into(),
            ..Record::default()
        };
        for (p, v) in pairs {
            record.push(p, v);
        }
        record
    }
}

/// An interchange file opened for reading: its root element's name, then its records.
pub struct Interchange {
    pub path: PathBuf,
    pub root: String,
    reader: Reader<Limited>,
    buf: Vec<u8>,
    /// Line of the parser's position (1-based), counted from the bytes of every event.
    line: u64,
    /// The path below the current record, and where each open element's name starts in it.
    path_text: String,
    starts: Vec<usize>,
    /// Whether the last leaf is still open for text (text after an entity reference joins it).
    open_leaf: bool,
    /// An empty root element (`<InterchangeStudent/>`): no records.
    empty: bool,
}

impl Interchange {
    /// Opens `path` and reads up to its root element. A file that is not XML, or has no root
    /// element, is an error naming the file and line (exit 2).
    pub fn open(path: &Path) -> Result<Interchange> {
        let file = std::fs::File::open(path).map_err(|e| EwsError::io(path, e))?;
        let mut reader = Reader::from_reader(Limited {
            inner: std::io::BufReader::with_capacity(1 << 16, file),
            since_event: 0,
        });
        reader.config_mut().check_end_names = true;
        let mut interchange = Interchange {
            path: path.to_path_buf(),
            root: String::new(),
            reader,
            buf: Vec::with_capacity(4096),
            line: 1,
            path_text: String::new(),
            starts: Vec::new(),
            open_leaf: false,
            empty: false,
        };
        loop {
            interchange.buf.clear();
            interchange.reader.get_mut().since_event = 0;
            let event = interchange.reader.read_event_into(&mut interchange.buf);
            match event {
                Ok(Event::Start(start)) => {
                    let root = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    interchange.line += newlines(start.as_ref());
                    interchange.root = root;
                    return Ok(interchange);
                }
                Ok(Event::Empty(start)) => {
                    interchange.root =
                        String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    interchange.empty = true;
                    return Ok(interchange);
                }
                Ok(Event::Eof) => {
                    return Err(bad_file(
                        path,
                        interchange.line,
                        "no interchange element (the file holds no records)",
                    ));
                }
                Ok(Event::Text(text)) => {
                    if !text.iter().all(|b| b.is_ascii_whitespace()) {
                        return Err(bad_file(
                            path,
                            interchange.line,
                            "text before the root element: not an XML interchange",
                        ));
                    }
                    interchange.line += newlines(&text);
                }
                Ok(Event::Decl(decl)) => {
                    let utf8 = match decl.encoding() {
                        None => true,
                        Some(Ok(name)) => {
                            name.eq_ignore_ascii_case(b"utf-8")
                                || name.eq_ignore_ascii_case(b"utf8")
                        }
                        Some(Err(_)) => false,
                    };
                    if !utf8 {
                        return Err(bad_file(
                            path,
                            interchange.line,
                            "the XML declaration names an encoding other than UTF-8; Ed-Fi interchanges are UTF-8: convert the file",
                        ));
                    }
                    interchange.line += newlines(&decl);
                }
                Ok(other) => interchange.line += newlines(&other),
                Err(error) => return Err(interchange.malformed(&error)),
            }
        }
    }

    /// Reads the next record into `record`; `false` at the end of the root element.
    pub fn next(&mut self, record: &mut Record) -> Result<bool> {
        record.clear();
        if self.empty {
            return Ok(false);
        }
        self.path_text.clear();
        self.starts.clear();
        // Depth below the root: 0 between records.
        let mut depth = 0usize;
        loop {
            self.buf.clear();
            self.reader.get_mut().since_event = 0;
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(error) => return Err(self.malformed(&error)),
            };
            match event {
                Event::Start(start) => {
                    let local = start.local_name();
                    let name = String::from_utf8_lossy(local.as_ref());
                    if depth == 0 {
                        record.name.push_str(&name);
                        record.line = self.line;
                    } else {
                        self.starts.push(self.path_text.len());
                        if !self.path_text.is_empty() {
                            self.path_text.push('/');
                        }
                        self.path_text.push_str(&name);
                    }
                    push_attributes(&start, &self.path_text, record);
                    self.line += newlines(start.as_ref());
                    self.open_leaf = false;
                    depth += 1;
                }
                Event::Empty(empty) => {
                    let local = empty.local_name();
                    let name = String::from_utf8_lossy(local.as_ref());
                    self.line += newlines(empty.as_ref());
                    if depth == 0 {
                        // A record without content (`<Student/>`): a record all the same.
                        record.name.push_str(&name);
                        record.line = self.line;
                        push_attributes(&empty, "", record);
                        return Ok(true);
                    }
                    let mut path = self.path_text.clone();
                    if !path.is_empty() {
                        path.push('/');
                    }
                    path.push_str(&name);
                    record.push(&path, "");
                    push_attributes(&empty, &path, record);
                    self.open_leaf = false;
                }
                Event::End(_) => {
                    self.open_leaf = false;
                    if depth == 0 {
                        // The root's end: no more records.
                        return Ok(false);
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Ok(true);
                    }
                    if let Some(start) = self.starts.pop() {
                        self.path_text.truncate(start);
                    }
                }
                Event::Text(text) => {
                    self.line += newlines(&text);
                    if depth > 0
                        && (self.open_leaf || !text.iter().all(|b| b.is_ascii_whitespace()))
                    {
                        let value = String::from_utf8_lossy(&text);
                        leaf_text(&mut self.open_leaf, &self.path_text, record, &value);
                    }
                }
                Event::CData(data) => {
                    self.line += newlines(&data);
                    if depth > 0 {
                        let value = String::from_utf8_lossy(&data);
                        leaf_text(&mut self.open_leaf, &self.path_text, record, &value);
                    }
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => match &*reference {
                            b"amp" => "&".into(),
                            b"lt" => "<".into(),
                            b"gt" => ">".into(),
                            b"quot" => "\"".into(),
                            b"apos" => "'".into(),
                            _ => {
                                return Err(bad_file(
                                    &self.path,
                                    self.line,
                                    "malformed XML: an entity reference that is neither a character reference nor one of XML's five (&amp; &lt; &gt; &quot; &apos;)",
                                ))
                            }
                        },
                    };
                    if depth > 0 {
                        leaf_text(&mut self.open_leaf, &self.path_text, record, &resolved);
                    }
                }
                Event::Eof => {
                    return Err(bad_file(
                        &self.path,
                        self.line,
                        "malformed XML: the file ends inside an element (it was cut short?)",
                    ));
                }
                other => self.line += newlines(&other),
            }
        }
    }

    /// A parse error as exit 2, with the line where the bad markup starts and what is wrong
    /// in XML's terms, never the file's text.
    fn malformed(&self, error: &quick_xml::Error) -> EwsError {
        use quick_xml::errors::{IllFormedError, SyntaxError};
        use quick_xml::Error as E;
        let what = match error {
            E::Io(io) if io.get_ref().is_some_and(|e| e.is::<EventTooLong>()) => {
                "a tag or a value longer than 16 MiB (not an interchange record)"
            }
            E::Io(io) => {
                return EwsError::io(&self.path, std::io::Error::new(io.kind(), io.to_string()))
            }
            E::Syntax(SyntaxError::UnclosedTag) => "a tag is not closed with `>`",
            E::Syntax(SyntaxError::UnclosedComment) => "a comment is not closed",
            E::Syntax(SyntaxError::UnclosedCData) => "a CDATA section is not closed",
            E::Syntax(
                SyntaxError::UnclosedDoubleQuotedAttributeValue
                | SyntaxError::UnclosedSingleQuotedAttributeValue,
            ) => "an attribute value is not closed",
            E::Syntax(_) => "markup that is not XML",
            E::IllFormed(IllFormedError::MismatchedEndTag { .. }) => {
                "an end tag does not match the element it closes"
            }
            E::IllFormed(IllFormedError::UnmatchedEndTag(_)) => "an end tag without a start tag",
            E::IllFormed(IllFormedError::MissingEndTag(_)) => "an element is not closed",
            E::IllFormed(_) => "the document is not well-formed",
            E::InvalidAttr(_) => "an attribute is malformed",
            E::Encoding(_) => "text that is not UTF-8",
            E::Escape(_) => "an entity or character reference is malformed",
            E::Namespace(_) => "a namespace prefix is not declared",
        };
        // A reading error has no markup position: the line the event began on.
        let line = match error {
            E::Io(_) => self.line,
            _ => line_of(&self.path, self.reader.error_position()).unwrap_or(self.line),
        };
        bad_file(&self.path, line, &format!("malformed XML: {what}"))
    }
}

/// The longest event (a tag, a text) an interchange may hold: a record's values are short,
/// and one huge value would otherwise be held whole in memory.
pub const MAX_EVENT_BYTES: u64 = 16 << 20;

/// The file under the parser, counting the bytes of the event being read: past
/// [`MAX_EVENT_BYTES`] it fails with [`EventTooLong`].
struct Limited {
    inner: std::io::BufReader<std::fs::File>,
    since_event: u64,
}

#[derive(Debug)]
struct EventTooLong;

impl std::fmt::Display for EventTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an XML event longer than {MAX_EVENT_BYTES} bytes")
    }
}

impl std::error::Error for EventTooLong {}

impl std::io::Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::io::Read::read(&mut self.inner, buf)?;
        self.consume_counted(n);
        Ok(n)
    }
}

impl std::io::BufRead for Limited {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.since_event > MAX_EVENT_BYTES {
            return Err(std::io::Error::other(EventTooLong));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consume_counted(amount);
        self.inner.consume(amount);
    }
}

impl Limited {
    fn consume_counted(&mut self, amount: usize) {
        self.since_event += amount as u64;
    }
}

/// Text inside the current element: a new leaf, or more of the last one when an entity
/// reference split it.
fn leaf_text(open_leaf: &mut bool, path: &str, record: &mut Record, text: &str) {
    if *open_leaf {
        record.append(text);
    } else {
        record.push(path, text);
        *open_leaf = true;
    }
}

/// The record's (or a child's) attributes `id` and `ref` as leaves `@id`, `…/@ref`.
fn push_attributes(start: &quick_xml::events::BytesStart<'_>, path: &str, record: &mut Record) {
    for attribute in start.attributes().flatten() {
        let key = attribute.key.local_name();
        let key = key.as_ref();
        if key == b"id" || key == b"ref" {
            let value = String::from_utf8_lossy(&attribute.value);
            let name = if key == b"id" { "@id" } else { "@ref" };
            let leaf = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}/{name}")
            };
            record.push(&leaf, &value);
        }
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The 1-based line of a byte offset of a file, counted again from its start (only for an
/// error, once).
fn line_of(path: &Path, offset: u64) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut reader = std::io::BufReader::new(file);
    let mut remaining = offset;
    let mut line = 1;
    while remaining > 0 {
        let chunk = reader.fill_buf().ok()?;
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(remaining as usize);
        line += newlines(&chunk[..take]);
        reader.consume(take);
        remaining -= take as u64;
    }
    Some(line)
}

fn bad_file(path: &Path, line: u64, message: &str) -> EwsError {
    EwsError::BadFile {
        path: path.to_path_buf(),
        message: format!("line {line}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as the tests compare it: name, line, leaves.
    type Read = (String, u64, Vec<(String, String)>);

    fn records(xml: &str) -> Result<Vec<Read>> {
        let dir = tempfile::tempdir().map_err(|e| EwsError::io("tmp", e))?;
        let path = dir.path().join("x.xml");
        std::fs::write(&path, xml).map_err(|e| EwsError::io(&path, e))?;
        let mut interchange = Interchange::open(&path)?;
        let mut out = Vec::new();
        let mut record = Record::default();
        while interchange.next(&mut record)? {
            let fields = record.fields[..record.used].to_vec();
            out.push((record.name.clone(), record.line, fields));
        }
        Ok(out)
    }

    #[test]
    fn records_are_leaves_by_path_with_their_line() -> Result<()> {
        let xml = "<?xml version=\"1.0\"?>\n<I xmlns=\"http://ed-fi.org/5.2.0\">\n\t<A id=\"a1\">\n\t\t<B><C>x &amp; y&#233;</C></B>\n\t\t<D ref=\"r\"/>\n\t</A>\n\t<!-- note -->\n\t<E><![CDATA[<z>]]></E>\n</I>\n";
        let got = records(xml)?;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "A");
        assert_eq!(got[0].1, 3);
        let pairs: Vec<(&str, &str)> = got[0]
            .2
            .iter()
            .map(|(p, v)| (p.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("@id", "a1"), ("B/C", "x & yé"), ("D", ""), ("D/@ref", "r")]
        );
        assert_eq!(got[1].0, "E");
        assert_eq!(got[1].1, 8);
        assert_eq!(got[1].2, [("".to_string(), "<z>".to_string())]);
        Ok(())
    }

    #[test]
    fn a_huge_value_or_another_encoding_is_refused_by_name() {
        let huge = format!(
            "<I>\n<A><B>{}</B></A>\n</I>\n",
            "x".repeat((MAX_EVENT_BYTES + (1 << 20)) as usize)
        );
        let error = records(&huge)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 2: malformed XML: a tag or a value longer than 16 MiB"),
            "{}",
            &error[..error.len().min(300)]
        );
        let latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<I><A/></I>\n";
        let error = records(latin)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 1: the XML declaration names an encoding other than UTF-8"),
            "{error}"
        );
        let utf8 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<I><A/></I>\n";
        assert_eq!(records(utf8).map(|r| r.len()).unwrap_or(0), 1);
    }

    #[test]
    fn malformed_xml_names_the_line_and_never_the_text() {
        let xml = "<I>\n<A><B>secret-value</C></A>\n</I>\n";
        let error = records(xml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 2: malformed XML: an end tag does not match"),
            "{error}"
        );
        assert!(!error.contains("secret"), "{error}");
        let cut = "<I>\n<A><B>v</B>\n";
        let error = records(cut)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("malformed XML"), "{error}");
        let not_xml = "student_id,date\n1,2\n";
        let error = records(not_xml)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("line 1: text before the root element"),
            "{error}"
        );
    }
}
