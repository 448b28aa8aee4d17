//! Throughput of the gradient kernel `Problem::loss_and_gradient` at n = 2000, d = 20000
//! (X is 320 MB, far beyond every cache) next to the machine's memory bandwidth measured
//! in the same run: a STREAM-style triad `a = b + s c` and a read-only sum over arrays of
//! 128 MiB each, on the same rayon pool as the kernel.
//!
//! The kernel reads X once per gradient (`n d 8` bytes; theta and the gradient stay in
//! cache), so its bytes/s divided by the read bandwidth is the fraction of the attainable
//! rate it reaches. Run with `cargo bench -p ddln --bench kernel`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use ddln::{Loss, Problem, Threading};
use rayon::prelude::*;

const N: usize = 2000;
const D: usize = 20_000;
/// Elements of each bandwidth array (128 MiB of f64).
const STREAM_LEN: usize = 1 << 24;

fn problem() -> Problem {
    // A cheap deterministic fill (the values do not matter for throughput).
    let x: Vec<f64> = (0..N * D)
        .map(|k| ((k as u64).wrapping_mul(2654435761) % 1000) as f64 * 1e-3 - 0.5)
        .collect();
    let y: Vec<f64> = (0..N).map(|i| (i % 7) as f64 - 3.0).collect();
    Problem::new(x, N, D, y, Loss::Square).expect("valid problem")
}

fn triad(a: &mut [f64], b: &[f64], c: &[f64]) {
    const CHUNK: usize = 1 << 16;
    a.par_chunks_mut(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .zip(c.par_chunks(CHUNK))
        .for_each(|((a, b), c)| {
            for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
                *a = b + 3.0 * c;
            }
        });
}

fn read_sum(a: &[f64]) -> f64 {
    a.par_chunks(1 << 16)
        .map(|c| {
            let mut acc = [0.0; 4];
            for q in c.chunks_exact(4) {
                for k in 0..4 {
                    acc[k] += q[k];
                }
            }
            acc.iter().sum::<f64>()
        })
        .sum()
}

/// Best wall time of `reps` calls, in seconds.
fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let threads = rayon::current_num_threads();
    let mut a = vec![0.0; STREAM_LEN];
    let b = vec![1.0; STREAM_LEN];
    let c = vec![2.0; STREAM_LEN];
    let bytes = (STREAM_LEN * 8) as f64;
    let t_triad = best_of(10, || triad(&mut a, &b, &c));
    let t_read = best_of(10, || {
        black_box(read_sum(&b));
    });
    let triad_bw = 3.0 * bytes / t_triad;
    let read_bw = bytes / t_read;

    let mut prob = problem();
    let theta: Vec<f64> = (0..D).map(|i| ((i % 13) as f64 - 6.0) * 1e-3).collect();
    let mut grad = vec![0.0; D];
    let x_bytes = (N * D * 8) as f64;
    let mut rates = Vec::new();
    for mode in [Threading::Auto, Threading::Off] {
        prob.set_threading(mode);
        let t = best_of(10, || {
            black_box(prob.loss_and_gradient(&theta, &mut grad));
        });
        rates.push((mode, prob.gradient_blocks(), x_bytes / t, t));
    }
    println!("machine: {threads} rayon threads");
    println!(
        "memory bandwidth: triad {:.2} GB/s (a = b + 3c, 24 B/element), read {:.2} GB/s",
        triad_bw / 1e9,
        read_bw / 1e9
    );
    for (mode, blocks, rate, t) in &rates {
        println!(
            "kernel n={N} d={D} threading={mode:?} ({blocks} blocks): {:.2} ms/gradient, {:.2} GB/s of X = {:.0}% of read bandwidth, {:.0}% of triad bandwidth",
            t * 1e3,
            rate / 1e9,
            100.0 * rate / read_bw,
            100.0 * rate / triad_bw
        );
    }

    let mut crit = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3))
        .configure_from_args();
    {
        let mut group = crit.benchmark_group("bandwidth");
        group.throughput(Throughput::Bytes(3 * STREAM_LEN as u64 * 8));
        group.bench_function("triad", |bench| bench.iter(|| triad(&mut a, &b, &c)));
        group.throughput(Throughput::Bytes(STREAM_LEN as u64 * 8));
        group.bench_function("read", |bench| bench.iter(|| black_box(read_sum(&b))));
        group.finish();
    }
    {
        let mut group = crit.benchmark_group("gradient_kernel_2000x20000");
        group.throughput(Throughput::Bytes((N * D * 8) as u64));
        for mode in [Threading::Auto, Threading::Off] {
            prob.set_threading(mode);
            group.bench_function(format!("{mode:?}"), |bench| {
                bench.iter(|| black_box(prob.loss_and_gradient(&theta, &mut grad)))
            });
        }
        group.finish();
    }
    crit.final_summary();
}
