//! Counselor files, two per school: `schools/<school>.csv`, the school's credit-recovery
//! candidates (students with something to recover) in the order they get the school's recovery
//! seats (graduation urgency: `recovery.seat_order`), and `prevention/<school>.csv`, its
//! students at risk with nothing to recover, by risk. Columns come in the order a counselor
//! reads a row: who, how likely and why, then the numbers, then what to do (courses to
//! recover, courses at risk this year). Every text cell is safe to open in a spreadsheet.
//!
//! A candidate given a recovery seat ([`recovery::seats`]: `recovery.seats_by_school`, and the
//! places of `[recovery.seats]`) is `within_capacity`, with the places in `recovery_seats`: a
//! seat never goes to a student with nothing to recover.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use polars::prelude::*;

use crate::config::Config;
use crate::io::error::{EwsError, Result};
use crate::io::text::{number, spreadsheet_safe};
use crate::model::score::{in_rank_order, ScoredStudent};
use crate::outputs::recovery::{self, Plan};

/// The columns both lists begin with, who and how likely and why: what `who` fills in
/// [`write_school_files`].
const WHO_COLUMNS: [&str; 11] = [
    "rank",
    "last_name",
    "first_name",
    "student_id",
    "grade_level",
    "counselor",
    "risk_percent",
    "risk_tier",
    "reasons",
    "attendance_percent",
    "gpa",
];

/// `first` then `then`, as one array of `N` names (checked when compiled).
const fn columns<const A: usize, const B: usize, const N: usize>(
    first: [&'static str; A],
    then: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N, "the column counts do not add up");
    let mut all = [""; N];
    let mut i = 0;
    while i < A {
        all[i] = first[i];
        i += 1;
    }
    while i < N {
        all[i] = then[i - A];
        i += 1;
    }
    all
}

/// The columns both lists end with, what the district does and how the risk went: what
/// `support_and_decision` fills in [`write_school_files`].
const FOLLOW_UP_COLUMNS: [&str; 6] = [
    "current_supports",
    "decision_status",
    "decision_date",
    "risk_percent_30_school_days_ago",
    "risk_percent_90_school_days_ago",
    "school_days_since_first_flagged",
];

/// Columns of a counselor file, in order.
pub const COLUMNS: [&str; 36] = columns(
    columns::<11, 19, 30>(
        WHO_COLUMNS,
        [
            "credits_earned",
            "credits_expected_now",
            "credit_deficit_now",
            "subjects_behind",
            "courses_to_recover",
            "elective_failures",
            "courses_made_up",
            "courses_at_risk",
            "change_since_last_run",
            "within_capacity",
            "recovery_seats",
            "credits_by_subject",
            "projected_credits",
            "projected_credit_deficit",
            "on_time_reachable",
            "credits_needed",
            "subjects_needed",
            "reachable_with_recovery",
            "recover_by",
        ],
    ),
    FOLLOW_UP_COLUMNS,
);

/// Longest file name stem taken from a school id, in characters (ASCII, so bytes too): with the
/// hash suffix and `.csv` a name stays far below the 255 bytes file systems allow, and short
/// enough to read in a file list.
pub const MAX_SCHOOL_NAME_CHARS: usize = 64;

/// Hex digits of the SHA-256 of a school id in the suffix that tells apart ids whose safe names
/// are alike (32 bits: a chance collision among a district's schools is about one in a
/// billion, and [`school_file_names`] falls back to the whole digest when it happens).
const HASH_SUFFIX_HEX: usize = 8;

/// Names Windows reserves for devices whatever the extension (`NUL.csv` cannot be created
/// there); compared ignoring ASCII case.
const WINDOWS_DEVICE_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// The safe stem of a school id before any suffix: every character other than an ASCII letter,
/// digit, `-` or `_` replaced by `_`, cut at [`MAX_SCHOOL_NAME_CHARS`]; `school` when that
/// leaves no letter or digit (an empty id, or one of punctuation only).
fn safe_stem(school_id: &str) -> String {
    let stem: String = school_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_SCHOOL_NAME_CHARS)
        .collect();
    if stem.chars().any(|c| c.is_ascii_alphanumeric()) {
        stem
    } else {
        "school".to_string()
    }
}

/// The first `hex_digits` hex digits (lowercase) of the SHA-256 of the school id's UTF-8 bytes.
fn id_hash(school_id: &str, hex_digits: usize) -> String {
    use sha2::{Digest, Sha256};
    let digest = crate::io::hashing::hex(&Sha256::digest(school_id.as_bytes()));
    digest.chars().take(hex_digits).collect()
}

/// The counselor file name (`<name>.csv`, in `schools/`) of every school id of a run, keyed by
/// id. Every id gets its own name, also on a file system that ignores case, bounded and made of
/// ASCII letters, digits, `-` and `_` only:
///
/// - the stem is the id with every other character replaced by `_`, cut at
///   [`MAX_SCHOOL_NAME_CHARS`] characters (`school` when no letter or digit is left);
/// - the stem alone names the file (`001` → `001.csv`) unless the id had to change (a
///   character replaced, the id cut, or `school` used), the stem is a Windows device name
///   (`CON`, `NUL`, …), or another id of the run has a stem equal to it ignoring ASCII case
///   (`A/B` and `A_B`, `HS1` and `hs1`); then the name is `<stem>-<h>`, `h` the first 8 hex
///   digits of the SHA-256 of the id's UTF-8 bytes (`A/B` → `A_B-…`);
/// - should two names still be equal ignoring case (a chance collision of 8 digits, or an id
///   written as another's suffixed name), those with a suffix take the whole 64-digit digest,
///   which no other name can equal: stems are at most 64 characters, and the digests of two
///   different ids differ.
///
/// Deterministic: the same ids give the same names, whatever their order. A school's name
/// depends on the other ids only through collisions.
pub fn school_file_names<'a>(ids: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    let ids: std::collections::BTreeSet<&str> = ids.into_iter().collect();
    let stems: BTreeMap<&str, String> = ids.iter().map(|&id| (id, safe_stem(id))).collect();
    let mut per_folded_stem: HashMap<String, usize> = HashMap::new();
    for stem in stems.values() {
        *per_folded_stem
            .entry(stem.to_ascii_lowercase())
            .or_default() += 1;
    }
    let suffixed = |id: &str, stem: &str| {
        stem != id
            || WINDOWS_DEVICE_NAMES
                .iter()
                .any(|device| device.eq_ignore_ascii_case(stem))
            || per_folded_stem
                .get(&stem.to_ascii_lowercase())
                .is_some_and(|n| *n > 1)
    };
    let name = |id: &str, stem: &str, hex_digits: usize| {
        if suffixed(id, stem) {
            format!("{stem}-{}", id_hash(id, hex_digits))
        } else {
            stem.to_string()
        }
    };
    let mut names: BTreeMap<&str, String> = stems
        .iter()
        .map(|(&id, stem)| (id, name(id, stem, HASH_SUFFIX_HEX)))
        .collect();
    let mut per_folded_name: HashMap<String, usize> = HashMap::new();
    for name in names.values() {
        *per_folded_name
            .entry(name.to_ascii_lowercase())
            .or_default() += 1;
    }
    for (&id, stem) in &stems {
        let taken_twice = names
            .get(id)
            .and_then(|n| per_folded_name.get(&n.to_ascii_lowercase()))
            .is_some_and(|n| *n > 1);
        if taken_twice {
            names.insert(id, name(id, stem, 64));
        }
    }
    names
        .into_iter()
        .map(|(id, name)| (id.to_string(), format!("{name}.csv")))
        .collect()
}

/// Columns of a prevention list, in order.
pub const PREVENTION_COLUMNS: [&str; 19] = columns(
    columns::<11, 2, 13>(WHO_COLUMNS, ["courses_at_risk", "change_since_last_run"]),
    FOLLOW_UP_COLUMNS,
);

/// Columns of an unserved list (`unserved/<school>.csv`): students needing attention for more
/// than `loop.unserved_school_days` school days with no support and no decision
/// ([`crate::outputs::follow_up`]), longest first. No support and no decision, by definition:
/// the decision columns are there to record one.
pub const UNSERVED_COLUMNS: [&str; 19] = columns(
    WHO_COLUMNS,
    [
        "credit_recovery_candidate",
        "needing_attention_since",
        "school_days_needing_attention",
        "courses_to_recover",
        "courses_at_risk",
        "change_since_last_run",
        "decision_status",
        "decision_date",
    ],
);

/// How many students each school's files list.
#[derive(Debug, Default, Clone)]
pub struct SchoolCounts {
    /// Credit-recovery candidates, by school id.
    pub candidates: BTreeMap<String, usize>,
    /// Students on the prevention list, by school id.
    pub prevention: BTreeMap<String, usize>,
    /// Students on the unserved list, by school id.
    pub unserved: BTreeMap<String, usize>,
}

/// What a run's counselor files are made of.
#[derive(Clone, Copy)]
pub struct SchoolFilesInput<'a> {
    /// The feature table, and its scored students in rank order.
    pub table: &'a DataFrame,
    pub scored: &'a [ScoredStudent],
    /// The plans, by row of the table.
    pub plans: &'a [Plan],
    /// The run's [`recovery::seats`].
    pub seats: &'a recovery::Seats,
    /// student_id → its change since the last run.
    pub changes: &'a HashMap<String, String>,
    /// The run's as-of date (the workbooks' date).
    pub as_of: chrono::NaiveDate,
    /// Current supports and counselors' decisions, by row of the table.
    pub supports: &'a crate::features::supports::Supports,
    /// The follow-up from the run history (trends, the unserved list), by row of the table.
    pub follow: &'a crate::outputs::follow_up::FollowUp,
}

/// Writes, for every school with a student, `dir/schools/<name>.csv` (its credit-recovery
/// candidates, [`recovery::is_candidate`], in seat order: [`recovery::seat_order`]) and
/// `dir/prevention/<name>.csv` (its students at risk with nothing to recover,
/// [`recovery::is_prevention`], by risk), named by [`school_file_names`]. Beside each school's
/// CSV, its workbook (`schools/<name>.xlsx`: [`crate::outputs::workbook`]) holds both lists.
pub fn write_school_files(
    dir: &Path,
    input: &SchoolFilesInput,
    config: &Config,
) -> Result<SchoolCounts> {
    let SchoolFilesInput {
        table,
        scored,
        plans,
        seats,
        changes,
        as_of,
        supports,
        follow,
    } = *input;
    let ranked = in_rank_order(
        table,
        scored,
        &[
            "student_id",
            "last_name",
            "first_name",
            "school_id",
            "counselor",
            "grade_level",
            "attendance_rate",
            "gpa",
            "credits_earned",
        ],
    )?;
    let text = |name: &str| -> Result<&StringChunked> { Ok(ranked.column(name)?.str()?) };
    let number_column = |name: &str| -> Result<&Float64Chunked> { Ok(ranked.column(name)?.f64()?) };
    let (ids, last, first, school, counselor) = (
        text("student_id")?,
        text("last_name")?,
        text("first_name")?,
        text("school_id")?,
        text("counselor")?,
    );
    let grades = ranked.column("grade_level")?.i32()?;
    let (attendance, gpa, earned) = (
        number_column("attendance_rate")?,
        number_column("gpa")?,
        number_column("credits_earned")?,
    );

    // Each school's prevention list (in risk order), as rows of `scored`; the candidates are
    // `seats.lists`, which name every school (each gets both files, empty ones with a header).
    let mut prevention: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in scored.iter().enumerate() {
        if recovery::is_prevention(s.tier, &plans[s.row]) {
            prevention
                .entry(school.get(i).unwrap_or(""))
                .or_default()
                .push(i);
        }
    }
    // WHO_COLUMNS' cells.
    let who = |rank: usize, i: usize| -> Vec<String> {
        let s = &scored[i];
        vec![
            rank.to_string(),
            last.get(i).unwrap_or("").to_string(),
            first.get(i).unwrap_or("").to_string(),
            ids.get(i).unwrap_or("").to_string(),
            grades.get(i).map(|g| g.to_string()).unwrap_or_default(),
            counselor.get(i).unwrap_or("").to_string(),
            format!("{:.0}", s.risk * 100.0),
            s.tier.as_str().to_string(),
            s.reasons.join("; "),
            number(attendance.get(i).map(|a| a * 100.0), 0),
            number(gpa.get(i), 2),
        ]
    };
    let change = |i: usize| {
        changes
            .get(ids.get(i).unwrap_or(""))
            .cloned()
            .unwrap_or_default()
    };
    let decision_of = |i: usize| -> [String; 2] {
        let decision = supports.decisions.get(&scored[i].row);
        [
            decision.map(|d| d.status.clone()).unwrap_or_default(),
            decision.map(|d| d.date.to_string()).unwrap_or_default(),
        ]
    };
    // The decision's reason: the last cell of a row, which only the workbook holds.
    let reason_of = |i: usize| -> String {
        supports
            .decisions
            .get(&scored[i].row)
            .and_then(|d| d.reason.clone())
            .unwrap_or_default()
    };
    // The last cells of the candidate and prevention lists: current supports, the decision
    // (status, date), the trends, then the reason.
    let support_and_decision = |i: usize| -> Vec<String> {
        let row = scored[i].row;
        let [status, date] = decision_of(i);
        let percent = |risk: Option<f64>| risk.map(|r| format!("{:.0}", r * 100.0));
        vec![
            supports.current_of(row).to_string(),
            status,
            date,
            percent(follow.risk_back[0][row]).unwrap_or_default(),
            percent(follow.risk_back[1][row]).unwrap_or_default(),
            follow.days_flagged[row]
                .map(|d| d.to_string())
                .unwrap_or_default(),
            reason_of(i),
        ]
    };
    // Each school's unserved list, longest needing attention first, then by risk (rank order).
    let mut unserved: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in scored.iter().enumerate() {
        if follow.unserved[s.row] {
            unserved
                .entry(school.get(i).unwrap_or(""))
                .or_default()
                .push(i);
        }
    }
    for list in unserved.values_mut() {
        list.sort_by_key(|&i| std::cmp::Reverse(follow.days_needing[scored[i].row]));
    }
    let names = school_file_names(seats.lists.keys().map(String::as_str));
    // A school's rows of a list by school (none when the school has none).
    fn listed<'m>(lists: &'m HashMap<&str, Vec<usize>>, school_id: &str) -> &'m [usize] {
        lists.get(school_id).map(Vec::as_slice).unwrap_or_default()
    }

    // Schools side by side (a workbook's compression takes most of its time): each school's
    // three files are written by one task, the counts gathered after.
    use rayon::prelude::*;
    let schools: Vec<(&String, &Vec<usize>)> = seats.lists.iter().collect();
    let written = schools
        .par_iter()
        .map(|&(school_id, list)| -> Result<(usize, usize, usize)> {
            let rows: Vec<Vec<String>> = list
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let rank = k + 1;
                    let plan = &plans[scored[i].row];
                    let mut cells = who(rank, i);
                    cells.extend([
                        number(earned.get(i), 1),
                        number(plan.credits_expected_now, 1),
                        number(plan.credit_deficit_now, 1),
                        plan.subjects_behind.join("; "),
                        plan.courses_to_recover.join("; "),
                        plan.elective_failures.join("; "),
                        plan.courses_made_up.join("; "),
                        plan.courses_at_risk.join("; "),
                        change(i),
                        if seats.seated[scored[i].row] == Some(true) {
                            "yes"
                        } else {
                            "no"
                        }
                        .to_string(),
                        seats
                            .places
                            .get(&scored[i].row)
                            .map(|p| p.join("; "))
                            .unwrap_or_default(),
                        plan.credits_by_subject.clone(),
                        number(Some(plan.projected_credits), 1),
                        number(Some(plan.projected_deficit), 1),
                        if plan.on_time_reachable { "yes" } else { "no" }.to_string(),
                        number(Some(plan.credits_needed), 1),
                        plan.subjects_needed.clone(),
                        if plan.reachable_with_recovery {
                            "yes"
                        } else {
                            "no"
                        }
                        .to_string(),
                        plan.recover_by.join("; "),
                    ]);
                    cells.extend(support_and_decision(i));
                    cells
                })
                .collect();
            let at_risk: Vec<Vec<String>> = listed(&prevention, school_id)
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let plan = &plans[scored[i].row];
                    let mut cells = who(k + 1, i);
                    cells.extend([plan.courses_at_risk.join("; "), change(i)]);
                    cells.extend(support_and_decision(i));
                    cells
                })
                .collect();
            // Every school is named; a miss would be a bug in ews (exit 3).
            let name = names.get(school_id).ok_or_else(|| {
                EwsError::io(
                    dir,
                    std::io::Error::other("a school has no file name (a bug in ews)"),
                )
            })?;
            let waiting: Vec<Vec<String>> = listed(&unserved, school_id)
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let row = scored[i].row;
                    let plan = &plans[row];
                    let mut cells = who(k + 1, i);
                    cells.extend([
                        if recovery::is_candidate(plan) {
                            "yes"
                        } else {
                            "no"
                        }
                        .to_string(),
                        follow.attention_since[row]
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                        follow.days_needing[row].to_string(),
                        plan.courses_to_recover.join("; "),
                        plan.courses_at_risk.join("; "),
                        change(i),
                    ]);
                    cells.extend(decision_of(i));
                    cells.push(reason_of(i));
                    cells
                })
                .collect();
            let bom = config.output.csv_bom;
            write_list(&dir.join("schools"), name, &COLUMNS, &rows, bom)?;
            write_list(
                &dir.join("prevention"),
                name,
                &PREVENTION_COLUMNS,
                &at_risk,
                bom,
            )?;
            write_list(
                &dir.join("unserved"),
                name,
                &UNSERVED_COLUMNS,
                &waiting,
                bom,
            )?;
            let workbook = crate::outputs::workbook::school_workbook(
                [
                    (&COLUMNS, &rows),
                    (&PREVENTION_COLUMNS, &at_risk),
                    (&UNSERVED_COLUMNS, &waiting),
                ],
                as_of,
            )
            .map_err(|e| EwsError::io(dir.join("schools"), std::io::Error::other(e)))?;
            let file = workbook_name(name);
            create_new(&dir.join("schools"), &file, |f| f.write_all(&workbook))?;
            Ok((list.len(), at_risk.len(), waiting.len()))
        });
    let written: Vec<(usize, usize, usize)> = written.collect::<Result<_>>()?;
    let mut counts = SchoolCounts::default();
    for ((school_id, _), (candidates, at_risk, waiting)) in schools.iter().zip(written) {
        counts.candidates.insert(school_id.to_string(), candidates);
        counts.prevention.insert(school_id.to_string(), at_risk);
        counts.unserved.insert(school_id.to_string(), waiting);
    }
    Ok(counts)
}

/// The workbook's file name beside a school's CSV: `001.csv` → `001.xlsx`.
pub fn workbook_name(csv_name: &str) -> String {
    format!("{}.xlsx", csv_name.strip_suffix(".csv").unwrap_or(csv_name))
}

/// Creates `folder/name` (and `folder`), a new file, never an earlier one replaced (two
/// schools in one file would be a bug), and writes it with `write`. Errors name the folder,
/// not the file: its name is made of a school id, a value of students.csv.
fn create_new(
    folder: &Path,
    name: &str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    std::fs::create_dir_all(folder).map_err(|e| EwsError::io(folder, e))?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(folder.join(name))
        .map_err(|e| EwsError::io(folder, e))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)
        .and_then(|_| out.flush())
        .map_err(|e| EwsError::io(folder, e))
}

/// Writes one school's list into `folder` (created when absent) as `name`: its header and
/// rows, every cell safe to open in a spreadsheet, after a UTF-8 byte-order mark when `bom`
/// (`output.csv_bom`: Excel on Windows then reads the file as UTF-8).
fn write_list(
    folder: &Path,
    name: &str,
    columns: &[&str],
    rows: &[Vec<String>],
    bom: bool,
) -> Result<()> {
    create_new(folder, name, |out| {
        if bom {
            out.write_all(crate::io::text::UTF8_BOM)?;
        }
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(columns)?;
        // A row's cells beyond the columns (the decision's reason) are the workbook's only.
        for cells in rows {
            writer.write_record(
                cells
                    .iter()
                    .take(columns.len())
                    .map(|c| spreadsheet_safe(c).into_owned()),
            )?;
        }
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ids: &[&str]) -> BTreeMap<String, String> {
        school_file_names(ids.iter().copied())
    }

    /// Whether every name is a distinct, safe file name, also ignoring case.
    fn assert_distinct_and_safe(names: &BTreeMap<String, String>) {
        let folded: std::collections::BTreeSet<String> =
            names.values().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(folded.len(), names.len(), "{names:?}");
        for name in names.values() {
            let stem = name.strip_suffix(".csv").unwrap();
            assert!(!stem.is_empty(), "{names:?}");
            assert!(
                stem.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{name}"
            );
            assert!(name.len() <= MAX_SCHOOL_NAME_CHARS + 1 + 64 + 4, "{name}");
        }
    }

    #[test]
    fn a_safe_id_alone_keeps_its_plain_name() {
        let got = names(&["001", "002", "Lincoln-HS_2"]);
        assert_eq!(got["001"], "001.csv");
        assert_eq!(got["002"], "002.csv");
        assert_eq!(got["Lincoln-HS_2"], "Lincoln-HS_2.csv");
    }

    #[test]
    fn ids_that_sanitise_alike_get_distinct_hashed_names() {
        // SHA-256 of the ids (`printf %s 'A/B' | sha256sum`), first 8 hex digits.
        let got = names(&["A/B", "A_B", "A.B", "École", "_cole", "001"]);
        assert_eq!(got["A/B"], "A_B-998d3ed8.csv");
        assert_eq!(got["A_B"], "A_B-6c1908f9.csv", "its stem collides");
        assert_eq!(got["A.B"], "A_B-4b861d8b.csv");
        assert_eq!(got["École"], "_cole-8bbd461e.csv");
        assert_eq!(got["_cole"], "_cole-af85f85f.csv", "its stem collides");
        assert_eq!(got["001"], "001.csv");
        assert_distinct_and_safe(&got);
        // The same ids in another order, or with repeats, give the same names.
        assert_eq!(
            names(&["001", "_cole", "École", "A.B", "A_B", "A/B", "A/B"]),
            got
        );
    }

    #[test]
    fn a_changed_id_is_suffixed_even_without_a_collision() {
        let got = names(&["A/B"]);
        assert_eq!(got["A/B"], "A_B-998d3ed8.csv");
        // Punctuation only: no letter or digit left for a stem.
        assert_eq!(names(&["..."])["..."], "school-ab5df625.csv");
        // A Windows device name keeps its letters but not its bare name.
        assert_eq!(names(&["NUL"])["NUL"], "NUL-ae6de182.csv");
    }

    #[test]
    fn ids_equal_ignoring_case_get_names_that_differ_ignoring_case() {
        let got = names(&["HS1", "hs1"]);
        assert_eq!(got["HS1"], "HS1-8c365898.csv");
        assert_eq!(got["hs1"], "hs1-bee32e9d.csv");
        assert_distinct_and_safe(&got);
        // Alone, each keeps its plain name.
        assert_eq!(names(&["HS1"])["HS1"], "HS1.csv");
    }

    #[test]
    fn a_long_id_is_cut_and_suffixed() {
        let long = "x".repeat(300);
        let got = names(&[long.as_str()]);
        // 64 x's, `-`, the first 8 hex digits of SHA-256 of the 300 x's, `.csv`.
        assert_eq!(got[&long], format!("{}-0d4e2ca9.csv", "x".repeat(64)));
        assert_eq!(got[&long].len(), 64 + 1 + 8 + 4);
        // Two long ids sharing their first 64 characters stay apart.
        let other = format!("{}y", "x".repeat(299));
        let got = names(&[long.as_str(), other.as_str()]);
        assert_distinct_and_safe(&got);
    }

    #[test]
    fn an_id_written_as_another_ids_hashed_name_does_not_take_its_file() {
        // `A_B-998d3ed8` is safe and its stem differs from `A_B`: plain. `A/B` would get the
        // same name: it falls back to its whole digest.
        let got = names(&["A/B", "A_B-998d3ed8"]);
        assert_eq!(got["A_B-998d3ed8"], "A_B-998d3ed8.csv");
        let full = &got["A/B"];
        assert!(full.starts_with("A_B-998d3ed8"), "{full}");
        assert_eq!(full.len(), "A_B-".len() + 64 + ".csv".len(), "{full}");
        assert_distinct_and_safe(&got);
        // Also ignoring case.
        let got = names(&["A/B", "a_b-998D3ED8"]);
        assert_eq!(got["a_b-998D3ED8"], "a_b-998D3ED8.csv");
        assert_eq!(got["A/B"].len(), "A_B-".len() + 64 + ".csv".len());
        assert_distinct_and_safe(&got);
    }
}
