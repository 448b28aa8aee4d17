//! `--preset` is exactly the model and init it names: the same bits as the same run
//! spelled out with `--model`, `--power` and an init file (the reference), and a clear
//! error for an unknown preset or a contrary model.

mod common;

use common::{ddln, tmpdir};

#[test]
fn presets_equal_the_spelled_out_runs() {
    let dir = tmpdir("presets");
    let d = 30;
    let data = [
        "--n",
        "20",
        "--d",
        "30",
        "--k",
        "3",
        "--loss-scaling",
        "mean/2",
    ];
    let train = [
        "train",
        "--method",
        "gd",
        "--lr",
        "0.02",
        "--steps",
        "3000",
        "--quiet",
        "--summary-only",
    ];
    // (preset, --power, model, its power, the init it stands for)
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, Vec<f64>);
    let cases: [Case; 3] = [
        (
            "uv",
            None,
            "deep",
            "2",
            [vec![0.2; d], vec![0.0; d]].concat(),
        ),
        ("woodworth", None, "signed", "2", vec![0.2; 2 * d]),
        ("power", Some("3"), "signed", "3", vec![0.2; 2 * d]),
    ];
    for (name, power, model, model_power, init) in cases {
        let file = dir.join(format!("{name}.npy"));
        common::write_f64(&file, &init, &[2, d as u64]);
        let (a, b) = (
            dir.join(format!("{name}-preset")),
            dir.join(format!("{name}-plain")),
        );
        let mut with_preset: Vec<&str> = train.to_vec();
        with_preset.extend_from_slice(&data);
        with_preset.extend_from_slice(&[
            "--preset",
            name,
            "--alpha",
            "0.2",
            "--out",
            a.to_str().unwrap(),
        ]);
        if let Some(p) = power {
            with_preset.extend_from_slice(&["--power", p]);
        }
        let mut plain: Vec<&str> = train.to_vec();
        plain.extend_from_slice(&data);
        plain.extend_from_slice(&[
            "--init",
            file.to_str().unwrap(),
            "--out",
            b.to_str().unwrap(),
        ]);
        if model != "deep" {
            plain.extend_from_slice(&["--model", model, "--power", model_power]);
        }
        for args in [&with_preset, &plain] {
            let o = ddln(args);
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let read = |p: &std::path::Path| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(p.join("summary.json")).unwrap()).unwrap()
        };
        let (sa, sb) = (read(&a), read(&b));
        assert_eq!(sa["final_layers"], sb["final_layers"], "{name}");
        assert!(sa["preset"].as_str().unwrap().contains("= 0.2"), "{name}");
    }
    let o = ddln(&[
        "train",
        "--preset",
        "hadamard",
        "--out",
        dir.join("x").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("unknown preset `hadamard`; expected one of uv, woodworth, power, azulay"));
    let o = ddln(&[
        "train",
        "--preset",
        "power",
        "--out",
        dir.join("x").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs the power N"));
    assert!(!dir.join("x").exists());
}
