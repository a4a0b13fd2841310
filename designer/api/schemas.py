"""The API's response shapes (pydantic, through django-ninja): the OpenAPI document's models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from ninja import Schema

from designer.api.running import run_response

FAILURES_IN_RESULT = 1000

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


class ProjectOut(Schema):
    id: int
    name: str
    description: str
    role: str  # the token user's role in it
    agent_group: str


class StepOut(Schema):
    id: int
    position: int
    kind: str
    name: str  # the activity's or transformation's name, else the kind
    parent_id: int | None  # a condition's branch steps
    branch: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        for related in (obj.activity, obj.transformation):
            if related is not None:
                return related.name
        return obj.get_kind_display()


class OperationOut(Schema):
    id: int
    project_id: int
    workflow_id: int
    name: str
    steps: list[StepOut]  # the chain, source first; the three below name the main chain's
    # first source, transformation and target (read from the steps)
    source: str | None
    transformation: str | None
    target: str | None
    timeout_seconds: int
    api_trigger: str | None  # "secret_url", "hmac" or None; its URL and secret never

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        return list(obj.steps.all())

    @staticmethod
    def resolve_source(obj: Any) -> str | None:
        return obj.source.name if obj.source_id else None

    @staticmethod
    def resolve_transformation(obj: Any) -> str | None:
        return obj.transformation.name if obj.transformation_id else None

    @staticmethod
    def resolve_target(obj: Any) -> str | None:
        return obj.target.name if obj.target_id else None

    @staticmethod
    def resolve_api_trigger(obj: Any) -> str | None:
        trigger = getattr(obj, "api_trigger", None)
        return trigger.mode if trigger is not None else None


class WorkflowOut(Schema):
    """A tab of the designer: a named group of operations."""

    id: int
    project_id: int
    name: str
    order: int
    operation_ids: list[int]

    @staticmethod
    def resolve_operation_ids(obj: Any) -> list[int]:
        return [operation.pk for operation in obj.operations.all()]


class RunLinks(Schema):
    self: str
    log: str
    failures: str
    failures_csv: str
    input: str
    page: str


class RunOut(Schema):
    id: int
    project_id: int
    operation_id: int
    operation: str
    status: str
    status_display: str
    is_final: bool
    trigger: str
    triggered_by: str | None
    parent_id: int | None
    message: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    source_records: int
    target_records: int
    failed_records: int
    total_expected: int | None
    links: RunLinks

    @staticmethod
    def resolve_operation(obj: Any) -> str:
        return obj.operation.name

    @staticmethod
    def resolve_status_display(obj: Any) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_triggered_by(obj: Any) -> str | None:
        return obj.triggered_by.get_username() if obj.triggered_by_id else None

    @staticmethod
    def resolve_links(obj: Any) -> dict[str, str]:
        base = f"/api/v1/projects/{obj.project_id}/runs/{obj.pk}"
        return {
            "self": base,
            "log": f"{base}/log",
            "failures": f"{base}/failures",
            "failures_csv": f"{base}/failures.csv",
            "input": f"{base}/input",
            "page": reverse("runs:detail", args=[obj.project_id, obj.pk]),
        }


class FailureOut(Schema):
    id: int
    index: int
    key: str
    error_key: str
    error_message: str
    record: Any = None
    # The step it failed at: its name then, and its kind ("" once the step is deleted).
    step_name: str = ""
    step_kind: str = ""

    @staticmethod
    def resolve_step_kind(obj: Any) -> str:
        return obj.step.kind if obj.step_id and obj.step else ""


class FailureBrief(Schema):
    index: int
    key: str
    error_key: str
    error_message: str


class RunResult(RunOut):
    """A run; once it has ended, its per-record outcome: successful records are counted
    (``target_records``), failed ones listed (the first ``failures_listed``; all of them at
    ``links.failures``)."""

    failures: list[FailureBrief] | None = None
    failures_listed: int | None = None

    @staticmethod
    def resolve_failures(obj: Any) -> list[dict[str, Any]] | None:
        if not obj.is_final:
            return None
        return list(
            obj.failures.values("index", "key", "error_key", "error_message")[:FAILURES_IN_RESULT]
        )

    @staticmethod
    def resolve_failures_listed(obj: Any) -> int | None:
        if not obj.is_final:
            return None
        return min(obj.failed_records, obj.failures.count(), FAILURES_IN_RESULT)


class RunResponseOut(Schema):
    """What a run that was waited for answers with: for each record that reached the end of
    its chain, what the last step gave (the last target's result - ``record``, ``ok``,
    ``id``, ``action``, ``error_key``, ``error_message`` - or the record a response
    transformation made of it), in the order sent. Bounded: past RUN_RESPONSE_MAX_RECORDS
    records or RUN_RESPONSE_MAX_BYTES, ``truncated`` is true and ``count`` > ``kept``."""

    count: int  # records that reached the end of the chain
    kept: int  # records listed below
    truncated: bool
    records: list[Any]


class RunDetail(RunResult):
    """A run with its response records (only runs started with ?wait=N keep them)."""

    response: RunResponseOut | None = None

    @staticmethod
    def resolve_response(obj: Any) -> dict[str, Any] | None:
        return run_response(obj)


class RunInput(Schema):
    count: int | None
    records: list[dict[str, Any]] | None


class LogLineOut(Schema):
    id: int
    created_at: datetime
    level: str
    message: str


class ScheduleOut(Schema):
    id: int
    operation_id: int
    cron: str
    timezone: str
    enabled: bool
    next_run_at: datetime | None

    @staticmethod
    def resolve_next_run_at(obj: Any) -> datetime | None:
        from designer.runs.schedules import next_run_at

        return next_run_at(obj)


class RunStarted(Schema):
    run_id: int
    status: str
    status_url: str
    run: RunResult
    # A synchronous call (?wait=N) that saw the run end: its response records.
    response: RunResponseOut | None = None
