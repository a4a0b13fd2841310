"""Issue 17.7: the connection panel shows what the API key spent of its daily quota."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

from connectors import config as connector_config
from connectors.constant_contact.client import daily_quota_for, limits_identity
from connectors.constant_contact.settings import ConnectionSettings
from designer.projects.models import Variable
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    before = connector_config.connector_settings()
    connector_config.configure(state_dir=str(tmp_path), redis_url="")
    yield tmp_path
    connector_config.configure(state_dir=before.state_dir, redis_url=before.redis_url)


def test_the_panel_shows_todays_calls_of_the_quota(client_for, project, state_dir) -> None:
    connection = ConnectionFactory(
        project=project, config={"client_id": "panel-key", "auth_method": "token"}
    )
    quota = daily_quota_for(limits_identity(ConnectionSettings.from_config(connection.config)))
    for _ in range(1_234):
        quota.take()  # what workers counted while calling Constant Contact today
    url = reverse("design:connection", args=[project.pk, connection.pk])
    html = client_for("viewer").get(url).content.decode()
    assert 'id="connection-usage"' in html
    assert "today: 1,234 of 10,000 calls" in html


def test_a_connector_without_limits_shows_no_usage(
    client_for, project, fake_connector, state_dir
) -> None:
    connection = ConnectionFactory(project=project, connector_key="fake_crm", config={})
    url = reverse("design:connection", args=[project.pk, connection.pk])
    assert 'id="connection-usage"' not in client_for("viewer").get(url).content.decode()


def test_the_panel_counts_the_key_a_run_would_use(client_for, project, state_dir) -> None:
    """A client id written as a project variable is the variable's value at run time: the
    panel shows that key's calls (and nothing, rather than an error, while it is missing)."""
    connection = ConnectionFactory(
        project=project, config={"client_id": "[cc_key]", "auth_method": "token"}
    )
    url = reverse("design:connection", args=[project.pk, connection.pk])
    assert 'id="connection-usage"' not in client_for("viewer").get(url).content.decode()
    Variable.objects.create(project=project, name="cc_key", value="real-key")
    resolved = ConnectionSettings.from_config({"client_id": "real-key", "auth_method": "token"})
    daily_quota_for(limits_identity(resolved)).take()
    assert "today: 1 of 10,000 calls" in client_for("viewer").get(url).content.decode()
