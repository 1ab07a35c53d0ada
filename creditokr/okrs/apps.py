from django.apps import AppConfig


class OkrsConfig(AppConfig):
    name = "creditokr.okrs"
    label = "okrs"
    verbose_name = "Objectives and key results"

    def ready(self) -> None:
        # The one-time tokens of create forms live in their own module;
        # importing it registers their model with this app.
        from creditokr.okrs import submissions  # noqa: F401
