//! Credit-recovery plans: per student, credits earned per subject against the graduation
//! requirements, the failed courses still to recover (required subjects short of credits
//! first, then the most recent), the courses of this year at risk of being failed (prevention
//! before recovery), and whether on-time graduation is still reachable at a normal load.
//!
//! Transcript and marks are aggregated by polars; the Rust loops below run over students and
//! over the few failed or at-risk courses, never over attendance or all transcript rows.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use polars::prelude::*;

use crate::config::{Config, Requirements};
use crate::features::FeatureRun;
use crate::io::error::Result;
use crate::io::text::{push_short_number, short_number};

/// A credit-recovery candidate has something to recover: a failed course not yet recovered,
/// fewer credits than expected by now (`credit_deficit_now`), or fewer in a required subject
/// than expected by the start of the grade. Risk alone makes no candidate: see
/// [`is_prevention`].
pub fn is_candidate(plan: &Plan) -> bool {
    !plan.courses_to_recover.is_empty()
        || plan.credit_deficit_now.is_some_and(|d| d > 0.0)
        || plan.required_subject_shortfall > 0.0
}

/// A student for the prevention list: in the medium or high tier (the stable tier:
/// [`crate::outputs::follow_up`]) with nothing to recover; the courses at risk this year and
/// attendance are what to act on.
pub fn is_prevention(tier: crate::model::score::Tier, plan: &Plan) -> bool {
    tier != crate::model::score::Tier::Low && !is_candidate(plan)
}

/// A candidate as the seat order sees it.
pub struct SeatClaim<'a> {
    pub plan: &'a Plan,
    pub risk: f64,
    pub student_id: &'a str,
}

/// A run's recovery seats: each school's candidates in seat order, and who is given a seat.
#[derive(Debug, Default)]
pub struct Seats {
    /// Each school's credit-recovery candidates in seat order: indices of `scored` (in rank
    /// order), by school id. A school with students but no candidate has an empty list.
    pub lists: BTreeMap<String, Vec<usize>>,
    /// Per row of the feature table: a candidate given a seat (`Some(true)`, the counselor
    /// files' `within_capacity`), a candidate without one (`Some(false)`), no candidate
    /// (`None`). The equity audit's seat allocation.
    pub seated: Vec<Option<bool>>,
    /// Per row, the places a candidate is given in `[recovery.seats]`, in the order of their
    /// needs: "Algebra I online (S2 2026): ALG1 Algebra I".
    pub places: FxHashMap<usize, Vec<String>>,
    /// The use of each `[recovery.seats]` offering, by name.
    pub offerings: Vec<OfferingUse>,
}

/// How one `[recovery.seats]` offering was used by a run.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferingUse {
    pub name: String,
    /// Its school; none for all schools.
    pub school_id: Option<String>,
    /// Its session, in the school year: "S2 2026", "summer 2026".
    pub session: String,
    /// Whether the session ended before the as-of date: then none of its seats is given.
    pub ended: bool,
    pub seats: usize,
    /// Seats given.
    pub given: usize,
    /// Candidates with a need it could have met who got no seat for that need (in it or
    /// elsewhere): the demand its seats did not cover.
    pub wanting: usize,
}

/// A `[recovery.seats]` offering as the allocation sees it.
struct Offering<'a> {
    name: &'a str,
    definition: &'a crate::config::SeatOffering,
    /// Index of its session in the run's sessions.
    session: usize,
    /// Open: its session has not ended.
    open: bool,
    /// Places left.
    left: usize,
}

/// The credit-recovery candidates of a run in seat order ([`seat_order`]), each school's list,
/// and the seats they are given (`recovery.seats_by_school`, `[recovery.seats]`).
/// `schools[i]` and `ids[i]` are the school and student id of `scored[i]`; `rows` is the
/// height of the feature table.
///
/// Candidates take seats one by one in seat order across the district (one order: a school's
/// list is the district's order restricted to it), so a district-wide offering goes to the most
/// urgent candidates of every school:
/// - a school at its `seats_by_school` (students given a seat) gives no more;
/// - without `[recovery.seats]`, a candidate under the school's limit (or of a school without
///   one) is given a seat;
/// - with it, each of a candidate's needs, in order ([`NeedKind`]), takes a place in the most
///   specific open offering that covers it ([`covers`]: its course, then its subject, then
///   any), of the candidate's school or all schools, with places left, not already the
///   candidate's, and within the candidate's slots for its session (`slots_per_term`,
///   `summer_slots`: the credits it recovers count); earliest session, then name, break ties.
///   A candidate with at least one place is seated.
pub fn seats(
    scored: &[crate::model::score::ScoredStudent],
    plans: &[Plan],
    schools: &[&str],
    ids: &[&str],
    rows: usize,
    when: (chrono::NaiveDate, i32),
    config: &Config,
) -> Seats {
    let (as_of, school_year) = when;
    let mut district: Vec<usize> = (0..scored.len())
        .filter(|&i| is_candidate(&plans[scored[i].row]))
        .collect();
    let claim = |i: usize| SeatClaim {
        plan: &plans[scored[i].row],
        risk: scored[i].risk,
        student_id: ids[i],
    };
    district.sort_by(|&a, &b| seat_order(&claim(a), &claim(b), config));
    let mut lists: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for school in schools {
        // Every school gets a list (its files), an empty one without candidates.
        if !lists.contains_key(*school) {
            lists.insert(school.to_string(), Vec::new());
        }
    }
    for &i in &district {
        if let Some(list) = lists.get_mut(schools[i]) {
            list.push(i);
        }
    }

    // The sessions of the offerings: a recovery term of this school year with its end, or the
    // summer (after the school year: never ended on an as-of date inside it).
    let term_end = |term: &str| {
        config
            .term_end(term)
            .map(|end| config.in_school_year(end, school_year))
    };
    let next_term = config
        .recovery
        .terms
        .iter()
        .filter_map(|t| Some((term_end(t)?, t.as_str())))
        .filter(|(end, _)| *end > as_of)
        .min()
        .map(|(_, t)| t);
    let mut sessions: Vec<(Option<chrono::NaiveDate>, String)> = Vec::new();
    let mut offerings: Vec<Offering> = Vec::new();
    for (name, definition) in &config.recovery.seats {
        let term = definition
            .session
            .as_deref()
            .or(next_term)
            .unwrap_or(crate::config::SUMMER_SESSION);
        let end = (term != crate::config::SUMMER_SESSION)
            .then(|| term_end(term))
            .flatten();
        let label = format!("{term} {school_year}");
        let session = match sessions.iter().position(|(_, l)| *l == label) {
            Some(k) => k,
            None => {
                sessions.push((end, label));
                sessions.len() - 1
            }
        };
        let open = end.is_none_or(|end| end > as_of);
        offerings.push(Offering {
            name,
            definition,
            session,
            open,
            left: if open { definition.seats } else { 0 },
        });
    }
    // Preference among the offerings that cover a need, after specificity: the earliest
    // session (the summer last), then the name.
    let mut preference: Vec<usize> = (0..offerings.len()).collect();
    preference.sort_by_key(|&o| {
        (
            sessions[offerings[o].session].0.is_none(),
            sessions[offerings[o].session].0,
            o,
        )
    });
    let slots: Vec<f64> = sessions
        .iter()
        .map(|(end, _)| {
            config
                .recovery
                .session_slots(end.is_none().then_some(crate::config::SUMMER_SESSION))
        })
        .collect();

    let mut seated = vec![None; rows];
    let mut places: FxHashMap<usize, Vec<String>> = FxHashMap::default();
    let mut given = vec![0usize; offerings.len()];
    let mut wanting = vec![0usize; offerings.len()];
    let mut seated_in_school: FxHashMap<&str, usize> = FxHashMap::default();
    for &i in &district {
        let row = scored[i].row;
        let school = schools[i];
        let count = seated_in_school.entry(school).or_default();
        let under_limit = config
            .recovery
            .seats_by_school
            .get(school)
            .is_none_or(|limit| *count < *limit);
        if !under_limit || offerings.is_empty() {
            seated[row] = Some(under_limit);
            *count += usize::from(under_limit);
            continue;
        }
        let mut taken: Vec<usize> = Vec::new();
        let mut used = vec![0.0; sessions.len()];
        let mut student_places = Vec::new();
        let mut wants = vec![false; offerings.len()];
        for need in &plans[row].needs {
            let serves = |o: &Offering| {
                o.open
                    && o.definition
                        .school_id
                        .as_deref()
                        .is_none_or(|s| s == school)
            };
            let best = preference
                .iter()
                .copied()
                .filter(|&o| {
                    let offering = &offerings[o];
                    serves(offering)
                        && offering.left > 0
                        && !taken.contains(&o)
                        && used[offering.session] + need.credits <= slots[offering.session] + 1e-9
                })
                .filter_map(|o| Some((covers(offerings[o].definition, need, config)?, o)))
                // The most specific; among equals, the first in preference order.
                .min_by_key(|(specificity, _)| std::cmp::Reverse(*specificity));
            match best {
                Some((_, o)) => {
                    let offering = &mut offerings[o];
                    offering.left -= 1;
                    given[o] += 1;
                    used[offering.session] += need.credits;
                    taken.push(o);
                    student_places.push(format!(
                        "{} ({}): {}",
                        offering.name, sessions[offering.session].1, need.label
                    ));
                }
                // Wanting: the offerings that cover the need and that the student could still
                // take (not theirs yet, within their slots), had they places left.
                None => {
                    for (o, offering) in offerings.iter().enumerate() {
                        if serves(offering)
                            && !taken.contains(&o)
                            && used[offering.session] + need.credits
                                <= slots[offering.session] + 1e-9
                            && covers(offering.definition, need, config).is_some()
                        {
                            wants[o] = true;
                        }
                    }
                }
            }
        }
        for (o, w) in wants.into_iter().enumerate() {
            wanting[o] += usize::from(w);
        }
        seated[row] = Some(!taken.is_empty());
        if !taken.is_empty() {
            *count += 1;
            places.insert(row, student_places);
        }
    }
    for offering in offerings.iter().filter(|o| !o.open) {
        log::warn!(
            "recovery.seats.{:?}: its session ({}) ended before the as-of date: none of its seats is given",
            offering.name,
            sessions[offering.session].1
        );
    }
    let offerings = offerings
        .iter()
        .enumerate()
        .map(|(o, offering)| OfferingUse {
            name: offering.name.to_string(),
            school_id: offering.definition.school_id.clone(),
            session: sessions[offering.session].1.clone(),
            ended: !offering.open,
            seats: offering.definition.seats,
            given: given[o],
            wanting: wanting[o],
        })
        .collect();
    Seats {
        lists,
        seated,
        places,
        offerings,
    }
}

/// Whether an offering of `[recovery.seats]` can meet a need, and how specifically (2: the
/// course itself or one counted for it; 1: the subject; 0: an offering for any course):
/// - a failed course is met by an offering of that course (or one `course_equivalents` counts
///   for it), or, naming no course, of its subject or of no subject: never by another course;
/// - a subject's shortfall, by an offering of the subject (whatever its course), or one naming
///   neither course nor subject;
/// - the total's shortfall, by an offering naming neither.
pub fn covers(offering: &crate::config::SeatOffering, need: &Need, config: &Config) -> Option<u8> {
    let subject_matches = |s: &String| need.subject.as_ref() == Some(s);
    match (&need.course_id, &offering.course_id, &offering.subject) {
        (Some(course), Some(offered), _) => {
            config.recovery.same_course(offered, course).then_some(2)
        }
        (Some(_), None, Some(subject)) => subject_matches(subject).then_some(1),
        (None, _, Some(subject)) => subject_matches(subject).then_some(1),
        (None, Some(_), None) => None,
        (_, None, None) => Some(0),
    }
}

/// The order of a school's candidates for its seats (`recovery.seat_order`, graduation
/// urgency first): `Less` when `a` comes before `b`. The student id decides the last ties.
pub fn seat_order(a: &SeatClaim, b: &SeatClaim, config: &Config) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let more_first = |x: f64, y: f64| y.partial_cmp(&x).unwrap_or(Ordering::Equal);
    for key in &config.recovery.seat_order {
        let order = match key.as_str() {
            // A student without a cohort year comes after those with one.
            "cohort_year" => match (a.plan.cohort_year, b.plan.cohort_year) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            "required_subject_shortfall" => more_first(
                a.plan.required_subject_shortfall,
                b.plan.required_subject_shortfall,
            ),
            "credits_to_recover" => {
                more_first(a.plan.credits_to_recover, b.plan.credits_to_recover)
            }
            "credit_deficit_now" => more_first(
                a.plan.credit_deficit_now.unwrap_or(0.0),
                b.plan.credit_deficit_now.unwrap_or(0.0),
            ),
            "risk" => more_first(a.risk, b.risk),
            _ => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.student_id.cmp(b.student_id)
}

/// The plan of one student.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Earned / required per subject area in config order, then electives:
    /// "ELA 3/4, MATH 1/3, SCI 3/3, SOC 2/3, electives 4/11".
    pub credits_by_subject: String,
    /// Credits expected of the student now and the shortfall against it (the feature table's
    /// `credits_expected_now` and `credit_deficit_now`; unknown without a transcript).
    pub credits_expected_now: Option<f64>,
    pub credit_deficit_now: Option<f64>,
    /// Credits earned so far, plus this year's courses in progress that are not failing, plus a
    /// normal load for every school year left before the cohort graduates.
    pub projected_credits: f64,
    /// Credits still missing at the cohort's graduation date at that pace:
    /// max(0, total required − projected).
    pub projected_deficit: f64,
    pub on_time_reachable: bool,
    /// Credits still needed to graduate after what is earned and in progress, in total and
    /// per required subject ("ELA 1; MATH 2").
    pub credits_needed: f64,
    pub subjects_needed: String,
    /// Whether graduation by the cohort year is still reachable with a full schedule
    /// (`graduation.max_load_per_year`) and the recovery slots left (`recovery.terms`,
    /// `slots_per_term`, `summer_slots`), a required subject taking at most one credit a year
    /// in the regular schedule.
    pub reachable_with_recovery: bool,
    /// The required subjects the regular schedules left cannot make up, with the first
    /// recovery term that can: "ELA 1 (from S2 2026)".
    pub recover_by: Vec<String>,
    /// The student's cohort (expected graduation) year, for the seat order.
    pub cohort_year: Option<i32>,
    /// Required subjects with fewer credits than expected by the start of the grade
    /// ([`Config::expected_subject_credits`]): "ELA 1/2" (earned/expected).
    pub subjects_behind: Vec<String>,
    /// The credits those subjects are short, summed.
    pub required_subject_shortfall: f64,
    /// Failed courses of required subjects not yet recovered, in the order to recover them:
    /// "ALG1 Algebra I (MATH, 1 cr, 2025)". Electives and failures whose subject credit was
    /// made up are listed apart.
    pub courses_to_recover: Vec<String>,
    pub credits_to_recover: f64,
    /// Failed electives not recovered: they count only toward the total credits.
    pub elective_failures: Vec<String>,
    /// Failed courses whose subject credit a recovery course naming no course made up.
    pub courses_made_up: Vec<String>,
    /// This year's courses whose latest mark is a D or F, or has fallen by a grade or more
    /// since the first mark of the year: "BIO Biology (SCI, D, falling from B)".
    pub courses_at_risk: Vec<String>,
    /// What the student needs recovery seats for, in the order seats are sought
    /// ([`NeedKind`]); empty for a student with nothing to recover.
    pub needs: Vec<Need>,
}

impl Plan {
    /// Gives back the room its lists and texts were given and do not use (a list pushed to
    /// once has room for four): every student's plan is kept until the outputs are written.
    fn shrink_to_fit(&mut self) {
        self.credits_by_subject.shrink_to_fit();
        self.subjects_needed.shrink_to_fit();
        for list in [
            &mut self.recover_by,
            &mut self.subjects_behind,
            &mut self.courses_to_recover,
            &mut self.elective_failures,
            &mut self.courses_made_up,
            &mut self.courses_at_risk,
        ] {
            list.iter_mut().for_each(String::shrink_to_fit);
            list.shrink_to_fit();
        }
        for need in &mut self.needs {
            need.label.shrink_to_fit();
            need.course_id.as_mut().map(String::shrink_to_fit);
            need.subject.as_mut().map(String::shrink_to_fit);
        }
        self.needs.shrink_to_fit();
    }
}

/// Something a candidate needs a recovery seat for.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub kind: NeedKind,
    /// The failed course (none for a shortfall).
    pub course_id: Option<String>,
    /// Its subject area (none for the total's shortfall).
    pub subject: Option<String>,
    /// The credits recovering it takes of the student's slots in a session: a failure's
    /// missing credits; a shortfall's, up to one course (1 credit).
    pub credits: f64,
    /// How a counselor file names it: "ALG1 Algebra I", "ELA credit", "credits".
    pub label: String,
}

/// The kinds of [`Need`], in the order a candidate's seats are sought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NeedKind {
    /// A failed course of a required subject not yet recovered (in `courses_to_recover`
    /// order: subjects short of credits first, then the most recent).
    RequiredCourse,
    /// A required subject short of credits (expected by the start of the grade, or more than
    /// the regular schedules left can hold) with no failed course of it to recover.
    SubjectShortfall,
    /// A failed elective not recovered.
    ElectiveCourse,
    /// Fewer credits than expected by now, with nothing above to recover.
    TotalShortfall,
}

/// Plans for every student of the feature table, by row.
pub fn plans(run: &FeatureRun, config: &Config) -> Result<Vec<Plan>> {
    let table = &run.table;
    let row_of: FxHashMap<&str, usize> = table
        .column("student_id")?
        .str()?
        .iter()
        .enumerate()
        .filter_map(|(i, id)| id.map(|id| (id, i)))
        .collect();
    let mut plans = vec![Plan::default(); table.height()];

    // Each student's requirements ([`Config::requirements`]): by cohort and pathway, so few
    // distinct ones, each kept once.
    let cohort_years = table.column("cohort_year")?.i32()?;
    let mut distinct: Vec<Requirements> = Vec::new();
    let mut index_of: HashMap<(Option<i32>, Option<&str>), usize> = HashMap::new();
    let requirement_of: Vec<usize> = (0..table.height())
        .map(|row| {
            let key = (
                cohort_years.get(row),
                run.pathways.get(row).and_then(|p| p.as_deref()),
            );
            *index_of.entry(key).or_insert_with(|| {
                distinct.push(config.requirements(key.0, key.1));
                distinct.len() - 1
            })
        })
        .collect();
    let requirements = |row: usize| &distinct[requirement_of[row]];

    // Credits earned per student and subject area: one column per subject any requirement
    // names, then electives, in table order.
    let mut named: std::collections::BTreeSet<&String> =
        config.graduation.subject_credits.keys().collect();
    for over in config
        .graduation
        .cohorts
        .values()
        .chain(config.graduation.pathways.values())
    {
        named.extend(over.subject_credits.keys());
    }
    let required: Vec<&String> = named.into_iter().collect();
    // Each distinct requirement's credits per subject of `required` (None: not required), so
    // the loops over students index, not look up.
    let needed_by_subject: Vec<Vec<Option<f64>>> = distinct
        .iter()
        .map(|r| {
            required
                .iter()
                .map(|s| r.subject_credits.get(s.as_str()).copied())
                .collect()
        })
        .collect();
    let needed_of = |row: usize| &needed_by_subject[requirement_of[row]];
    let mut areas: Vec<String> = required.iter().map(|s| s.to_string()).collect();
    areas.push("electives".into());
    // A course's area as its index in `areas` (electives last): numbers, not text, per row.
    let area_of = required.iter().enumerate().rev().fold(
        lit(required.len() as u32),
        |others, (k, subject)| {
            when(col("subject").eq(lit(subject.as_str())))
                .then(lit(k as u32))
                .otherwise(others)
        },
    );
    let by_area = run
        .courses
        .transcript
        .clone()
        .lazy()
        .with_column(area_of.alias("__area"))
        .group_by([col("student_id")])
        .agg(
            areas
                .iter()
                .enumerate()
                .map(|(k, a)| {
                    // A sum of zeros elsewhere, not a filter: polars sums whole groups fast.
                    when(col("__area").eq(lit(k as u32)))
                        .then(col("credits_earned"))
                        .otherwise(lit(0.0))
                        .sum()
                        .alias(a.as_str())
                })
                .collect::<Vec<_>>(),
        );
    let earned_table = table
        .select(["student_id"])?
        .lazy()
        .join(
            by_area.with_column(col("student_id").cast(DataType::String)),
            [col("student_id")],
            [col("student_id")],
            JoinArgs::new(JoinType::Left),
        )
        .collect()?;
    let earned_columns: Vec<Vec<f64>> = areas
        .iter()
        .map(|a| -> Result<Vec<f64>> {
            Ok(earned_table
                .column(a.as_str())?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect())
        })
        .collect::<Result<_>>()?;
    let earned_in = |row: usize, subject: &str| -> f64 {
        areas
            .iter()
            .position(|a| a == subject)
            .map(|k| earned_columns[k][row])
            .unwrap_or(0.0)
    };
    let grade_levels = table.column("grade_level")?.i32()?;
    for (row, plan) in plans.iter_mut().enumerate() {
        let student = requirements(row);
        if let Some(grade) = grade_levels.get(row) {
            for (k, subject) in required.iter().enumerate() {
                let Some(needed) = needed_of(row)[k] else {
                    continue;
                };
                let expected = config.expected_subject_credits(subject, needed, grade);
                let earned = earned_columns[k][row];
                if earned + 1e-9 < expected {
                    plan.needs.push(Need::shortfall(subject, expected - earned));
                    plan.required_subject_shortfall += expected - earned;
                    plan.subjects_behind.push(format!(
                        "{subject} {}/{}",
                        short_number(earned),
                        short_number(expected)
                    ));
                }
            }
        }
        // The student's required subjects, then electives: every other subject's credits.
        let mut text = String::with_capacity(64);
        let mut electives = earned_columns[required.len()][row];
        for (k, subject) in required.iter().enumerate() {
            let Some(needed) = needed_of(row)[k] else {
                electives += earned_columns[k][row];
                continue;
            };
            text.push_str(subject);
            text.push(' ');
            push_short_number(&mut text, earned_columns[k][row]);
            text.push('/');
            push_short_number(&mut text, needed);
            text.push_str(", ");
        }
        let core: f64 = student.subject_credits.values().sum();
        text.push_str("electives ");
        push_short_number(&mut text, electives);
        text.push('/');
        push_short_number(&mut text, (student.total_credits - core).max(0.0));
        plan.credits_by_subject = text;
    }
    // Failed courses to recover: subjects still short of credits first, then most recent.
    let failures = &run.courses.open_failures;
    {
        let years = failures.column("school_year")?.i32()?;
        // Few rows (the open failures): read as plain text.
        let text = |name: &str| failures.column(name)?.cast(&DataType::String);
        let (ids, course_ids, names, subjects) = (
            text("student_id")?,
            text("course_id")?,
            text("course_name")?,
            text("subject")?,
        );
        let (ids, course_ids, names, subjects) =
            (ids.str()?, course_ids.str()?, names.str()?, subjects.str()?);
        let attempted = failures.column("credits_attempted")?.f64()?;
        let got = failures.column("credits_earned")?.f64()?;
        let made_up = failures.column("subject_made_up")?.bool()?;
        let dates: Vec<Option<chrono::NaiveDate>> = failures
            .column("completion_date")?
            .date()?
            .as_date_iter()
            .collect();
        // Per student: (short of credits, failed on, label, credits missing, seat need).
        type Failure = (bool, chrono::NaiveDate, String, f64, Option<Need>);
        let mut by_student: HashMap<usize, Vec<Failure>> = HashMap::new();
        for (i, date) in dates.iter().enumerate() {
            let Some(&row) = ids.get(i).and_then(|id| row_of.get(id)) else {
                continue;
            };
            let subject = subjects.get(i).unwrap_or("");
            let missing = attempted.get(i).unwrap_or(0.0) - got.get(i).unwrap_or(0.0);
            let course = format!(
                "{} {}",
                course_ids.get(i).unwrap_or(""),
                names.get(i).unwrap_or("")
            );
            // A failure whose subject credit a recovery course made up: listed, not to recover.
            if made_up.get(i) == Some(true) {
                plans[row].courses_made_up.push(format!(
                    "{course} ({subject}: credit made up by a {subject} recovery course)"
                ));
                continue;
            }
            // A recovery course in progress (interventions.csv) is recovering it: listed, no
            // seat sought.
            let recovering = course_ids
                .get(i)
                .and_then(|c| run.supports.recovering.get(&(row, c.to_string())));
            // "ALG1 Algebra I (MATH, 1 cr, 2025)", in either list.
            let mut label = format!(
                "{course} ({subject}, {} cr, {}",
                short_number(missing),
                years.get(i).map(|y| y.to_string()).unwrap_or_default()
            );
            if let Some(start) = recovering {
                label.push_str(&format!("; being recovered since {start}"));
            }
            label.push(')');
            let elective = !requirements(row).subject_credits.contains_key(subject);
            let need = Need {
                kind: if elective {
                    NeedKind::ElectiveCourse
                } else {
                    NeedKind::RequiredCourse
                },
                course_id: course_ids.get(i).map(str::to_string),
                subject: Some(subject.to_string()),
                credits: missing,
                label: course,
            };
            let need = recovering.is_none().then_some(need);
            // An elective failure counts only toward the total: listed apart.
            if elective {
                plans[row].needs.extend(need);
                plans[row].elective_failures.push(label);
                continue;
            }
            let short_of_credits = requirements(row)
                .subject_credits
                .get(subject)
                .is_some_and(|required| earned_in(row, subject) < *required);
            let date = date.unwrap_or_default();
            by_student
                .entry(row)
                .or_default()
                .push((short_of_credits, date, label, missing, need));
        }
        for (row, mut courses) in by_student {
            // Required subjects short of credits first; then the most recent failure.
            courses.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
            let plan = &mut plans[row];
            plan.credits_to_recover = courses.iter().map(|c| c.3).sum();
            for (_, _, label, _, need) in courses {
                plan.courses_to_recover.push(label);
                plan.needs.extend(need);
            }
        }
    }

    // This year's courses: in progress (not yet on the transcript for this year), at risk.
    let transcript_ids =
        crate::ingest::columns::texts(run.courses.transcript.column("student_id")?)?;
    let transcript_courses =
        crate::ingest::columns::texts(run.courses.transcript.column("course_id")?)?;
    let transcript_years = run.courses.transcript.column("school_year")?.i32()?;
    // Courses completed this year, per student: few or none for most students.
    let mut completed: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
    for ((id, course), year) in transcript_ids
        .zip(transcript_courses)
        .zip(transcript_years.iter())
    {
        if let (Some(id), Some(course), Some(year)) = (id, course, year) {
            if year == run.school_year {
                completed.entry(id).or_default().push(course);
            }
        }
    }
    let courses = &run.courses.courses_this_year;
    let latest = courses.latest_marks(&run.courses.marks_this_year.select([
        "student_id",
        "course_id",
        "course_name",
        "subject",
        "mark",
        "points",
    ])?)?;
    let first = courses.first_marks(&run.courses.marks_this_year.select(["mark", "points"])?)?;
    let mut in_progress = vec![0.0; table.height()];
    // In progress per required subject: row × subject, in `required` order.
    let mut in_progress_subject = vec![0.0; table.height() * required.len()];
    {
        let (ids, course_ids, names) = (
            crate::ingest::columns::texts(latest.column("student_id")?)?,
            crate::ingest::columns::texts(latest.column("course_id")?)?,
            crate::ingest::columns::texts(latest.column("course_name")?)?,
        );
        let (subjects, marks, first_marks) = (
            crate::ingest::columns::texts(latest.column("subject")?)?,
            crate::ingest::columns::texts(latest.column("mark")?)?,
            crate::ingest::columns::texts(first.column("mark")?)?,
        );
        let (latest_points, first_points) = (
            latest.column("points")?.f64()?,
            first.column("points")?.f64()?,
        );
        let course_rows = ids
            .zip(course_ids)
            .zip(names)
            .zip(subjects)
            .zip(marks.zip(latest_points.iter()))
            .zip(first_marks.zip(first_points.iter()))
            .zip(run.courses.course_credits.credit.iter());
        // A student's courses come together: the student's row and completed courses are
        // looked up once per run of the student's courses, not once per course (4M courses
        // at a million students).
        let mut student: Option<(&str, Option<usize>, &[&str])> = None;
        for ((((((id, course_id), name), subject), (mark, points)), first), &credit) in course_rows
        {
            let (Some(id), Some(course_id)) = (id, course_id) else {
                continue;
            };
            let (row, done) = match student {
                Some((current, row, done)) if current == id => (row, done),
                _ => {
                    let row = row_of.get(id).copied();
                    let done = completed.get(id).map(Vec::as_slice).unwrap_or(&[]);
                    student = Some((id, row, done));
                    (row, done)
                }
            };
            let Some(row) = row else {
                continue;
            };
            if done.contains(&course_id) {
                continue;
            }
            let mark = mark.unwrap_or("");
            if points.is_some_and(|p| p > 0.0) {
                in_progress[row] += credit;
                if let Some(k) = subject.and_then(|s| required.iter().position(|r| r.as_str() == s))
                {
                    in_progress_subject[row * required.len() + k] += credit;
                }
            }
            let low = mark.starts_with('D') || mark.starts_with('F');
            let falling = match (points, first.1) {
                (Some(now), Some(then)) => now <= then - 1.0,
                _ => false,
            };
            if low || falling {
                let trend = if falling {
                    format!(", falling from {}", first.0.unwrap_or(""))
                } else {
                    String::new()
                };
                plans[row].courses_at_risk.push(format!(
                    "{course_id} {} ({}, {mark}{trend})",
                    name.unwrap_or(""),
                    subject.unwrap_or("")
                ));
            }
        }
    }

    // Courses come in file order; listed by course_id (a label starts with it).
    for plan in plans.iter_mut() {
        plan.courses_at_risk.sort_unstable();
    }

    // Recovery terms of this school year not yet ended on the as-of date, and the first one
    // (else the summer).
    let term_ends: Vec<(String, chrono::NaiveDate)> = config
        .recovery
        .terms
        .iter()
        .filter_map(|t| {
            let end = config.term_end(t)?;
            Some((t.clone(), config.in_school_year(end, run.school_year)))
        })
        .filter(|(_, end)| *end > run.as_of)
        .collect();
    let recovery_terms_left = term_ends.len();
    let first_recovery_term = term_ends
        .iter()
        .min_by_key(|(_, end)| *end)
        .map(|(t, _)| format!("{t} {}", run.school_year))
        .unwrap_or_else(|| format!("summer {}", run.school_year));

    // Projection at the cohort's graduation.
    let credits_earned = table.column("credits_earned")?.f64()?;
    let cohorts = table.column("cohort_year")?.i32()?;
    let expected_now = table.column("credits_expected_now")?.f64()?;
    let deficit_now = table.column("credit_deficit_now")?.f64()?;
    for (row, plan) in plans.iter_mut().enumerate() {
        plan.cohort_year = cohorts.get(row);
        plan.credits_expected_now = expected_now.get(row);
        plan.credit_deficit_now = deficit_now.get(row);
        let years_left = cohorts
            .get(row)
            .map(|c| (c - run.school_year).max(0))
            .unwrap_or(0);
        plan.projected_credits = credits_earned.get(row).unwrap_or(0.0)
            + in_progress[row]
            + config.graduation.normal_load_per_year * f64::from(years_left);
        plan.projected_deficit =
            (requirements(row).total_credits - plan.projected_credits).max(0.0);
        // What is still needed, and whether the years and recovery terms left can hold it.
        let earned_now = credits_earned.get(row).unwrap_or(0.0) + in_progress[row];
        let student = requirements(row);
        plan.credits_needed = (student.total_credits - earned_now).max(0.0);
        let years = f64::from(years_left);
        let mut overflow = 0.0;
        let mut subjects_within_regular = true;
        for (k, subject) in required.iter().enumerate() {
            let Some(required_credits) = needed_of(row)[k] else {
                continue;
            };
            let have = earned_columns[k][row] + in_progress_subject[row * required.len() + k];
            let need = (required_credits - have).max(0.0);
            if need > 1e-9 {
                // One string per student, not one per subject: every student needs credits.
                if !plan.subjects_needed.is_empty() {
                    plan.subjects_needed.push_str("; ");
                }
                plan.subjects_needed.push_str(subject);
                plan.subjects_needed.push(' ');
                push_short_number(&mut plan.subjects_needed, need);
            }
            // One credit a year of a required subject in the regular schedule; the rest
            // from recovery.
            let beyond = (need - years).max(0.0);
            if beyond > 1e-9 {
                plan.needs.push(Need::shortfall(subject, beyond));
                subjects_within_regular = false;
                overflow += beyond;
                plan.recover_by.push(format!(
                    "{subject} {} (from {first_recovery_term})",
                    short_number(beyond)
                ));
            }
        }
        plan.on_time_reachable = plan.projected_deficit < 1e-9 && subjects_within_regular;
        // Summers: after this year and each year left, the cohort year's included (on-time
        // graduation is by August 31 of the cohort year, as the training label says).
        let recovery_credits = config.recovery.slots_per_term
            * (recovery_terms_left as f64 + config.recovery.terms.len() as f64 * years)
            + config.recovery.summer_slots * (years + 1.0);
        plan.reachable_with_recovery = plan.credits_needed
            <= config.graduation.max_load_per_year * years + recovery_credits + 1e-9
            && overflow <= recovery_credits + 1e-9;
        order_needs(plan);
    }
    for plan in &mut plans {
        plan.shrink_to_fit();
    }
    Ok(plans)
}

impl Need {
    /// A required subject short of `credits` (until [`order_needs`], the whole shortfall).
    fn shortfall(subject: &str, credits: f64) -> Need {
        Need {
            kind: NeedKind::SubjectShortfall,
            course_id: None,
            subject: Some(subject.to_string()),
            credits,
            label: format!("{subject} credit"),
        }
    }
}

/// Puts a plan's needs in the order seats are sought ([`NeedKind`], then as found). A subject
/// shortfall (found twice at most: against the start of the grade, and beyond the regular
/// schedules left) counts its larger figure, less the credits of the subject's failed courses
/// to recover (recovering them makes it up), and asks one seat (a course, at most 1 credit) for
/// what is left. A total shortfall asks one only when nothing else is needed.
fn order_needs(plan: &mut Plan) {
    if plan.needs.is_empty() && !plan.credit_deficit_now.is_some_and(|d| d > 1e-9) {
        return;
    }
    let mut needs = std::mem::take(&mut plan.needs);
    needs.sort_by_key(|n| n.kind);
    // Few needs a student: plain scans.
    let sum_of = |kind: NeedKind, subject: &Option<String>, fold: fn(f64, f64) -> f64| {
        needs
            .iter()
            .filter(|n| n.kind == kind && n.subject == *subject)
            .fold(0.0, |acc, n| fold(acc, n.credits))
    };
    let mut kept: Vec<Need> = Vec::with_capacity(needs.len());
    for need in &needs {
        if need.kind != NeedKind::SubjectShortfall {
            kept.push(need.clone());
            continue;
        }
        if kept
            .iter()
            .any(|k| k.kind == need.kind && k.subject == need.subject)
        {
            continue;
        }
        let short = sum_of(NeedKind::SubjectShortfall, &need.subject, f64::max)
            - sum_of(NeedKind::RequiredCourse, &need.subject, |a, b| a + b);
        if short > 1e-9 {
            kept.push(Need {
                credits: short.min(1.0),
                ..need.clone()
            });
        }
    }
    if kept.is_empty() {
        if let Some(deficit) = plan.credit_deficit_now.filter(|d| *d > 1e-9) {
            kept.push(Need {
                kind: NeedKind::TotalShortfall,
                course_id: None,
                subject: None,
                credits: deficit.min(1.0),
                label: "credits".to_string(),
            });
        }
    }
    plan.needs = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_plan_holds_no_spare_room() {
        // Built as the plans are, each list and text with room to spare; kept, the same plan
        // with none.
        let roomy = |text: &str| {
            let mut s = String::with_capacity(64);
            s.push_str(text);
            s
        };
        let mut plan = Plan {
            credits_by_subject: roomy("ELA 3/4, MATH 1/3, electives 4/11"),
            subjects_needed: roomy("ELA 1; MATH 2"),
            ..Plan::default()
        };
        for list in [
            &mut plan.recover_by,
            &mut plan.subjects_behind,
            &mut plan.courses_to_recover,
            &mut plan.elective_failures,
            &mut plan.courses_made_up,
            &mut plan.courses_at_risk,
        ] {
            list.push(roomy("ALG1 Algebra I (MATH, 1 cr, 2025)"));
        }
        let mut need = Need::shortfall("MATH", 1.0);
        need.label.reserve(50);
        need.course_id = Some(roomy("ALG1"));
        plan.needs.push(need);
        let built = plan.clone();
        plan.shrink_to_fit();
        assert_eq!(plan, built);
        assert_eq!(
            plan.credits_by_subject.capacity(),
            plan.credits_by_subject.len()
        );
        assert_eq!(plan.subjects_needed.capacity(), plan.subjects_needed.len());
        for list in [
            &plan.recover_by,
            &plan.subjects_behind,
            &plan.courses_to_recover,
            &plan.elective_failures,
            &plan.courses_made_up,
            &plan.courses_at_risk,
        ] {
            assert_eq!(list.capacity(), 1);
            assert_eq!(list[0].capacity(), list[0].len());
        }
        assert_eq!(plan.needs.capacity(), 1);
        let need = &plan.needs[0];
        assert_eq!(need.label.capacity(), need.label.len());
        let course = need.course_id.as_ref().unwrap();
        assert_eq!(course.capacity(), course.len());
    }

    #[test]
    fn an_offering_covers_its_course_its_subject_or_any_need() {
        use crate::config::SeatOffering;
        let mut config = Config::default();
        config
            .recovery
            .course_equivalents
            .insert("ALG1".into(), vec!["ALG1-OL".into()]);
        let offering = |course: Option<&str>, subject: Option<&str>| SeatOffering {
            seats: 1,
            school_id: None,
            session: None,
            course_id: course.map(str::to_string),
            subject: subject.map(str::to_string),
        };
        let need = |kind, course: Option<&str>, subject: Option<&str>| Need {
            kind,
            course_id: course.map(str::to_string),
            subject: subject.map(str::to_string),
            credits: 1.0,
            label: String::new(),
        };
        let algebra = need(NeedKind::RequiredCourse, Some("ALG1"), Some("MATH"));
        let math = need(NeedKind::SubjectShortfall, None, Some("MATH"));
        let total = need(NeedKind::TotalShortfall, None, None);
        let cases = [
            // (offering, covers the Algebra I failure, the MATH shortfall, the total)
            (offering(Some("ALG1"), None), Some(2), None, None),
            (
                offering(Some("ALG1-OL"), Some("MATH")),
                Some(2),
                Some(1),
                None,
            ),
            (offering(Some("GEOM"), Some("MATH")), None, Some(1), None),
            (offering(Some("GEOM"), None), None, None, None),
            (offering(None, Some("MATH")), Some(1), Some(1), None),
            (offering(None, Some("ELA")), None, None, None),
            (offering(None, None), Some(0), Some(0), Some(0)),
        ];
        for (o, on_algebra, on_math, on_total) in cases {
            assert_eq!(covers(&o, &algebra, &config), on_algebra, "{o:?}");
            assert_eq!(covers(&o, &math, &config), on_math, "{o:?}");
            assert_eq!(covers(&o, &total, &config), on_total, "{o:?}");
        }
    }

    #[test]
    fn needs_are_ordered_and_a_subject_shortfall_nets_its_failed_courses() {
        let course = |id: &str, subject: &str, kind| Need {
            kind,
            course_id: Some(id.into()),
            subject: Some(subject.into()),
            credits: 1.0,
            label: id.into(),
        };
        let mut plan = Plan {
            needs: vec![
                Need::shortfall("SCI", 1.0),
                course("ART1", "ART", NeedKind::ElectiveCourse),
                Need::shortfall("ELA", 0.5),
                course("BIO", "SCI", NeedKind::RequiredCourse),
                // Beyond the regular schedules: 2.5 SCI credits, less BIO's 1.
                Need::shortfall("SCI", 2.5),
                Need::shortfall("MATH", 1.0),
                course("ALG1", "MATH", NeedKind::RequiredCourse),
            ],
            credit_deficit_now: Some(3.0),
            ..Plan::default()
        };
        order_needs(&mut plan);
        let got: Vec<(&str, f64)> = plan
            .needs
            .iter()
            .map(|n| (n.label.as_str(), n.credits))
            .collect();
        assert_eq!(
            got,
            [
                ("BIO", 1.0),
                ("ALG1", 1.0),
                ("SCI credit", 1.0),
                ("ELA credit", 0.5),
                ("ART1", 1.0)
            ]
        );
        // Nothing but credits short of what is expected now: one need for them.
        let mut short = Plan {
            credit_deficit_now: Some(0.5),
            ..Plan::default()
        };
        order_needs(&mut short);
        assert_eq!(short.needs.len(), 1);
        assert_eq!(short.needs[0].kind, NeedKind::TotalShortfall);
        assert_eq!(short.needs[0].credits, 0.5);
    }

    #[test]
    fn a_candidate_has_something_to_recover_and_risk_alone_is_prevention() {
        use crate::model::score::Tier;
        let nothing = Plan::default();
        assert!(!is_candidate(&nothing));
        assert!(is_prevention(Tier::Medium, &nothing));
        assert!(is_prevention(Tier::High, &nothing));
        assert!(!is_prevention(Tier::Low, &nothing));
        let failed = Plan {
            courses_to_recover: vec!["ALG1 Algebra I (MATH, 1 cr, 2025)".into()],
            ..Plan::default()
        };
        let short_now = Plan {
            credit_deficit_now: Some(0.5),
            ..Plan::default()
        };
        let short_in_ela = Plan {
            required_subject_shortfall: 1.0,
            ..Plan::default()
        };
        for plan in [&failed, &short_now, &short_in_ela] {
            assert!(is_candidate(plan));
            assert!(!is_prevention(Tier::High, plan));
        }
        // A deficit unknown (no transcript exported) is no deficit.
        assert!(!is_candidate(&Plan {
            credit_deficit_now: None,
            ..Plan::default()
        }));
    }

    #[test]
    fn seats_go_by_graduation_urgency_then_risk() {
        let config = Config::default();
        let plan = |cohort, shortfall, recover| Plan {
            cohort_year: Some(cohort),
            required_subject_shortfall: shortfall,
            credits_to_recover: recover,
            ..Plan::default()
        };
        let (senior, junior_short, junior_more, junior_risky) = (
            plan(2026, 1.0, 1.0),
            plan(2027, 2.0, 1.0),
            plan(2027, 0.0, 3.0),
            plan(2027, 0.0, 3.0),
        );
        let claim = |plan, risk, student_id| SeatClaim {
            plan,
            risk,
            student_id,
        };
        let mut claims = [
            claim(&junior_risky, 0.9, "d"),
            claim(&junior_more, 0.2, "c"),
            claim(&junior_short, 0.1, "b"),
            claim(&senior, 0.05, "a"),
        ];
        claims.sort_by(|a, b| seat_order(a, b, &config));
        let order: Vec<&str> = claims.iter().map(|c| c.student_id).collect();
        // The senior first whatever the risk; then the junior short in a required subject;
        // then credits to recover (a tie), broken by risk.
        assert_eq!(order, ["a", "b", "d", "c"]);
    }
}
