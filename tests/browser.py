"""Headless Chromium for map tests, with every network request blocked.

A pytest plugin, registered for the whole suite by the repository's ``conftest.py``: a test
that opens pages in a browser asks for the ``offline_page`` fixture.

Chromium is Debian's (``apt-get install -y chromium``, see ``tools/install-debian-deps.sh``), driven by
Playwright for Python; Playwright's own browser download is not used. One browser is launched
per session with a fresh profile (Playwright's ``launch`` creates a new temporary
``--user-data-dir`` and deletes it on close); each test gets a new context and page.

Every request whose URL is not ``file:`` or ``data:`` is aborted and recorded. When the test is
over, the fixture fails it if the page made such a request, logged a console error, threw an
uncaught exception or opened a dialog (``alert``, ``confirm``, ``prompt``).

Without Chromium or Playwright the browser tests are skipped with the reason shown, except
when the environment variable ``CI`` is ``true``: there they fail, so CI cannot pass by
silently skipping them.

Examples
--------
A test using it::

    def test_opens(offline_page, tmp_path):
        page = tmp_path / "p.html"
        page.write_text("<p>hi</p>")
        offline_page.open(page)
        assert offline_page.page.inner_text("p") == "hi"
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, Route

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_SCHEMES = ("file:", "data:")


@dataclass
class OfflinePage:
    """A browser page whose non-local requests, console errors and dialogs are recorded.

    Attributes
    ----------
    page
        The Playwright page.
    blocked
        URLs of aborted requests (anything not ``file:`` or ``data:``).
    errors
        Console errors and uncaught exceptions, as text.
    dialogs
        Messages of dialogs the page opened; each is dismissed.
    """

    page: Page
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: str | os.PathLike[str]) -> None:
        """Load a local HTML file and wait until it and its resources have loaded.

        Parameters
        ----------
        path
            The file to open.
        """
        self.page.goto(pathlib.Path(path).resolve().as_uri(), wait_until="load")

    def assert_drawn(self) -> None:
        """Assert that Leaflet drew a map and a screenshot of the page is not blank."""
        import io

        import numpy as np
        from PIL import Image

        assert self.page.evaluate("typeof L === 'object' && L.version") == "1.9.3"
        shot = Image.open(io.BytesIO(self.page.screenshot())).convert("RGB")
        colours = np.unique(np.asarray(shot).reshape(-1, 3), axis=0)
        assert len(colours) > 20, f"the screenshot has only {len(colours)} colours"

    def problems(self) -> list[str]:
        """Describe everything recorded that a map page must never do.

        Returns
        -------
        list of str
            One line per blocked request, console error or dialog; empty when clean.
        """
        return (
            [f"network request blocked: {url}" for url in self.blocked]
            + [f"console error: {text}" for text in self.errors]
            + [f"dialog opened: {text}" for text in self.dialogs]
        )

    def _route(self, route: Route) -> None:
        """Let local requests through; abort and record the others."""
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            self._block(route.request.url)
            route.abort()

    def _request(self, request: Request) -> None:
        """Record a non-local request that no route saw (a second, independent watch)."""
        if not request.url.startswith(LOCAL_SCHEMES):
            self._block(request.url)

    def _block(self, url: str) -> None:
        if url not in self.blocked:
            self.blocked.append(url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def unavailable_reason() -> str | None:
    """Tell why the browser tests cannot run here, or ``None`` when they can.

    Returns
    -------
    str or None
        What is missing and how to install it.
    """
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is missing: pip install playwright"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is missing at {CHROMIUM}: run bash tools/install-debian-deps.sh"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Launch one headless Debian Chromium for the whole session.

    Skipped when Chromium or Playwright is missing, failed instead when ``CI=true``.

    Yields
    ------
    playwright.sync_api.Browser
        The running browser.
    """
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def offline_page(chromium: Browser) -> Iterator[OfflinePage]:
    """Give a test a fresh page with the network blocked; fail it on anything recorded.

    Yields
    ------
    OfflinePage
        The page and what it recorded.
    """
    context = chromium.new_context(viewport={"width": 800, "height": 600})
    watched = OfflinePage(context.new_page())
    context.route("**/*", watched._route)
    context.on("request", watched._request)
    watched.page.on("console", watched._console)
    watched.page.on("pageerror", watched._page_error)
    watched.page.on("dialog", watched._dialog)
    try:
        yield watched
    finally:
        context.close()
    problems = watched.problems()
    if problems:
        pytest.fail("the page was not self-contained:\n" + "\n".join(problems), pytrace=False)
