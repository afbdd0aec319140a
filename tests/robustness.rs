//! Property test: arbitrary bytes in any input file give an error or a report, never a panic.

mod common;

use std::path::Path;

use common::{config, date, fixture};
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
fn run_pipeline(dir: &Path) {
    let config = config();
    let snapshot = Snapshot::open(dir).unwrap();
    for as_of in [None, Some(date("2026-01-16"))] {
        if let Ok(data) = validate::load(&snapshot, &config, as_of, true) {
            let _ = data.quality.gate(&config);
            let _ = features::compute(&data, &config);
        }
    }
}

/// A file's bytes: pure noise, or the fixture's file with bytes overwritten and inserted.
fn contents(original: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let noise = prop::collection::vec(any::<u8>(), 0..400);
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
    prop_oneof![noise, mutated]
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

proptest! {
    // 64 cases in CI; PROPTEST_CASES=5000 for a longer search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic((file, bytes) in any_file()) {
        let dir = tempfile::tempdir().unwrap();
        fixture_with_outcomes(dir.path());
        let name = FILES[file];
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let result = std::panic::catch_unwind(|| run_pipeline(dir.path()));
        prop_assert!(result.is_ok(), "panic with {name} = {:?}", String::from_utf8_lossy(&bytes));
    }
}
