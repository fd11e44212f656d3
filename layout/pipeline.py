"""The `layout plan` run: load the study, analyse it, write the results and maps.

Examples
--------
>>> import tempfile, pathlib
>>> from layout.pipeline import plan
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> result = plan(out_dir=tmp / "out", maps_dir=tmp / "maps", progress=False)
>>> sorted(p.name for p in result.outputs)
['overview.html', 'results.gpkg']
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from .maps.offline import save_html
from .maps.overview import overview_map
from .report import write_geopackage
from .study import Study, study_from_toml
from .summary import county_summary

LOG = logging.getLogger(__name__)


@dataclass
class PlanResult:
    """What a plan run produced.

    Attributes
    ----------
    study
        The loaded study.
    tables
        Named result tables (``county_summary``, ...).
    outputs
        Files written.
    """

    study: Study
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)


def plan(
    study_path: str | os.PathLike[str] | None = None,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    progress: bool = True,
) -> PlanResult:
    """Run the planning pipeline on one study.

    Parameters
    ----------
    study_path
        Study TOML; ``None`` runs the bundled synthetic Anshan sample.
    out_dir
        Folder for the results GeoPackage (created if missing).
    maps_dir
        Folder for the HTML maps (created if missing).
    progress
        Show a progress bar over the steps.

    Returns
    -------
    PlanResult
    """
    out, maps = Path(out_dir), Path(maps_dir)
    with tqdm(total=4, disable=not progress, unit="step") as bar:
        _announce(bar, "load study")
        result = PlanResult(study=study_from_toml(study_path))
        bar.update()
        _announce(bar, "summarise")
        result.tables["county_summary"] = county_summary(result.study["schools"])
        bar.update()
        _announce(bar, "write results")
        result.outputs.append(_write_results(result, out / "results.gpkg"))
        bar.update()
        _announce(bar, "overview map")
        fmap = overview_map(result.study, result.tables["county_summary"])
        result.outputs.append(save_html(fmap, maps / "overview.html", title=result.study.title))
        bar.update()
    return result


def _announce(bar: tqdm, label: str) -> None:
    """Name the step the bar is on, and log it."""
    bar.set_description(label)
    LOG.info("%s", label)


def _write_results(result: PlanResult, path: Path) -> Path:
    study = result.study
    summary = study["counties"].join(result.tables["county_summary"], on="county_code")
    layers = {
        "counties": summary,
        "schools": study["schools"],
    }
    meta = {"study": study.name, "synthetic": str(study.synthetic).lower()}
    return write_geopackage(layers, path, metadata=meta)
