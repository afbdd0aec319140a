//! The sign-constrained fit: an L2-penalised logistic regression on standardised features in
//! which every coefficient keeps its feature's documented direction (a risk feature's
//! coefficient is at least 0, a protective one's at most 0, a `none` one is free).
//!
//! Why it exists: collinear features share their signal, and an unconstrained fit gives some
//! of them the wrong sign (in a 20,000-student district, F marks *lowered* risk once GPA and
//! the credit deficit were in). Such a model ranks as well but cannot explain itself: its
//! reasons would say "fewer F marks" raises risk. linfa-logistic has no bounds, so when its
//! fit has a coefficient against its direction, this solver refits with the bounds.
//!
//! Why projected Newton (Bertsekas 1982): the problem is small in features (about twenty) and
//! strictly convex, so the Hessian is cheap (one pass over the rows for a 20 × 20 matrix) and
//! Newton converges in a handful of passes where first-order methods need hundreds. Each
//! iteration splits the coefficients into those held at their bound (at zero with the
//! gradient pushing outward) and the free ones; the free ones take a Newton step on their
//! block of the Hessian, the held ones a scaled gradient step, the result is projected back
//! onto the bounds, and an Armijo search along that projected path makes the loss fall.
//!
//! The loss is linfa-logistic's (and scikit-learn's with C = 1 / penalty): the sum of the
//! students' log losses plus `penalty / 2` times the squared coefficients, the intercept
//! unpenalised. Where no bound binds, the optimum is the unconstrained one (pinned against
//! scikit-learn in the tests); where bounds bind, against scipy's L-BFGS-B with the same bounds.

use ndarray::{s, Array1, Array2, ArrayView2, Axis};

/// The rows a fit reads, as z-scores: a whole matrix, or rows of one standardised a block at a
/// time (`model::Standardised`), so that a fit on some of the district's rows needs no copy
/// of them.
pub trait Design {
    fn rows(&self) -> usize;
    fn features(&self) -> usize;
    /// Calls `visit(first_row, block)` on consecutive blocks of at most [`ROW_BLOCK`] rows,
    /// in order.
    fn for_each_block(&self, visit: &mut dyn FnMut(usize, ArrayView2<f64>));
}

impl Design for Array2<f64> {
    fn rows(&self) -> usize {
        self.nrows()
    }

    fn features(&self) -> usize {
        self.ncols()
    }

    fn for_each_block(&self, visit: &mut dyn FnMut(usize, ArrayView2<f64>)) {
        for first in (0..self.nrows()).step_by(ROW_BLOCK) {
            let last = (first + ROW_BLOCK).min(self.nrows());
            visit(first, self.slice(s![first..last, ..]));
        }
    }
}

/// The features whose z-score is 0 on every row (constant on these rows, or missing).
pub fn zero_columns<D: Design + ?Sized>(z: &D) -> Vec<bool> {
    let mut zero = vec![true; z.features()];
    z.for_each_block(&mut |_, block| {
        for (zero, column) in zero.iter_mut().zip(block.columns()) {
            *zero = *zero && column.iter().all(|v| *v == 0.0);
        }
    });
    zero
}

use crate::features::Direction;

/// The result of a bounded fit, in the "at risk" sign convention (log-odds of being at risk).
#[derive(Debug, Clone)]
pub struct BoundedFit {
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    /// Newton iterations taken.
    pub iterations: u64,
}

/// The interval a coefficient of `direction` must lie in.
fn bounds(direction: Direction) -> (f64, f64) {
    match direction {
        Direction::Risk => (0.0, f64::INFINITY),
        Direction::Protective => (f64::NEG_INFINITY, 0.0),
        Direction::None => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

/// Whether `coefficient` agrees with `direction` (0 agrees with every direction).
pub fn agrees(coefficient: f64, direction: Direction) -> bool {
    let (lower, upper) = bounds(direction);
    (lower..=upper).contains(&coefficient)
}

/// `log(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// Rows per block of the gradient and the Hessian: a block's weighted copy is 16 MB at 30
/// features, where a copy of every row was as large as the training rows themselves.
pub const ROW_BLOCK: usize = 65_536;

/// The linear predictor `z·w + b`, column by column (`z` is column-major in the fits, and a
/// column is then one contiguous pass).
fn linear(z: &ArrayView2<f64>, w: &[f64], b: f64) -> Array1<f64> {
    let mut eta = Array1::from_elem(z.nrows(), b);
    for (column, &coefficient) in z.columns().into_iter().zip(w) {
        eta.scaled_add(coefficient, &column);
    }
    eta
}

/// The loss at `theta` (coefficients, then the intercept).
fn loss<D: Design + ?Sized>(z: &D, y: &[bool], penalty: f64, theta: &[f64]) -> f64 {
    let (w, b) = theta.split_at(z.features());
    let mut data = 0.0;
    z.for_each_block(&mut |first, block| {
        let eta = linear(&block, w, b[0]);
        data += eta
            .iter()
            .zip(&y[first..])
            .map(|(&e, &yi)| softplus(e) - if yi { e } else { 0.0 })
            .sum::<f64>();
    });
    data + 0.5 * penalty * w.iter().map(|c| c * c).sum::<f64>()
}

/// Gradient and Hessian of the loss at `theta`, both over (coefficients, intercept), summed
/// over blocks of [`ROW_BLOCK`] rows.
fn gradient_and_hessian<D: Design + ?Sized>(
    z: &D,
    y: &[bool],
    penalty: f64,
    theta: &[f64],
) -> (Vec<f64>, Array2<f64>) {
    let d = z.features();
    let mut gradient = Array1::<f64>::zeros(d);
    let mut intercept_gradient = 0.0;
    let mut hessian = Array2::<f64>::zeros((d + 1, d + 1));
    let mut cross = Array1::<f64>::zeros(d);
    let mut weight_sum = 0.0;
    z.for_each_block(&mut |first, block| {
        let p = linear(&block, &theta[..d], theta[d]).mapv_into(crate::model::sigmoid);
        let residual: Array1<f64> = p
            .iter()
            .zip(&y[first..])
            .map(|(&p, &yi)| p - if yi { 1.0 } else { 0.0 })
            .collect();
        let weight = p.mapv_into(|p| p * (1.0 - p));
        gradient += &block.t().dot(&residual);
        intercept_gradient += residual.sum();
        let weighted = &block * &weight.view().insert_axis(Axis(1));
        let mut inner = hessian.slice_mut(s![..d, ..d]);
        inner += &block.t().dot(&weighted);
        cross += &weighted.sum_axis(Axis(0));
        weight_sum += weight.sum();
    });
    let mut gradient: Vec<f64> = gradient.to_vec();
    for (g, c) in gradient.iter_mut().zip(&theta[..d]) {
        *g += penalty * c;
    }
    gradient.push(intercept_gradient);
    for j in 0..d {
        hessian[[j, j]] += penalty;
        hessian[[j, d]] = cross[j];
        hessian[[d, j]] = cross[j];
    }
    hessian[[d, d]] = weight_sum;
    (gradient, hessian)
}

/// Solves `matrix · x = rhs` for a symmetric positive definite `matrix` by Cholesky; `None`
/// when it is not positive definite.
fn cholesky_solve(matrix: &Array2<f64>, rhs: &[f64]) -> Option<Vec<f64>> {
    let n = rhs.len();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let diagonal = matrix[[i, i]] - sum;
                if diagonal.is_nan() || diagonal <= 0.0 {
                    return None;
                }
                l[[i, i]] = diagonal.sqrt();
            } else {
                l[[i, j]] = (matrix[[i, j]] - sum) / l[[j, j]];
            }
        }
    }
    let mut x = rhs.to_vec();
    for i in 0..n {
        let sum: f64 = (0..i).map(|k| l[[i, k]] * x[k]).sum();
        x[i] = (x[i] - sum) / l[[i, i]];
    }
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
        x[i] = (x[i] - sum) / l[[i, i]];
    }
    Some(x)
}

/// Fits the penalised logistic regression of `y` on the standardised `z` with each
/// coefficient held to its `directions`. `start` (coefficients, intercept) is projected onto
/// the bounds first; the fit stops when the projected gradient is below `gradient_tolerance`
/// in every coordinate, or after `max_iterations` Newton steps.
pub fn fit<D: Design + ?Sized>(
    z: &D,
    y: &[bool],
    penalty: f64,
    directions: &[Direction],
    start: Option<(&[f64], f64)>,
    gradient_tolerance: f64,
    max_iterations: u64,
) -> Result<BoundedFit, String> {
    let d = z.features();
    if directions.len() != d || y.len() != z.rows() {
        return Err(format!(
            "{} directions and {} labels for a {} × {d} matrix",
            directions.len(),
            y.len(),
            z.rows()
        ));
    }
    let limits: Vec<(f64, f64)> = directions
        .iter()
        .map(|&direction| bounds(direction))
        .chain(std::iter::once((f64::NEG_INFINITY, f64::INFINITY)))
        .collect();
    let project = |theta: &mut [f64]| {
        for (value, (lower, upper)) in theta.iter_mut().zip(&limits) {
            *value = value.clamp(*lower, *upper);
        }
    };
    let mut theta = match start {
        Some((coefficients, intercept)) if coefficients.len() == d => {
            let mut theta = coefficients.to_vec();
            theta.push(intercept);
            theta
        }
        _ => vec![0.0; d + 1],
    };
    project(&mut theta);
    let mut value = loss(z, y, penalty, &theta);
    for iteration in 0..max_iterations {
        let (gradient, hessian) = gradient_and_hessian(z, y, penalty, &theta);
        // The projected gradient: 0 in every coordinate at the constrained optimum.
        let projected: Vec<f64> = (0..=d)
            .map(|j| theta[j] - (theta[j] - gradient[j]).clamp(limits[j].0, limits[j].1))
            .collect();
        let size = projected.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        if size <= gradient_tolerance {
            return Ok(BoundedFit {
                coefficients: theta[..d].to_vec(),
                intercept: theta[d],
                iterations: iteration,
            });
        }
        // Held: at (or within `margin` of) a bound with the gradient pushing outward.
        let margin = size.min(1e-6);
        let held: Vec<bool> = (0..=d)
            .map(|j| {
                let (lower, upper) = limits[j];
                (theta[j] <= lower + margin && gradient[j] > 0.0)
                    || (theta[j] >= upper - margin && gradient[j] < 0.0)
            })
            .collect();
        let free: Vec<usize> = (0..=d).filter(|&j| !held[j]).collect();
        let block = Array2::from_shape_fn((free.len(), free.len()), |(a, b)| {
            hessian[[free[a], free[b]]]
        });
        let rhs: Vec<f64> = free.iter().map(|&j| -gradient[j]).collect();
        let newton = cholesky_solve(&block, &rhs)
            .ok_or("the Hessian is not positive definite (a penalty of 0 and separable data?)")?;
        let mut step = vec![0.0; d + 1];
        for (&j, s) in free.iter().zip(newton) {
            step[j] = s;
        }
        for j in (0..=d).filter(|&j| held[j]) {
            step[j] = -gradient[j] / hessian[[j, j]].max(f64::MIN_POSITIVE);
        }
        // Armijo search along the projected path.
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..50 {
            let mut candidate: Vec<f64> = theta.iter().zip(&step).map(|(v, s)| v + t * s).collect();
            project(&mut candidate);
            let decrease: f64 = gradient
                .iter()
                .zip(candidate.iter().zip(&theta))
                .map(|(g, (c, v))| g * (c - v))
                .sum();
            let candidate_value = loss(z, y, penalty, &candidate);
            if candidate_value <= value + 1e-4 * decrease {
                accepted = Some((candidate, candidate_value));
                break;
            }
            t *= 0.5;
        }
        match accepted {
            Some((candidate, candidate_value)) => {
                theta = candidate;
                value = candidate_value;
            }
            // No step lowers the loss any more: the optimum to machine precision.
            None => {
                return Ok(BoundedFit {
                    coefficients: theta[..d].to_vec(),
                    intercept: theta[d],
                    iterations: iteration + 1,
                })
            }
        }
    }
    Err(format!(
        "the sign-constrained fit did not converge in {max_iterations} iterations"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// 40 students, 3 features (the third nearly the first), built from sines so that
    /// scikit-learn and scipy see the same numbers:
    /// x1 = sin i, x2 = cos 1.7i, x3 = x1 + 0.3 sin 3.1i, y = x1 − 0.5 x2 + 0.6 sin 5.3i > 0.2.
    fn fixture() -> (Array2<f64>, Vec<bool>) {
        let z = Array2::from_shape_fn((40, 3), |(i, j)| {
            let i = i as f64;
            match j {
                0 => i.sin(),
                1 => (1.7 * i).cos(),
                _ => i.sin() + 0.3 * (3.1 * i).sin(),
            }
        });
        let y = (0..40)
            .map(|i| {
                let i = i as f64;
                i.sin() - 0.5 * (1.7 * i).cos() + 0.6 * (5.3 * i).sin() > 0.2
            })
            .collect();
        (z, y)
    }

    fn solve(directions: [Direction; 3]) -> BoundedFit {
        let (z, y) = fixture();
        fit(&z, &y, 1.0, &directions, None, 1e-10, 100).unwrap()
    }

    fn assert_fit(fit: &BoundedFit, coefficients: [f64; 3], intercept: f64) {
        for (got, want) in fit.coefficients.iter().zip(coefficients) {
            assert_abs_diff_eq!(*got, want, epsilon = 1e-6);
        }
        assert_abs_diff_eq!(fit.intercept, intercept, epsilon = 1e-6);
    }

    #[test]
    fn without_binding_bounds_it_is_scikit_learns_fit() {
        use Direction::*;
        // LogisticRegression(C=1, tol=1e-12).fit(X, y), scikit-learn 1.9.1.
        let sklearn = ([1.18961954, -2.04478112, 0.85544165], -1.1702565428004768);
        assert_fit(&solve([None, None, None]), sklearn.0, sklearn.1);
        // Bounds that agree with the unconstrained optimum do not move it.
        let fit = solve([Risk, Protective, None]);
        assert_fit(&fit, sklearn.0, sklearn.1);
        assert!(fit.iterations < 20, "{}", fit.iterations);
    }

    #[test]
    fn binding_bounds_give_scipys_bounded_optimum() {
        use Direction::*;
        // scipy.optimize.minimize(loss, 0, method="L-BFGS-B", bounds=…) on the same loss.
        let fit = solve([Risk, Protective, Protective]);
        assert_fit(&fit, [1.74646718, -1.96210415, 0.0], -1.10012442);
        let fit = solve([Protective, None, Risk]);
        assert_fit(&fit, [0.0, -1.92465777, 1.5971334], -1.06399158);
        // Held exactly at zero, never a hair beyond.
        assert_eq!(fit.coefficients[0], 0.0);
    }

    #[test]
    fn a_start_against_the_bounds_is_projected_and_the_optimum_is_the_same() {
        use Direction::*;
        let (z, y) = fixture();
        let start = [-3.0, 2.0, 5.0];
        let fit = fit(
            &z,
            &y,
            1.0,
            &[Risk, Protective, Protective],
            Some((&start, 4.0)),
            1e-10,
            100,
        )
        .unwrap();
        assert_fit(&fit, [1.74646718, -1.96210415, 0.0], -1.10012442);
        assert!(agrees(fit.coefficients[0], Risk) && agrees(fit.coefficients[2], Protective));
        assert!(!agrees(-0.1, Risk) && !agrees(0.1, Protective) && agrees(-5.0, None));
    }
}
