"""The mapping editor's page and endpoints, through the test client."""

from __future__ import annotations

import json

from designer.design.models import Transformation


def url(operation, action: str = "") -> str:
    base = f"/projects/{operation.project_id}/transformations/{operation.transformation_id}/"
    return base + (f"{action}/" if action else "")


def post_json(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_the_page_shows_both_schema_trees_and_flags_required_fields(client_for, operation):
    response = client_for("viewer").get(url(operation))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-path="First Name"' in html  # source tree, from the inline header
    assert 'data-path="email_address.address"' in html  # target tree, from the CC schema
    assert "Required field “email_address.address” is not mapped." in html
    assert 'data-action="save"' not in html  # a viewer can't change it
    assert 'data-action="save"' in client_for("editor").get(url(operation)).content.decode()


def test_save_validates_and_names_the_field(client_for, operation):
    client = client_for("editor")
    rules = [{"target": "first_name", "kind": "path", "value": "First Name"}]
    response = post_json(client, url(operation, "save"), {"rules": rules, "version": 1})
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["problems"][0]["target"] == "email_address.address"
    assert Transformation.objects.get().mapping == []


def test_save_stores_rules_types_constants_and_bumps_the_version(client_for, operation):
    client = client_for("editor")
    rules = [
        {"target": "email_address.address", "kind": "path", "value": "Email"},
        {"target": "birthday_month", "kind": "constant", "value": "11"},
    ]
    response = post_json(client, url(operation, "save"), {"rules": rules, "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    saved = Transformation.objects.get()
    assert saved.version == 2 and saved.updated_by.username == "editor"
    assert saved.mapping[1] == {"target": "birthday_month", "kind": "constant", "value": 11}
    # A save from the stale copy is refused and names who saved.
    stale = post_json(client, url(operation, "save"), {"rules": rules, "version": 1})
    assert stale.status_code == 409
    assert "editor saved this transformation" in stale.json()["message"]


def test_save_rejects_garbage(client_for, operation):
    client = client_for("editor")
    assert (
        client.post(url(operation, "save"), data="{", content_type="application/json").status_code
        == 400
    )
    response = post_json(client, url(operation, "save"), {"rules": "nope", "version": 1})
    assert response.status_code == 422
    assert response.json()["problems"][0]["message"] == "The mapping must be a list of rules."


def test_automap_suggests_rules_without_saving(client_for, operation):
    response = post_json(client_for("editor"), url(operation, "automap"), {"rules": []})
    body = response.json()
    targets = {r["target"]: r["value"] for r in body["rules"]}
    assert targets["email_address.address"] == "Email"
    assert targets["first_name"] == "First Name"
    assert targets["phone_numbers.0.phone_number"] == "Phone"
    assert targets["list_memberships"] == "Lists | split(',')"
    assert "Auto-map added" in body["message"]
    assert Transformation.objects.get().mapping == []


def test_preview_shows_input_output_and_errors_side_by_side(client_for, operation):
    rules = [
        {"target": "email_address.address", "kind": "path", "value": "Email"},
        {"target": "first_name", "kind": "expression", "value": "record['First Name'] | upper"},
        {"target": "list_memberships", "kind": "expression", "value": "Lists | split(',')"},
        {"target": "job_title", "kind": "expression", "value": "'x' * 60"},
    ]
    response = post_json(client_for("editor"), url(operation, "preview"), {"rules": rules})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="preview-row') == 3
    assert "&quot;ANN&quot;" in html and "&quot;l2&quot;" in html
    assert "inline data line 4: 1 values where the header has 4 columns." in html
    # The output is checked against the target schema too.
    assert html.count("job_title: &#x27;xxxxxxxx") == 2 and "is too long" in html


def test_preview_reports_a_source_that_cannot_be_read(client_for, operation, project):
    source = operation.source
    source.activity_type = "read"
    source.config = {"file_name": "absent.csv"}
    source.save()
    response = post_json(client_for("editor"), url(operation, "preview"), {"rules": []})
    assert "The source could not be read: No file matches" in response.content.decode()


def test_a_transformation_of_another_project_is_404(client_for, operation):
    from tests.factories import TransformationFactory

    other = TransformationFactory()
    response = client_for("editor").get(
        f"/projects/{operation.project_id}/transformations/{other.pk}/"
    )
    assert response.status_code == 404


def test_a_file_target_accepts_any_field_and_auto_map_carries_the_source_over(
    client_for, operation
):
    target = operation.target
    target.connection = operation.source.connection  # the Files connection
    target.activity_type = "write"
    target.config = {"file_name": "out-{run_id}.csv"}
    target.save()
    page = client_for("editor").get(url(operation)).content.decode()
    assert "Any field is accepted: add target fields by name." in page
    assert "Manage files" in page
    body = post_json(client_for("editor"), url(operation, "automap"), {"rules": []}).json()
    assert [r["target"] for r in body["rules"]] == ["Email", "First Name", "Phone", "Lists"]
    rules = [{"target": "email", "kind": "path", "value": "Email"}]
    saved = post_json(client_for("editor"), url(operation, "save"), {"rules": rules, "version": 1})
    assert saved.json()["ok"] is True


def test_no_source_fields_is_said_outside_the_tree(client_for, operation):
    # A role="tree" may only hold treeitems (axe: aria-required-children, listitem): the
    # empty state is a paragraph beside it, not an <li> inside it.
    source = operation.source
    source.config = {"data": ""}
    source.save()
    html = client_for("viewer").get(url(operation)).content.decode()
    assert "No source fields." in html
    tree = html.split('aria-label="Source schema">', 1)[1].split("</ul>", 1)[0]
    assert "<li" not in tree
