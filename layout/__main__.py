"""Run the ``layout`` command: ``python -m layout plan``."""

import sys

from .cli import main

sys.exit(main())
