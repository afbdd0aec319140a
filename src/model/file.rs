//! The model file: the JSON an analyst can read to see what the model does (features in order,
//! the scaler, coefficients, intercept, calibration, hyper-parameters, training counts and
//! held-out metrics), its writing and reading, and the checks that refuse a file of another
//! layout, another feature set, or numbers no training gives.

use std::path::Path;

use chrono::NaiveDate;

use serde::{Deserialize, Serialize};

use crate::features::{model_inputs, Direction};
use crate::io::error::{EwsError, Result};
use crate::model::metrics::Metrics;

/// Version of the model file layout; scoring refuses other versions.
pub const MODEL_SCHEMA_VERSION: u32 = 4;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    pub schema_version: u32,
    pub ews_version: String,
    /// Model features, in the order of `means`, `std_devs` and `coefficients`.
    pub features: Vec<String>,
    /// Training means; a missing value is replaced by its feature's mean (a zero z-score).
    pub means: Vec<f64>,
    pub std_devs: Vec<f64>,
    /// Each feature's documented direction (`risk`, `protective`, `none`), which its
    /// coefficient keeps: a risk feature's is at least 0, a protective one's at most 0.
    pub directions: Vec<Direction>,
    /// Coefficients on the standardised features (log-odds per standard deviation).
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    pub hyperparameters: Hyperparameters,
    /// What holding the coefficients to their directions changed in the final fit.
    pub sign_constraints: SignConstraints,
    /// Mean held-out AUC and log loss of each candidate penalty, over the folds.
    pub cross_validation: Vec<CvPoint>,
    /// SHA-256 of the training snapshot's files and the config: the same fingerprint means
    /// the same training inputs.
    pub fingerprint: String,
    /// The checkpoints the training rows stand at (the last: the snapshot's own date), each
    /// with its held-out figures.
    pub checkpoints: Vec<CheckpointReport>,
    /// The configured checkpoints the training snapshot could not give, and why.
    pub skipped_checkpoints: Vec<SkippedCheckpoint>,
    pub training: TrainingCounts,
    /// Share of at-risk students among the labelled training students.
    pub base_rate: f64,
    /// Ranking metrics of a model fitted on the other students, on a stratified holdout.
    pub holdout: Metrics,
    /// Held-out calibration before and after the calibration step.
    pub holdout_calibration: CalibrationReport,
}

/// What the directions did to the final fit (on every labelled student).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignConstraints {
    /// Whether the fit held every coefficient to its direction (`model.hold_directions`); a
    /// model trained without is allowed coefficients against their direction.
    pub held: bool,
    /// The features whose coefficient, fitted without bounds, was against their direction,
    /// with that coefficient: collinear features sharing a signal. Empty when the unconstrained
    /// fit already agreed with every direction (and is then the model).
    pub against_direction_unconstrained: Vec<NamedCoefficient>,
    /// The features the bounded fit holds at 0: the model does not use them.
    pub held_at_zero: Vec<String>,
}

/// A feature and a coefficient of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedCoefficient {
    pub feature: String,
    pub coefficient: f64,
}

/// A checkpoint the model was trained at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointReport {
    /// As configured (`model.checkpoints`, `MM-DD`).
    pub checkpoint: String,
    /// The date the features stand at in the training snapshot.
    pub as_of: NaiveDate,
    /// Labelled students at this checkpoint (one training row each).
    pub training_rows: usize,
    /// Of those, the holdout's, and the final model's figures on them (calibrated risks).
    pub holdout_rows: usize,
    pub holdout_auc_roc: Option<f64>,
    pub holdout_expected_calibration_error: Option<f64>,
    /// How far into the school year the date is ([`crate::features::school_year_fraction`]):
    /// where this checkpoint's calibration stands when scoring interpolates between them.
    pub school_year_fraction: f64,
    /// The calibration step at this checkpoint ([`Calibration`]), when its held-out
    /// calibration needed it. Scoring interpolates between the checkpoints by the time of year
    /// (one without a step counts as [`Calibration::IDENTITY`]).
    pub calibration: Option<Calibration>,
    /// This checkpoint's held-out calibration before and after the scaling.
    pub holdout_calibration: CalibrationReport,
}

/// A configured checkpoint the training snapshot could not give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedCheckpoint {
    pub checkpoint: String,
    pub reason: String,
}

impl ModelFile {
    /// The calibration step at a time of year: the checkpoints' steps interpolated linearly
    /// by `school_year_fraction` between the two checkpoints around it (the nearest one's
    /// before the first and after the last), so that a student's risk never jumps from one
    /// night to the next. `None` when no checkpoint has one.
    pub fn calibration_at(&self, school_year_fraction: f64) -> Option<Calibration> {
        if self.checkpoints.iter().all(|c| c.calibration.is_none()) {
            return None;
        }
        let mut points: Vec<(f64, Calibration)> = self
            .checkpoints
            .iter()
            .map(|c| {
                (
                    c.school_year_fraction,
                    c.calibration.unwrap_or(Calibration::IDENTITY),
                )
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (first, last) = (points.first()?, points.last()?);
        if school_year_fraction <= first.0 {
            return Some(first.1);
        }
        if school_year_fraction >= last.0 {
            return Some(last.1);
        }
        let k = points.iter().position(|p| p.0 > school_year_fraction)?;
        let ((x0, p0), (x1, p1)) = (points[k - 1], points[k]);
        let w = (school_year_fraction - x0) / (x1 - x0).max(f64::MIN_POSITIVE);
        let between = |from: f64, to: f64| from + w * (to - from);
        Some(Calibration {
            a: between(p0.a, p1.a),
            b: between(p0.b, p1.b),
            c: between(p0.c, p1.c),
        })
    }

    /// The checkpoints as `MM-DD` and month-days of their dates: for the distance of a scoring
    /// date to the nearest, and the backtests at each.
    pub fn checkpoint_days(&self) -> Vec<(String, crate::config::MonthDay)> {
        self.checkpoints
            .iter()
            .map(|c| {
                (
                    crate::model::checkpoints::month_day(c.as_of),
                    crate::config::MonthDay {
                        month: chrono::Datelike::month(&c.as_of),
                        day: chrono::Datelike::day(&c.as_of),
                    },
                )
            })
            .collect()
    }
}

/// Beta calibration (Kull, Silva Filho & Flach 2017) of the model's probability p:
/// risk = sigmoid(a · ln p − b · ln(1 − p) + c), with a, b ≥ 0 so that it keeps the ranking.
/// Platt scaling is the case a = b; the two shape parameters also straighten the S-shaped
/// error a logistic model of noisy records makes (too sure at the top, too low in the middle),
/// which a slope and an intercept cannot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

impl Calibration {
    /// No change: a = b = 1, c = 0.
    pub const IDENTITY: Calibration = Calibration {
        a: 1.0,
        b: 1.0,
        c: 0.0,
    };

    /// The calibrated log-odds of the model's `log_odds` (ln p = −softplus(−z) and
    /// −ln(1 − p) = softplus(z), computed without overflow).
    pub fn apply(&self, log_odds: f64) -> f64 {
        let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        -self.a * softplus(-log_odds) + self.b * softplus(log_odds) + self.c
    }
}

/// The settings a model was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// The penalty chosen by cross-validation.
    pub l2_penalty: f64,
    pub l2_grid: Vec<f64>,
    pub cv_folds: usize,
    /// Training students the cross-validation sampled at most (absent in older model files).
    #[serde(default)]
    pub cv_max_students: Option<usize>,
    /// Labelled students training keeps at most, a sample beyond it (absent in older model
    /// files).
    #[serde(default)]
    pub max_training_students: Option<usize>,
    pub holdout_fraction: f64,
    pub seed: u64,
    pub max_iterations: u64,
}

/// Cross-validated performance of one candidate penalty.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    pub l2_penalty: f64,
    pub mean_auc_roc: f64,
    /// Standard error of the mean AUC over the folds.
    pub se_auc_roc: f64,
    pub mean_log_loss: f64,
}

/// Calibration of the held-out probabilities before and after Platt scaling. "After" is
/// cross-fitted (scaling fitted on one half of the holdout, measured on the other, both
/// ways), so it is not judged on the students it was fitted to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    pub expected_calibration_error_before: f64,
    pub brier_score_before: f64,
    pub expected_calibration_error_after: f64,
    pub brier_score_after: f64,
    /// Whether the model file carries the calibration step.
    pub applied: bool,
}

/// How the snapshot's students were used for training.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingCounts {
    pub snapshot_as_of: NaiveDate,
    pub students: usize,
    pub labelled: usize,
    /// The labelled students trained on when the snapshot had more than
    /// `model.max_training_students`: a sample of them by student id (`src/model/sample.rs`).
    /// Absent when every labelled student was used. `positives`, `rows`, the holdout and the
    /// base rate are then the sample's; `students`, `labelled` and the exclusions the
    /// snapshot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    pub positives: usize,
    /// Training rows over every checkpoint (a labelled student once per checkpoint).
    pub rows: usize,
    /// `transferred_out`: excluded by the label rule.
    pub excluded_transferred: usize,
    /// `still_enrolled` before the end of the cohort year: outcome not yet known.
    pub excluded_not_yet_known: usize,
    /// Enrolled students with no row in outcomes.csv.
    pub excluded_no_outcome: usize,
    /// Enrollment exits the config maps to `other` (only when outcomes come from
    /// enrollment.csv; not written when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub excluded_other_exit: usize,
    /// outcomes.csv rows for students not in students.csv (not used).
    pub outcomes_not_enrolled: usize,
    pub holdout_students: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The model features, in order: the features of the table the model uses, then their
/// missing-value indicators ([`crate::features::model_inputs`]).
pub fn model_features() -> Vec<String> {
    model_inputs()
        .into_iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// The directions of [`model_features`], in the same order.
pub fn model_directions() -> Vec<Direction> {
    model_inputs().into_iter().map(|m| m.direction()).collect()
}

/// Largest plausible size of a coefficient, in log-odds per standard deviation of its
/// feature. Trained coefficients are small (the shipped model's largest is 0.61 in size): at 50
/// one standard deviation multiplies the odds by e^50 ≈ 10^21, and every risk becomes 0 or 1.
pub const MAX_ABS_COEFFICIENT: f64 = 50.0;

/// Largest plausible size of the intercept (log-odds of the average student) and of the
/// calibration step's parameters: beyond it every risk is 0 or 1.
pub const MAX_ABS_INTERCEPT: f64 = 50.0;

/// Smallest plausible standard deviation of a feature: a feature's z-score divides by it, so a
/// smaller one makes every z-score, and every risk, extreme. Training gives a feature that
/// barely varies (variance ≤ 10^-12) a standard deviation of 1, so no trained value is this
/// small.
pub const MIN_STD_DEV: f64 = 1e-9;

/// Largest plausible size of a feature mean: the features are rates, counts, a GPA and credits,
/// nowhere near a million; a mean beyond it makes every z-score extreme.
pub const MAX_ABS_MEAN: f64 = 1e6;

/// A number of a model file as a message shows it: plainly, or in exponent form when very large
/// or small (`1e300`, not 301 digits).
fn shown(v: f64) -> String {
    if v == 0.0 || !v.is_finite() || (1e-4..1e6).contains(&v.abs()) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

impl ModelFile {
    /// What makes the model's numbers implausible, naming the field, the feature and the bound;
    /// `None` when they are fine. Such a model would give every student a risk of 0 or 1.
    pub fn implausible(&self) -> Option<String> {
        let within = |v: f64, bound: f64| v.is_finite() && v.abs() <= bound;
        for (i, feature) in self.features.iter().enumerate() {
            if let Some(&mean) = self.means.get(i) {
                if !within(mean, MAX_ABS_MEAN) {
                    return Some(format!(
                        "`means` of feature `{feature}` is {}: not a finite number within ±{MAX_ABS_MEAN:e}",
                        shown(mean)
                    ));
                }
            }
            if let Some(&sd) = self.std_devs.get(i) {
                if !(sd.is_finite() && sd > MIN_STD_DEV) {
                    return Some(format!(
                        "`std_devs` of feature `{feature}` is {}: not a finite number above {MIN_STD_DEV:e}",
                        shown(sd)
                    ));
                }
            }
            if let Some(&c) = self.coefficients.get(i) {
                if !within(c, MAX_ABS_COEFFICIENT) {
                    return Some(format!(
                        "`coefficients` of feature `{feature}` is {}: not a finite number within ±{MAX_ABS_COEFFICIENT} (log-odds per standard deviation)",
                        shown(c)
                    ));
                }
            }
        }
        if !within(self.intercept, MAX_ABS_INTERCEPT) {
            return Some(format!(
                "`intercept` is {}: not a finite number within ±{MAX_ABS_INTERCEPT}",
                shown(self.intercept)
            ));
        }
        for checkpoint in &self.checkpoints {
            let Some(step) = &checkpoint.calibration else {
                continue;
            };
            for (field, value) in [("a", step.a), ("b", step.b), ("c", step.c)] {
                if !within(value, MAX_ABS_INTERCEPT) {
                    return Some(format!(
                        "`calibration.{field}` of checkpoint {} is {}: not a finite number within ±{MAX_ABS_INTERCEPT}",
                        checkpoint.checkpoint,
                        shown(value)
                    ));
                }
            }
        }
        None
    }

    /// Writes the model file atomically, with permissions `mode`.
    pub fn save(&self, path: &Path, mode: u32) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| EwsError::Model {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        crate::io::text::write_atomically(path, (text + "\n").as_bytes(), mode)
    }

    pub fn load(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path).map_err(|e| EwsError::Model {
            path: path.to_path_buf(),
            message: format!(
                "cannot read: {e} (train one with `ews train SNAPSHOT --out {}`, or name the model file with --model or the config's [model] file)",
                path.display()
            ),
        })?;
        let not_a_model = |e: serde_json::Error| EwsError::Model {
            path: path.to_path_buf(),
            message: format!("not an ews model file: {e}"),
        };
        // The version first: a model of another layout gets a clear "retrain", not a
        // complaint about a missing field.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(not_a_model)?;
        let version = value.get("schema_version").and_then(|v| v.as_u64());
        if let Some(version) = version.filter(|v| *v != u64::from(MODEL_SCHEMA_VERSION)) {
            return Err(EwsError::Model {
                path: path.to_path_buf(),
                message: format!(
                    "model schema version {version} is not the version this ews reads ({MODEL_SCHEMA_VERSION}); retrain it with `ews train`"
                ),
            });
        }
        let model: ModelFile = serde_json::from_value(value).map_err(not_a_model)?;
        model.check(path)?;
        Ok(model)
    }

    pub(crate) fn check(&self, path: &Path) -> Result<()> {
        let bad = |message: String| EwsError::Model {
            path: path.to_path_buf(),
            message,
        };
        if self.schema_version != MODEL_SCHEMA_VERSION {
            return Err(bad(format!(
                "model schema version {} is not the version this ews reads ({MODEL_SCHEMA_VERSION}); retrain it",
                self.schema_version
            )));
        }
        if self.features != model_features() {
            return Err(bad(format!(
                "its features ({}) are not the model features of this ews version ({}); retrain it with `ews train`",
                self.features.join(", "),
                model_features().join(", ")
            )));
        }
        let n = self.features.len();
        if self.means.len() != n
            || self.std_devs.len() != n
            || self.coefficients.len() != n
            || self.directions.len() != n
        {
            return Err(bad(
                "features, directions, means, std_devs and coefficients differ in length".into(),
            ));
        }
        if let Some(j) = (0..n).find(|&j| self.directions[j] != model_directions()[j]) {
            return Err(bad(format!(
                "feature `{}` has direction `{}`, where this ews documents `{}`; retrain it with `ews train`",
                self.features[j],
                self.directions[j].as_str(),
                model_directions()[j].as_str()
            )));
        }
        if let Some(problem) = self.implausible() {
            return Err(bad(format!(
                "{problem}; the file is damaged or was not written by `ews train`: retrain it"
            )));
        }
        if let Some(j) = (0..n)
            .filter(|_| self.sign_constraints.held)
            .find(|&j| !crate::model::bounded::agrees(self.coefficients[j], self.directions[j]))
        {
            return Err(bad(format!(
                "the coefficient of feature `{}` ({}) is against its direction `{}`: `ews train` never writes that; retrain it",
                self.features[j],
                shown(self.coefficients[j]),
                self.directions[j].as_str()
            )));
        }
        Ok(())
    }
}
