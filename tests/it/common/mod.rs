//! The tiny snapshot shared by the feature and validation tests; its values are computed by
//! hand in the tests' comments.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use ews::config::Config;
use ews::features::{self, FeatureRun};
use ews::ingest::checks::{self, Validated};
use ews::ingest::input::Snapshot;

/// The repository root, where the binary runs (config/, sample_data/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `ews` binary from the repository root.
pub fn ews(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ews"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the ews binary runs")
}

/// Copies a snapshot folder of the repository (e.g. `sample_data/current`) to `to`.
pub fn copy_snapshot(from: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(root().join(from)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Runs `ews score snapshot --out out`, which must succeed (exit 0, or 1 for warnings).
pub fn score(snapshot: &Path, out: &Path) {
    let result = ews(&[
        "score",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        result.status.code() == Some(0) || result.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Scores sample_data/current with a config of `toml`; (the work folder, the output folder).
pub fn score_sample_with_config(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("ews.toml");
    std::fs::write(&config, toml).unwrap();
    let out = work.path().join("out");
    let result = ews(&[
        "--config",
        config.to_str().unwrap(),
        "score",
        "sample_data/current",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    (work, out)
}

/// The property tests' settings: 64 cases from a fixed seed, so CI runs the same cases every
/// time and a failure there is a reproducible regression, not luck. A longer search sets
/// PROPTEST_CASES and a new PROPTEST_RNG_SEED each run (docs/fuzzing.md).
pub fn proptest_config() -> proptest::test_runner::Config {
    proptest_config_cases(64)
}

/// [`proptest_config`] with `cases` cases in CI (for properties that run the binary).
pub fn proptest_config_cases(cases: u32) -> proptest::test_runner::Config {
    // proptest's default has read (and checked) PROPTEST_* from the environment; where a
    // variable is not set, our default replaces proptest's.
    let from_environment = proptest::test_runner::Config::default();
    let set = |name: &str| std::env::var_os(name).is_some();
    proptest::test_runner::Config {
        cases: if set("PROPTEST_CASES") {
            from_environment.cases
        } else {
            cases
        },
        rng_seed: if set("PROPTEST_RNG_SEED") {
            from_environment.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(20261128)
        },
        failure_persistence: None,
        ..from_environment
    }
}

/// (file, line, column, value, reason, action) of a flagged row of rejects.csv.
pub type Flag = (String, u64, String, String, String, String);

/// Every flagged row of a validated snapshot, in the order of its report.
pub fn flags(data: &Validated) -> Vec<Flag> {
    let mut out = Vec::new();
    for frame in &data.quality.rejects {
        let text = |name: &str| frame.column(name).unwrap().str().unwrap().clone();
        let (file, column, value, reason, action) = (
            text("file"),
            text("column"),
            text("value"),
            text("reason"),
            text("action"),
        );
        let line = frame.column("line").unwrap().u64().unwrap().clone();
        for i in 0..frame.height() {
            out.push((
                file.get(i).unwrap().to_string(),
                line.get(i).unwrap(),
                column.get(i).unwrap_or("").to_string(),
                value.get(i).unwrap_or("").to_string(),
                reason.get(i).unwrap().to_string(),
                action.get(i).unwrap().to_string(),
            ));
        }
    }
    out
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Four students in school year 2026 (as of Fri 2026-01-16), five school days Jan 12–16.
pub fn fixture(dir: &Path) {
    // A BOM, a quoted name with a comma, leading zeros in ids.
    write(
        dir,
        "students.csv",
        "\u{feff}student_id,first_name,last_name,school_id,school_name,grade_level,birth_date,cohort_year,gender,race_ethnicity,ell,sped,econ_disadvantaged,counselor\n\
         0001,Ana,Muñoz,010,\"King, Jr. High\",9,2011-09-01,,F,Hispanic/Latino,N,N,Y,Ms. Rivera\n\
         0002,Ben,O'Brien,010,\"King, Jr. High\",10,2009-08-15,2028,M,White,N,Y,N,Ms. Rivera\n\
         0003,Cy,Nguyễn,020,Lincoln High,11,,,M,Asian,Y,N,Y,Mr. Tanaka\n\
         0004,Di,Smith,020,Lincoln High,12,2007-09-02,2026,F,Black,N,N,Y,Mr. Tanaka\n",
    );
    write(
        dir,
        "attendance.csv",
        "student_id,school_id,date,code\n\
         0001,010,2024-06-30,P\n\
         0001,010,2026-01-12,P\n\
         0001,010,2026-01-13,T\n\
         0001,010,2026-01-14,P\n\
         0001,010,2026-01-14,A\n\
         0001,010,2026-01-15,E\n\
         0001,010,2026-01-16,P\n\
         0001,010,2026-01-19,A\n\
         0002,010,2026-01-12,P\n\
         0002,010,2026-01-13,P\n\
         0002,010,2026-01-14,P\n\
         0002,010,2026-01-15,P\n\
         0002,010,2026-01-16,S\n\
         0004,020,2026-01-12,P\n\
         0004,020,2026-01-13,P\n\
         0004,020,2026-01-14,P\n\
         0004,020,2026-01-15,P\n\
         0004,020,2026-01-16,P\n\
         9999,020,2026-01-12,P\n",
    );
    write(
        dir,
        "grades.csv",
        "student_id,school_id,school_year,term,course_id,course_name,subject,mark,percent,mark_date\n\
         0001,010,2026,Q1,ENG9,English 9,ELA,F,50,2025-10-31\n\
         0001,010,2026,Q2,ENG9,English 9,ELA,D,64,2026-01-09\n\
         0001,010,2026,Q1,ALG1,Algebra I,MATH,C+,78,2025-10-31\n\
         0001,010,2026,Q2,ALG1,Algebra I,MATH,F,40,2026-01-09\n\
         0001,010,2026,S1,ART1,\"Art, Studio\",ART,A,95,2026-01-09\n\
         0001,010,2026,S1,PE1,PE,PE,W,,2026-01-09\n\
         0001,010,2026,Q1,BIO,Biology,SCI,B,85,2025-10-31\n\
         0001,010,2026,Q2,BIO,Biology,SCI,B\u{2212},81,2026-01-09\n\
         0001,010,2026,Q1,HIS9,World History,SOC,I,,2025-10-31\n\
         0001,010,2026,Q2,HIS9,World History,SOC,C,74,2026-01-09\n\
         0001,010,2026,Q3,HIS9,World History,SOC,F,30,2026-02-20\n\
         0001,010,2025,Y,MS8,Math 8,MATH,F,30,2025-06-12\n\
         0002,010,2026,Q1,ENG10,English 10,ELA,A-,91,2025-10-31\n\
         0002,010,2026,Q2,ENG10,English 10,ELA,B+,88,2026-01-09\n",
    );
    write(
        dir,
        "credits.csv",
        "student_id,school_year,term,course_id,course_name,subject,credits_attempted,credits_earned,mark,completion_date,credit_recovery\n\
         0002,2025,Y,ENG9,English 9,ELA,1.0,1.0,B,2025-06-12,N\n\
         0002,2025,Y,ALG1,Algebra I,MATH,1.0,0.0,F,2025-06-12,N\n\
         0002,2025,Y,BIO,Biology,SCI,1.0,1.0,C,2025-06-12,N\n\
         0002,2025,Y,HIS9,World History,SOC,1.0,1.0,B,2025-06-12,N\n\
         0002,2025,Y,ART1,Art,ART,1.0,1.0,A,2025-06-12,N\n\
         0002,2025,Y,PE1,PE,PE,1.0,1.0,A,2025-06-12,\n\
         0002,2026,S1,9ALG,CR Algebra I,MATH,1.0,1.0,C,2026-01-10,Y\n\
         0002,2026,S1,CHEM,Chemistry,SCI,1.0,1.0,B,2026-01-20,N\n\
         0003,2024,Y,ENG9,English 9,ELA,1.0,1.0,C,2024-06-12,N\n\
         0003,2024,Y,ALG1,Algebra I,MATH,1.0,0.0,F,2024-06-12,N\n\
         0003,2024,Y,BIO,Biology,SCI,1.0,0.0,F,2024-06-12,N\n\
         0003,2024,Y,HIS9,World History,SOC,1.0,1.0,D,2024-06-12,N\n\
         0003,2024,Y,ART1,Art,ART,1.0,1.0,B,2024-06-12,N\n\
         0003,2024,Y,PE1,PE,PE,1.0,1.0,A,2024-06-12,N\n\
         0003,2025,Y,ENG10,English 10,ELA,1.0,1.0,C,2025-06-12,N\n\
         0003,2025,Y,ALG1,Algebra I,MATH,1.0,1.0,D,2025-06-12,N\n\
         0003,2025,Y,HIS10,US History,SOC,1.0,1.0,C,2025-06-12,N\n",
    );
    write(
        dir,
        "behavior.csv",
        "student_id,date,incident_type,suspension_type,suspension_days\n\
         0004,2025-06-01,Disruption,,0\n\
         0004,2025-11-03,Fighting,OSS,3\n\
         0004,2025-12-01,Disruption,ISS,1\n\
         0004,2026-02-01,Fighting,OSS,2\n",
    );
}

/// The fixture's config: a 3-day recent-attendance window.
pub fn config() -> Config {
    let mut config = Config::default();
    config.attendance.recent_school_days = 3;
    config
}

/// The error message of a snapshot that cannot be read at all (with the fixture's config).
pub fn load_error(dir: &Path) -> String {
    checks::load(&Snapshot::open(dir).unwrap(), &config(), None, false)
        .unwrap_err()
        .to_string()
}

pub fn load(dir: &Path, config: &Config, as_of: Option<NaiveDate>) -> Validated {
    checks::load(&Snapshot::open(dir).unwrap(), config, as_of, false).unwrap()
}

pub fn run(config: &Config, as_of: Option<NaiveDate>) -> FeatureRun {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    features::compute(&load(dir.path(), config, as_of), config).unwrap()
}

/// Replaces `from` by `to` in one file of the snapshot (the text must be there).
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    write(dir, file, &text.replacen(from, to, 1));
}

/// Feature values by student id.
pub type Values =
    std::collections::BTreeMap<String, std::collections::BTreeMap<&'static str, Option<f64>>>;

/// Feature values of a feature run, by student id.
pub fn by_student(run: &FeatureRun) -> Values {
    let ids = run.table.column("student_id").unwrap().str().unwrap();
    (0..run.table.height())
        .map(|row| {
            (
                ids.get(row).unwrap().to_string(),
                features::values_of(&run.table, row).unwrap(),
            )
        })
        .collect()
}

/// The features of the snapshot in `dir` as of 2026-01-16 (the fixture's last school day).
pub fn features_of(dir: &Path, config: &Config) -> Values {
    let data = load(dir, config, Some(date("2026-01-16")));
    by_student(&features::compute(&data, config).unwrap())
}

/// A known feature value, to 1e-12.
pub fn assert_close(values: &Values, id: &str, name: &str, expected: f64) {
    let actual = values[id][name].unwrap_or(f64::NAN);
    assert!(
        (actual - expected).abs() < 1e-12,
        "{id} {name}: got {actual}, expected {expected}"
    );
}

/// The rows of a CSV file (after any byte-order mark) as maps from column to value.
pub fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}
