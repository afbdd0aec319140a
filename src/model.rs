//! The risk model: training labels, a standardised L2 logistic regression (linfa-logistic),
//! and the model file that scoring reads.
//!
//! The model file is plain JSON so that an analyst can read what the model does: feature names
//! in order, the scaler, coefficients, intercept, training counts and held-out metrics.
//! Scoring needs nothing but this file: probabilities are computed from it directly.

use std::path::Path;

use chrono::NaiveDate;
use linfa::traits::Fit as _;
use linfa::Dataset;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{EwsError, Result};
use crate::features::{FeatureRun, FEATURES};
use crate::metrics::Metrics;

/// Version of the model file layout; scoring refuses other versions.
pub const MODEL_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    pub schema_version: u32,
    pub ews_version: String,
    /// Model features, in the order of `means`, `std_devs` and `coefficients`.
    pub features: Vec<String>,
    /// Training means; a missing value is replaced by its feature's mean (a zero z-score).
    pub means: Vec<f64>,
    pub std_devs: Vec<f64>,
    /// Coefficients on the standardised features (log-odds per standard deviation).
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    pub l2_penalty: f64,
    pub seed: u64,
    pub training: TrainingCounts,
    /// Share of at-risk students among the labelled training students.
    pub base_rate: f64,
    /// Metrics of a model fitted on the other students, on a stratified holdout.
    pub holdout: Metrics,
}

/// How the snapshot's students were used for training.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingCounts {
    pub snapshot_as_of: NaiveDate,
    pub students: usize,
    pub labelled: usize,
    pub positives: usize,
    /// `transferred_out`: excluded by the label rule.
    pub excluded_transferred: usize,
    /// `still_enrolled` before the end of the cohort year: outcome not yet known.
    pub excluded_not_yet_known: usize,
    /// Enrolled students with no row in outcomes.csv.
    pub excluded_no_outcome: usize,
    /// outcomes.csv rows for students not in students.csv (not used).
    pub outcomes_not_enrolled: usize,
    pub holdout_students: usize,
}

/// Training labels per feature-table row: `Some(true)` at risk, `Some(false)` not, `None`
/// excluded.
pub struct Labels {
    pub labels: Vec<Option<bool>>,
    pub excluded_transferred: usize,
    pub excluded_not_yet_known: usize,
    pub excluded_no_outcome: usize,
    pub outcomes_not_enrolled: usize,
}

/// Applies the contract's label rule to outcomes.csv for the students of `run`.
pub fn labels(run: &FeatureRun, outcomes: &DataFrame, config: &Config) -> Result<Labels> {
    let year_start = config.school_year_start();
    let joined = run
        .table
        .clone()
        .lazy()
        .select([col("student_id"), col("cohort_year")])
        .with_row_index("row", None)
        .join(
            outcomes.clone().lazy(),
            [col("student_id")],
            [col("student_id")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["row"], Default::default())
        .collect()?;
    if joined.height() != run.table.height() {
        return Err(EwsError::BadFile {
            path: crate::input::OUTCOMES.name.into(),
            message: "a student has more than one outcome row; expected one per student".into(),
        });
    }
    let outcome = joined.column("outcome")?.str()?;
    let outcome_date = joined.column("outcome_date")?.date()?;
    let cohort = joined.column("cohort_year")?.i32()?;
    let mut result = Labels {
        labels: Vec::with_capacity(joined.height()),
        excluded_transferred: 0,
        excluded_not_yet_known: 0,
        excluded_no_outcome: 0,
        outcomes_not_enrolled: 0,
    };
    for ((outcome, date), cohort) in outcome
        .iter()
        .zip(outcome_date.as_date_iter())
        .zip(cohort.iter())
    {
        let label = match outcome {
            None => {
                result.excluded_no_outcome += 1;
                None
            }
            Some("graduated_on_time") => Some(false),
            Some("graduated_late") | Some("dropped_out") => Some(true),
            Some("still_enrolled") => {
                // The cohort year ends the day before the next school year starts.
                let cohort_end = cohort.map(|c| year_start.in_year(c) - chrono::Days::new(1));
                match (cohort_end, date) {
                    (Some(end), Some(date)) if end <= date => Some(true),
                    _ => {
                        result.excluded_not_yet_known += 1;
                        None
                    }
                }
            }
            Some(_) => {
                result.excluded_transferred += 1;
                None
            }
        };
        result.labels.push(label);
    }
    let enrolled = outcomes
        .clone()
        .lazy()
        .anti_join(
            run.table.clone().lazy(),
            col("student_id"),
            col("student_id"),
        )
        .collect()?;
    result.outcomes_not_enrolled = enrolled.height();
    Ok(result)
}

/// The model features, in order.
pub fn model_features() -> Vec<String> {
    FEATURES
        .iter()
        .filter(|f| f.in_model)
        .map(|f| f.name.to_string())
        .collect()
}

/// Feature values of the table as a students × features matrix; missing values are NaN.
pub fn raw_matrix(table: &DataFrame, features: &[String]) -> Result<Array2<f64>> {
    let mut matrix = Array2::from_elem((table.height(), features.len()), f64::NAN);
    for (j, name) in features.iter().enumerate() {
        let column = table.column(name)?.f64()?;
        for (i, value) in column.iter().enumerate() {
            if let Some(v) = value {
                matrix[[i, j]] = v;
            }
        }
    }
    Ok(matrix)
}

/// Mean and population standard deviation of each column, ignoring missing values.
fn scaler(matrix: &Array2<f64>, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut means = Vec::new();
    let mut std_devs = Vec::new();
    for column in matrix.columns() {
        let values: Vec<f64> = rows
            .iter()
            .map(|&i| column[i])
            .filter(|v| !v.is_nan())
            .collect();
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        means.push(mean);
        // A constant feature carries no information; 1.0 keeps its z-score at 0.
        std_devs.push(if var > 1e-12 { var.sqrt() } else { 1.0 });
    }
    (means, std_devs)
}

/// z-scores of the given rows, missing values at 0 (the mean).
pub fn standardise(
    matrix: &Array2<f64>,
    rows: &[usize],
    means: &[f64],
    std_devs: &[f64],
) -> Array2<f64> {
    let mut z = Array2::zeros((rows.len(), matrix.ncols()));
    for (out, &i) in rows.iter().enumerate() {
        for j in 0..matrix.ncols() {
            let v = matrix[[i, j]];
            z[[out, j]] = if v.is_nan() {
                0.0
            } else {
                (v - means[j]) / std_devs[j]
            };
        }
    }
    z
}

struct Fit {
    means: Vec<f64>,
    std_devs: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
}

impl Fit {
    fn probabilities(&self, matrix: &Array2<f64>, rows: &[usize]) -> Vec<f64> {
        let z = standardise(matrix, rows, &self.means, &self.std_devs);
        z.rows()
            .into_iter()
            .map(|row| {
                sigmoid(
                    self.intercept
                        + row
                            .iter()
                            .zip(&self.coefficients)
                            .map(|(a, b)| a * b)
                            .sum::<f64>(),
                )
            })
            .collect()
    }
}

fn fit(matrix: &Array2<f64>, labels: &[bool], rows: &[usize], config: &Config) -> Result<Fit> {
    let (means, std_devs) = scaler(matrix, rows);
    let z = standardise(matrix, rows, &means, &std_devs);
    let targets: Array1<usize> = rows.iter().map(|&i| labels[i] as usize).collect();
    let model = LogisticRegression::default()
        .alpha(config.model.l2_penalty)
        .max_iterations(config.model.max_iterations)
        .gradient_tolerance(1e-6)
        .fit(&Dataset::new(z, targets))
        .map_err(|e| EwsError::Training(format!("logistic regression did not fit: {e}")))?;
    // linfa's "positive" class is the more frequent one (here usually 0, not at risk), so the
    // signs are turned to give the log-odds of being at risk.
    let sign = if model.labels().pos.class == 1 {
        1.0
    } else {
        -1.0
    };
    Ok(Fit {
        means,
        std_devs,
        coefficients: model.params().iter().map(|c| sign * c).collect(),
        intercept: sign * model.intercept(),
    })
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Splits row indices into (train, holdout), stratified by label, deterministically by seed.
pub fn stratified_split(
    labels: &[bool],
    holdout_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut train = Vec::new();
    let mut holdout = Vec::new();
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n_holdout = (rows.len() as f64 * holdout_fraction).round() as usize;
        holdout.extend_from_slice(&rows[..n_holdout]);
        train.extend_from_slice(&rows[n_holdout..]);
    }
    train.sort_unstable();
    holdout.sort_unstable();
    (train, holdout)
}

/// Trains on the labelled students of `run`: metrics come from a fit on 75% evaluated on a
/// stratified 25% holdout; the model written is then refitted on every labelled student.
pub fn train(run: &FeatureRun, labels: &Labels, config: &Config) -> Result<ModelFile> {
    let features = model_features();
    let all = raw_matrix(&run.table, &features)?;
    let labelled: Vec<usize> = (0..labels.labels.len())
        .filter(|&i| labels.labels[i].is_some())
        .collect();
    let y: Vec<bool> = labelled
        .iter()
        .map(|&i| labels.labels[i] == Some(true))
        .collect();
    let positives = y.iter().filter(|v| **v).count();
    if positives < 10 || y.len() - positives < 10 {
        return Err(EwsError::Training(format!(
            "need at least 10 at-risk and 10 not-at-risk students with known outcomes; found {positives} and {}",
            y.len() - positives
        )));
    }
    let matrix = all.select(ndarray::Axis(0), &labelled);

    let (train_rows, holdout_rows) =
        stratified_split(&y, config.model.holdout_fraction, config.model.seed);
    let split_fit = fit(&matrix, &y, &train_rows, config)?;
    let holdout_scores = split_fit.probabilities(&matrix, &holdout_rows);
    let holdout_labels: Vec<bool> = holdout_rows.iter().map(|&i| y[i]).collect();
    let holdout = Metrics::compute(&holdout_scores, &holdout_labels);

    let every_row: Vec<usize> = (0..y.len()).collect();
    let full = fit(&matrix, &y, &every_row, config)?;
    Ok(ModelFile {
        schema_version: MODEL_SCHEMA_VERSION,
        ews_version: env!("CARGO_PKG_VERSION").to_string(),
        features,
        means: full.means,
        std_devs: full.std_devs,
        coefficients: full.coefficients,
        intercept: full.intercept,
        l2_penalty: config.model.l2_penalty,
        seed: config.model.seed,
        training: TrainingCounts {
            snapshot_as_of: run.as_of,
            students: run.table.height(),
            labelled: y.len(),
            positives,
            excluded_transferred: labels.excluded_transferred,
            excluded_not_yet_known: labels.excluded_not_yet_known,
            excluded_no_outcome: labels.excluded_no_outcome,
            outcomes_not_enrolled: labels.outcomes_not_enrolled,
            holdout_students: holdout_rows.len(),
        },
        base_rate: positives as f64 / y.len() as f64,
        holdout,
    })
}

impl ModelFile {
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| EwsError::Model {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        crate::output::write_atomically(path, (text + "\n").as_bytes())
    }

    pub fn load(path: &Path) -> Result<ModelFile> {
        let text = std::fs::read_to_string(path).map_err(|e| EwsError::Model {
            path: path.to_path_buf(),
            message: format!(
                "cannot read: {e} (train one with `ews train SNAPSHOT --out {}`)",
                path.display()
            ),
        })?;
        let model: ModelFile = serde_json::from_str(&text).map_err(|e| EwsError::Model {
            path: path.to_path_buf(),
            message: format!("not an ews model file: {e}"),
        })?;
        model.check(path)?;
        Ok(model)
    }

    fn check(&self, path: &Path) -> Result<()> {
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
        let n = self.features.len();
        if self.means.len() != n || self.std_devs.len() != n || self.coefficients.len() != n {
            return Err(bad(
                "features, means, std_devs and coefficients differ in length".into(),
            ));
        }
        for name in &self.features {
            if crate::features::feature(name).is_none() {
                return Err(bad(format!(
                    "unknown feature `{name}`; retrain the model with this ews version"
                )));
            }
        }
        let finite = |v: &f64| v.is_finite();
        if !(self.means.iter().all(finite)
            && self.std_devs.iter().all(|s| s.is_finite() && *s > 0.0)
            && self.coefficients.iter().all(finite)
            && self.intercept.is_finite())
        {
            return Err(bad(
                "non-finite or non-positive numbers in the scaler or coefficients".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_and_reproducible() {
        let labels: Vec<bool> = (0..100).map(|i| i % 5 == 0).collect();
        let (train, holdout) = stratified_split(&labels, 0.25, 7);
        assert_eq!(holdout.len(), 25);
        assert_eq!(holdout.iter().filter(|&&i| labels[i]).count(), 5);
        assert_eq!(train.len() + holdout.len(), 100);
        assert_eq!(
            stratified_split(&labels, 0.25, 7),
            (train.clone(), holdout.clone())
        );
        assert_ne!(stratified_split(&labels, 0.25, 8).1, holdout);
    }

    #[test]
    fn scaler_ignores_missing_values() {
        let m = ndarray::array![[1.0, 5.0], [3.0, 5.0], [f64::NAN, 5.0]];
        let (means, sds) = scaler(&m, &[0, 1, 2]);
        assert_eq!(means, vec![2.0, 5.0]);
        assert_eq!(sds, vec![1.0, 1.0]); // sd of {1,3} is 1; a constant column gets 1
        let z = standardise(&m, &[0, 2], &means, &sds);
        assert_eq!(z, ndarray::array![[-1.0, 0.0], [0.0, 0.0]]);
    }
}
