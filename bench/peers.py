"""One run of a peer on one problem, printed as JSON (called by harness.py in a subprocess
so that a time budget can be enforced).

The ODE is the reduced gradient flow of a deep diagonal linear network (docs/math.md section 4),
identical to what `ddln::gradient_flow` integrates with `dynamics = "reduced"`:
    dv/dt = -P(v) * g(phi(v)),  phi(v) = v P(v),  g = 2 X^T (X theta - y)
with P_i(v) = s_i prod_{j != l_i} sqrt(v^2 + D_ij) built from the saved init.
"""
import json
import sys
import time

import numpy as np


def load(pdir):
    meta = json.load(open(f"{pdir}/meta.json"))
    X = np.load(f"{pdir}/X.npy")
    y = np.load(f"{pdir}/y.npy")
    init = np.load(f"{pdir}/init.npy")
    t_eval = np.load(f"{pdir}/t_eval.npy")
    return meta, X, y, init, t_eval


def reduced(init):
    L, d = init.shape
    l = np.argmin(np.abs(init), axis=0)
    v0 = init[l, np.arange(d)]
    mask = np.ones((L, d), bool)
    mask[l, np.arange(d)] = False
    others = init.T[mask.T].reshape(d, L - 1)  # d x (L-1)
    gaps = (np.abs(others) - np.abs(v0)[:, None]) * (np.abs(others) + np.abs(v0)[:, None])
    sign = np.prod(np.where(others > 0, 1.0, -1.0), axis=1)
    return v0, gaps, sign


def make_system(X, y, init):
    v0, gaps, sign = reduced(init)
    XtX2 = 2.0 * X.T @ X
    Xty2 = 2.0 * X.T @ y

    def parts(v):
        q = v[:, None] ** 2 + gaps
        P = sign * np.prod(np.sqrt(q), axis=1)
        return q, P

    def theta(v):
        return v * parts(v)[1]

    def f(t, v):
        _, P = parts(v)
        th = v * P
        g = XtX2 @ th - Xty2 if X.shape[0] >= X.shape[1] else 2.0 * X.T @ (X @ th - y)
        return -P * g

    def jac(t, v):
        q, P = parts(v)
        th = v * P
        g = 2.0 * X.T @ (X @ th - y)
        dP = P * np.sum(v[:, None] / q, axis=1)
        dphi = P + v * dP
        return np.diag(-dP * g) - (P[:, None] * XtX2) * dphi[None, :]

    return v0, f, jac, theta


def run_scipy(method, pdir, rtol):
    from scipy.integrate import solve_ivp

    meta, X, y, init, t_eval = load(pdir)
    v0, f, jac, theta = make_system(X, y, init)
    kw = {"jac": jac} if method in ("BDF", "Radau", "LSODA") else {}
    start = time.perf_counter()
    sol = solve_ivp(f, (0.0, t_eval[-1]), v0, method=method, t_eval=t_eval, rtol=rtol, atol=rtol * 1e-3, **kw)
    el = time.perf_counter() - start
    th = np.array([theta(sol.y[:, k]) for k in range(sol.y.shape[1])])
    return {"time": el, "theta": th.tolist(), "grad_evals": int(sol.nfev), "jacobian_evals": int(sol.njev),
            "factorizations": int(sol.nlu), "status": sol.message}


def run_diffrax(method, pdir, rtol):
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp
    import diffrax

    meta, X, y, init, t_eval = load(pdir)
    v0, gaps, sign = reduced(init)
    Xj, yj, gj, sj = jnp.asarray(X), jnp.asarray(y), jnp.asarray(gaps), jnp.asarray(sign)

    def P(v):
        return sj * jnp.prod(jnp.sqrt(v[:, None] ** 2 + gj), axis=1)

    def vf(t, v, args):
        p = P(v)
        return -p * (2.0 * Xj.T @ (Xj @ (v * p) - yj))

    solver = {"tsit5": diffrax.Tsit5(), "kvaerno5": diffrax.Kvaerno5()}[method]

    @jax.jit
    def solve(v0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(vf), solver, t0=0.0, t1=float(t_eval[-1]), dt0=None, y0=v0,
            saveat=diffrax.SaveAt(ts=jnp.asarray(t_eval)),
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol * 1e-3),
            max_steps=2_000_000, throw=False)
        return sol.ys, sol.stats["num_steps"], sol.result

    v0j = jnp.asarray(v0)
    start = time.perf_counter()
    ys, steps, res = solve(v0j)
    ys.block_until_ready()
    first = time.perf_counter() - start
    start = time.perf_counter()
    ys, steps, res = solve(v0j)
    ys.block_until_ready()
    el = time.perf_counter() - start
    ys = np.asarray(ys)
    th = ys * np.asarray(jax.vmap(P)(jnp.asarray(ys)))
    return {"time": el, "compile_time": first - el, "theta": th.tolist(), "steps": int(steps),
            "status": str(res)}


def run_numpy_gd(pdir, eta):
    meta, X, y, init, t_eval = load(pdir)
    U = init.copy()
    out = []
    step = 0
    start = time.perf_counter()
    for t in t_eval:
        target = int(round(t / eta))
        while step < target:
            th = np.prod(U, axis=0)
            g = 2.0 * X.T @ (X @ th - y)
            # d theta / d u^j = prod_{k != j} u^k (no division: products of the others)
            grads = np.empty_like(U)
            for j in range(U.shape[0]):
                grads[j] = np.prod(np.delete(U, j, axis=0), axis=0) * g
            U -= eta * grads
            step += 1
        out.append(np.prod(U, axis=0))
    el = time.perf_counter() - start
    return {"time": el, "theta": np.array(out).tolist(), "grad_evals": step, "steps": step}


if __name__ == "__main__":
    kind, method, pdir, x = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    if kind == "scipy":
        r = run_scipy(method, pdir, x)
    elif kind == "diffrax":
        r = run_diffrax(method, pdir, x)
    else:
        r = run_numpy_gd(pdir, x)
    print(json.dumps(r))
