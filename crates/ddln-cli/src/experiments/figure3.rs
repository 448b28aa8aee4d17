//! Figure 3 of the paper: L = 4, X 10 x 5 and y random, random init; the nodes
//! u_1^j(t) of the first coordinate: only the layer with minimal |u_1^j(0)| changes sign.

use std::path::Path;

use anyhow::{bail, Result};
use ddln::recipes::{gaussian_data, InitRecipe};
use ddln::{train, FlowSettings, Loss, Method, Model, Problem, RateCheck};
use serde_json::json;

use super::{Claim, Experiment, Options, Outcome};
use crate::report::nodes_chart;
use crate::{io, plot};

/// The experiment.
pub struct Figure3;

const N: usize = 10;
const D: usize = 5;
const DEPTH: usize = 4;
const DATA_SEED: u64 = 3;
const FIRST_INIT_SEED: u64 = 1;

impl Experiment for Figure3 {
    fn name(&self) -> &'static str {
        "figure3"
    }

    fn run(&self, dir: &Path, options: Options) -> Result<Outcome> {
        let (x, y) = gaussian_data(N, D, DATA_SEED);
        let problem = Problem::new(x.clone(), N, D, y.clone(), Loss::Square)?;
        let settings = FlowSettings {
            t_end: if options.quick { 6.0 } else { 12.0 },
            n_record: if options.quick { 121 } else { 601 },
            rtol: 1e-10,
            atol: 1e-12,
            dynamics: ddln::Dynamics::Layers,
            ..FlowSettings::default()
        };
        // The paper shows a coordinate whose minimal layer crosses zero; take the first
        // init seed (from FIRST_INIT_SEED) for which coordinate 1 does, and report it.
        for seed in FIRST_INIT_SEED..FIRST_INIT_SEED + 200 {
            let recipe = InitRecipe {
                depth: DEPTH,
                scale: 1.0,
                zero_first: false,
                seed,
                ..InitRecipe::default()
            };
            let init = recipe.draw(D)?;
            let report = train(
                &problem,
                Model::deep(DEPTH),
                &init,
                &Method::Flow(settings.clone()),
                &RateCheck::default(),
                &mut (),
            )?;
            let (Some(signs), Some(a), Some(conservation)) = (
                report.diagnostics.sign_changes.clone(),
                report.diagnostics.assumption_a.clone(),
                report.diagnostics.conservation.clone(),
            ) else {
                bail!("the deep model's run has no Proposition-1 diagnostics");
            };
            if signs.crossed[0].is_empty() || !a.holds {
                continue;
            }
            io::ensure_dir(dir)?;
            let traj = &report.run.trajectory;
            let chart = nodes_chart(
                &traj.t,
                &traj.states,
                DEPTH,
                D,
                0,
                &report,
                "Figure 3: nodes u_1^j(t), L = 4, X 10 x 5",
            );
            plot::save(&chart, &dir.join("figure3"))?;
            io::write_npz(
                &dir.join("figure3.npz"),
                &[
                    ("t", &traj.t, vec![traj.len()]),
                    ("layers", &traj.states, vec![traj.len(), DEPTH, D]),
                    ("X", &x, vec![N, D]),
                    ("y", &y, vec![N]),
                    ("init", &init, vec![DEPTH, D]),
                ],
            )?;
            let minimal = a.minimal_layer[0];
            let only_minimal = signs.crossed[0] == vec![minimal];
            let claims = vec![
                Claim {
                    statement: "Proposition 1.2: in coordinate 1 only the layer with minimal |u_1^j(0)| changes sign".into(),
                    holds: only_minimal,
                    evidence: format!(
                        "|u_1^j(0)| = {:?}; layers that crossed zero: {:?} (1-based: layer {})",
                        (0..DEPTH).map(|j| init[j * D].abs()).collect::<Vec<_>>(),
                        signs.crossed[0].iter().map(|j| j + 1).collect::<Vec<_>>(),
                        minimal + 1
                    ),
                },
                Claim {
                    statement: "Proposition 1.2 in every coordinate: every layer that crossed zero was the minimal one".into(),
                    holds: signs.agrees_with_proposition,
                    evidence: format!("crossings per coordinate (0-based layers): {:?}", signs.crossed),
                },
                Claim {
                    statement: "Proposition 1.1: u^j(t)^2 - u^j(0)^2 is the same for every layer".into(),
                    holds: conservation.max_rel_residual < 1e-8,
                    evidence: format!(
                        "max residual {:.3e} (relative {:.3e}) over {} accepted steps at rtol {:e}",
                        conservation.max_abs_residual, conservation.max_rel_residual, conservation.states_checked, settings.rtol
                    ),
                },
            ];
            return Ok(Outcome {
                name: self.name().into(),
                title: "Figure 3: only the minimal layer of a coordinate changes sign".into(),
                claims,
                files: vec![
                    "figure3/figure3.png".into(),
                    "figure3/figure3.svg".into(),
                    "figure3/figure3.npz".into(),
                ],
                details: json!({
                    "n": N, "d": D, "depth": DEPTH, "data_seed": DATA_SEED, "init_seed": seed,
                    "init_recipe": recipe, "flow": settings, "status": report.run.status,
                    "final_loss": report.run.final_loss, "grad_evals": report.run.stats.grad_evals,
                }),
            });
        }
        bail!(
            "no init seed in {FIRST_INIT_SEED}..{} made coordinate 1 change sign",
            FIRST_INIT_SEED + 200
        )
    }
}
