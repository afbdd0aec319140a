//! What the district already does for each student, as of the date: the supports of
//! interventions.csv (current, planned, recovery courses in progress, credits recovered the
//! transcript does not have yet) and counselors' latest decisions (referral_status.csv and the
//! returned workbooks, [`crate::ingest::decisions`]).
//!
//! A support's state is read as of the as-of date (docs/input-contract.md): a row starting
//! after it is ignored and counted; one `completed` or `withdrawn` after it was still active
//! then. It is current when active, or completed within the last 30 days. `planned` is a
//! decision, not yet a support.
//!
//! A completed credit-recovery course with `credits_recovered` counts toward the student's
//! credits until the transcript has it ([`with_recovered_credits`]), and never twice.

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::Config;
use crate::contract::{COMPLETED_CURRENT_DAYS, CREDIT_RECOVERY};
use crate::ingest::columns::texts;
use crate::ingest::decisions::{Source, RETURNED_WORKBOOKS, SOURCE};
use crate::ingest::input::LINE;
use crate::ingest::quality::IgnoredRows;
use crate::io::error::Result;

/// A support's state on the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Decided, not yet given.
    Planned,
    Active,
    Completed {
        end: NaiveDate,
    },
    Withdrawn,
}

/// The state of a support on `as_of` (its start on or before it).
pub fn state(status: &str, end: Option<NaiveDate>, as_of: NaiveDate) -> State {
    let ended = end.is_some_and(|end| end <= as_of);
    match status {
        "planned" => State::Planned,
        "completed" if ended => State::Completed {
            end: end.unwrap_or(as_of),
        },
        "withdrawn" if ended || end.is_none() => State::Withdrawn,
        // Active, or completed or withdrawn after the as-of date: active on it.
        _ => State::Active,
    }
}

/// Whether a support in `state` is current on `as_of`.
pub fn is_current(state: State, as_of: NaiveDate) -> bool {
    match state {
        State::Active => true,
        State::Completed { end } => (as_of - end).num_days() <= COMPLETED_CURRENT_DAYS,
        State::Planned | State::Withdrawn => false,
    }
}

/// A counselor's decision about a student.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// One of [`crate::contract::DECISION_STATUSES`].
    pub status: String,
    pub date: NaiveDate,
    /// Free text: student-level data, never logged.
    pub reason: Option<String>,
    /// referral_status.csv or a returned workbook.
    pub source: &'static str,
}

/// The supports and decisions of the feature table's students, by table row.
#[derive(Debug, Default)]
pub struct Supports {
    /// Current supports, in plain words: "credit_recovery: Algebra I (active since
    /// 2026-01-12); tutoring (completed 2026-11-02)".
    pub current: FxHashMap<usize, String>,
    /// Students with a `planned` support (a decision, not yet a support).
    pub planned: FxHashSet<usize>,
    /// Failed courses a credit-recovery course in progress is recovering: (row, course_id) →
    /// the course's start date.
    pub recovering: FxHashMap<(usize, String), NaiveDate>,
    /// Each student's latest decision dated on or before the as-of date.
    pub decisions: FxHashMap<usize, Decision>,
    /// The types of the supports each student received this school year (given, not only
    /// planned, started by the as-of date and not ended before the year began), sorted.
    pub received: FxHashMap<usize, Vec<String>>,
    /// Credit-recovery courses started this school year, per student.
    pub recovery: FxHashMap<usize, RecoveryCourses>,
    /// Whether the snapshot has interventions.csv (without it, no student is known served).
    pub interventions_read: bool,
}

impl Supports {
    /// Appends the supports of the next partition's students, whose table rows follow this
    /// one's `rows` rows.
    pub fn append(&mut self, next: Supports, rows: usize) {
        self.current
            .extend(next.current.into_iter().map(|(row, s)| (row + rows, s)));
        self.planned
            .extend(next.planned.into_iter().map(|row| row + rows));
        self.recovering.extend(
            next.recovering
                .into_iter()
                .map(|((row, course), date)| ((row + rows, course), date)),
        );
        self.decisions
            .extend(next.decisions.into_iter().map(|(row, d)| (row + rows, d)));
        self.received
            .extend(next.received.into_iter().map(|(row, r)| (row + rows, r)));
        self.recovery
            .extend(next.recovery.into_iter().map(|(row, r)| (row + rows, r)));
        self.interventions_read |= next.interventions_read;
    }

    /// The supports of the rows `new_row` keeps, at their new rows (`None`: the row is left
    /// out).
    pub fn keep_rows(self, new_row: &[Option<usize>]) -> Supports {
        let moved = |row: usize| new_row.get(row).copied().flatten();
        Supports {
            current: (self.current.into_iter())
                .filter_map(|(row, s)| Some((moved(row)?, s)))
                .collect(),
            planned: (self.planned.into_iter()).filter_map(moved).collect(),
            recovering: (self.recovering.into_iter())
                .filter_map(|((row, course), date)| Some(((moved(row)?, course), date)))
                .collect(),
            decisions: (self.decisions.into_iter())
                .filter_map(|(row, d)| Some((moved(row)?, d)))
                .collect(),
            received: (self.received.into_iter())
                .filter_map(|(row, r)| Some((moved(row)?, r)))
                .collect(),
            recovery: (self.recovery.into_iter())
                .filter_map(|(row, r)| Some((moved(row)?, r)))
                .collect(),
            interventions_read: self.interventions_read,
        }
    }
}

/// A student's credit-recovery courses started this school year, by the as-of date.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RecoveryCourses {
    pub started: usize,
    pub completed: usize,
    /// `credits_recovered` of the completed ones.
    pub credits_recovered: f64,
}

impl Supports {
    /// The label of a student's current supports ("" when none).
    pub fn current_of(&self, row: usize) -> &str {
        self.current.get(&row).map(String::as_str).unwrap_or("")
    }
}

/// The supports of every student of `table` (sorted by student_id) as of `as_of`, in the
/// school year that began on `year_start`, with the names of courses from `course_names`
/// ((student, course_id) → name).
pub fn supports(
    table: &DataFrame,
    interventions: Option<&DataFrame>,
    decisions: Option<&DataFrame>,
    course_names: &CourseNames,
    (year_start, as_of): (NaiveDate, NaiveDate),
    ignored: &mut Vec<IgnoredRows>,
) -> Result<Supports> {
    let mut supports = Supports::default();
    let ids: Vec<Option<&str>> = texts(table.column("student_id")?)?.collect();
    let row_of = |id: &str| ids.binary_search(&Some(id)).ok();
    if let Some(frame) = interventions {
        supports.interventions_read = true;
        let mut current: FxHashMap<usize, Vec<(NaiveDate, String)>> = FxHashMap::default();
        let mut after = 0;
        let rows = Interventions::of(frame)?;
        for k in 0..rows.len() {
            let Some((id, kind, start, status)) = rows.support(k) else {
                continue;
            };
            if start > as_of {
                after += 1;
                continue;
            }
            let Some(row) = row_of(id) else {
                continue;
            };
            let course = rows.courses[k];
            let state = state(status, rows.ends[k], as_of);
            if state == State::Planned {
                supports.planned.insert(row);
            } else if rows.ends[k].is_none_or(|end| end >= year_start) {
                let received = supports.received.entry(row).or_default();
                if !received.iter().any(|r| r == kind) {
                    received.push(kind.to_string());
                    received.sort();
                }
            }
            if kind == CREDIT_RECOVERY && state != State::Planned && start >= year_start {
                let courses = supports.recovery.entry(row).or_default();
                courses.started += 1;
                if let State::Completed { .. } = state {
                    courses.completed += 1;
                    courses.credits_recovered += rows.credits[k].unwrap_or(0.0);
                }
            }
            if state == State::Active && kind == CREDIT_RECOVERY {
                if let Some(course) = course {
                    supports.recovering.insert((row, course.to_string()), start);
                }
            }
            if !is_current(state, as_of) {
                continue;
            }
            let mut label = kind.to_string();
            if let Some(course) = course {
                let name = course_names
                    .get(&(id.to_string(), course.to_string()))
                    .map(String::as_str)
                    .unwrap_or(course);
                label.push_str(": ");
                label.push_str(name);
            }
            match state {
                State::Completed { end } => label.push_str(&format!(" (completed {end})")),
                _ => label.push_str(&format!(" (active since {start})")),
            }
            current.entry(row).or_default().push((start, label));
        }
        for (row, mut labels) in current {
            labels.sort();
            let text: Vec<String> = labels.into_iter().map(|(_, l)| l).collect();
            supports.current.insert(row, text.join("; "));
        }
        push(
            ignored,
            crate::contract::INTERVENTIONS.name,
            "starting after the as-of date",
            after,
        );
    }
    if let Some(frame) = decisions {
        let students: Vec<Option<&str>> = texts(frame.column("student_id")?)?.collect();
        let statuses: Vec<Option<&str>> = texts(frame.column("status")?)?.collect();
        let reasons: Vec<Option<&str>> = texts(frame.column("reason")?)?.collect();
        let sources: Vec<Option<&str>> = texts(frame.column(SOURCE)?)?.collect();
        let dates: Vec<Option<NaiveDate>> = frame.column("date")?.date()?.as_date_iter().collect();
        let (mut after_status, mut after_workbooks) = (0, 0);
        for k in 0..frame.height() {
            let (Some(id), Some(status), Some(date)) = (students[k], statuses[k], dates[k]) else {
                continue;
            };
            let source = match sources[k] {
                Some(s) if s == Source::Workbook.as_str() => Source::Workbook,
                _ => Source::ReferralStatus,
            };
            if date > as_of {
                match source {
                    Source::Workbook => after_workbooks += 1,
                    Source::ReferralStatus => after_status += 1,
                }
                continue;
            }
            let Some(row) = row_of(id) else {
                continue;
            };
            let decision = Decision {
                status: status.to_string(),
                date,
                reason: reasons[k].map(str::to_string),
                source: source.as_str(),
            };
            // The later date wins; on the same date a returned workbook, then the later row.
            let rank = |d: &Decision| (d.date, d.source == Source::Workbook.as_str());
            match supports.decisions.get(&row) {
                Some(known) if rank(known) > rank(&decision) => {}
                _ => {
                    supports.decisions.insert(row, decision);
                }
            }
        }
        push(
            ignored,
            crate::contract::REFERRAL_STATUS.name,
            "dated after the as-of date",
            after_status,
        );
        push(
            ignored,
            RETURNED_WORKBOOKS,
            "dated after the as-of date",
            after_workbooks,
        );
    }
    Ok(supports)
}

fn push(ignored: &mut Vec<IgnoredRows>, file: &'static str, reason: &'static str, rows: u64) {
    if rows > 0 {
        ignored.push(IgnoredRows { file, reason, rows });
    }
}

/// interventions.csv's typed columns as text and dates, row by row.
struct Interventions<'a> {
    lines: Vec<Option<u64>>,
    students: Vec<Option<&'a str>>,
    kinds: Vec<Option<&'a str>>,
    courses: Vec<Option<&'a str>>,
    starts: Vec<Option<NaiveDate>>,
    ends: Vec<Option<NaiveDate>>,
    statuses: Vec<Option<&'a str>>,
    credits: Vec<Option<f64>>,
}

impl<'a> Interventions<'a> {
    fn of(frame: &'a DataFrame) -> Result<Interventions<'a>> {
        let dates = |name: &str| -> Result<Vec<Option<NaiveDate>>> {
            Ok(frame.column(name)?.date()?.as_date_iter().collect())
        };
        let lines = frame.column(LINE)?.cast(&DataType::UInt64)?;
        Ok(Interventions {
            lines: lines.u64()?.iter().collect(),
            students: texts(frame.column("student_id")?)?.collect(),
            kinds: texts(frame.column("intervention_type")?)?.collect(),
            courses: texts(frame.column("course_id")?)?
                .map(|c| c.filter(|c| !c.is_empty()))
                .collect(),
            starts: dates("start_date")?,
            ends: dates("end_date")?,
            statuses: texts(frame.column("status")?)?.collect(),
            credits: frame.column("credits_recovered")?.f64()?.iter().collect(),
        })
    }

    fn len(&self) -> usize {
        self.students.len()
    }

    /// Row `k`'s student, type, start and status (all required, so always there in a checked
    /// file).
    fn support(&self, k: usize) -> Option<(&'a str, &'a str, NaiveDate, &'a str)> {
        Some((
            self.students[k]?,
            self.kinds[k]?,
            self.starts[k]?,
            self.statuses[k]?,
        ))
    }
}

/// Course names by (student_id, course_id), from the transcript rows of students with a
/// credit-recovery support: for the supports' labels.
pub type CourseNames = FxHashMap<(String, String), String>;

/// A completed credit-recovery course whose credits may not be on the transcript yet.
struct Recovered<'a> {
    line: u64,
    student: &'a str,
    course: Option<&'a str>,
    start: NaiveDate,
    end: NaiveDate,
    credits: f64,
}

/// The transcript (`credits`, rows up to the as-of date) with a credit-recovery row added for
/// each completed credit-recovery course of `interventions` with `credits_recovered` that the
/// transcript does not have yet, and the number added.
///
/// The transcript has it when one of the student's rows that earned credit has the course as
/// its `course_id` or `recovers_course_id`; or else when a credit-recovery row that earned
/// credit in the course's subject was completed on or after the course's start, each such row
/// standing for one course only. An added row recovers the course (`recovers_course_id`) in
/// its subject (that of the student's transcript rows of the course; none: electives), dated
/// on the course's end date.
pub fn with_recovered_credits(
    credits: DataFrame,
    interventions: Option<&DataFrame>,
    as_of: NaiveDate,
    config: &Config,
) -> Result<(DataFrame, CourseNames, u64)> {
    let Some(frame) = interventions else {
        return Ok((credits, FxHashMap::default(), 0));
    };
    let rows = Interventions::of(frame)?;
    let mut recovered: Vec<Recovered> = Vec::new();
    let mut students: FxHashSet<&str> = FxHashSet::default();
    for k in 0..rows.len() {
        let Some((student, CREDIT_RECOVERY, start, status)) = rows.support(k) else {
            continue;
        };
        if start > as_of {
            continue;
        }
        students.insert(student);
        let State::Completed { end } = state(status, rows.ends[k], as_of) else {
            continue;
        };
        let Some(credits) = rows.credits[k].filter(|c| *c > 0.0) else {
            continue;
        };
        recovered.push(Recovered {
            line: rows.lines[k].unwrap_or(0),
            student,
            course: rows.courses[k],
            start,
            end,
            credits,
        });
    }
    if students.is_empty() {
        return Ok((credits, FxHashMap::default(), 0));
    }
    // The transcript rows of students with a credit-recovery course: few.
    let mut ids: Vec<&str> = students.iter().copied().collect();
    ids.sort_unstable();
    let id_type = credits.column("student_id")?.dtype().clone();
    let wanted = DataFrame::new_infer_height(vec![Column::new("student_id".into(), &ids)])?
        .lazy()
        .with_column(col("student_id").cast(id_type));
    let theirs = credits
        .clone()
        .lazy()
        .join(
            wanted,
            [col("student_id")],
            [col("student_id")],
            JoinArgs::new(JoinType::Semi),
        )
        .collect()?;
    let own = TranscriptRows::of(&theirs)?;
    let mut names = CourseNames::default();
    let mut subjects: FxHashMap<(&str, &str), &str> = FxHashMap::default();
    let mut by_student: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for k in 0..own.students.len() {
        let (Some(student), Some(course)) = (own.students[k], own.courses[k]) else {
            continue;
        };
        by_student.entry(student).or_default().push(k);
        if let Some(name) = own.names[k] {
            names
                .entry((student.to_string(), course.to_string()))
                .or_insert_with(|| name.to_string());
        }
        if let Some(subject) = own.subjects[k] {
            subjects.entry((student, course)).or_insert(subject);
        }
    }
    recovered.sort_by(|a, b| (a.student, a.end, a.line).cmp(&(b.student, b.end, b.line)));
    // First by course id, then by subject with each transcript row used once.
    let mut on_transcript = vec![false; recovered.len()];
    let none = Vec::new();
    for (r, course) in recovered.iter().enumerate() {
        let Some(id) = course.course else {
            continue;
        };
        on_transcript[r] = by_student
            .get(course.student)
            .unwrap_or(&none)
            .iter()
            .any(|&k| {
                own.earned[k] > 0.0 && (own.courses[k] == Some(id) || own.recovers[k] == Some(id))
            });
    }
    let mut used: FxHashSet<usize> = FxHashSet::default();
    for (r, course) in recovered.iter().enumerate() {
        if on_transcript[r] {
            continue;
        }
        let subject = course
            .course
            .and_then(|c| subjects.get(&(course.student, c)));
        let Some(&subject) = subject else {
            continue;
        };
        let row = by_student
            .get(course.student)
            .unwrap_or(&none)
            .iter()
            .copied()
            .find(|&k| {
                !used.contains(&k)
                    && own.recovery[k]
                    && own.earned[k] > 0.0
                    && own.subjects[k] == Some(subject)
                    && own.dates[k].is_some_and(|d| d >= course.start)
            });
        if let Some(k) = row {
            used.insert(k);
            on_transcript[r] = true;
        }
    }
    let added: Vec<&Recovered> = recovered
        .iter()
        .zip(&on_transcript)
        .filter(|(_, on)| !**on)
        .map(|(r, _)| r)
        .collect();
    if added.is_empty() {
        return Ok((credits, names, 0));
    }
    let text = |f: &dyn Fn(&Recovered) -> Option<String>| -> Vec<Option<String>> {
        added.iter().map(|r| f(r)).collect()
    };
    let course_of = |r: &Recovered| r.course.map(str::to_string);
    let rows = df!(
        LINE => added.iter().map(|r| r.line).collect::<Vec<u64>>(),
        "student_id" => text(&|r| Some(r.student.to_string())),
        "school_year" => added.iter().map(|r| config.school_year_of(r.end)).collect::<Vec<i32>>(),
        "term" => text(&|_| None),
        "course_id" => text(&|r| Some(r.course.unwrap_or(CREDIT_RECOVERY).to_string())),
        "course_name" => text(&|r| {
            let course = r.course?;
            names.get(&(r.student.to_string(), course.to_string())).cloned().or(Some(course.to_string()))
        }),
        "subject" => text(&|r| {
            r.course.and_then(|c| subjects.get(&(r.student, c))).map(|s| s.to_string())
        }),
        "credits_attempted" => added.iter().map(|r| r.credits).collect::<Vec<f64>>(),
        "credits_earned" => added.iter().map(|r| r.credits).collect::<Vec<f64>>(),
        "mark" => text(&|_| None),
        "completion_date" => added.iter().map(|r| r.end).collect::<Vec<NaiveDate>>(),
        "credit_recovery" => vec![true; added.len()],
        "recovers_course_id" => text(&course_of),
    )?;
    // The added rows in the transcript's own column types (its coded text).
    let typed: Vec<Expr> = credits
        .columns()
        .iter()
        .map(|c| col(c.name().clone()).cast(c.dtype().clone()))
        .collect();
    let rows = rows.lazy().select(typed).collect()?;
    let count = rows.height() as u64;
    let mut all = credits;
    all.vstack_mut(&rows)?;
    all.rechunk_mut_par();
    Ok((all, names, count))
}

/// The columns of a few transcript rows that say whether a recovered course is on it.
struct TranscriptRows<'a> {
    students: Vec<Option<&'a str>>,
    courses: Vec<Option<&'a str>>,
    names: Vec<Option<&'a str>>,
    subjects: Vec<Option<&'a str>>,
    recovers: Vec<Option<&'a str>>,
    earned: Vec<f64>,
    recovery: Vec<bool>,
    dates: Vec<Option<NaiveDate>>,
}

impl<'a> TranscriptRows<'a> {
    fn of(frame: &'a DataFrame) -> Result<TranscriptRows<'a>> {
        Ok(TranscriptRows {
            students: texts(frame.column("student_id")?)?.collect(),
            courses: texts(frame.column("course_id")?)?.collect(),
            names: texts(frame.column("course_name")?)?.collect(),
            subjects: texts(frame.column("subject")?)?.collect(),
            recovers: texts(frame.column("recovers_course_id")?)?.collect(),
            earned: frame
                .column("credits_earned")?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            recovery: frame
                .column("credit_recovery")?
                .bool()?
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
            dates: frame
                .column("completion_date")?
                .date()?
                .as_date_iter()
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn kept_rows_take_their_supports_to_their_new_rows() {
        let mut supports = Supports {
            interventions_read: true,
            ..Default::default()
        };
        supports.current.insert(0, "tutoring".into());
        supports.current.insert(2, "mentoring".into());
        supports.planned.insert(1);
        supports.planned.insert(3);
        supports
            .recovering
            .insert((3, "ALG1".into()), day("2026-01-12"));
        supports.decisions.insert(
            2,
            Decision {
                status: "declined".into(),
                date: day("2026-02-01"),
                reason: None,
                source: "referral_status.csv",
            },
        );
        supports.received.insert(0, vec!["tutoring".into()]);
        supports.recovery.insert(
            3,
            RecoveryCourses {
                started: 1,
                completed: 0,
                credits_recovered: 0.0,
            },
        );
        // Rows 0 and 1 go; 2 becomes 0 and 3 becomes 1.
        let kept = supports.keep_rows(&[None, None, Some(0), Some(1)]);
        assert_eq!(
            kept.current,
            [(0, "mentoring".to_string())].into_iter().collect()
        );
        assert_eq!(kept.planned, [1].into_iter().collect());
        assert_eq!(
            kept.recovering,
            [((1, "ALG1".to_string()), day("2026-01-12"))]
                .into_iter()
                .collect()
        );
        assert_eq!(kept.decisions.keys().copied().collect::<Vec<_>>(), [0]);
        assert!(kept.received.is_empty());
        assert_eq!(kept.recovery.keys().copied().collect::<Vec<_>>(), [1]);
        assert!(kept.interventions_read);
    }

    #[test]
    fn a_support_is_read_as_of_the_date() {
        let as_of = day("2026-03-01");
        assert_eq!(state("active", None, as_of), State::Active);
        assert_eq!(state("planned", None, as_of), State::Planned);
        // Completed or withdrawn after the as-of date: still active on it.
        assert_eq!(
            state("completed", Some(day("2026-03-02")), as_of),
            State::Active
        );
        assert_eq!(
            state("withdrawn", Some(day("2026-04-01")), as_of),
            State::Active
        );
        assert_eq!(
            state("withdrawn", Some(day("2026-02-01")), as_of),
            State::Withdrawn
        );
        let done = state("completed", Some(day("2026-01-30")), as_of);
        assert_eq!(
            done,
            State::Completed {
                end: day("2026-01-30")
            }
        );
        // Current: active, or completed within the last 30 days (30 days ago included).
        assert!(is_current(State::Active, as_of));
        assert!(is_current(done, as_of));
        assert!(!is_current(
            state("completed", Some(day("2026-01-29")), as_of),
            as_of
        ));
        assert!(!is_current(State::Planned, as_of));
        assert!(!is_current(State::Withdrawn, as_of));
    }
}
