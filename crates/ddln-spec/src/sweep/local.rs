//! The local backend: the pending jobs of a session on a thread pool, one job per thread
//! at a time (work-stealing, so jobs of a few milliseconds cost little scheduling), each
//! row committed by the calling thread as soon as it is done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::evaluate::{evaluate, Row};
use super::{RunInfo, Session};

/// How often the calling thread asks `should_stop` while it waits for rows.
const POLL: Duration = Duration::from_millis(100);

/// Runs the pending jobs of `session` on `threads` threads (0: all cores); `on_row` sees
/// each committed row with the count done so far and the count this run started with;
/// `should_stop` is polled, and once it says yes the jobs in flight are abandoned (not
/// committed) and no new job starts. Returns how the run went; the caller then calls
/// [`Session::finish`].
pub fn run_local(
    session: &mut Session,
    threads: usize,
    mut on_row: impl FnMut(&Row, usize, usize),
    should_stop: impl Fn() -> bool,
) -> Result<RunInfo> {
    let start = Instant::now();
    let pending = session.pending();
    let plan = session.plan.clone();
    let root = session.root().to_path_buf();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let workers = pool.current_num_threads();
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<Row>>();
    let total = pending.len();
    let mut failure = None;
    std::thread::scope(|scope| {
        let (plan, stop, pending, root) = (&plan, &stop, &pending, &root);
        scope.spawn(move || {
            pool.install(|| {
                pending.par_iter().for_each_with(tx, |tx, &j| {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    match evaluate(plan, &plan.jobs[j], stop, Some(root)) {
                        Ok(Some(row)) => {
                            let _ = tx.send(Ok(row));
                        }
                        Ok(None) => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            });
        });
        let mut done = 0;
        let mut polled = Instant::now();
        loop {
            // Asked between rows too: rows may arrive faster than the timeout.
            if polled.elapsed() >= POLL {
                polled = Instant::now();
                if should_stop() {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            match rx.recv_timeout(POLL) {
                Ok(Ok(row)) => {
                    if failure.is_none() {
                        match session.commit(row.clone()) {
                            Ok(()) => {
                                done += 1;
                                on_row(&row, done, total);
                            }
                            Err(e) => {
                                failure = Some(e);
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                }
                Ok(Err(e)) => {
                    failure.get_or_insert(e);
                    stop.store(true, Ordering::Relaxed);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(RunInfo {
        backend: "local".into(),
        workers,
        wall_s: start.elapsed().as_secs_f64(),
        stopped: stop.load(Ordering::Relaxed),
    })
}
