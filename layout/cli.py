"""The ``layout`` command.

Examples
--------
>>> from layout.cli import build_parser
>>> build_parser().parse_args(["plan", "--quiet"]).quiet
True
>>> parse = build_parser().parse_args
>>> [parse(["plan", *w]).workers for w in ([], ["--workers"], ["--workers", "2"])]
[None, -1, 2]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tqdm.contrib.logging import logging_redirect_tqdm

from . import __version__
from .closure import close_schools, screening_report, write_closure
from .errors import LayoutError
from .land import land_check
from .maps.basemap import BASEMAPS
from .pipeline import STEPS, PlanResult, plan, write_site_plan
from .postgis import engine_from_url, write_layers_to_postgis
from .province import run_counties
from .sites import plan_sites
from .study import study_from_toml

LOG = logging.getLogger("layout")

_ALL_CORES = -1
"""What ``--workers`` given without a number holds (as with joblib's ``n_jobs``): one process
per core."""


def _common(parser: argparse.ArgumentParser) -> None:
    """Options every subcommand takes."""
    parser.add_argument(
        "study", nargs="?", default=None, help="study TOML (default: the bundled Anshan sample)"
    )
    parser.add_argument("--out", default="out", help="folder for results (default: out/)")
    parser.add_argument("--maps", default="maps", help="folder for HTML maps (default: maps/)")
    parser.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="language of tables and maps"
    )
    parser.add_argument(
        "--tiles",
        choices=("none", *BASEMAPS),
        default="none",
        help="basemap under the maps (default none: the maps need no network; gaode shifts "
        "overlays to GCJ-02)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")


def _county_by_county(parser: argparse.ArgumentParser) -> None:
    """Options that run the plan county by county (see layout.province)."""
    group = parser.add_argument_group("county by county")
    group.add_argument(
        "--workers",
        type=int,
        nargs="?",
        const=_ALL_CORES,
        metavar="N",
        help="analyse the counties in N processes (no N or -1: one per core; 0 or 1: one at a "
        "time in this process)",
    )
    group.add_argument(
        "--scheduler",
        metavar="URL",
        help="analyse the counties on a Dask cluster, e.g. tcp://host:8786",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="keep the counties already finished in --out (all cores unless --workers/--scheduler)",
    )


def _run_plan(args: argparse.Namespace) -> int:
    options = {"out_dir": args.out, "maps_dir": args.maps, "lang": args.lang, "tiles": args.tiles}
    if args.workers is None and args.scheduler is None and not args.resume:
        result = plan(args.study, **options, progress=not args.quiet)
    else:
        result = run_counties(
            args.study,
            **options,
            workers=None if args.workers == _ALL_CORES else args.workers,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=not args.quiet,
        )
    for path in result.outputs:
        LOG.info("wrote %s", path)
    return 0


def _run_land(args: argparse.Namespace) -> int:
    result = land_check(
        study_from_toml(args.study),
        out_dir=args.out,
        maps_dir=args.maps,
        scenario=args.scenario,
        lang=args.lang,
        progress=not args.quiet,
    )
    for name, table in (("parcels", result.parcels), ("developments", result.developments)):
        LOG.info("%s: %d of %d pass", name, int(table["passed"].sum()), len(table))
    for path in result.outputs:
        LOG.info("wrote %s", path)
    if args.to_postgis:
        engine = engine_from_url(url_env=args.db_url_env)
        try:
            write_layers_to_postgis(result.tables(), engine, schema=args.to_postgis)
        finally:
            engine.dispose()
        LOG.info("wrote the check tables to PostGIS schema %s", args.to_postgis)
    return 0


def _run_closure(args: argparse.Namespace) -> int:
    study = study_from_toml(args.study)
    if args.screen:
        outputs = screening_report(
            study,
            county_code=args.screen,
            out_dir=args.out,
            max_students=args.max_students,
            year=args.year,
            scenario=args.scenario,
            lang=args.lang,
        )
    else:
        impact = close_schools(
            study, school_ids=args.school, year=args.year, scenario=args.scenario, lang=args.lang
        )
        write_closure(
            impact, out_dir=args.out, maps_dir=args.maps, lang=args.lang, tiles=args.tiles
        )
        for row in impact.summary.itertuples():
            LOG.info("%s: %.0f children move; %s", row.level, row.children_moved, row.reason)
        outputs = impact.outputs
    for path in outputs:
        LOG.info("wrote %s", path)
    return 0


def _run_sites(args: argparse.Namespace) -> int:
    result = PlanResult(study=study_from_toml(args.study))
    dict(STEPS)["demand"](result)
    assert result.demand is not None
    found = plan_sites(
        result.study,
        result.demand,
        counties=[args.county] if args.county else None,
        year=args.year,
        scenario=args.scenario,
        level=args.level,
        p=args.p,
        budget=args.budget,
        radius_min=args.radius_min,
    )
    kinds = found.proposals["kind"].value_counts().to_dict()
    LOG.info("proposals: %s", kinds or "none")
    written = write_site_plan(
        result.study, found, out_dir=args.out, maps_dir=args.maps, lang=args.lang, tiles=args.tiles
    )
    for path in written:
        LOG.info("wrote %s", path)
    return 0


def _sites_options(parser: argparse.ArgumentParser) -> None:
    """Options of the ``sites`` subcommand."""
    parser.add_argument("--county", metavar="CODE", help="one county (default: every rural one)")
    parser.add_argument(
        "--level",
        choices=("primary", "junior", "both"),
        default="both",
        help="primary: small schools for grades 1-3; junior: boarding schools for grades 4-9",
    )
    parser.add_argument(
        "--p", type=int, default=1, metavar="N", help="new boarding schools per county (1)"
    )
    parser.add_argument(
        "--budget",
        type=int,
        metavar="N",
        help="new small schools per county, maximal covering (default: as few as cover all)",
    )
    parser.add_argument(
        "--radius-min",
        type=float,
        metavar="M",
        help="travel norm for grades 1-3 in minutes (default: the profile's, 30)",
    )
    parser.add_argument("--year", type=int, help="plan year (default: the last)")
    parser.add_argument("--scenario", default="medium", help="demographic scenario (medium)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``layout`` command."""
    parser = argparse.ArgumentParser(
        prog="layout", description="Plan the layout of compulsory schools."
    )
    parser.add_argument("--version", action="version", version=f"layout {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_plan = sub.add_parser("plan", help="run the planning pipeline on a study")
    _common(p_plan)
    _county_by_county(p_plan)
    p_plan.set_defaults(run=_run_plan)
    p_land = sub.add_parser(
        "land", help="check reserved school land and 三同步 (school with the first phase)"
    )
    _common(p_land)
    p_land.add_argument(
        "--scenario", default="medium", help="demographic scenario (default: medium)"
    )
    p_land.add_argument(
        "--to-postgis",
        metavar="SCHEMA",
        help="also write the check tables to this PostGIS schema (one transaction)",
    )
    p_land.add_argument(
        "--db-url-env",
        default="LAYOUT_DB_URL",
        help="environment variable holding the database URL (default: LAYOUT_DB_URL)",
    )
    p_land.set_defaults(run=_run_land)
    p_closure = sub.add_parser(
        "closure",
        help="impact statement of closing schools (撤并), or screen a county's small schools",
    )
    _common(p_closure)
    what = p_closure.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--school", action="append", metavar="ID", help="school to close (repeat for several)"
    )
    what.add_argument(
        "--screen", metavar="COUNTY_CODE", help="rank the county's small schools by closure impact"
    )
    p_closure.add_argument(
        "--max-students",
        type=int,
        default=100,
        help="with --screen: schools with fewer pupils are screened (default: 100)",
    )
    p_closure.add_argument("--year", type=int, help="year of the demand (default: plan start)")
    p_closure.add_argument(
        "--scenario", default="medium", help="demographic scenario (default: medium)"
    )
    p_closure.set_defaults(run=_run_closure)
    p_sites = sub.add_parser(
        "sites", help="propose small schools and boarding schools for rural counties"
    )
    _common(p_sites)
    _sites_options(p_sites)
    p_sites.set_defaults(run=_run_sites)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``layout`` command; return the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    previous = LOG.level
    LOG.setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        with logging_redirect_tqdm():
            return int(args.run(args))
    except LayoutError as exc:
        LOG.error("%s", exc)
        return 2
    finally:
        LOG.setLevel(previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
