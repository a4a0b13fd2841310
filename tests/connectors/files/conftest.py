from __future__ import annotations

import pytest

from connectors.base import MemoryConnection, RunContext
from connectors.files.connector import FilesConnector


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "conn"
    path.mkdir()
    return path


@pytest.fixture
def files():
    return FilesConnector()


@pytest.fixture
def context(folder):
    def make(run_id: str = "7", **extras) -> RunContext:
        connection = MemoryConnection(extras={"folder": str(folder), **extras})
        log: list[tuple[str, str]] = []
        ctx = RunContext(
            connection=connection,
            log=lambda level, message: log.append((level, message)),
            run_id=run_id,
            started_at="2026-11-27T09:30:00+00:00",
        )
        ctx.lines = log  # type: ignore[attr-defined]
        return ctx

    return make


def read_all(activity, ctx, config) -> list[dict]:
    return [record for batch in activity.read(ctx, config) for record in batch]
