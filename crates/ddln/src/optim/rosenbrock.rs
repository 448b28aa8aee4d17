//! A Rosenbrock (linearly implicit) integrator for stiff gradient flows, with an embedded
//! error estimate, step-size control and exact landing on output times.
//!
//! The method is written in Hairer & Wanner's transformed variables (Solving ODEs II,
//! section IV.7, eq. (7.4')): with `W = I - h gamma J`,
//!
//! ```text
//! W k_i = h gamma f(y + sum_{j<i} a_ij k_j) + gamma sum_{j<i} c_ij k_j,   i = 1..s
//! y_new = y + sum_i m_i k_i,      error = sum_i e_i k_i
//! ```
//!
//! for an autonomous system (gradient flows are). Each step evaluates the Jacobian once at
//! `y`, factors `W` once, and solves `s` times; the system supplies all three, so that a
//! structured `J` (diagonal plus rank `n`, see [`super::linalg::DiagLowRank`]) never
//! becomes a dense `d x d` matrix. All work arrays are allocated before the loop.

use super::control::{axpy, checkpoint, error_norm, finish, plan_step, Controller};
use super::ode::{Hooks, Outcome, StiffSystem};
use super::run::{RunStats, Status};
use super::settings::FlowSettings;
use crate::observe::Observer;

/// A Rosenbrock method as data: stages in Hairer & Wanner's transformed form.
#[derive(Debug, Clone)]
pub struct RosenbrockTableau {
    /// Name for summaries.
    pub name: &'static str,
    /// Diagonal coefficient `gamma` of `W = I - h gamma J`.
    pub gamma: f64,
    /// `a[i]` (length `i`): stage points `y + sum_j a_ij k_j`.
    pub a: Vec<Vec<f64>>,
    /// `c[i]` (length `i`): coupling of earlier stages in the right-hand side.
    pub c: Vec<Vec<f64>>,
    /// Weights of the propagated solution.
    pub m: Vec<f64>,
    /// Weights of the local error estimate.
    pub e: Vec<f64>,
    /// Order of the propagated solution.
    pub order: u32,
    /// Order of the embedded solution (the error estimate is `O(h^{embedded_order + 1})`).
    pub embedded_order: u32,
}

impl RosenbrockTableau {
    /// RODAS4: 6 stages, order 4 with an embedded order-3 solution, L-stable and stiffly
    /// accurate (the last stage is the solution, the error estimate is `k_6`).
    ///
    /// Coefficients as published by E. Hairer and G. Wanner, Solving Ordinary Differential
    /// Equations II, 2nd ed., Springer 1996, section IV.7 (Table 7.2's method RODAS), in
    /// the transformed form of their code `rodas.f` (subroutine `RODAS4`), with
    /// `gamma = 0.25`. The order conditions are checked numerically in the tests
    /// (`tests/stiff_rosenbrock.rs`: convergence order 4 on a linear system).
    pub fn rodas4() -> Self {
        let a = vec![
            vec![],
            vec![1.544],
            vec![0.946_678_528_081_582_6, 0.255_701_169_898_328_4],
            vec![
                3.314_825_187_068_521,
                2.896_124_015_972_201,
                0.998_641_913_997_781_7,
            ],
            vec![
                1.221_224_509_226_641,
                6.019_134_481_288_629,
                12.537_083_329_320_87,
                -0.687_886_036_105_895,
            ],
            vec![
                1.221_224_509_226_641,
                6.019_134_481_288_629,
                12.537_083_329_320_87,
                -0.687_886_036_105_895,
                1.0,
            ],
        ];
        let c = vec![
            vec![],
            vec![-5.6688],
            vec![-2.430_093_356_833_875, -0.206_359_915_709_191_5],
            vec![
                -0.107_352_905_815_137_5,
                -9.594_562_251_023_355,
                -20.470_286_148_096_16,
            ],
            vec![
                7.496_443_313_967_647,
                -10.246_804_314_643_52,
                -33.999_903_528_199_05,
                11.708_908_932_061_6,
            ],
            vec![
                8.083_246_795_921_522,
                -7.981_132_988_064_893,
                -31.521_594_328_743_71,
                16.319_305_431_231_36,
                -6.058_818_238_834_054,
            ],
        ];
        let m = vec![
            1.221_224_509_226_641,
            6.019_134_481_288_629,
            12.537_083_329_320_87,
            -0.687_886_036_105_895,
            1.0,
            1.0,
        ];
        RosenbrockTableau {
            name: "RODAS4 (Hairer-Wanner)",
            gamma: 0.25,
            a,
            c,
            m,
            e: vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            order: 4,
            embedded_order: 3,
        }
    }

    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.m.len()
    }
}

/// Integrates `sys` with a Rosenbrock method from `y` at `t0`, recording at each time of
/// `t_eval` (sorted, `>= t0`, ending at the end of the horizon) and observing every
/// accepted step. When `t0 > 0` the run continues an earlier one: the observer is not
/// shown the starting point again.
///
/// On return `y` holds the last accepted (finite) state.
pub fn integrate_stiff<S: StiffSystem, O: Observer>(
    sys: &mut S,
    tableau: &RosenbrockTableau,
    y: &mut [f64],
    t0: f64,
    t_eval: &[f64],
    settings: &FlowSettings,
    hooks: &mut Hooks<'_, O>,
) -> Outcome {
    let n = sys.dim();
    let stages = tableau.stages();
    let t_end = *t_eval.last().expect("t_eval is never empty");
    let mut k: Vec<Vec<f64>> = vec![vec![0.0; n]; stages];
    let mut f0 = vec![0.0; n];
    let mut fi = vec![0.0; n];
    let mut y_stage = vec![0.0; n];
    let mut y_new = vec![0.0; n];
    let mut stats = RunStats::default();
    let control = Controller {
        exponent: 1.0 / (tableau.embedded_order as f64 + 1.0),
        max_growth: 6.0,
    };
    let hg_coupling = tableau.gamma;

    let mut t = t0;
    let mut loss = sys.rhs(t, y, &mut f0);
    stats.grad_evals += 1;
    let mut next_out = 0;
    // A continued run (t0 > 0) does not show its starting point to the observer again.
    if let Some((status, msg)) =
        checkpoint(hooks, t_eval, &mut next_out, t, y, loss, 0, t0 == 0.0, true)
    {
        return finish(status, t, msg, stats);
    }
    stats.grad_evals += sys.jacobian(t, y);
    stats.jacobian_evals += 1;

    let mut h = match settings.initial_step {
        Some(h) => h,
        None => {
            // Hairer's rule with the derivative only: h ~ 0.01 ||y|| / ||f||, bounded.
            let (mut sy, mut sf) = (0.0, 0.0);
            for i in 0..n {
                let sc = settings.atol + settings.rtol * y[i].abs();
                sy += (y[i] / sc).powi(2);
                sf += (f0[i] / sc).powi(2);
            }
            let (dy, df) = ((sy / n as f64).sqrt(), (sf / n as f64).sqrt());
            let h0 = if dy < 1e-5 || df < 1e-5 {
                1e-6
            } else {
                0.01 * dy / df
            };
            h0.min(t_end - t0).max(1e-12 * (t_end - t0))
        }
    };
    let max_step = settings.max_step.unwrap_or(f64::INFINITY);
    let mut just_rejected = false;
    let mut last_reject_nonfinite = false;

    while t < t_end {
        let target = t_eval[next_out];
        let planned = plan_step(
            t,
            &mut h,
            target,
            max_step,
            settings,
            &stats,
            last_reject_nonfinite,
        );
        let (h_try, lands) = match planned {
            Ok(step) => step,
            Err((status, msg)) => return finish(status, t, msg, stats),
        };

        let hg = h_try * tableau.gamma;
        stats.factorizations += 1;
        let mut ok = sys.factor(hg);
        let mut new_loss = f64::NAN;
        if ok {
            for s in 0..stages {
                let f = if s == 0 {
                    &f0
                } else {
                    y_stage.copy_from_slice(y);
                    for (j, &a) in tableau.a[s].iter().enumerate() {
                        if a != 0.0 {
                            axpy(a, &k[j], &mut y_stage);
                        }
                    }
                    new_loss = sys.rhs(t, &y_stage, &mut fi);
                    stats.grad_evals += 1;
                    &fi
                };
                let (done, rest) = k.split_at_mut(s);
                let ks = &mut rest[0];
                for (kv, &fv) in ks.iter_mut().zip(f.iter()) {
                    *kv = hg * fv;
                }
                for (j, &c) in tableau.c[s].iter().enumerate() {
                    if c != 0.0 {
                        axpy(hg_coupling * c, &done[j], ks);
                    }
                }
                sys.solve(ks);
                stats.linear_solves += 1;
            }
            y_new.copy_from_slice(y);
            for (j, &m) in tableau.m.iter().enumerate() {
                if m != 0.0 {
                    axpy(m, &k[j], &mut y_new);
                }
            }
            ok = y_new.iter().all(|v| v.is_finite());
        }
        let err = if ok {
            error_norm(&tableau.e, &k, 1.0, y, &y_new, settings)
        } else {
            f64::INFINITY
        };
        let _ = new_loss;

        if err <= 1.0 {
            t = if lands { target } else { t + h_try };
            y.copy_from_slice(&y_new);
            loss = sys.rhs(t, y, &mut f0);
            stats.grad_evals += 1;
            stats.steps += 1;
            stats.max_local_error = stats.max_local_error.max(err);
            last_reject_nonfinite = false;
            let step = stats.steps;
            if let Some((status, msg)) =
                checkpoint(hooks, t_eval, &mut next_out, t, y, loss, step, true, true)
            {
                return finish(status, t, msg, stats);
            }
            if t < t_end {
                stats.grad_evals += sys.jacobian(t, y);
                stats.jacobian_evals += 1;
            }
            h = control.accepted(err, h, h_try, lands, just_rejected);
            just_rejected = false;
        } else {
            stats.rejected_steps += 1;
            last_reject_nonfinite = !err.is_finite();
            h = control.rejected(err, h_try);
            just_rejected = true;
        }
    }
    let msg = format!("reached t_end = {t_end} in {} steps", stats.steps);
    finish(Status::Completed, t, msg, stats)
}
