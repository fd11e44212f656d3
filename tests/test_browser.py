"""The browser harness itself: it must see blocked requests, console errors and dialogs."""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported as a plugin below; importing it here first would skip rewriting
    from tests.browser import OfflinePage


def _open(offline_page: OfflinePage, folder: pathlib.Path, body: str) -> None:
    page = folder / "page.html"
    page.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    offline_page.open(page)


def test_clean_local_page_records_nothing(offline_page: OfflinePage, tmp_path: pathlib.Path):
    """A page using only data: resources loads them and records nothing."""
    # A data: image is local: it must load (width 1) and record nothing.
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
        "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
    _open(offline_page, tmp_path, f'<img id="i" src="{pixel}"><p>ok</p>')
    assert offline_page.page.eval_on_selector("#i", "i => i.naturalWidth") == 1
    assert offline_page.problems() == []


def test_remote_requests_are_blocked_and_recorded(
    offline_page: OfflinePage, tmp_path: pathlib.Path
):
    """A CDN script is aborted, recorded once, and its failed load logged."""
    # .invalid never resolves (RFC 2606); the route aborts the request before any lookup.
    url = "https://cdn.example.invalid/lib.js"
    _open(offline_page, tmp_path, f'<script src="{url}"></script>')
    assert offline_page.blocked == [url]
    # Chromium reports the aborted load as a console error too.
    assert any("Failed to load resource" in text for text in offline_page.errors)
    offline_page.blocked.clear()  # recorded on purpose: let the fixture's teardown pass
    offline_page.errors.clear()


def test_dialogs_and_uncaught_errors_are_recorded(
    offline_page: OfflinePage, tmp_path: pathlib.Path
):
    """Alerts, console.error and uncaught exceptions are all recorded."""
    _open(
        offline_page,
        tmp_path,
        "<script>alert('hi'); console.error('bad'); undefinedFunction();</script>",
    )
    assert offline_page.dialogs == ["alert: hi"]
    assert offline_page.errors[0] == "bad"
    assert "undefinedFunction is not defined" in offline_page.errors[1]
    offline_page.dialogs.clear()
    offline_page.errors.clear()


def test_missing_chromium_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path):
    """Without Chromium the reason names the path and the install script."""
    from tests import browser

    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    expected = (
        f"Chromium is missing at {tmp_path / 'chromium'}: run bash tools/install-debian-deps.sh"
    )
    assert browser.unavailable_reason() == expected
