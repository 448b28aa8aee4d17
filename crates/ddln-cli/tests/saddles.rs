//! `ddln saddles`: the JSON the issue specifies, times converted at a given alpha (the
//! signed model's factor 2 against the deep model's, a closed-form relation), and bad
//! inputs refused with the field named.

mod common;

use common::{ddln, tmpdir, write_f64};
use serde_json::Value;

fn json_of(args: &[&str]) -> Value {
    let out = ddln(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn jumps_as_json_with_flow_times() {
    let dir = tmpdir("saddles");
    let data = ["--n", "10", "--d", "20", "--k", "3", "--seed", "7"];
    let mut args = vec!["saddles", "--json"];
    args.extend_from_slice(&data);
    let plain = json_of(&args);
    let jumps = plain["jumps"].as_array().unwrap();
    assert!(jumps.len() >= 3);
    for key in ["time_accelerated", "theta", "loss", "active"] {
        assert!(jumps.iter().all(|j| !j[key].is_null()), "{key}");
    }
    assert_eq!(plain["status"], "Finished");
    // A simulated flow at alpha = 1e-400 (below f64) next to the algorithm.
    let mut sim = args.clone();
    sim.extend_from_slice(&["--simulate", "400"]);
    let simulated = json_of(&sim);
    let s = &simulated["simulated"][0];
    assert_eq!(s["alpha_log10"].as_f64(), Some(-400.0));
    assert!(s["worst_error"].as_f64().unwrap() < 0.01, "{s}");
    assert!(plain["alpha"].is_null());
    // Depth 4 from u^1 = 0, u^j = 1e-400 (alpha^2 = 1e-800): in tau the flow is the limit,
    // so its jump times are the algorithm's to the skip's tolerance.
    let mut deep = args.clone();
    deep.extend_from_slice(&["--simulate", "400", "--simulate-depth", "4"]);
    let deep = json_of(&deep);
    let s = &deep["simulated"][0];
    assert_eq!(s["depth"].as_u64(), Some(4));
    assert!(s["worst_error"].as_f64().unwrap() < 1e-6, "{s}");
    assert!(s["skips"].as_u64().unwrap() >= 3, "{s}");
    // The last saddle interpolates (n < d) and the losses fall jump by jump.
    let losses: Vec<f64> = jumps.iter().map(|j| j["loss"].as_f64().unwrap()).collect();
    assert!(losses.windows(2).all(|w| w[1] < w[0]) && losses[losses.len() - 1] < 1e-20);

    // The same data with the signed model u^2 - v^2 from u = v = alpha: the same
    // accelerated times, flow times t = t~ log(1/alpha) / 2 (u ⊙ v: / 1).
    let config = dir.join("signed.toml");
    std::fs::write(
        &config,
        "model = \"signed\"\npower = 2\n[data]\nkind = \"sparse\"\nn = 10\nd = 20\nk = 3\nseed = 7\n[init]\nkind = \"recipe\"\ndepth = 2\nscale = 1e-6\nshape = { kind = \"constant\" }\n[train]\nmethod = \"flow\"\n",
    )
    .unwrap();
    let signed = json_of(&["saddles", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(signed["alpha"].as_f64(), Some(1e-6));
    let log = (1e6f64).ln();
    for (k, j) in signed["jumps"].as_array().unwrap().iter().enumerate() {
        let t = j["time_accelerated"].as_f64().unwrap();
        assert_eq!(t, jumps[k]["time_accelerated"].as_f64().unwrap());
        let flow = signed["flow_times_leading_order"][k].as_f64().unwrap();
        assert!((flow - t * log / 2.0).abs() <= 1e-12 * flow);
    }
}

#[test]
fn refuses_other_inits_and_zero_targets() {
    let dir = tmpdir("saddles-bad");
    let out = ddln(&[
        "saddles", "--n", "6", "--d", "8", "--depth", "2", "--scale", "0.1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value for `init`"));
    let out = ddln(&[
        "saddles", "--n", "6", "--d", "8", "--depth", "3", "--scale", "0.1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let x: Vec<f64> = (0..24).map(|k| ((k * 7 % 11) as f64) - 5.0).collect();
    write_f64(&dir.join("X.npy"), &x, &[4, 6]);
    write_f64(&dir.join("y.npy"), &[0.0; 4], &[4]);
    let out = ddln(&[
        "saddles",
        "--x",
        dir.join("X.npy").to_str().unwrap(),
        "--y",
        dir.join("y.npy").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("`y`") && said.contains("no saddles"),
        "{said}"
    );
}

/// `ddln train` in accelerated time at L = 4 from `u^1 = 0`, `u^j = 1e-300` (flow time
/// of the jumps ~1e600): the run's jumps are those of `ddln saddles` on the same data
/// (the unit algorithm, checked against brute force in the core's tests) and the run
/// crosses each plateau level at them; `--time-unit flow` overrides the file and says why
/// the jumps are out of reach; a bad unit is refused with the field named.
#[test]
fn train_in_accelerated_time_below_f64() {
    let dir = tmpdir("accelerated");
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/deep4_accelerated.toml");
    let config = config.to_str().unwrap();
    let out = dir.join("run");
    let out = out.to_str().unwrap();
    let base = [
        "train",
        "--config",
        config,
        "--summary-only",
        "--quiet",
        "--json",
    ];
    let mut args = base.to_vec();
    args.extend_from_slice(&["--out", out]);
    let run = json_of(&args);
    assert_eq!(run["time_unit"], "accelerated");
    assert_eq!(run["t_final"].as_f64(), Some(0.3));
    let jumps = &run["jumps"];
    assert_eq!(jumps["time_unit"], "accelerated");
    assert!(jumps["time_scale"].is_null(), "beyond f64: {jumps}");
    assert!(
        jumps["worst_time_error"].as_f64().unwrap() < 1e-6,
        "{jumps}"
    );
    let unit = json_of(&[
        "saddles", "--json", "--n", "10", "--d", "20", "--k", "3", "--seed", "7",
    ]);
    let (got, want) = (
        jumps["jumps"].as_array().unwrap(),
        unit["jumps"].as_array().unwrap(),
    );
    assert_eq!(got.len(), want.len());
    for (a, b) in got.iter().zip(want) {
        let (ta, tb) = (
            a["time"].as_f64().unwrap(),
            b["time_accelerated"].as_f64().unwrap(),
        );
        assert!((ta - tb).abs() < 1e-10 * tb, "{ta} vs {tb}");
        assert_eq!(a["active"], b["active"]);
    }
    let flow_out = dir.join("flow");
    let mut flow = base.to_vec();
    flow.extend_from_slice(&["--time-unit", "flow", "--out", flow_out.to_str().unwrap()]);
    let in_flow_time = json_of(&flow);
    assert_eq!(in_flow_time["time_unit"], "flow");
    let reason = in_flow_time["jumps"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("beyond f64") && reason.contains("accelerated"),
        "{reason}"
    );
    let mut bad = base.to_vec();
    bad.extend_from_slice(&["--time-unit", "tau", "--out", out]);
    let o = ddln(&bad);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("time_unit") && e.contains("accelerated"), "{e}");
}
