//! `ews score`: a snapshot checked, its students scored, and the run folder published.

use std::path::Path;

use crate::cli::ScoreArgs;
use crate::config::Config;
use crate::features;
use crate::ingest::input::Snapshot;
use crate::io::error::{EwsError, Result};
use crate::io::folders::{self, RunFolder};
use crate::model::score::{self, Tier};
use crate::model::ModelFile;

use crate::cli::run::{say, status, RunStatus, Stages};

/// `ews score`: validate → features → probabilities → <out>/<as-of>/.
pub fn run(args: &ScoreArgs, config: &Config, config_path: &Path) -> Result<RunStatus> {
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
    let snapshot = Snapshot::open(&args.snapshot)?
        .with_mapping(config.input.clone())
        .with_returned_workbooks(args.decisions.clone());
    // A snapshot whose outcomes are known (a backtest) also gets the calibration plot and the
    // outcome-based equity rates.
    let with_outcomes = snapshot.find(&crate::contract::OUTCOMES)?.is_some();
    let crate::cli::run::Prepared {
        run,
        mut quality,
        labels,
        plans,
    } = crate::cli::run::prepare(
        &mut stages,
        &snapshot,
        config,
        crate::cli::run::Reading {
            as_of: args.as_of,
            outcomes: with_outcomes,
            labels: with_outcomes,
            plans: true,
            gate: Some(Some((&lock, ".failed"))),
            sample: None,
            training_columns: None,
        },
    )?;
    let labels = labels.map(|l| l.labels);
    // From here on most stages use one core: the other hashes the inputs for the manifest.
    let input_hashes = crate::outputs::manifest::InputHashes::start(
        quality.files.iter().map(|f| f.path.clone()).collect(),
    );
    quality.add_ignored(&run.ignored);
    let mut scored = stages.time("score", || score::score(&run.table, &model, config))?;
    let mut warnings = Vec::new();
    if let Some(warning) = checkpoint_warning(&run, &model, config) {
        log::warn!("{warning}");
        warnings.push(warning);
    }
    if let Some(warning) = flagged_share_warning(args, &run, &scored, &model, config) {
        log::warn!("{warning}");
        warnings.push(warning);
    }
    let calibration = labels.as_ref().map(|labels| {
        let (risks, known): (Vec<f64>, Vec<bool>) = scored
            .iter()
            .filter_map(|s| labels[s.row].map(|l| (s.risk, l)))
            .unzip();
        crate::model::metrics::calibration_table(&risks, &known)
    });
    // The follow-up from the run history: stable tiers (set in `scored`), trends, decisions
    // that hold, the unserved list. The history is kept per kind of student id, under the ids
    // the run writes.
    let history = crate::outputs::history::folder(&args.out, &ids);
    let written_ids = written_ids(&run.table, pseudonym_key.as_deref())?;
    let follow = stages.time("follow-up", || {
        crate::outputs::follow_up::follow_up(
            &run,
            &mut scored,
            &plans,
            &written_ids,
            &history,
            config,
        )
    })?;
    let scored = scored;
    let (audit, seats) = stages.time("equity", || {
        let seats = seats(&run, &scored, &plans, config)?;
        let audit = referral_audit(
            &run.table,
            &scored,
            labels.as_deref(),
            &seats.seated,
            config,
        )?;
        Ok::<_, EwsError>((audit, seats))
    })?;
    let (students, change_rows, changes) = stages.time("changes", || {
        let mut students = crate::outputs::feed::student_frame(
            &run.table,
            &scored,
            &plans,
            &run.supports,
            &follow,
            run.as_of,
        )?;
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
    let timings = stages.totals();
    let (published, candidates) = stages.time("write", || {
        let folder = RunFolder::create(&lock, &run.as_of.to_string())?;
        let mut summary = crate::outputs::feed::summary(
            &run.table,
            &scored,
            run.as_of,
            config.equity.min_group_size,
        )?;
        crate::outputs::changes::write_csv(&folder.file("changes.csv"), &change_rows)?;
        summary.changes = changes.clone();
        summary.student_ids = Some(ids.clone());
        summary.recovery_seats =
            crate::outputs::feed::seat_summary(&seats.offerings, config.equity.min_group_size);
        summary.follow_up = Some(crate::outputs::feed::follow_up_summary(
            &run.table,
            &run.supports,
            &follow,
            config.equity.min_group_size,
        )?);
        crate::outputs::feed::write_summary(&folder.file("summary.json"), &summary)?;
        let mut change_of = crate::outputs::changes::by_student(&change_rows)?;
        if pseudonym_key.is_some() {
            // changes.csv holds pseudonyms (computed once, by table row); the counselor files
            // need the real ids back.
            let ids = run.table.column("student_id")?.str()?;
            change_of = ids
                .iter()
                .zip(&written_ids)
                .filter_map(|(id, written)| {
                    let change = change_of.get(written)?;
                    Some((id?.to_string(), change.clone()))
                })
                .collect();
        }
        // The dashboard feed first, and its frame dropped: at a million students the feed,
        // the referral list and the counselor files each hold hundreds of MB while written.
        crate::outputs::feed::write_students(folder.target_staging(), &students)?;
        drop(students);
        crate::io::memory::return_freed();
        // The referral list and the counselor files side by side: each writer uses one core.
        let (referrals, candidates) = rayon::join(
            || {
                crate::outputs::referrals::write(
                    &folder.file("referrals.csv"),
                    &run.table,
                    &scored,
                    &run.supports,
                    config.output.csv_bom,
                )
            },
            || {
                crate::outputs::counselor::write_school_files(
                    folder.target_staging(),
                    &crate::outputs::counselor::SchoolFilesInput {
                        table: &run.table,
                        scored: &scored,
                        plans: &plans,
                        seats: &seats,
                        changes: &change_of,
                        as_of: run.as_of,
                        supports: &run.supports,
                        follow: &follow,
                    },
                    config,
                )
            },
        );
        referrals?;
        let counts = candidates?;
        crate::io::memory::return_freed();
        let candidates = &counts.candidates;
        crate::model::equity::write_csv(&folder.file("equity.csv"), &audit)?;
        quality.write(folder.target_staging())?;
        let page = crate::outputs::report::html(&crate::outputs::report::ReportInput {
            summary: &summary,
            scored: &scored,
            changes: changes.as_ref(),
            quality: &quality,
            equity: &audit,
            candidates,
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
        // Tonight's night of the history, then the run folder published; a rerun of the same
        // as-of date replaces the night.
        let mut night =
            crate::outputs::follow_up::history_frame(&run, &scored, &plans, &follow, &written_ids)?;
        crate::outputs::history::write(&history, run.as_of, &mut night, modes.student_level)?;
        let purged =
            crate::outputs::history::purge(&history, run.as_of, config.history.retain_days)?;
        if purged > 0 {
            log::info!(
                "{}: {purged} nights older than {} days deleted (history.retain_days)",
                history.display(),
                config.history.retain_days
            );
        }
        folder.publish().map(|path| (path, counts))
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
        "equity audit (flagged at risk = the medium or high tier, risk ≥ {}{}):",
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
        "  credit-recovery candidates (something to recover): {} in {} schools (schools/); prevention (at risk, nothing to recover): {} (prevention/)",
        candidates.candidates.values().sum::<usize>(),
        candidates.candidates.len(),
        candidates.prevention.values().sum::<usize>()
    );
    say!(
        "  unserved (needing attention > {} school days, no support, no decision): {} (unserved/); history: {} nights read",
        config.follow_up.unserved_school_days,
        follow.unserved.iter().filter(|u| **u).count(),
        follow.nights_read
    );
    let seated = seats.seated.iter().filter(|s| **s == Some(true)).count();
    if !config.recovery.seats.is_empty() || !config.recovery.seats_by_school.is_empty() {
        say!("  recovery seats: {seated} candidates given a seat");
    }
    for o in &seats.offerings {
        say!(
            "    {} ({}{}): {} of {} seats given, {} candidates wanting{}",
            o.name,
            o.session,
            o.school_id
                .as_deref()
                .map(|_| ", one school")
                .unwrap_or(", all schools"),
            o.given,
            o.seats,
            o.wanting,
            if o.ended {
                " (its session has ended)"
            } else {
                ""
            }
        );
    }
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

/// A warning when the as-of date is more than
/// [`MAX_DAYS_FROM_A_CHECKPOINT`](crate::model::checkpoints::MAX_DAYS_FROM_A_CHECKPOINT) days
/// from every checkpoint the model was trained at: it has not seen records of that time of
/// year, and its risks there are extrapolated.
fn checkpoint_warning(
    run: &features::FeatureRun,
    model: &ModelFile,
    config: &Config,
) -> Option<String> {
    use crate::model::checkpoints::{days_from_nearest, MAX_DAYS_FROM_A_CHECKPOINT};
    let checkpoints: Vec<crate::config::MonthDay> = model
        .checkpoint_days()
        .into_iter()
        .map(|(_, day)| day)
        .collect();
    let days = days_from_nearest(config, run.as_of, &checkpoints)?;
    (days > MAX_DAYS_FROM_A_CHECKPOINT).then(|| {
        let list: Vec<&str> = model
            .checkpoints
            .iter()
            .map(|c| c.checkpoint.as_str())
            .collect();
        format!(
            "the as-of date {} is {days} days from the nearest checkpoint the model was trained at ({}; more than {MAX_DAYS_FROM_A_CHECKPOINT}): its risks at this time of year are extrapolated; train with a checkpoint near this date (`model.checkpoints`)",
            run.as_of,
            list.join(", ")
        )
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

/// The run's recovery seats ([`crate::outputs::recovery::seats`]): the counselor files' order
/// and `within_capacity`, and the equity audit's seat allocation.
fn seats(
    run: &features::FeatureRun,
    scored: &[score::ScoredStudent],
    plans: &[crate::outputs::recovery::Plan],
    config: &Config,
) -> Result<crate::outputs::recovery::Seats> {
    let table = &run.table;
    let schools = table.column("school_id")?.str()?;
    let ids = table.column("student_id")?.str()?;
    let school_ids: Vec<&str> = scored
        .iter()
        .map(|s| schools.get(s.row).unwrap_or(""))
        .collect();
    let student_ids: Vec<&str> = scored
        .iter()
        .map(|s| ids.get(s.row).unwrap_or(""))
        .collect();
    Ok(crate::outputs::recovery::seats(
        scored,
        plans,
        &school_ids,
        &student_ids,
        table.height(),
        (run.as_of, run.school_year),
        config,
    ))
}

/// The equity audit of a score run: who is flagged at risk (the published tier), by group, and
/// with outcomes (a backtest snapshot) how well the flag works for each group.
fn referral_audit(
    table: &polars::prelude::DataFrame,
    scored: &[score::ScoredStudent],
    labels: Option<&[Option<bool>]>,
    seats: &[Option<bool>],
    config: &Config,
) -> Result<Vec<crate::model::equity::GroupAudit>> {
    let groups = crate::model::equity::group_columns(table)?;
    let students: Vec<crate::model::equity::Student> = scored
        .iter()
        .map(|s| crate::model::equity::Student {
            groups: std::array::from_fn(|a| groups[a].get(s.row)),
            risk: s.risk,
            // The published (stable) tier, as in the feed's flagged_at_risk.
            flagged: s.tier != Tier::Low,
            label: labels.and_then(|l| l[s.row]),
            seat: seats[s.row],
        })
        .collect();
    Ok(crate::model::equity::audit(
        &students,
        config.equity.min_group_size,
    ))
}

/// The student ids the run writes (the history, changes.csv), by table row: the ids, or their
/// pseudonyms.
fn written_ids(table: &polars::prelude::DataFrame, key: Option<&[u8]>) -> Result<Vec<String>> {
    Ok(table
        .column("student_id")?
        .str()?
        .iter()
        .map(|id| {
            let id = id.unwrap_or("");
            match key {
                Some(key) => crate::outputs::pseudonym::pseudonym(key, id),
                None => id.to_string(),
            }
        })
        .collect())
}
