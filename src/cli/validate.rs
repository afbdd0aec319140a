//! `ews validate`: the checks and the gate of a run, with its reports, and no scoring.

use crate::cli::ValidateArgs;
use crate::config::Config;
use crate::features;
use crate::ingest::input::Snapshot;
use crate::io::error::Result;
use crate::io::folders::{self, RunFolder};

use crate::cli::run::{load_checked, say, status, RunStatus, Stages};

/// `ews validate`: the checks of a run, with data_quality.csv and rejects.csv, and no scoring.
pub fn run(args: &ValidateArgs, config: &Config) -> Result<RunStatus> {
    let modes = config.privacy.file_modes();
    let lock = folders::OutputLock::acquire(&args.out, modes)?;
    let mut stages = Stages::default();
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    let (data, mut quality) = load_checked(
        &mut stages,
        &snapshot,
        config,
        args.as_of,
        args.with_outcomes,
        Some((&lock, ".validation")),
    )?;
    let run = stages.time("features", || features::compute(&data, config))?;
    quality.add_ignored(&run.ignored);
    let folder = RunFolder::create(&lock, &format!("{}.validation", data.as_of))?;
    quality.write(folder.target_staging())?;
    let published = folder.publish()?;
    say!("data quality as of {} (gate passed):", data.as_of);
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    say!("wrote {}", published.display());
    Ok(status(&quality))
}
