"""Run control from Python: the on_step callback, Ctrl-C (KeyboardInterrupt), the
progress bar, and the GIL being released during a run."""

import _thread
import signal
import threading
import time

import numpy as np
import pytest

import ddln
from conftest import long_flow_problem


def test_callback_false_stops_the_run(small):
    X, y, U0 = small
    seen = []

    def on_step(t, loss):
        seen.append((t, loss))
        return len(seen) < 5  # False on the 5th call: stop

    run = ddln.gradient_descent(X, y, U0, lr=1e-3, steps=1000, on_step=on_step)
    assert run.status == "Stopped"
    assert len(seen) == 5
    assert "stopped by an observer at iteration 4" in run.message
    # The callback saw t_k = k * lr and the loss of the iterate (checked against the record).
    np.testing.assert_allclose([t for t, _ in seen], 1e-3 * np.arange(5), rtol=1e-15)
    assert seen[0][1] == run.loss[0]

    flow_seen = []
    run = ddln.gradient_flow(
        X, y, U0, t_end=50.0, on_step=lambda t, loss: flow_seen.append(t) or t < 1.0
    )
    assert run.status == "Stopped"
    assert flow_seen[-1] >= 1.0 and all(t < 1.0 for t in flow_seen[:-1])
    assert run.t_final == flow_seen[-1]


def test_callback_none_or_true_continues_and_stride(small):
    X, y, U0 = small
    calls = []
    run = ddln.gradient_descent(
        X, y, U0, lr=1e-3, steps=100, on_step=lambda t, l: calls.append(t), callback_every=10
    )
    assert run.status == "Completed"
    # Iterations 0, 10, ..., 100 (the observer sees the initial state and every step).
    assert len(calls) == 11
    run = ddln.gradient_descent(X, y, U0, lr=1e-3, steps=20, on_step=lambda t, l: True)
    assert run.status == "Completed"


def test_callback_exception_propagates(small):
    X, y, U0 = small

    class Boom(RuntimeError):
        pass

    def on_step(t, loss):
        if t > 0.01:
            raise Boom("from the callback")
        return True

    with pytest.raises(Boom, match="from the callback") as caught:
        ddln.gradient_descent(X, y, U0, lr=1e-3, steps=1000, on_step=on_step)
    # The partial run rides along on the exception.
    assert caught.value.run.status == "Stopped" and caught.value.run.t_final > 0.01
    # A KeyboardInterrupt raised inside the callback also surfaces as is.
    with pytest.raises(KeyboardInterrupt):
        ddln.gradient_flow(X, y, U0, on_step=lambda t, l: (_ for _ in ()).throw(KeyboardInterrupt))


def test_ctrl_c_interrupts_a_long_run_promptly():
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    X, y, U0, kwargs = long_flow_problem()
    delay = 0.3
    timer = threading.Timer(delay, _thread.interrupt_main)  # simulates SIGINT (Ctrl-C)
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt) as caught:
        ddln.gradient_flow(X, y, U0, **kwargs)
    elapsed = time.perf_counter() - start
    timer.join()
    print(f"\nKeyboardInterrupt {1e3 * (elapsed - delay):.1f} ms after SIGINT")
    # Signals are polled every ~50 ms; 1 s leaves room for a loaded machine.
    assert elapsed < delay + 1.0
    # The exception carries the run up to the interrupt.
    partial = caught.value.run
    assert partial.status is ddln.Status.Stopped and 0 < partial.t_final < kwargs["t_end"]
    assert partial.t[-1] <= partial.t_final and len(partial.t) >= 1
    assert np.all(np.isfinite(partial.final_theta))


def test_ctrl_c_interrupts_implicit_bias_promptly():
    # The predictor and the LP baselines take ~1.1 s here (measured); Ctrl-C after 0.1 s
    # must raise at once, not when they finish.
    X, y = ddln.data.sparse_recovery(n=400, d=4000, k=5, seed=0)
    U0 = ddln.init.scaled(depth=3, d=4000, scale=0.05, zero_first=True, seed=1)
    delay = 0.1
    timer = threading.Timer(delay, _thread.interrupt_main)
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        ddln.implicit_bias(X, y, U0)
    elapsed = time.perf_counter() - start
    timer.join()
    assert elapsed < delay + 1.0, elapsed


def test_gil_is_released_during_a_run():
    X, y, U0, kwargs = long_flow_problem()
    kwargs["max_steps"] = 15_000  # ~0.5 s here; no callback, so Python never runs in between
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    worker = threading.Thread(target=spin)
    worker.start()
    # The spinner's free rate, while the main thread sleeps (GIL released).
    c0, t0 = counter[0], time.perf_counter()
    time.sleep(0.1)
    rate = (counter[0] - c0) / (time.perf_counter() - t0)
    before, start = counter[0], time.perf_counter()
    run = ddln.gradient_flow(X, y, U0, **kwargs)
    duration = time.perf_counter() - start
    during = counter[0] - before
    stop.set()
    worker.join()
    assert run.status == "MaxSteps"
    print(
        f"\nsecond thread: {during} increments during the {duration:.2f} s run "
        f"({during / (rate * duration):.0%} of its free rate)"
    )
    # Holding the GIL, the run would freeze the spinner (~0 increments); released, the
    # spinner keeps a good part of its free rate (the run attaches only every ~50 ms).
    assert during > 0.1 * rate * duration


def test_progress_bar_goes_to_stderr(small, capsys):
    X, y, U0 = small
    ddln.gradient_descent(X, y, U0, lr=1e-3, steps=200, progress=True)
    err = capsys.readouterr().err
    assert "100.0%" in err and err.endswith("\n") and "[" + "#" * 30 + "]" in err
    ddln.gradient_flow(X, y, U0, t_end=5.0, progress=True)
    assert "100.0%" in capsys.readouterr().err
    ddln.gradient_flow(X, y, U0, t_end=5.0)
    assert capsys.readouterr().err == ""
