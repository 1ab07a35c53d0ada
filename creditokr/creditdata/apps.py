from django.apps import AppConfig


class CreditDataConfig(AppConfig):
    name = "creditokr.creditdata"
    label = "creditdata"
    verbose_name = "Credit data"
