from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "creditokr.core"
    label = "core"
    verbose_name = "CreditOKR"
