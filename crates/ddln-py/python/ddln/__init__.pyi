from . import data as data
from . import init as init
from ._ddln import DdlnError as DdlnError
from ._ddln import Run as Run
from ._ddln import __version__ as __version__
from ._ddln import gradient_descent as gradient_descent
from ._ddln import gradient_flow as gradient_flow

__all__ = ["DdlnError", "Run", "__version__", "data", "gradient_descent", "gradient_flow", "init"]
