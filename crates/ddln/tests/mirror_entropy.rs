//! The entropy Q, its gradient F ∘ phi^{-1}, its Hessian 1/M and the map Psi, against
//! independent references: F against mpmath quadrature at 40 digits (values below were
//! computed by `mpmath.quad` with breakpoints at 0, ±sqrt(D_j), ±10 sqrt(D_j),
//! ±100 sqrt(D_j)), grad Q and Q'' against central finite differences, M against the
//! layer metric `Model::metric_diagonal` (paper eq. 12).

#![allow(clippy::needless_range_loop)] // index loops read clearer in numeric tests

use ddln::recipes::{InitRecipe, InitShape};
use ddln::{DdlnError, Entropy, Model};

/// One coordinate (d = 1): the layers of the init, in layer order.
fn entropy_of(layers: &[f64]) -> Entropy {
    Entropy::new(layers, layers.len(), 1).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs()
    }
}

#[test]
#[allow(clippy::excessive_precision)] // the mpmath digits are kept as printed
fn f_matches_mpmath_references() {
    let inf = f64::INFINITY;
    #[allow(clippy::type_complexity)]
    let cases: &[(&[f64], &[(f64, f64)])] = &[
        (
            &[0.3, 0.9, -1.5],
            &[
                (1.7, -0.632_537_014_143_757_905_678_044_3),
                (-2.5, 1.241_488_270_045_220_734_364_166),
                (1e8, -1.146_300_851_606_902_834_035_049),
                (inf, -1.146_300_861_606_902_834_035_048),
                (-inf, 1.614_762_755_454_087_402_303_7),
            ],
        ),
        (
            // scale 1e-3 with a zero first layer: gaps ~1e-6
            &[0.0, 1e-3, -2e-3, 3e-3],
            &[
                (0.5, -279_327.021_631_457_503_169_497_4),
                (-1e-3, 139_664.510_801_729_012_912_306_2),
                (1e6, -279_329.021_603_458_025_324_612_3),
                (2e-9, -0.333_333_333_333_030_864_141_380_2),
                (inf, -279_329.021_603_458_025_824_612_3),
                (-inf, 279_329.021_603_458_025_824_612_3),
            ],
        ),
        (
            // a near tie (gap 4e-8) and v next to v0
            &[-0.2, 0.25, -0.6, 1.1, -2.3, 0.200_000_1],
            &[
                (0.7, 71.072_738_513_738_844_934_097_67),
                (-0.200_000_000_1, -1.317_522_140_628_498_552_861_012e-9),
                (-3.0, -2.018_032_760_159_938_603_302_294),
                (1e3, 71.285_358_360_443_414_291_570_88),
                (inf, 71.285_358_360_443_664_291_007_34),
                (-inf, -2.020_526_886_274_981_353_580_151),
            ],
        ),
        (
            // L = 10 at scale 1e-3: F of order 1e23
            &[
                1e-3, -1.2e-3, 1.5e-3, 0.8e-3, 2e-3, -1.1e-3, 3e-3, 1.3e-3, 0.9e-3, -2.5e-3,
            ],
            &[
                (0.05, -7_082_583_867_580_877_272_833.534),
                (-1e-4, 175_798_148_043_550_954_650_167.1),
                (10.0, -7_082_583_867_584_066_095_543.575),
                (inf, -7_082_583_867_584_066_095_543.575),
                (-inf, 286_967_338_881_825_499_673_220.3),
            ],
        ),
    ];
    let mut worst = 0.0f64;
    for (layers, points) in cases {
        let e = entropy_of(layers);
        for &(v, reference) in points.iter() {
            let got = e.f(0, v);
            let r = rel(got, reference);
            println!(
                "L={} v={v:e}: F = {got:.17e}, mpmath {reference:.17e}, rel {r:.1e}",
                layers.len()
            );
            worst = worst.max(r);
            assert!(
                r < 1e-13,
                "F({v}) = {got}, mpmath {reference}, rel err {r:e}"
            );
        }
        let (lo, hi) = e.limits(0);
        assert!(rel(lo, points.iter().find(|p| p.0 == -inf).unwrap().1) < 1e-13);
        assert!(rel(hi, points.iter().find(|p| p.0 == inf).unwrap().1) < 1e-13);
        println!(
            "quadrature error estimate {:.1e}",
            e.quadrature_error_estimate()
        );
    }
    println!("worst relative error of F against mpmath: {worst:.2e}");
}

fn random_init(depth: usize, d: usize, seed: u64, scale: f64, zero_first: bool) -> Vec<f64> {
    InitRecipe {
        depth,
        scale,
        zero_first,
        shape: InitShape::Gaussian,
        seed,
    }
    .draw(d)
    .unwrap()
}

/// `(4 D(h/2) - D(h)) / 3` with `D(h)` the central difference quotient.
fn richardson(f: impl Fn(f64) -> f64, t: f64, h: f64) -> f64 {
    let central = |h: f64| (f(t + h) - f(t - h)) / (2.0 * h);
    (4.0 * central(0.5 * h) - central(h)) / 3.0
}

#[test]
fn gradient_and_hessian_match_finite_differences() {
    let d = 6;
    let mut worst_grad = 0.0f64;
    let mut worst_hess = 0.0f64;
    let mut worst_metric = 0.0f64;
    for &depth in &[2usize, 3, 4, 6, 10] {
        for seed in 0..3u64 {
            let init = random_init(depth, d, 100 + seed, 0.8, seed == 1);
            let e = Entropy::new(&init, depth, d).unwrap();
            // Points: theta(0) scaled, and a few O(1) values of both signs.
            let mut theta0 = vec![0.0; d];
            Model::deep(depth).theta(&init, &mut theta0);
            let points: Vec<f64> = (0..d)
                .map(|i| [0.7, -1.3, 2.1, -0.05, 0.4, -3.0][i] + 0.5 * theta0[i])
                .collect();
            // Layer metric at the reconstructed layers (paper eq. 12), independent of M's formula.
            let v: Vec<f64> = (0..d).map(|i| e.reduced().phi_inv(i, points[i])).collect();
            let mut layers = vec![0.0; depth * d];
            e.reduced().layers(&v, &mut layers);
            let mut metric = vec![0.0; d];
            Model::deep(depth).metric_diagonal(&layers, &mut metric);
            let mut back = vec![0.0; d];
            Model::deep(depth).theta(&layers, &mut back);
            for i in 0..d {
                let t = points[i];
                assert!(
                    rel(back[i], t) < 1e-14,
                    "phi_inv round trip {} vs {t}",
                    back[i]
                );
                // Central differences with one Richardson step (error O(h^4)).
                let h = 1e-3 * t.abs().max(0.1);
                let fd_grad = richardson(|x| e.value_i(i, x), t, h);
                let g = e.gradient_i(i, t);
                let scale_q = e.value_i(i, t).abs().max(g.abs() * t.abs()) / t.abs().max(0.1);
                let rg = (fd_grad - g).abs() / g.abs().max(1e-3 * scale_q);
                let fd_hess = richardson(|x| e.gradient_i(i, x), t, h);
                let q2 = e.hessian_i(i, t);
                let rh = rel(fd_hess, q2);
                let rm = rel(1.0 / metric[i], q2);
                worst_grad = worst_grad.max(rg);
                worst_hess = worst_hess.max(rh);
                worst_metric = worst_metric.max(rm);
                assert!(rg < 1e-6, "L={depth} i={i}: FD grad {fd_grad} vs {g}");
                assert!(rh < 1e-6, "L={depth} i={i}: FD hess {fd_hess} vs {q2}");
                assert!(
                    rm < 1e-12,
                    "L={depth} i={i}: 1/M(layers) {} vs {q2}",
                    1.0 / metric[i]
                );
            }
        }
    }
    println!("FD grad Q: worst rel {worst_grad:.1e}; FD Q'' vs 1/M: {worst_hess:.1e}; 1/M vs layer metric: {worst_metric:.1e}");
}

#[test]
fn psi_inverts_the_gradient_inside_the_box() {
    for &depth in &[2usize, 3, 5, 8] {
        let d = 5;
        let init = random_init(depth, d, 7, 0.05, false);
        let e = Entropy::new(&init, depth, d).unwrap();
        let bx = e.dual_box();
        for i in 0..d {
            for &frac in &[-0.999, -0.5, -1e-6, 0.0, 1e-9, 0.3, 0.9999] {
                let xi = if depth == 2 {
                    40.0 * frac
                } else if frac < 0.0 {
                    -frac * bx[i].0
                } else {
                    frac * bx[i].1
                };
                let (theta, m) = e.psi_i(i, xi);
                assert!(theta.is_finite() && m > 0.0);
                let back = e.gradient_i(i, theta);
                let err = (back - xi).abs() / (xi.abs().max(1e-300));
                assert!(
                    err < 1e-11 || (back - xi).abs() < 1e-13 * bx[i].1.abs().min(1e300),
                    "L={depth} i={i} xi={xi} back={back}"
                );
            }
            if depth >= 3 {
                assert!(e.psi_i(i, bx[i].1 * 1.0001).0.is_nan());
                assert!(e.psi_i(i, bx[i].0 * 1.0001).0.is_nan());
            }
        }
    }
}

#[test]
fn violating_assumption_a_names_the_coordinates() {
    // Coordinates 1 and 3 have two layers of equal minimal magnitude.
    let init = vec![
        0.1, 0.5, 0.3, -0.2, //
        0.4, -0.5, 0.6, 0.2, //
        0.9, 0.7, 0.1, 0.8,
    ];
    match Entropy::new(&init, 3, 4) {
        Err(DdlnError::AssumptionA { coordinates }) => assert_eq!(coordinates, vec![1, 3]),
        other => panic!("expected AssumptionA, got {other:?}"),
    }
}

/// `Psi` from the distance to a box edge, for the depth-4 init `u^1 = 0`,
/// `u^2 = u^3 = u^4 = alpha`, against its closed form (`F(v) = v / (alpha^2 sqrt(v^2 +
/// alpha^2))`, so at `xi = edge - g`, `s = alpha^2 xi = 1 - alpha^2 g`):
/// `theta = (1 - alpha^2 g) / (g^2 (2 - alpha^2 g)^2)`,
/// `Psi' = (1 + 3 s^2) / (g^3 (2 - alpha^2 g)^3)`; at alpha = 1e-10 the point is 20 digits
/// below the edge's ulp. Both ends (theta is odd in xi), to 1e-13.
#[test]
fn psi_from_the_edge_matches_the_depth_four_closed_form() {
    for alpha in [0.5f64, 1e-3, 1e-10, 1e-60] {
        let init = [0.0, alpha, alpha, alpha];
        let entropy = ddln::mirror::Entropy::new(&init, 4, 1).unwrap();
        let a2 = alpha * alpha;
        let (lo, hi) = entropy.dual_box()[0];
        assert!((hi - 1.0 / a2).abs() <= 1e-14 * hi && (lo + hi).abs() <= 1e-14 * hi);
        for g in [0.3 * hi, 1e-3 * hi, 1.0, 1e-5, 1e30 * a2.min(1.0)] {
            if !(g > 0.0 && g < hi) {
                continue;
            }
            let s = 1.0 - a2 * g;
            let q = 2.0 - a2 * g;
            let theta = s / (g * g * q * q);
            let slope = (1.0 + 3.0 * s * s) / (g * g * g * q * q * q);
            for (upper, sign) in [(true, 1.0), (false, -1.0)] {
                let (t, m) = entropy.psi_edge_i(0, upper, g);
                assert!(
                    (t - sign * theta).abs() <= 1e-13 * theta,
                    "alpha {alpha} g {g}: {t} vs {}",
                    sign * theta
                );
                assert!(
                    (m - slope).abs() <= 1e-13 * slope,
                    "alpha {alpha} g {g}: {m} vs {slope}"
                );
            }
        }
    }
}
