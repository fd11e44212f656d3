"""layout: plan the layout of compulsory schools from where children live and will live.

Examples
--------
>>> import layout
>>> isinstance(layout.__version__, str)
True
"""

from importlib.metadata import PackageNotFoundError, version

from . import errors as errors
from . import optimize as optimize
from . import schema as schema

try:
    __version__ = version("layout")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"
