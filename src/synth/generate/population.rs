//! The people of a synthetic district: schools with their effect on risk and their
//! counselors, and students with demographics, a latent risk, ids, names, birth dates and
//! entry days.

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::synth::generate::calendar::{ymd, Calendar};
use crate::synth::generate::draws::{chance, normal, pick, pick_by, sigmoid};
use crate::synth::generate::latent::*;
use crate::synth::vocabulary::*;

pub(super) struct School {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) effect: f64,
    pub(super) counselors: Vec<&'static str>,
}

pub(super) fn make_schools(students: usize, rng: &mut ChaCha8Rng) -> Vec<School> {
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

#[derive(Clone)]
pub(super) struct Student {
    pub(super) id: String,
    pub(super) first: &'static str,
    pub(super) last: &'static str,
    pub(super) school: usize,
    /// Grade 9–12 (-1 is PK and 0 KG for the K–8 students of the SIS shapes).
    pub(super) grade: i32,
    pub(super) birth: Option<NaiveDate>,
    pub(super) cohort: i32,
    pub(super) cohort_blank: bool,
    pub(super) gender: &'static str,
    pub(super) race: &'static str,
    pub(super) ell: bool,
    pub(super) sped: bool,
    pub(super) econ: bool,
    pub(super) counselor: &'static str,
    /// Latent risk (centred).
    pub(super) r: f64,
    /// P(not on time) = sigmoid(a + 2 r).
    pub(super) p: f64,
    /// This year's risk, driving this year's records.
    pub(super) r_now: f64,
    /// Index of the first school day enrolled.
    pub(super) entry: usize,
    /// Retained once: one year older than the grade band.
    pub(super) retained: bool,
}

pub(super) fn make_students(
    school_year: i32,
    id_base: usize,
    cal: &Calendar,
    schools: &[School],
    n: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<Student>, f64) {
    // Pass 1: what the latent risk is made of.
    let mut students: Vec<Student> = (0..n)
        .map(|_| {
            let school = rng.gen_range(0..schools.len());
            let grade = 9 + pick(rng, &GRADE_SHARES) as i32;
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
                cohort: school_year + 12 - grade,
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
        (id_base, ID_SPAN)
    } else {
        (id_base * WIDE_IDS, ID_SPAN * WIDE_IDS)
    };
    let stride = (id_span / n).clamp(1, 7);
    let mut slots: Vec<usize> = (0..n).collect();
    slots.shuffle(rng);

    // Pass 2: everything that depends on the centred risk.
    let fall = school_year - 1;
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
        let age = 14 + (s.grade - 9) + i32::from(s.retained);
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
pub(super) fn intercept_for_rate(risks: &[f64], slope: f64, target: f64) -> f64 {
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
