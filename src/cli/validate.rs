//! `ews validate`: the checks and the gate of a run, with its reports, and no scoring.

use crate::cli::ValidateArgs;
use crate::config::Config;
use crate::ingest::input::Snapshot;
use crate::io::error::Result;
use crate::io::folders::{self, RunFolder};

use crate::cli::run::{prepare, say, status, Prepared, Reading, RunStatus, Stages};

/// `ews validate`: the checks of a run, with data_quality.csv and rejects.csv, and no scoring.
pub fn run(args: &ValidateArgs, config: &Config) -> Result<RunStatus> {
    let modes = config.privacy.file_modes();
    let lock = folders::OutputLock::acquire(&args.out, modes)?;
    let mut stages = Stages::default();
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    // The features too, for the rows they leave out (after the as-of date, other years);
    // in partitions when the snapshot is larger than `performance.max_memory` allows.
    let Prepared {
        run, mut quality, ..
    } = prepare(
        &mut stages,
        &snapshot,
        config,
        Reading {
            as_of: args.as_of,
            outcomes: args.with_outcomes,
            labels: false,
            plans: false,
            gate: Some(Some((&lock, ".validation"))),
            sample: None,
            training_columns: None,
        },
    )?;
    quality.add_ignored(&run.ignored);
    let folder = RunFolder::create(&lock, &format!("{}.validation", run.as_of))?;
    quality.write(folder.target_staging())?;
    let published = folder.publish()?;
    say!("data quality as of {} (gate passed):", run.as_of);
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    say!("wrote {}", published.display());
    Ok(status(&quality))
}
