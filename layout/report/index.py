"""The report pack's index page: findings, a table per county, the charts, links to every output.

The page is the report a planner reads first: the findings with their numbers, what they
mean (the norm, the year, the scenario), one row per county of children, places,
utilisation, children without a place within reach and beyond the norm, class-size breaches,
funding and teachers, the demand charts, and a link to every file that any command
(``layout plan``, ``land``, ``closure``, ``sites``, ``phases``) has written to ``out/`` and
``maps/``. A command run after ``plan`` refreshes the links (:func:`relink_index`). It prints
on A4.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> (folder / "maps").mkdir()
>>> _ = (folder / "maps" / "overview.html").write_text("<p>map</p>")
>>> page = write_index(folder / "index.html", title="<b>鞍山</b>", findings=["a < b"],
...                    links=found_outputs(folder, folder / "maps"))
>>> text = page.read_text(encoding="utf-8")
>>> "&lt;b&gt;鞍山&lt;/b&gt;" in text, 'href="maps/overview.html"' in text
(True, True)
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .files import replacing

__all__ = ["found_outputs", "relink_index", "write_index"]

_GROUPS: tuple[tuple[str, str], ...] = (
    ("地图 Maps", "maps"),
    ("规划结果 layout plan", "results|tables"),
    ("图表 Charts", "charts"),
    ("用地核查 layout land", "land"),
    ("撤并影响 layout closure", "closure"),
    ("选址建议 layout sites", "sites"),
    ("分期规划 layout phases", "phases"),
)
"""Section of the links and the file stems or folders of ``out/`` it gathers."""
_OTHER = "其他 Other"
_START, _END = "<!-- outputs -->", "<!-- /outputs -->"
_CSS = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;max-width:60em;"
    "margin:2em auto;line-height:1.5}"
    ".note{color:#b30000;font-weight:bold}"
    "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
    "th,td{border:1px solid #999;padding:2px 5px}td{text-align:right;white-space:nowrap}"
    "td:first-child{text-align:left}th{background:#eee}"
    "img{max-width:100%;page-break-inside:avoid}"
    "@media print{@page{size:A4;margin:12mm}body{margin:0;max-width:none;font-size:11px}"
    "table{font-size:9px;page-break-inside:avoid}h2{page-break-after:avoid}"
    "a{color:inherit}*{print-color-adjust:exact;-webkit-print-color-adjust:exact}}"
)


def found_outputs(
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    *,
    also: Sequence[Path] = (),
) -> dict[str, list[Path]]:
    """Find every output the commands wrote, grouped by command, for the index's links.

    Parameters
    ----------
    out_dir
        The ``--out`` folder (``index.html`` and hidden files are left out; files in known
        folders such as ``charts/`` and ``closure/`` are listed one by one, other folders as
        one link).
    maps_dir
        The ``--maps`` folder: every ``*.html``.
    also
        Files about to be in those folders (a command's staged pack, by their final paths).

    Returns
    -------
    dict of str to list of pathlib.Path
        Section heading to files, sections without files left out.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("results.gpkg", "land.xlsx", "closure/statement.html", "x.csv"):
    ...     (out / name).parent.mkdir(exist_ok=True)
    ...     _ = (out / name).write_text("")
    >>> found = found_outputs(out, out / "maps", also=[out / "maps" / "overview.html"])
    >>> {k: [p.name for p in v] for k, v in found.items()}
    {'地图 Maps': ['overview.html'], '规划结果 layout plan': ['results.gpkg'], \
'用地核查 layout land': ['land.xlsx'], '撤并影响 layout closure': ['statement.html'], \
'其他 Other': ['x.csv']}
    """
    out, maps = Path(out_dir).resolve(), Path(maps_dir).resolve()
    files = set(maps.glob("*.html")) if maps.is_dir() else set()
    for entry in out.iterdir() if out.is_dir() else []:
        if entry.name == "index.html" or entry.name.startswith("."):
            continue
        if entry.is_dir() and _section(Path(entry.name, "x")) != _OTHER:
            files |= {p for p in entry.rglob("*") if p.is_file() and not p.name.startswith(".")}
        else:
            files.add(entry)
    files |= {Path(p).resolve() for p in also if Path(p).name != "index.html"}
    sections: dict[str, list[Path]] = {heading: [] for heading, _ in _GROUPS}
    sections[_OTHER] = []
    for file in sorted(files):
        inside = file.parent == maps or not file.is_relative_to(out)
        heading = _GROUPS[0][0] if inside else _section(file.relative_to(out))
        sections[heading].append(file)
    return {heading: found for heading, found in sections.items() if found}


def _section(relative: Path) -> str:
    """Section of a file or folder of ``out/``, by its first folder or its name's stem."""
    first = relative.parts[0]
    name = first if len(relative.parts) > 1 else first.split(".", 1)[0]
    return next((h for h, stems in _GROUPS[1:] if re.fullmatch(stems, name)), _OTHER)


def write_index(
    path: str | os.PathLike[str],
    *,
    title: str,
    findings: Sequence[str],
    links: Mapping[str, Sequence[Path]],
    note: str = "",
    tables: Mapping[str, pd.DataFrame] | None = None,
    charts: Sequence[Path] = (),
) -> Path:
    """Write the report pack's index page.

    Parameters
    ----------
    path
        Target ``index.html``; links and charts are written relative to its folder.
    title
        Page title.
    findings
        Short sentences, one list item each (plain text, escaped).
    links
        Section heading to the files listed under it (see :func:`found_outputs`).
    note
        A line shown under the title (e.g. that the data are synthetic).
    tables
        Heading to a table shown under it, its values already formatted as text.
    charts
        PNG files shown one under the other.

    Returns
    -------
    pathlib.Path
    """
    target = Path(path)
    items = "".join(f"<li>{html.escape(text)}</li>" for text in findings)
    shown = "".join(
        f"<h2>{html.escape(heading)}</h2>{frame.to_html(index=False, escape=True, border=0)}"
        for heading, frame in (tables or {}).items()
    )
    images = "".join(
        f'<p><img src="{html.escape(_relative(png, target.parent))}" alt="{html.escape(png.stem)}">'
        "</p>"
        for png in charts
    )
    page = (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        + (f'<p class="note">{html.escape(note)}</p>' if note else "")
        + f"<h2>主要结论 Findings</h2><ul>{items}</ul>"
        + shown
        + (f"<h2>学龄人口预测 Projections</h2>{images}" if images else "")
        + _START
        + _links(links, target.parent)
        + _END
        + "</body></html>"
    )
    with replacing(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target


def relink_index(
    page: str | os.PathLike[str],
    *,
    into: str | os.PathLike[str],
    links: Mapping[str, Sequence[Path]],
) -> Path | None:
    """Write the index ``page`` with its links replaced, to ``into`` (the page is read only).

    Parameters
    ----------
    page
        An ``index.html`` written by :func:`write_index` (``layout plan``).
    into
        Where to write the refreshed page (a command's staged ``index.html``).
    links
        Section heading to files, as for :func:`write_index`, relative to ``into``'s folder.

    Returns
    -------
    pathlib.Path or None
        ``into``, or None when ``page`` is missing or not an index page.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_index(folder / "index.html", title="t", findings=[], links={})
    >>> _ = (folder / "land.xlsx").write_text("")
    >>> staged = relink_index(folder / "index.html", into=folder / "new.html",
    ...                       links=found_outputs(folder, folder))
    >>> 'href="land.xlsx"' in staged.read_text(encoding="utf-8")
    True
    """
    source, target = Path(page), Path(into)
    if not source.is_file():
        return None
    text = source.read_text(encoding="utf-8")
    if _START not in text or _END not in text:
        return None
    head, rest = text.split(_START, 1)
    tail = rest.split(_END, 1)[1]
    with replacing(target) as tmp:
        tmp.write_text(head + _START + _links(links, target.parent) + _END + tail, encoding="utf-8")
    return target


def _links(links: Mapping[str, Sequence[Path]], folder: Path) -> str:
    sections = []
    for heading, files in links.items():
        rows = "".join(
            f'<li><a href="{html.escape(_relative(file, folder))}">'
            f"{html.escape(_relative(file, folder))}</a></li>"
            for file in files
        )
        sections.append(f"<h2>{html.escape(heading)}</h2><ul>{rows}</ul>")
    return "".join(sections)


def _relative(file: Path, folder: Path) -> str:
    """Path of ``file`` relative to ``folder``, with forward slashes, for a link."""
    return Path(os.path.relpath(file.resolve(), folder.resolve())).as_posix()
