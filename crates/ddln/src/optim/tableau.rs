//! Explicit embedded Runge-Kutta methods as data (Butcher tableaux).
//!
//! Add a method by adding a constructor here and a variant to [`RkMethod`]; the
//! integrator in `rk.rs` runs any tableau.

use serde::{Deserialize, Serialize};

/// An explicit embedded Runge-Kutta pair.
#[derive(Debug, Clone)]
pub struct Tableau {
    /// Name for summaries.
    pub name: &'static str,
    /// Nodes `c_i`.
    pub c: Vec<f64>,
    /// Strictly lower-triangular coefficients: `a[i]` has `i` entries.
    pub a: Vec<Vec<f64>>,
    /// Weights of the propagated solution.
    pub b: Vec<f64>,
    /// `b - b_hat`: weights of the local error estimate.
    pub e: Vec<f64>,
    /// Order of the propagated solution.
    pub order: u32,
    /// Order of the embedded (error-estimating) solution.
    pub embedded_order: u32,
    /// First-same-as-last: the last stage is the derivative at the new point.
    pub fsal: bool,
    /// `|h lambda|` beyond which a step is stability-bound (the extent of the stability
    /// region along the negative real axis), for stiffness detection; `None` to never
    /// detect. Needs an FSAL pair whose last two stages are both at `c = 1`.
    pub stability_bound: Option<f64>,
}

impl Tableau {
    /// Dormand & Prince (1980) 5(4), FSAL, 7 stages (6 new evaluations per step).
    pub fn dormand_prince_54() -> Self {
        let b = vec![
            35.0 / 384.0,
            0.0,
            500.0 / 1113.0,
            125.0 / 192.0,
            -2187.0 / 6784.0,
            11.0 / 84.0,
            0.0,
        ];
        let b_hat = [
            5179.0 / 57600.0,
            0.0,
            7571.0 / 16695.0,
            393.0 / 640.0,
            -92097.0 / 339200.0,
            187.0 / 2100.0,
            1.0 / 40.0,
        ];
        Tableau {
            name: "Dormand-Prince 5(4)",
            c: vec![0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0],
            a: vec![
                vec![],
                vec![0.2],
                vec![3.0 / 40.0, 9.0 / 40.0],
                vec![44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
                vec![
                    19372.0 / 6561.0,
                    -25360.0 / 2187.0,
                    64448.0 / 6561.0,
                    -212.0 / 729.0,
                ],
                vec![
                    9017.0 / 3168.0,
                    -355.0 / 33.0,
                    46732.0 / 5247.0,
                    49.0 / 176.0,
                    -5103.0 / 18656.0,
                ],
                b[..6].to_vec(),
            ],
            e: b.iter().zip(b_hat).map(|(x, y)| x - y).collect(),
            b,
            order: 5,
            embedded_order: 4,
            fsal: true,
            // dopri5.f's constant: the stability region reaches -3.3 on the real axis.
            stability_bound: Some(3.25),
        }
    }

    /// Bogacki & Shampine (1989) 3(2), FSAL, 4 stages: cheap at loose tolerances.
    pub fn bogacki_shampine_32() -> Self {
        let b = vec![2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0];
        let b_hat = [7.0 / 24.0, 0.25, 1.0 / 3.0, 0.125];
        Tableau {
            name: "Bogacki-Shampine 3(2)",
            c: vec![0.0, 0.5, 0.75, 1.0],
            a: vec![vec![], vec![0.5], vec![0.0, 0.75], b[..3].to_vec()],
            e: b.iter().zip(b_hat).map(|(x, y)| x - y).collect(),
            b,
            order: 3,
            embedded_order: 2,
            fsal: true,
            stability_bound: None,
        }
    }

    /// Number of stages.
    pub fn stages(&self) -> usize {
        self.c.len()
    }
}

/// The integrators offered for gradient flow (serde and CLI names in parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RkMethod {
    /// Dormand-Prince 5(4) (`dopri5`): good from rtol 1e-4 down to ~1e-13 on non-stiff
    /// problems.
    Dopri5,
    /// Bogacki-Shampine 3(2) (`bs3`): cheaper per step at loose tolerances.
    Bs3,
    /// RODAS4 (`rodas`), a stiff Rosenbrock method with the structured (Woodbury)
    /// Jacobian solve of the reduced dynamics or of the layer system.
    Rodas,
    /// `auto` (default): Dormand-Prince 5(4) with Hairer's stiffness test; once the step
    /// size is stability-bound (see [`super::rk::STIFF_STEPS`]) the run continues with
    /// RODAS4 (the run's `solver` records when and why).
    #[default]
    Auto,
}

impl RkMethod {
    /// Every variant, in declaration order (the vocabulary the frontends build their
    /// enums from).
    pub const ALL: [RkMethod; 4] = [
        RkMethod::Dopri5,
        RkMethod::Bs3,
        RkMethod::Rodas,
        RkMethod::Auto,
    ];
}

impl RkMethod {
    /// The explicit tableau of this method (`Auto`: its explicit phase, Dormand-Prince);
    /// `None` for the Rosenbrock method.
    pub fn tableau(&self) -> Option<Tableau> {
        match self {
            RkMethod::Dopri5 | RkMethod::Auto => Some(Tableau::dormand_prince_54()),
            RkMethod::Bs3 => Some(Tableau::bogacki_shampine_32()),
            RkMethod::Rodas => None,
        }
    }

    /// The name used in configs and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            RkMethod::Dopri5 => "dopri5",
            RkMethod::Bs3 => "bs3",
            RkMethod::Rodas => "rodas",
            RkMethod::Auto => "auto",
        }
    }

    /// Parses `"dopri5"`, `"bs3"`, `"rodas"` or `"auto"`.
    pub fn from_name(name: &str) -> crate::Result<Self> {
        match name {
            "dopri5" => Ok(RkMethod::Dopri5),
            "bs3" => Ok(RkMethod::Bs3),
            "rodas" => Ok(RkMethod::Rodas),
            "auto" => Ok(RkMethod::Auto),
            other => Err(crate::DdlnError::invalid(
                "integrator",
                format!("unknown method `{other}`; expected `dopri5`, `bs3`, `rodas` or `auto`"),
            )),
        }
    }
}
