from django.apps import AppConfig


class DesignConfig(AppConfig):
    name = "designer.design"
    label = "design"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_save

        from connectors.config import configure
        from designer.design.models import default_workflow
        from designer.projects.models import Project

        def first_workflow(sender, instance: Project, created: bool, raw: bool = False, **kw):
            # Every project has at least one workflow (issue 11), from its first moment.
            if created and not raw:
                default_workflow(instance)

        post_save.connect(
            first_workflow, sender=Project, weak=False, dispatch_uid="design-first-workflow"
        )

        # Connectors are plain Python; hand them the deployment's settings once.
        configure(
            redis_url=settings.CONNECTOR_RATE_LIMIT_REDIS_URL,
            url_allow_list=tuple(settings.CONNECTOR_URL_ALLOW_LIST),
            http_timeout=settings.CONNECTOR_HTTP_TIMEOUT,
            state_dir=str(settings.CONNECTOR_STATE_DIR),
            constant_contact_daily_quota=settings.CONSTANT_CONTACT_DAILY_QUOTA,
            rate_limit_speedup=settings.CONNECTOR_RATE_LIMIT_SPEEDUP,
            retry_speedup=settings.CONNECTOR_RETRY_SPEEDUP,
        )
