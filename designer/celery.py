"""The Celery app. Workers are the product's agents; agent groups are Celery queues."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "designer.settings")

# The embedded broker ("filesystem://") with atomic message hand-over (designer/runs/broker.py).
TRANSPORT_ALIASES["filesystem"] = "designer.runs.broker:Transport"

app = Celery("designer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def worker_command(
    *, queue: str, name: str, pool: str = "solo", concurrency: int = 1, loglevel: str = "INFO"
) -> list[str]:
    """The command line of one agent (a Celery worker process on ``queue``) as the tests and
    the benchmarks start it, with this interpreter. No gossip, mingle or Celery heartbeat: agents
    report through their own heartbeat (designer/runs/agents.py), and those only slow the start.
    """
    import sys

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "designer",
        "worker",
        "-P",
        pool,
        "-c",
        str(concurrency),
        "-Q",
        queue,
        "-n",
        name,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        loglevel,
    ]
