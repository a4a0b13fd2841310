from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify

from designer.projects.access import Capability, ProjectAccess, project_view
from designer.transfer import services
from designer.transfer.validation import parse_document

MAX_IMPORT_BYTES = 10 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(label="Project export (.json)")
    name = forms.CharField(
        label="New project name",
        max_length=100,
        required=False,
        help_text="Blank: the exported name.",
    )


@project_view(Capability.DESIGN)
def project_export(request: HttpRequest, access: ProjectAccess) -> HttpResponse:
    document = services.project_export(project=access.project, actor=request.user)
    response = JsonResponse(document, json_dumps_params={"indent": 2, "ensure_ascii": False})
    filename = f"{slugify(access.project.name) or 'project'}.designer.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def project_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm()
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_IMPORT_BYTES:
                    raise services.ProjectImportError("file: larger than 10 MB")
                document = parse_document(upload.read())
                project = services.project_import(
                    document=document, actor=request.user, name=form.cleaned_data["name"]
                )
            except services.ProjectImportError as error:
                form.add_error("file", f"Nothing was imported. {error}")
            else:
                count = project.connections.count()
                note = f"Project “{project.name}” imported."
                if count:
                    note += f" Enter the credentials of its {count} endpoint(s) again, then Test."
                messages.success(request, note)
                return redirect("projects:settings", project_id=project.pk)
    status = 422 if form.is_bound else 200
    return render(request, "projects/import.html", {"form": form}, status=status)
