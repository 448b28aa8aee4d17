"""Seeded data recipes of the Rust core (``ddln::recipes``).

The same seed gives the same arrays as the Rust core and the ``ddln`` CLI.
"""

from ._ddln import gaussian, sparse_recovery

__all__ = ["gaussian", "sparse_recovery"]
