"""``layout land``: the natural resources bureau's check of reserved land and 三同步, written.

Examples
--------
>>> import tempfile, pathlib
>>> from layout.study import study_from_toml
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> found = land_check(study_from_toml(), out_dir=tmp, maps_dir=tmp, progress=False)
>>> sorted(p.name for p in found.outputs)
['land.gpkg', 'land.html', 'land.xlsx']
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

from ..labels import Lang
from ..land import LandCheck, LandOptions, land_checks
from ..maps import save_html
from ..maps.land import land_map
from ..report import write_pack
from ..study import Study
from ._pack import stage_index, staged_pack
from ._preflight import before_work


def land_check(
    study: Study,
    *,
    out_dir: str | os.PathLike[str],
    maps_dir: str | os.PathLike[str],
    scenario: str | None = None,
    lang: Lang = "zh",
    progress: bool = True,
) -> LandCheck:
    """Run the land checks on a study (:func:`layout.land.land_checks`) and write them.

    Writes ``<out_dir>/land.gpkg`` (layers ``parcels_check``, ``developments_check``,
    ``township_reserve``, ``development_links``), ``<out_dir>/land.xlsx`` (one sheet each)
    and ``<maps_dir>/land.html``.

    Parameters
    ----------
    study
        A loaded study.
    out_dir
        Folder of the GeoPackage and the spreadsheet (created if missing).
    maps_dir
        Folder of the map (created if missing).
    scenario
        Name of the demographic scenario; the study's focus scenario by default.
    lang
        Language of reasons, spreadsheet headers and the map: ``"zh"`` or ``"en"``.
    progress
        Show a progress bar over the steps.

    Returns
    -------
    LandCheck
        With ``outputs`` naming the files written.
    """
    before_work(study, {"--out": out_dir, "--maps": maps_dir})
    with tqdm(total=3, disable=not progress, unit="step") as bar:
        bar.set_description("checks")
        result = land_checks(study, scenario=scenario, options=LandOptions(lang=lang))
        bar.update()
        bar.set_description("write")
        with staged_pack("land", [out_dir, maps_dir]) as pack:
            out, maps = pack.folders
            written = write_pack(result.tables(), out, stem="land", study=study, lang=lang)
            bar.update()
            bar.set_description("map")
            fmap = land_map(
                study,
                parcels=result.parcels,
                developments=result.developments,
                links=result.links,
                lang=lang,
            )
            written.append(save_html(fmap, maps / "land.html"))
            written += stage_index(pack, out_dir, maps_dir, written)
        result.outputs += [pack.final(path) for path in written]
        bar.update()
    return result
