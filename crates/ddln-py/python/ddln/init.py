"""Seeded inits of the Rust core (``ddln::recipes::InitRecipe``).

The same seed gives the same layers as the Rust core and the ``ddln`` CLI.
"""

from ._ddln import preset, scaled

__all__ = ["preset", "scaled"]
