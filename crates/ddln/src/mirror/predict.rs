//! Where gradient flow ends without simulating it (docs/math.md section 7):
//! `theta_inf = argmin { Q(theta) : X theta = y }`, through Newton's method on the concave
//! dual `nu -> <nu, y> - sum_i Q_i^*((X^T nu)_i)`:
//!
//! ```text
//! gradient  r(nu) = y - X Psi(X^T nu)
//! Hessian   -X diag(Psi'(X^T nu)) X^T        (Psi' = M > 0: an SPD n x n system)
//! ```
//!
//! `X` is first replaced by `Sigma_r V_r^T` (its thin SVD, rank `r`) so the Newton system
//! is `r x r` and positive definite even when `X` has dependent rows. Steps are damped:
//! a step covers at most `boundary_fraction` of the distance of `X^T nu` to the edge of
//! the dual box (`L >= 3`), then is halved until the residual norm or the dual objective
//! improves (Armijo, constant 1e-4).

use serde::{Deserialize, Serialize};

use crate::error::{check_positive, DdlnError, Result};
use crate::loss::Loss;
use crate::problem::Problem;

use super::dual_point::{eval, DualPoint};
use super::entropy::Entropy;
use super::map::MirrorMap;
use super::newton_system::{may_precondition, newton_solve, Solved};
use super::range::{norm, residual_norm, RangeBasis};

/// Settings of the predictor. Defaults on each field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PredictSettings {
    /// Converged once `||X theta - y|| <= max(tol ||y||, residual_floor)` (default 1e-11),
    /// where the floor is what f64 can resolve (see [`Prediction::residual_floor`]).
    pub tol: f64,
    /// Newton iterations (default 500).
    pub max_iter: usize,
    /// Largest fraction of the distance to the dual box edge one step may cover (default 0.99).
    pub boundary_fraction: f64,
    /// Halvings of the step before the line search gives up (default 60).
    pub max_halvings: usize,
    /// Singular values of `X` below `rank_rtol * sigma_max` count as zero (default 1e-12).
    pub rank_rtol: f64,
    /// `y` counts as in the range of `X` when its distance to it is at most
    /// `range_rtol ||y||` (default 1e-9).
    pub range_rtol: f64,
    /// When the f64 floor stops Newton above `tol ||y||`, the result still counts as
    /// converged only if `||X theta - y|| <= floor_rtol ||y||` (default 1e-6); otherwise
    /// the status is `PrecisionLimited` (the init is too small for f64 to resolve the limit).
    pub floor_rtol: f64,
}

impl Default for PredictSettings {
    fn default() -> Self {
        PredictSettings {
            tol: 1e-11,
            max_iter: 500,
            boundary_fraction: 0.99,
            max_halvings: 60,
            rank_rtol: 1e-12,
            range_rtol: 1e-9,
            floor_rtol: 1e-6,
        }
    }
}

impl PredictSettings {
    /// Checks every tolerance.
    pub fn validate(&self) -> Result<()> {
        check_positive("tol", self.tol)?;
        check_positive("rank_rtol", self.rank_rtol)?;
        check_positive("range_rtol", self.range_rtol)?;
        check_positive("floor_rtol", self.floor_rtol)?;
        if !(self.boundary_fraction > 0.0 && self.boundary_fraction < 1.0) {
            return Err(DdlnError::invalid(
                "boundary_fraction",
                format!("must be in (0, 1), got {}", self.boundary_fraction),
            ));
        }
        if self.max_iter == 0 {
            return Err(DdlnError::invalid("max_iter", "must be at least 1"));
        }
        Ok(())
    }
}

/// How the predictor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PredictStatus {
    /// `||X theta - y|| <= tol ||y||`: `theta` is the predicted limit.
    Converged,
    /// `y` is not in the range of `X`: no interpolator exists. If the Newton iteration
    /// converged, `theta` minimizes `Q` over the least-squares solutions (where gradient
    /// flow ends if it converges); otherwise `theta` is NaN. See the message.
    NotInRange,
    /// The iteration limit was reached; `theta` is the last iterate, not the limit.
    MaxIterations,
    /// No step improved the residual or the dual objective (or the Newton system could
    /// not be factored); `theta` is the last iterate, not the limit.
    LineSearchFailed,
    /// Newton reached what f64 can resolve, but the residual is still above
    /// `floor_rtol ||y||`: the init is too small (for its depth) for the limit to be
    /// computed in f64. `theta` is the last iterate, not the limit.
    PrecisionLimited,
    /// The init is too small for f64 to resolve `Q` (`PrecisionLimited`, or gaps that
    /// underflow), and so small that the `alpha -> 0` limit is the answer to within
    /// `10^limit_order_log10` (see [`crate::mirror::model_map::predict_model`]): `theta`
    /// is the weighted-L1 interpolator of the init's shape ([`crate::mirror::small_init`]).
    SmallInitLimit,
}

impl PredictStatus {
    /// Whether `theta` is the predicted end point (`Converged` or `SmallInitLimit`).
    pub fn resolved(&self) -> bool {
        matches!(
            self,
            PredictStatus::Converged | PredictStatus::SmallInitLimit
        )
    }

    /// Every variant, in declaration order (the vocabulary the frontends build their
    /// enums from).
    pub const ALL: [PredictStatus; 6] = [
        PredictStatus::Converged,
        PredictStatus::NotInRange,
        PredictStatus::MaxIterations,
        PredictStatus::LineSearchFailed,
        PredictStatus::PrecisionLimited,
        PredictStatus::SmallInitLimit,
    ];
}

/// The predicted end point of gradient flow.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// `theta_inf = Psi(X^T nu)`.
    pub theta: Vec<f64>,
    /// The dual variable (length `n`): `xi(inf) = X^T nu`.
    pub nu: Vec<f64>,
    /// `Q(theta_inf)`.
    pub entropy_value: f64,
    /// `||X theta - y||`.
    pub residual: f64,
    /// `||X theta - y|| / ||y||`.
    pub relative_residual: f64,
    /// The smallest residual f64 can resolve at this point:
    /// `2 eps sqrt(sum_i |X_i|^2 (|xi_i| M_ii + |theta_i|)^2)` with `|X_i|` the column
    /// norms. `xi = X^T nu` is only known to `eps |xi|`, and `theta = Psi(xi)` moves by
    /// `M` per unit of `xi`: at small inits (`L >= 3`) `|xi|` is of order `alpha^{-(L-2)}`
    /// and this floor can exceed `tol ||y||`; convergence is then declared at the floor.
    pub residual_floor: f64,
    /// Newton iterations done.
    pub iterations: usize,
    /// Conjugate-gradient iterations over all Newton systems solved that way (0 when
    /// every system was solved by a Cholesky factorization of the weighted Gram).
    pub cg_iterations: usize,
    /// How it ended.
    pub status: PredictStatus,
    /// Detail for the user.
    pub message: String,
    /// For [`PredictStatus::SmallInitLimit`]: `log10` of the order `c^(L-2)` of the
    /// limit's distance to the end of gradient flow (`None` otherwise).
    pub limit_order_log10: Option<f64>,
}

/// Predicts where gradient flow on the DDLN with `depth` layers, started at `init`
/// (`depth x d`), ends on the squared-loss `problem`.
pub fn predict(
    problem: &Problem,
    init: &[f64],
    depth: usize,
    settings: &PredictSettings,
) -> Result<Prediction> {
    let entropy = Entropy::new(init, depth, problem.dim())?;
    predict_with(problem, &entropy, settings)
}

/// `yt - Xt theta` and its norm.
fn reduced_residual(basis: &RangeBasis, theta: &[f64], out: &mut [f64]) -> f64 {
    crate::par_kernel::mat_vec(&basis.xt, theta, out);
    out.iter_mut()
        .zip(basis.yt.iter())
        .for_each(|(o, y)| *o = y - *o);
    norm(out)
}

/// The dual objective `<nu, yt> - sum_i (xi_i theta_i - Q_i(theta_i))`.
fn dual_objective<M: MirrorMap>(map: &M, nu: &[f64], yt: &[f64], xi: &[f64], theta: &[f64]) -> f64 {
    let lin: f64 = nu.iter().zip(yt).map(|(a, b)| a * b).sum();
    let conj: f64 = (0..xi.len())
        .map(|i| map.conjugate_i(i, xi[i], theta[i]))
        .sum();
    lin - conj
}

/// [`predict`] for any separable mirror map (the DDLN entropy, or a closed form).
///
/// Errors: a loss other than the squared loss, a map of the wrong dimension, invalid
/// settings. Numerical outcomes are the [`Prediction`]'s status.
pub fn predict_with<M: MirrorMap>(
    problem: &Problem,
    map: &M,
    settings: &PredictSettings,
) -> Result<Prediction> {
    settings.validate()?;
    check_squared_loss(problem)?;
    let basis = RangeBasis::new(problem, settings.rank_rtol)?;
    predict_on(problem, &basis, map, settings)
}

/// The predictor's problems are interpolation problems: the squared loss.
pub(crate) fn check_squared_loss(problem: &Problem) -> Result<()> {
    if problem.loss() != Loss::Square {
        return Err(DdlnError::invalid(
            "loss",
            "the implicit-bias predictor needs an interpolation problem: use the squared loss",
        ));
    }
    Ok(())
}

/// [`predict_with`] on the range basis of `problem` computed once (several maps on one
/// problem share its SVD). `settings` are validated by the caller.
pub(crate) fn predict_on<M: MirrorMap>(
    problem: &Problem,
    basis: &RangeBasis,
    map: &M,
    settings: &PredictSettings,
) -> Result<Prediction> {
    predict_solving(problem, basis, map, settings, true)
}

/// [`predict_on`], with the preconditioned Newton solves allowed (`precondition`) or
/// every system factored directly (the tests' reference).
fn predict_solving<M: MirrorMap>(
    problem: &Problem,
    basis: &RangeBasis,
    map: &M,
    settings: &PredictSettings,
    precondition: bool,
) -> Result<Prediction> {
    let d = problem.dim();
    if map.dim() != d {
        return Err(DdlnError::shape(
            "init",
            format!("{d} coordinates (columns of X)"),
            format!("{}", map.dim()),
        ));
    }
    let r = basis.rank;
    let y_norm = norm(problem.y());
    let scale = if y_norm > 0.0 { y_norm } else { 1.0 };
    let in_range = basis.distance_to_range <= settings.range_rtol * scale;

    let mut nu = vec![0.0; r];
    let mut theta = vec![0.0; d];
    let mut m = vec![0.0; d];
    let mut res = vec![0.0; r];
    let boxes: Vec<(f64, f64)> = (0..d).map(|i| map.box_i(i)).collect();
    let resolves = map.resolves_edges();
    let mut point = DualPoint::origin(&boxes);
    eval(map, &point, &mut theta, &mut m);
    let mut rnorm = reduced_residual(basis, &theta, &mut res);
    let mut dual = dual_objective(map, &nu, &basis.yt, &point.xi, &theta);

    let mut point_new = point.clone();
    let mut theta_new = vec![0.0; d];
    let mut m_new = vec![0.0; d];
    let mut res_new = vec![0.0; r];
    // Row by row (a column walk over Xt misses the cache at every entry).
    let mut col_norm = vec![0.0; d];
    for row in basis.xt.chunks_exact(d) {
        col_norm.iter_mut().zip(row).for_each(|(c, x)| *c += x * x);
    }
    col_norm.iter_mut().for_each(|c| *c = c.sqrt());
    let floor_of = |point: &DualPoint, theta: &[f64], m: &[f64]| -> f64 {
        2.0 * f64::EPSILON
            * (0..d)
                .map(|i| {
                    (col_norm[i] * (point.magnitude(i, resolves) * m[i] + theta[i].abs())).powi(2)
                })
                .sum::<f64>()
                .sqrt()
    };
    let mut floor = floor_of(&point, &theta, &m);
    // Xt Xt^T for the preconditioned Newton solves (large r only).
    let g0 = (precondition && may_precondition(r, d))
        .then(|| basis.gram())
        .flatten();
    let mut cg_iterations = 0;
    let mut status = PredictStatus::MaxIterations;
    let mut message = format!(
        "{} Newton iterations without reaching tol",
        settings.max_iter
    );
    let mut iterations = 0;
    while iterations < settings.max_iter {
        if rnorm <= settings.tol * scale {
            status = PredictStatus::Converged;
            message = format!("converged in {iterations} Newton iterations");
            break;
        }
        if rnorm <= floor {
            (status, message) = at_floor(rnorm, floor, scale, iterations, settings);
            break;
        }
        iterations += 1;
        let solved = newton_solve(&basis.xt, r, d, &m, &res, g0.as_ref());
        if let Some((_, Solved::Cg(k))) = &solved {
            cg_iterations += k;
        }
        let Some((dir, _)) = solved else {
            if m.iter().all(|&v| v < 1e10 * f64::MIN_POSITIVE) {
                status = PredictStatus::PrecisionLimited;
                message = format!("f64 cannot resolve the limit at this init scale: Psi' underflows at every coordinate (iteration {iterations}); use a larger init scale");
            } else {
                status = PredictStatus::LineSearchFailed;
                message =
                    format!("the Newton system could not be factored at iteration {iterations}");
            }
            break;
        };
        let mut dxi = vec![0.0; d];
        crate::par_kernel::mat_t_vec_add(&basis.xt, &dir, &mut dxi);
        let slope: f64 = dir.iter().zip(&res).map(|(a, b)| a * b).sum();
        let mut t = 1.0f64;
        for (i, &dx) in dxi.iter().enumerate() {
            if dx > 0.0 && point.gap_hi[i].is_finite() {
                t = t.min(settings.boundary_fraction * point.gap_hi[i] / dx);
            } else if dx < 0.0 && point.gap_lo[i].is_finite() {
                t = t.min(settings.boundary_fraction * point.gap_lo[i] / -dx);
            }
        }
        let mut accepted = false;
        for _ in 0..=settings.max_halvings {
            point_new.step(&point, t, &dxi);
            if eval(map, &point_new, &mut theta_new, &mut m_new) {
                let rn = reduced_residual(basis, &theta_new, &mut res_new);
                let nu_new: Vec<f64> = nu.iter().zip(&dir).map(|(a, b)| a + t * b).collect();
                let dual_new = dual_objective(map, &nu_new, &basis.yt, &point_new.xi, &theta_new);
                let residual_ok = rn <= (1.0 - 1e-4 * t) * rnorm;
                let dual_ok = dual_new >= dual + 1e-4 * t * slope;
                if rn.is_finite() && (residual_ok || dual_ok) {
                    nu = nu_new;
                    std::mem::swap(&mut point, &mut point_new);
                    std::mem::swap(&mut theta, &mut theta_new);
                    std::mem::swap(&mut m, &mut m_new);
                    std::mem::swap(&mut res, &mut res_new);
                    rnorm = rn;
                    dual = dual_new;
                    floor = floor_of(&point, &theta, &m);
                    accepted = true;
                    break;
                }
            }
            t *= 0.5;
        }
        if !accepted {
            status = PredictStatus::LineSearchFailed;
            message = format!(
                "no step improved the residual ({:.3e} relative) or the dual objective at iteration {iterations}",
                rnorm / scale
            );
            break;
        }
    }
    // Stuck against the dual box: theta = Psi(xi) needs xi closer to the box edge than
    // f64 can represent relative to the edge (tiny inits at depth >= 3).
    // A map that resolves its edges is limited only where a gap underflows.
    let pinned = (0..d).any(|i| {
        let (lo, hi) = boxes[i];
        let gap = point.gap_hi[i].min(point.gap_lo[i]);
        let unresolved = if resolves { 0.0 } else { 1e3 * f64::EPSILON };
        gap.is_finite() && gap <= unresolved * lo.abs().max(hi.abs()) + 1e3 * f64::MIN_POSITIVE
    });
    if matches!(
        status,
        PredictStatus::MaxIterations | PredictStatus::LineSearchFailed
    ) && pinned
        && rnorm > settings.tol * scale
    {
        status = PredictStatus::PrecisionLimited;
        message = format!(
            "f64 cannot resolve the limit at this init scale: the dual variable is pinned within 1e3 eps of its box edge (relative residual {:.2e} after {iterations} iterations); use a larger init scale",
            rnorm / scale
        );
    }
    if status == PredictStatus::MaxIterations {
        if rnorm <= settings.tol * scale {
            status = PredictStatus::Converged;
            message = format!("converged in {iterations} Newton iterations");
        } else if rnorm <= floor {
            (status, message) = at_floor(rnorm, floor, scale, iterations, settings);
        }
    }
    if !in_range {
        message = format!(
            "y is not in the range of X (distance {:.3e}, {:.3e} relative); Newton: {message}",
            basis.distance_to_range,
            basis.distance_to_range / scale
        );
        if status != PredictStatus::Converged {
            theta.fill(f64::NAN);
        }
        status = PredictStatus::NotInRange;
    }
    let nu_full = basis.lift_dual(&nu);
    let residual = residual_norm(problem, &theta);
    let entropy_value = (0..d).map(|i| map.value_i(i, theta[i])).sum();
    Ok(Prediction {
        theta,
        nu: nu_full,
        entropy_value,
        residual,
        relative_residual: residual / scale,
        residual_floor: floor,
        iterations,
        cg_iterations,
        status,
        message,
        limit_order_log10: None,
    })
}

/// Status when Newton stops at the f64 floor above `tol ||y||`.
fn at_floor(
    rnorm: f64,
    floor: f64,
    scale: f64,
    iterations: usize,
    settings: &PredictSettings,
) -> (PredictStatus, String) {
    if rnorm <= settings.floor_rtol * scale {
        let message = format!(
            "converged in {iterations} Newton iterations to the f64 floor {floor:.2e} (above tol ||y||)"
        );
        (PredictStatus::Converged, message)
    } else {
        let message = format!(
            "f64 cannot resolve the limit at this init scale: Newton stopped at the floor {floor:.2e} with relative residual {:.2e} > floor_rtol {:.0e} after {iterations} iterations; use a larger init scale",
            rnorm / scale,
            settings.floor_rtol
        );
        (PredictStatus::PrecisionLimited, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::sparse_recovery;

    /// The preconditioned Newton solves against the direct ones (every system factored)
    /// on a 240 x 1200 sparse problem, large enough for the CG path: depth 2 and 3 from
    /// small inits, the same limit to 1e-9.
    #[test]
    fn preconditioned_solves_give_the_same_limit() {
        let (n, d) = (240, 1200);
        let (x, y, _) = sparse_recovery(n, d, 8, 3).unwrap();
        let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
        let basis = RangeBasis::new(&problem, 1e-12).unwrap();
        for (depth, alpha) in [(2usize, 1e-2f64), (3, 1e-1)] {
            let mut init = vec![0.0; d];
            init.extend(std::iter::repeat_n(alpha, (depth - 1) * d));
            if depth == 2 {
                init[..d].fill(std::f64::consts::SQRT_2 * alpha);
                init[d..].fill(0.0);
            }
            let entropy = Entropy::new(&init, depth, d).unwrap();
            let settings = PredictSettings::default();
            let cg = predict_solving(&problem, &basis, &entropy, &settings, true).unwrap();
            let direct = predict_solving(&problem, &basis, &entropy, &settings, false).unwrap();
            assert_eq!(cg.status, PredictStatus::Converged, "{}", cg.message);
            assert_eq!(direct.status, PredictStatus::Converged);
            assert!(
                cg.cg_iterations > 0 && direct.cg_iterations == 0,
                "L = {depth}"
            );
            let top = direct.theta.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let diff = cg
                .theta
                .iter()
                .zip(&direct.theta)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(diff <= 1e-9 * top, "L = {depth}: {diff:e}");
        }
    }
}
