//! The model card (Mitchell et al. 2019, "Model Cards for Model Reporting") that `ews train`
//! writes beside the model file: what the model is for, what it was trained on, how well it
//! ranks and whether its probabilities are honest, how it compares with the rule-based
//! indicators, how it treats groups of students, and what it cannot do.

use std::fmt::Write as _;

use crate::config::Config;
use crate::features::FeatureRun;
use crate::io::error::Result;
use crate::model::equity::{self, GroupAudit};
use crate::model::evaluate::{indicators, ScoreMetrics};
use crate::model::metrics::{calibration_table, CalibrationBin};
use crate::model::{ModelFile, Trained};

/// Everything the card reports, computed on the training holdout.
pub struct ModelCard {
    pub model: ModelFile,
    /// The model on the holdout (calibrated probabilities).
    pub holdout: ScoreMetrics,
    pub calibration: Vec<CalibrationBin>,
    /// The rule-based indicators on the same holdout students.
    pub baselines: Vec<ScoreMetrics>,
    pub equity: Vec<GroupAudit>,
    referral_threshold: f64,
    min_group_size: usize,
}

impl ModelCard {
    pub fn new(run: &FeatureRun, trained: &Trained, config: &Config) -> Result<ModelCard> {
        let rows = &trained.holdout_rows;
        let labels = &trained.holdout_labels;
        let baselines = indicators(&run.table)?
            .into_iter()
            .map(|(name, flags)| {
                let scores: Vec<f64> = rows.iter().map(|&r| flags[r]).collect();
                ScoreMetrics::compute(name, &scores, labels, false)
            })
            .collect();
        let groups = equity::group_columns(&run.table)?;
        let students: Vec<equity::Student> = rows
            .iter()
            .zip(&trained.holdout_risks)
            .zip(labels)
            .map(|((&r, &risk), &label)| equity::Student {
                groups: std::array::from_fn(|a| groups[a].get(r)),
                risk,
                flagged: risk >= config.tiers.medium,
                label: Some(label),
                seat: None,
            })
            .collect();
        Ok(ModelCard {
            model: trained.model.clone(),
            holdout: ScoreMetrics::compute("model", &trained.holdout_risks, labels, true),
            calibration: calibration_table(&trained.holdout_risks, labels),
            baselines,
            equity: equity::audit(&students, config.equity.min_group_size),
            referral_threshold: config.tiers.medium,
            min_group_size: config.equity.min_group_size,
        })
    }

    pub fn markdown(&self) -> String {
        let m = &self.model;
        let t = &m.training;
        let n = crate::io::text::metric;
        let mut s = String::new();
        let _ = writeln!(s, "# Model card: ews risk of not graduating on time\n");
        let _ = writeln!(
            s,
            "Model file schema {}, ews {}, trained on the snapshot as of {}. Fingerprint of the training files and config: `{}`.\n",
            m.schema_version, m.ews_version, t.snapshot_as_of, m.fingerprint
        );
        s.push_str(
            "## Intended use\n\n\
             Ranks a district's enrolled high-school students by their risk of not graduating on time \
             (graduating late, dropping out, or still enrolled after the cohort's year), so that \
             counselors can offer credit recovery and support early. Users: district data analysts \
             (run and monitor it), school counselors (act on the ranked lists, with the reasons), \
             district dashboards. It is a screening aid for people who know the students: not a \
             decision about any student, not for discipline, placement or grading, and not valid \
             outside the district and years it was trained on without a new evaluation \
             (`ews evaluate`).\n\n",
        );
        let _ = writeln!(
            s,
            "## Training data\n\n{} students in the snapshot; {} with a known outcome ({} at risk, base rate {}). Excluded: {} transferred out, {} whose outcome is not yet known, {} without an outcome row. Label rule: docs/input-contract.md (outcomes.csv). A stratified {:.0}% holdout ({} students) was set aside for the figures below.\n",
            t.students,
            t.labelled,
            t.positives,
            n(m.base_rate),
            t.excluded_transferred,
            t.excluded_not_yet_known,
            t.excluded_no_outcome,
            m.hyperparameters.holdout_fraction * 100.0,
            t.holdout_students
        );
        if let Some(sample) = t.sample {
            let _ = writeln!(
                s,
                "The snapshot has more labelled students than `model.max_training_students` ({}): the model is trained on a sample of {sample} of them, by student id (the same students at every checkpoint; src/model/sample.rs). The at-risk count, the base rate, the holdout and every figure below are the sample's.\n",
                m.hyperparameters
                    .max_training_students
                    .map_or("-".to_string(), |max| max.to_string()),
            );
        }
        if t.excluded_other_exit > 0 {
            let _ = writeln!(
                s,
                "Outcomes from enrollment exits (`[outcomes.exit_codes]`): {} students whose exit maps to `other` were excluded.\n",
                t.excluded_other_exit
            );
        }
        s.push_str("## Model and features\n\nLogistic regression on standardised features, L2 penalty chosen by stratified k-fold cross-validation (lowest mean log loss). Every feature has a documented direction: `risk` (higher is worse; its coefficient is at least 0), `protective` (lower is worse; at most 0) or `none` (a missing-value indicator; free). linfa-logistic fits first; when a coefficient comes out against its direction, a bounded Newton solver refits with each coefficient held to its sign (src/model/bounded.rs). A missing value counts as the training mean, and its indicator (1 where the value is missing) lets the model learn what having no record means. Demographic columns are never features. Definitions and units: docs/features.md.\n\n| feature | direction | coefficient per SD | training mean |\n|---|---|---|---|\n");
        for (((name, direction), coef), mean) in m
            .features
            .iter()
            .zip(&m.directions)
            .zip(&m.coefficients)
            .zip(&m.means)
        {
            let _ = writeln!(
                s,
                "| {name} | {} | {coef:+.3} | {mean:.3} |",
                direction.as_str()
            );
        }
        let constraints = &m.sign_constraints;
        if !constraints.held {
            s.push_str("\n**Not held to the directions** (`model.hold_directions = false`): a coefficient may contradict its direction, and such a feature is then never a reason. Train with the default to publish.\n");
        } else if constraints.against_direction_unconstrained.is_empty() {
            s.push_str("\nThe fit without bounds already agreed with every direction: no coefficient is held.\n");
        } else {
            let against: Vec<String> = constraints
                .against_direction_unconstrained
                .iter()
                .map(|c| format!("{} ({:+.3})", c.feature, c.coefficient))
                .collect();
            let held = if constraints.held_at_zero.is_empty() {
                "none".to_string()
            } else {
                constraints.held_at_zero.join(", ")
            };
            let _ = writeln!(
                s,
                "\nWithout bounds, these coefficients came out against their direction (collinear features sharing one signal): {}. The bounded fit holds at zero: {held}; a feature held at zero is not used by the model and is never a reason.",
                against.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "\nCross-validation ({} folds; the grid of `model.l2_grid`):\n\n| L2 penalty | mean AUC | SE | mean log loss |\n|---|---|---|---|",
            m.hyperparameters.cv_folds
        );
        for p in &m.cross_validation {
            let chosen = if p.l2_penalty == m.hyperparameters.l2_penalty {
                " (chosen)"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "| {}{} | {:.4} | {:.4} | {:.4} |",
                p.l2_penalty, chosen, p.mean_auc_roc, p.se_auc_roc, p.mean_log_loss
            );
        }
        s.push_str("\n## Metrics and baselines (holdout, at the snapshot's own date)\n\nThe model beside the rule-based indicators the field uses, on the same students: the freshman on-track indicator (off-track = at risk) and the ABC flags (attendance < 90%, any suspension, any core-course F). Yes/no indicators rank flagged students in random order.\n\n| score | AUC | AP | P@5% | P@10% | P@20% | Brier |\n|---|---|---|---|---|---|---|\n");
        for x in std::iter::once(&self.holdout).chain(&self.baselines) {
            s.push_str(&x.markdown_row(&["auc", "ap", "p5", "p10", "p20", "brier"]));
        }
        s.push_str("\n## Checkpoints\n\nThe model is trained at several dates of the training year (`model.checkpoints`): every labelled student once per checkpoint, with the features as of that date, and the time of year as an input. Held-out figures per checkpoint (the holdout students at that date, after the calibration step):\n\n| checkpoint | date | training rows | holdout rows | AUC | ECE before | ECE | calibration step |\n|---|---|---|---|---|---|---|---|\n");
        for c in &m.checkpoints {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                c.checkpoint,
                c.as_of,
                c.training_rows,
                c.holdout_rows,
                c.holdout_auc_roc.map(n).unwrap_or_else(|| "-".into()),
                n(c.holdout_calibration.expected_calibration_error_before),
                c.holdout_expected_calibration_error
                    .map(n)
                    .unwrap_or_else(|| "-".into()),
                c.calibration
                    .map(|k| format!("a {:.3}, b {:.3}, c {:+.3}", k.a, k.b, k.c))
                    .unwrap_or_else(|| "none".into())
            );
        }
        for skipped in &m.skipped_checkpoints {
            let _ = writeln!(
                s,
                "\nSkipped checkpoint {}: {}.",
                skipped.checkpoint, skipped.reason
            );
        }
        let c = &m.holdout_calibration;
        let _ = writeln!(
            s,
            "\n## Calibration\n\nHeld-out expected calibration error, all checkpoints together, {} before and {} after the calibration step (beta calibration fitted per checkpoint, cross-fitted on halves of the holdout; scoring interpolates between checkpoints by the time of year); Brier {} → {}. Calibration step {}.\n",
            n(c.expected_calibration_error_before),
            n(c.expected_calibration_error_after),
            n(c.brier_score_before),
            n(c.brier_score_after),
            if c.applied {
                "applied where the table above shows one: risk scores are the calibrated probabilities"
            } else {
                "not applied (not needed, or it did not help)"
            }
        );
        s.push_str(&crate::model::metrics::calibration_markdown(
            &self.calibration,
        ));
        s.push_str("\n## Equity audit (holdout)\n\n");
        s.push_str(&equity::markdown(
            &self.equity,
            self.referral_threshold,
            self.min_group_size,
        ));
        s.push_str(
            "\n## Limitations\n\n\
             - Trained on one past snapshot: a change in the district's grading, attendance coding \
             or population changes what the features mean. Re-evaluate every year with \
             `ews evaluate` on a snapshot whose outcomes are now known.\n\
             - The holdout is small in a small district; its figures carry sampling error.\n\
             - Outcomes of transferred students are unknown and excluded, so the model says nothing \
             about who transfers.\n\
             - Features can carry measurement bias (e.g. discipline recorded unevenly across groups); \
             the equity audit shows disparities but not their cause. Flagged groups need a human \
             look before the list is acted on.\n\
             - Reasons are the model's largest per-feature contributions, not causes.\n",
        );
        s
    }
}
