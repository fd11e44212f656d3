"""The ``layout`` command.

Examples
--------
>>> from layout.cli import build_parser
>>> build_parser().parse_args(["plan", "--quiet"]).quiet
True
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tqdm.contrib.logging import logging_redirect_tqdm

from . import __version__
from .errors import LayoutError
from .pipeline import plan

LOG = logging.getLogger("layout")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``layout`` command."""
    parser = argparse.ArgumentParser(
        prog="layout", description="Plan the layout of compulsory schools."
    )
    parser.add_argument("--version", action="version", version=f"layout {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_plan = sub.add_parser("plan", help="run the planning pipeline on a study")
    p_plan.add_argument(
        "study", nargs="?", default=None, help="study TOML (default: the bundled Anshan sample)"
    )
    p_plan.add_argument("--out", default="out", help="folder for results (default: out/)")
    p_plan.add_argument("--maps", default="maps", help="folder for HTML maps (default: maps/)")
    p_plan.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``layout`` command; return the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    LOG.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        with logging_redirect_tqdm():
            result = plan(args.study, out_dir=args.out, maps_dir=args.maps, progress=not args.quiet)
    except LayoutError as exc:
        LOG.error("%s", exc)
        return 2
    for path in result.outputs:
        LOG.info("wrote %s", path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
