"""Map load times in headless Chromium and HTML sizes: a county and the whole city.

Runs ``layout plan`` on the bundled (synthetic) Anshan study, whole and for its largest
county (海城市 210381, from the county partitions of :mod:`layout.runs.province`), then opens every
map offline in Debian's Chromium (network blocked, as the browser tests do) and records the
time from navigation to the page's ``load`` event and until Leaflet has drawn its layers
(median of three loads), and the size of each HTML file. Targets (issue 8): a county map in
under 3 s, a whole-city map in under 5 s.

    PYTHONPATH=. python benchmarks/bench_maps.py [--work benchmarks/_work/maps]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from layout.runs._partition import partition_study
from layout.runs.plan import plan

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic",
        "--disable-sync"]  # fmt: skip
COUNTY = "210381"


def load_seconds(page, html: Path) -> tuple[float, float]:
    """Seconds to the load event, and to Leaflet's last layer drawn, of one page load."""
    start = time.perf_counter()
    page.goto(html.resolve().as_uri(), wait_until="load")
    loaded = time.perf_counter() - start
    page.wait_for_function(
        "document.querySelectorAll('.leaflet-overlay-pane svg, .leaflet-overlay-pane canvas')"
        ".length > 0"
    )
    drawn = time.perf_counter() - start
    return loaded, drawn


def main() -> None:
    """Build the maps, time them, print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="benchmarks/_work/maps")
    work = Path(parser.parse_args().work)
    runs = {
        "city": plan(out_dir=work / "city" / "out", maps_dir=work / "city" / "maps", progress=False)
    }
    tomls = partition_study(None, work / "partitions")
    county_toml = next(t for t in tomls if t.parent.name == COUNTY)
    runs["county"] = plan(county_toml, out_dir=work / "county" / "out",
                          maps_dir=work / "county" / "maps", progress=False)  # fmt: skip
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for scope, result in runs.items():
            for html in sorted(
                p for p in result.outputs if p.suffix == ".html" and p.parent.name == "maps"
            ):
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.route(
                    "**/*",
                    lambda r: (
                        r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                    ),
                )
                times = [load_seconds(page, html) for _ in range(3)]
                page.close()
                rows.append((scope, html.name, html.stat().st_size / 1e6,
                             statistics.median(t[0] for t in times),
                             statistics.median(t[1] for t in times)))  # fmt: skip
        browser.close()
    print("| scope | map | HTML MB | load event s | drawn s |")
    print("|---|---|---|---|---|")
    for scope, name, size, loaded, drawn in rows:
        print(f"| {scope} | {name} | {size:.1f} | {loaded:.2f} | {drawn:.2f} |")


if __name__ == "__main__":
    main()
