"""htmx answers are made with django-htmx's helpers (issue 16.7): a new workflow tab puts
its address in the browser's history (HX-Push-Url), so reload and Back keep it."""

from __future__ import annotations

from django.urls import reverse

from designer.design.models import Workflow


def test_a_new_workflow_pushes_its_address(client_for, project):
    response = client_for("editor").post(
        reverse("design:workflow_new", args=[project.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    workflow = Workflow.objects.filter(project=project).order_by("-pk").first()
    designer = reverse("design:designer", args=[project.pk])
    assert response["HX-Push-Url"] == f"{designer}?workflow={workflow.pk}"
