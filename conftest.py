"""Test plugins for the whole suite: the headless-browser fixtures of tests/browser.py."""

pytest_plugins = ["tests.browser"]
