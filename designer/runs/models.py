"""Operation runs: models, the engine, Celery tasks, schedules and agents."""
