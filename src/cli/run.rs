//! What every subcommand shares: the summary printed on stdout (quiet on a closed pipe), the
//! timing of stages, how a run ended (exit 0 or 1), and the loading of a snapshot with its
//! data-quality gate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::features;
use crate::ingest::checks::{self, Validated};
use crate::ingest::input::Snapshot;
use crate::ingest::partition::{self, DistrictDays};
use crate::ingest::quality::QualityReport;
use crate::ingest::split;
use crate::ingest::staging::Staging;
use crate::io::error::{EwsError, Result};
use crate::io::folders::{self, RunFolder};
use crate::model::sample::{Sample, Sampler};
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
        crate::io::memory::return_freed();
        log::info!(
            "{stage}: {:.2} s{}",
            elapsed.as_secs_f64(),
            crate::io::progress::peak_memory_note()
        );
        self.0.push((stage, elapsed));
        Ok(value)
    }

    /// Each stage once, in the order first run, with the time of all its runs (training reads
    /// the snapshot once per earlier checkpoint, each a `checkpoints` stage; a partitioned
    /// run reads and checks once per partition).
    pub(crate) fn totals(&self) -> Vec<(&'static str, Duration)> {
        let mut totals: Vec<(&'static str, Duration)> = Vec::new();
        for &(stage, elapsed) in &self.0 {
            match totals.iter_mut().find(|(name, _)| *name == stage) {
                Some((_, total)) => *total += elapsed,
                None => totals.push((stage, elapsed)),
            }
        }
        totals
    }

    /// [`Stages::totals`] as one line.
    pub(crate) fn summary(&self) -> String {
        self.totals()
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

/// Applies the data-quality gate: on failure the data-quality summary is printed, the report
/// published as `<out>/<as-of><suffix>` (when given) and the run stops.
fn gate(
    quality: &QualityReport,
    as_of: chrono::NaiveDate,
    config: &Config,
    report_dir: Option<(&folders::OutputLock, &str)>,
) -> Result<()> {
    let failures = quality.gate(config);
    if failures.is_empty() {
        return Ok(());
    }
    say!("data quality as of {as_of}:");
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    let report = match report_dir {
        Some((lock, suffix)) => {
            let folder = RunFolder::create(lock, &format!("{as_of}{suffix}"))?;
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

/// A snapshot read, checked, gated and turned into features (and recovery plans), with its
/// training labels when it has outcomes: what `ews score` and `ews train` work from.
pub(crate) struct Prepared {
    /// The feature table; its course records are dropped once the plans are made.
    pub run: features::FeatureRun,
    pub quality: QualityReport,
    pub labels: Option<model::Labels>,
    pub plans: Vec<crate::outputs::recovery::Plan>,
}

/// What a command reads a snapshot for.
#[derive(Clone, Copy)]
pub(crate) struct Reading<'a> {
    pub as_of: Option<chrono::NaiveDate>,
    /// Its outcomes (outcomes.csv, or enrollment exits), checked.
    pub outcomes: bool,
    /// The training labels from them.
    pub labels: bool,
    /// The recovery plans (`ews score`).
    pub plans: bool,
    /// The data-quality gate, with where a failing run publishes its report ([`gate`]); None:
    /// no gate (an earlier checkpoint of a snapshot that passed it).
    pub gate: Option<Option<(&'a folders::OutputLock, &'a str)>>,
    /// Training's sample of labelled students ([`model::sample`]); None: every student.
    pub sample: Option<Sample>,
    /// Only what training reads of the run, and these columns beside
    /// ([`features::FeatureRun::for_training`]), kept partition by partition as they are read:
    /// `ews train`, whose other columns nothing reads. None: the whole run.
    pub training_columns: Option<&'a [&'a str]>,
}

/// Reads a snapshot into a [`Prepared`] run: in one piece, or partition by partition of
/// students ([`crate::ingest::partition`]) when its files are larger than
/// `performance.max_memory` allows. The partitions' outputs are the same bytes.
pub(crate) fn prepare(
    stages: &mut Stages,
    snapshot: &Snapshot,
    config: &Config,
    reading: Reading,
) -> Result<Prepared> {
    let (csv, parquet) = input_size(snapshot)?;
    // What the students keep until the end: training keeps its sample of them.
    let keeping = |students: usize| match reading.sample {
        Some(_) => students.min(config.model.max_training_students),
        None => students,
    };
    let count = partition::partitions_needed(csv, parquet, config);
    if count > 1 {
        // The partitions are cut and the files split once per snapshot and run (`ews train`
        // reads it again at each checkpoint).
        let staging = stages.time("stage", || {
            snapshot.staged_once(count, reading.outcomes, || {
                let parts = checks::partitions(snapshot, config, |students| {
                    partition::partitions_for(csv, parquet, keeping(students), config)
                })?;
                let mut staging = split::stage(snapshot, config, &parts, reading.outcomes)?;
                // A count the config fixes is read as it says.
                if config.performance.partitions == 0 && parts.len() > 1 {
                    let kept = keeping(staging.students());
                    staging.refine(partition::room_for_rows(kept, config))?;
                }
                Ok(staging)
            })
        })?;
        log_partitions(csv + parquet, &staging, keeping(staging.students()), config);
        // Fewer distinct ids than partitions asked for may leave one: read in one piece.
        if staging.parts.len() > 1 {
            if let Some(district) =
                district_days(stages, snapshot, config, reading.as_of, &staging)?
            {
                return prepare_parts(stages, snapshot, config, reading, &staging, &district);
            }
        }
    }
    let mut data = stages.time("read+validate", || {
        checks::load(snapshot, config, reading.as_of, reading.outcomes)
    })?;
    let quality = std::mem::take(&mut data.quality);
    // In one piece, the gate comes before the features.
    if let Some(report_dir) = reading.gate {
        gate(&quality, data.as_of, config, report_dir)?;
    }
    let mut prepared = features_and_plans(stages, &data, snapshot, config, reading)?;
    drop(data);
    let mut sampler = reading
        .sample
        .map(|rule| Sampler::new(rule, config.model.seed));
    narrow(&mut sampler, &mut prepared)?;
    Ok(Prepared {
        quality,
        ..prepared
    })
}

/// Narrows a labelled run, read so far, to training's sample ([`model::sample`]) when the
/// reading asks for one.
fn narrow(sampler: &mut Option<Sampler>, prepared: &mut Prepared) -> Result<()> {
    if let (Some(sampler), Some(labels)) = (sampler, &mut prepared.labels) {
        sampler.narrow(&mut prepared.run, labels)?;
    }
    Ok(())
}

/// The features of checked data, its labels and plans as `reading` asks; the course records
/// are dropped once the plans are made (the output stages read the table and the plans).
fn features_and_plans(
    stages: &mut Stages,
    data: &Validated,
    snapshot: &Snapshot,
    config: &Config,
    reading: Reading,
) -> Result<Prepared> {
    let mut run = stages.time("features", || features::compute(data, config))?;
    let labels = match reading.outcomes && reading.labels {
        true => Some(labels_of(data, &run, snapshot, config)?),
        false => None,
    };
    let plans = match reading.plans {
        true => stages.time("plans", || crate::outputs::recovery::plans(&run, config))?,
        false => Vec::new(),
    };
    run.courses = features::CourseRecords::default();
    if let Some(beside) = reading.training_columns {
        run = run.for_training(beside)?;
    }
    Ok(Prepared {
        run,
        quality: QualityReport::default(),
        labels,
        plans,
    })
}

/// The bytes of a snapshot's files: (CSV, Parquet).
fn input_size(snapshot: &Snapshot) -> Result<(u64, u64)> {
    let (mut csv, mut parquet) = (0, 0);
    for spec in crate::contract::ALL_FILES {
        let Some(path) = snapshot.find(spec)? else {
            continue;
        };
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        match crate::ingest::input::is_parquet(&path) {
            true => parquet += bytes,
            false => csv += bytes,
        }
    }
    Ok((csv, parquet))
}

/// Logs the partitions of a run of `input_bytes`, and warns when what its students keep alone
/// passes `performance.max_memory` (partitions bound the rows, not what each student keeps).
/// `keeping`: the students whose rows are kept to the end (training's sample of them, or
/// every one).
fn log_partitions(input_bytes: u64, staging: &Staging, keeping: usize, config: &Config) {
    let students = staging.students();
    let kept = partition::kept_by_students(keeping);
    let cap = config.performance.max_memory;
    let whose = match keeping < students {
        true => format!("the {keeping} students of training's sample (of {students})"),
        false => format!("its {students} students"),
    };
    log::info!(
        "{} MiB of input: {} partitions of students, read in {} turns, to stay within performance.max_memory ({} MiB), with about {} MiB kept for {whose}",
        input_bytes >> 20,
        staging.parts.len(),
        staging.reads.len(),
        cap >> 20,
        kept >> 20
    );
    if kept > cap {
        log::warn!(
            "{whose} keep about {} MiB until the outputs are written, more than performance.max_memory ({} MiB): the run will need more (docs/performance.md)",
            kept >> 20,
            cap >> 20
        );
    }
}

/// The district's attendance counts, partition by partition ([`checks::district_days`]).
/// None when they give no as-of date: the run then reads in one piece, which says why.
fn district_days(
    stages: &mut Stages,
    snapshot: &Snapshot,
    config: &Config,
    as_of: Option<chrono::NaiveDate>,
    staging: &Arc<Staging>,
) -> Result<Option<DistrictDays>> {
    let district = stages.time("district days", || {
        checks::district_days(snapshot, config, as_of, staging)
    })?;
    Ok(district.as_of.is_some().then_some(district))
}

/// [`prepare`] partition by partition: each is read, checked, turned into features (and
/// plans), and appended; the district's checks and the gate come once all are read. A
/// partition's features that fail are reported after the gate, which a bad snapshot fails
/// first, as it does read in one piece.
fn prepare_parts(
    stages: &mut Stages,
    snapshot: &Snapshot,
    config: &Config,
    reading: Reading,
    staging: &Arc<Staging>,
    district: &DistrictDays,
) -> Result<Prepared> {
    let mut quality = QualityReport::default();
    let mut checks = checks::DistrictChecks::default();
    let mut prepared: Option<Prepared> = None;
    let mut failed: Option<EwsError> = None;
    let mut sampler = reading
        .sample
        .map(|rule| Sampler::new(rule, config.model.seed));
    for (k, read) in staging.reads.iter().enumerate() {
        let part = &read.part;
        log::info!("{part}");
        let (mut data, part_checks) = stages.time("read+validate", || {
            checks::load_part(
                &snapshot.in_partition(staging, k),
                config,
                reading.as_of,
                reading.outcomes,
                part,
                Some(district),
            )
        })?;
        quality.merge(std::mem::take(&mut data.quality));
        checks.add(&part_checks);
        if failed.is_some() {
            continue;
        }
        let features = features_and_plans(stages, &data, snapshot, config, reading);
        // The partition's rows go before the next partition reads its own.
        drop(data);
        match (features, &mut prepared) {
            (Err(e), _) => failed = Some(e),
            (Ok(mut next), None) => {
                // The district's plans in one allocation: grown partition by partition, the
                // vector was copied at each step, the old and the new held at once.
                let more = staging.students().saturating_sub(next.plans.len());
                if !next.plans.is_empty() {
                    next.plans.reserve_exact(more);
                }
                narrow(&mut sampler, &mut next)?;
                prepared = Some(next)
            }
            (Ok(next), Some(all)) => {
                all.run.append(next.run)?;
                all.plans.extend(next.plans);
                if let (Some(labels), Some(more)) = (&mut all.labels, next.labels) {
                    labels.append(more);
                }
                narrow(&mut sampler, all)?;
            }
        }
        crate::io::memory::return_freed();
    }
    checks.report(&mut quality, config);
    if let Some(report_dir) = reading.gate {
        gate(&quality, checks.as_of, config, report_dir)?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // Every partition was read (a failed one returned above).
    let mut prepared = prepared.ok_or_else(|| {
        polars::error::PolarsError::NoData("no partition of students was read".into())
    })?;
    prepared.run.table.rechunk_mut_par();
    prepared.quality = quality;
    Ok(prepared)
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

/// A labelled snapshot read for a backtest: its features (no plans), its quality report and
/// its labels. `gated` applies the data-quality gate (the snapshot as of its own date); an
/// earlier checkpoint of a snapshot that passed it is read without.
pub(crate) fn labelled(
    stages: &mut Stages,
    snapshot: &Snapshot,
    config: &Config,
    as_of: Option<chrono::NaiveDate>,
    gated: bool,
) -> Result<(features::FeatureRun, QualityReport, model::Labels)> {
    labelled_reading(
        stages,
        snapshot,
        config,
        Reading {
            as_of,
            outcomes: true,
            labels: true,
            plans: false,
            gate: gated.then_some(None),
            sample: None,
            training_columns: None,
        },
    )
}

/// [`labelled`] as `reading` says: training's reads.
pub(crate) fn labelled_reading(
    stages: &mut Stages,
    snapshot: &Snapshot,
    config: &Config,
    reading: Reading,
) -> Result<(features::FeatureRun, QualityReport, model::Labels)> {
    let prepared = prepare(stages, snapshot, config, reading)?;
    let labels = prepared.labels.ok_or_else(|| EwsError::MissingFile {
        path: snapshot.path(&crate::contract::OUTCOMES),
    })?;
    Ok((prepared.run, prepared.quality, labels))
}

/// The labelled snapshot again as of an earlier `date` (a checkpoint): read and checked with
/// its rows after the date left out, as a nightly run on that date would have had, its
/// features and its labels.
pub(crate) fn labelled_as_of(
    snapshot: &Snapshot,
    config: &Config,
    date: chrono::NaiveDate,
) -> Result<(features::FeatureRun, model::Labels)> {
    let (run, _, labels) = labelled(&mut Stages::default(), snapshot, config, Some(date), false)?;
    Ok((run, labels))
}

/// [`labelled_as_of`] for training: what training reads of the run
/// ([`features::FeatureRun::for_training`]), of the students of its `sample` when given.
pub(crate) fn training_rows_as_of(
    snapshot: &Snapshot,
    config: &Config,
    date: chrono::NaiveDate,
    sample: Option<Sample>,
) -> Result<(features::FeatureRun, model::Labels)> {
    let (run, _, labels) = labelled_reading(
        &mut Stages::default(),
        snapshot,
        config,
        Reading {
            as_of: Some(date),
            outcomes: true,
            labels: true,
            plans: false,
            gate: None,
            sample,
            training_columns: Some(&[]),
        },
    )?;
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
