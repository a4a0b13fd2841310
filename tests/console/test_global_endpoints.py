"""Global endpoints (issue 12): staff define them in the console, shared with every project or
the chosen ones; a project builds its own activities on one without seeing its secrets or
editing it; deleting one in use, or unsharing it from a project that uses it, is refused;
every project's calls are paced together; exports carry a reference by name."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import resolve, reverse

from connectors.config import configure, connector_settings
from connectors.constant_contact.client import (
    ConnectionSettings,
    limits_identity,
    rate_limiter_for,
)
from connectors.sharedstate import GRANTED, Pace
from designer.audit.models import AuditEntry
from designer.console import endpoint_services
from designer.crypto import decrypt_json, encrypt_json
from designer.design import services as design_services
from designer.design.connection_context import DbConnection
from designer.design.models import Activity, Connection, Operation
from designer.transfer import services as transfer
from designer.transfer.validation import ProjectImportError
from tests.console.conftest import CONSOLE_PERSONAS
from tests.factories import ActivityFactory, OperationFactory, ProjectFactory, UserFactory
from tests.fixtures.sandbox import CC_CLIENT_ID, cc_connection
from tests.fixtures.urls import walk
from tests.security.world import build_world, project_pages

FAR_SIDE = "http://127.0.0.1:9"
SECRET = "gl0bal-s3cret-never-shown"
TOKEN = "gl0bal-access-token-never-shown"


@pytest.fixture(autouse=True)
def allow_test_hosts(request):
    """The form's allow-list check lets the test addresses (and the sandbox) through."""
    before = connector_settings().url_allow_list
    hosts = [FAR_SIDE]
    if "cc_sandbox" in request.fixturenames:
        hosts.append(request.getfixturevalue("cc_sandbox").url)
    configure(url_allow_list=tuple(hosts))
    yield
    configure(url_allow_list=before)


def page(response) -> str:
    return response.content.decode()


def make_global(name: str = "Shared CC", shared_with=(), base: str = "http://127.0.0.1:9"):
    connection = Connection.objects.create(
        is_global=True,
        project=None,
        connector_key="constant_contact",
        name=name,
        config={
            "client_id": CC_CLIENT_ID,
            "auth_method": "oauth",
            "api_base_url": base + "/v3",
            "authorize_url": base + "/oauth2/default/v1/authorize",
            "token_url": base + "/oauth2/default/v1/token",
        },
        secrets_encrypted=encrypt_json(
            {"client_secret": SECRET, "access_token": TOKEN, "refresh_token": TOKEN + "-r"}
        ),
    )
    connection.shared_with.set(shared_with)
    if not shared_with:  # "with all projects" unless some are chosen
        Connection.objects.filter(pk=connection.pk).update(shared_with_all=True)
        connection.shared_with_all = True
    return connection


def cc_form(name: str, **extra) -> dict:
    data = {
        "name": name,
        "auth_method": "oauth",
        "client_id": CC_CLIENT_ID,
        "client_secret": SECRET,
        "api_base_url": "http://127.0.0.1:9/v3",
        "authorize_url": "http://127.0.0.1:9/oauth2/default/v1/authorize",
        "token_url": "http://127.0.0.1:9/oauth2/default/v1/token",
        "sharing": "all",
    }
    data.update(extra)
    return data


# --- Model -------------------------------------------------------------------------------


def test_a_global_endpoint_has_no_project_and_a_unique_name(project):
    make_global("One")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_global("One")
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(is_global=True, project=project, connector_key="x", name="Two")
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(is_global=False, project=None, connector_key="x", name="Three")


def test_shared_with_all_or_with_the_chosen_projects(project):
    other = ProjectFactory(name="Other")
    everyone = make_global("Everyone")
    chosen = make_global("Chosen", shared_with=[other])
    assert set(Connection.objects.global_for(project)) == {everyone}
    assert set(Connection.objects.global_for(other)) == {everyone, chosen}
    own = cc_connection(project, "http://127.0.0.1:9")
    assert set(Connection.objects.usable_by(project)) == {own, everyone}
    # Its only chosen project deleted, it is shared with nobody, not with everyone.
    other.delete()
    assert set(Connection.objects.global_for(project)) == {everyone}
    assert set(Connection.objects.global_for(ProjectFactory(name="New"))) == {everyone}


def test_two_projects_name_their_activities_freely_on_one_global_endpoint(project):
    other = ProjectFactory(name="Other")
    shared = make_global()
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Query")
    ActivityFactory(project=other, connection=shared, activity_type="query", name="Query")
    with pytest.raises(IntegrityError), transaction.atomic():
        ActivityFactory(project=other, connection=shared, activity_type="query", name="Query")


# --- Console access ----------------------------------------------------------------------


def sweep(shared: Connection) -> list[tuple[str, str]]:
    """Every global endpoint route of the console, on a real row: (method, url)."""
    return [
        ("get", reverse("console:global_endpoints")),
        ("get", reverse("console:global_endpoint_new", args=["constant_contact"])),
        ("post", reverse("console:global_endpoint_new", args=["constant_contact"])),
        ("get", reverse("console:global_endpoint", args=[shared.pk])),
        ("post", reverse("console:global_endpoint", args=[shared.pk])),
        ("post", reverse("console:global_endpoint_test", args=[shared.pk])),
        ("post", reverse("console:global_endpoint_oauth_start", args=[shared.pk])),
        ("get", reverse("console:global_endpoint_oauth_callback", args=[shared.pk])),
        ("post", reverse("console:global_endpoint_delete", args=[shared.pk])),
    ]


def test_the_sweep_covers_every_global_endpoint_route(db):
    """test_console_access leaves these routes to this file: none may be missed."""
    names = {p.name for r, p in walk() if r.startswith("console/") and "global_endpoint" in p.name}
    swept = {resolve(url).url_name for _m, url in sweep(make_global())}
    assert names == swept


@pytest.mark.parametrize("persona", CONSOLE_PERSONAS)
def test_only_staff_administer_global_endpoints(console_client, persona, project):
    shared = make_global()
    client = console_client(persona)
    urls = sweep(shared)
    for method, url in urls:
        status = getattr(client, method)(url).status_code
        if persona == "staff":
            assert status != 403, url
        else:
            assert status == 403, (persona, url, status)
    if persona != "staff":
        assert Connection.objects.filter(pk=shared.pk).exists()


def test_anonymous_is_sent_to_log_in(client, db):
    shared = make_global()
    for method, url in sweep(shared):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    assert Connection.objects.filter(pk=shared.pk).exists()


# --- Console: create, edit, delete ---------------------------------------------------------


def test_staff_create_a_global_endpoint_shared_with_all(console_client, project):
    staff = console_client("staff")
    listing = page(staff.get(reverse("console:global_endpoints")))
    assert "Constant Contact" in listing  # a connector to start one with
    response = staff.post(
        reverse("console:global_endpoint_new", args=["constant_contact"]), cc_form("Shared CC")
    )
    assert response.status_code == 302, page(response)
    shared = Connection.objects.get(name="Shared CC")
    assert shared.is_global and shared.project_id is None and shared.shared_with_all
    assert not shared.shared_with.exists()
    assert decrypt_json(shared.secrets_encrypted)["client_secret"] == SECRET
    form = page(staff.get(reverse("console:global_endpoint", args=[shared.pk])))
    assert SECRET not in form and "Shared CC" in form
    assert "All projects" in form
    entry = AuditEntry.objects.get(action="create", component_kind="global endpoint")
    assert entry.project is None and entry.component_name == "Shared CC"
    assert SECRET not in json.dumps(entry.after)
    again = staff.post(
        reverse("console:global_endpoint_new", args=["constant_contact"]), cc_form("Shared CC")
    )
    assert again.status_code == 422 and "already exists" in page(again)


def test_a_global_endpoint_takes_no_project_variables(console_client):
    staff = console_client("staff")
    response = staff.post(
        reverse("console:global_endpoint_new", args=["constant_contact"]),
        cc_form("Vars", client_id="[cc_client]"),
    )
    assert response.status_code == 422 and "project variables" in page(response)
    assert not Connection.objects.filter(name="Vars").exists()


def test_edit_shows_who_uses_it_and_keeps_the_secret(console_client, project):
    other = ProjectFactory(name="Other project")
    shared = make_global()
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    staff = console_client("staff")
    html = page(staff.get(reverse("console:global_endpoint", args=[shared.pk])))
    assert (
        "Used by" in html
        and project.name in html
        and other.name not in html.split("Used by")[1].split("</")[0]
    )
    response = staff.post(
        reverse("console:global_endpoint", args=[shared.pk]),
        cc_form("Renamed CC", client_secret="", version=shared.version),
    )
    assert response.status_code == 302, page(response)
    shared.refresh_from_db()
    assert shared.name == "Renamed CC"
    assert decrypt_json(shared.secrets_encrypted)["client_secret"] == SECRET  # blank keeps it
    entry = AuditEntry.objects.get(action="update", component_kind="global endpoint")
    assert SECRET not in json.dumps([entry.before, entry.after])


def test_delete_in_use_is_refused_naming_the_projects(console_client, project):
    shared = make_global()
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    staff = console_client("staff")
    refused = staff.post(reverse("console:global_endpoint_delete", args=[shared.pk]))
    assert refused.status_code == 422
    assert "can't be deleted" in page(refused) and project.name in page(refused)
    assert Connection.objects.filter(pk=shared.pk).exists()
    Activity.objects.filter(connection=shared).delete()
    done = staff.post(reverse("console:global_endpoint_delete", args=[shared.pk]))
    assert done.status_code == 302
    assert not Connection.objects.filter(pk=shared.pk).exists()
    assert AuditEntry.objects.filter(
        action="delete", component_kind="global endpoint", component_name="Shared CC"
    ).exists()


def test_unsharing_from_a_project_that_uses_it_is_refused(console_client, project):
    other = ProjectFactory(name="Other project")
    shared = make_global()
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    staff = console_client("staff")
    refused = staff.post(
        reverse("console:global_endpoint", args=[shared.pk]),
        cc_form(
            "Shared CC",
            client_secret="",
            version=shared.version,
            sharing="chosen",
            shared_with=[other.pk],
        ),
    )
    assert refused.status_code == 422
    assert project.name in page(refused) and "uses it" in page(refused)
    shared.refresh_from_db()
    assert shared.shared_with_all and not shared.shared_with.exists()
    ok = staff.post(
        reverse("console:global_endpoint", args=[shared.pk]),
        cc_form(
            "Shared CC",
            client_secret="",
            version=shared.version,
            sharing="chosen",
            shared_with=[other.pk, project.pk],
        ),
    )
    assert ok.status_code == 302, page(ok)
    shared.refresh_from_db()
    assert not shared.shared_with_all and set(shared.shared_with.all()) == {other, project}
    # Choosing no project at all is refused, not read as "all projects".
    none = staff.post(
        reverse("console:global_endpoint", args=[shared.pk]),
        cc_form("Shared CC", client_secret="", version=shared.version, sharing="chosen"),
    )
    assert none.status_code == 422 and "Choose the projects" in page(none)


def test_test_is_audited_as_a_console_action(console_client, cc_sandbox, cc_tokens):
    shared = cc_connection(
        None, cc_sandbox, cc_tokens, name="Sandbox CC", is_global=True, shared_with_all=True
    )
    staff = console_client("staff")
    response = staff.post(reverse("console:global_endpoint_test", args=[shared.pk]))
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.status == "connected", shared.status_message
    assert AuditEntry.objects.filter(
        action="test", component_kind="global endpoint", project__isnull=True
    ).exists()


# --- The project's side --------------------------------------------------------------------


def test_palette_global_tab_shows_shared_endpoints_only(client_for, project):
    other = ProjectFactory(name="Other")
    everyone = make_global("Everyone CC")
    make_global("Others only", shared_with=[other])
    html = page(client_for("editor").get(reverse("design:designer", args=[project.pk])))
    panel = html.split('id="panel-global-endpoints"')[1].split("</section>")[0]
    assert "Everyone CC" in panel and "Others only" not in panel
    assert f'data-connection="{everyone.pk}"' in panel and 'data-activity-type="query"' in panel
    assert SECRET not in html and TOKEN not in html
    project_panel = html.split('id="panel-project-endpoints"')[1].split("</section>")[0]
    assert "Everyone CC" not in project_panel


def test_project_members_build_activities_but_never_edit_it(client_for, project):
    shared = make_global()
    editor = client_for("editor")
    # The connection's own pages are the console's: 404 from the project.
    for name in ("connection", "connection_save", "connection_test", "connection_oauth_start"):
        method = editor.get if name == "connection" else editor.post
        assert method(reverse(f"design:{name}", args=[project.pk, shared.pk])).status_code == 404
    delete = reverse(
        "design:component_action", args=[project.pk, "connection", shared.pk, "delete"]
    )
    assert editor.post(delete).status_code == 404
    wizard = editor.get(reverse("design:activity_new", args=[project.pk, shared.pk, "query"]))
    assert wizard.status_code == 200 and SECRET not in page(wizard)
    dropped = editor.post(
        reverse("design:step_add", args=[project.pk]),
        {"connection": shared.pk, "activity_type": "query"},
        HTTP_HX_REQUEST="true",
    )
    assert dropped.status_code == 200, page(dropped)
    activity = Activity.objects.get(connection=shared)
    assert activity.project_id == project.pk
    operation = Operation.objects.get(project=project)
    assert operation.source_id == activity.pk
    html = page(editor.get(reverse("design:activity", args=[project.pk, activity.pk])))
    assert SECRET not in html and TOKEN not in html
    assert Connection.objects.filter(pk=shared.pk, is_global=True).exists()


def test_a_project_it_is_not_shared_with_gets_404(client_for, project):
    shared = make_global(shared_with=[ProjectFactory(name="Other")])
    editor = client_for("editor")
    assert (
        editor.get(
            reverse("design:activity_new", args=[project.pk, shared.pk, "query"])
        ).status_code
        == 404
    )
    dropped = editor.post(
        reverse("design:step_add", args=[project.pk]),
        {"connection": shared.pk, "activity_type": "query"},
    )
    assert dropped.status_code == 404
    assert not Activity.objects.filter(connection=shared).exists()


# --- Shared pacing -------------------------------------------------------------------------


def test_runs_of_two_projects_on_one_global_endpoint_share_its_limits(project):
    other = ProjectFactory(name="Other")
    # A key of its own (its API server is part of it): no slots left from other tests.
    shared = make_global(base="http://127.0.0.1:9/" + uuid.uuid4().hex)
    mine = ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    theirs = ActivityFactory(project=other, connection=shared, activity_type="query", name="Q")
    # As the engine builds a run's connection: from the activity's connection row.
    limiters = [
        rate_limiter_for(
            limits_identity(ConnectionSettings.from_config(DbConnection(a.connection).config))
        )
        for a in Activity.objects.select_related("connection").filter(pk__in=[mine.pk, theirs.pk])
    ]
    assert len({limiter.key for limiter in limiters}) == 1
    # The one window paces both: with room for one call, the other project's call waits.
    pace = Pace(calls=1, window=5.0, spacing=0.0, hold=5.0)
    first, second = limiters
    assert first.store.acquire(first.key, "run-of-project-a", pace).status == GRANTED
    waiting = second.store.acquire(second.key, "run-of-project-b", pace)
    assert waiting.status != GRANTED and waiting.wait > 0


# --- Export / import -----------------------------------------------------------------------


def test_export_refers_to_the_global_endpoint_by_name_without_secrets(project):
    shared = make_global()
    activity = ActivityFactory(
        project=project, connection=shared, activity_type="query", name="All contacts"
    )
    OperationFactory(project=project, name="Pull", source=activity)
    document = transfer.project_export(project=project)
    text = json.dumps(document)
    assert SECRET not in text and TOKEN not in text and CC_CLIENT_ID not in text
    assert [c["name"] for c in document["connections"]] == []
    assert document["global_endpoints"] == [
        {
            "name": "Shared CC",
            "connector_key": "constant_contact",
            "activities": [{"name": "All contacts", "activity_type": "query", "config": {}}],
        }
    ]
    step = document["operations"][0]["steps"][0]
    assert step["activity"] == {
        "connection": "Shared CC",
        "activity": "All contacts",
        "global": True,
    }

    imported = transfer.project_import(document=document, actor=UserFactory(), name="Copy")
    copy = Activity.objects.get(project=imported)
    assert copy.connection_id == shared.pk and copy.name == "All contacts"
    assert Operation.objects.get(project=imported).source_id == copy.pk


def test_import_without_that_global_endpoint_says_so(project):
    shared = make_global()
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    document = transfer.project_export(project=project)
    shared.shared_with.set([ProjectFactory(name="Only this one")])
    Connection.objects.filter(pk=shared.pk).update(shared_with_all=False)
    with pytest.raises(ProjectImportError, match="global endpoint “Shared CC”"):
        transfer.project_import(document=document, actor=UserFactory(), name="Copy")
    Activity.objects.all().delete()
    shared.delete()
    with pytest.raises(ProjectImportError, match="no global endpoint “Shared CC”"):
        transfer.project_import(document=document, actor=UserFactory(), name="Copy 2")


def test_a_viewer_cant_build_on_it(client_for, project):
    shared = make_global()
    url = reverse("design:activity_new", args=[project.pk, shared.pk, "query"])
    assert client_for("viewer").get(url).status_code == 403
    assert client_for("outsider").get(url).status_code == 404


# --- The secret scan, for a global endpoint ------------------------------------------------


def test_its_secrets_show_in_no_project_or_console_page(db):
    """As tests/security/test_secrets.py scans a project's own connection: every page of a
    project using the global endpoint (its export included), and every console page."""
    admin = UserFactory(username="scan-admin", is_staff=True)
    world = build_world(admin=admin)
    shared = make_global()
    activity = ActivityFactory(
        project=world.project, connection=shared, activity_type="query", name="Global query"
    )
    OperationFactory(project=world.project, name="On the global endpoint", source=activity)
    # The world's connection and activity URLs point at the global endpoint and its activity.
    world.ids.update(connection_id=shared.pk, activity_id=activity.pk)
    client = Client()
    client.force_login(admin)
    pages = project_pages(client, world)
    for route, _pattern in walk():
        if route.startswith("console/") and "oauth" not in route:
            url = "/" + re.sub(r"<int:\w+>", str(shared.pk), route)
            url = url.replace("<str:connector_key>", "constant_contact")
            response = client.get(url)
            if response.status_code == 200:
                pages[url] = response.content.decode("utf-8", "replace")
    assert len(pages) >= 25, sorted(pages)
    assert any("export" in url for url in pages), "the export was scanned"
    assert "Global query" in pages[f"/projects/{world.project.pk}/"]
    assert f"/console/global-endpoints/{shared.pk}/" in pages
    for url, text in pages.items():
        assert SECRET not in text and TOKEN not in text, f"secret rendered in {url}"


def test_pickers_of_an_activity_on_it_offer_the_accounts_lists(
    client_for, project, cc_sandbox, cc_tokens
):
    """The activity form's pickers read the account through the global endpoint, for a
    project it is shared with (404 for one it isn't)."""
    cache.clear()
    shared = cc_connection(
        None, cc_sandbox, cc_tokens, name="Sandbox CC", is_global=True, shared_with_all=True
    )
    url = reverse("design:picker", args=[project.pk, shared.pk, "lists"])
    response = client_for("editor").get(url, {"field": "list_ids"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'value="{cc_sandbox.list_id("Newsletter")}"' in page(response)
    shared.shared_with.set([ProjectFactory(name="Other")])
    Connection.objects.filter(pk=shared.pk).update(shared_with_all=False)
    assert client_for("editor").get(url, HTTP_HX_REQUEST="true").status_code == 404


def test_a_malformed_global_endpoint_reference_is_refused_naming_the_field(project):
    shared = make_global()
    ActivityFactory(project=project, connection=shared, activity_type="query", name="Q")
    document = transfer.project_export(project=project)
    assert document["format_version"] == transfer.GLOBAL_FORMAT_VERSION
    del document["global_endpoints"][0]["name"]
    with pytest.raises(ProjectImportError, match="global_endpoints"):
        transfer.project_import(document=document, actor=UserFactory(), name="Copy")


def test_an_activity_is_built_on_it_only_while_it_is_shared_with_the_project(project):
    """The service checks sharing under the endpoint's row lock, the lock an unsharing takes:
    a view's earlier look-up can't race a project onto an endpoint it no longer sees."""
    shared = make_global(shared_with=[ProjectFactory(name="Other")])
    with pytest.raises(PermissionDenied):
        design_services.activity_create_default(
            connection=shared.seen_from(project), activity_type="query", user=None
        )
    assert not Activity.objects.filter(connection=shared).exists()
    shared.shared_with.add(project)
    made = design_services.activity_create_default(
        connection=shared.seen_from(project), activity_type="query", user=None
    )
    assert made.project_id == project.pk


def test_the_console_audit_log_lists_its_actions(console_client):
    staff = console_client("staff")
    created = staff.post(
        reverse("console:global_endpoint_new", args=["constant_contact"]), cc_form("Audited CC")
    )
    assert created.status_code == 302
    shared = Connection.objects.get(name="Audited CC")
    assert (
        staff.post(reverse("console:global_endpoint_delete", args=[shared.pk])).status_code == 302
    )
    html = page(staff.get(reverse("console:audit")))
    assert html.count("Audited CC") >= 2 and "global endpoint" in html
    assert SECRET not in html


def test_connect_signs_in_at_the_sandbox_and_stores_the_tokens_on_it(
    console_client, cc_sandbox, settings
):
    """Connect (OAuth2 + PKCE) from the console, for real: the sandbox's authorize answer
    comes back to the console's callback; the tokens land on the global endpoint."""
    settings.SITE_URL = "http://127.0.0.1:8000"  # the sandbox accepts loopback redirects
    shared = cc_connection(
        None, cc_sandbox, None, name="Sandbox CC", is_global=True, shared_with_all=True
    )
    staff = console_client("staff")
    start = staff.post(reverse("console:global_endpoint_oauth_start", args=[shared.pk]))
    assert start.status_code == 302 and start["Location"].startswith(cc_sandbox.authorize_url)
    callback = reverse("console:global_endpoint_oauth_callback", args=[shared.pk])
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000" + callback]
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    assert back.path == callback
    done = staff.get(callback, {k: v[0] for k, v in parse_qs(back.query).items()})
    assert done.status_code == 302
    shared.refresh_from_db()
    stored = decrypt_json(shared.secrets_encrypted)
    assert stored["access_token"] and stored["refresh_token"]
    assert shared.status == "connected", shared.status_message
    html = page(staff.get(done["Location"]))
    assert "Authorised." in html and stored["access_token"] not in html
    entry = AuditEntry.objects.filter(action="update", component_kind="global endpoint").get()
    assert entry.after["connect"] == "authorised" and entry.actor.username == "staff"


def test_the_keyboard_path_adds_its_activity_type_as_a_step(client_for, project):
    """The palette item's ⋯ → “Add to operation…” (the step dialog), for a global endpoint."""
    shared = make_global()
    editor = client_for("editor")
    url = reverse("design:step_add", args=[project.pk])
    dialog = editor.get(url, {"connection": shared.pk, "activity_type": "query"})
    assert dialog.status_code == 200 and "Shared CC" in page(dialog)
    added = editor.post(
        url, {"connection": shared.pk, "activity_type": "query"}, HTTP_HX_REQUEST="true"
    )
    assert added.status_code == 200, page(added)
    activity = Activity.objects.get(connection=shared)
    assert activity.project_id == project.pk
    assert activity.steps.get().operation.project_id == project.pk


def test_a_connector_that_needs_a_project_cant_back_one(console_client):
    """A Files connection keeps its files in its project's folder: no global Files endpoint."""
    staff = console_client("staff")
    listing = page(staff.get(reverse("console:global_endpoints")))
    assert "New Constant Contact endpoint" in listing and "New Files endpoint" not in listing
    assert staff.get(reverse("console:global_endpoint_new", args=["files"])).status_code == 404


def test_redo_brings_no_activity_back_onto_an_endpoint_unshared_since(
    client_for, project, personas
):
    shared = make_global()
    editor = client_for("editor")
    drop = reverse("design:step_add", args=[project.pk])  # what a palette drop posts
    dropped = editor.post(
        drop, {"connection": shared.pk, "activity_type": "query"}, HTTP_HX_REQUEST="true"
    )
    assert dropped.status_code == 200
    assert Activity.objects.filter(connection=shared).count() == 1
    editor.post(reverse("design:canvas_undo", args=[project.pk]))
    assert not Activity.objects.filter(connection=shared).exists()
    # Nobody uses it now: staff may share it with another project only.
    endpoint_services.global_endpoint_update(
        connection=shared,
        expected_version=shared.version,
        name=shared.name,
        config=shared.config,
        secrets={},
        shared_with=[ProjectFactory(name="Other").pk],
        actor=UserFactory(username="boss", is_staff=True),
    )
    editor.post(reverse("design:canvas_redo", args=[project.pk]))
    assert not Activity.objects.filter(connection=shared, project=project).exists()
