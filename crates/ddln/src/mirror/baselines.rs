//! Baseline interpolators: minimum L1 norm (basis pursuit) and its weighted version as
//! linear programs solved by Clarabel (an interior-point solver), minimum L2 norm through
//! a thin SVD (faer).

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use serde::{Deserialize, Serialize};

use crate::error::{check_finite, check_positive, DdlnError, Result};
use crate::problem::Problem;

use super::homotopy::weighted_l1_homotopy;
use super::range::{norm, residual_norm, RangeBasis};

/// How a baseline solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BaselineStatus {
    /// Solved to the requested tolerance.
    Solved,
    /// Solved to Clarabel's reduced tolerance (about 1e-5); the solution is approximate.
    AlmostSolved,
    /// No interpolator exists: `y` is not in the range of `X`. For min-L2, `theta` is then
    /// the minimum-norm least-squares solution.
    Infeasible,
    /// The solver failed (iteration limit, numerical trouble); see the message.
    Failed,
}

impl BaselineStatus {
    /// Every variant, in declaration order (the vocabulary the frontends build their
    /// enums from).
    pub const ALL: [BaselineStatus; 4] = [
        BaselineStatus::Solved,
        BaselineStatus::AlmostSolved,
        BaselineStatus::Infeasible,
        BaselineStatus::Failed,
    ];
}

/// A baseline interpolator and how well it interpolates.
#[derive(Debug, Clone, Serialize)]
pub struct Interpolator {
    /// The solution.
    pub theta: Vec<f64>,
    /// `||X theta - y||`.
    pub residual: f64,
    /// The objective at `theta` (L1, weighted L1 or L2 norm).
    pub objective: f64,
    /// How the solve ended.
    pub status: BaselineStatus,
    /// Solver detail.
    pub message: String,
    /// The optimality certificate of a weighted-L1 solution (`None` for min-L2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
}

/// A dual point `nu` certifying a weighted-L1 solution: feasible when
/// `-w^- <= X^T nu <= w^+`, optimal when `y^T nu` equals the objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Certificate {
    /// Largest violation of `-w^- <= X^T nu <= w^+`, relative to the largest weight.
    pub dual_violation: f64,
    /// `|objective - y^T nu| / objective`.
    pub duality_gap: f64,
    /// How the solution was found: `homotopy` (the LASSO path) or `lp` (Clarabel).
    pub method: &'static str,
}

/// The certificate of `theta` by the dual point `nu`.
fn certificate(
    problem: &Problem,
    w_plus: &[f64],
    w_minus: &[f64],
    objective: f64,
    nu: &[f64],
    method: &'static str,
) -> Certificate {
    let d = problem.dim();
    let mut a = vec![0.0; d];
    crate::kernel::mat_t_vec_add(problem.x(), nu, &mut a);
    let wmax = w_plus.iter().chain(w_minus).cloned().fold(0.0f64, f64::max);
    let violation = (0..d)
        .map(|j| (a[j] - w_plus[j]).max(-w_minus[j] - a[j]).max(0.0))
        .fold(0.0f64, f64::max);
    let dual_objective: f64 = problem.y().iter().zip(nu).map(|(a, b)| a * b).sum();
    Certificate {
        dual_violation: violation / wmax,
        duality_gap: (objective - dual_objective).abs() / objective.max(f64::MIN_POSITIVE),
        method,
    }
}

fn weighted_objective(theta: &[f64], w_plus: &[f64], w_minus: &[f64]) -> f64 {
    theta
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if t >= 0.0 {
                w_plus[i] * t
            } else {
                -w_minus[i] * t
            }
        })
        .sum()
}

/// Settings of the linear programs (Clarabel).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LpSettings {
    /// Feasibility and duality-gap tolerance, absolute and relative (default 1e-9).
    pub tol: f64,
    /// Interior-point iterations (default 200).
    pub max_iter: u32,
    /// Try the LASSO homotopy first (exact, a few passes over X per non-zero of the
    /// solution), falling back to the LP on a degenerate path (default true).
    pub homotopy: bool,
}

impl Default for LpSettings {
    fn default() -> Self {
        LpSettings {
            tol: 1e-9,
            max_iter: 200,
            homotopy: true,
        }
    }
}

/// Relative cutoff on singular values for the rank of X in [`min_l2`].
pub const RANK_RTOL: f64 = 1e-12;
/// `y` counts as in the range of X when its distance is at most this times `||y||`.
pub const RANGE_RTOL: f64 = 1e-9;

/// `min ||theta||_1 s.t. X theta = y` (basis pursuit).
pub fn min_l1(problem: &Problem, settings: &LpSettings) -> Result<Interpolator> {
    let d = problem.dim();
    weighted_l1(problem, &vec![1.0; d], &vec![1.0; d], settings)
}

/// `min sum_i w_i^+ theta_i^+ + w_i^- theta_i^- s.t. X theta = y` with positive weights,
/// as the LP over `theta = p - m`, `p, m >= 0`.
pub fn weighted_l1(
    problem: &Problem,
    w_plus: &[f64],
    w_minus: &[f64],
    settings: &LpSettings,
) -> Result<Interpolator> {
    let (n, d) = (problem.n_samples(), problem.dim());
    for (name, w) in [("w_plus", w_plus), ("w_minus", w_minus)] {
        if w.len() != d {
            return Err(DdlnError::shape(
                name,
                format!("length d = {d}"),
                format!("length {}", w.len()),
            ));
        }
        check_finite(name, w)?;
        if let Some(i) = w.iter().position(|&x| x <= 0.0) {
            return Err(DdlnError::invalid(
                name,
                format!("weights must be > 0; {name}[{i}] = {}", w[i]),
            ));
        }
    }
    check_positive("tol", settings.tol)?;
    if settings.homotopy {
        let (n, y_norm) = (problem.n_samples(), norm(problem.y()));
        if let Some(h) = weighted_l1_homotopy(problem, w_plus, w_minus, 20 * n.max(10)) {
            let objective = weighted_objective(&h.theta, w_plus, w_minus);
            let cert = certificate(problem, w_plus, w_minus, objective, &h.nu, "homotopy");
            let residual = residual_norm(problem, &h.theta);
            if cert.dual_violation <= settings.tol
                && cert.duality_gap <= settings.tol
                && residual <= RANGE_RTOL * y_norm
            {
                return Ok(Interpolator {
                    message: format!(
                        "homotopy: {} breakpoints; dual violation {:.1e}, duality gap {:.1e}",
                        h.breakpoints, cert.dual_violation, cert.duality_gap
                    ),
                    theta: h.theta,
                    residual,
                    objective,
                    status: BaselineStatus::Solved,
                    certificate: Some(cert),
                });
            }
        }
    }
    let x = problem.x();
    // Columns: p_1..p_d, m_1..m_d. Rows: n equalities, then 2d rows of -I.
    let mut colptr = Vec::with_capacity(2 * d + 1);
    let mut rowval = Vec::new();
    let mut nzval = Vec::new();
    colptr.push(0);
    for col in 0..2 * d {
        let (j, sign) = if col < d { (col, 1.0) } else { (col - d, -1.0) };
        for i in 0..n {
            let a = x[i * d + j];
            if a != 0.0 {
                rowval.push(i);
                nzval.push(sign * a);
            }
        }
        rowval.push(n + col);
        nzval.push(-1.0);
        colptr.push(rowval.len());
    }
    let a = CscMatrix::new(n + 2 * d, 2 * d, colptr, rowval, nzval);
    let p = CscMatrix::<f64>::zeros((2 * d, 2 * d));
    let q: Vec<f64> = w_plus.iter().chain(w_minus).copied().collect();
    let mut b = problem.y().to_vec();
    b.resize(n + 2 * d, 0.0);
    let cones = [
        SupportedConeT::ZeroConeT(n),
        SupportedConeT::NonnegativeConeT(2 * d),
    ];
    let lp = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(settings.max_iter)
        .tol_gap_abs(settings.tol)
        .tol_gap_rel(settings.tol)
        .tol_feas(settings.tol)
        .build()
        .map_err(|e| DdlnError::invalid("tol", format!("rejected by Clarabel: {e:?}")))?;
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, lp)
        .map_err(|e| DdlnError::invalid("X", format!("Clarabel could not set up the LP: {e}")))?;
    solver.solve();
    let sol = &solver.solution;
    let theta: Vec<f64> = (0..d).map(|i| sol.x[i] - sol.x[d + i]).collect();
    let status = match sol.status {
        SolverStatus::Solved => BaselineStatus::Solved,
        SolverStatus::AlmostSolved => BaselineStatus::AlmostSolved,
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            BaselineStatus::Infeasible
        }
        _ => BaselineStatus::Failed,
    };
    let objective = weighted_objective(&theta, w_plus, w_minus);
    // Clarabel's multipliers of the equalities are -nu (A^T z + q = 0 with z free there).
    let n = problem.n_samples();
    let nu: Vec<f64> = sol.z[..n].iter().map(|z| -z).collect();
    let cert = certificate(problem, w_plus, w_minus, objective, &nu, "lp");
    Ok(Interpolator {
        certificate: Some(cert),
        residual: residual_norm(problem, &theta),
        theta,
        objective,
        status,
        message: format!(
            "Clarabel: {:?} after {} iterations",
            sol.status, sol.iterations
        ),
    })
}

/// `min ||theta||_2 s.t. X theta = y`: `theta = X^+ y` through a thin SVD (rank cutoff
/// [`RANK_RTOL`]). When `y` is not in the range of `X` (distance above [`RANGE_RTOL`]
/// times `||y||`) the status is `Infeasible` and `theta` is the minimum-norm
/// least-squares solution.
pub fn min_l2(problem: &Problem) -> Result<Interpolator> {
    let basis = RangeBasis::new(problem, RANK_RTOL)?;
    let theta = basis.min_norm_solution();
    let in_range = basis.distance_to_range <= RANGE_RTOL * norm(problem.y());
    Ok(Interpolator {
        residual: residual_norm(problem, &theta),
        objective: norm(&theta),
        theta,
        status: if in_range {
            BaselineStatus::Solved
        } else {
            BaselineStatus::Infeasible
        },
        message: format!(
            "{}: rank {} of {} x {}, distance of y to range(X) {:.3e}",
            basis.method(),
            basis.rank,
            problem.n_samples(),
            problem.dim(),
            basis.distance_to_range
        ),
        certificate: None,
    })
}
