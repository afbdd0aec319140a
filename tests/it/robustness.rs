//! Property tests: arbitrary bytes in any input file give an error or a report, never a panic,
//! in the canonical layout and through each shipped example mapping; and structural damage
//! (delimiters, quotes, line breaks, invalid UTF-8, blank and padding lines) in any file, run
//! through the `ews` binary, ends in exit code 0, 1 or 2 and never prints a value of a
//! student's row.

use crate::common;

use std::path::Path;

use common::{config, date, fixture};
use ews::config::Config;
use ews::features;
use ews::ingest::checks;
use ews::ingest::input::Snapshot;
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
        if let Ok(data) = checks::load(&snapshot, config, as_of, true) {
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
    ews::synth::export::export_snapshot(canonical.path(), &config.input, dir, true).unwrap();
    let snapshot = Snapshot::open(dir)
        .unwrap()
        .with_mapping(config.input.clone());
    [
        &ews::contract::STUDENTS,
        &ews::contract::ATTENDANCE,
        &ews::contract::GRADES,
        &ews::contract::CREDITS,
        &ews::contract::BEHAVIOR,
        &ews::contract::OUTCOMES,
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

    let data = checks::load(&snapshot, &config, None, true).unwrap();
    assert_eq!(data.as_of, date("2926-01-19"));
    // Every other row is outside that school year: the gate stops the run, with a reason.
    assert!(!data.quality.gate(&config).is_empty());
    features::compute(&data, &config).unwrap();

    for as_of in ["1600-09-01", "3000-01-15"] {
        let data = checks::load(&snapshot, &config, Some(date(as_of)), true).unwrap();
        assert_eq!(data.as_of, date(as_of));
        features::compute(&data, &config).unwrap();
    }
}

/// One structural edit of a file: what real exports and their typos do to a CSV.
#[derive(Debug, Clone)]
enum Damage {
    Insert(&'static [u8]),
    DeleteByte,
    /// Cut the rest of the line (a truncated row).
    TruncateLine,
    /// Repeat the line (a duplicated row).
    DuplicateLine,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::Insert(b",")),
        Just(Damage::Insert(b";")),
        Just(Damage::Insert(b"\t")),
        Just(Damage::Insert(b"\"")),
        Just(Damage::Insert(b"\"\"")),
        Just(Damage::Insert(b"\n")),
        Just(Damage::Insert(b"\r\n")),
        Just(Damage::Insert(b"\r")),
        Just(Damage::Insert(b"\n\n")),
        Just(Damage::Insert(b"\n,,,,,\n")),
        Just(Damage::Insert(b"\xff")),
        Just(Damage::Insert(b"\xc3")),
        Just(Damage::Insert(b"\xe9")),
        Just(Damage::Insert(b"\xed\xa0\x80")),
        Just(Damage::Insert(b"\xef\xbb\xbf")),
        Just(Damage::DeleteByte),
        Just(Damage::TruncateLine),
        Just(Damage::DuplicateLine),
    ]
}

fn apply(bytes: &mut Vec<u8>, at: usize, damage: &Damage) {
    let at = at.min(bytes.len());
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| at + i);
    match damage {
        Damage::Insert(text) => {
            bytes.splice(at..at, text.iter().copied());
        }
        Damage::DeleteByte if at < bytes.len() => {
            bytes.remove(at);
        }
        Damage::DeleteByte => {}
        Damage::TruncateLine => {
            bytes.drain(at..line_end);
        }
        Damage::DuplicateLine => {
            let line: Vec<u8> = bytes[line_start..line_end].to_vec();
            bytes.splice(line_start..line_start, line.into_iter().chain([b'\n']));
        }
    }
}

/// The fixture's personal values (ids, names, birth dates, counselors) that a clean run of
/// the binary on `dir` (the fixture, maybe in a mapped shape) does not print anyway.
fn secrets(dir: &Path, config: Option<&Path>) -> Vec<String> {
    let canonical = tempfile::tempdir().unwrap();
    fixture_with_outcomes(canonical.path());
    let mut reader = csv::Reader::from_path(canonical.path().join("students.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let wanted: Vec<usize> = [
        "student_id",
        "first_name",
        "last_name",
        "birth_date",
        "counselor",
    ]
    .iter()
    .filter_map(|c| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == *c)
    })
    .collect();
    let mut values: Vec<String> = reader
        .records()
        .flat_map(|r| {
            let r = r.unwrap();
            wanted.iter().map(|&i| r[i].to_string()).collect::<Vec<_>>()
        })
        .filter(|v| v.len() >= 3)
        .collect();
    values.sort();
    values.dedup();
    let clean = run_binary(dir, config);
    values.retain(|v| !clean.1.contains(v.as_str()));
    values
}

/// `ews score` on a snapshot; (exit code, stdout + stderr).
fn run_binary(dir: &Path, config: Option<&Path>) -> (Option<i32>, String) {
    let out = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ews"));
    command.current_dir(common::root());
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let result = command
        .args(["-vv", "score", "--as-of", "2026-01-16", "--out"])
        .arg(out.path())
        .arg(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&result.stdout).to_string()
        + &String::from_utf8_lossy(&result.stderr);
    (result.status.code(), text)
}

fn any_damage() -> impl Strategy<Value = (usize, Vec<(prop::sample::Index, Damage)>)> {
    (
        0..FILES.len(),
        prop::collection::vec((any::<prop::sample::Index>(), damage()), 1..6),
    )
}

/// Runs the binary on the fixture (canonical, or exported through example `example`) with
/// `damages` applied to file `file`, and checks the exit code and that nothing leaked.
fn damaged_run(
    example: Option<usize>,
    file: usize,
    damages: &[(prop::sample::Index, Damage)],
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let (paths, mapping) = match example {
        None => {
            fixture_with_outcomes(dir.path());
            let paths: Vec<std::path::PathBuf> = FILES.iter().map(|f| dir.path().join(f)).collect();
            (paths, String::new())
        }
        Some(example) => {
            let config = example_config(example);
            let paths = mapped_fixture(dir.path(), &config);
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/examples")
                .join(format!("{}.toml", EXAMPLES[example]));
            (paths, std::fs::read_to_string(path).unwrap())
        }
    };
    // A gate loose enough for the fixture (which rejects rows on purpose), so a damaged file
    // usually goes all the way to the outputs, their messages included.
    let config_dir = tempfile::tempdir().unwrap();
    let config_path = config_dir.path().join("ews.toml");
    std::fs::write(
        &config_path,
        mapping + "\n[quality]\nmax_rejected_share = 0.6\n\n[attendance]\nrecent_school_days = 3\n",
    )
    .unwrap();
    let config_path = Some(config_path);
    let secrets = secrets(dir.path(), config_path.as_deref());
    let mut bytes = std::fs::read(&paths[file]).unwrap();
    for (at, damage) in damages {
        let at = at.index(bytes.len() + 1);
        apply(&mut bytes, at, damage);
    }
    std::fs::write(&paths[file], &bytes).unwrap();
    let (code, output) = run_binary(dir.path(), config_path.as_deref());
    // A longer search tallies the exit codes (docs/fuzzing.md).
    if let Some(tally) = std::env::var_os("EWS_FUZZ_TALLY") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(tally)
            .unwrap();
        writeln!(file, "{code:?} {}", secrets.len()).unwrap();
    }
    prop_assert!(
        matches!(code, Some(0..=2)),
        "exit {code:?} with {:?} = {:?}:\n{output}",
        paths[file].file_name(),
        String::from_utf8_lossy(&bytes)
    );
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| output.contains(s.as_str()))
        .collect();
    prop_assert!(
        leaked.is_empty(),
        "{leaked:?} printed with {:?} = {:?}:\n{output}",
        paths[file].file_name(),
        String::from_utf8_lossy(&bytes)
    );
    Ok(())
}

proptest! {
    // A fixed seed in CI (32 runs of the binary each); docs/fuzzing.md for a longer search.
    #![proptest_config(common::proptest_config_cases(32))]

    #[test]
    fn damaged_exports_exit_0_1_or_2_and_print_no_student_value((file, damages) in any_damage()) {
        damaged_run(None, file, &damages)?;
    }

    #[test]
    fn damaged_mapped_exports_exit_0_1_or_2_and_print_no_student_value(
        example in 0..EXAMPLES.len(),
        (file, damages) in any_damage(),
    ) {
        damaged_run(Some(example), file, &damages)?;
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
