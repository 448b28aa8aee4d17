//! The predictor at inits far below what f64 resolves next to the dual box edge: the
//! dual variable sits within `alpha^{L-2}` (relative) of its edge, and the predictor
//! carries that distance itself. References: the residual `||X theta - y||` recomputed
//! here from X, theta and y, and the small-init limit (Woodworth et al., Azulay et al.:
//! as alpha -> 0 the limit of the depth-L network from this init is the minimum-L1
//! interpolator), solved by the interior-point LP (Clarabel), not by the predictor.
//! (The Python tests compare depth 4 at alpha down to 1e-30 with a 130-digit Newton.)

use ddln::mirror::{min_l1, predict, LpSettings, PredictSettings, PredictStatus};
use ddln::recipes::{sparse_recovery, InitRecipe, InitShape};
use ddln::vector::{distance, norm};
use ddln::{Loss, Problem};

#[test]
fn tiny_inits_converge_to_the_small_init_limit() {
    let (n, d, k) = (15, 40, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 0).unwrap();
    let problem = Problem::new(x.clone(), n, d, y.clone(), Loss::Square).unwrap();
    let settings = PredictSettings::default();
    let lp = LpSettings {
        homotopy: false,
        tol: 1e-13,
        ..LpSettings::default()
    };
    let l1 = min_l1(&problem, &lp).unwrap().theta;
    let y_norm = norm(&y);
    for (depth, scale) in [
        (4, 1e-7),
        (4, 1e-8),
        (6, 1e-4),
        (6, 1e-6),
        (3, 1e-8),
        (5, 1e-20),
    ] {
        let init = InitRecipe {
            depth,
            scale,
            zero_first: true,
            shape: InitShape::Constant,
            seed: 0,
        }
        .draw(d)
        .unwrap();
        let pred = predict(&problem, &init, depth, &settings).unwrap();
        assert_eq!(
            pred.status,
            PredictStatus::Converged,
            "L={depth} alpha={scale}: {}",
            pred.message
        );
        let residual = x
            .chunks(d)
            .zip(&y)
            .map(|(row, yi)| (ddln::vector::dot(row, &pred.theta) - yi).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            residual <= 1e-9 * y_norm,
            "L={depth} alpha={scale}: residual {residual:e}"
        );
        let gap = distance(&pred.theta, &l1) / norm(&l1);
        eprintln!(
            "L={depth} alpha={scale:e}: {} iterations, {gap:e} from min-L1",
            pred.iterations
        );
        // Measured ~9e-12 (the LP's own accuracy at tol 1e-13); the alpha -> 0 gap is far below.
        assert!(gap <= 1e-9, "L={depth} alpha={scale}: {gap:e} from min-L1");
    }
}

/// Where even the edge distance cannot help (depth 4 at alpha = 1e-100: theta(0) and
/// Psi' are of order alpha^4 = 1e-400, below f64), the status says so; theta is not
/// passed off as the limit.
#[test]
fn inits_below_f64_are_precision_limited() {
    let (n, d, k) = (15, 40, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 0).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let init = InitRecipe {
        depth: 4,
        scale: 1e-100,
        zero_first: true,
        shape: InitShape::Constant,
        seed: 0,
    }
    .draw(d)
    .unwrap();
    let pred = predict(&problem, &init, 4, &PredictSettings::default()).unwrap();
    assert_eq!(
        pred.status,
        PredictStatus::PrecisionLimited,
        "{}",
        pred.message
    );
    assert!(
        pred.message.contains("f64 cannot resolve"),
        "{}",
        pred.message
    );
}
