//! The risk model: training labels, a standardised L2 logistic regression (linfa-logistic),
//! and the model file that scoring reads.
//!
//! The model file is plain JSON so that an analyst can read what the model does: feature names
//! in order, the scaler, coefficients, intercept, training counts and held-out metrics.
//! Scoring needs nothing but this file: probabilities are computed from it directly.

pub mod bounded;
pub mod checkpoints;
pub mod equity;
pub mod evaluate;
pub mod metrics;
pub mod model_card;
pub mod sample;
pub mod score;

mod file;

pub use file::{
    model_directions, model_features, Calibration, CalibrationReport, CheckpointReport, CvPoint,
    Hyperparameters, ModelFile, NamedCoefficient, SignConstraints, SkippedCheckpoint,
    TrainingCounts, MAX_ABS_COEFFICIENT, MAX_ABS_INTERCEPT, MAX_ABS_MEAN, MIN_STD_DEV,
    MODEL_SCHEMA_VERSION,
};

use linfa::traits::Fit as _;
use linfa::Dataset;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};
use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::config::Config;
use crate::features::{Direction, FeatureRun};
use crate::io::error::{EwsError, Result};
use crate::model::metrics::Metrics;

/// Training labels per feature-table row: `Some(true)` at risk, `Some(false)` not, `None`
/// excluded.
pub struct Labels {
    pub labels: Vec<Option<bool>>,
    pub excluded_transferred: usize,
    pub excluded_not_yet_known: usize,
    pub excluded_no_outcome: usize,
    /// Enrollment exits the config maps to `other` (contract, part 2).
    pub excluded_other_exit: usize,
    pub outcomes_not_enrolled: usize,
    /// When training kept a sample of the labelled students ([`sample`]): what the snapshot
    /// held before it. The excluded counts above are always the whole snapshot's.
    pub sampled_from: Option<sample::SampledFrom>,
}

impl Labels {
    /// Keeps the labels of the rows marked in `keep` ([`crate::features::FeatureRun::keep_rows`]).
    pub fn keep_rows(&mut self, keep: &[bool]) {
        crate::features::keep_marked(&mut self.labels, keep);
    }

    /// Appends the labels of the next partition of students (their table rows follow).
    pub fn append(&mut self, next: Labels) {
        self.labels.extend(next.labels);
        self.excluded_transferred += next.excluded_transferred;
        self.excluded_not_yet_known += next.excluded_not_yet_known;
        self.excluded_no_outcome += next.excluded_no_outcome;
        self.excluded_other_exit += next.excluded_other_exit;
        self.outcomes_not_enrolled += next.outcomes_not_enrolled;
    }
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
            path: crate::contract::OUTCOMES.name.into(),
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
        excluded_other_exit: 0,
        outcomes_not_enrolled: 0,
        sampled_from: None,
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
            // An enrollment exit: on time when on or before August 31 of the cohort year.
            Some("graduated") => match (cohort, date) {
                (Some(cohort), Some(date)) => {
                    chrono::NaiveDate::from_ymd_opt(cohort, 8, 31).map(|deadline| date > deadline)
                }
                _ => {
                    result.excluded_not_yet_known += 1;
                    None
                }
            },
            Some("other") => {
                result.excluded_other_exit += 1;
                None
            }
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

/// Model inputs of the table as a students × features matrix: a feature's values (missing
/// values NaN), or for a missing-value indicator 1 where its feature is missing and 0 where
/// it is known.
pub fn raw_matrix(table: &DataFrame, features: &[String]) -> Result<Array2<f64>> {
    let mut matrix = Array2::from_elem((table.height(), features.len()), f64::NAN);
    let every_row: Vec<usize> = (0..table.height()).collect();
    fill_inputs(table, features, &every_row, matrix.view_mut())?;
    Ok(matrix)
}

/// Writes the model inputs of the table's `rows` (ascending) into `out`, one row of `out`
/// per row taken, as [`raw_matrix`] defines them. `out` starts as NaN (missing).
fn fill_inputs(
    table: &DataFrame,
    features: &[String],
    rows: &[usize],
    mut out: ndarray::ArrayViewMut2<f64>,
) -> Result<()> {
    for (j, name) in features.iter().enumerate() {
        let (column, indicator) = match crate::features::model_input(name) {
            Some(crate::features::ModelInput::MissingIndicator { of, .. }) => {
                (table.column(of.name)?.f64()?, true)
            }
            _ => (table.column(name)?.f64()?, false),
        };
        let mut taken = rows.iter().enumerate().peekable();
        for (i, value) in column.iter().enumerate() {
            let Some((k, _)) = taken.next_if(|(_, &row)| row == i) else {
                continue;
            };
            if indicator {
                out[[k, j]] = if value.is_some() { 0.0 } else { 1.0 };
            } else if let Some(v) = value {
                out[[k, j]] = v;
            }
        }
    }
    Ok(())
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

/// z-scores of the given rows, missing values at 0 (the mean), in column-major order.
///
/// Column-major because the fits' gradients are `zᵀ·r`: ndarray (without BLAS) computes that
/// as one dot product per column of `z`, and a column that is contiguous is read once, where
/// a row-major `z` is read once per feature, a cache line per value (docs/performance.md,
/// "The fit's memory layout, and Newton for the fits nobody reads").
pub fn standardise(
    matrix: &Array2<f64>,
    rows: &[usize],
    means: &[f64],
    std_devs: &[f64],
) -> Array2<f64> {
    let mut z = Array2::zeros((rows.len(), matrix.ncols()).f());
    for (out, &i) in rows.iter().enumerate() {
        for j in 0..matrix.ncols() {
            z[[out, j]] = z_score(matrix[[i, j]], means[j], std_devs[j]);
        }
    }
    z
}

/// One value standardised as [`standardise`] does: its z-score, 0 (the mean) when missing.
/// Scoring computes it as it goes rather than holding a standardised copy of the district.
pub fn z_score(value: f64, mean: f64, std_dev: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        (value - mean) / std_dev
    }
}

/// The log-odds of a model for one row of raw inputs: the intercept plus each coefficient
/// times its input's [`z_score`]. Scoring and the held-out figures of training both use it.
pub fn log_odds(
    raw: impl IntoIterator<Item = f64>,
    means: &[f64],
    std_devs: &[f64],
    coefficients: &[f64],
    intercept: f64,
) -> f64 {
    intercept
        + raw
            .into_iter()
            .zip(means)
            .zip(std_devs)
            .map(|((value, &mean), &std_dev)| z_score(value, mean, std_dev))
            .zip(coefficients)
            .map(|(z, coefficient)| z * coefficient)
            .sum::<f64>()
}

struct Fit {
    means: Vec<f64>,
    std_devs: Vec<f64>,
    coefficients: Vec<f64>,
    intercept: f64,
    /// The solver's own parameters (its sign convention, intercept last): a warm start for
    /// the next fit on similar rows.
    solver_params: Array1<f64>,
    /// The coefficients linfa's unconstrained fit had against their direction (feature index,
    /// coefficient); the bounded refit replaced them.
    against_direction: Vec<(usize, f64)>,
}

impl Fit {
    fn probabilities(&self, matrix: &Array2<f64>, rows: &[usize]) -> Vec<f64> {
        rows.iter()
            .map(|&i| {
                sigmoid(log_odds(
                    matrix.row(i).iter().copied(),
                    &self.means,
                    &self.std_devs,
                    &self.coefficients,
                    self.intercept,
                ))
            })
            .collect()
    }
}

/// Rows of a raw matrix as the z-scores of a scaler, made a block at a time as a fit reads
/// them ([`bounded::Design`]): a fit on 75% of the district's training rows holds one block
/// of them, not a standardised copy.
struct Standardised<'a> {
    matrix: &'a Array2<f64>,
    rows: &'a [usize],
    means: &'a [f64],
    std_devs: &'a [f64],
}

impl bounded::Design for Standardised<'_> {
    fn rows(&self) -> usize {
        self.rows.len()
    }

    fn features(&self) -> usize {
        self.matrix.ncols()
    }

    fn for_each_block(&self, visit: &mut dyn FnMut(usize, ndarray::ArrayView2<f64>)) {
        let size = bounded::ROW_BLOCK.min(self.rows.len());
        let mut block = Array2::zeros((size, self.matrix.ncols()).f());
        for (b, chunk) in self.rows.chunks(bounded::ROW_BLOCK).enumerate() {
            let mut view = block.slice_mut(ndarray::s![..chunk.len(), ..]);
            for (j, mut target) in view.columns_mut().into_iter().enumerate() {
                let source = self.matrix.column(j);
                let (mean, std_dev) = (self.means[j], self.std_devs[j]);
                for (value, &i) in target.iter_mut().zip(chunk) {
                    *value = z_score(source[i], mean, std_dev);
                }
            }
            visit(b * bounded::ROW_BLOCK, view.view());
        }
    }
}

/// Convergence tolerance of a fit: on the gradient of the mean log loss.
const GRADIENT_TOLERANCE_PER_STUDENT: f64 = 1e-6;

/// Fits the standardised logistic regression on `rows` with every coefficient held to its
/// feature's direction. linfa-logistic fits first; when a coefficient comes out against its
/// direction, the bounded Newton solver ([`bounded`]) refits from there with the bounds (the
/// optimum of a convex problem whose unconstrained optimum breaks a bound lies on that
/// bound's face, so the refit starts close). `start` is a warm start for linfa (the solver
/// parameters of a fit on similar rows): the problem is strictly convex, so it changes the
/// number of iterations, not the optimum.
fn fit(
    matrix: &Array2<f64>,
    labels: &[bool],
    rows: &[usize],
    l2_penalty: f64,
    config: &Config,
    start: Option<&Array1<f64>>,
) -> Result<Fit> {
    let (means, std_devs) = scaler(matrix, rows);
    let z = standardise(matrix, rows, &means, &std_devs);
    let y: Vec<bool> = rows.iter().map(|&i| labels[i]).collect();
    fit_standardised(z, &y, means, std_devs, l2_penalty, config, start)
}

/// [`fit`] on every row of `matrix` (column-major), standardised where it is: the final fit,
/// on every labelled row, without a second copy of the district's training rows.
fn fit_every_row(
    mut matrix: Array2<f64>,
    labels: &[bool],
    l2_penalty: f64,
    config: &Config,
    start: Option<&Array1<f64>>,
) -> Result<Fit> {
    let every_row: Vec<usize> = (0..matrix.nrows()).collect();
    let (means, std_devs) = scaler(&matrix, &every_row);
    drop(every_row);
    for ((mut column, mean), std_dev) in matrix.columns_mut().into_iter().zip(&means).zip(&std_devs)
    {
        column.mapv_inplace(|value| z_score(value, *mean, *std_dev));
    }
    if matrix.is_standard_layout() && matrix.ncols() > 1 {
        // Row-major (not what `stack` builds): the fits' gradients want columns.
        let mut columns = Array2::zeros(matrix.raw_dim().f());
        columns.assign(&matrix);
        matrix = columns;
    }
    fit_standardised(matrix, labels, means, std_devs, l2_penalty, config, start)
}

/// The fit of [`fit`] on z-scores already made (`z`, column-major, one row per label).
fn fit_standardised(
    z: Array2<f64>,
    y: &[bool],
    means: Vec<f64>,
    std_devs: Vec<f64>,
    l2_penalty: f64,
    config: &Config,
    start: Option<&Array1<f64>>,
) -> Result<Fit> {
    let targets: Array1<usize> = y.iter().map(|&label| label as usize).collect();
    // linfa minimises the *sum* of the students' log losses: its gradient grows with the
    // district, so the tolerance is per student (1e-6 on the mean loss's gradient). A fixed
    // one made a 100,000-student fit run to hundreds of iterations for digits nobody uses.
    let mut solver = LogisticRegression::default()
        .alpha(l2_penalty)
        .max_iterations(config.model.max_iterations)
        .gradient_tolerance(GRADIENT_TOLERANCE_PER_STUDENT * y.len() as f64);
    if let Some(start) = start {
        solver = solver.initial_params(start.clone());
    }
    let dataset = Dataset::new(z, targets);
    let model = solver
        .fit(&dataset)
        .map_err(|e| EwsError::Training(format!("logistic regression did not fit: {e}")))?;
    // linfa's "positive" class is the more frequent one (here usually 0, not at risk), so the
    // signs are turned to give the log-odds of being at risk.
    let sign = if model.labels().pos.class == 1 {
        1.0
    } else {
        -1.0
    };
    // A feature constant on these rows (an indicator no student has) carries nothing: its
    // coefficient is exactly 0 rather than the solver's rounding noise.
    let constant = bounded::zero_columns(dataset.records());
    let mut coefficients: Vec<f64> = model
        .params()
        .iter()
        .zip(&constant)
        .map(|(c, constant)| if *constant { 0.0 } else { sign * c })
        .collect();
    let mut intercept = sign * model.intercept();
    let directions = model_directions();
    let against_direction: Vec<(usize, f64)> = coefficients
        .iter()
        .zip(&directions)
        .enumerate()
        .filter(|(_, (c, d))| !bounded::agrees(**c, **d))
        .map(|(j, (c, _))| (j, *c))
        .collect();
    if config.model.hold_directions && !against_direction.is_empty() {
        let refit = bounded::fit(
            dataset.records(),
            y,
            l2_penalty,
            &directions,
            Some((&coefficients, intercept)),
            GRADIENT_TOLERANCE_PER_STUDENT * y.len() as f64,
            config.model.max_iterations,
        )
        .map_err(EwsError::Training)?;
        coefficients = refit
            .coefficients
            .into_iter()
            .zip(&constant)
            .map(|(c, constant)| if *constant { 0.0 } else { c })
            .collect();
        intercept = refit.intercept;
    }
    Ok(Fit {
        means,
        std_devs,
        coefficients,
        intercept,
        solver_params: model
            .params()
            .iter()
            .copied()
            .chain(std::iter::once(model.intercept()))
            .collect(),
        against_direction,
    })
}

/// Fits the same model as [`fit`] with the Newton solver of [`bounded`] alone, from `start`
/// (a fit on similar rows): for the fits whose coefficients are not written, the
/// cross-validation's and the one that measures the held-out figures.
///
/// With `model.hold_directions` (the default) the model is the optimum of a strictly convex
/// problem within the directions' bounds, and both solvers find it to the same tolerance;
/// without, every bound is open and Newton finds the unconstrained optimum linfa does. At
/// 100,000 students linfa took 130–160 ms for each cross-validation fit even from a warm
/// start, and the Newton refit after it 3 or 4 steps (docs/performance.md, "The fit's memory
/// layout, and Newton for the fits nobody reads"). When no Newton step can be taken (a
/// singular Hessian: no penalty, with collinear or separable rows), the fit falls back to
/// [`fit`].
fn fit_newton(
    matrix: &Array2<f64>,
    labels: &[bool],
    rows: &[usize],
    l2_penalty: f64,
    config: &Config,
    start: &Fit,
) -> Result<Fit> {
    let (means, std_devs) = scaler(matrix, rows);
    let z = Standardised {
        matrix,
        rows,
        means: &means,
        std_devs: &std_devs,
    };
    let y: Vec<bool> = rows.iter().map(|&i| labels[i]).collect();
    let directions = if config.model.hold_directions {
        model_directions()
    } else {
        vec![Direction::None; matrix.ncols()]
    };
    let solved = bounded::fit(
        &z,
        &y,
        l2_penalty,
        &directions,
        Some((&start.coefficients, start.intercept)),
        GRADIENT_TOLERANCE_PER_STUDENT * rows.len() as f64,
        config.model.max_iterations,
    );
    let Ok(solved) = solved else {
        return fit(
            matrix,
            labels,
            rows,
            l2_penalty,
            config,
            Some(&start.solver_params),
        );
    };
    let coefficients = solved
        .coefficients
        .into_iter()
        .zip(bounded::zero_columns(&z))
        .map(|(c, zero)| if zero { 0.0 } else { c })
        .collect();
    Ok(Fit {
        means,
        std_devs,
        coefficients,
        intercept: solved.intercept,
        solver_params: start.solver_params.clone(),
        against_direction: Vec::new(),
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

/// One checkpoint of training: the students' features as of its date, and their labels.
pub struct CheckpointRows<'a> {
    /// The checkpoint as configured (`MM-DD`).
    pub checkpoint: String,
    pub run: &'a FeatureRun,
    pub labels: &'a Labels,
}

/// The labelled rows of every checkpoint, stacked: one row per student and checkpoint. Once
/// stacked, the checkpoints' feature tables can go ([`stack`]): the fits read this alone.
pub struct Stacked {
    matrix: Array2<f64>,
    y: Vec<bool>,
    /// The student of each row (an index into `student_labels`).
    student: Vec<usize>,
    /// The checkpoint of each row, and its row in that checkpoint's feature table.
    checkpoint: Vec<usize>,
    table_row: Vec<usize>,
    /// Each student's label (the same at every checkpoint: it is the outcome).
    student_labels: Vec<bool>,
    /// Each checkpoint as configured (`MM-DD`), its as-of date and school year, in order:
    /// the last is the training snapshot's own date.
    checkpoints: Vec<(String, chrono::NaiveDate, i32)>,
}

/// Stacks the labelled rows of every checkpoint (the last is the training snapshot's own
/// as-of date) for [`train`]. A state-sized sample holds its checkpoints' tables and the
/// stacked rows at once only here: the caller lets the tables go before the fits
/// (docs/performance.md, "Training on a sample").
pub fn stack(checkpoints: &[CheckpointRows]) -> Result<Stacked> {
    let features = model_features();
    // One column-major matrix of every labelled row, filled checkpoint by checkpoint: the
    // fits read it by columns, and the final fit standardises it where it is.
    let labelled_rows: usize = checkpoints
        .iter()
        .map(|rows| rows.labels.labels.iter().filter(|l| l.is_some()).count())
        .sum();
    let mut stacked = Stacked {
        matrix: Array2::from_elem((labelled_rows, features.len()).f(), f64::NAN),
        y: Vec::new(),
        student: Vec::new(),
        checkpoint: Vec::new(),
        table_row: Vec::new(),
        student_labels: Vec::new(),
        checkpoints: checkpoints
            .iter()
            .map(|rows| {
                (
                    rows.checkpoint.clone(),
                    rows.run.as_of,
                    rows.run.school_year,
                )
            })
            .collect(),
    };
    let mut index: rustc_hash::FxHashMap<String, usize> = Default::default();
    for (c, rows) in checkpoints.iter().enumerate() {
        let ids = rows.run.table.column("student_id")?.str()?;
        let labelled: Vec<usize> = (0..rows.labels.labels.len())
            .filter(|&i| rows.labels.labels[i].is_some())
            .collect();
        for &i in &labelled {
            let label = rows.labels.labels[i] == Some(true);
            let id = ids.get(i).unwrap_or_default().to_string();
            let next = stacked.student_labels.len();
            let student = *index.entry(id).or_insert(next);
            if student == next {
                stacked.student_labels.push(label);
            }
            stacked.y.push(label);
            stacked.student.push(student);
            stacked.checkpoint.push(c);
            stacked.table_row.push(i);
        }
        let first = stacked.y.len() - labelled.len();
        fill_inputs(
            &rows.run.table,
            &features,
            &labelled,
            stacked
                .matrix
                .slice_mut(ndarray::s![first..stacked.y.len(), ..]),
        )?;
    }
    Ok(stacked)
}

/// The rows of the students marked in `chosen`.
fn rows_of(student: &[usize], chosen: &[bool]) -> Vec<usize> {
    (0..student.len()).filter(|&r| chosen[student[r]]).collect()
}

/// Trains on the labelled students of every checkpoint, [`stack`]ed; `run` and `labels` are
/// the training snapshot's own (its counts). Rows of one student at several checkpoints
/// always stay together: a stratified holdout of students (25% by default) is set aside; the penalty is chosen by
/// k-fold cross-validation with folds of students; a fit on the rest gives the held-out
/// metrics (pooled, and per checkpoint) and, when needed, the calibration step; the model
/// written is then refitted on every row with the chosen penalty.
pub fn train(
    mut stacked: Stacked,
    run: &FeatureRun,
    labels: &Labels,
    skipped: Vec<SkippedCheckpoint>,
    fingerprint: &str,
    config: &Config,
) -> Result<Trained> {
    let features = model_features();
    let Some(last) = stacked.checkpoints.len().checked_sub(1) else {
        return Err(EwsError::Training("no checkpoint to train at".into()));
    };
    crate::io::memory::return_freed();
    let (matrix, y) = (&stacked.matrix, &stacked.y);
    let students = &stacked.student_labels;
    let positives = students.iter().filter(|v| **v).count();
    if positives < 10 || students.len() - positives < 10 {
        return Err(EwsError::Training(format!(
            "need at least 10 at-risk and 10 not-at-risk students with known outcomes; found {positives} and {}",
            students.len() - positives
        )));
    }

    let (train_students, holdout_students) =
        stratified_split(students, config.model.holdout_fraction, config.model.seed);
    let marked = |chosen: &[usize]| {
        let mut marks = vec![false; students.len()];
        for &s in chosen {
            marks[s] = true;
        }
        marks
    };
    let train_rows = rows_of(&stacked.student, &marked(&train_students));
    let holdout_rows = rows_of(&stacked.student, &marked(&holdout_students));
    // A pilot fit on the cross-validation's students warm-starts every later fit: their
    // optima are close (most of the same students, penalties that barely move standardised
    // coefficients), so each needs few iterations.
    let cv_students = cv_sample(students, &train_students, config);
    let cv_rows = rows_of(&stacked.student, &marked(&cv_students));
    let student_folds = stratified_folds(
        &cv_students.iter().map(|&s| students[s]).collect::<Vec<_>>(),
        config.model.cv_folds,
        config.model.seed.wrapping_add(1),
    );
    let mut fold_of_student = vec![0; students.len()];
    for (k, &s) in cv_students.iter().enumerate() {
        fold_of_student[s] = student_folds[k];
    }
    let cv_folds: Vec<usize> = cv_rows
        .iter()
        .map(|&r| fold_of_student[stacked.student[r]])
        .collect();
    let pilot_penalty = config.model.l2_grid.first().copied().unwrap_or(1.0);
    let pilot = fit(matrix, y, &cv_rows, pilot_penalty, config, None)?;
    let cross_validation = cross_validate(matrix, y, &cv_rows, &cv_folds, config, &pilot)?;
    let l2_penalty = choose_penalty(&cross_validation);
    // The fit on the training rows (for the held-out figures), then the final fit on every
    // labelled row, one after the other: the final fit standardises the training rows where
    // they are, and the two side by side held three copies of them (docs/performance.md,
    // "The fit's memory layout, and Newton for the fits nobody reads").
    let split_fit = fit_newton(matrix, y, &train_rows, l2_penalty, config, &pilot)?;
    let holdout_scores = split_fit.probabilities(matrix, &holdout_rows);
    drop(split_fit);
    crate::io::memory::return_freed();
    let full = fit_every_row(
        std::mem::take(&mut stacked.matrix),
        y,
        l2_penalty,
        config,
        Some(&pilot.solver_params),
    )?;
    let holdout_labels: Vec<bool> = holdout_rows.iter().map(|&i| y[i]).collect();
    let holdout = Metrics::compute(&holdout_scores, &holdout_labels);
    // Calibration per checkpoint: a record says something else in October than in March,
    // and one scaling for the whole year leaves both off.
    let mut holdout_risks = holdout_scores.clone();
    let mut cross_fitted = holdout_scores.clone();
    let mut checkpoint_reports = Vec::with_capacity(stacked.checkpoints.len());
    for (c, (checkpoint, as_of, school_year)) in stacked.checkpoints.iter().enumerate() {
        let mine: Vec<usize> = (0..holdout_rows.len())
            .filter(|&k| stacked.checkpoint[holdout_rows[k]] == c)
            .collect();
        let scores: Vec<f64> = mine.iter().map(|&k| holdout_scores[k]).collect();
        let labels: Vec<bool> = mine.iter().map(|&k| holdout_labels[k]).collect();
        let (step, report, after) = calibrate(&scores, &labels, config.model.max_calibration_error);
        for (n, &k) in mine.iter().enumerate() {
            if let Some(step) = step {
                holdout_risks[k] = sigmoid(step.apply(logit(holdout_scores[k])));
                cross_fitted[k] = after[n];
            }
        }
        let risks: Vec<f64> = mine.iter().map(|&k| holdout_risks[k]).collect();
        let auc = crate::model::metrics::auc_roc(&risks, &labels);
        let ece = crate::model::metrics::expected_calibration_error(
            &crate::model::metrics::calibration_table(&risks, &labels),
        );
        checkpoint_reports.push(CheckpointReport {
            checkpoint: checkpoint.clone(),
            as_of: *as_of,
            school_year_fraction: crate::features::school_year_fraction(
                *as_of,
                config.school_year_first_day(*school_year),
            ),
            training_rows: stacked.checkpoint.iter().filter(|&&k| k == c).count(),
            holdout_rows: mine.len(),
            holdout_auc_roc: auc.is_finite().then_some(auc),
            holdout_expected_calibration_error: ece.is_finite().then_some(ece),
            calibration: step,
            holdout_calibration: report,
        });
    }
    let holdout_calibration = CalibrationReport {
        applied: checkpoint_reports.iter().any(|c| c.calibration.is_some()),
        ..measure_calibration(&holdout_scores, &cross_fitted, &holdout_labels)
    };
    // The model card's figures: the holdout students at the snapshot's own date.
    let main_holdout: Vec<usize> = (0..holdout_rows.len())
        .filter(|&k| stacked.checkpoint[holdout_rows[k]] == last)
        .collect();

    let sign_constraints = SignConstraints {
        held: config.model.hold_directions,
        against_direction_unconstrained: full
            .against_direction
            .iter()
            .map(|&(j, coefficient)| NamedCoefficient {
                feature: features[j].clone(),
                coefficient,
            })
            .collect(),
        held_at_zero: full
            .coefficients
            .iter()
            .zip(&features)
            .zip(model_directions())
            // At its bound: only a refit with bounds puts a coefficient exactly there.
            .filter(|((c, _), d)| {
                **c == 0.0
                    && *d != Direction::None
                    && config.model.hold_directions
                    && !full.against_direction.is_empty()
            })
            .map(|((_, name), _)| name.clone())
            .collect(),
    };
    let model = ModelFile {
        schema_version: MODEL_SCHEMA_VERSION,
        ews_version: env!("CARGO_PKG_VERSION").to_string(),
        directions: model_directions(),
        features,
        means: full.means,
        std_devs: full.std_devs,
        coefficients: full.coefficients,
        intercept: full.intercept,
        sign_constraints,
        hyperparameters: Hyperparameters {
            l2_penalty,
            l2_grid: config.model.l2_grid.clone(),
            cv_folds: config.model.cv_folds,
            cv_max_students: Some(config.model.cv_max_students),
            max_training_students: Some(config.model.max_training_students),
            holdout_fraction: config.model.holdout_fraction,
            seed: config.model.seed,
            max_iterations: config.model.max_iterations,
        },
        cross_validation,
        fingerprint: fingerprint.to_string(),
        checkpoints: checkpoint_reports,
        skipped_checkpoints: skipped,
        training: TrainingCounts {
            snapshot_as_of: run.as_of,
            students: labels
                .sampled_from
                .map_or(run.table.height(), |from| from.students),
            labelled: labels.sampled_from.map_or_else(
                || labels.labels.iter().filter(|l| l.is_some()).count(),
                |from| from.labelled,
            ),
            sample: labels
                .sampled_from
                .map(|_| labels.labels.iter().filter(|l| l.is_some()).count()),
            positives: labels.labels.iter().filter(|l| **l == Some(true)).count(),
            rows: y.len(),
            excluded_transferred: labels.excluded_transferred,
            excluded_not_yet_known: labels.excluded_not_yet_known,
            excluded_no_outcome: labels.excluded_no_outcome,
            excluded_other_exit: labels.excluded_other_exit,
            outcomes_not_enrolled: labels.outcomes_not_enrolled,
            holdout_students: holdout_students.len(),
        },
        base_rate: positives as f64 / students.len() as f64,
        holdout,
        holdout_calibration,
    };
    // Scoring refuses such a model; it is not written either.
    if let Some(problem) = model.implausible() {
        return Err(EwsError::Training(format!(
            "the fitted model is implausible ({problem}): does a feature separate the outcomes perfectly (an outcome recorded in the features)? Try larger penalties in `model.l2_grid`"
        )));
    }
    Ok(Trained {
        model,
        holdout_rows: main_holdout
            .iter()
            .map(|&k| stacked.table_row[holdout_rows[k]])
            .collect(),
        holdout_risks: main_holdout.iter().map(|&k| holdout_risks[k]).collect(),
        holdout_labels: main_holdout.iter().map(|&k| holdout_labels[k]).collect(),
    })
}

/// A trained model and its held-out predictions at the snapshot's own date (rows of that
/// checkpoint's feature table), for the equity audit and the model card.
pub struct Trained {
    pub model: ModelFile,
    pub holdout_rows: Vec<usize>,
    pub holdout_risks: Vec<f64>,
    pub holdout_labels: Vec<bool>,
}

pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

/// Assigns each row to one of `k` folds, stratified by label, deterministically by seed.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut folds = vec![0; labels.len()];
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        for (n, row) in rows.into_iter().enumerate() {
            folds[row] = n % k;
        }
    }
    folds
}

/// The training students the cross-validation uses: all of them, or a stratified sample of
/// `model.cv_max_students` (deterministic by seed).
fn cv_sample(y: &[bool], train_students: &[usize], config: &Config) -> Vec<usize> {
    let max = config.model.cv_max_students;
    if train_students.len() <= max {
        return train_students.to_vec();
    }
    let labels: Vec<bool> = train_students.iter().map(|&i| y[i]).collect();
    let share = max as f64 / train_students.len() as f64;
    let (_, sample) = stratified_split(&labels, share, config.model.seed.wrapping_add(2));
    sample.into_iter().map(|i| train_students[i]).collect()
}

/// k-fold cross-validation of every penalty of the grid on `rows`, `folds` giving each row's
/// fold (folds of students, stratified by label, so a student's checkpoints stay in one); the
/// fits run in parallel and each is deterministic, so the result does not depend on the
/// thread count.
fn cross_validate(
    matrix: &Array2<f64>,
    y: &[bool],
    rows: &[usize],
    folds: &[usize],
    config: &Config,
    start: &Fit,
) -> Result<Vec<CvPoint>> {
    use rayon::prelude::*;
    let k = config.model.cv_folds;
    let jobs: Vec<(usize, usize)> = (0..config.model.l2_grid.len())
        .flat_map(|p| (0..k).map(move |f| (p, f)))
        .collect();
    let results: Vec<Result<(f64, f64)>> = jobs
        .par_iter()
        .map(|&(p, f)| {
            let fit_rows: Vec<usize> = (0..rows.len())
                .filter(|&i| folds[i] != f)
                .map(|i| rows[i])
                .collect();
            let test_rows: Vec<usize> = (0..rows.len())
                .filter(|&i| folds[i] == f)
                .map(|i| rows[i])
                .collect();
            let model = fit_newton(matrix, y, &fit_rows, config.model.l2_grid[p], config, start)?;
            let scores = model.probabilities(matrix, &test_rows);
            let labels: Vec<bool> = test_rows.iter().map(|&i| y[i]).collect();
            Ok((
                crate::model::metrics::auc_roc(&scores, &labels),
                crate::model::metrics::log_loss(&scores, &labels),
            ))
        })
        .collect();
    let mut points = Vec::new();
    for (p, &penalty) in config.model.l2_grid.iter().enumerate() {
        let mut aucs = Vec::with_capacity(k);
        let mut losses = Vec::with_capacity(k);
        for (job, result) in jobs.iter().zip(&results) {
            if job.0 == p {
                let (auc, loss) = result
                    .as_ref()
                    .map_err(|e| EwsError::Training(e.to_string()))?;
                aucs.push(*auc);
                losses.push(*loss);
            }
        }
        let n = aucs.len() as f64;
        let mean = aucs.iter().sum::<f64>() / n;
        let var = aucs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        points.push(CvPoint {
            l2_penalty: penalty,
            mean_auc_roc: mean,
            se_auc_roc: (var / n).sqrt(),
            mean_log_loss: losses.iter().sum::<f64>() / n,
        });
    }
    Ok(points)
}

/// The penalty with the lowest mean cross-validated log loss (a proper scoring rule, so the
/// choice also serves the probabilities; AUC alone barely moves with the penalty because
/// shrinking standardised coefficients changes their scale more than their direction). Ties go
/// to the larger penalty, the simpler model.
pub fn choose_penalty(points: &[CvPoint]) -> f64 {
    points
        .iter()
        .filter(|p| p.mean_log_loss.is_finite())
        .min_by(|a, b| {
            a.mean_log_loss
                .total_cmp(&b.mean_log_loss)
                .then(b.l2_penalty.total_cmp(&a.l2_penalty))
        })
        .or(points.first())
        .map(|p| p.l2_penalty)
        .unwrap_or(1.0)
}

/// Fits beta calibration ([`Calibration`]): a logistic regression of the outcome on ln p and
/// −ln(1 − p) with both coefficients held at or above 0 (the bounded solver of [`bounded`], a
/// negligible ridge of 1e-6 so that separable data still have an optimum).
pub fn fit_calibration(probabilities: &[f64], labels: &[bool]) -> Calibration {
    let inputs = Array2::from_shape_fn((probabilities.len(), 2), |(i, j)| {
        let p = probabilities[i].clamp(1e-12, 1.0 - 1e-12);
        if j == 0 {
            p.ln()
        } else {
            -(1.0 - p).ln()
        }
    });
    let identity = Calibration::IDENTITY;
    bounded::fit(
        &inputs,
        labels,
        1e-6,
        &[Direction::Risk, Direction::Risk],
        Some((&[identity.a, identity.b], identity.c)),
        1e-9 * probabilities.len().max(1) as f64,
        100,
    )
    .map(|fit| Calibration {
        a: fit.coefficients[0],
        b: fit.coefficients[1],
        c: fit.intercept,
    })
    .unwrap_or(identity)
}

/// Measures the held-out calibration and decides on the calibration step: applied when the
/// expected calibration error is above `max_error` and the cross-fitted step lowers both the
/// calibration error and the Brier score. Also returns the cross-fitted probabilities.
fn calibrate(
    probabilities: &[f64],
    labels: &[bool],
    max_error: f64,
) -> (Option<Calibration>, CalibrationReport, Vec<f64>) {
    // Cross-fitting: the holdout's halves (alternate rows) calibrate each other.
    let mut after = vec![0.0; probabilities.len()];
    for half in 0..2 {
        let fit_rows: Vec<usize> = (0..probabilities.len()).filter(|i| i % 2 != half).collect();
        let step = fit_calibration(
            &fit_rows
                .iter()
                .map(|&i| probabilities[i])
                .collect::<Vec<_>>(),
            &fit_rows.iter().map(|&i| labels[i]).collect::<Vec<_>>(),
        );
        for i in (0..probabilities.len()).filter(|i| i % 2 == half) {
            after[i] = sigmoid(step.apply(logit(probabilities[i])));
        }
    }
    let mut report = measure_calibration(probabilities, &after, labels);
    report.applied = report.expected_calibration_error_before > max_error
        && report.expected_calibration_error_after < report.expected_calibration_error_before
        && report.brier_score_after < report.brier_score_before;
    (
        report
            .applied
            .then(|| fit_calibration(probabilities, labels)),
        report,
        after,
    )
}

/// The calibration error and Brier score of `before` and `after` (two sets of probabilities
/// of the same students), not yet saying whether the step is applied.
fn measure_calibration(before: &[f64], after: &[f64], labels: &[bool]) -> CalibrationReport {
    use crate::model::metrics::{brier_score, calibration_table, expected_calibration_error};
    CalibrationReport {
        expected_calibration_error_before: expected_calibration_error(&calibration_table(
            before, labels,
        )),
        brier_score_before: brier_score(before, labels),
        expected_calibration_error_after: expected_calibration_error(&calibration_table(
            after, labels,
        )),
        brier_score_after: brier_score(after, labels),
        applied: false,
    }
}

/// SHA-256 over the snapshot's files (in contract order, by name and content) and the config.
pub fn fingerprint(files: &[std::path::PathBuf], config: &Config) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for path in files {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string());
        hasher.update(name.unwrap_or_default().as_bytes());
        crate::io::hashing::hash_file_into(&mut hasher, path)?;
    }
    hasher.update(config.sha256()?.as_bytes());
    Ok(crate::io::hashing::hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn cross_validation_samples_large_training_sets_by_stratum() {
        let y: Vec<bool> = (0..10_000).map(|i| i % 5 == 0).collect();
        let train_rows: Vec<usize> = (0..10_000).filter(|i| i % 4 != 0).collect();
        let mut config = Config::default();
        config.model.cv_max_students = 1_000;
        let sample = cv_sample(&y, &train_rows, &config);
        assert_eq!(sample.len(), 1_000);
        assert!(sample.iter().all(|i| train_rows.contains(i)));
        let positives = sample.iter().filter(|&&i| y[i]).count();
        // 20% of the training rows are positive; so is the sample.
        assert_eq!(positives, 200);
        assert_eq!(sample, cv_sample(&y, &train_rows, &config));
        config.model.cv_max_students = 20_000;
        assert_eq!(cv_sample(&y, &train_rows, &config), train_rows);
    }

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
    fn beta_calibration_matches_scikit_learn() {
        // LogisticRegression(C=1e6).fit([ln p, −ln(1 − p)], y) in scikit-learn 1.9.1: coef
        // [1.21864251, 2.59873234], intercept −0.7519002595847178 (both coefficients ≥ 0,
        // so the bounds do not bind).
        let p = [
            0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.35, 0.65, 0.15,
        ];
        let y = [0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0].map(|v| v == 1);
        let step = fit_calibration(&p, &y);
        assert!((step.a - 1.21864251).abs() < 1e-4, "{step:?}");
        assert!((step.b - 2.59873234).abs() < 1e-4, "{step:?}");
        assert!((step.c + 0.7519002595847178).abs() < 1e-4, "{step:?}");
        // The identity step changes nothing; a = b is Platt scaling with slope a.
        assert!((Calibration::IDENTITY.apply(-1.3) + 1.3).abs() < 1e-12);
        let platt = Calibration {
            a: 2.0,
            b: 2.0,
            c: 0.5,
        };
        assert!((platt.apply(0.7) - (2.0 * 0.7 + 0.5)).abs() < 1e-12);
        // A ranking reversed is not "calibrated" into a reversal: a and b stay ≥ 0.
        let reversed: Vec<bool> = y.iter().map(|v| !v).collect();
        let step = fit_calibration(&p, &reversed);
        assert!(step.a >= 0.0 && step.b >= 0.0, "{step:?}");
    }

    #[test]
    fn the_penalty_with_the_lowest_log_loss_wins_ties_to_the_larger() {
        let point = |l2_penalty, mean_log_loss| CvPoint {
            l2_penalty,
            mean_auc_roc: 0.8,
            se_auc_roc: 0.01,
            mean_log_loss,
        };
        let grid = [point(0.1, 0.40), point(1.0, 0.38), point(10.0, 0.39)];
        assert_eq!(choose_penalty(&grid), 1.0);
        let tied = [point(0.1, 0.38), point(1.0, 0.38)];
        assert_eq!(choose_penalty(&tied), 1.0);
        let broken = [point(0.1, f64::NAN), point(1.0, 0.5)];
        assert_eq!(choose_penalty(&broken), 1.0);
    }

    #[test]
    fn folds_are_stratified() {
        let labels: Vec<bool> = (0..50).map(|i| i % 5 == 0).collect();
        let folds = stratified_folds(&labels, 5, 3);
        for f in 0..5 {
            let members: Vec<usize> = (0..50).filter(|&i| folds[i] == f).collect();
            assert_eq!(members.len(), 10);
            assert_eq!(members.iter().filter(|&&i| labels[i]).count(), 2);
        }
        assert_eq!(stratified_folds(&labels, 5, 3), folds);
    }

    fn shipped_model() -> ModelFile {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/model.json");
        ModelFile::load(&path).unwrap()
    }

    /// A change to a model file.
    type Edit = fn(&mut ModelFile);

    /// The message of `check` on the shipped model changed by `edit`.
    fn refused(edit: impl FnOnce(&mut ModelFile)) -> String {
        let mut model = shipped_model();
        edit(&mut model);
        let err = model.check(Path::new("m.json")).unwrap_err();
        assert_eq!(err.exit_code(), crate::io::error::EXIT_BAD_INPUT);
        err.to_string()
    }

    #[test]
    fn the_shipped_model_is_well_within_the_bounds() {
        let model = shipped_model();
        // config/model.json: largest coefficient in size 0.3840 (prior_gpa), intercept
        // −1.637, smallest standard deviation 0.0364 (tardy_rate), a calibration step at each
        // of its three checkpoints.
        let largest = model
            .coefficients
            .iter()
            .fold(0.0_f64, |m, c| m.max(c.abs()));
        assert!((largest - 0.3840).abs() < 1e-4, "{largest}");
        assert!(
            (model.intercept + 1.6367).abs() < 1e-4,
            "{}",
            model.intercept
        );
        let smallest = model.std_devs.iter().fold(f64::MAX, |m, s| m.min(*s));
        assert!((smallest - 0.03643).abs() < 1e-4, "{smallest}");
        let checkpoints: Vec<&str> = model
            .checkpoints
            .iter()
            .map(|c| c.checkpoint.as_str())
            .collect();
        assert_eq!(checkpoints, ["10-01", "12-15", "03-15"]);
        assert_eq!(model.skipped_checkpoints[0].checkpoint, "05-15");
        let calibrated = model
            .checkpoints
            .iter()
            .filter(|c| c.calibration.is_some())
            .count();
        assert_eq!(calibrated, 3);
        assert!(model.implausible().is_none());
        // The bounds themselves are allowed.
        let mut edge = model.clone();
        edge.coefficients[0] = -MAX_ABS_COEFFICIENT;
        edge.intercept = MAX_ABS_INTERCEPT;
        edge.std_devs[0] = 2e-9;
        assert!(edge.implausible().is_none());
    }

    #[test]
    fn implausible_numbers_are_refused_naming_field_and_feature() {
        // Feature order of the model: attendance_rate, unexcused_absence_rate, …, gpa (8th).
        let cases: [(&str, Edit); 10] = [
            (
                "`coefficients` of feature `gpa` is 1e300: not a finite number within ±50",
                |m| m.coefficients[7] = 1e300,
            ),
            (
                "`coefficients` of feature `attendance_rate` is -50.5",
                |m| m.coefficients[0] = -50.5,
            ),
            ("`coefficients` of feature `gpa` is NaN", |m| {
                m.coefficients[7] = f64::NAN
            }),
            (
                "`std_devs` of feature `attendance_rate` is 1e-300: not a finite number above 1e-9",
                |m| m.std_devs[0] = 1e-300,
            ),
            ("`std_devs` of feature `gpa` is 0:", |m| m.std_devs[7] = 0.0),
            ("`std_devs` of feature `gpa` is -1:", |m| {
                m.std_devs[7] = -1.0
            }),
            (
                "`intercept` is -1e308: not a finite number within ±50",
                |m| m.intercept = -1e308,
            ),
            (
                "`means` of feature `gpa` is inf: not a finite number within ±1e6",
                |m| m.means[7] = f64::INFINITY,
            ),
            (
                "`calibration.a` of checkpoint 10-01 is 60: not a finite number within ±50",
                |m| {
                    m.checkpoints[0].calibration = Some(Calibration {
                        a: 60.0,
                        ..Calibration::IDENTITY
                    })
                },
            ),
            ("`calibration.c` of checkpoint 10-01 is -inf", |m| {
                m.checkpoints[0].calibration = Some(Calibration {
                    c: f64::NEG_INFINITY,
                    ..Calibration::IDENTITY
                })
            }),
        ];
        for (expected, edit) in cases {
            let message = refused(edit);
            assert!(message.starts_with("model m.json: "), "{message}");
            assert!(
                message.contains(expected),
                "{expected:?} not in {message:?}"
            );
            assert!(message.contains("retrain"), "{message}");
        }
    }

    #[test]
    fn a_coefficient_against_its_direction_is_refused_unless_the_model_says_it_was_not_held() {
        let model = shipped_model();
        let f_marks = model.features.iter().position(|f| f == "f_marks").unwrap();
        assert_eq!(model.directions[f_marks], Direction::Risk);
        // Every coefficient of the shipped model agrees with its direction.
        for ((name, c), d) in model
            .features
            .iter()
            .zip(&model.coefficients)
            .zip(&model.directions)
        {
            assert!(bounded::agrees(*c, *d), "{name} {c} {d:?}");
        }
        let message = refused(|m| m.coefficients[f_marks] = -0.04);
        assert!(
            message.contains(
                "the coefficient of feature `f_marks` (-0.04) is against its direction `risk`"
            ),
            "{message}"
        );
        let message = refused(|m| m.directions[f_marks] = Direction::None);
        assert!(
            message.contains(
                "feature `f_marks` has direction `none`, where this ews documents `risk`"
            ),
            "{message}"
        );
        let mut unheld = model.clone();
        unheld.coefficients[f_marks] = -0.04;
        unheld.sign_constraints.held = false;
        assert!(unheld.check(Path::new("m.json")).is_ok());
    }

    #[test]
    fn missing_values_get_an_indicator_the_fit_learns_from() {
        // gpa missing for every 5th student (indicator 1); of those, half are at risk, of the
        // others about a tenth. A missing GPA scores at the mean, so only the indicator can
        // carry "no marks yet".
        let features = model_features();
        let gpa = features.iter().position(|f| f == "gpa").unwrap();
        let indicator = features
            .iter()
            .position(|f| f == "no_marks_this_year")
            .unwrap();
        let n = 600;
        let mut matrix = Array2::from_shape_fn((n, features.len()), |(i, j)| {
            ((i * 7 + j * 13) % 17) as f64 / 17.0
        });
        let mut y = vec![false; n];
        for i in 0..n {
            let missing = i % 5 == 0;
            matrix[[i, indicator]] = if missing { 1.0 } else { 0.0 };
            if missing {
                matrix[[i, gpa]] = f64::NAN;
            }
            y[i] = if missing { i % 10 == 0 } else { i % 10 == 3 };
        }
        let rows: Vec<usize> = (0..n).collect();
        let fitted = fit(&matrix, &y, &rows, 1.0, &Config::default(), None).unwrap();
        // log-odds of the missing: ln(1) = 0; of the others about ln(1/8) = −2.1.
        assert!(
            fitted.coefficients[indicator] > 0.5,
            "{}",
            fitted.coefficients[indicator]
        );
        assert_eq!(
            model_directions()[indicator],
            Direction::None,
            "an indicator claims no direction"
        );
    }

    #[test]
    fn raw_matrix_sets_an_indicator_where_its_feature_is_missing() {
        use crate::features::SCHOOL_YEAR_FRACTION;
        let features = model_features();
        let mut columns: Vec<Column> = features
            .iter()
            .filter(|f| crate::features::feature(f).is_some() || *f == SCHOOL_YEAR_FRACTION)
            .map(|f| Column::new(f.as_str().into(), [Some(1.0), Some(2.0)]))
            .collect();
        let gpa = columns.iter().position(|c| c.name() == "gpa").unwrap();
        columns[gpa] = Column::new("gpa".into(), [None, Some(3.1)]);
        let table = DataFrame::new_infer_height(columns).unwrap();
        let matrix = raw_matrix(&table, &features).unwrap();
        let at = |name: &str| features.iter().position(|f| f == name).unwrap();
        assert!(matrix[[0, at("gpa")]].is_nan());
        assert_eq!(matrix[[1, at("gpa")]], 3.1);
        assert_eq!(matrix[[0, at("no_marks_this_year")]], 1.0);
        assert_eq!(matrix[[1, at("no_marks_this_year")]], 0.0);
        assert_eq!(matrix[[0, at("no_attendance_record")]], 0.0);
        assert_eq!(matrix[[1, at(SCHOOL_YEAR_FRACTION)]], 2.0);
    }

    #[test]
    fn calibration_is_interpolated_between_checkpoints_by_the_time_of_year() {
        let mut model = shipped_model();
        let step = |a: f64, c: f64| Some(Calibration { a, b: a, c });
        // October (0.25) a = 2, December (0.45) none (the identity), March (0.70) a = 1.5.
        for (checkpoint, fraction, calibration) in [
            (0, 0.25, step(2.0, 1.0)),
            (1, 0.45, None),
            (2, 0.70, step(1.5, -0.5)),
        ] {
            model.checkpoints[checkpoint].school_year_fraction = fraction;
            model.checkpoints[checkpoint].calibration = calibration;
        }
        let at = |fraction: f64| model.calibration_at(fraction).unwrap();
        // Before the first and after the last: the nearest checkpoint's step.
        assert_eq!(at(0.1), step(2.0, 1.0).unwrap());
        assert_eq!(at(0.9), step(1.5, -0.5).unwrap());
        // Halfway from October to December: halfway from a = 2, c = 1 to the identity.
        let mid = at(0.35);
        assert!(
            (mid.a - 1.5).abs() < 1e-12 && (mid.c - 0.5).abs() < 1e-12,
            "{mid:?}"
        );
        // A fifth of the way from December to March.
        let later = at(0.5);
        assert!(
            (later.a - 1.1).abs() < 1e-12 && (later.c + 0.1).abs() < 1e-12,
            "{later:?}"
        );
        // No checkpoint with a step: none at all.
        for c in &mut model.checkpoints {
            c.calibration = None;
        }
        assert_eq!(model.calibration_at(0.5), None);
    }

    /// 70,000 rows (more than one of the Newton solver's blocks) of every model input, some
    /// missing, and labels that depend on three of them.
    fn many_rows() -> (Array2<f64>, Vec<bool>) {
        let d = model_features().len();
        let n = bounded::ROW_BLOCK + 4_464;
        let matrix = Array2::from_shape_fn((n, d), |(i, j)| {
            if (i + j) % 11 == 0 {
                f64::NAN
            } else {
                ((i * 7 + j * 13) % 17) as f64 / 17.0 + ((i * j) % 5) as f64
            }
        });
        let y = (0..n)
            .map(|i| {
                let x = |j: usize| matrix[[i, j]].max(0.0);
                x(0) - 0.5 * x(5) + 0.3 * x(9) + ((i * 31) % 7) as f64 / 4.0 > 2.5
            })
            .collect();
        (matrix, y)
    }

    #[test]
    fn the_newton_fit_on_rows_standardised_block_by_block_is_the_fit_on_a_copy() {
        let (matrix, y) = many_rows();
        let rows: Vec<usize> = (0..matrix.nrows()).filter(|i| i % 4 != 1).collect();
        let (means, std_devs) = scaler(&matrix, &rows);
        let copy = standardise(&matrix, &rows, &means, &std_devs);
        let labels: Vec<bool> = rows.iter().map(|&i| y[i]).collect();
        let directions = model_directions();
        let blocks = Standardised {
            matrix: &matrix,
            rows: &rows,
            means: &means,
            std_devs: &std_devs,
        };
        let on_copy = bounded::fit(&copy, &labels, 1.0, &directions, None, 1e-6, 100).unwrap();
        let on_blocks = bounded::fit(&blocks, &labels, 1.0, &directions, None, 1e-6, 100).unwrap();
        // The same z-scores in the same blocks: the same arithmetic, to the last bit.
        assert_eq!(on_copy.coefficients, on_blocks.coefficients);
        assert_eq!(on_copy.intercept, on_blocks.intercept);
        assert_eq!(bounded::zero_columns(&copy), bounded::zero_columns(&blocks));
    }

    #[test]
    fn newton_and_linfa_then_newton_find_the_same_model() {
        let (matrix, y) = many_rows();
        let rows: Vec<usize> = (0..matrix.nrows()).collect();
        for hold_directions in [true, false] {
            let mut config = Config::default();
            config.model.hold_directions = hold_directions;
            let linfa = fit(&matrix, &y, &rows, 1.0, &config, None).unwrap();
            // From a start far from the optimum: every coefficient 0.1.
            let start = Fit {
                coefficients: vec![0.1; matrix.ncols()],
                intercept: 0.0,
                ..fit(&matrix, &y, &rows[..1_000], 1.0, &config, None).unwrap()
            };
            let newton = fit_newton(&matrix, &y, &rows, 1.0, &config, &start).unwrap();
            for (a, b) in linfa.coefficients.iter().zip(&newton.coefficients) {
                assert!((a - b).abs() < 1e-4, "{hold_directions}: {a} against {b}");
            }
            assert!((linfa.intercept - newton.intercept).abs() < 1e-4);
            let against = newton
                .coefficients
                .iter()
                .zip(model_directions())
                .filter(|(c, d)| !bounded::agrees(**c, *d))
                .count();
            // Held, no coefficient is against its direction; not held, the fixture has some.
            assert_eq!(against == 0, hold_directions, "{against}");
        }
    }

    #[test]
    fn where_no_newton_step_can_be_taken_the_fit_is_linfas() {
        // Two identical columns and no penalty: the Hessian is singular, Cholesky fails, and
        // the fit is the one `fit` makes. Unconstrained (with the directions held, `fit`'s own
        // refit meets the same singular Hessian and fails with that error).
        let (mut matrix, y) = many_rows();
        let copied = matrix.column(0).to_owned();
        matrix.column_mut(1).assign(&copied);
        let rows: Vec<usize> = (0..2_000).collect();
        let mut config = Config::default();
        config.model.hold_directions = false;
        let start = fit(&matrix, &y, &rows, 1.0, &config, None).unwrap();
        let linfa = fit(&matrix, &y, &rows, 0.0, &config, Some(&start.solver_params));
        let newton = fit_newton(&matrix, &y, &rows, 0.0, &config, &start);
        let (linfa, newton) = (linfa.unwrap(), newton.unwrap());
        assert_eq!(linfa.coefficients, newton.coefficients);
        assert_eq!(linfa.intercept, newton.intercept);
    }

    #[test]
    fn the_fit_on_every_row_standardised_in_place_is_the_fit_on_a_copy() {
        let (matrix, y) = many_rows();
        let rows: Vec<usize> = (0..matrix.nrows()).collect();
        let config = Config::default();
        let on_copy = fit(&matrix, &y, &rows, 1.0, &config, None).unwrap();
        // Row-major in (converted), as `raw_matrix` makes; column-major as `stack` does.
        let mut columns = Array2::zeros(matrix.raw_dim().f());
        columns.assign(&matrix);
        for input in [matrix.clone(), columns] {
            let in_place = fit_every_row(input, &y, 1.0, &config, None).unwrap();
            assert_eq!(on_copy.coefficients, in_place.coefficients);
            assert_eq!(on_copy.intercept, in_place.intercept);
            assert_eq!(on_copy.means, in_place.means);
            assert_eq!(on_copy.std_devs, in_place.std_devs);
        }
    }

    #[test]
    fn inputs_of_some_rows_are_those_rows_of_the_raw_matrix() {
        use crate::features::SCHOOL_YEAR_FRACTION;
        let features = model_features();
        let columns: Vec<Column> = features
            .iter()
            .filter(|f| crate::features::feature(f).is_some() || *f == SCHOOL_YEAR_FRACTION)
            .enumerate()
            .map(|(j, f)| {
                let values: Vec<Option<f64>> = (0..6)
                    .map(|i| ((i + j) % 4 != 0).then_some((i * 10 + j) as f64))
                    .collect();
                Column::new(f.as_str().into(), values)
            })
            .collect();
        let table = DataFrame::new_infer_height(columns).unwrap();
        let all = raw_matrix(&table, &features).unwrap();
        let rows = [1, 2, 5];
        let mut some = Array2::from_elem((3, features.len()).f(), f64::NAN);
        fill_inputs(&table, &features, &rows, some.view_mut()).unwrap();
        for (k, &i) in rows.iter().enumerate() {
            for j in 0..features.len() {
                let (a, b) = (some[[k, j]], all[[i, j]]);
                assert!(
                    a == b || (a.is_nan() && b.is_nan()),
                    "row {i}, {}",
                    features[j]
                );
            }
        }
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
