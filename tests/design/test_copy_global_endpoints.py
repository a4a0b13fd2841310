"""Copying an operation to another project (the board's Paste) when its activities are on a
global endpoint (issue 12): the copy uses that global endpoint when it is shared with the
target project; only when it is not does the target get its own endpoint (the settings, never
the credentials), and the answer says why."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from designer.design.models import Activity, Connection, Operation, Workflow
from tests.console.test_global_endpoints import SECRET, TOKEN, make_global
from tests.factories import ActivityFactory, MembershipFactory, OperationFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(personas):
    """Another project the editor designs in too."""
    other = ProjectFactory(name="Other team")
    MembershipFactory(project=other, user=personas["editor"], role="editor")
    return other


def sync_on(project, connection) -> Operation:
    query = ActivityFactory(
        project=project, connection=connection, activity_type="query", name="All contacts"
    )
    create = ActivityFactory(
        project=project, connection=connection, activity_type="create", name="Add contact"
    )
    return OperationFactory(project=project, name="Sync", source=query, target=create)


def paste(client, source, ops, target) -> str:
    there = Workflow.objects.get_or_create(project=target, name="Workflow 1")[0]
    response = client.post(
        reverse("design:board_paste", args=[target.pk]),
        {
            "source_project": source.pk,
            "ops": ",".join(str(o.pk) for o in ops),
            "workflow": there.pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content[:500]
    return unescape(response.content.decode())


def pasted_activities(target) -> list[Activity]:
    op = Operation.objects.get(project=target)
    return [s.activity for s in op.steps.select_related("activity__connection") if s.activity]


def test_paste_reuses_a_global_endpoint_shared_with_the_target(client_for, project, elsewhere):
    shared = make_global("Shared CC")  # with every project
    sync = sync_on(project, shared)
    html = paste(client_for("editor"), project, [sync], elsewhere)

    activities = pasted_activities(elsewhere)
    assert [a.connection_id for a in activities] == [shared.pk, shared.pk]
    # The activities are the target project's own, on the global endpoint.
    assert {a.project_id for a in activities} == {elsewhere.pk}
    assert {a.pk for a in activities}.isdisjoint(
        Activity.objects.filter(project=project).values_list("pk", flat=True)
    )
    assert not Connection.objects.filter(project=elsewhere).exists()
    assert "global endpoint “Shared CC”" in html
    assert "no credentials" not in html
    assert SECRET not in html and TOKEN not in html


def test_paste_reuses_it_when_shared_with_the_target_among_the_chosen(
    client_for, project, elsewhere
):
    shared = make_global("Chosen CC", shared_with=[project, elsewhere])
    sync = sync_on(project, shared)
    paste(client_for("editor"), project, [sync], elsewhere)
    assert {a.connection_id for a in pasted_activities(elsewhere)} == {shared.pk}
    assert not Connection.objects.filter(project=elsewhere).exists()


def test_paste_takes_the_targets_own_same_named_activity_not_another_projects(
    client_for, project, elsewhere
):
    shared = make_global("Shared CC")
    third = ProjectFactory(name="Third")
    # A third project has an activity of that name and type on the global endpoint too:
    # it is not the target's to use.
    ActivityFactory(project=third, connection=shared, activity_type="query", name="All contacts")
    mine = ActivityFactory(
        project=elsewhere, connection=shared, activity_type="query", name="All contacts"
    )
    sync = sync_on(project, shared)
    paste(client_for("editor"), project, [sync], elsewhere)
    activities = pasted_activities(elsewhere)
    assert activities[0] == mine
    assert {a.project_id for a in activities} == {elsewhere.pk}


def test_paste_copies_a_global_endpoint_not_shared_with_the_target_and_says_so(
    client_for, project, elsewhere
):
    shared = make_global("Chosen CC", shared_with=[project])
    sync = sync_on(project, shared)
    html = paste(client_for("editor"), project, [sync], elsewhere)

    copied = Connection.objects.get(project=elsewhere)
    assert not copied.is_global and copied.name == "Chosen CC"
    assert copied.config == shared.config  # its settings ...
    assert copied.secrets_encrypted == ""  # ... never its credentials
    assert {a.connection_id for a in pasted_activities(elsewhere)} == {copied.pk}
    assert not Activity.objects.filter(project=elsewhere, connection=shared).exists()
    assert "global endpoint “Chosen CC” is not shared with this project" in html
    assert "no credentials" in html
    assert SECRET not in html and TOKEN not in html


def test_duplicate_in_the_same_project_keeps_its_global_endpoint_activities(client_for, project):
    shared = make_global("Shared CC")
    sync = sync_on(project, shared)
    before = set(Activity.objects.values_list("pk", flat=True))
    html = paste(client_for("editor"), project, [sync], project)
    assert "Pasted “Sync”" in html
    copy = Operation.objects.exclude(pk=sync.pk).get(project=project)
    assert {s.activity_id for s in copy.steps.all() if s.activity_id} <= before
    assert not Connection.objects.filter(project=project).exists()


def test_paste_of_an_unshared_global_endpoint_takes_the_targets_same_named_endpoint(
    client_for, project, elsewhere
):
    shared = make_global("Chosen CC", shared_with=[project])
    own = Connection.objects.create(
        project=elsewhere, connector_key="constant_contact", name="Chosen CC", config={}
    )
    sync = sync_on(project, shared)
    html = paste(client_for("editor"), project, [sync], elsewhere)
    assert {a.connection_id for a in pasted_activities(elsewhere)} == {own.pk}
    assert Connection.objects.filter(project=elsewhere).count() == 1
    assert "not shared with this project" in html and "found by its name" in html
    assert "no credentials" not in html  # nothing was made here
