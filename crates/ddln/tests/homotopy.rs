//! Weighted basis pursuit by the homotopy against the interior-point LP (Clarabel, the
//! homotopy switched off): the same objective and support on random problems (sparse
//! and dense solutions, symmetric and asymmetric weights), the LP fallback on degenerate
//! ones (duplicate columns), and the certificate.

use ddln::mirror::{min_l1, weighted_l1, Interpolator, LpSettings};
use ddln::recipes::{gaussian_data, sparse_recovery};
use ddln::{Loss, Problem};

fn lp_only() -> LpSettings {
    LpSettings {
        homotopy: false,
        ..LpSettings::default()
    }
}

fn support(theta: &[f64]) -> Vec<usize> {
    let big = theta.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    (0..theta.len())
        .filter(|&i| theta[i].abs() > 1e-6 * big)
        .collect()
}

fn agree(h: &Interpolator, lp: &Interpolator, what: &str) {
    let rel = (h.objective - lp.objective).abs() / lp.objective;
    assert!(
        rel < 1e-7,
        "{what}: objective {} vs LP {} ({rel:.1e})",
        h.objective,
        lp.objective
    );
    assert_eq!(support(&h.theta), support(&lp.theta), "{what}");
    let cert = h.certificate.expect("a certificate");
    assert!(
        cert.dual_violation <= 1e-9 && cert.duality_gap <= 1e-9,
        "{what}: {cert:?}"
    );
}

#[test]
fn homotopy_matches_the_lp() {
    for seed in 0..6u64 {
        let (n, d, k) = (30, 90, 4);
        let (x, y, _) = sparse_recovery(n, d, k, seed).unwrap();
        let p = Problem::new(x, n, d, y, Loss::Square).unwrap();
        let h = min_l1(&p, &LpSettings::default()).unwrap();
        assert_eq!(h.certificate.unwrap().method, "homotopy", "seed {seed}");
        agree(
            &h,
            &min_l1(&p, &lp_only()).unwrap(),
            &format!("sparse seed {seed}"),
        );
        // Dense solutions (y not sparse in X): the support grows to n.
        let (x, y) = gaussian_data(15, 40, seed);
        let p = Problem::new(x, 15, 40, y, Loss::Square).unwrap();
        let h = min_l1(&p, &LpSettings::default()).unwrap();
        agree(
            &h,
            &min_l1(&p, &lp_only()).unwrap(),
            &format!("dense seed {seed}"),
        );
        // Asymmetric weights in [0.5, 2.5].
        let wp: Vec<f64> = (0..40)
            .map(|i| 0.5 + ((i * 7 + seed as usize) % 11) as f64 / 5.0)
            .collect();
        let wm: Vec<f64> = (0..40)
            .map(|i| 0.5 + ((i * 3 + 2 * seed as usize) % 13) as f64 / 6.0)
            .collect();
        let h = weighted_l1(&p, &wp, &wm, &LpSettings::default()).unwrap();
        agree(
            &h,
            &weighted_l1(&p, &wp, &wm, &lp_only()).unwrap(),
            &format!("weighted seed {seed}"),
        );
    }
}

#[test]
fn degenerate_problems_fall_back_to_the_lp() {
    let (n, d) = (8, 20);
    let (mut x, y, _) = sparse_recovery(n, d, 2, 3).unwrap();
    // Duplicate every column of the support: the minimizer is not unique.
    for j in 0..d / 2 {
        for r in 0..n {
            x[r * d + d / 2 + j] = x[r * d + j];
        }
    }
    let p = Problem::new(x, n, d, y, Loss::Square).unwrap();
    let got = min_l1(&p, &LpSettings::default()).unwrap();
    let lp = min_l1(&p, &lp_only()).unwrap();
    let rel = (got.objective - lp.objective).abs() / lp.objective;
    assert!(rel < 1e-7, "{} vs {}", got.objective, lp.objective);
    let cert = got.certificate.unwrap();
    assert!(
        cert.dual_violation <= 1e-6 && cert.duality_gap <= 1e-6,
        "{cert:?}"
    );
}
