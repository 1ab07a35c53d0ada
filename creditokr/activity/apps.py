from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "creditokr.activity"
    label = "activity"
    verbose_name = "Change history"

    def ready(self) -> None:
        from creditokr.activity import recording

        recording.register_models()
