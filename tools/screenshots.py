"""Take the README's screenshots of the maps `layout plan` and friends wrote to maps/.

Run after ``layout plan``, ``layout land``, ``layout closure ...`` and ``layout sites``::

    python tools/screenshots.py maps docs/img

Each map is opened offline in Debian's Chromium (as the browser tests do) and shown whole, then
zoomed on the urban core of Anshan, where most features are.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CORE = (41.11, 122.99, 12)  # latitude, longitude, zoom of Anshan's urban districts
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


def main(maps: Path, out: Path) -> None:
    """Screenshot every ``*.html`` in ``maps`` into ``out`` (whole study, then the core)."""
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 750})
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        for html in sorted(maps.glob("*.html")):
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(500)
            page.screenshot(path=out / f"{html.stem}.png")
            name = page.evaluate("Object.keys(window).find(k => k.startsWith('map_'))")
            lat, lon, zoom = CORE
            page.evaluate(f"{name}.setView([{lat}, {lon}], {zoom})")
            page.wait_for_timeout(500)
            page.screenshot(path=out / f"{html.stem}-core.png")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
