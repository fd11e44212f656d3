"""``layout check``: every problem of a study at once, written as check.xlsx and check.html.

Examples
--------
>>> import tempfile, pathlib
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> result, written = check_report(None, out_dir=tmp)
>>> result.ok, sorted(p.name for p in written)
(True, ['check.html', 'check.xlsx'])
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..check import CheckResult, check_study
from ..report import write_spreadsheet
from ..report.files import replacing

TITLE = "数据检查 Study check"


def check_report(
    study_path: str | os.PathLike[str] | None, *, out_dir: str | os.PathLike[str]
) -> tuple[CheckResult, list[Path]]:
    """Check a study and write its findings to ``out_dir``/check.xlsx and check.html.

    Parameters
    ----------
    study_path
        The study TOML; ``None`` for the bundled sample.
    out_dir
        Folder for the two files (created if missing).

    Returns
    -------
    result, written
        What :func:`layout.check.check_study` found, and the files written.
    """
    result = check_study(study_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    xlsx = write_spreadsheet(
        {"check": result.findings}, out / "check.xlsx", sheet_names={"check": "数据检查"}
    )
    return result, [write_check_page(result, out / "check.html"), xlsx]


def write_check_page(result: CheckResult, path: Path) -> Path:
    """Write the findings as an HTML page (every cell escaped)."""
    findings = result.findings
    errors = int((findings["severity"] == "error").sum())
    verdict = (
        "可以运行 The study can run."
        if result.ok
        else f"不能运行 The study cannot run: {errors} error(s)."
    )
    table = findings.to_html(index=False, escape=True, border=0) if len(findings) else ""
    page = (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{TITLE}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "td,th{padding:.2em .6em;text-align:left;vertical-align:top;border-bottom:1px solid #ddd}"
        "</style></head><body>"
        f"<h1>{TITLE}: {html.escape(result.path.name)}</h1><p>{html.escape(verdict)}</p>"
        f"{table}</body></html>"
    )
    with replacing(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
