from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "creditokr.live"
    label = "live"
    verbose_name = "Live updates"

    def ready(self) -> None:
        from creditokr.live import publish

        publish.connect_receivers()
