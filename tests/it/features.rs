//! Every feature on a tiny snapshot whose values were computed by hand (see the comments).

use crate::common;

use std::collections::BTreeMap;

use common::{by_student, config, date, edit, fixture, load, run};
use ews::features;

fn assert_feature(
    values: &BTreeMap<String, BTreeMap<&'static str, Option<f64>>>,
    id: &str,
    name: &str,
    expected: Option<f64>,
) {
    let actual = values[id][name];
    match (actual, expected) {
        (Some(a), Some(e)) => assert!((a - e).abs() < 1e-9, "{id} {name}: got {a}, expected {e}"),
        _ => assert_eq!(actual, expected, "{id} {name}"),
    }
}

#[test]
fn attendance_features_match_hand_computation() {
    let run = run(&config(), Some(date("2026-01-16")));
    let v = by_student(&run);
    // 0001: Jan 12 P, 13 T, 14 A (the duplicate P loses to A), 15 E, 16 P → 5 days, 3 present.
    assert_feature(&v, "0001", "attendance_rate", Some(0.6));
    assert_feature(&v, "0001", "unexcused_absence_rate", Some(0.2));
    assert_feature(&v, "0001", "tardy_rate", Some(0.2));
    // Missed 2 of 5 days (40%), but 5 membership days are fewer than the 10 chronic absence
    // needs (`attendance.chronic_min_days`): not chronically absent.
    assert_feature(&v, "0001", "chronic_absence", Some(0.0));
    // Last 3 school days (Jan 14–16): A, E, P → 1/3.
    assert_feature(&v, "0001", "recent_attendance_rate", Some(1.0 / 3.0));
    // 0002: P P P P S → 4/5; absent 1 of 5 days (20% ≥ 10%), yet too few days to be
    // chronically absent; recent P P S → 2/3.
    assert_feature(&v, "0002", "attendance_rate", Some(0.8));
    assert_feature(&v, "0002", "chronic_absence", Some(0.0));
    assert_feature(&v, "0002", "recent_attendance_rate", Some(2.0 / 3.0));
    assert_feature(&v, "0002", "unexcused_absence_rate", Some(0.0));
    // 0004: all present.
    assert_feature(&v, "0004", "attendance_rate", Some(1.0));
    assert_feature(&v, "0004", "chronic_absence", Some(0.0));
    // 0003 has no attendance rows: unknown, not zero.
    assert_feature(&v, "0003", "attendance_rate", None);
    assert_feature(&v, "0003", "chronic_absence", None);
    assert_eq!(run.school_days, 5);
    // With 5 days enough (`attendance.chronic_min_days = 5`), 20% and 40% are chronic.
    let mut five = config();
    five.attendance.chronic_min_days = 5;
    let v = by_student(&common::run(&five, Some(date("2026-01-16"))));
    assert_feature(&v, "0001", "chronic_absence", Some(1.0));
    assert_feature(&v, "0002", "chronic_absence", Some(1.0));
    assert_feature(&v, "0004", "chronic_absence", Some(0.0));
}

#[test]
fn a_grade_9_student_without_a_posted_mark_is_not_called_off_track() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // 0001 (grade 9) without any mark: the grades.csv rows of 0002 only.
    let text = std::fs::read_to_string(dir.path().join("grades.csv")).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("0001,")).collect();
    common::write(dir.path(), "grades.csv", &(kept.join("\n") + "\n"));
    let config = config();
    let run = features::compute(
        &load(dir.path(), &config, Some(date("2026-01-16"))),
        &config,
    )
    .unwrap();
    let v = by_student(&run);
    // Unknown, not 0: no mark is no evidence.
    assert_feature(&v, "0001", "freshman_on_track", None);
    // So no reason says "off track".
    let model = ews::model::ModelFile::load(&common::root().join("config/model.json")).unwrap();
    let scored = ews::model::score::score(&run.table, &model, &config).unwrap();
    let first = scored.iter().find(|s| s.row == 0).unwrap();
    assert!(
        first.reasons.iter().all(|r| !r.contains("off track")),
        "{:?}",
        first.reasons
    );
}

#[test]
fn mark_features_match_hand_computation() {
    let v = by_student(&run(&config(), Some(date("2026-01-16"))));
    // 0001 this year up to Jan 16: F (ENG Q1) and F (ALG Q2); the Q3 F is after the as-of
    // date and the Math 8 F is of school year 2025.
    assert_feature(&v, "0001", "f_marks", Some(2.0));
    assert_feature(&v, "0001", "core_f_marks", Some(2.0));
    // Letter marks: F 0, D 1.0, C+ 2.3, F 0, A 4.0, B 3.0, B− 2.7 (U+2212), C 2.0 → 15.0 / 8;
    // I and W excluded.
    assert_feature(&v, "0001", "gpa", Some(15.0 / 8.0));
    assert_feature(&v, "0002", "gpa", Some((3.7 + 3.3) / 2.0));
    assert_feature(&v, "0002", "f_marks", Some(0.0));
    assert_feature(&v, "0003", "gpa", None);
    assert_feature(&v, "0003", "f_marks", Some(0.0));
}

#[test]
fn credit_features_match_hand_computation() {
    let v = by_student(&run(&config(), Some(date("2026-01-16"))));
    // 0002: 5 credits in 2025 + 1 credit-recovery credit (Jan 10); Chemistry completes Jan 20,
    // after the as-of date. Grade 10 expects 6 → no deficit.
    assert_feature(&v, "0002", "credits_earned", Some(6.0));
    assert_feature(&v, "0002", "credit_deficit_start_of_grade", Some(0.0));
    assert_feature(&v, "0002", "credit_deficit_now", Some(0.0));
    // The Algebra I failure is recovered by the later credit-recovery MATH course.
    assert_feature(&v, "0002", "unrecovered_failed_courses", Some(0.0));
    // 0003: 4 credits in 2024 + 3 in 2025 = 7; grade 11 expects 12 → 5 behind.
    assert_feature(&v, "0003", "credits_earned", Some(7.0));
    assert_feature(&v, "0003", "credit_deficit_start_of_grade", Some(5.0));
    assert_feature(&v, "0003", "credit_deficit_now", Some(5.0));
    // ALG1 was retaken and passed in 2025; BIO is still open.
    assert_feature(&v, "0003", "unrecovered_failed_courses", Some(1.0));
    // 0004: no transcript at all in grade 12 → 18 behind.
    assert_feature(&v, "0004", "credits_earned", Some(0.0));
    assert_feature(&v, "0004", "credit_deficit_start_of_grade", Some(18.0));
    assert_feature(&v, "0004", "credit_deficit_now", Some(18.0));
}

#[test]
fn freshman_on_track_matches_hand_computation() {
    let v = by_student(&run(&config(), Some(date("2026-01-16"))));
    // 0001 (grade 9, in progress): latest marks ENG D, ALG F, ART A, PE W, BIO B−, HIS C →
    // 4 courses on pace < 5 → off track.
    assert_feature(&v, "0001", "freshman_on_track", Some(0.0));
    // 0002 (grade 10, freshman year 2025): 5 credits, but a failed year-long MATH course is
    // two semester Fs > 1 → off track.
    assert_feature(&v, "0002", "freshman_on_track", Some(0.0));
    // 0003 (grade 11, freshman year 2024): 4 credits → off track.
    assert_feature(&v, "0003", "freshman_on_track", Some(0.0));
    // 0004 (grade 12) has no grade-9 transcript: unknown.
    assert_feature(&v, "0004", "freshman_on_track", None);
}

#[test]
fn freshman_on_track_is_one_with_enough_credits_and_few_fs() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    // Give 0002 a sixth passed course in 2025 and replace the failed year-long Algebra with a
    // failed semester course: 6 credits, one semester F → on track.
    edit(
        dir.path(),
        "credits.csv",
        "0002,2025,Y,ALG1,Algebra I,MATH,1.0,0.0,F",
        "0002,2025,S2,ALG1,Algebra I,MATH,0.5,0.0,F\n0002,2025,Y,MUS,Music,MUS,1.0,1.0,A",
    );
    let config = config();
    let data = load(dir.path(), &config, Some(date("2026-01-16")));
    let v = by_student(&features::compute(&data, &config).unwrap());
    assert_feature(&v, "0002", "freshman_on_track", Some(1.0));
}

#[test]
fn behavior_and_over_age_match_hand_computation() {
    let v = by_student(&run(&config(), Some(date("2026-01-16"))));
    // 0004: Nov 3 (3 days OSS) and Dec 1 (1 day ISS); Jun 1 is last school year, Feb 1 after.
    assert_feature(&v, "0004", "behavior_incidents", Some(2.0));
    assert_feature(&v, "0004", "suspension_days", Some(4.0));
    assert_feature(&v, "0001", "behavior_incidents", Some(0.0));
    // Age on 2025-09-01: 0001 turns 14 that day (limit 14) → 0; 0002 is 16 (limit 15) → 1;
    // 0004 is 17 until Sep 2 (limit 17) → 0; 0003 has no birth date.
    assert_feature(&v, "0001", "over_age", Some(0.0));
    assert_feature(&v, "0002", "over_age", Some(1.0));
    assert_feature(&v, "0004", "over_age", Some(0.0));
    assert_feature(&v, "0003", "over_age", None);
}

/// The rows of `file` a feature run ignored for a reason starting with `reason`.
fn ignored(run: &features::FeatureRun, file: &str, reason: &str) -> u64 {
    run.ignored
        .iter()
        .find(|i| i.file == file && i.reason.starts_with(reason))
        .map(|i| i.rows)
        .unwrap_or(0)
}

#[test]
fn rows_after_the_as_of_date_are_ignored_and_counted() {
    let run = run(&config(), Some(date("2026-01-16")));
    let count = |file: &str, reason: &str| ignored(&run, file, reason);
    assert_eq!(count("attendance.csv", "dated after"), 1);
    assert_eq!(count("grades.csv", "posted after"), 1);
    // Math 8 (2025) and the 2025-06-01 incident are of the prior year, which
    // `history.years` = 1 reads (prior-year features): not ignored.
    assert_eq!(count("grades.csv", "mark of an earlier"), 0);
    assert_eq!(count("credits.csv", "completed after"), 1);
    assert_eq!(count("behavior.csv", "dated after"), 1);
    assert_eq!(count("behavior.csv", "dated before"), 0);
    // With `history.years` = 0 they are.
    let mut this_year_only = config();
    this_year_only.history.years = 0;
    let run = common::run(&this_year_only, Some(date("2026-01-16")));
    let count = |file: &str, reason: &str| ignored(&run, file, reason);
    assert_eq!(count("grades.csv", "mark of an earlier"), 1);
    assert_eq!(count("behavior.csv", "dated before"), 1);
}

#[test]
fn ids_keep_leading_zeros_and_cohort_year_is_derived() {
    let run = run(&config(), Some(date("2026-01-16")));
    let ids: Vec<&str> = run
        .table
        .column("student_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|id| id.unwrap())
        .collect();
    assert_eq!(ids, ["0001", "0002", "0003", "0004"]);
    let cohort: Vec<Option<i32>> = run
        .table
        .column("cohort_year")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .collect();
    // 0001 (grade 9, blank) → 2026 + 12 − 9 = 2029; 0003 (grade 11, blank) → 2027.
    assert_eq!(cohort, [Some(2029), Some(2028), Some(2027), Some(2026)]);
}

#[test]
fn default_as_of_is_the_latest_school_day() {
    let mut config = config();
    // Jan 12–16 have rows for 3 of 4 students; Jan 19 only for one (25% < 50%).
    config.attendance.school_day_min_share = 0.5;
    let run = run(&config, None);
    assert_eq!(run.as_of, date("2026-01-16"));
    assert_eq!(run.school_year, 2026);
}

/// On the sample, every reason comes from a feature that raises the student's risk and whose
/// value is worse than the district's typical value as both are shown: never "late on 5% of
/// days (district median 5%)".
#[test]
fn no_reason_comes_from_a_value_at_or_better_than_the_typical_one() {
    use ews::model::score;
    let config = ews::config::Config::load(&common::root().join("config/ews.toml")).unwrap();
    let snapshot =
        ews::ingest::input::Snapshot::open(&common::root().join("sample_data/current")).unwrap();
    let data = ews::ingest::checks::load(&snapshot, &config, None, false).unwrap();
    let run = features::compute(&data, &config).unwrap();
    let model = ews::model::ModelFile::load(&common::root().join("config/model.json")).unwrap();
    let scored = score::score(&run.table, &model, &config).unwrap();
    let typical = |name: &str| {
        let column = run.table.column(name).unwrap().f64().unwrap().clone();
        score::typical_value(name, column.iter().map(|v| v.unwrap_or(f64::NAN)))
    };
    let mut reasons = 0;
    for s in &scored {
        for (feature, text) in s.reason_features.iter().zip(&s.reasons) {
            let value = run
                .table
                .column(feature)
                .unwrap()
                .f64()
                .unwrap()
                .get(s.row)
                .unwrap();
            let def = features::feature(feature).unwrap();
            assert!(
                def.is_worse_than(value, typical(feature)),
                "{feature} = {value} against {}: {text}",
                typical(feature)
            );
            reasons += 1;
        }
    }
    assert!(reasons > 1000, "{reasons} reasons");
    // By hand: at the district's typical value, or better, no feature is worse.
    let late = features::feature("tardy_rate").unwrap();
    assert!(!late.is_worse_than(0.052, 0.048), "5% against 5%");
    assert!(late.is_worse_than(0.06, 0.048));
    let gpa = features::feature("gpa").unwrap();
    assert!(!gpa.is_worse_than(2.9, 2.5) && gpa.is_worse_than(2.1, 2.5));
    assert!(!gpa.is_worse_than(f64::NAN, 2.5));
}

#[test]
fn the_feature_dictionary_documents_every_direction_and_indicator() {
    let docs = std::fs::read_to_string(common::root().join("docs/features.md")).unwrap();
    let row = |name: &str| {
        docs.lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("{name} not in docs/features.md"))
            .to_string()
    };
    for f in &ews::features::FEATURES {
        let line = row(f.name);
        assert!(
            line.contains(&format!(" | {} | ", f.direction.as_str())),
            "{}: direction {} not documented",
            f.name,
            f.direction.as_str()
        );
    }
    for input in ews::features::model_inputs() {
        if let ews::features::ModelInput::MissingIndicator { name, of } = input {
            let line = row(name);
            assert!(line.contains(&format!("`{}`", of.name)), "{line}");
        }
    }
}

#[test]
fn prior_year_features_by_hand() {
    // The fixture's school year is 2025-26; `history.years` = 1 reads 2024-25 too.
    // 0001: no prior-year attendance row (2024-06-30 is two years back): no rate;
    //       a prior-year mark, Math 8 F (2025, Y): GPA 0, one F, in a core subject; no
    //       prior-year incident, with the year on record for them: 0.
    // 0002: the 2024-25 transcript (grade 9): 6 courses, 5 credits earned (Algebra I F);
    //       no prior-year attendance or mark: those unknown; no incident, with the year on
    //       record (the transcript): 0.
    // 0003: 2024-25 (its grade 10): 3 credits; the 2023-24 rows are two years back.
    // 0004: a prior-year incident (2025-06-01, no suspension), no prior attendance, mark or
    //       transcript row.
    let fixture_dir = || {
        let work = tempfile::tempdir().unwrap();
        fixture(work.path());
        work
    };
    let plain = fixture_dir();
    let v = common::features_of(plain.path(), &config());
    assert_feature(&v, "0001", "prior_attendance_rate", None);
    assert_feature(&v, "0001", "prior_gpa", Some(0.0));
    assert_feature(&v, "0001", "prior_f_marks", Some(1.0));
    assert_feature(&v, "0001", "prior_core_f_marks", Some(1.0));
    assert_feature(&v, "0001", "prior_behavior_incidents", Some(0.0));
    assert_feature(&v, "0001", "prior_suspension_days", Some(0.0));
    for id in ["0002", "0003"] {
        for name in ["prior_attendance_rate", "prior_gpa", "prior_f_marks"] {
            assert_feature(&v, id, name, None);
        }
        assert_feature(&v, id, "prior_behavior_incidents", Some(0.0));
    }
    assert_feature(&v, "0002", "prior_credits_earned", Some(5.0));
    assert_feature(&v, "0003", "prior_credits_earned", Some(3.0));
    assert_feature(&v, "0001", "prior_credits_earned", None);
    assert_feature(&v, "0004", "prior_credits_earned", None);
    assert_feature(&v, "0004", "prior_behavior_incidents", Some(1.0));
    assert_feature(&v, "0004", "prior_suspension_days", Some(0.0));
    assert_feature(&v, "0004", "prior_gpa", None);

    // Ten school days of 2024-25 for 0002, two of them absent: 80%.
    let work = fixture_dir();
    let dir = work.path();
    let mut text = std::fs::read_to_string(dir.join("attendance.csv")).unwrap();
    for (k, day) in [3, 4, 5, 6, 7, 10, 11, 12, 13, 14].iter().enumerate() {
        let code = if k < 2 { "A" } else { "P" };
        text.push_str(&format!("0002,010,2025-03-{day:02},{code}\n"));
    }
    common::write(dir, "attendance.csv", &text);
    let v = common::features_of(dir, &config());
    common::assert_close(&v, "0002", "prior_attendance_rate", 0.8);

    // This year's attendance rate does not change (the 2025 rows are another year).
    let without = common::features_of(plain.path(), &config());
    assert_eq!(
        v["0002"]["attendance_rate"],
        without["0002"]["attendance_rate"]
    );

    // With `history.years` = 0 nothing of 2024-25 is read.
    let mut none = config();
    none.history.years = 0;
    let v = common::features_of(plain.path(), &none);
    assert_feature(&v, "0001", "prior_gpa", None);
    assert_feature(&v, "0004", "prior_behavior_incidents", None);
    assert_feature(&v, "0002", "prior_credits_earned", None);
}
