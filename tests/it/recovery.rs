//! Credit-recovery plans on the tiny fixture's hand-made transcripts (as of 2026-01-16).

use crate::common;

use common::{config, run};
use ews::outputs::recovery::plans;

#[test]
fn plans_match_hand_computation() {
    let config = config();
    let run = run(&config, None);
    let plans = plans(&run, &config).unwrap();
    let (s1, s2, s3, s4) = (&plans[0], &plans[1], &plans[2], &plans[3]);

    // 0001, grade 9, no transcript. This year: ENG9 F then D (at risk, in progress, 1 cr),
    // ALG1 C+ then F (at risk and falling; failing, so not counted), ART1 A in S1 (a course
    // without a course_term is year-long whatever its marks' terms: 1 cr), PE1 W (not
    // counted), BIO B then B− (1 cr), HIS9 I then C (1 cr; the Q3 F is posted after the as-of
    // date). Projected 0 + 4 + 6 × 3 years left (cohort 2029) = 22.
    assert_eq!(
        s1.credits_by_subject,
        "ELA 0/4, MATH 0/3, SCI 0/3, SOC 0/3, electives 0/11"
    );
    assert_eq!(
        s1.courses_at_risk,
        [
            "ALG1 Algebra I (MATH, F, falling from C+)",
            "ENG9 English 9 (ELA, D)"
        ]
    );
    assert!(s1.courses_to_recover.is_empty());
    assert_eq!(s1.projected_credits, 22.0);
    assert_eq!(s1.projected_deficit, 2.0);
    assert!(!s1.on_time_reachable);

    // 0002, grade 10: failed ALG1 in 2025, recovered by the credit-recovery course 9ALG
    // (MATH, 2026-01-10); CHEM completes after the as-of date. Earned ELA 1, MATH 1, SCI 1,
    // SOC 1, electives 2 (ART1, PE1). In progress: ENG10 (A− then B+) 1 cr.
    // Projected 6 + 1 + 6 × 2 (cohort 2028) = 19.
    assert_eq!(
        s2.credits_by_subject,
        "ELA 1/4, MATH 1/3, SCI 1/3, SOC 1/3, electives 2/11"
    );
    assert!(s2.courses_to_recover.is_empty());
    assert!(s2.courses_at_risk.is_empty());
    assert_eq!(s2.projected_credits, 19.0);
    // Grade 10 expects 6 at its start, and no course of this year has ended: 6 earned.
    assert_eq!(
        (s2.credits_expected_now, s2.credit_deficit_now),
        (Some(6.0), Some(0.0))
    );

    // 0003, grade 11: failed ALG1 and BIO in 2024; ALG1 passed again in 2025 (recovered),
    // BIO never: the one course to recover, in a subject short of credits (SCI 0/3).
    // Earned ELA 2, MATH 1, SCI 0, SOC 2, electives 2 = 7; cohort 2027: 7 + 6 = 13.
    assert_eq!(
        s3.credits_by_subject,
        "ELA 2/4, MATH 1/3, SCI 0/3, SOC 2/3, electives 2/11"
    );
    assert_eq!(s3.courses_to_recover, ["BIO Biology (SCI, 1 cr, 2024)"]);
    assert_eq!(s3.credits_to_recover, 1.0);
    assert_eq!(s3.projected_credits, 13.0);

    // 0004, grade 12 (cohort 2026): nothing earned, nothing in progress.
    assert_eq!(s4.projected_credits, 0.0);
    assert!(!s4.on_time_reachable);
}

#[test]
fn reachability_follows_the_normal_load() {
    let mut config = config();
    config.graduation.normal_load_per_year = 8.0;
    let run = run(&config, None);
    let plans = plans(&run, &config).unwrap();
    // 0001: 4 + 8 × 3 = 28 ≥ 24; 0002: 6 + 1 + 8 × 2 = 23 < 24.
    assert!(plans[0].on_time_reachable);
    assert_eq!(plans[0].projected_deficit, 0.0);
    assert!(!plans[1].on_time_reachable);
}

#[test]
fn elective_failures_are_listed_apart_from_the_courses_to_recover() {
    // 0003 fails ART2 (an elective) in 2025, after BIO (2024).
    let dir = tempfile::tempdir().unwrap();
    common::fixture(dir.path());
    let text = std::fs::read_to_string(dir.path().join("credits.csv")).unwrap();
    std::fs::write(
        dir.path().join("credits.csv"),
        text + "0003,2025,Y,ART2,Art II,ART,1.0,0.0,F,2025-06-12,N\n",
    )
    .unwrap();
    let config = config();
    let data = common::load(dir.path(), &config, None);
    let run = ews::features::compute(&data, &config).unwrap();
    let plans = plans(&run, &config).unwrap();
    // An elective failure counts only toward the total: listed apart, not to recover.
    assert_eq!(
        plans[2].courses_to_recover,
        ["BIO Biology (SCI, 1 cr, 2024)"]
    );
    assert_eq!(
        plans[2].elective_failures,
        ["ART2 Art II (ART, 1 cr, 2025)"]
    );
    assert_eq!(plans[2].credits_to_recover, 1.0);
}

/// 0003 (grade 11, 7 credits on the transcript, 12 expected at the start of grade 11) takes
/// this year ENG11 (no course_term: year-long), GEOM and CHEM1 (course_term S1, ends 01-31:
/// passed with B, failed with F) and PSY (S2, ends 06-15).
fn this_years_courses(dir: &std::path::Path) {
    common::fixture(dir);
    let grades = std::fs::read_to_string(dir.join("grades.csv")).unwrap();
    let mut lines = grades.lines();
    let header = format!("{},course_term\n", lines.next().unwrap());
    let mut text = header;
    for line in lines {
        text += &format!("{line},\n");
    }
    text += "0003,020,2026,Q1,ENG11,English 11,ELA,C,75,2025-10-31,\n\
             0003,020,2026,Q2,ENG11,English 11,ELA,C,74,2026-01-09,\n\
             0003,020,2026,S1,GEOM,Geometry,MATH,B,85,2026-01-09,S1\n\
             0003,020,2026,S1,CHEM1,Chemistry,SCI,F,45,2026-01-09,S1\n\
             0003,020,2026,Q3,PSY,Psychology,SOC,A,95,2026-03-10,S2\n";
    std::fs::write(dir.join("grades.csv"), text).unwrap();
}

fn progress(
    dir: &std::path::Path,
    config: &ews::config::Config,
    as_of: &str,
) -> (f64, f64, f64, f64) {
    let data = common::load(dir, config, Some(common::date(as_of)));
    let run = ews::features::compute(&data, config).unwrap();
    let plans = plans(&run, config).unwrap();
    let values = ews::features::values_of(&run.table, 2).unwrap();
    (
        plans[2].credits_expected_now.unwrap(),
        run.table
            .column("credits_earned_now")
            .unwrap()
            .f64()
            .unwrap()
            .get(2)
            .unwrap(),
        values["credit_deficit_now"].unwrap(),
        values["credit_deficit_start_of_grade"].unwrap(),
    )
}

#[test]
fn credits_expected_now_follow_each_courses_own_term() {
    let dir = tempfile::tempdir().unwrap();
    this_years_courses(dir.path());
    let config = config();
    // January 16: no course of this year has ended; expected 12, earned 7, 5 short either way.
    assert_eq!(
        progress(dir.path(), &config, "2026-01-16"),
        (12.0, 7.0, 5.0, 5.0)
    );
    // March 13: the year-long ENG11 is not expected yet (Y ends 06-15), nor PSY (S2). GEOM and
    // CHEM1 ended with S1 (01-31), half a credit each: 12 + 1 = 13 expected. GEOM was passed
    // and the transcript does not have it yet: 7 + 0.5 earned. 5.5 short now; the start of
    // grade 11 (the model's feature) is still 5 short.
    assert_eq!(
        progress(dir.path(), &config, "2026-03-13"),
        (13.0, 7.5, 5.5, 5.0)
    );
    // Once the transcript has GEOM, its half credit is counted there, not twice.
    let credits = std::fs::read_to_string(dir.path().join("credits.csv")).unwrap();
    std::fs::write(
        dir.path().join("credits.csv"),
        credits + "0003,2026,S1,GEOM,Geometry,MATH,0.5,0.5,B,2026-02-05,N\n",
    )
    .unwrap();
    assert_eq!(
        progress(dir.path(), &config, "2026-03-13"),
        (13.0, 7.5, 5.5, 4.5)
    );
    // [courses] gives ENG11 a semester: ended with S1, half a credit expected; its latest mark
    // (Q2) is not its final (S1) mark, so nothing is earned for it.
    let mut config = config;
    config.courses.insert("ENG11".into(), "S1".into());
    assert_eq!(
        progress(dir.path(), &config, "2026-03-13"),
        (13.5, 7.5, 6.0, 4.5)
    );
}

/// Seats by urgency on the fixture: 0004 (grade 12, cohort 2026, no transcript: short in every
/// required subject) and 0003 (grade 11, BIO to recover) are candidates; 0002 (grade 10, its
/// Algebra I failure recovered, 6 of 6 credits, ELA 1 of 1 expected by grade 10) has nothing
/// to recover. However high 0002's risk, it goes to the prevention list, never to a seat; and
/// the senior takes a school's one seat before a junior of higher risk.
#[test]
fn a_senior_short_of_a_required_credit_gets_the_seat_before_higher_risk_students() {
    use ews::outputs::recovery::{is_candidate, is_prevention, seat_order, SeatClaim};
    let config = config();
    let run = run(&config, None);
    let plans = plans(&run, &config).unwrap();
    let (s2, s3, s4) = (&plans[1], &plans[2], &plans[3]);
    // 0004: expected by the start of grade 12, pro rata (3 of 4 years): ELA 3, MATH 2 (2.25),
    // SCI 2, SOC 2; earned none.
    assert_eq!(
        s4.subjects_behind,
        ["ELA 0/3", "MATH 0/2", "SCI 0/2", "SOC 0/2"]
    );
    assert_eq!(s4.required_subject_shortfall, 9.0);
    assert!(is_candidate(s4));
    // 0003, grade 11 (2 of 4 years): ELA 2/2, MATH 1/1, SCI 0/1, SOC 2/1 (SOC 3 × 2/4 = 1.5 → 1).
    assert_eq!(s3.subjects_behind, ["SCI 0/1"]);
    assert!(is_candidate(s3));
    // 0002, grade 10: ELA 1/1, MATH 1/0, SCI 1/0, SOC 1/0; nothing failed and open.
    assert!(s2.subjects_behind.is_empty() && s2.courses_to_recover.is_empty());
    assert_eq!(s2.credit_deficit_now, Some(0.0));
    assert!(!is_candidate(s2));
    assert!(is_prevention(ews::model::score::Tier::High, s2));
    // One seat: the senior (risk 0.30) before the junior (risk 0.90).
    let senior = SeatClaim {
        plan: s4,
        risk: 0.30,
        student_id: "0004",
    };
    let junior = SeatClaim {
        plan: s3,
        risk: 0.90,
        student_id: "0003",
    };
    assert_eq!(
        seat_order(&senior, &junior, &config),
        std::cmp::Ordering::Less
    );
    // Ordered by risk alone (a district's choice), the junior would come first.
    let mut by_risk = config.clone();
    by_risk.recovery.seat_order = vec!["risk".into()];
    assert_eq!(
        seat_order(&senior, &junior, &by_risk),
        std::cmp::Ordering::Greater
    );
}

/// A senior (0004, grade 12, cohort 2026) with 24 credits but 3 of the 4 ELA credits: the total
/// is met, the subject is not, and no school year is left for a regular ELA course. Not on
/// track at a normal load; reachable with recovery while a recovery term (or the summer) is
/// left.
#[test]
fn a_senior_short_one_ela_credit_with_24_in_total_needs_recovery() {
    let dir = tempfile::tempdir().unwrap();
    common::fixture(dir.path());
    let mut credits = std::fs::read_to_string(dir.path().join("credits.csv")).unwrap();
    // ELA 3, MATH 3, SCI 3, SOC 3 and 12 electives, all passed by June 2025.
    let courses = [
        ("E", "ELA", 3),
        ("M", "MATH", 3),
        ("S", "SCI", 3),
        ("H", "SOC", 3),
        ("X", "ART", 12),
    ];
    for (prefix, subject, n) in courses {
        for k in 0..n {
            credits += &format!(
                "0004,2025,Y,{prefix}{k},Course {prefix}{k},{subject},1.0,1.0,B,2025-06-12,N\n"
            );
        }
    }
    std::fs::write(dir.path().join("credits.csv"), credits).unwrap();
    let config = config();
    let plan_on = |as_of: &str| {
        let data = common::load(dir.path(), &config, Some(common::date(as_of)));
        let run = ews::features::compute(&data, &config).unwrap();
        plans(&run, &config).unwrap().remove(3)
    };
    // January 16: S1 (ends 01-31) and S2 (06-15) are recovery terms left: 2 credits.
    let senior = plan_on("2026-01-16");
    assert_eq!(senior.credits_needed, 0.0);
    assert_eq!(senior.subjects_needed, "ELA 1");
    assert_eq!(senior.projected_deficit, 0.0);
    assert!(!senior.on_time_reachable);
    assert!(senior.reachable_with_recovery);
    assert_eq!(senior.recover_by, ["ELA 1 (from S1 2026)"]);
    // March 13: S2 is left.
    assert_eq!(plan_on("2026-03-13").recover_by, ["ELA 1 (from S2 2026)"]);
    // June 20: no recovery term is left, the summer is (on time is by August 31 of the
    // cohort year).
    let late = plan_on("2026-06-20");
    assert!(late.reachable_with_recovery);
    assert_eq!(late.recover_by, ["ELA 1 (from summer 2026)"]);
    // Without summer recovery, it is not.
    let mut no_summer = config.clone();
    no_summer.recovery.summer_slots = 0.0;
    let data = common::load(dir.path(), &no_summer, Some(common::date("2026-06-20")));
    let run = ews::features::compute(&data, &no_summer).unwrap();
    assert!(!plans(&run, &no_summer).unwrap()[3].reachable_with_recovery);
}

/// Recovery matches by course: 0003 failed ALG1 (2024, passed again 2025) and BIO (2024); add a
/// GEOM failure (2025) and a Geometry credit-recovery pass (2026-01-10). It recovers GEOM,
/// never the earlier ALG1 or another MATH failure; a recovery course naming the course it
/// recovers, or an equivalent course, recovers that course; a recovery course naming no
/// course makes up its subject's credit, and the plan says so.
#[test]
fn a_geometry_recovery_does_not_clear_algebra_i() {
    let dir = tempfile::tempdir().unwrap();
    common::fixture(dir.path());
    let credits = std::fs::read_to_string(dir.path().join("credits.csv")).unwrap();
    let mut lines = credits.lines();
    let header = format!("{},recovers_course_id", lines.next().unwrap());
    let mut text = format!("{header}\n");
    for line in lines {
        text += &format!("{line},\n");
    }
    // 0004 fails ALG1 (2024) and GEOM (2025), then passes a Geometry recovery course.
    let with = |extra: &str| {
        format!(
            "{text}0004,2024,Y,ALG1,Algebra I,MATH,1.0,0.0,F,2024-06-12,N,\n\
             0004,2025,Y,GEOM,Geometry,MATH,1.0,0.0,F,2025-06-12,N,\n{extra}"
        )
    };
    let config = config();
    let plan_with = |credits: String, config: &ews::config::Config| {
        std::fs::write(dir.path().join("credits.csv"), credits).unwrap();
        let data = common::load(dir.path(), config, None);
        let run = ews::features::compute(&data, config).unwrap();
        let values = ews::features::values_of(&run.table, 3).unwrap();
        (
            plans(&run, config).unwrap().remove(3),
            values["unrecovered_failed_courses"],
        )
    };
    // The recovery course is Geometry itself (same course id): GEOM recovered, ALG1 open.
    let (plan, open) = plan_with(
        with("0004,2026,S1,GEOM,Geometry (CR),MATH,1.0,1.0,C,2026-01-10,Y,\n"),
        &config,
    );
    assert_eq!(
        plan.courses_to_recover,
        ["ALG1 Algebra I (MATH, 1 cr, 2024)"]
    );
    assert_eq!(open, Some(1.0));
    // A recovery course naming GEOM in recovers_course_id: the same.
    let (plan, _) = plan_with(
        with("0004,2026,S1,CR-M2,Math Recovery,MATH,1.0,1.0,C,2026-01-10,Y,GEOM\n"),
        &config,
    );
    assert_eq!(
        plan.courses_to_recover,
        ["ALG1 Algebra I (MATH, 1 cr, 2024)"]
    );
    // A course the config counts for ALG1 recovers ALG1 instead.
    let mut equivalents = config.clone();
    equivalents
        .recovery
        .course_equivalents
        .insert("ALG1".into(), vec!["ALG1-OL".into()]);
    let (plan, _) = plan_with(
        with("0004,2026,S1,ALG1-OL,Algebra I Online,MATH,1.0,1.0,C,2026-01-10,Y,\n"),
        &equivalents,
    );
    assert_eq!(
        plan.courses_to_recover,
        ["GEOM Geometry (MATH, 1 cr, 2025)"]
    );
    // A recovery course naming no course, and no failed course retaken: it makes up the
    // subject's credit for the earliest open MATH failure (ALG1), which the plan lists apart;
    // GEOM is still to recover.
    let (plan, open) = plan_with(
        with("0004,2026,S1,CR-M,Math Recovery,MATH,1.0,1.0,C,2026-01-10,Y,\n"),
        &config,
    );
    assert_eq!(
        plan.courses_to_recover,
        ["GEOM Geometry (MATH, 1 cr, 2025)"]
    );
    assert_eq!(
        plan.courses_made_up,
        ["ALG1 Algebra I (MATH: credit made up by a MATH recovery course)"]
    );
    assert_eq!(open, Some(1.0));
}

/// Requirements by cohort and pathway: the class of 2026 needs 4 science credits, and a
/// student on the `career` pathway needs 22 credits in all and no social studies. 0004 (grade
/// 12, cohort 2026) is measured against the class's requirements, and on the pathway against
/// the pathway's.
#[test]
fn a_cohort_requirement_and_a_pathway_change_what_a_student_needs() {
    let dir = tempfile::tempdir().unwrap();
    common::fixture(dir.path());
    let mut config = config();
    config.graduation.cohorts.insert(
        "2026".into(),
        ews::config::RequirementOverride {
            total_credits: None,
            subject_credits: [("SCI".to_string(), 4.0)].into_iter().collect(),
        },
    );
    config.graduation.pathways.insert(
        "career".into(),
        ews::config::RequirementOverride {
            total_credits: Some(22.0),
            subject_credits: [("SOC".to_string(), 0.0)].into_iter().collect(),
        },
    );
    let plan_of = |config: &ews::config::Config| {
        let data = common::load(dir.path(), config, None);
        let run = ews::features::compute(&data, config).unwrap();
        plans(&run, config).unwrap().remove(3)
    };
    // 0004 has no credits: the class of 2026 needs SCI 4 (3 expected by the start of grade
    // 12, pro rata), the others as the default.
    let class = plan_of(&config);
    assert_eq!(
        class.credits_by_subject,
        "ELA 0/4, MATH 0/3, SCI 0/4, SOC 0/3, electives 0/10"
    );
    assert_eq!(
        class.subjects_behind,
        ["ELA 0/3", "MATH 0/2", "SCI 0/3", "SOC 0/2"]
    );
    assert_eq!(class.credits_needed, 24.0);
    // On the career pathway: 22 in all, SOC no longer required (its credits are electives).
    let students = std::fs::read_to_string(dir.path().join("students.csv")).unwrap();
    let mut lines = students.lines();
    let mut text = format!("{},pathway\n", lines.next().unwrap());
    for line in lines {
        let pathway = if line.starts_with("0004,") {
            "career"
        } else {
            ""
        };
        text += &format!("{line},{pathway}\n");
    }
    std::fs::write(dir.path().join("students.csv"), text).unwrap();
    let career = plan_of(&config);
    assert_eq!(
        career.credits_by_subject,
        "ELA 0/4, MATH 0/3, SCI 0/4, electives 0/11"
    );
    assert_eq!(career.subjects_behind, ["ELA 0/3", "MATH 0/2", "SCI 0/3"]);
    assert_eq!(career.credits_needed, 22.0);
    assert_eq!(career.subjects_needed, "ELA 4; MATH 3; SCI 4");
}

/// Seats per recovery course and session (`[recovery.seats]`) on the fixture, as of
/// 2026-01-16: the candidates are 0004 (grade 12, cohort 2026, no transcript: short in every
/// required subject) and 0003 (grade 11, Biology failed in 2024), both of school 020; the
/// senior comes first in seat order. Each need takes the most specific open offering that
/// covers it, within one course per session for the student (`slots_per_term`, `summer_slots`
/// = 1 credit).
#[test]
fn recovery_seats_are_given_per_course_subject_and_session() {
    use ews::config::SeatOffering;
    use ews::model::score::{ScoredStudent, Tier};
    use ews::outputs::recovery::{seats, NeedKind, Seats};
    let mut config = config();
    // Q1 (ended 2025-10-31) as a recovery term, for an offering whose session is over.
    config.recovery.terms = vec!["Q1".into(), "S1".into(), "S2".into()];
    let run = run(&config, None);
    let plans = plans(&run, &config).unwrap();
    let needs = |row: usize| -> Vec<(NeedKind, String)> {
        plans[row]
            .needs
            .iter()
            .map(|n| (n.kind, n.label.clone()))
            .collect()
    };
    // 0004: a shortfall in each required subject, in config order (none failed: a credit a
    // seat). 0003, one school year left (cohort 2027), a credit a year of each subject: the
    // Biology failure; then SCI, behind already (0 of 1 by grade 11) and two credits more than
    // that year can hold, less the Biology credit; then ELA and MATH, a credit more than that
    // year can hold (`recover_by`).
    let shortfall = |s: &str| (NeedKind::SubjectShortfall, format!("{s} credit"));
    assert_eq!(
        needs(3),
        [
            shortfall("ELA"),
            shortfall("MATH"),
            shortfall("SCI"),
            shortfall("SOC")
        ]
    );
    assert_eq!(
        needs(2),
        [
            (NeedKind::RequiredCourse, "BIO Biology".to_string()),
            shortfall("SCI"),
            shortfall("ELA"),
            shortfall("MATH")
        ]
    );
    assert_eq!(
        plans[2].recover_by,
        [
            "ELA 1 (from S1 2026)",
            "MATH 1 (from S1 2026)",
            "SCI 2 (from S1 2026)"
        ]
    );
    assert!(needs(0).is_empty() && needs(1).is_empty());

    // In rank order (risk): 0001, 0002, 0003, 0004.
    let scored: Vec<ScoredStudent> = [(0, 0.95), (1, 0.92), (2, 0.90), (3, 0.30)]
        .iter()
        .enumerate()
        .map(|(k, &(row, risk))| ScoredStudent {
            row,
            risk,
            tier: Tier::High,
            rank_in_district: k + 1,
            rank_in_school: k % 2 + 1,
            reasons: Vec::new(),
            reason_features: Vec::new(),
        })
        .collect();
    let schools = ["010", "010", "020", "020"];
    let ids = ["0001", "0002", "0003", "0004"];
    let offering = |seats: usize,
                    school: Option<&str>,
                    session: Option<&str>,
                    course: Option<&str>,
                    subject: Option<&str>| SeatOffering {
        seats,
        school_id: school.map(str::to_string),
        session: session.map(str::to_string),
        course_id: course.map(str::to_string),
        subject: subject.map(str::to_string),
    };
    let allocate = |config: &ews::config::Config| -> Seats {
        seats(
            &scored,
            &plans,
            &schools,
            &ids,
            4,
            (run.as_of, run.school_year),
            config,
        )
    };
    let places = |got: &Seats, row: usize| got.places.get(&row).cloned().unwrap_or_default();
    let mut with_seats = config.clone();
    with_seats.recovery.seats = [
        // A Biology course: it recovers the Biology failure, never a science shortfall.
        (
            "Biology lab",
            offering(1, None, Some("S2"), Some("BIO"), None),
        ),
        // Any science, in the summer: the senior's SCI shortfall.
        (
            "Science summer",
            offering(1, None, Some("summer"), None, Some("SCI")),
        ),
        // Math in Q1, over: none of its seats is given.
        ("Math Q1", offering(5, None, Some("Q1"), None, Some("MATH"))),
        // English at the other school: not for school 020's candidates.
        (
            "English 010",
            offering(5, Some("010"), None, None, Some("ELA")),
        ),
    ]
    .into_iter()
    .map(|(name, o)| (name.to_string(), o))
    .collect();
    let got = allocate(&with_seats);
    assert_eq!(got.lists["020"], [3, 2], "the senior first");
    assert!(got.lists["010"].is_empty());
    assert_eq!(
        places(&got, 3),
        ["Science summer (summer 2026): SCI credit"]
    );
    assert_eq!(places(&got, 2), ["Biology lab (S2 2026): BIO Biology"]);
    assert_eq!(got.seated, [None, None, Some(true), Some(true)]);
    let uses: Vec<(&str, &str, bool, usize, usize)> = got
        .offerings
        .iter()
        .map(|o| {
            (
                o.name.as_str(),
                o.session.as_str(),
                o.ended,
                o.given,
                o.wanting,
            )
        })
        .collect();
    assert_eq!(
        uses,
        [
            ("Biology lab", "S2 2026", false, 1, 0),
            // No session named: the next recovery term not ended, S1 (ends 01-31).
            ("English 010", "S1 2026", false, 0, 0),
            ("Math Q1", "Q1 2026", true, 0, 0),
            // 0003's SCI credit: its one seat is the senior's.
            ("Science summer", "summer 2026", false, 1, 1),
        ]
    );

    // Without the Biology lab's seat, 0003's Biology failure falls to the science summer
    // seat, which the senior holds: 0003 has no seat, and both offerings had one more wanting.
    let mut fewer = with_seats.clone();
    fewer.recovery.seats.get_mut("Biology lab").unwrap().seats = 0;
    let got = allocate(&fewer);
    assert_eq!(got.seated, [None, None, Some(false), Some(true)]);
    assert!(places(&got, 2).is_empty());
    let wanting: Vec<usize> = got.offerings.iter().map(|o| o.wanting).collect();
    assert_eq!(wanting, [1, 0, 0, 1]);

    // Two science summer seats: the senior takes one, and one course a summer (summer_slots
    // = 1), so the second goes to 0003's Biology failure.
    let mut two = fewer.clone();
    two.recovery.seats.get_mut("Science summer").unwrap().seats = 2;
    let got = allocate(&two);
    assert_eq!(
        places(&got, 2),
        ["Science summer (summer 2026): BIO Biology"]
    );
    // An offering for any course in S2: the senior's first need, ELA, takes it.
    two.recovery
        .seats
        .insert("Any S2".into(), offering(1, None, Some("S2"), None, None));
    let got = allocate(&two);
    assert_eq!(
        places(&got, 3),
        [
            "Any S2 (S2 2026): ELA credit",
            "Science summer (summer 2026): SCI credit"
        ]
    );

    // A school limit of one student seated: the senior only.
    let mut limited = with_seats.clone();
    limited.recovery.seats_by_school.insert("020".into(), 1);
    let got = allocate(&limited);
    assert_eq!(got.seated, [None, None, Some(false), Some(true)]);
    // Without offerings, the limit alone decides.
    limited.recovery.seats.clear();
    let got = allocate(&limited);
    assert_eq!(got.seated, [None, None, Some(false), Some(true)]);
    assert!(got.places.is_empty() && got.offerings.is_empty());
}
