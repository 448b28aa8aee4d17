//! The local backend: the pending jobs of a session on worker threads that each take the
//! next job from one shared counter (a job of a few milliseconds costs an atomic add), each
//! row committed by the calling thread as soon as it is done. Simulations are queued
//! before predictions, so that the long jobs start first and the tail is short ones.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::evaluate::evaluate;
use super::row::Row;
use super::spec::Task;
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
    let mut pending = session.pending();
    let plan = session.plan.clone();
    // Stable: within a kind, jobs keep table order.
    pending.sort_by_key(|&j| plan.jobs[j].task == Task::Bias);
    let root = session.root().to_path_buf();
    let workers = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(pending.len().max(1));
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Result<Row>>();
    let total = pending.len();
    let mut failure = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (plan, stop, next, pending, root, tx) =
                (&plan, &stop, &next, &pending, &root, tx.clone());
            scope.spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= pending.len() || stop.load(Ordering::Relaxed) {
                    break;
                }
                match evaluate(plan, &plan.jobs[pending[k]], stop, Some(root)) {
                    Ok(Some(row)) => {
                        let _ = tx.send(Ok(row));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        }
        drop(tx);
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
