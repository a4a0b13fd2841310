from django.contrib import admin

from designer.design.models import Activity, Connection, Operation, Transformation


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "connector_key", "status", "updated_at"]
    # Encrypted secrets stay out of the admin entirely.
    exclude = ["secrets_encrypted"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "connection", "activity_type"]


@admin.register(Transformation)
class TransformationAdmin(admin.ModelAdmin):
    list_display = ["name", "project"]


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "source", "target"]
