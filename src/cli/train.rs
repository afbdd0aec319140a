//! `ews train`: the model fitted on a snapshot with known outcomes, and its model card.

use crate::cli::TrainArgs;
use crate::config::Config;
use crate::ingest::input::Snapshot;
use crate::io::error::Result;
use crate::model::sample::Sample;
use crate::model::{self};

use crate::cli::run::{
    labelled_reading, say, status, training_rows_as_of, Reading, RunStatus, Stages,
};

/// `ews train`: validate → features + labels → model file, with held-out metrics.
pub fn run(args: &TrainArgs, config: &Config) -> Result<RunStatus> {
    let mut stages = Stages::default();
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    // Training reads the feature table only, and of it what the fit reads and the equity
    // audit's groups: the course records (a gigabyte at a million students) go as soon as the
    // features are made. A district of more labelled students than
    // `model.max_training_students` trains on a sample of them, the same students at every
    // checkpoint.
    let (run, mut quality, labels) = labelled_reading(
        &mut stages,
        &snapshot,
        config,
        Reading {
            as_of: args.as_of,
            outcomes: true,
            labels: true,
            plans: false,
            gate: Some(None),
            sample: Some(Sample::Smallest(config.model.max_training_students)),
            training_columns: Some(&crate::model::equity::ATTRIBUTES),
        },
    )?;
    let sample = labels.sampled_from.map(|from| {
        log::info!(
            "training on a sample of {} of the {} labelled students (model.max_training_students)",
            labels.labels.len(),
            from.labelled
        );
        Sample::UpTo(from.largest_key)
    });
    quality.add_ignored(&run.ignored);
    // The earlier checkpoints of the year: the same files read again as of each date (the
    // snapshot's rows after it are left out, as a nightly run on that date would have had).
    let (dates, skipped) = model::checkpoints::plan(&config.model.checkpoints(), config, &run);
    let mut earlier = Vec::new();
    for (checkpoint, date) in &dates {
        let (run, labels) = stages.time("checkpoints", || {
            training_rows_as_of(&snapshot, config, *date, sample)
        })?;
        earlier.push((checkpoint.clone(), run, labels));
    }
    let trained = stages.time("fit", || {
        let mut rows: Vec<model::CheckpointRows> = earlier
            .iter()
            .map(|(checkpoint, run, labels)| model::CheckpointRows {
                checkpoint: checkpoint.clone(),
                run,
                labels,
            })
            .collect();
        rows.push(model::CheckpointRows {
            checkpoint: model::checkpoints::month_day(run.as_of),
            run: &run,
            labels: &labels,
        });
        let stacked = model::stack(&rows)?;
        // The fits read the stacked rows alone: the earlier checkpoints' tables go before them.
        drop(rows);
        drop(earlier);
        let mut files = Vec::new();
        for spec in crate::contract::ALL_FILES {
            files.extend(snapshot.find(spec)?);
        }
        // Hashing the inputs (a full read of each) overlaps with the fits.
        let (fingerprint, trained) = rayon::join(
            || model::fingerprint(&files, config),
            || model::train(stacked, &run, &labels, skipped, "", config),
        );
        let mut trained = trained?;
        trained.model.fingerprint = fingerprint?;
        Ok(trained)
    })?;
    let model = &trained.model;
    let card = stages.time("audit", || {
        crate::model::model_card::ModelCard::new(&run, &trained, config)
    })?;
    stages.time("write", || {
        let mode = config.privacy.aggregate_file_mode();
        model.save(&args.out, mode)?;
        let card_path = args.out.with_file_name("model_card.md");
        crate::io::text::write_atomically(&card_path, card.markdown().as_bytes(), mode)
    })?;

    let t = &model.training;
    if let Some(sample) = t.sample {
        say!(
            "sampled {sample} of the {} labelled students for training (model.max_training_students {}): the figures below are the sample's",
            t.labelled,
            config.model.max_training_students
        );
    }
    say!(
        "trained on {} labelled students of {} as of {} ({} at risk, base rate {:.3})",
        t.labelled,
        t.students,
        t.snapshot_as_of,
        t.positives,
        model.base_rate
    );
    say!(
        "  excluded: {} transferred out, {} outcome not yet known, {} without outcome",
        t.excluded_transferred,
        t.excluded_not_yet_known,
        t.excluded_no_outcome
    );
    say!(
        "  L2 penalty by {}-fold cross-validation (lowest mean log loss):",
        config.model.cv_folds
    );
    for point in &model.cross_validation {
        say!(
            "    {:>8} AUC {:.4} ± {:.4}, log loss {:.4}{}",
            point.l2_penalty,
            point.mean_auc_roc,
            point.se_auc_roc,
            point.mean_log_loss,
            if point.l2_penalty == model.hyperparameters.l2_penalty {
                "  ← chosen"
            } else {
                ""
            }
        );
    }
    let h = &model.holdout;
    say!(
        "  held-out ({} students, stratified {:.0}%; {} rows over the checkpoints, {} at risk): AUC-ROC {:.3}, precision at top 10% {:.3}, recall at top 10% {:.3}, average precision {:.3}",
        t.holdout_students,
        config.model.holdout_fraction * 100.0,
        h.students,
        h.positives,
        h.auc_roc,
        h.precision_at_10pct,
        h.recall_at_10pct,
        h.average_precision
    );
    for c in &model.checkpoints {
        say!(
            "    checkpoint {} ({}): {} holdout rows, AUC-ROC {}, calibration error {}{}",
            c.checkpoint,
            c.as_of,
            c.holdout_rows,
            c.holdout_auc_roc.map_or("-".into(), |v| format!("{v:.3}")),
            c.holdout_expected_calibration_error
                .map_or("-".into(), |v| format!("{v:.3}")),
            if c.calibration.is_some() {
                " (with its calibration step)"
            } else {
                ""
            }
        );
    }
    for s in &model.skipped_checkpoints {
        say!("    skipped checkpoint {}: {}", s.checkpoint, s.reason);
    }
    let c = &model.holdout_calibration;
    say!(
        "  held-out calibration: ECE {:.3} → {:.3}, Brier {:.4} → {:.4} with beta calibration per checkpoint (cross-fitted); {}",
        c.expected_calibration_error_before,
        c.expected_calibration_error_after,
        c.brier_score_before,
        c.brier_score_after,
        if c.applied { "applied" } else { "not needed" }
    );
    say!("  baselines on the holdout:");
    for m in &card.baselines {
        say!(
            "    {:<20} AUC {:.3}, precision at top 10% {:.3}",
            m.name,
            m.auc_roc,
            m.precision_at(0.10)
        );
    }
    say!(
        "equity audit on the holdout (flagged at risk = risk ≥ {}):",
        config.tiers.medium
    );
    for line in crate::model::equity::summary_lines(&card.equity, config.equity.min_group_size) {
        say!("{line}");
    }
    say!("  coefficients (per standard deviation), each held to its direction:");
    for ((name, coef), direction) in model
        .features
        .iter()
        .zip(&model.coefficients)
        .zip(&model.directions)
    {
        say!("    {name:<34} {coef:+.3}  {}", direction.as_str());
    }
    for c in &model.sign_constraints.against_direction_unconstrained {
        say!(
            "  without bounds, {} was {:+.3}, against its direction",
            c.feature,
            c.coefficient
        );
    }
    say!("data quality:");
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    say!(
        "wrote {} and {}",
        args.out.display(),
        args.out.with_file_name("model_card.md").display()
    );
    say!("  time: {}", stages.summary());
    Ok(status(&quality))
}
