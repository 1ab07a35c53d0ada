from django.apps import AppConfig


class CyclesConfig(AppConfig):
    name = "creditokr.cycles"
    label = "cycles"
    verbose_name = "Cycles and cadence"
