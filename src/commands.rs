//! The subcommands: each reads its inputs, runs the stages of the library in order, and prints
//! a short summary to stdout (logs go to stderr).

use std::time::{Duration, Instant};

use crate::cli::{GenerateArgs, ScoreArgs, TrainArgs};
use crate::config::Config;
use crate::error::Result;
use crate::features::{self, FeatureRun};
use crate::input::{self, Snapshot};
use crate::model::{self, ModelFile};
use crate::output::{self, RunFolder};
use crate::score::{self, Tier};
use crate::{generate, validate};

/// Wall time per stage, printed at the end of a run.
#[derive(Default)]
struct Stages(Vec<(&'static str, Duration)>);

impl Stages {
    fn time<T>(&mut self, stage: &'static str, work: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let value = work()?;
        let elapsed = start.elapsed();
        log::info!("{stage}: {:.2} s", elapsed.as_secs_f64());
        self.0.push((stage, elapsed));
        Ok(value)
    }

    fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(stage, d)| format!("{stage} {:.2} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn print_ignored(run: &FeatureRun) {
    for ignored in &run.ignored {
        println!(
            "  ignored {:>9} rows of {}: {}",
            ignored.rows, ignored.file, ignored.reason
        );
    }
}

/// `ews score`: features → probabilities → <out>/<as-of>/referrals.csv.
pub fn score(args: &ScoreArgs, config: &Config) -> Result<()> {
    let mut stages = Stages::default();
    let model = ModelFile::load(&args.model)?;
    let snapshot = Snapshot::open(&args.snapshot)?;
    let run = stages.time("read+features", || {
        features::compute(&snapshot, config, args.as_of)
    })?;
    let scored = stages.time("score", || score::score(&run.table, &model, config))?;
    let published = stages.time("write", || {
        let folder = RunFolder::create(&args.out, &run.as_of.to_string())?;
        output::write_referrals(&folder.file("referrals.csv"), &run.table, &scored)?;
        folder.publish()
    })?;

    let tier_count = |tier: Tier| scored.iter().filter(|s| s.tier == tier).count();
    println!(
        "scored {} students as of {} (school year {}, {} school days)",
        scored.len(),
        run.as_of,
        run.school_year,
        run.school_days
    );
    println!(
        "  tiers: high {} (risk ≥ {}), medium {} (≥ {}), low {}",
        tier_count(Tier::High),
        config.tiers.high,
        tier_count(Tier::Medium),
        config.tiers.medium,
        tier_count(Tier::Low)
    );
    print_ignored(&run);
    println!("  wrote {}", published.join("referrals.csv").display());
    println!("  time: {}", stages.summary());
    Ok(())
}

/// `ews train`: features + labels → model file, with held-out metrics.
pub fn train(args: &TrainArgs, config: &Config) -> Result<()> {
    let mut stages = Stages::default();
    let snapshot = Snapshot::open(&args.snapshot)?;
    let run = stages.time("read+features", || {
        features::compute(&snapshot, config, args.as_of)
    })?;
    let model = stages.time("fit", || {
        let outcomes = validate::outcomes(snapshot.scan(&input::OUTCOMES)?).collect_checked()?;
        let labels = model::labels(&run, &outcomes, config)?;
        model::train(&run, &labels, config)
    })?;
    stages.time("write", || model.save(&args.out))?;

    let t = &model.training;
    println!(
        "trained on {} labelled students of {} as of {} ({} at risk, base rate {:.3})",
        t.labelled, t.students, t.snapshot_as_of, t.positives, model.base_rate
    );
    println!(
        "  excluded: {} transferred out, {} outcome not yet known, {} without outcome; {} outcome rows for students not enrolled",
        t.excluded_transferred, t.excluded_not_yet_known, t.excluded_no_outcome, t.outcomes_not_enrolled
    );
    print_ignored(&run);
    let h = &model.holdout;
    println!(
        "  held-out ({} students, {} at risk, stratified {:.0}%): AUC-ROC {:.3}, precision at top 10% {:.3}, recall at top 10% {:.3}, average precision {:.3}",
        h.students,
        h.positives,
        config.model.holdout_fraction * 100.0,
        h.auc_roc,
        h.precision_at_10pct,
        h.recall_at_10pct,
        h.average_precision
    );
    println!("  coefficients (per standard deviation):");
    for (name, coef) in model.features.iter().zip(&model.coefficients) {
        println!("    {name:<28} {coef:+.3}");
    }
    println!("  wrote {}", args.out.display());
    println!("  time: {}", stages.summary());
    Ok(())
}

/// `ews generate`: a synthetic district.
pub fn generate(args: &GenerateArgs) -> Result<()> {
    let summary = generate::generate(&generate::GenerateOptions {
        students: args.students,
        seed: args.seed,
        out: args.out.clone(),
    })?;
    for snapshot in [&summary.train, &summary.current] {
        println!(
            "wrote {} ({} students, as of {})",
            snapshot.dir.display(),
            snapshot.students,
            snapshot.as_of
        );
        for (file, rows) in &snapshot.rows {
            println!("  {file:<16} {rows:>10} rows");
        }
    }
    Ok(())
}
