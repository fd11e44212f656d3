"""The balance map on the bundled sample, in Chromium with the network blocked."""

from __future__ import annotations

from pathlib import Path

from layout.maps import external_references, save_html
from layout.maps.balance import RATIO_BINS, RATIO_COLOURS, balance_map
from layout.runs.plan import STEPS, PlanResult
from layout.study import study_from_toml


def test_balance_map_in_chromium(tmp_path: Path, offline_page) -> None:
    result = PlanResult(study=study_from_toml())
    dict(STEPS)["indicators"](result)
    indicators = result.tables["balance_indicators"]
    counties = result.tables["balance_counties"]
    fmap = balance_map(result.study, indicators=indicators, counties=counties)
    page_file = save_html(fmap, tmp_path / "balance.html")
    assert external_references(page_file) == []
    offline_page.open(page_file)
    page = offline_page.page
    fills = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"
        ".map(p => p.getAttribute('fill'))"
    )
    # One polygon per county, coloured by its largest coefficient over its limit (the worse
    # stage), classed at 0.8, 1 and 1.25 by hand here.
    ratio = (indicators["cv"] / indicators["cv_limit"]).groupby(indicators["county_code"]).max()
    expected = [RATIO_COLOURS[sum(r > b for b in RATIO_BINS)] for r in ratio]
    assert sorted(fills) == sorted(expected)
    # The first county's tooltip shows its largest primary coefficient from the table.
    first = result.study["counties"]["county_code"].iloc[0]
    largest = indicators[(indicators["county_code"] == first) & (indicators["stage"] == "primary")]
    box = page.locator(".leaflet-overlay-pane path.leaflet-interactive").nth(0).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator(".leaflet-tooltip.foliumtooltip")
    tip.wait_for()
    assert "小学最大差异系数" in tip.inner_text()
    assert f"{float(largest['cv'].max()):.3f}" in tip.inner_text()
    offline_page.assert_drawn()
