from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "creditokr.reminders"
    label = "reminders"
    verbose_name = "Reminders and email"

    def ready(self) -> None:
        from creditokr.core import jobs
        from creditokr.reminders import planning, sending

        # Planning finds what is due in the last few hours; sending drains
        # the queue, each in its own transaction-safe way.
        jobs.register("reminders-plan", planning.plan_job, every_seconds=60)
        jobs.register("reminders-send", sending.send_job, every_seconds=10)
