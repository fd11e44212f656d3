"""``layout closure``: the impact statement of a closure and the screening, written."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..closure import ClosureImpact, ClosureOptions, close_schools, screen_closures
from ..labels import TABLE_TITLES, Lang, localise
from ..maps import save_html
from ..maps.basemap import basemap_from_name
from ..maps.closure import closure_map
from ..report import (
    closure_texts,
    html_page,
    markdown,
    replacing,
    statement,
    statement_title,
    write_csv,
    write_pack,
    write_spreadsheet,
)
from ..study import Study
from ._pack import Pack, stage_index, staged_pack
from ._preflight import before_work

# --------------------------------------------------------------------------- outputs


def write_closure(
    impact: ClosureImpact,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    lang: Lang = "zh",
    tiles: str = "none",
) -> list[Path]:
    """Write the impact statement, the tables and the map of a closure.

    Writes ``<out_dir>/closure/statement.md`` and ``statement.html`` (one page, Chinese by
    default), ``<out_dir>/closure/closure.gpkg`` (one layer per table of
    :meth:`ClosureImpact.tables`, transfers as lines and schools as points),
    ``<out_dir>/closure/closure.xlsx`` (one sheet each) and ``<maps_dir>/closure.html``.

    Parameters
    ----------
    impact
        From :func:`close_schools`.
    out_dir
        Folder under which ``closure/`` is created.
    maps_dir
        Folder of the map (created if missing).
    lang
        Language of the statement, headers and map: ``"zh"`` or ``"en"``.
    tiles
        Basemap name (:data:`layout.maps.basemap.BASEMAPS`) or ``"none"``.

    Returns
    -------
    list of pathlib.Path
        The files written (also added to ``impact.outputs``).

    Examples
    --------
    See ``tests/test_closure.py`` (a hand-worked closure, statement and map).
    """
    with staged_pack("closure", [Path(out_dir) / "closure", maps_dir, out_dir]) as pack:
        written = _write_closure(impact, pack, lang=lang, tiles=tiles)
        written += stage_index(pack, out_dir, maps_dir, written)
    written = [pack.final(path) for path in written]
    impact.outputs += written
    return written


def _write_closure(impact: ClosureImpact, pack: Pack, *, lang: Lang, tiles: str) -> list[Path]:
    """Write the files of :func:`write_closure` into the staging folders of ``pack``."""
    folder, maps = pack.folders[:2]
    study = impact.study
    blocks = statement(impact, lang)
    title = statement_title(lang)
    written = []
    with replacing(folder / "statement.md") as tmp:
        tmp.write_text(markdown(blocks), encoding="utf-8")
    written.append(folder / "statement.md")
    with replacing(folder / "statement.html") as tmp:
        tmp.write_text(html_page(blocks, title=title, lang=lang), encoding="utf-8")
    written.append(folder / "statement.html")
    tables = closure_texts(impact.tables(), lang)
    written += write_pack(tables, folder, stem="closure", study=study, lang=lang)
    basemap = basemap_from_name(tiles)
    fmap = closure_map(
        study,
        closed=impact.idle,
        receiving=impact.receiving,
        transfers=impact.transfers,
        title=f"{title}: {', '.join(impact.idle['name'])} ({impact.year})",
        lang=lang,
        basemap=basemap,
    )
    written.append(save_html(fmap, maps / "closure.html", basemap=basemap))
    return written


def closure_report(  # noqa: PLR0913 - the command's options, all keyword-only
    study: Study,
    *,
    school_ids: Iterable[str],
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    year: int | None = None,
    scenario: str = "medium",
    lang: Lang = "zh",
    tiles: str = "none",
    options: ClosureOptions | None = None,
) -> ClosureImpact:
    """Close schools and write the impact statement, tables and map.

    :func:`close_schools` then :func:`write_closure`.

    Parameters
    ----------
    study, school_ids, year, scenario, lang, options
        As for :func:`close_schools`.
    out_dir, maps_dir, tiles
        As for :func:`write_closure`.

    Returns
    -------
    ClosureImpact
        With ``outputs`` listing the files written.

    Examples
    --------
    See ``tests/test_closure.py``; ``layout closure STUDY --school ID`` runs it.
    """
    folders = {"--out": Path(out_dir) / "closure", "--maps": maps_dir}
    before_work(study, folders, year=year)
    impact = close_schools(
        study, school_ids=school_ids, year=year, scenario=scenario, options=options
    )
    write_closure(impact, out_dir=out_dir, maps_dir=maps_dir, lang=lang, tiles=tiles)
    return impact


def screening_report(
    study: Study,
    *,
    county_code: str,
    out_dir: str | os.PathLike[str],
    max_students: int | None = None,
    year: int | None = None,
    scenario: str = "medium",
    lang: Lang = "zh",
) -> list[Path]:
    """Screen a county's small schools and write ``<out_dir>/closure/screening.xlsx`` and ``.csv``.

    Parameters
    ----------
    study, county_code, max_students, year, scenario, lang
        As for :func:`screen_closures`; ``lang`` also sets the headers.
    out_dir
        Folder under which ``closure/`` is created.

    Returns
    -------
    list of pathlib.Path
        The spreadsheet and the CSV (UTF-8 with a byte-order mark, so Excel reads Chinese).

    Examples
    --------
    See ``tests/test_closure.py``; ``layout closure STUDY --screen COUNTY_CODE`` runs it.
    """
    before_work(study, {"--out": Path(out_dir) / "closure"}, year=year)
    table = screen_closures(
        study,
        county_code=county_code,
        max_students=max_students,
        year=year,
        scenario=scenario,
    )
    table = closure_texts({"closure_screening": table}, lang)["closure_screening"]
    shown = localise({"closure_screening": table}, lang=lang, profile=study.standards)[
        "closure_screening"
    ]
    with staged_pack("screening", [Path(out_dir) / "closure"]) as pack:
        (folder,) = pack.folders
        xlsx = write_spreadsheet(
            {"closure_screening": shown},
            folder / "screening.xlsx",
            sheet_names={"closure_screening": TABLE_TITLES["closure_screening"][lang]},
        )
        csv = write_csv(shown, folder / "screening.csv")
    return [pack.final(xlsx), pack.final(csv)]
