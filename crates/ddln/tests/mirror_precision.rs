//! The predictor never returns a silent wrong answer at inits too small for f64: it
//! either converges (and then interpolates to `floor_rtol`) or says `PrecisionLimited`.
//! Reference: the residual `||X theta - y||` recomputed here from X, theta and y.

use ddln::mirror::{predict, PredictSettings, PredictStatus};
use ddln::recipes::{sparse_recovery, InitRecipe, InitShape};
use ddln::{Loss, Problem};

#[test]
fn tiny_inits_are_converged_or_precision_limited_never_wrong() {
    let (n, d, k) = (15, 40, 3);
    let (x, y, _) = sparse_recovery(n, d, k, 0).unwrap();
    let problem = Problem::new(x.clone(), n, d, y.clone(), Loss::Square).unwrap();
    let settings = PredictSettings::default();
    let y_norm = y.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut limited = 0;
    for (depth, scale) in [(4, 1e-7), (4, 1e-8), (6, 1e-4), (6, 1e-6), (3, 1e-8)] {
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
        let residual = x
            .chunks(d)
            .zip(&y)
            .map(|(row, yi)| {
                (row.iter().zip(&pred.theta).map(|(a, b)| a * b).sum::<f64>() - yi).powi(2)
            })
            .sum::<f64>()
            .sqrt();
        match pred.status {
            PredictStatus::Converged => assert!(
                residual <= settings.floor_rtol * y_norm * 1.01,
                "L={depth} alpha={scale}: converged with residual {residual:e}"
            ),
            PredictStatus::PrecisionLimited => {
                limited += 1;
                assert!(
                    pred.message.contains("f64 cannot resolve"),
                    "{}",
                    pred.message
                );
            }
            other => panic!(
                "L={depth} alpha={scale}: unexpected status {other:?}: {}",
                pred.message
            ),
        }
    }
    // At L = 6, alpha = 1e-6 the dual variable needs ~30 digits: it must be flagged.
    assert!(limited >= 1);
}
