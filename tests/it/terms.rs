//! The term hierarchy (contract, part 2): a posted mark of a covering term supersedes the marks
//! of the terms it covers, for F counts and GPA; GPA is weighted by credits. Values computed by
//! hand in the comments.

use crate::common;

use std::path::Path;

use common::{assert_close, config, date, features_of, fixture, flags, load, write};
use ews::config::{Config, TermConfig};
use ews::features;

const HEADER: &str =
    "student_id,school_id,school_year,term,course_id,course_name,subject,mark,percent,mark_date,credits\n";

/// - 0001: English 9 Q1 F, Q2 F and the semester S1 F: one failure, GPA 0.
/// - 0002: Algebra II Q1 F, Q2 D and no S1 yet: one failure so far, GPA (0 + 1) / 2.
/// - 0003: Biology W1 F, W2 F, S1 D: no failure, GPA from the S1 D alone (1.0).
/// - 0004: Art S1 A worth 0.5 credit, English 12 S1 C worth 1: GPA (4 × 0.5 + 2 × 1) / 1.5.
fn marks(dir: &Path) {
    fixture(dir);
    write(
        dir,
        "grades.csv",
        &format!(
            "{HEADER}\
             0001,010,2026,Q1,ENG9,English 9,ELA,F,50,2025-10-31,\n\
             0001,010,2026,Q2,ENG9,English 9,ELA,F,52,2026-01-09,\n\
             0001,010,2026,S1,ENG9,English 9,ELA,F,51,2026-01-09,\n\
             0002,010,2026,Q1,ALG2,Algebra II,MATH,F,55,2025-10-31,\n\
             0002,010,2026,Q2,ALG2,Algebra II,MATH,D,64,2026-01-09,\n\
             0003,020,2026,W1,BIO,Biology,SCI,F,50,2025-09-30,\n\
             0003,020,2026,W2,BIO,Biology,SCI,F,55,2025-11-14,\n\
             0003,020,2026,S1,BIO,Biology,SCI,D,63,2026-01-09,\n\
             0004,020,2026,S1,ART2,Art,ART,A,95,2026-01-09,0.5\n\
             0004,020,2026,S1,ENG12,English 12,ELA,C,75,2026-01-09,1\n"
        ),
    );
}

#[test]
fn a_covering_mark_supersedes_the_marks_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    marks(dir.path());
    let v = features_of(dir.path(), &config());
    assert_close(&v, "0001", "f_marks", 1.0);
    assert_close(&v, "0001", "core_f_marks", 1.0);
    assert_close(&v, "0001", "gpa", 0.0);
    assert_close(&v, "0002", "f_marks", 1.0);
    assert_close(&v, "0002", "gpa", 0.5);
    assert_close(&v, "0003", "f_marks", 0.0);
    assert_close(&v, "0003", "gpa", 1.0);
    assert_close(&v, "0004", "gpa", 4.0 / 1.5);
    // The superseded marks are counted in the report, not rejected.
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    assert!(flags(&data).iter().all(|f| f.0 != "grades.csv"));
    let run = features::compute(&data, &config()).unwrap();
    let superseded: u64 = run
        .ignored
        .iter()
        .filter(|i| i.file == "grades.csv" && i.reason.starts_with("superseded"))
        .map(|i| i.rows)
        .sum();
    assert_eq!(superseded, 4, "0001's Q1 and Q2, 0003's W1 and W2");
}

#[test]
fn a_term_the_table_does_not_know_is_rejected_until_the_district_adds_it() {
    let dir = tempfile::tempdir().unwrap();
    marks(dir.path());
    let grades = std::fs::read_to_string(dir.path().join("grades.csv")).unwrap();
    write(
        dir.path(),
        "grades.csv",
        &format!(
            "{grades}0002,010,2026,P1,ALG2,Algebra II,MATH,F,40,2025-09-15,\n\
             0002,010,2026,H1,ALG2,Algebra II,MATH,C,75,2026-01-12,\n"
        ),
    );
    let data = load(dir.path(), &config(), Some(date("2026-01-16")));
    let rejected: Vec<(u64, String, String)> = flags(&data)
        .into_iter()
        .filter(|f| f.0 == "grades.csv")
        .map(|f| (f.1, f.3, f.4))
        .collect();
    assert_eq!(rejected.len(), 2, "{rejected:#?}");
    assert_eq!((rejected[0].0, rejected[0].1.as_str()), (12, "P1"));
    assert!(rejected[0].2.contains("[terms.<TERM>]"));
    // The district's own terms: a progress period P1 and a half H1 that covers it and Q1, Q2.
    let mut config = config();
    config.terms.insert(
        "P1".into(),
        TermConfig {
            covers: vec![],
            ends: "09-30".into(),
        },
    );
    config.terms.insert(
        "H1".into(),
        TermConfig {
            covers: vec!["P1".into(), "S1".into()],
            ends: "01-31".into(),
        },
    );
    let v = features_of(dir.path(), &config);
    // H1 C supersedes P1 F, and through S1 the Q1 F and Q2 D: no failure, GPA 2.0.
    assert_close(&v, "0002", "f_marks", 0.0);
    assert_close(&v, "0002", "gpa", 2.0);
}

#[test]
fn a_term_table_that_covers_itself_or_an_unknown_term_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("ews.toml");
    write(
        work.path(),
        "ews.toml",
        "[terms.A1]\ncovers = [\"B1\"]\nends = \"01-31\"\n[terms.B1]\ncovers = [\"A1\"]\nends = \"01-31\"\n",
    );
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("covers itself"), "{err}");
    write(
        work.path(),
        "ews.toml",
        "[terms.A1]\ncovers = [\"ZZ\"]\nends = \"01-31\"\n",
    );
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("terms.A1.covers"), "{err}");
}
