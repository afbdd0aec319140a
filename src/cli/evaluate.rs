//! `ews evaluate`: a model backtested on a labelled snapshot, beside the rule-based indicators.

use std::path::Path;

use crate::cli::EvaluateArgs;
use crate::config::Config;
use crate::features;
use crate::ingest::input::Snapshot;
use crate::io::error::{EwsError, Result};
use crate::io::folders::{self, RunFolder};
use crate::model::score::{self};
use crate::model::ModelFile;

use crate::cli::run::{labelled, labelled_as_of, say, status, RunStatus, Stages};

/// A folder that can be renamed into place: `.`, `..` or `/` name none, so they are resolved.
fn renamable(target: std::path::PathBuf) -> Result<std::path::PathBuf> {
    if target.file_name().is_none() {
        return std::fs::canonicalize(&target).map_err(|e| EwsError::io(&target, e));
    }
    Ok(target)
}

/// A folder path as (its parent, its name); a bare name's parent is `.`.
fn parent_and_name(target: &Path) -> (std::path::PathBuf, String) {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let parent = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    (parent, name)
}

/// `ews evaluate`: a model on a labelled snapshot, beside the rule-based indicators.
pub fn run(args: &EvaluateArgs, config: &Config) -> Result<RunStatus> {
    // A folder that may not be replaced is refused before any work.
    if let Some(out) = &args.out {
        folders::check_replaceable(&renamable(out.clone())?)?;
    }
    let mut stages = Stages::default();
    let model_path = config.model_file(args.model.as_deref());
    let model = ModelFile::load(&model_path)?;
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    // In partitions when the snapshot is larger than `performance.max_memory` allows.
    let (run, mut quality, labels) = labelled(&mut stages, &snapshot, config, args.as_of, true)?;
    quality.add_ignored(&run.ignored);
    let mut evaluation = stages.time("evaluate", || {
        let probabilities = score::probabilities(&run.table, &model)?;
        crate::model::evaluate::evaluate(&run, &probabilities, &labels, config)
    })?;
    if args.checkpoints {
        evaluation.checkpoints = Some(stages.time("checkpoints", || {
            backtest_checkpoints(&snapshot, &run, &model, &evaluation, config)
        })?);
    }
    let published = stages.time("write", || {
        // `--out`, or `reports/<as-of>.evaluation`.
        let target =
            renamable(args.out.clone().unwrap_or_else(|| {
                Path::new("reports").join(format!("{}.evaluation", run.as_of))
            }))?;
        let (parent, name) = parent_and_name(&target);
        let modes = config.privacy.file_modes();
        let lock = folders::OutputLock::acquire(&parent, modes)?;
        let folder = RunFolder::create(&lock, &name)?;
        let json = serde_json::to_string_pretty(&evaluation)
            .map_err(|e| EwsError::io(folder.file("metrics.json"), std::io::Error::other(e)))?;
        let io = |path: std::path::PathBuf| move |e| EwsError::io(path.clone(), e);
        std::fs::write(folder.file("metrics.json"), json + "\n")
            .map_err(io(folder.file("metrics.json")))?;
        std::fs::write(
            folder.file("evaluation.md"),
            evaluation.report_markdown(config.equity.min_group_size),
        )
        .map_err(io(folder.file("evaluation.md")))?;
        crate::model::equity::write_csv(&folder.file("equity.csv"), &evaluation.equity)?;
        quality.write(folder.target_staging())?;
        folder.publish()
    })?;

    say!(
        "evaluated {} on {} labelled students of {} as of {} ({} at risk)",
        model_path.display(),
        evaluation.labelled,
        evaluation.students,
        evaluation.snapshot_as_of,
        evaluation.model.positives
    );
    for line in evaluation.comparison_lines() {
        say!("{line}");
    }
    if let Some(checkpoints) = &evaluation.checkpoints {
        say!("backtests at the model's checkpoints:");
        for c in &checkpoints.evaluated {
            let indicators: Vec<String> = c
                .indicators
                .iter()
                .map(|i| format!("{} {:.3}", i.name, i.auc_roc))
                .collect();
            say!(
                "  {} ({}): AUC {:.3}, AP {:.3}, P@10% {:.3}, ECE {:.3}; indicators' AUC: {}",
                c.checkpoint,
                c.as_of,
                c.auc_roc,
                c.average_precision,
                c.precision_at_10pct,
                c.expected_calibration_error,
                indicators.join(", ")
            );
        }
        for s in &checkpoints.skipped {
            say!("  skipped {}: {}", s.checkpoint, s.reason);
        }
    }
    say!("calibration:");
    for line in evaluation.calibration_lines() {
        say!("{line}");
    }
    say!(
        "equity audit (flagged at risk = risk ≥ {}):",
        evaluation.referral_threshold
    );
    for line in
        crate::model::equity::summary_lines(&evaluation.equity, config.equity.min_group_size)
    {
        say!("{line}");
    }
    say!("data quality:");
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    say!("wrote {}", published.display());
    say!("  time: {}", stages.summary());
    Ok(status(&quality))
}

/// The backtest at each checkpoint of `model` in the snapshot's school year: the snapshot read
/// again as of that date (its later rows left out). The evaluated as-of date itself is
/// `evaluation`'s; a checkpoint after it, or before the first school day, is skipped.
fn backtest_checkpoints(
    snapshot: &Snapshot,
    run: &features::FeatureRun,
    model: &ModelFile,
    evaluation: &crate::model::evaluate::Evaluation,
    config: &Config,
) -> Result<crate::model::evaluate::CheckpointBacktests> {
    use crate::model::evaluate::{CheckpointBacktest, CheckpointBacktests};
    let (dates, skipped) = crate::model::checkpoints::plan(&model.checkpoint_days(), config, run);
    let mut evaluated = Vec::new();
    for (checkpoint, date) in dates {
        let (at, labels) = labelled_as_of(snapshot, config, date)?;
        let probabilities = score::probabilities(&at.table, model)?;
        let result = crate::model::evaluate::evaluate(&at, &probabilities, &labels, config)?;
        evaluated.push(CheckpointBacktest::of(checkpoint, &result));
    }
    // The evaluated date: a checkpoint when the model has one on it.
    let own = crate::model::checkpoints::month_day(run.as_of);
    evaluated.push(CheckpointBacktest::of(own, evaluation));
    Ok(CheckpointBacktests { evaluated, skipped })
}
