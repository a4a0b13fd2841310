from django.contrib import admin

from designer.projects.models import Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "agent_group", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]
