"""The ``layout`` command: parse the arguments, call one :mod:`layout.runs` function, log.

Every analysis import is deferred to the subcommand that needs it, so ``layout --help`` and
``layout <command> --help`` answer at once.

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
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from . import __version__
from .errors import LayoutError

if TYPE_CHECKING:
    from pathlib import Path

    from .study import Study

LOG = logging.getLogger("layout")

_ALL_CORES = -1
"""What ``--workers`` given without a number holds (as with joblib's ``n_jobs``): one process
per core."""

_COMMANDS = {
    "plan": (
        "run the planning pipeline on a study",
        "Indicators, demand by scenario and year, access and provision, site proposals; writes "
        "results.gpkg, tables.xlsx, charts and index.html to --out and the maps to --maps.",
        "layout plan\n  layout plan my/study.toml --out results/ --maps maps/ --lang en\n"
        "  layout plan province.toml --workers 2",
    ),
    "land": (
        "check reserved school land and 三同步 (school with the first phase)",
        "Every reserved parcel against the land and demand its school needs, every residential "
        "development against a school or parcel with room for its children, and each "
        "township's reserve; writes land.gpkg, land.xlsx and land.html.",
        "layout land\n  layout land my/study.toml --to-postgis checks",
    ),
    "closure": (
        "impact statement of closing schools (撤并), or screen a county's small schools",
        "The county's children assigned before and without the closed schools: moves, travel, "
        "pupils pushed beyond the norms, receiving schools, funding and staffing, the idle "
        "campus; writes statement.md/.html, closure.gpkg/.xlsx and closure.html.",
        "layout closure --school S2103810081\n  layout closure --screen 210321",
    ),
    "sites": (
        "propose small schools and boarding schools for rural counties, schools for urban ones",
        "Candidate sites, small schools for grades 1-3 by covering, boarding schools by "
        "p-median, urban schools on reserved parcels; writes sites.gpkg, sites.xlsx, sites.html.",
        "layout sites --county 210323 --p 2\n  layout sites my/study.toml --level primary",
    ),
    "phases": (
        "phased plan of a county over the plan years: build, expand, merge, close, reuse",
        "One HiGHS model per county over the plan years: new schools on reserved parcels or "
        "land to reserve, added classes, merged schools, reused idle campuses, bus seats and "
        "boarding places, at the least capital and running cost, with its proven gap; writes "
        "phases/phases.gpkg, phases.xlsx and the timeline chart, and maps/phases-<county>.html.",
        "layout phases --county 210311\n  layout phases --county 210321 --budget 50000000",
    ),
}


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
        default="none",
        metavar="NAME",
        help="basemap under the maps: none (default: the maps need no network), osm, or gaode "
        "(overlays shifted to GCJ-02)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")


def _scenario(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario", help="demographic scenario (default: the study's focus, medium)"
    )


def _county_by_county(parser: argparse.ArgumentParser) -> None:
    """Options that run the plan county by county (see layout.runs.province)."""
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
    checked = _checked(args.study, out_dir=None)
    if checked is None:
        return 2
    if args.workers is None and args.scheduler is None and not args.resume:
        from .runs.plan import plan

        result = plan(checked, **options, progress=not args.quiet)
    else:
        from .runs.province import run_counties

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
    from .runs.land import land_check
    from .study import study_from_toml

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
        from .postgis import engine_from_url, write_layers_to_postgis

        engine = engine_from_url(url_env=args.db_url_env)
        try:
            write_layers_to_postgis(result.tables(), engine, schema=args.to_postgis)
        finally:
            engine.dispose()
        LOG.info("wrote the check tables to PostGIS schema %s", args.to_postgis)
    return 0


def _run_closure(args: argparse.Namespace) -> int:
    from .report import closure_texts
    from .runs.closure import closure_report, screening_report
    from .study import study_from_toml

    study = study_from_toml(args.study)
    options = {"year": args.year, "lang": args.lang}
    if args.scenario:
        options["scenario"] = args.scenario
    if args.screen:
        outputs = screening_report(
            study,
            county_code=args.screen,
            out_dir=args.out,
            max_students=args.max_students,
            **options,
        )
    else:
        impact = closure_report(
            study,
            school_ids=args.school,
            out_dir=args.out,
            maps_dir=args.maps,
            tiles=args.tiles,
            **options,
        )
        worded = closure_texts({"closure_summary": impact.summary}, args.lang)
        for row in worded["closure_summary"].itertuples():
            LOG.info("%s: %.0f children move; %s", row.level, row.children_moved, row.reason)
        outputs = impact.outputs
    for path in outputs:
        LOG.info("wrote %s", path)
    return 0


def _run_sites(args: argparse.Namespace) -> int:
    from .runs.sites import sites_report
    from .study import study_from_toml

    found, written = sites_report(
        study_from_toml(args.study),
        out_dir=args.out,
        maps_dir=args.maps,
        counties=[args.county] if args.county else None,
        level=args.level,
        year=args.year,
        scenario=args.scenario,
        lang=args.lang,
        tiles=args.tiles,
        p=args.p,
        budget=args.budget,
        radius_min=args.radius_min,
    )
    kinds = found.proposals["kind"].value_counts().to_dict()
    LOG.info("proposals: %s", kinds or "none")
    for path in written:
        LOG.info("wrote %s", path)
    return 0


def _run_phases(args: argparse.Namespace) -> int:
    from .runs.phases import phases_report
    from .study import study_from_toml

    given = {"areas": args.areas, "time_limit": args.time_limit}
    plan, written = phases_report(
        study_from_toml(args.study),
        county=args.county,
        out_dir=args.out,
        maps_dir=args.maps,
        scenario=args.scenario,
        budget=args.budget,
        lang=args.lang,
        tiles=args.tiles,
        **{k: v for k, v in given.items() if v is not None},
    )
    kinds = plan.actions["action"].value_counts().to_dict()
    LOG.info("actions: %s; gap %.3g %%", kinds or "none", 100 * plan.gap)
    for path in written:
        LOG.info("wrote %s", path)
    return 0


def _phases_options(parser: argparse.ArgumentParser) -> None:
    """Options of the ``phases`` subcommand."""
    parser.add_argument("--county", metavar="CODE", required=True, help="the county to plan")
    parser.add_argument(
        "--budget", type=float, metavar="YUAN", help="most capital spent in any one plan year"
    )
    parser.add_argument(
        "--areas", type=int, metavar="N", help="demand areas per level (default: 30)"
    )
    parser.add_argument(
        "--time-limit", type=float, metavar="S", help="seconds given to HiGHS (default: 300)"
    )
    _scenario(parser)


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
        help="travel norm for grades 1-3 in minutes (default: the profile's)",
    )
    parser.add_argument("--year", type=int, help="plan year (default: the last)")
    _scenario(parser)


# -- layout check / layout init (issue 15) -------------------------------------------------


def _checked(study: str | None, *, out_dir: str | None) -> Study | None:
    """Check the study; return it loaded, or ``None`` (errors logged) when it cannot run.

    With ``out_dir`` (``layout check``) the findings are also printed as a table and written
    to check.xlsx and check.html; ``layout plan`` writes nothing when the study cannot run.
    """
    from .check import check_study, findings_text

    written: list[Path] = []
    if out_dir is None:
        result = check_study(study)
    else:
        from .runs.check import check_report

        result, written = check_report(study, out_dir=out_dir)
        if len(result.findings):
            sys.stdout.write(findings_text(result.findings) + "\n")
    for path in written:
        LOG.info("wrote %s", path)
    errors = result.findings[result.findings["severity"] == "error"]
    if len(errors):
        lines = [
            f"{r.file}, layer {r.layer}{f', column {r.column}' if r.column else ''}: {r.problem}"
            f"{f' in {r.rows}' if r.rows else ''}. Fix: {r.fix}"
            for r in errors.itertuples()
        ]
        LOG.error("the study cannot run; %d error(s):\n%s", len(lines), "\n".join(lines))
    return result.study if result.ok else None


def _run_check(args: argparse.Namespace) -> int:
    study = _checked(args.study, out_dir=args.out)
    if study is not None:
        LOG.info("the study can run")
    return 0 if study is not None else 2


def _run_init(args: argparse.Namespace) -> int:
    from .runs.init import init_study

    draft, path = init_study(args.folder, out=args.out, name=args.name, crs=args.crs)
    LOG.info("wrote %s: %d layer(s), %d TODO(s) to answer", path, len(draft.layers), draft.todos)
    for line in draft.notes:
        LOG.info("%s", line)
    return 0


def _check_init_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``layout check`` and ``layout init``."""
    p_check = sub.add_parser(
        "check",
        help="check a study and every layer; list all problems (exit 2 if it cannot run)",
        description="Check the study TOML and every layer it names and list every problem "
        "(file, layer, column, rows, fix) at once; writes check.xlsx and check.html to --out. "
        "Exit 0 when the study can run, 2 when not.",
        epilog="examples:\n  layout check my/study.toml --out check/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_check.add_argument("study", nargs="?", default=None, help="study TOML (default: the sample)")
    p_check.add_argument("--out", default="out", help="folder for check.xlsx/.html (out/)")
    p_check.add_argument("--quiet", action="store_true", help="warnings only")
    p_check.set_defaults(run=_run_check)
    p_init = sub.add_parser(
        "init",
        help="draft a study TOML from a folder of files (xlsx, csv, shp, gpkg, ...)",
        description="Look at every file in FOLDER, recognise its layer and columns from the "
        "headers, and write a commented study TOML with every mapping made and a TODO "
        "(Chinese and English) for every choice left to you.",
        epilog="examples:\n  layout init 县教育局数据/ --out 县教育局数据/study.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_init.add_argument("folder", help="folder holding the county's files")
    p_init.add_argument("--out", help="study TOML to write (default: FOLDER/study.toml)")
    p_init.add_argument("--name", help="study name (default: the folder name)")
    p_init.add_argument("--crs", help="projected CRS of the study (default: found from the data)")
    p_init.add_argument("--quiet", action="store_true", help="warnings only")
    p_init.set_defaults(run=_run_init)


def _subcommand(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str
) -> argparse.ArgumentParser:
    """Add a subcommand's parser, with its description and examples."""
    short, description, examples = _COMMANDS[name]
    parser = sub.add_parser(
        name,
        help=short,
        description=f"{short[0].upper()}{short[1:]}. {description}",
        epilog=f"examples:\n  {examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``layout`` command."""
    parser = argparse.ArgumentParser(
        prog="layout",
        description="Plan the layout of compulsory schools (primary and junior middle).",
        epilog="examples:\n  layout plan\n  layout plan my/study.toml --workers 2\n"
        "  layout closure --school S2103810081\n"
        "  layout init 县数据/ && layout check 县数据/study.toml   (a county's own files)\n\n"
        "run 'layout <command> --help' for the options of one command",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"layout {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    p_plan = _subcommand(sub, "plan")
    _county_by_county(p_plan)
    p_plan.set_defaults(run=_run_plan)
    p_land = _subcommand(sub, "land")
    _scenario(p_land)
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
    p_closure = _subcommand(sub, "closure")
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
        help="with --screen: schools with fewer pupils are screened (default: the profile's "
        "small-school size, small_school.students_below)",
    )
    p_closure.add_argument("--year", type=int, help="year of the demand (default: plan start)")
    _scenario(p_closure)
    p_closure.set_defaults(run=_run_closure)
    p_sites = _subcommand(sub, "sites")
    _sites_options(p_sites)
    p_sites.set_defaults(run=_run_sites)
    p_phases = _subcommand(sub, "phases")
    _phases_options(p_phases)
    p_phases.set_defaults(run=_run_phases)
    _check_init_parsers(sub)
    return parser


class _Stopped(SystemExit):
    """The process was asked to stop (SIGTERM); raised in the main thread like Ctrl-C.

    A ``SystemExit`` (exit code 128 + the signal), which handlers that swallow ordinary
    exceptions let through (tqdm's logging handler, for one, re-raises only ``SystemExit`` and
    ``KeyboardInterrupt``).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    raise _Stopped(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``layout`` command; return the exit code.

    2 for bad input; 130 after Ctrl-C (SIGINT) and 143 after SIGTERM, each with one line in
    the log: the output folders then hold the last complete pack (the run's own, if it had
    finished writing, or the earlier one).
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    previous = LOG.level
    LOG.setLevel(logging.WARNING if args.quiet else logging.INFO)
    from tqdm.contrib.logging import logging_redirect_tqdm

    main_thread = threading.current_thread() is threading.main_thread()
    handler = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        with logging_redirect_tqdm():
            return int(args.run(args))
    except LayoutError as exc:
        LOG.error("%s", exc)
        return 2
    except (KeyboardInterrupt, _Stopped) as exc:
        signum = exc.signum if isinstance(exc, _Stopped) else signal.SIGINT
        name = signal.Signals(signum).name
        LOG.error("stopped by %s; %s and %s hold the last complete outputs", name, args.out,
                  args.maps)  # fmt: skip
        return 128 + signum
    finally:
        LOG.setLevel(previous)
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
