from django.apps import AppConfig


class CollabConfig(AppConfig):
    name = "creditokr.collab"
    label = "collab"
    verbose_name = "Comments and notifications"

    def ready(self) -> None:
        from creditokr.activity.recording import change_recorded
        from creditokr.collab import notify

        change_recorded.connect(notify.on_change, dispatch_uid="creditokr-collab")
