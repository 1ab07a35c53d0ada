from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "creditokr.accounts"
    label = "accounts"
    verbose_name = "People and teams"
