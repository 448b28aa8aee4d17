"""The design matrix is lent to the core, not copied: measured as the growth of the
process's peak memory (getrusage) in a fresh interpreter, against the size of X."""

import json
import subprocess
import sys

import numpy as np
import ddln

# Runs one call on a 400 x 100000 X (320 MB; the run's n x n matrices are 1.3 MB) and
# prints the growth of the peak RSS during the call, in bytes (ru_maxrss is in KiB on
# Linux), and the final theta.
PROBE = """
import json, resource, sys
import numpy as np, ddln
n, d = 400, 100000
rng = np.random.default_rng(0)
X = rng.normal(size=(n, d))
if sys.argv[1] == "fortran":
    X = np.asfortranarray(X)
y = X[:, :3].sum(axis=1)
U0 = np.vstack([np.full(d, 0.1), np.full(d, 0.1)])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
run = ddln.gradient_descent(X, y, U0, lr=1e-7, steps=2, record_every=1)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth": (after - before) * 1024, "x_bytes": X.nbytes,
                  "theta": run.theta[:5].tolist()}))
"""


def probe(layout):
    out = subprocess.run([sys.executable, "-c", PROBE, layout], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_a_c_contiguous_x_is_not_copied():
    got = probe("c")
    # A copy of X alone would add x_bytes to the peak; the run's own buffers are
    # O(d + n^2) (the rate check's Gram matrix and its eigenvectors).
    assert got["growth"] < 0.25 * got["x_bytes"], got


def test_another_layout_is_converted_once():
    got = probe("fortran")
    # One C-ordered conversion (x_bytes), never a second copy in the core.
    assert got["growth"] < 1.25 * got["x_bytes"], got
    # ... and the same numbers as from the C-ordered array.
    assert got["theta"] == probe("c")["theta"]


def test_a_lent_view_gives_the_bits_of_a_copy():
    """A strided view, a read-only array and a misaligned buffer give the same run as a
    fresh C-contiguous copy (the reference)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 16))
    y = rng.normal(size=6)
    U0 = np.full((2, 8), 0.3)
    want = ddln.gradient_descent(np.ascontiguousarray(X[:, ::2]), y, U0, lr=1e-3, steps=50).theta
    strided = ddln.gradient_descent(X[:, ::2], y, U0, lr=1e-3, steps=50).theta
    frozen = np.ascontiguousarray(X[:, ::2])
    frozen.setflags(write=False)
    readonly = ddln.gradient_descent(frozen, y, U0, lr=1e-3, steps=50).theta
    raw = np.zeros(6 * 8 * 8 + 1, dtype=np.uint8)
    misaligned = np.frombuffer(raw.data, dtype=np.float64, count=48, offset=1).reshape(6, 8)
    buffer = np.ascontiguousarray(X[:, ::2])
    raw[1:] = buffer.view(np.uint8).ravel()
    assert not misaligned.flags.aligned
    unaligned = ddln.gradient_descent(misaligned, y, U0, lr=1e-3, steps=50).theta
    for got in (strided, readonly, unaligned):
        np.testing.assert_array_equal(got, want)
