from django.contrib import admin

from designer.projects.models import Membership, Project, Variable


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "agent_group", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "is_secret", "version", "updated_at"]
    list_filter = ["is_secret"]
    search_fields = ["name", "project__name"]
    # The encrypted value is never shown, not even to superusers.
    exclude = ["value_encrypted"]
