//! Property test: arbitrary bytes in any input file give an error or a report, never a panic,
//! in the canonical layout and through each shipped example mapping.

mod common;

use std::path::Path;

use common::{config, date, fixture};
use ews::config::Config;
use ews::features;
use ews::input::Snapshot;
use ews::validate;
use proptest::prelude::*;

const FILES: [&str; 6] = [
    "students.csv",
    "attendance.csv",
    "grades.csv",
    "credits.csv",
    "behavior.csv",
    "outcomes.csv",
];

/// Runs validation and the features the way `ews train` does; any outcome but a panic is fine.
fn run_pipeline(dir: &Path, config: &Config) {
    let snapshot = Snapshot::open(dir).unwrap();
    for as_of in [None, Some(date("2026-01-16"))] {
        if let Ok(data) = validate::load(&snapshot, config, as_of, true) {
            let _ = data.quality.gate(config);
            let _ = features::compute(&data, config);
        }
    }
}

/// A file's bytes: pure noise, the fixture's file with bytes overwritten and inserted, or the
/// fixture's file with digits changed to other digits (well-formed values out of the usual
/// range: a year past 2262, a grade of 99, a credit of 9.5, which random bytes rarely make).
fn contents(original: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let noise = prop::collection::vec(any::<u8>(), 0..400);
    let digit_positions: Vec<usize> = (0..original.len())
        .filter(|&i| original[i].is_ascii_digit())
        .collect();
    let digits = {
        let original = original.clone();
        prop::collection::vec((any::<prop::sample::Index>(), b'0'..=b'9'), 1..6).prop_map(
            move |edits| {
                let mut bytes = original.clone();
                for (at, digit) in edits {
                    if !digit_positions.is_empty() {
                        bytes[digit_positions[at.index(digit_positions.len())]] = digit;
                    }
                }
                bytes
            },
        )
    };
    let edits = prop::collection::vec(
        (any::<prop::sample::Index>(), any::<u8>(), any::<bool>()),
        1..12,
    );
    let mutated = edits.prop_map(move |edits| {
        let mut bytes = original.clone();
        for (at, byte, insert) in edits {
            let i = at.index(bytes.len() + 1);
            if insert || i == bytes.len() {
                bytes.insert(i, byte);
            } else {
                bytes[i] = byte;
            }
        }
        bytes
    });
    prop_oneof![noise, mutated, digits]
}

fn fixture_with_outcomes(dir: &Path) {
    fixture(dir);
    common::write(
        dir,
        "outcomes.csv",
        "student_id,outcome,outcome_date\n0001,graduated_on_time,2029-08-31\n0002,dropped_out,2028-08-31\n",
    );
}

/// The fixture's files, as bytes, in the order of [`FILES`].
fn originals() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    fixture_with_outcomes(dir.path());
    FILES
        .iter()
        .map(|name| std::fs::read(dir.path().join(name)).unwrap())
        .collect()
}

fn any_file() -> impl Strategy<Value = (usize, Vec<u8>)> {
    (0..FILES.len()).prop_flat_map(|i| (Just(i), contents(originals()[i].clone())))
}

/// The shipped example mappings.
const EXAMPLES: [&str; 2] = ["tab-windows-1252", "semicolon-0-20"];

fn example_config(example: usize) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/examples")
        .join(format!("{}.toml", EXAMPLES[example]));
    let mut config = config();
    config.input = Config::load(&path).unwrap().input;
    config
}

/// The fixture exported through an example mapping into `dir`; its file names, in the order
/// of [`FILES`].
fn mapped_fixture(dir: &Path, config: &Config) -> Vec<std::path::PathBuf> {
    let canonical = tempfile::tempdir().unwrap();
    fixture_with_outcomes(canonical.path());
    ews::export::export_snapshot(canonical.path(), &config.input, dir, true).unwrap();
    let snapshot = Snapshot::open(dir)
        .unwrap()
        .with_mapping(config.input.clone());
    [
        &ews::input::STUDENTS,
        &ews::input::ATTENDANCE,
        &ews::input::GRADES,
        &ews::input::CREDITS,
        &ews::input::BEHAVIOR,
        &ews::input::OUTCOMES,
    ]
    .map(|spec| snapshot.path(spec))
    .to_vec()
}

fn any_mapped_file() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (0..EXAMPLES.len(), 0..FILES.len()).prop_flat_map(|(example, file)| {
        let dir = tempfile::tempdir().unwrap();
        let paths = mapped_fixture(dir.path(), &example_config(example));
        let original = std::fs::read(&paths[file]).unwrap();
        (Just(example), Just(file), contents(original))
    })
}

/// Found by `arbitrary_bytes_never_panic` in CI: a mistyped year past 2262 on the fixture's
/// latest attendance row became the as-of date, and polars' literal for it panicked (it goes
/// through nanoseconds since 1970). Dates outside 1677–2262, read or given, are now plain dates.
#[test]
fn as_of_dates_outside_polars_nanosecond_range_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    fixture_with_outcomes(dir.path());
    let attendance = dir.path().join("attendance.csv");
    let text = std::fs::read_to_string(&attendance).unwrap();
    let typo = text.replacen("0001,010,2026-01-19,A", "0001,010,2926-01-19,A", 1);
    assert_ne!(
        typo, text,
        "the fixture's latest row is where the test expects it"
    );
    std::fs::write(&attendance, typo).unwrap();
    let snapshot = Snapshot::open(dir.path()).unwrap();
    let config = config();

    let data = validate::load(&snapshot, &config, None, true).unwrap();
    assert_eq!(data.as_of, date("2926-01-19"));
    // Every other row is outside that school year: the gate stops the run, with a reason.
    assert!(!data.quality.gate(&config).is_empty());
    features::compute(&data, &config).unwrap();

    for as_of in ["1600-09-01", "3000-01-15"] {
        let data = validate::load(&snapshot, &config, Some(date(as_of)), true).unwrap();
        assert_eq!(data.as_of, date(as_of));
        features::compute(&data, &config).unwrap();
    }
}

proptest! {
    // 64 cases from a fixed seed in CI; docs/fuzzing.md for a longer search.
    #![proptest_config(common::proptest_config())]

    #[test]
    fn arbitrary_bytes_never_panic((file, bytes) in any_file()) {
        let dir = tempfile::tempdir().unwrap();
        fixture_with_outcomes(dir.path());
        let name = FILES[file];
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let result = std::panic::catch_unwind(|| run_pipeline(dir.path(), &config()));
        prop_assert!(result.is_ok(), "panic with {name} = {:?}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bytes_in_a_mapped_export_never_panic((example, file, bytes) in any_mapped_file()) {
        let dir = tempfile::tempdir().unwrap();
        let config = example_config(example);
        let paths = mapped_fixture(dir.path(), &config);
        std::fs::write(&paths[file], &bytes).unwrap();
        let result = std::panic::catch_unwind(|| run_pipeline(dir.path(), &config));
        prop_assert!(
            result.is_ok(),
            "panic in {} with {:?} = {:?}",
            EXAMPLES[example],
            paths[file].file_name(),
            String::from_utf8_lossy(&bytes)
        );
    }
}
