//! The `ddln` binary end to end: outputs, bad input, and the main job.

use std::path::Path;
use std::process::Command;

mod common;

use common::{ddln, tmpdir, write_array, write_f64};

/// X = I (3 x 3), y = (1, 0.5, -0.7), L = 2 init: the flow converges to theta = y.
fn inputs(dir: &Path) -> (String, String, String) {
    let x = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    write_f64(&dir.join("X.npy"), &x, &[3, 3]);
    write_f64(&dir.join("y.npy"), &[1.0, 0.5, -0.7], &[3]);
    write_f64(
        &dir.join("U0.npy"),
        &[0.3, 0.2, 0.4, 0.5, -0.1, 0.2],
        &[2, 3],
    );
    let s = |f: &str| dir.join(f).to_string_lossy().into_owned();
    (s("X.npy"), s("y.npy"), s("U0.npy"))
}

#[test]
fn train_writes_every_output_and_json() {
    let dir = tmpdir("train");
    let (x, y, u0) = inputs(&dir);
    let out = dir.join("run");
    let o = ddln(&[
        "train",
        "--x",
        &x,
        "--y",
        &y,
        "--init",
        &u0,
        "--method",
        "flow",
        "--t-end",
        "30",
        "--out",
        out.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["status"], "Completed");
    // X = I: the flow ends at theta = y (the unique interpolator).
    let theta: Vec<f64> = serde_json::from_value(summary["final_theta"].clone()).unwrap();
    for (t, y) in theta.iter().zip([1.0, 0.5, -0.7]) {
        assert!((t - y).abs() < 1e-6, "{theta:?}");
    }
    assert_eq!(summary["diagnostics"]["assumption_a"]["holds"], true);
    assert_eq!(summary["diagnostics"]["rate"]["holds"], true);
    assert!(
        summary["diagnostics"]["conservation"]["max_rel_residual"]
            .as_f64()
            .unwrap()
            < 1e-9
    );
    assert!(summary["stats"]["grad_evals"].as_u64().unwrap() > 0);
    for f in [
        "summary.json",
        "config.toml",
        "trajectory.npz",
        "loss.png",
        "loss.svg",
        "theta.png",
        "layers.svg",
        "X.npy",
        "y.npy",
        "init.npy",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(on_disk, summary);
    // The saved config repeats the run exactly.
    let again = dir.join("again");
    let o = ddln(&[
        "train",
        "--config",
        out.join("config.toml").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let second: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(second["final_theta"], summary["final_theta"]);
}

#[test]
fn recipe_gd_and_divergence() {
    let dir = tmpdir("gd");
    let out = dir.join("gd");
    let o = ddln(&[
        "train",
        "--n",
        "8",
        "--d",
        "12",
        "--k",
        "2",
        "--depth",
        "3",
        "--scale",
        "0.5",
        "--method",
        "descent",
        "--lr",
        "1e-3",
        "--steps",
        "200",
        "--out",
        out.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["status"], "Completed");
    assert_eq!(s["stats"]["steps"], 200);
    let out = dir.join("boom");
    let o = ddln(&[
        "train",
        "--n",
        "8",
        "--d",
        "4",
        "--depth",
        "3",
        "--scale",
        "2",
        "--method",
        "gd",
        "--lr",
        "50",
        "--steps",
        "500",
        "--out",
        out.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    // The documented exit code of Diverged; the outputs are written all the same.
    assert_eq!(o.status.code(), Some(3));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["status"], "Diverged");
    assert!(s["message"].as_str().unwrap().contains("iteration"));
    let layers: Vec<Vec<f64>> = serde_json::from_value(s["final_layers"].clone()).unwrap();
    assert!(layers.iter().flatten().all(|v| v.is_finite()));
}

/// Runs a failing command: non-zero exit, message mentions `needle`, no output folder.
fn fails_with(args: &[&str], out: &Path, needle: &str) {
    let o = ddln(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "expected failure for {args:?}");
    assert!(
        err.contains(needle),
        "stderr of {args:?} lacks `{needle}`: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "partial output left for {args:?}");
}

#[test]
fn bad_input_is_a_clear_error_with_no_output() {
    let dir = tmpdir("bad");
    let (x, y, u0) = inputs(&dir);
    let out = dir.join("never");
    let o = out.to_str().unwrap();
    write_f64(
        &dir.join("Xnan.npy"),
        &[1.0, f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        &[3, 3],
    );
    write_f64(&dir.join("y2.npy"), &[1.0, 2.0], &[2]);
    write_f64(&dir.join("U1.npy"), &[0.3, 0.2, 0.4], &[1, 3]);
    write_f64(&dir.join("Uwide.npy"), &[0.3; 8], &[2, 4]);
    write_array::<u8>(&dir.join("Xu8.npy"), &[1; 9], &[3, 3]);
    std::fs::write(dir.join("garbage.npy"), b"not an array").unwrap();
    // A valid header whose data was cut off.
    let whole = std::fs::read(&x).unwrap();
    std::fs::write(dir.join("Xcut.npy"), &whole[..whole.len() - 20]).unwrap();
    std::fs::write(
        dir.join("extra.toml"),
        format!(
            "[data]\nkind = \"files\"\nx = {x:?}\ny = {y:?}\n[init]\nkind = \"file\"\npath = {u0:?}\nseed = 3\n[train]\nmethod = \"flow\"\n"
        ),
    )
    .unwrap();
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    fails_with(
        &[
            "train",
            "--x",
            &p("Xcut.npy"),
            "--y",
            &y,
            "--init",
            &u0,
            "--out",
            o,
        ],
        &out,
        "Xcut.npy holds fewer numbers than its header's shape",
    );
    fails_with(
        &["train", "--config", &p("extra.toml"), "--out", o],
        &out,
        "unknown field `seed`",
    );
    fails_with(
        &[
            "train",
            "--x",
            &p("Xnan.npy"),
            "--y",
            &y,
            "--init",
            &u0,
            "--out",
            o,
        ],
        &out,
        "`X` contains a non-finite value",
    );
    fails_with(
        &[
            "train",
            "--x",
            &x,
            "--y",
            &p("y2.npy"),
            "--init",
            &u0,
            "--out",
            o,
        ],
        &out,
        "`y`",
    );
    fails_with(
        &[
            "train",
            "--x",
            &x,
            "--y",
            &y,
            "--init",
            &p("U1.npy"),
            "--out",
            o,
        ],
        &out,
        "`depth`",
    );
    fails_with(
        &[
            "train",
            "--x",
            &x,
            "--y",
            &y,
            "--init",
            &p("Uwide.npy"),
            "--out",
            o,
        ],
        &out,
        "`init`",
    );
    fails_with(
        &[
            "train",
            "--x",
            &p("Xu8.npy"),
            "--y",
            &y,
            "--init",
            &u0,
            "--out",
            o,
        ],
        &out,
        "dtype",
    );
    fails_with(
        &[
            "train",
            "--x",
            &p("garbage.npy"),
            "--y",
            &y,
            "--init",
            &u0,
            "--out",
            o,
        ],
        &out,
        "not a valid .npy",
    );
    fails_with(
        &[
            "train",
            "--x",
            &p("missing.npy"),
            "--y",
            &y,
            "--init",
            &u0,
            "--out",
            o,
        ],
        &out,
        "cannot read `X`",
    );
    fails_with(
        &[
            "train", "--x", &x, "--y", &y, "--init", &u0, "--rtol", "-1", "--out", o,
        ],
        &out,
        "`rtol`",
    );
    fails_with(
        &[
            "train", "--x", &x, "--y", &y, "--init", &u0, "--atol", "0", "--out", o,
        ],
        &out,
        "`atol`",
    );
    fails_with(
        &[
            "train", "--x", &x, "--y", &y, "--init", &u0, "--t-end", "0", "--out", o,
        ],
        &out,
        "`t_end`",
    );
    fails_with(
        &[
            "train", "--x", &x, "--y", &y, "--init", &u0, "--method", "gd", "--lr", "-0.1",
            "--out", o,
        ],
        &out,
        "`lr`",
    );
    fails_with(
        &["train", "--n", "0", "--d", "3", "--out", o],
        &out,
        "empty",
    );
    std::fs::write(dir.join("unknown.toml"), "bogus_key = 1\n[data]\nkind = \"gaussian\"\nn = 4\nd = 3\nseed = 0\n[init]\nkind = \"recipe\"\n[train]\nmethod = \"flow\"\n").unwrap();
    fails_with(
        &["train", "--config", &p("unknown.toml"), "--out", o],
        &out,
        "bogus_key",
    );
    std::fs::write(dir.join("type.toml"), "[data]\nkind = \"gaussian\"\nn = \"four\"\nd = 3\nseed = 0\n[init]\nkind = \"recipe\"\n[train]\nmethod = \"flow\"\n").unwrap();
    fails_with(
        &["train", "--config", &p("type.toml"), "--out", o],
        &out,
        "invalid type",
    );
    std::fs::write(dir.join("nested.toml"), "[data]\nkind = \"gaussian\"\nn = 4\nd = 3\nseed = 0\n[init]\nkind = \"recipe\"\n[train]\nmethod = \"flow\"\nrtoll = 1e-9\n").unwrap();
    fails_with(
        &["train", "--config", &p("nested.toml"), "--out", o],
        &out,
        "rtoll",
    );
}

#[test]
fn reproduce_quick_writes_figures_and_a_summary_whose_claims_hold() {
    let dir = tmpdir("reproduce");
    let out = dir.join("paper");
    let o = ddln(&[
        "reproduce",
        "--quick",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["all_claims_hold"], true, "{s:#}");
    for f in [
        "figure3/figure3.png",
        "figure3/figure3.svg",
        "figure4/figure4.png",
        "figure4/figure4.svg",
        "summary.txt",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
}

#[test]
fn bias_predicts_where_the_flow_ends() {
    let dir = tmpdir("bias");
    // Underdetermined 5 x 10 problem, L = 3, moderate init: simulate the flow to
    // convergence with --mirror-check, and compare with `ddln bias` (the predictor is a
    // dual Newton solve, independent of the integrator).
    let common = [
        "--n",
        "5",
        "--d",
        "10",
        "--seed",
        "3",
        "--depth",
        "3",
        "--scale",
        "0.5",
        "--init-seed",
        "4",
    ];
    let out = dir.join("flow");
    let mut args = vec!["train"];
    args.extend(common);
    args.extend([
        "--t-end",
        "500",
        "--loss-tol",
        "1e-22",
        "--mirror-check",
        "--json",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let o = ddln(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let check = &run["mirror_check"];
    assert_eq!(check["applies"], true, "{check}");
    assert!(
        check["max_rel_residual"].as_f64().unwrap() < 1e-9,
        "{check}"
    );
    assert!(
        check["relative_distance_to_prediction"].as_f64().unwrap() < 1e-6,
        "{check}"
    );
    let mut args = vec!["bias"];
    args.extend(common);
    args.push("--json");
    let o = ddln(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bias: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(bias["status"], "Converged");
    let predicted: Vec<f64> = serde_json::from_value(bias["theta_inf"].clone()).unwrap();
    let simulated: Vec<f64> = serde_json::from_value(run["final_theta"].clone()).unwrap();
    let diff = predicted
        .iter()
        .zip(&simulated)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm = predicted.iter().map(|a| a * a).sum::<f64>().sqrt();
    assert!(diff / norm < 1e-6, "predicted vs simulated: {diff:e}");
    for key in ["min_l1", "min_l2", "small_init_limit"] {
        assert!(bias[key].is_object(), "{key}");
    }
    assert!(
        bias["nonzeros"]["min_l2"].as_u64().unwrap()
            >= bias["nonzeros"]["min_l1"].as_u64().unwrap()
    );
    // Inits violating (A) are predicted; a tie at 0 is an error naming the coordinate.
    write_f64(&dir.join("X.npy"), &[1.0, 2.0, 3.0, 4.0], &[1, 4]);
    write_f64(&dir.join("y.npy"), &[1.0], &[1]);
    write_f64(
        &dir.join("tie.npy"),
        &[0.5, 0.1, 0.2, 0.3, 0.5, 0.7, 0.2, 0.9],
        &[2, 4],
    );
    // Coordinates 0 and 2 of `tie.npy` are balanced (|u^1| = |u^2|); in `partial.npy`
    // coordinate 0 ties two of three layers; in `zero.npy` at 0.
    write_f64(
        &dir.join("partial.npy"),
        &[0.5, 0.1, 0.2, 0.3, 0.5, 0.7, 0.4, 0.9, 0.9, 0.8, 0.6, 0.5],
        &[3, 4],
    );
    write_f64(
        &dir.join("zero.npy"),
        &[0.0, 0.1, 0.2, 0.3, 0.0, 0.7, 0.4, 0.9, 0.9, 0.8, 0.6, 0.5],
        &[3, 4],
    );
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let bias = |init: &str| {
        ddln(&[
            "bias",
            "--x",
            &p("X.npy"),
            "--y",
            &p("y.npy"),
            "--init",
            &p(init),
        ])
    };
    let o = bias("tie.npy");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bias("partial.npy");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bias("zero.npy");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("coordinate 0 has several layers tied at |u| = 0"),
        "{err}"
    );
}

#[test]
fn entropy_values_and_plots() {
    let dir = tmpdir("entropy");
    // L = 2, u(0) = 0.3, v(0) = 0.5 in one coordinate: Q is the corrected eq. 20,
    // grad Q(theta) = (asinh(2 theta / D) - log|(u0+v0)/(u0-v0)|) / 2 with D = |u0^2 - v0^2|.
    write_f64(&dir.join("U0.npy"), &[0.3, 0.5], &[2, 1]);
    write_f64(&dir.join("T.npy"), &[0.7, -0.2], &[2, 1]);
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let o = ddln(&[
        "entropy",
        "--init",
        &p("U0.npy"),
        "--theta",
        &p("T.npy"),
        "--json",
        "--plot",
        &p("plots"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let grads: Vec<Vec<f64>> = serde_json::from_value(s["gradient"].clone()).unwrap();
    let d = (0.3f64 * 0.3 - 0.5 * 0.5).abs();
    let shift = ((0.3f64 + 0.5) / (0.3 - 0.5)).abs().ln();
    for (g, theta) in grads.iter().zip([0.7, -0.2]) {
        let expected = ((2.0f64 * theta / d).asinh() - shift) / 2.0;
        assert!((g[0] - expected).abs() < 1e-12, "{} vs {expected}", g[0]);
    }
    for f in [
        "entropy_coordinate.png",
        "entropy_coordinate.svg",
        "entropy_depths.png",
        "entropy_depths.svg",
    ] {
        assert!(dir.join("plots").join(f).is_file(), "missing {f}");
    }
    // Without --json the values are still printed (same numbers as the JSON's).
    let o = ddln(&["entropy", "--init", &p("U0.npy"), "--theta", &p("T.npy")]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stderr);
    let values: Vec<f64> = serde_json::from_value(s["value"].clone()).unwrap();
    assert!(
        text.contains(&format!("Q(theta_1) = {:.16e}", values[1])),
        "{text}"
    );
    // The signed model u^2 - v^2 from u = v = alpha: Woodworth et al.'s closed form
    // grad Q(theta) = asinh(theta / (2 alpha^2)) / 4, Q'' = 1 / (4 sqrt(theta^2 + 4 alpha^4)).
    let alpha = 0.2f64;
    write_f64(&dir.join("S0.npy"), &[alpha, alpha], &[2, 1]);
    let o = ddln(&[
        "entropy",
        "--init",
        &p("S0.npy"),
        "--model",
        "signed",
        "--power",
        "2",
        "--theta",
        &p("T.npy"),
        "--json",
        "--plot",
        &p("signed-plots"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let grads: Vec<Vec<f64>> = serde_json::from_value(s["gradient"].clone()).unwrap();
    let hess: Vec<Vec<f64>> = serde_json::from_value(s["hessian_diag"].clone()).unwrap();
    for ((g, h), theta) in grads.iter().zip(&hess).zip([0.7f64, -0.2]) {
        let beta = 2.0 * alpha * alpha;
        let expected = (theta / beta).asinh() / 4.0;
        assert!((g[0] - expected).abs() < 1e-13, "{} vs {expected}", g[0]);
        let expected = 1.0 / (4.0 * (theta * theta + beta * beta).sqrt());
        assert!(
            (h[0] - expected).abs() < 1e-12 * expected,
            "{} vs {expected}",
            h[0]
        );
    }
    assert!(dir.join("signed-plots/entropy_coordinate.png").is_file());
    // The recipe is the deep model's; a power model without --power is refused.
    let o = ddln(&["entropy", "--init", &p("S0.npy"), "--model", "signed"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("needs the power L"), "{err}");
}

/// `--summary-only` writes summary.json and nothing else, with the same numbers as a full
/// run (a second run of the same command, as the reference); the summary says which
/// dynamics and integrators the default (`auto`) chose.
#[test]
fn summary_only_and_the_solver_report() {
    let dir = tmpdir("summary-only");
    let (x, y, u0) = inputs(&dir);
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "train", "--x", &x, "--y", &y, "--init", &u0, "--t-end", "30", "--quiet", "--json",
            "--out",
        ];
        let out_s = out.to_str().unwrap().to_string();
        args.push(&out_s);
        args.extend_from_slice(extra);
        let o = ddln(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let full = run(&dir.join("full"), &[]);
    let small = run(&dir.join("small"), &["--summary-only"]);
    let mut files: Vec<_> = std::fs::read_dir(dir.join("small"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    // The summary, and the marker that says which command wrote the folder.
    assert_eq!(files, vec![".ddln-output.json", "summary.json"]);
    assert_eq!(small["final_theta"], full["final_theta"]);
    // The init satisfies assumption (A): auto integrates the reduced dynamics.
    assert_eq!(full["solver"]["dynamics"], "reduced");
    assert_eq!(full["solver"]["integrator"], "auto");
    assert_eq!(full["solver"]["methods"][0], "dopri5");
    let layers = run(
        &dir.join("layers"),
        &["--dynamics", "layers", "--integrator", "rodas"],
    );
    assert_eq!(layers["solver"]["dynamics"], "layers");
    assert_eq!(layers["solver"]["methods"], serde_json::json!(["rodas"]));
    let bad = ddln(&[
        "train",
        "--x",
        &x,
        "--y",
        &y,
        "--init",
        &u0,
        "--dynamics",
        "fast",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown dynamics `fast`"));
}

/// `--help` shows every setting's default as the core defines it (the core's `Default`
/// values are the reference: `FlowSettings::default()` and `DescentSettings::default()`),
/// and a flag of the other method is an error that names it and the method it needs.
#[test]
fn help_shows_the_core_defaults_and_flags_belong_to_a_method() {
    let o = ddln(&["train", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let flow = ddln::FlowSettings::default();
    let descent = ddln::DescentSettings::default();
    for needle in [
        format!("relative tolerance of each step [default: {:e}]", flow.rtol),
        format!("absolute tolerance of each step [default: {:e}]", flow.atol),
        format!("end of the time horizon [default: {}]", flow.t_end),
        format!("[default: {}]", flow.integrator.name()),
        format!("[default: {}]", flow.dynamics.name()),
        format!("recorded times [default: {}]", flow.n_record),
        format!("step size eta [default: {:e}]", descent.lr),
        format!("number of iterations [default: {}]", descent.steps),
        format!("sampler [default: {}]", descent.seed),
    ] {
        assert!(help.contains(&needle), "missing `{needle}` in --help");
    }
    let dir = tmpdir("foreign");
    let (x, y, u0) = inputs(&dir);
    let o = ddln(&[
        "train", "--x", &x, "--y", &y, "--init", &u0, "--lr", "0.1", "--steps", "5",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--lr, --steps belong to --method descent"),
        "{err}"
    );
    let o = ddln(&[
        "train", "--x", &x, "--y", &y, "--init", &u0, "--method", "descent", "--rtol", "1e-6",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--rtol belongs to --method flow"));
}

/// Every option of every command that takes a value shows its default in `--help`,
/// except those that name an input or output (a file or folder: no default exists).
#[test]
fn help_shows_a_default_for_every_valued_option() {
    let inputs_and_outputs = [
        "--config", "--x", "--y", "--init", "--theta", "--plot", "--out", "--only", "--resume",
    ];
    for command in ["train", "bias", "entropy", "reproduce"] {
        let o = ddln(&[command, "--help"]);
        assert!(o.status.success());
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        // One entry per option: clap starts each at a line whose first token is a flag.
        let mut entries: Vec<String> = Vec::new();
        for line in help.lines() {
            let t = line.trim_start();
            if t.starts_with("--") || t.starts_with("-h,") {
                entries.push(t.to_string());
            } else if let Some(last) = entries.last_mut() {
                last.push(' ');
                last.push_str(t);
            }
        }
        assert!(
            entries.len() > 3,
            "{command}: no options parsed from --help"
        );
        for entry in entries {
            let flag = entry.split_whitespace().next().unwrap_or_default();
            let takes_value = entry
                .split_whitespace()
                .nth(1)
                .is_some_and(|w| w.starts_with('<'));
            if takes_value && !inputs_and_outputs.contains(&flag) {
                assert!(
                    entry.contains("[default:"),
                    "{command} {flag}: no default in `{entry}`"
                );
            }
        }
    }
}

/// Every `ddln ...` command of the README's shell blocks runs (lines with `...` are
/// templates and skipped): in a scratch folder holding small X.npy, y.npy, U0.npy, T.npy
/// and the repository's configs/, each exits 0.
#[test]
fn readme_commands_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = tmpdir("readme");
    let (n, d) = (8usize, 12usize);
    let x: Vec<f64> = (0..n * d)
        .map(|k| ((k * 37 % 17) as f64 - 8.0) / 8.0)
        .collect();
    let y: Vec<f64> = (0..n).map(|k| (k as f64 - 3.5) / 4.0).collect();
    let u0: Vec<f64> = (0..2 * d).map(|k| 0.2 + 0.05 * (k % 5) as f64).collect();
    write_f64(&dir.join("X.npy"), &x, &[n as u64, d as u64]);
    write_f64(&dir.join("y.npy"), &y, &[n as u64]);
    write_f64(&dir.join("U0.npy"), &u0, &[2, d as u64]);
    write_f64(&dir.join("T.npy"), &vec![0.1; d], &[d as u64]);
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    for entry in std::fs::read_dir(root.join("configs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("configs").join(path.file_name().unwrap())).unwrap();
    }
    let mut in_shell = false;
    let mut ran = 0;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_shell = line == "```bash";
            continue;
        }
        let Some(rest) = line.strip_prefix("ddln ") else {
            continue;
        };
        if !in_shell || line.contains("...") {
            continue;
        }
        let command = rest.split(" #").next().unwrap();
        let args: Vec<&str> = command.split_whitespace().collect();
        let o = Command::new(env!("CARGO_BIN_EXE_ddln"))
            .args(&args)
            .arg("--quiet")
            .current_dir(&dir)
            .output()
            .unwrap();
        // `entropy` has no --quiet: run it without.
        let o = if String::from_utf8_lossy(&o.stderr).contains("unexpected argument '--quiet'") {
            Command::new(env!("CARGO_BIN_EXE_ddln"))
                .args(&args)
                .current_dir(&dir)
                .output()
                .unwrap()
        } else {
            o
        };
        assert!(
            o.status.success(),
            "README command `ddln {command}` failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 6, "only {ran} README commands found");
}

/// `ddln bias --no-baselines` gives the same prediction without the interpolators.
#[test]
fn bias_without_baselines() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "bias",
            "--n",
            "12",
            "--d",
            "30",
            "--k",
            "2",
            "--depth",
            "3",
            "--scale",
            "0.2",
            "--zero-first",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = ddln(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let full = run(&[]);
    let bare = run(&["--no-baselines"]);
    assert_eq!(full["theta_inf"], bare["theta_inf"]);
    assert!(bare.get("min_l1").is_none() && full["min_l1"]["certificate"]["method"] == "homotopy");
}

/// A flow at init scale 1e-300 from the command line: the dual dynamics, finite layers,
/// and the run's jumps within 1% of the limit algorithm's times (the error of the limit
/// at log(1/alpha) = 690 is about 0.3%; tests/saddles.rs checks the algorithm against a
/// brute-force search).
#[test]
fn tiny_init_runs_report_their_jumps() {
    let dir = tmpdir("tiny-init");
    let o = ddln(&[
        "train",
        "--preset",
        "uv",
        "--alpha",
        "1e-300",
        "--n",
        "10",
        "--d",
        "20",
        "--k",
        "3",
        "--t-end",
        "300",
        "--quiet",
        "--json",
        "--summary-only",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["solver"]["dynamics"], "dual");
    assert!(s["final_layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .all(|v| v.as_f64().is_some_and(f64::is_finite)));
    let jumps = &s["jumps"];
    assert_eq!(jumps["applies"], true, "{jumps}");
    let list = jumps["jumps"].as_array().unwrap();
    assert!(list.len() >= 3);
    let worst = jumps["worst_time_error"].as_f64().unwrap();
    assert!(worst > 0.0 && worst < 0.01, "{worst}");
    for j in list {
        assert!(j["active"].is_array() && j["theta"].is_array() && j["loss"].is_number());
    }
}
