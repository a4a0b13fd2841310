"""Issue 15: the connector registry is read from the CONNECTORS setting, not filled in by the runs
app at start-up; without Django settings (a script, a benchmark) it has the built-in two."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

SHOW = "import json; from connectors.registry import CONNECTORS; print(json.dumps(CONNECTORS))"


def _registry_in_a_fresh_process(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**clean, **env, "PYTHONPATH": str(settings.BASE_DIR)},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_registry_is_the_connectors_setting_without_any_app_started():
    found = _registry_in_a_fresh_process(
        DJANGO_SETTINGS_MODULE="designer.settings",
        EXTRA_CONNECTORS="fake=tests.runs.fake_connector.FakeConnector",
    )
    assert found == {
        "constant_contact": "connectors.constant_contact.connector.ConstantContactConnector",
        "files": "connectors.files.connector.FilesConnector",
        "api_request": "connectors.api_request.connector.ApiRequestConnector",
        "fake": "tests.runs.fake_connector.FakeConnector",
    }


def test_without_django_settings_the_built_in_connectors_are_there():
    assert set(_registry_in_a_fresh_process()) == {"constant_contact", "files"}


def test_the_setting_lists_the_built_in_connectors():
    assert settings.CONNECTORS["files"] == "connectors.files.connector.FilesConnector"
