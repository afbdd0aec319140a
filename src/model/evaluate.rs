//! Evaluation of a model on a labelled snapshot (a backtest), side by side with the rule-based
//! indicators the field already uses, so a district can see whether the model earns its place.
//!
//! The indicators are computed from the same feature table:
//! - the freshman on-track indicator (Allensworth & Easton 2005): off-track = at risk;
//! - the ABC flags (Balfanz, Herzog & Mac Iver 2007): attendance below 90%, any suspension
//!   day, any core-course F this year; any flag = at risk.
//!
//! A yes/no indicator ranks every flagged student equally, so its precision at the top k% is
//! the expected value with ties in random order ([`crate::model::metrics::expected_precision_at`]).

use polars::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::features::FeatureRun;
use crate::io::error::Result;
use crate::io::text::metric;
use crate::model::equity::{self, GroupAudit};
use crate::model::metrics::{self, CalibrationBin};

/// The top shares of students at which precision and recall are reported.
pub const TOP_FRACTIONS: [f64; 3] = [0.05, 0.10, 0.20];

/// Attendance below this share of days is the A of the ABC flags.
pub const ABC_ATTENDANCE_BELOW: f64 = 0.90;

/// Precision and recall among the top share of students by score.
#[derive(Debug, Clone, Serialize)]
pub struct AtTop {
    pub fraction: f64,
    pub students: usize,
    pub precision: f64,
    pub recall: f64,
}

/// The metrics of one score (the model or an indicator) on the labelled students.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreMetrics {
    pub name: String,
    pub students: usize,
    pub positives: usize,
    /// For a yes/no indicator: students flagged.
    pub flagged: Option<usize>,
    pub auc_roc: f64,
    pub average_precision: f64,
    /// Only for probabilities (the model).
    pub brier_score: Option<f64>,
    pub log_loss: Option<f64>,
    pub at_top: Vec<AtTop>,
}

impl ScoreMetrics {
    pub fn compute(name: &str, scores: &[f64], labels: &[bool], probabilities: bool) -> Self {
        ScoreMetrics {
            name: name.to_string(),
            students: labels.len(),
            positives: labels.iter().filter(|l| **l).count(),
            flagged: (!probabilities).then(|| scores.iter().filter(|s| **s > 0.0).count()),
            auc_roc: metrics::auc_roc(scores, labels),
            average_precision: metrics::average_precision(scores, labels),
            brier_score: probabilities.then(|| metrics::brier_score(scores, labels)),
            log_loss: probabilities.then(|| metrics::log_loss(scores, labels)),
            at_top: TOP_FRACTIONS
                .iter()
                .map(|&fraction| AtTop {
                    fraction,
                    students: metrics::top_k(labels.len(), fraction),
                    precision: metrics::expected_precision_at(scores, labels, fraction),
                    recall: metrics::expected_recall_at(scores, labels, fraction),
                })
                .collect(),
        }
    }

    /// The metrics as text, by name: `auc`, `ap`, `p5` `p10` `p20`, `r5` `r10` `r20`, `brier`,
    /// `log_loss`, `flagged` ("-" where a metric does not apply).
    pub fn cell(&self, name: &str) -> String {
        let dash = || "-".to_string();
        let at = |fraction: f64, precision: bool| {
            self.at(fraction)
                .map(|t| metric(if precision { t.precision } else { t.recall }))
                .unwrap_or_else(dash)
        };
        match name {
            "auc" => metric(self.auc_roc),
            "ap" => metric(self.average_precision),
            "p5" => at(0.05, true),
            "p10" => at(0.10, true),
            "p20" => at(0.20, true),
            "r5" => at(0.05, false),
            "r10" => at(0.10, false),
            "r20" => at(0.20, false),
            "brier" => self.brier_score.map(metric).unwrap_or_else(dash),
            "log_loss" => self.log_loss.map(metric).unwrap_or_else(dash),
            "flagged" => self.flagged.map(|f| f.to_string()).unwrap_or_else(dash),
            _ => dash(),
        }
    }

    /// One Markdown table row of the named cells.
    pub fn markdown_row(&self, cells: &[&str]) -> String {
        let values: Vec<String> = cells.iter().map(|c| self.cell(c)).collect();
        format!("| {} | {} |\n", self.name, values.join(" | "))
    }

    /// The figures at the top `fraction` (one of [`TOP_FRACTIONS`]).
    pub fn at(&self, fraction: f64) -> Option<&AtTop> {
        self.at_top
            .iter()
            .find(|t| (t.fraction - fraction).abs() < 1e-9)
    }

    /// Precision at the top `fraction` (one of [`TOP_FRACTIONS`]).
    pub fn precision_at(&self, fraction: f64) -> f64 {
        self.at(fraction).map(|t| t.precision).unwrap_or(f64::NAN)
    }
}

/// Everything `ews evaluate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub snapshot_as_of: chrono::NaiveDate,
    pub students: usize,
    pub labelled: usize,
    pub excluded_transferred: usize,
    pub excluded_not_yet_known: usize,
    pub excluded_no_outcome: usize,
    pub model: ScoreMetrics,
    pub calibration: Vec<CalibrationBin>,
    pub expected_calibration_error: f64,
    /// The rule-based indicators on the same students.
    pub indicators: Vec<ScoreMetrics>,
    /// Referral threshold of the equity audit (`tiers.medium`).
    pub referral_threshold: f64,
    pub equity: Vec<GroupAudit>,
    /// Outcomes by support received, when the snapshot has interventions.csv: descriptive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes_by_support: Option<SupportOutcomes>,
    /// With `ews evaluate --checkpoints`: the backtest at each checkpoint of the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<CheckpointBacktests>,
}

/// The backtests at the model's checkpoints (`ews evaluate --checkpoints`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointBacktests {
    pub evaluated: Vec<CheckpointBacktest>,
    /// Checkpoints of the model the snapshot could not give, and why.
    pub skipped: Vec<crate::model::SkippedCheckpoint>,
}

/// The model and the indicators at one checkpoint's date of the snapshot's school year.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointBacktest {
    pub checkpoint: String,
    pub as_of: chrono::NaiveDate,
    pub labelled: usize,
    pub positives: usize,
    pub auc_roc: f64,
    pub average_precision: f64,
    pub precision_at_10pct: f64,
    pub expected_calibration_error: f64,
    /// Each indicator's AUC and precision at the top 10% at the same date.
    pub indicators: Vec<IndicatorAt>,
}

/// An indicator's figures at a checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorAt {
    pub name: String,
    pub auc_roc: f64,
    pub precision_at_10pct: f64,
}

impl CheckpointBacktest {
    /// The backtest row of a full evaluation at the checkpoint's date.
    pub fn of(checkpoint: String, evaluation: &Evaluation) -> CheckpointBacktest {
        CheckpointBacktest {
            checkpoint,
            as_of: evaluation.snapshot_as_of,
            labelled: evaluation.labelled,
            positives: evaluation.model.positives,
            auc_roc: evaluation.model.auc_roc,
            average_precision: evaluation.model.average_precision,
            precision_at_10pct: evaluation.model.precision_at(0.10),
            expected_calibration_error: evaluation.expected_calibration_error,
            indicators: evaluation
                .indicators
                .iter()
                .map(|i| IndicatorAt {
                    name: i.name.clone(),
                    auc_roc: i.auc_roc,
                    precision_at_10pct: i.precision_at(0.10),
                })
                .collect(),
        }
    }
}

impl CheckpointBacktests {
    /// The backtests as a Markdown section.
    pub fn markdown(&self) -> String {
        let mut text = String::from("\n## Backtests at the model's checkpoints\n\nThe snapshot's records as of each checkpoint of the model, on its school year; the model's risk (calibrated for that time of year) beside the indicators at the same date.\n\n| checkpoint | date | labelled | at risk | AUC | AP | P@10% | ECE |");
        let names: Vec<&str> = self
            .evaluated
            .first()
            .map(|c| c.indicators.iter().map(|i| i.name.as_str()).collect())
            .unwrap_or_default();
        for name in &names {
            text.push_str(&format!(" {name} AUC | {name} P@10% |"));
        }
        text.push_str("\n|---|---|---|---|---|---|---|---|");
        text.push_str(&"---|---|".repeat(names.len()));
        text.push('\n');
        for c in &self.evaluated {
            text.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                c.checkpoint,
                c.as_of,
                c.labelled,
                c.positives,
                metric(c.auc_roc),
                metric(c.average_precision),
                metric(c.precision_at_10pct),
                metric(c.expected_calibration_error)
            ));
            for i in &c.indicators {
                text.push_str(&format!(
                    " {} | {} |",
                    metric(i.auc_roc),
                    metric(i.precision_at_10pct)
                ));
            }
            text.push('\n');
        }
        for s in &self.skipped {
            text.push_str(&format!(
                "\nSkipped checkpoint {}: {}.\n",
                s.checkpoint, s.reason
            ));
        }
        text
    }
}

/// What `outcomes_by_support` is, said wherever it is shown.
pub const NOT_CAUSAL: &str = "Descriptive, not causal: students are not assigned to supports at random (those served were usually chosen because they were at risk), so a difference in outcome rates does not measure what a support did. The flagged columns compare students the model placed at medium or high risk, which is closer, and still not causal.";

/// Outcomes by support received this school year, among the students with a known outcome.
#[derive(Debug, Clone, Serialize)]
pub struct SupportOutcomes {
    pub note: &'static str,
    pub groups: Vec<SupportGroup>,
}

/// One group of [`SupportOutcomes`]: `served` (any support given this school year), `not
/// served`, or a support type (`tutoring`, …; a student may be in several). Counts of 1 to
/// `equity.min_group_size` − 1, and the rates built on them, are null, with `suppressed`.
#[derive(Debug, Clone, Serialize)]
pub struct SupportGroup {
    pub group: String,
    pub students: Option<usize>,
    /// Share of them with the adverse outcome (not graduating on time).
    pub outcome_rate: Option<f64>,
    /// Of them, those at medium or high risk (≥ `tiers.medium`), and their outcome rate.
    pub flagged_students: Option<usize>,
    pub flagged_outcome_rate: Option<f64>,
    pub suppressed: bool,
}

/// [`SupportOutcomes`] of the labelled `rows`: `y` their outcomes, `risks` their risks.
fn support_outcomes(
    run: &FeatureRun,
    rows: &[usize],
    y: &[bool],
    risks: &[f64],
    config: &Config,
) -> SupportOutcomes {
    let received = &run.supports.received;
    let mut types: Vec<&String> = received.values().flatten().collect();
    types.sort();
    types.dedup();
    // `None`: served at all; `Some(kind)`: served with that kind; and not served.
    let mut groups: Vec<(String, Option<Option<&String>>)> =
        vec![("served".into(), Some(None)), ("not served".into(), None)];
    groups.extend(
        types
            .into_iter()
            .map(|kind| (kind.clone(), Some(Some(kind)))),
    );
    let member = |group: &Option<Option<&String>>, row: usize| match group {
        Some(None) => received.contains_key(&row),
        Some(Some(kind)) => received.get(&row).is_some_and(|t| t.contains(kind)),
        None => !received.contains_key(&row),
    };
    let min = config.equity.min_group_size;
    let shown = |n: usize| (n == 0 || n >= min).then_some(n);
    let groups = groups
        .into_iter()
        .map(|(group, kind)| {
            let (mut n, mut bad, mut flagged, mut flagged_bad) = (0, 0, 0, 0);
            for (k, &row) in rows.iter().enumerate() {
                if !member(&kind, row) {
                    continue;
                }
                n += 1;
                bad += usize::from(y[k]);
                if risks[k] >= config.tiers.medium {
                    flagged += 1;
                    flagged_bad += usize::from(y[k]);
                }
            }
            let rate = |part: usize, whole: Option<usize>| {
                whole.filter(|w| *w > 0).map(|w| part as f64 / w as f64)
            };
            let (students, flagged_students) = (shown(n), shown(flagged));
            SupportGroup {
                group,
                students,
                outcome_rate: rate(bad, students),
                flagged_students,
                flagged_outcome_rate: rate(flagged_bad, flagged_students),
                suppressed: students.is_none() || flagged_students.is_none(),
            }
        })
        .collect();
    SupportOutcomes {
        note: NOT_CAUSAL,
        groups,
    }
}

/// The rule-based indicators as 1 (flagged) / 0 per row of the feature table.
pub fn indicators(table: &DataFrame) -> Result<Vec<(&'static str, Vec<f64>)>> {
    let flags = table
        .clone()
        .lazy()
        .select([
            col("freshman_on_track")
                .eq(lit(0.0))
                .fill_null(lit(false))
                .alias("off_track"),
            col("attendance_rate")
                .lt(lit(ABC_ATTENDANCE_BELOW))
                .fill_null(lit(false))
                .or(col("suspension_days").gt(lit(0.0)).fill_null(lit(false)))
                .or(col("core_f_marks").gt(lit(0.0)).fill_null(lit(false)))
                .alias("abc"),
        ])
        .collect()?;
    let as_numbers = |name: &str| -> Result<Vec<f64>> {
        Ok(flags
            .column(name)?
            .bool()?
            .iter()
            .map(|f| if f == Some(true) { 1.0 } else { 0.0 })
            .collect())
    };
    Ok(vec![
        ("freshman_off_track", as_numbers("off_track")?),
        ("abc_any_flag", as_numbers("abc")?),
    ])
}

/// Evaluates `probabilities` (one per row of `run.table`) against `labels`.
pub fn evaluate(
    run: &FeatureRun,
    probabilities: &[f64],
    labels: &crate::model::Labels,
    config: &Config,
) -> Result<Evaluation> {
    let rows: Vec<usize> = (0..labels.labels.len())
        .filter(|&i| labels.labels[i].is_some())
        .collect();
    let y: Vec<bool> = rows
        .iter()
        .map(|&i| labels.labels[i] == Some(true))
        .collect();
    let model_scores: Vec<f64> = rows.iter().map(|&i| probabilities[i]).collect();
    let calibration = metrics::calibration_table(&model_scores, &y);

    let mut indicator_metrics = Vec::new();
    for (name, flags) in indicators(&run.table)? {
        let scores: Vec<f64> = rows.iter().map(|&i| flags[i]).collect();
        indicator_metrics.push(ScoreMetrics::compute(name, &scores, &y, false));
    }

    let groups = equity::group_columns(&run.table)?;
    let students: Vec<equity::Student> = rows
        .iter()
        .map(|&i| equity::Student {
            groups: std::array::from_fn(|a| groups[a].get(i)),
            risk: probabilities[i],
            flagged: probabilities[i] >= config.tiers.medium,
            label: labels.labels[i],
            seat: None,
        })
        .collect();
    let threshold = config.tiers.medium;
    Ok(Evaluation {
        snapshot_as_of: run.as_of,
        students: run.table.height(),
        labelled: rows.len(),
        excluded_transferred: labels.excluded_transferred,
        excluded_not_yet_known: labels.excluded_not_yet_known,
        excluded_no_outcome: labels.excluded_no_outcome,
        model: ScoreMetrics::compute("model", &model_scores, &y, true),
        expected_calibration_error: metrics::expected_calibration_error(&calibration),
        calibration,
        indicators: indicator_metrics,
        referral_threshold: threshold,
        equity: equity::audit(&students, config.equity.min_group_size),
        checkpoints: None,
        outcomes_by_support: run.supports.interventions_read.then(|| {
            let risks: Vec<f64> = rows.iter().map(|&i| probabilities[i]).collect();
            support_outcomes(run, &rows, &y, &risks, config)
        }),
    })
}

impl Evaluation {
    /// The side-by-side table of the model and the indicators, as text lines.
    pub fn comparison_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "  {:<20} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "score", "AUC", "AP", "P@5%", "P@10%", "P@20%", "R@10%", "Brier", "logloss"
        )];
        let cells = ["auc", "ap", "p5", "p10", "p20", "r10", "brier", "log_loss"];
        for m in std::iter::once(&self.model).chain(&self.indicators) {
            let values: Vec<String> = cells.iter().map(|c| format!("{:>8}", m.cell(c))).collect();
            lines.push(format!("  {:<20} {}", m.name, values.join(" ")));
        }
        lines
    }

    /// The calibration table as text lines.
    pub fn calibration_lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "  {:<11} {:>8} {:>10} {:>9}",
            "predicted", "students", "mean pred", "observed"
        )];
        for bin in &self.calibration {
            lines.push(format!(
                "  {:.1}–{:.1}     {:>8} {:>10} {:>9}",
                bin.lower,
                bin.upper,
                bin.students,
                metric(bin.mean_predicted),
                metric(bin.observed_rate)
            ));
        }
        lines.push(format!(
            "  expected calibration error {}",
            metric(self.expected_calibration_error)
        ));
        lines
    }

    /// A readable report (Markdown) of the whole evaluation.
    pub fn report_markdown(&self, min_group_size: usize) -> String {
        let mut text = format!(
            "# Model evaluation as of {}\n\n{} students, {} with a known outcome ({} at risk); excluded: {} transferred out, {} outcome not yet known, {} without outcome.\n\n",
            self.snapshot_as_of,
            self.students,
            self.labelled,
            self.model.positives,
            self.excluded_transferred,
            self.excluded_not_yet_known,
            self.excluded_no_outcome
        );
        text.push_str("## The model and the rule-based indicators\n\n");
        text.push_str("| score | AUC | AP | P@5% | P@10% | P@20% | R@5% | R@10% | R@20% | Brier | log loss | flagged |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for m in std::iter::once(&self.model).chain(&self.indicators) {
            text.push_str(&m.markdown_row(&[
                "auc", "ap", "p5", "p10", "p20", "r5", "r10", "r20", "brier", "log_loss", "flagged",
            ]));
        }
        text.push_str("\nIndicators are yes/no: their precision at the top k% is the expected value with the flagged students in random order.\n\n## Calibration\n\n");
        text.push_str(&crate::model::metrics::calibration_markdown(
            &self.calibration,
        ));
        text.push_str(&format!(
            "\nExpected calibration error: {}.\n\n## Equity audit\n\n",
            metric(self.expected_calibration_error)
        ));
        text.push_str(&equity::markdown(
            &self.equity,
            self.referral_threshold,
            min_group_size,
        ));
        if let Some(checkpoints) = &self.checkpoints {
            text.push_str(&checkpoints.markdown());
        }
        if let Some(outcomes) = &self.outcomes_by_support {
            text.push_str(&format!(
                "\n## Outcomes by support received (descriptive, not causal)\n\n{}\n\n| group | students | not on time | flagged (risk ≥ {}) | flagged: not on time |\n|---|---|---|---|---|\n",
                outcomes.note, self.referral_threshold
            ));
            let count = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_else(|| "–".into());
            for g in &outcomes.groups {
                text.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    g.group,
                    count(g.students),
                    metric(g.outcome_rate.unwrap_or(f64::NAN)),
                    count(g.flagged_students),
                    metric(g.flagged_outcome_rate.unwrap_or(f64::NAN))
                ));
            }
            text.push_str(&format!(
                "\nServed: any support given this school year (interventions.csv; planned ones are not). Counts under {min_group_size} are not shown (–).\n"
            ));
        }
        text
    }
}
