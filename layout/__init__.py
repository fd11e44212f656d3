"""layout: plan the layout of compulsory schools from where children live and will live.

Examples
--------
>>> import layout
>>> isinstance(layout.__version__, str)
True
"""

from importlib.metadata import PackageNotFoundError, version

from . import allocate as allocate
from . import closure as closure
from . import cohorts as cohorts
from . import costs as costs
from . import demand as demand
from . import errors as errors
from . import indicators as indicators
from . import land as land
from . import maps as maps
from . import optimize as optimize
from . import pipeline as pipeline
from . import postgis as postgis
from . import province as province
from . import provision as provision
from . import report as report
from . import scenarios as scenarios
from . import schema as schema
from . import seats as seats
from . import standards as standards
from . import study as study
from . import synthetic as synthetic
from . import yields as yields

try:
    __version__ = version("layout")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"
