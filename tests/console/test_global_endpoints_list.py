"""The console's Global endpoints list (issue 12): each endpoint with whom it is shared with and
the projects using it, read in a fixed number of queries however many endpoints there are (its
"Used by" column was one query per endpoint)."""

from __future__ import annotations

import re

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.console.test_global_endpoints import make_global
from tests.factories import ActivityFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def listing(client) -> str:
    response = client.get(reverse("console:global_endpoints"))
    assert response.status_code == 200
    return response.content.decode()


def row(html: str, connection) -> list[str]:
    """The row's cells, as text."""
    found = re.search(rf'<tr id="endpoint-{connection.pk}">(.*?)</tr>', html, re.S)
    assert found, connection.name
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def used_on(connection, *projects) -> None:
    for project in projects:
        ActivityFactory(project=project, connection=connection, activity_type="query")
        ActivityFactory(project=project, connection=connection, activity_type="create")


def test_the_list_shows_sharing_and_users_of_each_endpoint(console_client):
    alpha, beta, gamma = (ProjectFactory(name=n) for n in ("Alpha", "Beta", "Gamma"))
    everyone = make_global("Everyone CC")
    chosen = make_global("Chosen CC", shared_with=[gamma, alpha])
    unused = make_global("Unused CC", shared_with=[beta])
    used_on(everyone, beta, alpha)
    used_on(chosen, gamma)
    html = listing(console_client("staff"))
    assert row(html, everyone)[3:] == ["All projects", "Alpha, Beta"]
    assert row(html, chosen)[3:] == ["Alpha, Gamma", "Gamma"]
    assert row(html, unused)[3:] == ["Beta", "none"]


def test_the_list_reads_a_fixed_number_of_queries(console_client, django_assert_num_queries):
    staff = console_client("staff")
    first = make_global("CC 0", shared_with=[ProjectFactory(name="P0")])
    used_on(first, *first.shared_with.all())
    listing(staff)  # once, so nothing read only the first time is counted
    with CaptureQueriesContext(db_connection) as one:
        listing(staff)

    for n in range(1, 6):
        projects = [ProjectFactory(name=f"P{n}-{i}") for i in range(2)]
        used_on(make_global(f"CC {n}", shared_with=projects), *projects)
    with django_assert_num_queries(len(one.captured_queries)):
        html = listing(staff)
    assert html.count('<tr id="endpoint-') == 6
