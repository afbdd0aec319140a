//! The subcommands: each reads its inputs, runs the stages of the library in order, and prints
//! a short summary to stdout (logs go to stderr).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::{EvaluateArgs, GenerateArgs, ScoreArgs, TrainArgs, ValidateArgs};
use crate::config::Config;
use crate::features;
use crate::ingest::checks::{self, Validated};
use crate::ingest::input::Snapshot;
use crate::ingest::quality::QualityReport;
use crate::io::error::{EwsError, Result};
use crate::io::folders::{self, RunFolder};
use crate::model::score::{self, Tier};
use crate::model::{self, ModelFile};
use crate::synth::generate;

/// Prints a line of a command's summary on stdout. A closed stdout (`ews score … | head`) ends
/// the printing quietly, as ripgrep does: the run's outcome is its exit code and its files, not
/// its summary.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::commands::say_line(format_args!($($arg)*))
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
struct Stages(Vec<(&'static str, Duration)>);

impl Stages {
    fn time<T>(&mut self, stage: &'static str, work: impl FnOnce() -> Result<T>) -> Result<T> {
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

    fn summary(&self) -> String {
        self.0
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
fn load_checked(
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
            let folder = RunFolder::create(
                lock,
                &format!("{}{suffix}", data.as_of),
                config.privacy.file_modes(),
            )?;
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

fn status(quality: &QualityReport) -> RunStatus {
    if quality.has_warnings() {
        RunStatus::Warnings
    } else {
        RunStatus::Clean
    }
}

/// `ews score`: validate → features → probabilities → <out>/<as-of>/.
pub fn score(args: &ScoreArgs, config: &Config, config_path: &Path) -> Result<RunStatus> {
    let modes = config.privacy.file_modes();
    let lock = folders::OutputLock::acquire(&args.out, modes)?;
    // Checked before any work: a nightly job without its key fails at once.
    let pseudonym_key = match args.pseudonymize {
        true => Some(crate::outputs::pseudonym::key_from_env()?),
        false => None,
    };
    let ids = crate::outputs::pseudonym::StudentIds::of(pseudonym_key.as_deref());
    let mut stages = Stages::default();
    let model_path = config.model_file(args.model.as_deref());
    let model = ModelFile::load(&model_path)?;
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    // A snapshot whose outcomes are known (a backtest) also gets the calibration plot and the
    // outcome-based equity rates.
    let with_outcomes = snapshot.find(&crate::contract::OUTCOMES)?.is_some();
    let (data, mut quality) = load_checked(
        &mut stages,
        &snapshot,
        config,
        args.as_of,
        with_outcomes,
        Some((&lock, ".failed")),
    )?;
    let mut run = stages.time("features", || features::compute(&data, config))?;
    let labels = match with_outcomes {
        true => Some(labels_of(&data, &run, &snapshot, config)?.labels),
        false => None,
    };
    // The validated files are done with (a few GiB at a million students).
    drop(data);
    // From here on most stages use one core: the other hashes the inputs for the manifest.
    let input_hashes = crate::outputs::manifest::InputHashes::start(
        quality.files.iter().map(|f| f.path.clone()).collect(),
    );
    quality.add_ignored(&run.ignored);
    let scored = stages.time("score", || score::score(&run.table, &model, config))?;
    let mut warnings = Vec::new();
    if let Some(warning) = flagged_share_warning(args, &run, &scored, &model, config) {
        log::warn!("{warning}");
        warnings.push(warning);
    }
    let audit = stages.time("equity", || {
        referral_audit(&run.table, &scored, labels.as_deref(), config)
    })?;
    let calibration = labels.as_ref().map(|labels| {
        let (risks, known): (Vec<f64>, Vec<bool>) = scored
            .iter()
            .filter_map(|s| labels[s.row].map(|l| (s.risk, l)))
            .unzip();
        crate::model::metrics::calibration_table(&risks, &known)
    });
    let plans = stages.time("plans", || crate::outputs::recovery::plans(&run, config))?;
    // So are the course records: the output stages read the feature table and the plans.
    drop(std::mem::take(&mut run.courses));
    let (students, change_rows, changes) = stages.time("changes", || {
        let mut students =
            crate::outputs::feed::student_frame(&run.table, &scored, &plans, run.as_of, config)?;
        if let Some(key) = &pseudonym_key {
            students = crate::outputs::pseudonym::pseudonymize(
                &students,
                key,
                config.privacy.feed_demographics,
            )?;
        }
        let (rows, counts) = changes_since(args, run.as_of, &students, &ids)?;
        Ok((students, rows, counts))
    })?;
    let timings = stages.0.clone();
    let (published, candidates) = stages.time("write", || {
        let folder = RunFolder::create(&lock, &run.as_of.to_string(), modes)?;
        let mut summary = crate::outputs::feed::summary(
            &run.table,
            &scored,
            run.as_of,
            config.equity.min_group_size,
        )?;
        crate::outputs::changes::write_csv(&folder.file("changes.csv"), &change_rows)?;
        summary.changes = changes.clone();
        summary.student_ids = Some(ids.clone());
        crate::outputs::feed::write_summary(&folder.file("summary.json"), &summary)?;
        let mut change_of = crate::outputs::changes::by_student(&change_rows)?;
        if let Some(key) = &pseudonym_key {
            // changes.csv holds pseudonyms; the counselor files need the real ids back.
            let ids = run.table.column("student_id")?.str()?;
            change_of = ids
                .iter()
                .flatten()
                .filter_map(|id| {
                    let change = change_of.get(&crate::outputs::pseudonym::pseudonym(key, id))?;
                    Some((id.to_string(), change.clone()))
                })
                .collect();
        }
        // The dashboard feed first, and its frame dropped: at a million students the feed,
        // the referral list and the counselor files each hold hundreds of MB while written.
        crate::outputs::feed::write_students(folder.target_staging(), &students)?;
        drop(students);
        // The referral list and the counselor files side by side: each writer uses one core.
        let (referrals, candidates) = rayon::join(
            || crate::outputs::referrals::write(&folder.file("referrals.csv"), &run.table, &scored),
            || {
                crate::outputs::counselor::write_school_files(
                    folder.target_staging(),
                    &run.table,
                    &scored,
                    &plans,
                    &change_of,
                    config,
                )
            },
        );
        referrals?;
        let candidates = candidates?;
        crate::model::equity::write_csv(&folder.file("equity.csv"), &audit)?;
        quality.write(folder.target_staging())?;
        let page = crate::outputs::report::html(&crate::outputs::report::ReportInput {
            summary: &summary,
            scored: &scored,
            changes: changes.as_ref(),
            quality: &quality,
            equity: &audit,
            candidates: &candidates,
            calibration: calibration.as_deref(),
            config,
        });
        std::fs::write(folder.file("report.html"), page)
            .map_err(|e| EwsError::io(folder.file("report.html"), e))?;
        let manifest = crate::outputs::manifest::build(
            folder.target_staging(),
            &crate::outputs::manifest::RunFacts {
                as_of: run.as_of,
                snapshot: &args.snapshot,
                model_path: &model_path,
                model: &model,
                config_path,
                config,
                quality: &quality,
                stages: &timings,
                input_hashes: &input_hashes.finish(),
                student_ids: &ids,
                warnings: &warnings,
            },
        )?;
        crate::outputs::manifest::write(&folder.file("manifest.json"), &manifest)?;
        folder.publish().map(|path| (path, candidates))
    })?;

    let tier_count = |tier: Tier| scored.iter().filter(|s| s.tier == tier).count();
    say!(
        "scored {} students as of {} (school year {}, {} school days)",
        scored.len(),
        run.as_of,
        run.school_year,
        run.school_days
    );
    say!(
        "  tiers: high {} (risk ≥ {}), medium {} (≥ {}), low {}",
        tier_count(Tier::High),
        config.tiers.high,
        tier_count(Tier::Medium),
        config.tiers.medium,
        tier_count(Tier::Low)
    );
    say!("data quality:");
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    say!(
        "equity audit (referred at risk ≥ {}{}):",
        config.tiers.medium,
        if labels.is_some() {
            ""
        } else {
            "; outcomes not yet known"
        }
    );
    for line in crate::model::equity::summary_lines(&audit, config.equity.min_group_size) {
        say!("{line}");
    }
    say!(
        "  credit-recovery candidates: {} in {} schools (schools/, one file per school)",
        candidates.values().sum::<usize>(),
        candidates.len()
    );
    match &changes {
        Some(c) => say!(
            "changes since {} ({}): {} new candidates, {} no longer candidates, {} tier up, {} tier down, {} left the district",
            c.previous_as_of,
            c.previous_run,
            c.new_candidate,
            c.no_longer_candidate,
            c.tier_up,
            c.tier_down,
            c.left_the_district
        ),
        None => say!("changes: no earlier run to compare with"),
    }
    for warning in &warnings {
        say!("warning: {warning}");
    }
    say!("wrote {}", published.join("referrals.csv").display());
    say!("  time: {}", stages.summary());
    Ok(match warnings.is_empty() {
        true => status(&quality),
        false => RunStatus::Warnings,
    })
}

/// The share of students at medium or high risk, against the most recent earlier run in
/// --out of the same school year and model: a warning when it moved by more than
/// `quality.max_flagged_change` (relative to the earlier share, at least 1%).
fn flagged_share_warning(
    args: &ScoreArgs,
    run: &features::FeatureRun,
    scored: &[score::ScoredStudent],
    model: &ModelFile,
    config: &Config,
) -> Option<String> {
    let flagged = scored.iter().filter(|s| s.tier != Tier::Low).count();
    let now = flagged as f64 / scored.len().max(1) as f64;
    let (date, before) = crate::outputs::changes::previous_flagged_share(
        &args.out,
        run.as_of,
        |date| config.school_year_of(date) == run.school_year,
        &model.fingerprint,
    )?;
    let change = (now - before).abs() / before.max(0.01);
    (change > config.quality.max_flagged_change).then(|| {
        format!(
            "the share of students at medium or high risk moved from {:.1}% (run of {date}) to {:.1}%, a change of {:.0}% (quality.max_flagged_change {:.0}%): check the export before acting on this list",
            100.0 * before,
            100.0 * now,
            100.0 * change,
            100.0 * config.quality.max_flagged_change
        )
    })
}

/// changes.csv rows (header only without an earlier run) and their counts. An earlier run
/// found in --out that cannot be compared is skipped with a warning; one named with
/// --previous is an error.
fn changes_since(
    args: &ScoreArgs,
    as_of: chrono::NaiveDate,
    students: &polars::prelude::DataFrame,
    ids: &crate::outputs::pseudonym::StudentIds,
) -> Result<(
    polars::prelude::DataFrame,
    Option<crate::outputs::changes::ChangeCounts>,
)> {
    let empty = || -> Result<polars::prelude::DataFrame> {
        use polars::prelude::*;
        let columns = crate::outputs::changes::COLUMNS
            .iter()
            .map(|name| Column::new_empty((*name).into(), &DataType::String))
            .collect();
        Ok(DataFrame::new_infer_height(columns)?)
    };
    let previous = match &args.previous {
        Some(dir) => {
            let (rows, counts) = crate::outputs::changes::compare(students, dir, ids)?;
            return Ok((rows, Some(counts)));
        }
        None => crate::outputs::changes::previous_run(&args.out, as_of, ids),
    };
    match previous {
        None => Ok((empty()?, None)),
        Some(dir) => match crate::outputs::changes::compare(students, &dir, ids) {
            Ok((rows, counts)) => Ok((rows, Some(counts))),
            Err(e) => {
                log::warn!("no changes.csv comparison: {e}");
                Ok((empty()?, None))
            }
        },
    }
}

/// The equity audit of a score run: who is referred, by group, and with outcomes (a
/// backtest snapshot) how well the referral works for each group.
fn referral_audit(
    table: &polars::prelude::DataFrame,
    scored: &[score::ScoredStudent],
    labels: Option<&[Option<bool>]>,
    config: &Config,
) -> Result<Vec<crate::model::equity::GroupAudit>> {
    let groups = crate::model::equity::group_columns(table)?;
    let students: Vec<crate::model::equity::Student> = scored
        .iter()
        .map(|s| crate::model::equity::Student {
            groups: std::array::from_fn(|a| groups[a].get(s.row)),
            risk: s.risk,
            label: labels.and_then(|l| l[s.row]),
        })
        .collect();
    Ok(crate::model::equity::audit(
        &students,
        config.tiers.medium,
        config.equity.min_group_size,
    ))
}

/// The training labels of a snapshot read with its outcomes.
fn labels_of(
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
pub fn evaluate(args: &EvaluateArgs, config: &Config) -> Result<RunStatus> {
    // A folder that may not be replaced is refused before any work.
    if let Some(out) = &args.out {
        folders::check_replaceable(&renamable(out.clone())?)?;
    }
    let mut stages = Stages::default();
    let model_path = config.model_file(args.model.as_deref());
    let model = ModelFile::load(&model_path)?;
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    let (data, mut quality) = load_checked(&mut stages, &snapshot, config, args.as_of, true, None)?;
    let run = stages.time("features", || features::compute(&data, config))?;
    quality.add_ignored(&run.ignored);
    let evaluation = stages.time("evaluate", || {
        let labels = labels_of(&data, &run, &snapshot, config)?;
        let probabilities = score::probabilities(&run.table, &model)?;
        crate::model::evaluate::evaluate(&run, &probabilities, &labels, config)
    })?;
    let published = stages.time("write", || {
        // `--out`, or `reports/<as-of>.evaluation`.
        let target =
            renamable(args.out.clone().unwrap_or_else(|| {
                Path::new("reports").join(format!("{}.evaluation", run.as_of))
            }))?;
        let (parent, name) = parent_and_name(&target);
        let modes = config.privacy.file_modes();
        let lock = folders::OutputLock::acquire(&parent, modes)?;
        let folder = RunFolder::create(&lock, &name, modes)?;
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
    say!("calibration:");
    for line in evaluation.calibration_lines() {
        say!("{line}");
    }
    say!(
        "equity audit (referred at risk ≥ {}):",
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

/// `ews validate`: the checks of a run, with data_quality.csv and rejects.csv, and no scoring.
pub fn validate(args: &ValidateArgs, config: &Config) -> Result<RunStatus> {
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
    let folder = RunFolder::create(&lock, &format!("{}.validation", data.as_of), modes)?;
    quality.write(folder.target_staging())?;
    let published = folder.publish()?;
    say!("data quality as of {} (gate passed):", data.as_of);
    for line in quality.summary_lines(config) {
        say!("{line}");
    }
    say!("wrote {}", published.display());
    Ok(status(&quality))
}

/// `ews train`: validate → features + labels → model file, with held-out metrics.
pub fn train(args: &TrainArgs, config: &Config) -> Result<RunStatus> {
    let mut stages = Stages::default();
    let snapshot = Snapshot::open(&args.snapshot)?.with_mapping(config.input.clone());
    let (data, mut quality) = load_checked(&mut stages, &snapshot, config, args.as_of, true, None)?;
    let run = stages.time("features", || features::compute(&data, config))?;
    quality.add_ignored(&run.ignored);
    let trained = stages.time("fit", || {
        let labels = labels_of(&data, &run, &snapshot, config)?;
        let mut files = Vec::new();
        for spec in crate::contract::ALL_FILES {
            files.extend(snapshot.find(spec)?);
        }
        // Hashing the inputs (a full read of each) overlaps with the fits.
        let (fingerprint, trained) = rayon::join(
            || model::fingerprint(&files, config),
            || model::train(&run, &labels, "", config),
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
        "  held-out ({} students, {} at risk, stratified {:.0}%): AUC-ROC {:.3}, precision at top 10% {:.3}, recall at top 10% {:.3}, average precision {:.3}",
        h.students,
        h.positives,
        config.model.holdout_fraction * 100.0,
        h.auc_roc,
        h.precision_at_10pct,
        h.recall_at_10pct,
        h.average_precision
    );
    let c = &model.holdout_calibration;
    say!(
        "  held-out calibration: ECE {:.3} → {:.3}, Brier {:.4} → {:.4} with Platt scaling (cross-fitted); {}",
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
        "equity audit on the holdout (referred at risk ≥ {}):",
        config.tiers.medium
    );
    for line in crate::model::equity::summary_lines(&card.equity, config.equity.min_group_size) {
        say!("{line}");
    }
    say!("  coefficients (per standard deviation):");
    for (name, coef) in model.features.iter().zip(&model.coefficients) {
        say!("    {name:<28} {coef:+.3}");
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

/// `ews generate`: a synthetic district, written in the export shape of `config.input`. A
/// mapped export is generated canonically into a staging folder beside `--out` and then
/// exported through the mapping's inverse ([`crate::synth::export`]).
pub fn generate(args: &GenerateArgs, config: &Config) -> Result<RunStatus> {
    let canonical = config.input == crate::config::mapping::Mapping::default() && !args.bom;
    let staging = if canonical {
        None
    } else {
        let parent = match args.out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| EwsError::io(&parent, e))?;
        let dir = tempfile::Builder::new()
            .prefix(".ews-generate-")
            .tempdir_in(&parent)
            .map_err(|e| EwsError::io(&parent, e))?;
        Some(dir)
    };
    let summary = generate::generate(&generate::GenerateOptions {
        students: args.students,
        seed: args.seed,
        out: staging
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_else(|| args.out.clone()),
    })?;
    for snapshot in [&summary.train, &summary.current] {
        let (dir, rows) = match &staging {
            None => (snapshot.dir.clone(), snapshot.rows.clone()),
            Some(_) => {
                let name = snapshot.dir.file_name().unwrap_or_default();
                let dir = args.out.join(name);
                let exported = crate::synth::export::export_snapshot(
                    &snapshot.dir,
                    &config.input,
                    &dir,
                    args.bom,
                )?;
                if exported.lossy_values > 0 {
                    log::warn!(
                        "{}: {} values have characters the export's encoding cannot hold; written with `?`",
                        dir.display(),
                        exported.lossy_values
                    );
                }
                (dir, exported.rows)
            }
        };
        say!(
            "wrote {} ({} students, as of {})",
            dir.display(),
            snapshot.students,
            snapshot.as_of
        );
        for (file, rows) in &rows {
            say!("  {file:<24} {rows:>10} rows");
        }
    }
    if let Some(staging) = &staging {
        let manifest = "generator.json";
        let to = args.out.join(manifest);
        std::fs::copy(staging.path().join(manifest), &to).map_err(|e| EwsError::io(&to, e))?;
    }
    // Synthetic, but shaped like student data: the student-level mode, as a real export should
    // have; the generator's own record is an aggregate.
    let modes = config.privacy.file_modes();
    for snapshot in [&summary.train, &summary.current] {
        let name = snapshot.dir.file_name().unwrap_or_default();
        let dir = args.out.join(name);
        for file in folders::files_under(&dir, &dir)? {
            folders::set_file_mode(&dir.join(file), modes.student_level)?;
        }
        folders::set_file_mode(&dir, folders::FOLDER_MODE)?;
    }
    let manifest = args.out.join("generator.json");
    if manifest.exists() {
        folders::set_file_mode(&manifest, modes.aggregate)?;
    }
    Ok(RunStatus::Clean)
}
