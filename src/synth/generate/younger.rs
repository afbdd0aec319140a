//! The younger students of the SIS shapes: elementary (PK–5) and middle (6–8) schools and
//! their students, with what students.csv and attendance need (a latent risk for the
//! attendance draws, no marks, no transcript, no outcome).
//!
//! Why: a real SIS exports the whole district, and the reader must skip the grades it does
//! not score (counted as out of scope, never rejected) without losing the grades it does.

use chrono::Days;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::synth::generate::calendar::{ymd, Calendar};
use crate::synth::generate::draws::{chance, normal, pick, pick_by};
use crate::synth::generate::latent::*;
use crate::synth::generate::population::{School, Student};
use crate::synth::vocabulary::*;

/// The K–8 schools: elementary schools first, then middle schools.
pub(super) struct Younger {
    pub(super) schools: Vec<School>,
    pub(super) elementary: usize,
}

/// K–8 students per snapshot for `students` high-school students.
pub(super) fn k8_students(students: usize) -> usize {
    (students as f64 * K8_SHARE).round() as usize
}

/// The K–8 schools of a district with `high_schools` high schools and `students` K–8
/// students: at least two of each level, so students can move within a level. Their ids
/// continue above every high school's (`101`, `102`, … beside `001`–`099`; `1001`, … beside
/// more).
pub(super) fn make_k8_schools(
    high_schools: usize,
    students: usize,
    rng: &mut ChaCha8Rng,
) -> Younger {
    let elementary_share: f64 = K8_GRADE_SHARES[..ELEMENTARY_GRADES].iter().sum::<f64>()
        / K8_GRADE_SHARES.iter().sum::<f64>();
    let count =
        |share: f64| ((students as f64 * share / STUDENTS_PER_SCHOOL).round() as usize).max(2);
    let (elementary, middle) = (count(elementary_share), count(1.0 - elementary_share));
    let mut base = 100;
    while base <= high_schools {
        base *= 10;
    }
    let named = |names: &[&str], i: usize| {
        let name = names[i % names.len()];
        if i < names.len() {
            name.to_string()
        } else {
            format!("{name} (Campus {})", i / names.len() + 1)
        }
    };
    let schools = (0..elementary + middle)
        .map(|i| {
            let name = if i < elementary {
                named(&ELEMENTARY_NAMES, i)
            } else {
                named(&MIDDLE_NAMES, i - elementary)
            };
            School {
                id: (base + i + 1).to_string(),
                name,
                effect: SCHOOL_EFFECT_SD * normal(rng),
                counselors: (0..2)
                    .map(|k| COUNSELORS[(i * 5 + k + 7) % COUNSELORS.len()])
                    .collect(),
            }
        })
        .collect();
    Younger {
        schools,
        elementary,
    }
}

/// `n` K–8 students of one snapshot; `ids` is the (base, span) of their id block. Each one's
/// `school` indexes `younger.schools`.
pub(super) fn make_k8_students(
    school_year: i32,
    ids: (usize, usize),
    cal: &Calendar,
    younger: &Younger,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Student> {
    let middle = younger.schools.len() - younger.elementary;
    let (id_base, id_span) = ids;
    let stride = (id_span / n.max(1)).clamp(1, 7);
    let mut slots: Vec<usize> = (0..n).collect();
    slots.shuffle(rng);
    let fall = school_year - 1;
    slots
        .into_iter()
        .map(|slot| {
            let level = pick(rng, &K8_GRADE_SHARES);
            let grade = level as i32 - 1;
            let school = if level < ELEMENTARY_GRADES {
                rng.gen_range(0..younger.elementary)
            } else {
                younger.elementary + rng.gen_range(0..middle)
            };
            let gender = GENDERS[pick_by(rng, &GENDERS, |g| g.1)].0;
            let race = RACES[pick_by(rng, &RACES, |r| r.1)];
            let (ell, sped, econ) = (
                chance(rng, race.2),
                chance(rng, P_SPED),
                chance(rng, P_ECON),
            );
            let r = younger.schools[school].effect
                + COEF_ECON * f64::from(u8::from(econ))
                + COEF_ELL * f64::from(u8::from(ell))
                + COEF_SPED * f64::from(u8::from(sped))
                + RISK_NOISE_SD * normal(rng);
            let id = format!("{:08}", id_base + slot * stride + rng.gen_range(0..stride));
            let first = match gender {
                "F" => FIRST_F[rng.gen_range(0..FIRST_F.len())],
                "M" => FIRST_M[rng.gen_range(0..FIRST_M.len())],
                _ if chance(rng, 0.5) => FIRST_F[rng.gen_range(0..FIRST_F.len())],
                _ => FIRST_M[rng.gen_range(0..FIRST_M.len())],
            };
            let last = LAST[rng.gen_range(0..LAST.len())];
            // Age on Sep 1 of the fall term is 5 in KG (4 in PK).
            let age = 5 + grade;
            let first_day = ymd(fall - age - 1, 9, 2);
            let band = (ymd(fall - age, 9, 1) - first_day).num_days().max(0) as u64 + 1;
            let birth = first_day + Days::new(rng.gen_range(0..band));
            let birth = (!chance(rng, BLANK_BIRTH)).then_some(birth);
            let cohort_blank = chance(rng, BLANK_COHORT);
            let counselors = &younger.schools[school].counselors;
            let counselor = counselors[rng.gen_range(0..counselors.len())];
            let entry = if chance(rng, LATE_ENROLL) {
                rng.gen_range(1..LATE_WINDOW.min(cal.days.len()).max(2))
            } else {
                0
            };
            Student {
                id,
                first,
                last,
                school,
                grade,
                birth,
                cohort: school_year + 12 - grade,
                cohort_blank,
                gender,
                race: race.0,
                ell,
                sped,
                econ,
                counselor,
                r,
                p: 0.0,
                r_now: r + R_NOW_SD * normal(rng),
                entry,
                retained: false,
            }
        })
        .collect()
}
