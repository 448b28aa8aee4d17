//! Proposition 1 watched at every accepted step: `u^j(t)^2 - u^j(0)^2` is the same for
//! every layer `j` (claim 1), and only the minimal layer of a coordinate can reach zero
//! (claim 2).

use serde::Serialize;

use crate::observe::{Control, Observer, StepView};

/// How well `u^j(t)^2 - u^j(0)^2` agreed across layers along the run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConservationReport {
    /// `max_{t, i, j, k} |(u_i^j(t)^2 - u_i^j(0)^2) - (u_i^k(t)^2 - u_i^k(0)^2)|`.
    pub max_abs_residual: f64,
    /// The layers' scale `max_{t, i, j} u_i^j(t)^2` used for the relative residual.
    pub scale: f64,
    /// `max_abs_residual / scale`.
    pub max_rel_residual: f64,
    /// Number of states checked (every accepted step).
    pub states_checked: u64,
}

/// Which layers crossed zero in each coordinate, against Proposition 1.2.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignReport {
    /// For each coordinate, the layers (0-based) whose sign became opposite to their
    /// initial sign, or that reached exactly zero from a non-zero start.
    pub crossed: Vec<Vec<usize>>,
    /// `(coordinate, layer)` pairs that crossed without being a minimal layer at init.
    pub violations: Vec<(usize, usize)>,
    /// `true` when every crossing layer was a minimal layer at init (Proposition 1.2).
    pub agrees_with_proposition: bool,
}

/// Observer that checks Proposition 1 at every accepted step of a deep-model run.
#[derive(Debug, Clone)]
pub struct LayerWatch {
    depth: usize,
    d: usize,
    init_sq: Vec<f64>,
    init_sign: Vec<f64>,
    crossed: Vec<bool>,
    max_abs: f64,
    scale: f64,
    states: u64,
}

impl LayerWatch {
    /// Watches a run of the deep model with this init (`depth x d`, row-major).
    pub fn new(init: &[f64], depth: usize, d: usize) -> Self {
        LayerWatch {
            depth,
            d,
            init_sq: init.iter().map(|u| u * u).collect(),
            init_sign: init.iter().map(|u| sign(*u)).collect(),
            crossed: vec![false; init.len()],
            max_abs: 0.0,
            scale: init.iter().map(|u| u * u).fold(0.0, f64::max),
            states: 0,
        }
    }

    /// Looks at one state.
    pub fn check(&mut self, state: &[f64]) {
        let d = self.d;
        for i in 0..d {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for j in 0..self.depth {
                let k = j * d + i;
                let u = state[k];
                let sq = u * u;
                self.scale = self.scale.max(sq);
                let change = sq - self.init_sq[k];
                lo = lo.min(change);
                hi = hi.max(change);
                let s0 = self.init_sign[k];
                if s0 != 0.0 && sign(u) != s0 {
                    self.crossed[k] = true;
                }
            }
            self.max_abs = self.max_abs.max(hi - lo);
        }
        self.states += 1;
    }

    /// The conservation residual seen so far.
    pub fn conservation(&self) -> ConservationReport {
        ConservationReport {
            max_abs_residual: self.max_abs,
            scale: self.scale,
            max_rel_residual: if self.scale > 0.0 {
                self.max_abs / self.scale
            } else {
                self.max_abs
            },
            states_checked: self.states,
        }
    }

    /// The sign crossings seen so far, against the minimal layers of the init.
    pub fn signs(&self, minimal_layer: &[usize], init: &[f64]) -> SignReport {
        let d = self.d;
        let mut crossed = vec![Vec::new(); d];
        let mut violations = Vec::new();
        for i in 0..d {
            let min_abs = init[minimal_layer[i] * d + i].abs();
            for j in 0..self.depth {
                if self.crossed[j * d + i] {
                    crossed[i].push(j);
                    if init[j * d + i].abs() != min_abs {
                        violations.push((i, j));
                    }
                }
            }
        }
        SignReport {
            agrees_with_proposition: violations.is_empty(),
            crossed,
            violations,
        }
    }
}

impl Observer for LayerWatch {
    fn observe(&mut self, view: &StepView) -> Control {
        self.check(view.state);
        Control::Continue
    }
}

fn sign(u: f64) -> f64 {
    if u > 0.0 {
        1.0
    } else if u < 0.0 {
        -1.0
    } else {
        0.0
    }
}
