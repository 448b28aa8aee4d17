//! Bindings of `ddln::mirror`, the explicit mirror map of a deep diagonal network:
//! `ddln.implicit_bias` (core `predict`, `min_l1`, `min_l2`, `small_init_limit`),
//! and `ddln.rich_to_kernel_sweep` (core `rich_to_kernel_sweep`). The reduced integration
//! mode is `gradient_flow(..., dynamics="reduced")` in `train.rs`.
//!
//! Numerical outcomes of the predictor and of the linear programs are status strings,
//! never exceptions; setup mistakes (shapes, an init violating assumption (A)) raise
//! `ddln.DdlnError` through `errors.rs`.

use ddln::mirror::{
    self, BaselineStatus, Interpolator, LpSettings, MirrorCheck, PredictSettings, PredictStatus,
    Prediction, SmallInitLimit,
};
use ddln::recipes::InitRecipe;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{real_array, shared_real_array, to_numpy};
use crate::errors::{invalid, Result};
use crate::init::init_shape;
use crate::inputs::setup;
use crate::vocab;

/// Builds the core's predictor settings from the keyword arguments.
#[allow(clippy::too_many_arguments)]
pub(crate) fn predict_settings(
    tol: f64,
    max_iter: usize,
    boundary_fraction: f64,
    max_halvings: usize,
    rank_rtol: f64,
    range_rtol: f64,
    floor_rtol: f64,
) -> Result<PredictSettings> {
    let settings = PredictSettings {
        tol,
        max_iter,
        boundary_fraction,
        max_halvings,
        rank_rtol,
        range_rtol,
        floor_rtol,
    };
    settings.validate()?;
    Ok(settings)
}

fn lp_settings(lp_tol: f64, lp_max_iter: u32) -> Result<LpSettings> {
    if !(lp_tol.is_finite() && lp_tol > 0.0) {
        return Err(invalid(
            "lp_tol",
            format!("must be finite and > 0, got {lp_tol}"),
        ));
    }
    if lp_max_iter == 0 {
        return Err(invalid("lp_max_iter", "must be at least 1"));
    }
    Ok(LpSettings {
        tol: lp_tol,
        max_iter: lp_max_iter,
        ..LpSettings::default()
    })
}

fn baseline_status(py: Python<'_>, status: BaselineStatus) -> PyResult<Py<PyAny>> {
    vocab::member(py, "BaselineStatus", &status)
}

/// A baseline interpolator as a dict (theta, status, residual, objective, message), and
/// its theta.
fn interpolator_dict<'py>(
    py: Python<'py>,
    x: Interpolator,
) -> Result<(Bound<'py, PyDict>, Bound<'py, PyAny>)> {
    let d = x.theta.len();
    let theta = to_numpy(py, x.theta, &[d])?;
    let dict = PyDict::new(py);
    dict.set_item("theta", &theta)?;
    dict.set_item("status", baseline_status(py, x.status)?)?;
    dict.set_item("residual", x.residual)?;
    dict.set_item("objective", x.objective)?;
    dict.set_item("message", x.message)?;
    if let Some(c) = x.certificate {
        let cert = PyDict::new(py);
        cert.set_item("dual_violation", c.dual_violation)?;
        cert.set_item("duality_gap", c.duality_gap)?;
        cert.set_item("method", c.method)?;
        dict.set_item("certificate", cert)?;
    }
    Ok((dict, theta))
}

/// The predicted end point of gradient flow, `theta_inf = argmin {Q(theta) : X theta = y}`
/// (docs/math.md section 7), with the minimum-L1, minimum-L2 and small-init (weighted L1)
/// interpolators it is measured against.
///
/// Attributes
/// ----------
/// theta : ndarray (d,)
///     theta_inf = Psi(X^T nu) (NaN when y is not in range(X) and Newton did not converge).
/// nu : ndarray (n,)
///     The dual variable: xi(inf) = X^T nu.
/// status : str
///     "Converged", "NotInRange" (y is not in range(X): no interpolator exists),
///     "MaxIterations", "LineSearchFailed", "PrecisionLimited" (the init is too small
///     for f64 to resolve the limit) or "SmallInitLimit" (f64 cannot resolve the map,
///     and theta is the alpha -> 0 limit, the weighted-L1 interpolator of the init's
///     shape, which is the end point to within limit_order_log10). Never raised; only
///     "Converged" and "SmallInitLimit" are the end point.
/// limit_order_log10 : float or None
///     For "SmallInitLimit": log10 of the order c^(L-2) of the limit's distance to the
///     end of gradient flow (c the init's scale); None otherwise.
/// message : str
///     Detail of the status.
/// entropy_value : float
///     Q(theta_inf) (Q vanishes at the init's theta).
/// residual, relative_residual : float
///     ||X theta - y|| and ||X theta - y|| / ||y||.
/// residual_floor : float
///     The smallest residual f64 can resolve at theta_inf.
/// iterations : int
///     Newton iterations done.
/// cg_iterations : int
///     Conjugate-gradient iterations over the Newton systems solved that way (large n;
///     0 when every system was factored directly).
/// converged : bool
///     status == "Converged".
/// min_l1, min_l2, small_init_limit : ndarray (d,) or None
///     argmin ||theta||_1, argmin ||theta||_2 and argmin sum_i t_i^+ theta_i^+ +
///     t_i^- theta_i^- over X theta = y (None with baselines=False).
/// baselines : dict or None
///     {"min_l1": {...}, "min_l2": {...}, "small_init_limit": {...}}, each with theta,
///     status ("Solved", "AlmostSolved", "Infeasible", "Failed"), residual, objective,
///     message; small_init_limit also has weights_plus and weights_minus (t^+, t^-
///     normalized to mean 1).
#[pyclass(frozen, module = "ddln", name = "Prediction")]
pub struct PyPrediction {
    #[pyo3(get)]
    theta: Py<PyAny>,
    #[pyo3(get)]
    nu: Py<PyAny>,
    status: PredictStatus,
    #[pyo3(get)]
    message: String,
    #[pyo3(get)]
    entropy_value: f64,
    #[pyo3(get)]
    residual: f64,
    #[pyo3(get)]
    relative_residual: f64,
    #[pyo3(get)]
    residual_floor: f64,
    #[pyo3(get)]
    iterations: usize,
    #[pyo3(get)]
    cg_iterations: usize,
    #[pyo3(get)]
    limit_order_log10: Option<f64>,
    #[pyo3(get)]
    min_l1: Option<Py<PyAny>>,
    #[pyo3(get)]
    min_l2: Option<Py<PyAny>>,
    #[pyo3(get)]
    small_init_limit: Option<Py<PyAny>>,
    #[pyo3(get)]
    baselines: Option<Py<PyDict>>,
}

#[pymethods]
impl PyPrediction {
    /// How the predictor ended: a member of `ddln.PredictStatus` (a `str`).
    #[getter]
    fn status(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        vocab::member(py, "PredictStatus", &self.status)
    }

    /// `True` when the status is "Converged" (theta is the predicted limit).
    #[getter]
    fn converged(&self) -> bool {
        self.status == PredictStatus::Converged
    }

    fn __repr__(&self) -> String {
        format!(
            "Prediction(status={:?}, iterations={}, residual={:e}, entropy_value={:e}, message={:?})",
            vocab::name(&self.status),
            self.iterations,
            self.residual,
            self.entropy_value,
            self.message
        )
    }
}

/// The core's baselines next to a prediction.
struct Baselines {
    l1: Interpolator,
    l2: Interpolator,
    /// The small-init limit (deep under (A), or `u^L - v^L` from a positive init; `None`
    /// for the other models).
    limit: Option<SmallInitLimit>,
}

fn prediction(py: Python<'_>, p: Prediction, baselines: Option<Baselines>) -> Result<PyPrediction> {
    let (d, n) = (p.theta.len(), p.nu.len());
    let mut out = PyPrediction {
        theta: to_numpy(py, p.theta, &[d])?.unbind(),
        nu: to_numpy(py, p.nu, &[n])?.unbind(),
        status: p.status,
        message: p.message,
        entropy_value: p.entropy_value,
        residual: p.residual,
        relative_residual: p.relative_residual,
        residual_floor: p.residual_floor,
        iterations: p.iterations,
        cg_iterations: p.cg_iterations,
        limit_order_log10: p.limit_order_log10,
        min_l1: None,
        min_l2: None,
        small_init_limit: None,
        baselines: None,
    };
    if let Some(Baselines { l1, l2, limit }) = baselines {
        let (l1, l1_theta) = interpolator_dict(py, l1)?;
        let (l2, l2_theta) = interpolator_dict(py, l2)?;
        out.min_l1 = Some(l1_theta.unbind());
        out.min_l2 = Some(l2_theta.unbind());
        let all = PyDict::new(py);
        all.set_item("min_l1", l1)?;
        all.set_item("min_l2", l2)?;
        if let Some(limit) = limit {
            let (lim, lim_theta) = interpolator_dict(py, limit.solution)?;
            lim.set_item("weights_plus", to_numpy(py, limit.weights_plus, &[d])?)?;
            lim.set_item("weights_minus", to_numpy(py, limit.weights_minus, &[d])?)?;
            out.small_init_limit = Some(lim_theta.unbind());
            all.set_item("small_init_limit", lim)?;
        }
        out.baselines = Some(all.unbind());
    }
    Ok(out)
}

/// Where gradient flow from `init` ends, without simulating it: the implicit bias.
///
/// Gradient flow on theta = u^1 ⊙ ... ⊙ u^L with the squared loss is the mirror flow
/// d/dt grad Q(theta(t)) = -grad L(theta(t)) of the init's entropy Q (the paper's
/// Theorem 1, made explicit in docs/math.md section 5), so it ends at
///
///     theta_inf = argmin { Q(theta) : X theta = y }.
///
/// theta_inf is computed by damped Newton steps on the concave dual
/// nu -> <nu, y> - sum_i Q_i^*((X^T nu)_i) (an n x n SPD system per step, staying inside
/// the dual box for L >= 3). Next to it: the minimum-L1 interpolator (basis pursuit, by
/// the Clarabel LP solver), the minimum-L2 interpolator X^+ y (thin SVD), and the
/// small-init limit, the minimizer of sum_i t_i^+ theta_i^+ + t_i^- theta_i^- with
/// t_i^± = |F_i(±s_i inf)| (s_i the sign of P_i) (where theta_inf tends as the init scale alpha -> 0).
///
/// Parameters
/// ----------
/// X : array_like (n, d); y : array_like (n,)
///     The squared-loss problem (any real dtype and layout).
/// init : array_like (L, d), (2, d) or (1, d)
///     The deep model: the layers u^1(0), ..., u^L(0) (L >= 2); at every coordinate
///     either one layer has the strictly smallest |u_i^k(0)| (assumption (A)) or several
///     tie for it (some layers, or all: the balanced init), at a nonzero magnitude. The
///     signed model: rows u(0), v(0); the redundant model: the row u(0) (any signs; a
///     coordinate needs one nonzero entry).
/// tol : float
///     Converged once ||X theta - y|| <= max(tol ||y||, residual floor of f64).
/// max_iter : int
///     Newton iterations.
/// boundary_fraction : float
///     Largest fraction, in (0, 1), of the distance to the dual box edge one step covers.
/// max_halvings : int
///     Halvings of a step before the line search gives up.
/// rank_rtol : float
///     Singular values of X below rank_rtol * sigma_max count as zero.
/// range_rtol : float
///     y is in range(X) when its distance to it is at most range_rtol ||y||.
/// floor_rtol : float
///     Above tol but at the f64 floor, the result still counts as converged when
///     ||X theta - y|| <= floor_rtol ||y|| (else "PrecisionLimited").
/// lp_tol, lp_max_iter : float, int
///     Tolerance and iteration limit of the linear programs (min-L1, weighted L1).
/// baselines : bool
///     Also compute min_l1, min_l2 and small_init_limit (deep model only).
/// model : {"deep", "signed", "redundant"}
///     theta = u^1 ⊙ ... ⊙ u^L, u^L - v^L or u^L (the power models' mirror map is in
///     closed form: docs/math.md section 10).
/// power : int or None
///     L of the signed and redundant models.
///
/// Returns
/// -------
/// Prediction
///     pred.theta, pred.status, pred.message, pred.entropy_value, pred.residual,
///     pred.iterations, pred.nu, pred.min_l1, pred.min_l2, pred.small_init_limit,
///     pred.baselines.
///
/// Raises
/// ------
/// ValueError (ddln.DdlnError)
///     Wrong shapes, NaN/inf entries, settings out of range, or an init violating
///     assumption (A) (the message names the coordinates). y outside range(X) is not an
///     error: it is the status "NotInRange".
#[pyfunction]
#[pyo3(signature = (
    X, y, init, *, tol = 1e-11, max_iter = 500, boundary_fraction = 0.99, max_halvings = 60,
    rank_rtol = 1e-12, range_rtol = 1e-9, floor_rtol = 1e-6, lp_tol = 1e-9, lp_max_iter = 200,
    baselines = true, model = "deep", power = None
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn implicit_bias(
    py: Python<'_>,
    X: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
    init: &Bound<'_, PyAny>,
    tol: f64,
    max_iter: usize,
    boundary_fraction: f64,
    max_halvings: usize,
    rank_rtol: f64,
    range_rtol: f64,
    floor_rtol: f64,
    lp_tol: f64,
    lp_max_iter: u32,
    baselines: bool,
    model: &str,
    power: Option<usize>,
) -> Result<PyPrediction> {
    let setup = setup(X, y, init, "square", "sum", model, power)?;
    let settings = predict_settings(
        tol,
        max_iter,
        boundary_fraction,
        max_halvings,
        rank_rtol,
        range_rtol,
        floor_rtol,
    )?;
    let lp = lp_settings(lp_tol, lp_max_iter)?;
    let (pred, extra) = interruptible(py, move || -> ddln::Result<_> {
        let (problem, init, model) = (&setup.problem, &setup.init, setup.model);
        let pred = mirror::predict_model(problem, model, init, &settings)?;
        let extra = if baselines {
            let limit = mirror::model_small_init_limit(problem, model, init, &lp)?;
            Some(Baselines {
                l1: mirror::min_l1(problem, &lp)?,
                l2: mirror::min_l2(problem)?,
                limit,
            })
        } else {
            None
        };
        Ok((pred, extra))
    })??;
    prediction(py, pred, extra)
}

/// Runs `work` on a thread of its own while this one, without the GIL, checks for
/// Ctrl-C every 50 ms: a `KeyboardInterrupt` is raised at once (the predictor and the
/// LP solver have no step hook; the abandoned work finishes in the background and its
/// result is dropped).
fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    let mut rx = Some(rx);
    loop {
        // The receiver travels into the GIL-free closure and back (it is Send, not Sync).
        let waiting = rx.take().expect("kept between polls");
        let (received, back) = py.detach(move || {
            let r = waiting.recv_timeout(std::time::Duration::from_millis(50));
            (r, waiting)
        });
        rx = Some(back);
        match received {
            Ok(value) => return Ok(value),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(invalid(
                    "implicit_bias",
                    "the computation ended without a result (internal error)",
                ))
            }
        }
    }
}

/// The mirror check as a dict (see [`mirror_check`]).
pub fn mirror_check_dict<'py>(py: Python<'py>, check: MirrorCheck) -> Result<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("max_abs_residual", check.max_abs_residual)?;
    dict.set_item("max_rel_residual", check.max_rel_residual)?;
    dict.set_item("times_checked", check.times_checked)?;
    dict.set_item(
        "relative_distance_to_prediction",
        check.relative_distance_to_prediction,
    )?;
    let pred = match check.prediction {
        Some(p) => Some(Bound::new(py, prediction(py, p, None)?)?),
        None => None,
    };
    dict.set_item("prediction", pred)?;
    Ok(dict)
}

/// The rich-to-kernel picture (Woodworth et al. 2020, Chou et al. 2023): how far the
/// predicted limit theta_inf(alpha) is from the minimum-L1 and the minimum-L2
/// interpolators, over depths L and init scales alpha.
///
/// For each depth, the init shape is drawn once by the seeded recipe at scale 1 (as
/// `ddln.init.scaled(depth, d, 1.0, zero_first, shape, seed, low, high)`) and multiplied
/// by each alpha; theta_inf comes from the predictor (as implicit_bias).
///
/// Parameters
/// ----------
/// X : array_like (n, d); y : array_like (n,)
///     The squared-loss problem.
/// depths : sequence of int
///     Depths L (each >= 2).
/// scales : array_like (k,)
///     Init scales alpha (each finite and > 0).
/// shape, zero_first, seed, low, high
///     The init recipe, as for ddln.init.scaled.
/// tol, max_iter, boundary_fraction, max_halvings, rank_rtol, range_rtol, floor_rtol
///     Predictor settings, as for implicit_bias.
/// lp_tol, lp_max_iter
///     Settings of the min-L1 linear program.
///
/// Returns
/// -------
/// dict
///     depths (ndarray (p,) int), scales (ndarray (k,)), dist_l1 and dist_l2
///     (ndarray (p, k): ||theta_inf - theta_L1||, ||theta_inf - theta_L2||, NaN where
///     the predictor did not converge), status (ndarray (p, k) of str), iterations
///     (ndarray (p, k) int), min_l1 and min_l2 (ndarray (d,)), baselines (dict of the two
///     interpolators' status, residual, objective, message).
#[pyfunction]
#[pyo3(signature = (
    X, y, depths, scales, *, shape = "gaussian", zero_first = false, seed = 1, low = -1.0,
    high = 1.0, tol = 1e-11, max_iter = 500, boundary_fraction = 0.99, max_halvings = 60,
    rank_rtol = 1e-12, range_rtol = 1e-9, floor_rtol = 1e-6, lp_tol = 1e-9, lp_max_iter = 200
))]
#[allow(non_snake_case, clippy::too_many_arguments)]
pub fn rich_to_kernel_sweep<'py>(
    py: Python<'py>,
    X: &Bound<'py, PyAny>,
    y: &Bound<'py, PyAny>,
    depths: Vec<usize>,
    scales: &Bound<'py, PyAny>,
    shape: &str,
    zero_first: bool,
    seed: u64,
    low: f64,
    high: f64,
    tol: f64,
    max_iter: usize,
    boundary_fraction: f64,
    max_halvings: usize,
    rank_rtol: f64,
    range_rtol: f64,
    floor_rtol: f64,
    lp_tol: f64,
    lp_max_iter: u32,
) -> Result<Bound<'py, PyDict>> {
    let x = shared_real_array(X, "X")?;
    x.expect_ndim("X", 2, "a 2-D array (n samples, d features)")?;
    let (n, d) = (x.shape[0], x.shape[1]);
    let y = real_array(y, "y")?;
    y.expect_ndim(
        "y",
        1,
        &format!("a 1-D array of length {n} (one target per row of X)"),
    )?;
    let problem = ddln::Problem::new(x.data, n, d, y.data, ddln::Loss::Square)?;
    let scales = real_array(scales, "scales")?;
    scales.expect_ndim("scales", 1, "a 1-D array of init scales")?;
    let scales = scales.data;
    if depths.is_empty() || scales.is_empty() {
        return Err(invalid("depths", "depths and scales must not be empty"));
    }
    let recipe = InitRecipe {
        depth: depths[0],
        scale: 1.0,
        zero_first,
        shape: init_shape(shape, low, high)?,
        seed,
    };
    let settings = predict_settings(
        tol,
        max_iter,
        boundary_fraction,
        max_halvings,
        rank_rtol,
        range_rtol,
        floor_rtol,
    )?;
    let lp = lp_settings(lp_tol, lp_max_iter)?;
    let sweep = py.detach(|| {
        mirror::rich_to_kernel_sweep(&problem, &recipe, &depths, &scales, &settings, &lp)
    })?;
    let (p, k) = (depths.len(), scales.len());
    let mut dist_l1 = Vec::with_capacity(p * k);
    let mut dist_l2 = Vec::with_capacity(p * k);
    let mut iterations = Vec::with_capacity(p * k);
    let mut status: Vec<Vec<String>> = vec![Vec::with_capacity(k); p];
    for (idx, point) in sweep.points.iter().enumerate() {
        dist_l1.push(point.dist_l1);
        dist_l2.push(point.dist_l2);
        iterations.push(point.iterations as i64);
        status[idx / k].push(vocab::name(&point.status));
    }
    let np = py.import("numpy")?;
    let out = PyDict::new(py);
    let depth_list: Vec<i64> = depths.iter().map(|&l| l as i64).collect();
    out.set_item("depths", np.call_method1("array", (depth_list,))?)?;
    out.set_item("scales", to_numpy(py, scales.clone(), &[k])?)?;
    out.set_item("dist_l1", to_numpy(py, dist_l1, &[p, k])?)?;
    out.set_item("dist_l2", to_numpy(py, dist_l2, &[p, k])?)?;
    out.set_item("status", np.call_method1("array", (status,))?)?;
    let iterations = np
        .call_method1("array", (iterations,))?
        .call_method1("reshape", ((p, k),))?;
    out.set_item("iterations", iterations)?;
    let (l1, l1_theta) = interpolator_dict(py, sweep.min_l1)?;
    let (l2, l2_theta) = interpolator_dict(py, sweep.min_l2)?;
    out.set_item("min_l1", l1_theta)?;
    out.set_item("min_l2", l2_theta)?;
    let baselines = PyDict::new(py);
    baselines.set_item("min_l1", l1)?;
    baselines.set_item("min_l2", l2)?;
    out.set_item("baselines", baselines)?;
    Ok(out)
}

/// The core's predictor and LP defaults (for `_core_defaults`).
pub fn core_defaults() -> serde_json::Value {
    serde_json::json!({
        "predict": PredictSettings::default(),
        "lp": LpSettings::default(),
    })
}
