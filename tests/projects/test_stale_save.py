"""Two people edit the same component: the second save, made on a stale copy, is refused.

Both clients load the real form page and submit it as a browser would (every input of the
form, with their own change), against the designer's own views.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from connectors.constant_contact.settings import AUTH_OAUTH
from designer.design.models import Connection
from tests.factories import (
    ActivityFactory,
    ConnectionFactory,
    OperationFactory,
    TransformationFactory,
)


class FormReader(HTMLParser):
    """The fields of the form posting to ``action``, as a browser would submit them."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action or a.get("hx-post") == self.action
            self.found = self.found or self.inside
        if not self.inside or (not a.get("name") and tag != "option"):
            return
        if tag == "input" and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select:
            if "selected" in a or self._select not in self.data:
                self.data[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[a["name"]] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def load_form(client: Client, page_url: str, action: str) -> dict[str, str]:
    response = client.get(page_url)
    assert response.status_code == 200, page_url
    reader = FormReader(action)
    reader.feed(response.content.decode())
    assert reader.found, f"no form posting to {action} on {page_url}"
    assert "version" in reader.data, "the form carries the version it was loaded at"
    return reader.data


@pytest.fixture
def connection(project):
    return ConnectionFactory(
        project=project,
        name="CC",
        config={"client_id": "cid-1", "auth_method": AUTH_OAUTH},
    )


def test_stale_connection_save_is_refused_naming_who_and_when(client_for, project, connection):
    page = reverse("design:connection", args=[project.pk, connection.pk])
    action = reverse("design:connection_save", args=[project.pk, connection.pk])
    first, second = client_for("editor"), client_for("admin")
    mine, theirs = load_form(first, page, action), load_form(second, page, action)

    theirs["name"] = "CC (admin)"
    response = second.post(action, theirs, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content.decode()[:2000]

    mine["name"] = "CC (editor)"
    response = first.post(action, mine, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Changed by admin at" in html and "reload" in html.lower()

    connection.refresh_from_db()
    assert connection.name == "CC (admin)"
    assert connection.version == 2
    assert connection.updated_by.username == "admin"

    # Reloading gives the current version, and then the save goes through.
    fresh = load_form(first, page, action)
    fresh["name"] = "CC (editor)"
    assert first.post(action, fresh, HTTP_HX_REQUEST="true").status_code == 200
    assert Connection.objects.get(pk=connection.pk).name == "CC (editor)"


@pytest.mark.parametrize("kind", ["activity", "transformation", "operation"])
def test_stale_rename_is_refused_for_every_kind(client_for, project, connection, kind):
    factories = {
        "activity": lambda: ActivityFactory(connection=connection, name="Original"),
        "transformation": lambda: TransformationFactory(project=project, name="Original"),
        "operation": lambda: OperationFactory(project=project, name="Original"),
    }
    item = factories[kind]()
    action = reverse("design:component_action", args=[project.pk, kind, item.pk, "rename"])
    first, second = client_for("editor"), client_for("admin")
    # Both loaded version 1.
    ok = second.post(action, {"name": "By admin", "version": "1"}, HTTP_HX_REQUEST="true")
    assert "Renamed" in ok.content.decode()
    refused = first.post(action, {"name": "By editor", "version": "1"}, HTTP_HX_REQUEST="true")
    assert "Changed by admin at" in refused.content.decode()
    item.refresh_from_db()
    assert (item.name, item.version, item.updated_by.username) == ("By admin", 2, "admin")
