from django.apps import AppConfig


class DesignConfig(AppConfig):
    name = "designer.design"
    label = "design"

    def ready(self) -> None:
        from django.conf import settings

        from connectors.config import configure

        # Connectors are plain Python; hand them the deployment's settings once.
        configure(
            redis_url=settings.CONNECTOR_RATE_LIMIT_REDIS_URL,
            url_allow_list=tuple(settings.CONNECTOR_URL_ALLOW_LIST),
            http_timeout=settings.CONNECTOR_HTTP_TIMEOUT,
            state_dir=str(settings.CONNECTOR_STATE_DIR),
            constant_contact_daily_quota=settings.CONSTANT_CONTACT_DAILY_QUOTA,
            rate_limit_speedup=settings.CONNECTOR_RATE_LIMIT_SPEEDUP,
        )
