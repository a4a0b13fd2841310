from django.apps import AppConfig


class TransformationsConfig(AppConfig):
    name = "designer.transformations"
    label = "transformations"

    def ready(self) -> None:
        # The designer checks a script's or a condition's text when a step is configured;
        # design sits below this app, so the check is handed over.
        from designer.design import integrations
        from designer.transformations.scripts import step_config_problem

        integrations.register_step_check(step_config_problem)
