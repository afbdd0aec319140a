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
//! Output is byte-for-byte reproducible for a given `(students, seed)`: ChaCha8 streams
//! seeded from `seed` (schools, train, current), no hash-map iteration, one thread per
//! snapshot, no clock. Names and ids are invented; some names, a school and two course names
//! carry non-ASCII letters, commas and quotes on purpose, to exercise readers.

mod calendar;
mod draws;
mod latent;
mod population;
mod records;
mod table;

use std::fs;
use std::path::PathBuf;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::io::error::GenerateError;
use crate::synth::generate::calendar::{ymd, Calendar};
use crate::synth::generate::latent::*;
use crate::synth::generate::population::{make_schools, make_students, School};
use crate::synth::generate::records::{
    write_behavior_and_attendance, write_credits, write_grades, write_outcome,
};
use crate::synth::generate::table::Table;
use crate::synth::vocabulary::*;

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Students per snapshot (at least 20).
    pub students: usize,
    /// Seed of the random streams; the same seed gives the same bytes.
    pub seed: u64,
    /// Output folder; `train/`, `current/` and `generator.json` are written inside.
    pub out: PathBuf,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    /// The past year, with outcomes (`<out>/train`).
    pub train: SnapshotSummary,
    /// This year, to be scored (`<out>/current`).
    pub current: SnapshotSummary,
}

/// One snapshot folder.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotSummary {
    /// The snapshot folder.
    pub dir: PathBuf,
    /// The date the snapshot is exported on; no record is dated after it.
    pub as_of: NaiveDate,
    /// Rows of students.csv.
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
}

const TRAIN: Plan = Plan {
    name: "train",
    school_year: 2022,
    as_of: (2022, 3, 15),
    id_base: TRAIN_ID_BASE,
    stream: 1,
    outcomes: true,
};

const CURRENT: Plan = Plan {
    name: "current",
    school_year: 2026,
    as_of: (2026, 3, 13),
    id_base: CURRENT_ID_BASE,
    stream: 2,
    outcomes: false,
};

/// Generates both snapshots and `generator.json` under `options.out`.
pub fn generate(options: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if options.students < MIN_STUDENTS {
        return Err(GenerateError::TooFewStudents(options.students));
    }
    if options.students > MAX_STUDENTS {
        return Err(GenerateError::TooManyStudents(options.students));
    }
    let schools = make_schools(options.students, &mut stream(options.seed, 0));
    // The snapshots draw from their own streams, so writing them at once (one core each)
    // gives the same bytes as one after the other.
    let (train, current) = rayon::join(
        || write_snapshot(&TRAIN, &schools, options),
        || write_snapshot(&CURRENT, &schools, options),
    );
    let ((train, train_facts), (current, current_facts)) = (train?, current?);

    let manifest = Manifest {
        generator: "ews synthetic district, v1",
        seed: options.seed,
        students_per_snapshot: options.students,
        schools: schools
            .iter()
            .map(|s| ManifestSchool {
                school_id: &s.id,
                school_name: &s.name,
                effect: s.effect,
                counselors: &s.counselors,
            })
            .collect(),
        latent_model: LatentModel::CURRENT,
        snapshots: vec![
            ManifestSnapshot::new(&TRAIN, &train, &train_facts),
            ManifestSnapshot::new(&CURRENT, &current, &current_facts),
        ],
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
    Ok(GenerateSummary { train, current })
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
}

struct Tables {
    students: Table,
    attendance: Table,
    grades: Table,
    credits: Table,
    behavior: Table,
    outcomes: Option<Table>,
}

fn write_snapshot(
    plan: &Plan,
    schools: &[School],
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

    let mut t = Tables {
        students: Table::create(&dir, "students.csv", &STUDENTS_HEADER)?,
        attendance: Table::create(&dir, "attendance.csv", &ATTENDANCE_HEADER)?,
        grades: Table::create(&dir, "grades.csv", &GRADES_HEADER)?,
        credits: Table::create(&dir, "credits.csv", &CREDITS_HEADER)?,
        behavior: Table::create(&dir, "behavior.csv", &BEHAVIOR_HEADER)?,
        outcomes: if plan.outcomes {
            Some(Table::create(&dir, "outcomes.csv", &OUTCOMES_HEADER)?)
        } else {
            None
        },
    };

    let yes_no = |b: bool| if b { "Y" } else { "N" };
    let school_year = plan.school_year.to_string();
    let mut suspended = vec![false; cal.days.len()];
    for s in &students {
        let school = &schools[s.school];
        let birth = s.birth.map(|b| b.to_string()).unwrap_or_default();
        let cohort = if s.cohort_blank {
            String::new()
        } else {
            s.cohort.to_string()
        };
        t.students.write([
            s.id.as_str(),
            s.first,
            s.last,
            &school.id,
            &school.name,
            &s.grade.to_string(),
            &birth,
            &cohort,
            s.gender,
            s.race,
            yes_no(s.ell),
            yes_no(s.sped),
            yes_no(s.econ),
            s.counselor,
        ])?;
        write_behavior_and_attendance(
            s,
            school,
            &cal,
            &mut suspended,
            &mut rng,
            &mut t.behavior,
            &mut t.attendance,
        )?;
        write_grades(s, school, &cal, &school_year, &mut rng, &mut t.grades)?;
        write_credits(s, plan.school_year, &mut rng, &mut t.credits)?;
        if let Some(outcomes) = t.outcomes.as_mut() {
            write_outcome(s, cal.as_of, &mut rng, outcomes)?;
        }
    }

    let mut rows = vec![
        t.students.finish()?,
        t.attendance.finish()?,
        t.grades.finish()?,
        t.credits.finish()?,
        t.behavior.finish()?,
    ];
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
    };
    let summary = SnapshotSummary {
        dir,
        as_of: cal.as_of,
        students: students.len(),
        rows,
    };
    Ok((summary, facts))
}

// ---------------------------------------------------------------------------
// generator.json

#[derive(Serialize)]
struct Manifest<'a> {
    generator: &'static str,
    seed: u64,
    students_per_snapshot: usize,
    schools: Vec<ManifestSchool<'a>>,
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
            rows: &summary.rows,
        }
    }
}

#[cfg(test)]
mod tests;
