from django.contrib import admin

from designer.runs.models import Agent, OperationRun, Schedule


@admin.register(OperationRun)
class OperationRunAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "operation", "status", "trigger", "created_at", "agent_name")
    list_filter = ("status", "trigger")
    raw_id_fields = ("project", "operation", "parent", "agent", "triggered_by")
    exclude = ("input_records", "in_flight_records")


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "app_version", "last_heartbeat", "stopped_at")


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("operation", "minute", "hour", "day_of_month", "month_of_year", "day_of_week")
    raw_id_fields = ("project", "operation", "periodic_task", "created_by")
