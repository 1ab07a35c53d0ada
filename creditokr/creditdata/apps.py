from django.apps import AppConfig


class CreditDataConfig(AppConfig):
    name = "creditokr.creditdata"
    label = "creditdata"
    verbose_name = "Credit data"

    def ready(self) -> None:
        from creditokr.core import jobs
        from creditokr.creditdata import services

        # SQL sources are read at their own interval and every feed is
        # recomputed daily; a pass every minute finds what is due.
        jobs.register("credit-data", services.refresh_due, every_seconds=60)
