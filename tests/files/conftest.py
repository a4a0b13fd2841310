from __future__ import annotations

import pytest

from tests.transformations.conftest import operation  # noqa: F401  (a Files source operation)


@pytest.fixture(autouse=True)
def files_root(settings, tmp_path):
    settings.FILES_ROOT = tmp_path / "files"
    return settings.FILES_ROOT
