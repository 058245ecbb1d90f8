from django.apps import AppConfig


class SettingsAppConfig(AppConfig):
    name = "settingsapp"
    verbose_name = "Settings"
