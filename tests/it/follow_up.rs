//! The follow-up from night to night, by hand on the tiny fixture's four students: the risks
//! of each night are set here (not the model's), the history is written as `ews score` writes
//! it, and the school days are the weekdays from Monday 2026-01-05.

use crate::common;

use chrono::NaiveDate;
use ews::features::supports::Decision;
use ews::features::FeatureRun;
use ews::model::score::{ScoredStudent, Tier};
use ews::outputs::follow_up::{follow_up, history_frame, FollowUp};
use ews::outputs::{history, recovery};

/// Weekdays from 2026-01-05 (60 of them).
fn weekdays() -> Vec<NaiveDate> {
    let mut day = common::date("2026-01-05");
    let mut days = Vec::new();
    while days.len() < 60 {
        use chrono::Datelike;
        if day.weekday().num_days_from_monday() < 5 {
            days.push(day);
        }
        day = day.succ_opt().unwrap();
    }
    days
}

/// The fixture's run with the weekdays as its calendar.
fn fixture_run() -> FeatureRun {
    let mut run = common::run(&common::config(), Some(common::date("2026-01-16")));
    run.calendar = weekdays();
    run
}

/// One night: the four students' risks on school day `day`, the follow-up, the night written.
fn night(run: &mut FeatureRun, folder: &std::path::Path, day: usize, risks: [f64; 4]) -> FollowUp {
    let config = common::config();
    let calendar = weekdays();
    run.as_of = calendar[day];
    run.calendar = calendar[..=day].to_vec();
    let plans = recovery::plans(run, &config).unwrap();
    let mut scored: Vec<ScoredStudent> = risks
        .iter()
        .enumerate()
        .map(|(row, &risk)| ScoredStudent {
            row,
            risk,
            tier: Tier::of(risk, &config),
            rank_in_district: row + 1,
            rank_in_school: row + 1,
            reasons: Vec::new(),
            reason_features: Vec::new(),
        })
        .collect();
    let ids: Vec<String> = ["0001", "0002", "0003", "0004"].map(String::from).to_vec();
    let follow = follow_up(run, &mut scored, &plans, &ids, folder, &config).unwrap();
    let mut frame = history_frame(run, &scored, &plans, &follow, &ids).unwrap();
    history::write(folder, run.as_of, &mut frame, 0o600).unwrap();
    // The stable tier, as published.
    assert!(scored
        .iter()
        .all(|s| follow.raw_tier[s.row] == Tier::of(s.risk, &config)));
    follow
}

fn decision(status: &str, date: &str) -> Decision {
    Decision {
        status: status.to_string(),
        date: common::date(date),
        reason: None,
        source: "referral_status.csv",
    }
}

#[test]
fn a_not_appropriate_decision_holds_until_the_risk_rises_or_forty_school_days_pass() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("history");
    let mut run = fixture_run();
    // 0001 marked not_appropriate on the first night (risk 0.30); 0002 declined on the second
    // night, known only on the fourth.
    run.supports
        .decisions
        .insert(0, decision("not_appropriate", "2026-01-05"));
    let holds = |f: &FollowUp| (f.decision_holds[0], f.decision_holds[1]);
    let first = night(&mut run, &folder, 0, [0.30, 0.40, 0.1, 0.1]);
    assert_eq!(first.decision_risk[0], Some(0.30));
    assert_eq!(holds(&first), (true, false));
    // +0.05: still holds; and not unserved, for the decision.
    let second = night(&mut run, &folder, 1, [0.35, 0.42, 0.1, 0.1]);
    assert_eq!(holds(&second), (true, false));
    night(&mut run, &folder, 2, [0.39, 0.45, 0.1, 0.1]);
    run.supports
        .decisions
        .insert(1, decision("declined", "2026-01-06"));
    // The risk rose by 0.10 over the night of the decision: it no longer holds. 0002's decision
    // is measured from the night it was made on (2026-01-06, risk 0.42), not the first night
    // that knew it (0.45).
    let fourth = night(&mut run, &folder, 3, [0.40, 0.50, 0.1, 0.1]);
    assert_eq!(fourth.decision_risk[1], Some(0.42));
    assert_eq!(holds(&fourth), (false, true));
    let fifth = night(&mut run, &folder, 4, [0.40, 0.53, 0.1, 0.1]);
    assert_eq!(holds(&fifth), (false, false));

    // At a steady risk, a decision holds for 39 school days and stops on the 40th.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("history");
    let mut run = fixture_run();
    run.supports
        .decisions
        .insert(0, decision("declined", "2026-01-05"));
    assert!(night(&mut run, &folder, 0, [0.30, 0.1, 0.1, 0.1]).decision_holds[0]);
    assert!(night(&mut run, &folder, 39, [0.30, 0.1, 0.1, 0.1]).decision_holds[0]);
    assert!(!night(&mut run, &folder, 40, [0.30, 0.1, 0.1, 0.1]).decision_holds[0]);
}

#[test]
fn a_student_needing_attention_with_no_support_or_decision_is_unserved_after_ten_school_days() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("history");
    let mut run = fixture_run();
    // 0002 has a planned support, 0003 a counselor's review. 0004 is at low risk, but a
    // senior with no credit: something to recover, so needing attention too.
    run.supports.planned.insert(1);
    run.supports
        .decisions
        .insert(2, decision("reviewed", "2026-01-06"));
    for day in 0..=11 {
        let follow = night(&mut run, &folder, day, [0.60, 0.60, 0.60, 0.05]);
        // 0001 has needed attention since the first night: `day` school days after it.
        assert_eq!(follow.days_needing[0], day);
        assert_eq!(follow.attention_since[0], Some(common::date("2026-01-05")));
        // More than 10 school days: unserved from the twelfth night.
        assert_eq!(follow.unserved[0], day > 10, "night {day}");
        assert!(!follow.unserved[1] && !follow.unserved[2]);
        assert_eq!(follow.unserved[3], day > 10, "night {day}");
        assert_eq!(follow.days_flagged[3], None, "low risk: not flagged");
        assert_eq!(follow.days_flagged[0], Some(day));
    }
    // A support ends the wait.
    run.supports
        .current
        .insert(0, "tutoring (active since 2026-01-20)".into());
    assert!(!night(&mut run, &folder, 12, [0.60, 0.60, 0.60, 0.05]).unserved[0]);
}

#[test]
fn a_tier_moves_within_the_margin_only_once_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("history");
    let mut run = fixture_run();
    let tier_after = |run: &mut FeatureRun, day: usize, risk: f64| {
        let config = common::config();
        let follow = night(run, &folder, day, [risk, 0.1, 0.1, 0.1]);
        // The published tier is what follow_up set: the raw one unless a move is pending.
        match follow.pending[0] {
            Some((raw, _)) => {
                assert_eq!(raw, Tier::of(risk, &config));
                None
            }
            None => Some(Tier::of(risk, &config)),
        }
    };
    assert_eq!(tier_after(&mut run, 0, 0.24), Some(Tier::Low));
    // 0.26 is within 0.03 of the medium threshold (0.25): pending for four nights...
    for day in 1..=4 {
        assert_eq!(tier_after(&mut run, day, 0.26), None, "night {day}");
    }
    // ... confirmed on the fifth school day there.
    assert_eq!(tier_after(&mut run, 5, 0.26), Some(Tier::Medium));
    // Back to 0.24: within the margin again, pending; 0.20 is beyond it: low at once.
    assert_eq!(tier_after(&mut run, 6, 0.24), None);
    assert_eq!(tier_after(&mut run, 7, 0.20), Some(Tier::Low));
    // 0.29 is beyond the margin: medium at once.
    assert_eq!(tier_after(&mut run, 8, 0.29), Some(Tier::Medium));
    // A week without a run: the raw tier may have been there since the night before, so a
    // move within the margin is confirmed at once.
    assert_eq!(tier_after(&mut run, 15, 0.23), Some(Tier::Low));
}
