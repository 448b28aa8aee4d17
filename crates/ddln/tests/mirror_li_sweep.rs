//! Li et al. conditions (reference: the paper's appendix A.4 argument — commutator
//! identically 0; J_G has full rank d iff no coordinate has two zero layers) and the
//! rich-to-kernel sweep (reference: the min-L1 / min-L2 baselines and the known regimes).

use ddln::mirror::{
    li_conditions, rich_to_kernel_sweep, LpSettings, PredictSettings, PredictStatus,
};
use ddln::recipes::{sparse_recovery, InitRecipe, InitShape};
use ddln::{Loss, Problem};

#[test]
fn commuting_everywhere_regular_iff_at_most_one_zero_layer() {
    let (depth, d) = (4, 5);
    for seed in 0..5u64 {
        let w = InitRecipe {
            depth,
            scale: 1.0,
            seed,
            ..InitRecipe::default()
        }
        .draw(d)
        .unwrap();
        let r = li_conditions(&w, depth, d, 1e-12).unwrap();
        assert_eq!(r.commutator, 0.0);
        assert!(r.regular, "random point: rank {}", r.rank);
        // One zero layer per coordinate (a different layer each): still regular.
        let mut one = w.clone();
        for i in 0..d {
            one[(i % depth) * d + i] = 0.0;
        }
        let r1 = li_conditions(&one, depth, d, 1e-12).unwrap();
        assert!(r1.regular && r1.commutator == 0.0);
        // Two zero layers in coordinate 2: rank d - 1.
        let mut two = one.clone();
        two[((2 + 1) % depth) * d + 2] = 0.0;
        let r2 = li_conditions(&two, depth, d, 1e-12).unwrap();
        assert_eq!(r2.zero_layers[2], 2);
        assert_eq!(r2.rank, d - 1);
        assert!(!r2.regular && r2.commutator == 0.0);
        if seed == 0 {
            println!("random: sigma_min {:.3e}; one zero per coordinate: sigma_min {:.3e}; two zeros: sigma_min {:.1e}, rank {}",
                r.singular_values[d - 1], r1.singular_values[d - 1], r2.singular_values[d - 1], r2.rank);
        }
    }
}

#[test]
fn sweep_goes_from_l1_to_l2() {
    let (n, d) = (10, 25);
    let (x, y, _) = sparse_recovery(n, d, 3, 21).unwrap();
    let problem = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let shape = InitRecipe {
        depth: 2,
        scale: 1.0,
        zero_first: true,
        shape: InitShape::Constant,
        seed: 0,
    };
    let scales = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];
    let sweep = rich_to_kernel_sweep(
        &problem,
        &shape,
        &[2, 3, 4],
        &scales,
        &PredictSettings::default(),
        &LpSettings::default(),
    )
    .unwrap();
    for p in &sweep.points {
        println!(
            "L={} alpha={:e}: |theta - L1| = {:.3e}, |theta - L2| = {:.3e} ({:?}, {} its)",
            p.depth, p.scale, p.dist_l1, p.dist_l2, p.status, p.iterations
        );
        assert_eq!(p.status, PredictStatus::Converged);
    }
    for depth in [2usize, 3, 4] {
        let pts: Vec<_> = sweep.points.iter().filter(|p| p.depth == depth).collect();
        let (small, large) = (pts.first().unwrap(), pts.last().unwrap());
        assert!(
            small.dist_l1 < small.dist_l2,
            "L={depth}: small init not closer to L1"
        );
        assert!(
            large.dist_l2 < large.dist_l1,
            "L={depth}: large init not closer to L2"
        );
    }
}
