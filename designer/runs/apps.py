from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "designer.runs"
    label = "runs"
    verbose_name = "Operation runs"

    def ready(self) -> None:
        # The designer page shows last runs and schedules; design sits below runs and never
        # imports it, so runs hands them over.
        from designer.design import integrations
        from designer.runs import agents  # noqa: F401  (connects the worker signals)
        from designer.runs.preview import preview_step
        from designer.runs.selectors import last_runs_by_operation, project_schedules

        integrations.register_runs(last_runs=last_runs_by_operation, schedules=project_schedules)
        # A step's Test/Preview (issue 11) runs the engine's plan of the operation.
        integrations.register_step_preview(preview_step)
