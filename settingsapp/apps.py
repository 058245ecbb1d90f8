from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class SettingsAppConfig(AppConfig):
    name = "settingsapp"
    verbose_name = "Settings"

    def ready(self) -> None:
        from settingsapp.checks import check_schema_version
        from settingsapp.signals import record_schema_version

        # Not tagged "database": Django runs only untagged checks before
        # ordinary commands and runserver, and those must refuse a newer schema.
        checks.register(check_schema_version)
        post_migrate.connect(
            record_schema_version,
            sender=self,
            dispatch_uid="settingsapp.record_schema_version",
        )
