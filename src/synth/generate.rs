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

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::io::error::GenerateError;
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
// The latent model. Everything random in the district is driven by these numbers;
// they are copied into generator.json.

const MIN_STUDENTS: usize = 20;
const MAX_STUDENTS: usize = 5_000_000;
const STUDENTS_PER_SCHOOL: f64 = 400.0;

const SCHOOL_EFFECT_SD: f64 = 0.35;
const COEF_ECON: f64 = 0.4;
const COEF_ELL: f64 = 0.2;
const COEF_SPED: f64 = 0.25;
const RISK_NOISE_SD: f64 = 1.0;
const OUTCOME_SLOPE: f64 = 2.0;
const TARGET_RATE: f64 = 0.20;
const R_NOW_SD: f64 = 0.35;
const R_PAST_SD: f64 = 0.45;

const P_ECON: f64 = 0.45;
const P_SPED: f64 = 0.13;
const RETAIN: (f64, f64) = (-3.0, 0.9);

const ABSENCE: (f64, f64) = (-3.2, 0.9);
const ABSENCE_DRIFT: f64 = 0.6;
const UNEXCUSED: (f64, f64) = (-0.5, 0.8);
const TARDY: (f64, f64) = (-3.0, 0.5);
const LATE_ENROLL: f64 = 0.05;
const LATE_WINDOW: usize = 40;
const INCIDENTS: (f64, f64) = (-2.0, 0.9);

const PERCENT_MEAN: f64 = 82.0;
const PERCENT_SLOPE: f64 = -10.0;
const PERCENT_NOISE_SD: f64 = 7.0;
const COURSE_SD: f64 = 4.0;
const INCOMPLETE: f64 = 0.005;
const CR_RETAKE: f64 = 0.4;
const CR_PASS: f64 = 0.8;

const BLANK_BIRTH: f64 = 0.01;
const BLANK_COHORT: f64 = 0.01;
const TRANSFER: f64 = 0.05;

const TRAIN_ID_BASE: usize = 500_000;
const CURRENT_ID_BASE: usize = 100_000;
const ID_SPAN: usize = 400_000;
/// Districts larger than [`ID_SPAN`] get id blocks this many times wider (still 8 digits);
/// smaller ones keep the narrow blocks, so their files stay byte-identical.
const WIDE_IDS: usize = 100;

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

struct School {
    id: String,
    name: String,
    effect: f64,
    counselors: Vec<&'static str>,
}

fn make_schools(students: usize, rng: &mut ChaCha8Rng) -> Vec<School> {
    let count = ((students as f64 / STUDENTS_PER_SCHOOL).round() as usize).max(2);
    let per_school = students as f64 / count as f64;
    let counselors = ((per_school / 250.0).round() as usize).clamp(2, 4);
    (0..count)
        .map(|i| {
            let base = SCHOOL_NAMES[i % SCHOOL_NAMES.len()];
            let name = if i < SCHOOL_NAMES.len() {
                base.to_string()
            } else {
                format!("{base} (Campus {})", i / SCHOOL_NAMES.len() + 1)
            };
            School {
                id: format!("{:03}", i + 1),
                name,
                effect: SCHOOL_EFFECT_SD * normal(rng),
                counselors: (0..counselors)
                    .map(|k| COUNSELORS[(i * 3 + k) % COUNSELORS.len()])
                    .collect(),
            }
        })
        .collect()
}

/// Facts about a snapshot that go into generator.json only.
struct SnapshotFacts {
    school_days: usize,
    outcome_intercept: f64,
    retained: usize,
    late_enrollees: usize,
}

struct Student {
    id: String,
    first: &'static str,
    last: &'static str,
    school: usize,
    grade: u32,
    birth: Option<NaiveDate>,
    cohort: i32,
    cohort_blank: bool,
    gender: &'static str,
    race: &'static str,
    ell: bool,
    sped: bool,
    econ: bool,
    counselor: &'static str,
    /// Latent risk (centred).
    r: f64,
    /// P(not on time) = sigmoid(a + 2 r).
    p: f64,
    /// This year's risk, driving this year's records.
    r_now: f64,
    /// Index of the first school day enrolled.
    entry: usize,
    /// Retained once: one year older than the grade band.
    retained: bool,
}

fn make_students(
    plan: &Plan,
    cal: &Calendar,
    schools: &[School],
    n: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<Student>, f64) {
    // Pass 1: what the latent risk is made of.
    let mut students: Vec<Student> = (0..n)
        .map(|_| {
            let school = rng.gen_range(0..schools.len());
            let grade = 9 + pick(rng, &GRADE_SHARES) as u32;
            let gender = GENDERS[pick_by(rng, &GENDERS, |g| g.1)].0;
            let race = RACES[pick_by(rng, &RACES, |r| r.1)];
            let ell = chance(rng, race.2);
            let sped = chance(rng, P_SPED);
            let econ = chance(rng, P_ECON);
            let r = schools[school].effect
                + COEF_ECON * f64::from(u8::from(econ))
                + COEF_ELL * f64::from(u8::from(ell))
                + COEF_SPED * f64::from(u8::from(sped))
                + RISK_NOISE_SD * normal(rng);
            Student {
                id: String::new(),
                first: "",
                last: "",
                school,
                grade,
                birth: None,
                cohort: plan.school_year + 12 - grade as i32,
                cohort_blank: false,
                gender,
                race: race.0,
                ell,
                sped,
                econ,
                counselor: "",
                r,
                p: 0.0,
                r_now: 0.0,
                entry: 0,
                retained: false,
            }
        })
        .collect();
    let mean = students.iter().map(|s| s.r).sum::<f64>() / n as f64;
    for s in &mut students {
        s.r -= mean;
    }
    let risks: Vec<f64> = students.iter().map(|s| s.r).collect();
    let intercept = intercept_for_rate(&risks, OUTCOME_SLOPE, TARGET_RATE);

    // Ids: a shuffled, strided block so that ids are neither the row order nor consecutive.
    let (id_base, id_span) = if n <= ID_SPAN {
        (plan.id_base, ID_SPAN)
    } else {
        (plan.id_base * WIDE_IDS, ID_SPAN * WIDE_IDS)
    };
    let stride = (id_span / n).clamp(1, 7);
    let mut slots: Vec<usize> = (0..n).collect();
    slots.shuffle(rng);

    // Pass 2: everything that depends on the centred risk.
    let fall = plan.school_year - 1;
    for (s, slot) in students.iter_mut().zip(slots) {
        s.id = format!("{:08}", id_base + slot * stride + rng.gen_range(0..stride));
        s.first = match s.gender {
            "F" => FIRST_F[rng.gen_range(0..FIRST_F.len())],
            "M" => FIRST_M[rng.gen_range(0..FIRST_M.len())],
            _ if chance(rng, 0.5) => FIRST_F[rng.gen_range(0..FIRST_F.len())],
            _ => FIRST_M[rng.gen_range(0..FIRST_M.len())],
        };
        s.last = LAST[rng.gen_range(0..LAST.len())];
        s.p = sigmoid(intercept + OUTCOME_SLOPE * s.r);
        s.r_now = s.r + R_NOW_SD * normal(rng);

        s.retained = chance(rng, sigmoid(RETAIN.0 + RETAIN.1 * s.r));
        // Age on Sep 1 of the fall term is 14 + (grade - 9), one more if retained once.
        let age = 14 + (s.grade as i32 - 9) + i32::from(s.retained);
        let first_day = ymd(fall - age - 1, 9, 2);
        let band = (ymd(fall - age, 9, 1) - first_day).num_days().max(0) as u64 + 1;
        let birth = first_day + Days::new(rng.gen_range(0..band));
        s.birth = (!chance(rng, BLANK_BIRTH)).then_some(birth);
        s.cohort_blank = chance(rng, BLANK_COHORT);

        let counselors = &schools[s.school].counselors;
        let letter = s
            .last
            .chars()
            .next()
            .filter(char::is_ascii_uppercase)
            .map_or(0, |c| (c as usize) - ('A' as usize));
        s.counselor = counselors[letter * counselors.len() / 26];

        if chance(rng, LATE_ENROLL) {
            s.entry = rng.gen_range(1..LATE_WINDOW.min(cal.days.len()).max(2));
        }
    }
    (students, intercept)
}

/// The intercept `a` such that the mean of sigmoid(a + slope * r) is `target`.
fn intercept_for_rate(risks: &[f64], slope: f64, target: f64) -> f64 {
    let n = risks.len().max(1) as f64;
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        let mean = risks.iter().map(|r| sigmoid(mid + slope * r)).sum::<f64>() / n;
        if mean < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One CSV file being written.
struct Table {
    name: &'static str,
    path: PathBuf,
    writer: csv::Writer<File>,
    rows: usize,
}

impl Table {
    fn create(dir: &Path, name: &'static str, header: &[&str]) -> Result<Self, GenerateError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(file);
        let mut table = Table {
            name,
            path,
            writer,
            rows: 0,
        };
        table.write(header)?;
        table.rows = 0;
        Ok(table)
    }

    fn write<I, T>(&mut self, record: I) -> Result<(), GenerateError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.rows += 1;
        self.writer
            .write_record(record)
            .map_err(|source| GenerateError::Csv {
                path: self.path.clone(),
                source,
            })
    }

    fn finish(mut self) -> Result<(String, usize), GenerateError> {
        self.writer.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok((self.name.to_string(), self.rows))
    }
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
    let (students, intercept) = make_students(plan, &cal, schools, options.students, &mut rng);

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
        write_behavior_and_attendance(s, school, &cal, &mut suspended, &mut rng, &mut t)?;
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

fn write_behavior_and_attendance(
    s: &Student,
    school: &School,
    cal: &Calendar,
    suspended: &mut [bool],
    rng: &mut ChaCha8Rng,
    t: &mut Tables,
) -> Result<(), GenerateError> {
    let n_days = cal.days.len();
    suspended.fill(false);
    if s.entry < n_days {
        let count = poisson(rng, (INCIDENTS.0 + INCIDENTS.1 * s.r_now).exp());
        let mut days: Vec<usize> = (0..count).map(|_| rng.gen_range(s.entry..n_days)).collect();
        days.sort_unstable();
        for day in days {
            let (kind, _, serious) = INCIDENT_TYPES[pick_by(rng, &INCIDENT_TYPES, |i| i.1)];
            let (suspension, length) = if serious {
                ("OSS", rng.gen_range(1..=5usize))
            } else if chance(rng, P_ISS) {
                ("ISS", 1)
            } else {
                ("", 0)
            };
            if suspension == "OSS" {
                for flag in suspended.iter_mut().skip(day + 1).take(length) {
                    *flag = true;
                }
            }
            t.behavior.write([
                s.id.as_str(),
                &cal.labels[day],
                kind,
                suspension,
                &length.to_string(),
            ])?;
        }
    }

    let unexcused = sigmoid(UNEXCUSED.0 + UNEXCUSED.1 * s.r_now);
    let tardy = sigmoid(TARDY.0 + TARDY.1 * s.r_now);
    let days = suspended.iter().zip(&cal.elapsed).zip(&cal.labels);
    for ((&suspended, &elapsed), label) in days.skip(s.entry) {
        let code = if suspended {
            "S"
        } else {
            let absent =
                sigmoid(ABSENCE.0 + ABSENCE.1 * s.r_now + ABSENCE_DRIFT * s.r_now * elapsed);
            // One 64-bit draw per day: the two halves decide absent/present and then the kind.
            let (u, v) = two_uniforms(rng);
            match (u < absent, v) {
                (true, v) if v < unexcused => "A",
                (true, _) => "E",
                (false, v) if v < tardy => "T",
                (false, _) => "P",
            }
        };
        t.attendance
            .write([s.id.as_str(), &school.id, label, code])?;
    }
    Ok(())
}

/// A term percent: 82 - 10 r + N(0, 7) + the course offset, clamped to 0..=100 and rounded.
fn draw_percent(rng: &mut ChaCha8Rng, risk: f64, course_offset: f64) -> f64 {
    (PERCENT_MEAN + PERCENT_SLOPE * risk + PERCENT_NOISE_SD * normal(rng) + course_offset)
        .clamp(0.0, 100.0)
        .round()
}

fn write_grades(
    s: &Student,
    school: &School,
    cal: &Calendar,
    school_year: &str,
    rng: &mut ChaCha8Rng,
    grades: &mut Table,
) -> Result<(), GenerateError> {
    let g = (s.grade - 9) as usize;
    let electives = pick_electives(rng);
    // (course, this student's course offset, its terms), core courses first.
    let courses: Vec<(&Course, f64, &[Term])> = CORE
        .iter()
        .map(|c| (c, &cal.core_terms[..]))
        .chain(
            electives
                .iter()
                .map(|&i| (&ELECTIVES[i], &cal.elective_terms[..])),
        )
        .map(|(c, terms)| (c, COURSE_SD * normal(rng), terms))
        .collect();
    // Posted marks in date order (stable: course order within a date).
    let mut posted: Vec<(&Term, usize)> = courses
        .iter()
        .enumerate()
        .flat_map(|(i, (_, _, terms))| terms.iter().map(move |t| (t, i)))
        .filter(|(t, _)| t.date <= cal.as_of)
        .collect();
    posted.sort_by_key(|(t, _)| t.date);
    for (term, i) in posted {
        let (course, offset, _) = courses[i];
        let (mark, percent) = if chance(rng, INCOMPLETE) {
            (if chance(rng, 0.5) { "I" } else { "W" }, String::new())
        } else {
            let p = draw_percent(rng, s.r_now, offset);
            (letter(p), format!("{p:.0}"))
        };
        grades.write([
            s.id.as_str(),
            &school.id,
            school_year,
            term.name,
            &course_id(course, s.grade),
            course.names[g],
            course.subject,
            mark,
            &percent,
            &term.label,
        ])?;
    }
    Ok(())
}

struct CreditRow {
    school_year: i32,
    term: &'static str,
    course_id: String,
    course_name: String,
    subject: &'static str,
    earned: bool,
    mark: &'static str,
    completed: NaiveDate,
    recovery: bool,
}

fn write_credits(
    s: &Student,
    school_year: i32,
    rng: &mut ChaCha8Rng,
    credits: &mut Table,
) -> Result<(), GenerateError> {
    if s.grade <= 9 {
        return Ok(());
    }
    let mut rows: Vec<CreditRow> = Vec::new();
    // (year index, core course index) of each failed core course.
    let mut failures: Vec<(usize, usize)> = Vec::new();
    let past_years: Vec<(u32, i32)> = (9..s.grade)
        .map(|g| (g, school_year - (s.grade - g) as i32))
        .collect();
    for (index, &(grade, year)) in past_years.iter().enumerate() {
        let r_past = s.r + R_PAST_SD * normal(rng);
        let electives = pick_electives(rng);
        let courses = CORE
            .iter()
            .enumerate()
            .map(|(i, c)| (Some(i), c))
            .chain(electives.iter().map(|&i| (None, &ELECTIVES[i])));
        for (core, course) in courses {
            let offset = COURSE_SD * normal(rng);
            let percent = draw_percent(rng, r_past, offset);
            let mark = letter(percent);
            if mark == "F" {
                if let Some(c) = core {
                    failures.push((index, c));
                }
            }
            rows.push(CreditRow {
                school_year: year,
                term: "Y",
                course_id: course_id(course, grade),
                course_name: course.names[(grade - 9) as usize].to_string(),
                subject: course.subject,
                earned: mark != "F",
                mark,
                completed: ymd(year, 6, 12),
                recovery: false,
            });
        }
    }
    for (index, core) in failures {
        let later = index + 1..past_years.len();
        if later.is_empty() || !chance(rng, CR_RETAKE) {
            continue;
        }
        let (_, year) = past_years[rng.gen_range(later)];
        let (grade, _) = past_years[index];
        let course = &CORE[core];
        let original = course_id(course, grade);
        let passed = chance(rng, CR_PASS);
        let mark = if passed {
            letter((72.0 + 5.0 * normal(rng)).clamp(60.0, 100.0).round())
        } else {
            "F"
        };
        rows.push(CreditRow {
            school_year: year,
            term: "S1",
            course_id: format!("9{}", &original[original.len() - 4..]),
            course_name: format!("CR {}", course.names[(grade - 9) as usize]),
            subject: course.subject,
            earned: passed,
            mark,
            completed: ymd(year, 1, 20),
            recovery: true,
        });
    }
    rows.sort_by_key(|r| r.completed);
    for row in rows {
        credits.write([
            s.id.as_str(),
            &row.school_year.to_string(),
            row.term,
            &row.course_id,
            &row.course_name,
            row.subject,
            "1.0",
            if row.earned { "1.0" } else { "0.0" },
            row.mark,
            &row.completed.to_string(),
            if row.recovery { "Y" } else { "N" },
        ])?;
    }
    Ok(())
}

fn write_outcome(
    s: &Student,
    as_of: NaiveDate,
    rng: &mut ChaCha8Rng,
    outcomes: &mut Table,
) -> Result<(), GenerateError> {
    let at_risk = chance(rng, s.p);
    let transferred = chance(rng, TRANSFER);
    let cohort_end = ymd(s.cohort, 8, 31);
    let (outcome, date) = if transferred {
        let date = (as_of + Days::new(rng.gen_range(14..=730))).min(ymd(s.cohort, 8, 30));
        ("transferred_out", date)
    } else if at_risk {
        let u: f64 = rng.gen();
        let outcome = if u < 0.40 {
            "dropped_out"
        } else if u < 0.75 {
            "graduated_late"
        } else {
            "still_enrolled"
        };
        (outcome, cohort_end)
    } else {
        ("graduated_on_time", cohort_end)
    };
    outcomes.write([s.id.as_str(), outcome, &date.to_string()])
}

/// 2 or 3 distinct electives, in list order.
fn pick_electives(rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut all: Vec<usize> = (0..ELECTIVES.len()).collect();
    all.shuffle(rng);
    all.truncate(rng.gen_range(2..=3));
    all.sort_unstable();
    all
}

fn course_id(course: &Course, grade: u32) -> String {
    format!("{:05}", course.code * 1000 + grade)
}

fn letter(percent: f64) -> &'static str {
    const SCALE: [(f64, &str); 11] = [
        (93.0, "A"),
        (90.0, "A-"),
        (87.0, "B+"),
        (83.0, "B"),
        (80.0, "B-"),
        (77.0, "C+"),
        (73.0, "C"),
        (70.0, "C-"),
        (67.0, "D+"),
        (63.0, "D"),
        (60.0, "D-"),
    ];
    SCALE
        .iter()
        .find(|(cut, _)| percent >= *cut)
        .map_or("F", |(_, mark)| mark)
}

// ---------------------------------------------------------------------------
// The school calendar.

struct Calendar {
    as_of: NaiveDate,
    /// School days from the first day up to and including the as-of date.
    days: Vec<NaiveDate>,
    /// `days` as ISO strings.
    labels: Vec<String>,
    /// Fraction of the school year (first day .. June 12) elapsed on each school day.
    elapsed: Vec<f64>,
    /// Marking periods of the year-long core courses.
    core_terms: Vec<Term>,
    /// Marking periods of the semester electives.
    elective_terms: Vec<Term>,
}

/// A marking period and the day its marks are posted.
struct Term {
    name: &'static str,
    date: NaiveDate,
    /// `date` as ISO.
    label: String,
}

impl Calendar {
    fn new(school_year: i32, as_of: NaiveDate) -> Self {
        let fall = school_year - 1;
        let aug20 = ymd(fall, 8, 20);
        let from_monday = u64::from(aug20.weekday().num_days_from_monday());
        let first = if from_monday <= 3 {
            aug20 - Days::new(from_monday)
        } else {
            aug20 + Days::new(7 - from_monday)
        };
        let year_end = ymd(school_year, 6, 12);
        let labor_day = nth_weekday(fall, 9, Weekday::Mon, 1);
        let thanksgiving = nth_weekday(fall, 11, Weekday::Thu, 4);
        let mlk_day = nth_weekday(school_year, 1, Weekday::Mon, 3);
        let spring_break = nth_weekday(school_year, 3, Weekday::Mon, 1);
        let breaks = [
            (labor_day, labor_day),
            (thanksgiving, thanksgiving + Days::new(1)),
            (ymd(fall, 12, 22), ymd(school_year, 1, 2)),
            (mlk_day, mlk_day),
            (spring_break, spring_break + Days::new(4)),
        ];
        let span = (year_end - first).num_days().max(1) as f64;
        let days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= as_of)
            .filter(|d| d.weekday().num_days_from_monday() < 5)
            .filter(|d| !breaks.iter().any(|(a, b)| a <= d && d <= b))
            .collect();
        let elapsed = days
            .iter()
            .map(|d| ((*d - first).num_days() as f64 / span).clamp(0.0, 1.0))
            .collect();
        let labels = days.iter().map(NaiveDate::to_string).collect();

        let q1 = last_weekday(fall, 10, Weekday::Fri);
        let q2 = mlk_day - Days::new(3);
        let q3 = nth_weekday(school_year, 4, Weekday::Mon, 1) + Days::new(4);
        let term = |name, date: NaiveDate| Term {
            name,
            date,
            label: date.to_string(),
        };
        Calendar {
            as_of,
            days,
            labels,
            elapsed,
            core_terms: vec![
                term("Q1", q1),
                term("Q2", q2),
                term("Q3", q3),
                term("Q4", year_end),
            ],
            elective_terms: vec![term("S1", q2), term("S2", year_end)],
        }
    }
}

/// A calendar date. Only called with real month/day pairs (no Feb 29, no day 31 of a
/// 30-day month) for years near the snapshot years, where chrono cannot fail; the fallback
/// is unreachable.
fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// The `n`-th (1-based) `weekday` of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u64) -> NaiveDate {
    let first = ymd(year, month, 1);
    let offset = (7 + u64::from(weekday.num_days_from_monday())
        - u64::from(first.weekday().num_days_from_monday()))
        % 7;
    first + Days::new(offset + 7 * (n - 1))
}

/// The last `weekday` of a 31-day month.
fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let last = ymd(year, month, 31);
    let back = (7 + u64::from(last.weekday().num_days_from_monday())
        - u64::from(weekday.num_days_from_monday()))
        % 7;
    last - Days::new(back)
}

// ---------------------------------------------------------------------------
// Random helpers.

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// Two independent uniforms in [0, 1) with 32 bits each, from one 64-bit draw (the daily
/// attendance loop is the generator's hot path).
fn two_uniforms(rng: &mut ChaCha8Rng) -> (f64, f64) {
    const SCALE: f64 = 1.0 / 4_294_967_296.0;
    let x = rng.next_u64();
    ((x >> 32) as f64 * SCALE, (x & 0xffff_ffff) as f64 * SCALE)
}

/// Knuth's Poisson sampler; the mean is capped at 30, far above anything the model asks for.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    let limit = (-mean.clamp(0.0, 30.0)).exp();
    let mut product: f64 = rng.gen();
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= rng.gen::<f64>();
    }
    count
}

/// An index drawn with probability proportional to `weights`.
fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    pick_by(rng, weights, |w| *w)
}

fn pick_by<T>(rng: &mut ChaCha8Rng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.gen::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        let w = weight(item);
        if x < w {
            return i;
        }
        x -= w;
    }
    items.len().saturating_sub(1)
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

#[derive(Serialize)]
struct LatentModel {
    risk: &'static str,
    school_effect_sd: f64,
    econ: f64,
    ell: f64,
    sped: f64,
    noise_sd: f64,
    outcome: &'static str,
    outcome_slope: f64,
    target_rate: f64,
    r_now_sd: f64,
    r_past_sd: f64,
    retained: [f64; 2],
    absence: [f64; 3],
    unexcused_share: [f64; 2],
    tardy: [f64; 2],
    late_enroll_share: f64,
    incidents_log_mean: [f64; 2],
    percent: [f64; 4],
    incomplete_share: f64,
    credit_recovery_retake: f64,
    credit_recovery_pass: f64,
    transfer_share: f64,
}

impl LatentModel {
    const CURRENT: LatentModel = LatentModel {
        risk: "r = school_effect + 0.4*econ + 0.2*ell + 0.25*sped + N(0,1), centred per snapshot",
        school_effect_sd: SCHOOL_EFFECT_SD,
        econ: COEF_ECON,
        ell: COEF_ELL,
        sped: COEF_SPED,
        noise_sd: RISK_NOISE_SD,
        outcome: "P(not on time) = sigmoid(a + 2.0*r); records use r_now = r + N(0, 0.35)",
        outcome_slope: OUTCOME_SLOPE,
        target_rate: TARGET_RATE,
        r_now_sd: R_NOW_SD,
        r_past_sd: R_PAST_SD,
        retained: [RETAIN.0, RETAIN.1],
        absence: [ABSENCE.0, ABSENCE.1, ABSENCE_DRIFT],
        unexcused_share: [UNEXCUSED.0, UNEXCUSED.1],
        tardy: [TARDY.0, TARDY.1],
        late_enroll_share: LATE_ENROLL,
        incidents_log_mean: [INCIDENTS.0, INCIDENTS.1],
        percent: [PERCENT_MEAN, PERCENT_SLOPE, PERCENT_NOISE_SD, COURSE_SD],
        incomplete_share: INCOMPLETE,
        credit_recovery_retake: CR_RETAKE,
        credit_recovery_pass: CR_PASS,
        transfer_share: TRANSFER,
    };
}

#[cfg(test)]
mod tests;
