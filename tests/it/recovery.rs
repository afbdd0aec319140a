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
    // ALG1 C+ then F (at risk and falling; failing, so not counted), ART1 S1 A (0.5 cr),
    // PE1 W (not counted), BIO B then B− (1 cr), HIS9 I then C (1 cr; the Q3 F is posted
    // after the as-of date). Projected 0 + 3.5 + 6 × 3 years left (cohort 2029) = 21.5.
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
    assert_eq!(s1.projected_credits, 21.5);
    assert_eq!(s1.projected_deficit, 2.5);
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
    // As of 2026-01-16 the first semester (ends Jan 31) has not ended: grade 10 expects 6,
    // earned 6. After it, 6 + 3 = 9 are expected: 3 short.
    assert_eq!((s2.credits_expected_now, s2.credit_deficit_now), (6.0, 0.0));

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
    // 0001: 3.5 + 8 × 3 = 27.5 ≥ 24; 0002: 6 + 1 + 8 × 2 = 23 < 24.
    assert!(plans[0].on_time_reachable);
    assert_eq!(plans[0].projected_deficit, 0.0);
    assert!(!plans[1].on_time_reachable);
}

#[test]
fn required_subjects_short_of_credits_come_first() {
    // 0003 fails ART2 (an elective) in 2025, after BIO (2024): BIO still comes first, as
    // science is short of credits; among equals the most recent comes first.
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
    assert_eq!(
        plans[2].courses_to_recover,
        [
            "BIO Biology (SCI, 1 cr, 2024)",
            "ART2 Art II (ART, 1 cr, 2025)"
        ]
    );
    assert_eq!(plans[2].credits_to_recover, 2.0);
}

#[test]
fn credits_expected_now_count_the_ended_terms() {
    let mut config = config();
    config.graduation.term_ends = vec!["01-15".into()];
    let run = run(&config, None);
    let plans = plans(&run, &config).unwrap();
    // 0002, grade 10, as of 2026-01-16: 6 + 6 / 2 = 9 expected, 6 earned.
    assert_eq!(plans[1].credits_expected_now, 9.0);
    assert_eq!(plans[1].credit_deficit_now, 3.0);
    // 0003, grade 11: 12 + 3 = 15 expected, 7 earned.
    assert_eq!(plans[2].credit_deficit_now, 8.0);
}
