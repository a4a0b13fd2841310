"""API fixtures: personal tokens for the personas, an API client speaking Bearer tokens, and
the run fixtures (fake connector, real workers) of tests/runs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from designer.api.tokens import token_create
from tests.runs.conftest import (  # noqa: F401  (fixtures)
    fake_connector,
    shared_worker,
    worker_env,
    workers,
)


class ApiClient:
    """The Django test client with ``Authorization: Bearer <token>`` on every call."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data: Any = None, **kwargs: Any):
        return self.client.post(
            path, data, content_type="application/json", headers=self.headers, **kwargs
        )


@pytest.fixture
def token_for(personas):
    def make(persona: str, scopes: tuple[str, ...] = ("read", "run"), **kwargs: Any) -> str:
        _token, raw = token_create(
            user=personas[persona], name=f"{persona} CI", scopes=scopes, **kwargs
        )
        return raw

    return make


@pytest.fixture
def api_for(token_for):
    def make(persona: str, scopes: tuple[str, ...] = ("read", "run")) -> ApiClient:
        return ApiClient(token_for(persona, scopes))

    return make
