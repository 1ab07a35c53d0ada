from django.apps import AppConfig


class OkrsConfig(AppConfig):
    name = "creditokr.okrs"
    label = "okrs"
    verbose_name = "Objectives and key results"
