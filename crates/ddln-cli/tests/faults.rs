//! Faults around a run: signals, kills while writing, planted links, foreign folders,
//! exit codes and a closed stdout. The references are the command's own uninterrupted
//! outputs (byte for byte) and the documented exit codes.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::write_f64;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ddln"))
}

fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ddln-faults-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A seeded recipe run into `out` (`extra` appended).
fn train_args(out: &Path, seed: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "train", "--n", "20", "--d", "50", "--k", "3", "--depth", "3", "--scale", "0.5", "--seed",
        seed, "--quiet", "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out.to_string_lossy().into_owned());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Every file of a folder (names and bytes), hidden staging siblings excluded.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the pid of a child we spawned.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    None
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// SIGINT and SIGTERM stop a long run within a second; the complete output set of what
/// was computed is published (status Stopped, the time reached, the trajectory so far)
/// and the exit code is 130.
#[test]
fn sigint_and_sigterm_keep_the_partial_run() {
    let dir = tmpdir("signals");
    for (k, sig) in [libc::SIGINT, libc::SIGTERM].into_iter().enumerate() {
        let out = dir.join(format!("run{k}"));
        // Descent for 10^9 steps: minutes, unless stopped.
        let args = train_args(
            &out,
            "1",
            &[
                "--method",
                "descent",
                "--lr",
                "1e-4",
                "--steps",
                "1000000000",
                "--record-every",
                "100000",
            ],
        );
        let mut child = bin().args(&args).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        signal(&child, sig);
        let code = wait_with_timeout(&mut child, Duration::from_secs(10));
        let took = sent.elapsed();
        assert_eq!(code, Some(130), "signal {sig}");
        assert!(took < Duration::from_secs(2), "stopping took {took:?}");
        let s = summary(&out);
        assert_eq!(s["status"], "Stopped");
        assert!(s["message"].as_str().unwrap().contains("interrupted"));
        assert!(s["t_final"].as_f64().unwrap() > 0.0);
        for f in [
            "config.toml",
            "trajectory.npz",
            "X.npy",
            "loss.png",
            ".ddln-output.json",
        ] {
            assert!(out.join(f).is_file(), "missing {f}");
        }
        let mut npz = npyz::npz::NpzArchive::open(out.join("trajectory.npz")).unwrap();
        let times: Vec<f64> = npz.by_name("t").unwrap().unwrap().into_vec().unwrap();
        assert!(times.len() >= 2, "the trajectory so far is kept");
        assert!(times.windows(2).all(|w| w[0] < w[1]));
    }
}

/// SIGINT while `reproduce` runs its last experiment: the experiments finished before
/// are published with a summary that says where it stopped; the interrupted one is not
/// in the folder; exit code 130.
#[test]
fn sigint_during_reproduce() {
    use std::io::BufRead;
    let dir = tmpdir("reproduce");
    let out = dir.join("paper");
    let mut child = bin()
        .args(["reproduce", "--quick", "--out", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().contains("running rich_kernel") {
            break;
        }
    }
    let sent = Instant::now();
    signal(&child, libc::SIGINT);
    let code = wait_with_timeout(&mut child, Duration::from_secs(60));
    assert_eq!(code, Some(130));
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
    let s = summary(&out);
    assert_eq!(s["status"], "Stopped");
    assert_eq!(s["stopped_before"], "rich_kernel");
    assert_eq!(s["all_claims_hold"], false);
    let names: Vec<&str> = s["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["figure3", "figure4"]);
    assert!(out.join("figure3/figure3.png").is_file() && out.join("figure4").is_dir());
    assert!(!out.join("rich_kernel").exists());
}

/// SIGKILL at random moments while a run writes over the folder of another run: the
/// folder is always exactly one of the two complete sets (byte for byte), never a mix,
/// and the next run removes the staging folders the killed ones left.
#[test]
fn sigkill_never_leaves_a_mixed_folder() {
    let dir = tmpdir("kill");
    let reference = |name: &str, seed: &str| {
        let out = dir.join(name);
        let code = bin()
            .args(train_args(&out, seed, &[]))
            .status()
            .unwrap()
            .code();
        assert_eq!(code, Some(0));
        snapshot(&out)
    };
    let old = reference("old", "1");
    let started = Instant::now();
    let new = reference("new", "2");
    let life = started.elapsed().as_secs_f64();
    assert_ne!(old, new);
    let out = dir.join("target");
    let mut finished = 0;
    for trial in 0..50u64 {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        for (name, bytes) in &old {
            std::fs::write(out.join(name), bytes).unwrap();
        }
        let mut child = bin().args(train_args(&out, "2", &[])).spawn().unwrap();
        // Moments spread over the run's life (a fixed scrambled order of 50 fractions of
        // 1.1 times its duration), most of them inside the run, some while it writes.
        let fraction = (trial * 37 % 50) as f64 / 50.0;
        std::thread::sleep(Duration::from_secs_f64(1.1 * life * fraction));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            finished += 1;
        }
        let now = snapshot(&out);
        if now != old && now != new {
            let differs = |set: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
                let mut names: Vec<String> = set.keys().chain(now.keys()).cloned().collect();
                names.dedup();
                names
                    .into_iter()
                    .filter(|n| set.get(n) != now.get(n))
                    .collect()
            };
            panic!(
                "trial {trial}: a mixed folder (differs from old: {:?}, from new: {:?})",
                differs(&old),
                differs(&new)
            );
        }
    }
    println!("{finished} of 50 runs finished before the kill (a run takes {life:.3} s)");
    assert!(finished < 40, "most kills must land inside the run");
    // A run after the kills cleans the staging folders they left.
    let code = bin()
        .args(train_args(&out, "2", &[]))
        .status()
        .unwrap()
        .code();
    assert_eq!(code, Some(0));
    let stale: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".staging-"))
        .collect();
    assert!(stale.is_empty(), "{} staging folders left", stale.len());
    assert_eq!(snapshot(&out), new);
}

/// Links planted in an output folder are never followed: the files they point to are
/// unchanged after a run publishes over that folder. A link as --out is refused.
#[test]
fn planted_links_are_not_followed() {
    let dir = tmpdir("links");
    let out = dir.join("run");
    assert_eq!(
        bin()
            .args(train_args(&out, "1", &[]))
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    for name in [
        "summary.json",
        "trajectory.npz",
        "config.toml",
        ".summary.json.tmp1",
    ] {
        let _ = std::fs::remove_file(out.join(name));
        std::os::unix::fs::symlink(&victim, out.join(name)).unwrap();
    }
    assert_eq!(
        bin()
            .args(train_args(&out, "2", &[]))
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(!out.join("summary.json").is_symlink());
    let link = dir.join("link");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    let o = bin().args(train_args(&link, "1", &[])).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("symbolic link"));
}

/// A folder holding something else (another command's output, or foreign files) is
/// refused before anything is computed, and left untouched.
#[test]
fn foreign_folders_are_refused() {
    let dir = tmpdir("foreign");
    let mine = dir.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), b"my notes").unwrap();
    let o = bin().args(train_args(&mine, "1", &[])).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not written by ddln"));
    assert_eq!(snapshot(&mine).len(), 1);
    let bias = dir.join("bias");
    let o = bin()
        .args([
            "bias", "--n", "10", "--d", "20", "--k", "2", "--depth", "2", "--scale", "0.1",
        ])
        .args(["--out", bias.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let before = snapshot(&bias);
    let o = bin().args(train_args(&bias, "1", &[])).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("holds the output of `ddln bias`"));
    assert_eq!(snapshot(&bias), before);
}

/// Exit codes: Diverged 3, MaxSteps 4, bad input 1 (nothing written), an unknown
/// experiment 1 with the valid names; a closed stdout ends quietly.
#[test]
fn exit_codes_and_closed_stdout() {
    let dir = tmpdir("codes");
    let diverged = dir.join("diverged");
    let o = bin()
        .args(train_args(
            &diverged,
            "1",
            &["--method", "descent", "--lr", "10", "--steps", "100"],
        ))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(summary(&diverged)["status"], "Diverged");
    let short = dir.join("short");
    let o = bin()
        .args(train_args(&short, "1", &["--max-steps", "3"]))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(summary(&short)["status"], "MaxSteps");
    let bad = dir.join("bad");
    let o = bin()
        .args(train_args(&bad, "1", &["--rtol", "-1e-8"]))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!bad.exists(), "nothing is written on bad input");
    let o = bin()
        .args([
            "reproduce",
            "--only",
            "figur3",
            "--out",
            dir.join("p").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("figur3") && err.contains("figure3, figure4, rich_kernel"),
        "{err}"
    );
    // --json into a pipe whose reader is already gone.
    let mut child = bin()
        .args(train_args(&dir.join("piped"), "1", &["--json"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// One thread and two give the same bits (flow with the threaded gradient and the
/// threaded Gram product of the stiff solver, and descent), and the count is recorded.
#[test]
fn thread_counts_give_identical_bits() {
    let dir = tmpdir("threads");
    // n d = 2.4e5 .. 6e5 entries: above the threaded kernel's threshold; n^2 d = 1.8e8
    // for the Gram product of the stiff steps.
    let cases: [&[&str]; 2] = [
        &[
            "--n", "300", "--d", "2000", "--k", "5", "--depth", "3", "--scale", "0.05", "--t-end",
            "30",
        ],
        &[
            "--n", "120", "--d", "2000", "--depth", "2", "--scale", "0.3", "--method", "descent",
            "--lr", "1e-4", "--steps", "200",
        ],
    ];
    for (c, case) in cases.iter().enumerate() {
        let mut finals = Vec::new();
        for threads in ["1", "2"] {
            let out = dir.join(format!("c{c}t{threads}"));
            let o = bin()
                .args([
                    "train",
                    "--quiet",
                    "--summary-only",
                    "--threads",
                    threads,
                    "--out",
                ])
                .arg(&out)
                .args(*case)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let s = summary(&out);
            assert_eq!(s["threads"].as_u64(), Some(threads.parse().unwrap()));
            finals.push((
                s["final_theta"].clone(),
                s["final_loss"].clone(),
                s["stats"].clone(),
            ));
        }
        assert_eq!(finals[0], finals[1], "case {c}: 1 and 2 threads differ");
    }
}

/// A run on the user's files given as relative paths (an init named U0.npy) is repeated
/// bit for bit by its saved config.toml from another working directory.
#[test]
fn saved_config_repeats_the_run_from_anywhere() {
    let dir = tmpdir("repeat");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let write = |name: &str, data: &[f64], shape: &[u64]| write_f64(&work.join(name), data, shape);
    write("data_x.npy", &[1.0, 0.2, 0.0, 0.3, 1.0, 0.5], &[2, 3]);
    write("targets.npy", &[0.7, -0.4], &[2]);
    write("U0.npy", &[0.3, 0.2, 0.4, 0.5, -0.1, 0.2], &[2, 3]);
    let o = bin()
        .current_dir(&work)
        .args([
            "train",
            "--x",
            "data_x.npy",
            "--y",
            "targets.npy",
            "--init",
            "U0.npy",
        ])
        .args(["--t-end", "10", "--quiet", "--json", "--out", "run"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = bin()
        .current_dir(&dir)
        .args([
            "train",
            "--config",
            "work/run/config.toml",
            "--quiet",
            "--json",
            "--out",
            "again",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let second: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(first["final_theta"], second["final_theta"]);
    assert_eq!(first["stats"], second["stats"]);
}

/// Sizes are checked before allocating: an overflowing or too large request is an
/// error naming the option and the memory it would need (the machine's MemAvailable is
/// far below 8 * 10^12 bytes here), exit 1, nothing written.
#[test]
fn huge_sizes_are_refused_before_allocating() {
    let dir = tmpdir("huge");
    for (args, needle) in [
        (vec!["--d", "18446744073709551615"], "overflows"),
        (
            vec!["--n", "1000000", "--d", "1000000"],
            "would need 8000.000 GB",
        ),
        (vec!["--n-record", "1000000000000"], "would need"),
    ] {
        let out = dir.join("x");
        let o = bin()
            .args(["train", "--quiet", "--out", out.to_str().unwrap()])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !out.exists(), "{err}");
    }
}

/// The memory a command will need is estimated before it allocates: with the memory
/// capped (DDLN_MEMORY_LIMIT) below that estimate but above the size of X itself, the
/// predictor and a flow are refused with the estimate, part by part, in the message;
/// exit 1, nothing written. The reference is the size arithmetic of the parts: for
/// 1000 x 2000 (X 16 MB) the predictor's X X^T and its factor are 2 x 8 MB; for
/// 200 x 2000 (X 3.2 MB) the flow's scaled copy of X is 3.2 MB.
#[test]
fn runs_too_large_for_the_memory_are_refused_with_the_estimate() {
    let dir = tmpdir("memory-cap");
    for (command, n, cap, needles) in [
        (
            "bias",
            "1000",
            "20M",
            vec![
                "the Gram matrix of X (1000 x 2000)",
                "X X^T and its Cholesky factor 16.000 MB",
                "Newton matrix, its preconditioner and their factors 40.000 MB",
            ],
        ),
        (
            "train",
            "200",
            "3.5M",
            vec![
                "a flow on X (200 x 2000)",
                "Jacobian capacitance (n x n) and its factor 0.640 MB",
                "Jacobian column block 3.200 MB",
            ],
        ),
    ] {
        let problem = ["--n", n, "--d", "2000", "--k", "5", "--depth", "2"];
        let out = dir.join(command);
        let o = bin()
            .env("DDLN_MEMORY_LIMIT", cap)
            .args([command, "--out", out.to_str().unwrap()])
            .args(problem)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{command}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{command}: {needle} not in {err}");
        }
        assert!(err.contains("DDLN_MEMORY_LIMIT"), "{err}");
        assert!(!err.contains("panicked") && !out.exists(), "{err}");
        // Without the cap the same command runs.
        let o = bin()
            .args([command, "--out", out.to_str().unwrap()])
            .args(problem)
            .args(if command == "train" {
                &["--t-end", "1", "--quiet"][..]
            } else {
                &["--no-baselines"][..]
            })
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // A cap that is not a size is an error naming the variable.
    let o = bin()
        .env("DDLN_MEMORY_LIMIT", "lots")
        .args(["bias", "--n", "20", "--d", "50", "--k", "2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("DDLN_MEMORY_LIMIT") && err.contains("not a size"),
        "{err}"
    );
}
