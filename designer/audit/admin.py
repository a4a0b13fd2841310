from django.contrib import admin

from designer.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "project_name",
        "actor_name",
        "action",
        "component_kind",
        "component_name",
    ]
    list_filter = ["action", "component_kind"]
    search_fields = ["project_name", "actor_name", "component_name"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
