"""The Django project: settings, the Celery app and the designer's apps."""

from designer.celery import app as celery_app

__all__ = ("celery_app",)
