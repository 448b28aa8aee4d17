//! `ddln train --resume`: a descent run continued from its folder ends with the bits of
//! the run that never stopped (the reference: that run, computed by the same binary in
//! one go), for GD, SGD (with replacement, by epochs, in a given order) and momentum,
//! with a piecewise-constant schedule; bad resumes and bad settings write nothing.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{ddln, tmpdir};

fn config(dir: &Path, steps: u64, extra: &str) -> PathBuf {
    let path = dir.join(format!("config-{steps}.toml"));
    let text = format!(
        r#"loss_scaling = "mean/2"
[data]
kind = "sparse"
n = 20
d = 30
k = 3
seed = 0
[init]
kind = "recipe"
depth = 2
scale = 0.3
seed = 2
[train]
method = "descent"
lr = 0.05
steps = {steps}
record_every = 13
{extra}
[train.schedule]
kind = "piecewise"
boundaries = [200, 700]
factors = [1.0, 0.5, 0.2]
"#
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn train(args: &[&str]) -> Output {
    let mut all = vec!["train", "--quiet"];
    all.extend_from_slice(args);
    ddln(&all)
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn resume_continues_bit_for_bit() {
    let dir = tmpdir("bits");
    let cases = [
        ("gd", ""),
        ("sgd", "batch_size = 4\nseed = 7"),
        (
            "epochs",
            "batch_size = 3\nseed = 1\n[train.sampling]\nkind = \"epochs\"",
        ),
        (
            "order",
            "batch_size = 2\n[train.sampling]\nkind = \"order\"\nindices = [5, 3, 19, 0, 0, 8, 11]",
        ),
        ("momentum", "momentum = 0.8\nbatch_size = 5"),
    ];
    for (name, extra) in cases {
        let whole = dir.join(format!("{name}-whole"));
        let part = dir.join(format!("{name}-part"));
        let rest = dir.join(format!("{name}-rest"));
        let c1000 = config(&dir, 1000, extra);
        let c400 = config(&dir, 400, extra);
        for (cfg, out) in [(&c1000, &whole), (&c400, &part)] {
            let o = train(&[
                "--config",
                cfg.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let o = train(&[
            "--resume",
            part.to_str().unwrap(),
            "--steps",
            "1000",
            "--out",
            rest.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let (a, b) = (summary(&whole), summary(&rest));
        assert_eq!(a["final_layers"], b["final_layers"], "{name}");
        assert_eq!(a["t_final"], b["t_final"], "{name}");
        assert_eq!(a["final_loss"], b["final_loss"], "{name}");
        let bytes = |p: &Path| std::fs::read(p.join("checkpoint.json")).unwrap();
        let (ca, cb): (serde_json::Value, serde_json::Value) = (
            serde_json::from_slice(&bytes(&whole)).unwrap(),
            serde_json::from_slice(&bytes(&rest)).unwrap(),
        );
        assert_eq!(ca["velocity"], cb["velocity"], "{name}");
        assert_eq!(ca["sampler"], cb["sampler"], "{name}");
    }
}

/// Each bad input: a clear error naming the field or file, exit code 2, no folder.
#[test]
fn bad_resumes_and_settings_write_nothing() {
    let dir = tmpdir("bad");
    let part = dir.join("part");
    let c = config(&dir, 300, "");
    let o = train(&[
        "--config",
        c.to_str().unwrap(),
        "--out",
        part.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    let part_s = part.to_str().unwrap();
    let bad_order = config(
        &dir,
        301,
        "batch_size = 2\n[train.sampling]\nkind = \"order\"\nindices = [0, 20]",
    );
    let unsorted = dir.join("unsorted.toml");
    std::fs::write(
        &unsorted,
        std::fs::read_to_string(&c)
            .unwrap()
            .replace("[200, 700]", "[700, 200]"),
    )
    .unwrap();
    let negative = dir.join("negative.toml");
    std::fs::write(
        &negative,
        std::fs::read_to_string(&c)
            .unwrap()
            .replace("[1.0, 0.5, 0.2]", "[1.0, -0.5, 0.2]"),
    )
    .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--resume", part_s, "--steps", "600", "--n", "21"],
            "another problem",
        ),
        (
            vec!["--resume", part_s, "--steps", "300"],
            "resuming needs steps > 300",
        ),
        (
            vec!["--resume", dir.to_str().unwrap(), "--steps", "600"],
            "config.toml",
        ),
        (
            vec!["--config", bad_order.to_str().unwrap()],
            "indices[1] = 20",
        ),
        (
            vec!["--config", unsorted.to_str().unwrap()],
            "schedule.boundaries",
        ),
        (
            vec!["--config", negative.to_str().unwrap()],
            "schedule.factors",
        ),
        (
            vec!["--resume", part_s, "--steps", "600", "--method", "flow"],
            "descent",
        ),
    ];
    for (args, needle) in cases {
        let mut all = args.clone();
        all.extend_from_slice(&["--out", out_s]);
        let o = train(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {out_s}");
    }
}
