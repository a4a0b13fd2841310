"""Browser tests: the fixtures (``browser``, ``page``, ``login``) live in
tests/fixtures/browser.py, a plugin shared by every test folder; here every test of this
folder is marked ``browser``."""

from __future__ import annotations

import os

import pytest

from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD  # noqa: F401  (re-exported)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
