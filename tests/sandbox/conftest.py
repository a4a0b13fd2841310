from __future__ import annotations

from typing import Any

import pytest

from connectors.constant_contact.sandbox import Sandbox
from tests.sandbox.helpers import Api


@pytest.fixture
def api(cc_sandbox: Sandbox, cc_tokens: dict[str, Any]) -> Api:
    return Api(cc_sandbox, cc_tokens["access_token"])
