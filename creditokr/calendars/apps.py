from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "creditokr.calendars"
    label = "calendars"
    verbose_name = "Calendar feeds and invitations"
