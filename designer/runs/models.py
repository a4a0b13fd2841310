"""Run-time data: operation runs, their log lines, per-record failures, debug samples, agents
and schedules.

Kept plain on purpose: the management console reads these tables directly. Successful
records are counters on the run (a 20,000-record run stays one row); failures are rows, so
they can be shown, downloaded and re-run.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from designer.design.models import Operation
from designer.projects.models import Project


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    WARNING = "warning", "Success with Warning"  # finished, some records failed
    ERROR = "error", "Error"
    CANCEL_REQUESTED = "cancel_requested", "Cancel Requested"
    CANCELED = "canceled", "Canceled"


# A run in one of these is still owned by the queue or by a worker.
ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED)
FINAL_STATUSES = (RunStatus.SUCCESS, RunStatus.WARNING, RunStatus.ERROR, RunStatus.CANCELED)


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Run button"
    SCHEDULE = "schedule", "Schedule"
    ACTION = "action", "Action of another operation"
    COMMAND = "command", "Command line"
    RERUN = "rerun", "Re-run of failed records"
    API = "api", "API"  # designer/api: a token holder started it
    API_TRIGGER = "api_trigger", "API trigger"  # designer/api: a POST to the trigger URL


class Agent(models.Model):
    """A Celery worker, as last reported by its own heartbeats.

    ``name`` is the Celery node name (``-n name@host``); ``queues`` are the agent groups it
    consumes; ``connector_versions`` maps connector key -> version of the code it carries.
    """

    name = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    queues = models.JSONField(default=list, blank=True)
    app_version = models.CharField(max_length=50, blank=True)
    connector_versions = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)  # set on a clean shutdown
    # The worker's last log lines (oldest first, bounded and redacted: runs/agent_log.py),
    # as sent with its latest heartbeat.
    recent_log = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def online(self) -> bool:
        """Heartbeats arrived within the agent-lost time-out and it did not shut down."""
        if self.stopped_at or self.last_heartbeat is None:
            return False
        limit = timedelta(seconds=settings.RUNS_AGENT_LOST_SECONDS)
        return self.last_heartbeat >= timezone.now() - limit


class OperationRun(models.Model):
    """One execution of an operation.

    Counters: ``source_records`` read and handled, ``target_records`` written successfully,
    ``failed_records`` (mapping or target failures, one RecordFailure row each).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(
        max_length=20, choices=RunStatus.choices, default=RunStatus.PENDING, db_index=True
    )
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The run this one re-runs (failed records) or whose action started it.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    chain_depth = models.PositiveIntegerField(default=0)  # actions: guards against loops
    queue = models.CharField(max_length=100)  # the agent group it was queued on
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    agent_name = models.CharField(max_length=200, blank=True)  # kept if the agent row goes
    attempts = models.PositiveIntegerField(default=0)  # claims; >1 after a re-queue

    source_records = models.PositiveIntegerField(default=0)
    target_records = models.PositiveIntegerField(default=0)
    failed_records = models.PositiveIntegerField(default=0)
    total_expected = models.PositiveIntegerField(null=True, blank=True)  # if the source knows
    http_requests = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by the process executing the run while it runs; a run whose heartbeat is
    # older than RUNS_AGENT_LOST_SECONDS has lost its agent (worker or pool process died).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When its message was last handed to the broker; a Pending run not picked up long after
    # this, while an idle agent serves its queue, is published again (see runs_reap_lost).
    published_at = models.DateTimeField(default=timezone.now)
    message = models.TextField(blank=True)  # the final outcome in one line

    debug = models.BooleanField(default=False)  # debug logging was on when it was queued
    # Connector key -> version the project needs (the versions where the run was queued).
    required_connectors = models.JSONField(default=dict, blank=True)
    # For re-runs: the source records to process instead of reading the source.
    input_records = models.JSONField(null=True, blank=True)
    # The batch being written right now (source records, as {"key", "record"}), cleared once
    # its results are stored. If the agent is lost meanwhile, a re-queued attempt re-submits
    # the records of it that have no committed result (``in_flight_done``), with the same
    # journal; a run ended instead reports those records failed (outcome unknown).
    in_flight_records = models.JSONField(null=True, blank=True)
    # Offsets within ``in_flight_records`` whose result is already counted (per-record
    # progress, committed about every second while the batch is written).
    in_flight_done = models.JSONField(null=True, blank=True)
    # The target's run journal for that batch (connectors.base.RunJournal): an import
    # activity id, the time records were first sent.
    in_flight_journal = models.JSONField(null=True, blank=True)
    # A file the run wrote (a Files target), for a link on the run page.
    output_file = models.CharField(max_length=500, blank=True)
    # Per step of the operation's chain (issue 11): {"<step id>": {"name", "kind", "in",
    # "out", "failed", "samples": {"in": [...], "out": [...]} (debug runs only)}}.
    step_counts = models.JSONField(default=dict, blank=True)
    # Where the batch in flight stands in a multi-step chain: the work left (step, records
    # as they enter it) and, for the target being written, each record's output so far.
    # Stored before every target or invoke step, so a re-queued attempt resumes there
    # instead of writing earlier targets again. None before the first such step.
    in_flight_stage = models.JSONField(null=True, blank=True)
    # Re-runs: per input record, [step id, the record as it entered that step] to re-enter
    # the chain at the step where it failed, or None to start at the beginning.
    input_steps = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="run_project_recent"),
            models.Index(fields=["operation", "-created_at"], name="run_operation_recent"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.operation_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.ended_at or timezone.now()) - self.started_at

    @property
    def duration_text(self) -> str:
        """“0.4 s”, “12 s”, “3 min 5 s”, “2 h 4 min”; empty before it starts."""
        if self.duration is None:
            return ""
        seconds = self.duration.total_seconds()
        if seconds < 10:
            return f"{seconds:.1f} s"
        whole = int(seconds)
        if whole < 60:
            return f"{whole} s"
        if whole < 3600:
            return f"{whole // 60} min {whole % 60} s"
        return f"{whole // 3600} h {whole % 3600 // 60} min"

    @property
    def done_records(self) -> int:
        return self.target_records + self.failed_records

    @property
    def progress_records(self) -> int:
        """Records handled so far: per-record results count before their batch ends."""
        return max(self.source_records, self.done_records)

    @property
    def progress_percent(self) -> int | None:
        if not self.total_expected:
            return None
        return min(100, round(100 * self.progress_records / self.total_expected))


class LogLevel(models.TextChoices):
    DEBUG = "debug", "Debug"
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class RunLogLine(models.Model):
    run = models.ForeignKey(OperationRun, on_delete=models.CASCADE, related_name="log_lines")
    created_at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=10, choices=LogLevel.choices, default=LogLevel.INFO)
    message = models.TextField()

    class Meta:
        # In time order: the engine writes its lines in bursts (each keeps its own time),
        # while the web writes some at once (a cancel request), so ids alone can mislead.
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["run", "created_at"], name="logline_run_time")]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:80]}"


class RecordFailure(models.Model):
    """One record that was not written: its position in the source, key, error and the source
    record itself (for the download and for re-runs)."""

    run = models.ForeignKey(OperationRun, on_delete=models.CASCADE, related_name="failures")
    index = models.PositiveIntegerField()  # 0-based position in the source's order
    key = models.CharField(max_length=300, blank=True)
    error_key = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    record = models.JSONField(null=True, blank=True)
    # The step it failed at (issue 11), its name when it failed, and the record as it
    # entered that step (a re-run re-enters there).
    step = models.ForeignKey(
        "design.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    step_name = models.CharField(max_length=300, blank=True)
    step_input = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["index", "id"]
        indexes = [models.Index(fields=["run", "index"], name="failure_run_index")]

    def __str__(self) -> str:
        return f"#{self.index} {self.key}: {self.error_key}"


class DebugSample(models.Model):
    """A redacted HTTP exchange, kept only while debug logging is on."""

    run = models.ForeignKey(OperationRun, on_delete=models.CASCADE, related_name="debug_samples")
    created_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10)
    url = models.TextField()
    status = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    attempt = models.PositiveIntegerField(default=1)
    request_body = models.JSONField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status}"


class RunResponse(models.Model):
    """The records a run answers with: what the last step of its chain gave for each record
    (the last target's response, or the records of a response transformation after it).

    Kept only for runs that asked (a synchronous trigger, an API start with ?wait=N): the row
    is created with the run, and the engine fills it batch by batch, in source order, up to
    RUN_RESPONSE_MAX_RECORDS records and RUN_RESPONSE_MAX_BYTES of JSON; past either
    ``truncated`` is set and ``count`` keeps counting (never a silent cut). A batch resumed
    after a lost agent lacks the records its target had finished before the loss (their
    results are counted, not kept), so ``count`` can then be below the run's counts.
    """

    run = models.OneToOneField(
        OperationRun, on_delete=models.CASCADE, primary_key=True, related_name="response"
    )
    records = models.JSONField(default=list, blank=True)
    count = models.PositiveIntegerField(default=0)  # records that reached the chain's end
    size_bytes = models.PositiveIntegerField(default=0)  # JSON size of ``records``
    truncated = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"Response of run {self.run_id}: {len(self.records)} of {self.count} records"


class Schedule(models.Model):
    """A cron-style schedule of one operation, mirrored into a django-celery-beat task."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="schedules")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="schedules")
    minute = models.CharField(max_length=100, default="0")
    hour = models.CharField(max_length=100, default="*")
    day_of_month = models.CharField(max_length=100, default="*")
    month_of_year = models.CharField(max_length=100, default="*")
    day_of_week = models.CharField(max_length=100, default="*")
    timezone = models.CharField(max_length=64, default="UTC")
    enabled = models.BooleanField(default=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["operation_id", "id"]

    def __str__(self) -> str:
        return f"{self.operation} at {self.cron}"

    @property
    def cron(self) -> str:
        return " ".join(
            [self.minute, self.hour, self.day_of_month, self.month_of_year, self.day_of_week]
        )
