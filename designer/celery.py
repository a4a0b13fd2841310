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
