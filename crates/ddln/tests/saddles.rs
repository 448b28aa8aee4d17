//! The saddle-to-saddle limit algorithm against independent references: a brute-force
//! re-implementation (every sign-feasible sub-support solved by normal equations and
//! Gaussian elimination written here; no QP, no SVD), the minimum-L1 interpolator of the
//! LP (the alpha -> 0 limit of two-layer flow for n < d), least squares for n > d, and
//! gradient flow itself simulated at small inits.

use ddln::mirror::{min_l1, LpSettings};
use ddln::recipes::{gaussian_data, sparse_recovery};
use ddln::saddles::{saddle_to_saddle, SaddleSettings, SaddleStatus};
use ddln::{gradient_flow, FlowSettings, Loss, LossScaling, Model, Problem};

/// Least squares on the columns `cols` by the normal equations (Gauss–Jordan with
/// partial pivoting); `None` if singular.
fn ls(x: &[f64], n: usize, d: usize, y: &[f64], cols: &[usize]) -> Option<Vec<f64>> {
    let m = cols.len();
    let mut a = vec![0.0; m * (m + 1)];
    for (p, &i) in cols.iter().enumerate() {
        for (q, &j) in cols.iter().enumerate() {
            a[p * (m + 1) + q] = (0..n).map(|r| x[r * d + i] * x[r * d + j]).sum();
        }
        a[p * (m + 1) + m] = (0..n).map(|r| x[r * d + i] * y[r]).sum();
    }
    for c in 0..m {
        let piv = (c..m).max_by(|&p, &q| {
            a[p * (m + 1) + c]
                .abs()
                .total_cmp(&a[q * (m + 1) + c].abs())
        })?;
        if a[piv * (m + 1) + c].abs() < 1e-12 {
            return None;
        }
        for k in 0..=m {
            a.swap(c * (m + 1) + k, piv * (m + 1) + k);
        }
        for r in 0..m {
            if r != c {
                let f = a[r * (m + 1) + c] / a[c * (m + 1) + c];
                for k in c..=m {
                    a[r * (m + 1) + k] -= f * a[c * (m + 1) + k];
                }
            }
        }
    }
    Some(
        (0..m)
            .map(|p| a[p * (m + 1) + m] / a[p * (m + 1) + p])
            .collect(),
    )
}

fn loss_of(x: &[f64], n: usize, d: usize, y: &[f64], theta: &[f64], c: f64) -> f64 {
    (0..n)
        .map(|r| ((0..d).map(|i| x[r * d + i] * theta[i]).sum::<f64>() - y[r]).powi(2))
        .sum::<f64>()
        * c
}

/// The algorithm, written again from its definition with a brute-force constrained solve.
fn brute_force(x: &[f64], n: usize, d: usize, y: &[f64], c: f64) -> Vec<(f64, Vec<f64>)> {
    let grad = |theta: &[f64]| -> Vec<f64> {
        let r: Vec<f64> = (0..n)
            .map(|k| (0..d).map(|i| x[k * d + i] * theta[i]).sum::<f64>() - y[k])
            .collect();
        (0..d)
            .map(|i| 2.0 * c * (0..n).map(|k| x[k * d + i] * r[k]).sum::<f64>())
            .collect()
    };
    let mut s = vec![0.0; d];
    let mut bound = vec![false; d];
    let mut theta = vec![0.0; d];
    let mut t = 0.0;
    let mut out = Vec::new();
    let tol = 1e-9 * grad(&theta).iter().fold(0.0f64, |a, g| a.max(g.abs()));
    for _ in 0..50 {
        let g = grad(&theta);
        for i in 0..d {
            if bound[i] && theta[i] == 0.0 && g[i] * s[i] > tol {
                bound[i] = false;
            }
        }
        let mut best = (f64::INFINITY, 0);
        for i in 0..d {
            if !bound[i] && g[i].abs() > tol {
                let tau = if g[i] < 0.0 {
                    (1.0 - s[i]) / -g[i]
                } else {
                    (1.0 + s[i]) / g[i]
                };
                if tau < best.0 {
                    best = (tau, i);
                }
            }
        }
        if !best.0.is_finite() {
            break;
        }
        t += best.0;
        for i in 0..d {
            if !bound[i] {
                s[i] -= best.0 * g[i];
            }
        }
        s[best.1] = s[best.1].signum();
        bound[best.1] = true;
        let active: Vec<usize> = (0..d).filter(|&i| bound[i]).collect();
        // Every sub-support whose least-squares solution has the dual's signs; the best.
        let mut winner = (f64::INFINITY, vec![0.0; d]);
        for mask in 0u32..(1 << active.len()) {
            let cols: Vec<usize> = (0..active.len())
                .filter(|b| mask >> b & 1 == 1)
                .map(|b| active[b])
                .collect();
            let Some(w) = ls(x, n, d, y, &cols) else {
                continue;
            };
            if cols.iter().zip(&w).any(|(&i, &v)| v * s[i] < 0.0) {
                continue;
            }
            let mut cand = vec![0.0; d];
            for (&i, &v) in cols.iter().zip(&w) {
                cand[i] = v;
            }
            let l = loss_of(x, n, d, y, &cand, c);
            if l < winner.0 * (1.0 - 1e-12) {
                winner = (l, cand);
            }
        }
        theta = winner.1;
        out.push((t, theta.clone()));
    }
    out
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

#[test]
fn matches_brute_force_with_n_below_and_above_d() {
    let cases: [(usize, usize, u64, LossScaling); 6] = [
        (6, 10, 1, LossScaling::Sum),
        (6, 10, 2, LossScaling::HalfMean),
        (8, 12, 3, LossScaling::Sum),
        (12, 6, 4, LossScaling::Sum),
        (15, 8, 5, LossScaling::HalfMean),
        (10, 10, 6, LossScaling::Sum),
    ];
    for (n, d, seed, scaling) in cases {
        let (x, y) = gaussian_data(n, d, seed);
        let problem = Problem::new(x.clone(), n, d, y.clone(), Loss::Square)
            .unwrap()
            .with_scaling(scaling);
        let c = problem.factor();
        let got = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
        assert_eq!(got.status, SaddleStatus::Finished);
        let want = brute_force(&x, n, d, &y, c);
        assert_eq!(got.jumps.len(), want.len(), "n = {n}, d = {d}, seed {seed}");
        for (j, (t, theta)) in got.jumps.iter().zip(&want) {
            assert!(
                (j.time_accelerated - t).abs() <= 1e-9 * t,
                "{} vs {t}",
                j.time_accelerated
            );
            assert!(
                max_diff(&j.theta, theta) <= 1e-9,
                "{:?} vs {theta:?}",
                j.theta
            );
            assert!(!j.tie && j.degenerate.is_none());
        }
        // The losses of the plateaus decrease.
        assert!(got.jumps.windows(2).all(|w| w[1].loss < w[0].loss));
        let last = &got.jumps[got.jumps.len() - 1].theta;
        if n < d {
            // The alpha -> 0 limit of two-layer flow is the minimum-L1 interpolator.
            let l1 = min_l1(&problem, &LpSettings::default()).unwrap();
            assert!(max_diff(last, &l1.theta) < 1e-7, "{:?}", l1.theta);
        } else {
            let all: Vec<usize> = (0..d).collect();
            let lsq = ls(&x, n, d, &y, &all).unwrap();
            assert!(max_diff(last, &lsq) < 1e-9);
        }
    }
}

/// Gradient flow of u ⊙ v from u = sqrt(2) alpha, v = 0: the accelerated time at which the
/// loss crosses the geometric mean of two successive plateau losses approaches the
/// algorithm's jump time as alpha -> 0 (errors O(1 / log(1/alpha))).
#[test]
fn simulated_jumps_approach_the_algorithm() {
    let (n, d, k) = (10, 20, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 7).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
    let jumps = &saddles.jumps;
    assert!(jumps.len() >= 3);
    let mut errors = Vec::new();
    for alpha in [1e-4f64, 1e-8, 1e-16] {
        let log = (1.0 / alpha).ln();
        let t_end = 1.3 * jumps[jumps.len() - 1].time_accelerated * log;
        let mut init = vec![std::f64::consts::SQRT_2 * alpha; d];
        init.extend(vec![0.0; d]);
        let settings = FlowSettings {
            t_end,
            rtol: 1e-10,
            atol: 1e-30,
            t_eval: Some((0..=20_000).map(|i| t_end * i as f64 / 20_000.0).collect()),
            ..FlowSettings::default()
        };
        let run = gradient_flow(&problem, Model::deep(2), &init, &settings, &mut ()).unwrap();
        let (t, loss) = (&run.trajectory.t, &run.trajectory.loss);
        let mut worst = 0.0f64;
        let mut before = saddles.initial_loss;
        for jump in jumps.iter().take(3) {
            let level = (before * jump.loss).sqrt();
            let idx = loss
                .iter()
                .position(|&l| l < level)
                .expect("the loss crosses the level");
            let sim = t[idx] / log;
            worst = worst.max((sim - jump.time_accelerated).abs() / jump.time_accelerated);
            before = jump.loss;
        }
        errors.push(worst);
    }
    eprintln!("worst relative jump-time error at alpha = 1e-4, 1e-8, 1e-16: {errors:?}");
    // The relative error falls with log(1/alpha) (roughly halving when it doubles).
    assert!(
        errors[2] < 0.6 * errors[1] && errors[1] < 0.6 * errors[0],
        "{errors:?}"
    );
    assert!(errors[2] < 0.1, "{errors:?}");
}

#[test]
fn degenerate_inputs() {
    let (n, d) = (6, 8);
    let (mut x, y) = gaussian_data(n, d, 11);
    // Zero targets: no saddles, a clear error.
    let zero = Problem::new(x.clone(), n, d, vec![0.0; n], Loss::Square).unwrap();
    let e = saddle_to_saddle(&zero, &SaddleSettings::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`y`") && e.contains("never leaves 0"), "{e}");
    // Duplicate columns 0 and 1: they enter together (a tie), and the saddle, not unique,
    // is reported with the split a symmetric init follows (equal halves).
    for r in 0..n {
        x[r * d + 1] = x[r * d];
    }
    let dup = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let got = saddle_to_saddle(&dup, &SaddleSettings::default()).unwrap();
    let with_dup: Vec<_> = got
        .jumps
        .iter()
        .filter(|j| j.entered.contains(&0))
        .collect();
    assert!(!with_dup.is_empty());
    let j = with_dup[0];
    assert!(j.tie && j.entered.contains(&1), "{:?}", j.entered);
    let later = got
        .jumps
        .iter()
        .find(|j| j.theta[0] != 0.0)
        .expect("the pair is used");
    assert!(later.degenerate.is_some());
    assert!((later.theta[0] - later.theta[1]).abs() <= 1e-12 * later.theta[0].abs());
    let logistic = Problem::new(vec![1.0; 4], 2, 2, vec![1.0, -1.0], Loss::Logistic).unwrap();
    assert!(saddle_to_saddle(&logistic, &SaddleSettings::default()).is_err());
}

/// The dual flow in accelerated time is gradient flow: against the layer ODE of
/// `u ⊙ v` (deep, L = 2) and of `u^2 - v^2` at alpha = 1e-3, on the same flow-time grid.
#[test]
fn dual_flow_is_the_layer_flow() {
    use ddln::saddles::{small_init_flow, SmallInitModel};
    let (n, d, k) = (10, 20, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 7).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let alpha = 1e-3f64;
    let lambda = (1.0 / alpha).ln();
    for (model, layers, init) in [
        (
            SmallInitModel::Product,
            Model::deep(2),
            [vec![std::f64::consts::SQRT_2 * alpha; d], vec![0.0; d]].concat(),
        ),
        (
            SmallInitModel::SignedSquare,
            Model::Signed { power: 2 },
            vec![alpha; 2 * d],
        ),
    ] {
        let settings = FlowSettings {
            rtol: 1e-11,
            atol: 1e-14,
            n_record: 41,
            ..FlowSettings::default()
        };
        let dual = small_init_flow(&problem, model, lambda, 0.4, &[], &settings).unwrap();
        let per = model.time_per_accelerated(lambda);
        let flow_settings = FlowSettings {
            t_end: 0.4 * per,
            rtol: 1e-11,
            atol: 1e-14,
            t_eval: Some(dual.t.iter().map(|t| t * per).collect()),
            ..FlowSettings::default()
        };
        let run = gradient_flow(&problem, layers, &init, &flow_settings, &mut ()).unwrap();
        assert_eq!(run.trajectory.loss.len(), dual.loss.len());
        for (a, b) in run.trajectory.loss.iter().zip(&dual.loss) {
            assert!((a - b).abs() <= 1e-7 * a.max(1e-6), "{model:?}: {a} vs {b}");
        }
        assert!(
            max_diff(&run.final_theta, &dual.final_theta) < 1e-7,
            "{model:?}"
        );
    }
}

/// Simulated jumps at tiny inits against the algorithm: within 2% at alpha = 1e-64, the
/// error at least halving from 1e-16 to 1e-64; alpha = 1e-300 runs with finite output
/// and about the steps of alpha = 1e-16 (the cost does not grow with log(1/alpha)).
#[test]
fn jumps_at_tiny_inits() {
    use ddln::saddles::{small_init_flow, SmallInitModel};
    for seed in [7u64, 8] {
        let (n, d, k) = (10, 20, 3);
        let (x, y, _) = sparse_recovery(n, d, k, seed).unwrap();
        let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
        let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
        let levels = ddln::saddles::plateau_levels(&saddles);
        let t_end = 1.5 * saddles.jumps[saddles.jumps.len() - 1].time_accelerated;
        let mut worst = Vec::new();
        let mut steps = Vec::new();
        for exponent in [16.0f64, 64.0, 300.0] {
            let lambda = exponent * 10f64.ln();
            let run = small_init_flow(
                &problem,
                SmallInitModel::Product,
                lambda,
                t_end,
                &levels,
                &FlowSettings::default(),
            )
            .unwrap();
            assert!(run.final_theta.iter().all(|v| v.is_finite()));
            let err = run
                .crossings
                .iter()
                .zip(&saddles.jumps)
                .map(|(c, j)| {
                    (c.expect("every plateau is left") - j.time_accelerated).abs()
                        / j.time_accelerated
                })
                .fold(0.0, f64::max);
            worst.push(err);
            steps.push(run.stats.steps + run.stats.rejected_steps);
        }
        eprintln!("seed {seed}: worst jump-time errors at 1e-16, 1e-64, 1e-300: {worst:?}; steps {steps:?}");
        assert!(worst[1] < 0.02 && worst[1] <= 0.5 * worst[0], "{worst:?}");
        assert!(worst[2] < worst[1]);
        assert!(steps[2] < 3 * steps[0], "{steps:?}");
    }
}

/// Depth 3 and 4 from `u^1 = 0`, `u^j = alpha`: the flow (in z, plateaus skipped; checked
/// against the plain layer ODE in tests/deep_small_init.rs), its time rescaled by `alpha^(L-2) / w_L`, crosses the
/// plateau levels at the two-layer algorithm's jump times (the reference, itself checked
/// against the brute-force search above), with an error that falls like
/// `alpha^(L-2)`: measured 1.95e-3 at L = 3, alpha = 1e-3 (order 1.00) and 1.97e-4 at
/// L = 4, alpha = 1e-2 (order 2.02).
#[test]
fn deep_staircases_approach_the_algorithm_like_alpha_to_the_l_minus_2() {
    use ddln::saddles::simulate_deep_jumps;
    let (n, d, k) = (10, 20, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 7).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let saddles = saddle_to_saddle(&problem, &SaddleSettings::default()).unwrap();
    for (depth, alphas, worst_allowed) in [(3, [0.01, 0.001], 5e-3), (4, [0.1, 0.01], 5e-4)] {
        let errs: Vec<f64> = alphas
            .iter()
            .map(|&alpha| {
                let r = simulate_deep_jumps(
                    &problem,
                    &saddles,
                    depth,
                    -f64::ln(alpha),
                    &FlowSettings::default(),
                )
                .unwrap();
                assert!(
                    r.jump_times.iter().all(|t| t.is_some()),
                    "L={depth}: a jump was missed"
                );
                r.worst_error
            })
            .collect();
        let order = (errs[0] / errs[1]).log10() / (alphas[0] / alphas[1]).log10();
        eprintln!("L={depth}: worst errors {errs:?}, order {order:.3}");
        assert!(errs[1] < worst_allowed, "L={depth}: {errs:?}");
        let expected = (depth - 2) as f64;
        assert!((order - expected).abs() < 0.3, "L={depth}: order {order}");
    }
}
