//! `ddln sweep` and `ddln plot`: a sweep killed with SIGKILL resumes to the same table as
//! an uninterrupted one (computing each committed row once), results do not depend on the
//! thread count, and bad folders are refused without touching what they hold.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ddln, tmpdir};
use ddln_spec::sweep::table::CsvTable;

/// Flow jobs of a few milliseconds each on a small sparse-recovery problem, with a bias
/// row for each point: 2 x 3 x 25 = 150 points, 300 rows.
const FLOWS: &str = r#"
[data]
kind = "sparse"
n = 12
d = 30
k = 2
seed = 4
[init]
kind = "recipe"
depth = 3
scale = 0.3
seed = 1
[train]
method = "flow"
t_end = 200.0
rtol = 1e-9
atol = 1e-12
[sweep]
tasks = ["flow", "bias"]
"init.depth" = [2, 3]
"init.scale" = [0.2, 0.3, 0.5]
seeds = 25
"#;

fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The table without its one timing column (`wall_s` is not reproducible by nature).
fn table_without_wall(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let t = CsvTable::read(&dir.join("table.csv")).unwrap();
    let wall = t.column("wall_s").unwrap();
    let strip = |row: &Vec<String>| -> Vec<String> {
        row.iter()
            .enumerate()
            .filter(|(k, _)| *k != wall)
            .map(|(_, c)| c.clone())
            .collect()
    };
    (strip(&t.header), t.rows.iter().map(strip).collect())
}

fn log_lines(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("rows.jsonl"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// Runs `ddln [pre...] sweep --config config --out out --quiet` and asserts it succeeded.
fn sweep_ok(pre: &[&str], config: &str, out: &Path) -> std::process::Output {
    let mut args = pre.to_vec();
    args.extend_from_slice(&[
        "sweep",
        "--config",
        config,
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let done = ddln(&args);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    done
}

/// A finished sweep of `FLOWS` with `seeds` seeds in a fresh folder: (scratch folder,
/// config path, sweep folder).
fn finished_sweep(name: &str, seeds: usize) -> (std::path::PathBuf, String, std::path::PathBuf) {
    let dir = tmpdir(name);
    let small = FLOWS.replace("seeds = 25", &format!("seeds = {seeds}"));
    let config = write_config(&dir, "s.toml", &small);
    let out_dir = dir.join("out");
    sweep_ok(&[], &config, &out_dir);
    (dir, config, out_dir)
}

#[test]
fn killed_sweep_resumes_to_the_uninterrupted_table() {
    let dir = tmpdir("sweep-kill");
    let config = write_config(&dir, "sweep.toml", FLOWS);
    let reference = dir.join("reference");
    sweep_ok(&["--threads", "1"], &config, &reference);
    let (header, rows) = table_without_wall(&reference);
    assert_eq!(rows.len(), 300);
    let status = header.iter().position(|h| h == "status").unwrap();
    assert!(rows
        .iter()
        .all(|r| r[status] == "Converged" || r[status] == "Completed"));

    // Kill a second sweep (all cores) once it has committed some rows.
    let killed = dir.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ddln"))
        .args([
            "sweep",
            "--config",
            &config,
            "--out",
            killed.to_str().unwrap(),
            "--quiet",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while log_lines(&killed) < 40 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let committed = log_lines(&killed);
    assert!(
        (40..300).contains(&committed),
        "killed after {committed} rows"
    );
    assert!(
        !killed.join("table.csv").exists(),
        "the table is written at the end"
    );

    let out = sweep_ok(&[], &config, &killed);
    let said = String::from_utf8_lossy(&out.stderr);
    // The log may have had a partial last line, cut on reopening: at most one row less.
    let resumed: usize = said
        .split(" of 300 rows already committed")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(resumed == committed || resumed + 1 == committed, "{said}");
    // Each row was committed once: the log holds exactly the table's rows.
    assert_eq!(log_lines(&killed), 300);
    assert_eq!(table_without_wall(&killed), (header, rows));
    let parquet = std::fs::read(killed.join("table.parquet")).unwrap();
    assert_eq!(&parquet[..4], b"PAR1");
    assert_eq!(&parquet[parquet.len() - 4..], b"PAR1");
}

#[test]
fn refuses_other_configs_other_files_and_a_held_lock() {
    let (dir, config, out_dir) = finished_sweep("sweep-refuse", 1);
    let small = FLOWS.replace("seeds = 25", "seeds = 1");
    let table = std::fs::read(out_dir.join("table.csv")).unwrap();

    // Another config into the same folder: refused, the table untouched.
    let other = write_config(&dir, "b.toml", &small.replace("0.5]", "0.6]"));
    let out = ddln(&[
        "sweep",
        "--config",
        &other,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("different config"), "{said}");
    assert_eq!(std::fs::read(out_dir.join("table.csv")).unwrap(), table);

    // A folder holding other files: refused, nothing written.
    let busy = dir.join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let out = ddln(&[
        "sweep",
        "--config",
        &config,
        "--out",
        busy.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert!(!busy.join("sweep.json").exists());

    // A folder another process holds the lock of: refused.
    let lock = std::fs::File::open(out_dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    let out = ddln(&[
        "sweep",
        "--config",
        &config,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another sweep"));
    drop(lock);

    // A config with an axis over no setting: refused before the folder is made.
    let bad = write_config(
        &dir,
        "c.toml",
        &small.replace("\"init.depth\"", "\"init.deep\""),
    );
    let fresh = dir.join("fresh");
    let out = ddln(&["sweep", "--config", &bad, "--out", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("deep") && said.contains("point 0"), "{said}");
    assert!(!fresh.exists());
}

#[test]
fn retry_failed_recomputes_only_the_failed_rows() {
    let dir = tmpdir("sweep-retry");
    // Some points need more than 700 steps (540 to 1000 here): MaxSteps for those only.
    let text = FLOWS
        .replace("seeds = 25", "seeds = 2")
        .replace("atol = 1e-12", "atol = 1e-12\nmax_steps = 700")
        .replace("tasks = [\"flow\", \"bias\"]", "tasks = [\"flow\"]");
    let config = write_config(&dir, "s.toml", &text);
    let out_dir = dir.join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--config",
            &config,
            "--out",
            out_dir.to_str().unwrap(),
            "--json",
            "--quiet",
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
    let first = run(&[]);
    let failed = first["by_status"]["MaxSteps"].as_u64().unwrap_or(0);
    assert!(failed > 0 && failed < 12, "{first}");
    let again = run(&[]);
    assert_eq!(again["computed"], 0);
    let retried = run(&["--retry-failed"]);
    assert_eq!(retried["retried"].as_u64(), Some(failed));
    assert_eq!(retried["computed"].as_u64(), Some(failed));
}

#[test]
fn plots_heat_maps_and_curves_from_the_table() {
    let (_, _, out_dir) = finished_sweep("sweep-plot", 2);
    let d = out_dir.to_str().unwrap();
    let out = ddln(&[
        "plot", d, "--x", "scale", "--y", "depth", "--color", "dist_l1", "--task", "bias",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(out_dir.join("plots/scale_depth_dist_l1.svg")).unwrap();
    assert!(svg.contains("dist_l1") && svg.contains("mean of 2 rows per cell"));
    assert!(
        std::fs::metadata(out_dir.join("plots/scale_depth_dist_l1.png"))
            .unwrap()
            .len()
            > 1000
    );
    let out = ddln(&[
        "plot",
        d,
        "--x",
        "scale",
        "--y",
        "final_loss",
        "--by",
        "depth",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("plots/final_loss_by_depth.svg").exists());
    let out = ddln(&["plot", d, "--x", "scale", "--y", "nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column `nothing`"));
}
