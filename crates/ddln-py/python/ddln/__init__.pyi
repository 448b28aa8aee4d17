from . import data as data
from . import init as init
from .saddles import saddles as saddles
from .sweep import sweep as sweep
from ._ddln import DdlnError as DdlnError
from ._ddln import Entropy as Entropy
from ._ddln import Prediction as Prediction
from ._ddln import Run as Run
from ._ddln import __version__ as __version__
from ._ddln import entropy as entropy
from ._ddln import gradient_descent as gradient_descent
from ._ddln import gradient_flow as gradient_flow
from ._ddln import implicit_bias as implicit_bias
from ._ddln import mirror_check as mirror_check
from ._ddln import rich_to_kernel_sweep as rich_to_kernel_sweep

__all__ = [
    "DdlnError",
    "Entropy",
    "Prediction",
    "Run",
    "__version__",
    "data",
    "entropy",
    "gradient_descent",
    "gradient_flow",
    "implicit_bias",
    "init",
    "mirror_check",
    "rich_to_kernel_sweep",
    "saddles",
    "sweep",
]
