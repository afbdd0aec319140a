//! What every subcommand shares: the summary printed on stdout (quiet on a closed pipe), the
//! timing of stages, how a run ended (exit 0 or 1), and the loading of a snapshot with its
//! data-quality gate.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::features;
use crate::ingest::checks::{self, Validated};
use crate::ingest::input::Snapshot;
use crate::ingest::quality::QualityReport;
use crate::io::error::{EwsError, Result};
use crate::io::folders::{self, RunFolder};
use crate::model::{self};

/// Prints a line of a command's summary on stdout. A closed stdout (`ews score … | head`) ends
/// the printing quietly, as ripgrep does: the run's outcome is its exit code and its files, not
/// its summary.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::run::say_line(format_args!($($arg)*))
    };
}

/// [`say!`]'s writer: once a write to stdout has failed, nothing more is written.
pub fn say_line(line: std::fmt::Arguments) {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    static CLOSED: AtomicBool = AtomicBool::new(false);
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let written = crate::io::progress::suspend(|| {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").and_then(|()| stdout.flush())
    });
    if let Err(e) = written {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            log::warn!("stdout: {e}; the rest of the summary is not printed");
        }
    }
}

/// Wall time per stage, printed at the end of a run.
#[derive(Default)]
pub(crate) struct Stages(pub(crate) Vec<(&'static str, Duration)>);

impl Stages {
    pub(crate) fn time<T>(
        &mut self,
        stage: &'static str,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        crate::io::progress::stage(stage);
        let start = Instant::now();
        let value = work()?;
        let elapsed = start.elapsed();
        log::info!(
            "{stage}: {:.2} s{}",
            elapsed.as_secs_f64(),
            crate::io::progress::peak_memory_note()
        );
        self.0.push((stage, elapsed));
        Ok(value)
    }

    /// Each stage once, in the order first run, with the time of all its runs (training reads
    /// the snapshot once per earlier checkpoint, each a `checkpoints` stage).
    pub(crate) fn summary(&self) -> String {
        let mut totals: Vec<(&'static str, Duration)> = Vec::new();
        for &(stage, elapsed) in &self.0 {
            match totals.iter_mut().find(|(name, _)| *name == stage) {
                Some((_, total)) => *total += elapsed,
                None => totals.push((stage, elapsed)),
            }
        }
        totals
            .iter()
            .map(|(stage, d)| format!("{stage} {:.2} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How a run that did not fail ended; the binary maps it to exit code 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Clean,
    /// Rows were rejected or values left blank, below the gate.
    Warnings,
}

/// Reads and checks a snapshot, and applies the gate: on failure the data-quality summary is
/// printed, the report is published as `<out>/<as-of><suffix>` (when given) and the run stops.
pub(crate) fn load_checked(
    stages: &mut Stages,
    snapshot: &Snapshot,
    config: &Config,
    as_of: Option<chrono::NaiveDate>,
    with_outcomes: bool,
    report_dir: Option<(&folders::OutputLock, &str)>,
) -> Result<(Validated, QualityReport)> {
    let mut data = stages.time("read+validate", || {
        checks::load(snapshot, config, as_of, with_outcomes)
    })?;
    let quality = std::mem::take(&mut data.quality);
    let failures = quality.gate(config);
    if failures.is_empty() {
        return Ok((data, quality));
    }
    say!("data quality as of {}:", data.as_of);
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    let report = match report_dir {
        Some((lock, suffix)) => {
            let folder = RunFolder::create(lock, &format!("{}{suffix}", data.as_of))?;
            quality.write(folder.target_staging())?;
            folder.publish()?.display().to_string()
        }
        None => "run `ews validate` for rejects.csv".to_string(),
    };
    Err(EwsError::QualityGate {
        failures: failures.iter().map(ToString::to_string).collect(),
        report,
    })
}

pub(crate) fn status(quality: &QualityReport) -> RunStatus {
    if quality.has_warnings() {
        RunStatus::Warnings
    } else {
        RunStatus::Clean
    }
}

/// The training labels of a snapshot read with its outcomes.
pub(crate) fn labels_of(
    data: &Validated,
    run: &features::FeatureRun,
    snapshot: &Snapshot,
    config: &Config,
) -> Result<model::Labels> {
    let outcomes = data
        .outcomes
        .as_ref()
        .ok_or_else(|| EwsError::MissingFile {
            path: snapshot.path(&crate::contract::OUTCOMES),
        })?;
    model::labels(run, outcomes, config)
}

/// The labelled snapshot again as of an earlier `date` (a checkpoint): read and checked with
/// its rows after the date left out, as a nightly run on that date would have had, its
/// features and its labels.
pub(crate) fn labelled_as_of(
    snapshot: &Snapshot,
    config: &Config,
    date: chrono::NaiveDate,
) -> Result<(features::FeatureRun, model::Labels)> {
    let data = checks::load(snapshot, config, Some(date), true)?;
    let run = features::compute(&data, config)?;
    let labels = labels_of(&data, &run, snapshot, config)?;
    Ok((run, labels))
}

pub(crate) use say;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_run_twice_is_summed_in_the_place_it_first_ran() {
        let ms = Duration::from_millis;
        let stages = Stages(vec![
            ("read", ms(1000)),
            ("checkpoints", ms(250)),
            ("checkpoints", ms(500)),
            ("fit", ms(2000)),
        ]);
        assert_eq!(
            stages.summary(),
            "read 1.00 s, checkpoints 0.75 s, fit 2.00 s"
        );
    }
}
