//! The grid of a sweep: axis forms, order, ids, and bad configs refused before anything
//! runs (with the point and the setting named).

use std::path::Path;

use ddln_spec::sweep::{plan_from_json, Plan, SweepSpec};
use serde_json::json;

const BASE: &str = r#"
model = "deep"
[data]
kind = "sparse"
n = 10
d = 20
k = 2
seed = 0
[init]
kind = "recipe"
depth = 2
scale = 0.1
seed = 1
"#;

fn plan(sweep: &str) -> anyhow::Result<Plan> {
    let text = format!("{BASE}\n[sweep]\n{sweep}");
    let table: toml::Table = toml::from_str(&text)?;
    Plan::new(SweepSpec::parse(table, "test.toml")?, Path::new("."))
}

fn err(sweep: &str) -> String {
    match plan(sweep) {
        Ok(_) => panic!("expected an error for {sweep}"),
        Err(e) => format!("{e:#}"),
    }
}

/// The issue's example: 9 x 2 x 2 = 36 points, first axis outermost; logspace values are
/// 10^(a + k (b - a) / (n - 1)) (recomputed here), range is half-open.
#[test]
fn grid_order_and_axis_forms() {
    let p = plan(
        r#"tasks = ["bias"]
"init.scale" = { logspace = [-3, 1, 9] }
"init.depth" = [2, 3]
"init.seed" = { range = [1, 3] }"#,
    )
    .unwrap();
    assert_eq!(p.points.len(), 36);
    assert_eq!(p.jobs.len(), 36);
    assert_eq!(p.axis_names(), ["init.scale", "init.depth", "init.seed"]);
    for (i, point) in p.points.iter().enumerate() {
        let (s, l, seed) = (i / 4, (i / 2) % 2, i % 2);
        let scale = 10f64.powf(-3.0 + 4.0 * s as f64 / 8.0);
        assert_eq!(point.coords[0].as_float(), Some(scale));
        assert_eq!(point.coords[1].as_integer(), Some(2 + l as i64));
        assert_eq!(point.coords[2].as_integer(), Some(1 + seed as i64));
        match &point.config.init {
            ddln_spec::config::InitSpec::Recipe(r) => {
                assert_eq!((r.scale, r.depth, r.seed), (scale, 2 + l, 1 + seed as u64));
            }
            other => panic!("{other:?}"),
        }
    }
    // Every job has its own id; the same config gives the same ids.
    let again = plan(
        r#"tasks = ["bias"]
"init.scale" = { logspace = [-3, 1, 9] }
"init.depth" = [2, 3]
"init.seed" = { range = [1, 3] }"#,
    )
    .unwrap();
    let ids: std::collections::HashSet<_> = p.jobs.iter().map(|j| j.id.clone()).collect();
    assert_eq!(ids.len(), 36);
    assert_eq!(p.fingerprint, again.fingerprint);
    assert!(p.jobs.iter().zip(&again.jobs).all(|(a, b)| a.id == b.id));
}

/// `zip` varies axes together; `seeds = N` shifts every seed of the spec by 0..N
/// (innermost); a task's `select` keeps only the matching points.
#[test]
fn zip_seeds_and_select() {
    let p = plan(
        r#"tasks = ["bias", "flow"]
seeds = 3
zip = [{ "init.scale" = [0.1, 0.2], "init.depth" = [2, 3] }]
select = { flow = [{ "init.depth" = 3, seed = 1 }] }"#,
    )
    .unwrap();
    assert_eq!(p.axis_names(), ["init.scale", "init.depth", "seed"]);
    assert_eq!(p.points.len(), 6);
    // 6 bias rows + 1 flow row (depth 3, seed 1).
    assert_eq!(p.jobs.len(), 7);
    let flows: Vec<_> = p.jobs.iter().filter(|j| j.task.name() == "flow").collect();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].point, 4);
    let point = &p.points[4];
    let data_seed = match point.config.data {
        ddln_spec::config::DataSpec::Sparse { seed, .. } => seed,
        _ => unreachable!(),
    };
    assert_eq!(data_seed, 1);
    match &point.config.init {
        ddln_spec::config::InitSpec::Recipe(r) => {
            assert_eq!((r.scale, r.depth, r.seed), (0.2, 3, 2))
        }
        other => panic!("{other:?}"),
    }
    // Distinct data seeds make distinct problems, loaded once each.
    assert_eq!(p.data.len(), 3);
}

/// A sample keeps a fraction of the points, chosen by id (the same on every run).
#[test]
fn sample_is_stable() {
    let sweep = r#"tasks = ["bias", "flow"]
sample = { flow = 0.25 }
"init.scale" = { logspace = [-2, 0, 40] }"#;
    let a = plan(sweep).unwrap();
    let b = plan(sweep).unwrap();
    let flows = |p: &Plan| -> Vec<usize> {
        p.jobs
            .iter()
            .filter(|j| j.task.name() == "flow")
            .map(|j| j.point)
            .collect()
    };
    assert_eq!(flows(&a), flows(&b));
    // 40 points at rate 1/4: a binomial count, far from 0 and from 40.
    assert!((3..=20).contains(&flows(&a).len()), "{:?}", flows(&a));
}

/// Bad configs: each error names the setting (and the point where it fails).
#[test]
fn bad_configs_are_refused_with_the_setting_named() {
    let e = err(r#""init.sclae" = [0.1, 0.2]"#);
    assert!(e.contains("point 0") && e.contains("sclae"), "{e}");
    let e = err(r#""init.scale" = []"#);
    assert!(e.contains("init.scale") && e.contains("empty"), "{e}");
    let e = err(r#""init.scale" = [0.1, -1.0]"#);
    assert!(e.contains("point 1") && e.contains("scale"), "{e}");
    let e = err(r#""init.scale" = { logspace = [-3, 1] }"#);
    assert!(e.contains("sweep.init.scale"), "{e}");
    let e = err(r#"tasks = ["bias", "fly"]"#);
    assert!(e.contains("fly") && e.contains("sweep.tasks"), "{e}");
    let e = err(r#"measures = ["dist_l3"]"#);
    assert!(e.contains("dist_l3") && e.contains("dist_l1"), "{e}");
    let e = err(r#"tasks = ["descent"]"#);
    assert!(e.contains("descent") && e.contains("[train]"), "{e}");
    let e = err(r#""data.k" = [2, 50]"#);
    assert!(e.contains("point 1") && e.contains("sparsity"), "{e}");
    let e = err(r#""init.scale" = [0.1, 0.1]"#);
    assert!(e.contains("same run spec"), "{e}");
    let e = err(r#"zip = [{ "init.scale" = [0.1, 0.2], "init.depth" = [2] }]"#);
    assert!(e.contains("differ in length"), "{e}");
    let e = err(r#"tasks = ["bias"]
"init.depth" = [2, 3]
select = { flow = [{ "init.depth" = 2 }] }"#);
    assert!(e.contains("not in `sweep.tasks`"), "{e}");
    let e = err(r#"select = { flow = [{ "init.depth" = 2 }] }"#);
    assert!(e.contains("not an axis"), "{e}");
    let e = err(r#""model.kind" = [1]"#);
    assert!(e.contains("model"), "{e}");
    let table: toml::Table = toml::from_str(BASE).unwrap();
    let e = format!("{:#}", SweepSpec::parse(table, "x.toml").unwrap_err());
    assert!(e.contains("no [sweep] table"), "{e}");
}

/// A dict config (Python) parses like TOML.
#[test]
fn json_config() {
    let config = json!({
        "data": {"kind": "gaussian", "n": 5, "d": 8, "seed": 3},
        "init": {"kind": "recipe", "depth": 3, "scale": 0.2, "seed": 1},
        "sweep": {"tasks": ["flow"], "init.scale": [0.1, 0.3]},
    });
    let p = plan_from_json(&config.to_string(), Path::new(".")).unwrap();
    assert_eq!(p.jobs.len(), 2);
}

/// docs/sweeps.md defines every measure the core has (one vocabulary).
#[test]
fn docs_name_every_measure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let docs = std::fs::read_to_string(root.join("docs/sweeps.md")).unwrap();
    for m in ddln_spec::sweep::Measure::DEFAULT {
        assert!(
            docs.contains(&format!("| `{}` |", m.name())),
            "{} is not in docs/sweeps.md",
            m.name()
        );
    }
    for t in ddln_spec::sweep::Task::ALL {
        assert!(docs.contains(&format!("`{}`", t.name())), "{}", t.name());
    }
}
