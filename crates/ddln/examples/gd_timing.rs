//! Times a 1000-step gradient descent on a 10 x 8 problem through `ddln::train`, the
//! call the Python binding makes; `bench/python_overhead.py` runs the same problem from
//! Python and prints the ratio.
//!
//! ```text
//! cargo run --release -p ddln --example gd_timing -- [repeats]
//! ```
//! Prints `median_us=<µs per run> final_loss=<f64 bits, hex> final_theta=<bits,bits,...>`.

use std::time::Instant;

use ddln::recipes::{gaussian_data, InitRecipe};
use ddln::{train, DescentSettings, Loss, Method, Model, Problem, RateCheck};

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("repeats must be a positive integer"))
        .unwrap_or(2000);
    let (n, d) = (10, 8);
    let (x, y) = gaussian_data(n, d, 0);
    let init = InitRecipe {
        depth: 4,
        scale: 0.5,
        zero_first: true,
        seed: 1,
        ..InitRecipe::default()
    }
    .draw(d)
    .expect("valid recipe");
    let method = Method::Descent(DescentSettings {
        lr: 1e-3,
        steps: 1000,
        record_every: 10,
        ..DescentSettings::default()
    });
    let check = RateCheck::default();
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats {
        let start = Instant::now();
        // Built inside the loop, as the binding does on every call.
        let problem = Problem::new(x.clone(), n, d, y.clone(), Loss::Square).expect("valid");
        let report = train(&problem, Model::deep(4), &init, &method, &check, &mut ())
            .expect("valid settings");
        times.push(start.elapsed().as_secs_f64());
        last = Some(report);
    }
    times.sort_by(f64::total_cmp);
    let report = last.expect("at least one repeat");
    let theta_bits: Vec<String> = report
        .run
        .final_theta
        .iter()
        .map(|v| format!("{:016x}", v.to_bits()))
        .collect();
    println!(
        "median_us={:.3} final_loss={:016x} final_theta={}",
        1e6 * times[times.len() / 2],
        report.run.final_loss.to_bits(),
        theta_bits.join(",")
    );
}
