//! Synthetic district generator (`ews generate`).
//!
//! Writes two snapshots of a made-up high-school district in the canonical SIS layout of
//! the input contract (students, attendance, grades, credits, behavior):
//!
//! - `train/`: school year 2021-22 as of 2022-03-15, plus `outcomes.csv`, because every
//!   one of those students' cohorts has ended (by 2025-08-31 at the latest);
//! - `current/`: school year 2025-26 as of 2026-03-13, to be scored;
//! - `generator.json`: seed, sizes, as-of dates, rows per file and the coefficients below.
//!
//! Why: a real district's truth is unknown, so nothing tells a good model from a bad one.
//! Here every student has a known latent risk
//! `r = school effect + 0.4 econ + 0.2 ell + 0.25 sped + N(0, 1)` (centred), the outcome is
//! drawn with `P(not on time) = sigmoid(a + 2 r)` (`a` set so the mean is 20%), and this
//! year's records (attendance, marks, discipline) come from `r_now = r + N(0, 0.35)`, past
//! transcripts from `r + N(0, 0.45)` per year. A model that reads the records well recovers
//! `r`; the demographic columns are deliberately too weak a signal to be a shortcut.
//!
//! With `--shape sis` or `--shape sis-daily` ([`Shape`]) the same high-school students are
//! written the way real SIS exports are (module `sis`): K–8 students and schools besides,
//! enrollment spans and school calendars (`enrollment`), exception-only attendance with partial
//! days and `snapshot.toml` (`sis`), or daily attendance on membership days (`sis-daily`),
//! and in both class-period absences of grades 6–12 in period_attendance.csv (`periods`).
//! Their extra draws come from streams of their own, so the high-school students' own stream
//! draws what the canonical shape draws; the canonical shape's files do not change.
//!
//! Marks in the SIS shapes (`terms`): real SIS post a grading period's mark and the marks that
//! cover it, so grades.csv has, per year-long core course, Q1, then Q2 with the semester mark
//! S1 on one day, Q3, then Q4 with S2 and the year mark Y on the last day, and per semester
//! elective its two quarters and its semester mark with the second one; each mark only once
//! posted by the as-of date, and every row with the course's `credits` (1 core, 0.5 elective).
//! The quarters are the canonical shape's draws; a covering mark's percent is the mean of the
//! percents it covers plus N(0, 2) cut at ±5, rounded and lettered like the others, so a failed
//! semester typically has a failed quarter but not always both. As of mid-March (both
//! snapshots) that is Q1, Q2 and S1.
//!
//! With `--marking-periods six-weeks` ([`MarkingPeriods`]) every shape, the canonical one too,
//! posts six-week marks instead: per core course W1, W2, W3 with S1 on W3's day, W4, W5, W6
//! with S2 and Y on W6's day; per elective its semester's three and its semester mark with the
//! third (the days are each semester in three, on school days). As of mid-March that is W1,
//! W2, W3, S1 and W4. The six-week marks posted on a canonical mark's day are those draws,
//! the others and the covering marks come from the snapshot's marks stream, so only grades.csv
//! differs from the quarters' district (and generator.json says `marking_periods`).
//!
//! With `--history-years K` (module `history`) each snapshot also carries the K
//! school years before its own. With `--format parquet` (module `table`) every file is Parquet,
//! with the same rows and text values as the CSV.
//!
//! Output is byte-for-byte reproducible for a given `(students, seed, shape, marking
//! periods, history years)` (in Parquet, the same values; the bytes are the Parquet writer's): ChaCha8 streams seeded from `seed` (schools, train, current, and the SIS shapes'
//! and six-week marks' own), no hash-map iteration, one thread per snapshot, no clock. Names and ids are invented; some names, a
//! school and two course names carry non-ASCII letters, commas and quotes on purpose, to
//! exercise readers.

mod calendar;
mod draws;
mod enrollment;
mod history;
mod latent;
mod periods;
mod population;
mod records;
mod sis;
mod table;
mod terms;
mod younger;

use std::fs;
use std::path::PathBuf;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{ymd, Calendar};
use crate::synth::generate::history::{History, HistoryTables};
use crate::synth::generate::latent::*;
use crate::synth::generate::population::{make_schools, make_students, School};
use crate::synth::generate::records::{
    write_behavior_and_attendance, write_credits, write_outcome, write_student, Daily,
};
use crate::synth::generate::sis::{grade_label, SisCounts, SisPlan, SisSnapshot};
use crate::synth::generate::table::Table;
use crate::synth::generate::terms::{write_grades, Posting};
use crate::synth::generate::younger::{k8_students, make_k8_schools, Younger};
use crate::synth::vocabulary::*;

pub use crate::synth::generate::history::MAX_HISTORY_YEARS;
pub use crate::synth::generate::sis::Shape;
pub use crate::synth::generate::table::FileFormat;
pub use crate::synth::generate::terms::MarkingPeriods;

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Students per snapshot (at least 20).
    pub students: usize,
    /// Seed of the random streams; the same seed gives the same bytes.
    pub seed: u64,
    /// Output folder; `train/`, `current/` and `generator.json` are written inside.
    pub out: PathBuf,
    /// The shape of the files (the canonical layout, or a real SIS export's).
    pub shape: Shape,
    /// The marking periods of grades.csv (quarters, or six weeks in every shape).
    pub marking_periods: MarkingPeriods,
    /// Earlier school years written with each snapshot (module `history`; at most
    /// [`MAX_HISTORY_YEARS`]).
    pub history_years: u32,
    /// CSV, or Parquet for districts whose CSV would not fit the disk.
    pub format: FileFormat,
    /// Both snapshots, or one of them for a disk that cannot hold both at once.
    pub snapshots: Snapshots,
}

/// Which snapshots [`generate`] writes. Each draws from its own random streams, so a snapshot
/// written alone is the same bytes as when written with the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Snapshots {
    /// `train/` and `current/`.
    #[default]
    Both,
    /// `train/` only (the past year, with outcomes): what `ews train` reads.
    Train,
    /// `current/` only (this year): what `ews score` reads.
    Current,
}

impl Snapshots {
    fn includes(self, plan: &Plan) -> bool {
        match self {
            Snapshots::Both => true,
            Snapshots::Train => plan.name == TRAIN.name,
            Snapshots::Current => plan.name == CURRENT.name,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    /// The past year, with outcomes (`<out>/train`), unless `--snapshots current`.
    pub train: Option<SnapshotSummary>,
    /// This year, to be scored (`<out>/current`), unless `--snapshots train`.
    pub current: Option<SnapshotSummary>,
}

impl GenerateSummary {
    /// The snapshots written, the past year first.
    pub fn written(&self) -> impl Iterator<Item = &SnapshotSummary> {
        self.train.iter().chain(&self.current)
    }
}

/// One snapshot folder.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotSummary {
    /// The snapshot folder.
    pub dir: PathBuf,
    /// The date the snapshot is exported on; no record is dated after it.
    pub as_of: NaiveDate,
    /// Rows of students.csv (with the K–8 students of the SIS shapes).
    pub students: usize,
    /// File name -> data rows written (header not counted), in writing order.
    pub rows: Vec<(String, usize)>,
}

// ---------------------------------------------------------------------------
// Snapshots.

struct Plan {
    name: &'static str,
    school_year: i32,
    as_of: (i32, u32, u32),
    id_base: usize,
    stream: u64,
    outcomes: bool,
    /// The K–8 students' id bases in the SIS shapes: for at most [`ID_SPAN`] of them, and for
    /// more.
    k8_id_bases: (usize, usize),
    /// High-school students may withdraw before the as-of date (SIS shapes).
    withdrawals: bool,
}

/// The SIS shapes' streams: the K–8 schools, and per snapshot (added to its own stream) the
/// high-school students' moves and cohorts, the K–8 students, the covering marks and the
/// class periods.
const K8_SCHOOLS_STREAM: u64 = 3;
const SIDE_STREAM: u64 = 10;
const K8_STREAM: u64 = 20;
/// The SIS shapes' covering marks (and, with six-week marking periods, every shape's six-week
/// and covering marks), and the SIS shapes' class periods, per snapshot.
const MARKS_STREAM: u64 = 30;
const PERIODS_STREAM: u64 = 40;
/// The earlier school years (`--history-years`), per snapshot.
const HISTORY_STREAM: u64 = 50;

const TRAIN: Plan = Plan {
    name: "train",
    school_year: 2022,
    as_of: (2022, 3, 15),
    id_base: TRAIN_ID_BASE,
    stream: 1,
    outcomes: true,
    k8_id_bases: (K8_ID_BASES.1, K8_WIDE_ID_BASES.1),
    withdrawals: false,
};

const CURRENT: Plan = Plan {
    name: "current",
    school_year: 2026,
    as_of: (2026, 3, 13),
    id_base: CURRENT_ID_BASE,
    stream: 2,
    outcomes: false,
    k8_id_bases: (K8_ID_BASES.0, K8_WIDE_ID_BASES.0),
    withdrawals: true,
};

/// Generates the snapshots (both, unless `options.snapshots` says one) and `generator.json`
/// under `options.out`.
pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if options.students < MIN_STUDENTS {
        return Err(GenerateError::TooFewStudents(options.students));
    }
    if options.students > MAX_STUDENTS {
        return Err(GenerateError::TooManyStudents(options.students));
    }
    if options.history_years > MAX_HISTORY_YEARS {
        return Err(GenerateError::TooManyHistoryYears(options.history_years));
    }
    let schools = make_schools(options.students, &mut stream(options.seed, 0));
    let younger = options.shape.is_sis().then(|| {
        let mut rng = stream(options.seed, K8_SCHOOLS_STREAM);
        make_k8_schools(schools.len(), k8_students(options.students), &mut rng)
    });
    let younger = younger.as_ref();
    // The snapshots draw from their own streams, so writing them at once (one core each)
    // gives the same bytes as one after the other, or as one alone.
    let write = |plan: &Plan| {
        options
            .snapshots
            .includes(plan)
            .then(|| write_snapshot(plan, &schools, younger, options))
            .transpose()
    };
    let (train, current) = rayon::join(|| write(&TRAIN), || write(&CURRENT));
    let (train, current) = (train?, current?);
    let six_weeks = options.marking_periods == MarkingPeriods::SixWeeks;

    let manifest = Manifest {
        generator: "ews synthetic district, v1",
        shape: options.shape.is_sis().then(|| options.shape.name()),
        marking_periods: six_weeks.then(|| options.marking_periods.name()),
        history_years: (options.history_years > 0).then_some(options.history_years),
        format: (options.format != FileFormat::Csv).then(|| options.format.name()),
        seed: options.seed,
        students_per_snapshot: options.students,
        schools: listed(&schools),
        k8_schools: younger.map(|y| listed(&y.schools)),
        latent_model: LatentModel {
            sis_shapes: options.shape.is_sis().then_some(SisModel::CURRENT),
            six_weeks: six_weeks.then_some(SixWeekModel::CURRENT),
            history: (options.history_years > 0).then_some(HistoryModel::CURRENT),
            ..LatentModel::CURRENT
        },
        snapshots: [(&TRAIN, &train), (&CURRENT, &current)]
            .into_iter()
            .filter_map(|(plan, written)| {
                let (summary, facts) = written.as_ref()?;
                Some(ManifestSnapshot::new(plan, summary, facts))
            })
            .collect(),
    };
    let path = options.out.join("generator.json");
    let io_err = |source| GenerateError::Io {
        path: path.clone(),
        source,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_err(e.into()))?;
    json.push(b'\n');
    fs::write(&path, json).map_err(io_err)?;
    log::info!(
        "generated {} students per snapshot (seed {}) under {}",
        options.students,
        options.seed,
        options.out.display()
    );
    Ok(GenerateSummary {
        train: train.map(|(summary, _)| summary),
        current: current.map(|(summary, _)| summary),
    })
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Facts about a snapshot that go into generator.json only.
struct SnapshotFacts {
    school_days: usize,
    outcome_intercept: f64,
    retained: usize,
    late_enrollees: usize,
    sis: Option<SisCounts>,
    /// Students given an earlier year (`--history-years`).
    students_with_history: Option<usize>,
}

struct Tables<'a> {
    students: Table,
    sis: Option<SisSnapshot<'a>>,
    attendance: Table,
    grades: Table,
    credits: Table,
    behavior: Table,
    outcomes: Option<Table>,
}

fn write_snapshot<'a>(
    plan: &Plan,
    schools: &'a [School],
    younger: Option<&'a Younger>,
    options: &GenerateOptions,
) -> Result<(SnapshotSummary, SnapshotFacts), GenerateError> {
    let dir = options.out.join(plan.name);
    fs::create_dir_all(&dir).map_err(|source| GenerateError::Io {
        path: dir.clone(),
        source,
    })?;
    let (y, m, d) = plan.as_of;
    let cal = Calendar::new(plan.school_year, ymd(y, m, d));
    let mut rng = stream(options.seed, plan.stream);
    let (students, intercept) = make_students(
        plan.school_year,
        plan.id_base,
        &cal,
        schools,
        options.students,
        &mut rng,
    );

    let create = |name, header: &[&str]| Table::create(&dir, name, header, options.format);
    let mut t = Tables {
        students: create("students.csv", &STUDENTS_HEADER)?,
        sis: match younger {
            Some(younger) => Some(start_sis(plan, schools, younger, &cal, &dir, options)?),
            None => None,
        },
        attendance: match younger {
            Some(_) => create("attendance.csv", &SIS_ATTENDANCE_HEADER)?,
            None => create("attendance.csv", &ATTENDANCE_HEADER)?,
        },
        grades: match younger {
            Some(_) => create("grades.csv", &SIS_GRADES_HEADER)?,
            None => create("grades.csv", &GRADES_HEADER)?,
        },
        credits: create("credits.csv", &CREDITS_HEADER)?,
        behavior: create("behavior.csv", &BEHAVIOR_HEADER)?,
        outcomes: if plan.outcomes {
            Some(create("outcomes.csv", &OUTCOMES_HEADER)?)
        } else {
            None
        },
    };

    let school_year = plan.school_year.to_string();
    // The canonical shape's six-week and covering marks (the SIS shapes' are in `sis`).
    let mut marks = (options.marking_periods == MarkingPeriods::SixWeeks)
        .then(|| stream(options.seed, plan.stream + MARKS_STREAM));
    let mut history = (options.history_years > 0).then(|| {
        let rng = stream(options.seed, plan.stream + HISTORY_STREAM);
        // The SIS shapes write every school's calendar of each earlier year.
        let schools = younger.map(|y| schools.len() + y.schools.len());
        let periods = options.marking_periods;
        History::new(
            options.history_years,
            plan.school_year,
            periods,
            schools,
            rng,
        )
    });
    if let (Some(sis), Some(history)) = (t.sis.as_mut(), history.as_ref()) {
        let (ids, calendar) = sis.calendar_parts();
        history.write_calendars(ids, calendar)?;
    }
    let mut suspended = vec![false; cal.days.len()];
    let written = |cohort: i32, blank: bool| match blank {
        true => String::new(),
        false => cohort.to_string(),
    };
    for s in &students {
        let school = &schools[s.school];
        // The same draws from `rng`, in the same order, in every shape.
        match t.sis.as_mut() {
            None => {
                let cohort = written(s.cohort, s.cohort_blank);
                write_student(&mut t.students, s, school, &s.grade.to_string(), &cohort)?;
                let mut days = Daily {
                    id: &s.id,
                    school: &school.id,
                    labels: &cal.labels,
                    table: &mut t.attendance,
                };
                write_behavior_and_attendance(
                    s,
                    &cal,
                    &mut suspended,
                    &mut rng,
                    &mut t.behavior,
                    &mut days,
                )?;
                let school_on = |_| Some(school.id.as_str());
                let posting = match marks.as_mut() {
                    None => Posting::Canonical,
                    Some(marks) => Posting::SixWeeks {
                        marks,
                        credits: false,
                    },
                };
                let grades = &mut t.grades;
                write_grades(s, school_on, &cal, &school_year, &mut rng, posting, grades)?;
            }
            Some(sis) => {
                let (enrollment, cohort) = sis.enroll_high_school(s, &cal)?;
                let cohort = written(cohort, s.cohort_blank);
                write_student(&mut t.students, s, school, grade_label(s.grade), &cohort)?;
                let mut days = sis.membership(s, &enrollment, &cal, &mut t.attendance);
                write_behavior_and_attendance(
                    s,
                    &cal,
                    &mut suspended,
                    &mut rng,
                    &mut t.behavior,
                    &mut days,
                )?;
                sis.write_grades(s, &enrollment, &cal, &school_year, &mut rng, &mut t.grades)?;
            }
        }
        let transcript = write_credits(s, plan.school_year, &mut rng, &mut t.credits)?;
        if let Some(history) = history.as_mut() {
            let mut tables = HistoryTables {
                attendance: &mut t.attendance,
                grades: &mut t.grades,
                behavior: &mut t.behavior,
            };
            let place = t.sis.as_mut().map(|sis| sis.history_place(s));
            history.write(s, &schools[s.school], &transcript, &mut tables, place)?;
        }
        if let Some(outcomes) = t.outcomes.as_mut() {
            write_outcome(s, cal.as_of, &mut rng, outcomes)?;
        }
    }

    // The K–8 students follow the high-school students in students.csv and attendance.csv.
    if let Some(sis) = t.sis.as_mut() {
        sis.write_younger(&cal, &mut suspended, &mut t.students, &mut t.attendance)?;
    }
    let mut rows = vec![t.students.finish()?];
    let sis_counts = t.sis.as_ref().map(SisSnapshot::counts);
    let mut periods = None;
    if let Some(sis) = t.sis {
        let (days, period_rows) = sis.finish()?;
        rows.extend(days);
        periods = Some(period_rows);
    }
    rows.push(t.attendance.finish()?);
    rows.extend(periods);
    rows.extend([
        t.grades.finish()?,
        t.credits.finish()?,
        t.behavior.finish()?,
    ]);
    if let Some(outcomes) = t.outcomes {
        rows.push(outcomes.finish()?);
    }
    log::info!(
        "{} snapshot as of {}: {} students, {} school days",
        plan.name,
        cal.as_of,
        students.len(),
        cal.days.len()
    );
    let facts = SnapshotFacts {
        school_days: cal.days.len(),
        outcome_intercept: intercept,
        retained: students.iter().filter(|s| s.retained).count(),
        late_enrollees: students.iter().filter(|s| s.entry > 0).count(),
        sis: sis_counts,
        students_with_history: history.map(|h| h.students_with_history),
    };
    let summary = SnapshotSummary {
        dir,
        as_of: cal.as_of,
        students: students.len() + sis_counts.map_or(0, |c| c.k8_students),
        rows,
    };
    Ok((summary, facts))
}

/// The SIS part of a snapshot: its K–8 students and side streams.
fn start_sis<'a>(
    plan: &Plan,
    schools: &'a [School],
    younger: &'a Younger,
    cal: &Calendar,
    dir: &std::path::Path,
    options: &GenerateOptions,
) -> Result<SisSnapshot<'a>, GenerateError> {
    let n = k8_students(options.students);
    let k8_ids = if n <= ID_SPAN {
        (plan.k8_id_bases.0, ID_SPAN)
    } else {
        (plan.k8_id_bases.1, K8_WIDE_SPAN)
    };
    let sis = SisPlan {
        shape: options.shape,
        format: options.format,
        marking_periods: options.marking_periods,
        high: schools,
        younger,
        school_year: plan.school_year,
        k8_ids,
        k8_students: n,
        may_withdraw: plan.withdrawals,
        side: stream(options.seed, plan.stream + SIDE_STREAM),
        k8_rng: stream(options.seed, plan.stream + K8_STREAM),
        marks: stream(options.seed, plan.stream + MARKS_STREAM),
        periods: stream(options.seed, plan.stream + PERIODS_STREAM),
    };
    SisSnapshot::start(sis, cal, dir)
}

// ---------------------------------------------------------------------------
// generator.json

fn listed(schools: &[School]) -> Vec<ManifestSchool<'_>> {
    schools
        .iter()
        .map(|s| ManifestSchool {
            school_id: &s.id,
            school_name: &s.name,
            effect: s.effect,
            counselors: &s.counselors,
        })
        .collect()
}

#[derive(Serialize)]
struct Manifest<'a> {
    generator: &'static str,
    /// The SIS shape written; absent for the canonical shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    shape: Option<&'static str>,
    /// `six-weeks`; absent for quarters.
    #[serde(skip_serializing_if = "Option::is_none")]
    marking_periods: Option<&'static str>,
    /// Earlier school years written (`--history-years`); absent without.
    #[serde(skip_serializing_if = "Option::is_none")]
    history_years: Option<u32>,
    /// `parquet`; absent for CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
    seed: u64,
    students_per_snapshot: usize,
    schools: Vec<ManifestSchool<'a>>,
    /// The elementary and middle schools of the SIS shapes.
    #[serde(skip_serializing_if = "Option::is_none")]
    k8_schools: Option<Vec<ManifestSchool<'a>>>,
    latent_model: LatentModel,
    snapshots: Vec<ManifestSnapshot<'a>>,
}

#[derive(Serialize)]
struct ManifestSchool<'a> {
    school_id: &'a str,
    school_name: &'a str,
    effect: f64,
    counselors: &'a [&'static str],
}

#[derive(Serialize)]
struct ManifestSnapshot<'a> {
    name: &'static str,
    school_year: i32,
    as_of: NaiveDate,
    school_days: usize,
    /// `a` in P(at risk) = sigmoid(a + 2 r), set so the mean P is the target rate.
    outcome_intercept: f64,
    retained_students: usize,
    late_enrollees: usize,
    /// What the SIS shapes add (K–8 students, moves, withdrawals, partial days).
    #[serde(skip_serializing_if = "Option::is_none")]
    sis: Option<SisCounts>,
    /// Students given at least one earlier school year (`--history-years`).
    #[serde(skip_serializing_if = "Option::is_none")]
    students_with_history: Option<usize>,
    rows: &'a [(String, usize)],
}

impl<'a> ManifestSnapshot<'a> {
    fn new(plan: &Plan, summary: &'a SnapshotSummary, facts: &SnapshotFacts) -> Self {
        ManifestSnapshot {
            name: plan.name,
            school_year: plan.school_year,
            as_of: summary.as_of,
            school_days: facts.school_days,
            outcome_intercept: facts.outcome_intercept,
            retained_students: facts.retained,
            late_enrollees: facts.late_enrollees,
            sis: facts.sis,
            students_with_history: facts.students_with_history,
            rows: &summary.rows,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_enrollment;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_periods;
#[cfg(test)]
mod tests_sis;
#[cfg(test)]
mod tests_terms;
#[cfg(test)]
mod tests_weeks;
